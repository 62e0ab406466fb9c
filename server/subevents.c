/*
 * subevents: handlers of /api/subscription_events and
 * /api/subscription_deliveries. Deliveries carry their organization and
 * event type in underscore fields, so lists filter without joining.
 */
#include "subevents.h"

#include "app.h"
#include "check.h"
#include "organization.h"
#include "store.h"
#include "webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct route_policy events_read = {
    TOKEN_ORGANIZATION, "subscription_events:read", LIMIT_GENERAL, 0};
static const struct route_policy events_execute = {
    TOKEN_ORGANIZATION, "subscription_events:execute", LIMIT_GENERAL, 0};

int
subevents_parse_time(const char *s, int64_t *out_ms)
{
    struct tm tm = {0};
    int n = 0, ms = 0, digits = 0;
    const char *p;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return MOCK_EINVAL;
    p = s + n;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        }
        if (digits == 0)
            return MOCK_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return MOCK_EINVAL;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return MOCK_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out_ms = (int64_t)timegm(&tm) * 1000 + ms;
    return 0;
}

/* Replies with the stored object of kind named by the path if the caller
 * owns it (owner_key), else 404. */
static void
get_owned(struct http_request *req, enum store_kind kind, const char *owner_key,
          const char *what)
{
    const char *org = organization_caller(req);
    cJSON *obj;

    if (org == NULL)
        return;
    obj = store_get(kind, req->params[0]);
    if (obj == NULL || strcmp(store_str(obj, owner_key), org) != 0) {
        cJSON_Delete(obj);
        http_reply_error(req, 404, "not_found", "%s not found", what);
        return;
    }
    http_reply_json(req, 200, store_public(obj));
}

/* ---- events ------------------------------------------------------------ */

struct event_filter {
    const char *org;
    struct check_csv guid;
};

static int
event_match(const cJSON *obj, void *ctx)
{
    const struct event_filter *f = ctx;

    return strcmp(store_str(obj, "organization_guid"), f->org) == 0 &&
           check_csv_has(&f->guid, store_str(obj, "guid"));
}

static void
events_list(struct http_request *req)
{
    struct event_filter *f = xcalloc(1, sizeof(*f));
    struct check c = {0};
    struct http_page pg;
    size_t total = 0;
    cJSON *objects;

    f->org = organization_caller(req);
    if (f->org == NULL || http_page_read(req, &pg) != 0)
        goto out;
    check_query_csv(&c, req, "guid", 1, NULL, &f->guid);
    if (c.status != 0) {
        check_reply(req, &c);
        goto out;
    }
    objects =
        store_list(STORE_EVENTS, event_match, f, pg.page, pg.per_page, &total);
    http_reply_list(req, store_public_all(objects), total, &pg);
out:
    free(f);
}

static void
events_get(struct http_request *req)
{
    get_owned(req, STORE_EVENTS, "organization_guid", "subscription event");
}

/* ---- deliveries -------------------------------------------------------- */

struct delivery_filter {
    const char *org;
    struct check_csv guid, event, subscription, state, event_type;
    int64_t completed_gte, completed_lt; /* 0: no bound */
};

static int
delivery_match(const cJSON *obj, void *ctx)
{
    const struct delivery_filter *f = ctx;
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(obj, "_completed_ms");
    int64_t at = cJSON_IsNumber(done) ? (int64_t)done->valuedouble : -1;

    if (strcmp(store_str(obj, "_organization_guid"), f->org) != 0 ||
        !check_csv_has(&f->guid, store_str(obj, "guid")) ||
        !check_csv_has(&f->event, store_str(obj, "subscription_event_guid")) ||
        !check_csv_has(&f->subscription, store_str(obj, "subscription_guid")) ||
        !check_csv_has(&f->state, store_str(obj, "state")) ||
        !check_csv_has(&f->event_type, store_str(obj, "_event_type")))
        return 0;
    if ((f->completed_gte || f->completed_lt) && at < 0)
        return 0;
    return (!f->completed_gte || at >= f->completed_gte) &&
           (!f->completed_lt || at < f->completed_lt);
}

