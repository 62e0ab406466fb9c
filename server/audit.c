/*
 * audit: the rules, their state and the findings route.
 *
 * State lives in direct-mapped tables of max_tracked entries, one per
 * kind of key (a token's jti, a client, an address, a bank and customer
 * pair), keyed by a 64-bit FNV-1a hash of the key's parts: a new key
 * takes its slot from whatever held it, and that eviction is counted
 * (GET /__admin/findings shows the counts). Each table's slots are
 * guarded by striped mutexes held only to read and update one entry; a
 * reader-writer lock lets audit_load swap the tables and settings while
 * observers run.
 */
#include "audit.h"

#include "findings.h"
#include "log.h"
#include "origin.h"
#include "scopes.h"

#include <civetweb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STRIPES 16

/* ---- state ---------------------------------------------------------- */

/* One tracked key; what the fields mean depends on the table. */
struct entry {
    uint64_t key; /* 0: empty */
    int64_t t1, t2;
    unsigned n1;
    uint64_t held[2], used[2];
    char rid[33];
};

enum table_id {
    T_EXPIRED,   /* jti: 401s for it */
    T_RETRY,     /* address, method, path: Retry-After deadline */
    T_TOKEN403,  /* address, token endpoint: last rate-limit 403 */
    T_CLIENTS,   /* address, client_id: the last token issued */
    T_CALLS,     /* address: calls with privileged tokens */
    T_BANKCUST,  /* bank, customer: bank-token requests */
    T_CUSTOMERS, /* customer token jti: scopes held and used */
    TABLES
};

struct table {
    struct entry *e;
    size_t cap; /* a power of two */
    atomic_ullong evictions;
    pthread_mutex_t locks[STRIPES];
};

static pthread_rwlock_t state_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct table tables[TABLES];
static struct audit_config cfg;
static int verify_tls = 1;
static uint64_t writable[2]; /* write and execute scopes */
static atomic_uint slow_count;
static atomic_int any_429;

