/*
 * bank: the Bank API's banks (/api/banks), which banks a token reaches,
 * and the CORS answers of the bank API.
 *
 * Banks live in the store as the JSON the API returns, plus underscore
 * fields only the mock reads (_created_ms, _updated_ms). An organization
 * token reaches the banks of its organization, a bank token its own bank
 * only; a bank out of reach answers 404 as if it did not exist. A bank's
 * cors_allowed_origins follow the origin module's rules and decide which
 * browser origins get Access-Control-Allow-Origin.
 */
#ifndef CYBRID_BANK_H
#define CYBRID_BANK_H

#include "check.h"
#include "http.h"
#include "identity.h"
#include "scenario.h"

/* The bank routes; *n receives their count. */
const struct http_route *bank_routes(size_t *n);

/*
 * Checks a POST /api/banks body and builds the bank it asks for (caller
 * frees; a new guid, created now), without the store. c receives the
 * first problem; the object is then incomplete and only to be freed.
 */
cJSON *bank_from_body(struct check *c, const cJSON *body,
                      const char *organization_guid);

/* Fields a PATCH /api/banks/{guid} may change, in patch order. */
#define BANK_PATCH_FIELDS 4

/*
 * Checks a PATCH /api/banks/{guid} body: v receives the new value of
 * name, supported_trading_symbols, supported_payout_symbols and
 * cors_allowed_origins, or NULL for one left as it is (caller frees
 * each). c receives the first problem.
 */
void bank_patch_read(struct check *c, const cJSON *body,
                     cJSON *v[BANK_PATCH_FIELDS]);

/* Inserts the scenario's banks into the (freshly reset) store. */
void bank_load(const struct scenario *sc);

/* 1 when the principal may see the bank with this guid. */
int bank_reachable(const struct principal *p, const char *bank_guid);

/*
 * Answers a CORS preflight (OPTIONS) of a bank API path whose methods are
 * allow ("GET, PATCH"): 204, with the CORS headers only when the request's
 * Origin is listed by some bank of the mock.
 */
void bank_cors_preflight(struct http_request *req, const char *allow);

/*
 * Queues Access-Control-Allow-Origin and Vary: Origin for an actual
 * request when its Origin is listed by the principal's bank: the bank of
 * a bank or customer token, or for an organization token the bank the
 * path names ({bank_guid}), if it reaches it. Otherwise queues nothing.
 */
void bank_cors_apply(struct http_request *req, const struct principal *p);

#endif
