/*
 * organization: fixtures of the Organization API. Objects are kept in the
 * store as the JSON the API returns.
 */
#include "organization.h"

#include "clock.h"
#include "store.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>

#define SIGNING_KEY_BYTES 32

static atomic_int allow_http;

static void
add_times(cJSON *obj, int64_t ms)
{
    char iso[32];

    iso8601_format(ms, iso);
    cJSON_AddStringToObject(obj, "created_at", iso);
    cJSON_AddStringToObject(obj, "updated_at", iso);
    cJSON_AddNumberToObject(obj, "_created_ms", (double)ms);
}

cJSON *
organization_subscription_new(const char *guid, const char *organization_guid,
                              const char *name, const char *url,
                              const char *key)
{
    cJSON *s = cJSON_CreateObject();
    unsigned char raw[SIGNING_KEY_BYTES];
    char hex[2 * SIGNING_KEY_BYTES + 1];

    if (key == NULL) {
        random_bytes(raw, sizeof(raw));
        hex_encode(raw, sizeof(raw), hex);
        OPENSSL_cleanse(raw, sizeof(raw));
        key = hex;
    }
    cJSON_AddStringToObject(s, "guid", guid);
    cJSON_AddStringToObject(s, "organization_guid", organization_guid);
    cJSON_AddStringToObject(s, "name", name);
    cJSON_AddStringToObject(s, "type", "webhook");
    cJSON_AddStringToObject(s, "url", url);
    cJSON_AddStringToObject(s, "signing_key", key);
    cJSON_AddStringToObject(s, "environment", "sandbox");
    cJSON_AddStringToObject(s, "state", "completed");
    cJSON_AddNullToObject(s, "deliveries_failing_since");
    add_times(s, clock_now_ms());
    OPENSSL_cleanse(hex, sizeof(hex));
    return s;
}

void
organization_load(const struct scenario *sc)
{
    int64_t now = clock_now_ms();

    atomic_store(&allow_http, sc->webhooks.allow_http);
    for (size_t i = 0; i < sc->n_organizations; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "guid", sc->organizations[i].guid);
        cJSON_AddStringToObject(o, "name",
                                sc->organizations[i].name
                                    ? sc->organizations[i].name
                                    : "Organization");
        add_times(o, now);
        store_insert(STORE_ORGANIZATIONS, o);
    }
    for (size_t i = 0; i < sc->n_subscriptions; i++) {
        const struct fx_subscription *f = &sc->subscriptions[i];

        store_insert(STORE_SUBSCRIPTIONS,
                     organization_subscription_new(
                         f->guid, f->organization_guid,
                         f->name ? f->name : "webhook", f->url ? f->url : "",
                         f->signing_key));
    }
}
