/*
 * check: validation of JSON request bodies and list filters, shared by
 * the resource modules.
 *
 * A handler validates the whole request before it changes anything: each
 * check_* call looks at one field and, when it is wrong, records the
 * failure in a struct check (the first failure wins, later calls keep
 * going harmlessly), so a handler runs every check and then replies once
 * with check_reply(). Status rule: a field of the wrong JSON type, an
 * unknown field, a missing required field or a value outside an
 * enumeration is a malformed request (400 invalid_parameter); a value of
 * the right type that breaks a rule (length, count, format) is a
 * validation failure (422 invalid_parameter).
 */
#ifndef CYBRID_CHECK_H
#define CYBRID_CHECK_H

#include "http.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* The first failure found; status 0 while all is well. */
struct check {
    int status;
    char msg[256];
};

/* Field flags. */
#define CHECK_REQUIRED 1u /* absence is a failure */
#define CHECK_NULLABLE 2u /* JSON null is allowed (read as absent) */

/* Records a failure unless one is already there; returns -1. */
int check_fail(struct check *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replies with the recorded failure (message_code invalid_parameter). */
void check_reply(struct http_request *req, const struct check *c);

/* Fails 400 for any key of obj that is not in allowed (NULL-terminated). */
void check_known_keys(struct check *c, const cJSON *obj,
                      const char *const *allowed);

/*
 * The item name of obj, or NULL when it is absent or (with
 * CHECK_NULLABLE) null. Fails 400 when it is required and absent, or
 * null and not nullable.
 */
const cJSON *check_field(struct check *c, const cJSON *obj, const char *name,
                         unsigned flags);

/*
 * A string field: as check_field, then 400 if not a string and 422 if
 * its length is outside [min, max]. Returns the string or NULL.
 */
const char *check_string(struct check *c, const cJSON *obj, const char *name,
                         unsigned flags, size_t min, size_t max);

/*
 * An array field: as check_field, then 400 if not an array or an item is
 * not of item_type (cJSON_String, cJSON_Object; 0: any), and 422 when
 * it has more than max items. Returns the array or NULL.
 */
const cJSON *check_array(struct check *c, const cJSON *obj, const char *name,
                         unsigned flags, int item_type, size_t max);

/* An object field (as check_field, then 400 if not an object). */
const cJSON *check_object(struct check *c, const cJSON *obj, const char *name,
                          unsigned flags);

/* 1 when value is one of allowed (NULL-terminated). */
int check_in(const char *value, const char *const *allowed);

/* Fails 400 unless value (if not NULL) is one of allowed. */
void check_enum(struct check *c, const char *name, const char *value,
                const char *const *allowed);

/* 1 when s is YYYY-MM-DD, a real calendar date. */
int check_date(const char *s);

/* A comma-separated query filter, split into at most CHECK_CSV_MAX. */
#define CHECK_CSV_MAX 100
struct check_csv {
    char buf[4096];
    const char *v[CHECK_CSV_MAX];
    size_t n; /* 0: the parameter is absent */
};

/*
 * Reads query parameter name as a comma list into out. Each item must be
 * a guid (guids=1) or one of allowed (when not NULL); empty items, too
 * many items or a bad value fail 400.
 */
void check_query_csv(struct check *c, const struct http_request *req,
                     const char *name, int guids, const char *const *allowed,
                     struct check_csv *out);

/* 1 when s is one of the list's items (or the list is absent). */
int check_csv_has(const struct check_csv *l, const char *s);

#endif
