/*
 * journal: the ring of request entries and its two admin routes.
 *
 * The ring's slots are allocated once and hold the numbers; an entry's
 * strings (id, method, path, client, token type, subject, message code,
 * fault and action) are packed one after another, each ending in a NUL,
 * into a single allocation freed when the slot is reused. Nothing is cut
 * short, and a full journal of ordinary requests costs about 200 bytes an
 * entry. Reading walks the ring from the newest entry back under the
 * mutex, so a listing sees one consistent moment.
 */
#include "journal.h"

#include "clock.h"
#include "faults.h"
#include "metrics.h"
#include "schema.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct entry {
    int64_t time_ms; /* virtual */
    int64_t real_ms;
    int64_t duration_us;
    int status;
    char *text; /* the strings of struct text, packed */
};

/* An entry's strings, in the order they are packed; "" for absent. */
enum {
    T_ID,
    T_METHOD,
    T_PATH,
    T_CLIENT,
    T_TOKEN_TYPE,
    T_SUBJECT,
    T_CODE,
    T_FAULT,
    T_ACTION,
    T_COUNT
};

struct text {
    const char *s[T_COUNT];
};

/* Packs t's strings into one allocation. */
static char *
pack(const struct text *t)
{
    size_t len[T_COUNT], total = 0;
    char *out, *p;

    for (int i = 0; i < T_COUNT; i++) {
        len[i] = strlen(t->s[i]) + 1;
        total += len[i];
    }
    p = out = xmalloc(total);
    for (int i = 0; i < T_COUNT; i++) {
        memcpy(p, t->s[i], len[i]);
        p += len[i];
    }
    return out;
}

