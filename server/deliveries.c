/*
 * deliveries: the bounded queue of webhook deliveries and the worker
 * threads that send them.
 *
 * The queue is an array of jobs guarded by one mutex; a worker takes the
 * job with the earliest due time that has come (virtual clock), sends it
 * with the mutex released, then either puts it back with its next due
 * time or frees it. A job in flight still holds its queue slot, so the
 * bound counts it. Workers sleep on a condition variable (monotonic
 * clock) until the earliest due time, at most a second; new jobs and
 * clock advances signal it. Each load bumps a generation number: a job
 * from an earlier load that finishes late changes nothing.
 *
 * Lock order: never hold the queue mutex while calling into the store.
 */
#include "deliveries.h"

#include "attemptlog.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "outbound.h"
#include "store.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 8
#define IDLE_WAIT_MS 1000

enum job_kind { JOB_DELIVERY, JOB_REPLAY };

struct job {
    enum job_kind kind;
    char delivery[33], subscription[33], event[33];
    char event_type[64];
    char *body; /* the event's JSON, sent as is on every attempt */
    size_t body_len;
    enum webhook_tamper tamper;
    unsigned attempts; /* requests made for this delivery so far */
    int64_t due_ms;    /* virtual time */
    int in_flight;
    uint64_t gen;
    /* JOB_REPLAY: the recorded request to send again. */
    char signature[OUTBOUND_SIG_LEN + 1];
    int64_t timestamp;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int wake_ready;
static struct job **jobs;
static size_t n_jobs, cap_jobs;
static struct webhook_config cfg = {5, 1000, 2.0, 10000, NULL, 0, 1, 1024};
static uint64_t gen;
static int stopping;
static size_t n_dropped, n_abandoned;
static pthread_t workers[MAX_WORKERS];
static unsigned n_workers;
static _Atomic int64_t abort_at;
static struct metrics_counter *m_ok, *m_refused, *m_error, *m_dropped;
static struct metrics_counter *m_accepted;

static void
job_free(struct job *j)
{
    if (j == NULL)
        return;
    free(j->body);
    free(j);
}

/* Removes jobs[i] from the array (order is not kept). Under mu. */
static void
queue_remove(size_t i)
{
    jobs[i] = jobs[--n_jobs];
}

/* Adds j unless the queue is full. Under mu. 0 or MOCK_ELIMIT. */
static int
queue_add(struct job *j)
{
    if (n_jobs >= cfg.queue_max) {
        n_dropped++;
        if (m_dropped != NULL)
            metrics_inc(m_dropped);
        return MOCK_ELIMIT;
    }
    if (n_jobs == cap_jobs) {
        cap_jobs = cap_jobs ? cap_jobs * 2 : 64;
        jobs = xrealloc(jobs, cap_jobs * sizeof(*jobs));
    }
    jobs[n_jobs++] = j;
    pthread_cond_broadcast(&wake);
    return 0;
}

/* Frees every job not in flight and orphans the rest. Under mu. */
static void
queue_clear(void)
{
    for (size_t i = n_jobs; i-- > 0;) {
        if (!jobs[i]->in_flight)
            job_free(jobs[i]);
        queue_remove(i);
    }
}

static void
init_wake(void)
{
    pthread_condattr_t attr;

    if (wake_ready)
        return;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    wake_ready = 1;
}

void
deliveries_load(const struct webhook_config *c)
{
    uint64_t this_gen;

    pthread_mutex_lock(&mu);
    init_wake();
    queue_clear();
    free(cfg.ca_file);
    cfg = *c;
    cfg.ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
    if (cfg.queue_max == 0)
        cfg.queue_max = 1;
    this_gen = ++gen;
    n_dropped = 0;
    pthread_mutex_unlock(&mu);
    attemptlog_clear(this_gen);
    if (!c->verify_tls)
        log_msg(LOG_WARN, "webhooks",
                "verify_tls is off: receivers' certificates are not checked");
}

void
deliveries_wake(void)
{
    pthread_mutex_lock(&mu);
    if (wake_ready)
        pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
}

void
deliveries_stats(struct webhooks_stats *out)
{
    pthread_mutex_lock(&mu);
    out->queued = n_jobs;
    out->dropped = n_dropped;
    out->abandoned = n_abandoned;
    pthread_mutex_unlock(&mu);
    out->attempts = attemptlog_total();
}

/* ---- delivery state in the store -------------------------------------- */

static void
set_time(cJSON *obj, const char *key, int64_t ms)
{
    char iso[32];

    iso8601_format(ms, iso);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, iso);
}

