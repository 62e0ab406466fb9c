/*
 * identity: POST /oauth/token, POST /api/customer_tokens, the JWKS, and
 * the request path's authenticate step.
 *
 * Token requests take client_credentials from a JSON or form body or
 * HTTP Basic; the secret is compared in constant time (SHA-256 of both
 * sides, then CRYPTO_memcmp) and never logged; parameters in the query
 * string are refused before anything is read. Errors there follow RFC
 * 6749 ({"error", "error_description"}); everything else answers in
 * Cybrid's error format.
 *
 * Authentication reads the Bearer token with token_read(), which checks
 * a token's RS512 signature and claims once and then serves it from a
 * bounded cache until it expires (see token.c and authcache.h); expiry
 * always reads the virtual clock. 401 answers carry WWW-Authenticate
 * (RFC 6750); a token of the wrong type or without the route's scope gets
 * 403.
 */
#include "identity.h"

#include "app.h"
#include "cidr.h"
#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "scopes.h"
#include "store.h"
#include "token.h"

#include <civetweb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- set-up ----------------------------------------------------------- */

int
identity_init(const char *dir, struct mock_err *err)
{
    return token_init(dir, err);
}

void
identity_shutdown(void)
{
    token_shutdown();
}

void
identity_load(const struct scenario *sc)
{
    token_set_lifetimes(sc->organization_token_ttl, sc->bank_token_ttl,
                        sc->customer_token_ttl);
}

/* The stored bank's type ("sandbox" when the bank is not stored). */
static void
bank_type(const char *bank_guid, char *out, size_t cap)
{
    cJSON *bank = store_get(STORE_BANKS, bank_guid);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(bank, "type");

    snprintf(out, cap, "%s", cJSON_IsString(t) ? t->valuestring : "sandbox");
    cJSON_Delete(bank);
}

/* ---- authentication --------------------------------------------------- */

static int
unauthorized(struct http_request *req, const char *why)
{
    /* RFC 6750 3.1: no error code when no credentials came at all. */
    http_header_add(req, "WWW-Authenticate",
                    http_header(req, "Authorization") == NULL
                        ? "Bearer realm=\"cybrid-mock\""
                        : "Bearer realm=\"cybrid-mock\", "
                          "error=\"invalid_token\"");
    http_reply_error(req, 401, "unauthorized", "%s", why);
    return 401;
}

int
identity_authenticate(struct http_request *req,
                      const struct route_policy *policy, struct principal *out)
{
    const char *auth = http_header(req, "Authorization");
    struct mock_err err = {0};
    struct principal p;
    const char *token;

    if (auth == NULL || *auth == '\0')
        return unauthorized(req, "an Authorization: Bearer token is required");
    if (strncasecmp(auth, "Bearer ", 7) != 0)
        return unauthorized(req, "Authorization must be a Bearer token");
    token = auth + 7;
    if (*token == '\0' || strpbrk(token, " \t") != NULL)
        return unauthorized(req, "the Bearer token is malformed");
    if (token_read(token, clock_now(), &p, &err) != 0)
        return unauthorized(req, err.msg);
    req->token_type = token_type_name(p.type);
    if ((policy->token_types & p.type) == 0) {
        http_reply_error(req, 403, "forbidden",
                         "a %s token cannot be used on this endpoint",
                         req->token_type);
        return 403;
    }
    if (policy->scope != NULL && !identity_has_scope(&p, policy->scope)) {
        http_reply_error(req, 403, "forbidden", "the token lacks the %s scope",
                         policy->scope);
        return 403;
    }
    *out = p;
    return 0;
}

const struct principal *
identity_principal(const struct http_request *req)
{
    return app_request_principal(req);
}

int
identity_has_scope(const struct principal *p, const char *scope)
{
    return p != NULL && scopes_has(p->scopes, scopes_index(scope));
}

/* ---- POST /oauth/token ------------------------------------------------ */

/* What a token request carries; wiped when done. */
struct token_req {
    char grant_type[64];
    char client_id[256];
    char client_secret[512];
    char scope[4096];
    int has_scope;
    int basic; /* the credentials came by HTTP Basic */
};

/* An RFC 6749 error answer; returns status. */
static int
oauth_error(struct http_request *req, int status, const char *code,
            const char *description)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddStringToObject(body, "error", code);
    cJSON_AddStringToObject(body, "error_description", description);
    req->error_code = code;
    http_header_add(req, "Pragma", "no-cache");
    http_reply_json(req, status, body);
    return status;
}

