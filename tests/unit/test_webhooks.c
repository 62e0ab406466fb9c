/*
 * Tests of webhook signing (RFC 4231 HMAC-SHA256 vectors), the retry
 * schedule, the bounded delivery queue and event validation. The queue
 * tests run without workers, so nothing is sent and nothing races.
 */
#include "log.h"
#include "organization.h"
#include "outbound.h"
#include "store.h"
#include "unit.h"
#include "webhooks.h"

#include <stdio.h>
#include <string.h>

static void
test_sign_matches_rfc4231_case_1(void)
{
    unsigned char key[20];
    char sig[OUTBOUND_SIG_LEN + 1];

    memset(key, 0x0b, sizeof(key));
    outbound_sign(key, sizeof(key), "Hi There", 8, sig);
    CU_ASSERT_STRING_EQUAL(sig, "b0344c61d8db38535ca8afceaf0bf12b"
                                "881dc200c9833da726e9376c2e32cff7");
}

static void
test_sign_matches_rfc4231_case_2(void)
{
    const char *data = "what do ya want for nothing?";
    char sig[OUTBOUND_SIG_LEN + 1];

    outbound_sign("Jefe", 4, data, strlen(data), sig);
    CU_ASSERT_STRING_EQUAL(sig, "5bdcc146bf60754e6a042426089575c7"
                                "5a003f089d2739839dec58b964ec3843");
}

static void
test_sign_covers_every_body_byte(void)
{
    char a[OUTBOUND_SIG_LEN + 1], b[OUTBOUND_SIG_LEN + 1];

    outbound_sign("k", 1, "{\"a\":1}", 7, a);
    outbound_sign("k", 1, "{\"a\":1} ", 8, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(strlen(a), OUTBOUND_SIG_LEN);
}

static void
test_retry_delays_grow_by_factor_until_attempts_run_out(void)
{
    struct webhook_config c = {
        .attempts = 5, .first_delay_ms = 1000, .factor = 2.0};

    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 1), 1000);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 2), 2000);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 3), 4000);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 4), 8000);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 5), -1);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 0), -1);
}

static void
test_retry_delay_with_factor_one_stays_constant(void)
{
    struct webhook_config c = {
        .attempts = 3, .first_delay_ms = 250, .factor = 1.0};

    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 1), 250);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 2), 250);
    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 3), -1);
}

static void
test_single_attempt_schedules_no_retry(void)
{
    struct webhook_config c = {
        .attempts = 1, .first_delay_ms = 1000, .factor = 2.0};

    CU_ASSERT_EQUAL(webhooks_retry_delay_ms(&c, 1), -1);
}

static void
test_tamper_names_round_trip(void)
{
    for (int i = 0; i < WEBHOOK_TAMPERS; i++) {
        enum webhook_tamper t = WEBHOOK_TAMPER_NONE;

        CU_ASSERT_EQUAL(webhook_tamper_parse(
                            webhook_tamper_name((enum webhook_tamper)i), &t),
                        0);
        CU_ASSERT_EQUAL((int)t, i);
    }
    CU_ASSERT_EQUAL(webhook_tamper_parse("forged", &(enum webhook_tamper){0}),
                    MOCK_EINVAL);
}

static void
test_event_types_follow_the_organization_api(void)
{
    CU_ASSERT_TRUE(webhooks_event_type_valid("trade.completed"));
    CU_ASSERT_TRUE(webhooks_event_type_valid(
        "account.minimums.funding_pull.near_minimum"));
    CU_ASSERT_FALSE(webhooks_event_type_valid("trade.exploded"));
    CU_ASSERT_FALSE(webhooks_event_type_valid("trade.completed "));
    CU_ASSERT_FALSE(webhooks_event_type_valid(NULL));
}

