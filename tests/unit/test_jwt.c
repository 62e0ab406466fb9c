/*
 * Tests of RS512 signing and strict verification: every algorithm but
 * RS512 (none, HS512, RS256), tampered parts, other keys, malformed
 * shapes, base64url strictness, the JWKS and the expiry boundary.
 */
#include "jwt.h"
#include "unit.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

static struct jwt_key key, other;

static int
setup(void)
{
    struct mock_err err = {0};

    if (jwt_key_init(&key, jwt_make_key(), &err) != 0)
        return -1;
    return jwt_key_init(&other, jwt_make_key(), &err);
}

static int
teardown(void)
{
    jwt_key_free(&key);
    jwt_key_free(&other);
    return 0;
}

static cJSON *
sample_claims(void)
{
    cJSON *c = cJSON_CreateObject();

    cJSON_AddStringToObject(c, "sub", "b0a1c2d3e4f5061728394a5b6c7d8e9f");
    cJSON_AddNumberToObject(c, "exp", 2000000000);
    return c;
}

static char *
b64(const char *s)
{
    return jwt_b64url_encode((const unsigned char *)s, strlen(s));
}

/* header.payload signed with md (NULL: HMAC-SHA512 keyed by hmac_key). */
static char *
forge(const char *header, const char *payload, EVP_PKEY *pkey, const EVP_MD *md,
      const char *hmac_key)
{
    char *h = b64(header), *p = b64(payload);
    char *input = xasprintf("%s.%s", h, p), *s64, *out;
    unsigned char sig[512];
    size_t sig_len = sizeof(sig);

    if (hmac_key != NULL) {
        unsigned int n = 0;

        HMAC(EVP_sha512(), hmac_key, (int)strlen(hmac_key),
             (const unsigned char *)input, strlen(input), sig, &n);
        sig_len = n;
    } else if (pkey != NULL) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        EVP_DigestSignInit(ctx, NULL, md, NULL, pkey);
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input,
                       strlen(input));
        EVP_MD_CTX_free(ctx);
    } else {
        sig_len = 0;
    }
    s64 = jwt_b64url_encode(sig, sig_len);
    out = xasprintf("%s.%s", input, s64);
    free(h);
    free(p);
    free(input);
    free(s64);
    return out;
}

static int
verify_rc(const char *token)
{
    cJSON *claims = NULL;
    struct mock_err err = {0};
    int rc = jwt_verify(&key, token, &claims, &err);

    cJSON_Delete(claims);
    return rc;
}

static char *
our_header(const char *alg)
{
    return xasprintf("{\"kid\":\"%s\",\"alg\":\"%s\"}", key.kid, alg);
}

static void
test_signed_token_verifies_and_returns_its_claims(void)
{
    cJSON *c = sample_claims(), *back = NULL;
    struct mock_err err = {0};
    char *t = jwt_sign(&key, c, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(jwt_verify(&key, t, &back, &err), 0);
    CU_ASSERT_TRUE(cJSON_Compare(c, back, 1));
    cJSON_Delete(c);
    cJSON_Delete(back);
    secret_free(t);
}

static void
test_header_is_kid_and_rs512(void)
{
    cJSON *c = sample_claims(), *h;
    struct mock_err err = {0};
    char *t = jwt_sign(&key, c, &err);
    unsigned char *raw;
    size_t len;

    CU_ASSERT_EQUAL_FATAL(
        jwt_b64url_decode(t, (size_t)(strchr(t, '.') - t), &raw, &len), 0);
    h = cJSON_Parse((char *)raw);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(h, "alg")->valuestring, "RS512");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(h, "kid")->valuestring, key.kid);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(h), 2);
    cJSON_Delete(h);
    cJSON_Delete(c);
    free(raw);
    secret_free(t);
}

static void
test_alg_none_is_refused(void)
{
    char *h = our_header("none");
    char *empty = forge(h, "{\"sub\":\"x\"}", NULL, NULL, NULL);
    char *signed_none =
        forge(h, "{\"sub\":\"x\"}", key.pkey, EVP_sha512(), NULL);

    CU_ASSERT_EQUAL(verify_rc(empty), MOCK_EINVAL); /* "h.p." */
    /* Even a valid RS512 signature does not rescue alg none. */
    CU_ASSERT_EQUAL(verify_rc(signed_none), MOCK_EINVAL);
    free(h);
    free(empty);
    free(signed_none);
}

static void
test_hs512_keyed_with_the_public_key_is_refused(void)
{
    char *h = our_header("HS512");
    char *t = forge(h, "{\"sub\":\"x\"}", NULL, NULL, key.kid);
    cJSON *jwks = jwt_jwks(&key);
    char *pub = cJSON_PrintUnformatted(jwks);
    char *t2 = forge(h, "{\"sub\":\"x\"}", NULL, NULL, pub);

    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
    CU_ASSERT_EQUAL(verify_rc(t2), MOCK_EINVAL);
    cJSON_Delete(jwks);
    cJSON_free(pub);
    free(h);
    free(t);
    free(t2);
}