static void
set_null(cJSON *obj, const char *key)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNullToObject(obj, key);
}

static void
set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, value);
}

/* The outcome of one delivery attempt, applied to the stored delivery. */
struct outcome {
    const char *state; /* completed, failing or failed */
    const char *response;
    unsigned attempts;
    int64_t now_ms, next_ms;
};

static int
apply_outcome(cJSON *d, void *arg)
{
    const struct outcome *o = arg;

    set_string(d, "state", o->state);
    cJSON_DeleteItemFromObjectCaseSensitive(d, "attempt_count");
    cJSON_AddNumberToObject(d, "attempt_count", o->attempts);
    if (o->response != NULL)
        set_string(d, "response", o->response);
    if (o->next_ms > 0)
        set_time(d, "next_attempt_at", o->next_ms);
    else
        set_null(d, "next_attempt_at");
    if (strcmp(o->state, "completed") == 0) {
        set_time(d, "completed_at", o->now_ms);
        cJSON_DeleteItemFromObjectCaseSensitive(d, "_completed_ms");
        cJSON_AddNumberToObject(d, "_completed_ms", (double)o->now_ms);
    }
    if (strcmp(o->state, "failed") == 0)
        set_time(d, "failed_at", o->now_ms);
    store_touch(d, o->now_ms);
    return 0;
}

/* deliveries_failing_since: set on the first failure, cleared on success. */
static int
apply_failing(cJSON *s, void *arg)
{
    const struct outcome *o = arg;
    const cJSON *since =
        cJSON_GetObjectItemCaseSensitive(s, "deliveries_failing_since");

    if (strcmp(o->state, "completed") == 0) {
        if (cJSON_IsNull(since))
            return 0;
        set_null(s, "deliveries_failing_since");
    } else if (since == NULL || cJSON_IsNull(since)) {
        set_time(s, "deliveries_failing_since", o->now_ms);
    } else {
        return 0;
    }
    store_touch(s, o->now_ms);
    return 0;
}

static void
record_outcome(const struct job *j, const struct outcome *o)
{
    store_update(STORE_DELIVERIES, j->delivery, apply_outcome, (void *)o, NULL);
    store_update(STORE_SUBSCRIPTIONS, j->subscription, apply_failing, (void *)o,
                 NULL);
}

int
deliveries_enqueue(const struct delivery_spec *spec)
{
    struct job *j = xcalloc(1, sizeof(*j));
    struct outcome o = {.state = "failed",
                        .response = "not queued: the delivery queue is full"};
    int rc;

    j->kind = JOB_DELIVERY;
    snprintf(j->delivery, sizeof(j->delivery), "%s", spec->delivery);
    snprintf(j->subscription, sizeof(j->subscription), "%s",
             spec->subscription);
    snprintf(j->event, sizeof(j->event), "%s", spec->event);
    snprintf(j->event_type, sizeof(j->event_type), "%s", spec->event_type);
    j->body = xstrndup(spec->body, spec->body_len);
    j->body_len = spec->body_len;
    j->tamper = spec->tamper;
    j->due_ms = spec->due_ms;
    pthread_mutex_lock(&mu);
    j->gen = gen;
    rc = queue_add(j);
    pthread_mutex_unlock(&mu);
    if (rc != 0) {
        log_msg(LOG_WARN, "webhooks", "queue full: delivery %s dropped",
                j->delivery);
        o.now_ms = clock_now_ms();
        record_outcome(j, &o);
        job_free(j);
    }
    return rc;
}

/* ---- sending ---------------------------------------------------------- */

/* A subscription's url and signing key, copied out of the store. */
struct target {
    char *url;
    char *key; /* wiped when freed */
};

static int
target_get(const char *subscription, struct target *t)
{
    cJSON *s = store_get(STORE_SUBSCRIPTIONS, subscription);
    const cJSON *url, *key;
    int rc = MOCK_ENOENT;

    memset(t, 0, sizeof(*t));
    if (s == NULL)
        return rc;
    url = cJSON_GetObjectItemCaseSensitive(s, "url");
    key = cJSON_GetObjectItemCaseSensitive(s, "signing_key");
    if (cJSON_IsString(url) && cJSON_IsString(key)) {
        t->url = xstrdup(url->valuestring);
        t->key = xstrdup(key->valuestring);
        rc = 0;
    }
    if (cJSON_IsString(key))
        OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
    cJSON_Delete(s);
    return rc;
}

static void
target_free(struct target *t)
{
    free(t->url);
    secret_free(t->key);
}

