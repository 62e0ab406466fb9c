/*
 * fixtures: the fixture lists' field tables, their merge (a list given
 * replaces the parent's) and the checks across entries (references,
 * uniqueness, application scopes, the banks' CORS origins).
 */
#include "fixtures.h"

#include "origin.h"
#include "scopes.h"

#include <stdlib.h>
#include <string.h>

static void
strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void
org_clear(void *p)
{
    free(((struct fx_organization *)p)->name);
}

static void
bank_clear(void *p)
{
    struct fx_bank *b = p;

    free(b->name);
    free(b->type);
    strlist_free(&b->supported_trading_symbols);
    strlist_free(&b->supported_payout_symbols);
    strlist_free(&b->supported_fiat_account_assets);
    strlist_free(&b->supported_country_codes);
    strlist_free(&b->features);
    strlist_free(&b->cors_allowed_origins);
}

static void
app_clear(void *p)
{
    struct fx_application *a = p;

    free(a->name);
    free(a->client_id);
    secret_free(a->client_secret);
    strlist_free(&a->scopes);
    strlist_free(&a->ip_allowlist);
}

static void
customer_clear(void *p)
{
    struct fx_customer *c = p;
    char *fields[] = {c->type,          c->state,        c->first_name,
                      c->middle_name,   c->last_name,    c->business_name,
                      c->date_of_birth, c->phone_number, c->email_address,
                      c->street,        c->street2,      c->city,
                      c->subdivision,   c->postal_code,  c->country_code};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        free(fields[i]);
    strlist_free(&c->labels);
}

static void
sub_clear(void *p)
{
    struct fx_subscription *s = p;

    free(s->name);
    free(s->url);
    secret_free(s->signing_key);
}

static void
bank_init(void *p)
{
    ((struct fx_bank *)p)->type = xstrdup("sandbox");
}

static void
customer_init(void *p)
{
    ((struct fx_customer *)p)->type = xstrdup("individual");
    ((struct fx_customer *)p)->state = xstrdup("verified");
}

static int
parse_app_kind(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    const char *s = schema_scalar(cx, node, "a string");

    if (s == NULL)
        return MOCK_EINVAL;
    if (strcmp(s, "bank") == 0)
        *(enum app_kind *)dst = APP_BANK;
    else if (strcmp(s, "organization") == 0)
        *(enum app_kind *)dst = APP_ORGANIZATION;
    else
        return schema_fail(cx, node,
                           "bad value \"%.40s\": want one of bank, "
                           "organization",
                           s);
    return 0;
}

/* A scope is RESOURCE:ACTION, e.g. banks:read or customers:pii:read. */
static int
parse_scopes(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    struct strlist *l = dst;

    if (schema_strlist(cx, node, dst, NULL) != 0)
        return MOCK_EINVAL;
    for (size_t i = 0; i < l->n; i++) {
        if (scopes_index(l->v[i]) < 0)
            return schema_fail(
                cx, schema_node(cx, node->data.sequence.items.start[i]),
                "bad scope \"%.60s\": not a Cybrid scope (RESOURCE:read, "
                ":write or :execute of the scope table)",
                l->v[i]);
    }
    return 0;
}

static const char *const bank_types[] = {"sandbox", "production", NULL};
static const char *const customer_types[] = {"individual", "business", NULL};
static const char *const customer_states[] = {
    "storing", "unverified", "verified", "rejected", "frozen", NULL};

static const struct schema_field org_fields[] = {
    SCHEMA_FIELD(struct fx_organization, "guid", schema_guid, guid, NULL, 1),
    SCHEMA_FIELD(struct fx_organization, "name", schema_string, name, NULL, 1),
    {NULL, NULL, 0, NULL, 0},
};

#define B(key, fn, member, arg, req)                                           \
    SCHEMA_FIELD(struct fx_bank, key, fn, member, arg, req)
