/*
 * bank: handlers of /api/banks and the CORS decisions.
 *
 * Every handler checks the whole request before it touches the store; a
 * PATCH builds the replacement values first, then applies them in one
 * store_update() call, so a refused request changes nothing. updated_at
 * moves (at least one millisecond) whenever an accepted change alters a
 * stored value.
 */
#include "bank.h"

#include "check.h"
#include "clock.h"
#include "origin.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN 128
#define SYMBOLS_MAX 50

static const char *const bank_types[] = {"sandbox", "production", NULL};
static const char *const features[] = {"attestation_identity_records",
                                       "attestation_identity_records_v2",
                                       "attestation_identity_records_v3",
                                       "kyc_identity_verifications",
                                       "business_customers",
                                       "individual_customers",
                                       NULL};
static const char *const participants[] = {"C2C", "C2B", "B2C", "B2B", NULL};
static const char *const routes_kind[] = {"bank_account", "mobile_wallet",
                                          NULL};

/* ---- JSON of a bank ---------------------------------------------------- */

/* The fixture form of a payout symbol: only its symbol is known. */
static cJSON *
payout_from_strings(const struct strlist *l)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < l->n; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "symbol", l->v[i]);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *
fixture_json(const struct fx_bank *b, int64_t start_ms)
{
    cJSON *o = cJSON_CreateObject();
    int64_t ms = b->created_at_ms ? b->created_at_ms : start_ms;

    cJSON_AddStringToObject(o, "guid", b->guid);
    cJSON_AddStringToObject(o, "organization_guid", b->organization_guid);
    cJSON_AddStringToObject(o, "name", b->name ? b->name : "Bank");
    cJSON_AddStringToObject(o, "type", b->type ? b->type : "sandbox");
    cJSON_AddItemToObject(o, "supported_trading_symbols",
                          store_strlist_json(&b->supported_trading_symbols));
    cJSON_AddItemToObject(o, "supported_payout_symbols",
                          payout_from_strings(&b->supported_payout_symbols));
    cJSON_AddItemToObject(
        o, "supported_fiat_account_assets",
        store_strlist_json(&b->supported_fiat_account_assets));
    cJSON_AddItemToObject(o, "supported_country_codes",
                          store_strlist_json(&b->supported_country_codes));
    cJSON_AddItemToObject(o, "features", store_strlist_json(&b->features));
    cJSON_AddItemToObject(o, "cors_allowed_origins",
                          store_strlist_json(&b->cors_allowed_origins));
    store_stamp_created(o, ms);
    return o;
}

void
bank_load(const struct scenario *sc)
{
    int64_t start = clock_now_ms() - clock_offset_ms();

    for (size_t i = 0; i < sc->n_banks; i++)
        store_insert(STORE_BANKS, fixture_json(&sc->banks[i], start));
}

/* ---- reach ------------------------------------------------------------- */

/* 1 when the principal reaches this stored bank object. */
static int
reaches(const struct principal *p, const cJSON *bank)
{
    if (p == NULL)
        return 0;
    if (p->type == TOKEN_ORGANIZATION)
        return strcmp(store_str(bank, "organization_guid"),
                      p->organization_guid) == 0;
    if (p->type == TOKEN_BANK)
        return strcmp(store_str(bank, "guid"), p->bank_guid) == 0;
    return 0;
}

int
bank_reachable(const struct principal *p, const char *bank_guid)
{
    cJSON *bank;
    int ok;

    if (p == NULL)
        return 0;
    if (p->type == TOKEN_BANK || p->type == TOKEN_CUSTOMER)
        return strcmp(p->bank_guid, bank_guid) == 0;
    bank = store_get(STORE_BANKS, bank_guid);
    ok = bank != NULL && reaches(p, bank);
    cJSON_Delete(bank);
    return ok;
}

/*
 * Reads the {bank_guid} path segment: 400 when malformed, 404 when out of
 * reach. Returns the guid or NULL after replying.
 */