/* Fills the signature and timestamp of a request as the tamper mode says. */
static void
sign_request(const struct job *j, const struct target *t,
             struct outbound_request *rq, char sig[OUTBOUND_SIG_LEN + 1])
{
    unsigned char other_key[32];
    char *other;

    rq->timestamp = clock_now();
    rq->signature = sig;
    switch (j->tamper) {
    case WEBHOOK_TAMPER_BAD_SIGNATURE:
        other = xasprintf("%s ", j->body);
        outbound_sign(t->key, strlen(t->key), other, j->body_len + 1, sig);
        free(other);
        break;
    case WEBHOOK_TAMPER_UNSIGNED:
        rq->signature = NULL;
        sig[0] = '\0';
        break;
    case WEBHOOK_TAMPER_WRONG_KEY:
        random_bytes(other_key, sizeof(other_key));
        outbound_sign(other_key, sizeof(other_key), j->body, j->body_len, sig);
        OPENSSL_cleanse(other_key, sizeof(other_key));
        break;
    case WEBHOOK_TAMPER_STALE_TIMESTAMP:
        rq->timestamp -= WEBHOOK_STALE_SECONDS;
        outbound_sign(t->key, strlen(t->key), j->body, j->body_len, sig);
        break;
    default:
        outbound_sign(t->key, strlen(t->key), j->body, j->body_len, sig);
    }
}

static int
is_2xx(const struct outbound_result *r)
{
    return r->status >= 200 && r->status < 300;
}

/*
 * 1 when a careful receiver rejects this request: a forged or missing
 * signature, an hour-old timestamp, or an event id it has seen (the
 * second copy of a duplicate, a replay).
 */
static int
must_reject(const struct job *j, const char *what)
{
    switch (j->tamper) {
    case WEBHOOK_TAMPER_BAD_SIGNATURE:
    case WEBHOOK_TAMPER_UNSIGNED:
    case WEBHOOK_TAMPER_WRONG_KEY:
    case WEBHOOK_TAMPER_STALE_TIMESTAMP:
        return 1;
    case WEBHOOK_TAMPER_DUPLICATE:
    case WEBHOOK_TAMPER_REPLAY:
        return strcmp(what, "delivery") != 0;
    default:
        return 0;
    }
}

/* One log line per request: never the url, a key or the signature. */
static void
log_attempt(const struct attemptlog_entry *e)
{
    struct log_line l;
    enum log_level level =
        e->status >= 200 && e->status < 300 ? LOG_INFO : LOG_WARN;

    if (!log_enabled(level))
        return;
    log_begin(&l, level, "webhooks", "attempt");
    log_str(&l, "delivery", e->delivery);
    log_str(&l, "event_type", e->event_type);
    log_str(&l, "kind", e->kind);
    log_int(&l, "attempt", e->attempt);
    log_int(&l, "status", e->status);
    if (e->error != NULL)
        log_str(&l, "error", e->error);
    log_int(&l, "duration_ms", (long long)e->duration_ms);
    log_str(&l, "tamper", e->tamper);
    log_end(&l);
}

/* Sends one request and records it in the attempt log. */
static void
send_one(struct outbound *ob, const struct job *j,
         const struct outbound_request *rq, const char *what,
         struct outbound_result *res)
{
    struct attemptlog_entry e = {0};

    outbound_post(ob, rq, &abort_at, res);
    e.time_ms = clock_now_ms();
    e.delivery = j->delivery;
    e.subscription = j->subscription;
    e.event = j->event;
    e.event_type = j->event_type;
    e.url = rq->url;
    e.status = res->status;
    e.error = res->error[0] ? res->error : NULL;
    e.answer = res->answer;
    e.duration_ms = res->duration_ms;
    e.wait_ms = res->wait_ms;
    e.signature = rq->signature;
    e.timestamp = rq->timestamp;
    e.tamper = webhook_tamper_name(j->tamper);
    e.kind = what;
    e.attempt = j->attempts;
    e.must_reject = must_reject(j, what);
    attemptlog_add(&e, j->gen);
    audit_webhook_attempt(&e);
    log_attempt(&e);
    metrics_inc(is_2xx(res) ? m_ok : res->status ? m_refused : m_error);
    if (e.must_reject && is_2xx(res))
        metrics_inc(m_accepted);
}

static void
fill_request(struct outbound_request *rq, const struct job *j,
             const struct target *t, const struct webhook_config *c)
{
    memset(rq, 0, sizeof(*rq));
    rq->url = t->url;
    rq->body = j->body;
    rq->body_len = j->body_len;
    rq->event_id = j->event;
    rq->timeout_ms = c->timeout_ms;
    rq->ca_file = c->ca_file;
    rq->verify_tls = c->verify_tls;
    rq->allow_http = c->allow_http;
}

