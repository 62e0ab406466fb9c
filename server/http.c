/*
 * http: civetweb setup, path matching, body reading and replies.
 *
 * civetweb runs with keep-alive on, URL decoding off (paths are decoded
 * here, refusing NUL and control bytes), its CORS automation off and no
 * access or error log. TLS is configured through the init_ssl hook with
 * the tls module, so civetweb never reads a certificate itself.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "http.h"

#include "clock.h"
#include "log.h"
#include "tls.h"

#include <civetweb.h>
#include <ctype.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HSTS_VALUE "max-age=31536000; includeSubDomains"

struct http_server {
    struct mg_context *ctx;
    struct http_options opt;
    struct tls_material tls;
    char url[128];
    char tls_error[512];
};

/* ---- routing ---------------------------------------------------------- */

/* Length of the segment at s (up to '/' or the end). */
static size_t
seg_len(const char *s)
{
    return strcspn(s, "/");
}

/* 1 when path matches pattern; captures {x} segments into params. */
static int
match_one(const char *pattern, const char *path, char params[][128],
          int *n_params)
{
    int n = 0;

    while (*pattern == '/' && *path == '/') {
        size_t pl, sl;

        pattern++;
        path++;
        pl = seg_len(pattern);
        sl = seg_len(path);
        if (pattern[0] == '{') {
            if (sl == 0 || sl >= 128 || n >= HTTP_MAX_PARAMS)
                return 0;
            memcpy(params[n], path, sl);
            params[n][sl] = '\0';
            n++;
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    /* One trailing slash on the path is the same route. */
    if (*pattern == '\0' && path[0] == '/' && path[1] == '\0')
        path++;
    if (*pattern != '\0' || *path != '\0')
        return 0;
    *n_params = n;
    return 1;
}

enum http_match
http_route_match(const struct http_route *routes, size_t n, const char *method,
                 const char *path, const struct http_route **found,
                 char params[][128], int *n_params, char *allow, size_t cap)
{
    char scratch[HTTP_MAX_PARAMS][128];
    int scratch_n = 0, path_found = 0;

    *found = NULL;
    *n_params = 0;
    if (cap > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!match_one(routes[i].pattern, path, scratch, &scratch_n))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *found = &routes[i];
            memcpy(params, scratch, sizeof(scratch));
            *n_params = scratch_n;
            return HTTP_MATCH_OK;
        }
        path_found = 1;
        if (cap > 0 && strstr(allow, routes[i].method) == NULL) {
            size_t used = strlen(allow);

            snprintf(allow + used, cap - used, "%s%s", used ? ", " : "",
                     routes[i].method);
        }
    }
    return path_found ? HTTP_MATCH_NO_METHOD : HTTP_MATCH_NO_PATH;
}

/* ---- request setup ---------------------------------------------------- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Bytes of the UTF-8 sequence at s[0..n), or 0 when it is not valid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        need = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        need = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        need = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (need > n)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return need;
}

int
http_path_decode(const char *src, char *dst, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; src[i]; i++) {
        int c = (unsigned char)src[i];

        if (c == '%') {
            int hi = hexval(src[i + 1]), lo = hi < 0 ? -1 : hexval(src[i + 2]);

            if (hi < 0 || lo < 0)
                return MOCK_EINVAL;
            c = hi * 16 + lo;
            i += 2;
            /* An encoded '/' would split a segment the client sent whole. */
            if (c == '/')
                return MOCK_EINVAL;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= cap)
            return MOCK_EINVAL;
        dst[o++] = (char)c;
    }
    if (cap == 0)
        return MOCK_EINVAL;
    dst[o] = '\0';
    /* The path is echoed in JSON answers, which must stay UTF-8. */
    for (size_t i = 0; i < o;) {
        size_t n = utf8_len((const unsigned char *)dst + i, o - i);

        if (n == 0)
            return MOCK_EINVAL;
        i += n;
    }
    return 0;
}

const char *
http_header(const struct http_request *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

void
http_header_add(struct http_request *req, const char *name, const char *value)
{
    struct http_header *h;

    if (req->n_extra >= HTTP_MAX_EXTRA)
        return;
    h = &req->extra[req->n_extra++];
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->value, sizeof(h->value), "%s", value);
}

