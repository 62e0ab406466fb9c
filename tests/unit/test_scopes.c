/*
 * Tests of the scope catalogue: parsing with its whitespace rules, the
 * sets of each token type, and the bit layout of a scope set.
 */
#include "scopes.h"
#include "unit.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int
parse(const char *s, uint64_t out[2])
{
    char bad[64];

    return scopes_parse(s, out, bad, sizeof(bad));
}

static void
test_parse_reads_space_separated_names(void)
{
    uint64_t set[2];

    CU_ASSERT_EQUAL(parse("banks:read customers:write", set), 0);
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("banks:read")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("customers:write")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("banks:write")));
    CU_ASSERT_EQUAL(parse("prices:read prices:read", set), 0);
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("prices:read")));
}

static void
test_parse_refuses_odd_whitespace(void)
{
    const char *bad[] = {"",
                         " banks:read",
                         "banks:read ",
                         "banks:read  banks:write",
                         "banks:read\tbanks:write",
                         "banks:read\nbanks:write",
                         "banks:read\r",
                         "banks:read\xc2\xa0"
                         "banks:write",
                         " ",
                         NULL};
    uint64_t set[2];

    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(parse(bad[i], set), MOCK_EINVAL);
    CU_ASSERT_EQUAL(scopes_parse(NULL, set, NULL, 0), MOCK_EINVAL);
}

static void
test_parse_names_the_unknown_scope(void)
{
    char bad[64];
    uint64_t set[2];

    CU_ASSERT_EQUAL(scopes_parse("banks:read banks:fly", set, bad, sizeof(bad)),
                    MOCK_ENOENT);
    CU_ASSERT_STRING_EQUAL(bad, "banks:fly");
    CU_ASSERT_EQUAL(parse("BANKS:READ", set), MOCK_ENOENT);
    CU_ASSERT_EQUAL(parse("banks:rea", set), MOCK_ENOENT);
    CU_ASSERT_EQUAL(parse("banks:readx", set), MOCK_ENOENT);
}

static void
test_customer_tokens_never_hold_customers_execute(void)
{
    uint64_t set[2];

    scopes_all(SCOPE_CUSTOMER, set);
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("customers:execute")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("customers:write")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("sardine_sessions:execute")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("banks:read")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("files:read")));
}

static void
test_bank_set_has_no_subscription_scopes(void)
{
    uint64_t set[2];

    scopes_all(SCOPE_BANK, set);
    for (int i = 0; i < (int)scopes_count(); i++) {
        if (strncmp(scopes_name(i), "subscription", 12) == 0)
            CU_ASSERT_FALSE(scopes_has(set, i));
    }
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("customers:execute")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("banks:write")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("banks:execute")));
}

static void
test_organization_set_matches_the_scope_table(void)
{
    uint64_t set[2];

    scopes_all(SCOPE_ORG, set);
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("banks:execute")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("subscriptions:execute")));
    CU_ASSERT_TRUE(
        scopes_has(set, scopes_index("subscription_events:execute")));
    CU_ASSERT_TRUE(scopes_has(set, scopes_index("organizations:write")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("customers:write")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("customers:execute")));
    CU_ASSERT_FALSE(scopes_has(set, scopes_index("accounts:execute")));
}

static void
test_dropped_scopes_are_known_but_never_granted(void)
{
    const char *dropped[] = {"organization_applications:write",
                             "organization_applications:execute",
                             "bank_applications:write",
                             "bank_applications:execute",
                             "users:write",
                             "users:execute",
                             NULL};
    uint64_t all[2];

    scopes_all(SCOPE_ORG | SCOPE_BANK | SCOPE_CUSTOMER, all);
    for (int i = 0; dropped[i]; i++) {
        int s = scopes_index(dropped[i]);

        CU_ASSERT_TRUE(s >= 0);
        CU_ASSERT_TRUE(scopes_dropped(s));
        CU_ASSERT_FALSE(scopes_has(all, s));
    }
    CU_ASSERT_FALSE(scopes_dropped(scopes_index("users:read")));
}

static void
test_catalogue_names_are_unique_and_indexed(void)
{
    CU_ASSERT_TRUE(scopes_count() > 64); /* exercises the second word */
    CU_ASSERT_TRUE(scopes_count() <= SCOPES_MAX);
    for (int i = 0; i < (int)scopes_count(); i++) {
        CU_ASSERT_EQUAL(scopes_index(scopes_name(i)), i);
        CU_ASSERT_NOT_EQUAL(scopes_types(i), 0);
    }
    CU_ASSERT_PTR_NULL(scopes_name((int)scopes_count()));
    CU_ASSERT_PTR_NULL(scopes_name(-1));
    CU_ASSERT_EQUAL(scopes_index("nope"), -1);
}

static void
test_sets_use_both_words(void)
{
    uint64_t set[2] = {0, 0};
    int last = (int)scopes_count() - 1;

    scopes_add(set, last);
    scopes_add(set, 0);
    CU_ASSERT_EQUAL(set[0], 1);
    CU_ASSERT_EQUAL(set[1], (uint64_t)1 << (last - 64));
    CU_ASSERT_TRUE(scopes_has(set, last));
    CU_ASSERT_FALSE(scopes_has(set, -1));
    CU_ASSERT_FALSE(scopes_has(set, SCOPES_MAX));
}

static void
test_join_and_json_list_in_catalogue_order(void)
{
    uint64_t set[2];
    char *text;
    cJSON *a;

    CU_ASSERT_EQUAL(parse("subscription_events:read banks:read", set), 0);
    text = scopes_join(set);
    CU_ASSERT_STRING_EQUAL(text, "banks:read subscription_events:read");
    a = scopes_json(set);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(a), 2);
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(a, 1)->valuestring,
                           "subscription_events:read");
    free(text);
    cJSON_Delete(a);
    set[0] = set[1] = 0;
    text = scopes_join(set);
    CU_ASSERT_STRING_EQUAL(text, "");
    free(text);
}

static void
test_subset(void)
{
    uint64_t a[2] = {0, 0}, b[2] = {0, 0};

    scopes_add(a, 3);
    scopes_add(b, 3);
    scopes_add(b, 70);
    CU_ASSERT_TRUE(scopes_subset(a, b));
    CU_ASSERT_FALSE(scopes_subset(b, a));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_parse_reads_space_separated_names),
        UNIT_CASE(test_parse_refuses_odd_whitespace),
        UNIT_CASE(test_parse_names_the_unknown_scope),
        UNIT_CASE(test_customer_tokens_never_hold_customers_execute),
        UNIT_CASE(test_bank_set_has_no_subscription_scopes),
        UNIT_CASE(test_organization_set_matches_the_scope_table),
        UNIT_CASE(test_dropped_scopes_are_known_but_never_granted),
        UNIT_CASE(test_catalogue_names_are_unique_and_indexed),
        UNIT_CASE(test_sets_use_both_words),
        UNIT_CASE(test_join_and_json_list_in_catalogue_order),
        UNIT_CASE(test_subset),
        {NULL, NULL},
    };

    return unit_add_suite("scopes", cases);
}