static void
test_rs256_with_the_right_key_is_refused(void)
{
    char *h = our_header("RS256");
    char *t = forge(h, "{\"sub\":\"x\"}", key.pkey, EVP_sha256(), NULL);
    char *h512 = our_header("RS512");
    char *t2 = forge(h512, "{\"sub\":\"x\"}", key.pkey, EVP_sha256(), NULL);
    char *good = forge(h512, "{\"sub\":\"x\"}", key.pkey, EVP_sha512(), NULL);

    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
    CU_ASSERT_EQUAL(verify_rc(t2), MOCK_EINVAL); /* SHA-256 under RS512 */
    CU_ASSERT_EQUAL(verify_rc(good), 0);         /* the forger is sound */
    free(h);
    free(t);
    free(h512);
    free(t2);
    free(good);
}

static void
test_tampered_payload_is_refused(void)
{
    cJSON *c = sample_claims();
    struct mock_err err = {0};
    char *t = jwt_sign(&key, c, &err);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    char *p = b64("{\"sub\":\"b0a1c2d3e4f5061728394a5b6c7d8e9f\","
                  "\"exp\":2100000000}");
    char *forged = xasprintf("%.*s.%s%s", (int)(dot1 - t), t, p, dot2);

    CU_ASSERT_EQUAL(verify_rc(forged), MOCK_EINVAL);
    /* One flipped character anywhere in the payload. */
    dot1[3] = dot1[3] == 'A' ? 'B' : 'A';
    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
    cJSON_Delete(c);
    free(p);
    free(forged);
    secret_free(t);
}

static void
test_token_of_another_key_is_refused(void)
{
    cJSON *c = sample_claims();
    struct mock_err err = {0};
    char *t = jwt_sign(&other, c, &err);
    char *h = our_header("RS512");
    char *t2 = forge(h, "{\"sub\":\"x\"}", other.pkey, EVP_sha512(), NULL);

    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);  /* its own kid */
    CU_ASSERT_EQUAL(verify_rc(t2), MOCK_EINVAL); /* our kid, its signature */
    cJSON_Delete(c);
    secret_free(t);
    free(h);
    free(t2);
}

static void
test_header_with_unknown_kid_or_member_is_refused(void)
{
    const char *headers[] = {
        "{\"alg\":\"RS512\"}",
        "{\"alg\":\"RS512\",\"kid\":\"someone-else\"}",
        NULL,
    };
    char *extra = xasprintf("{\"kid\":\"%s\",\"alg\":\"RS512\",\"jku\":"
                            "\"https://evil.example/keys\"}",
                            key.kid);
    char *dup = xasprintf("{\"kid\":\"%s\",\"alg\":\"RS512\",\"alg\":"
                          "\"none\"}",
                          key.kid);
    char *typ = xasprintf("{\"kid\":\"%s\",\"alg\":\"RS512\",\"typ\":"
                          "\"JWT\"}",
                          key.kid);
    char *t;

    for (int i = 0; headers[i]; i++) {
        t = forge(headers[i], "{}", key.pkey, EVP_sha512(), NULL);
        CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
        free(t);
    }
    t = forge(extra, "{}", key.pkey, EVP_sha512(), NULL);
    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
    free(t);
    t = forge(dup, "{}", key.pkey, EVP_sha512(), NULL);
    CU_ASSERT_EQUAL(verify_rc(t), MOCK_EINVAL);
    free(t);
    t = forge(typ, "{}", key.pkey, EVP_sha512(), NULL);
    CU_ASSERT_EQUAL(verify_rc(t), 0);
    free(t);
    free(extra);
    free(dup);
    free(typ);
}

static void
test_malformed_shapes_are_refused(void)
{
    char *h = our_header("RS512");
    char *good = forge(h, "{}", key.pkey, EVP_sha512(), NULL);
    char *notobj = forge(h, "[1,2]", key.pkey, EVP_sha512(), NULL);
    char *four = xasprintf("%s.x", good);
    char *longtok = xmalloc(JWT_MAX_TOKEN + 2);
    const char *bad[] = {"",     ".",    "..",      "a.b",          "a..c",
                         ".b.c", "a.b.", "a b.c.d", "e30.e30.e30=", NULL};

    CU_ASSERT_EQUAL(verify_rc(good), 0);
    CU_ASSERT_EQUAL(verify_rc(notobj), MOCK_EINVAL);
    CU_ASSERT_EQUAL(verify_rc(four), MOCK_EINVAL);
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(verify_rc(bad[i]), MOCK_EINVAL);
    memset(longtok, 'a', JWT_MAX_TOKEN + 1);
    longtok[JWT_MAX_TOKEN + 1] = '\0';
    CU_ASSERT_EQUAL(verify_rc(longtok), MOCK_EINVAL);
    free(h);
    free(good);
    free(notobj);
    free(four);
    free(longtok);
}

