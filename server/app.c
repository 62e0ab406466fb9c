/*
 * app: joins the route tables and runs each request through the steps of
 * the request path in a fixed order. A route's policy (struct
 * route_policy) says which steps apply to it.
 */
#include "app.h"

#include "admin.h"
#include "audit.h"
#include "bank.h"
#include "clock.h"
#include "customer.h"
#include "faults.h"
#include "faultspec.h"
#include "identity.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "organization.h"
#include "ratelimit.h"
#include "store.h"
#include "subevents.h"
#include "timeline.h"
#include "webhooks.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ROUTES 128
#define WEBHOOK_WORKERS 2
#define WEBHOOK_STOP_WAIT_MS 2000

static struct http_route table[MAX_ROUTES];
static size_t n_table;

/* What the request path learns about one request (req->app). */
struct request_state {
    struct principal principal;
    int authenticated;
    struct fault_decision fault; /* name "" when none fired */
    /* a token the handler issued (app_note_issued), for the audit */
    int has_issued;
    struct audit_issued issued;
    char issued_client[128], issued_subject[33], issued_jti[37];
};

/* SHA-256 of the admin token; compared in constant time. */
static unsigned char admin_digest[32];
static int admin_locked;

/* One swap at a time; readers of the running scenario take the rwlock. */
static pthread_mutex_t swap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t running_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct scenario *running;

static void
add_routes(const struct http_route *routes, size_t n)
{
    if (n_table + n > MAX_ROUTES) {
        log_msg(LOG_ERROR, "app", "routing table full");
        abort();
    }
    memcpy(table + n_table, routes, n * sizeof(*routes));
    n_table += n;
}

static void
set_admin_token(const char *token)
{
    admin_locked = token != NULL;
    if (token != NULL)
        EVP_Digest(token, strlen(token), admin_digest, NULL, EVP_sha256(),
                   NULL);
}

void
app_init(struct scenario *sc, const struct app_options *opt)
{
    const struct http_route *r;
    struct mock_err err = {0};
    size_t n;

    journal_init(opt && opt->journal_size ? opt->journal_size
                                          : JOURNAL_DEFAULT_SIZE);
    set_admin_token(opt ? opt->admin_token : NULL);
    n_table = 0;
    r = admin_routes(&n);
    add_routes(r, n);
    r = journal_routes(&n);
    add_routes(r, n);
    r = metrics_routes(&n);
    add_routes(r, n);
    r = identity_routes(&n);
    add_routes(r, n);
    r = organization_routes(&n);
    add_routes(r, n);
    r = subevents_routes(&n);
    add_routes(r, n);
    r = bank_routes(&n);
    add_routes(r, n);
    r = customer_routes(&n);
    add_routes(r, n);
    r = audit_routes(&n);
    add_routes(r, n);
    ratelimit_init(RATELIMIT_DEFAULT_ADDRESSES, RATELIMIT_DEFAULT_STRIPES);
    app_replace(sc);
    if (webhooks_start(WEBHOOK_WORKERS, &err) != 0 ||
        timeline_start(&err) != 0) {
        log_msg(LOG_ERROR, "app", "%s", err.msg);
        abort();
    }
}

void
app_interrupt(void)
{
    faults_interrupt();
}

void
app_load(const struct scenario *sc)
{
    store_reset(sc);
    identity_load(sc);
    ratelimit_load(sc);
    organization_load(sc);
    bank_load(sc);
    customer_load(sc);
    webhooks_load(sc);
    faults_load(sc);
    timeline_load(sc);
    audit_load(sc);
}

void
app_replace(struct scenario *sc)
{
    struct scenario *old;

    pthread_mutex_lock(&swap_lock);
    clock_reset(sc->clock_start_ms);
    app_load(sc);
    pthread_rwlock_wrlock(&running_lock);
    old = running;
    running = sc;
    pthread_rwlock_unlock(&running_lock);
    pthread_mutex_unlock(&swap_lock);
    scenario_free(old);
}

void
app_reset(void)
{
    pthread_mutex_lock(&swap_lock);
    /* Only swaps change running, and they hold swap_lock too. */
    if (running != NULL) {
        clock_reset(running->clock_start_ms);
        app_load(running);
    }
    journal_clear();
    pthread_mutex_unlock(&swap_lock);
}

int
app_with_scenario(int (*fn)(const struct scenario *sc, void *ctx), void *ctx)
{
    int rc;

    pthread_rwlock_rdlock(&running_lock);
    rc = fn(running, ctx);
    pthread_rwlock_unlock(&running_lock);
    return rc;
}

void
app_shutdown(void)
{
    timeline_stop();
    webhooks_stop(WEBHOOK_STOP_WAIT_MS);
    faults_shutdown();
    journal_shutdown();
    store_clear();
    ratelimit_shutdown();
    pthread_mutex_lock(&swap_lock);
    pthread_rwlock_wrlock(&running_lock);
    scenario_free(running);
    running = NULL;
    pthread_rwlock_unlock(&running_lock);
    pthread_mutex_unlock(&swap_lock);
}

