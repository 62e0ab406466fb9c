/* Tests of the request checks: statuses, first failure wins, filters. */
#include "check.h"
#include "unit.h"

#include <string.h>

static cJSON *
parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);

    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    return j;
}

static void
test_check_string_wrong_type_is_400(void)
{
    cJSON *b = parse("{\"name\": 5}");
    struct check c = {0};

    CU_ASSERT_PTR_NULL(check_string(&c, b, "name", 0, 1, 128));
    CU_ASSERT_EQUAL(c.status, 400);
    CU_ASSERT_STRING_EQUAL(c.msg, "name must be a string");
    cJSON_Delete(b);
}

static void
test_check_string_over_max_length_is_422(void)
{
    char text[200];
    cJSON *b;
    struct check c = {0};

    memset(text, 'x', sizeof(text));
    memcpy(text, "{\"name\": \"", 10);
    memcpy(text + 10 + 129, "\"}", 3);
    b = parse(text);
    CU_ASSERT_PTR_NULL(check_string(&c, b, "name", 0, 1, 128));
    CU_ASSERT_EQUAL(c.status, 422);
    cJSON_Delete(b);
}

static void
test_check_string_accepts_exact_max_length(void)
{
    char text[200];
    cJSON *b;
    struct check c = {0};

    memset(text, 'x', sizeof(text));
    memcpy(text, "{\"name\": \"", 10);
    memcpy(text + 10 + 128, "\"}", 3);
    b = parse(text);
    CU_ASSERT_PTR_NOT_NULL(check_string(&c, b, "name", 0, 1, 128));
    CU_ASSERT_EQUAL(c.status, 0);
    cJSON_Delete(b);
}

static void
test_check_null_is_absent_only_when_nullable(void)
{
    cJSON *b = parse("{\"name\": null}");
    struct check c = {0};

    CU_ASSERT_PTR_NULL(check_string(&c, b, "name", CHECK_NULLABLE, 1, 9));
    CU_ASSERT_EQUAL(c.status, 0);
    CU_ASSERT_PTR_NULL(check_string(&c, b, "name", 0, 1, 9));
    CU_ASSERT_EQUAL(c.status, 400);
    cJSON_Delete(b);
}

static void
test_check_required_field_missing_is_400(void)
{
    cJSON *b = parse("{}");
    struct check c = {0};

    CU_ASSERT_PTR_NULL(check_field(&c, b, "type", CHECK_REQUIRED));
    CU_ASSERT_EQUAL(c.status, 400);
    CU_ASSERT_STRING_EQUAL(c.msg, "type is required");
    cJSON_Delete(b);
}

static void
test_check_keeps_first_failure(void)
{
    cJSON *b = parse("{\"a\": 1, \"b\": [1,2,3]}");
    struct check c = {0};

    check_string(&c, b, "a", 0, 1, 9);
    check_array(&c, b, "b", 0, 0, 2);
    CU_ASSERT_EQUAL(c.status, 400);
    CU_ASSERT_STRING_EQUAL(c.msg, "a must be a string");
    cJSON_Delete(b);
}

static void
test_check_array_item_type_and_count(void)
{
    cJSON *b = parse("{\"s\": [\"x\", 1], \"t\": [\"x\",\"y\",\"z\"]}");
    struct check c1 = {0}, c2 = {0}, c3 = {0};

    CU_ASSERT_PTR_NULL(check_array(&c1, b, "s", 0, cJSON_String, 50));
    CU_ASSERT_EQUAL(c1.status, 400);
    CU_ASSERT_PTR_NULL(check_array(&c2, b, "t", 0, cJSON_String, 2));
    CU_ASSERT_EQUAL(c2.status, 422);
    CU_ASSERT_PTR_NOT_NULL(check_array(&c3, b, "t", 0, cJSON_String, 3));
    CU_ASSERT_EQUAL(c3.status, 0);
    cJSON_Delete(b);
}

