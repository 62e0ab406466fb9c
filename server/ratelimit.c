/*
 * ratelimit: striped tables of client addresses, each with one ring of
 * accepted-request timestamps per class (see ratelimit.h for the rule).
 *
 * The rules are written only with every stripe lock held and read under
 * one, so a check always sees one consistent rule. The trusted proxies
 * sit behind a read-write lock of their own that a request takes only
 * when the scenario names some proxies.
 */
#include "ratelimit.h"

#include "cidr.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ring {
    int64_t *ts;    /* size slots, grown up to the limit as needed */
    unsigned size;  /* slots allocated */
    unsigned head;  /* the oldest timestamp */
    unsigned count; /* timestamps held, at most the limit */
};

struct entry {
    char addr[RATELIMIT_ADDR_MAX];
    uint64_t hash;
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* recency list, most recent first */
    struct ring rings[LIMIT_CLASSES];
};

struct stripe {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t mask; /* buckets - 1, a power of two minus one */
    size_t count, cap;
    struct entry *mru, *lru;
};

static struct stripe *stripes;
static unsigned n_stripes;
static struct limit_rule rules[LIMIT_CLASSES];

static pthread_rwlock_t proxy_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cidr *proxies;
static _Atomic size_t n_proxies;

static _Atomic size_t tracked;
static struct metrics_counter *refused[LIMIT_CLASSES];
static struct metrics_counter *evicted;

static const char *const class_names[LIMIT_CLASSES] = {"general", "oauth_token",
                                                       "customer_tokens"};

/* ---- addresses -------------------------------------------------------- */

/* 1 when the address text a is a trusted proxy; under proxy_lock. */
static int
trusted(const char *a)
{
    size_t n = atomic_load(&n_proxies);

    for (size_t i = 0; i < n; i++) {
        if (cidr_contains(&proxies[i], a))
            return 1;
    }
    return 0;
}

/*
 * Parses one X-Forwarded-For entry, s[0..n), spaces trimmed: a plain
 * address (no prefix, no port) written in canonical form into out.
 */
static int
hop_parse(const char *s, size_t n, char *out, size_t cap)
{
    char buf[64];
    struct cidr c;

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(buf) || memchr(s, '/', n) != NULL)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (cidr_parse(buf, &c, NULL) != 0 ||
        inet_ntop(c.family, c.addr, out, (socklen_t)cap) == NULL)
        return -1;
    return 0;
}

/*
 * The rightmost address of xff that is not a trusted proxy, or the
 * leftmost when all are; 0, or -1 when the rightmost entry is not an
 * address. Under proxy_lock.
 */
static int
forwarded_client(const char *xff, char *out, size_t cap)
{
    size_t end = strlen(xff);
    char hop[RATELIMIT_ADDR_MAX];
    int found = -1;

    while (end > 0) {
        size_t start = end;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (hop_parse(xff + start, end - start, hop, sizeof(hop)) != 0)
            break;
        snprintf(out, cap, "%s", hop);
        found = 0;
        if (!trusted(hop))
            break;
        end = start > 0 ? start - 1 : 0;
    }
    return found;
}

void
ratelimit_client_addr(const char *peer, const char *xff, char *out, size_t cap)
{
    /* The socket layer writes the peer in canonical form; a dual-stack
       listener writes IPv4 clients as ::ffff:a.b.c.d. */
    if (strncasecmp(peer, "::ffff:", 7) == 0 && strchr(peer + 7, '.'))
        peer += 7;
    if (xff != NULL && atomic_load(&n_proxies) > 0) {
        int forwarded;

        pthread_rwlock_rdlock(&proxy_lock);
        forwarded = trusted(peer) && forwarded_client(xff, out, cap) == 0;
        pthread_rwlock_unlock(&proxy_lock);
        if (forwarded)
            return;
    }
    snprintf(out, cap, "%s", peer);
}

/* ---- classes ---------------------------------------------------------- */

/* 1 when path is want, allowing one trailing slash as the router does. */
static int
path_is(const char *path, const char *want)
{
    size_t n = strlen(want);

    return strncmp(path, want, n) == 0 &&
           (path[n] == '\0' || (path[n] == '/' && path[n + 1] == '\0'));
}

enum limit_class
ratelimit_class_of(const char *method, const char *path)
{
    int post = strcmp(method, "POST") == 0;

    if (post && path_is(path, "/oauth/token"))
        return LIMIT_OAUTH_TOKEN;
    if (post && path_is(path, "/api/customer_tokens"))
        return LIMIT_CUSTOMER_TOKENS;
    if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0)
        return LIMIT_GENERAL;
    return LIMIT_NONE;
}

