/*
 * faults: the request path's fault injection step, driven by the
 * scenario's `faults:` list.
 *
 * Each rule matches requests on method, path glob (`*` is any text inside
 * one segment, `**` any number of whole segments), headers (present,
 * absent or an exact value) and token type (the type of a Bearer token
 * that verifies, expired or not; `none` otherwise). A matching request
 * is counted; the rule fires once `after` matches have gone by, at most
 * `times` times, and then each time with `probability`, drawn from the
 * rule's own random sequence (splitmix64 seeded with `seed`, restarted
 * when a scenario is loaded or reset: the same seed gives the same
 * sequence). Rules are evaluated in order and the first that fires wins:
 * later rules do not see that request.
 *
 * The step runs after rate limiting and before authentication, on every
 * request but /__admin/ ones. respond, reset, hang, malformed and
 * rate_limit answer (or drop) the request themselves; delay, truncate and
 * expire_tokens let it go on to normal handling. Firings are counted in
 * the metrics (cybrid_mock_faults_fired_total by action).
 */
#ifndef CYBRID_FAULTS_H
#define CYBRID_FAULTS_H

#include "http.h"
#include "scenario.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define FAULTS_MAX_HEADERS 8

/* A request as the matcher sees it. */
struct fault_view {
    const char *method;
    const char *path;                                   /* without the query */
    const char *(*header)(void *ctx, const char *name); /* value or NULL */
    int (*token_type)(void *ctx); /* TOKEN_* or MATCH_TOKEN_NONE; asked
                                     only when a rule needs it, once */
    void *ctx;
    int token_cache; /* set to FAULTS_TOKEN_UNKNOWN before use */
};
#define FAULTS_TOKEN_UNKNOWN (-2)

/* A trigger's running counts. */
struct fault_counter {
    uint64_t matches;
    uint64_t fired;
    uint64_t prng; /* splitmix64 state */
};

/* What fired, copied so it outlives a scenario swap. */
struct fault_decision {
    char name[64];
    enum fault_action action;
    int status;
    int n_headers;
    char hdr_names[FAULTS_MAX_HEADERS][48];
    char hdr_values[FAULTS_MAX_HEADERS][512];
    char *body; /* owned; NULL: Cybrid's error body */
    char message_code[64];
    int64_t ms;
    long long keep_bytes;
    int limit_class;
};

/*
 * 1 when path (without query) matches glob: `*` matches any text inside
 * one segment, `**` (a whole segment) any number of segments, none
 * included; one trailing slash on the path is ignored.
 */
int faults_path_match(const char *glob, const char *path);

/* 1 when the request matches every condition of m. */
int faults_match(const struct fault_match *m, struct fault_view *v);

/* Starts a trigger's counts, seeding its random sequence. */
void faults_counter_init(struct fault_counter *c,
                         const struct fault_trigger *t);

/*
 * Counts one matching request; returns 1 when the trigger fires on it
 * (after, times, then a probability draw).
 */
int faults_trigger_fire(const struct fault_trigger *t, struct fault_counter *c);

/* Deep-copies a match (free the copy with faultspec_match_free). */
void faults_match_copy(struct fault_match *dst, const struct fault_match *src);

/*
 * Takes the scenario's fault rules (copied) and restarts every count and
 * random sequence. Registers the metrics. Thread-safe.
 */
void faults_load(const struct scenario *sc);

/*
 * Evaluates the rules in order for the request. Returns 1 and fills out
 * (free with faults_decision_free) when one fires, else 0. Thread-safe.
 */
int faults_decide(struct fault_view *v, struct fault_decision *out);

/* Frees what a decision owns. */
void faults_decision_free(struct fault_decision *d);

/*
 * The request path's step: decides and carries out the action. Returns
 * 0 when the request goes on to normal handling (nothing fired, or delay,
 * truncate, expire_tokens), else 1 (answered or dropped). When a fault
 * fired, *fired receives its name and action (else fired->name is "").
 */
int faults_request(struct http_request *req, struct fault_decision *fired);

/* The rules with their counts, for GET /__admin/scenario (caller frees). */
cJSON *faults_state_json(void);

/* Makes delays and hangs in progress end now (for shutdown). */
void faults_interrupt(void);

/* 1 once faults_interrupt ran. */
int faults_interrupted(void);

/* Frees the rules. */
void faults_shutdown(void);

#endif
