/*
 * Tests of the rate limiter: the rolling window at its edges, addresses
 * and classes kept apart, eviction under the address cap, scenarios that
 * switch a class off, classification by path and the trusted-proxy rules
 * for X-Forwarded-For. Time is passed in, so every edge is exact.
 */
#include "unit.h"

#include "metrics.h"
#include "ratelimit.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads the default scenario with the general class set to limit/window. */
static void
load_general(unsigned limit, int64_t window_ms)
{
    struct scenario *sc = scenario_default();

    sc->limits[LIMIT_GENERAL].limit = limit;
    sc->limits[LIMIT_GENERAL].window_ms = window_ms;
    ratelimit_load(sc);
    scenario_free(sc);
}

static void
setup(size_t addresses, unsigned stripes, unsigned limit, int64_t window_ms)
{
    ratelimit_init(addresses, stripes);
    load_general(limit, window_ms);
}

static int
allowed(const char *addr, enum limit_class cls, int64_t now)
{
    struct ratelimit_verdict v;

    ratelimit_check(addr, cls, now, &v);
    return v.allowed;
}

static void
test_window_allows_exactly_limit_requests_then_refuses(void)
{
    setup(64, 4, 3, 1000);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 5));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 5));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 999));
    ratelimit_shutdown();
}

static void
test_slot_frees_exactly_when_oldest_leaves_window(void)
{
    setup(64, 4, 3, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 100));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 200));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 999));
    /* The request at 0 leaves the window at exactly 1000: one slot. */
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1099));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1100));
    ratelimit_shutdown();
}

static void
test_refusal_gives_whole_seconds_until_a_slot_frees(void)
{
    struct ratelimit_verdict v;

    setup(64, 4, 2, 10000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 4000));
    ratelimit_check("10.0.0.1", LIMIT_GENERAL, 3500 + 1000, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.status, 429);
    CU_ASSERT_TRUE(v.send_retry_after);
    CU_ASSERT_EQUAL(v.retry_after, 7); /* 6500 ms, rounded up */
    CU_ASSERT_EQUAL(v.limit, 2);
    CU_ASSERT_EQUAL(v.window_ms, 10000);
    /* 1 ms before the slot frees still says one second, never zero. */
    ratelimit_check("10.0.0.1", LIMIT_GENERAL, 10999, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.retry_after, 1);
    ratelimit_shutdown();
}

static void
test_large_limit_keeps_order_as_its_ring_grows(void)
{
    struct ratelimit_verdict v;

    setup(64, 4, 1000, 1000);
    for (int t = 0; t < 1000; t++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, t));
    ratelimit_check("10.0.0.1", LIMIT_GENERAL, 999, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.retry_after, 1);
    /* Each request leaves at its own time, oldest first. */
    for (int t = 1000; t < 1100; t++) {
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, t));
        CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, t));
    }
    ratelimit_shutdown();
}

static void
test_refused_requests_do_not_count(void)
{
    setup(64, 4, 2, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    for (int t = 1; t < 1000; t += 10)
        CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, t));
    /* Had the refusals counted, the window would still be full. */
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1000));
    ratelimit_shutdown();
}

static void
test_two_addresses_have_independent_windows(void)
{
    setup(64, 4, 2, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.2", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.2", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.2", LIMIT_GENERAL, 0));
    CU_ASSERT_EQUAL(ratelimit_tracked(), 2);
    ratelimit_shutdown();
}

static void
test_classes_have_independent_windows_and_statuses(void)
{
    struct ratelimit_verdict v;

    setup(64, 4, 1, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    /* Default token rules: 20 per 300 s, answered 403 without
       Retry-After. */
    for (int i = 0; i < 20; i++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_OAUTH_TOKEN, 0));
    ratelimit_check("10.0.0.1", LIMIT_OAUTH_TOKEN, 0, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.status, 403);
    CU_ASSERT_FALSE(v.send_retry_after);
    CU_ASSERT_EQUAL(v.retry_after, 300);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_CUSTOMER_TOKENS, 0));
    ratelimit_shutdown();
}

