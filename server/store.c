/*
 * store: per kind, an array of entries kept in (created_at, insertion)
 * order, so lists walk it backwards for newest first. Lookups by guid are
 * linear: fixtures and test runs hold few objects, and the deliveries
 * log, the one that grows, is bounded by its owner.
 */
#include "store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    cJSON *obj;
    int64_t created_ms;
    uint64_t seq;
};

struct collection {
    struct entry *v;
    size_t n, cap;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct collection coll[STORE_KINDS];
static struct fx_application *apps;
static size_t n_apps;
static uint64_t next_seq;

static void
strlist_copy(struct strlist *dst, const struct strlist *src)
{
    dst->n = src->n;
    dst->v = xcalloc(src->n ? src->n : 1, sizeof(char *));
    for (size_t i = 0; i < src->n; i++)
        dst->v[i] = xstrdup(src->v[i]);
}

static void
strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void
apps_free(void)
{
    for (size_t i = 0; i < n_apps; i++) {
        free(apps[i].name);
        free(apps[i].client_id);
        secret_free(apps[i].client_secret);
        strlist_free(&apps[i].scopes);
        strlist_free(&apps[i].ip_allowlist);
    }
    free(apps);
    apps = NULL;
    n_apps = 0;
}

static void
collections_free(void)
{
    for (int k = 0; k < STORE_KINDS; k++) {
        for (size_t i = 0; i < coll[k].n; i++)
            cJSON_Delete(coll[k].v[i].obj);
        free(coll[k].v);
        memset(&coll[k], 0, sizeof(coll[k]));
    }
}

void
store_reset(const struct scenario *sc)
{
    pthread_rwlock_wrlock(&lock);
    collections_free();
    apps_free();
    n_apps = sc ? sc->n_applications : 0;
    apps = xcalloc(n_apps ? n_apps : 1, sizeof(*apps));
    for (size_t i = 0; i < n_apps; i++) {
        const struct fx_application *a = &sc->applications[i];

        apps[i].kind = a->kind;
        apps[i].name = xstrdup(a->name ? a->name : a->client_id);
        apps[i].client_id = xstrdup(a->client_id);
        apps[i].client_secret = xstrdup(a->client_secret);
        memcpy(apps[i].owner_guid, a->owner_guid, 33);
        strlist_copy(&apps[i].scopes, &a->scopes);
        strlist_copy(&apps[i].ip_allowlist, &a->ip_allowlist);
    }
    next_seq = 0;
    pthread_rwlock_unlock(&lock);
}

void
store_clear(void)
{
    pthread_rwlock_wrlock(&lock);
    collections_free();
    apps_free();
    pthread_rwlock_unlock(&lock);
}

static struct entry *
find(enum store_kind kind, const char *guid)
{
    struct collection *c = &coll[kind];

    for (size_t i = 0; i < c->n; i++) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(c->v[i].obj, "guid");

        if (cJSON_IsString(g) && strcmp(g->valuestring, guid) == 0)
            return &c->v[i];
    }
    return NULL;
}

cJSON *
store_get(enum store_kind kind, const char *guid)
{
    struct entry *e;
    cJSON *copy = NULL;

    pthread_rwlock_rdlock(&lock);
    e = find(kind, guid);
    if (e != NULL)
        copy = cJSON_Duplicate(e->obj, 1);
    pthread_rwlock_unlock(&lock);
    return copy;
}

cJSON *
store_list(enum store_kind kind, store_filter_fn filter, void *ctx, size_t page,
           size_t per_page, size_t *total)
{
    struct collection *c = &coll[kind];
    cJSON *out = cJSON_CreateArray();
    size_t passed = 0, first = page * per_page;

    pthread_rwlock_rdlock(&lock);
    for (size_t i = c->n; i-- > 0;) {
        if (filter != NULL && !filter(c->v[i].obj, ctx))
            continue;
        if (passed >= first && passed - first < per_page)
            cJSON_AddItemToArray(out, cJSON_Duplicate(c->v[i].obj, 1));
        passed++;
    }
    pthread_rwlock_unlock(&lock);
    if (total != NULL)
        *total = passed;
    return out;
}

