/*
 * Tests of the audit's rule state machines, fed synthetic requests and
 * webhook attempts, and of the `audit:` section of scenarios.
 */
#include "audit.h"
#include "findings.h"
#include "scopes.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define JTI "0f0e0d0c-0b0a-4909-8807-060504030201"
#define BANK "b0a1c2d3e4f5061728394a5b6c7d8e9f"
#define CUST "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"

/* Loads the default scenario plus yaml (the audit section). */
static void
load(const char *yaml)
{
    char text[1024];
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    snprintf(text, sizeof(text), "name: t\nextends: default\n%s",
             yaml ? yaml : "");
    CU_ASSERT_EQUAL_FATAL(
        scenario_load_text(text, strlen(text), "t", NULL, &sc, &err), 0);
    audit_load(sc);
    scenario_free(sc);
}

/* A request from one address at virtual time ms. */
static struct audit_request
req(const char *method, const char *path, int status, int64_t ms)
{
    struct audit_request q = {0};

    q.request_id = "0123456789abcdef0123456789abcdef";
    q.method = method;
    q.path = path;
    q.route = path;
    q.status = status;
    q.client_addr = "192.0.2.1";
    q.now_ms = ms;
    q.retry_after = -1;
    return q;
}

static void
test_expired_token_fires_after_two_resends(void)
{
    struct audit_request q = req("GET", "/api/banks", 401, 1000);

    load(NULL);
    q.token_expired = 1;
    q.jti = JTI;
    for (int i = 0; i < 3; i++)
        audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_EXPIRED_TOKEN_RESENT), 0);
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_EXPIRED_TOKEN_RESENT), 1);
    q.jti = "ffffffff-0b0a-4909-8807-060504030201";
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_EXPIRED_TOKEN_RESENT), 1);
}

static void
test_retry_counts_only_before_retry_after_on_the_same_path(void)
{
    struct audit_request q = req("GET", "/api/banks", 429, 1000);
    struct audit_request other = req("GET", "/api/customers", 200, 2000);
    struct audit_request later = req("GET", "/api/banks", 200, 6000);

    load(NULL);
    q.retry_after = 5;
    audit_request(&q);
    audit_request(&other);
    audit_request(&later);
    CU_ASSERT_EQUAL(audit_count(AUDIT_RETRY_BEFORE_RETRY_AFTER), 0);
    q.now_ms = 5999;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_RETRY_BEFORE_RETRY_AFTER), 1);
}

static void
test_token_endpoint_streak_resets_after_success(void)
{
    struct audit_request no = req("POST", "/oauth/token", 403, 1000);
    struct audit_request ok = req("POST", "/oauth/token", 200, 3000);

    load(NULL);
    no.rate_limited = 1;
    for (int i = 0; i < 3; i++) /* two hasty ones: at the threshold */
        audit_request(&no);
    audit_request(&ok); /* after a pause: the streak ends */
    no.now_ms = 3000;
    audit_request(&no);
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKEN_REQUESTS_AFTER_LIMIT), 0);
    for (int i = 0; i < 3; i++)
        audit_request(&no);
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKEN_REQUESTS_AFTER_LIMIT), 1);
    no.now_ms += 1000; /* a second later: backed off */
    audit_request(&no);
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKEN_REQUESTS_AFTER_LIMIT), 1);
}

/* Issues a bank token at second s (lifetime 100 s), then makes calls. */
static void
issue_then_call(int64_t s, int calls)
{
    struct audit_issued is = {TOKEN_BANK, "client", BANK,   JTI,
                              {0, 0},     s,        s + 100};
    struct audit_request t = req("POST", "/oauth/token", 200, s * 1000);
    struct audit_request c = req("GET", "/api/banks", 200, s * 1000);

    t.issued = &is;
    audit_request(&t);
    c.token_type = TOKEN_BANK;
    for (int i = 0; i < calls; i++)
        audit_request(&c);
}

static void
test_tokens_not_cached_weighs_tokens_against_calls(void)
{
    load(NULL);
    for (int i = 0; i < 6; i++)
        issue_then_call(1000 + i, 4); /* 5 early tokens, 24 calls */
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKENS_NOT_CACHED), 0);
    load(NULL);
    for (int i = 0; i < 5; i++)
        issue_then_call(1000 + i, 1);
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKENS_NOT_CACHED), 1);
    load(NULL);
    for (int i = 0; i < 6; i++)
        issue_then_call(1000 + i * 60, 1); /* each past half its life */
    CU_ASSERT_EQUAL(audit_count(AUDIT_TOKENS_NOT_CACHED), 0);
}