/* The text kept as a delivery's `response`. */
static char *
response_text(const struct outbound_result *r)
{
    if (r->status == 0)
        return xstrdup(r->error);
    return xasprintf("%ld %s", r->status, r->answer);
}

static struct job *make_replay(const struct job *j,
                               const struct outbound_request *rq,
                               int64_t sent_ms);

/*
 * One attempt of a delivery (or the replay of one). Returns the job to
 * put back in the queue (possibly a new replay job), or NULL. Runs with
 * mu released; c is a private copy of the settings.
 */
static struct job *
run_job(struct outbound *ob, struct job *j, const struct webhook_config *c,
        struct job **extra)
{
    struct outbound_request rq;
    struct outbound_result res;
    struct outcome o = {0};
    struct target t;
    char sig[OUTBOUND_SIG_LEN + 1];
    char *text;
    int64_t delay, sent_ms;

    *extra = NULL;
    if (target_get(j->subscription, &t) != 0) {
        o.state = "failed";
        o.response = "subscription deleted";
        o.attempts = j->attempts;
        o.now_ms = clock_now_ms();
        if (j->kind == JOB_DELIVERY)
            record_outcome(j, &o);
        return NULL;
    }
    fill_request(&rq, j, &t, c);
    if (j->kind == JOB_REPLAY) {
        rq.signature = j->signature[0] ? j->signature : NULL;
        rq.timestamp = j->timestamp;
        send_one(ob, j, &rq, "replay", &res);
        target_free(&t);
        return NULL;
    }
    j->attempts++;
    sign_request(j, &t, &rq, sig);
    sent_ms = clock_now_ms();
    send_one(ob, j, &rq, "delivery", &res);
    if (j->tamper == WEBHOOK_TAMPER_DUPLICATE) {
        struct outbound_result dup;

        send_one(ob, j, &rq, "duplicate", &dup);
    }
    if (j->tamper == WEBHOOK_TAMPER_REPLAY && j->attempts == 1)
        *extra = make_replay(j, &rq, sent_ms);
    target_free(&t);

    o.attempts = j->attempts;
    o.now_ms = clock_now_ms();
    delay = webhooks_retry_delay_ms(c, j->attempts);
    if (is_2xx(&res))
        o.state = "completed";
    else if (delay < 0)
        o.state = "failed";
    else {
        o.state = "failing";
        o.next_ms = o.now_ms + delay;
    }
    text = response_text(&res);
    o.response = text;
    record_outcome(j, &o);
    free(text);
    if (o.next_ms == 0)
        return NULL;
    j->due_ms = o.next_ms;
    return j;
}

static struct job *
make_replay(const struct job *j, const struct outbound_request *rq,
            int64_t sent_ms)
{
    struct job *r = xcalloc(1, sizeof(*r));

    *r = *j;
    r->kind = JOB_REPLAY;
    r->body = xstrndup(j->body, j->body_len);
    r->in_flight = 0;
    r->timestamp = rq->timestamp;
    snprintf(r->signature, sizeof(r->signature), "%s",
             rq->signature ? rq->signature : "");
    /* A minute after the original left, whenever its answer came. */
    r->due_ms = sent_ms + WEBHOOK_REPLAY_DELAY_MS;
    return r;
}

/* ---- workers ---------------------------------------------------------- */

/* The due job with the earliest due time, or NULL; *wait_ms: how long
 * until the next one is due. Under mu. */
static struct job *
pick(int64_t now, int64_t *wait_ms)
{
    struct job *best = NULL;

    *wait_ms = IDLE_WAIT_MS;
    for (size_t i = 0; i < n_jobs; i++) {
        struct job *j = jobs[i];

        if (j->in_flight)
            continue;
        if (j->due_ms <= now && (best == NULL || j->due_ms < best->due_ms))
            best = j;
        else if (j->due_ms > now && j->due_ms - now < *wait_ms)
            *wait_ms = j->due_ms - now;
    }
    return best;
}

static void
wait_ms_locked(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&wake, &mu, &ts);
}

static size_t
find_job(const struct job *j)
{
    for (size_t i = 0; i < n_jobs; i++) {
        if (jobs[i] == j)
            return i;
    }
    return (size_t)-1;
}

