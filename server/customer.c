/*
 * customer: handlers of /api/customers.
 *
 * A POST is checked field by field (check module) into a new customer
 * object before anything is stored; a PATCH may only move the state to
 * unverified. New customers start unverified: the sandbox's brief
 * storing state is skipped so clients need not poll. Replies go through
 * reply_customer(), which drops the underscore fields and blanks the PII
 * unless the request may see it.
 */
#include "customer.h"

#include "bank.h"
#include "check.h"
#include "clock.h"
#include "identity.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX 128
#define LABELS_MAX 8
#define LABEL_MAX_LEN 64
#define ID_NUMBERS_MAX 10

static const char *const types[] = {"individual", "business", NULL};
static const char *const states[] = {"storing",  "unverified", "verified",
                                     "rejected", "frozen",     NULL};
static const char *const id_types[] = {"drivers_license",
                                       "passport",
                                       "passport_card",
                                       "residence_card",
                                       "visa",
                                       "social_security_number",
                                       "tax_identification_number",
                                       "identification_card",
                                       "work_permit",
                                       "indigenous_document_number",
                                       "national_identification_number",
                                       "employer_identification_number",
                                       "business_registration_number",
                                       NULL};
static const char *const pii_fields[] = {"name",
                                         "address",
                                         "aliases",
                                         "website",
                                         "date_of_birth",
                                         "phone_number",
                                         "email_address",
                                         "identification_numbers",
                                         NULL};

/* ---- JSON of a customer ------------------------------------------------ */

static void
add_str(cJSON *o, const char *name, const char *value)
{
    if (value != NULL)
        cJSON_AddStringToObject(o, name, value);
    else
        cJSON_AddNullToObject(o, name);
}

/* The name object; full is composed for individuals. */
static cJSON *
name_json(const char *first, const char *middle, const char *last,
          const char *full)
{
    cJSON *o = cJSON_CreateObject();
    char *joined = NULL;

    if (full == NULL && (first != NULL || last != NULL)) {
        joined = xasprintf("%s%s%s%s%s", first ? first : "", middle ? " " : "",
                           middle ? middle : "", last && first ? " " : "",
                           last ? last : "");
        full = joined;
    }
    add_str(o, "first", first);
    add_str(o, "middle", middle);
    add_str(o, "last", last);
    add_str(o, "full", full);
    free(joined);
    return o;
}

/* Adds the fields every customer carries besides its PII. */
static void
add_common(cJSON *o, const char *guid, const char *bank_guid, const char *type,
           const char *state)
{
    cJSON_AddStringToObject(o, "guid", guid);
    cJSON_AddStringToObject(o, "bank_guid", bank_guid);
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddItemToObject(o, "compliance_decisions", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "activity_limits", cJSON_CreateArray());
}

static cJSON *
fixture_address(const struct fx_customer *c)
{
    cJSON *a;

    if (c->street == NULL && c->city == NULL && c->country_code == NULL)
        return cJSON_CreateNull();
    a = cJSON_CreateObject();
    add_str(a, "street", c->street);
    add_str(a, "street2", c->street2);
    add_str(a, "city", c->city);
    add_str(a, "subdivision", c->subdivision);
    add_str(a, "postal_code", c->postal_code);
    add_str(a, "country_code", c->country_code);
    return a;
}

