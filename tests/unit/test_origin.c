/*
 * Tests of the cors_allowed_origins rules: one table of origins with the
 * expected verdict, then the list rules (size, types, duplicates) and the
 * matching of a browser's Origin header.
 */
#include "origin.h"
#include "unit.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct origin_case {
    const char *origin;
    int allowed;
    const char *why;
};

static const struct origin_case cases[] = {
    /* accepted */
    {"https://yourdomain.com", 1, "plain https host"},
    {"https://app.yourdomain.com", 1, "https subdomain"},
    {"https://app.yourdomain.com:8443", 1, "https with a port"},
    {"https://example.com:1", 1, "lowest port"},
    {"https://example.com:65535", 1, "highest port"},
    {"https://example.com:443", 1, "default port spelled out"},
    {"http://localhost", 1, "localhost without a port"},
    {"http://localhost:3000", 1, "localhost with a port"},
    {"http://localhost:65535", 1, "localhost highest port"},
    {"https://localhost:3000", 1, "https localhost"},
    {"HTTPS://EXAMPLE.COM", 1, "upper-case scheme and host"},
    {"Https://Example.Com:8443", 1, "mixed case"},
    {"HTTP://LOCALHOST:3000", 1, "upper-case localhost exception"},
    {"https://10.0.0.1", 1, "https IPv4 literal"},
    {"https://[::1]", 1, "https IPv6 literal"},
    {"https://[2001:db8::1]:8443", 1, "https IPv6 literal with a port"},
    {"https://xn--bcher-kva.example", 1, "IDN host in its xn-- form"},
    {"https://a-b.example.com", 1, "hyphen inside a label"},
    {"https://example", 1, "single-label host"},
    /* plain http other than localhost */
    {"http://yourdomain.com", 0, "plain http"},
    {"http://127.0.0.1:3000", 0, "plain http loopback address"},
    {"http://127.0.0.1", 0, "plain http loopback without port"},
    {"http://[::1]:3000", 0, "plain http IPv6 loopback"},
    {"http://localhost.", 0, "localhost with a trailing dot"},
    {"http://localhost.evil.com", 0, "localhost as a subdomain label"},
    {"http://evil-localhost", 0, "localhost as a suffix"},
    {"http://localhost:0", 0, "localhost port 0"},
    {"http://localhost:", 0, "localhost empty port"},
    /* not an origin */
    {"https://yourdomain.com/", 0, "trailing slash"},
    {"https://yourdomain.com/app", 0, "path"},
    {"https://yourdomain.com?x=1", 0, "query"},
    {"https://yourdomain.com#top", 0, "fragment"},
    {"https://user@yourdomain.com", 0, "user info"},
    {"https://user:pw@yourdomain.com", 0, "user info with password"},
    {"https://*.yourdomain.com", 0, "wildcard label"},
    {"*", 0, "bare wildcard"},
    {"https://yourdomain.com:*", 0, "wildcard port"},
    {"https://", 0, "empty host"},
    {"https://:443", 0, "empty host with a port"},
    {"https:///yourdomain.com", 0, "three slashes"},
    {"https:yourdomain.com", 0, "no slashes"},
    {"//yourdomain.com", 0, "no scheme"},
    {"yourdomain.com", 0, "bare host"},
    {"ftp://yourdomain.com", 0, "other scheme"},
    {"wss://yourdomain.com", 0, "websocket scheme"},
    {"https://example.com:0", 0, "port 0"},
    {"https://example.com:65536", 0, "port above 65535"},
    {"https://example.com:99999", 0, "port far above 65535"},
    {"https://example.com:123456", 0, "port of six digits"},
    {"https://example.com:8o", 0, "port not digits"},
    {"https://example.com:-1", 0, "negative port"},
    {"https://example.com:+443", 0, "signed port"},
    {"https://example.com:", 0, "empty port"},
    {"https://example.com:443:1", 0, "two ports"},
    {"https://bücher.example", 0, "raw Unicode IDN host"},
    {"https://exa mple.com", 0, "space in host"},
    {" https://example.com", 0, "leading space"},
    {"https://example.com ", 0, "trailing space"},
    {"https://example.com\t", 0, "control byte"},
    {"https://exam_ple.com", 0, "underscore in host"},
    {"https://-example.com", 0, "label starting with a hyphen"},
    {"https://example-.com", 0, "label ending with a hyphen"},
    {"https://example..com", 0, "empty label"},
    {"https://.example.com", 0, "leading dot"},
    {"https://example.com.", 0, "trailing dot"},
    {"https://exa%6dple.com", 0, "percent escape"},
    {"https://example.com\\x", 0, "backslash"},
    {"https://256.1.1.1", 0, "IPv4 octet above 255"},
    {"https://1.2.3", 0, "IPv4 of three parts"},
    {"https://01.2.3.4", 0, "IPv4 with a leading zero"},
    {"https://[::1", 0, "unclosed IPv6 literal"},
    {"https://[zz::1]", 0, "bad IPv6 literal"},
    {"https://[]", 0, "empty IPv6 literal"},
    {"https://[::1]x", 0, "junk after IPv6 literal"},
    {"https://[fe80::1%25eth0]", 0, "IPv6 zone id"},
    {"https://::1", 0, "unbracketed IPv6"},
    {"", 0, "empty string"},
    {"https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
     0, "label of 64 characters"},
    {"null", 0, "opaque origin"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void
test_origin_table_gives_each_expected_verdict(void)
{
    int failed = 0;

    CU_ASSERT_TRUE(N_CASES >= 40);
    for (size_t i = 0; i < N_CASES; i++) {
        int got = origin_allowed(cases[i].origin);

        if (got != cases[i].allowed) {
            fprintf(stderr, "\n  %s: \"%s\" gave %d, expected %d", cases[i].why,
                    cases[i].origin, got, cases[i].allowed);
            failed++;
        }
    }
    CU_ASSERT_EQUAL(failed, 0);
}

static void
test_origin_refuses_null(void)
{
    CU_ASSERT_FALSE(origin_allowed(NULL));
}

static void
test_origin_accepts_host_of_253_characters(void)
{
    char host[300];
    char url[320];

    /* 4 labels of 63 plus 3 dots = 255; trim to 253 with a 61 label. */
    snprintf(host, sizeof(host), "%.63s.%.63s.%.63s.%.61s",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
             "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    CU_ASSERT_EQUAL(strlen(host), 253);
    snprintf(url, sizeof(url), "https://%s", host);
    CU_ASSERT_TRUE(origin_allowed(url));
    snprintf(url, sizeof(url), "https://e%s", host);
    CU_ASSERT_FALSE(origin_allowed(url));
}

/* A JSON array of n copies of origin. */
static cJSON *
list_of(size_t n, const char *origin)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(origin));
    return a;
}

static void
test_origin_list_of_50_passes_and_51_is_too_many(void)
{
    cJSON *fifty = list_of(50, "https://a.example.com");
    cJSON *fifty_one = list_of(51, "https://a.example.com");

    CU_ASSERT_EQUAL(origin_list_check(fifty), ORIGIN_LIST_OK);
    CU_ASSERT_EQUAL(origin_list_check(fifty_one), ORIGIN_LIST_TOO_MANY);
    cJSON_Delete(fifty);
    cJSON_Delete(fifty_one);
}

static void
test_origin_list_accepts_duplicates_and_empty(void)
{
    cJSON *dups = list_of(2, "https://a.example.com");
    cJSON *empty = cJSON_CreateArray();

    CU_ASSERT_EQUAL(origin_list_check(dups), ORIGIN_LIST_OK);
    CU_ASSERT_EQUAL(origin_list_check(empty), ORIGIN_LIST_OK);
    cJSON_Delete(dups);
    cJSON_Delete(empty);
}

static void
test_origin_list_refuses_one_bad_entry_among_good(void)
{
    cJSON *l = list_of(3, "https://a.example.com");

    cJSON_AddItemToArray(l, cJSON_CreateString("http://yourdomain.com"));
    CU_ASSERT_EQUAL(origin_list_check(l), ORIGIN_LIST_INVALID);
    cJSON_Delete(l);
}

static void
test_origin_list_refuses_non_string_entries(void)
{
    const char *bad[] = {"[1]",  "[null]", "[true]",
                         "[{}]", "[[]]",   "[\"https://a.com\", 2]"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *l = cJSON_Parse(bad[i]);

        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        CU_ASSERT_EQUAL(origin_list_check(l), ORIGIN_LIST_INVALID);
        cJSON_Delete(l);
    }
}

static void
test_origin_list_refuses_non_array(void)
{
    cJSON *s = cJSON_CreateString("https://a.example.com");
    cJSON *o = cJSON_CreateObject();

    CU_ASSERT_EQUAL(origin_list_check(s), ORIGIN_LIST_NOT_ARRAY);
    CU_ASSERT_EQUAL(origin_list_check(o), ORIGIN_LIST_NOT_ARRAY);
    CU_ASSERT_EQUAL(origin_list_check(NULL), ORIGIN_LIST_NOT_ARRAY);
    cJSON_Delete(s);
    cJSON_Delete(o);
}

static void
test_origin_canonical_lowers_case_and_drops_default_port(void)
{
    char out[ORIGIN_MAX];

    CU_ASSERT_EQUAL(
        origin_canonical("HTTPS://App.Example.COM:443", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "https://app.example.com");
    CU_ASSERT_EQUAL(origin_canonical("http://LocalHost:80", out, sizeof(out)),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "http://localhost");
    CU_ASSERT_EQUAL(origin_canonical("https://[0:0::1]:8443", out, sizeof(out)),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "https://[::1]:8443");
    CU_ASSERT_EQUAL(origin_canonical("https://a.com/", out, sizeof(out)),
                    MOCK_EINVAL);
    CU_ASSERT_EQUAL(origin_canonical("https://a.com", out, 8), MOCK_EINVAL);
}

static void
test_origin_list_contains_matches_same_origin_only(void)
{
    cJSON *l = cJSON_Parse("[\"http://localhost:3000\", "
                           "\"HTTPS://App.Example.com\", 7]");

    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_TRUE(origin_list_contains(l, "http://localhost:3000"));
    CU_ASSERT_TRUE(origin_list_contains(l, "https://app.example.com"));
    CU_ASSERT_TRUE(origin_list_contains(l, "https://app.example.com:443"));
    CU_ASSERT_FALSE(origin_list_contains(l, "http://localhost:3001"));
    CU_ASSERT_FALSE(origin_list_contains(l, "http://localhost"));
    CU_ASSERT_FALSE(origin_list_contains(l, "https://localhost:3000"));
    CU_ASSERT_FALSE(origin_list_contains(l, "http://app.example.com"));
    CU_ASSERT_FALSE(origin_list_contains(l, "https://evil.app.example.com"));
    CU_ASSERT_FALSE(origin_list_contains(l, "null"));
    CU_ASSERT_FALSE(origin_list_contains(l, "*"));
    CU_ASSERT_FALSE(origin_list_contains(l, NULL));
    cJSON_Delete(l);
}

/* Found by fuzzing: the digits were summed into a long until it overflowed. */
static void
test_origin_refuses_numeric_host_of_many_digits(void)
{
    char host[128] = "http://";

    memset(host + 7, '8', 80);
    CU_ASSERT_FALSE(origin_allowed(host));
    CU_ASSERT_FALSE(origin_allowed("https://99999999999999999999999.1.1.1"));
    CU_ASSERT_FALSE(origin_allowed("https://1.1.1.2555"));
    CU_ASSERT_TRUE(origin_allowed("https://10.0.0.255"));
}

int
unit_register(void)
{
    static const struct unit_case tests[] = {
        UNIT_CASE(test_origin_table_gives_each_expected_verdict),
        UNIT_CASE(test_origin_refuses_null),
        UNIT_CASE(test_origin_accepts_host_of_253_characters),
        UNIT_CASE(test_origin_list_of_50_passes_and_51_is_too_many),
        UNIT_CASE(test_origin_list_accepts_duplicates_and_empty),
        UNIT_CASE(test_origin_list_refuses_one_bad_entry_among_good),
        UNIT_CASE(test_origin_list_refuses_non_string_entries),
        UNIT_CASE(test_origin_list_refuses_non_array),
        UNIT_CASE(test_origin_canonical_lowers_case_and_drops_default_port),
        UNIT_CASE(test_origin_list_contains_matches_same_origin_only),
        UNIT_CASE(test_origin_refuses_numeric_host_of_many_digits),
        {NULL, NULL},
    };

    return unit_add_suite("origin", tests);
}
