/*
 * origin: the rules of a bank's cors_allowed_origins list and the
 * matching of a browser's Origin header against it.
 *
 * An origin is a scheme, a host and an optional port, nothing else:
 * "https://app.example.com" or "https://app.example.com:8443". A list
 * entry must be https, except plain http to the host localhost (any port)
 * for local development. Anything else is refused: a path (a trailing
 * slash included), a query, a fragment, user info, a '*' anywhere, an
 * empty host, a port that is empty, 0, above 65535 or not digits, spaces,
 * a host that is not an LDH name, a dotted IPv4 address or a bracketed
 * IPv6 literal (raw Unicode hosts too: a browser sends the xn-- form).
 * Scheme and host compare case-insensitively and a default port (443,
 * 80) is the same origin as none, as browsers serialize them.
 */
#ifndef CYBRID_ORIGIN_H
#define CYBRID_ORIGIN_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* At most this many entries in a bank's list. */
#define ORIGIN_LIST_MAX 50

/* The error_message of a list with a bad entry (the guide's words). */
#define ORIGIN_INVALID_MESSAGE                                                 \
    "CORS allowed origins must all be valid HTTPS URIs"

/* Longest canonical origin, NUL included. */
#define ORIGIN_MAX 300

/* What origin_list_check found. */
enum origin_verdict {
    ORIGIN_LIST_OK,
    ORIGIN_LIST_NOT_ARRAY, /* not a JSON array */
    ORIGIN_LIST_TOO_MANY,  /* more than ORIGIN_LIST_MAX entries */
    ORIGIN_LIST_INVALID,   /* an entry is not an allowed origin */
};

/* 1 when s may stand in a bank's cors_allowed_origins list. */
int origin_allowed(const char *s);

/*
 * Checks a cors_allowed_origins value: an array of at most 50 strings,
 * each passing origin_allowed(). Duplicates are allowed and count.
 */
enum origin_verdict origin_list_check(const cJSON *list);

/*
 * Writes the canonical form of any syntactically valid http or https
 * origin s into out (size cap): lower-case scheme and host, no default
 * port. Returns 0, or MOCK_EINVAL when s is not an origin or does not fit.
 */
int origin_canonical(const char *s, char *out, size_t cap);

/*
 * 1 when the origin (as a browser sends it in the Origin header) is the
 * same origin as an entry of list (a JSON array of strings).
 */
int origin_list_contains(const cJSON *list, const char *origin);

#endif
