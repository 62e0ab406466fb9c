/*
 * app: the request path and the routing table of the whole mock.
 *
 * Every request reads as one line: route -> rate limit -> faults ->
 * authenticate -> authorize scope -> handler -> journal and audit.
 * /__admin/ requests skip the rate limit, faults and journal, and need
 * the admin token when one is set (all but /__admin/health). Each
 * service module contributes a table of routes whose rows point at a
 * route_policy; this module joins the tables, runs the steps in that
 * order and loads a scenario into every module.
 */
#ifndef CYBRID_APP_H
#define CYBRID_APP_H

#include "http.h"
#include "scenario.h"

/* Token types, as bits so a policy can accept several. */
enum token_type {
    TOKEN_NONE = 0,
    TOKEN_ORGANIZATION = 1,
    TOKEN_BANK = 2,
    TOKEN_CUSTOMER = 4,
};
#define TOKEN_ANY (TOKEN_ORGANIZATION | TOKEN_BANK | TOKEN_CUSTOMER)

/* What the request path checks before a route's handler runs. */
struct route_policy {
    unsigned token_types;   /* accepted types; 0: no token is read */
    const char *scope;      /* required scope, or NULL */
    enum limit_class limit; /* rate-limit class, or LIMIT_NONE */
    int cors;               /* 1: the bank API's CORS rules apply */
};

/* What the command line sets for the request path. */
struct app_options {
    size_t journal_size;     /* 0: JOURNAL_DEFAULT_SIZE */
    const char *admin_token; /* NULL: the admin API is open (copied) */
};

/*
 * Prepares the routing table, the journal and the admin token, resets
 * the clock to the scenario's start and loads the scenario; call once.
 * Takes over sc: it becomes the running scenario, freed by app_replace
 * or app_shutdown. opt may be NULL for the defaults.
 */
void app_init(struct scenario *sc, const struct app_options *opt);

/*
 * Ends injected delays and hangs in progress, so that stopping the
 * listener does not wait for them. Call before http_stop.
 */
void app_interrupt(void);

/*
 * 1 when req may use the admin API: no admin token is set, or its
 * Authorization is "Bearer TOKEN" (compared in constant time).
 */
int app_admin_allowed(const struct http_request *req);

/*
 * Loads a scenario into every module (fixtures, limits, lifetimes). It
 * may run while requests are served: each module swaps its own state
 * under its own lock. Modules copy what they keep: sc is freed once
 * another scenario replaces it. Calls are serialized by app_replace and
 * app_reset; call it only through them once the server runs.
 */
void app_load(const struct scenario *sc);

/*
 * Makes sc (taken over) the running scenario: resets the clock to its
 * start, loads it into every module, then frees the one it replaces.
 */
void app_replace(struct scenario *sc);

/*
 * Reloads the running scenario: its fixtures, counters, clock start,
 * fault counts and timeline, and empties the journal.
 */
void app_reset(void);

/*
 * Calls fn with the running scenario, which stays valid until fn
 * returns. Returns fn's result.
 */
int app_with_scenario(int (*fn)(const struct scenario *sc, void *ctx),
                      void *ctx);

/*
 * Counts, logs and journals a request the http module refused before
 * dispatch (a malformed path or request line, oversize or too many
 * headers, a timeout), so that none goes unrecorded.
 */
void app_refused(struct http_request *req);

/* Frees what app_init and app_load made, the running scenario too. */
void app_shutdown(void);

/* The http module's dispatch function. */
void app_dispatch(struct http_request *req);

struct principal;

/*
 * The principal the authenticate step found for req (kept in the
 * dispatcher's per-request state, req->app), or NULL when the route reads
 * no token. Handlers use identity_principal(), which asks this.
 */
const struct principal *app_request_principal(const struct http_request *req);

/*
 * Tells the request path that the handler issued a token (its principal
 * as read back, and the client_id for /oauth/token, or NULL), for the
 * audit. Copies what it keeps; never the token itself.
 */
void app_note_issued(struct http_request *req, const struct principal *p,
                     const char *client_id);

#endif