/* Reads a time bound into *out (0 when absent). */
static void
query_time(struct check *c, struct http_request *req, const char *name,
           int64_t *out)
{
    char buf[40];
    int rc = http_query_param(req, name, buf, sizeof(buf));

    if (rc == MOCK_ENOENT)
        return;
    if (rc < 0 || subevents_parse_time(buf, out) != 0)
        check_fail(c, 400, "%s must be an ISO 8601 UTC time", name);
}

static void
delivery_query(struct check *c, struct http_request *req,
               struct delivery_filter *f)
{
    static const char *const states[] = {"storing", "completed", "failing",
                                         "failed", NULL};

    check_query_csv(c, req, "guid", 1, NULL, &f->guid);
    check_query_csv(c, req, "subscription_event_guid", 1, NULL, &f->event);
    check_query_csv(c, req, "subscription_guid", 1, NULL, &f->subscription);
    check_query_csv(c, req, "state", 0, states, &f->state);
    check_query_csv(c, req, "event_type", 0, NULL, &f->event_type);
    for (size_t i = 0; i < f->event_type.n; i++) {
        if (!webhooks_event_type_valid(f->event_type.v[i]))
            check_fail(c, 400, "event_type has an unknown value");
    }
    query_time(c, req, "completed_at_gte", &f->completed_gte);
    query_time(c, req, "completed_at_lt", &f->completed_lt);
}

static void
deliveries_list(struct http_request *req)
{
    struct delivery_filter *f = xcalloc(1, sizeof(*f));
    struct check c = {0};
    struct http_page pg;
    size_t total = 0;
    cJSON *objects;

    f->org = organization_caller(req);
    if (f->org == NULL || http_page_read(req, &pg) != 0)
        goto out;
    delivery_query(&c, req, f);
    if (c.status != 0) {
        check_reply(req, &c);
        goto out;
    }
    objects = store_list(STORE_DELIVERIES, delivery_match, f, pg.page,
                         pg.per_page, &total);
    http_reply_list(req, store_public_all(objects), total, &pg);
out:
    free(f);
}

static void
deliveries_get(struct http_request *req)
{
    get_owned(req, STORE_DELIVERIES, "_organization_guid",
              "subscription delivery");
}

/* POST /api/subscription_deliveries: deliver a stored event again. */
static void
deliveries_create(struct http_request *req)
{
    static const char *const keys[] = {"subscription_event_guid",
                                       "subscription_guid", NULL};
    const char *org = organization_caller(req), *event, *sub;
    struct mock_err err = {0};
    struct check c = {0};
    cJSON *body, *out = NULL, *obj;
    int rc;

    if (org == NULL || (body = http_json_body(req)) == NULL)
        return;
    check_known_keys(&c, body, keys);
    event = check_string(&c, body, "subscription_event_guid", CHECK_REQUIRED,
                         32, 32);
    sub = check_string(&c, body, "subscription_guid", CHECK_REQUIRED, 32, 32);
    if (c.status != 0) {
        check_reply(req, &c);
        cJSON_Delete(body);
        return;
    }
    obj = store_get(STORE_EVENTS, event);
    if (obj == NULL || strcmp(store_str(obj, "organization_guid"), org) != 0)
        rc = err_set(&err, MOCK_ENOENT, "subscription event not found");
    else
        rc = webhooks_redeliver(event, sub, &out, &err);
    cJSON_Delete(obj);
    cJSON_Delete(body);
    if (rc == 0)
        http_reply_json(req, 201, out);
    else if (rc == MOCK_ELIMIT)
        http_reply_error(req, 503, "error", "%s", err.msg);
    else
        http_reply_error(req, 422, "invalid_parameter", "%s", err.msg);
}

static const struct http_route routes[] = {
    {"GET", "/api/subscription_events", events_list, "subscription_events.list",
     &events_read},
    {"GET", "/api/subscription_events/{subscription_event_guid}", events_get,
     "subscription_events.get", &events_read},
    {"GET", "/api/subscription_deliveries", deliveries_list,
     "subscription_deliveries.list", &events_read},
    {"GET", "/api/subscription_deliveries/{subscription_delivery_guid}",
     deliveries_get, "subscription_deliveries.get", &events_read},
    {"POST", "/api/subscription_deliveries", deliveries_create,
     "subscription_deliveries.create", &events_execute},
};

const struct http_route *
subevents_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
