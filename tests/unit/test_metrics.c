/*
 * Tests of the metrics registry and its Prometheus text: series found
 * again by name and labels, families printed once, gauges read at render
 * time, requests by route and status, label escaping, and exact counts
 * from several threads at once.
 */
#include "unit.h"

#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *
render(void)
{
    size_t len;
    char *text = metrics_render(&len);

    CU_ASSERT_EQUAL(strlen(text), len);
    return text;
}

static int
count_of(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void
test_counter_registered_twice_is_the_same_series(void)
{
    struct metrics_counter *a =
        metrics_counter("test_things_total", "kind=\"a\"", "Things seen.");
    struct metrics_counter *b =
        metrics_counter("test_things_total", "kind=\"a\"", "Things seen.");

    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_PTR_NOT_EQUAL(
        a, metrics_counter("test_things_total", "kind=\"b\"", "Things seen."));
}

static void
test_family_has_one_help_and_type_and_every_series(void)
{
    struct metrics_counter *a =
        metrics_counter("test_family_total", "kind=\"a\"", "A family.");
    struct metrics_counter *b =
        metrics_counter("test_family_total", "kind=\"b\"", "A family.");
    char *text;

    metrics_counter("test_between_total", NULL, "Registered in between.");
    metrics_add(a, 5);
    metrics_inc(b);
    metrics_inc(b);
    text = render();
    CU_ASSERT_EQUAL(count_of(text, "# HELP test_family_total A family.\n"), 1);
    CU_ASSERT_EQUAL(count_of(text, "# TYPE test_family_total counter\n"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "test_family_total{kind=\"a\"} 5\n"
                                        "test_family_total{kind=\"b\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ntest_between_total 0\n"));
    free(text);
}

static double
seven(void)
{
    return 7;
}

static void
test_gauge_is_read_when_rendered(void)
{
    char *text;

    metrics_gauge("test_level", NULL, "A level.", seven);
    text = render();
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE test_level gauge\n"
                                        "test_level 7\n"));
    free(text);
}

static void
test_requests_are_counted_by_route_and_status(void)
{
    char *text;

    metrics_request("bank.get", 200);
    metrics_request("bank.get", 200);
    metrics_request("bank.get", 404);
    CU_ASSERT_EQUAL(metrics_request_count("bank.get", 200), 2);
    CU_ASSERT_EQUAL(metrics_request_count("bank.get", 404), 1);
    CU_ASSERT_EQUAL(metrics_request_count("bank.get", 500), 0);
    text = render();
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE cybrid_mock_requests_total "
                                        "counter\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        text, "cybrid_mock_requests_total{route=\"bank.get\",status=\"200\"} "
              "2\n"));
    free(text);
}

static void
test_long_route_name_is_cut_and_still_counted(void)
{
    char route[200];

    memset(route, 'r', sizeof(route) - 1);
    route[sizeof(route) - 1] = '\0';
    metrics_request(route, 200);
    metrics_request(route, 200);
    CU_ASSERT_EQUAL(metrics_request_count(route, 200), 2);
    route[100] = 'x'; /* differs only past the cut: the same series */
    CU_ASSERT_EQUAL(metrics_request_count(route, 200), 2);
}

static void
test_route_label_is_escaped(void)
{
    char *text;

    metrics_request("we\"ird\\name\n", 200);
    text = render();
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "{route=\"we\\\"ird\\\\name\\n\","));
    free(text);
}

#define THREADS 4
#define ROUNDS 50000

static void *
hammer(void *arg)
{
    struct metrics_counter *c = arg;
    char route[32];

    for (int i = 0; i < ROUNDS; i++) {
        snprintf(route, sizeof(route), "race.%d", i % 8);
        metrics_request(route, 200 + i % 3);
        metrics_inc(c);
    }
    return NULL;
}

static void
test_counts_from_many_threads_are_exact(void)
{
    struct metrics_counter *c = metrics_counter("test_race_total", NULL, "x");
    pthread_t t[THREADS];
    uint64_t total = 0;
    char route[32];

    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, c);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_EQUAL(metrics_value(c), (uint64_t)THREADS * ROUNDS);
    for (int r = 0; r < 8; r++) {
        snprintf(route, sizeof(route), "race.%d", r);
        for (int s = 200; s < 203; s++)
            total += metrics_request_count(route, s);
    }
    CU_ASSERT_EQUAL(total, (uint64_t)THREADS * ROUNDS);
}

static void
test_request_table_overflow_is_counted_as_other(void)
{
    char route[32], *text;

    for (int i = 0; i < METRICS_MAX_REQUEST_KEYS + 10; i++) {
        snprintf(route, sizeof(route), "many.%d", i);
        metrics_request(route, 200);
    }
    text = render();
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "{route=\"_other\",status=\"0\"} "));
    free(text);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_counter_registered_twice_is_the_same_series),
        UNIT_CASE(test_family_has_one_help_and_type_and_every_series),
        UNIT_CASE(test_gauge_is_read_when_rendered),
        UNIT_CASE(test_requests_are_counted_by_route_and_status),
        UNIT_CASE(test_long_route_name_is_cut_and_still_counted),
        UNIT_CASE(test_route_label_is_escaped),
        UNIT_CASE(test_counts_from_many_threads_are_exact),
        UNIT_CASE(test_request_table_overflow_is_counted_as_other),
        {NULL, NULL},
    };

    return unit_add_suite("metrics", cases);
}