/* ---- replies ---------------------------------------------------------- */

/* How much of a body of len bytes a truncated reply sends. */
static size_t
truncated_len(const struct http_request *req, size_t len)
{
    size_t keep;

    if (len == 0)
        return 0;
    keep = req->truncate_keep < 0 ? len / 2 : (size_t)req->truncate_keep;
    return keep < len ? keep : len - 1;
}

/* Whether civetweb will keep the connection: its rule, from the request. */
static int
keeps_alive(const struct http_request *req)
{
    const char *v = mg_get_header(req->conn, "Connection");
    const char *version = req->ri->http_version;

    if (req->close_after || req->truncate)
        return 0;
    if (v != NULL)
        return strcasestr(v, "keep-alive") != NULL;
    return version != NULL && strcmp(version, "1.1") == 0;
}

static void
put_header(struct strbuf *b, const char *name, const char *value)
{
    strbuf_puts(b, name);
    strbuf_put(b, ": ", 2);
    strbuf_puts(b, value);
    strbuf_put(b, "\r\n", 2);
}

/*
 * The reply goes out in one write: civetweb's header functions send each
 * header line as a TLS record and a system call of its own, which cost
 * more than the rest of a small request. The status line, Date and
 * Connection headers are the ones civetweb would have written.
 */
void
http_reply(struct http_request *req, int status, const char *type,
           const char *body, size_t len)
{
    struct mg_connection *c = req->conn;
    struct strbuf b = {0};
    size_t send_len = len;
    char num[32], date[64];
    time_t now = time(NULL);
    struct tm tm;
    int keep;

    if (req->status != 0 || req->aborted)
        return; /* one reply per request */
    if (req->truncate) {
        /* Content-Length promises the whole body; the close cuts it. */
        send_len = truncated_len(req, len);
    }
    keep = keeps_alive(req);
    if (!keep) {
        /* The header alone does not close: civetweb keeps any
         * connection whose request it can discard. */
        mg_disable_connection_keep_alive(c);
    }
    req->status = status;
    req->reply_bytes = len;
    if (strcmp(req->method, "HEAD") == 0)
        send_len = 0;
    b.cap = 512 + send_len;
    b.p = xmalloc(b.cap);
    strbuf_printf(&b, "HTTP/%s %d %s\r\n",
                  req->ri->http_version ? req->ri->http_version : "1.0", status,
                  mg_get_response_code_text(c, status));
    put_header(&b, "Strict-Transport-Security", HSTS_VALUE);
    put_header(&b, "X-Request-Id", req->request_id);
    put_header(&b, "Cache-Control", "no-store");
    for (int i = 0; i < req->n_extra; i++)
        put_header(&b, req->extra[i].name, req->extra[i].value);
    if (type != NULL)
        put_header(&b, "Content-Type", type);
    if (status != 204 && status != 304) {
        snprintf(num, sizeof(num), "%zu", len);
        put_header(&b, "Content-Length", num);
    }
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    put_header(&b, "Date", date);
    put_header(&b, "Connection", keep ? "keep-alive" : "close");
    strbuf_put(&b, "\r\n", 2);
    if (send_len > 0)
        strbuf_put(&b, body, send_len);
    mg_write(c, b.p, b.len);
    free(b.p);
}

void
http_reply_json(struct http_request *req, int status, cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);

    cJSON_Delete(json);
    if (text == NULL) {
        http_reply_error(req, 500, "error", "response could not be encoded");
        return;
    }
    http_reply(req, status, "application/json; charset=utf-8", text,
               strlen(text));
    cJSON_free(text);
}

void
http_reply_error(struct http_request *req, int status, const char *code,
                 const char *fmt, ...)
{
    char message[512];
    va_list ap;
    cJSON *body = cJSON_CreateObject();

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    cJSON_AddNumberToObject(body, "status", status);
    cJSON_AddStringToObject(body, "error_message", message);
    cJSON_AddStringToObject(body, "message_code", code);
    req->error_code = code;
    http_reply_json(req, status, body);
}

