/*
 * admin: handlers of /__admin/. Each answers JSON; bad input gets a
 * Cybrid error body and changes nothing.
 */
#include "admin.h"

#include "attemptlog.h"
#include "clock.h"
#include "scenario.h"
#include "webhooks.h"

#include <math.h>
#include <string.h>

static int64_t started_us;

void
admin_mark_start(void)
{
    started_us = http_now_us();
}

static void
health(struct http_request *req)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddStringToObject(body, "status", "ok");
    cJSON_AddStringToObject(body, "version", CYBRID_MOCK_VERSION);
    cJSON_AddNumberToObject(body, "uptime_seconds",
                            (double)(http_now_us() - started_us) / 1e6);
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
    webhooks_wake();
    http_reply_json(req, 200, clock_json());
}

static void
webhooks_get(struct http_request *req)
{
    cJSON *body = cJSON_CreateObject();
    struct webhooks_stats st;

    webhooks_stats(&st);
    cJSON_AddNumberToObject(body, "queued", (double)st.queued);
    cJSON_AddNumberToObject(body, "dropped", (double)st.dropped);
    cJSON_AddNumberToObject(body, "abandoned", (double)st.abandoned);
    cJSON_AddNumberToObject(body, "total", (double)st.attempts);
    cJSON_AddItemToObject(body, "attempts", attemptlog_json(NULL));
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

static const struct http_route routes[] = {
    {"GET", "/__admin/health", health, "admin.health", NULL},
    {"GET", "/__admin/clock", clock_get, "admin.clock", NULL},
    {"POST", "/__admin/clock/advance", clock_advance, "admin.clock_advance",
     NULL},
    {"GET", "/__admin/webhooks", webhooks_get, "admin.webhooks", NULL},
    {"POST", "/__admin/events", events_post, "admin.events", NULL},
};

const struct http_route *
admin_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
