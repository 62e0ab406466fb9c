/*
 * cidr: inet_pton does the address parsing; matching compares the first
 * prefix bits byte by byte.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Parses an address (no prefix) into out; 0 or -1. */
static int
parse_addr(const char *s, int *family, unsigned char out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                                 0, 0, 0, 0, 0xff, 0xff};

        if (memcmp(out, mapped, 12) == 0) {
            memmove(out, out + 12, 4);
            memset(out + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

int
cidr_parse(const char *entry, struct cidr *out, struct mock_err *err)
{
    char host[64];
    const char *slash = strchr(entry, '/');
    size_t hl = slash ? (size_t)(slash - entry) : strlen(entry);
    int max, prefix = -1;

    memset(out, 0, sizeof(*out));
    if (hl == 0 || hl >= sizeof(host))
        return err_set(err, MOCK_EINVAL, "\"%s\" is not an IP address", entry);
    memcpy(host, entry, hl);
    host[hl] = '\0';
    if (parse_addr(host, &out->family, out->addr) != 0)
        return err_set(err, MOCK_EINVAL, "\"%s\" is not an IP address", entry);
    if (out->family == AF_INET && strchr(host, ':') != NULL)
        return err_set(err, MOCK_EINVAL, "\"%s\": write the IPv4 form", entry);
    max = out->family == AF_INET ? 32 : 128;
    if (slash != NULL) {
        const char *d = slash + 1;

        prefix = 0;
        if (*d == '\0' || strlen(d) > 3 || (d[0] == '0' && d[1] != '\0'))
            return err_set(err, MOCK_EINVAL, "\"%s\" has a bad prefix", entry);
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return err_set(err, MOCK_EINVAL, "\"%s\" has a bad prefix",
                               entry);
            prefix = prefix * 10 + (*d - '0');
        }
        if (prefix > max)
            return err_set(err, MOCK_EINVAL, "\"%s\": prefix over %d", entry,
                           max);
    }
    out->prefix = prefix < 0 ? max : prefix;
    return 0;
}

int
cidr_contains(const struct cidr *range, const char *addr)
{
    unsigned char a[16];
    int family, bits = range->prefix, i = 0;

    if (addr == NULL || parse_addr(addr, &family, a) != 0 ||
        family != range->family)
        return 0;
    for (; bits >= 8; bits -= 8, i++) {
        if (a[i] != range->addr[i])
            return 0;
    }
    if (bits > 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - bits));

        if ((a[i] & mask) != (range->addr[i] & mask))
            return 0;
    }
    return 1;
}

int
cidr_list_allows(const struct strlist *list, const char *addr)
{
    if (list == NULL || list->n == 0)
        return 1;
    for (size_t i = 0; i < list->n; i++) {
        struct cidr r;

        if (cidr_parse(list->v[i], &r, NULL) == 0 && cidr_contains(&r, addr))
            return 1;
    }
    return 0;
}
