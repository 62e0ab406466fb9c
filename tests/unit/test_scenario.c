/*
 * Tests of scenario loading: the built-in default, strict refusals with
 * their exact place, extends resolution and how a child merges onto its
 * parent. Files for extends live in a temporary folder made per run and
 * removed at exit.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include "scenario.h"
#include "unit.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char folder[64];   /* the scenario folder of these tests */
static char outside[128]; /* a file beside it, outside it */

static void
write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", folder, name);
    f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
cleanup(void)
{
    nftw(folder, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    remove(outside);
}

static const char base_yaml[] =
    "name: base\n"
    "description: Base fixtures.\n"
    "fixtures:\n"
    "  organizations:\n"
    "    - {guid: 11111111111111111111111111111111, name: Org One}\n"
    "  banks:\n"
    "    - guid: 22222222222222222222222222222222\n"
    "      organization_guid: 11111111111111111111111111111111\n"
    "      name: Bank Two\n"
    "tokens: {bank_ttl: 10m}\n";

static int
make_folder(void)
{
    char path[256];
    FILE *f;

    strcpy(folder, "/tmp/scenario-test-XXXXXX");
    if (mkdtemp(folder) == NULL)
        return -1;
    atexit(cleanup);
    snprintf(outside, sizeof(outside), "%s-outside.yaml", folder);
    f = fopen(outside, "w");
    if (f == NULL)
        return -1;
    fputs("name: outside\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/sub", folder);
    if (mkdir(path, 0700) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/link.yaml", folder);
    if (symlink(outside, path) != 0)
        return -1;
    write_file("loop1.yaml", "extends: loop2\n");
    write_file("loop2.yaml", "extends: loop1\n");
    write_file("bad-parent.yaml", "name: p\ntokens:\n  bank_ttl: soon\n");
    write_file("base.yaml", base_yaml);
    write_file("sub/mid.yaml", "extends: ../base.yaml\n"
                               "tokens: {customer_ttl: 30s}\n"
                               "rate_limits: {general: {limit: 7}}\n");
    return 0;
}

/* Loads text as "t.yaml" in the test folder. */
static int
load(const char *text, struct scenario **sc, struct schema_err *err)
{
    return scenario_load_text(text, strlen(text), "t.yaml", folder, sc, err);
}

static void
test_default_scenario_has_the_readme_fixtures(void)
{
    struct scenario *sc = scenario_default();

    CU_ASSERT_STRING_EQUAL(sc->name, "default");
    CU_ASSERT_PTR_NULL(sc->file);
    CU_ASSERT_EQUAL_FATAL(sc->n_organizations, 1);
    CU_ASSERT_STRING_EQUAL(sc->organizations[0].guid,
                           DEFAULT_ORGANIZATION_GUID);
    CU_ASSERT_EQUAL_FATAL(sc->n_banks, 1);
    CU_ASSERT_STRING_EQUAL(sc->banks[0].guid, DEFAULT_BANK_GUID);
    CU_ASSERT_STRING_EQUAL(sc->banks[0].type, "sandbox");
    CU_ASSERT_EQUAL_FATAL(sc->banks[0].cors_allowed_origins.n, 1);
    CU_ASSERT_STRING_EQUAL(sc->banks[0].cors_allowed_origins.v[0],
                           "http://localhost:3000");
    CU_ASSERT_EQUAL(sc->banks[0].supported_trading_symbols.n, 3);
    CU_ASSERT_EQUAL_FATAL(sc->n_customers, 1);
    CU_ASSERT_STRING_EQUAL(sc->customers[0].guid, DEFAULT_CUSTOMER_GUID);
    CU_ASSERT_STRING_EQUAL(sc->customers[0].type, "individual");
    CU_ASSERT_STRING_EQUAL(sc->customers[0].state, "verified");
    CU_ASSERT_STRING_EQUAL(sc->customers[0].postal_code, "10001");
    CU_ASSERT_STRING_EQUAL(sc->customers[0].date_of_birth, "1990-01-01");
    CU_ASSERT_EQUAL_FATAL(sc->n_applications, 2);
    CU_ASSERT_EQUAL(sc->applications[0].kind, APP_BANK);
    CU_ASSERT_STRING_EQUAL(sc->applications[0].client_id,
                           "mock-bank-client-id");
    CU_ASSERT_STRING_EQUAL(sc->applications[0].client_secret,
                           "mock-bank-client-secret");
    CU_ASSERT_STRING_EQUAL(sc->applications[0].owner_guid, DEFAULT_BANK_GUID);
    CU_ASSERT_EQUAL(sc->applications[0].scopes.n, 0);
    CU_ASSERT_EQUAL(sc->applications[1].kind, APP_ORGANIZATION);
    CU_ASSERT_STRING_EQUAL(sc->applications[1].client_secret,
                           "mock-org-client-secret");
    CU_ASSERT_EQUAL(sc->n_subscriptions, 0);
    CU_ASSERT_EQUAL(sc->bank_token_ttl, 28800);
    CU_ASSERT_EQUAL(sc->organization_token_ttl, 28800);
    CU_ASSERT_EQUAL(sc->customer_token_ttl, 28800);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].limit, 100);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].status, 429);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].retry_after, 1);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].limit, 20);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].status, 403);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_CUSTOMER_TOKENS].limit, 200);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_CUSTOMER_TOKENS].window_ms, 300000);
    CU_ASSERT_EQUAL(sc->clock_start_ms, 0);
    scenario_free(sc);
}

