/*
 * origin: a hand-written parser for the one narrow URI shape an origin
 * is (scheme "://" host [":" port]). No URL library is used on purpose:
 * general URL parsers accept and silently normalize paths, user info,
 * empty ports and Unicode hosts, and every one of those must be refused
 * here. IPv6 literals are checked with inet_pton.
 */
#include "origin.h"

#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 253
#define LABEL_MAX 63

enum host_kind { HOST_NAME, HOST_IPV4, HOST_IPV6 };

struct parsed {
    int https;
    enum host_kind kind;
    char host[HOST_MAX + 1]; /* lower case; IPv6 without brackets */
    long port;               /* -1: none */
};

/* 1 when every byte is printable ASCII other than space. */
static int
all_visible_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    }
    return 1;
}

/* Parses 1..5 digits with a value 1..65535; -1 otherwise. */
static long
parse_port(const char *s)
{
    size_t n = strlen(s);
    long v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* 1 when s[0..n) is a dotted-quad IPv4 address without leading zeros. */
static int
ipv4_valid(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;

    while (i <= n) {
        size_t start = i;
        long v = 0;

        /* Only the first four digits count: more are refused below. */
        while (i < n && isdigit((unsigned char)s[i])) {
            if (i - start < 4)
                v = v * 10 + (s[i] - '0');
            i++;
        }
        if (i == start || i - start > 3 || v > 255 ||
            (s[start] == '0' && i - start > 1))
            return 0;
        parts++;
        if (i == n)
            break;
        if (s[i] != '.')
            return 0;
        i++;
    }
    return parts == 4;
}

/*
 * Checks a host name of LDH labels; a name whose last label is all digits
 * must be an IPv4 address. Sets *kind.
 */
static int
host_name_valid(const char *s, size_t n, enum host_kind *kind)
{
    size_t i = 0;
    int last_digits = 1;

    if (n == 0 || n > HOST_MAX)
        return 0;
    while (i < n) {
        size_t start = i;

        last_digits = 1;
        while (i < n && s[i] != '.') {
            if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                return 0;
            if (!isdigit((unsigned char)s[i]))
                last_digits = 0;
            i++;
        }
        if (i == start || i - start > LABEL_MAX || s[start] == '-' ||
            s[i - 1] == '-')
            return 0;
        if (i < n && i + 1 == n)
            return 0; /* a trailing dot: an empty last label */
        if (i < n)
            i++;
    }
    if (last_digits) {
        *kind = HOST_IPV4;
        return ipv4_valid(s, n);
    }
    *kind = HOST_NAME;
    return 1;
}

/* Parses "[v6]" at s; on success points *rest after the ']'. */
static int
parse_ipv6(const char *s, struct parsed *p, const char **rest)
{
    const char *close = strchr(s, ']');
    char buf[64];
    unsigned char addr[16];
    size_t n;

    if (close == NULL)
        return 0;
    n = (size_t)(close - s - 1);
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s + 1, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return 0;
    if (inet_ntop(AF_INET6, addr, p->host, sizeof(p->host)) == NULL)
        return 0;
    p->kind = HOST_IPV6;
    *rest = close + 1;
    return 1;
}

/* Parses s as an http or https origin; 1 on success. */
static int
parse_origin(const char *s, struct parsed *p)
{
    const char *auth, *rest;
    size_t hlen;

    memset(p, 0, sizeof(*p));
    p->port = -1;
    if (s == NULL || !all_visible_ascii(s))
        return 0;
    if (strncasecmp(s, "https://", 8) == 0) {
        p->https = 1;
        auth = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        auth = s + 7;
    } else {
        return 0;
    }
    /* Only an authority may follow: no path, query, fragment, user info,
       wildcard or escapes. */
    if (strpbrk(auth, "/?#@*\\%") != NULL)
        return 0;
    if (auth[0] == '[') {
        if (!parse_ipv6(auth, p, &rest))
            return 0;
    } else {
        hlen = strcspn(auth, ":");
        if (!host_name_valid(auth, hlen, &p->kind))
            return 0;
        for (size_t i = 0; i < hlen; i++)
            p->host[i] = (char)tolower((unsigned char)auth[i]);
        p->host[hlen] = '\0';
        rest = auth + hlen;
    }
    if (*rest == '\0')
        return 1;
    if (*rest != ':')
        return 0;
    p->port = parse_port(rest + 1);
    return p->port > 0;
}

int
origin_allowed(const char *s)
{
    struct parsed p;

    if (!parse_origin(s, &p))
        return 0;
    return p.https || (p.kind == HOST_NAME && strcmp(p.host, "localhost") == 0);
}

enum origin_verdict
origin_list_check(const cJSON *list)
{
    const cJSON *item;

    if (!cJSON_IsArray(list))
        return ORIGIN_LIST_NOT_ARRAY;
    if (cJSON_GetArraySize(list) > ORIGIN_LIST_MAX)
        return ORIGIN_LIST_TOO_MANY;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsString(item) || !origin_allowed(item->valuestring))
            return ORIGIN_LIST_INVALID;
    }
    return ORIGIN_LIST_OK;
}

int
origin_canonical(const char *s, char *out, size_t cap)
{
    struct parsed p;
    long def;
    int n;

    if (!parse_origin(s, &p))
        return MOCK_EINVAL;
    def = p.https ? 443 : 80;
    n = snprintf(out, cap, "%s://%s%s%s", p.https ? "https" : "http",
                 p.kind == HOST_IPV6 ? "[" : "", p.host,
                 p.kind == HOST_IPV6 ? "]" : "");
    if (n < 0 || (size_t)n >= cap)
        return MOCK_EINVAL;
    if (p.port > 0 && p.port != def) {
        int m = snprintf(out + n, cap - (size_t)n, ":%ld", p.port);

        if (m < 0 || (size_t)m >= cap - (size_t)n)
            return MOCK_EINVAL;
    }
    return 0;
}

int
origin_list_contains(const cJSON *list, const char *origin)
{
    char want[ORIGIN_MAX], have[ORIGIN_MAX];
    const cJSON *item;

    if (origin == NULL || origin_canonical(origin, want, sizeof(want)) != 0)
        return 0;
    cJSON_ArrayForEach(item, list)
    {
        if (cJSON_IsString(item) &&
            origin_canonical(item->valuestring, have, sizeof(have)) == 0 &&
            strcmp(want, have) == 0)
            return 1;
    }
    return 0;
}