/* Puts a finished job back or frees it, and queues its replay. Under mu. */
static void
finish_job(struct job *j, struct job *again, struct job *extra)
{
    size_t at = find_job(j);

    j->in_flight = 0;
    if (at == (size_t)-1 || j->gen != gen) {
        /* Cleared by a load while in flight: drop it and its replay. */
        job_free(j);
        job_free(extra);
        return;
    }
    if (again == NULL) {
        queue_remove(at);
        job_free(j);
    }
    if (extra != NULL && queue_add(extra) != 0)
        job_free(extra);
}

static void *
worker_main(void *arg)
{
    struct outbound *ob = outbound_new();
    struct webhook_config c;
    struct job *j, *again, *extra;
    int64_t wait;

    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        j = pick(clock_now_ms(), &wait);
        if (j == NULL) {
            wait_ms_locked(wait > 0 ? wait : 1);
            continue;
        }
        j->in_flight = 1;
        c = cfg;
        c.ca_file = cfg.ca_file ? xstrdup(cfg.ca_file) : NULL;
        pthread_mutex_unlock(&mu);
        again = run_job(ob, j, &c, &extra);
        free(c.ca_file);
        pthread_mutex_lock(&mu);
        finish_job(j, again, extra);
    }
    pthread_mutex_unlock(&mu);
    outbound_free(ob);
    return NULL;
}

static double
queue_depth(void)
{
    size_t n;

    pthread_mutex_lock(&mu);
    n = n_jobs;
    pthread_mutex_unlock(&mu);
    return (double)n;
}

static void
register_metrics(void)
{
    static const char name[] = "cybrid_mock_webhook_requests_total";
    static const char help[] = "Webhook requests sent, by outcome.";

    m_ok = metrics_counter(name, "result=\"2xx\"", help);
    m_refused = metrics_counter(name, "result=\"refused\"", help);
    m_error = metrics_counter(name, "result=\"error\"", help);
    m_dropped = metrics_counter("cybrid_mock_webhook_dropped_total", NULL,
                                "Deliveries dropped: the queue was full.");
    m_accepted = metrics_counter(
        "cybrid_mock_webhook_tampered_accepted_total", NULL,
        "Tampered webhook requests a receiver answered with 2xx.");
    metrics_gauge("cybrid_mock_webhook_queue_depth", NULL,
                  "Deliveries waiting or in flight.", queue_depth);
}

int
deliveries_start(unsigned n, struct mock_err *err)
{
    sigset_t all, old;

    register_metrics();
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    pthread_mutex_lock(&mu);
    init_wake();
    stopping = 0;
    atomic_store(&abort_at, 0);
    pthread_mutex_unlock(&mu);
    /* Workers take no signals: main waits for them with sigwait(). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (n_workers = 0; n_workers < n; n_workers++) {
        if (pthread_create(&workers[n_workers], NULL, worker_main, NULL) != 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (n_workers < n) {
        deliveries_stop(0);
        return err_set(err, MOCK_EIO, "cannot start webhook workers");
    }
    return 0;
}

/* Records what a stop leaves unsent. Workers are gone by now. */
static void
abandon_all(void)
{
    struct outcome o = {.state = "failed",
                        .response = "not attempted: the mock stopped"};
    struct job **left;
    size_t n;

    pthread_mutex_lock(&mu);
    left = jobs;
    n = n_jobs;
    jobs = NULL;
    n_jobs = cap_jobs = 0;
    n_abandoned += n;
    pthread_mutex_unlock(&mu);
    for (size_t i = 0; i < n; i++) {
        struct job *j = left[i];

        o.attempts = j->attempts;
        o.now_ms = clock_now_ms();
        if (j->kind == JOB_DELIVERY)
            record_outcome(j, &o);
        attemptlog_abandoned(j->delivery, j->subscription, j->event,
                             j->event_type, j->gen);
        job_free(j);
    }
    free(left);
    if (n > 0)
        log_msg(LOG_WARN, "webhooks", "stopping: %zu deliveries not attempted",
                n);
}

void
deliveries_stop(int64_t wait_ms)
{
    pthread_mutex_lock(&mu);
    stopping = 1;
    if (wake_ready)
        pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    atomic_store(&abort_at, clock_mono_ms() + (wait_ms > 0 ? wait_ms : 0));
    for (unsigned i = 0; i < n_workers; i++)
        pthread_join(workers[i], NULL);
    n_workers = 0;
    abandon_all();
    pthread_mutex_lock(&mu);
    free(cfg.ca_file);
    cfg.ca_file = NULL;
    pthread_mutex_unlock(&mu);
    attemptlog_free();
}