static void
test_check_unknown_key_is_400(void)
{
    static const char *const keys[] = {"name", NULL};
    cJSON *b = parse("{\"name\": \"x\", \"nmae\": \"y\"}");
    struct check c = {0};

    check_known_keys(&c, b, keys);
    CU_ASSERT_EQUAL(c.status, 400);
    CU_ASSERT_STRING_EQUAL(c.msg, "unknown field: nmae");
    cJSON_Delete(b);
}

static void
test_check_enum_refuses_unknown_value(void)
{
    static const char *const types[] = {"sandbox", NULL};
    struct check c = {0}, ok = {0};

    check_enum(&ok, "type", "sandbox", types);
    check_enum(&ok, "type", NULL, types);
    CU_ASSERT_EQUAL(ok.status, 0);
    check_enum(&c, "type", "Sandbox", types);
    CU_ASSERT_EQUAL(c.status, 400);
}

static void
test_check_date_knows_the_calendar(void)
{
    CU_ASSERT_TRUE(check_date("1990-01-01"));
    CU_ASSERT_TRUE(check_date("2000-02-29"));
    CU_ASSERT_FALSE(check_date("1900-02-29"));
    CU_ASSERT_FALSE(check_date("2023-02-29"));
    CU_ASSERT_FALSE(check_date("2023-04-31"));
    CU_ASSERT_FALSE(check_date("2023-13-01"));
    CU_ASSERT_FALSE(check_date("2023-1-01"));
    CU_ASSERT_FALSE(check_date("2023/01/01"));
    CU_ASSERT_FALSE(check_date("0000-01-01"));
}

static void
test_check_query_csv_splits_and_validates(void)
{
    static const char *const types[] = {"sandbox", "production", NULL};
    struct http_request req;
    struct check_csv l;
    struct check c = {0};

    memset(&req, 0, sizeof(req));
    req.query = "type=sandbox,production&guid=0123456789abcdef0123456789abcdef";
    check_query_csv(&c, &req, "type", 0, types, &l);
    CU_ASSERT_EQUAL(c.status, 0);
    CU_ASSERT_EQUAL(l.n, 2);
    CU_ASSERT_TRUE(check_csv_has(&l, "production"));
    CU_ASSERT_FALSE(check_csv_has(&l, "other"));
    check_query_csv(&c, &req, "guid", 1, NULL, &l);
    CU_ASSERT_EQUAL(l.n, 1);
    check_query_csv(&c, &req, "label", 0, NULL, &l);
    CU_ASSERT_EQUAL(l.n, 0);
    CU_ASSERT_TRUE(check_csv_has(&l, "anything"));
    CU_ASSERT_EQUAL(c.status, 0);
}

static void
test_check_query_csv_refuses_bad_items(void)
{
    static const char *const types[] = {"sandbox", NULL};
    const char *bad[] = {"type=sandbox,", "type=,sandbox", "type=bogus",
                         "guid=0123", "guid=0123456789ABCDEF0123456789ABCDEF"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_request req;
        struct check_csv l;
        struct check c = {0};

        memset(&req, 0, sizeof(req));
        req.query = bad[i];
        check_query_csv(&c, &req, bad[i][0] == 't' ? "type" : "guid",
                        bad[i][0] == 'g', bad[i][0] == 't' ? types : NULL, &l);
        CU_ASSERT_EQUAL(c.status, 400);
    }
}

int
unit_register(void)
{
    static const struct unit_case tests[] = {
        UNIT_CASE(test_check_string_wrong_type_is_400),
        UNIT_CASE(test_check_string_over_max_length_is_422),
        UNIT_CASE(test_check_string_accepts_exact_max_length),
        UNIT_CASE(test_check_null_is_absent_only_when_nullable),
        UNIT_CASE(test_check_required_field_missing_is_400),
        UNIT_CASE(test_check_keeps_first_failure),
        UNIT_CASE(test_check_array_item_type_and_count),
        UNIT_CASE(test_check_unknown_key_is_400),
        UNIT_CASE(test_check_enum_refuses_unknown_value),
        UNIT_CASE(test_check_date_knows_the_calendar),
        UNIT_CASE(test_check_query_csv_splits_and_validates),
        UNIT_CASE(test_check_query_csv_refuses_bad_items),
        {NULL, NULL},
    };

    return unit_add_suite("check", tests);
}
