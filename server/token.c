/*
 * token: the signing key, the lifetimes and the claims of access tokens.
 *
 * Reading a token first hashes it (SHA-256) and asks authcache; only on
 * a miss are the RS512 signature and the claims checked and the
 * principal cached; its exp is compared with the virtual clock on every
 * read, cached or not. A token minted here is cached as it is made, so
 * its first use needs no verification either. An RSA-2048 verification
 * costs tens of microseconds; a cache hit costs a hash of the token and
 * a copy under one of sixteen shard locks, so tens of thousands of
 * authenticated requests a second stay cheap. Lifetimes are atomics
 * because a scenario can be swapped while workers mint tokens.
 */
#include "token.h"

#include "authcache.h"
#include "cidr.h"
#include "jwt.h"
#include "log.h"
#include "scopes.h"
#include "tls.h"

#include <openssl/rsa.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const audiences[] = {
    "https://bank.sandbox.cybrid.app",
    "https://organization.sandbox.cybrid.app",
    TOKEN_ISSUER,
};

static struct jwt_key key;
static char *jwks_text;
static _Atomic int64_t ttl_org = TOKEN_DEFAULT_TTL;
static _Atomic int64_t ttl_bank = TOKEN_DEFAULT_TTL;
static _Atomic int64_t ttl_customer = TOKEN_DEFAULT_TTL;

/* ---- set-up ----------------------------------------------------------- */

/*
 * A signing key already on disk is read before the server starts (a
 * millisecond). A missing one is made on a thread of its own, because an
 * RSA-2048 key takes from a tenth of a second to seconds to find, and the
 * listener should not wait for it: whatever needs the key (minting,
 * verifying, the JWKS) waits on key_ready instead.
 */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t key_cond = PTHREAD_COND_INITIALIZER;
static atomic_int key_state; /* KEY_NONE, KEY_MAKING, KEY_READY, KEY_FAILED */
static pthread_t key_thread;
static int key_thread_started;
static char *key_path;
static struct mock_err key_err;

enum { KEY_NONE, KEY_MAKING, KEY_READY, KEY_FAILED };

/* Installs pkey as the signing key; 0 or a negative code. */
static int
install_key(EVP_PKEY *pkey, struct mock_err *err)
{
    cJSON *jwks;
    int rc;

    if (pkey == NULL)
        return err->code ? err->code : MOCK_ECRYPTO;
    jwt_key_free(&key);
    rc = jwt_key_init(&key, pkey, err);
    if (rc != 0)
        return rc;
    jwks = jwt_jwks(&key);
    cJSON_free(jwks_text);
    jwks_text = cJSON_PrintUnformatted(jwks);
    cJSON_Delete(jwks);
    return 0;
}

static void
finish_key(int rc)
{
    pthread_mutex_lock(&key_lock);
    atomic_store(&key_state, rc == 0 ? KEY_READY : KEY_FAILED);
    pthread_cond_broadcast(&key_cond);
    pthread_mutex_unlock(&key_lock);
}

static atomic_int key_abandon; /* set at shutdown: stop making the key */

/* OpenSSL's progress callback: returning 0 abandons the generation. */
static int
keygen_progress(EVP_PKEY_CTX *ctx)
{
    (void)ctx;
    return !atomic_load(&key_abandon);
}

/* An RSA-2048 key, like jwt_make_key, but one a shutdown can cut short. */
static EVP_PKEY *
make_key_abandonable(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1) {
        EVP_PKEY_CTX_set_cb(ctx, keygen_progress);
        if (EVP_PKEY_keygen(ctx, &pkey) != 1)
            pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static void *
make_key_thread(void *arg)
{
    EVP_PKEY *pkey =
        tls_load_or_make_key(key_path, "RSA", make_key_abandonable, &key_err);
    int rc = install_key(pkey, &key_err);

    (void)arg;
    if (rc != 0 && !atomic_load(&key_abandon))
        log_msg(LOG_ERROR, "token", "no signing key: %s", key_err.msg);
    finish_key(rc);
    return NULL;
}

int
token_ready(void)
{
    int state = atomic_load(&key_state);

    if (state == KEY_MAKING) {
        pthread_mutex_lock(&key_lock);
        while ((state = atomic_load(&key_state)) == KEY_MAKING)
            pthread_cond_wait(&key_cond, &key_lock);
        pthread_mutex_unlock(&key_lock);
    }
    return state == KEY_READY;
}

/* Starts the key thread with every signal blocked: signals are main's. */
static int
start_key_thread(void)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&key_thread, NULL, make_key_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0;
}

