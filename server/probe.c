/*
 * probe: one libcurl GET with certificate checks on and a short timeout;
 * the body is read into a small bounded buffer and parsed with cJSON.
 */
#include "probe.h"

#include "curlapi.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROBE_BODY_MAX 4096

struct body {
    char buf[PROBE_BODY_MAX + 1];
    size_t len;
};

static size_t
on_data(char *ptr, size_t size, size_t n, void *userdata)
{
    struct body *b = userdata;
    size_t bytes = size * n;

    if (bytes > PROBE_BODY_MAX - b->len)
        return 0; /* too large for a health answer: abort */
    memcpy(b->buf + b->len, ptr, bytes);
    b->len += bytes;
    return bytes;
}

static int
body_says_ok(const struct body *b)
{
    cJSON *json = cJSON_ParseWithLength(b->buf, b->len);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(json, "status");
    int ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;

    cJSON_Delete(json);
    return ok;
}

int
probe_run(const char *url, const char *ca_file)
{
    static struct body body;
    const struct curl_api *api = curl_api();
    CURL *curl;
    CURLcode rc;
    long status = 0;
    int healthy = 0;

    body.len = 0;
    if (api == NULL) {
        fprintf(stderr, "unhealthy %s: %s\n", url, curl_api_error());
        return 1;
    }
    curl = api->easy_init();
    if (curl == NULL)
        return 1;
    api->easy_setopt(curl, CURLOPT_URL, url);
    api->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    api->easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    api->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    api->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    api->easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    api->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (ca_file != NULL && access(ca_file, R_OK) == 0)
        api->easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    rc = api->easy_perform(curl);
    if (rc == CURLE_OK)
        api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        fprintf(stderr, "unhealthy %s: %s\n", url, api->easy_strerror(rc));
    else if (status != 200 || !body_says_ok(&body))
        fprintf(stderr, "unhealthy %s: HTTP %ld\n", url, status);
    else
        healthy = 1;
    if (healthy)
        printf("healthy %s\n", url);
    api->easy_cleanup(curl);
    return healthy ? 0 : 1;
}