static void
test_token_rule_with_retry_after_switch_sends_it(void)
{
    struct scenario *sc = scenario_default();
    struct ratelimit_verdict v;

    sc->limits[LIMIT_CUSTOMER_TOKENS].limit = 1;
    sc->limits[LIMIT_CUSTOMER_TOKENS].retry_after = 1;
    ratelimit_init(64, 4);
    ratelimit_load(sc);
    scenario_free(sc);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_CUSTOMER_TOKENS, 0));
    ratelimit_check("10.0.0.1", LIMIT_CUSTOMER_TOKENS, 60000, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.status, 403);
    CU_ASSERT_TRUE(v.send_retry_after);
    CU_ASSERT_EQUAL(v.retry_after, 240);
    ratelimit_shutdown();
}

static void
test_eviction_takes_least_recently_used_address_under_cap(void)
{
    uint64_t before = ratelimit_evictions();

    setup(2, 1, 1, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.2", LIMIT_GENERAL, 0));
    /* Touching .1 (even refused) makes .2 the least recently used. */
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1));
    CU_ASSERT_TRUE(allowed("10.0.0.3", LIMIT_GENERAL, 2));
    CU_ASSERT_EQUAL(ratelimit_tracked(), 2);
    CU_ASSERT_EQUAL(ratelimit_evictions(), before + 1);
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 3)); /* kept */
    CU_ASSERT_FALSE(allowed("10.0.0.3", LIMIT_GENERAL, 3)); /* kept */
    /* .2 was forgotten: it starts again with an empty window, and that
       in turn evicts the least recently used, .1. */
    CU_ASSERT_TRUE(allowed("10.0.0.2", LIMIT_GENERAL, 4));
    CU_ASSERT_EQUAL(ratelimit_evictions(), before + 2);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 5));
    CU_ASSERT_EQUAL(ratelimit_tracked(), 2);
    ratelimit_shutdown();
    CU_ASSERT_EQUAL(ratelimit_tracked(), 0);
}

static void
test_many_addresses_stay_under_cap_across_stripes(void)
{
    char addr[32];

    setup(256, 16, 5, 1000);
    for (int i = 0; i < 5000; i++) {
        snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
        CU_ASSERT_TRUE(allowed(addr, LIMIT_GENERAL, i));
    }
    CU_ASSERT_TRUE(ratelimit_tracked() <= 256);
    CU_ASSERT_TRUE(ratelimit_tracked() > 128);
    ratelimit_shutdown();
}

static void
test_scenario_switches_a_class_off(void)
{
    struct scenario *sc = scenario_default();

    sc->limits[LIMIT_GENERAL].enabled = 0;
    ratelimit_init(64, 4);
    ratelimit_load(sc);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_EQUAL(ratelimit_tracked(), 0);
    /* The other classes keep their limits. */
    for (int i = 0; i < 20; i++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_OAUTH_TOKEN, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_OAUTH_TOKEN, 0));
    /* And a scenario that turns it back on starts with empty windows. */
    sc->limits[LIMIT_GENERAL].enabled = 1;
    ratelimit_load(sc);
    CU_ASSERT_EQUAL(ratelimit_tracked(), 0);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_OAUTH_TOKEN, 0));
    for (int i = 0; i < 100; i++)
        CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    scenario_free(sc);
    ratelimit_shutdown();
}

static void
test_set_rule_shrinks_window_keeping_newest_requests(void)
{
    struct limit_rule r = {1, 2, 1000, 429, 1};

    setup(64, 4, 4, 1000);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 100));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 200));
    ratelimit_set_rule(LIMIT_GENERAL, &r);
    /* Kept: 100 and 200; the oldest kept leaves at 1100. */
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1099));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1100));
    r.limit = 3;
    ratelimit_set_rule(LIMIT_GENERAL, &r);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1100));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1100));
    /* Held now: 200, 1100, 1100; the one at 200 leaves at 1200. */
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1199));
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 1200));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 1200));
    r.limit = 0;
    ratelimit_set_rule(LIMIT_GENERAL, &r);
    CU_ASSERT_FALSE(allowed("10.0.0.2", LIMIT_GENERAL, 5000));
    ratelimit_shutdown();
}