static cJSON *
fixture_json(const struct fx_customer *c, const char *org, int64_t start_ms)
{
    cJSON *o = cJSON_CreateObject();
    int business = c->type != NULL && strcmp(c->type, "business") == 0;

    add_common(o, c->guid, c->bank_guid, business ? "business" : "individual",
               c->state && check_in(c->state, states) ? c->state
                                                      : "unverified");
    if (business && c->business_name != NULL)
        cJSON_AddItemToObject(o, "name",
                              name_json(NULL, NULL, NULL, c->business_name));
    else if (!business && (c->first_name != NULL || c->last_name != NULL))
        cJSON_AddItemToObject(
            o, "name",
            name_json(c->first_name, c->middle_name, c->last_name, NULL));
    else
        cJSON_AddNullToObject(o, "name");
    cJSON_AddItemToObject(o, "address", fixture_address(c));
    cJSON_AddItemToObject(o, "aliases", cJSON_CreateArray());
    cJSON_AddNullToObject(o, "website");
    add_str(o, "date_of_birth", business ? NULL : c->date_of_birth);
    add_str(o, "phone_number", c->phone_number);
    add_str(o, "email_address", c->email_address);
    cJSON_AddItemToObject(o, "labels", store_strlist_json(&c->labels));
    cJSON_AddItemToObject(o, "identification_numbers", cJSON_CreateArray());
    cJSON_AddStringToObject(o, "_organization_guid", org);
    store_stamp_created(o, c->created_at_ms ? c->created_at_ms : start_ms);
    return o;
}

void
customer_load(const struct scenario *sc)
{
    int64_t start = clock_now_ms() - clock_offset_ms();

    for (size_t i = 0; i < sc->n_customers; i++) {
        const struct fx_customer *c = &sc->customers[i];
        const char *org = "";

        for (size_t b = 0; b < sc->n_banks; b++) {
            if (strcmp(sc->banks[b].guid, c->bank_guid) == 0)
                org = sc->banks[b].organization_guid;
        }
        store_insert(STORE_CUSTOMERS, fixture_json(c, org, start));
    }
}

/* ---- reach and replies ------------------------------------------------- */

static int
reaches(const struct principal *p, const cJSON *customer)
{
    if (p == NULL)
        return 0;
    switch (p->type) {
    case TOKEN_ORGANIZATION:
        return strcmp(store_str(customer, "_organization_guid"),
                      p->organization_guid) == 0;
    case TOKEN_BANK:
        return strcmp(store_str(customer, "bank_guid"), p->bank_guid) == 0;
    case TOKEN_CUSTOMER:
        return strcmp(store_str(customer, "guid"), p->customer_guid) == 0;
    default:
        return 0;
    }
}

/* Blanks the PII of obj unless pii; drops the underscore fields. */
static cJSON *
public_customer(cJSON *obj, int pii)
{
    if (!pii) {
        for (size_t i = 0; pii_fields[i] != NULL; i++)
            cJSON_ReplaceItemInObjectCaseSensitive(obj, pii_fields[i],
                                                   cJSON_CreateNull());
    }
    return store_public(obj);
}

/*
 * Reads include_pii (true or false in any case, as the Python SDK sends
 * "True"; default false): 1 when PII may be shown, 0 when not, -1 after
 * a 400 reply.
 */
static int
pii_allowed(struct http_request *req, const struct principal *p)
{
    char v[8];
    int n = http_query_param(req, "include_pii", v, sizeof(v));

    if (n == MOCK_ENOENT || (n > 0 && strcasecmp(v, "false") == 0))
        return 0;
    if (n > 0 && strcasecmp(v, "true") == 0)
        return p != NULL && identity_has_scope(p, "customers:pii:read");
    http_reply_error(req, 400, "invalid_parameter",
                     "include_pii must be true or false");
    return -1;
}

/*
 * The {customer_guid} in the path, in reach: the stored copy, or NULL
 * after a 400 (malformed) or 404 reply.
 */
static cJSON *
path_customer(struct http_request *req, const struct principal *p)
{
    cJSON *c;

    if (!guid_valid(req->params[0])) {
        http_reply_error(req, 400, "invalid_parameter",
                         "customer_guid must be 32 lowercase hex characters");
        return NULL;
    }
    c = store_get(STORE_CUSTOMERS, req->params[0]);
    if (c == NULL || !reaches(p, c)) {
        cJSON_Delete(c);
        http_reply_error(req, 404, "not_found", "customer not found");
        return NULL;
    }
    return c;
}

/* ---- list and get ------------------------------------------------------ */

struct list_ctx {
    const struct principal *p;
    struct check_csv type, bank_guid, guid, label;
};

