/*
 * admin: handlers of /__admin/. Each answers JSON; bad input gets a
 * Cybrid error body and changes nothing.
 *
 * The scenario routes show the running scenario's settings (never a
 * client secret or a signing key), swap in a new one sent as YAML (a
 * refused one answers 400 with where and why, and the old one keeps
 * running) and reset the running one to its initial state.
 */
#include "admin.h"

#include "app.h"
#include "attemptlog.h"
#include "clock.h"
#include "faults.h"
#include "scenario.h"
#include "timeline.h"
#include "webhooks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int64_t started_us;
static char *scenario_folder;

void
admin_set_scenario_folder(const char *dir)
{
    free(scenario_folder);
    scenario_folder = dir ? xstrdup(dir) : NULL;
}

void
admin_shutdown(void)
{
    free(scenario_folder);
    scenario_folder = NULL;
}

void
admin_mark_start(void)
{
    started_us = clock_mono_us();
}

static void
health(struct http_request *req)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddStringToObject(body, "status", "ok");
    cJSON_AddStringToObject(body, "version", CYBRID_MOCK_VERSION);
    cJSON_AddNumberToObject(body, "uptime_seconds",
                            (double)(clock_mono_us() - started_us) / 1e6);
    http_reply_json(req, 200, body);
}

static cJSON *
clock_json(void)
{
    cJSON *body = cJSON_CreateObject();
    int64_t now = clock_now_ms();
    char iso[32];

    iso8601_format(now, iso);
    cJSON_AddNumberToObject(body, "now", (double)(now / 1000));
    cJSON_AddNumberToObject(body, "now_ms", (double)now);
    cJSON_AddStringToObject(body, "iso8601", iso);
    cJSON_AddNumberToObject(body, "offset_seconds",
                            (double)clock_offset_ms() / 1000.0);
    return body;
}

static void
clock_get(struct http_request *req)
{
    http_reply_json(req, 200, clock_json());
}

static void
clock_advance(struct http_request *req)
{
    cJSON *body = http_json_body(req);
    const cJSON *seconds;
    double v;

    if (body == NULL)
        return;
    seconds = cJSON_GetObjectItemCaseSensitive(body, "seconds");
    if (!cJSON_IsNumber(seconds) || cJSON_GetArraySize(body) != 1) {
        cJSON_Delete(body);
        http_reply_error(req, 400, "invalid_parameter",
                         "body must be {\"seconds\": N} with N a number");
        return;
    }
    v = seconds->valuedouble;
    cJSON_Delete(body);
    if (!isfinite(v) || v < 0 || v > 100.0 * 365 * 24 * 3600) {
        http_reply_error(req, 400, "invalid_parameter",
                         "seconds must be from 0 to 3153600000");
        return;
    }
    clock_advance_ms((int64_t)llround(v * 1000.0));
    timeline_tick();
    webhooks_wake();
    http_reply_json(req, 200, clock_json());
}

static void
webhooks_get(struct http_request *req)
{
    static const char *const filters[] = {"event_guid", "delivery_guid",
                                          "subscription_guid"};
    const char *key = NULL;
    struct webhooks_stats st;
    char value[40];
    cJSON *body;

    for (size_t i = 0; i < 3 && key == NULL; i++) {
        int rc = http_query_param(req, filters[i], value, sizeof(value));

        if (rc == MOCK_ENOENT)
            continue;
        if (rc < 0 || !guid_valid(value)) {
            http_reply_error(req, 400, "invalid_parameter", "%s must be a guid",
                             filters[i]);
            return;
        }
        key = filters[i];
    }
    body = cJSON_CreateObject();
    webhooks_stats(&st);
    cJSON_AddNumberToObject(body, "queued", (double)st.queued);
    cJSON_AddNumberToObject(body, "dropped", (double)st.dropped);
    cJSON_AddNumberToObject(body, "abandoned", (double)st.abandoned);
    cJSON_AddNumberToObject(body, "total", (double)st.attempts);
    cJSON_AddItemToObject(body, "attempts", attemptlog_json(key, value));
    http_reply_json(req, 200, body);
}

