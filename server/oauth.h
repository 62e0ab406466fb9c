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

/* The POST /oauth/token handler. */
void oauth_token(struct http_request *req);

#endif
