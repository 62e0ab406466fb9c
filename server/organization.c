/*
 * organization: handlers of /api/organizations and /api/subscriptions.
 *
 * Objects live in the store as the JSON the API returns; a handler checks
 * the caller's organization against the object's organization_guid and
 * answers 404 for anything else, so no guid of another organization
 * leaks. Request bodies are checked completely before anything changes.
 * Urls are parsed with libcurl's URL API, the same parser that later
 * sends to them.
 */
#include "organization.h"

#include "app.h"
#include "check.h"
#include "clock.h"
#include "curlapi.h"
#include "identity.h"
#include "store.h"
#include "webhooks.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SIGNING_KEY_BYTES 32
#define NAME_MAX_LEN 128
#define EVENT_TYPES_MAX 61

static atomic_int allow_http;

static const struct route_policy org_read = {
    TOKEN_ORGANIZATION, "organizations:read", LIMIT_GENERAL, 0};
static const struct route_policy org_write = {
    TOKEN_ORGANIZATION, "organizations:write", LIMIT_GENERAL, 0};
static const struct route_policy sub_read = {
    TOKEN_ORGANIZATION, "subscriptions:read", LIMIT_GENERAL, 0};
static const struct route_policy sub_write = {
    TOKEN_ORGANIZATION, "subscriptions:write", LIMIT_GENERAL, 0};
static const struct route_policy sub_execute = {
    TOKEN_ORGANIZATION, "subscriptions:execute", LIMIT_GENERAL, 0};

cJSON *
organization_subscription_new(const char *guid, const char *organization_guid,
                              const char *name, const char *url,
                              const char *key)
{
    cJSON *s = cJSON_CreateObject();
    unsigned char raw[SIGNING_KEY_BYTES];
    char hex[2 * SIGNING_KEY_BYTES + 1] = "";

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
    cJSON_AddNullToObject(s, "event_types");
    store_stamp_created(s, clock_now_ms());
    OPENSSL_cleanse(hex, sizeof(hex));
    return s;
}

void
organization_json_free(cJSON *obj)
{
    cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "signing_key");

    if (cJSON_IsString(key))
        OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
    cJSON_Delete(obj);
}