static const char *
path_bank(struct http_request *req, const struct principal *p)
{
    const char *guid = req->params[0];

    if (!guid_valid(guid)) {
        http_reply_error(req, 400, "invalid_parameter",
                         "bank_guid must be 32 lowercase hex characters");
        return NULL;
    }
    if (!bank_reachable(p, guid)) {
        http_reply_error(req, 404, "not_found", "bank not found");
        return NULL;
    }
    return guid;
}

/* ---- list and get ------------------------------------------------------ */

struct list_ctx {
    const struct principal *p;
    struct check_csv type, guid;
};

static int
list_filter(const cJSON *obj, void *ctx)
{
    const struct list_ctx *l = ctx;

    return reaches(l->p, obj) &&
           check_csv_has(&l->type, store_str(obj, "type")) &&
           check_csv_has(&l->guid, store_str(obj, "guid"));
}

static void
list_banks(struct http_request *req)
{
    struct list_ctx ctx = {.p = identity_principal(req)};
    struct check c = {0};
    struct http_page pg;
    size_t total = 0;
    cJSON *objects;

    if (http_page_read(req, &pg) != 0)
        return;
    check_query_csv(&c, req, "type", 0, bank_types, &ctx.type);
    check_query_csv(&c, req, "guid", 1, NULL, &ctx.guid);
    if (c.status != 0) {
        check_reply(req, &c);
        return;
    }
    objects = store_list(STORE_BANKS, list_filter, &ctx, pg.page, pg.per_page,
                         &total);
    http_reply_list(req, store_public_all(objects), total, &pg);
}

static void
get_bank(struct http_request *req)
{
    const char *guid = path_bank(req, identity_principal(req));
    cJSON *bank;

    if (guid == NULL)
        return;
    bank = store_get(STORE_BANKS, guid);
    if (bank == NULL) {
        http_reply_error(req, 404, "not_found", "bank not found");
        return;
    }
    http_reply_json(req, 200, store_public(bank));
}

/* ---- field rules ------------------------------------------------------- */

/* 1 when s is n..m upper-case letters or digits (letters_only: A-Z). */
static int
code_ok(const char *s, size_t n, size_t m, int letters_only)
{
    size_t len = strlen(s);

    if (len < n || len > m)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];

        if (!(ch >= 'A' && ch <= 'Z') && (letters_only || ch < '0' || ch > '9'))
            return 0;
    }
    return 1;
}

/* 1 when s is a trading symbol such as "BTC-USD". */
static int
symbol_ok(const char *s)
{
    const char *dash = strchr(s, '-');
    char left[17];
    size_t n;

    if (dash == NULL || (n = (size_t)(dash - s)) == 0 || n > 16)
        return 0;
    memcpy(left, s, n);
    left[n] = '\0';
    return code_ok(left, 1, 16, 0) && code_ok(dash + 1, 1, 16, 0);
}

/*
 * A list of strings each passing ok(); fails 422 naming the field.
 * Returns a copy for the store, or NULL (absent, null or refused).
 */
static cJSON *
codes_field(struct check *c, const cJSON *body, const char *name,
            unsigned flags, size_t min, size_t max, int (*ok)(const char *))
{
    const cJSON *a = check_array(c, body, name, flags, cJSON_String, max), *e;

    if (a == NULL)
        return NULL;
    if ((size_t)cJSON_GetArraySize(a) < min) {
        check_fail(c, 422, "%s must have at least %zu entries", name, min);
        return NULL;
    }
    cJSON_ArrayForEach(e, a)
    {
        if (!ok(e->valuestring)) {
            check_fail(c, 422, "%s holds a malformed value", name);
            return NULL;
        }
    }
    return cJSON_Duplicate(a, 1);
}

static int
fiat_ok(const char *s)
{
    return code_ok(s, 3, 3, 1);
}

static int
country_ok(const char *s)
{
    return code_ok(s, 2, 2, 1);
}

