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
#include "auditconf.h"
#include "http.h"
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>

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
    const char *scope_used;    /* the route's scope, when authenticated */
    int token_expired;         /* a 401 for an expired token (jti set) */
    const char *customer_guid; /* the customer a customer token could
                                  reach here, or NULL */
    int rate_limited;          /* the answer is a rate-limit refusal */
    int64_t retry_after;       /* its Retry-After seconds, or -1 */
    const struct audit_issued *issued; /* a token issued, or NULL */
    const char *body;                  /* the request body, or NULL */
    size_t body_len;
};

/*
 * Takes the scenario's audit settings (defaults when it has none) and
 * forgets every finding and all rule state. Thread-safe.
 */
void audit_load(const struct scenario *sc);

/* Observes one answered request (not /__admin/ ones). */
void audit_request(const struct audit_request *r);

/*
 * Observes one webhook request the mock sent (webhooks.verify_tls comes
 * from the scenario loaded).
 */
void audit_webhook_attempt(const struct attemptlog_entry *e);

/* The audit routes (GET /__admin/findings); *n receives their count. */
const struct http_route *audit_routes(size_t *n);

/* State entries evicted from the bounded tables since the last load. */
uint64_t audit_evictions(void);

/* Occurrences counted so far for a rule (after evaluating). For tests. */
uint64_t audit_count(enum audit_rule rule);

/*
 * Evaluates the end-of-run rules, prints the findings to out (a table,
 * or JSON lines when json) and returns 1 when some finding is at or
 * above fail_on (fail_on < 0: never), else 0.
 */
int audit_summary(FILE *out, int fail_on, int json);

/* Frees the rule state and the findings. */
void audit_shutdown(void);

#endif
