/*
 * faults: matching, triggers and the actions of injected faults.
 *
 * The rules are a copy of the running scenario's, with a count per rule,
 * all under one mutex: a decision is a few string compares per rule, so
 * the lock is held briefly. The only costly input, the token type (a
 * signature check on a token's first use), is worked out before the lock
 * is taken, and only when some rule asks for it.
 */
#include "faults.h"

#include "app.h"
#include "clock.h"
#include "faultspec.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault_rule *rules;
static struct fault_counter *counts;
static size_t n_rules;
static int needs_token;
static atomic_size_t n_live; /* n_rules, read without the lock */
static atomic_int stopping;
static struct metrics_counter *fired_metric[FAULT_ACTIONS];

/* ---- globs ------------------------------------------------------------ */

/* Wildcard match of one segment: `*` is any run of characters. */
static int
seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < pn && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* p and s are at a '/' or their end. */
static int
glob_at(const char *p, const char *s)
{
    size_t pn, sn;

    if (*p == '\0')
        return *s == '\0';
    if (strncmp(p, "/**", 3) == 0 && (p[3] == '\0' || p[3] == '/')) {
        const char *q = s;

        for (;;) {
            if (glob_at(p + 3, q))
                return 1;
            if (*q == '\0')
                return 0;
            q = strchr(q + 1, '/');
            if (q == NULL)
                q = s + strlen(s);
        }
    }
    if (*s != '/')
        return 0;
    pn = strcspn(p + 1, "/");
    sn = strcspn(s + 1, "/");
    if (!seg_match(p + 1, pn, s + 1, sn))
        return 0;
    return glob_at(p + 1 + pn, s + 1 + sn);
}

int
faults_path_match(const char *glob, const char *path)
{
    char buf[HTTP_PATH_MAX];
    size_t n = strlen(path);

    if (n > 1 && path[n - 1] == '/' && n < sizeof(buf)) {
        memcpy(buf, path, n - 1);
        buf[n - 1] = '\0';
        path = buf;
    }
    return glob_at(glob, path);
}

/* ---- matching and triggers -------------------------------------------- */

static int
token_of(struct fault_view *v)
{
    if (v->token_cache == FAULTS_TOKEN_UNKNOWN)
        v->token_cache = v->token_type ? v->token_type(v->ctx) : 0;
    return v->token_cache;
}

int
faults_match(const struct fault_match *m, struct fault_view *v)
{
    if (m->method != NULL && strcmp(m->method, v->method) != 0)
        return 0;
    if (m->path != NULL && !faults_path_match(m->path, v->path))
        return 0;
    for (size_t i = 0; i < m->n_headers; i++) {
        const struct fault_header_match *h = &m->headers[i];
        const char *got = v->header ? v->header(v->ctx, h->name) : NULL;

        if (h->absent ? got != NULL : got == NULL)
            return 0;
        if (h->value != NULL && strcmp(h->value, got) != 0)
            return 0;
    }
    if (m->token_type != MATCH_TOKEN_ANY && token_of(v) != m->token_type)
        return 0;
    return 1;
}

void
faults_counter_init(struct fault_counter *c, const struct fault_trigger *t)
{
    c->matches = 0;
    c->fired = 0;
    c->prng = t->seed;
}

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t
prng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int
faults_trigger_fire(const struct fault_trigger *t, struct fault_counter *c)
{
    c->matches++;
    if (c->matches <= t->after)
        return 0;
    if (t->times != 0 && c->fired >= t->times)
        return 0;
    if (t->probability < 1.0) {
        double draw = (double)(prng_next(&c->prng) >> 11) * 0x1.0p-53;

        if (!(draw < t->probability))
            return 0;
    }
    c->fired++;
    return 1;
}

/* ---- loading ---------------------------------------------------------- */

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void
faults_match_copy(struct fault_match *dst, const struct fault_match *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->method = dup_or_null(src->method);
    dst->path = dup_or_null(src->path);
    dst->token_type = src->token_type;
    dst->n_headers = src->n_headers;
    dst->headers =
        xcalloc(src->n_headers ? src->n_headers : 1, sizeof(*dst->headers));
    for (size_t i = 0; i < src->n_headers; i++) {
        dst->headers[i].name = xstrdup(src->headers[i].name);
        dst->headers[i].value = dup_or_null(src->headers[i].value);
        dst->headers[i].absent = src->headers[i].absent;
    }
}

