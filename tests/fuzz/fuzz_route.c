/*
 * fuzz_route: the path decoder and the router's matcher.
 *
 * The first byte picks a method; the rest is a raw request path. It is
 * percent-decoded as a request's path is (http_path_decode) and, when it
 * decodes, matched against every route table the server serves plus a
 * few patterns with several captures. A match must capture only
 * non-empty segments without '/', and a 405 must name methods.
 */
#include "admin.h"
#include "bank.h"
#include "customer.h"
#include "identity.h"
#include "metrics.h"
#include "organization.h"
#include "subevents.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
nothing(struct http_request *req)
{
    (void)req;
}

static const struct http_route extra[] = {
    {"GET", "/a/{x}/b/{y}/c/{z}/d/{w}", nothing, "four", NULL},
    {"PUT", "/a/{x}/b/{y}", nothing, "two", NULL},
    {"GET", "/", nothing, "root", NULL},
    {"DELETE", "/{x}", nothing, "one", NULL},
};

static struct http_route table[256];
static size_t n_table;

static void
add(const struct http_route *r, size_t n)
{
    for (size_t i = 0; i < n && n_table < 256; i++)
        table[n_table++] = r[i];
}

static void
build_table(void)
{
    const struct http_route *r;
    size_t n;

    r = admin_routes(&n);
    add(r, n);
    r = metrics_routes(&n);
    add(r, n);
    r = identity_routes(&n);
    add(r, n);
    r = organization_routes(&n);
    add(r, n);
    r = subevents_routes(&n);
    add(r, n);
    r = bank_routes(&n);
    add(r, n);
    r = customer_routes(&n);
    add(r, n);
    add(extra, sizeof(extra) / sizeof(extra[0]));
}

static void
check_match(const char *method, const char *path)
{
    const struct http_route *found;
    char params[HTTP_MAX_PARAMS][128], allow[128];
    int n = -1;
    enum http_match m = http_route_match(table, n_table, method, path, &found,
                                         params, &n, allow, sizeof(allow));

    if (m == HTTP_MATCH_OK) {
        if (found == NULL || n < 0 || n > HTTP_MAX_PARAMS)
            abort();
        for (int i = 0; i < n; i++) {
            if (params[i][0] == '\0' || strchr(params[i], '/') != NULL)
                abort();
        }
    } else if (m == HTTP_MATCH_NO_METHOD && allow[0] == '\0') {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "POST",    "PUT",  "PATCH",
                                          "DELETE", "OPTIONS", "HEAD", ""};
    char *raw, path[HTTP_PATH_MAX];

    if (size == 0)
        return 0;
    if (n_table == 0)
        build_table();
    raw = malloc(size);
    memcpy(raw, data + 1, size - 1);
    raw[size - 1] = '\0';
    if (http_path_decode(raw, path, sizeof(path)) == 0) {
        if (strlen(path) >= sizeof(path))
            abort();
        check_match(methods[data[0] % 8], path);
    }
    check_match(methods[data[0] % 8], raw); /* undecoded, as is */
    free(raw);
    return 0;
}