static int
has_label(const cJSON *obj, const struct check_csv *want)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(obj, "labels"), *l;

    if (want->n == 0)
        return 1;
    cJSON_ArrayForEach(l, labels)
    {
        if (cJSON_IsString(l) && check_csv_has(want, l->valuestring))
            return 1;
    }
    return 0;
}

static int
list_filter(const cJSON *obj, void *ctx)
{
    const struct list_ctx *l = ctx;

    return reaches(l->p, obj) &&
           check_csv_has(&l->type, store_str(obj, "type")) &&
           check_csv_has(&l->bank_guid, store_str(obj, "bank_guid")) &&
           check_csv_has(&l->guid, store_str(obj, "guid")) &&
           has_label(obj, &l->label);
}

/* Reads the filters; 0, or -1 after replying. */
static int
list_read(struct http_request *req, struct list_ctx *ctx)
{
    struct check c = {0};

    check_query_csv(&c, req, "type", 0, types, &ctx->type);
    check_query_csv(&c, req, "bank_guid", 1, NULL, &ctx->bank_guid);
    check_query_csv(&c, req, "guid", 1, NULL, &ctx->guid);
    check_query_csv(&c, req, "label", 0, NULL, &ctx->label);
    if (c.status != 0) {
        check_reply(req, &c);
        return -1;
    }
    /* A bank_guid out of the token's reach is unknown to it. */
    for (size_t i = 0; i < ctx->bank_guid.n; i++) {
        if (!bank_reachable(ctx->p, ctx->bank_guid.v[i])) {
            http_reply_error(req, 404, "not_found", "bank not found");
            return -1;
        }
    }
    return 0;
}

static void
list_customers(struct http_request *req)
{
    struct list_ctx ctx = {.p = identity_principal(req)};
    struct http_page pg;
    size_t total = 0;
    cJSON *objects, *item;
    int pii;

    if (http_page_read(req, &pg) != 0 || list_read(req, &ctx) != 0 ||
        (pii = pii_allowed(req, ctx.p)) < 0)
        return;
    objects = store_list(STORE_CUSTOMERS, list_filter, &ctx, pg.page,
                         pg.per_page, &total);
    cJSON_ArrayForEach(item, objects)
    {
        public_customer(item, pii);
    }
    http_reply_list(req, objects, total, &pg);
}

static void
get_customer(struct http_request *req)
{
    const struct principal *p = identity_principal(req);
    cJSON *c = path_customer(req, p);
    int pii;

    if (c == NULL)
        return;
    pii = pii_allowed(req, p);
    if (pii < 0)
        cJSON_Delete(c);
    else
        http_reply_json(req, 200, public_customer(c, pii));
}

/* ---- create ------------------------------------------------------------ */

/* 1 for "+" and 7 to 15 digits (E.164). */
static int
phone_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 8 || n > 16 || s[0] != '+')
        return 0;
    return strspn(s + 1, "0123456789") == n - 1;
}

/* 1 for local@domain.tld without spaces. */
static int
email_ok(const char *s)
{
    const char *at = strchr(s, '@');

    if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
        strpbrk(s, " \t\r\n") != NULL)
        return 0;
    return strchr(at + 1, '.') != NULL && at[1] != '.' &&
           s[strlen(s) - 1] != '.';
}

/* 1 for two upper-case letters. */
static int
country_ok(const char *s)
{
    return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
           s[1] <= 'Z';
}

static cJSON *
name_field(struct check *c, const cJSON *body, int business)
{
    static const char *const keys[] = {"first", "middle", "last", "full", NULL};
    const cJSON *n = check_object(c, body, "name", CHECK_NULLABLE);
    const char *first, *middle, *last, *full;

    if (n == NULL)
        return cJSON_CreateNull();
    check_known_keys(c, n, keys);
    first = check_string(c, n, "first", CHECK_NULLABLE, 1, TEXT_MAX);
    middle = check_string(c, n, "middle", CHECK_NULLABLE, 1, TEXT_MAX);
    last = check_string(c, n, "last", CHECK_NULLABLE, 1, TEXT_MAX);
    full = check_string(c, n, "full", CHECK_NULLABLE, 1, TEXT_MAX);
    if (business && (full == NULL || first || middle || last))
        check_fail(c, 422, "a business name has name.full only");
    if (!business && (first == NULL || last == NULL || full != NULL))
        check_fail(c, 422,
                   "an individual's name has name.first and name.last, "
                   "and no name.full");
    if (business)
        return name_json(NULL, NULL, NULL, full);
    return name_json(first, middle, last, NULL);
}

