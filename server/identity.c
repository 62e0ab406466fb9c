/*
 * identity: the Identity API's routes (POST /oauth/token from the oauth
 * module, POST /api/customer_tokens, the JWKS) and the request path's
 * authenticate step. Errors here answer in Cybrid's error format.
 *
 * A customer token may be restricted to client addresses: the
 * ip_allowlist asked for, and (inherit_ip_allowlist, true by default)
 * the allowlists of the bank's applications. Both travel in the token's
 * properties, so they survive a restart, and are checked on every
 * request.
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
#include "check.h"
#include "cidr.h"
#include "clock.h"
#include "log.h"
#include "oauth.h"
#include "ratelimit.h"
#include "scopes.h"
#include "store.h"
#include "token.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- early expiry ------------------------------------------------------ */

/*
 * identity_expire_tokens sets a watermark: the virtual second it ran in.
 * A token with iat before it is expired. A token with iat equal to it is
 * expired unless it was minted after the watermark was set: those jtis
 * are remembered (at most SAME_SECOND_MAX, the rest of that second's
 * tokens then count as expired too; a token minted in the next second is
 * never affected).
 */
#define SAME_SECOND_MAX 1024

static pthread_mutex_t expiry_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t watermark = -1; /* -1: no early expiry */
static unsigned generation;
static char (*spared)[37];
static size_t n_spared;

static void
expiry_clear(void)
{
    pthread_mutex_lock(&expiry_lock);
    watermark = -1;
    generation++;
    n_spared = 0;
    pthread_mutex_unlock(&expiry_lock);
}

void
identity_expire_tokens(void)
{
    pthread_mutex_lock(&expiry_lock);
    watermark = clock_now();
    generation++;
    n_spared = 0;
    pthread_mutex_unlock(&expiry_lock);
    log_msg(LOG_INFO, "identity", "every token issued so far has expired");
}

/* 1 when an early expiry covers the principal's token. */
static int
expired_early(const struct principal *p)
{
    int out = 0;

    pthread_mutex_lock(&expiry_lock);
    if (watermark >= 0 && p->issued_at < watermark)
        out = 1;
    if (watermark >= 0 && p->issued_at == watermark) {
        out = 1;
        for (size_t i = 0; i < n_spared && out; i++)
            out = strcmp(spared[i], p->jti) != 0;
    }
    pthread_mutex_unlock(&expiry_lock);
    return out;
}

/*
 * After minting token in generation g (the expiry generation read before
 * minting): when it shares the watermark's second and no expiry came in
 * between, it is spared.
 */
static void
mint_end(unsigned g, const char *token)
{
    struct principal p;
    struct mock_err err = {0};
    int64_t wm;

    pthread_mutex_lock(&expiry_lock);
    wm = generation == g ? watermark : -1;
    pthread_mutex_unlock(&expiry_lock);
    if (wm < 0 || token_read(token, clock_now(), &p, &err) < 0 ||
        p.issued_at != wm)
        return;
    pthread_mutex_lock(&expiry_lock);
    if (generation == g && n_spared < SAME_SECOND_MAX) {
        if (spared == NULL)
            spared = xcalloc(SAME_SECOND_MAX, sizeof(*spared));
        memcpy(spared[n_spared++], p.jti, sizeof(p.jti));
    }
    pthread_mutex_unlock(&expiry_lock);
}

char *
identity_mint(enum token_type t, const char *sub, const uint64_t scopes[2],
              cJSON *properties, int64_t now, struct mock_err *err)
{
    unsigned g;
    char *token;

    pthread_mutex_lock(&expiry_lock);
    g = generation;
    pthread_mutex_unlock(&expiry_lock);
    token = token_mint(t, sub, scopes, properties, now, err);
    if (token != NULL)
        mint_end(g, token);
    return token;
}

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
    expiry_clear();
    free(spared);
    spared = NULL;
}

void
identity_load(const struct scenario *sc)
{
    token_set_lifetimes(sc->organization_token_ttl, sc->bank_token_ttl,
                        sc->customer_token_ttl);
    expiry_clear();
}

void
identity_bank_type(const char *bank_guid, char *out, size_t cap)
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

void
identity_client_addr(const struct http_request *req, char *out, size_t cap)
{
    ratelimit_client_addr(req->client_addr, http_header(req, "X-Forwarded-For"),
                          out, cap);
}

