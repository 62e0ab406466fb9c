/* Tests of the log module: escaping, secret keys and free-text scrubbing. */
#include "log.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
scrub_case(const char *in, const char *want)
{
    char buf[512];

    snprintf(buf, sizeof(buf), "%s", in);
    log_scrub(buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_scrub_removes_bearer_credential(void)
{
    scrub_case("Authorization: Bearer abc.def.ghi then",
               "Authorization: [redacted] then");
    scrub_case("sent bearer xyz123 now", "sent bearer [redacted] now");
    scrub_case("Basic bW9jazpzZWNyZXQ=", "Basic [redacted]");
}

static void
test_scrub_removes_jwt_anywhere(void)
{
    scrub_case("token eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2ln end",
               "token [redacted-jwt] end");
}

static void
test_scrub_removes_secret_pairs(void)
{
    scrub_case("client_secret=hunter2&client_id=abc",
               "client_secret=[redacted]&client_id=abc");
    scrub_case("{\"client_secret\":\"hunter2\",\"x\":1}",
               "{\"client_secret\":\"[redacted]\",\"x\":1}");
    scrub_case("signing_key: 00ff00ff done", "signing_key: [redacted] done");
    scrub_case("access_token=abc", "access_token=[redacted]");
}

static void
test_scrub_drops_query_strings(void)
{
    scrub_case("GET /oauth/token?client_id=a&client_secret=b HTTP/1.1",
               "GET /oauth/token HTTP/1.1");
}

static void
test_scrub_keeps_harmless_text(void)
{
    scrub_case("bank b0a1 updated, 3 origins", "bank b0a1 updated, 3 origins");
    scrub_case("token_type=bank", "token_type=bank");
    scrub_case("what? nothing", "what? nothing");
}

static void
test_secret_keys_are_recognised(void)
{
    CU_ASSERT_TRUE(log_key_is_secret("Authorization"));
    CU_ASSERT_TRUE(log_key_is_secret("client_secret"));
    CU_ASSERT_TRUE(log_key_is_secret("access_token"));
    CU_ASSERT_TRUE(log_key_is_secret("signing_key"));
    CU_ASSERT_TRUE(log_key_is_secret("X-Cybrid-Signature"));
    CU_ASSERT_FALSE(log_key_is_secret("token_type"));
    CU_ASSERT_FALSE(log_key_is_secret("path"));
    CU_ASSERT_FALSE(log_key_is_secret("client_id"));
}

static void
test_escape_neutralises_control_bytes(void)
{
    char out[64];
    size_t n = log_escape("a\nb\"c\x01\xff", 7, out, sizeof(out));

    CU_ASSERT_STRING_EQUAL(out, "a\\nb\\\"c\\u0001\\u00ff");
    CU_ASSERT_EQUAL(n, strlen(out));
}

static void
test_escape_never_overflows(void)
{
    char out[8];

    log_escape("\n\n\n\n\n\n\n\n", 8, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "\\n\\n\\n");
}

/* Reads what a line wrote to a temporary stream. */
static char *
captured(FILE *f)
{
    long n;
    char *s;

    fflush(f);
    n = ftell(f);
    rewind(f);
    s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    return s;
}

static void
test_line_redacts_secret_values_in_text_format(void)
{
    FILE *f = tmpfile();
    struct log_line l;
    char *s;

    log_setup(LOG_INFO, LOG_TEXT, f);
    log_begin(&l, LOG_INFO, "test", "event");
    log_str(&l, "client_secret", "hunter2");
    log_str(&l, "path", "/a b");
    log_int(&l, "status", 201);
    log_end(&l);
    s = captured(f);
    CU_ASSERT_PTR_NULL(strstr(s, "hunter2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "client_secret=[redacted]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "path=\"/a b\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "status=201\n"));
    free(s);
    fclose(f);
    log_setup(LOG_INFO, LOG_TEXT, NULL);
}

static void
test_line_is_valid_json_in_json_format(void)
{
    FILE *f = tmpfile();
    struct log_line l;
    char *s;

    log_setup(LOG_INFO, LOG_JSON, f);
    log_begin(&l, LOG_INFO, "http", "request");
    log_str(&l, "path", "/x\"y\n");
    log_str(&l, "authorization", "Bearer abc");
    log_end(&l);
    s = captured(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"path\":\"/x\\\"y\\n\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"authorization\":\"[redacted]\""));
    CU_ASSERT_PTR_NULL(strstr(s, "abc"));
    CU_ASSERT_EQUAL(s[strlen(s) - 2], '}');
    free(s);
    fclose(f);
    log_setup(LOG_INFO, LOG_TEXT, NULL);
}

static void
test_level_below_threshold_writes_nothing(void)
{
    FILE *f = tmpfile();
    char *s;

    log_setup(LOG_WARN, LOG_TEXT, f);
    CU_ASSERT_FALSE(log_enabled(LOG_INFO));
    log_msg(LOG_INFO, "test", "hidden");
    log_msg(LOG_ERROR, "test", "shown");
    s = captured(f);
    CU_ASSERT_PTR_NULL(strstr(s, "hidden"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "shown"));
    free(s);
    fclose(f);
    log_setup(LOG_INFO, LOG_TEXT, NULL);
}

static void
test_long_value_is_cut_and_marked(void)
{
    FILE *f = tmpfile();
    struct log_line l;
    char big[4000];
    char *s;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_setup(LOG_INFO, LOG_JSON, f);
    log_begin(&l, LOG_INFO, "test", "big");
    log_str(&l, "v", big);
    log_end(&l);
    s = captured(f);
    CU_ASSERT(strlen(s) <= LOG_LINE_MAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"truncated\":1}"));
    free(s);
    fclose(f);
    log_setup(LOG_INFO, LOG_TEXT, NULL);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_scrub_removes_bearer_credential),
        UNIT_CASE(test_scrub_removes_jwt_anywhere),
        UNIT_CASE(test_scrub_removes_secret_pairs),
        UNIT_CASE(test_scrub_drops_query_strings),
        UNIT_CASE(test_scrub_keeps_harmless_text),
        UNIT_CASE(test_secret_keys_are_recognised),
        UNIT_CASE(test_escape_neutralises_control_bytes),
        UNIT_CASE(test_escape_never_overflows),
        UNIT_CASE(test_line_redacts_secret_values_in_text_format),
        UNIT_CASE(test_line_is_valid_json_in_json_format),
        UNIT_CASE(test_level_below_threshold_writes_nothing),
        UNIT_CASE(test_long_value_is_cut_and_marked),
        {NULL, NULL}};

    return unit_add_suite("log", cases);
}
