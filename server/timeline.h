/*
 * timeline: the scenario's `timeline:` list, run against the virtual
 * clock and the requests the mock sees.
 *
 * An entry fires either at a virtual time (`at: 30s` after the scenario
 * was loaded or reset) or on matching requests (`on:` a fault match, for
 * the first `times` of them, default 1, after `after`). Firing carries
 * out the entry's effects in order: emit a webhook event (optionally
 * tampered), expire every token issued so far, change rate-limit classes
 * (the fields given replace the running rule's; the others stay).
 *
 * Due `at` entries fire when the clock is advanced (timeline_tick from
 * POST /__admin/clock/advance), before each request is handled, and from
 * a worker thread that sleeps until the next one is due, so a timeline
 * also runs while nobody calls. Entries never fire twice; loading or
 * resetting the scenario starts them over.
 */
#ifndef CYBRID_TIMELINE_H
#define CYBRID_TIMELINE_H

#include "http.h"
#include "scenario.h"

#include <cjson/cJSON.h>

/*
 * Takes the scenario's timeline (copied) and starts it at the virtual
 * clock's current time. Call after the clock was reset and after
 * ratelimit_load (it reads the limits to change). Thread-safe.
 */
void timeline_load(const struct scenario *sc);

/* Fires every `at` entry that is due by the virtual clock. */
void timeline_tick(void);

/* Fires the `on` entries that req matches. */
void timeline_request(struct http_request *req);

/* Starts the worker. Returns 0 or MOCK_EIO with err filled. */
int timeline_start(struct mock_err *err);

/* Stops the worker and frees the entries. Safe when not started. */
void timeline_stop(void);

/* The entries with their state, for GET /__admin/scenario. */
cJSON *timeline_state_json(void);

#endif
