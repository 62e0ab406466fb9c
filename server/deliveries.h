/*
 * deliveries: the bounded queue of webhook deliveries and the worker
 * threads that send them (the webhooks module's engine room).
 *
 * A queued delivery is sent when its due time (virtual clock) comes: the
 * worker reads the subscription's url and signing_key from the store,
 * signs the body as the tamper mode says, POSTs it through the outbound
 * module, records the request in the attempt log and updates the stored
 * delivery (state, attempt_count, response, next_attempt_at, ...) and the
 * subscription's deliveries_failing_since.
 */
#ifndef CYBRID_DELIVERIES_H
#define CYBRID_DELIVERIES_H

#include "scenario.h"
#include "webhooks.h"

#include <stddef.h>
#include <stdint.h>

/* A stored delivery to queue. Strings are copied. */
struct delivery_spec {
    const char *delivery, *subscription, *event, *event_type;
    const char *body; /* the event's JSON, sent as is on every attempt */
    size_t body_len;
    enum webhook_tamper tamper;
    int64_t due_ms; /* virtual time of the first attempt */
};

/*
 * Queues a delivery. Returns 0, or MOCK_ELIMIT when the queue is full:
 * the drop is counted and the stored delivery marked failed.
 */
int deliveries_enqueue(const struct delivery_spec *spec);

/* Takes the settings and empties the queue and the attempt log. */
void deliveries_load(const struct webhook_config *cfg);

/* Starts n worker threads (at most 8). 0 or MOCK_EIO with err filled. */
int deliveries_start(unsigned n, struct mock_err *err);

/*
 * Stops the workers (waiting up to wait_ms for requests in flight, then
 * cutting them short), records what is left as not attempted, and frees
 * the queue and the attempt log. Safe when not started.
 */
void deliveries_stop(int64_t wait_ms);

/* Wakes the workers: the virtual clock moved. */
void deliveries_wake(void);

/* Fills the counters. */
void deliveries_stats(struct webhooks_stats *out);

#endif