static void
test_bank_token_on_a_customer_fires_past_the_threshold(void)
{
    struct audit_request q =
        req("GET", "/api/customers/{customer_guid}", 200, 1000);

    load("audit:\n  bank_token_for_customer: {threshold: 1}\n");
    q.token_type = TOKEN_BANK;
    q.subject = BANK;
    q.customer_guid = CUST;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_BANK_TOKEN_FOR_CUSTOMER), 0);
    q.token_type = TOKEN_CUSTOMER;
    audit_request(&q);
    q.token_type = TOKEN_BANK;
    q.status = 404;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_BANK_TOKEN_FOR_CUSTOMER), 0);
    q.status = 200;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_BANK_TOKEN_FOR_CUSTOMER), 1);
}

static void
test_customer_scopes_count_until_used(void)
{
    struct audit_issued is = {TOKEN_CUSTOMER, NULL, CUST, JTI, {0, 0}, 1, 100};
    struct audit_request t = req("POST", "/api/customer_tokens", 201, 1000);
    struct audit_request use =
        req("PATCH", "/api/customers/{customer_guid}", 200, 2000);

    load(NULL);
    scopes_add(is.scopes, scopes_index("customers:read"));
    t.issued = &is;
    audit_request(&t);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CUSTOMER_SCOPES_UNUSED), 0);
    scopes_add(is.scopes, scopes_index("customers:write"));
    audit_request(&t);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CUSTOMER_SCOPES_UNUSED), 1);
    use.token_type = TOKEN_CUSTOMER;
    use.jti = JTI;
    use.scope_used = "customers:write";
    audit_request(&use);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CUSTOMER_SCOPES_UNUSED), 0);
}

static void
test_query_credentials_are_found_by_decoded_name(void)
{
    struct audit_request q = req("POST", "/oauth/token", 400, 1000);

    load(NULL);
    q.query = "grant_type=x&client_idx=1&secret=2";
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CREDENTIALS_IN_QUERY), 0);
    q.query = "a=1&client%5Fsecret=2";
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CREDENTIALS_IN_QUERY), 1);
    q.path = "/api/banks";
    q.query = "client_id=abc";
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CREDENTIALS_IN_QUERY), 1);
}

static void
test_cors_update_fires_only_when_refused_with_a_bad_origin(void)
{
    static const char bad[] = "{\"cors_allowed_origins\": [\"http://a.io\"]}";
    static const char star[] = "{\"cors_allowed_origins\": [\"https://*.io\"]}";
    static const char dev[] =
        "{\"cors_allowed_origins\": [\"http://localhost:3000\", 7]}";
    struct audit_request q = req("PATCH", "/api/banks/{bank_guid}", 422, 1);

    load(NULL);
    q.body = dev;
    q.body_len = strlen(dev);
    audit_request(&q);
    q.body = bad;
    q.body_len = strlen(bad);
    q.status = 200;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CORS_WILDCARD_OR_HTTP), 0);
    q.status = 422;
    audit_request(&q);
    q.body = star;
    q.body_len = strlen(star);
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_CORS_WILDCARD_OR_HTTP), 2);
}

/*
 * Loads a slow-receiver bound of 500 ms and returns an untampered HTTPS
 * delivery the receiver answered 200 at once.
 */
static struct attemptlog_entry
answered_delivery(void)
{
    struct attemptlog_entry e = {0};

    load("audit:\n  webhook_slow_receiver: {slower_than: 500ms}\n");
    e.url = "https://127.0.0.1/hook";
    e.delivery = "d";
    e.kind = "delivery";
    e.status = 200;
    e.tamper = "none";
    return e;
}

static void
test_webhook_attempts_fire_by_tamper_and_answer(void)
{
    struct attemptlog_entry e = answered_delivery();

    e.status = 401;
    e.tamper = "bad_signature";
    audit_webhook_attempt(&e);
    e.status = 200;
    e.tamper = "duplicate";
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_FORGED_ACCEPTED), 0);
    e.tamper = "unsigned";
    audit_webhook_attempt(&e);
    e.tamper = "stale_timestamp";
    audit_webhook_attempt(&e);
    e.wait_ms = 501;
    e.kind = "not_attempted";
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_SLOW_RECEIVER), 0);
    e.kind = "delivery";
    audit_webhook_attempt(&e);
    e.url = "http://127.0.0.1/hook";
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_FORGED_ACCEPTED), 1);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_STALE_ACCEPTED), 3);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_SLOW_RECEIVER), 2);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_PLAIN_HTTP), 1);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_TLS_UNVERIFIED), 0);
}

