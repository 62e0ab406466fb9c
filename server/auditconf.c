/*
 * auditconf: the catalogue is a static table; the `audit:` field table is
 * built from it once, so a rule's id is written in one place only.
 */
#include "auditconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TRACKED 4096

/* ---- the catalogue -------------------------------------------------- */

#define TH "Token Handling"
#define RL "Rate Limiting and Resilience"
#define WS "Webhook Security"
static const struct findings_rule catalogue[AUDIT_RULES] = {
    {"privileged_token_in_browser", AUDIT_CRITICAL, TH,
     "a bank or organization token was used by a request with an Origin "
     "header (browser code): privileged tokens must stay server-side"},
    {"expired_token_resent", AUDIT_WARNING, TH,
     "an expired token was sent again after a 401 for it: on a 401, fetch "
     "a fresh token before retrying"},
    {"retry_before_retry_after", AUDIT_WARNING, RL,
     "a request was retried before the Retry-After of its 429 had passed"},
    {"token_requests_after_rate_limit", AUDIT_WARNING, RL,
     "token requests went on right after a rate-limit 403 from a token "
     "endpoint (a rate limit, not an authorization error): back off"},
    {"tokens_not_cached", AUDIT_WARNING, TH,
     "new tokens were fetched while the client's previous token was still "
     "valid for most of its life: keep tokens in memory until they expire"},
    {"bank_token_for_customer", AUDIT_WARNING, TH,
     "a bank token was used on a customer's own resources, which a "
     "customer-scoped token could reach: use customer tokens there"},
    {"customer_scopes_unused", AUDIT_INFO, TH,
     "a customer token held write or execute scopes it never used: ask "
     "for the least privilege"},
    {"credentials_in_query", AUDIT_CRITICAL, "API Credentials",
     "client credentials were sent in a query string, where logs and "
     "proxies keep them"},
    {"cors_wildcard_or_http", AUDIT_INFO, "Browser Integration Security",
     "a CORS update tried a wildcard or a plain-http origin"},
    {"webhook_plain_http", AUDIT_WARNING, "Transport Security",
     "a webhook endpoint is plain http: webhook receivers must use HTTPS"},
    {"webhook_tls_unverified", AUDIT_WARNING, "Transport Security",
     "webhooks were delivered with certificate checks off "
     "(webhooks.verify_tls false): the receiver's TLS is not trustworthy"},
    {"webhook_forged_accepted", AUDIT_CRITICAL, WS,
     "the webhook receiver answered 2xx to a forged or unsigned delivery: "
     "verify X-Cybrid-Signature"},
    {"webhook_stale_accepted", AUDIT_WARNING, WS,
     "the webhook receiver answered 2xx to a delivery with an hour-old "
     "timestamp: reject stale timestamps"},
    {"webhook_slow_receiver", AUDIT_INFO, WS,
     "the webhook receiver took too long to answer: answer 2xx quickly "
     "and process asynchronously"},
};

/* Which settings a rule takes besides `enabled`. */
enum { P_NONE, P_COUNT, P_WINDOW, P_RATIO, P_SLOW };

static const struct {
    int params;
    unsigned threshold;
    int64_t window_ms;
    double ratio;
} defaults[AUDIT_RULES] = {
    [AUDIT_PRIVILEGED_TOKEN_IN_BROWSER] = {P_NONE, 0, 0, 0},
    [AUDIT_EXPIRED_TOKEN_RESENT] = {P_COUNT, 2, 0, 0},
    [AUDIT_RETRY_BEFORE_RETRY_AFTER] = {P_COUNT, 0, 0, 0},
    [AUDIT_TOKEN_REQUESTS_AFTER_LIMIT] = {P_WINDOW, 2, 1000, 0},
    [AUDIT_TOKENS_NOT_CACHED] = {P_RATIO, 3, 0, 0.5},
    [AUDIT_BANK_TOKEN_FOR_CUSTOMER] = {P_COUNT, 3, 0, 0},
    [AUDIT_CUSTOMER_SCOPES_UNUSED] = {P_NONE, 0, 0, 0},
    [AUDIT_CREDENTIALS_IN_QUERY] = {P_NONE, 0, 0, 0},
    [AUDIT_CORS_WILDCARD_OR_HTTP] = {P_NONE, 0, 0, 0},
    [AUDIT_WEBHOOK_PLAIN_HTTP] = {P_NONE, 0, 0, 0},
    [AUDIT_WEBHOOK_TLS_UNVERIFIED] = {P_NONE, 0, 0, 0},
    [AUDIT_WEBHOOK_FORGED_ACCEPTED] = {P_NONE, 0, 0, 0},
    [AUDIT_WEBHOOK_STALE_ACCEPTED] = {P_NONE, 0, 0, 0},
    [AUDIT_WEBHOOK_SLOW_RECEIVER] = {P_SLOW, 0, 2000, 0},
};