/* The optional string field key: NULL when absent, "" when not a string. */
static const char *
opt_string(const cJSON *body, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

    if (v == NULL || cJSON_IsNull(v))
        return NULL;
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Checks the body of POST /__admin/events; NULL or the reason. */
static const char *
event_check(const cJSON *body, struct webhook_event *ev)
{
    static const char *const keys[] = {"event_type", "bank_guid", "object_guid",
                                       "organization_guid", "tamper"};
    const cJSON *item;
    const char *tamper;

    cJSON_ArrayForEach(item, body)
    {
        size_t i = 0;

        while (i < 5 && strcmp(item->string, keys[i]) != 0)
            i++;
        if (i == 5)
            return "unknown field; allowed: event_type, bank_guid, "
                   "object_guid, organization_guid, tamper";
    }
    ev->event_type = opt_string(body, "event_type");
    if (!webhooks_event_type_valid(ev->event_type))
        return "event_type must be one of the Organization API's event types";
    ev->bank_guid = opt_string(body, "bank_guid");
    ev->object_guid = opt_string(body, "object_guid");
    ev->organization_guid = opt_string(body, "organization_guid");
    if ((ev->bank_guid && !guid_valid(ev->bank_guid)) ||
        (ev->object_guid && !guid_valid(ev->object_guid)) ||
        (ev->organization_guid && !guid_valid(ev->organization_guid)))
        return "guids must be 32 lowercase hex characters";
    if (ev->organization_guid == NULL)
        ev->organization_guid = DEFAULT_ORGANIZATION_GUID;
    tamper = opt_string(body, "tamper");
    if (tamper != NULL && webhook_tamper_parse(tamper, &ev->tamper) != 0)
        return "tamper must be one of bad_signature, unsigned, wrong_key, "
               "stale_timestamp, duplicate, replay";
    return NULL;
}

static void
events_post(struct http_request *req)
{
    cJSON *body = http_json_body(req), *event = NULL;
    struct webhook_event ev = {0};
    struct mock_err err = {0};
    const char *why;
    int rc;

    if (body == NULL)
        return;
    why = event_check(body, &ev);
    if (why != NULL) {
        http_reply_error(req, 400, "invalid_parameter", "%s", why);
    } else if ((rc = webhooks_emit(&ev, &event, &err)) != 0) {
        if (rc == MOCK_ENOENT)
            http_reply_error(req, 404, "not_found", "%s", err.msg);
        else
            http_reply_error(req, 422, "invalid_parameter", "%s", err.msg);
    } else {
        http_reply_json(req, 201, event);
    }
    cJSON_Delete(body);
}

/* ---- scenario ------------------------------------------------------- */

static void
add_string(cJSON *obj, const char *key, const char *value)
{
    if (value != NULL)
        cJSON_AddStringToObject(obj, key, value);
    else
        cJSON_AddNullToObject(obj, key);
}

static void
add_time(cJSON *obj, const char *key, int64_t ms)
{
    char iso[32];

    if (ms == 0) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    iso8601_format(ms, iso);
    cJSON_AddStringToObject(obj, key, iso);
}

static void
add_list(cJSON *obj, const char *key, const struct strlist *l)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);

    for (size_t i = 0; i < l->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
}

static cJSON *
bank_json(const struct fx_bank *b)
{
    cJSON *o = cJSON_CreateObject();

    add_string(o, "guid", b->guid);
    add_string(o, "organization_guid", b->organization_guid);
    add_string(o, "name", b->name);
    add_string(o, "type", b->type);
    add_list(o, "supported_trading_symbols", &b->supported_trading_symbols);
    add_list(o, "supported_payout_symbols", &b->supported_payout_symbols);
    add_list(o, "supported_fiat_account_assets",
             &b->supported_fiat_account_assets);
    add_list(o, "supported_country_codes", &b->supported_country_codes);
    add_list(o, "features", &b->features);
    add_list(o, "cors_allowed_origins", &b->cors_allowed_origins);
    add_time(o, "created_at", b->created_at_ms);
    return o;
}

/* Applications without their secrets. */
static cJSON *
application_json(const struct fx_application *a)
{
    cJSON *o = cJSON_CreateObject();

    add_string(o, "kind", a->kind == APP_BANK ? "bank" : "organization");
    add_string(o, "name", a->name);
    add_string(o, "client_id", a->client_id);
    add_string(o, "owner", a->owner_guid);
    add_list(o, "scopes", &a->scopes);
    add_list(o, "ip_allowlist", &a->ip_allowlist);
    return o;
}

