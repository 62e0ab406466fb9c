/*
 * scenario: what one test situation declares, loaded from YAML.
 *
 * A scenario names its fixtures (organizations, banks, applications,
 * customers, subscriptions), token lifetimes, rate limits, webhook
 * delivery settings and the virtual clock's start. It may `extends:` another
 * scenario (resolved inside the scenario folders only), and any section it
 * gives merges onto the parent's: mappings key by key, lists replaced whole
 * (the rules are in scenarios/README.md).
 *
 * Loading is strict: an unknown key, a wrong type, a bad duration, a bad
 * guid or an `extends` outside the scenario folders is refused with the
 * file, line, column and reason in the error. A loaded scenario is
 * immutable; the running server swaps whole scenarios atomically.
 *
 * The YAML files of fixtures/ and scenarios/ are compiled into the binary (see
 * scenario_builtins), so `extends: default` works from any directory.
 */
#ifndef CYBRID_SCENARIO_H
#define CYBRID_SCENARIO_H

#include "schema.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

/* A list of owned strings. */
struct strlist {
    char **v;
    size_t n;
};

struct fx_organization {
    char guid[33];
    char *name;
};

struct fx_bank {
    char guid[33];
    char organization_guid[33];
    char *name;
    char *type; /* "sandbox" or "production" */
    struct strlist supported_trading_symbols;
    struct strlist supported_payout_symbols;
    struct strlist supported_fiat_account_assets;
    struct strlist supported_country_codes;
    struct strlist features;
    struct strlist cors_allowed_origins;
    int64_t created_at_ms; /* 0: the clock's start */
};

enum app_kind { APP_ORGANIZATION, APP_BANK };

struct fx_application {
    enum app_kind kind;
    char *name;
    char *client_id;
    char *client_secret;
    char owner_guid[33];         /* organization or bank guid */
    struct strlist scopes;       /* empty: every scope of the kind */
    struct strlist ip_allowlist; /* IPv4 addresses or CIDR; empty: any */
};

struct fx_customer {
    char guid[33];
    char bank_guid[33];
    char *type;  /* "individual" or "business" */
    char *state; /* storing, unverified, verified, rejected, frozen */
    char *first_name, *middle_name, *last_name; /* individual */
    char *business_name;                        /* business */
    char *date_of_birth;                        /* YYYY-MM-DD */
    char *phone_number;
    char *email_address;
    char *street, *street2, *city, *subdivision, *postal_code, *country_code;
    struct strlist labels;
    int64_t created_at_ms;
};

struct fx_subscription {
    char guid[33];
    char organization_guid[33];
    char *name;
    char *url;
    char *signing_key; /* NULL: generated at load */
};

/* One rate-limit class. */
struct limit_rule {
    int enabled;
    unsigned limit; /* requests per window */
    int64_t window_ms;
    int status;      /* 429 or 403 */
    int retry_after; /* 1: send Retry-After */
};

/* How webhook deliveries are sent and retried. */
struct webhook_config {
    unsigned attempts;      /* tries per delivery, first one included */
    int64_t first_delay_ms; /* wait after the first failed try */
    double factor;          /* each later wait is this times the last */
    int64_t timeout_ms;     /* whole request, connect included */
    char *ca_file;          /* extra trusted CA (PEM), or NULL */
    int allow_http;         /* 1: http:// subscription urls allowed */
    int verify_tls;         /* 0: receivers' certificates not checked */
    size_t queue_max;       /* pending deliveries kept; more are dropped */
};

enum limit_class {
    LIMIT_GENERAL,         /* every /api/ request but token endpoints */
    LIMIT_OAUTH_TOKEN,     /* POST /oauth/token */
    LIMIT_CUSTOMER_TOKENS, /* POST /api/customer_tokens */
    LIMIT_CLASSES,
    LIMIT_NONE = -1, /* never limited (admin, health) */
};

/* What a fault or a timeline entry matches on; NULL or -1: anything. */
struct fault_header_match {
    char *name;
    char *value; /* NULL: the header is present (or absent, see below) */
    int absent;  /* 1: matches when the header is missing */
};

/* Token types a match may name (the same bits as enum token_type). */
#define MATCH_TOKEN_ANY (-1)
#define MATCH_TOKEN_NONE 0 /* no token, or one that does not verify */

struct fault_match {
    char *method; /* "POST"; NULL: any */
    char *path;   /* a glob: * is one segment's text, ** any segments */
    struct fault_header_match *headers;
    size_t n_headers;
    int token_type; /* MATCH_TOKEN_ANY, MATCH_TOKEN_NONE or a TOKEN_* */
};

enum fault_action {
    FAULT_RESPOND,       /* answer status, headers, body instead */
    FAULT_DELAY,         /* wait, then handle the request normally */
    FAULT_RESET,         /* drop the connection with no answer */
    FAULT_HANG,          /* hold until the client gives up or a bound */
    FAULT_TRUNCATE,      /* the real answer, cut short, then close */
    FAULT_MALFORMED,     /* 200 with a body that is not JSON */
    FAULT_EXPIRE_TOKENS, /* every token issued so far expires */
    FAULT_RATE_LIMIT,    /* refuse as if the class limit were hit */
    FAULT_ACTIONS
};