void
http_reply_empty(struct http_request *req, int status)
{
    http_reply(req, status, NULL, NULL, 0);
}

void
http_reply_list(struct http_request *req, cJSON *objects, size_t total,
                const struct http_page *pg)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddNumberToObject(body, "total", (double)total);
    cJSON_AddNumberToObject(body, "page", (double)pg->page);
    cJSON_AddNumberToObject(body, "per_page", (double)pg->per_page);
    cJSON_AddItemToObject(body, "objects", objects);
    http_reply_json(req, 200, body);
}

/* ---- query ------------------------------------------------------------ */

int
http_query_param(const struct http_request *req, const char *name, char *out,
                 size_t cap)
{
    int n;

    if (cap == 0)
        return MOCK_EINVAL;
    out[0] = '\0';
    if (req->query == NULL)
        return MOCK_ENOENT;
    n = mg_get_var(req->query, strlen(req->query), name, out, cap);
    if (n == -1)
        return MOCK_ENOENT;
    if (n < 0 || (size_t)n != strlen(out))
        return MOCK_EINVAL;
    for (int i = 0; i < n; i++) {
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            return MOCK_EINVAL;
    }
    return n;
}

/*
 * Reads a decimal query parameter within [min, max] into *out (def when
 * absent). Returns 0, or replies 400 and returns 400.
 */
static int
query_size(struct http_request *req, const char *name, size_t min, size_t max,
           size_t def, size_t *out)
{
    char buf[32];
    int n = http_query_param(req, name, buf, sizeof(buf));
    size_t v = 0;

    *out = def;
    if (n == MOCK_ENOENT)
        return 0;
    if (n <= 0 || n > 9)
        goto bad;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)buf[i]))
            goto bad;
        v = v * 10 + (size_t)(buf[i] - '0');
    }
    if (v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    http_reply_error(req, 400, "invalid_parameter",
                     "%s must be an integer from %zu to %zu", name, min, max);
    return 400;
}

int
http_page_read(struct http_request *req, struct http_page *pg)
{
    if (query_size(req, "page", 0, 999999999, 0, &pg->page) != 0)
        return 400;
    return query_size(req, "per_page", 1, HTTP_PER_PAGE_MAX,
                      HTTP_PER_PAGE_DEFAULT, &pg->per_page);
}

/* ---- bodies ----------------------------------------------------------- */

/* Bytes of a refused body read and dropped before the connection closes. */
#define DISCARD_MAX (4u << 20)

/*
 * Answers 413 and closes the connection, after reading and dropping up
 * to DISCARD_MAX more of the body (a lingering close): closing with
 * unread bytes makes the kernel send a reset, which can destroy the
 * answer before the client reads it. Each read waits at most the
 * request timeout, so a client that announces a body and never sends it
 * holds the worker that long.
 */
static int
refuse_too_large(struct http_request *req, size_t max)
{
    char sink[16384];
    size_t dropped = 0;
    int n;

    req->close_after = 1;
    http_reply_error(req, 413, "payload_too_large",
                     "request body is larger than %zu bytes", max);
    while (dropped < DISCARD_MAX &&
           (n = mg_read(req->conn, sink, sizeof(sink))) > 0)
        dropped += (size_t)n;
    return 413;
}