static void
copy_list(struct strlist *dst, const struct strlist *src)
{
    dst->n = src->n;
    dst->v = xcalloc(src->n ? src->n : 1, sizeof(char *));
    for (size_t i = 0; i < src->n; i++)
        dst->v[i] = xstrdup(src->v[i]);
}

static void
rule_copy(struct fault_rule *dst, const struct fault_rule *src)
{
    *dst = *src;
    dst->name = xstrdup(src->name);
    faults_match_copy(&dst->match, &src->match);
    copy_list(&dst->hdr_names, &src->hdr_names);
    copy_list(&dst->hdr_values, &src->hdr_values);
    dst->body = dup_or_null(src->body);
    dst->message_code = dup_or_null(src->message_code);
}

/* Frees the rules held; the lock is held. */
static void
rules_free(void)
{
    struct scenario tmp = {0};

    tmp.faults = rules;
    tmp.n_faults = n_rules;
    faultspec_free(&tmp);
    free(counts);
    rules = NULL;
    counts = NULL;
    n_rules = 0;
}

static void
register_metrics(void)
{
    for (int a = 0; a < FAULT_ACTIONS; a++) {
        char labels[64];

        snprintf(labels, sizeof(labels), "action=\"%s\"",
                 faultspec_action_name((enum fault_action)a));
        fired_metric[a] = metrics_counter("cybrid_mock_faults_fired_total",
                                          labels, "Injected faults fired.");
    }
}

void
faults_load(const struct scenario *sc)
{
    register_metrics();
    pthread_mutex_lock(&lock);
    rules_free();
    n_rules = sc->n_faults;
    rules = xcalloc(n_rules ? n_rules : 1, sizeof(*rules));
    counts = xcalloc(n_rules ? n_rules : 1, sizeof(*counts));
    needs_token = 0;
    for (size_t i = 0; i < n_rules; i++) {
        rule_copy(&rules[i], &sc->faults[i]);
        faults_counter_init(&counts[i], &rules[i].trigger);
        needs_token |= rules[i].match.token_type != MATCH_TOKEN_ANY;
    }
    atomic_store(&n_live, n_rules);
    pthread_mutex_unlock(&lock);
}

void
faults_shutdown(void)
{
    pthread_mutex_lock(&lock);
    rules_free();
    atomic_store(&n_live, 0);
    pthread_mutex_unlock(&lock);
}

/* ---- deciding --------------------------------------------------------- */

static void
decision_fill(struct fault_decision *out, const struct fault_rule *r)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", r->name);
    out->action = r->action;
    out->status = r->status;
    for (size_t i = 0; i < r->hdr_names.n && i < FAULTS_MAX_HEADERS; i++) {
        snprintf(out->hdr_names[i], sizeof(out->hdr_names[i]), "%s",
                 r->hdr_names.v[i]);
        snprintf(out->hdr_values[i], sizeof(out->hdr_values[i]), "%s",
                 r->hdr_values.v[i]);
        out->n_headers++;
    }
    out->body = dup_or_null(r->body);
    snprintf(out->message_code, sizeof(out->message_code), "%s",
             r->message_code ? r->message_code : "");
    out->ms = r->ms;
    out->keep_bytes = r->keep_bytes;
    out->limit_class = r->limit_class;
}

int
faults_decide(struct fault_view *v, struct fault_decision *out)
{
    int need, fired = 0;

    /* Most scenarios have no faults: no lock taken then. */
    if (atomic_load(&n_live) == 0)
        return 0;
    pthread_mutex_lock(&lock);
    need = needs_token;
    pthread_mutex_unlock(&lock);
    if (need)
        token_of(v);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_rules && !fired; i++) {
        if (!faults_match(&rules[i].match, v))
            continue;
        if (faults_trigger_fire(&rules[i].trigger, &counts[i])) {
            decision_fill(out, &rules[i]);
            fired = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    if (fired && fired_metric[out->action] != NULL)
        metrics_inc(fired_metric[out->action]);
    return fired;
}

void
faults_decision_free(struct fault_decision *d)
{
    free(d->body);
    d->body = NULL;
}

cJSON *
faults_state_json(void)
{
    cJSON *a = cJSON_CreateArray();

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_rules; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "name", rules[i].name);
        cJSON_AddStringToObject(o, "action",
                                faultspec_action_name(rules[i].action));
        cJSON_AddNumberToObject(o, "matches", (double)counts[i].matches);
        cJSON_AddNumberToObject(o, "fired", (double)counts[i].fired);
        cJSON_AddItemToArray(a, o);
    }
    pthread_mutex_unlock(&lock);
    return a;
}