static void
test_forced_verdict_answers_as_if_the_window_were_full(void)
{
    struct metrics_counter *c = metrics_counter(
        "cybrid_mock_rate_limited_total", "class=\"oauth_token\"", NULL);
    struct ratelimit_verdict v;
    uint64_t before;

    setup(64, 4, 7, 90500);
    before = metrics_value(c);
    ratelimit_forced_verdict(LIMIT_GENERAL, &v);
    CU_ASSERT_FALSE(v.allowed);
    CU_ASSERT_EQUAL(v.status, 429);
    CU_ASSERT_TRUE(v.send_retry_after);
    CU_ASSERT_EQUAL(v.retry_after, 91);
    CU_ASSERT_EQUAL(v.limit, 7);
    ratelimit_forced_verdict(LIMIT_OAUTH_TOKEN, &v);
    CU_ASSERT_EQUAL(v.status, 403);
    CU_ASSERT_FALSE(v.send_retry_after);
    CU_ASSERT_EQUAL(v.retry_after, 300);
    CU_ASSERT_EQUAL(metrics_value(c), before);
    CU_ASSERT_EQUAL(ratelimit_tracked(), 0);
    ratelimit_shutdown();
}

static void
test_refusals_are_counted_by_class_in_metrics(void)
{
    struct metrics_counter *c = metrics_counter(
        "cybrid_mock_rate_limited_total", "class=\"general\"", NULL);
    uint64_t before;

    setup(64, 4, 1, 1000);
    before = metrics_value(c);
    CU_ASSERT_TRUE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_FALSE(allowed("10.0.0.1", LIMIT_GENERAL, 0));
    CU_ASSERT_EQUAL(metrics_value(c), before + 2);
    ratelimit_shutdown();
}

static void
test_class_is_chosen_by_method_and_path(void)
{
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/oauth/token"),
                    LIMIT_OAUTH_TOKEN);
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/oauth/token/"),
                    LIMIT_OAUTH_TOKEN);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/oauth/token"), LIMIT_NONE);
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/oauth/tokens"), LIMIT_NONE);
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/api/customer_tokens"),
                    LIMIT_CUSTOMER_TOKENS);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/api/customer_tokens"),
                    LIMIT_GENERAL);
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/api/customer_tokens/x"),
                    LIMIT_GENERAL);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/api/no-such-thing"),
                    LIMIT_GENERAL);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/api"), LIMIT_GENERAL);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/apix"), LIMIT_NONE);
    CU_ASSERT_EQUAL(ratelimit_class_of("GET", "/__admin/health"), LIMIT_NONE);
    CU_ASSERT_EQUAL(ratelimit_class_of("POST", "/__admin/clock/advance"),
                    LIMIT_NONE);
    CU_ASSERT_STRING_EQUAL(ratelimit_class_name(LIMIT_CUSTOMER_TOKENS),
                           "customer_tokens");
}

/* Loads the default scenario with these trusted proxies. */
static void
load_proxies(const char *const *list, size_t n)
{
    struct scenario *sc = scenario_default();

    for (size_t i = 0; i < sc->trusted_proxies.n; i++)
        free(sc->trusted_proxies.v[i]);
    free(sc->trusted_proxies.v);
    sc->trusted_proxies.v = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        sc->trusted_proxies.v[i] = xstrdup(list[i]);
    sc->trusted_proxies.n = n;
    ratelimit_load(sc);
    scenario_free(sc);
}

