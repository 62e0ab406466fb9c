/*
 * curlapi: dlopen of libcurl's runtime soname and one dlsym a function,
 * under pthread_once so concurrent first callers wait for one load.
 */
#include "curlapi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CURL_SONAME "libcurl.so.4"

static struct curl_api api;
static const struct curl_api *loaded;
static char error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
    const char *name;
    size_t offset;
} symbols[] = {
    {"curl_easy_init", offsetof(struct curl_api, easy_init)},
    {"curl_easy_setopt", offsetof(struct curl_api, easy_setopt)},
    {"curl_easy_perform", offsetof(struct curl_api, easy_perform)},
    {"curl_easy_getinfo", offsetof(struct curl_api, easy_getinfo)},
    {"curl_easy_reset", offsetof(struct curl_api, easy_reset)},
    {"curl_easy_cleanup", offsetof(struct curl_api, easy_cleanup)},
    {"curl_easy_strerror", offsetof(struct curl_api, easy_strerror)},
    {"curl_slist_append", offsetof(struct curl_api, slist_append)},
    {"curl_slist_free_all", offsetof(struct curl_api, slist_free_all)},
    {"curl_url", offsetof(struct curl_api, url)},
    {"curl_url_set", offsetof(struct curl_api, url_set)},
    {"curl_url_get", offsetof(struct curl_api, url_get)},
    {"curl_url_cleanup", offsetof(struct curl_api, url_cleanup)},
    {"curl_free", offsetof(struct curl_api, free)},
};

_Static_assert(sizeof(symbols) / sizeof(symbols[0]) ==
                   sizeof(struct curl_api) / sizeof(void (*)(void)),
               "one symbol for each function of struct curl_api");

static void
load(void)
{
    CURLcode (*global_init)(long);
    void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    void *fn;

    if (lib == NULL) {
        snprintf(error, sizeof(error), "%s cannot be loaded: %s", CURL_SONAME,
                 dlerror());
        return;
    }
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        fn = dlsym(lib, symbols[i].name);
        if (fn == NULL) {
            snprintf(error, sizeof(error), "%s has no %s", CURL_SONAME,
                     symbols[i].name);
            return;
        }
        /* POSIX: a data pointer from dlsym converts to a function one. */
        memcpy((char *)&api + symbols[i].offset, &fn, sizeof(fn));
    }
    fn = dlsym(lib, "curl_global_init");
    memcpy(&global_init, &fn, sizeof(fn));
    if (fn == NULL || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(error, sizeof(error), "libcurl failed to initialise");
        return;
    }
    loaded = &api;
}

const struct curl_api *
curl_api(void)
{
    pthread_once(&once, load);
    return loaded;
}

const char *
curl_api_error(void)
{
    pthread_once(&once, load);
    return loaded != NULL ? "" : error;
}