/* ---- carrying out ----------------------------------------------------- */

void
faults_interrupt(void)
{
    atomic_store(&stopping, 1);
}

int
faults_interrupted(void)
{
    return atomic_load(&stopping);
}

/* Sleeps ms in short steps, ending early on faults_interrupt(). */
static void
pause_ms(int64_t ms)
{
    int64_t end = clock_mono_us() + ms * 1000;

    while (!faults_interrupted()) {
        int64_t left = end - clock_mono_us();
        struct timespec ts;

        if (left <= 0)
            return;
        if (left > 100000)
            left = 100000;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left * 1000;
        nanosleep(&ts, NULL);
    }
}

static const char *
code_for(int status)
{
    switch (status) {
    case 400:
        return "invalid_parameter";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 409:
        return "conflict";
    case 422:
        return "unprocessable_entity";
    case 429:
        return "rate_limited";
    case 503:
        return "service_unavailable";
    default:
        return status >= 500 ? "internal_server_error" : "error";
    }
}

static void
respond(struct http_request *req, const struct fault_decision *d)
{
    int has_type = 0;

    for (int i = 0; i < d->n_headers; i++) {
        http_header_add(req, d->hdr_names[i], d->hdr_values[i]);
        has_type |= strcasecmp(d->hdr_names[i], "Content-Type") == 0;
    }
    if (d->body != NULL) {
        http_reply(req, d->status,
                   has_type ? NULL : "application/json; charset=utf-8", d->body,
                   strlen(d->body));
        return;
    }
    if (d->status == 204 || d->status == 304) {
        http_reply_empty(req, d->status);
        return;
    }
    /* req keeps the code's pointer: d outlives the request (app.c). */
    http_reply_error(req, d->status,
                     d->message_code[0] ? d->message_code : code_for(d->status),
                     "injected by fault %s", d->name);
}

static const char malformed_body[] = "{\"guid\": \"0f1e2d3c\", \"state\": ";

static int
act(struct http_request *req, const struct fault_decision *d)
{
    struct ratelimit_verdict verdict;
    enum limit_class cls;

    switch (d->action) {
    case FAULT_RESPOND:
        respond(req, d);
        return 1;
    case FAULT_DELAY:
        pause_ms(d->ms);
        return 0;
    case FAULT_RESET:
        http_abort(req);
        return 1;
    case FAULT_HANG:
        http_hold(req, d->ms, faults_interrupted);
        http_abort(req);
        return 1;
    case FAULT_TRUNCATE:
        req->truncate = 1;
        req->truncate_keep = d->keep_bytes;
        return 0;
    case FAULT_MALFORMED:
        http_reply(req, 200, "application/json; charset=utf-8", malformed_body,
                   sizeof(malformed_body) - 1);
        return 1;
    case FAULT_EXPIRE_TOKENS:
        identity_expire_tokens();
        return 0;
    case FAULT_RATE_LIMIT:
    default:
        cls = d->limit_class != LIMIT_NONE
                  ? (enum limit_class)d->limit_class
                  : ratelimit_class_of(req->method, req->path);
        if (cls == LIMIT_NONE)
            cls = LIMIT_GENERAL;
        ratelimit_forced_verdict(cls, &verdict);
        ratelimit_reply(req, cls, &verdict);
        return 1;
    }
}

static const char *
view_header(void *ctx, const char *name)
{
    return http_header(ctx, name);
}

static int
view_token(void *ctx)
{
    return (int)identity_token_type(ctx);
}

int
faults_request(struct http_request *req, struct fault_decision *fired)
{
    struct fault_view v = {req->method, req->path, view_header,
                           view_token,  req,       FAULTS_TOKEN_UNKNOWN};
    int rc;

    memset(fired, 0, sizeof(*fired));
    if (!faults_decide(&v, fired))
        return 0;
    log_msg(LOG_INFO, "faults", "fault %s fired: %s on %s %s", fired->name,
            faultspec_action_name(fired->action), req->method, req->path);
    rc = act(req, fired);
    faults_decision_free(fired);
    return rc;
}
