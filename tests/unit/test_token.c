/*
 * Tests of access tokens and the verified-token cache: the signing key is
 * kept and reused, minted tokens read back into the right principal, the
 * expiry boundary holds on both the verified and the cached path, and
 * tokens of another key are refused.
 */
#include "authcache.h"
#include "scopes.h"
#include "token.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BANK "b0a1c2d3e4f5061728394a5b6c7d8e9f"
#define CUSTOMER "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define NOW 1800000000

static char dir[64], dir2[64];

static void
rm_dir(const char *d)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/signing-key.pem", d);
    unlink(path);
    rmdir(d);
}

static int
setup(void)
{
    struct mock_err err = {0};

    snprintf(dir, sizeof(dir), "/tmp/cybrid-token-test-XXXXXX");
    snprintf(dir2, sizeof(dir2), "/tmp/cybrid-token-test-XXXXXX");
    if (mkdtemp(dir) == NULL || mkdtemp(dir2) == NULL)
        return -1;
    return token_init(dir, &err);
}

static int
teardown(void)
{
    token_shutdown();
    rm_dir(dir);
    rm_dir(dir2);
    return 0;
}

static char *
mint_bank(int64_t now)
{
    uint64_t scopes[2] = {0, 0};
    struct mock_err err = {0};
    cJSON *props = cJSON_CreateObject();

    scopes_add(scopes, scopes_index("banks:read"));
    cJSON_AddStringToObject(props, "type", "sandbox");
    return token_mint(TOKEN_BANK, BANK, scopes, props, now, &err);
}

static void
test_signing_key_is_written_private_and_reused(void)
{
    char path[128], *before = xstrdup(token_jwks());
    struct mock_err err = {0};
    struct stat st;

    snprintf(path, sizeof(path), "%s/signing-key.pem", dir);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(token_init(dir, &err), 0);
    CU_ASSERT_STRING_EQUAL(token_jwks(), before);
    free(before);
}

static void
test_minted_bank_token_reads_back_as_its_principal(void)
{
    char *t = mint_bank(NOW);
    struct principal p;
    struct mock_err err = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(token_read(t, NOW, &p, &err), 0);
    CU_ASSERT_EQUAL(p.type, TOKEN_BANK);
    CU_ASSERT_STRING_EQUAL(p.subject, BANK);
    CU_ASSERT_STRING_EQUAL(p.bank_guid, BANK);
    CU_ASSERT_EQUAL(p.issued_at, NOW);
    CU_ASSERT_EQUAL(p.expires_at, NOW + token_lifetime(TOKEN_BANK));
    CU_ASSERT_TRUE(scopes_has(p.scopes, scopes_index("banks:read")));
    CU_ASSERT_FALSE(scopes_has(p.scopes, scopes_index("banks:write")));
    CU_ASSERT_EQUAL(strlen(p.jti), 36);
    secret_free(t);
}

static void
test_customer_token_carries_its_bank(void)
{
    uint64_t scopes[2] = {0, 0};
    struct mock_err err = {0};
    cJSON *props = cJSON_CreateObject();
    struct principal p;
    char *t;

    scopes_add(scopes, scopes_index("trades:read"));
    cJSON_AddStringToObject(props, "bank_guid", BANK);
    cJSON_AddStringToObject(props, "bank_type", "sandbox");
    t = token_mint(TOKEN_CUSTOMER, CUSTOMER, scopes, props, NOW, &err);
    CU_ASSERT_EQUAL_FATAL(token_read(t, NOW, &p, &err), 0);
    CU_ASSERT_EQUAL(p.type, TOKEN_CUSTOMER);
    CU_ASSERT_STRING_EQUAL(p.customer_guid, CUSTOMER);
    CU_ASSERT_STRING_EQUAL(p.bank_guid, BANK);
    secret_free(t);
}

static void
test_customer_token_carries_its_ip_allowlists(void)
{
    uint64_t scopes[2] = {0, 0};
    struct mock_err err = {0};
    cJSON *props = cJSON_CreateObject();
    cJSON *asked = cJSON_AddArrayToObject(props, "ip_allowlist");
    cJSON *inherited = cJSON_AddArrayToObject(props, "inherited_ip_allowlist");
    struct principal p;
    char *t;

    scopes_add(scopes, scopes_index("trades:read"));
    cJSON_AddStringToObject(props, "bank_guid", BANK);
    cJSON_AddItemToArray(asked, cJSON_CreateString("10.0.0.0/8"));
    cJSON_AddItemToArray(asked, cJSON_CreateString("192.0.2.1"));
    cJSON_AddItemToArray(inherited, cJSON_CreateString("10.1.0.0/16"));
    t = token_mint(TOKEN_CUSTOMER, CUSTOMER, scopes, props, NOW, &err);
    CU_ASSERT_EQUAL_FATAL(token_read(t, NOW, &p, &err), 0);
    CU_ASSERT_EQUAL(p.n_allow[0], 2);
    CU_ASSERT_EQUAL(p.n_allow[1], 1);
    CU_ASSERT_TRUE(cidr_contains(&p.allow[0][0], "10.9.9.9"));
    CU_ASSERT_TRUE(cidr_contains(&p.allow[0][1], "192.0.2.1"));
    CU_ASSERT_FALSE(cidr_contains(&p.allow[1][0], "10.9.9.9"));
    secret_free(t);
}

static void
test_customer_token_with_a_bad_ip_allowlist_is_refused(void)
{
    uint64_t scopes[2] = {0, 0};
    struct mock_err err = {0};
    cJSON *props = cJSON_CreateObject();
    cJSON *asked = cJSON_AddArrayToObject(props, "ip_allowlist");
    struct principal p;
    char *t;

    cJSON_AddStringToObject(props, "bank_guid", BANK);
    cJSON_AddItemToArray(asked, cJSON_CreateString("not-an-address"));
    t = token_mint(TOKEN_CUSTOMER, CUSTOMER, scopes, props, NOW, &err);
    CU_ASSERT_EQUAL(token_read(t, NOW, &p, &err), MOCK_EINVAL);
    secret_free(t);
}