int
token_init(const char *dir, struct mock_err *err)
{
    int rc;

    if (tls_make_dir(dir, err) != 0)
        return err->code;
    authcache_init();
    authcache_clear();
    free(key_path);
    key_path = xasprintf("%s/signing-key.pem", dir);
    if (access(key_path, F_OK) == 0) {
        rc = install_key(
            tls_load_or_make_key(key_path, "RSA", jwt_make_key, err), err);
        finish_key(rc);
        return rc;
    }
    atomic_store(&key_state, KEY_MAKING);
    atomic_store(&key_abandon, 0);
    key_thread_started = start_key_thread();
    if (!key_thread_started) {
        atomic_store(&key_state, KEY_NONE);
        rc = install_key(
            tls_load_or_make_key(key_path, "RSA", jwt_make_key, err), err);
        finish_key(rc);
        return rc;
    }
    return 0;
}

void
token_shutdown(void)
{
    if (key_thread_started) {
        atomic_store(&key_abandon, 1);
        pthread_join(key_thread, NULL);
        key_thread_started = 0;
    }
    jwt_key_free(&key);
    cJSON_free(jwks_text);
    jwks_text = NULL;
    free(key_path);
    key_path = NULL;
    atomic_store(&key_state, KEY_NONE);
    authcache_shutdown();
}

const char *
token_jwks(void)
{
    return token_ready() && jwks_text ? jwks_text : "{\"keys\":[]}";
}

void
token_set_lifetimes(int64_t organization, int64_t bank, int64_t customer)
{
    atomic_store(&ttl_org, organization > 0 ? organization : TOKEN_DEFAULT_TTL);
    atomic_store(&ttl_bank, bank > 0 ? bank : TOKEN_DEFAULT_TTL);
    atomic_store(&ttl_customer, customer > 0 ? customer : TOKEN_DEFAULT_TTL);
}

/* ---- tokens ----------------------------------------------------------- */

const char *
token_type_name(enum token_type t)
{
    switch (t) {
    case TOKEN_ORGANIZATION:
        return "organization";
    case TOKEN_BANK:
        return "bank";
    case TOKEN_CUSTOMER:
        return "customer";
    default:
        return "none";
    }
}

int64_t
token_lifetime(enum token_type t)
{
    if (t == TOKEN_ORGANIZATION)
        return atomic_load(&ttl_org);
    if (t == TOKEN_BANK)
        return atomic_load(&ttl_bank);
    return atomic_load(&ttl_customer);
}

static int principal_from_claims(const cJSON *c, struct principal *p,
                                 struct mock_err *err);

/* Caches the principal a newly signed token stands for. */
static void
cache_minted(const char *token, const cJSON *claims)
{
    unsigned char ck[AUTHCACHE_KEY];
    struct mock_err err = {0};
    struct principal p;

    if (principal_from_claims(claims, &p, &err) != 0)
        return; /* read the slow way, which reports why */
    authcache_key(token, strlen(token), ck);
    authcache_put(ck, &p);
}

char *
token_mint(enum token_type t, const char *sub, const uint64_t scopes[2],
           cJSON *properties, int64_t now, struct mock_err *err)
{
    int64_t ttl = token_lifetime(t);
    cJSON *c, *aud;
    char jti[37];
    char *token;

    if (!token_ready() || key.pkey == NULL) {
        cJSON_Delete(properties);
        err_set(err, MOCK_ECRYPTO, "no signing key is loaded");
        return NULL;
    }
    c = cJSON_CreateObject();
    uuid_new(jti);
    cJSON_AddStringToObject(c, "iss", TOKEN_ISSUER);
    aud = cJSON_AddArrayToObject(c, "aud");
    for (size_t i = 0; i < sizeof(audiences) / sizeof(audiences[0]); i++)
        cJSON_AddItemToArray(aud, cJSON_CreateString(audiences[i]));
    cJSON_AddStringToObject(c, "sub", sub);
    cJSON_AddStringToObject(c, "sub_type", token_type_name(t));
    cJSON_AddItemToObject(c, "scope", scopes_json(scopes));
    cJSON_AddNumberToObject(c, "iat", (double)now);
    cJSON_AddNumberToObject(c, "exp", (double)(now + ttl));
    cJSON_AddStringToObject(c, "jti", jti);
    cJSON_AddStringToObject(c, "token_type", "access");
    cJSON_AddItemToObject(c, "properties", properties);
    token = jwt_sign(&key, c, err);
    if (token != NULL)
        cache_minted(token, c);
    cJSON_Delete(c);
    return token;
}

/* A whole number of seconds held by a claim, or -1. */
static int64_t
int_claim(const cJSON *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (d < 0 || d > 1e12 || d != (double)(int64_t)d)
        return -1;
    return (int64_t)d;
}