const char *
ratelimit_class_name(enum limit_class cls)
{
    if (cls < 0 || cls >= LIMIT_CLASSES)
        return "none";
    return class_names[cls];
}

/* ---- the table of addresses ------------------------------------------- */

static uint64_t
addr_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    /* Mix the high bits down: stripes use the low bits, buckets the
       high. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static size_t
bucket_of(const struct stripe *s, uint64_t h)
{
    return (size_t)(h >> 32) & s->mask;
}

static void
lru_unlink(struct stripe *s, struct entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        s->mru = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        s->lru = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_push(struct stripe *s, struct entry *e)
{
    e->prev = NULL;
    e->next = s->mru;
    if (s->mru != NULL)
        s->mru->prev = e;
    s->mru = e;
    if (s->lru == NULL)
        s->lru = e;
}

static void
hash_unlink(struct stripe *s, struct entry *e)
{
    struct entry **p = &s->buckets[bucket_of(s, e->hash)];

    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
}

/* Takes the least recently used entry of a full stripe for reuse. */
static struct entry *
evict(struct stripe *s)
{
    struct entry *e = s->lru;

    lru_unlink(s, e);
    hash_unlink(s, e);
    for (int c = 0; c < LIMIT_CLASSES; c++)
        e->rings[c].head = e->rings[c].count = 0;
    metrics_inc(evicted);
    return e;
}

/* The entry of addr, made (or taken over) when missing; most recent. */
static struct entry *
entry_get(struct stripe *s, const char *addr, uint64_t h)
{
    struct entry **head = &s->buckets[bucket_of(s, h)];
    struct entry *e;

    for (e = *head; e != NULL; e = e->hnext) {
        if (e->hash == h && strcmp(e->addr, addr) == 0) {
            if (s->mru != e) {
                lru_unlink(s, e);
                lru_push(s, e);
            }
            return e;
        }
    }
    if (s->count < s->cap) {
        e = xcalloc(1, sizeof(*e));
        s->count++;
        atomic_fetch_add(&tracked, 1);
    } else {
        e = evict(s);
        head = &s->buckets[bucket_of(s, h)];
    }
    snprintf(e->addr, sizeof(e->addr), "%s", addr);
    e->hash = h;
    e->hnext = *head;
    *head = e;
    lru_push(s, e);
    return e;
}

static void
entry_free(struct entry *e)
{
    for (int c = 0; c < LIMIT_CLASSES; c++)
        free(e->rings[c].ts);
    free(e);
}

/* Frees every entry of a stripe; the caller holds its lock. */
static void
stripe_clear(struct stripe *s)
{
    struct entry *e = s->mru;

    while (e != NULL) {
        struct entry *next = e->next;

        entry_free(e);
        e = next;
    }
    atomic_fetch_sub(&tracked, s->count);
    memset(s->buckets, 0, (s->mask + 1) * sizeof(*s->buckets));
    s->mru = s->lru = NULL;
    s->count = 0;
}

static void
lock_all(void)
{
    for (unsigned i = 0; i < n_stripes; i++)
        pthread_mutex_lock(&stripes[i].lock);
}

static void
unlock_all(void)
{
    for (unsigned i = n_stripes; i > 0; i--)
        pthread_mutex_unlock(&stripes[i - 1].lock);
}

/* ---- the window ------------------------------------------------------- */

/* Gives the ring size slots, keeping its newest timestamps in order. */
static void
ring_resize(struct ring *r, unsigned size)
{
    int64_t *ts = xcalloc(size, sizeof(*ts));
    unsigned keep = r->count < size ? r->count : size;

    for (unsigned i = 0; i < keep; i++)
        ts[i] = r->ts[(r->head + r->count - keep + i) % r->size];
    free(r->ts);
    r->ts = ts;
    r->size = size;
    r->head = 0;
    r->count = keep;
}

/*
 * Counts a request at now if the rule allows it; otherwise returns 0 and
 * the milliseconds until a slot frees in *wait. The ring doubles as it
 * fills (amortized constant time) and, once full, overwrites its oldest
 * slot in place.
 */
static int
ring_admit(struct ring *r, const struct limit_rule *rule, int64_t now,
           int64_t *wait)
{
    unsigned limit = rule->limit;
    int64_t oldest;

    if (limit == 0) {
        *wait = rule->window_ms;
        return 0;
    }
    if (r->count > limit) /* the limit went down */
        ring_resize(r, limit);
    if (r->count < limit) {
        if (r->count == r->size) {
            unsigned grow = r->size ? r->size * 2 : 8;

            ring_resize(r, grow > limit || grow < r->size ? limit : grow);
        }
        r->ts[(r->head + r->count) % r->size] = now;
        r->count++;
        return 1;
    }
    if (r->size != r->count) /* full inside a larger buffer: compact */
        ring_resize(r, r->count);
    oldest = r->ts[r->head];
    if (now - oldest >= rule->window_ms) {
        r->ts[r->head] = now;
        if (++r->head == r->size)
            r->head = 0;
        return 1;
    }
    *wait = oldest + rule->window_ms - now;
    return 0;
}