static void
test_every_builtin_file_loads(void)
{
    CU_ASSERT(scenario_n_builtins >= 2);
    for (size_t i = 0; i < scenario_n_builtins; i++) {
        const struct scenario_builtin *b = &scenario_builtins[i];
        struct schema_err err = {0};
        struct scenario *sc = NULL;

        CU_ASSERT_EQUAL(
            scenario_load_text(b->text, b->len, b->path, NULL, &sc, &err), 0);
        if (sc == NULL)
            fprintf(stderr, "\n%s\n", err.base.msg);
        scenario_free(sc);
    }
}

/* One refused scenario and where it must be refused. */
struct bad {
    const char *yaml;
    const char *file; /* suffix of the file named; NULL: t.yaml */
    int line, column;
    const char *reason; /* what the reason starts with */
};

static const struct bad bad_rows[] = {
    {"name: x\nsurprise: 1\n", NULL, 2, 1, "unknown key \"surprise\""},
    {"tokens:\n  bank_tll: 60s\n", NULL, 2, 3, "unknown key \"bank_tll\""},
    {"name: [a, b]\n", NULL, 1, 7, "expected a string, got a list"},
    {"tokens: 60s\n", NULL, 1, 9, "expected a mapping, got a scalar"},
    {"- a\n- b\n", NULL, 1, 1, "expected a mapping, got a list"},
    {"webhooks:\n  retry: {factor: 0.5}\n", NULL, 2, 19,
     "0.5 is out of range 1..10"},
    {"webhooks:\n  retry: {attempts: many}\n", NULL, 2, 21,
     "expected a whole number"},
    {"webhooks: {ca_file: no-such-ca.pem}\n", NULL, 1, 21,
     "cannot read file \"no-such-ca.pem\""},
    {"webhooks: {allow_http: 1}\n", NULL, 1, 24, "expected true or false"},
    {"tokens:\n  bank_ttl: 60x\n", NULL, 2, 13, "bad duration \"60x\""},
    {"tokens: {customer_ttl: 60}\n", NULL, 1, 24, "bad duration \"60\""},
    {"tokens: {bank_ttl: 1500ms}\n", NULL, 1, 20,
     "bad duration \"1500ms\": want whole seconds"},
    {"rate_limits: {general: {window: 0s}}\n", NULL, 1, 33,
     "bad duration \"0s\": want at least 1ms"},
    {"fixtures:\n  organizations:\n"
     "    - guid: 0F1E2D3C4B5A69788796A5B4C3D2E1F0\n      name: X\n",
     NULL, 3, 13, "bad guid"},
    {"rate_limits:\n  general: {limit: 5, status: 500}\n", NULL, 2, 31,
     "bad status 500: want 429 or 403"},
    {"name: a\nname: b\n", NULL, 2, 1, "duplicate key \"name\""},
    {"rate_limits:\n  general: off\n  general: off\n", NULL, 3, 3,
     "duplicate key \"general\""},
    {"fixtures:\n  organizations: []\n  banks:\n"
     "    - guid: 22222222222222222222222222222222\n"
     "      organization_guid: 11111111111111111111111111111111\n"
     "      name: B\n      type: savings\n",
     NULL, 7, 13, "bad value \"savings\": want one of sandbox, production"},
    {"rate_limits:\n  oauth_token: {limit: \"5\"}\n", NULL, 2, 24,
     "expected a whole number, got a quoted string"},
    {"rate_limits:\n  general: {retry_after: yes}\n", NULL, 2, 26,
     "expected true or false"},
    {"rate_limits: {general: on}\n", NULL, 1, 24, "expected off or a mapping"},
    {"clock: {start: 2026-13-01T00:00:00Z}\n", NULL, 1, 16, "bad time"},
    {"extends: /etc/passwd\n", NULL, 1, 10,
     "extends: \"/etc/passwd\" is an absolute path"},
    {"extends: ../x.yaml\n", NULL, 1, 10,
     "extends: \"../x.yaml\" climbs out of the scenario folder"},
    {"extends: sub/../../x\n", NULL, 1, 10,
     "extends: \"sub/../../x\" climbs out"},
    {"extends: builtin:../etc/passwd\n", NULL, 1, 10,
     "extends: \"builtin:../etc/passwd\" climbs out"},
    {"extends: link\n", NULL, 1, 10, "extends: "},
    {"extends: nothing-here\n", NULL, 1, 10,
     "extends: no scenario named \"nothing-here\""},
    {"extends: loop1\n", "/loop2.yaml", 1, 10, "extends: cycle"},
    {"extends: bad-parent\n", "/bad-parent.yaml", 3, 13,
     "bad duration \"soon\""},
    {"name: x\ndescription: \"unterminated\n", NULL, 3, 1, "YAML syntax"},
    {"name: x\n\tdescription: y\n", NULL, 2, 1, "YAML syntax"},
    {"fixtures:\n  applications:\n    - kind: bank\n      client_id: c\n"
     "      client_secret: s\n"
     "      owner: 22222222222222222222222222222222\n"
     "      ip_allowlist: [10.0.0.0/33]\n",
     NULL, 7, 22, "bad address \"10.0.0.0/33\""},
    {"fixtures:\n  applications:\n    - kind: bank\n      client_id: c\n"
     "      client_secret: s\n"
     "      owner: 22222222222222222222222222222222\n"
     "      scopes: [banks:read, banks:fly]\n",
     NULL, 7, 28, "bad scope \"banks:fly\""},
    {"fixtures:\n  organizations:\n"
     "    - guid: 11111111111111111111111111111111\n",
     NULL, 3, 7, "missing key \"name\""},
    {"fixtures:\n  organizations: []\n  banks:\n"
     "    - guid: 22222222222222222222222222222222\n"
     "      organization_guid: 11111111111111111111111111111111\n"
     "      name: B\n",
     NULL, 4, 7,
     "bank organization_guid 11111111111111111111111111111111 names no "
     "organization"},
    {"extends: base\nfixtures:\n  customers:\n"
     "    - {guid: 33333333333333333333333333333333, bank_guid: "
     "22222222222222222222222222222222}\n"
     "    - {guid: 33333333333333333333333333333333, bank_guid: "
     "22222222222222222222222222222222}\n",
     NULL, 5, 7, "customer 33333333333333333333333333333333 is listed twice"},
};