/* features: known values only (an unknown one is 400, as any enum). */
static cJSON *
features_field(struct check *c, const cJSON *body)
{
    const cJSON *a = check_array(c, body, "features", CHECK_REQUIRED,
                                 cJSON_String, SYMBOLS_MAX);
    const cJSON *e;

    cJSON_ArrayForEach(e, a)
    {
        check_enum(c, "features", e->valuestring, features);
    }
    return a != NULL ? cJSON_Duplicate(a, 1) : NULL;
}

/* One PostSupportedPayoutSymbols object, as the response's object. */
static cJSON *
payout_one(struct check *c, const cJSON *in)
{
    static const char *const keys[] = {"primary_asset", "counter_asset",
                                       "country_code",  "participants_type",
                                       "route",         NULL};
    const char *pa, *ca, *cc, *pt, *rt;
    char symbol[40];
    cJSON *o;

    check_known_keys(c, in, keys);
    pa = check_string(c, in, "primary_asset", CHECK_REQUIRED, 1, 16);
    ca = check_string(c, in, "counter_asset", CHECK_REQUIRED, 1, 16);
    cc = check_string(c, in, "country_code", CHECK_REQUIRED, 2, 2);
    pt = check_string(c, in, "participants_type", CHECK_REQUIRED, 1, 8);
    rt = check_string(c, in, "route", CHECK_REQUIRED, 1, 16);
    check_enum(c, "participants_type", pt, participants);
    check_enum(c, "route", rt, routes_kind);
    if (c->status != 0)
        return NULL;
    if (!code_ok(pa, 1, 16, 0) || !code_ok(ca, 1, 16, 0) || !country_ok(cc)) {
        check_fail(c, 422, "supported_payout_symbols holds a malformed value");
        return NULL;
    }
    snprintf(symbol, sizeof(symbol), "%s-%s", pa, ca);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "symbol", symbol);
    cJSON_AddStringToObject(o, "country_code", cc);
    cJSON_AddStringToObject(o, "participants_type", pt);
    cJSON_AddStringToObject(o, "route", rt);
    return o;
}