/* Fills a refusal by rule, a slot freeing in wait_ms. */
static void
refuse(struct ratelimit_verdict *out, const struct limit_rule *rule,
       int64_t wait_ms)
{
    out->allowed = 0;
    out->status = rule->status;
    out->send_retry_after = rule->retry_after;
    out->retry_after = (wait_ms + 999) / 1000;
    if (out->retry_after < 1)
        out->retry_after = 1;
    out->limit = rule->limit;
    out->window_ms = rule->window_ms;
}

void
ratelimit_check(const char *addr, enum limit_class cls, int64_t now_ms,
                struct ratelimit_verdict *out)
{
    struct limit_rule rule;
    struct stripe *s;
    int64_t wait = 0;
    uint64_t h;
    int ok;

    memset(out, 0, sizeof(*out));
    out->allowed = 1;
    if (cls < 0 || cls >= LIMIT_CLASSES || stripes == NULL)
        return;
    h = addr_hash(addr);
    s = &stripes[h & (n_stripes - 1)];
    pthread_mutex_lock(&s->lock);
    rule = rules[cls];
    if (!rule.enabled) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    ok = ring_admit(&entry_get(s, addr, h)->rings[cls], &rule, now_ms, &wait);
    pthread_mutex_unlock(&s->lock);
    if (ok)
        return;
    refuse(out, &rule, wait);
    metrics_inc(refused[cls]);
}

/* ---- setup ------------------------------------------------------------ */

static double
tracked_metric(void)
{
    return (double)atomic_load(&tracked);
}

static void
register_metrics(void)
{
    for (int c = 0; c < LIMIT_CLASSES; c++) {
        char labels[64];

        snprintf(labels, sizeof(labels), "class=\"%s\"", class_names[c]);
        refused[c] = metrics_counter(
            "cybrid_mock_rate_limited_total", labels,
            "Requests refused by a rate limit, by limit class.");
    }
    evicted = metrics_counter(
        "cybrid_mock_ratelimit_evictions_total", NULL,
        "Client addresses forgotten to keep the rate-limit table bounded.");
    metrics_gauge("cybrid_mock_ratelimit_tracked_addresses", NULL,
                  "Client addresses the rate limiter tracks now.",
                  tracked_metric);
}

void
ratelimit_init(size_t max_addresses, unsigned n)
{
    size_t per, buckets = 8;

    ratelimit_shutdown();
    register_metrics();
    if (max_addresses < 1)
        max_addresses = 1;
    if (n < 1)
        n = 1;
    if (n > max_addresses)
        n = (unsigned)max_addresses;
    while (n & (n - 1))
        n &= n - 1; /* down to a power of two */
    per = max_addresses / n;
    while (buckets < per)
        buckets *= 2;
    n_stripes = n;
    stripes = xcalloc(n, sizeof(*stripes));
    for (unsigned i = 0; i < n; i++) {
        pthread_mutex_init(&stripes[i].lock, NULL);
        stripes[i].buckets = xcalloc(buckets, sizeof(struct entry *));
        stripes[i].mask = buckets - 1;
        stripes[i].cap = per;
    }
}

void
ratelimit_shutdown(void)
{
    for (unsigned i = 0; i < n_stripes; i++) {
        stripe_clear(&stripes[i]);
        free(stripes[i].buckets);
        pthread_mutex_destroy(&stripes[i].lock);
    }
    free(stripes);
    stripes = NULL;
    n_stripes = 0;
    pthread_rwlock_wrlock(&proxy_lock);
    free(proxies);
    proxies = NULL;
    atomic_store(&n_proxies, 0);
    pthread_rwlock_unlock(&proxy_lock);
}

static struct limit_rule
rule_bounded(enum limit_class cls, const struct limit_rule *rule)
{
    struct limit_rule r = *rule;

    if (r.limit > RATELIMIT_LIMIT_MAX) {
        log_msg(LOG_WARN, "ratelimit", "%s limit %u cut to %u",
                class_names[cls], r.limit, RATELIMIT_LIMIT_MAX);
        r.limit = RATELIMIT_LIMIT_MAX;
    }
    if (r.window_ms < 0)
        r.window_ms = 0;
    if (r.status < 400 || r.status > 599)
        r.status = cls == LIMIT_GENERAL ? 429 : 403;
    return r;
}

