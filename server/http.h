/*
 * http: the HTTPS listener, the router and the reply helpers.
 *
 * civetweb parses HTTP and runs TLS; this module hands every request to
 * one dispatch function (see app.h) through civetweb's begin_request hook,
 * before civetweb's own handling, so nothing (CORS preflights included)
 * is answered behind our back. civetweb's access and error logs stay off;
 * its messages go through the log module.
 *
 * Every reply goes through http_reply(), which adds Strict-Transport-
 * Security, X-Request-Id, Cache-Control and any headers queued with
 * http_header_add(). Errors use Cybrid's body:
 * {"status": N, "error_message": "...", "message_code": "..."}.
 */
#ifndef CYBRID_HTTP_H
#define CYBRID_HTTP_H

#include "util.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_EXTRA 12
#define HTTP_PATH_MAX 1024
#define HTTP_MAX_HEADERS 63 /* more headers than this get 431 */

struct mg_connection;
struct mg_request_info;
struct http_route;
struct http_server;

struct http_header {
    char name[48];
    char value[512];
};

/* One request in flight; lives on the stack of the worker thread. */
struct http_request {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const char *method;
    char path[HTTP_PATH_MAX]; /* decoded path, without the query */
    const char *query;        /* raw query string, or NULL */
    char *body;               /* NUL-terminated, owned; NULL until read */
    size_t body_len;
    char params[HTTP_MAX_PARAMS][128]; /* the {..} segments of the route */
    int n_params;
    const struct http_route *route;
    char client_addr[48];
    char request_id[33];
    int64_t start_us;
    int status; /* status sent; 0 until the reply */
    size_t reply_bytes;
    int close_after; /* 1: send Connection: close */
    struct http_header extra[HTTP_MAX_EXTRA];
    int n_extra;
    const char *token_type;  /* set once authenticated: for logs */
    const char *error_code;  /* message_code of an error reply */
    void *app;               /* the dispatcher's per-request state */
    int aborted;             /* 1: dropped with no answer (http_abort) */
    int truncate;            /* 1: the reply's body is cut short */
    long long truncate_keep; /* bytes of it sent; -1: half */
};

typedef void (*http_handler_fn)(struct http_request *req);

/* One row of a routing table. */
struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/banks/{bank_guid}"; {x} captures one
                            segment; a trailing slash is ignored */
    http_handler_fn handler;
    const char *name;   /* short stable name, for metrics */
    const void *policy; /* what the dispatcher checks first, or NULL */
};

enum http_match {
    HTTP_MATCH_OK,
    HTTP_MATCH_NO_PATH,   /* 404 */
    HTTP_MATCH_NO_METHOD, /* 405; allow lists the methods */
};

/*
 * Finds the route for method and path in routes[0..n). On a match fills
 * params with the captured segments. On a path match with another method
 * writes the allowed methods, comma separated, into allow (size cap).
 */
enum http_match http_route_match(const struct http_route *routes, size_t n,
                                 const char *method, const char *path,
                                 const struct http_route **found,
                                 char params[][128], int *n_params, char *allow,
                                 size_t cap);

struct http_options {
    const char *listen;    /* "HOST:PORT" */
    const char *cert_file; /* served certificate chain */
    const char *key_file;
    int threads;
    size_t max_body; /* bytes; larger bodies get 413 */
    /* ms a client has to send a request (0: 10000); slower: closed */
    size_t request_timeout_ms;
    void (*dispatch)(struct http_request *req);
    /* Told of each request answered before dispatch (may be NULL). */
    void (*refused)(struct http_request *req);
};

/*
 * Starts listening. Returns the server or NULL with err filled (a bad
 * address, a port in use, a certificate that does not load).
 */
struct http_server *http_start(const struct http_options *opt,
                               struct mock_err *err);
/* The base URL actually served, e.g. "https://127.0.0.1:40213". */
const char *http_url(const struct http_server *srv);
/*
 * The URL a client on this machine uses to reach a listen address:
 * "0.0.0.0:8443" -> "https://127.0.0.1:8443". A port below 0 takes the
 * port from listen.
 */
void http_local_url(const char *listen, int port, char *out, size_t cap);
/* Stops accepting, waits for workers, frees. NULL-safe. */
void http_stop(struct http_server *srv);

/* The request's header value, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* Queues a header for the reply; silently keeps the first 12. */
void http_header_add(struct http_request *req, const char *name,
                     const char *value);

/*
 * Reads the body into req->body. Returns 0, or replies 413 (too large) or
 * 400 (short read) itself and returns the status.
 */
int http_read_body(struct http_request *req);

/*
 * Parses text[0..len) (text[len] must be NUL) as a JSON object in which no
 * object repeats a key. Returns the object (caller frees), or NULL with
 * *at the byte offset near a syntax error, or SIZE_MAX when the JSON is
 * valid but not such an object. Nesting deeper than cJSON's limit (1000),
 * invalid UTF-8, a NUL byte and, inside a string, a raw control byte or a
 * \u0000 escape are syntax errors.
 */
cJSON *http_json_parse(const char *text, size_t len, size_t *at);

/*
 * Percent-decodes a request path src into dst (size cap). Returns 0, or
 * MOCK_EINVAL for a malformed escape, a NUL or control byte (encoded or
 * not), an encoded '/' (%2F), a result that is not UTF-8, or one that
 * does not fit.
 */
int http_path_decode(const char *src, char *dst, size_t cap);

/*
 * Reads and parses a JSON object body. Replies 415 for another content
 * type, 400 invalid_json for malformed JSON, a non-object or a duplicate
 * key, and returns NULL; otherwise returns the object (caller frees).
 */
cJSON *http_json_body(struct http_request *req);

/*
 * Reads query parameter name (the first occurrence, URL-decoded) into out
 * (size cap). Returns its length, MOCK_ENOENT when absent, MOCK_EINVAL
 * when it does not fit or decodes to a control byte.
 */
int http_query_param(const struct http_request *req, const char *name,
                     char *out, size_t cap);

#define HTTP_PER_PAGE_DEFAULT 10
#define HTTP_PER_PAGE_MAX 100

/* A list request's page: page 0-based, per_page 1..100. */
struct http_page {
    size_t page;
    size_t per_page;
};

/*
 * Reads the query's page (>= 0, default 0) and per_page (1..100, default
 * 10). On a bad value replies 400 invalid_parameter and returns 400.
 */
int http_page_read(struct http_request *req, struct http_page *pg);

/*
 * Sends 200 with Cybrid's list body {"total", "page", "per_page",
 * "objects"}; objects (a JSON array) is freed here.
 */
void http_reply_list(struct http_request *req, cJSON *objects, size_t total,
                     const struct http_page *pg);

/* Sends status with body bytes of the given type. */
void http_reply(struct http_request *req, int status, const char *type,
                const char *body, size_t len);
/* Sends json (freed here) with the given status. */
void http_reply_json(struct http_request *req, int status, cJSON *json);
/* Sends a Cybrid error body. */
void http_reply_error(struct http_request *req, int status, const char *code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sends a status with no body (204). */
void http_reply_empty(struct http_request *req, int status);

/*
 * Drops the connection with no answer: the socket is shut down and set
 * to close with a reset (SO_LINGER 0), and civetweb closes it once the
 * request returns. Marks req aborted; nothing more is sent.
 */
void http_abort(struct http_request *req);

/*
 * Holds the request without answering until the client closes its side
 * of the connection (returns 1), ms milliseconds pass, or stop() returns
 * non-zero (both return 0). stop is polled every 100 ms; NULL: never.
 */
int http_hold(struct http_request *req, int64_t ms, int (*stop)(void));

#endif
