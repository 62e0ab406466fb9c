/*
 * timeline: entries copied from the scenario, a mutex over them and their
 * state, and one worker thread waiting on a condition variable for the
 * next `at` entry (woken early by loads, ticks and the stop).
 *
 * Effects run with the mutex held, so two firings never interleave; none
 * of them calls back into this module.
 */
#include "timeline.h"

#include "app.h"
#include "clock.h"
#include "faults.h"
#include "faultspec.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "webhooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One entry and what has happened to it. */
struct slot {
    struct timeline_entry e;
    struct fault_counter count;
    uint64_t fired;
    int64_t last_fired_ms; /* virtual; 0: never */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct slot *slots;
static size_t n_slots;
static int64_t start_ms;
static char first_org[33];
static struct limit_rule current[LIMIT_CLASSES];
static pthread_t worker;
static int running, stop_flag;
static struct metrics_counter *fired_metric;
/* Read without the lock on every request: the virtual ms of the next
 * `at` entry (INT64_MAX: none) and how many entries have `on`. */
static _Atomic int64_t next_due = INT64_MAX;
static atomic_size_t n_on;

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void
entry_copy(struct timeline_entry *dst, const struct timeline_entry *src)
{
    *dst = *src;
    dst->name = xstrdup(src->name);
    faults_match_copy(&dst->on, &src->on);
    dst->event_type = dup_or_null(src->event_type);
    dst->tamper = dup_or_null(src->tamper);
    dst->organization_guid = dup_or_null(src->organization_guid);
    dst->bank_guid = dup_or_null(src->bank_guid);
    dst->object_guid = dup_or_null(src->object_guid);
}

/* Frees the entries; the lock is held. */
static void
slots_free(void)
{
    struct scenario tmp = {0};

    tmp.n_timeline = n_slots;
    tmp.timeline = xcalloc(n_slots ? n_slots : 1, sizeof(*tmp.timeline));
    for (size_t i = 0; i < n_slots; i++)
        tmp.timeline[i] = slots[i].e;
    faultspec_free(&tmp);
    free(slots);
    slots = NULL;
    n_slots = 0;
}

void
timeline_load(const struct scenario *sc)
{
    size_t on = 0;

    fired_metric = metrics_counter("cybrid_mock_timeline_fired_total", NULL,
                                   "Timeline entries fired.");
    pthread_mutex_lock(&lock);
    slots_free();
    n_slots = sc->n_timeline;
    slots = xcalloc(n_slots ? n_slots : 1, sizeof(*slots));
    for (size_t i = 0; i < n_slots; i++) {
        entry_copy(&slots[i].e, &sc->timeline[i]);
        faults_counter_init(&slots[i].count, &slots[i].e.trigger);
        on += slots[i].e.has_on;
    }
    atomic_store(&n_on, on);
    start_ms = clock_now_ms();
    atomic_store(&next_due, 0); /* the next tick works it out */
    snprintf(first_org, sizeof(first_org), "%s",
             sc->n_organizations ? sc->organizations[0].guid : "");
    memcpy(current, sc->limits, sizeof(current));
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
}

/* ---- effects ---------------------------------------------------------- */

static void
emit(const struct timeline_entry *e)
{
    struct webhook_event ev = {0};
    struct mock_err err = {0};

    ev.event_type = e->event_type;
    ev.organization_guid =
        e->organization_guid ? e->organization_guid : first_org;
    ev.bank_guid = e->bank_guid;
    ev.object_guid = e->object_guid;
    if (e->tamper != NULL)
        webhook_tamper_parse(e->tamper, &ev.tamper);
    if (webhooks_emit(&ev, NULL, &err) != 0)
        log_msg(LOG_WARN, "timeline", "%s: emit %s: %s", e->name, e->event_type,
                err.msg);
}

static void
change_limits(const struct timeline_entry *e)
{
    for (int c = 0; c < LIMIT_CLASSES; c++) {
        const struct limit_change *ch = &e->limits[c];
        struct limit_rule *r = &current[c];

        if (!ch->given)
            continue;
        if (ch->off) {
            r->enabled = 0;
        } else {
            r->enabled = 1;
            if (ch->mask & LIMIT_SET_LIMIT)
                r->limit = ch->rule.limit;
            if (ch->mask & LIMIT_SET_WINDOW)
                r->window_ms = ch->rule.window_ms;
            if (ch->mask & LIMIT_SET_STATUS)
                r->status = ch->rule.status;
            if (ch->mask & LIMIT_SET_RETRY_AFTER)
                r->retry_after = ch->rule.retry_after;
        }
        ratelimit_set_rule((enum limit_class)c, r);
    }
}

/* Carries out a slot's effects; the lock is held. */
static void
fire(struct slot *s)
{
    s->fired++;
    s->last_fired_ms = clock_now_ms();
    if (fired_metric != NULL)
        metrics_inc(fired_metric);
    log_msg(LOG_INFO, "timeline", "entry %s fired", s->e.name);
    if (s->e.emit)
        emit(&s->e);
    if (s->e.expire_tokens)
        identity_expire_tokens();
    change_limits(&s->e);
}

/* ---- triggers --------------------------------------------------------- */

/*
 * Fires the due `at` entries; returns ms until the next one, or -1. The
 * lock is held.
 */
static int64_t
fire_due(void)
{
    int64_t now = clock_now_ms(), next = -1;

    for (size_t i = 0; i < n_slots; i++) {
        struct slot *s = &slots[i];
        int64_t due = start_ms + s->e.at_ms;

        if (s->e.has_on || s->fired > 0)
            continue;
        if (now >= due)
            fire(s);
        else if (next < 0 || due - now < next)
            next = due - now;
    }
    atomic_store(&next_due, next < 0 ? INT64_MAX : now + next);
    return next;
}

void
timeline_tick(void)
{
    if (clock_now_ms() < atomic_load(&next_due))
        return;
    pthread_mutex_lock(&lock);
    fire_due();
    pthread_mutex_unlock(&lock);
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

void
timeline_request(struct http_request *req)
{
    struct fault_view v = {req->method, req->path, view_header,
                           view_token,  req,       FAULTS_TOKEN_UNKNOWN};

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_slots; i++) {
        struct slot *s = &slots[i];

        if (s->e.has_on && faults_match(&s->e.on, &v) &&
            faults_trigger_fire(&s->e.trigger, &s->count))
            fire(s);
    }
    pthread_mutex_unlock(&lock);
}

/* ---- worker ----------------------------------------------------------- */

static void *
run(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!stop_flag) {
        int64_t next = fire_due();
        struct timespec ts;

        /* Virtual time runs at real speed between advances. */
        if (next < 0 || next > 60000)
            next = 60000;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += next / 1000;
        ts.tv_nsec += (long)(next % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int
timeline_start(struct mock_err *err)
{
    sigset_t all, old;
    int rc;

    pthread_mutex_lock(&lock);
    stop_flag = 0;
    pthread_mutex_unlock(&lock);
    /* The worker inherits a mask with every signal blocked: signals are
     * main's to take (sigwait). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&worker, NULL, run, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return err_set(err, MOCK_EIO, "cannot start the timeline worker");
    running = 1;
    return 0;
}

void
timeline_stop(void)
{
    pthread_mutex_lock(&lock);
    stop_flag = 1;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    if (running)
        pthread_join(worker, NULL);
    running = 0;
    pthread_mutex_lock(&lock);
    slots_free();
    atomic_store(&n_on, 0);
    atomic_store(&next_due, INT64_MAX);
    pthread_mutex_unlock(&lock);
}

/* ---- state ------------------------------------------------------------ */

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
    char iso[32];

    if (ms == 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    iso8601_format(ms, iso);
    cJSON_AddStringToObject(o, key, iso);
}

static cJSON *
slot_json(const struct slot *s)
{
    cJSON *o = cJSON_CreateObject(), *fx;

    cJSON_AddStringToObject(o, "name", s->e.name);
    if (s->e.has_on) {
        cJSON *on = cJSON_AddObjectToObject(o, "on");

        if (s->e.on.method != NULL)
            cJSON_AddStringToObject(on, "method", s->e.on.method);
        if (s->e.on.path != NULL)
            cJSON_AddStringToObject(on, "path", s->e.on.path);
        cJSON_AddNumberToObject(o, "matches", (double)s->count.matches);
    } else {
        cJSON_AddNumberToObject(o, "at_seconds", (double)s->e.at_ms / 1000.0);
        add_time(o, "due_at", start_ms + s->e.at_ms);
    }
    cJSON_AddNumberToObject(o, "fired", (double)s->fired);
    add_time(o, "last_fired_at", s->last_fired_ms);
    fx = cJSON_AddArrayToObject(o, "effects");
    if (s->e.emit)
        cJSON_AddItemToArray(fx, cJSON_CreateString("emit"));
    if (s->e.expire_tokens)
        cJSON_AddItemToArray(fx, cJSON_CreateString("expire_tokens"));
    for (int c = 0; c < LIMIT_CLASSES; c++) {
        if (s->e.limits[c].given) {
            cJSON_AddItemToArray(fx, cJSON_CreateString("rate_limits"));
            break;
        }
    }
    if (s->e.emit) {
        cJSON_AddStringToObject(o, "event_type", s->e.event_type);
        if (s->e.tamper != NULL)
            cJSON_AddStringToObject(o, "tamper", s->e.tamper);
    }
    return o;
}

cJSON *
timeline_state_json(void)
{
    cJSON *a = cJSON_CreateArray();

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_slots; i++)
        cJSON_AddItemToArray(a, slot_json(&slots[i]));
    pthread_mutex_unlock(&lock);
    return a;
}