static void
test_bad_scenarios_are_refused_at_their_line_and_column(void)
{
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        const struct bad *b = &bad_rows[i];
        const char *file = b->file ? b->file : "t.yaml";
        struct schema_err err = {0};
        struct scenario *sc = NULL;
        size_t n = strlen(err.file), m = strlen(file);
        int ok;

        ok = load(b->yaml, &sc, &err) == MOCK_EINVAL && sc == NULL;
        n = strlen(err.file);
        ok = ok && n >= m && strcmp(err.file + n - m, file) == 0 &&
             err.line == b->line && err.column == b->column &&
             strncmp(err.reason, b->reason, strlen(b->reason)) == 0;
        if (!ok)
            fprintf(stderr, "\nrow %zu: want %s:%d:%d: %s\n        got %s\n", i,
                    file, b->line, b->column, b->reason, err.base.msg);
        CU_ASSERT(ok);
        scenario_free(sc);
    }
}

static void
test_error_message_is_file_line_column_reason(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_EQUAL(load("tokens:\n  bank_ttl: 60x\n", &sc, &err), MOCK_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.base.msg,
                           "t.yaml:2:13: bad duration \"60x\": want a number "
                           "and a unit, like 500ms, 60s, 5m, 8h or 1h30m");
}

static void
test_child_merges_maps_key_by_key_and_replaces_lists(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_EQUAL_FATAL(load("extends: default\n"
                               "tokens: {bank_ttl: 60s}\n"
                               "rate_limits:\n"
                               "  general: off\n"
                               "  oauth_token: {limit: 5}\n"
                               "fixtures:\n  customers: []\n",
                               &sc, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(sc->name, "unnamed");
    CU_ASSERT_STRING_EQUAL(sc->description, "");
    CU_ASSERT_EQUAL(sc->bank_token_ttl, 60);
    CU_ASSERT_EQUAL(sc->organization_token_ttl, 28800);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].enabled, 0);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].enabled, 1);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].limit, 5);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].window_ms, 300000);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_OAUTH_TOKEN].status, 403);
    CU_ASSERT_EQUAL(sc->n_customers, 0);
    CU_ASSERT_EQUAL(sc->n_banks, 1);
    CU_ASSERT_EQUAL(sc->n_applications, 2);
    scenario_free(sc);
}

