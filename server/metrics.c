/*
 * metrics: a static registry of series and a lock-free table of request
 * counts, rendered as Prometheus text on demand.
 *
 * Registration takes a mutex (it happens at start and on loads); a slot
 * is filled completely before the published count is raised with a
 * release store, so the renderer reads the registry without a lock.
 * Request counts live in an open-addressing table whose slots go from
 * empty to claimed (compare-and-swap) to ready; a thread that meets a
 * claimed slot waits for the few stores that make it ready.
 */
#include "metrics.h"

#include "log.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define LABELS_MAX_LEN 128
#define HELP_MAX_LEN 160

struct metrics_counter {
    _Atomic uint64_t value;
};

struct series {
    char name[NAME_MAX_LEN];
    char labels[LABELS_MAX_LEN];
    char help[HELP_MAX_LEN];
    metrics_gauge_fn gauge; /* NULL: a counter */
    struct metrics_counter counter;
};

static struct series registry[METRICS_MAX_SERIES];
static _Atomic size_t n_registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

enum { SLOT_EMPTY, SLOT_CLAIMED, SLOT_READY };

struct request_slot {
    _Atomic int state;
    int status;
    char route[NAME_MAX_LEN];
    _Atomic uint64_t count;
};

static struct request_slot requests[METRICS_MAX_REQUEST_KEYS];
static _Atomic uint64_t requests_other;

/* ---- registry --------------------------------------------------------- */

static int
name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= NAME_MAX_LEN || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") == n;
}

static struct series *
series_find(const char *name, const char *labels)
{
    size_t n = atomic_load_explicit(&n_registry, memory_order_acquire);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(registry[i].name, name) == 0 &&
            strcmp(registry[i].labels, labels) == 0)
            return &registry[i];
    }
    return NULL;
}

