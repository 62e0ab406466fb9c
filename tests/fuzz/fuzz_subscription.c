/*
 * fuzz_subscription: a POST /api/subscriptions body through the JSON
 * parser and the subscription checks (organization_subscription_check).
 */
#include "organization.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct check c = {0};
    size_t at;
    cJSON *body;

    memcpy(text, data, size);
    text[size] = '\0';
    body = http_json_parse(text, size, &at);
    if (body != NULL) {
        organization_subscription_check(&c, body);
        if (c.status == 0 &&
            (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "name")) ||
             !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "url"))))
            abort(); /* the handler reads both once the check passes */
    }
    cJSON_Delete(body);
    free(text);
    return 0;
}
