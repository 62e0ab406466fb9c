/* Tests of the webhook attempt log: its bound, order and generations. */
#include "attemptlog.h"
#include "unit.h"

#include <string.h>

static void
add(const char *delivery, uint64_t gen)
{
    struct attemptlog_entry e = {0};

    e.delivery = delivery;
    e.kind = "delivery";
    e.status = 200;
    e.signature = "ab";
    attemptlog_add(&e, gen);
}

static void
test_log_keeps_the_newest_entries_up_to_its_bound(void)
{
    cJSON *all, *first;

    attemptlog_clear(1);
    for (int i = 0; i < ATTEMPTLOG_MAX + 5; i++)
        add(i < 5 ? "old" : "new", 1);
    all = attemptlog_json(NULL, NULL);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(all), ATTEMPTLOG_MAX);
    CU_ASSERT_EQUAL(attemptlog_total(), ATTEMPTLOG_MAX + 5);
    first = cJSON_GetArrayItem(all, 0);
    CU_ASSERT_STRING_EQUAL(
        cJSON_GetObjectItemCaseSensitive(first, "delivery_guid")->valuestring,
        "new");
    cJSON_Delete(all);
    attemptlog_free();
}

static void
test_log_ignores_entries_of_an_earlier_generation(void)
{
    cJSON *all;

    attemptlog_clear(7);
    add("late", 6);
    add("current", 7);
    all = attemptlog_json(NULL, NULL);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(all), 1);
    cJSON_Delete(all);
    attemptlog_free();
}

static void
test_log_filters_by_delivery(void)
{
    cJSON *some;

    attemptlog_clear(1);
    add("a", 1);
    add("b", 1);
    add("a", 1);
    some = attemptlog_json("delivery_guid", "a");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(some), 2);
    cJSON_Delete(some);
    attemptlog_free();
}

static void
test_abandoned_entry_says_not_attempted(void)
{
    cJSON *all;
    const cJSON *e;

    attemptlog_clear(2);
    attemptlog_abandoned("d", "s", "e", "trade.completed", 2);
    all = attemptlog_json(NULL, NULL);
    e = cJSON_GetArrayItem(all, 0);
    CU_ASSERT_STRING_EQUAL(
        cJSON_GetObjectItemCaseSensitive(e, "kind")->valuestring,
        "not_attempted");
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "status")));
    CU_ASSERT_TRUE(
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "signature")));
    cJSON_Delete(all);
    attemptlog_free();
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_log_keeps_the_newest_entries_up_to_its_bound),
        UNIT_CASE(test_log_ignores_entries_of_an_earlier_generation),
        UNIT_CASE(test_log_filters_by_delivery),
        UNIT_CASE(test_abandoned_entry_says_not_attempted),
        {NULL, NULL}};

    return unit_add_suite("attemptlog", cases);
}