static cJSON *
address_field(struct check *c, const cJSON *body)
{
    static const char *const keys[] = {
        "street",      "street2",      "city", "subdivision",
        "postal_code", "country_code", NULL};
    const cJSON *a = check_object(c, body, "address", CHECK_NULLABLE);
    const char *cc;
    cJSON *o;

    if (a == NULL)
        return cJSON_CreateNull();
    check_known_keys(c, a, keys);
    o = cJSON_CreateObject();
    add_str(o, "street",
            check_string(c, a, "street", CHECK_REQUIRED, 1, TEXT_MAX));
    add_str(o, "street2",
            check_string(c, a, "street2", CHECK_NULLABLE, 1, TEXT_MAX));
    add_str(o, "city", check_string(c, a, "city", CHECK_REQUIRED, 1, TEXT_MAX));
    add_str(o, "subdivision",
            check_string(c, a, "subdivision", CHECK_NULLABLE, 1, 3));
    add_str(o, "postal_code",
            check_string(c, a, "postal_code", CHECK_NULLABLE, 1, 16));
    cc = check_string(c, a, "country_code", CHECK_REQUIRED, 2, 2);
    if (cc != NULL && !country_ok(cc))
        check_fail(c, 422, "address.country_code must be an ISO 3166 code");
    add_str(o, "country_code", cc);
    return o;
}

static cJSON *
id_number_one(struct check *c, const cJSON *in)
{
    static const char *const keys[] = {"type", "issuing_country_code",
                                       "identification_number",
                                       "issuing_subdivision", NULL};
    const char *type, *cc;
    cJSON *o = cJSON_CreateObject();

    check_known_keys(c, in, keys);
    type = check_string(c, in, "type", CHECK_REQUIRED, 1, 64);
    check_enum(c, "identification_numbers.type", type, id_types);
    cc = check_string(c, in, "issuing_country_code", CHECK_REQUIRED, 2, 2);
    if (cc != NULL && !country_ok(cc))
        check_fail(c, 422, "issuing_country_code must be an ISO 3166 code");
    add_str(o, "type", type);
    add_str(o, "issuing_country_code", cc);
    add_str(
        o, "identification_number",
        check_string(c, in, "identification_number", CHECK_REQUIRED, 1, 64));
    add_str(o, "issuing_subdivision",
            check_string(c, in, "issuing_subdivision", CHECK_NULLABLE, 1, 3));
    return o;
}

static cJSON *
id_numbers_field(struct check *c, const cJSON *body)
{
    const cJSON *a = check_array(c, body, "identification_numbers",
                                 CHECK_NULLABLE, cJSON_Object, ID_NUMBERS_MAX);
    const cJSON *e;
    cJSON *out = cJSON_CreateArray();

    if (a != NULL && cJSON_GetArraySize(a) == 0)
        check_fail(c, 422, "identification_numbers must not be empty");
    cJSON_ArrayForEach(e, a)
    {
        cJSON_AddItemToArray(out, id_number_one(c, e));
    }
    return out;
}

static cJSON *
aliases_field(struct check *c, const cJSON *body, int business)
{
    const cJSON *a =
        check_array(c, body, "aliases", CHECK_NULLABLE, cJSON_Object, 1);
    const cJSON *e;
    cJSON *out = cJSON_CreateArray();

    if (a != NULL && cJSON_GetArraySize(a) > 0 && !business)
        check_fail(c, 422, "aliases are for business customers only");
    cJSON_ArrayForEach(e, a)
    {
        static const char *const keys[] = {"full", NULL};
        const char *full;

        check_known_keys(c, e, keys);
        full = check_string(c, e, "full", CHECK_NULLABLE, 1, TEXT_MAX);
        cJSON_AddItemToArray(out, name_json(NULL, NULL, NULL, full));
    }
    return out;
}

