/*
 * admin: handlers of /__admin/. Each answers JSON; bad input gets a
 * Cybrid error body and changes nothing.
 */
#include "admin.h"

#include "clock.h"

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
    http_reply_json(req, 200, clock_json());
}

static const struct http_route routes[] = {
    {"GET", "/__admin/health", health, "admin.health", NULL},
    {"GET", "/__admin/clock", clock_get, "admin.clock", NULL},
    {"POST", "/__admin/clock/advance", clock_advance, "admin.clock_advance",
     NULL},
};

const struct http_route *
admin_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
