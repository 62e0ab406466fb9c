/*
 * curlapi: libcurl, opened the first time it is needed.
 *
 * libcurl brings some thirty libraries with it (GnuTLS, Kerberos, LDAP,
 * SSH and more): about 4 MB of memory and part of every start. The mock
 * needs it only to send a webhook, check a subscription URL or probe a
 * server, so it is loaded with dlopen on the first such call, once for
 * the process, and curl_global_init runs right after. It stays loaded
 * until the process exits.
 *
 * Calls go through the table: api->easy_setopt(h, CURLOPT_URL, url).
 */
#ifndef CYBRID_CURLAPI_H
#define CYBRID_CURLAPI_H

#include <curl/curl.h>

struct curl_api {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_reset)(CURL *h);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *u, CURLUPart part, const char *s,
                         unsigned int flags);
    CURLUcode (*url_get)(const CURLU *u, CURLUPart part, char **s,
                         unsigned int flags);
    void (*url_cleanup)(CURLU *u);
    void (*free)(void *p);
};

/*
 * libcurl's functions, loading and initialising the library on the first
 * call (thread-safe); NULL when it cannot be loaded, and curl_api_error
 * says why.
 */
const struct curl_api *curl_api(void);

/* Why curl_api returned NULL (a sentence without a final period). */
const char *curl_api_error(void);

#endif
