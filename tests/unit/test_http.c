/* Tests of the router's path matching. */
#include "http.h"
#include "unit.h"

#include <string.h>

static void
noop(struct http_request *req)
{
    (void)req;
}

static const struct http_route routes[] = {
    {"GET", "/api/banks", noop, "banks.list", NULL},
    {"POST", "/api/banks", noop, "banks.create", NULL},
    {"GET", "/api/banks/{bank_guid}", noop, "banks.get", NULL},
    {"PATCH", "/api/banks/{bank_guid}", noop, "banks.patch", NULL},
    {"GET", "/api/a/{x}/b/{y}", noop, "two", NULL},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static enum http_match
match(const char *method, const char *path, const struct http_route **r,
      char params[][128], int *n, char *allow)
{
    return http_route_match(routes, N_ROUTES, method, path, r, params, n, allow,
                            128);
}

static void
test_route_matches_exact_path_and_method(void)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n;

    CU_ASSERT_EQUAL(match("POST", "/api/banks", &r, params, &n, allow),
                    HTTP_MATCH_OK);
    CU_ASSERT_STRING_EQUAL(r->name, "banks.create");
    CU_ASSERT_EQUAL(n, 0);
}

static void
test_route_captures_segments(void)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n;

    CU_ASSERT_EQUAL(match("GET", "/api/a/one/b/two", &r, params, &n, allow),
                    HTTP_MATCH_OK);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(params[0], "one");
    CU_ASSERT_STRING_EQUAL(params[1], "two");
}

static void
test_route_ignores_one_trailing_slash(void)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n;

    CU_ASSERT_EQUAL(match("GET", "/api/banks/", &r, params, &n, allow),
                    HTTP_MATCH_OK);
    CU_ASSERT_STRING_EQUAL(r->name, "banks.list");
    CU_ASSERT_EQUAL(match("GET", "/api/banks//", &r, params, &n, allow),
                    HTTP_MATCH_NO_PATH);
}

static void
test_route_wrong_method_lists_allowed(void)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n;

    CU_ASSERT_EQUAL(match("DELETE", "/api/banks/abc", &r, params, &n, allow),
                    HTTP_MATCH_NO_METHOD);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_STRING_EQUAL(allow, "GET, PATCH");
}

static void
test_route_unknown_paths_do_not_match(void)
{
    static const char *const paths[] = {"/",
                                        "",
                                        "/api",
                                        "/api/bank",
                                        "/api/banks/x/y",
                                        "/api/banksx",
                                        "/API/banks",
                                        "/api/a/x/b",
                                        "/api/a//b/y",
                                        "api/banks",
                                        NULL};
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n;

    for (int i = 0; paths[i]; i++)
        CU_ASSERT_EQUAL(match("GET", paths[i], &r, params, &n, allow),
                        HTTP_MATCH_NO_PATH);
}

static void
test_route_refuses_oversize_segment(void)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], allow[128], path[400];
    int n;

    strcpy(path, "/api/banks/");
    memset(path + 11, 'a', 300);
    path[311] = '\0';
    CU_ASSERT_EQUAL(match("GET", path, &r, params, &n, allow),
                    HTTP_MATCH_NO_PATH);
}

static void
test_query_param_decodes_first_occurrence(void)
{
    struct http_request req;
    char out[32];

    memset(&req, 0, sizeof(req));
    req.query = "a=1&label=vip%20one&label=second&b=x+y";
    CU_ASSERT_EQUAL(http_query_param(&req, "label", out, sizeof(out)), 7);
    CU_ASSERT_STRING_EQUAL(out, "vip one");
    CU_ASSERT_EQUAL(http_query_param(&req, "b", out, sizeof(out)), 3);
    CU_ASSERT_STRING_EQUAL(out, "x y");
    CU_ASSERT_EQUAL(http_query_param(&req, "missing", out, sizeof(out)),
                    MOCK_ENOENT);
}

