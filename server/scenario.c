/*
 * scenario: the built-in default scenario and freeing.
 *
 * TODO: load scenarios from YAML (fixtures/default.yaml and scenarios/);
 * until then the default fixtures are built here.
 */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

static void
strlist_set(struct strlist *l, const char *const *items)
{
    size_t n = 0;

    while (items[n] != NULL)
        n++;
    l->n = n;
    l->v = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        l->v[i] = xstrdup(items[i]);
}

static void
strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

struct scenario *
scenario_default(void)
{
    static const char *const none[] = {NULL};
    static const char *const cors[] = {"http://localhost:3000", NULL};
    static const char *const trading[] = {"BTC-USD", "ETH-USD", "USDC-USD",
                                          NULL};
    static const char *const payout[] = {"USDC-USD", NULL};
    static const char *const fiat[] = {"USD", NULL};
    static const char *const countries[] = {"US", NULL};
    static const char *const features[] = {"attestation_identity_records",
                                           NULL};
    struct scenario *sc = xcalloc(1, sizeof(*sc));
    struct fx_bank *b;
    struct fx_customer *c;

    sc->name = xstrdup("default");
    sc->description = xstrdup("The default fixtures, nothing goes wrong.");
    sc->n_organizations = 1;
    sc->organizations = xcalloc(1, sizeof(*sc->organizations));
    strcpy(sc->organizations[0].guid, DEFAULT_ORGANIZATION_GUID);
    sc->organizations[0].name = xstrdup("Mock Organization");

    sc->n_banks = 1;
    b = sc->banks = xcalloc(1, sizeof(*sc->banks));
    strcpy(b->guid, DEFAULT_BANK_GUID);
    strcpy(b->organization_guid, DEFAULT_ORGANIZATION_GUID);
    b->name = xstrdup("Mock Sandbox Bank");
    b->type = xstrdup("sandbox");
    strlist_set(&b->supported_trading_symbols, trading);
    strlist_set(&b->supported_payout_symbols, payout);
    strlist_set(&b->supported_fiat_account_assets, fiat);
    strlist_set(&b->supported_country_codes, countries);
    strlist_set(&b->features, features);
    strlist_set(&b->cors_allowed_origins, cors);

    sc->n_applications = 2;
    sc->applications = xcalloc(2, sizeof(*sc->applications));
    sc->applications[0].kind = APP_BANK;
    sc->applications[0].name = xstrdup("Mock bank application");
    sc->applications[0].client_id = xstrdup("mock-bank-client-id");
    sc->applications[0].client_secret = xstrdup("mock-bank-client-secret");
    strcpy(sc->applications[0].owner_guid, DEFAULT_BANK_GUID);
    sc->applications[1].kind = APP_ORGANIZATION;
    sc->applications[1].name = xstrdup("Mock organization application");
    sc->applications[1].client_id = xstrdup("mock-org-client-id");
    sc->applications[1].client_secret = xstrdup("mock-org-client-secret");
    strcpy(sc->applications[1].owner_guid, DEFAULT_ORGANIZATION_GUID);
    for (int i = 0; i < 2; i++) {
        strlist_set(&sc->applications[i].scopes, none);
        strlist_set(&sc->applications[i].ip_allowlist, none);
    }

    sc->n_customers = 1;
    c = sc->customers = xcalloc(1, sizeof(*sc->customers));
    strcpy(c->guid, DEFAULT_CUSTOMER_GUID);
    strcpy(c->bank_guid, DEFAULT_BANK_GUID);
    c->type = xstrdup("individual");
    c->state = xstrdup("verified");
    c->first_name = xstrdup("Jane");
    c->last_name = xstrdup("Doe");
    c->date_of_birth = xstrdup("1990-01-01");
    c->phone_number = xstrdup("+15555550100");
    c->email_address = xstrdup("jane.doe@example.com");
    c->street = xstrdup("1 Main Street");
    c->city = xstrdup("New York");
    c->subdivision = xstrdup("NY");
    c->postal_code = xstrdup("10001");
    c->country_code = xstrdup("US");
    strlist_set(&c->labels, none);

    sc->organization_token_ttl = 28800;
    sc->bank_token_ttl = 28800;
    sc->customer_token_ttl = 28800;
    sc->limits[LIMIT_GENERAL] = (struct limit_rule){1, 100, 300000, 429, 1};
    sc->limits[LIMIT_OAUTH_TOKEN] = (struct limit_rule){1, 20, 300000, 403, 0};
    sc->limits[LIMIT_CUSTOMER_TOKENS] =
        (struct limit_rule){1, 200, 300000, 403, 0};
    strlist_set(&sc->trusted_proxies, none);
    sc->webhooks = (struct webhook_config){
        .attempts = 5,
        .first_delay_ms = 1000,
        .factor = 2.0,
        .timeout_ms = 10000,
        .verify_tls = 1,
        .queue_max = 1024,
    };
    return sc;
}

static void
customer_free(struct fx_customer *c)
{
    char *fields[] = {c->type,          c->state,        c->first_name,
                      c->middle_name,   c->last_name,    c->business_name,
                      c->date_of_birth, c->phone_number, c->email_address,
                      c->street,        c->street2,      c->city,
                      c->subdivision,   c->postal_code,  c->country_code};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        free(fields[i]);
    strlist_free(&c->labels);
}

void
scenario_free(struct scenario *sc)
{
    if (sc == NULL)
        return;
    for (size_t i = 0; i < sc->n_organizations; i++)
        free(sc->organizations[i].name);
    for (size_t i = 0; i < sc->n_banks; i++) {
        struct fx_bank *b = &sc->banks[i];

        free(b->name);
        free(b->type);
        strlist_free(&b->supported_trading_symbols);
        strlist_free(&b->supported_payout_symbols);
        strlist_free(&b->supported_fiat_account_assets);
        strlist_free(&b->supported_country_codes);
        strlist_free(&b->features);
        strlist_free(&b->cors_allowed_origins);
    }
    for (size_t i = 0; i < sc->n_applications; i++) {
        struct fx_application *a = &sc->applications[i];

        free(a->name);
        free(a->client_id);
        secret_free(a->client_secret);
        strlist_free(&a->scopes);
        strlist_free(&a->ip_allowlist);
    }
    for (size_t i = 0; i < sc->n_customers; i++)
        customer_free(&sc->customers[i]);
    for (size_t i = 0; i < sc->n_subscriptions; i++) {
        free(sc->subscriptions[i].name);
        free(sc->subscriptions[i].url);
        secret_free(sc->subscriptions[i].signing_key);
    }
    free(sc->organizations);
    free(sc->banks);
    free(sc->applications);
    free(sc->customers);
    free(sc->subscriptions);
    strlist_free(&sc->trusted_proxies);
    free(sc->webhooks.ca_file);
    free(sc->name);
    free(sc->description);
    free(sc->file);
    free(sc);
}
