/*
 * outbound: libcurl easy handles, one per sending thread, reset before
 * each request so no option leaks from one delivery into the next.
 *
 * The extra CA file is added to the system's trust store through
 * CURLOPT_SSL_CTX_FUNCTION (libcurl is built on OpenSSL here), because
 * CURLOPT_CAINFO would replace the system's CAs instead of adding to
 * them. CURLOPT_NOSIGNAL is set: the mock is multi-threaded. A handle is
 * made by its thread's first request, so libcurl is loaded (curlapi.h)
 * only when a webhook is first sent.
 */
#include "outbound.h"

#include "clock.h"
#include "curlapi.h"
#include "util.h"

#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

struct outbound {
    CURL *curl;
};

/* What the callbacks of one transfer share. */
struct transfer {
    char answer[256];
    size_t answer_len;
    const _Atomic int64_t *abort_at;
    const char *ca_file;
};

struct outbound *
outbound_new(void)
{
    return xcalloc(1, sizeof(struct outbound));
}

void
outbound_free(struct outbound *o)
{
    if (o == NULL)
        return;
    if (o->curl != NULL)
        curl_api()->easy_cleanup(o->curl);
    free(o);
}

void
outbound_sign(const void *key, size_t key_len, const void *body, size_t len,
              char out[OUTBOUND_SIG_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    if (HMAC(EVP_sha256(), key, (int)key_len, body, len, mac, &mac_len) ==
            NULL ||
        mac_len != 32) {
        fprintf(stderr, "cybrid-mock: HMAC-SHA256 failed\n");
        abort();
    }
    hex_encode(mac, mac_len, out);
    OPENSSL_cleanse(mac, sizeof(mac));
}

/* Keeps the start of the receiver's answer, printable bytes only. */
static size_t
on_write(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;

    for (size_t i = 0; i < len && t->answer_len + 1 < sizeof(t->answer); i++) {
        unsigned char c = (unsigned char)data[i];

        t->answer[t->answer_len++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    t->answer[t->answer_len] = '\0';
    return len;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    struct transfer *t = arg;
    int64_t at = t->abort_at ? atomic_load(t->abort_at) : 0;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return at != 0 && clock_mono_ms() >= at;
}

/* Adds the extra CA file to the certificates OpenSSL trusts. */
static CURLcode
on_ssl_ctx(CURL *curl, void *ssl_ctx, void *arg)
{
    struct transfer *t = arg;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);

    (void)curl;
    if (t->ca_file == NULL)
        return CURLE_OK;
    if (X509_STORE_load_file(store, t->ca_file) != 1)
        return CURLE_SSL_CACERT_BADFILE;
    return CURLE_OK;
}

static struct curl_slist *
make_headers(const struct curl_api *api, const struct outbound_request *rq)
{
    struct curl_slist *h = NULL;
    char line[160];

    h = api->slist_append(h, "Content-Type: application/json");
    h = api->slist_append(h, "Expect:");
    if (rq->signature != NULL) {
        snprintf(line, sizeof(line), "X-Cybrid-Signature: %s", rq->signature);
        h = api->slist_append(h, line);
    }
    snprintf(line, sizeof(line), "X-Cybrid-Event-Id: %s", rq->event_id);
    h = api->slist_append(h, line);
    snprintf(line, sizeof(line), "X-Cybrid-Timestamp: %lld",
             (long long)rq->timestamp);
    return api->slist_append(h, line);
}

static void
set_options(const struct curl_api *api, CURL *c,
            const struct outbound_request *rq, struct transfer *t,
            struct curl_slist *headers, char *errbuf)
{
    api->easy_setopt(c, CURLOPT_URL, rq->url);
    api->easy_setopt(c, CURLOPT_POST, 1L);
    api->easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    api->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    api->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    api->easy_setopt(c, CURLOPT_USERAGENT,
                     "cybrid-mock-webhooks/" CYBRID_MOCK_VERSION);
    api->easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     rq->allow_http ? "https,http" : "https");
    api->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
    api->easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    api->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, rq->verify_tls ? 1L : 0L);
    api->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, rq->verify_tls ? 2L : 0L);
    api->easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    api->easy_setopt(c, CURLOPT_SSL_CTX_DATA, t);
    api->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    api->easy_setopt(c, CURLOPT_WRITEDATA, t);
    api->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    api->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    api->easy_setopt(c, CURLOPT_XFERINFODATA, t);
    api->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

/*
 * The receiver's share of a transfer: from the connection being ready
 * (TCP and TLS handshakes done; at once on a reused connection) to the
 * answer's first byte, or to the transfer's end when none came. DNS,
 * connecting and the handshake are the mock's and the network's time,
 * and under a slow run (valgrind) they alone can take seconds. The
 * request's own bytes are counted: curl marks "pre-transfer" only after
 * sending them, by which time a receiver may already be at work.
 */
static int64_t
receiver_wait_ms(const struct curl_api *api, CURL *c)
{
    curl_off_t connected = 0, handshaken = 0, first = 0, total = 0;

    api->easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
    api->easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &handshaken);
    api->easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &first);
    api->easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
    if (handshaken > connected)
        connected = handshaken;
    if (first <= 0)
        first = total;
    return first > connected ? (int64_t)(first - connected) / 1000 : 0;
}

void
outbound_post(struct outbound *o, const struct outbound_request *rq,
              const _Atomic int64_t *abort_at, struct outbound_result *out)
{
    const struct curl_api *api = curl_api();
    struct transfer t = {.abort_at = abort_at, .ca_file = rq->ca_file};
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE] = "";
    int64_t started;
    CURLcode rc;

    memset(out, 0, sizeof(*out));
    if (api == NULL ||
        (o->curl == NULL && (o->curl = api->easy_init()) == NULL)) {
        snprintf(out->error, sizeof(out->error), "%s",
                 api == NULL ? curl_api_error() : "curl_easy_init failed");
        return;
    }
    headers = make_headers(api, rq);
    api->easy_reset(o->curl);
    set_options(api, o->curl, rq, &t, headers, errbuf);
    started = clock_mono_ms();
    rc = api->easy_perform(o->curl);
    out->duration_ms = clock_mono_ms() - started;
    out->wait_ms = receiver_wait_ms(api, o->curl);
    if (rc == CURLE_OK) {
        api->easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        snprintf(out->error, sizeof(out->error), "%s%s%s",
                 api->easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    }
    memcpy(out->answer, t.answer, sizeof(out->answer));
    api->slist_free_all(headers);
}
