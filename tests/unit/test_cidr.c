/* Tests of allowlist entries: parsing, matching and list semantics. */
#include "cidr.h"
#include "unit.h"

#include <arpa/inet.h>
#include <stdlib.h>

static int
match(const char *entry, const char *addr)
{
    struct cidr r;

    if (cidr_parse(entry, &r, NULL) != 0)
        return -1;
    return cidr_contains(&r, addr);
}

static void
test_single_address_matches_only_itself(void)
{
    CU_ASSERT_EQUAL(match("203.0.113.7", "203.0.113.7"), 1);
    CU_ASSERT_EQUAL(match("203.0.113.7", "203.0.113.8"), 0);
    CU_ASSERT_EQUAL(match("203.0.113.7/32", "203.0.113.7"), 1);
}

static void
test_cidr_range_matches_its_prefix(void)
{
    CU_ASSERT_EQUAL(match("10.0.0.0/8", "10.255.1.2"), 1);
    CU_ASSERT_EQUAL(match("10.0.0.0/8", "11.0.0.1"), 0);
    CU_ASSERT_EQUAL(match("192.168.1.0/24", "192.168.1.255"), 1);
    CU_ASSERT_EQUAL(match("192.168.1.0/24", "192.168.2.0"), 0);
    CU_ASSERT_EQUAL(match("192.168.1.128/25", "192.168.1.127"), 0);
    CU_ASSERT_EQUAL(match("192.168.1.128/25", "192.168.1.200"), 1);
    CU_ASSERT_EQUAL(match("172.16.0.0/12", "172.31.255.255"), 1);
    CU_ASSERT_EQUAL(match("172.16.0.0/12", "172.32.0.0"), 0);
    CU_ASSERT_EQUAL(match("0.0.0.0/0", "198.51.100.1"), 1);
    /* Host bits in the entry are ignored. */
    CU_ASSERT_EQUAL(match("10.1.2.3/8", "10.9.9.9"), 1);
}

static void
test_mapped_ipv6_client_matches_ipv4_entry(void)
{
    CU_ASSERT_EQUAL(match("127.0.0.0/8", "::ffff:127.0.0.1"), 1);
    CU_ASSERT_EQUAL(match("127.0.0.1", "::1"), 0);
}

static void
test_ipv6_entries_match_ipv6_clients(void)
{
    CU_ASSERT_EQUAL(match("2001:db8::/32", "2001:db8:1::5"), 1);
    CU_ASSERT_EQUAL(match("2001:db8::/32", "2001:db9::5"), 0);
    CU_ASSERT_EQUAL(match("::1", "::1"), 1);
    CU_ASSERT_EQUAL(match("2001:db8::/32", "32.1.13.184"), 0);
}

static void
test_bad_entries_are_refused(void)
{
    const char *bad[] = {
        "",           "256.1.1.1",   "1.2.3",        "01.2.3.4",
        "1.2.3.4/33", "1.2.3.4/-1",  "1.2.3.4/",     "1.2.3.4/08",
        "1.2.3.4/ 8", "1.2.3.4 ",    "example.com",  "::ffff:1.2.3.4",
        "::1/129",    "1.2.3.4/8/8", "1.2.3.4/1000", NULL};
    struct cidr r;
    struct mock_err err = {0};

    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(cidr_parse(bad[i], &r, &err), MOCK_EINVAL);
    CU_ASSERT_EQUAL(cidr_parse("1.2.3.4/0", &r, &err), 0);
}

static void
test_unparsable_client_address_matches_nothing(void)
{
    CU_ASSERT_EQUAL(match("0.0.0.0/0", "not an address"), 0);
    CU_ASSERT_EQUAL(match("0.0.0.0/0", ""), 0);
    CU_ASSERT_EQUAL(match("0.0.0.0/0", NULL), 0);
}

static void
test_empty_list_allows_any_address(void)
{
    struct strlist empty = {NULL, 0};

    CU_ASSERT_TRUE(cidr_list_allows(&empty, "198.51.100.1"));
    CU_ASSERT_TRUE(cidr_list_allows(NULL, "198.51.100.1"));
}

static void
test_list_allows_an_address_in_any_entry(void)
{
    char *items[] = {"bogus", "10.0.0.0/8", "203.0.113.7"};
    struct strlist l = {items, 3};

    CU_ASSERT_TRUE(cidr_list_allows(&l, "10.2.3.4"));
    CU_ASSERT_TRUE(cidr_list_allows(&l, "203.0.113.7"));
    CU_ASSERT_FALSE(cidr_list_allows(&l, "127.0.0.1"));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_single_address_matches_only_itself),
        UNIT_CASE(test_cidr_range_matches_its_prefix),
        UNIT_CASE(test_mapped_ipv6_client_matches_ipv4_entry),
        UNIT_CASE(test_ipv6_entries_match_ipv6_clients),
        UNIT_CASE(test_bad_entries_are_refused),
        UNIT_CASE(test_unparsable_client_address_matches_nothing),
        UNIT_CASE(test_empty_list_allows_any_address),
        UNIT_CASE(test_list_allows_an_address_in_any_entry),
        {NULL, NULL},
    };

    return unit_add_suite("cidr", cases);
}
