/*
 * ratelimit_bench: nanoseconds per rate-limit check, for the performance
 * report. Not a test: it asserts nothing and only prints a table.
 *
 * Each case runs the real module (ratelimit_init/ratelimit_load with the
 * default scenario, then tuned rules) for a fixed number of calls with
 * virtual time passed in, and divides the monotonic wall time by the
 * calls. Address strings are made before timing starts.
 *
 *     build/ratelimit_bench [calls]     (default 2,000,000)
 */
#include "metrics.h"
#include "ratelimit.h"
#include "scenario.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ADDRS 4096
#define THREADS 2

static char addrs[ADDRS][RATELIMIT_ADDR_MAX];
static long calls = 2000000;

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Loads the default scenario with the general rule set as given. */
static void
load(unsigned limit, int64_t window_ms, size_t cap)
{
    struct scenario *sc = scenario_default();

    sc->limits[LIMIT_GENERAL].limit = limit;
    sc->limits[LIMIT_GENERAL].window_ms = window_ms;
    ratelimit_init(cap, RATELIMIT_DEFAULT_STRIPES);
    ratelimit_load(sc);
    scenario_free(sc);
}

static void
report(const char *name, double ns, long n)
{
    printf("| %-46s | %8.1f |\n", name, ns / (double)n);
}

/* Checks `calls` times over the first `spread` addresses. */
static double
run(size_t spread, int advance)
{
    struct ratelimit_verdict v;
    double t0 = now_ns();

    for (long i = 0; i < calls; i++)
        ratelimit_check(addrs[(size_t)i % spread], LIMIT_GENERAL,
                        advance ? i : 0, &v);
    return now_ns() - t0;
}

static void *
thread_run(void *arg)
{
    size_t base = (size_t)arg * (ADDRS / THREADS);
    struct ratelimit_verdict v;

    for (long i = 0; i < calls; i++)
        ratelimit_check(addrs[base + (size_t)i % (ADDRS / THREADS)],
                        LIMIT_GENERAL, i, &v);
    return NULL;
}

static double
run_threads(void)
{
    pthread_t t[THREADS];
    double t0 = now_ns();

    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, thread_run, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    return now_ns() - t0;
}

/* The request path's whole step but the reply: class, address, check. */
static double
run_request_step(void)
{
    struct ratelimit_verdict v;
    char addr[RATELIMIT_ADDR_MAX];
    double t0 = now_ns();

    for (long i = 0; i < calls; i++) {
        enum limit_class cls = ratelimit_class_of("GET", "/api/banks/x");

        ratelimit_client_addr(addrs[(size_t)i % 64], NULL, addr, sizeof(addr));
        ratelimit_check(addr, cls, i, &v);
    }
    return now_ns() - t0;
}

static double
run_metrics(void)
{
    double t0 = now_ns();

    for (long i = 0; i < calls; i++)
        metrics_request("bench.route", 200 + (int)(i & 3));
    return now_ns() - t0;
}

int
main(int argc, char **argv)
{
    if (argc > 1)
        calls = atol(argv[1]);
    if (calls < 1000)
        calls = 1000;
    for (int i = 0; i < ADDRS; i++)
        snprintf(addrs[i], sizeof(addrs[i]), "10.%d.%d.%d", i >> 16,
                 (i >> 8) & 255, i & 255);

    printf("ratelimit_check, %ld calls per case\n\n", calls);
    printf("| %-46s | %8s |\n", "case", "ns/call");
    printf("|%s|%s|\n", "------------------------------------------------",
           "----------");
    load(100, 50, RATELIMIT_DEFAULT_ADDRESSES);
    report("one address, accepted (window slides)", run(1, 1), calls);
    load(100, 300000, RATELIMIT_DEFAULT_ADDRESSES);
    report("one address, refused (window full)", run(1, 0), calls);
    load(100, 50, RATELIMIT_DEFAULT_ADDRESSES);
    report("4,096 addresses round robin", run(ADDRS, 1), calls);
    load(100, 50, 1024);
    report("4,096 addresses over a cap of 1,024 (evicting)", run(ADDRS, 1),
           calls);
    load(100, 50, RATELIMIT_DEFAULT_ADDRESSES);
    report("2 threads, 2,048 addresses each (wall/total)", run_threads(),
           calls * THREADS);
    load(100, 50, RATELIMIT_DEFAULT_ADDRESSES);
    report("class + client address + check (64 addresses)", run_request_step(),
           calls);
    report("metrics_request (route, status)", run_metrics(), calls);
    printf("\nevictions: %llu, tracked now: %zu\n",
           (unsigned long long)ratelimit_evictions(), ratelimit_tracked());
    ratelimit_shutdown();
    return 0;
}