static cJSON *
labels_field(struct check *c, const cJSON *body)
{
    const cJSON *a = check_array(c, body, "labels", CHECK_NULLABLE,
                                 cJSON_String, LABELS_MAX);
    const cJSON *e;

    cJSON_ArrayForEach(e, a)
    {
        size_t n = strlen(e->valuestring);

        if (n == 0 || n > LABEL_MAX_LEN || strchr(e->valuestring, ',')) {
            check_fail(c, 422,
                       "each label must be 1 to %d characters without commas",
                       LABEL_MAX_LEN);
        }
    }
    return a ? cJSON_Duplicate(a, 1) : cJSON_CreateArray();
}

/* date_of_birth: a past calendar date, for individuals only. */
static void
add_birth(struct check *c, cJSON *o, const cJSON *body, int business)
{
    const char *dob =
        check_string(c, body, "date_of_birth", CHECK_NULLABLE, 10, 10);
    char today[32];

    iso8601_format(clock_now_ms(), today);
    today[10] = '\0';
    if (dob != NULL && (!check_date(dob) || strcmp(dob, today) > 0))
        check_fail(c, 422, "date_of_birth must be a past date (YYYY-MM-DD)");
    if (dob != NULL && business)
        check_fail(c, 422, "date_of_birth is for individual customers only");
    add_str(o, "date_of_birth", dob);
}

/* Contact fields: website (business), phone_number, email_address. */
static void
add_contact(struct check *c, cJSON *o, const cJSON *body, int business)
{
    const char *web = check_string(c, body, "website", CHECK_NULLABLE, 1, 256);
    const char *phone =
        check_string(c, body, "phone_number", CHECK_NULLABLE, 1, 32);
    const char *email =
        check_string(c, body, "email_address", CHECK_NULLABLE, 1, 254);

    if (web != NULL && !business)
        check_fail(c, 422, "website is for business customers only");
    if (phone != NULL && !phone_ok(phone))
        check_fail(c, 422, "phone_number must be in E.164 form (+15555550100)");
    if (email != NULL && !email_ok(email))
        check_fail(c, 422, "email_address is not a valid email address");
    add_str(o, "website", web);
    add_str(o, "phone_number", phone);
    add_str(o, "email_address", email);
}

/* Records the organization of the customer's bank (a bank token's
   principal names only its bank). */
static void
add_organization(cJSON *o, const char *bank_guid)
{
    cJSON *bank = store_get(STORE_BANKS, bank_guid);

    cJSON_AddStringToObject(o, "_organization_guid",
                            store_str(bank, "organization_guid"));
    cJSON_Delete(bank);
}

cJSON *
customer_from_body(struct check *c, const cJSON *body, const char *bank_guid)
{
    static const char *const keys[] = {"type",
                                       "address",
                                       "phone_number",
                                       "email_address",
                                       "name",
                                       "date_of_birth",
                                       "aliases",
                                       "website",
                                       "labels",
                                       "identification_numbers",
                                       NULL};
    const char *type;
    int business;
    char guid[33];
    cJSON *o = cJSON_CreateObject();

    check_known_keys(c, body, keys);
    type = check_string(c, body, "type", CHECK_REQUIRED, 1, 16);
    check_enum(c, "type", type, types);
    business = type != NULL && strcmp(type, "business") == 0;
    guid_new(guid);
    add_common(o, guid, bank_guid, business ? "business" : "individual",
               "unverified");
    cJSON_AddItemToObject(o, "name", name_field(c, body, business));
    cJSON_AddItemToObject(o, "address", address_field(c, body));
    cJSON_AddItemToObject(o, "aliases", aliases_field(c, body, business));
    add_contact(c, o, body, business);
    add_birth(c, o, body, business);
    cJSON_AddItemToObject(o, "labels", labels_field(c, body));
    cJSON_AddItemToObject(o, "identification_numbers",
                          id_numbers_field(c, body));
    return o;
}