static cJSON *
customer_json(const struct fx_customer *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *addr;

    add_string(o, "guid", c->guid);
    add_string(o, "bank_guid", c->bank_guid);
    add_string(o, "type", c->type);
    add_string(o, "state", c->state);
    add_string(o, "first_name", c->first_name);
    add_string(o, "middle_name", c->middle_name);
    add_string(o, "last_name", c->last_name);
    add_string(o, "business_name", c->business_name);
    add_string(o, "date_of_birth", c->date_of_birth);
    add_string(o, "phone_number", c->phone_number);
    add_string(o, "email_address", c->email_address);
    addr = cJSON_AddObjectToObject(o, "address");
    add_string(addr, "street", c->street);
    add_string(addr, "street2", c->street2);
    add_string(addr, "city", c->city);
    add_string(addr, "subdivision", c->subdivision);
    add_string(addr, "postal_code", c->postal_code);
    add_string(addr, "country_code", c->country_code);
    add_list(o, "labels", &c->labels);
    add_time(o, "created_at", c->created_at_ms);
    return o;
}

static cJSON *
fixtures_json(const struct scenario *sc)
{
    cJSON *f = cJSON_CreateObject();
    cJSON *orgs = cJSON_AddArrayToObject(f, "organizations");
    cJSON *banks = cJSON_AddArrayToObject(f, "banks");
    cJSON *apps = cJSON_AddArrayToObject(f, "applications");
    cJSON *customers = cJSON_AddArrayToObject(f, "customers");
    cJSON *subs = cJSON_AddArrayToObject(f, "subscriptions");

    for (size_t i = 0; i < sc->n_organizations; i++) {
        cJSON *o = cJSON_CreateObject();

        add_string(o, "guid", sc->organizations[i].guid);
        add_string(o, "name", sc->organizations[i].name);
        cJSON_AddItemToArray(orgs, o);
    }
    for (size_t i = 0; i < sc->n_banks; i++)
        cJSON_AddItemToArray(banks, bank_json(&sc->banks[i]));
    for (size_t i = 0; i < sc->n_applications; i++)
        cJSON_AddItemToArray(apps, application_json(&sc->applications[i]));
    for (size_t i = 0; i < sc->n_customers; i++)
        cJSON_AddItemToArray(customers, customer_json(&sc->customers[i]));
    for (size_t i = 0; i < sc->n_subscriptions; i++) {
        const struct fx_subscription *s = &sc->subscriptions[i];
        cJSON *o = cJSON_CreateObject();

        add_string(o, "guid", s->guid);
        add_string(o, "organization_guid", s->organization_guid);
        add_string(o, "name", s->name);
        add_string(o, "url", s->url);
        cJSON_AddItemToArray(subs, o);
    }
    return f;
}

static cJSON *
limits_json(const struct scenario *sc)
{
    static const char *const names[LIMIT_CLASSES] = {"general", "oauth_token",
                                                     "customer_tokens"};
    cJSON *l = cJSON_CreateObject();

    for (int i = 0; i < LIMIT_CLASSES; i++) {
        const struct limit_rule *r = &sc->limits[i];
        cJSON *o;

        if (!r->enabled) {
            cJSON_AddStringToObject(l, names[i], "off");
            continue;
        }
        o = cJSON_AddObjectToObject(l, names[i]);
        cJSON_AddNumberToObject(o, "limit", r->limit);
        cJSON_AddNumberToObject(o, "window_seconds", r->window_ms / 1000.0);
        cJSON_AddNumberToObject(o, "status", r->status);
        cJSON_AddBoolToObject(o, "retry_after", r->retry_after);
    }
    add_list(l, "trusted_proxies", &sc->trusted_proxies);
    return l;
}

static cJSON *
webhooks_json(const struct webhook_config *w)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *r = cJSON_AddObjectToObject(o, "retry");

    cJSON_AddNumberToObject(r, "attempts", w->attempts);
    cJSON_AddNumberToObject(r, "first_delay_seconds",
                            (double)w->first_delay_ms / 1000.0);
    cJSON_AddNumberToObject(r, "factor", w->factor);
    cJSON_AddNumberToObject(o, "timeout_seconds",
                            (double)w->timeout_ms / 1000.0);
    add_string(o, "ca_file", w->ca_file);
    cJSON_AddBoolToObject(o, "allow_http", w->allow_http);
    cJSON_AddBoolToObject(o, "verify_tls", w->verify_tls);
    cJSON_AddNumberToObject(o, "queue_max", (double)w->queue_max);
    return o;
}

