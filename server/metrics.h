/*
 * metrics: counters and gauges, served as Prometheus text (format 0.0.4)
 * at GET /__admin/metrics.
 *
 * A module adds a series with one call when it starts, and counts on it
 * with atomics from any thread, never taking a lock:
 *
 *     static struct metrics_counter *issued;
 *     issued = metrics_counter("cybrid_mock_tokens_issued_total",
 *                              "type=\"bank\"", "Tokens issued.");
 *     ...
 *     metrics_inc(issued);
 *
 * Several series of one family (same name, other labels) are registered
 * one call each with the same help text, and are printed together under
 * one HELP and TYPE line. Registering the same name and labels again
 * returns the same counter, so a module may register on every load. A
 * gauge is a function the renderer calls (it must be thread-safe and
 * cheap), e.g. metrics_gauge("cybrid_mock_journal_entries", NULL,
 * "Entries in the journal.", journal_size_metric).
 *
 * Requests by route and status are kept in a table of their own, filled
 * by metrics_request() from the request path after each reply: its slots
 * are claimed with compare-and-swap, so it is lock-free too. Counters
 * never go back to zero (Prometheus counters are monotonic); nothing here
 * is freed, the storage is static.
 */
#ifndef CYBRID_METRICS_H
#define CYBRID_METRICS_H

#include "http.h"

#include <stddef.h>
#include <stdint.h>

/* Series that can be registered, counters and gauges together. */
#define METRICS_MAX_SERIES 256
/* (route, status) pairs counted; more are counted as route "_other". */
#define METRICS_MAX_REQUEST_KEYS 1024

struct metrics_counter;

/* A gauge's value, read at render time. */
typedef double (*metrics_gauge_fn)(void);

/*
 * Registers (or finds) the counter series name{labels}. name is a
 * Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most 63 bytes);
 * labels is what goes between the braces (e.g. `class="general"`, at most
 * 127 bytes), or NULL for none; help is one line. The strings are copied.
 * A bad name or a full registry is a programming error: it is logged and
 * aborts. Thread-safe. The counter lives until exit.
 */
struct metrics_counter *metrics_counter(const char *name, const char *labels,
                                        const char *help);

/*
 * Registers a gauge series whose value fn returns, as metrics_counter
 * does; registering it again keeps the first function.
 */
void metrics_gauge(const char *name, const char *labels, const char *help,
                   metrics_gauge_fn fn);

/* Adds n to a counter (atomic, lock-free). */
void metrics_add(struct metrics_counter *c, uint64_t n);

/* Adds one to a counter. */
void metrics_inc(struct metrics_counter *c);

/* A counter's current value. */
uint64_t metrics_value(const struct metrics_counter *c);

/*
 * Counts one answered request under its route name (copied, cut to 63
 * bytes) and status. Lock-free.
 */
void metrics_request(const char *route, int status);

/* How many requests were counted for route and status. */
uint64_t metrics_request_count(const char *route, int status);

/*
 * The whole exposition as Prometheus text; *len receives its length. The
 * caller frees the string.
 */
char *metrics_render(size_t *len);

/* The route GET /__admin/metrics; *n receives the count. */
const struct http_route *metrics_routes(size_t *n);

#endif