/* 1 when the Content-Type is want, with or without parameters. */
static int
type_is(const char *type, const char *want)
{
    size_t n = strlen(want);

    if (type == NULL || strncasecmp(type, want, n) != 0)
        return 0;
    return type[n] == '\0' || type[n] == ';' || type[n] == ' ';
}

/* Copies a JSON string member into dst; 0, 1 when absent, or -1. */
static int
json_param(const cJSON *body, const char *name, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);

    if (v == NULL || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return -1;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* Copies a form parameter into dst; 0, 1 when absent, or -1. */
static int
form_param(const struct http_request *req, const char *name, char *dst,
           size_t cap)
{
    char extra[2];
    int n = mg_get_var2(req->body, req->body_len, name, dst, cap, 0);

    if (n == -1)
        return 1;
    if (n < 0 || strlen(dst) != (size_t)n)
        return -1; /* too long, or a NUL inside */
    if (mg_get_var2(req->body, req->body_len, name, extra, sizeof(extra), 1) !=
        -1)
        return -1; /* given twice (RFC 6749 3.2) */
    return 0;
}

/* Reads the body's parameters into tr; replies itself on failure. */
static int
read_params(struct http_request *req, struct token_req *tr)
{
    static const char *const names[] = {"grant_type", "client_id",
                                        "client_secret", "scope"};
    char *dst[] = {tr->grant_type, tr->client_id, tr->client_secret, tr->scope};
    size_t caps[] = {sizeof(tr->grant_type), sizeof(tr->client_id),
                     sizeof(tr->client_secret), sizeof(tr->scope)};
    const char *type = http_header(req, "Content-Type");
    cJSON *json = NULL;
    int json_body = type_is(type, "application/json");

    if (!json_body && !type_is(type, "application/x-www-form-urlencoded"))
        return oauth_error(req, 400, "invalid_request",
                           "Content-Type must be application/json or "
                           "application/x-www-form-urlencoded");
    if (http_read_body(req) != 0)
        return req->status;
    if (json_body) {
        json = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, NULL, 1);
        if (!cJSON_IsObject(json)) {
            cJSON_Delete(json);
            return oauth_error(req, 400, "invalid_request",
                               "the body is not a JSON object");
        }
    }
    for (size_t i = 0; i < 4; i++) {
        int rc = json ? json_param(json, names[i], dst[i], caps[i])
                      : form_param(req, names[i], dst[i], caps[i]);

        if (rc < 0) {
            char why[96];

            cJSON_Delete(json);
            snprintf(why, sizeof(why), "%s must be given once, as a string",
                     names[i]);
            return oauth_error(req, 400, "invalid_request", why);
        }
        if (i == 3)
            tr->has_scope = rc == 0;
    }
    if (json != NULL) {
        OPENSSL_cleanse(req->body, req->body_len);
        cJSON_Delete(json);
    }
    return 0;
}

