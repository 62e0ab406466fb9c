/*
 * fuzz_jwt: the JWT parser and verifier.
 *
 * The first byte picks what the rest is: a token for jwt_verify (most
 * inputs), base64url for jwt_b64url_decode, or a JSON payload that is
 * signed and must then verify to the same claims (a round trip through
 * the parser that random bytes cannot reach; claims with a repeated key
 * are skipped, as cJSON_Compare cannot compare them). One RSA key is
 * made once.
 */
#include "http.h"
#include "jwt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jwt_key key;

static void
verify(const char *text)
{
    struct mock_err err = {0};
    cJSON *claims = NULL;

    if (jwt_verify(&key, text, &claims, &err) == 0 && !cJSON_IsObject(claims))
        abort();
    cJSON_Delete(claims);
}

static void
decode(const char *text, size_t n)
{
    unsigned char *out = NULL;
    size_t len = 0;
    char *again;

    if (jwt_b64url_decode(text, n, &out, &len) != 0)
        return;
    again = jwt_b64url_encode(out, len);
    if (strlen(again) != n || memcmp(again, text, n) != 0)
        abort(); /* decoding accepted a non-canonical encoding */
    free(again);
    free(out);
}

/* 1 when the tree holds a number JSON cannot write back (inf, nan). */
static int
has_nonfinite(const cJSON *node)
{
    if (cJSON_IsNumber(node) && !isfinite(node->valuedouble))
        return 1;
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (has_nonfinite(c))
            return 1;
    }
    return 0;
}

static void
round_trip(const char *text)
{
    struct mock_err err = {0};
    size_t at;
    cJSON *claims = http_json_parse(text, strlen(text), &at), *back = NULL;
    char *token;
    int rc;

    if (claims == NULL)
        return;
    if (has_nonfinite(claims)) {
        /* 1E700 parses as infinity, which cJSON prints as null. */
        cJSON_Delete(claims);
        return;
    }
    token = jwt_sign(&key, claims, &err);
    if (token == NULL)
        abort();
    rc = jwt_verify(&key, token, &back, &err);
    if (rc != 0 && strlen(token) <= JWT_MAX_TOKEN)
        abort(); /* a token we signed must verify */
    if (rc == 0 && !cJSON_Compare(claims, back, 1))
        abort();
    cJSON_Delete(back);
    cJSON_Delete(claims);
    secret_free(token);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size == 0)
        return 0;
    if (key.pkey == NULL) {
        struct mock_err err = {0};

        if (jwt_key_init(&key, jwt_make_key(), &err) != 0)
            abort();
    }
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] == 'b')
        decode(text, size - 1);
    else if (data[0] == 's')
        round_trip(text);
    else
        verify(text);
    free(text);
    return 0;
}