/* 1 when the client address passes every ip_allowlist of the token. */
static int
address_allowed(struct http_request *req, const struct principal *p)
{
    char addr[RATELIMIT_ADDR_MAX];

    if (p->n_allow[0] == 0 && p->n_allow[1] == 0)
        return 1;
    identity_client_addr(req, addr, sizeof(addr));
    for (int i = 0; i < 2; i++) {
        int ok = p->n_allow[i] == 0;

        for (unsigned j = 0; j < p->n_allow[i] && !ok; j++)
            ok = cidr_contains(&p->allow[i][j], addr);
        if (!ok)
            return 0;
    }
    return 1;
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
    if (expired_early(&p))
        return unauthorized(req, "the token has expired");
    req->token_type = token_type_name(p.type);
    if (!address_allowed(req, &p))
        return unauthorized(req, "the token is not valid from this client "
                                 "address (its ip_allowlist)");
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

enum token_type
identity_token_type(const struct http_request *req)
{
    const char *auth = http_header(req, "Authorization");
    struct mock_err err = {0};
    struct principal p;

    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return TOKEN_NONE;
    memset(&p, 0, sizeof(p));
    if (token_read(auth + 7, clock_now(), &p, &err) == MOCK_EINVAL)
        return TOKEN_NONE;
    return p.type;
}

int
identity_token_expired(const struct http_request *req, char jti[37])
{
    const char *auth = http_header(req, "Authorization");
    struct mock_err err = {0};
    struct principal p;
    int rc;

    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    memset(&p, 0, sizeof(p));
    rc = token_read(auth + 7, clock_now(), &p, &err);
    if (rc != MOCK_ELIMIT && !(rc == 0 && expired_early(&p)))
        return 0;
    memcpy(jti, p.jti, 37);
    return 1;
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

/* Reads back a token just minted and tells the request path of it. */
void
identity_note_issued(struct http_request *req, const char *token,
                     const char *client_id)
{
    struct mock_err err = {0};
    struct principal p;

    if (token_read(token, clock_now(), &p, &err) == 0)
        app_note_issued(req, &p, client_id);
}

/* ---- POST /api/customer_tokens ---------------------------------------- */

static void
log_customer_token(const char *bank_guid, const char *customer_guid)
{
    struct log_line l;

    if (!log_enabled(LOG_INFO))
        return;
    log_begin(&l, LOG_INFO, "identity", "customer_token_issued");
    log_str(&l, "bank", bank_guid);
    log_str(&l, "sub", customer_guid);
    log_end(&l);
}

/* Reads the scopes array into out; c records the first problem. */
static void
customer_scopes(struct check *c, const cJSON *arr, uint64_t out[2])
{
    const cJSON *s;

    out[0] = out[1] = 0;
    if (arr == NULL) {
        check_fail(c, 400, "scopes is required");
        return;
    }
    if (!cJSON_IsArray(arr)) {
        check_fail(c, 400, "scopes must be an array of scope names");
        return;
    }
    if (cJSON_GetArraySize(arr) == 0) {
        check_fail(c, 422, "scopes must name at least one scope");
        return;
    }
    cJSON_ArrayForEach(s, arr)
    {
        int i;

        if (!cJSON_IsString(s)) {
            check_fail(c, 400, "scopes must be an array of strings");
            return;
        }
        i = scopes_index(s->valuestring);
        if ((scopes_types(i) & SCOPE_CUSTOMER) == 0 || scopes_dropped(i)) {
            check_fail(c, 422, "%.64s is not a customer scope", s->valuestring);
            return;
        }
        scopes_add(out, i);
    }
}

/* The customer's guid from the body, or NULL with c failed. */
static const char *
customer_guid(struct check *c, const cJSON *body)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "customer_guid");

    for (const cJSON *m = body->child; m; m = m->next) {
        if (strcmp(m->string, "customer_guid") != 0 &&
            strcmp(m->string, "scopes") != 0 &&
            strcmp(m->string, "inherit_ip_allowlist") != 0 &&
            strcmp(m->string, "ip_allowlist") != 0) {
            check_fail(c, 400, "unknown field: %.64s", m->string);
            return NULL;
        }
    }
    if (g == NULL) {
        check_fail(c, 400, "customer_guid is required");
        return NULL;
    }
    if (!cJSON_IsString(g) || !guid_valid(g->valuestring)) {
        check_fail(c, 400, "customer_guid must be 32 lowercase hex characters");
        return NULL;
    }
    return g->valuestring;
}

/*
 * Reads inherit_ip_allowlist (default true) and ip_allowlist (IPv4
 * addresses or CIDR ranges) into *inherit and *list (NULL: none asked
 * for); c records the first problem.
 */
