/*
 * store: the mock's in-memory state.
 *
 * Resources (organizations, banks, customers, subscriptions, events,
 * deliveries) are kept as the JSON objects the API returns, each with a
 * "guid" and a "created_at"; fields that only the mock needs start with
 * an underscore and are removed by store_public(). Applications live as C
 * structs for the token path. One read-write lock guards everything;
 * every call takes it for as short as it can and hands back copies, so
 * no caller ever holds a pointer into the store.
 */
#ifndef CYBRID_STORE_H
#define CYBRID_STORE_H

#include "scenario.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum store_kind {
    STORE_ORGANIZATIONS,
    STORE_BANKS,
    STORE_CUSTOMERS,
    STORE_SUBSCRIPTIONS,
    STORE_EVENTS,
    STORE_DELIVERIES,
    STORE_KINDS
};

/*
 * Empties every collection and keeps a copy of the scenario's
 * applications. Resource modules then insert their own fixtures.
 */
void store_reset(const struct scenario *sc);

/* Frees all state (at exit). */
void store_clear(void);

/* A copy of the object with this guid (caller frees), or NULL. */
cJSON *store_get(enum store_kind kind, const char *guid);

/* Decides whether an object belongs in a list; 1 keeps it. */
typedef int (*store_filter_fn)(const cJSON *obj, void *ctx);

/*
 * A copy of one page (0-based) of the objects that pass filter (NULL:
 * all), newest first; *total receives how many passed in all. The caller
 * frees the returned array.
 */
cJSON *store_list(enum store_kind kind, store_filter_fn filter, void *ctx,
                  size_t page, size_t per_page, size_t *total);

/* Adds obj (taken over by the store). MOCK_EEXIST if its guid is there. */
int store_insert(enum store_kind kind, cJSON *obj);

/*
 * Changes an object in place under the write lock: fn gets the stored
 * object and returns 0 to keep its changes or a negative code to refuse
 * (fn must then have changed nothing). Returns fn's result, or
 * MOCK_ENOENT; on success *out (if not NULL) receives a copy.
 */
typedef int (*store_update_fn)(cJSON *obj, void *ctx);
int store_update(enum store_kind kind, const char *guid, store_update_fn fn,
                 void *ctx, cJSON **out);

/* Removes the object; 0 or MOCK_ENOENT. */
int store_delete(enum store_kind kind, const char *guid);

/* How many objects of a kind are stored. */
size_t store_count(enum store_kind kind);

/* Removes the underscore fields from obj (in place) and returns it. */
cJSON *store_public(cJSON *obj);

/*
 * Calls fn with the application whose client_id matches, under the read
 * lock (fn must copy what it keeps). Returns fn's result or MOCK_ENOENT.
 */
typedef int (*store_app_fn)(const struct fx_application *app, void *ctx);
int store_with_application(const char *client_id, store_app_fn fn, void *ctx);

/* JSON helpers shared by the resource modules. */
cJSON *store_strlist_json(const struct strlist *l);

/* store_public() over every object of an array; returns the array. */
cJSON *store_public_all(cJSON *array);

/* The string field name of obj, or "" when it is missing or not a string. */
const char *store_str(const cJSON *obj, const char *name);

/*
 * Sets created_at and updated_at (ISO 8601) to ms, with the internal
 * _created_ms and _updated_ms the store orders and compares by.
 */
void store_stamp_created(cJSON *obj, int64_t ms);

/*
 * Moves updated_at to now_ms, and at least one millisecond past its last
 * value, so every accepted change shows.
 */
void store_touch(cJSON *obj, int64_t now_ms);

#endif