int
http_read_body(struct http_request *req)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(req->conn));
    size_t max = srv->opt.max_body;
    long long declared = req->ri->content_length;
    size_t cap, len = 0;
    char *buf;

    if (req->body != NULL)
        return 0;
    if (declared > (long long)max)
        return refuse_too_large(req, max);
    cap = declared >= 0 ? (size_t)declared : 4096;
    buf = xmalloc(cap + 1);
    for (;;) {
        int n;

        if (len == cap) {
            if (declared >= 0 || cap > max)
                break;
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
        n = mg_read(req->conn, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        free(buf);
        return refuse_too_large(req, max);
    }
    if (declared >= 0 && len != (size_t)declared) {
        free(buf);
        req->close_after = 1;
        http_reply_error(req, 400, "invalid_parameter",
                         "request body is shorter than its Content-Length");
        return 400;
    }
    buf[len] = '\0';
    req->body = buf;
    req->body_len = len;
    return 0;
}

static int
is_json_type(const char *type)
{
    size_t n = strlen("application/json");

    if (type == NULL || strncasecmp(type, "application/json", n) != 0)
        return 0;
    return type[n] == '\0' || type[n] == ';' || type[n] == ' ';
}

/* 1 when some object in the tree repeats a key. */
static int
has_duplicate_key(const cJSON *node)
{
    for (const cJSON *a = node ? node->child : NULL; a; a = a->next) {
        if (cJSON_IsObject(node)) {
            for (const cJSON *b = a->next; b; b = b->next) {
                if (strcmp(a->string, b->string) == 0)
                    return 1;
            }
        }
        if (has_duplicate_key(a))
            return 1;
    }
    return 0;
}

/*
 * The offset of the first byte cJSON would let through that JSON text
 * must not hold: invalid UTF-8, a NUL byte, a control byte or a \u0000
 * escape inside a string (cJSON would cut the string there). len when
 * there is none.
 */
static size_t
json_text_problem(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    int in_string = 0;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i, len - i);

        if (n == 0 || s[i] == '\0' || (in_string && s[i] < 0x20))
            return i;
        if (in_string && s[i] == '\\') {
            if (i + 5 < len && s[i + 1] == 'u' &&
                memcmp(s + i + 2, "0000", 4) == 0)
                return i;
            n = 2; /* an escaped byte never ends the string */
        } else if (s[i] == '"') {
            in_string = !in_string;
        }
        i += n;
    }
    return len;
}

cJSON *
http_json_parse(const char *text, size_t len, size_t *at)
{
    const char *end = NULL;
    cJSON *json;

    *at = json_text_problem(text, len);
    if (*at < len)
        return NULL;
    *at = 0;
    /* The length counts the terminating NUL, as cJSON expects. */
    json = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (json == NULL) {
        *at = end != NULL && end >= text ? (size_t)(end - text) : 0;
        return NULL;
    }
    if (!cJSON_IsObject(json) || has_duplicate_key(json)) {
        cJSON_Delete(json);
        *at = SIZE_MAX;
        return NULL;
    }
    return json;
}

cJSON *
http_json_body(struct http_request *req)
{
    size_t at;
    cJSON *json;

    if (!is_json_type(http_header(req, "Content-Type"))) {
        http_reply_error(req, 415, "invalid_content_type",
                         "Content-Type must be application/json");
        return NULL;
    }
    if (http_read_body(req) != 0)
        return NULL;
    json = http_json_parse(req->body, req->body_len, &at);
    if (json == NULL && at != SIZE_MAX) {
        http_reply_error(req, 400, "invalid_json",
                         "request body is not valid JSON (near byte %zu)", at);
        return NULL;
    }
    if (json == NULL) {
        http_reply_error(req, 400, "invalid_json",
                         "request body must be a JSON object without "
                         "duplicate keys");
        return NULL;
    }
    return json;
}

/* ---- dropped and held connections ------------------------------------ */

/*
 * civetweb gives a request handler no access to its socket, so the
 * socket of the connection a worker thread serves is learnt from the TLS
 * handshake: OpenSSL's info callback runs on the worker thread that
 * accepts the connection (civetweb performs SSL_accept there, and keeps a
 * connection on that thread for all of its requests), and SSL_get_fd()
 * names the socket. http_abort checks the socket's peer port before
 * touching it.
 */
static _Thread_local int conn_fd = -1;

static void
on_ssl_info(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_HANDSHAKE_START)
        conn_fd = SSL_get_fd(ssl);
}

