/*
 * oauth: POST /oauth/token, the OAuth 2.0 client-credentials grant.
 *
 * Parameters come from a JSON or an application/x-www-form-urlencoded
 * body; the client may authenticate with HTTP Basic instead of the body.
 * Anything in the query string is refused unread (a secret there is
 * already exposed) and never logged. The client secret is compared in
 * constant time (SHA-256 of both sides, then CRYPTO_memcmp) and wiped
 * with the request. Errors follow RFC 6749: {"error",
 * "error_description"}.
 */
#ifndef CYBRID_OAUTH_H
#define CYBRID_OAUTH_H

#include "http.h"

#include <stddef.h>

/* What a token request carries; wiped when done. */
struct oauth_params {
    char grant_type[64];
    char client_id[256];
    char client_secret[512];
    char scope[4096];
    int has_scope;
    int basic; /* the credentials came by HTTP Basic */
};

/*
 * Reads grant_type, client_id, client_secret and scope from a token
 * request body[0..len) (body[len] must be NUL): a JSON object with each
 * key once (as http_json_parse reads it) when json_body, else an
 * x-www-form-urlencoded form. Each parameter is absent (left empty) or a string
 * given once that fits. Returns 0, or MOCK_EINVAL with why (size cap) saying
 * what is wrong. The caller zeroes tr first and wipes it afterwards.
 */
int oauth_params_parse(int json_body, const char *body, size_t len,
                       struct oauth_params *tr, char *why, size_t cap);

/* The POST /oauth/token handler. */
void oauth_token(struct http_request *req);

#endif