static uint64_t
hash_parts(const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    uint64_t h = 1469598103934665603ULL;

    for (int i = 0; i < 3; i++) {
        for (const char *s = parts[i]; s != NULL && *s; s++) {
            h ^= (unsigned char)*s;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* separator: ("ab","c") differs from ("a","bc") */
        h *= 1099511628211ULL;
    }
    return h != 0 ? h : 1;
}

/*
 * The entry of key with its stripe locked (*lk; the caller unlocks), or
 * NULL when absent and !create. A created entry is zeroed.
 */
static struct entry *
tab_get(enum table_id id, uint64_t key, int create, pthread_mutex_t **lk)
{
    struct table *t = &tables[id];
    size_t i = (size_t)(key & (t->cap - 1));
    struct entry *e = &t->e[i];

    *lk = &t->locks[i % STRIPES];
    pthread_mutex_lock(*lk);
    if (e->key == key)
        return e;
    if (!create) {
        pthread_mutex_unlock(*lk);
        return NULL;
    }
    if (e->key != 0)
        atomic_fetch_add(&t->evictions, 1);
    memset(e, 0, sizeof(*e));
    e->key = key;
    return e;
}

static size_t
round_pow2(unsigned n)
{
    size_t p = 16;

    while (p < n)
        p <<= 1;
    return p;
}

static void
tables_free(void)
{
    for (int i = 0; i < TABLES; i++) {
        free(tables[i].e);
        tables[i].e = NULL;
        tables[i].cap = 0;
    }
}

static void
find_writable(void)
{
    writable[0] = writable[1] = 0;
    for (int i = 0; i < (int)scopes_count(); i++) {
        const char *n = scopes_name(i);
        const char *colon = strrchr(n, ':');

        if (colon != NULL &&
            (strcmp(colon, ":write") == 0 || strcmp(colon, ":execute") == 0))
            scopes_add(writable, i);
    }
}

static int
load_settings(const struct scenario *sc, void *ctx)
{
    if (sc != NULL && sc->audit != NULL)
        cfg = *sc->audit;
    else
        auditconf_defaults(&cfg);
    verify_tls = sc != NULL ? sc->webhooks.verify_tls : 1;
    return 0;
}

void
audit_load(const struct scenario *sc)
{
    int on[AUDIT_RULES];
    size_t cap;

    pthread_rwlock_wrlock(&state_lock);
    load_settings(sc, NULL);
    cap = round_pow2(cfg.max_tracked);
    for (int i = 0; i < TABLES; i++) {
        /*
         * A fresh calloc rather than a memset: a large one is mapped
         * zero pages, so memory is spent only on the slots keys touch.
         */
        free(tables[i].e);
        tables[i].e = xcalloc(cap, sizeof(struct entry));
        if (tables[i].cap == 0)
            for (int j = 0; j < STRIPES; j++)
                pthread_mutex_init(&tables[i].locks[j], NULL);
        tables[i].cap = cap;
        atomic_store(&tables[i].evictions, 0);
    }
    if (writable[0] == 0 && writable[1] == 0)
        find_writable();
    atomic_store(&slow_count, 0);
    atomic_store(&any_429, 0);
    for (int i = 0; i < AUDIT_RULES; i++)
        on[i] = cfg.rules[i].enabled;
    findings_reset(auditconf_catalogue(), AUDIT_RULES, on);
    pthread_rwlock_unlock(&state_lock);
}

void
audit_shutdown(void)
{
    pthread_rwlock_wrlock(&state_lock);
    tables_free();
    findings_clear();
    pthread_rwlock_unlock(&state_lock);
}

static int
on(enum audit_rule r)
{
    return cfg.rules[r].enabled;
}

static void
fire(enum audit_rule r, const struct audit_request *q, const char *detail)
{
    findings_add(r, q->now_ms, q->request_id, detail);
}

/* "METHOD /route/pattern" for a finding's detail. */
static void
describe(const struct audit_request *q, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s", q->method, q->route ? q->route : q->path);
}

/* ---- request rules -------------------------------------------------- */

static int
privileged(enum token_type t)
{
    return t == TOKEN_BANK || t == TOKEN_ORGANIZATION;
}

static void
rule_browser(const struct audit_request *q, const char *what)
{
    if (!on(AUDIT_PRIVILEGED_TOKEN_IN_BROWSER) || !q->has_origin)
        return;
    if (privileged(q->token_type) ||
        (q->issued != NULL && privileged(q->issued->type)))
        fire(AUDIT_PRIVILEGED_TOKEN_IN_BROWSER, q, what);
}

/* 401s for one expired token: the first is news, the rest resends. */
static void
rule_expired(const struct audit_request *q, const char *what)
{
    pthread_mutex_t *lk;
    struct entry *e;
    unsigned resends;

    if (!on(AUDIT_EXPIRED_TOKEN_RESENT) || q->status != 401 ||
        !q->token_expired || q->jti == NULL)
        return;
    e = tab_get(T_EXPIRED, hash_parts("jti", q->jti, NULL), 1, &lk);
    resends = e->n1++;
    pthread_mutex_unlock(lk);
    if (resends > cfg.rules[AUDIT_EXPIRED_TOKEN_RESENT].threshold)
        fire(AUDIT_EXPIRED_TOKEN_RESENT, q, what);
}

/* A request of the same address, method and path before Retry-After. */
static void
rule_retry(const struct audit_request *q, const char *what)
{
    int is_429 = q->status == 429 && q->retry_after >= 0;
    uint64_t key;
    pthread_mutex_t *lk;
    struct entry *e;
    unsigned early = 0;

    if (!on(AUDIT_RETRY_BEFORE_RETRY_AFTER) ||
        (!is_429 && !atomic_load(&any_429)))
        return;
    key = hash_parts(q->client_addr, q->method, q->path);
    e = tab_get(T_RETRY, key, is_429, &lk);
    if (e == NULL)
        return;
    if (e->t1 != 0 && q->now_ms < e->t1)
        early = ++e->n1;
    if (is_429)
        e->t1 = q->now_ms + q->retry_after * 1000;
    pthread_mutex_unlock(lk);
    if (is_429)
        atomic_store(&any_429, 1);
    if (early > cfg.rules[AUDIT_RETRY_BEFORE_RETRY_AFTER].threshold)
        fire(AUDIT_RETRY_BEFORE_RETRY_AFTER, q, what);
}

static int
token_endpoint(const struct audit_request *q)
{
    return strcmp(q->method, "POST") == 0 &&
           (strcmp(q->path, "/oauth/token") == 0 ||
            strcmp(q->path, "/api/customer_tokens") == 0);
}

/* Token requests within `window` of the last rate-limit 403. */
static void
rule_token_403(const struct audit_request *q, const char *what)
{
    const struct audit_rule_config *rc =
        &cfg.rules[AUDIT_TOKEN_REQUESTS_AFTER_LIMIT];
    int refused = q->status == 403 && q->rate_limited;
    pthread_mutex_t *lk;
    struct entry *e;
    unsigned hasty = 0;

    if (!on(AUDIT_TOKEN_REQUESTS_AFTER_LIMIT) || !token_endpoint(q))
        return;
    e = tab_get(T_TOKEN403, hash_parts(q->client_addr, q->path, NULL), refused,
                &lk);
    if (e == NULL)
        return;
    if (e->t1 != 0 && q->now_ms - e->t1 < rc->window_ms)
        hasty = ++e->n1;
    if (refused) {
        e->t1 = q->now_ms;
    } else {
        e->t1 = 0;
        e->n1 = 0;
    }
    pthread_mutex_unlock(lk);
    if (hasty > rc->threshold)
        fire(AUDIT_TOKEN_REQUESTS_AFTER_LIMIT, q, what);
}

/* Counts calls made with privileged tokens per address. */
static void
count_call(const struct audit_request *q)
{
    pthread_mutex_t *lk;
    struct entry *e;

    if (!on(AUDIT_TOKENS_NOT_CACHED) || !privileged(q->token_type) ||
        q->status == 401)
        return;
    e = tab_get(T_CALLS, hash_parts("calls", q->client_addr, NULL), 1, &lk);
    e->n1++;
    pthread_mutex_unlock(lk);
}

/* A token issued while the client's last one had most of its life left. */
static void
rule_not_cached(const struct audit_request *q, const char *what)
{
    const struct audit_rule_config *rc = &cfg.rules[AUDIT_TOKENS_NOT_CACHED];
    const struct audit_issued *is = q->issued;
    int64_t now = q->now_ms / 1000;
    unsigned premature = 0, calls = 0;
    pthread_mutex_t *lk;
    struct entry *e;

    if (!on(AUDIT_TOKENS_NOT_CACHED) || is == NULL || is->client_id == NULL)
        return;
    e = tab_get(T_CLIENTS, hash_parts(q->client_addr, is->client_id, NULL), 1,
                &lk);
    if (e->t2 > e->t1 && (e->t2 - now) * 2 > e->t2 - e->t1)
        premature = ++e->n1;
    e->t1 = is->issued_at;
    e->t2 = is->expires_at;
    pthread_mutex_unlock(lk);
    if (premature == 0)
        return;
    e = tab_get(T_CALLS, hash_parts("calls", q->client_addr, NULL), 0, &lk);
    if (e != NULL) {
        calls = e->n1;
        pthread_mutex_unlock(lk);
    }
    if (premature > rc->threshold && premature >= rc->ratio * calls)
        fire(AUDIT_TOKENS_NOT_CACHED, q, what);
}

static void
rule_bank_customer(const struct audit_request *q, const char *what)
{
    pthread_mutex_t *lk;
    struct entry *e;
    unsigned n;

    if (!on(AUDIT_BANK_TOKEN_FOR_CUSTOMER) || q->token_type != TOKEN_BANK ||
        q->customer_guid == NULL || q->status < 200 || q->status > 299)
        return;
    e = tab_get(T_BANKCUST, hash_parts(q->subject, q->customer_guid, NULL), 1,
                &lk);
    n = ++e->n1;
    pthread_mutex_unlock(lk);
    if (n > cfg.rules[AUDIT_BANK_TOKEN_FOR_CUSTOMER].threshold)
        fire(AUDIT_BANK_TOKEN_FOR_CUSTOMER, q, what);
}

/* Records a customer token's write scopes, then which ones it uses. */
static void
rule_scopes(const struct audit_request *q)
{
    const struct audit_issued *is = q->issued;
    pthread_mutex_t *lk;
    struct entry *e;
    int i;

    if (!on(AUDIT_CUSTOMER_SCOPES_UNUSED))
        return;
    if (is != NULL && is->type == TOKEN_CUSTOMER && is->jti != NULL &&
        ((is->scopes[0] & writable[0]) || (is->scopes[1] & writable[1]))) {
        e = tab_get(T_CUSTOMERS, hash_parts("jti", is->jti, NULL), 1, &lk);
        e->held[0] = is->scopes[0] & writable[0];
        e->held[1] = is->scopes[1] & writable[1];
        e->t1 = q->now_ms;
        snprintf(e->rid, sizeof(e->rid), "%s", q->request_id);
        pthread_mutex_unlock(lk);
    }
    if (q->token_type != TOKEN_CUSTOMER || q->jti == NULL ||
        q->scope_used == NULL || (i = scopes_index(q->scope_used)) < 0)
        return;
    e = tab_get(T_CUSTOMERS, hash_parts("jti", q->jti, NULL), 0, &lk);
    if (e != NULL) {
        scopes_add(e->used, i);
        pthread_mutex_unlock(lk);
    }
}

/* 1 when a query string names the parameter (names URL-decoded). */
static int
query_has(const char *query, const char *name)
{
    char got[64];

    while (query != NULL && *query) {
        size_t n = strcspn(query, "=&");

        if (n < sizeof(got)) {
            mg_url_decode(query, (int)n, got, sizeof(got), 1);
            if (strcmp(got, name) == 0)
                return 1;
        }
        query += strcspn(query, "&");
        query += *query == '&';
    }
    return 0;
}

static void
rule_query(const struct audit_request *q, const char *what)
{
    if (!on(AUDIT_CREDENTIALS_IN_QUERY) || q->query == NULL)
        return;
    if (query_has(q->query, "client_secret") ||
        (strcmp(q->path, "/oauth/token") == 0 &&
         query_has(q->query, "client_id")))
        fire(AUDIT_CREDENTIALS_IN_QUERY, q, what);
}

/* The request body's JSON object, for the few rules that read it. */
static cJSON *
body_json(const struct audit_request *q)
{
    if (q->body == NULL || q->body_len == 0)
        return NULL;
    return cJSON_ParseWithLength(q->body, q->body_len);
}

static int
bad_origin(const char *s)
{
    return strchr(s, '*') != NULL ||
           (strncasecmp(s, "http://", 7) == 0 && !origin_allowed(s));
}

static void
rule_cors(const struct audit_request *q, const char *what)
{
    const cJSON *list, *o;
    cJSON *body;
    int bad = 0;

    if (!on(AUDIT_CORS_WILDCARD_OR_HTTP) || q->route == NULL ||
        q->status < 400 || q->status > 499 ||
        strncmp(q->route, "/api/banks", 10) != 0 ||
        (strcmp(q->method, "PATCH") != 0 && strcmp(q->method, "POST") != 0))
        return;
    body = body_json(q);
    list = cJSON_GetObjectItemCaseSensitive(body, "cors_allowed_origins");
    cJSON_ArrayForEach(o, list)
    {
        if (cJSON_IsString(o) && bad_origin(o->valuestring))
            bad = 1;
    }
    cJSON_Delete(body);
    if (bad)
        fire(AUDIT_CORS_WILDCARD_OR_HTTP, q, what);
}

static void
rule_subscription(const struct audit_request *q, const char *what)
{
    const cJSON *url;
    cJSON *body;
    int plain;

    if (!on(AUDIT_WEBHOOK_PLAIN_HTTP) || q->route == NULL || q->status < 200 ||
        q->status > 299 || strncmp(q->route, "/api/subscriptions", 18) != 0 ||
        (strcmp(q->method, "PATCH") != 0 && strcmp(q->method, "POST") != 0))
        return;
    body = body_json(q);
    url = cJSON_GetObjectItemCaseSensitive(body, "url");
    plain =
        cJSON_IsString(url) && strncasecmp(url->valuestring, "http:", 5) == 0;
    cJSON_Delete(body);
    if (plain)
        fire(AUDIT_WEBHOOK_PLAIN_HTTP, q, what);
}

void
audit_request(const struct audit_request *q)
{
    char what[160];

    describe(q, what, sizeof(what));
    pthread_rwlock_rdlock(&state_lock);
    if (tables[0].e != NULL) {
        rule_browser(q, what);
        rule_expired(q, what);
        rule_retry(q, what);
        rule_token_403(q, what);
        count_call(q);
        rule_not_cached(q, what);
        rule_bank_customer(q, what);
        rule_scopes(q);
        rule_query(q, what);
        rule_cors(q, what);
        rule_subscription(q, what);
    }
    pthread_rwlock_unlock(&state_lock);
}

/* ---- webhook rules -------------------------------------------------- */

static int
tamper_is(const struct attemptlog_entry *e, const char *const *names)
{
    for (; e->tamper != NULL && *names != NULL; names++) {
        if (strcmp(e->tamper, *names) == 0)
            return 1;
    }
    return 0;
}

static void
webhook_fire(enum audit_rule r, const struct attemptlog_entry *e)
{
    char detail[160];

    snprintf(detail, sizeof(detail), "delivery %s, tamper %s, status %ld",
             e->delivery ? e->delivery : "?", e->tamper ? e->tamper : "none",
             e->status);
    if (on(r))
        findings_add(r, e->time_ms, e->delivery, detail);
}

void
audit_webhook_attempt(const struct attemptlog_entry *e)
{
    static const char *const forged[] = {"bad_signature", "wrong_key",
                                         "unsigned", NULL};
    static const char *const stale[] = {"stale_timestamp", NULL};
    int ok = e->status >= 200 && e->status < 300;

    if (e->kind != NULL && strcmp(e->kind, "not_attempted") == 0)
        return;
    pthread_rwlock_rdlock(&state_lock);
    if (tables[0].e == NULL) {
        pthread_rwlock_unlock(&state_lock);
        return;
    }
    if (e->url != NULL && strncasecmp(e->url, "http:", 5) == 0)
        webhook_fire(AUDIT_WEBHOOK_PLAIN_HTTP, e);
    else if (!verify_tls)
        webhook_fire(AUDIT_WEBHOOK_TLS_UNVERIFIED, e);
    if (ok && tamper_is(e, forged))
        webhook_fire(AUDIT_WEBHOOK_FORGED_ACCEPTED, e);
    if (ok && tamper_is(e, stale))
        webhook_fire(AUDIT_WEBHOOK_STALE_ACCEPTED, e);
    if (e->wait_ms > cfg.rules[AUDIT_WEBHOOK_SLOW_RECEIVER].window_ms &&
        atomic_fetch_add(&slow_count, 1) + 1 >
            cfg.rules[AUDIT_WEBHOOK_SLOW_RECEIVER].threshold)
        webhook_fire(AUDIT_WEBHOOK_SLOW_RECEIVER, e);
    pthread_rwlock_unlock(&state_lock);
}

/* ---- end-of-run rules and reports ----------------------------------- */

/* Customer tokens whose write or execute scopes were never used. */
static void
evaluate(void)
{
    const struct table *t = &tables[T_CUSTOMERS];
    uint64_t count = 0;
    int64_t first = 0, last = 0;
    char example[33] = "", detail[160] = "";

    pthread_rwlock_rdlock(&state_lock);
    for (size_t i = 0; on(AUDIT_CUSTOMER_SCOPES_UNUSED) && i < t->cap; i++) {
        pthread_mutex_t *lk = (pthread_mutex_t *)&t->locks[i % STRIPES];
        const struct entry *e = &t->e[i];
        uint64_t idle[2];

        pthread_mutex_lock(lk);
        idle[0] = e->held[0] & ~e->used[0];
        idle[1] = e->held[1] & ~e->used[1];
        if (e->key != 0 && (idle[0] || idle[1])) {
            if (count++ == 0 || e->t1 < first) {
                char *names = scopes_join(idle);

                first = e->t1;
                snprintf(example, sizeof(example), "%s", e->rid);
                snprintf(detail, sizeof(detail), "never used: %s", names);
                free(names);
            }
            last = e->t1 > last ? e->t1 : last;
        }
        pthread_mutex_unlock(lk);
    }
    if (tables[0].e != NULL)
        findings_set(AUDIT_CUSTOMER_SCOPES_UNUSED, count, first, last, example,
                     detail);
    pthread_rwlock_unlock(&state_lock);
}

uint64_t
audit_evictions(void)
{
    uint64_t n = 0;

    pthread_rwlock_rdlock(&state_lock);
    for (int i = 0; i < TABLES; i++)
        n += atomic_load(&tables[i].evictions);
    pthread_rwlock_unlock(&state_lock);
    return n;
}

uint64_t
audit_count(enum audit_rule rule)
{
    if (rule == AUDIT_CUSTOMER_SCOPES_UNUSED)
        evaluate();
    return findings_count(rule);
}

int
audit_summary(FILE *out, int fail_on, int json)
{
    evaluate();
    return findings_summary(out, fail_on, json);
}

static void
add_evictions(cJSON *body)
{
    static const char *const names[TABLES] = {
        "expired_tokens", "retry_after",   "token_endpoint", "clients",
        "addresses",      "bank_customer", "customer_tokens"};
    cJSON *o = cJSON_AddObjectToObject(body, "evictions");

    pthread_rwlock_rdlock(&state_lock);
    for (int i = 0; i < TABLES; i++)
        cJSON_AddNumberToObject(o, names[i],
                                (double)atomic_load(&tables[i].evictions));
    cJSON_AddNumberToObject(body, "max_tracked", (double)tables[0].cap);
    pthread_rwlock_unlock(&state_lock);
}

static void
findings_get(struct http_request *req)
{
    char format[16];
    int rc = http_query_param(req, "format", format, sizeof(format));
    cJSON *body;
    char *xml;

    if (rc == MOCK_ENOENT)
        snprintf(format, sizeof(format), "json");
    else if (rc < 0 ||
             (strcmp(format, "json") != 0 && strcmp(format, "junit") != 0)) {
        http_reply_error(req, 400, "invalid_parameter",
                         "format must be json or junit");
        return;
    }
    evaluate();
    if (strcmp(format, "junit") == 0) {
        xml = findings_junit();
        http_reply(req, 200, "application/xml; charset=utf-8", xml,
                   strlen(xml));
        free(xml);
        return;
    }
    body = findings_json();
    add_evictions(body);
    http_reply_json(req, 200, body);
}

static const struct http_route routes[] = {
    {"GET", "/__admin/findings", findings_get, "admin.findings", NULL},
};

const struct http_route *
audit_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