static const struct schema_field bank_fields[] = {
    B("guid", schema_guid, guid, NULL, 1),
    B("organization_guid", schema_guid, organization_guid, NULL, 1),
    B("name", schema_string, name, NULL, 1),
    B("type", schema_enum, type, bank_types, 0),
    B("supported_trading_symbols", schema_strlist, supported_trading_symbols,
      NULL, 0),
    B("supported_payout_symbols", schema_strlist, supported_payout_symbols,
      NULL, 0),
    B("supported_fiat_account_assets", schema_strlist,
      supported_fiat_account_assets, NULL, 0),
    B("supported_country_codes", schema_strlist, supported_country_codes, NULL,
      0),
    B("features", schema_strlist, features, NULL, 0),
    B("cors_allowed_origins", schema_strlist, cors_allowed_origins, NULL, 0),
    B("created_at", schema_instant, created_at_ms, NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

#define A(key, fn, member, arg, req)                                           \
    SCHEMA_FIELD(struct fx_application, key, fn, member, arg, req)
static const struct schema_field app_fields[] = {
    A("kind", parse_app_kind, kind, NULL, 1),
    A("name", schema_string, name, NULL, 0),
    A("client_id", schema_string, client_id, NULL, 1),
    A("client_secret", schema_secret, client_secret, NULL, 1),
    A("owner", schema_guid, owner_guid, NULL, 1),
    A("scopes", parse_scopes, scopes, NULL, 0),
    A("ip_allowlist", schema_addrlist, ip_allowlist, "v4", 0),
    {NULL, NULL, 0, NULL, 0},
};

#define C(key, fn, member, arg, req)                                           \
    SCHEMA_FIELD(struct fx_customer, key, fn, member, arg, req)
static const struct schema_field address_fields[] = {
    C("street", schema_string, street, NULL, 0),
    C("street2", schema_string, street2, NULL, 0),
    C("city", schema_string, city, NULL, 0),
    C("subdivision", schema_string, subdivision, NULL, 0),
    C("postal_code", schema_string, postal_code, NULL, 0),
    C("country_code", schema_string, country_code, NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

static const struct schema_field customer_fields[] = {
    C("guid", schema_guid, guid, NULL, 1),
    C("bank_guid", schema_guid, bank_guid, NULL, 1),
    C("type", schema_enum, type, customer_types, 0),
    C("state", schema_enum, state, customer_states, 0),
    C("first_name", schema_string, first_name, NULL, 0),
    C("middle_name", schema_string, middle_name, NULL, 0),
    C("last_name", schema_string, last_name, NULL, 0),
    C("business_name", schema_string, business_name, NULL, 0),
    C("date_of_birth", schema_date, date_of_birth, NULL, 0),
    C("phone_number", schema_string, phone_number, NULL, 0),
    C("email_address", schema_string, email_address, NULL, 0),
    {"address", schema_submap, 0, address_fields, 0},
    C("labels", schema_strlist, labels, NULL, 0),
    C("created_at", schema_instant, created_at_ms, NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

#define S(key, fn, member, arg, req)                                           \
    SCHEMA_FIELD(struct fx_subscription, key, fn, member, arg, req)
static const struct schema_field sub_fields[] = {
    S("guid", schema_guid, guid, NULL, 1),
    S("organization_guid", schema_guid, organization_guid, NULL, 1),
    S("name", schema_string, name, NULL, 1),
    S("url", schema_string, url, NULL, 1),
    S("signing_key", schema_secret, signing_key, NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

/* One fixture list: its fields and where it lives in struct scenario. */
struct list_kind {
    enum fixtures_kind kind;
    const char *what; /* singular, for messages */
    size_t size;
    size_t array, count; /* offsets of the array and its length */
    const struct schema_field *fields;
    void (*init)(void *item);
    void (*clear)(void *item);
};

#define LIST(kind, what, type, arr, n, fields, init, clear)                    \
    {                                                                          \
        kind, what, sizeof(type), offsetof(struct scenario, arr),              \
            offsetof(struct scenario, n), fields, init, clear                  \
    }

static const struct list_kind lists[FIXTURES_KINDS] = {
    LIST(FIXTURES_ORGANIZATIONS, "organization", struct fx_organization,
         organizations, n_organizations, org_fields, NULL, org_clear),
    LIST(FIXTURES_BANKS, "bank", struct fx_bank, banks, n_banks, bank_fields,
         bank_init, bank_clear),
    LIST(FIXTURES_APPLICATIONS, "application", struct fx_application,
         applications, n_applications, app_fields, NULL, app_clear),
    LIST(FIXTURES_CUSTOMERS, "customer", struct fx_customer, customers,
         n_customers, customer_fields, customer_init, customer_clear),
    LIST(FIXTURES_SUBSCRIPTIONS, "subscription", struct fx_subscription,
         subscriptions, n_subscriptions, sub_fields, NULL, sub_clear),
};

static void **
list_array(struct scenario *sc, const struct list_kind *lk)
{
    return (void **)((char *)sc + lk->array);
}

static size_t *
list_count(struct scenario *sc, const struct list_kind *lk)
{
    return (size_t *)((char *)sc + lk->count);
}

static void
list_free(void *array, size_t n, const struct list_kind *lk)
{
    for (size_t i = 0; i < n; i++)
        lk->clear((char *)array + i * lk->size);
    free(array);
}

/* Replaces one fixture list of the scenario with the node's entries. */
static int
parse_list(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    const struct list_kind *lk = arg;
    struct scenario *sc = dst;
    struct fixtures_places *fp = cx->user;
    yaml_node_item_t *items = node->data.sequence.items.start;
    struct fixtures_place *places;
    size_t n, done = 0;
    char *array;

    if (node->type != YAML_SEQUENCE_NODE)
        return schema_fail(cx, node, "expected a list of %ss", lk->what);
    n = (size_t)(node->data.sequence.items.top - items);
    array = xcalloc(n ? n : 1, lk->size);
    places = xcalloc(n ? n : 1, sizeof(*places));
    for (; done < n; done++) {
        yaml_node_t *item = schema_node(cx, items[done]);
        char *entry = array + done * lk->size;

        if (lk->init != NULL)
            lk->init(entry);
        if (schema_map(cx, item, lk->fields, entry) != 0) {
            list_free(array, done + 1, lk);
            free(places);
            return MOCK_EINVAL;
        }
        places[done].file = cx->file;
        places[done].line = (int)item->start_mark.line + 1;
        places[done].column = (int)item->start_mark.column + 1;
    }
    list_free(*list_array(sc, lk), *list_count(sc, lk), lk);
    *list_array(sc, lk) = array;
    *list_count(sc, lk) = n;
    free(fp->v[lk->kind]);
    fp->v[lk->kind] = places;
    return 0;
}

const struct schema_field fixtures_fields[] = {
    {"organizations", parse_list, 0, &lists[FIXTURES_ORGANIZATIONS], 0},
    {"banks", parse_list, 0, &lists[FIXTURES_BANKS], 0},
    {"applications", parse_list, 0, &lists[FIXTURES_APPLICATIONS], 0},
    {"customers", parse_list, 0, &lists[FIXTURES_CUSTOMERS], 0},
    {"subscriptions", parse_list, 0, &lists[FIXTURES_SUBSCRIPTIONS], 0},
    {NULL, NULL, 0, NULL, 0},
};

void
fixtures_free(struct scenario *sc)
{
    for (int k = 0; k < FIXTURES_KINDS; k++) {
        list_free(*list_array(sc, &lists[k]), *list_count(sc, &lists[k]),
                  &lists[k]);
        *list_array(sc, &lists[k]) = NULL;
        *list_count(sc, &lists[k]) = 0;
    }
}

void
fixtures_places_free(struct fixtures_places *places)
{
    for (int k = 0; k < FIXTURES_KINDS; k++) {
        free(places->v[k]);
        places->v[k] = NULL;
    }
}

/* ---- checks across entries -------------------------------------------- */

/* Index of the entry of list k whose guid is guid, or -1. */
static long
find_guid(const struct scenario *sc, enum fixtures_kind k, const char *guid,
          size_t end)
{
    const struct list_kind *lk = &lists[k];
    const char *array = *(char *const *)((const char *)sc + lk->array);

    for (size_t i = 0; i < end; i++) {
        /* Every fixture struct but applications starts with its guid. */
        if (strcmp(array + i * lk->size, guid) == 0)
            return (long)i;
    }
    return -1;
}

static size_t
count_of(const struct scenario *sc, enum fixtures_kind k)
{
    return *(const size_t *)((const char *)sc + lists[k].count);
}

static int
fail_entry(const struct fixtures_places *fp, enum fixtures_kind k, size_t i,
           struct schema_err *err, const char *what, const char *detail)
{
    const struct fixtures_place *p = fp->v[k] ? &fp->v[k][i] : NULL;

    return schema_fail_at(err, p ? p->file : "scenario", p ? p->line : 0,
                          p ? p->column : 0, "%s %s", what, detail);
}

static int
check_unique(const struct scenario *sc, const struct fixtures_places *fp,
             struct schema_err *err)
{
    static const enum fixtures_kind with_guid[] = {
        FIXTURES_ORGANIZATIONS, FIXTURES_BANKS, FIXTURES_CUSTOMERS,
        FIXTURES_SUBSCRIPTIONS};
    char detail[96];

    for (size_t j = 0; j < sizeof(with_guid) / sizeof(with_guid[0]); j++) {
        enum fixtures_kind k = with_guid[j];
        const char *array = *(char *const *)((const char *)sc + lists[k].array);

        for (size_t i = 1; i < count_of(sc, k); i++) {
            const char *guid = array + i * lists[k].size;

            if (find_guid(sc, k, guid, i) < 0)
                continue;
            snprintf(detail, sizeof(detail), "%s is listed twice", guid);
            return fail_entry(fp, k, i, err, lists[k].what, detail);
        }
    }
    for (size_t i = 0; i < sc->n_applications; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(sc->applications[i].client_id,
                       sc->applications[j].client_id) != 0)
                continue;
            snprintf(detail, sizeof(detail), "client_id %.60s is used twice",
                     sc->applications[i].client_id);
            return fail_entry(fp, FIXTURES_APPLICATIONS, i, err, "application",
                              detail);
        }
    }
    return 0;
}

/* 0 when guid names an entry of list k; else fails at entry i of from. */
static int
need(const struct scenario *sc, const struct fixtures_places *fp,
     enum fixtures_kind from, size_t i, const char *field, const char *guid,
     enum fixtures_kind k, struct schema_err *err)
{
    char detail[160];

    if (find_guid(sc, k, guid, count_of(sc, k)) >= 0)
        return 0;
    snprintf(detail, sizeof(detail), "%s %s names no %s of the fixtures", field,
             guid, lists[k].what);
    return fail_entry(fp, from, i, err, lists[from].what, detail);
}

/* 0 when application i holds only scopes of its kind (bank credentials
 * never hold subscription scopes, organization ones no customer writes). */
static int
check_app_scopes(const struct fixtures_places *fp, size_t i,
                 const struct fx_application *a, struct schema_err *err)
{
    unsigned kind = a->kind == APP_BANK ? SCOPE_BANK : SCOPE_ORG;
    char detail[160];

    for (size_t j = 0; j < a->scopes.n; j++) {
        if ((scopes_types(scopes_index(a->scopes.v[j])) & kind) != 0)
            continue;
        snprintf(detail, sizeof(detail), "%s applications cannot hold %.60s",
                 a->kind == APP_BANK ? "bank" : "organization", a->scopes.v[j]);
        return fail_entry(fp, FIXTURES_APPLICATIONS, i, err, "application",
                          detail);
    }
    return 0;
}

/* 0 when bank i's cors_allowed_origins obey the API's rules. */
static int
check_origins(const struct fixtures_places *fp, size_t i,
              const struct fx_bank *b, struct schema_err *err)
{
    char detail[160];

    if (b->cors_allowed_origins.n > ORIGIN_LIST_MAX) {
        snprintf(detail, sizeof(detail),
                 "cors_allowed_origins has more than %d entries",
                 ORIGIN_LIST_MAX);
        return fail_entry(fp, FIXTURES_BANKS, i, err, "bank", detail);
    }
    for (size_t j = 0; j < b->cors_allowed_origins.n; j++) {
        if (origin_allowed(b->cors_allowed_origins.v[j]))
            continue;
        snprintf(detail, sizeof(detail), "cors_allowed_origins entry %zu: %s",
                 j + 1, ORIGIN_INVALID_MESSAGE);
        return fail_entry(fp, FIXTURES_BANKS, i, err, "bank", detail);
    }
    return 0;
}

int
fixtures_check(const struct scenario *sc, const struct fixtures_places *fp,
               struct schema_err *err)
{
    if (check_unique(sc, fp, err) != 0)
        return MOCK_EINVAL;
    for (size_t i = 0; i < sc->n_banks; i++) {
        if (need(sc, fp, FIXTURES_BANKS, i, "organization_guid",
                 sc->banks[i].organization_guid, FIXTURES_ORGANIZATIONS,
                 err) != 0 ||
            check_origins(fp, i, &sc->banks[i], err) != 0)
            return MOCK_EINVAL;
    }
    for (size_t i = 0; i < sc->n_applications; i++) {
        const struct fx_application *a = &sc->applications[i];

        if (need(sc, fp, FIXTURES_APPLICATIONS, i, "owner", a->owner_guid,
                 a->kind == APP_BANK ? FIXTURES_BANKS : FIXTURES_ORGANIZATIONS,
                 err) != 0 ||
            check_app_scopes(fp, i, a, err) != 0)
            return MOCK_EINVAL;
    }
    for (size_t i = 0; i < sc->n_customers; i++) {
        if (need(sc, fp, FIXTURES_CUSTOMERS, i, "bank_guid",
                 sc->customers[i].bank_guid, FIXTURES_BANKS, err) != 0)
            return MOCK_EINVAL;
    }
    for (size_t i = 0; i < sc->n_subscriptions; i++) {
        if (need(sc, fp, FIXTURES_SUBSCRIPTIONS, i, "organization_guid",
                 sc->subscriptions[i].organization_guid, FIXTURES_ORGANIZATIONS,
                 err) != 0)
            return MOCK_EINVAL;
    }
    return 0;
}