static void
load_proxies(const struct strlist *list)
{
    struct cidr *v = xcalloc(list->n ? list->n : 1, sizeof(*v));
    struct mock_err err = {0};
    size_t n = 0;

    for (size_t i = 0; i < list->n; i++) {
        if (cidr_parse(list->v[i], &v[n], &err) == 0)
            n++;
        else
            log_msg(LOG_WARN, "ratelimit", "trusted proxy skipped: %s",
                    err.msg);
    }
    pthread_rwlock_wrlock(&proxy_lock);
    free(proxies);
    proxies = v;
    atomic_store(&n_proxies, n);
    pthread_rwlock_unlock(&proxy_lock);
}

void
ratelimit_load(const struct scenario *sc)
{
    lock_all();
    for (int c = 0; c < LIMIT_CLASSES; c++)
        rules[c] = rule_bounded(c, &sc->limits[c]);
    for (unsigned i = 0; i < n_stripes; i++)
        stripe_clear(&stripes[i]);
    unlock_all();
    load_proxies(&sc->trusted_proxies);
}

void
ratelimit_set_rule(enum limit_class cls, const struct limit_rule *rule)
{
    if (cls < 0 || cls >= LIMIT_CLASSES)
        return;
    lock_all();
    rules[cls] = rule_bounded(cls, rule);
    unlock_all();
}

void
ratelimit_forced_verdict(enum limit_class cls, struct ratelimit_verdict *out)
{
    struct limit_rule rule = {0};
    int token = cls == LIMIT_OAUTH_TOKEN || cls == LIMIT_CUSTOMER_TOKENS;

    if (cls >= 0 && cls < LIMIT_CLASSES) {
        if (n_stripes > 0)
            pthread_mutex_lock(&stripes[0].lock);
        rule = rules[cls];
        if (n_stripes > 0)
            pthread_mutex_unlock(&stripes[0].lock);
    }
    if (rule.status == 0) { /* no scenario loaded, or no class */
        rule.status = token ? 403 : 429;
        rule.retry_after = !token;
    }
    memset(out, 0, sizeof(*out));
    refuse(out, &rule, rule.window_ms);
}

size_t
ratelimit_tracked(void)
{
    return atomic_load(&tracked);
}

uint64_t
ratelimit_evictions(void)
{
    return evicted != NULL ? metrics_value(evicted) : 0;
}

/* ---- the request path ------------------------------------------------- */

/* "300 seconds", or milliseconds when the window is not whole seconds. */
static void
window_text(int64_t ms, char *out, size_t cap)
{
    if (ms % 1000 == 0)
        snprintf(out, cap, "%lld seconds", (long long)(ms / 1000));
    else
        snprintf(out, cap, "%lld milliseconds", (long long)ms);
}

void
ratelimit_reply(struct http_request *req, enum limit_class cls,
                const struct ratelimit_verdict *v)
{
    char window[48], seconds[24];

    window_text(v->window_ms, window, sizeof(window));
    if (v->send_retry_after) {
        snprintf(seconds, sizeof(seconds), "%lld", (long long)v->retry_after);
        http_header_add(req, "Retry-After", seconds);
    }
    if (cls == LIMIT_GENERAL)
        http_reply_error(req, v->status, "rate_limited",
                         "rate limit exceeded: at most %u requests per %s "
                         "from one client address; retry in %lld seconds",
                         v->limit, window, (long long)v->retry_after);
    else
        http_reply_error(req, v->status, "rate_limited",
                         "rate limit exceeded for %s: at most %u token "
                         "requests per %s from one client address (this is "
                         "a rate limit, not an authorization failure)",
                         cls == LIMIT_OAUTH_TOKEN ? "POST /oauth/token"
                                                  : "POST /api/customer_tokens",
                         v->limit, window);
}

int
ratelimit_request(struct http_request *req)
{
    enum limit_class cls = ratelimit_class_of(req->method, req->path);
    char addr[RATELIMIT_ADDR_MAX];
    struct ratelimit_verdict v;
    const char *xff = NULL;

    if (cls == LIMIT_NONE)
        return 0;
    if (atomic_load(&n_proxies) > 0)
        xff = http_header(req, "X-Forwarded-For");
    ratelimit_client_addr(req->client_addr, xff, addr, sizeof(addr));
    ratelimit_check(addr, cls, clock_now_ms(), &v);
    if (v.allowed)
        return 0;
    ratelimit_reply(req, cls, &v);
    return v.status;
}
