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
        {NULL, NULL}};

    return unit_add_suite("http_router", cases);
}