static const char *
str_claim(const cJSON *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
claims_scopes(const cJSON *c, uint64_t out[2])
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "scope");
    const cJSON *s;

    out[0] = out[1] = 0;
    if (!cJSON_IsArray(a))
        return -1;
    cJSON_ArrayForEach(s, a)
    {
        if (!cJSON_IsString(s))
            return -1;
        scopes_add(out, scopes_index(s->valuestring));
    }
    return 0;
}

/* Reads properties[name] (an array of allowlist entries) into list i. */
static int
claims_allowlist(const cJSON *props, const char *name, struct principal *p,
                 int i)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(props, name);
    const cJSON *e;

    if (a == NULL)
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > PRINCIPAL_MAX_ALLOW)
        return -1;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsString(e) ||
            cidr_parse(e->valuestring, &p->allow[i][p->n_allow[i]], NULL) != 0)
            return -1;
        p->n_allow[i]++;
    }
    return 0;
}

/* Turns verified claims into a principal; 0 or MOCK_EINVAL with err. */
static int
principal_from_claims(const cJSON *c, struct principal *p, struct mock_err *err)
{
    const char *iss = str_claim(c, "iss"), *sub = str_claim(c, "sub");
    const char *type = str_claim(c, "sub_type"), *jti = str_claim(c, "jti");
    const char *kind = str_claim(c, "token_type");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(c, "properties");

    memset(p, 0, sizeof(*p));
    if (iss == NULL || strcmp(iss, TOKEN_ISSUER) != 0 || kind == NULL ||
        strcmp(kind, "access") != 0)
        return err_set(err, MOCK_EINVAL,
                       "token is not an access token of "
                       "this issuer");
    if (sub == NULL || !guid_valid(sub) || type == NULL || jti == NULL ||
        strlen(jti) != 36 || claims_scopes(c, p->scopes) != 0)
        return err_set(err, MOCK_EINVAL, "token claims are malformed");
    p->issued_at = int_claim(c, "iat");
    p->expires_at = int_claim(c, "exp");
    if (p->issued_at < 0 || p->expires_at < 0)
        return err_set(err, MOCK_EINVAL, "token iat or exp is malformed");
    memcpy(p->subject, sub, 33);
    memcpy(p->jti, jti, 37);
    if (strcmp(type, "organization") == 0) {
        p->type = TOKEN_ORGANIZATION;
        memcpy(p->organization_guid, sub, 33);
    } else if (strcmp(type, "bank") == 0) {
        p->type = TOKEN_BANK;
        memcpy(p->bank_guid, sub, 33);
    } else if (strcmp(type, "customer") == 0) {
        const char *bank = str_claim(props, "bank_guid");

        if (bank == NULL || !guid_valid(bank))
            return err_set(err, MOCK_EINVAL, "token has no bank_guid");
        if (claims_allowlist(props, "ip_allowlist", p, 0) != 0 ||
            claims_allowlist(props, "inherited_ip_allowlist", p, 1) != 0)
            return err_set(err, MOCK_EINVAL, "token ip_allowlist is malformed");
        p->type = TOKEN_CUSTOMER;
        memcpy(p->customer_guid, sub, 33);
        memcpy(p->bank_guid, bank, 33);
    } else {
        return err_set(err, MOCK_EINVAL, "token sub_type is unknown");
    }
    return 0;
}

/* Verifies a token (not cached) into p; 0 or MOCK_EINVAL with err. */
static int
verify(const char *text, struct principal *p, struct mock_err *err)
{
    cJSON *claims;
    int rc;

    if (!token_ready() || key.pkey == NULL)
        return err_set(err, MOCK_EINVAL, "no signing key is loaded");
    rc = jwt_verify(&key, text, &claims, err);
    if (rc != 0)
        return rc;
    rc = principal_from_claims(claims, p, err);
    cJSON_Delete(claims);
    return rc;
}

int
token_read(const char *text, int64_t now, struct principal *out,
           struct mock_err *err)
{
    unsigned char ck[AUTHCACHE_KEY];
    size_t len = strnlen(text, JWT_MAX_TOKEN + 1);
    int rc;

    if (len > JWT_MAX_TOKEN)
        return err_set(err, MOCK_EINVAL, "token is too long");
    authcache_key(text, len, ck);
    if (!authcache_get(ck, out)) {
        rc = verify(text, out, err);
        if (rc != 0)
            return rc;
        authcache_put(ck, out);
    }
    if (jwt_expired(out->expires_at, now))
        return err_set(err, MOCK_ELIMIT, "the token has expired");
    return 0;
}
