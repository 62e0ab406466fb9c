/*
 * jwt: compact RS512 tokens. base64 goes through OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock with the url alphabet swapped in and out
 * around them; signing and verifying use EVP_DigestSign/EVP_DigestVerify
 * with SHA-512 and PKCS#1 v1.5 padding. The key is only read after
 * jwt_key_init, so any number of threads may sign and verify at once.
 */
#include "jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_ALG "RS512"

EVP_PKEY *
jwt_make_key(void)
{
    return EVP_RSA_gen(2048);
}

/* ---- base64url -------------------------------------------------------- */

char *
jwt_b64url_encode(const unsigned char *in, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/* The 6-bit value of a base64url character, or -1. */
static int
b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int
jwt_b64url_decode(const char *in, size_t n, unsigned char **out,
                  size_t *out_len)
{
    size_t pad = (4 - n % 4) % 4;
    char *std;
    unsigned char *buf;
    int len;

    *out = NULL;
    *out_len = 0;
    if (n % 4 == 1 || n > JWT_MAX_TOKEN)
        return MOCK_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (b64url_value(in[i]) < 0)
            return MOCK_EINVAL;
    }
    /* The bits past the last byte must be zero (one encoding per value). */
    if (pad != 0 && (b64url_value(in[n - 1]) & (pad == 2 ? 0xf : 0x3)) != 0)
        return MOCK_EINVAL;
    std = xmalloc(n + pad + 1);
    for (size_t i = 0; i < n; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    memset(std + n, '=', pad);
    std[n + pad] = '\0';
    buf = xmalloc((n + pad) / 4 * 3 + 1);
    len = EVP_DecodeBlock(buf, (const unsigned char *)std, (int)(n + pad));
    free(std);
    if (len < 0 || (size_t)len < pad) {
        free(buf);
        return MOCK_EINVAL;
    }
    len -= (int)pad;
    buf[len] = '\0';
    *out = buf;
    *out_len = (size_t)len;
    return 0;
}

/* ---- keys ------------------------------------------------------------- */

/* base64url of a big-endian parameter of the key ("n" or "e"). */
static char *
bn_param_b64(EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char *bin;
    char *out;
    int len;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    len = BN_num_bytes(bn);
    bin = xmalloc((size_t)len + 1);
    BN_bn2bin(bn, bin);
    out = jwt_b64url_encode(bin, (size_t)len);
    free(bin);
    BN_free(bn);
    return out;
}

int
jwt_key_init(struct jwt_key *k, EVP_PKEY *pkey, struct mock_err *err)
{
    unsigned char digest[32];
    char *n, *e, *json, *kid;

    memset(k, 0, sizeof(*k));
    if (pkey == NULL)
        return err_set(err, MOCK_EINVAL, "no signing key");
    if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < 2048) {
        EVP_PKEY_free(pkey);
        return err_set(err, MOCK_EINVAL,
                       "the signing key must be RSA of 2048 bits or more");
    }
    n = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N);
    e = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E);
    if (n == NULL || e == NULL) {
        free(n);
        free(e);
        EVP_PKEY_free(pkey);
        return err_set(err, MOCK_ECRYPTO, "cannot read the RSA key");
    }
    /* RFC 7638: the members in lexical order, no whitespace. */
    json = xasprintf("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n);
    EVP_Digest(json, strlen(json), digest, NULL, EVP_sha256(), NULL);
    kid = jwt_b64url_encode(digest, sizeof(digest));
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    free(kid);
    free(json);
    free(n);
    free(e);
    k->pkey = pkey;
    k->sig_len = (size_t)EVP_PKEY_get_size(pkey);
    return 0;
}

void
jwt_key_free(struct jwt_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
}

cJSON *
jwt_jwks(const struct jwt_key *k)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(doc, "keys");
    cJSON *jwk = cJSON_CreateObject();
    char *n = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E);

    cJSON_AddStringToObject(jwk, "kty", "RSA");
    cJSON_AddStringToObject(jwk, "kid", k->kid);
    cJSON_AddStringToObject(jwk, "use", "sig");
    cJSON_AddStringToObject(jwk, "alg", JWT_ALG);
    cJSON_AddStringToObject(jwk, "n", n ? n : "");
    cJSON_AddStringToObject(jwk, "e", e ? e : "");
    cJSON_AddItemToArray(keys, jwk);
    free(n);
    free(e);
    return doc;
}

/* ---- signing ---------------------------------------------------------- */