static void
test_b64url_round_trips_every_length(void)
{
    unsigned char in[64];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 37 + 251);
    for (size_t n = 0; n <= sizeof(in); n++) {
        char *e = jwt_b64url_encode(in, n);
        unsigned char *d;
        size_t len;

        CU_ASSERT_PTR_NULL(strpbrk(e, "+/="));
        CU_ASSERT_EQUAL_FATAL(jwt_b64url_decode(e, strlen(e), &d, &len), 0);
        CU_ASSERT_EQUAL(len, n);
        CU_ASSERT_EQUAL(memcmp(d, in, n), 0);
        free(e);
        free(d);
    }
}

static void
test_b64url_refuses_padding_std_alphabet_and_loose_bits(void)
{
    const char *bad[] = {"QQ==", "a+b/",  "QR",  "QUF",
                         "A",    "QUJD=", "Q Q", NULL};
    unsigned char *d;
    size_t len;

    CU_ASSERT_EQUAL(jwt_b64url_decode("QQ", 2, &d, &len), 0);
    CU_ASSERT_EQUAL(len, 1);
    free(d);
    for (int i = 0; bad[i]; i++) {
        CU_ASSERT_EQUAL(jwt_b64url_decode(bad[i], strlen(bad[i]), &d, &len),
                        MOCK_EINVAL);
        CU_ASSERT_PTR_NULL(d);
    }
}

static void
test_jwks_publishes_the_rsa_public_key(void)
{
    cJSON *doc = jwt_jwks(&key);
    cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "keys"), 0);
    const char *n = cJSON_GetObjectItem(k, "n")->valuestring;
    unsigned char *raw;
    size_t len;

    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "keys")), 1);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(k, "kty")->valuestring, "RSA");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(k, "kid")->valuestring, key.kid);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(k, "use")->valuestring, "sig");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(k, "alg")->valuestring, "RS512");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(k, "e")->valuestring, "AQAB");
    CU_ASSERT_EQUAL(jwt_b64url_decode(n, strlen(n), &raw, &len), 0);
    CU_ASSERT_EQUAL(len, 256);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(k, "d")); /* never private */
    CU_ASSERT_EQUAL(strlen(key.kid), 43);
    free(raw);
    cJSON_Delete(doc);
}

static void
test_key_init_refuses_ec_and_short_rsa_keys(void)
{
    struct jwt_key k;
    struct mock_err err = {0};
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    EVP_PKEY *rsa1024 = EVP_RSA_gen(1024);

    CU_ASSERT_EQUAL(jwt_key_init(&k, ec, &err), MOCK_EINVAL);
    CU_ASSERT_EQUAL(jwt_key_init(&k, rsa1024, &err), MOCK_EINVAL);
    CU_ASSERT_EQUAL(jwt_key_init(&k, NULL, &err), MOCK_EINVAL);
}

static void
test_token_is_expired_from_exp_on(void)
{
    CU_ASSERT_FALSE(jwt_expired(1000, 998));
    CU_ASSERT_FALSE(jwt_expired(1000, 999));
    CU_ASSERT_TRUE(jwt_expired(1000, 1000));
    CU_ASSERT_TRUE(jwt_expired(1000, 1001));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_signed_token_verifies_and_returns_its_claims),
        UNIT_CASE(test_header_is_kid_and_rs512),
        UNIT_CASE(test_alg_none_is_refused),
        UNIT_CASE(test_hs512_keyed_with_the_public_key_is_refused),
        UNIT_CASE(test_rs256_with_the_right_key_is_refused),
        UNIT_CASE(test_tampered_payload_is_refused),
        UNIT_CASE(test_token_of_another_key_is_refused),
        UNIT_CASE(test_header_with_unknown_kid_or_member_is_refused),
        UNIT_CASE(test_malformed_shapes_are_refused),
        UNIT_CASE(test_b64url_round_trips_every_length),
        UNIT_CASE(test_b64url_refuses_padding_std_alphabet_and_loose_bits),
        UNIT_CASE(test_jwks_publishes_the_rsa_public_key),
        UNIT_CASE(test_key_init_refuses_ec_and_short_rsa_keys),
        UNIT_CASE(test_token_is_expired_from_exp_on),
        {NULL, NULL},
    };
    CU_pSuite s = CU_add_suite("jwt", setup, teardown);

    if (s == NULL)
        return -1;
    for (const struct unit_case *c = cases; c->name; c++) {
        if (CU_add_test(s, c->name, c->fn) == NULL)
            return -1;
    }
    return 0;
}
