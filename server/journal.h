/*
 * journal: a bounded record of the requests the mock answered, served
 * by GET /__admin/requests and emptied by DELETE /__admin/requests.
 *
 * Each entry holds the request id (the X-Request-Id sent back), the
 * virtual and real time, method, path (never the query string), status
 * (0: dropped with no answer), duration, client address, the token's type
 * and subject once it verified, the error's message_code and the fault
 * that fired. Nothing else of the request is kept: no header, token,
 * secret, body or signature.
 *
 * The entries live in a ring of a fixed size (default 10,000, set with
 * --journal-size): when it is full the oldest entry is dropped and
 * counted. Recording copies into a preallocated slot under a mutex.
 */
#ifndef CYBRID_JOURNAL_H
#define CYBRID_JOURNAL_H

#include "http.h"

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_DEFAULT_SIZE 10000
#define JOURNAL_MAX_SIZE 1000000

/* What the request path knows of a request beside req itself. */
struct journal_extra {
    const char *subject; /* the token's sub, or NULL */
    const char *fault;   /* the fault that fired, or NULL */
    const char *action;  /* its action's name */
};

/*
 * Makes a journal of size entries (1..JOURNAL_MAX_SIZE), dropping
 * whatever was recorded. Registers the metrics. Call before serving.
 */
void journal_init(size_t size);

/* Frees the entries. */
void journal_shutdown(void);

/* Records an answered (or dropped) request. Thread-safe. */
void journal_record(const struct http_request *req,
                    const struct journal_extra *x);

/* Empties the journal and its counts; returns how many it held. */
size_t journal_clear(void);

/* Entries held now, dropped since the last clear, recorded since then. */
size_t journal_size(void);
uint64_t journal_dropped(void);
uint64_t journal_total(void);

/* The routes GET and DELETE /__admin/requests; *n receives the count. */
const struct http_route *journal_routes(size_t *n);

#endif