/* When a fault or a timeline entry fires among the requests it matches. */
struct fault_trigger {
    unsigned after;     /* matches let through before it may fire */
    unsigned times;     /* firings at most; 0: no bound */
    double probability; /* chance per eligible match (1: always) */
    unsigned seed;      /* of the rule's own random sequence */
};

/* One entry of a scenario's `faults:` list. */
struct fault_rule {
    char *name;
    struct fault_match match;
    struct fault_trigger trigger;
    enum fault_action action;
    int n_actions;             /* action keys given (the loader wants 1) */
    int status;                /* respond */
    struct strlist hdr_names;  /* respond: extra headers, */
    struct strlist hdr_values; /* same order */
    char *body;                /* respond; NULL: Cybrid's error body */
    char *message_code;        /* respond, for the error body */
    int64_t ms;                /* delay; hang's bound */
    long long keep_bytes;      /* truncate; -1: half the body */
    int limit_class;           /* rate_limit; LIMIT_NONE: the request's */
};

/* A rate-limit change of a timeline entry: given fields only. */
struct limit_change {
    int given;     /* 1: this class changes */
    int off;       /* 1: switched off */
    unsigned mask; /* LIMIT_SET_* bits of the fields given */
    struct limit_rule rule;
};
#define LIMIT_SET_LIMIT 1u
#define LIMIT_SET_WINDOW 2u
#define LIMIT_SET_STATUS 4u
#define LIMIT_SET_RETRY_AFTER 8u

/* One entry of a scenario's `timeline:` list. */
struct timeline_entry {
    char *name;
    int64_t at_ms; /* virtual ms after the scenario's start; -1: on */
    int has_on;
    struct fault_match on;
    struct fault_trigger trigger; /* for on: after, times (default 1) */
    int emit;                     /* 1: emit the event below */
    char *event_type;
    char *tamper;                                      /* NULL: none */
    char *organization_guid, *bank_guid, *object_guid; /* NULL: default */
    int expire_tokens;
    struct limit_change limits[LIMIT_CLASSES];
};

struct audit_config; /* see audit.h */

struct scenario {
    char *name;
    char *description;
    char *file; /* where it was loaded from; NULL for the built-in */

    struct fx_organization *organizations;
    size_t n_organizations;
    struct fx_bank *banks;
    size_t n_banks;
    struct fx_application *applications;
    size_t n_applications;
    struct fx_customer *customers;
    size_t n_customers;
    struct fx_subscription *subscriptions;
    size_t n_subscriptions;

    /* Token lifetimes in seconds. */
    int64_t organization_token_ttl;
    int64_t bank_token_ttl;
    int64_t customer_token_ttl;

    struct limit_rule limits[LIMIT_CLASSES];
    struct strlist trusted_proxies; /* addresses whose X-Forwarded-For
                                       is believed */
    int64_t clock_start_ms;         /* 0: real time at load */
    struct webhook_config webhooks;
    struct fault_rule *faults; /* evaluated in order; first firing wins */
    size_t n_faults;
    struct timeline_entry *timeline;
    size_t n_timeline;
    struct audit_config *audit; /* the audit: section; NULL: defaults */
};

/* The guids and credentials of the default fixtures (see README). */
#define DEFAULT_ORGANIZATION_GUID "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define DEFAULT_BANK_GUID "b0a1c2d3e4f5061728394a5b6c7d8e9f"
#define DEFAULT_CUSTOMER_GUID "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"

/* One file of fixtures/ or scenarios/, compiled into the binary. */
struct scenario_builtin {
    const char *path; /* "scenarios/default.yaml" */
    const char *text;
    size_t len;
};

/* The built-in files, generated at build time from the source tree. */
extern const struct scenario_builtin scenario_builtins[];
extern const size_t scenario_n_builtins;

/*
 * Loads the scenario file at path, or, when path is a plain name such as
 * "default" and no such file exists, the built-in scenario of that name.
 * Its `extends` resolve inside the file's folder and the built-ins. On
 * success *out receives the scenario (caller frees with scenario_free);
 * otherwise returns MOCK_EINVAL (a refused scenario), MOCK_ENOENT or
 * MOCK_EIO (an unreadable file) with err saying where and why.
 */
int scenario_load_file(const char *path, struct scenario **out,
                       struct schema_err *err);

/*
 * Loads a scenario from text[0..len) (a request body). display names it
 * in errors; folder (NULL: none) is where a relative `extends` resolves,
 * besides the built-ins. Returns as scenario_load_file does.
 */
int scenario_load_text(const char *text, size_t len, const char *display,
                       const char *folder, struct scenario **out,
                       struct schema_err *err);

/*
 * The built-in default scenario (caller frees with scenario_free). It is
 * checked by the unit tests; should it ever fail to load, this aborts.
 */
struct scenario *scenario_default(void);

struct schema_field;

/*
 * The fields of one rate-limit class (limit, window, status, retry_after)
 * as the loader reads them, for other sections that set a class too.
 */
const struct schema_field *scenario_limit_fields(void);

/* Frees a scenario and everything it owns. NULL-safe. */
void scenario_free(struct scenario *sc);

#endif