/* The socket of req's connection, or -1 when it cannot be told. */
static int
request_fd(const struct http_request *req)
{
    struct sockaddr_storage ss;
    socklen_t n = sizeof(ss);
    int port = -1;

    if (conn_fd < 0 || getpeername(conn_fd, (struct sockaddr *)&ss, &n) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return port == req->ri->remote_port ? conn_fd : -1;
}

void
http_abort(struct http_request *req)
{
    struct linger lg = {1, 0};
    int fd = request_fd(req);

    mg_disable_connection_keep_alive(req->conn);
    req->aborted = 1;
    if (fd < 0) {
        log_msg(LOG_WARN, "http", "abort: socket unknown; closing instead");
        return;
    }
    /* Linger 0: civetweb's close() then sends a reset. */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    shutdown(fd, SHUT_RDWR);
}

int
http_hold(struct http_request *req, int64_t ms, int (*stop)(void))
{
    int64_t end = clock_mono_us() + ms * 1000;
    int fd = request_fd(req);

    while (clock_mono_us() < end && (stop == NULL || !stop())) {
        struct pollfd p = {fd, POLLRDHUP, 0};
        int64_t left = (end - clock_mono_us()) / 1000;

        if (fd < 0) {
            usleep(100000);
            continue;
        }
        if (poll(&p, 1, left < 100 ? (int)(left > 0 ? left : 0) : 100) > 0 &&
            (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0)
            return 1;
    }
    return 0;
}

/* ---- civetweb glue ---------------------------------------------------- */

static void
fill_request(struct http_request *req, struct mg_connection *conn)
{
    memset(req, 0, sizeof(*req));
    req->conn = conn;
    req->ri = mg_get_request_info(conn);
    /* civetweb reports errors before the request line is parsed too. */
    req->method = req->ri->request_method ? req->ri->request_method : "-";
    req->query = req->ri->query_string;
    req->start_us = clock_mono_us();
    snprintf(req->client_addr, sizeof(req->client_addr), "%s",
             req->ri->remote_addr);
    guid_new(req->request_id);
}

/*
 * Refuses what must not reach a handler: a malformed path, a body framed
 * both ways (Transfer-Encoding with Content-Length, the request
 * smuggling pattern of RFC 9112 6.3), more headers than civetweb keeps
 * (it ignores the rest). Returns 1 when it replied.
 */
static int
refuse_early(struct http_request *req)
{
    const char *raw =
        req->ri->local_uri_raw ? req->ri->local_uri_raw : req->ri->local_uri;

    req->close_after = 1;
    if (raw == NULL || http_path_decode(raw, req->path, sizeof(req->path))) {
        snprintf(req->path, sizeof(req->path), "(invalid)");
        http_reply_error(req, 400, "invalid_parameter",
                         "the request path is malformed");
    } else if (http_header(req, "Transfer-Encoding") != NULL &&
               http_header(req, "Content-Length") != NULL) {
        http_reply_error(req, 400, "invalid_request",
                         "Transfer-Encoding and Content-Length together are "
                         "refused");
    } else if (req->ri->num_headers > HTTP_MAX_HEADERS) {
        http_reply_error(req, 431, "invalid_request",
                         "more than %d request headers", HTTP_MAX_HEADERS);
    } else {
        req->close_after = 0;
        return 0;
    }
    return 1;
}

static int
on_begin_request(struct mg_connection *conn)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    struct http_request req;

    fill_request(&req, conn);
    if (refuse_early(&req)) {
        if (srv->opt.refused != NULL)
            srv->opt.refused(&req);
    } else {
        srv->opt.dispatch(&req);
    }
    if (req.status == 0 && !req.aborted)
        http_reply_error(&req, 500, "error", "no reply was produced");
    free(req.body);
    /* Above 0 tells civetweb the request was handled. */
    return req.aborted ? 1 : req.status;
}

/* civetweb's own error pages (bad request lines, oversize headers). */
static int
on_http_error(struct mg_connection *conn, int status, const char *msg)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    struct http_request req;
    char text[256];

    fill_request(&req, conn);
    snprintf(req.path, sizeof(req.path), "(unparsed)");
    snprintf(text, sizeof(text), "%s", msg ? msg : "request refused");
    log_scrub(text, sizeof(text));
    req.close_after = 1;
    http_reply_error(&req, status,
                     status == 413 ? "payload_too_large" : "invalid_request",
                     "%s", text);
    if (srv->opt.refused != NULL)
        srv->opt.refused(&req);
    return 0;
}

