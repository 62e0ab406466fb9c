/*
 * oauth: reads the token request into a struct that is wiped afterwards,
 * checks the application under the store's read lock (secret, address,
 * scopes), then mints the token with the token module.
 */
#include "oauth.h"

#include "cidr.h"
#include "clock.h"
#include "identity.h"
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
form_param(const char *body, size_t len, const char *name, char *dst,
           size_t cap)
{
    char extra[2];
    int n = mg_get_var2(body, len, name, dst, cap, 0);

    if (n == -1)
        return 1;
    if (n < 0 || strlen(dst) != (size_t)n)
        return -1; /* too long, or a NUL inside */
    if (mg_get_var2(body, len, name, extra, sizeof(extra), 1) != -1)
        return -1; /* given twice (RFC 6749 3.2) */
    return 0;
}

int
oauth_params_parse(int json_body, const char *body, size_t len,
                   struct oauth_params *tr, char *why, size_t cap)
{
    static const char *const names[] = {"grant_type", "client_id",
                                        "client_secret", "scope"};
    char *dst[] = {tr->grant_type, tr->client_id, tr->client_secret, tr->scope};
    size_t caps[] = {sizeof(tr->grant_type), sizeof(tr->client_id),
                     sizeof(tr->client_secret), sizeof(tr->scope)};
    cJSON *json = NULL;
    size_t at;

    if (json_body) {
        /* A NUL or \u0000 would cut a secret short: refused there. */
        json = http_json_parse(body, len, &at);
        if (json == NULL) {
            snprintf(why, cap,
                     "the body is not a JSON object with each key "
                     "once");
            return MOCK_EINVAL;
        }
    }
    for (size_t i = 0; i < 4; i++) {
        int rc = json ? json_param(json, names[i], dst[i], caps[i])
                      : form_param(body, len, names[i], dst[i], caps[i]);

        if (rc < 0) {
            cJSON_Delete(json);
            snprintf(why, cap, "%s must be given once, as a string", names[i]);
            return MOCK_EINVAL;
        }
        if (i == 3)
            tr->has_scope = rc == 0;
    }
    cJSON_Delete(json);
    return 0;
}

/* Reads the body's parameters into tr; replies itself on failure. */
static int
read_params(struct http_request *req, struct oauth_params *tr)
{
    const char *type = http_header(req, "Content-Type");
    int json_body = type_is(type, "application/json");
    char why[96];

    if (!json_body && !type_is(type, "application/x-www-form-urlencoded"))
        return oauth_error(req, 400, "invalid_request",
                           "Content-Type must be application/json or "
                           "application/x-www-form-urlencoded");
    if (http_read_body(req) != 0)
        return req->status;
    if (oauth_params_parse(json_body, req->body, req->body_len, tr, why,
                           sizeof(why)) != 0)
        return oauth_error(req, 400, "invalid_request", why);
    if (json_body)
        OPENSSL_cleanse(req->body, req->body_len);
    return 0;
}

/* Takes HTTP Basic credentials, if any, into tr; replies on failure. */
static int
read_basic(struct http_request *req, struct oauth_params *tr)
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
grant_scopes(struct http_request *req, const struct oauth_params *tr,
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
issue(struct http_request *req, struct oauth_params *tr)
{
    struct client_check cc = {.secret = tr->client_secret};
    struct mock_err err = {0};
    char addr[RATELIMIT_ADDR_MAX];
    uint64_t scopes[2];
    int64_t now, ttl;
    char *token, *scope_text, btype[32];
    cJSON *props, *body;

    /* A key still being made at start-up is waited for before "now". */
    token_ready();
    now = clock_now();
    identity_client_addr(req, addr, sizeof(addr));
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
        identity_bank_type(cc.owner, btype, sizeof(btype));
        cJSON_AddStringToObject(props, "type", btype);
    }
    ttl = token_lifetime(cc.type);
    token = identity_mint(cc.type, cc.owner, scopes, props, now, &err);
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
    identity_note_issued(req, token, tr->client_id);
    secret_free(token);
    free(scope_text);
    log_token("token_issued", tr->client_id, token_type_name(cc.type), cc.owner,
              NULL);
    http_header_add(req, "Pragma", "no-cache");
    http_reply_json(req, 200, body);
}

void
oauth_token(struct http_request *req)
{
    struct oauth_params *tr = xcalloc(1, sizeof(*tr));

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