static struct series *
series_add(const char *name, const char *labels, const char *help,
           metrics_gauge_fn gauge)
{
    struct series *s;
    size_t n;

    if (labels == NULL)
        labels = "";
    if (!name_valid(name) || strlen(labels) >= LABELS_MAX_LEN) {
        log_msg(LOG_ERROR, "metrics", "bad metric name or labels: %s", name);
        abort();
    }
    pthread_mutex_lock(&registry_lock);
    s = series_find(name, labels);
    if (s == NULL) {
        n = atomic_load_explicit(&n_registry, memory_order_relaxed);
        if (n == METRICS_MAX_SERIES) {
            pthread_mutex_unlock(&registry_lock);
            log_msg(LOG_ERROR, "metrics", "too many series at %s", name);
            abort();
        }
        s = &registry[n];
        snprintf(s->name, sizeof(s->name), "%s", name);
        snprintf(s->labels, sizeof(s->labels), "%s", labels);
        snprintf(s->help, sizeof(s->help), "%s", help ? help : name);
        s->gauge = gauge;
        atomic_store_explicit(&n_registry, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

struct metrics_counter *
metrics_counter(const char *name, const char *labels, const char *help)
{
    return &series_add(name, labels, help, NULL)->counter;
}

void
metrics_gauge(const char *name, const char *labels, const char *help,
              metrics_gauge_fn fn)
{
    series_add(name, labels, help, fn);
}

void
metrics_add(struct metrics_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void
metrics_inc(struct metrics_counter *c)
{
    metrics_add(c, 1);
}

uint64_t
metrics_value(const struct metrics_counter *c)
{
    return atomic_load_explicit(&c->value, memory_order_relaxed);
}

/* ---- requests by route and status ------------------------------------- */

static uint64_t
key_hash(const char *route, int status)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)status;

    for (; *route; route++)
        h = (h ^ (unsigned char)*route) * 1099511628211ULL;
    return h;
}

/* The ready slot for (route, status), claiming one if needed; or NULL. */
static struct request_slot *
request_slot(const char *route, int status, int create)
{
    uint64_t h = key_hash(route, status);

    for (size_t probe = 0; probe < METRICS_MAX_REQUEST_KEYS; probe++) {
        struct request_slot *s =
            &requests[(h + probe) % METRICS_MAX_REQUEST_KEYS];
        int state = atomic_load_explicit(&s->state, memory_order_acquire);

        if (state == SLOT_EMPTY) {
            if (!create)
                return NULL;
            if (atomic_compare_exchange_strong(&s->state, &state,
                                               SLOT_CLAIMED)) {
                s->status = status;
                snprintf(s->route, sizeof(s->route), "%s", route);
                atomic_store_explicit(&s->state, SLOT_READY,
                                      memory_order_release);
                return s;
            }
        }
        /* Claimed by another thread: its key is a few stores away. */
        while (atomic_load_explicit(&s->state, memory_order_acquire) !=
               SLOT_READY)
            sched_yield();
        if (s->status == status && strcmp(s->route, route) == 0)
            return s;
    }
    return NULL;
}

/* The route name as a slot stores it: cut to fit, so long ones match. */
static const char *
stored_name(const char *route, char buf[NAME_MAX_LEN])
{
    if (route == NULL)
        return "";
    if (strlen(route) < NAME_MAX_LEN)
        return route;
    memcpy(buf, route, NAME_MAX_LEN - 1);
    buf[NAME_MAX_LEN - 1] = '\0';
    return buf;
}

void
metrics_request(const char *route, int status)
{
    char buf[NAME_MAX_LEN];
    struct request_slot *s = request_slot(stored_name(route, buf), status, 1);

    if (s == NULL)
        atomic_fetch_add_explicit(&requests_other, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

uint64_t
metrics_request_count(const char *route, int status)
{
    char buf[NAME_MAX_LEN];
    struct request_slot *s = request_slot(stored_name(route, buf), status, 0);

    return s ? atomic_load_explicit(&s->count, memory_order_relaxed) : 0;
}

/* ---- rendering -------------------------------------------------------- */

/* A label value with \, " and newline escaped as the format asks. */
static void
label_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;

    for (; *in && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void
render_requests(struct strbuf *b)
{
    char route[NAME_MAX_LEN * 2];
    uint64_t other;

    strbuf_printf(b, "# HELP cybrid_mock_requests_total Requests answered, by "
                     "route name and status.\n"
                     "# TYPE cybrid_mock_requests_total counter\n");
    for (size_t i = 0; i < METRICS_MAX_REQUEST_KEYS; i++) {
        struct request_slot *s = &requests[i];

        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        label_escape(s->route, route, sizeof(route));
        strbuf_printf(b,
                      "cybrid_mock_requests_total{route=\"%s\",status=\"%d\"} "
                      "%llu\n",
                      route, s->status,
                      (unsigned long long)atomic_load_explicit(
                          &s->count, memory_order_relaxed));
    }
    other = atomic_load_explicit(&requests_other, memory_order_relaxed);
    if (other > 0)
        strbuf_printf(b,
                      "cybrid_mock_requests_total{route=\"_other\","
                      "status=\"0\"} %llu\n",
                      (unsigned long long)other);
}

static void
render_series(struct strbuf *b, const struct series *s)
{
    const char *open = s->labels[0] ? "{" : "";
    const char *close = s->labels[0] ? "}" : "";

    if (s->gauge != NULL)
        strbuf_printf(b, "%s%s%s%s %.17g\n", s->name, open, s->labels, close,
                      s->gauge());
    else
        strbuf_printf(b, "%s%s%s%s %llu\n", s->name, open, s->labels, close,
                      (unsigned long long)metrics_value(&s->counter));
}

char *
metrics_render(size_t *len)
{
    size_t n = atomic_load_explicit(&n_registry, memory_order_acquire);
    struct strbuf b = {xmalloc(4096), 0, 4096};

    render_requests(&b);
    /* Families in order of first registration, their series together. */
    for (size_t i = 0; i < n; i++) {
        int first = 1;

        for (size_t j = 0; j < i && first; j++)
            first = strcmp(registry[j].name, registry[i].name) != 0;
        if (!first)
            continue;
        strbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", registry[i].name,
                      registry[i].help, registry[i].name,
                      registry[i].gauge ? "gauge" : "counter");
        for (size_t j = i; j < n; j++) {
            if (strcmp(registry[j].name, registry[i].name) == 0)
                render_series(&b, &registry[j]);
        }
    }
    *len = b.len;
    return b.p;
}

/* ---- the admin route -------------------------------------------------- */

static void
metrics_get(struct http_request *req)
{
    size_t len;
    char *text = metrics_render(&len);

    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static const struct http_route routes[] = {
    {"GET", "/__admin/metrics", metrics_get, "admin.metrics", NULL},
};

const struct http_route *
metrics_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