/* Signs or verifies data with RS512; sig holds k->sig_len bytes. */
static int
rs512(const struct jwt_key *k, int sign, const char *data, size_t n,
      unsigned char *sig, size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (md == NULL)
        return -1;
    if (sign) {
        ok = EVP_DigestSignInit(md, &pctx, EVP_sha512(), NULL, k->pkey) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestSign(md, sig, sig_len, (const unsigned char *)data, n) ==
                 1;
    } else {
        ok =
            EVP_DigestVerifyInit(md, &pctx, EVP_sha512(), NULL, k->pkey) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_DigestVerify(md, sig, *sig_len, (const unsigned char *)data,
                             n) == 1;
    }
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

char *
jwt_sign(const struct jwt_key *k, const cJSON *claims, struct mock_err *err)
{
    char header[96], *payload, *h64, *p64, *s64, *input, *token;
    unsigned char *sig;
    size_t sig_len = k->sig_len;

    snprintf(header, sizeof(header), "{\"kid\":\"%s\",\"alg\":\"%s\"}", k->kid,
             JWT_ALG);
    payload = cJSON_PrintUnformatted(claims);
    if (payload == NULL) {
        err_set(err, MOCK_EINVAL, "claims cannot be encoded");
        return NULL;
    }
    h64 = jwt_b64url_encode((const unsigned char *)header, strlen(header));
    p64 = jwt_b64url_encode((const unsigned char *)payload, strlen(payload));
    cJSON_free(payload);
    input = xasprintf("%s.%s", h64, p64);
    free(h64);
    free(p64);
    sig = xmalloc(sig_len);
    if (rs512(k, 1, input, strlen(input), sig, &sig_len) != 0) {
        free(sig);
        free(input);
        err_set(err, MOCK_ECRYPTO, "RS512 signing failed");
        return NULL;
    }
    s64 = jwt_b64url_encode(sig, sig_len);
    token = xasprintf("%s.%s", input, s64);
    free(sig);
    free(s64);
    free(input);
    return token;
}

/* ---- verifying -------------------------------------------------------- */

/* Parses a decoded JSON object without duplicate keys, or NULL. */
static cJSON *
parse_object(const unsigned char *buf, size_t len)
{
    cJSON *obj;

    if (strlen((const char *)buf) != len)
        return NULL; /* an embedded NUL */
    obj = cJSON_ParseWithLengthOpts((const char *)buf, len + 1, NULL, 1);
    if (obj == NULL)
        return NULL;
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return NULL;
    }
    for (const cJSON *a = obj->child; a; a = a->next) {
        for (const cJSON *b = a->next; b; b = b->next) {
            if (strcmp(a->string, b->string) == 0) {
                cJSON_Delete(obj);
                return NULL;
            }
        }
    }
    return obj;
}

/* 0 when the header is exactly ours: alg RS512, our kid, typ JWT if any. */
static int
check_header(const struct jwt_key *k, const char *h64, size_t n,
             struct mock_err *err)
{
    unsigned char *buf;
    size_t len;
    cJSON *h;
    const cJSON *alg, *kid;
    int rc = 0;

    if (jwt_b64url_decode(h64, n, &buf, &len) != 0)
        return err_set(err, MOCK_EINVAL, "token header is not base64url");
    h = parse_object(buf, len);
    free(buf);
    if (h == NULL)
        return err_set(err, MOCK_EINVAL, "token header is not a JSON object");
    alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    kid = cJSON_GetObjectItemCaseSensitive(h, "kid");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, JWT_ALG) != 0) {
        rc = err_set(err, MOCK_EINVAL, "token alg must be %s", JWT_ALG);
    } else if (!cJSON_IsString(kid) || strcmp(kid->valuestring, k->kid) != 0) {
        rc = err_set(err, MOCK_EINVAL, "token kid is not a key of this mock");
    } else {
        for (const cJSON *m = h->child; m && rc == 0; m = m->next) {
            int known = strcmp(m->string, "alg") == 0 ||
                        strcmp(m->string, "kid") == 0 ||
                        (strcmp(m->string, "typ") == 0 && cJSON_IsString(m) &&
                         strcmp(m->valuestring, "JWT") == 0);

            if (!known)
                rc = err_set(err, MOCK_EINVAL,
                             "token header has an unsupported member");
        }
    }
    cJSON_Delete(h);
    return rc;
}

int
jwt_verify(const struct jwt_key *k, const char *token, cJSON **claims,
           struct mock_err *err)
{
    const char *dot1, *dot2, *s64;
    unsigned char *sig, *payload;
    size_t total, sig_len, len;
    int rc;

    *claims = NULL;
    total = strnlen(token, JWT_MAX_TOKEN + 1);
    if (total > JWT_MAX_TOKEN)
        return err_set(err, MOCK_EINVAL, "token is too long");
    dot1 = strchr(token, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL ||
        dot1 == token || dot2 == dot1 + 1 || dot2[1] == '\0')
        return err_set(err, MOCK_EINVAL, "token is not three base64url parts");
    rc = check_header(k, token, (size_t)(dot1 - token), err);
    if (rc != 0)
        return rc;
    s64 = dot2 + 1;
    if (jwt_b64url_decode(s64, strlen(s64), &sig, &sig_len) != 0)
        return err_set(err, MOCK_EINVAL, "token signature is not base64url");
    rc = sig_len == k->sig_len
             ? rs512(k, 0, token, (size_t)(dot2 - token), sig, &sig_len)
             : -1;
    free(sig);
    if (rc != 0)
        return err_set(err, MOCK_EINVAL, "token signature does not verify");
    if (jwt_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload,
                          &len) != 0)
        return err_set(err, MOCK_EINVAL, "token payload is not base64url");
    *claims = parse_object(payload, len);
    free(payload);
    if (*claims == NULL)
        return err_set(err, MOCK_EINVAL, "token payload is not a JSON object");
    return 0;
}

int
jwt_expired(int64_t exp, int64_t now)
{
    return now >= exp;
}
