/* Tests of the schema module's value grammar: durations and instants. */
#include "schema.h"
#include "unit.h"

#include <string.h>

static void
test_duration_accepts_units_and_sums_groups(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"500ms", 500},   {"60s", 60000},   {"5m", 300000},
        {"8h", 28800000}, {"1d", 86400000}, {"1h30m", 5400000},
        {"2m5s", 125000}, {"0s", 0},        {"1s500ms", 1500},
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t ms = -1;

        CU_ASSERT_EQUAL(schema_parse_duration(ok[i].text, &ms), 0);
        CU_ASSERT_EQUAL(ms, ok[i].ms);
    }
}

static void
test_duration_refuses_missing_or_unknown_units(void)
{
    static const char *const bad[] = {
        "",     "60",  "s",  "5 m",          "5min",   "-5s",
        "1.5h", "5mm", "h5", "99999999999s", "36600d",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 0;

        CU_ASSERT_EQUAL(schema_parse_duration(bad[i], &ms), MOCK_EINVAL);
    }
}

static void
test_instant_reads_utc_fractions_and_offsets(void)
{
    int64_t ms = 0;

    CU_ASSERT_EQUAL(schema_parse_instant("2026-01-02T03:04:05.678Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1767323045678LL);
    CU_ASSERT_EQUAL(schema_parse_instant("2024-02-29T23:59:59Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1709251199000LL);
    CU_ASSERT_EQUAL(schema_parse_instant("2026-01-01T00:00:00+02:00", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1767218400000LL);
    CU_ASSERT_EQUAL(schema_parse_instant("1970-01-01T00:00:01Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1000);
}

static void
test_instant_refuses_impossible_dates_and_loose_forms(void)
{
    static const char *const bad[] = {
        "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",  "2026-04-31T00:00:00Z",
        "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",  "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00",  "2026-01-01T00:00:00ZZ", "2026-01-01",
        "1969-12-31T23:59:59Z", "2026-01-01T00:00:00.Z", "2026-1-01T00:00:00Z",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 0;

        CU_ASSERT_EQUAL(schema_parse_instant(bad[i], &ms), MOCK_EINVAL);
    }
}

static void
test_parse_places_syntax_errors_one_based(void)
{
    static const char text[] = "name: x\nlist: [a, b\n";
    struct schema_err err = {0};
    yaml_document_t doc;

    CU_ASSERT_EQUAL(schema_parse(text, strlen(text), "f.yaml", &doc, &err),
                    MOCK_EINVAL);
    CU_ASSERT_EQUAL(err.line, 3);
    CU_ASSERT_EQUAL(err.column, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.base.msg, "f.yaml:3:1: YAML syntax"));
}

static void
test_parse_refuses_empty_text_and_second_document(void)
{
    static const char two[] = "name: a\n---\nname: b\n";
    struct schema_err err = {0};
    yaml_document_t doc;

    CU_ASSERT_EQUAL(schema_parse("", 0, "e.yaml", &doc, &err), MOCK_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.base.msg, "e.yaml: the scenario is empty");
    CU_ASSERT_EQUAL(schema_parse(two, strlen(two), "t.yaml", &doc, &err),
                    MOCK_EINVAL);
    CU_ASSERT_EQUAL(err.line, 3);
    CU_ASSERT_EQUAL(err.column, 1);
    CU_ASSERT_EQUAL(schema_parse("a: 1\n", 5, "g.yaml", &doc, &err), 0);
    yaml_document_delete(&doc);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_duration_accepts_units_and_sums_groups),
        UNIT_CASE(test_duration_refuses_missing_or_unknown_units),
        UNIT_CASE(test_instant_reads_utc_fractions_and_offsets),
        UNIT_CASE(test_instant_refuses_impossible_dates_and_loose_forms),
        UNIT_CASE(test_parse_places_syntax_errors_one_based),
        UNIT_CASE(test_parse_refuses_empty_text_and_second_document),
        {NULL, NULL},
    };

    return unit_add_suite("schema", cases);
}
