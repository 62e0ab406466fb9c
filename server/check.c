/*
 * check: field checks that record the first failure in a struct check.
 * Messages name the field, never echo its value (a value may be PII).
 */
#include "check.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
check_fail(struct check *c, int status, const char *fmt, ...)
{
    va_list ap;

    if (c->status != 0)
        return -1;
    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void
check_reply(struct http_request *req, const struct check *c)
{
    http_reply_error(req, c->status ? c->status : 400, "invalid_parameter",
                     "%s", c->msg);
}

int
check_in(const char *value, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(value, allowed[i]) == 0)
            return 1;
    }
    return 0;
}

void
check_known_keys(struct check *c, const cJSON *obj, const char *const *allowed)
{
    const cJSON *item;

    cJSON_ArrayForEach(item, obj)
    {
        if (!check_in(item->string, allowed)) {
            check_fail(c, 400, "unknown field: %.64s", item->string);
            return;
        }
    }
}

const cJSON *
check_field(struct check *c, const cJSON *obj, const char *name, unsigned flags)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (item == NULL || cJSON_IsNull(item)) {
        if (item != NULL && !(flags & CHECK_NULLABLE))
            check_fail(c, 400, "%s must not be null", name);
        else if (flags & CHECK_REQUIRED)
            check_fail(c, 400, "%s is required", name);
        return NULL;
    }
    return item;
}

const char *
check_string(struct check *c, const cJSON *obj, const char *name,
             unsigned flags, size_t min, size_t max)
{
    const cJSON *item = check_field(c, obj, name, flags);
    size_t len;

    if (item == NULL)
        return NULL;
    if (!cJSON_IsString(item)) {
        check_fail(c, 400, "%s must be a string", name);
        return NULL;
    }
    len = strlen(item->valuestring);
    if (len < min || len > max) {
        check_fail(c, 422, "%s must be %zu to %zu characters long", name, min,
                   max);
        return NULL;
    }
    return item->valuestring;
}

const cJSON *
check_array(struct check *c, const cJSON *obj, const char *name, unsigned flags,
            int item_type, size_t max)
{
    const cJSON *item = check_field(c, obj, name, flags), *e;

    if (item == NULL)
        return NULL;
    if (!cJSON_IsArray(item)) {
        check_fail(c, 400, "%s must be an array", name);
        return NULL;
    }
    cJSON_ArrayForEach(e, item)
    {
        if (item_type != 0 && (e->type & 0xff) != item_type) {
            check_fail(c, 400, "%s must hold only %s", name,
                       item_type == cJSON_String ? "strings" : "objects");
            return NULL;
        }
    }
    if ((size_t)cJSON_GetArraySize(item) > max) {
        check_fail(c, 422, "%s must have at most %zu entries", name, max);
        return NULL;
    }
    return item;
}

const cJSON *
check_object(struct check *c, const cJSON *obj, const char *name,
             unsigned flags)
{
    const cJSON *item = check_field(c, obj, name, flags);

    if (item != NULL && !cJSON_IsObject(item)) {
        check_fail(c, 400, "%s must be an object", name);
        return NULL;
    }
    return item;
}

void
check_enum(struct check *c, const char *name, const char *value,
           const char *const *allowed)
{
    if (value != NULL && !check_in(value, allowed))
        check_fail(c, 400, "%s has an unknown value", name);
}

int
check_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return 0;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 0;
    return 1;
}

void
check_query_csv(struct check *c, const struct http_request *req,
                const char *name, int guids, const char *const *allowed,
                struct check_csv *out)
{
    int n = http_query_param(req, name, out->buf, sizeof(out->buf));
    char *p = out->buf;

    out->n = 0;
    if (n == MOCK_ENOENT)
        return;
    if (n < 0) {
        check_fail(c, 400, "%s is too long or malformed", name);
        return;
    }
    for (;;) {
        char *comma = strchr(p, ',');

        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0' || out->n == CHECK_CSV_MAX ||
            (guids && !guid_valid(p)) ||
            (allowed != NULL && !check_in(p, allowed))) {
            check_fail(c, 400, "%s has a malformed or unknown value", name);
            out->n = 0;
            return;
        }
        out->v[out->n++] = p;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
}

int
check_csv_has(const struct check_csv *l, const char *s)
{
    if (l->n == 0)
        return 1;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0)
            return 1;
    }
    return 0;
}