static void
test_extends_chain_through_subfolder_applies_in_order(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_EQUAL_FATAL(load("extends: sub/mid.yaml\nname: top\n"
                               "tokens: {bank_ttl: 2m}\n"
                               "clock: {start: 2026-01-02T03:04:05.678Z}\n",
                               &sc, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(sc->name, "top");
    CU_ASSERT_EQUAL(sc->bank_token_ttl, 120);
    CU_ASSERT_EQUAL(sc->customer_token_ttl, 30);
    CU_ASSERT_EQUAL(sc->organization_token_ttl, 28800);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].limit, 7);
    CU_ASSERT_EQUAL(sc->limits[LIMIT_GENERAL].status, 429);
    CU_ASSERT_EQUAL(sc->n_organizations, 1);
    CU_ASSERT_STRING_EQUAL(sc->banks[0].name, "Bank Two");
    CU_ASSERT_EQUAL(sc->n_customers, 0);
    CU_ASSERT_EQUAL(sc->clock_start_ms, 1767323045678LL);
    scenario_free(sc);
}

static void
test_webhooks_section_merges_and_finds_ca_beside_the_file(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;
    char want[128];

    write_file("receiver-ca.pem", "not checked here\n");
    CU_ASSERT_EQUAL_FATAL(load("extends: default\nwebhooks:\n"
                               "  retry: {attempts: 3, factor: 1.5}\n"
                               "  ca_file: receiver-ca.pem\n"
                               "  allow_http: true\n",
                               &sc, &err),
                          0);
    CU_ASSERT_EQUAL(sc->webhooks.attempts, 3);
    CU_ASSERT_DOUBLE_EQUAL(sc->webhooks.factor, 1.5, 1e-9);
    CU_ASSERT_EQUAL(sc->webhooks.first_delay_ms, 1000);
    CU_ASSERT_EQUAL(sc->webhooks.timeout_ms, 10000);
    CU_ASSERT_EQUAL(sc->webhooks.allow_http, 1);
    CU_ASSERT_EQUAL(sc->webhooks.verify_tls, 1);
    CU_ASSERT_EQUAL(sc->webhooks.queue_max, 1024);
    snprintf(want, sizeof(want), "%s/receiver-ca.pem", folder);
    CU_ASSERT_STRING_EQUAL(sc->webhooks.ca_file, want);
    scenario_free(sc);
}