static void
test_token_expires_exactly_at_exp_even_when_cached(void)
{
    char *t = mint_bank(NOW);
    int64_t exp = NOW + token_lifetime(TOKEN_BANK);
    struct principal p;
    struct mock_err err = {0};

    authcache_clear();
    CU_ASSERT_EQUAL(token_read(t, exp - 1, &p, &err), 0);
    CU_ASSERT_EQUAL(authcache_size(), 1);
    CU_ASSERT_EQUAL(token_read(t, exp - 1, &p, &err), 0); /* cached */
    CU_ASSERT_EQUAL(token_read(t, exp, &p, &err), MOCK_ELIMIT);
    CU_ASSERT_EQUAL(token_read(t, exp + 1, &p, &err), MOCK_ELIMIT);
    authcache_clear();
    CU_ASSERT_EQUAL(token_read(t, exp, &p, &err), MOCK_ELIMIT); /* fresh */
    CU_ASSERT_EQUAL(token_read(t, exp - 1, &p, &err), 0);
    secret_free(t);
}

static void
test_lifetimes_follow_the_scenario(void)
{
    char *t;
    struct principal p;
    struct mock_err err = {0};

    token_set_lifetimes(0, 60, -5);
    CU_ASSERT_EQUAL(token_lifetime(TOKEN_BANK), 60);
    CU_ASSERT_EQUAL(token_lifetime(TOKEN_ORGANIZATION), TOKEN_DEFAULT_TTL);
    CU_ASSERT_EQUAL(token_lifetime(TOKEN_CUSTOMER), TOKEN_DEFAULT_TTL);
    t = mint_bank(NOW);
    CU_ASSERT_EQUAL(token_read(t, NOW, &p, &err), 0);
    CU_ASSERT_EQUAL(p.expires_at - p.issued_at, 60);
    token_set_lifetimes(0, 0, 0);
    secret_free(t);
}

static void
test_token_of_another_signing_key_is_refused(void)
{
    struct mock_err err = {0};
    struct principal p;
    char *foreign, *ours;

    CU_ASSERT_EQUAL_FATAL(token_init(dir2, &err), 0);
    foreign = mint_bank(NOW);
    CU_ASSERT_EQUAL_FATAL(token_init(dir, &err), 0);
    ours = mint_bank(NOW);
    CU_ASSERT_EQUAL(token_read(foreign, NOW, &p, &err), MOCK_EINVAL);
    CU_ASSERT_EQUAL(token_read(ours, NOW, &p, &err), 0);
    secret_free(foreign);
    secret_free(ours);
}

static void
test_cache_hits_only_the_same_token(void)
{
    unsigned char k1[AUTHCACHE_KEY], k2[AUTHCACHE_KEY];
    struct principal p = {.type = TOKEN_BANK, .expires_at = NOW + 10}, out;

    authcache_clear();
    authcache_key("token-one", 9, k1);
    authcache_key("token-two", 9, k2);
    authcache_put(k1, &p);
    CU_ASSERT_TRUE(authcache_get(k1, &out));
    CU_ASSERT_EQUAL(out.type, TOKEN_BANK);
    CU_ASSERT_EQUAL(out.expires_at, NOW + 10);
    CU_ASSERT_FALSE(authcache_get(k2, &out));
}

static void
test_cache_stays_bounded(void)
{
    struct principal p = {.type = TOKEN_BANK, .expires_at = NOW + 10};

    authcache_clear();
    for (int i = 0; i < 3 * AUTHCACHE_SHARDS * AUTHCACHE_SLOTS; i++) {
        unsigned char k[AUTHCACHE_KEY];
        char text[32];

        snprintf(text, sizeof(text), "token-%d", i);
        authcache_key(text, strlen(text), k);
        authcache_put(k, &p);
    }
    CU_ASSERT_TRUE(authcache_size() <= AUTHCACHE_SHARDS * AUTHCACHE_SLOTS);
    authcache_clear();
    CU_ASSERT_EQUAL(authcache_size(), 0);
}

static void
test_garbage_is_refused_not_crashed_on(void)
{
    const char *bad[] = {"", "abc", "a.b.c", "e30.e30.", NULL};
    struct principal p;
    struct mock_err err = {0};

    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(token_read(bad[i], NOW, &p, &err), MOCK_EINVAL);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_signing_key_is_written_private_and_reused),
        UNIT_CASE(test_minted_bank_token_reads_back_as_its_principal),
        UNIT_CASE(test_customer_token_carries_its_bank),
        UNIT_CASE(test_customer_token_carries_its_ip_allowlists),
        UNIT_CASE(test_customer_token_with_a_bad_ip_allowlist_is_refused),
        UNIT_CASE(test_token_expires_exactly_at_exp_even_when_cached),
        UNIT_CASE(test_lifetimes_follow_the_scenario),
        UNIT_CASE(test_token_of_another_signing_key_is_refused),
        UNIT_CASE(test_cache_hits_only_the_same_token),
        UNIT_CASE(test_cache_stays_bounded),
        UNIT_CASE(test_garbage_is_refused_not_crashed_on),
        {NULL, NULL},
    };
    CU_pSuite s = CU_add_suite("token", setup, teardown);

    if (s == NULL)
        return -1;
    for (const struct unit_case *c = cases; c->name; c++) {
        if (CU_add_test(s, c->name, c->fn) == NULL)
            return -1;
    }
    return 0;
}
