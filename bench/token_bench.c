/*
 * token_bench: microseconds to read (authenticate) and mint access
 * tokens, for the performance report. Not a test: it asserts nothing and
 * only prints a table.
 *
 * It runs the real token module with a fresh signing key in a temporary
 * directory: a cached read (the hot path of every authenticated
 * request) on one and on two threads, an uncached read (RS512
 * verification and claims; each of many distinct tokens read once), and
 * minting (RS512 signing) on one and on two threads.
 *
 *     build/token_bench [calls]     (default 1,000,000 cached reads)
 */
#include "authcache.h"
#include "scopes.h"
#include "token.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BANK "b0a1c2d3e4f5061728394a5b6c7d8e9f"
#define NOW 1800000000
#define DISTINCT 2000

static long calls = 1000000;
static char *hot;

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *
mint(void)
{
    uint64_t scopes[2];
    struct mock_err err = {0};
    cJSON *props = cJSON_CreateObject();

    scopes_all(SCOPE_BANK, scopes);
    cJSON_AddStringToObject(props, "type", "sandbox");
    return token_mint(TOKEN_BANK, BANK, scopes, props, NOW, &err);
}

static void *
read_hot(void *arg)
{
    struct principal p;
    struct mock_err err;
    long n = *(long *)arg;

    for (long i = 0; i < n; i++) {
        if (token_read(hot, NOW, &p, &err) != 0)
            abort();
    }
    return NULL;
}

static void
report(const char *name, double ns, long n, int threads)
{
    printf("%-34s %9.2f us/call %12.0f calls/s\n", name, ns / 1e3 / n,
           threads * n / (ns / 1e9));
}

static void
bench_hot(int threads)
{
    pthread_t t[2];
    long n = calls;
    double start = now_ns();

    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, read_hot, &n);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    report(threads == 1 ? "read, cached, 1 thread"
                        : "read, cached, 2 threads (per thread)",
           now_ns() - start, n, threads);
}

static void *
mint_many(void *arg)
{
    long n = *(long *)arg;

    for (long i = 0; i < n; i++)
        secret_free(mint());
    return NULL;
}

/* Minting on two threads at once: shows any lock the signing key takes. */
static void
bench_mint_two(void)
{
    pthread_t t[2];
    long n = DISTINCT / 2;
    double start = now_ns();

    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, mint_many, &n);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    report("mint, 2 threads (per thread)", now_ns() - start, n, 2);
}

static void
bench_cold_and_mint(void)
{
    char **tokens = calloc(DISTINCT, sizeof(char *));
    struct principal p;
    struct mock_err err;
    double start = now_ns();

    for (int i = 0; i < DISTINCT; i++)
        tokens[i] = mint();
    report("mint (RS512 sign)", now_ns() - start, DISTINCT, 1);
    authcache_clear();
    start = now_ns();
    for (int i = 0; i < DISTINCT; i++) {
        if (token_read(tokens[i], NOW, &p, &err) != 0)
            abort();
    }
    report("read, uncached (RS512 verify)", now_ns() - start, DISTINCT, 1);
    for (int i = 0; i < DISTINCT; i++)
        secret_free(tokens[i]);
    free(tokens);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/cybrid-token-bench-XXXXXX", path[64];
    struct mock_err err = {0};

    if (argc > 1)
        calls = atol(argv[1]);
    if (mkdtemp(dir) == NULL || token_init(dir, &err) != 0) {
        fprintf(stderr, "token_bench: %s\n", err.msg);
        return 1;
    }
    hot = mint();
    printf("token length %zu bytes\n", strlen(hot));
    bench_cold_and_mint();
    bench_mint_two();
    bench_hot(1);
    bench_hot(2);
    secret_free(hot);
    token_shutdown();
    snprintf(path, sizeof(path), "%s/signing-key.pem", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
