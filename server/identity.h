/*
 * identity: the Identity API (OAuth client-credentials tokens, customer
 * tokens, the JWKS) and the request path's authentication and scope
 * checks.
 *
 * Tokens are RS512 JWTs signed with a key kept in the TLS directory, so a
 * restart keeps issued tokens valid. Every expiry decision reads the
 * virtual clock: a token is expired when now >= exp.
 */
#ifndef CYBRID_IDENTITY_H
#define CYBRID_IDENTITY_H

#include "app.h"
#include "check.h"
#include "cidr.h"
#include "http.h"
#include "scenario.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define PRINCIPAL_MAX_ALLOW 16 /* entries of one token ip_allowlist */

/* Who a verified token speaks for (guids are "" where they do not apply). */
struct principal {
    enum token_type type;
    char subject[33];           /* the token's sub */
    char organization_guid[33]; /* organization tokens */
    char bank_guid[33];         /* bank and customer tokens */
    char customer_guid[33];     /* customer tokens */
    uint64_t scopes[2];         /* bit i: scope i of the scopes module */
    int64_t issued_at;          /* epoch seconds */
    int64_t expires_at;
    char jti[37];
    /*
     * Customer tokens made with an ip_allowlist: [0] the one asked for,
     * [1] the one inherited from the bank's applications. A request's
     * client address must fall in every non-empty list.
     */
    struct cidr allow[2][PRINCIPAL_MAX_ALLOW];
    unsigned n_allow[2];
};

/* What a POST /api/customer_tokens body asks for. */
struct customer_token_ask {
    const char *customer_guid; /* points into the body */
    uint64_t scopes[2];        /* customer scopes, as in a principal */
    int inherit;               /* inherit_ip_allowlist (default 1) */
    const cJSON *ip_allowlist; /* a non-empty array in the body, or NULL */
};

/*
 * Checks a POST /api/customer_tokens body (a JSON object) without the
 * store: known fields, a well-formed customer_guid, customer scopes, the
 * allowlist settings. Fills ask; returns 0, or the status of the first
 * problem, which c holds (reply it with check_reply).
 */
int identity_customer_token_check(struct check *c, const cJSON *body,
                                  struct customer_token_ask *ask);

/*
 * Reads the signing key from dir/signing-key.pem, or makes and writes it.
 * Returns 0 or a negative code with err filled.
 */
int identity_init(const char *dir, struct mock_err *err);

/* Frees the signing key. */
void identity_shutdown(void);

/* Takes the scenario's token lifetimes. */
void identity_load(const struct scenario *sc);

/* The Identity API's routes; *n receives their count. */
const struct http_route *identity_routes(size_t *n);

/*
 * Checks the request's Bearer token against the policy: 401 for a missing,
 * malformed, badly signed or expired token, 403 for a token of a type the
 * policy does not accept or without its scope (message codes
 * "unauthorized" and "forbidden"). Replies itself and returns the status
 * on failure; returns 0 and fills out on success. Sets req->token_type
 * once the token verifies.
 */
int identity_authenticate(struct http_request *req,
                          const struct route_policy *policy,
                          struct principal *out);

/* The principal of an authenticated request, or NULL. */
const struct principal *identity_principal(const struct http_request *req);

/*
 * The type of the request's Bearer token when it verifies (expired or
 * not), else TOKEN_NONE; for matching faults before authentication.
 */
enum token_type identity_token_type(const struct http_request *req);

/*
 * Makes every token issued so far expired (for a fault or a timeline
 * entry): tokens issued before now by the virtual clock, and those of the
 * current second minted before this call, answer 401 from here on.
 * Tokens minted later are unaffected. Loading a scenario forgets it.
 */
void identity_expire_tokens(void);

/*
 * Mints a token as token_mint does (see token.h), so that an early
 * expiry in the same second tells it from the tokens issued before.
 * Every token the mock hands out is minted here.
 */
char *identity_mint(enum token_type t, const char *sub,
                    const uint64_t scopes[2], cJSON *properties, int64_t now,
                    struct mock_err *err);

/*
 * 1 when the request's Bearer token is one of ours and has expired by
 * now (its jti copied into jti), else 0. For the audit, after a 401.
 */
int identity_token_expired(const struct http_request *req, char jti[37]);

/*
 * Reads back a token just minted (warming the token cache) and reports it
 * to the request path with app_note_issued(); client_id may be NULL.
 */
void identity_note_issued(struct http_request *req, const char *token,
                          const char *client_id);

/* 1 when the principal holds the scope (e.g. "banks:write"). */
int identity_has_scope(const struct principal *p, const char *scope);

/*
 * The request's client address as the rate limits see it (X-Forwarded-For
 * believed only from trusted proxies), for ip_allowlist checks.
 */
void identity_client_addr(const struct http_request *req, char *out,
                          size_t cap);

/* The stored bank's type, or "sandbox" when the bank is not stored. */
void identity_bank_type(const char *bank_guid, char *out, size_t cap);

#endif