void
organization_load(const struct scenario *sc)
{
    int64_t now = clock_now_ms();

    atomic_store(&allow_http, sc->webhooks.allow_http);
    for (size_t i = 0; i < sc->n_organizations; i++) {
        cJSON *o = cJSON_CreateObject();
        const char *name = sc->organizations[i].name;

        cJSON_AddStringToObject(o, "guid", sc->organizations[i].guid);
        cJSON_AddStringToObject(o, "name", name ? name : "Organization");
        store_stamp_created(o, now);
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

const char *
organization_url_problem(const char *url, int http_ok)
{
    const struct curl_api *api = curl_api();
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    const char *why = NULL;

    if (api == NULL)
        return curl_api_error();
    u = api->url();
    if (strlen(url) > ORGANIZATION_URL_MAX)
        why = "url must be at most 1024 characters";
    else if (u == NULL || api->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
             api->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             api->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
             host[0] == '\0')
        why = "url must be an absolute URL with a host";
    else if (strcmp(scheme, "https") != 0 &&
             !(http_ok && strcmp(scheme, "http") == 0))
        why = http_ok ? "url must be an https:// or http:// URL"
                      : "url must be an https:// URL";
    api->free(scheme);
    api->free(host);
    api->url_cleanup(u);
    return why;
}

/* ---- helpers shared with subevents ----------------------------------- */

const char *
organization_caller(struct http_request *req)
{
    const struct principal *p = identity_principal(req);

    if (p == NULL || p->type != TOKEN_ORGANIZATION) {
        http_reply_error(req, 403, "forbidden",
                         "this route takes an organization token");
        return NULL;
    }
    return p->organization_guid[0] ? p->organization_guid : p->subject;
}

void
organization_strip_keys(cJSON *objects)
{
    cJSON *item;

    for (item = objects->child; item != NULL; item = item->next) {
        cJSON *key = cJSON_GetObjectItemCaseSensitive(item, "signing_key");

        if (cJSON_IsString(key)) {
            OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
            cJSON_DeleteItemFromObjectCaseSensitive(item, "signing_key");
        }
    }
}

/* ---- organizations ----------------------------------------------------- */

/* The stored object of kind with the path's guid if the caller owns it;
 * otherwise replies 404 and returns NULL. owner_key names the owner. */
static cJSON *
owned(struct http_request *req, enum store_kind kind, const char *org,
      const char *owner_key, const char *what)
{
    cJSON *obj = store_get(kind, req->params[0]);
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(obj, owner_key);

    if (obj == NULL || !cJSON_IsString(owner) ||
        strcmp(owner->valuestring, org) != 0) {
        organization_json_free(obj);
        http_reply_error(req, 404, "not_found", "%s not found", what);
        return NULL;
    }
    return obj;
}

static void
organization_get(struct http_request *req)
{
    const char *org = organization_caller(req);
    cJSON *o;

    if (org == NULL || (o = owned(req, STORE_ORGANIZATIONS, org, "guid",
                                  "organization")) == NULL)
        return;
    http_reply_json(req, 200, store_public(o));
}

/* The optional "name" of a PATCH body: 0 (name set or NULL), or -1 after
 * replying. Any other field is refused. */
static int
patch_name(struct http_request *req, const cJSON *body, const char **name)
{
    static const char *const keys[] = {"name", NULL};
    struct check c = {0};

    check_known_keys(&c, body, keys);
    *name = check_string(&c, body, "name", CHECK_NULLABLE, 1, NAME_MAX_LEN);
    if (c.status != 0) {
        check_reply(req, &c);
        return -1;
    }
    return 0;
}

static int
set_name(cJSON *obj, void *ctx)
{
    if (ctx != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "name");
        cJSON_AddStringToObject(obj, "name", ctx);
        store_touch(obj, clock_now_ms());
    }
    return 0;
}

/* PATCH of an owned object's name; kind/owner_key/what as for owned(). */
static void
patch_owned(struct http_request *req, enum store_kind kind,
            const char *owner_key, const char *what)
{
    const char *org = organization_caller(req), *name;
    cJSON *body, *obj, *out = NULL;

    if (org == NULL || (body = http_json_body(req)) == NULL)
        return;
    obj = owned(req, kind, org, owner_key, what);
    if (obj != NULL && patch_name(req, body, &name) == 0) {
        if (store_update(kind, req->params[0], set_name, (void *)name, &out) !=
            0)
            http_reply_error(req, 404, "not_found", "%s not found", what);
        else
            http_reply_json(req, 200, store_public(out));
    }
    organization_json_free(obj);
    cJSON_Delete(body);
}

static void
organization_patch(struct http_request *req)
{
    patch_owned(req, STORE_ORGANIZATIONS, "guid", "organization");
}

/* ---- subscriptions ----------------------------------------------------- */

void
organization_subscription_check(struct check *c, const cJSON *body)
{
    static const char *const keys[] = {
        "name", "type", "environment", "url", "event_types", "recipient", NULL};
    static const char *const types[] = {"webhook", "email", NULL};
    static const char *const envs[] = {"sandbox", "production", NULL};
    const char *type, *env, *url;
    const cJSON *events, *t;

    check_known_keys(c, body, keys);
    check_string(c, body, "name", CHECK_REQUIRED, 1, NAME_MAX_LEN);
    type = check_string(c, body, "type", CHECK_REQUIRED, 1, 16);
    check_enum(c, "type", type, types);
    env = check_string(c, body, "environment", CHECK_REQUIRED, 1, 16);
    check_enum(c, "environment", env, envs);
    url = check_string(c, body, "url", CHECK_REQUIRED, 1, ORGANIZATION_URL_MAX);
    events = check_array(c, body, "event_types", CHECK_NULLABLE, cJSON_String,
                         EVENT_TYPES_MAX);
    if (check_field(c, body, "recipient", CHECK_NULLABLE) != NULL)
        check_fail(c, 422, "recipient is for email subscriptions");
    cJSON_ArrayForEach(t, events)
    {
        if (!webhooks_event_type_valid(t->valuestring))
            check_fail(c, 400, "event_types has an unknown event type");
    }
    if (type != NULL && strcmp(type, "webhook") != 0)
        check_fail(c, 422, "only webhook subscriptions are supported");
    if (env != NULL && strcmp(env, "sandbox") != 0)
        check_fail(c, 422, "this is a sandbox: environment must be sandbox");
    if (url != NULL && organization_url_problem(url, atomic_load(&allow_http)))
        check_fail(c, 422, "%s",
                   organization_url_problem(url, atomic_load(&allow_http)));
}

static void
subscription_create(struct http_request *req)
{
    const char *org = organization_caller(req);
    struct check c = {0};
    cJSON *body, *s, *types;
    char guid[33];

    if (org == NULL || (body = http_json_body(req)) == NULL)
        return;
    organization_subscription_check(&c, body);
    if (c.status != 0) {
        check_reply(req, &c);
        cJSON_Delete(body);
        return;
    }
    guid_new(guid);
    s = organization_subscription_new(
        guid, org, cJSON_GetObjectItemCaseSensitive(body, "name")->valuestring,
        cJSON_GetObjectItemCaseSensitive(body, "url")->valuestring, NULL);
    types = cJSON_GetObjectItemCaseSensitive(body, "event_types");
    if (cJSON_IsArray(types))
        cJSON_ReplaceItemInObjectCaseSensitive(s, "event_types",
                                               cJSON_Duplicate(types, 1));
    cJSON_Delete(body);
    body = store_public(cJSON_Duplicate(s, 1));
    store_insert(STORE_SUBSCRIPTIONS, s);
    http_reply_json(req, 201, body);
}

/* Filters of GET /api/subscriptions, comma lists, absent: any. */
struct sub_filter {
    const char *org;
    struct check_csv guid, environment, state, type;
};

static int
csv_match(const struct check_csv *l, const cJSON *obj, const char *key)
{
    return check_csv_has(l, store_str(obj, key));
}

static int
sub_match(const cJSON *obj, void *ctx)
{
    const struct sub_filter *f = ctx;

    return strcmp(store_str(obj, "organization_guid"), f->org) == 0 &&
           csv_match(&f->guid, obj, "guid") &&
           csv_match(&f->environment, obj, "environment") &&
           csv_match(&f->state, obj, "state") &&
           csv_match(&f->type, obj, "type");
}

static void
subscription_list(struct http_request *req)
{
    static const char *const envs[] = {"sandbox", "production", NULL};
    static const char *const states[] = {"storing", "completed", "failed",
                                         NULL};
    static const char *const types[] = {"webhook", "email", NULL};
    struct sub_filter *f = xcalloc(1, sizeof(*f));
    struct check c = {0};
    struct http_page pg;
    size_t total = 0;
    cJSON *objects;

    f->org = organization_caller(req);
    if (f->org == NULL || http_page_read(req, &pg) != 0)
        goto out;
    check_query_csv(&c, req, "guid", 1, NULL, &f->guid);
    check_query_csv(&c, req, "environment", 0, envs, &f->environment);
    check_query_csv(&c, req, "state", 0, states, &f->state);
    check_query_csv(&c, req, "type", 0, types, &f->type);
    if (c.status != 0) {
        check_reply(req, &c);
        goto out;
    }
    objects = store_list(STORE_SUBSCRIPTIONS, sub_match, f, pg.page,
                         pg.per_page, &total);
    organization_strip_keys(objects);
    http_reply_list(req, store_public_all(objects), total, &pg);
out:
    free(f);
}

static void
subscription_get(struct http_request *req)
{
    const char *org = organization_caller(req);
    cJSON *s;

    if (org == NULL || (s = owned(req, STORE_SUBSCRIPTIONS, org,
                                  "organization_guid", "subscription")) == NULL)
        return;
    http_reply_json(req, 200, store_public(s));
}

static void
subscription_patch(struct http_request *req)
{
    patch_owned(req, STORE_SUBSCRIPTIONS, "organization_guid", "subscription");
}

static void
subscription_delete(struct http_request *req)
{
    const char *org = organization_caller(req);
    cJSON *s;

    if (org == NULL || (s = owned(req, STORE_SUBSCRIPTIONS, org,
                                  "organization_guid", "subscription")) == NULL)
        return;
    organization_json_free(s);
    if (store_delete(STORE_SUBSCRIPTIONS, req->params[0]) != 0)
        http_reply_error(req, 404, "not_found", "subscription not found");
    else
        http_reply_empty(req, 204);
}

static const struct http_route routes[] = {
    {"GET", "/api/organizations/{organization_guid}", organization_get,
     "organizations.get", &org_read},
    {"PATCH", "/api/organizations/{organization_guid}", organization_patch,
     "organizations.patch", &org_write},
    {"POST", "/api/subscriptions", subscription_create, "subscriptions.create",
     &sub_execute},
    {"GET", "/api/subscriptions", subscription_list, "subscriptions.list",
     &sub_read},
    {"GET", "/api/subscriptions/{subscription_guid}", subscription_get,
     "subscriptions.get", &sub_read},
    {"PATCH", "/api/subscriptions/{subscription_guid}", subscription_patch,
     "subscriptions.patch", &sub_write},
    {"DELETE", "/api/subscriptions/{subscription_guid}", subscription_delete,
     "subscriptions.delete", &sub_execute},
};

const struct http_route *
organization_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