/* Takes HTTP Basic credentials, if any, into tr; replies on failure. */
static int
read_basic(struct http_request *req, struct token_req *tr)
{
    const char *auth = http_header(req, "Authorization");
    unsigned char buf[1024];
    size_t n, pad;
    char *colon;
    int len;

    if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
        return 0;
    tr->basic = 1;
    auth += 6;
    n = strlen(auth);
    pad = n >= 2 && auth[n - 1] == '=' ? (auth[n - 2] == '=' ? 2 : 1) : 0;
    if (n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof(buf) ||
        strspn(auth, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789+/") != n - pad)
        return oauth_error(req, 401, "invalid_client",
                           "the Basic credentials are malformed");
    len = EVP_DecodeBlock(buf, (const unsigned char *)auth, (int)n);
    if (len < (int)pad)
        return oauth_error(req, 401, "invalid_client",
                           "the Basic credentials are malformed");
    buf[len - (int)pad] = '\0';
    colon = strchr((char *)buf, ':');
    if (colon == NULL || strlen((char *)buf) != (size_t)len - pad) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return oauth_error(req, 401, "invalid_client",
                           "the Basic credentials are malformed");
    }
    *colon = '\0';
    if (tr->client_secret[0] != '\0' ||
        (tr->client_id[0] != '\0' && strcmp(tr->client_id, (char *)buf))) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return oauth_error(req, 400, "invalid_request",
                           "authenticate the client one way only: Basic "
                           "or the body");
    }
    /* RFC 6749 2.3.1: both halves are percent-encoded. */
    mg_url_decode((char *)buf, (int)strlen((char *)buf), tr->client_id,
                  sizeof(tr->client_id), 0);
    mg_url_decode(colon + 1, (int)strlen(colon + 1), tr->client_secret,
                  sizeof(tr->client_secret), 0);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

/* What the application check learns; filled under the store's lock. */
struct client_check {
    const char *secret;
    const char *addr;
    int secret_ok;
    int addr_ok;
    enum token_type type;
    char owner[33];
    uint64_t scopes[2]; /* what the application may grant */
};

static void
digest(const char *s, unsigned char out[32])
{
    EVP_Digest(s, strlen(s), out, NULL, EVP_sha256(), NULL);
}

static int
check_client(const struct fx_application *app, void *ctx)
{
    struct client_check *cc = ctx;
    unsigned char want[32], got[32];

    digest(app->client_secret, want);
    digest(cc->secret, got);
    cc->secret_ok = CRYPTO_memcmp(want, got, sizeof(want)) == 0;
    cc->addr_ok = cidr_list_allows(&app->ip_allowlist, cc->addr);
    cc->type = app->kind == APP_BANK ? TOKEN_BANK : TOKEN_ORGANIZATION;
    memcpy(cc->owner, app->owner_guid, 33);
    if (app->scopes.n == 0) {
        scopes_all(cc->type, cc->scopes);
        return 0;
    }
    cc->scopes[0] = cc->scopes[1] = 0;
    for (size_t i = 0; i < app->scopes.n; i++) {
        int s = scopes_index(app->scopes.v[i]);

        if ((scopes_types(s) & cc->type) != 0 && !scopes_dropped(s))
            scopes_add(cc->scopes, s);
    }
    return 0;
}

/*
 * The scopes to grant: all the application's when none are asked for,
 * else the ones asked for minus the dropped ones, each of which the
 * application must hold. Replies invalid_scope itself on failure.
 */
static int
grant_scopes(struct http_request *req, const struct token_req *tr,
             const uint64_t allowed[2], uint64_t out[2])
{
    char bad[64], why[160];
    int rc;

    if (!tr->has_scope) {
        out[0] = allowed[0];
        out[1] = allowed[1];
        return 0;
    }
    rc = scopes_parse(tr->scope, out, bad, sizeof(bad));
    if (rc == MOCK_EINVAL)
        return oauth_error(req, 400, "invalid_scope",
                           "scope must be scope names separated by single "
                           "spaces");
    if (rc == MOCK_ENOENT) {
        snprintf(why, sizeof(why), "unknown scope: %s", bad);
        return oauth_error(req, 400, "invalid_scope", why);
    }
    for (int i = 0; i < (int)scopes_count(); i++) {
        if (scopes_dropped(i) && scopes_has(out, i))
            out[i / 64] &= ~((uint64_t)1 << (i % 64));
    }
    for (int i = 0; i < (int)scopes_count(); i++) {
        if (scopes_has(out, i) && !scopes_has(allowed, i)) {
            snprintf(why, sizeof(why), "the application does not hold %s",
                     scopes_name(i));
            return oauth_error(req, 400, "invalid_scope", why);
        }
    }
    if (out[0] == 0 && out[1] == 0)
        return oauth_error(req, 400, "invalid_scope",
                           "no grantable scope was asked for");
    return 0;
}

static void
log_token(const char *event, const char *client_id, const char *type,
          const char *sub, const char *code)
{
    struct log_line l;

    if (!log_enabled(LOG_INFO))
        return;
    log_begin(&l, LOG_INFO, "identity", event);
    if (client_id != NULL)
        log_str(&l, "client_id", client_id);
    log_str(&l, "sub_type", type);
    if (sub != NULL)
        log_str(&l, "sub", sub);
    if (code != NULL)
        log_str(&l, "code", code);
    log_end(&l);
}

/* Checks the client and answers with a token; replies on every path. */
static void
issue(struct http_request *req, struct token_req *tr)
{
    struct client_check cc = {.secret = tr->client_secret};
    struct mock_err err = {0};
    char addr[RATELIMIT_ADDR_MAX];
    uint64_t scopes[2];
    int64_t now = clock_now(), ttl;
    char *token, *scope_text, btype[32];
    cJSON *props, *body;

    /* The same client address the rate limits see (trusted proxies). */
    ratelimit_client_addr(req->client_addr, http_header(req, "X-Forwarded-For"),
                          addr, sizeof(addr));
    cc.addr = addr;
    if (store_with_application(tr->client_id, check_client, &cc) != 0 ||
        !cc.secret_ok || !cc.addr_ok) {
        log_token("token_refused", tr->client_id, "none", NULL,
                  "invalid_client");
        if (tr->basic)
            http_header_add(req, "WWW-Authenticate",
                            "Basic realm=\"cybrid-mock\"");
        oauth_error(req, 401, "invalid_client",
                    cc.secret_ok && !cc.addr_ok
                        ? "the client address is not in the application's "
                          "ip_allowlist"
                        : "client authentication failed");
        return;
    }
    if (grant_scopes(req, tr, cc.scopes, scopes) != 0)
        return;
    props = cJSON_CreateObject();
    if (cc.type == TOKEN_BANK) {
        bank_type(cc.owner, btype, sizeof(btype));
        cJSON_AddStringToObject(props, "type", btype);
    }
    ttl = token_lifetime(cc.type);
    token = token_mint(cc.type, cc.owner, scopes, props, now, &err);
    if (token == NULL) {
        http_reply_error(req, 500, "error", "%s", err.msg);
        return;
    }
    scope_text = scopes_join(scopes);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "access_token", token);
    cJSON_AddStringToObject(body, "token_type", "Bearer");
    cJSON_AddNumberToObject(body, "expires_in", (double)ttl);
    cJSON_AddStringToObject(body, "scope", scope_text);
    cJSON_AddNumberToObject(body, "created_at", (double)now);
    secret_free(token);
    free(scope_text);
    log_token("token_issued", tr->client_id, token_type_name(cc.type), cc.owner,
              NULL);
    http_header_add(req, "Pragma", "no-cache");
    http_reply_json(req, 200, body);
}