static void
test_slow_receiver_is_judged_by_its_wait_not_the_whole_attempt(void)
{
    struct attemptlog_entry e = answered_delivery();

    /* Connecting and the handshake took long; the receiver answered. */
    e.duration_ms = 5000;
    e.wait_ms = 20;
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_SLOW_RECEIVER), 0);
    e.wait_ms = 500;
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_SLOW_RECEIVER), 0);
    e.wait_ms = 501;
    audit_webhook_attempt(&e);
    CU_ASSERT_EQUAL(audit_count(AUDIT_WEBHOOK_SLOW_RECEIVER), 1);
}

static void
test_rule_turned_off_never_counts(void)
{
    struct audit_request q = req("GET", "/api/banks", 200, 1000);

    load("audit:\n  privileged_token_in_browser: off\n");
    q.token_type = TOKEN_BANK;
    q.has_origin = 1;
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_PRIVILEGED_TOKEN_IN_BROWSER), 0);
    load(NULL);
    audit_request(&q);
    CU_ASSERT_EQUAL(audit_count(AUDIT_PRIVILEGED_TOKEN_IN_BROWSER), 1);
}

static void
test_tables_stay_bounded_and_count_evictions(void)
{
    struct audit_request q = req("GET", "/api/banks", 401, 1000);
    char jti[40];
    cJSON *body;

    load("audit:\n  max_tracked: 16\n");
    q.token_expired = 1;
    for (int i = 0; i < 1000; i++) {
        snprintf(jti, sizeof(jti), "%08d-0b0a-4909-8807-060504030201", i);
        q.jti = jti;
        audit_request(&q);
    }
    CU_ASSERT_EQUAL(audit_count(AUDIT_EXPIRED_TOKEN_RESENT), 0);
    CU_ASSERT(audit_evictions() >= 1000 - 7 * 16);
    body = findings_json();
    CU_ASSERT_EQUAL(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "findings")),
        0);
    cJSON_Delete(body);
}

static void
test_audit_section_errors_say_where(void)
{
    static const char text[] = "name: t\naudit:\n  tokens_not_cached:\n"
                               "    ratio: lots\n";
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_NOT_EQUAL(
        scenario_load_text(text, strlen(text), "t.yaml", NULL, &sc, &err), 0);
    CU_ASSERT_EQUAL(err.line, 4);
    CU_ASSERT_EQUAL(err.column, 12);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.base.msg, "t.yaml:4:12:"));
}

static void
test_junit_escapes_markup(void)
{
    struct audit_request q = req("GET", "/api/<x>&\"y\"", 200, 1000);
    char *xml;

    load(NULL);
    q.route = NULL;
    q.token_type = TOKEN_ORGANIZATION;
    q.has_origin = 1;
    audit_request(&q);
    xml = findings_junit();
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "/api/&lt;x&gt;&amp;&quot;y&quot;"));
    CU_ASSERT_PTR_NULL(strstr(xml, "<x>"));
    free(xml);
    audit_shutdown();
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_expired_token_fires_after_two_resends),
        UNIT_CASE(test_retry_counts_only_before_retry_after_on_the_same_path),
        UNIT_CASE(test_token_endpoint_streak_resets_after_success),
        UNIT_CASE(test_tokens_not_cached_weighs_tokens_against_calls),
        UNIT_CASE(test_bank_token_on_a_customer_fires_past_the_threshold),
        UNIT_CASE(test_customer_scopes_count_until_used),
        UNIT_CASE(test_query_credentials_are_found_by_decoded_name),
        UNIT_CASE(test_cors_update_fires_only_when_refused_with_a_bad_origin),
        UNIT_CASE(test_webhook_attempts_fire_by_tamper_and_answer),
        UNIT_CASE(
            test_slow_receiver_is_judged_by_its_wait_not_the_whole_attempt),
        UNIT_CASE(test_rule_turned_off_never_counts),
        UNIT_CASE(test_tables_stay_bounded_and_count_evictions),
        UNIT_CASE(test_audit_section_errors_say_where),
        UNIT_CASE(test_junit_escapes_markup),
        {NULL, NULL},
    };

    return unit_add_suite("audit", cases);
}
