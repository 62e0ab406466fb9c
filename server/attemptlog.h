/*
 * attemptlog: every webhook request the mock sent, for GET
 * /__admin/webhooks.
 *
 * One entry per request: when, which delivery, subscription and event,
 * the url, the receiver's status or the transport error, the duration,
 * the signature and timestamp sent and the tamper mode. The log keeps
 * the newest ATTEMPTLOG_MAX entries and counts the ones it let go. It
 * never holds a signing key. All calls are thread-safe.
 */
#ifndef CYBRID_ATTEMPTLOG_H
#define CYBRID_ATTEMPTLOG_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ATTEMPTLOG_MAX 10000

/* One request; strings are borrowed for the call and may be NULL. */
struct attemptlog_entry {
    int64_t time_ms; /* virtual time the answer came */
    const char *delivery, *subscription, *event, *event_type;
    const char *url;
    long status;       /* 0: no answer */
    const char *error; /* why no answer came */
    const char *answer;
    int64_t duration_ms;   /* the whole attempt */
    int64_t wait_ms;       /* the receiver's time to answer */
    const char *signature; /* NULL: sent unsigned */
    int64_t timestamp;     /* X-Cybrid-Timestamp sent */
    const char *tamper;
    const char *kind; /* delivery, duplicate, replay or not_attempted */
    unsigned attempt; /* the delivery's attempt number */
    int must_reject;  /* 1: tampered so a careful receiver refuses it */
};

/*
 * Empties the log and starts generation gen: later entries of another
 * generation (from work begun before the clear) are ignored.
 */
void attemptlog_clear(uint64_t gen);

/* Appends a copy of e if gen is the current generation. */
void attemptlog_add(const struct attemptlog_entry *e, uint64_t gen);

/* Appends a `not_attempted` entry for a delivery a stop left unsent. */
void attemptlog_abandoned(const char *delivery, const char *subscription,
                          const char *event, const char *event_type,
                          uint64_t gen);

/* Entries ever added since the last clear (including ones let go). */
size_t attemptlog_total(void);

/*
 * A JSON array of the entries, oldest first (caller frees). With key not
 * NULL, only the entries whose string field key equals value.
 */
cJSON *attemptlog_json(const char *key, const char *value);

/* Frees the log (at exit). */
void attemptlog_free(void);

#endif