static void
client_is(const char *peer, const char *xff, const char *want)
{
    char out[RATELIMIT_ADDR_MAX];

    ratelimit_client_addr(peer, xff, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void
test_forwarded_for_is_ignored_without_trusted_proxies(void)
{
    ratelimit_init(64, 4);
    load_proxies(NULL, 0);
    client_is("127.0.0.1", "203.0.113.9", "127.0.0.1");
    client_is("::ffff:127.0.0.1", NULL, "127.0.0.1");
    client_is("::1", NULL, "::1");
    ratelimit_shutdown();
}

static void
test_forwarded_for_is_used_only_from_a_trusted_proxy(void)
{
    static const char *const list[] = {"10.0.0.5", "192.168.0.0/16",
                                       "2001:db8::/32"};

    ratelimit_init(64, 4);
    load_proxies(list, 3);
    client_is("10.0.0.6", "203.0.113.9", "10.0.0.6"); /* untrusted peer */
    client_is("10.0.0.5", "203.0.113.9", "203.0.113.9");
    client_is("10.0.0.5", " 203.0.113.9 ", "203.0.113.9");
    client_is("::ffff:10.0.0.5", "203.0.113.9", "203.0.113.9");
    client_is("192.168.7.1", "2001:DB9::1", "2001:db9::1");
    client_is("2001:db8::7", "203.0.113.9", "203.0.113.9");
    /* The rightmost hop that is not a proxy: earlier entries are
       whatever the client wrote and are not believed. */
    client_is("10.0.0.5", "1.1.1.1, 203.0.113.9, 192.168.1.1", "203.0.113.9");
    /* Every hop a proxy: the leftmost one is the client. */
    client_is("10.0.0.5", "192.168.1.2, 192.168.1.1", "192.168.1.2");
    /* Garbage, a port or an empty header: the peer. */
    client_is("10.0.0.5", "not-an-address", "10.0.0.5");
    client_is("10.0.0.5", "203.0.113.9:443", "10.0.0.5");
    client_is("10.0.0.5", "", "10.0.0.5");
    client_is("10.0.0.5", ",", "10.0.0.5");
    client_is("10.0.0.5", "203.0.113.0/24", "10.0.0.5");
    /* Garbage left of a valid hop is never reached. */
    client_is("10.0.0.5", "junk, 203.0.113.9", "203.0.113.9");
    ratelimit_shutdown();
}

static void
test_untrusted_proxy_entry_in_scenario_is_skipped(void)
{
    static const char *const list[] = {"proxy.example", "10.0.0.5"};

    ratelimit_init(64, 4);
    load_proxies(list, 2);
    client_is("10.0.0.5", "203.0.113.9", "203.0.113.9");
    ratelimit_shutdown();
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_window_allows_exactly_limit_requests_then_refuses),
        UNIT_CASE(test_slot_frees_exactly_when_oldest_leaves_window),
        UNIT_CASE(test_refusal_gives_whole_seconds_until_a_slot_frees),
        UNIT_CASE(test_large_limit_keeps_order_as_its_ring_grows),
        UNIT_CASE(test_refused_requests_do_not_count),
        UNIT_CASE(test_two_addresses_have_independent_windows),
        UNIT_CASE(test_classes_have_independent_windows_and_statuses),
        UNIT_CASE(test_token_rule_with_retry_after_switch_sends_it),
        UNIT_CASE(test_eviction_takes_least_recently_used_address_under_cap),
        UNIT_CASE(test_many_addresses_stay_under_cap_across_stripes),
        UNIT_CASE(test_scenario_switches_a_class_off),
        UNIT_CASE(test_set_rule_shrinks_window_keeping_newest_requests),
        UNIT_CASE(test_forced_verdict_answers_as_if_the_window_were_full),
        UNIT_CASE(test_refusals_are_counted_by_class_in_metrics),
        UNIT_CASE(test_class_is_chosen_by_method_and_path),
        UNIT_CASE(test_forwarded_for_is_ignored_without_trusted_proxies),
        UNIT_CASE(test_forwarded_for_is_used_only_from_a_trusted_proxy),
        UNIT_CASE(test_untrusted_proxy_entry_in_scenario_is_skipped),
        {NULL, NULL},
    };

    return unit_add_suite("ratelimit", cases);
}
