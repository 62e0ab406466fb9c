/*
 * webhooks: subscription events and their deliveries as the store keeps
 * them; the sending itself is the deliveries module's.
 *
 * An event is stored as the SubscriptionEvent the API returns; its JSON,
 * printed once, is the exact body every delivery of it sends, so the
 * signature a receiver checks covers the bytes it got. A bank is picked
 * for an event that names none: the organization's first bank in the
 * scenario.
 */
#include "webhooks.h"

#include "clock.h"
#include "deliveries.h"
#include "store.h"

#include <math.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Which bank an event of an organization names when it names none. */
static struct bank_ref {
    char organization[33], bank[33];
} * banks;
static size_t n_banks;

static const char *const tamper_names[WEBHOOK_TAMPERS] = {
    "none",      "bad_signature", "unsigned", "wrong_key", "stale_timestamp",
    "duplicate", "replay"};

int
webhook_tamper_parse(const char *name, enum webhook_tamper *out)
{
    for (int i = 0; i < WEBHOOK_TAMPERS; i++) {
        if (name != NULL && strcmp(name, tamper_names[i]) == 0) {
            *out = (enum webhook_tamper)i;
            return 0;
        }
    }
    return MOCK_EINVAL;
}

const char *
webhook_tamper_name(enum webhook_tamper t)
{
    return (unsigned)t < WEBHOOK_TAMPERS ? tamper_names[t] : "none";
}

int
webhooks_event_type_valid(const char *type)
{
    static const char *const types[] = {
        "trade.storing",
        "trade.pending",
        "trade.executed",
        "trade.cancelled",
        "trade.completed",
        "trade.settling",
        "trade.failed",
        "transfer.storing",
        "transfer.pending",
        "transfer.holding",
        "transfer.reviewing",
        "transfer.cancelling",
        "transfer.completed",
        "transfer.failed",
        "identity_verification.storing",
        "identity_verification.pending",
        "identity_verification.reviewing",
        "identity_verification.waiting",
        "identity_verification.expired",
        "identity_verification.completed",
        "external_bank_account.storing",
        "external_bank_account.pending",
        "external_bank_account.reviewing",
        "external_bank_account.completed",
        "external_bank_account.failed",
        "external_bank_account.refresh_required",
        "external_bank_account.unverified",
        "external_bank_account.deleting",
        "external_bank_account.deleted",
        "plan.storing",
        "plan.planning",
        "plan.completed",
        "plan.failed",
        "execution.storing",
        "execution.executing",
        "execution.completed",
        "execution.failed",
        "account.minimums.funding_pull.below_minimum",
        "account.minimums.funding_pull.near_minimum",
    };

    for (size_t i = 0; type != NULL && i < sizeof(types) / sizeof(*types);
         i++) {
        if (strcmp(type, types[i]) == 0)
            return 1;
    }
    return 0;
}

int64_t
webhooks_retry_delay_ms(const struct webhook_config *c, unsigned attempt)
{
    double d;

    if (attempt < 1 || attempt >= c->attempts)
        return -1;
    d = (double)c->first_delay_ms * pow(c->factor, (double)(attempt - 1));
    return d > 1e15 ? (int64_t)1e15 : (int64_t)llround(d);
}

void
webhooks_load(const struct scenario *sc)
{
    deliveries_load(&sc->webhooks);
    pthread_mutex_lock(&mu);
    free(banks);
    n_banks = sc->n_banks;
    banks = xcalloc(n_banks ? n_banks : 1, sizeof(*banks));
    for (size_t i = 0; i < n_banks; i++) {
        memcpy(banks[i].organization, sc->banks[i].organization_guid, 33);
        memcpy(banks[i].bank, sc->banks[i].guid, 33);
    }
    pthread_mutex_unlock(&mu);
}

int
webhooks_start(unsigned n, struct mock_err *err)
{
    return deliveries_start(n, err);
}

void
webhooks_stop(int64_t wait_ms)
{
    deliveries_stop(wait_ms);
    pthread_mutex_lock(&mu);
    free(banks);
    banks = NULL;
    n_banks = 0;
    pthread_mutex_unlock(&mu);
}

void
webhooks_wake(void)
{
    deliveries_wake();
}

void
webhooks_stats(struct webhooks_stats *out)
{
    deliveries_stats(out);
}

static cJSON *
delivery_new(const char *event, const char *subscription,
             const char *organization, const char *event_type, int64_t now)
{
    cJSON *d = cJSON_CreateObject();
    char guid[33];

    guid_new(guid);
    cJSON_AddStringToObject(d, "guid", guid);
    cJSON_AddStringToObject(d, "subscription_event_guid", event);
    cJSON_AddStringToObject(d, "subscription_guid", subscription);
    cJSON_AddStringToObject(d, "state", "storing");
    cJSON_AddNumberToObject(d, "attempt_count", 0);
    cJSON_AddNullToObject(d, "response");
    cJSON_AddNullToObject(d, "next_attempt_at");
    cJSON_AddNullToObject(d, "completed_at");
    cJSON_AddNullToObject(d, "failed_at");
    store_stamp_created(d, now);
    cJSON_AddStringToObject(d, "_organization_guid", organization);
    cJSON_AddStringToObject(d, "_event_type", event_type);
    return d;
}

/*
 * Stores a delivery of event (a stored event object) to subscription and
 * queues it. Returns 0 or MOCK_ELIMIT when the queue was full (the
 * delivery is then stored as failed); *out (if not NULL) receives a copy
 * of the public delivery either way.
 */