/* created_at as epoch ms, from the object's "_created_ms" or 0. */
static int64_t
created_ms(const cJSON *obj)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(obj, "_created_ms");

    return cJSON_IsNumber(ms) ? (int64_t)ms->valuedouble : 0;
}

int
store_insert(enum store_kind kind, cJSON *obj)
{
    struct collection *c = &coll[kind];
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(obj, "guid");
    struct entry e;
    size_t at;

    if (!cJSON_IsString(g)) {
        cJSON_Delete(obj);
        return MOCK_EINVAL;
    }
    pthread_rwlock_wrlock(&lock);
    if (find(kind, g->valuestring) != NULL) {
        pthread_rwlock_unlock(&lock);
        cJSON_Delete(obj);
        return MOCK_EEXIST;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    e.obj = obj;
    e.created_ms = created_ms(obj);
    e.seq = next_seq++;
    at = c->n;
    while (at > 0 && c->v[at - 1].created_ms > e.created_ms)
        at--;
    memmove(c->v + at + 1, c->v + at, (c->n - at) * sizeof(*c->v));
    c->v[at] = e;
    c->n++;
    pthread_rwlock_unlock(&lock);
    return 0;
}

int
store_update(enum store_kind kind, const char *guid, store_update_fn fn,
             void *ctx, cJSON **out)
{
    struct entry *e;
    int rc;

    pthread_rwlock_wrlock(&lock);
    e = find(kind, guid);
    if (e == NULL) {
        pthread_rwlock_unlock(&lock);
        return MOCK_ENOENT;
    }
    rc = fn(e->obj, ctx);
    if (rc == 0 && out != NULL)
        *out = cJSON_Duplicate(e->obj, 1);
    pthread_rwlock_unlock(&lock);
    return rc;
}

int
store_delete(enum store_kind kind, const char *guid)
{
    struct collection *c = &coll[kind];
    struct entry *e;

    pthread_rwlock_wrlock(&lock);
    e = find(kind, guid);
    if (e == NULL) {
        pthread_rwlock_unlock(&lock);
        return MOCK_ENOENT;
    }
    cJSON_Delete(e->obj);
    memmove(e, e + 1, (size_t)(c->v + c->n - (e + 1)) * sizeof(*e));
    c->n--;
    pthread_rwlock_unlock(&lock);
    return 0;
}

size_t
store_count(enum store_kind kind)
{
    size_t n;

    pthread_rwlock_rdlock(&lock);
    n = coll[kind].n;
    pthread_rwlock_unlock(&lock);
    return n;
}

cJSON *
store_public(cJSON *obj)
{
    cJSON *item = obj ? obj->child : NULL;

    while (item != NULL) {
        cJSON *next = item->next;

        if (item->string != NULL && item->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, item));
        item = next;
    }
    return obj;
}

int
store_with_application(const char *client_id, store_app_fn fn, void *ctx)
{
    int rc = MOCK_ENOENT;

    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < n_apps; i++) {
        if (strcmp(apps[i].client_id, client_id) == 0) {
            rc = fn(&apps[i], ctx);
            break;
        }
    }
    pthread_rwlock_unlock(&lock);
    return rc;
}

cJSON *
store_strlist_json(const struct strlist *l)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < l->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
    return a;
}

cJSON *
store_public_all(cJSON *array)
{
    cJSON *item;

    cJSON_ArrayForEach(item, array)
    {
        store_public(item);
    }
    return array;
}

const char *
store_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Sets field to ms as ISO 8601 and ms_field to ms. */
static void
set_time(cJSON *obj, const char *field, const char *ms_field, int64_t ms)
{
    char iso[32];

    iso8601_format(ms, iso);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, field);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, ms_field);
    cJSON_AddStringToObject(obj, field, iso);
    cJSON_AddNumberToObject(obj, ms_field, (double)ms);
}

void
store_stamp_created(cJSON *obj, int64_t ms)
{
    set_time(obj, "created_at", "_created_ms", ms);
    set_time(obj, "updated_at", "_updated_ms", ms);
}

void
store_touch(cJSON *obj, int64_t now_ms)
{
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, "_updated_ms");

    if (cJSON_IsNumber(old) && now_ms <= (int64_t)old->valuedouble)
        now_ms = (int64_t)old->valuedouble + 1;
    set_time(obj, "updated_at", "_updated_ms", now_ms);
}
