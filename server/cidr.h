/*
 * cidr: address ranges for allowlists ("203.0.113.7", "10.0.0.0/8").
 *
 * Entries are IPv4 (or IPv6) addresses with an optional /prefix. Parsing
 * is strict: inet_pton's dotted quad (no leading zeros, no short forms)
 * and a decimal prefix in range. A client address given as an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack listener
 * reports it) matches IPv4 entries.
 */
#ifndef CYBRID_CIDR_H
#define CYBRID_CIDR_H

#include "scenario.h"
#include "util.h"

#include <stdint.h>

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix; /* leading bits that must match */
};

/* Parses an entry. 0, or MOCK_EINVAL with err saying what is wrong. */
int cidr_parse(const char *entry, struct cidr *out, struct mock_err *err);

/* 1 when the address text addr falls in the range; 0 otherwise. */
int cidr_contains(const struct cidr *range, const char *addr);

/*
 * 1 when addr is allowed by the list: an empty list allows any address;
 * an entry that does not parse matches nothing.
 */
int cidr_list_allows(const struct strlist *list, const char *addr);

#endif
