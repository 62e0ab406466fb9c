/*
 * attemptlog: a ring of ATTEMPTLOG_MAX JSON objects under one mutex.
 * Entries are built as JSON when added, so reading the log is a copy.
 */
#include "attemptlog.h"

#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *ring[ATTEMPTLOG_MAX];
static size_t head, count, total;
static uint64_t current_gen;

static void
drop_all(void)
{
    for (size_t i = 0; i < ATTEMPTLOG_MAX; i++) {
        cJSON_Delete(ring[i]);
        ring[i] = NULL;
    }
    head = count = total = 0;
}

void
attemptlog_clear(uint64_t gen)
{
    pthread_mutex_lock(&mu);
    drop_all();
    current_gen = gen;
    pthread_mutex_unlock(&mu);
}

void
attemptlog_free(void)
{
    pthread_mutex_lock(&mu);
    drop_all();
    pthread_mutex_unlock(&mu);
}

static void
add_str(cJSON *o, const char *key, const char *value)
{
    if (value != NULL)
        cJSON_AddStringToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *
entry_json(const struct attemptlog_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    char iso[32];

    iso8601_format(e->time_ms, iso);
    cJSON_AddStringToObject(o, "time", iso);
    cJSON_AddNumberToObject(o, "time_ms", (double)e->time_ms);
    add_str(o, "kind", e->kind);
    add_str(o, "delivery_guid", e->delivery);
    add_str(o, "subscription_guid", e->subscription);
    add_str(o, "event_guid", e->event);
    add_str(o, "event_type", e->event_type);
    add_str(o, "url", e->url);
    cJSON_AddNumberToObject(o, "attempt", e->attempt);
    if (e->status > 0)
        cJSON_AddNumberToObject(o, "status", (double)e->status);
    else
        cJSON_AddNullToObject(o, "status");
    add_str(o, "error", e->error);
    add_str(o, "answer", e->answer);
    cJSON_AddNumberToObject(o, "duration_ms", (double)e->duration_ms);
    cJSON_AddNumberToObject(o, "wait_ms", (double)e->wait_ms);
    add_str(o, "signature", e->signature);
    cJSON_AddNumberToObject(o, "timestamp", (double)e->timestamp);
    add_str(o, "tamper", e->tamper);
    cJSON_AddBoolToObject(o, "must_reject", e->must_reject);
    cJSON_AddBoolToObject(o, "accepted", e->status >= 200 && e->status < 300);
    return o;
}

static void
push(cJSON *o, uint64_t gen)
{
    pthread_mutex_lock(&mu);
    if (gen != current_gen) {
        pthread_mutex_unlock(&mu);
        cJSON_Delete(o);
        return;
    }
    if (count == ATTEMPTLOG_MAX) {
        cJSON_Delete(ring[head]);
        ring[head] = o;
        head = (head + 1) % ATTEMPTLOG_MAX;
    } else {
        ring[(head + count) % ATTEMPTLOG_MAX] = o;
        count++;
    }
    total++;
    pthread_mutex_unlock(&mu);
}

void
attemptlog_add(const struct attemptlog_entry *e, uint64_t gen)
{
    push(entry_json(e), gen);
}

void
attemptlog_abandoned(const char *delivery, const char *subscription,
                     const char *event, const char *event_type, uint64_t gen)
{
    struct attemptlog_entry e = {0};

    e.delivery = delivery;
    e.subscription = subscription;
    e.event = event;
    e.event_type = event_type;
    e.kind = "not_attempted";
    e.error = "not attempted: the mock stopped";
    push(entry_json(&e), gen);
}

size_t
attemptlog_total(void)
{
    size_t n;

    pthread_mutex_lock(&mu);
    n = total;
    pthread_mutex_unlock(&mu);
    return n;
}

cJSON *
attemptlog_json(const char *key, const char *value)
{
    cJSON *out = cJSON_CreateArray();

    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < count; i++) {
        const cJSON *o = ring[(head + i) % ATTEMPTLOG_MAX];
        const cJSON *v =
            key != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

        if (key != NULL &&
            !(cJSON_IsString(v) && strcmp(v->valuestring, value) == 0))
            continue;
        cJSON_AddItemToArray(out, cJSON_Duplicate(o, 1));
    }
    pthread_mutex_unlock(&mu);
    return out;
}