static void
access_log(const struct http_request *req)
{
    const struct request_state *st = req->app;
    struct log_line l;

    if (!log_enabled(LOG_INFO))
        return;
    log_begin(&l, LOG_INFO, "http", "request");
    log_str(&l, "id", req->request_id);
    log_str(&l, "method", req->method);
    log_str(&l, "path", req->path);
    log_int(&l, "status", req->status);
    log_int(&l, "duration_us", (long long)(clock_mono_us() - req->start_us));
    log_str(&l, "client", req->client_addr);
    if (req->token_type != NULL)
        log_str(&l, "token_type", req->token_type);
    if (req->error_code != NULL)
        log_str(&l, "code", req->error_code);
    if (st != NULL && st->fault.name[0] != '\0')
        log_str(&l, "fault", st->fault.name);
    log_end(&l);
}

const struct principal *
app_request_principal(const struct http_request *req)
{
    const struct request_state *st = req->app;

    return st != NULL && st->authenticated ? &st->principal : NULL;
}

void
app_note_issued(struct http_request *req, const struct principal *p,
                const char *client_id)
{
    struct request_state *st = req->app;

    if (st == NULL)
        return;
    snprintf(st->issued_client, sizeof(st->issued_client), "%s",
             client_id ? client_id : "");
    memcpy(st->issued_subject, p->subject, sizeof(st->issued_subject));
    memcpy(st->issued_jti, p->jti, sizeof(st->issued_jti));
    st->issued.type = p->type;
    st->issued.client_id = client_id ? st->issued_client : NULL;
    st->issued.subject = st->issued_subject;
    st->issued.jti = st->issued_jti;
    memcpy(st->issued.scopes, p->scopes, sizeof(st->issued.scopes));
    st->issued.issued_at = p->issued_at;
    st->issued.expires_at = p->expires_at;
    st->has_issued = 1;
}

/* Runs the policy's steps, then the handler. */
static void
run_route(struct http_request *req)
{
    const struct route_policy *policy = req->route->policy;
    struct request_state *st = req->app;

    if (policy != NULL && policy->token_types != 0) {
        if (identity_authenticate(req, policy, &st->principal) != 0)
            return;
        st->authenticated = 1;
    }
    if (policy != NULL && policy->cors)
        bank_cors_apply(req, app_request_principal(req));
    req->route->handler(req);
}

/*
 * 1 when an OPTIONS request is a CORS preflight of a bank API path: the
 * path is known (allow lists its methods) and its routes follow the bank
 * API's CORS rules. Answered before authentication: browsers send no
 * credentials on a preflight.
 */
static int
is_cors_preflight(const struct http_request *req, const char *allow)
{
    const struct http_route *r;
    char params[HTTP_MAX_PARAMS][128], method[16];
    int n;

    if (strcmp(req->method, "OPTIONS") != 0)
        return 0;
    snprintf(method, sizeof(method), "%.*s", (int)strcspn(allow, ","), allow);
    if (http_route_match(table, n_table, method, req->path, &r, params, &n,
                         NULL, 0) != HTTP_MATCH_OK ||
        r->policy == NULL)
        return 0;
    return ((const struct route_policy *)r->policy)->cors;
}

/* Answers from the route found: 404, 405 with Allow, or the handler. */
static void
route_request(struct http_request *req, enum http_match m, const char *allow)
{
    if (m == HTTP_MATCH_NO_PATH) {
        http_reply_error(req, 404, "not_found", "no such path: %s", req->path);
    } else if (m == HTTP_MATCH_NO_METHOD && is_cors_preflight(req, allow)) {
        bank_cors_preflight(req, allow);
    } else if (m == HTTP_MATCH_NO_METHOD) {
        http_header_add(req, "Allow", allow);
        http_reply_error(req, 405, "method_not_allowed",
                         "%s is not allowed here; allowed: %s", req->method,
                         allow);
    } else {
        run_route(req);
    }
}

