/* Tests of loading libcurl at run time. */
#include "curlapi.h"
#include "unit.h"

#include <pthread.h>
#include <string.h>

static void *
load_from_thread(void *out)
{
    *(const struct curl_api **)out = curl_api();
    return NULL;
}

static void
test_concurrent_first_calls_get_the_one_table(void)
{
    const struct curl_api *got[4];
    pthread_t t[4];

    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, load_from_thread, &got[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got[0]);
    for (int i = 1; i < 4; i++)
        CU_ASSERT_PTR_EQUAL(got[i], got[0]);
    CU_ASSERT_PTR_EQUAL(curl_api(), got[0]);
    CU_ASSERT_STRING_EQUAL(curl_api_error(), "");
}

static void
test_loaded_functions_parse_a_url(void)
{
    const struct curl_api *api = curl_api();
    CURLU *u;
    char *host = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(api);
    u = api->url();
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    CU_ASSERT_EQUAL(api->url_set(u, CURLUPART_URL,
                                 "https://hooks.example.com:8443/x?y=1", 0),
                    CURLUE_OK);
    CU_ASSERT_EQUAL(api->url_get(u, CURLUPART_HOST, &host, 0), CURLUE_OK);
    CU_ASSERT_STRING_EQUAL(host, "hooks.example.com");
    api->free(host);
    api->url_cleanup(u);
    u = api->url(); /* a fresh one: "not a url" would resolve against u */
    CU_ASSERT_NOT_EQUAL(api->url_set(u, CURLUPART_URL, "not a url", 0),
                        CURLUE_OK);
    api->url_cleanup(u);
}

static void
test_loaded_functions_describe_an_error(void)
{
    const struct curl_api *api = curl_api();

    CU_ASSERT_PTR_NOT_NULL_FATAL(api);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(api->easy_strerror(CURLE_OPERATION_TIMEDOUT), "imeout"));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_concurrent_first_calls_get_the_one_table),
        UNIT_CASE(test_loaded_functions_parse_a_url),
        UNIT_CASE(test_loaded_functions_describe_an_error),
        {NULL, NULL}};

    return unit_add_suite("curlapi", cases);
}
