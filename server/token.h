/*
 * token: Cybrid access tokens, minted as RS512 JWTs with Cybrid's claims
 * and read back into a principal.
 *
 * Claims: iss (the sandbox identity host), aud (the sandbox service
 * hosts), sub (the organization, bank or customer guid), sub_type,
 * scope (array), iat, exp, jti (UUID), token_type "access" and
 * properties ({"type": ...} for banks, {"bank_guid", "bank_type"} for
 * customers, {} for organizations; a customer token restricted to
 * addresses also has "ip_allowlist" and/or "inherited_ip_allowlist"). The
 * signing key lives in the TLS directory as signing-key.pem, so a restart keeps
 * issued tokens valid. Reading goes through authcache: a token's signature is
 * verified once and its principal cached until it expires.
 */
#ifndef CYBRID_TOKEN_H
#define CYBRID_TOKEN_H

#include "identity.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define TOKEN_ISSUER "https://id.sandbox.cybrid.app"
#define TOKEN_DEFAULT_TTL 28800

/*
 * Reads dir/signing-key.pem, or makes an RSA 2048 key and writes it there
 * (mode 0600). Returns 0 or a negative code with err filled.
 */
int token_init(const char *dir, struct mock_err *err);

/*
 * Waits until the signing key is usable (token_init may still be making
 * it); returns 1 when it is, 0 when making it failed.
 */
int token_ready(void);

/* Frees the key and empties the cache. */
void token_shutdown(void);

/* Sets the lifetime in seconds of each token type (<= 0: the default). */
void token_set_lifetimes(int64_t organization, int64_t bank, int64_t customer);

/* The lifetime in seconds of a token of type t. */
int64_t token_lifetime(enum token_type t);

/* "organization", "bank", "customer" (or "none"). */
const char *token_type_name(enum token_type t);

/*
 * Signs a token of type t for sub holding scopes, issued at now and
 * living token_lifetime(t) seconds. properties (a JSON object) is taken
 * over. Returns the JWT (caller frees with secret_free) or NULL with err.
 */
char *token_mint(enum token_type t, const char *sub, const uint64_t scopes[2],
                 cJSON *properties, int64_t now, struct mock_err *err);

/*
 * Reads a token into out. Returns 0; MOCK_EINVAL when it is malformed,
 * badly signed, from another key or not one of ours; MOCK_ELIMIT when it
 * was valid but has expired at now (now >= exp). err says which.
 */
int token_read(const char *text, int64_t now, struct principal *out,
               struct mock_err *err);

/* The JWKS document of the signing key, as JSON text (owned here). */
const char *token_jwks(void);

#endif
