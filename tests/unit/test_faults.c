/*
 * Tests of fault injection's decisions: path globs, each matcher, the
 * after/times/probability triggers and their determinism under a seed,
 * first-firing-wins order, what a decision carries per action, and the
 * loader's refusals with their exact places.
 */
#include "unit.h"

#include "faults.h"
#include "faultspec.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request for the matcher: headers as "Name: value" strings. */
struct fake {
    const char *headers[4];
    int token;
    int token_asked;
};

static const char *
fake_header(void *ctx, const char *name)
{
    struct fake *f = ctx;
    size_t n = strlen(name);

    for (int i = 0; i < 4 && f->headers[i]; i++) {
        if (strncasecmp(f->headers[i], name, n) == 0 && f->headers[i][n] == ':')
            return f->headers[i] + n + 2;
    }
    return NULL;
}

static int
fake_token(void *ctx)
{
    struct fake *f = ctx;

    f->token_asked++;
    return f->token;
}

static struct fault_view
view(const char *method, const char *path, struct fake *f)
{
    struct fault_view v = {method,     path, fake_header,
                           fake_token, f,    FAULTS_TOKEN_UNKNOWN};

    return v;
}

static struct scenario *
load(const char *yaml)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    if (scenario_load_text(yaml, strlen(yaml), "t.yaml", NULL, &sc, &err) !=
        0) {
        fprintf(stderr, "refused: %s\n", err.base.msg);
        return NULL;
    }
    return sc;
}

/* Loads yaml into the faults module; returns 0 on success. */
static int
use(const char *yaml)
{
    struct scenario *sc = load(yaml);

    if (sc == NULL)
        return -1;
    faults_load(sc);
    scenario_free(sc);
    return 0;
}

/* 1 when a GET of path fires a fault; its name goes into name. */
static int
fires(const char *method, const char *path, char *name, size_t cap)
{
    struct fake f = {{NULL}, MATCH_TOKEN_NONE, 0};
    struct fault_view v = view(method, path, &f);
    struct fault_decision d;
    int rc = faults_decide(&v, &d);

    if (rc && name != NULL)
        snprintf(name, cap, "%s", d.name);
    if (rc)
        faults_decision_free(&d);
    return rc;
}