static int
on_log_message(const struct mg_connection *conn, const char *message)
{
    /*
     * A client that drops a connection during the TLS handshake (a port
     * probe, a load tool at its end) is routine, not a warning.
     */
    int routine = strstr(message, "sslize error") != NULL;

    log_msg(routine ? LOG_DEBUG : LOG_WARN, "civetweb", "%s", message);
    return 1;
}

static int
on_init_ssl(void *ssl_ctx, void *user_data)
{
    struct http_server *srv = user_data;
    struct mock_err err = {0};

    if (tls_configure_ctx(ssl_ctx, &srv->tls, &err) != 0) {
        snprintf(srv->tls_error, sizeof(srv->tls_error), "%s", err.msg);
        return -1;
    }
    SSL_CTX_set_info_callback(ssl_ctx, on_ssl_info);
    return 1;
}

/* "127.0.0.1:8443" -> "127.0.0.1:8443s"; "[::1]:0" -> "[::1]:0s". */
static int
listen_spec(const char *listen, char *out, size_t cap, struct mock_err *err)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long port;

    if (colon == NULL || colon == listen)
        return err_set(err, MOCK_EINVAL, "--listen wants HOST:PORT, got \"%s\"",
                       listen);
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return err_set(err, MOCK_EINVAL, "--listen port must be 0..65535");
    if (listen[0] == '[' && colon[-1] != ']')
        return err_set(err, MOCK_EINVAL, "--listen: bad IPv6 address");
    snprintf(out, cap, "%ss", listen);
    return 0;
}

void
http_local_url(const char *listen, int port, char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':');
    size_t host_len = colon ? (size_t)(colon - listen) : strlen(listen);
    char host[96];

    snprintf(host, sizeof(host), "%.*s", (int)host_len, listen);
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof(host), "[::1]");
    if (port < 0)
        port = colon ? atoi(colon + 1) : 0;
    snprintf(out, cap, "https://%s:%d", host, port);
}

struct http_server *
http_start(const struct http_options *opt, struct mock_err *err)
{
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    struct mg_callbacks cb;
    struct mg_server_port ports[4];
    char spec[160], threads[16], timeout[24];
    int n;

    srv->opt = *opt;
    srv->tls.cert_file = xstrdup(opt->cert_file);
    srv->tls.key_file = xstrdup(opt->key_file);
    if (listen_spec(opt->listen, spec, sizeof(spec), err) != 0)
        goto fail;
    snprintf(threads, sizeof(threads), "%d", opt->threads);
    snprintf(timeout, sizeof(timeout), "%zu",
             opt->request_timeout_ms ? opt->request_timeout_ms : 10000);
    const char *options[] = {"listening_ports",
                             spec,
                             "num_threads",
                             threads,
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "request_timeout_ms",
                             timeout,
                             "tcp_nodelay",
                             "1",
                             "decode_url",
                             "no",
                             "ssl_protocol_version",
                             "4",
                             "access_control_allow_origin",
                             "",
                             "access_control_allow_methods",
                             "",
                             "access_control_allow_headers",
                             "",
                             "enable_directory_listing",
                             "no",
                             NULL};

    memset(&cb, 0, sizeof(cb));
    cb.begin_request = on_begin_request;
    cb.http_error = on_http_error;
    cb.log_message = on_log_message;
    cb.init_ssl = on_init_ssl;
    srv->ctx = mg_start(&cb, srv, options);
    if (srv->ctx == NULL) {
        err_set(err, MOCK_EIO, "cannot listen on %s%s%s", opt->listen,
                srv->tls_error[0] ? ": " : " (address in use or invalid)",
                srv->tls_error);
        goto fail;
    }
    n = mg_get_server_ports(srv->ctx, 4, ports);
    if (n < 1) {
        err_set(err, MOCK_EIO, "no listening port after start");
        goto fail;
    }
    http_local_url(srv->opt.listen, ports[0].port, srv->url, sizeof(srv->url));
    return srv;
fail:
    http_stop(srv);
    return NULL;
}

const char *
http_url(const struct http_server *srv)
{
    return srv->url;
}

void
http_stop(struct http_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->ctx != NULL)
        mg_stop(srv->ctx);
    tls_material_free(&srv->tls);
    free(srv);
}