/* A default scenario whose queue holds two deliveries, with n hooks. */
static struct scenario *
setup(size_t n_subscriptions)
{
    struct scenario *sc = scenario_default();

    sc->webhooks.queue_max = 2;
    store_reset(sc);
    organization_load(sc);
    for (size_t i = 0; i < n_subscriptions; i++) {
        char guid[33], url[64];

        guid_new(guid);
        snprintf(url, sizeof(url), "https://127.0.0.1:1/hook%zu", i);
        store_insert(STORE_SUBSCRIPTIONS,
                     organization_subscription_new(
                         guid, DEFAULT_ORGANIZATION_GUID, "hook", url, NULL));
    }
    webhooks_load(sc);
    return sc;
}

static void
teardown(struct scenario *sc)
{
    webhooks_stop(0);
    store_clear();
    scenario_free(sc);
}

static int
failed_state(const cJSON *obj, void *ctx)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "state");

    (void)ctx;
    return cJSON_IsString(s) && strcmp(s->valuestring, "failed") == 0;
}

static void
test_queue_drops_beyond_its_bound_and_counts_drops(void)
{
    struct scenario *sc = setup(3);
    struct webhook_event ev = {.event_type = "trade.completed",
                               .organization_guid = DEFAULT_ORGANIZATION_GUID};
    struct webhooks_stats st;
    size_t failed = 0;
    cJSON *list;

    CU_ASSERT_EQUAL(webhooks_emit(&ev, NULL, NULL), 0);
    webhooks_stats(&st);
    CU_ASSERT_EQUAL(st.queued, 2);
    CU_ASSERT_EQUAL(st.dropped, 1);
    CU_ASSERT_EQUAL(store_count(STORE_DELIVERIES), 3);
    CU_ASSERT_EQUAL(store_count(STORE_EVENTS), 1);
    list = store_list(STORE_DELIVERIES, failed_state, NULL, 0, 10, &failed);
    cJSON_Delete(list);
    CU_ASSERT_EQUAL(failed, 1);
    teardown(sc);
}

static void
test_emit_makes_one_delivery_per_subscription(void)
{
    struct scenario *sc = setup(2);
    struct webhook_event ev = {.event_type = "transfer.completed",
                               .organization_guid = DEFAULT_ORGANIZATION_GUID};
    cJSON *event = NULL;
    const cJSON *bank;

    CU_ASSERT_EQUAL(webhooks_emit(&ev, &event, NULL), 0);
    CU_ASSERT_EQUAL(store_count(STORE_DELIVERIES), 2);
    bank = cJSON_GetObjectItemCaseSensitive(event, "bank_guid");
    CU_ASSERT_TRUE(cJSON_IsString(bank) &&
                   strcmp(bank->valuestring, DEFAULT_BANK_GUID) == 0);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(event, "_created_ms"));
    cJSON_Delete(event);
    teardown(sc);
}

static void
test_emit_refuses_unknown_organization(void)
{
    struct scenario *sc = setup(1);
    struct webhook_event ev = {.event_type = "trade.completed",
                               .organization_guid =
                                   "00000000000000000000000000000000"};
    struct mock_err err = {0};

    CU_ASSERT_EQUAL(webhooks_emit(&ev, NULL, &err), MOCK_ENOENT);
    CU_ASSERT_EQUAL(store_count(STORE_EVENTS), 0);
    CU_ASSERT_EQUAL(store_count(STORE_DELIVERIES), 0);
    teardown(sc);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_sign_matches_rfc4231_case_1),
        UNIT_CASE(test_sign_matches_rfc4231_case_2),
        UNIT_CASE(test_sign_covers_every_body_byte),
        UNIT_CASE(test_retry_delays_grow_by_factor_until_attempts_run_out),
        UNIT_CASE(test_retry_delay_with_factor_one_stays_constant),
        UNIT_CASE(test_single_attempt_schedules_no_retry),
        UNIT_CASE(test_tamper_names_round_trip),
        UNIT_CASE(test_event_types_follow_the_organization_api),
        UNIT_CASE(test_queue_drops_beyond_its_bound_and_counts_drops),
        UNIT_CASE(test_emit_makes_one_delivery_per_subscription),
        UNIT_CASE(test_emit_refuses_unknown_organization),
        {NULL, NULL}};

    log_setup(LOG_OFF, LOG_TEXT, NULL);
    return unit_add_suite("webhooks", cases);
}
