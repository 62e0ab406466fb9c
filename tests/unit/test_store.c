/* Tests of the store: ordering, paging, updates and the JSON helpers. */
#include "store.h"
#include "unit.h"

#include <string.h>

static cJSON *
obj(const char *guid, int64_t ms)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "guid", guid);
    cJSON_AddStringToObject(o, "_secret", "internal");
    store_stamp_created(o, ms);
    return o;
}

static void
test_store_lists_newest_first_by_page(void)
{
    size_t total = 0;
    cJSON *page;

    store_reset(NULL);
    store_insert(STORE_BANKS, obj("a", 1000));
    store_insert(STORE_BANKS, obj("c", 3000));
    store_insert(STORE_BANKS, obj("b", 2000));
    page = store_list(STORE_BANKS, NULL, NULL, 0, 2, &total);
    CU_ASSERT_EQUAL(total, 3);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(page), 2);
    CU_ASSERT_STRING_EQUAL(store_str(cJSON_GetArrayItem(page, 0), "guid"), "c");
    CU_ASSERT_STRING_EQUAL(store_str(cJSON_GetArrayItem(page, 1), "guid"), "b");
    cJSON_Delete(page);
    page = store_list(STORE_BANKS, NULL, NULL, 1, 2, &total);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(page), 1);
    CU_ASSERT_STRING_EQUAL(store_str(cJSON_GetArrayItem(page, 0), "guid"), "a");
    cJSON_Delete(page);
    store_clear();
}

static void
test_store_public_all_drops_underscore_fields(void)
{
    cJSON *a = cJSON_CreateArray();

    cJSON_AddItemToArray(a, obj("x", 5));
    store_public_all(a);
    CU_ASSERT_PTR_NULL(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "_secret"));
    CU_ASSERT_STRING_EQUAL(store_str(cJSON_GetArrayItem(a, 0), "guid"), "x");
    cJSON_Delete(a);
}

static void
test_store_stamp_writes_iso_times(void)
{
    cJSON *o = obj("x", 1700000000123);

    CU_ASSERT_STRING_EQUAL(store_str(o, "created_at"),
                           "2023-11-14T22:13:20.123Z");
    CU_ASSERT_STRING_EQUAL(store_str(o, "updated_at"),
                           "2023-11-14T22:13:20.123Z");
    cJSON_Delete(o);
}

static void
test_store_touch_always_moves_forward(void)
{
    cJSON *o = obj("x", 1700000000123);

    store_touch(o, 1700000000123); /* same instant */
    CU_ASSERT_STRING_EQUAL(store_str(o, "updated_at"),
                           "2023-11-14T22:13:20.124Z");
    store_touch(o, 1000); /* earlier */
    CU_ASSERT_STRING_EQUAL(store_str(o, "updated_at"),
                           "2023-11-14T22:13:20.125Z");
    store_touch(o, 1700000005000);
    CU_ASSERT_STRING_EQUAL(store_str(o, "updated_at"),
                           "2023-11-14T22:13:25.000Z");
    CU_ASSERT_STRING_EQUAL(store_str(o, "created_at"),
                           "2023-11-14T22:13:20.123Z");
    cJSON_Delete(o);
}

static void
test_store_str_is_empty_for_missing_or_non_string(void)
{
    cJSON *o = cJSON_Parse("{\"n\": 1}");

    CU_ASSERT_STRING_EQUAL(store_str(o, "n"), "");
    CU_ASSERT_STRING_EQUAL(store_str(o, "missing"), "");
    cJSON_Delete(o);
}

int
unit_register(void)
{
    static const struct unit_case tests[] = {
        UNIT_CASE(test_store_lists_newest_first_by_page),
        UNIT_CASE(test_store_public_all_drops_underscore_fields),
        UNIT_CASE(test_store_stamp_writes_iso_times),
        UNIT_CASE(test_store_touch_always_moves_forward),
        UNIT_CASE(test_store_str_is_empty_for_missing_or_non_string),
        {NULL, NULL},
    };

    return unit_add_suite("store", tests);
}