/* supported_payout_symbols (nullable): the response form, or NULL. */
static cJSON *
payout_field(struct check *c, const cJSON *body)
{
    const cJSON *a = check_array(c, body, "supported_payout_symbols",
                                 CHECK_NULLABLE, cJSON_Object, SYMBOLS_MAX);
    const cJSON *e;
    cJSON *out;

    if (a == NULL)
        return NULL;
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(e, a)
    {
        cJSON *o = payout_one(c, e);

        if (o == NULL) {
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

/* cors_allowed_origins (nullable): a copy, or NULL; 422 by the guide. */
static cJSON *
cors_field(struct check *c, const cJSON *body)
{
    const cJSON *v =
        check_field(c, body, "cors_allowed_origins", CHECK_NULLABLE);

    if (v == NULL)
        return NULL;
    switch (origin_list_check(v)) {
    case ORIGIN_LIST_OK:
        return cJSON_Duplicate(v, 1);
    case ORIGIN_LIST_NOT_ARRAY:
        check_fail(c, 400, "cors_allowed_origins must be an array");
        break;
    case ORIGIN_LIST_TOO_MANY:
        check_fail(c, 422, "cors_allowed_origins must have at most %d entries",
                   ORIGIN_LIST_MAX);
        break;
    case ORIGIN_LIST_INVALID:
        check_fail(c, 422, "%s", ORIGIN_INVALID_MESSAGE);
        break;
    }
    return NULL;
}

/* ---- create ------------------------------------------------------------ */

/* Adds value (taken over) under name, or an empty array for NULL. */
static void
add_list(cJSON *o, const char *name, cJSON *value)
{
    cJSON_AddItemToObject(o, name, value ? value : cJSON_CreateArray());
}

cJSON *
bank_from_body(struct check *c, const cJSON *body,
               const char *organization_guid)
{
    static const char *const keys[] = {"type",
                                       "name",
                                       "supported_trading_symbols",
                                       "supported_payout_symbols",
                                       "supported_fiat_account_assets",
                                       "supported_country_codes",
                                       "features",
                                       "cors_allowed_origins",
                                       NULL};
    cJSON *o = cJSON_CreateObject();
    const char *type, *name;
    char guid[33];

    check_known_keys(c, body, keys);
    type = check_string(c, body, "type", CHECK_REQUIRED, 1, 16);
    check_enum(c, "type", type, bank_types);
    if (type != NULL && strcmp(type, "production") == 0)
        check_fail(c, 422, "only sandbox banks can be created through the API");
    name = check_string(c, body, "name", CHECK_REQUIRED, 1, NAME_MAX_LEN);
    guid_new(guid);
    cJSON_AddStringToObject(o, "guid", guid);
    cJSON_AddStringToObject(o, "organization_guid", organization_guid);
    cJSON_AddStringToObject(o, "name", name ? name : "");
    cJSON_AddStringToObject(o, "type", "sandbox");
    add_list(o, "supported_trading_symbols",
             codes_field(c, body, "supported_trading_symbols", CHECK_REQUIRED,
                         0, SYMBOLS_MAX, symbol_ok));
    add_list(o, "supported_payout_symbols", payout_field(c, body));
    add_list(o, "supported_fiat_account_assets",
             codes_field(c, body, "supported_fiat_account_assets",
                         CHECK_REQUIRED, 1, 1, fiat_ok));
    add_list(o, "supported_country_codes",
             codes_field(c, body, "supported_country_codes", CHECK_REQUIRED, 1,
                         1, country_ok));
    add_list(o, "features", features_field(c, body));
    add_list(o, "cors_allowed_origins", cors_field(c, body));
    store_stamp_created(o, clock_now_ms());
    return o;
}

static void
create_bank(struct http_request *req)
{
    const struct principal *p = identity_principal(req);
    struct check c = {0};
    cJSON *body = http_json_body(req), *bank, *copy;

    if (body == NULL)
        return;
    bank = bank_from_body(&c, body, p->organization_guid);
    cJSON_Delete(body);
    if (c.status != 0) {
        cJSON_Delete(bank);
        check_reply(req, &c);
        return;
    }
    copy = cJSON_Duplicate(bank, 1);
    if (store_insert(STORE_BANKS, bank) != 0) {
        cJSON_Delete(copy);
        http_reply_error(req, 409, "data_exists", "bank already exists");
        return;
    }
    http_reply_json(req, 201, store_public(copy));
}

/* ---- update ------------------------------------------------------------ */

/* The values a PATCH replaces; NULL leaves a field as it is. */
struct bank_patch {
    const struct principal *p;
    cJSON *v[BANK_PATCH_FIELDS];
};

static const char *const patch_keys[] = {"name", "supported_trading_symbols",
                                         "supported_payout_symbols",
                                         "cors_allowed_origins", NULL};

void
bank_patch_read(struct check *c, const cJSON *body, cJSON *v[BANK_PATCH_FIELDS])
{
    const char *name;

    check_known_keys(c, body, patch_keys);
    name = check_string(c, body, "name", CHECK_NULLABLE, 1, NAME_MAX_LEN);
    v[0] = name ? cJSON_CreateString(name) : NULL;
    v[1] = codes_field(c, body, "supported_trading_symbols", CHECK_NULLABLE, 0,
                       SYMBOLS_MAX, symbol_ok);
    v[2] = payout_field(c, body);
    v[3] = cors_field(c, body);
}

static int
patch_apply(cJSON *obj, void *ctx)
{
    struct bank_patch *bp = ctx;
    int changed = 0;

    if (!reaches(bp->p, obj))
        return MOCK_ENOENT;
    for (int i = 0; i < BANK_PATCH_FIELDS; i++) {
        const cJSON *old;

        if (bp->v[i] == NULL)
            continue;
        old = cJSON_GetObjectItemCaseSensitive(obj, patch_keys[i]);
        if (old != NULL && cJSON_Compare(old, bp->v[i], 1))
            continue;
        cJSON_ReplaceItemInObjectCaseSensitive(obj, patch_keys[i],
                                               cJSON_Duplicate(bp->v[i], 1));
        changed = 1;
    }
    if (changed)
        store_touch(obj, clock_now_ms());
    return 0;
}

static void
patch_bank(struct http_request *req)
{
    struct bank_patch bp = {.p = identity_principal(req)};
    const char *guid = path_bank(req, bp.p);
    struct check c = {0};
    cJSON *body, *out = NULL;
    int rc;

    if (guid == NULL || (body = http_json_body(req)) == NULL)
        return;
    bank_patch_read(&c, body, bp.v);
    cJSON_Delete(body);
    if (c.status != 0)
        check_reply(req, &c);
    else if ((rc = store_update(STORE_BANKS, guid, patch_apply, &bp, &out)) ==
             0)
        http_reply_json(req, 200, store_public(out));
    else
        http_reply_error(req, 404, "not_found", "bank not found");
    for (int i = 0; i < BANK_PATCH_FIELDS; i++)
        cJSON_Delete(bp.v[i]);
}

/* ---- CORS -------------------------------------------------------------- */

static int
lists_origin(const cJSON *bank, void *ctx)
{
    return origin_list_contains(
        cJSON_GetObjectItemCaseSensitive(bank, "cors_allowed_origins"), ctx);
}

static void
allow_origin(struct http_request *req, const char *origin)
{
    http_header_add(req, "Access-Control-Allow-Origin", origin);
    http_header_add(req, "Vary", "Origin");
}

void
bank_cors_preflight(struct http_request *req, const char *allow)
{
    const char *origin = http_header(req, "Origin");
    size_t total = 0;

    if (origin != NULL && strlen(origin) < ORIGIN_MAX) {
        cJSON_Delete(store_list(STORE_BANKS, lists_origin, (void *)origin, 0, 0,
                                &total));
    }
    if (total > 0) {
        allow_origin(req, origin);
        http_header_add(req, "Access-Control-Allow-Methods", allow);
        http_header_add(req, "Access-Control-Allow-Headers",
                        "Authorization, Content-Type, X-Requested-With");
    }
    http_header_add(req, "Allow", allow);
    http_reply_empty(req, 204);
}

void
bank_cors_apply(struct http_request *req, const struct principal *p)
{
    const char *origin = http_header(req, "Origin");
    const char *guid = NULL;
    cJSON *bank;

    if (origin == NULL || p == NULL || strlen(origin) >= ORIGIN_MAX)
        return;
    if (p->type == TOKEN_BANK || p->type == TOKEN_CUSTOMER)
        guid = p->bank_guid;
    else if (req->route != NULL &&
             strstr(req->route->pattern, "{bank_guid}") != NULL &&
             guid_valid(req->params[0]))
        guid = req->params[0];
    if (guid == NULL || (bank = store_get(STORE_BANKS, guid)) == NULL)
        return;
    /* An organization reaches only its own banks. */
    if ((p->type != TOKEN_ORGANIZATION || reaches(p, bank)) &&
        lists_origin(bank, (void *)origin))
        allow_origin(req, origin);
    cJSON_Delete(bank);
}

/* ---- routes ------------------------------------------------------------ */

static const struct route_policy read_policy = {TOKEN_ORGANIZATION | TOKEN_BANK,
                                                "banks:read", LIMIT_GENERAL, 1};
static const struct route_policy write_policy = {
    TOKEN_ORGANIZATION | TOKEN_BANK, "banks:write", LIMIT_GENERAL, 1};
static const struct route_policy execute_policy = {
    TOKEN_ORGANIZATION, "banks:execute", LIMIT_GENERAL, 1};

static const struct http_route routes[] = {
    {"GET", "/api/banks", list_banks, "banks.list", &read_policy},
    {"POST", "/api/banks", create_bank, "banks.create", &execute_policy},
    {"GET", "/api/banks/{bank_guid}", get_bank, "banks.get", &read_policy},
    {"PATCH", "/api/banks/{bank_guid}", patch_bank, "banks.update",
     &write_policy},
};

const struct http_route *
bank_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