static void
unpack(const char *packed, struct text *t)
{
    for (int i = 0; i < T_COUNT; i++) {
        t->s[i] = packed;
        packed += strlen(packed) + 1;
    }
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *ring;
static size_t cap, held, head; /* head: where the next entry goes */
static uint64_t dropped, total;
static struct metrics_counter *dropped_metric;

static double
size_metric(void)
{
    return (double)journal_size();
}

void
journal_init(size_t size)
{
    if (size < 1)
        size = 1;
    if (size > JOURNAL_MAX_SIZE)
        size = JOURNAL_MAX_SIZE;
    journal_shutdown();
    pthread_mutex_lock(&lock);
    ring = xcalloc(size, sizeof(*ring));
    cap = size;
    pthread_mutex_unlock(&lock);
    metrics_gauge("cybrid_mock_journal_entries", NULL,
                  "Requests held in the journal.", size_metric);
    dropped_metric = metrics_counter("cybrid_mock_journal_dropped_total", NULL,
                                     "Journal entries pushed out by its "
                                     "bound.");
}

/* Frees every entry's strings and forgets them; the lock is held. */
static void
empty(void)
{
    for (size_t i = 0; i < cap; i++) {
        free(ring[i].text);
        ring[i].text = NULL;
    }
    held = head = 0;
    dropped = total = 0;
}

void
journal_shutdown(void)
{
    pthread_mutex_lock(&lock);
    if (ring != NULL)
        empty();
    free(ring);
    ring = NULL;
    cap = 0;
    pthread_mutex_unlock(&lock);
}

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

void
journal_record(const struct http_request *req, const struct journal_extra *x)
{
    struct timespec ts;
    struct entry e;
    struct text t = {{
        [T_ID] = or_empty(req->request_id),
        [T_METHOD] = or_empty(req->method),
        [T_PATH] = or_empty(req->path),
        [T_CLIENT] = or_empty(req->client_addr),
        [T_TOKEN_TYPE] = or_empty(req->token_type),
        [T_SUBJECT] = or_empty(x ? x->subject : NULL),
        [T_CODE] = or_empty(req->error_code),
        [T_FAULT] = or_empty(x ? x->fault : NULL),
        [T_ACTION] = or_empty(x && x->fault ? x->action : NULL),
    }};
    int drop = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    e.time_ms = clock_now_ms();
    e.real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    e.status = req->aborted ? 0 : req->status;
    e.duration_us = clock_mono_us() - req->start_us;
    e.text = pack(&t);
    pthread_mutex_lock(&lock);
    if (ring == NULL) {
        pthread_mutex_unlock(&lock);
        free(e.text);
        return;
    }
    if (held == cap) {
        free(ring[head].text);
        dropped++;
        drop = 1;
    } else {
        held++;
    }
    ring[head] = e;
    head = (head + 1) % cap;
    total++;
    pthread_mutex_unlock(&lock);
    if (drop && dropped_metric != NULL)
        metrics_inc(dropped_metric);
}

size_t
journal_clear(void)
{
    size_t n;

    pthread_mutex_lock(&lock);
    n = held;
    if (ring != NULL)
        empty();
    pthread_mutex_unlock(&lock);
    return n;
}

size_t
journal_size(void)
{
    size_t n;

    pthread_mutex_lock(&lock);
    n = held;
    pthread_mutex_unlock(&lock);
    return n;
}

uint64_t
journal_dropped(void)
{
    uint64_t n;

    pthread_mutex_lock(&lock);
    n = dropped;
    pthread_mutex_unlock(&lock);
    return n;
}

uint64_t
journal_total(void)
{
    uint64_t n;

    pthread_mutex_lock(&lock);
    n = total;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- GET /__admin/requests -------------------------------------------- */

struct filter {
    char method[16];
    char path[HTTP_PATH_MAX];
    int status; /* -1: any; 0: dropped with no answer */
    int klass;  /* 1..5 for 1xx..5xx; 0: any */
    int64_t since_ms;
    size_t limit;
};

static void
add_string_or_null(cJSON *o, const char *key, const char *v)
{
    if (v[0] != '\0')
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *
entry_json(const struct entry *e, const struct text *t)
{
    cJSON *o = cJSON_CreateObject(), *faults;
    char iso[32];

    cJSON_AddStringToObject(o, "id", t->s[T_ID]);
    iso8601_format(e->time_ms, iso);
    cJSON_AddStringToObject(o, "time", iso);
    cJSON_AddNumberToObject(o, "time_ms", (double)e->time_ms);
    iso8601_format(e->real_ms, iso);
    cJSON_AddStringToObject(o, "real_time", iso);
    cJSON_AddStringToObject(o, "method", t->s[T_METHOD]);
    cJSON_AddStringToObject(o, "path", t->s[T_PATH]);
    cJSON_AddNumberToObject(o, "status", e->status);
    cJSON_AddNumberToObject(o, "duration_ms", (double)e->duration_us / 1000.0);
    cJSON_AddStringToObject(o, "client", t->s[T_CLIENT]);
    add_string_or_null(o, "token_type", t->s[T_TOKEN_TYPE]);
    add_string_or_null(o, "subject", t->s[T_SUBJECT]);
    add_string_or_null(o, "message_code", t->s[T_CODE]);
    faults = cJSON_AddArrayToObject(o, "faults");
    if (t->s[T_FAULT][0] != '\0') {
        cJSON *f = cJSON_CreateObject();

        cJSON_AddStringToObject(f, "name", t->s[T_FAULT]);
        cJSON_AddStringToObject(f, "action", t->s[T_ACTION]);
        cJSON_AddItemToArray(faults, f);
    }
    return o;
}

static int
keep(const struct entry *e, const struct text *t, const struct filter *f)
{
    if (f->method[0] && strcasecmp(f->method, t->s[T_METHOD]) != 0)
        return 0;
    if (f->path[0] && !faults_path_match(f->path, t->s[T_PATH]))
        return 0;
    if (f->status >= 0 && e->status != f->status)
        return 0;
    if (f->klass && e->status / 100 != f->klass)
        return 0;
    return e->time_ms >= f->since_ms;
}

/* since: ISO 8601 with a zone, or epoch seconds (a fraction allowed). */
static int
parse_since(const char *s, int64_t *ms)
{
    char *end;
    double v;

    if (schema_parse_instant(s, ms) == 0)
        return 0;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    v = strtod(s, &end);
    if (*end != '\0' || v < 0 || v > 1e11)
        return -1;
    *ms = (int64_t)(v * 1000.0);
    return 0;
}

static int
parse_status(const char *s, struct filter *f)
{
    if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
        strcmp(s + 1, "xx") == 0) {
        f->klass = s[0] - '0';
        return 0;
    }
    if (strlen(s) == 3 && strspn(s, "0123456789") == 3) {
        f->status = atoi(s);
        return 0;
    }
    if (strcmp(s, "0") == 0) {
        f->status = 0;
        return 0;
    }
    return -1;
}

/* Reads the filters; replies 400 itself on a bad one. */
static int
read_filter(struct http_request *req, struct filter *f)
{
    char buf[64];
    int n;

    memset(f, 0, sizeof(*f));
    f->status = -1;
    f->limit = JOURNAL_MAX_SIZE;
    if (http_query_param(req, "method", f->method, sizeof(f->method)) ==
        MOCK_EINVAL)
        goto bad;
    n = http_query_param(req, "path", f->path, sizeof(f->path));
    if (n == MOCK_EINVAL || (n > 0 && f->path[0] != '/'))
        goto bad;
    n = http_query_param(req, "status", buf, sizeof(buf));
    if (n == MOCK_EINVAL || (n > 0 && parse_status(buf, f) != 0))
        goto bad;
    n = http_query_param(req, "since", buf, sizeof(buf));
    if (n == MOCK_EINVAL || (n > 0 && parse_since(buf, &f->since_ms) != 0))
        goto bad;
    n = http_query_param(req, "limit", buf, sizeof(buf));
    if (n == MOCK_EINVAL || (n > 0 && (strspn(buf, "0123456789") != (size_t)n ||
                                       n > 7 || atol(buf) < 1)))
        goto bad;
    if (n > 0)
        f->limit = (size_t)atol(buf);
    return 0;
bad:
    http_reply_error(req, 400, "invalid_parameter",
                     "filters: method, path (a glob starting with /), "
                     "status (like 404 or 5xx, 0 for dropped), since (ISO "
                     "8601 or epoch seconds), limit (1..9999999)");
    return 400;
}

static void
requests_get(struct http_request *req)
{
    struct filter f;
    cJSON *body, *list;
    size_t matched = 0;

    if (read_filter(req, &f) != 0)
        return;
    body = cJSON_CreateObject();
    list = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < held; i++) {
        const struct entry *e = &ring[(head + cap - 1 - i) % cap];
        struct text t;

        unpack(e->text, &t);
        if (!keep(e, &t, &f))
            continue;
        if (matched++ < f.limit)
            cJSON_AddItemToArray(list, entry_json(e, &t));
    }
    cJSON_AddNumberToObject(body, "total", (double)total);
    cJSON_AddNumberToObject(body, "held", (double)held);
    cJSON_AddNumberToObject(body, "dropped", (double)dropped);
    cJSON_AddNumberToObject(body, "size", (double)cap);
    pthread_mutex_unlock(&lock);
    cJSON_AddNumberToObject(body, "matched", (double)matched);
    cJSON_AddItemToObject(body, "entries", list);
    http_reply_json(req, 200, body);
}

static void
requests_delete(struct http_request *req)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddNumberToObject(body, "cleared", (double)journal_clear());
    http_reply_json(req, 200, body);
}

static const struct http_route routes[] = {
    {"GET", "/__admin/requests", requests_get, "admin.requests", NULL},
    {"DELETE", "/__admin/requests", requests_delete, "admin.requests_delete",
     NULL},
};

const struct http_route *
journal_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
