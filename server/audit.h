/*
 * audit: judges the client under test against Cybrid's security guide.
 *
 * The request path calls audit_request() once per answered request and
 * the webhook engine calls audit_webhook_attempt() once per delivery
 * attempt. Each rule (enum audit_rule) keeps a little state (per token,
 * per client, per address) in bounded tables and, when the client does
 * what the guide warns against, counts an occurrence in the findings
 * module. Rules are read from the scenario's `audit:` section: each can
 * be turned off and most have a threshold (occurrences tolerated before
 * the rule fires).
 *
 * Nothing here stores or logs a token or a secret: tokens are known by
 * their jti, clients by address and client_id, and a query string is
 * only searched for parameter names. All calls are thread-safe.
 */
#ifndef CYBRID_AUDIT_H
#define CYBRID_AUDIT_H

#include "app.h"
#include "attemptlog.h"
#include "http.h"
#include "scenario.h"
#include "schema.h"

#include <stdint.h>
#include <stdio.h>

enum audit_rule {
    AUDIT_PRIVILEGED_TOKEN_IN_BROWSER,
    AUDIT_EXPIRED_TOKEN_RESENT,
    AUDIT_RETRY_BEFORE_RETRY_AFTER,
    AUDIT_TOKEN_REQUESTS_AFTER_LIMIT,
    AUDIT_TOKENS_NOT_CACHED,
    AUDIT_BANK_TOKEN_FOR_CUSTOMER,
    AUDIT_CUSTOMER_SCOPES_UNUSED,
    AUDIT_CREDENTIALS_IN_QUERY,
    AUDIT_CORS_WILDCARD_OR_HTTP,
    AUDIT_WEBHOOK_PLAIN_HTTP,
    AUDIT_WEBHOOK_TLS_UNVERIFIED,
    AUDIT_WEBHOOK_FORGED_ACCEPTED,
    AUDIT_WEBHOOK_STALE_ACCEPTED,
    AUDIT_WEBHOOK_SLOW_RECEIVER,
    AUDIT_RULES
};

enum audit_severity { AUDIT_INFO, AUDIT_WARNING, AUDIT_CRITICAL };

/* One rule's settings from the scenario. */
struct audit_rule_config {
    int enabled;
    unsigned threshold; /* occurrences tolerated before it fires */
    int64_t window_ms;  /* its time bound, for the rules that have one */
    double ratio;       /* tokens_not_cached: tokens per call */
};

/* The `audit:` section of a scenario. */
struct audit_config {
    struct audit_rule_config rules[AUDIT_RULES];
    unsigned max_tracked; /* entries per state table (a power of two) */
};

/* A token a handler issued, as the request path reports it. */
struct audit_issued {
    enum token_type type;
    const char *client_id; /* /oauth/token's client, or NULL */
    const char *subject;
    const char *jti;
    uint64_t scopes[2];
    int64_t issued_at, expires_at; /* epoch seconds */
};

/* What the request path knows about one answered request. */
struct audit_request {
    const char *request_id;
    const char *method;
    const char *path;  /* decoded, without the query */
    const char *route; /* the matched route's pattern, or NULL */
    const char *query; /* raw; only parameter names are looked at */
    int status;
    const char *client_addr; /* as the rate limits see it */
    int has_origin;          /* an Origin header came */
    int64_t now_ms;          /* virtual clock */
    /* the token that verified (TOKEN_NONE: none) */
    enum token_type token_type;
    const char *subject, *jti;
    const uint64_t *scopes;
    const char *scope_used; /* the route's scope, when authenticated */
    int token_expired;      /* a 401 for an expired token (jti set) */
    const char *customer_guid; /* the customer a customer token could
                                  reach here, or NULL */
    int rate_limited;          /* the answer is a rate-limit refusal */
    int64_t retry_after;       /* its Retry-After seconds, or -1 */
    const struct audit_issued *issued; /* a token issued, or NULL */
    const char *body;                  /* the request body, or NULL */
    size_t body_len;
};

/* Parses a scenario's `audit:` section into *(struct audit_config **)dst. */
int audit_parse_config(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                       const void *arg);

/* Frees a parsed `audit:` section. NULL-safe. */
void audit_config_free(struct audit_config *c);

/* The defaults of every rule (a scenario without `audit:`). */
void audit_config_defaults(struct audit_config *c);

/*
 * Takes the scenario's audit settings (defaults when it has none) and
 * forgets every finding and all rule state. Thread-safe.
 */
void audit_load(const struct scenario *sc);

/* Observes one answered request (not /__admin/ ones). */
void audit_request(const struct audit_request *r);

/*
 * Observes one webhook request the mock sent; verify_tls says whether
 * the receiver's certificate was checked.
 */
void audit_webhook_attempt(const struct attemptlog_entry *e);

/* The audit routes (GET /__admin/findings); *n receives their count. */
const struct http_route *audit_routes(size_t *n);

/* Occurrences counted so far for a rule (after evaluating). For tests. */
uint64_t audit_count(enum audit_rule rule);

/* The rule's id as written in scenarios and findings. */
const char *audit_rule_id(enum audit_rule rule);

/* Parses "critical", "warning" or "info"; 0 or MOCK_EINVAL. */
int audit_severity_parse(const char *s, enum audit_severity *out);

/*
 * Evaluates the end-of-run rules, prints the findings as a table to out
 * and returns 1 when some finding is at or above fail_on (fail_on < 0:
 * never), else 0.
 */
int audit_summary(FILE *out, int fail_on);

/* Frees the rule state and the findings. */
void audit_shutdown(void);

#endif