static void
create_customer(struct http_request *req)
{
    const struct principal *p = identity_principal(req);
    struct check c = {0};
    cJSON *body = http_json_body(req), *customer, *copy;

    if (body == NULL)
        return;
    customer = customer_from_body(&c, body, p->bank_guid);
    cJSON_Delete(body);
    if (c.status != 0) {
        cJSON_Delete(customer);
        check_reply(req, &c);
        return;
    }
    add_organization(customer, p->bank_guid);
    store_stamp_created(customer, clock_now_ms());
    copy = cJSON_Duplicate(customer, 1);
    if (store_insert(STORE_CUSTOMERS, customer) != 0) {
        cJSON_Delete(copy);
        http_reply_error(req, 409, "data_exists", "customer already exists");
        return;
    }
    http_reply_json(req, 201, public_customer(copy, 0));
}

/* ---- update ------------------------------------------------------------ */

struct customer_patch {
    const struct principal *p;
    const char *state; /* NULL: leave it */
};

static int
patch_apply(cJSON *obj, void *ctx)
{
    const struct customer_patch *cp = ctx;
    const char *now;

    if (!reaches(cp->p, obj))
        return MOCK_ENOENT;
    if (cp->state == NULL)
        return 0;
    now = store_str(obj, "state");
    if (strcmp(now, "storing") == 0 || strcmp(now, "frozen") == 0)
        return MOCK_EINVAL;
    if (strcmp(now, cp->state) != 0) {
        cJSON_ReplaceItemInObjectCaseSensitive(obj, "state",
                                               cJSON_CreateString(cp->state));
        store_touch(obj, clock_now_ms());
    }
    return 0;
}

static void
patch_customer(struct http_request *req)
{
    static const char *const keys[] = {"state", NULL};
    static const char *const to[] = {"unverified", NULL};
    struct customer_patch cp = {.p = identity_principal(req)};
    struct check c = {0};
    cJSON *found = path_customer(req, cp.p), *body = NULL, *out = NULL;
    int rc;

    if (found == NULL || (body = http_json_body(req)) == NULL)
        goto out;
    check_known_keys(&c, body, keys);
    cp.state = check_string(&c, body, "state", CHECK_NULLABLE, 1, 16);
    check_enum(&c, "state", cp.state, to);
    if (c.status != 0) {
        check_reply(req, &c);
        goto out;
    }
    rc = store_update(STORE_CUSTOMERS, req->params[0], patch_apply, &cp, &out);
    if (rc == MOCK_EINVAL)
        http_reply_error(req, 422, "invalid_parameter",
                         "a %s customer's state cannot be changed",
                         store_str(found, "state"));
    else if (rc != 0)
        http_reply_error(req, 404, "not_found", "customer not found");
    else
        http_reply_json(req, 200, public_customer(out, 0));
out:
    cJSON_Delete(found);
    cJSON_Delete(body);
}

/* ---- routes ------------------------------------------------------------ */

static const struct route_policy read_policy = {TOKEN_ANY, "customers:read",
                                                LIMIT_GENERAL, 1};
static const struct route_policy write_policy = {
    TOKEN_BANK | TOKEN_CUSTOMER, "customers:write", LIMIT_GENERAL, 1};
static const struct route_policy execute_policy = {
    TOKEN_BANK, "customers:execute", LIMIT_GENERAL, 1};

static const struct http_route routes[] = {
    {"GET", "/api/customers", list_customers, "customers.list", &read_policy},
    {"POST", "/api/customers", create_customer, "customers.create",
     &execute_policy},
    {"GET", "/api/customers/{customer_guid}", get_customer, "customers.get",
     &read_policy},
    {"PATCH", "/api/customers/{customer_guid}", patch_customer,
     "customers.update", &write_policy},
};

const struct http_route *
customer_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
