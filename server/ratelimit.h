/*
 * ratelimit: Cybrid's per-address rate limits, on the virtual clock.
 *
 * Each client address has, per limit class (see enum limit_class in
 * scenario.h), a ring of the timestamps of its last N accepted requests,
 * N being the class's limit. A request is accepted when fewer than N are
 * held, or when the oldest held one is at least a window old (it is then
 * overwritten): so request N+1 inside any window is refused, a slot frees
 * exactly when the oldest counted request leaves the window, and refused
 * requests are not counted. That is constant time per request, whatever
 * the limit.
 *
 * Addresses live in stripes chosen by a hash of the address; each stripe
 * has its own mutex, hash table and least-recently-used list, and holds at
 * most its share of the address cap. A new address in a full stripe takes
 * over the stripe's least recently used entry; evictions are counted. A
 * lock is held only for the lookup and the ring update, never across the
 * request. A ring starts small and doubles as it fills, up to its limit,
 * so memory follows the requests accepted inside the windows, and is
 * never more than the cap times the sum of the limits times 8 bytes.
 *
 * The client address is the TCP peer. X-Forwarded-For is believed only
 * when the peer is one of the scenario's trusted proxies (addresses or
 * CIDR blocks): the client is then the rightmost address in the header
 * that is not itself a trusted proxy.
 *
 * The module registers its metrics (refusals by class, tracked addresses,
 * evictions) with the metrics module in ratelimit_init().
 */
#ifndef CYBRID_RATELIMIT_H
#define CYBRID_RATELIMIT_H

#include "http.h"
#include "scenario.h"

#include <stddef.h>
#include <stdint.h>

/* Addresses tracked at most, and stripes, unless ratelimit_init says. */
#define RATELIMIT_DEFAULT_ADDRESSES 8192
#define RATELIMIT_DEFAULT_STRIPES 64
/* The largest limit a rule may have (bounds a ring's memory). */
#define RATELIMIT_LIMIT_MAX 1000000
/* Size of a buffer that holds any normalized client address. */
#define RATELIMIT_ADDR_MAX 48

/* The outcome of one check. */
struct ratelimit_verdict {
    int allowed;          /* 1: the request goes on */
    int status;           /* when refused: the rule's status (429, 403) */
    int send_retry_after; /* when refused: the rule's retry_after */
    int64_t retry_after;  /* when refused: whole seconds until a slot
                             frees, at least 1 */
    unsigned limit;       /* the rule that refused, for the message */
    int64_t window_ms;
};

/*
 * Prepares max_addresses tracked addresses spread over stripes (both at
 * least 1; stripes is rounded down to a power of two and to at most
 * max_addresses), with every class off until ratelimit_load(). Registers
 * the metrics. Calling it again starts over with the new sizes. Not
 * thread-safe: call before serving.
 */
void ratelimit_init(size_t max_addresses, unsigned stripes);

/* Frees every tracked address. Safe to call twice. */
void ratelimit_shutdown(void);

/*
 * Takes the scenario's rules and trusted proxies and forgets every
 * tracked address (a new scenario starts with empty windows). A limit
 * above RATELIMIT_LIMIT_MAX is cut to it; a trusted proxy that does not
 * parse (see cidr.h; the scenario loader refuses those first) is skipped
 * with a warning. Thread-safe.
 */
void ratelimit_load(const struct scenario *sc);

/*
 * Changes one class's rule at run time, keeping the tracked windows (a
 * ring shrinks to its newest requests or grows on next use). Thread-safe.
 */
void ratelimit_set_rule(enum limit_class cls, const struct limit_rule *rule);

/* The class of a request by method and path, or LIMIT_NONE. */
enum limit_class ratelimit_class_of(const char *method, const char *path);

/* The class's name as used in scenarios and metrics ("general", ...). */
const char *ratelimit_class_name(enum limit_class cls);

/*
 * Writes the client address (at most RATELIMIT_ADDR_MAX bytes with the
 * NUL) into out: the peer, or, when the peer is a trusted proxy and xff
 * (the X-Forwarded-For value, or NULL) names a valid address, that
 * address in canonical form. The peer is taken as the socket layer wrote
 * it (canonical already), except that IPv4-mapped IPv6 becomes IPv4.
 */
void ratelimit_client_addr(const char *peer, const char *xff, char *out,
                           size_t cap);

/*
 * Counts one request of class cls from addr at virtual time now_ms and
 * fills out. A class that is off, or LIMIT_NONE, always allows. Counts a
 * refusal in the metrics. Thread-safe; constant time.
 */
void ratelimit_check(const char *addr, enum limit_class cls, int64_t now_ms,
                     struct ratelimit_verdict *out);

/*
 * Fills out with the refusal the class's rule would give if its window
 * were full right now (Retry-After: the whole window), for a fault that
 * answers "as if the limit were hit". Counts nothing. A class that is off
 * or LIMIT_NONE still gets a refusal, with the default status of its
 * kind (429 for general, 403 for the token classes).
 */
void ratelimit_forced_verdict(enum limit_class cls,
                              struct ratelimit_verdict *out);

/*
 * Sends the refusal for a verdict: the rule's status, Retry-After when the
 * verdict says so, and a Cybrid error body with message_code
 * "rate_limited" that says it is a rate limit.
 */
void ratelimit_reply(struct http_request *req, enum limit_class cls,
                     const struct ratelimit_verdict *v);

/*
 * The request path's step: classifies the request, finds its client
 * address and checks it on the virtual clock. Returns 0 to go on, or
 * replies with the refusal and returns its status.
 */
int ratelimit_request(struct http_request *req);

/* Addresses tracked now, and evictions since start. */
size_t ratelimit_tracked(void);
uint64_t ratelimit_evictions(void);

#endif