static void
test_query_param_refuses_control_bytes_and_overflow(void)
{
    struct http_request req;
    char out[8];

    memset(&req, 0, sizeof(req));
    req.query = "a=x%00y&b=%0a&c=0123456789";
    CU_ASSERT_EQUAL(http_query_param(&req, "a", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_query_param(&req, "b", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_query_param(&req, "c", out, sizeof(out)), MOCK_EINVAL);
    req.query = NULL;
    CU_ASSERT_EQUAL(http_query_param(&req, "a", out, sizeof(out)), MOCK_ENOENT);
}

static void
test_path_decode_refuses_nul_control_and_encoded_slash(void)
{
    char out[64];

    CU_ASSERT_EQUAL(http_path_decode("/api/banks/%61b", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "/api/banks/ab");
    CU_ASSERT_EQUAL(http_path_decode("/a%00b", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/a%0ab", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/__admin%2fhealth", out, sizeof(out)),
                    MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/a%2Fb", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/a%2", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/a%zz", out, sizeof(out)), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("/abcdef", out, 4), MOCK_EINVAL);
    CU_ASSERT_EQUAL(http_path_decode("", out, 0), MOCK_EINVAL);
    /* Dots decode but are never resolved: the router sees "..". */
    CU_ASSERT_EQUAL(http_path_decode("/a/%2e%2e/b", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "/a/../b");
}

/* 1 when text (a C string) parses as a JSON object body. */
static int
json_ok(const char *text, size_t len)
{
    size_t at;
    cJSON *j = http_json_parse(text, len, &at);
    int ok = j != NULL;

    cJSON_Delete(j);
    return ok;
}

static int
json_str_ok(const char *text)
{
    return json_ok(text, strlen(text));
}

static void
test_json_parse_refuses_bad_utf8_nul_and_u0000(void)
{
    static const char nul[] = "{\"a\": \"x\0y\"}";
    char deep[4100];

    CU_ASSERT_TRUE(json_str_ok("{\"a\": \"caf\xc3\xa9 \xf0\x9f\x98\x80\"}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"\xff\"}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"\xc0\xaf\"}"));     /* overlong */
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"\xed\xa0\x80\"}")); /* surrogate */
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"\xe2\x82\"}"));     /* cut short */
    CU_ASSERT_FALSE(json_ok(nul, sizeof(nul) - 1));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"x\\u0000y\"}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\\u0000\": 1}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": \"tab\there\"}"));
    /* An escaped backslash before u0000 is plain text. */
    CU_ASSERT_TRUE(json_str_ok("{\"a\": \"x\\\\u0000\"}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": 1, \"a\": 2}"));
    CU_ASSERT_FALSE(json_str_ok("{\"a\": {\"b\": 1, \"b\": 1}}"));
    CU_ASSERT_FALSE(json_str_ok("[1]"));
    CU_ASSERT_TRUE(
        json_str_ok("{\"n\": 1e400, \"m\": 123456789012345678901234}"));
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    CU_ASSERT_FALSE(json_ok(deep, sizeof(deep) - 1));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_route_matches_exact_path_and_method),
        UNIT_CASE(test_route_captures_segments),
        UNIT_CASE(test_route_ignores_one_trailing_slash),
        UNIT_CASE(test_route_wrong_method_lists_allowed),
        UNIT_CASE(test_route_unknown_paths_do_not_match),
        UNIT_CASE(test_route_refuses_oversize_segment),
        UNIT_CASE(test_query_param_decodes_first_occurrence),
        UNIT_CASE(test_query_param_refuses_control_bytes_and_overflow),
        UNIT_CASE(test_path_decode_refuses_nul_control_and_encoded_slash),
        UNIT_CASE(test_json_parse_refuses_bad_utf8_nul_and_u0000),
        {NULL, NULL}};

    return unit_add_suite("http_router", cases);
}
