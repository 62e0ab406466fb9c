/*
 * outbound: one signed webhook POST, sent with libcurl.
 *
 * The webhooks module decides what to send and when; this module signs
 * bytes (HMAC-SHA256, lowercase hex) and sends one request: certificate
 * and host name checks on (the system's CAs plus an optional extra CA
 * file), redirects never followed, a total timeout, and only https://
 * unless plain http is allowed. Each sending thread owns one struct
 * outbound, which keeps libcurl's connection cache between requests.
 */
#ifndef CYBRID_OUTBOUND_H
#define CYBRID_OUTBOUND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBOUND_SIG_LEN 64 /* hex characters of an HMAC-SHA256 */

struct outbound;

/* What to send. Strings are borrowed for the call. */
struct outbound_request {
    const char *url;
    const char *body;
    size_t body_len;
    const char *signature; /* X-Cybrid-Signature, or NULL to leave out */
    const char *event_id;  /* X-Cybrid-Event-Id */
    int64_t timestamp;     /* X-Cybrid-Timestamp, epoch seconds */
    int64_t timeout_ms;
    const char *ca_file; /* extra trusted CA file, or NULL */
    int verify_tls;      /* 0: no certificate or host name checks */
    int allow_http;      /* 1: http:// is allowed besides https:// */
};

/* How it went. */
struct outbound_result {
    long status;         /* the receiver's HTTP status; 0 when none came */
    char error[256];     /* why no status came; "" when one did */
    char answer[256];    /* the start of the receiver's body, printable */
    int64_t duration_ms; /* the whole attempt, connection included */
    int64_t wait_ms;     /* connection ready to the answer's first byte
                            (or to the end, when no answer came): the
                            receiver's own time */
};

/*
 * A sender for one thread (never NULL); free with outbound_free. libcurl
 * is loaded by the first request sent, not here.
 */
struct outbound *outbound_new(void);
/* NULL-safe. */
void outbound_free(struct outbound *o);

/*
 * Sends rq and fills out (out->error says so when libcurl cannot be
 * loaded). A transfer still running when the monotonic
 * clock passes *abort_at (if abort_at and *abort_at are not 0) is cut
 * short and reported as an error.
 */
void outbound_post(struct outbound *o, const struct outbound_request *rq,
                   const _Atomic int64_t *abort_at,
                   struct outbound_result *out);

/*
 * Writes the lowercase hex HMAC-SHA256 of body[0..len), keyed with
 * key[0..key_len), and a NUL into out.
 */
void outbound_sign(const void *key, size_t key_len, const void *body,
                   size_t len, char out[OUTBOUND_SIG_LEN + 1]);

#endif