static void
oauth_token(struct http_request *req)
{
    struct token_req *tr = xcalloc(1, sizeof(*tr));

    /* Never read, never logged: a secret there is already exposed. */
    if (req->query != NULL && req->query[0] != '\0')
        oauth_error(req, 400, "invalid_request",
                    "parameters in the query string are refused; send them "
                    "in the request body");
    else if (read_params(req, tr) == 0 && read_basic(req, tr) == 0) {
        if (tr->grant_type[0] == '\0')
            oauth_error(req, 400, "invalid_request", "grant_type is required");
        else if (strcmp(tr->grant_type, "client_credentials") != 0)
            oauth_error(req, 400, "unsupported_grant_type",
                        "only grant_type=client_credentials is supported");
        else if (tr->client_id[0] == '\0' || tr->client_secret[0] == '\0')
            oauth_error(req, 400, "invalid_request",
                        "client_id and client_secret are required");
        else
            issue(req, tr);
    }
    if (req->body != NULL)
        OPENSSL_cleanse(req->body, req->body_len);
    OPENSSL_cleanse(tr, sizeof(*tr));
    free(tr);
}

/* ---- POST /api/customer_tokens ---------------------------------------- */

/* Reads the scopes array into out; replies 400 or 422 on failure. */
static int
customer_scopes(struct http_request *req, const cJSON *arr, uint64_t out[2])
{
    const cJSON *s;

    out[0] = out[1] = 0;
    if (arr == NULL) {
        http_reply_error(req, 400, "invalid_parameter", "scopes is required");
        return 400;
    }
    if (!cJSON_IsArray(arr)) {
        http_reply_error(req, 400, "invalid_parameter",
                         "scopes must be an array of scope names");
        return 400;
    }
    if (cJSON_GetArraySize(arr) == 0) {
        http_reply_error(req, 422, "invalid_parameter",
                         "scopes must name at least one scope");
        return 422;
    }
    cJSON_ArrayForEach(s, arr)
    {
        int i;

        if (!cJSON_IsString(s)) {
            http_reply_error(req, 400, "invalid_parameter",
                             "scopes must be an array of strings");
            return 400;
        }
        i = scopes_index(s->valuestring);
        if ((scopes_types(i) & SCOPE_CUSTOMER) == 0 || scopes_dropped(i)) {
            http_reply_error(req, 422, "invalid_parameter",
                             "%.64s is not a customer scope", s->valuestring);
            return 422;
        }
        scopes_add(out, i);
    }
    return 0;
}