static void
customer_allowlist(struct check *c, const cJSON *body, int *inherit,
                   const cJSON **list)
{
    const cJSON *inh =
        cJSON_GetObjectItemCaseSensitive(body, "inherit_ip_allowlist");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "ip_allowlist");
    const cJSON *e;

    *inherit = 1;
    *list = NULL;
    if (inh != NULL && !cJSON_IsNull(inh)) {
        if (!cJSON_IsBool(inh)) {
            check_fail(c, 400, "inherit_ip_allowlist must be true or false");
            return;
        }
        *inherit = cJSON_IsTrue(inh);
    }
    if (l == NULL || cJSON_IsNull(l))
        return;
    if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > PRINCIPAL_MAX_ALLOW) {
        check_fail(c, 400,
                   "ip_allowlist must be an array of at most %d IPv4 "
                   "addresses or CIDR ranges",
                   PRINCIPAL_MAX_ALLOW);
        return;
    }
    cJSON_ArrayForEach(e, l)
    {
        struct cidr r;

        if (!cJSON_IsString(e) || cidr_parse(e->valuestring, &r, NULL) != 0 ||
            r.family != AF_INET) {
            check_fail(c, 400,
                       "ip_allowlist entries must be IPv4 addresses or "
                       "CIDR ranges");
            return;
        }
    }
    *list = cJSON_GetArraySize(l) > 0 ? l : NULL;
}

int
identity_customer_token_check(struct check *c, const cJSON *body,
                              struct customer_token_ask *ask)
{
    memset(ask, 0, sizeof(*ask));
    ask->customer_guid = customer_guid(c, body);
    if (c->status == 0)
        customer_scopes(c, cJSON_GetObjectItemCaseSensitive(body, "scopes"),
                        ask->scopes);
    if (c->status == 0)
        customer_allowlist(c, body, &ask->inherit, &ask->ip_allowlist);
    return c->status;
}

/* The allowlists of a bank's applications, gathered from the scenario. */
struct inherited {
    const char *bank_guid;
    int unrestricted; /* some application allows any address */
    cJSON *list;
};

static int
gather_allowlists(const struct scenario *sc, void *ctx)
{
    struct inherited *in = ctx;

    for (size_t i = 0; sc != NULL && i < sc->n_applications; i++) {
        const struct fx_application *a = &sc->applications[i];

        if (a->kind != APP_BANK || strcmp(a->owner_guid, in->bank_guid) != 0)
            continue;
        if (a->ip_allowlist.n == 0)
            in->unrestricted = 1;
        for (size_t j = 0; j < a->ip_allowlist.n; j++)
            cJSON_AddItemToArray(in->list,
                                 cJSON_CreateString(a->ip_allowlist.v[j]));
    }
    return 0;
}

/*
 * Adds the token's allowlists to props: the one asked for, and (when
 * inherit) those of the bank's applications. A bank token does not say
 * which application it came from, so the union of their lists is
 * inherited, and nothing when any of them allows every address. Replies
 * 422 when they do not fit in a token.
 */
static int
add_allowlists(struct http_request *req, const char *bank_guid, int inherit,
               const cJSON *asked, cJSON *props)
{
    struct inherited in = {bank_guid, 0, cJSON_CreateArray()};

    if (asked != NULL)
        cJSON_AddItemToObject(props, "ip_allowlist", cJSON_Duplicate(asked, 1));
    if (inherit)
        app_with_scenario(gather_allowlists, &in);
    if (!inherit || in.unrestricted || cJSON_GetArraySize(in.list) == 0) {
        cJSON_Delete(in.list);
        return 0;
    }
    if (cJSON_GetArraySize(in.list) > PRINCIPAL_MAX_ALLOW) {
        cJSON_Delete(in.list);
        http_reply_error(req, 422, "invalid_parameter",
                         "the bank's applications allow more than %d "
                         "address ranges; send inherit_ip_allowlist: false",
                         PRINCIPAL_MAX_ALLOW);
        return 422;
    }
    cJSON_AddItemToObject(props, "inherited_ip_allowlist", in.list);
    return 0;
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
    struct customer_token_ask ask;
    struct check c = {0};
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
    if (identity_customer_token_check(&c, body, &ask) != 0) {
        check_reply(req, &c);
        cJSON_Delete(body);
        return;
    }
    guid = ask.customer_guid;
    if (!customer_in_bank(guid, p->bank_guid)) {
        http_reply_error(req, 422, "invalid_parameter",
                         "customer %s does not exist in this bank", guid);
        cJSON_Delete(body);
        return;
    }
    props = cJSON_CreateObject();
    identity_bank_type(p->bank_guid, btype, sizeof(btype));
    cJSON_AddStringToObject(props, "bank_guid", p->bank_guid);
    cJSON_AddStringToObject(props, "bank_type", btype);
    if (add_allowlists(req, p->bank_guid, ask.inherit, ask.ip_allowlist,
                       props) != 0) {
        cJSON_Delete(props);
        cJSON_Delete(body);
        return;
    }
    token = identity_mint(TOKEN_CUSTOMER, guid, ask.scopes, props, clock_now(),
                          &err);
    if (token == NULL) {
        cJSON_Delete(body);
        http_reply_error(req, 500, "error", "%s", err.msg);
        return;
    }
    identity_note_issued(req, token, NULL);
    log_customer_token(p->bank_guid, guid);
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