static int
queue_delivery(const cJSON *event, const char *subscription,
               enum webhook_tamper tamper, cJSON **out)
{
    cJSON *pub = store_public(cJSON_Duplicate(event, 1));
    int64_t now = clock_now_ms();
    cJSON *d = delivery_new(store_str(event, "guid"), subscription,
                            store_str(event, "organization_guid"),
                            store_str(event, "event_type"), now);
    char *body = cJSON_PrintUnformatted(pub);
    struct delivery_spec spec = {0};
    char guid[33];
    int rc;

    snprintf(guid, sizeof(guid), "%s", store_str(d, "guid"));
    store_insert(STORE_DELIVERIES, d);
    spec.delivery = guid;
    spec.subscription = subscription;
    spec.event = store_str(event, "guid");
    spec.event_type = store_str(event, "event_type");
    spec.body = body;
    spec.body_len = strlen(body);
    spec.tamper = tamper;
    spec.due_ms = now;
    rc = deliveries_enqueue(&spec);
    cJSON_free(body);
    cJSON_Delete(pub);
    if (out != NULL)
        *out = store_public(store_get(STORE_DELIVERIES, guid));
    return rc;
}

static int
same_organization(const cJSON *obj, void *ctx)
{
    return strcmp(store_str(obj, "organization_guid"), ctx) == 0;
}

/* The organization's first bank in the scenario, or NULL. */
static int
default_bank(const char *organization, char out[33])
{
    int rc = MOCK_ENOENT;

    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n_banks && rc != 0; i++) {
        if (strcmp(banks[i].organization, organization) == 0) {
            memcpy(out, banks[i].bank, 33);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static cJSON *
event_new(const struct webhook_event *ev, const char *bank)
{
    cJSON *e = cJSON_CreateObject();
    int64_t now = clock_now_ms();
    char guid[33], object[33];

    guid_new(guid);
    if (ev->object_guid != NULL)
        snprintf(object, sizeof(object), "%s", ev->object_guid);
    else
        guid_new(object);
    cJSON_AddStringToObject(e, "guid", guid);
    cJSON_AddStringToObject(e, "organization_guid", ev->organization_guid);
    cJSON_AddStringToObject(e, "bank_guid", bank);
    cJSON_AddStringToObject(e, "event_type", ev->event_type);
    cJSON_AddStringToObject(e, "object_guid", object);
    cJSON_AddStringToObject(e, "environment", "sandbox");
    store_stamp_created(e, now);
    return e;
}

/* 1 unless the subscription lists event_types without this one. */
static int
wants(const cJSON *subscription, const char *event_type)
{
    const cJSON *types =
        cJSON_GetObjectItemCaseSensitive(subscription, "event_types");
    const cJSON *t;

    if (!cJSON_IsArray(types))
        return 1;
    for (t = types->child; t != NULL; t = t->next) {
        if (cJSON_IsString(t) && strcmp(t->valuestring, event_type) == 0)
            return 1;
    }
    return 0;
}

int
webhooks_emit(const struct webhook_event *ev, cJSON **out, struct mock_err *err)
{
    cJSON *org, *event, *subs, *s;
    char bank[33];

    if (!webhooks_event_type_valid(ev->event_type))
        return err_set(err, MOCK_EINVAL, "unknown event_type");
    org = store_get(STORE_ORGANIZATIONS, ev->organization_guid);
    if (org == NULL)
        return err_set(err, MOCK_ENOENT, "unknown organization_guid");
    cJSON_Delete(org);
    if (ev->bank_guid != NULL)
        snprintf(bank, sizeof(bank), "%s", ev->bank_guid);
    else if (default_bank(ev->organization_guid, bank) != 0)
        return err_set(err, MOCK_EINVAL,
                       "the organization has no bank: give bank_guid");
    event = event_new(ev, bank);
    if (out != NULL)
        *out = store_public(cJSON_Duplicate(event, 1));
    subs = store_list(STORE_SUBSCRIPTIONS, same_organization,
                      (void *)ev->organization_guid, 0, SIZE_MAX, NULL);
    for (s = subs->child; s != NULL; s = s->next) {
        cJSON *key = cJSON_GetObjectItemCaseSensitive(s, "signing_key");

        if (wants(s, ev->event_type))
            queue_delivery(event, store_str(s, "guid"), ev->tamper, NULL);
        if (cJSON_IsString(key))
            OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
    }
    cJSON_Delete(subs);
    store_insert(STORE_EVENTS, event);
    return 0;
}

int
webhooks_redeliver(const char *event_guid, const char *subscription_guid,
                   cJSON **out, struct mock_err *err)
{
    cJSON *event = store_get(STORE_EVENTS, event_guid);
    cJSON *sub = store_get(STORE_SUBSCRIPTIONS, subscription_guid);
    int rc;

    if (event == NULL || sub == NULL ||
        strcmp(store_str(event, "organization_guid"),
               store_str(sub, "organization_guid")) != 0) {
        rc = err_set(err, MOCK_ENOENT, "%s not found",
                     event == NULL ? "subscription event" : "subscription");
    } else {
        rc = queue_delivery(event, subscription_guid, WEBHOOK_TAMPER_NONE, out);
        if (rc != 0) {
            cJSON_Delete(*out);
            *out = NULL;
            err_set(err, rc, "the delivery queue is full");
        }
    }
    cJSON_Delete(event);
    if (sub != NULL) {
        cJSON *key = cJSON_GetObjectItemCaseSensitive(sub, "signing_key");

        if (cJSON_IsString(key))
            OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
    }
    cJSON_Delete(sub);
    return rc;
}