/* The customer's guid from the body; replies 400 on failure. */
static const char *
customer_guid(struct http_request *req, const cJSON *body)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "customer_guid");

    for (const cJSON *m = body->child; m; m = m->next) {
        if (strcmp(m->string, "customer_guid") != 0 &&
            strcmp(m->string, "scopes") != 0) {
            http_reply_error(req, 400, "invalid_parameter",
                             "unknown field: %.64s", m->string);
            return NULL;
        }
    }
    if (g == NULL) {
        http_reply_error(req, 400, "invalid_parameter",
                         "customer_guid is required");
        return NULL;
    }
    if (!cJSON_IsString(g) || !guid_valid(g->valuestring)) {
        http_reply_error(req, 400, "invalid_parameter",
                         "customer_guid must be 32 lowercase hex characters");
        return NULL;
    }
    return g->valuestring;
}

/* 1 when the stored customer guid belongs to bank_guid. */
static int
customer_in_bank(const char *guid, const char *bank_guid)
{
    cJSON *c = store_get(STORE_CUSTOMERS, guid);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "bank_guid");
    int ok = cJSON_IsString(b) && strcmp(b->valuestring, bank_guid) == 0;

    cJSON_Delete(c);
    return ok;
}

static void
customer_tokens(struct http_request *req)
{
    const struct principal *p = identity_principal(req);
    struct mock_err err = {0};
    uint64_t scopes[2];
    const char *guid;
    char btype[32], *token;
    cJSON *body, *props, *out;

    if (!identity_has_scope(p, "customers:read")) {
        http_reply_error(req, 403, "forbidden",
                         "the token lacks the customers:read scope");
        return;
    }
    body = http_json_body(req);
    if (body == NULL)
        return;
    guid = customer_guid(req, body);
    if (guid == NULL ||
        customer_scopes(req, cJSON_GetObjectItemCaseSensitive(body, "scopes"),
                        scopes) != 0) {
        cJSON_Delete(body);
        return;
    }
    if (!customer_in_bank(guid, p->bank_guid)) {
        http_reply_error(req, 422, "invalid_parameter",
                         "customer %s does not exist in this bank", guid);
        cJSON_Delete(body);
        return;
    }
    props = cJSON_CreateObject();
    bank_type(p->bank_guid, btype, sizeof(btype));
    cJSON_AddStringToObject(props, "bank_guid", p->bank_guid);
    cJSON_AddStringToObject(props, "bank_type", btype);
    token = token_mint(TOKEN_CUSTOMER, guid, scopes, props, clock_now(), &err);
    if (token == NULL) {
        cJSON_Delete(body);
        http_reply_error(req, 500, "error", "%s", err.msg);
        return;
    }
    log_token("customer_token_issued", NULL, "customer", guid, NULL);
    cJSON_Delete(body);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "access_token", token);
    secret_free(token);
    http_reply_json(req, 201, out);
}

/* ---- JWKS and routes -------------------------------------------------- */

static void
jwks(struct http_request *req)
{
    const char *text = token_jwks();

    http_reply(req, 200, "application/json; charset=utf-8", text, strlen(text));
}

static const struct route_policy token_policy = {0, NULL, LIMIT_OAUTH_TOKEN, 0};
static const struct route_policy customer_tokens_policy = {
    TOKEN_BANK, "customers:write", LIMIT_CUSTOMER_TOKENS, 0};
static const struct route_policy jwks_policy = {0, NULL, LIMIT_NONE, 0};

static const struct http_route routes[] = {
    {"POST", "/oauth/token", oauth_token, "identity.oauth_token",
     &token_policy},
    {"POST", "/api/customer_tokens", customer_tokens,
     "identity.customer_tokens", &customer_tokens_policy},
    {"GET", "/oauth/discovery/keys", jwks, "identity.jwks", &jwks_policy},
    {"GET", "/.well-known/jwks.json", jwks, "identity.jwks", &jwks_policy},
};

const struct http_route *
identity_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