/* The running scenario as JSON, into *(cJSON **)ctx. */
static int
scenario_json(const struct scenario *sc, void *ctx)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *t, *c;

    add_string(o, "name", sc->name);
    add_string(o, "description", sc->description);
    add_string(o, "file", sc->file);
    t = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(t, "organization_ttl_seconds",
                            (double)sc->organization_token_ttl);
    cJSON_AddNumberToObject(t, "bank_ttl_seconds", (double)sc->bank_token_ttl);
    cJSON_AddNumberToObject(t, "customer_ttl_seconds",
                            (double)sc->customer_token_ttl);
    cJSON_AddItemToObject(o, "rate_limits", limits_json(sc));
    c = cJSON_AddObjectToObject(o, "clock");
    add_time(c, "start", sc->clock_start_ms);
    cJSON_AddItemToObject(o, "webhooks", webhooks_json(&sc->webhooks));
    cJSON_AddItemToObject(o, "fixtures", fixtures_json(sc));
    cJSON_AddItemToObject(o, "faults", faults_state_json());
    cJSON_AddItemToObject(o, "timeline", timeline_state_json());
    *(cJSON **)ctx = o;
    return 0;
}

static void
reply_scenario(struct http_request *req)
{
    cJSON *body = NULL;

    app_with_scenario(scenario_json, &body);
    http_reply_json(req, 200, body);
}

static void
scenario_get(struct http_request *req)
{
    reply_scenario(req);
}

static int
is_yaml_type(const char *type)
{
    static const char *const types[] = {"application/yaml", "text/yaml",
                                        "application/x-yaml"};

    for (size_t i = 0; type != NULL && i < 3; i++) {
        size_t n = strlen(types[i]);

        if (strncasecmp(type, types[i], n) == 0 &&
            (type[n] == '\0' || type[n] == ';' || type[n] == ' '))
            return 1;
    }
    return 0;
}

static void
reply_refused(struct http_request *req, const struct schema_err *err)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddNumberToObject(body, "status", 400);
    cJSON_AddStringToObject(body, "error_message", err->base.msg);
    cJSON_AddStringToObject(body, "message_code", "invalid_scenario");
    cJSON_AddNumberToObject(body, "line", err->line);
    cJSON_AddNumberToObject(body, "column", err->column);
    cJSON_AddStringToObject(body, "reason", err->reason);
    req->error_code = "invalid_scenario";
    http_reply_json(req, 400, body);
}

static void
scenario_put(struct http_request *req)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    if (!is_yaml_type(http_header(req, "Content-Type"))) {
        http_reply_error(req, 415, "invalid_content_type",
                         "Content-Type must be application/yaml, text/yaml "
                         "or application/x-yaml");
        return;
    }
    if (http_read_body(req) != 0)
        return;
    if (scenario_load_text(req->body, req->body_len, "request", scenario_folder,
                           &sc, &err) != 0) {
        reply_refused(req, &err);
        return;
    }
    app_replace(sc);
    reply_scenario(req);
}

static int
scenario_name(const struct scenario *sc, void *ctx)
{
    cJSON_AddStringToObject(ctx, "scenario", sc->name);
    return 0;
}

/* Back to the running scenario's initial state; answers with the clock. */
static void
reset(struct http_request *req)
{
    cJSON *body;

    app_reset();
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "status", "reset");
    app_with_scenario(scenario_name, body);
    cJSON_AddItemToObject(body, "clock", clock_json());
    http_reply_json(req, 200, body);
}

static const struct http_route routes[] = {
    {"GET", "/__admin/health", health, "admin.health", NULL},
    {"GET", "/__admin/clock", clock_get, "admin.clock", NULL},
    {"POST", "/__admin/clock/advance", clock_advance, "admin.clock_advance",
     NULL},
    {"GET", "/__admin/webhooks", webhooks_get, "admin.webhooks", NULL},
    {"POST", "/__admin/events", events_post, "admin.events", NULL},
    {"GET", "/__admin/scenario", scenario_get, "admin.scenario", NULL},
    {"PUT", "/__admin/scenario", scenario_put, "admin.scenario_put", NULL},
    {"POST", "/__admin/reset", reset, "admin.reset", NULL},
};

const struct http_route *
admin_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
