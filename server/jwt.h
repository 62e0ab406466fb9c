/*
 * jwt: RS512 JSON Web Tokens (RFC 7515/7519) with OpenSSL 3.
 *
 * A jwt_key holds an RSA key (2048 bits or more) and its key id, the RFC
 * 7638 thumbprint of the public key. Tokens are signed with RSASSA-PKCS1
 * v1.5 over SHA-512 and carry the header {"kid": ..., "alg": "RS512"}.
 * Verification is strict: exactly three base64url parts, a header whose
 * alg is exactly "RS512" and whose kid is ours (so alg none, HS512,
 * RS256 and tokens of another key are refused before any crypto), a
 * signature of the key's size that verifies, and a payload that is a JSON
 * object. Claims are checked by the caller.
 */
#ifndef CYBRID_JWT_H
#define CYBRID_JWT_H

#include "util.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_TOKEN 8192 /* longer tokens are refused unparsed */

struct jwt_key {
    EVP_PKEY *pkey;
    char kid[48];   /* base64url SHA-256 thumbprint, 43 characters */
    size_t sig_len; /* bytes of a signature: the modulus size */
};

/* A new RSA 2048 key for signing (caller frees), or NULL on failure. */
EVP_PKEY *jwt_make_key(void);

/*
 * Takes pkey over (it is freed here on failure), checks that it is an RSA
 * key of at least 2048 bits and computes its kid. Returns 0 or
 * MOCK_EINVAL / MOCK_ECRYPTO with err filled.
 */
int jwt_key_init(struct jwt_key *k, EVP_PKEY *pkey, struct mock_err *err);

/* Frees the key. NULL-safe, and safe on a zeroed struct. */
void jwt_key_free(struct jwt_key *k);

/*
 * Signs claims (a JSON object) into a compact JWT the caller frees with
 * secret_free. Returns NULL with err filled on a crypto failure.
 */
char *jwt_sign(const struct jwt_key *k, const cJSON *claims,
               struct mock_err *err);

/*
 * Checks token's form, header and signature. On success returns 0 and
 * *claims receives the payload object (caller frees). Otherwise returns
 * MOCK_EINVAL with err saying why (never quoting the token).
 */
int jwt_verify(const struct jwt_key *k, const char *token, cJSON **claims,
               struct mock_err *err);

/* The JWKS document {"keys": [...]} of the public key (caller frees). */
cJSON *jwt_jwks(const struct jwt_key *k);

/* 1 when a token with this exp is expired at now: now >= exp. */
int jwt_expired(int64_t exp, int64_t now);

/* base64url without padding of in[0..n); caller frees. */
char *jwt_b64url_encode(const unsigned char *in, size_t n);

/*
 * Decodes unpadded base64url in[0..n) into a new buffer *out (NUL
 * terminated, caller frees) of *out_len bytes. Anything outside the url
 * alphabet, padding, or an impossible length gives MOCK_EINVAL.
 */
int jwt_b64url_decode(const char *in, size_t n, unsigned char **out,
                      size_t *out_len);

#endif
