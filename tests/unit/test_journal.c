/*
 * Tests of the request journal's ring: the bound drops the oldest entries
 * and counts them, clearing starts the counts over, and a dropped
 * connection is recorded with status 0.
 */
#include "unit.h"

#include "clock.h"
#include "journal.h"

#include <stdio.h>
#include <string.h>

static void
record(const char *path, int status, int aborted)
{
    struct http_request req;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    snprintf(req.path, sizeof(req.path), "%s", path);
    snprintf(req.request_id, sizeof(req.request_id), "%032d", status);
    snprintf(req.client_addr, sizeof(req.client_addr), "127.0.0.1");
    req.status = status;
    req.aborted = aborted;
    req.start_us = clock_mono_us();
    journal_record(&req, NULL);
}

static void
test_bound_drops_oldest_and_counts_drops(void)
{
    journal_init(3);
    for (int i = 0; i < 5; i++)
        record("/api/x", 200 + i, 0);
    CU_ASSERT_EQUAL(journal_size(), 3);
    CU_ASSERT_EQUAL(journal_dropped(), 2);
    CU_ASSERT_EQUAL(journal_total(), 5);
    CU_ASSERT_EQUAL(journal_clear(), 3);
    CU_ASSERT_EQUAL(journal_size(), 0);
    CU_ASSERT_EQUAL(journal_dropped(), 0);
    CU_ASSERT_EQUAL(journal_total(), 0);
    record("/api/y", 204, 0);
    CU_ASSERT_EQUAL(journal_size(), 1);
    journal_shutdown();
}

static void
test_size_is_kept_within_its_bounds(void)
{
    journal_init(0);
    record("/a", 200, 0);
    record("/b", 200, 0);
    CU_ASSERT_EQUAL(journal_size(), 1);
    CU_ASSERT_EQUAL(journal_dropped(), 1);
    journal_shutdown();
}

static void
test_record_after_shutdown_is_ignored(void)
{
    journal_init(2);
    journal_shutdown();
    record("/a", 0, 1);
    CU_ASSERT_EQUAL(journal_size(), 0);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_bound_drops_oldest_and_counts_drops),
        UNIT_CASE(test_size_is_kept_within_its_bounds),
        UNIT_CASE(test_record_after_shutdown_is_ignored),
        {NULL, NULL},
    };

    return unit_add_suite("journal", cases);
}