const char *
auditconf_rule_id(enum audit_rule rule)
{
    return rule < AUDIT_RULES ? catalogue[rule].id : "unknown";
}

int
auditconf_severity_parse(const char *s, enum audit_severity *out)
{
    for (int i = 0; i <= AUDIT_CRITICAL; i++) {
        if (s != NULL && strcmp(s, findings_severity_name(i)) == 0) {
            *out = (enum audit_severity)i;
            return 0;
        }
    }
    return MOCK_EINVAL;
}

void
auditconf_defaults(struct audit_config *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < AUDIT_RULES; i++) {
        c->rules[i].enabled = 1;
        c->rules[i].threshold = defaults[i].threshold;
        c->rules[i].window_ms = defaults[i].window_ms;
        c->rules[i].ratio = defaults[i].ratio;
    }
    c->max_tracked = DEFAULT_TRACKED;
}

/* ---- the `audit:` section ------------------------------------------- */

static const struct schema_range count_range = {0, 1000000};
static const struct schema_range tracked_range = {16, 1048576};
static const struct schema_real_range ratio_range = {0.0, 100.0};

#define R(key, fn, member, arg)                                                \
    SCHEMA_FIELD(struct audit_rule_config, key, fn, member, arg, 0)
static const struct schema_field f_none[] = {
    R("enabled", schema_bool, enabled, NULL),
    {NULL, NULL, 0, NULL, 0},
};
static const struct schema_field f_count[] = {
    R("enabled", schema_bool, enabled, NULL),
    R("threshold", schema_uint, threshold, &count_range),
    {NULL, NULL, 0, NULL, 0},
};
static const struct schema_field f_window[] = {
    R("enabled", schema_bool, enabled, NULL),
    R("threshold", schema_uint, threshold, &count_range),
    R("window", schema_millis, window_ms, NULL),
    {NULL, NULL, 0, NULL, 0},
};
static const struct schema_field f_ratio[] = {
    R("enabled", schema_bool, enabled, NULL),
    R("threshold", schema_uint, threshold, &count_range),
    R("ratio", schema_real, ratio, &ratio_range),
    {NULL, NULL, 0, NULL, 0},
};
static const struct schema_field f_slow[] = {
    R("enabled", schema_bool, enabled, NULL),
    R("threshold", schema_uint, threshold, &count_range),
    R("slower_than", schema_millis, window_ms, NULL),
    {NULL, NULL, 0, NULL, 0},
};
static const struct schema_field *const param_fields[] = {
    f_none, f_count, f_window, f_ratio, f_slow};

/* A rule: `on`, `off`, or a mapping of its settings. */
static int
parse_rule(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    struct audit_rule_config *rc = dst;

    if (schema_is_word(node, "off") || schema_is_word(node, "on")) {
        rc->enabled = schema_is_word(node, "on");
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "expected on, off or a mapping of the "
                           "rule's settings");
    rc->enabled = 1;
    return schema_map(cx, node, arg, rc);
}

static int
parse_tracked(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    unsigned v;

    if (schema_uint(cx, node, &v, &tracked_range) != 0)
        return MOCK_EINVAL;
    *(unsigned *)dst = v;
    return 0;
}

static struct schema_field audit_fields[AUDIT_RULES + 2];
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static void
build_fields(void)
{
    for (int i = 0; i < AUDIT_RULES; i++) {
        audit_fields[i].key = catalogue[i].id;
        audit_fields[i].parse = parse_rule;
        audit_fields[i].offset = offsetof(struct audit_config, rules) +
                                 (size_t)i * sizeof(struct audit_rule_config);
        audit_fields[i].arg = param_fields[defaults[i].params];
    }
    audit_fields[AUDIT_RULES].key = "max_tracked";
    audit_fields[AUDIT_RULES].parse = parse_tracked;
    audit_fields[AUDIT_RULES].offset =
        offsetof(struct audit_config, max_tracked);
}

int
auditconf_parse(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg)
{
    struct audit_config **c = dst;

    pthread_once(&fields_once, build_fields);
    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "audit: expected a mapping of rule ids "
                           "and max_tracked");
    if (*c == NULL) {
        *c = xmalloc(sizeof(**c));
        auditconf_defaults(*c);
    }
    return schema_map(cx, node, audit_fields, *c);
}

void
auditconf_free(struct audit_config *c)
{
    free(c);
}

const struct findings_rule *
auditconf_catalogue(void)
{
    return catalogue;
}
