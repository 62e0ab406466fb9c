/*
 * webhooks: subscription events, their deliveries and the workers that
 * send them.
 *
 * webhooks_emit() stores a SubscriptionEvent and queues one delivery per
 * subscription of the event's organization. Worker threads (never a
 * request thread) take due deliveries from a bounded queue, sign the
 * event's JSON with the subscription's signing_key and POST it through
 * the outbound module. A 2xx answer completes a delivery; anything else
 * makes it `failing` with next_attempt_at on an exponential schedule, and
 * `failed` once its attempts run out. The schedule reads the virtual
 * clock, and webhooks_wake() (called when the clock moves) makes due
 * retries fire at once.
 *
 * A delivery may carry a tamper mode that makes every request of it one
 * a receiver must reject (see enum webhook_tamper). Every request sent is
 * recorded in the attempt log with the receiver's answer. Signing keys
 * are read from the store per attempt and wiped after use; they are never
 * logged.
 */
#ifndef CYBRID_WEBHOOKS_H
#define CYBRID_WEBHOOKS_H

#include "scenario.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Ways a delivery can be spoiled on purpose, to probe receivers. */
enum webhook_tamper {
    WEBHOOK_TAMPER_NONE,
    WEBHOOK_TAMPER_BAD_SIGNATURE,   /* signature of other bytes */
    WEBHOOK_TAMPER_UNSIGNED,        /* no X-Cybrid-Signature */
    WEBHOOK_TAMPER_WRONG_KEY,       /* signed with a random key */
    WEBHOOK_TAMPER_STALE_TIMESTAMP, /* X-Cybrid-Timestamp an hour old */
    WEBHOOK_TAMPER_DUPLICATE,       /* the same event sent twice at once */
    WEBHOOK_TAMPER_REPLAY,          /* the same request, byte for byte, sent
                                       again WEBHOOK_REPLAY_DELAY_MS later */
    WEBHOOK_TAMPERS
};

#define WEBHOOK_REPLAY_DELAY_MS 60000
#define WEBHOOK_STALE_SECONDS 3600
#define WEBHOOK_LOG_MAX 10000 /* attempts kept; older ones are dropped */

/* An event to emit. Strings are borrowed; NULL bank/object: none given. */
struct webhook_event {
    const char *event_type;
    const char *organization_guid;
    const char *bank_guid;   /* NULL: the organization's first bank */
    const char *object_guid; /* NULL: a new random guid */
    enum webhook_tamper tamper;
};

/* Counters for the admin API and metrics. */
struct webhooks_stats {
    size_t queued;    /* deliveries waiting or in flight */
    size_t dropped;   /* deliveries refused because the queue was full */
    size_t attempts;  /* requests sent since the last load */
    size_t abandoned; /* deliveries left unsent by a stop */
};

/* Parses a tamper mode name ("bad_signature", ...); 0 or MOCK_EINVAL. */
int webhook_tamper_parse(const char *name, enum webhook_tamper *out);
/* The name of a tamper mode ("none" for WEBHOOK_TAMPER_NONE). */
const char *webhook_tamper_name(enum webhook_tamper t);

/* 1 when type is one of the event types the Organization API sends. */
int webhooks_event_type_valid(const char *type);

/*
 * Milliseconds to wait after failed attempt number `attempt` (1-based):
 * first_delay * factor^(attempt-1), or -1 when no attempt follows.
 */
int64_t webhooks_retry_delay_ms(const struct webhook_config *cfg,
                                unsigned attempt);

/*
 * Takes the scenario's webhook settings, empties the queue and the
 * attempt log. Call after store_reset(): stored deliveries are gone.
 */
void webhooks_load(const struct scenario *sc);

/*
 * Starts n worker threads (0: none, deliveries only queue; for tests).
 * Returns 0 or MOCK_EIO with err filled.
 */
int webhooks_start(unsigned n, struct mock_err *err);

/*
 * Stops the workers: waits up to wait_ms for requests in flight, cuts the
 * rest short, and records every delivery still queued as not attempted.
 * Frees the queue and the log. Safe to call when not started.
 */
void webhooks_stop(int64_t wait_ms);

/* Tells the workers the virtual clock moved, so due retries fire now. */
void webhooks_wake(void);

/*
 * Stores the event and queues a delivery per live subscription of its
 * organization. On success returns 0 and, if out is not NULL, a copy of
 * the public event (caller frees). MOCK_EINVAL for an unknown event type
 * or organization, with err filled.
 */
int webhooks_emit(const struct webhook_event *ev, cJSON **out,
                  struct mock_err *err);

/*
 * Queues a new delivery of a stored event to a subscription of the same
 * organization. Returns 0 with *out the new public delivery (caller
 * frees), MOCK_ENOENT when either is unknown, or MOCK_ELIMIT when the
 * queue is full; err says which.
 */
int webhooks_redeliver(const char *event_guid, const char *subscription_guid,
                       cJSON **out, struct mock_err *err);

/* Fills the counters. */
void webhooks_stats(struct webhooks_stats *out);

#endif
