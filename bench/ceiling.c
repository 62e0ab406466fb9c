/*
 * ceiling: the benchmark's upper bound. A TLS server built from the same
 * civetweb, with the mock's TLS settings, whose one handler answers every
 * request with the same bytes the mock sends for GET /api/banks/{guid}
 * (its headers too, and like the mock in one write), without any
 * routing, token check or store lookup.
 *
 *   bench-ceiling HOST:PORT CERT KEY BODYFILE
 *
 * Prints "ready https://HOST:PORT" and serves until SIGINT or SIGTERM.
 */
#include "tls.h"

#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *body;
static size_t body_len;
static struct tls_material material;

static int
answer(struct mg_connection *conn, void *data)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    char *reply;
    int n;

    (void)data;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    reply = xmalloc(body_len + 512);
    n = snprintf(reply, 512,
                 "HTTP/1.1 200 OK\r\n"
                 "Strict-Transport-Security: max-age=31536000; "
                 "includeSubDomains\r\n"
                 "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n"
                 "Cache-Control: no-store\r\n"
                 "Content-Type: application/json; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Date: %s\r\n"
                 "Connection: keep-alive\r\n\r\n",
                 body_len, date);
    memcpy(reply + n, body, body_len);
    mg_write(conn, reply, (size_t)n + body_len);
    free(reply);
    return 200;
}

static int
init_ssl(void *ctx, void *user)
{
    struct mock_err err = {0};

    (void)user;
    return tls_configure_ctx(ctx, &material, &err) == 0 ? 1 : -1;
}

static int
read_body(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
        return -1;
    rewind(f);
    body = xmalloc((size_t)n + 1);
    body_len = fread(body, 1, (size_t)n, f);
    fclose(f);
    return 0;
}

int
main(int argc, char **argv)
{
    struct mg_callbacks cb;
    struct mg_context *ctx;
    struct mg_server_port port;
    char spec[160];
    sigset_t set;
    int sig;

    if (argc != 5 || read_body(argv[4]) != 0) {
        fprintf(stderr, "usage: bench-ceiling HOST:PORT CERT KEY BODY\n");
        return 2;
    }
    material.cert_file = argv[2];
    material.key_file = argv[3];
    snprintf(spec, sizeof(spec), "%ss", argv[1]);
    const char *options[] = {"listening_ports",
                             spec,
                             "num_threads",
                             "64",
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "tcp_nodelay",
                             "1",
                             NULL};
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    mg_init_library(MG_FEATURES_TLS);
    memset(&cb, 0, sizeof(cb));
    cb.init_ssl = init_ssl;
    ctx = mg_start(&cb, NULL, options);
    if (ctx == NULL || mg_get_server_ports(ctx, 1, &port) < 1) {
        fprintf(stderr, "bench-ceiling: cannot listen on %s\n", argv[1]);
        return 1;
    }
    mg_set_request_handler(ctx, "/", answer, NULL);
    printf("ready https://127.0.0.1:%d\n", port.port);
    fflush(stdout);
    sigwait(&set, &sig);
    mg_stop(ctx);
    mg_exit_library();
    free(body);
    return 0;
}