static void
test_glob_star_matches_one_segment_and_double_star_any(void)
{
    static const struct {
        const char *glob, *path;
        int want;
    } cases[] = {
        {"/api/banks/*", "/api/banks/abc", 1},
        {"/api/banks/*", "/api/banks/abc/", 1},
        {"/api/banks/*", "/api/banks/abc/x", 0},
        {"/api/banks/*", "/api/banks", 0},
        {"/api/*_tokens", "/api/customer_tokens", 1},
        {"/api/*_tokens", "/api/customers", 0},
        {"/api/**", "/api", 1},
        {"/api/**", "/api/a/b/c", 1},
        {"/api/**", "/apix", 0},
        {"/**/deliveries", "/api/subscription/deliveries", 1},
        {"/**/deliveries", "/deliveries", 1},
        {"/**", "/", 1},
        {"/api/*/x/**", "/api/b/x", 1},
        {"/api/*/x/**", "/api/b/y/x", 0},
        {"/oauth/token", "/oauth/token", 1},
        {"/oauth/token", "/oauth/tokens", 0},
        {"/a*c", "/abbbc", 1},
        {"/a*c", "/abbbd", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = faults_path_match(cases[i].glob, cases[i].path);

        if (got != cases[i].want)
            fprintf(stderr, "glob %s path %s: got %d\n", cases[i].glob,
                    cases[i].path, got);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
}

static void
test_match_on_method_headers_and_token_type(void)
{
    struct fault_header_match h[2] = {{"X-Test", NULL, 0},
                                      {"X-Env", "staging", 0}};
    struct fault_match m = {"POST", "/api/**", h, 2, 2 /* bank */};
    struct fake f = {{"X-Test: 1", "X-Env: staging"}, 2, 0};
    struct fault_view v = view("POST", "/api/x", &f);

    CU_ASSERT_TRUE(faults_match(&m, &v));
    CU_ASSERT_EQUAL(f.token_asked, 1);
    v = view("GET", "/api/x", &f);
    CU_ASSERT_FALSE(faults_match(&m, &v));
    f.headers[1] = "X-Env: production";
    v = view("POST", "/api/x", &f);
    CU_ASSERT_FALSE(faults_match(&m, &v));
    f.headers[1] = "X-Env: staging";
    f.token = 1; /* organization */
    v = view("POST", "/api/x", &f);
    CU_ASSERT_FALSE(faults_match(&m, &v));
}

static void
test_match_header_absent_and_token_asked_only_when_needed(void)
{
    struct fault_header_match h = {"Idempotency-Key", NULL, 1};
    struct fault_match m = {NULL, NULL, &h, 1, MATCH_TOKEN_ANY};
    struct fake f = {{NULL}, 0, 0};
    struct fault_view v = view("POST", "/x", &f);

    CU_ASSERT_TRUE(faults_match(&m, &v));
    CU_ASSERT_EQUAL(f.token_asked, 0);
    f.headers[0] = "Idempotency-Key: abc";
    v = view("POST", "/x", &f);
    CU_ASSERT_FALSE(faults_match(&m, &v));
}

static void
test_after_skips_then_times_bounds_firings(void)
{
    struct fault_trigger t = {2, 3, 1.0, 0};
    struct fault_counter c;
    char got[16] = "";

    faults_counter_init(&c, &t);
    for (int i = 0; i < 8; i++)
        got[i] = faults_trigger_fire(&t, &c) ? 'F' : '.';
    CU_ASSERT_STRING_EQUAL(got, "..FFF...");
    CU_ASSERT_EQUAL(c.matches, 8);
    CU_ASSERT_EQUAL(c.fired, 3);
}

/* The firing pattern of 64 matches under a probability and seed. */
static void
pattern(double p, unsigned seed, char out[65])
{
    struct fault_trigger t = {0, 0, p, seed};
    struct fault_counter c;

    faults_counter_init(&c, &t);
    for (int i = 0; i < 64; i++)
        out[i] = faults_trigger_fire(&t, &c) ? 'F' : '.';
    out[64] = '\0';
}

static void
test_same_seed_same_sequence_other_seed_other_sequence(void)
{
    char a[65], b[65], c[65];
    int n = 0;

    pattern(0.5, 42, a);
    pattern(0.5, 42, b);
    pattern(0.5, 43, c);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    for (int i = 0; i < 64; i++)
        n += a[i] == 'F';
    /* 64 fair draws: far from none and from all. */
    CU_ASSERT_TRUE(n > 16 && n < 48);
    pattern(0.0, 42, a);
    CU_ASSERT_EQUAL(strchr(a, 'F'), NULL);
}

static void
test_loaded_rule_restarts_its_sequence_on_load(void)
{
    static const char yaml[] = "faults:\n"
                               "  - match: {path: /p}\n"
                               "    probability: 0.3\n"
                               "    seed: 7\n"
                               "    action: reset\n";
    char first[33], second[33];

    CU_ASSERT_EQUAL_FATAL(use(yaml), 0);
    for (int i = 0; i < 32; i++)
        first[i] = fires("GET", "/p", NULL, 0) ? 'F' : '.';
    first[32] = '\0';
    CU_ASSERT_EQUAL_FATAL(use(yaml), 0);
    for (int i = 0; i < 32; i++)
        second[i] = fires("GET", "/p", NULL, 0) ? 'F' : '.';
    second[32] = '\0';
    CU_ASSERT_STRING_EQUAL(first, second);
    CU_ASSERT_PTR_NOT_NULL(strchr(first, 'F'));
    CU_ASSERT_PTR_NOT_NULL(strchr(first, '.'));
    faults_shutdown();
}

static void
test_first_firing_rule_wins_and_later_rules_do_not_count(void)
{
    char name[64] = "";

    CU_ASSERT_EQUAL_FATAL(use("faults:\n"
                              "  - name: first\n"
                              "    match: {method: GET}\n"
                              "    times: 1\n"
                              "    respond: {status: 503}\n"
                              "  - name: second\n"
                              "    times: 1\n"
                              "    action: malformed\n"),
                          0);
    CU_ASSERT_TRUE(fires("GET", "/a", name, sizeof(name)));
    CU_ASSERT_STRING_EQUAL(name, "first");
    /* second saw no match yet: its first firing is now. */
    CU_ASSERT_TRUE(fires("GET", "/a", name, sizeof(name)));
    CU_ASSERT_STRING_EQUAL(name, "second");
    CU_ASSERT_FALSE(fires("GET", "/a", NULL, 0));
    CU_ASSERT_FALSE(fires("POST", "/a", NULL, 0));
    faults_shutdown();
}

static void
test_decision_carries_each_action_parameters(void)
{
    struct fake f = {{NULL}, 0, 0};
    struct fault_decision d;
    struct fault_view v;

    CU_ASSERT_EQUAL_FATAL(
        use("faults:\n"
            "  - match: {path: /r}\n"
            "    respond:\n"
            "      status: 502\n"
            "      headers: {Retry-After: \"3\"}\n"
            "      body: '{\"x\": 1}'\n"
            "  - {match: {path: /d}, delay: 250ms}\n"
            "  - {match: {path: /h}, action: hang}\n"
            "  - {match: {path: /h2}, action: hang, hang_for: 2s}\n"
            "  - {match: {path: /t}, action: truncate, keep_bytes: 7}\n"
            "  - {match: {path: /l}, action: rate_limit, limit_class: "
            "oauth_token}\n"
            "  - {match: {path: /e}, action: expire_tokens}\n"),
        0);
    v = view("GET", "/r", &f);
    CU_ASSERT_TRUE_FATAL(faults_decide(&v, &d));
    CU_ASSERT_EQUAL(d.action, FAULT_RESPOND);
    CU_ASSERT_EQUAL(d.status, 502);
    CU_ASSERT_EQUAL(d.n_headers, 1);
    CU_ASSERT_STRING_EQUAL(d.hdr_names[0], "Retry-After");
    CU_ASSERT_STRING_EQUAL(d.hdr_values[0], "3");
    CU_ASSERT_STRING_EQUAL(d.body, "{\"x\": 1}");
    faults_decision_free(&d);
    v = view("GET", "/d", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.action == FAULT_DELAY &&
                   d.ms == 250);
    v = view("GET", "/h", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.action == FAULT_HANG &&
                   d.ms == 30000);
    v = view("GET", "/h2", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.ms == 2000);
    v = view("GET", "/t", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.action == FAULT_TRUNCATE &&
                   d.keep_bytes == 7);
    v = view("GET", "/l", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.action == FAULT_RATE_LIMIT &&
                   d.limit_class == LIMIT_OAUTH_TOKEN);
    v = view("GET", "/e", &f);
    CU_ASSERT_TRUE(faults_decide(&v, &d) && d.action == FAULT_EXPIRE_TOKENS);
    v = view("GET", "/nothing", &f);
    CU_ASSERT_FALSE(faults_decide(&v, &d));
    faults_shutdown();
}

static void
test_loader_refuses_bad_faults_at_their_place(void)
{
    static const struct {
        const char *yaml;
        int line, column;
        const char *reason;
    } cases[] = {
        {"faults:\n  - match: {path: /x}\n", 2, 5, "exactly one of"},
        {"faults:\n  - {delay: 1s, action: reset}\n", 2, 5, "exactly one"},
        {"faults:\n  - action: explode\n", 2, 13, "bad action"},
        {"faults:\n  - {action: reset, hang_for: 1s}\n", 2, 31,
         "does not apply"},
        {"faults:\n  - match: {path: api}\n    action: reset\n", 2, 19,
         "bad path"},
        {"faults:\n  - match: {path: /a**}\n    action: reset\n", 2, 19,
         "whole segment"},
        {"faults:\n  - match: {method: get}\n    action: reset\n", 2, 21,
         "bad method"},
        {"faults:\n  - match: {token_type: admin}\n    action: reset\n", 2, 25,
         "bad token_type"},
        {"faults:\n  - {probability: 1.5, action: reset}\n", 2, 19,
         "out of range"},
        {"faults:\n  - {times: 0, action: reset}\n", 2, 13, "out of range"},
        {"faults:\n  - {respond: {status: 99}}\n", 2, 24, "out of range"},
        {"faults:\n  - {respond: {body: x}}\n", 2, 15, "missing key"},
        {"faults:\n  - {delay: 11m}\n", 2, 13, "at most 10m"},
        {"faults:\n  - {action: reset, colour: red}\n", 2, 21, "unknown key"},
        {"timeline:\n  - {emit: {event_type: trade.completed}}\n", 2, 5,
         "exactly one of at or on"},
        {"timeline:\n  - {at: 5s}\n", 2, 5, "at least one of"},
        {"timeline:\n  - {at: 5s, times: 2, expire_tokens: true}\n", 2, 21,
         "times applies"},
        {"timeline:\n  - at: 5s\n    emit: {event_type: nope}\n", 3, 24,
         "bad event_type"},
        {"timeline:\n  - at: 5s\n    emit: {event_type: trade.completed, "
         "tamper: loud}\n",
         3, 49, "bad tamper"},
        {"timeline:\n  - at: 5s\n    rate_limits: {general: {status: 500}}\n",
         3, 37, "want 429 or 403"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct schema_err err = {0};
        struct scenario *sc = NULL;
        int rc = scenario_load_text(cases[i].yaml, strlen(cases[i].yaml),
                                    "t.yaml", NULL, &sc, &err);

        CU_ASSERT_EQUAL(rc, MOCK_EINVAL);
        if (err.line != cases[i].line || err.column != cases[i].column ||
            strstr(err.reason, cases[i].reason) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err.base.msg);
        CU_ASSERT_EQUAL(err.line, cases[i].line);
        CU_ASSERT_EQUAL(err.column, cases[i].column);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, cases[i].reason));
        scenario_free(sc);
    }
}

static void
test_timeline_entries_load_with_defaults(void)
{
    struct scenario *sc = load("timeline:\n"
                               "  - at: 30s\n"
                               "    emit: {event_type: trade.completed,\n"
                               "           tamper: replay}\n"
                               "  - on: {method: PATCH, path: /api/x/*}\n"
                               "    expire_tokens: true\n"
                               "    rate_limits: {general: {limit: 2}, "
                               "oauth_token: off}\n");

    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->n_timeline, 2);
    CU_ASSERT_EQUAL(sc->timeline[0].at_ms, 30000);
    CU_ASSERT_STRING_EQUAL(sc->timeline[0].tamper, "replay");
    CU_ASSERT_STRING_EQUAL(sc->timeline[0].name, "timeline-1");
    CU_ASSERT_EQUAL(sc->timeline[1].at_ms, -1);
    CU_ASSERT_EQUAL(sc->timeline[1].trigger.times, 1);
    CU_ASSERT_TRUE(sc->timeline[1].expire_tokens);
    CU_ASSERT_EQUAL(sc->timeline[1].limits[LIMIT_GENERAL].mask,
                    LIMIT_SET_LIMIT);
    CU_ASSERT_TRUE(sc->timeline[1].limits[LIMIT_OAUTH_TOKEN].off);
    CU_ASSERT_FALSE(sc->timeline[1].limits[LIMIT_CUSTOMER_TOKENS].given);
    scenario_free(sc);
}

static void
test_child_faults_list_replaces_parents(void)
{
    struct scenario *sc =
        load("extends: flaky-api\nfaults: [{action: malformed}]\n");

    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->n_faults, 1);
    CU_ASSERT_EQUAL(sc->faults[0].action, FAULT_MALFORMED);
    scenario_free(sc);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_glob_star_matches_one_segment_and_double_star_any),
        UNIT_CASE(test_match_on_method_headers_and_token_type),
        UNIT_CASE(test_match_header_absent_and_token_asked_only_when_needed),
        UNIT_CASE(test_after_skips_then_times_bounds_firings),
        UNIT_CASE(test_same_seed_same_sequence_other_seed_other_sequence),
        UNIT_CASE(test_loaded_rule_restarts_its_sequence_on_load),
        UNIT_CASE(test_first_firing_rule_wins_and_later_rules_do_not_count),
        UNIT_CASE(test_decision_carries_each_action_parameters),
        UNIT_CASE(test_loader_refuses_bad_faults_at_their_place),
        UNIT_CASE(test_timeline_entries_load_with_defaults),
        UNIT_CASE(test_child_faults_list_replaces_parents),
        {NULL, NULL},
    };

    return unit_add_suite("faults", cases);
}