static void
test_file_named_like_a_builtin_extends_the_builtin(void)
{
    char path[256];
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    write_file("default.yaml", "extends: default\ntokens: {bank_ttl: 1m}\n");
    snprintf(path, sizeof(path), "%s/default.yaml", folder);
    CU_ASSERT_EQUAL_FATAL(scenario_load_file(path, &sc, &err), 0);
    CU_ASSERT_STRING_EQUAL(sc->file, path);
    CU_ASSERT_STRING_EQUAL(sc->name, "default");
    CU_ASSERT_EQUAL(sc->bank_token_ttl, 60);
    CU_ASSERT_EQUAL(sc->n_banks, 1);
    scenario_free(sc);
}

static void
test_builtin_name_loads_when_no_such_file(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_EQUAL_FATAL(scenario_load_file("default", &sc, &err), 0);
    CU_ASSERT_EQUAL(sc->n_applications, 2);
    scenario_free(sc);
    CU_ASSERT_EQUAL(scenario_load_file("no-such-scenario", &sc, &err),
                    MOCK_ENOENT);
    CU_ASSERT_STRING_EQUAL(err.base.msg, "no-such-scenario: cannot open: "
                                         "No such file or directory");
}

static void
test_request_without_folder_resolves_only_builtins(void)
{
    static const char text[] = "extends: sub/mid.yaml\n";
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    CU_ASSERT_EQUAL(
        scenario_load_text(text, strlen(text), "request", NULL, &sc, &err),
        MOCK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "has no folder"));
    CU_ASSERT_EQUAL(scenario_load_text("extends: default\n", 17, "request",
                                       NULL, &sc, &err),
                    0);
    scenario_free(sc);
}

static void
test_alias_bomb_is_refused_not_expanded(void)
{
    /* 1000 customers, each an alias of one with 1000 labels. */
    char *text = xmalloc(32768);
    struct schema_err err = {0};
    struct scenario *sc = NULL;
    size_t n;

    n = (size_t)sprintf(text,
                        "extends: base\nfixtures:\n  customers:\n"
                        "    - &c {guid: 33333333333333333333333333333333,"
                        " bank_guid: 22222222222222222222222222222222,"
                        " labels: [");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(text + n, "%sa", i ? ", " : "");
    n += (size_t)sprintf(text + n, "]}\n");
    for (int i = 1; i < 1000; i++)
        n += (size_t)sprintf(text + n, "    - *c\n");
    CU_ASSERT_EQUAL(load(text, &sc, &err), MOCK_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "too many nodes"));
    free(text);
}

/* A "\0" escape would have cut "default\0x" to "default" wherever read. */
static void
test_scalar_with_nul_character_is_refused(void)
{
    static const char *const texts[] = {
        "name: t\nextends: \"default\\0\"\n",
        "name: \"a\\0b\"\n",
        "name: t\n\"extends\\0x\": default\n",
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct scenario *sc = NULL;
        struct schema_err err = {0};

        CU_ASSERT_EQUAL(scenario_load_text(texts[i], strlen(texts[i]), "t.yaml",
                                           NULL, &sc, &err),
                        MOCK_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "NUL"));
        scenario_free(sc);
    }
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_default_scenario_has_the_readme_fixtures),
        UNIT_CASE(test_every_builtin_file_loads),
        UNIT_CASE(test_scalar_with_nul_character_is_refused),
        UNIT_CASE(test_bad_scenarios_are_refused_at_their_line_and_column),
        UNIT_CASE(test_error_message_is_file_line_column_reason),
        UNIT_CASE(test_child_merges_maps_key_by_key_and_replaces_lists),
        UNIT_CASE(test_extends_chain_through_subfolder_applies_in_order),
        UNIT_CASE(test_webhooks_section_merges_and_finds_ca_beside_the_file),
        UNIT_CASE(test_file_named_like_a_builtin_extends_the_builtin),
        UNIT_CASE(test_builtin_name_loads_when_no_such_file),
        UNIT_CASE(test_request_without_folder_resolves_only_builtins),
        UNIT_CASE(test_alias_bomb_is_refused_not_expanded),
        {NULL, NULL},
    };

    if (make_folder() != 0)
        return -1;
    return unit_add_suite("scenario", cases);
}