int
app_admin_allowed(const struct http_request *req)
{
    const char *auth;
    unsigned char got[32];

    if (!admin_locked)
        return 1;
    auth = http_header(req, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    auth += 7;
    EVP_Digest(auth, strlen(auth), got, NULL, EVP_sha256(), NULL);
    return CRYPTO_memcmp(got, admin_digest, sizeof(got)) == 0;
}

static int
is_admin(const char *path)
{
    return strncmp(path, "/__admin/", 9) == 0 || strcmp(path, "/__admin") == 0;
}

/* The admin API: the token (when set), then the route. */
static void
admin_request(struct http_request *req, enum http_match m, const char *allow)
{
    if (strcmp(req->path, "/__admin/health") != 0 && !app_admin_allowed(req)) {
        http_header_add(req, "WWW-Authenticate",
                        "Bearer realm=\"cybrid-mock admin\"");
        http_reply_error(req, 401, "unauthorized",
                         "the admin API needs its token: Authorization: "
                         "Bearer <--admin-token>");
        return;
    }
    route_request(req, m, allow);
}

static void
journal(const struct http_request *req, const struct request_state *st)
{
    struct journal_extra x = {0};

    if (st->authenticated)
        x.subject = st->principal.subject;
    if (st->fault.name[0] != '\0') {
        x.fault = st->fault.name;
        x.action = faultspec_action_name(st->fault.action);
    }
    journal_record(req, &x);
}

/* The answer's Retry-After in seconds, or -1. */
static int64_t
retry_after(const struct http_request *req)
{
    for (int i = 0; i < req->n_extra; i++) {
        if (strcasecmp(req->extra[i].name, "Retry-After") == 0)
            return strtoll(req->extra[i].value, NULL, 10);
    }
    return -1;
}

static enum token_type
type_named(const char *name)
{
    if (name == NULL)
        return TOKEN_NONE;
    if (strcmp(name, "bank") == 0)
        return TOKEN_BANK;
    if (strcmp(name, "organization") == 0)
        return TOKEN_ORGANIZATION;
    return strcmp(name, "customer") == 0 ? TOKEN_CUSTOMER : TOKEN_NONE;
}

/*
 * The customer a customer token could reach with this request: the
 * {customer_guid} of the route or a customer_guid query parameter, on a
 * route that takes customer tokens.
 */
static const char *
customer_named(const struct http_request *req, char *buf, size_t cap)
{
    const struct route_policy *policy = req->route ? req->route->policy : NULL;
    const char *pat, *at;
    int idx = 0;

    if (policy == NULL || (policy->token_types & TOKEN_CUSTOMER) == 0)
        return NULL;
    pat = req->route->pattern;
    at = strstr(pat, "{customer_guid}");
    if (at != NULL) {
        for (const char *c = pat; c < at; c++)
            idx += *c == '{';
        return idx < req->n_params ? req->params[idx] : NULL;
    }
    if (req->query != NULL &&
        http_query_param(req, "customer_guid", buf, cap) > 0)
        return buf;
    return NULL;
}

/* Tells the audit what this request did (see audit.h). */
static void
audit(struct http_request *req, struct request_state *st)
{
    struct audit_request q = {0};
    char addr[RATELIMIT_ADDR_MAX], jti[37], cust[40];
    const struct route_policy *policy = req->route ? req->route->policy : NULL;

    identity_client_addr(req, addr, sizeof(addr));
    q.request_id = req->request_id;
    q.method = req->method;
    q.path = req->path;
    q.route = req->route ? req->route->pattern : NULL;
    q.query = req->query;
    q.status = req->status;
    q.client_addr = addr;
    q.has_origin = http_header(req, "Origin") != NULL;
    q.now_ms = clock_now_ms();
    q.token_type = type_named(req->token_type);
    if (st->authenticated) {
        q.token_type = st->principal.type;
        q.subject = st->principal.subject;
        q.jti = st->principal.jti;
        q.scopes = st->principal.scopes;
        q.scope_used = policy ? policy->scope : NULL;
    }
    if (req->status == 401 && identity_token_expired(req, jti)) {
        q.token_expired = 1;
        q.jti = jti;
    }
    q.customer_guid = customer_named(req, cust, sizeof(cust));
    q.rate_limited =
        req->error_code != NULL && strcmp(req->error_code, "rate_limited") == 0;
    q.retry_after = req->status == 429 ? retry_after(req) : -1;
    q.issued = st->has_issued ? &st->issued : NULL;
    q.body = req->body;
    q.body_len = req->body_len;
    audit_request(&q);
}

void
app_refused(struct http_request *req)
{
    struct request_state st;

    memset(&st, 0, sizeof(st));
    metrics_request("unmatched", req->status);
    access_log(req);
    journal(req, &st);
}

void
app_dispatch(struct http_request *req)
{
    struct request_state st;
    char allow[128];
    enum http_match m;
    int admin = is_admin(req->path);

    memset(&st, 0, sizeof(st));
    req->app = &st;
    m = http_route_match(table, n_table, req->method, req->path, &req->route,
                         req->params, &req->n_params, allow, sizeof(allow));
    if (admin) {
        admin_request(req, m, allow);
    } else if (ratelimit_request(req) == 0) {
        /* Limited by path, not by route: unknown /api/ paths count too. */
        timeline_tick();
        timeline_request(req);
        if (faults_request(req, &st.fault) == 0)
            route_request(req, m, allow);
    }
    metrics_request(req->route != NULL ? req->route->name : "unmatched",
                    req->aborted ? 0 : req->status);
    access_log(req);
    if (!admin) {
        journal(req, &st);
        audit(req, &st);
    }
    req->app = NULL;
}
