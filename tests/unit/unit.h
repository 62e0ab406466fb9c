/*
 * unit: the shared main() of every CUnit test program. Each
 * tests/unit/test_<module>.c defines unit_register(), which adds its
 * suite; unit.c runs it verbosely and exits non-zero on any failure.
 */
#ifndef CYBRID_UNIT_H
#define CYBRID_UNIT_H

#include <CUnit/Basic.h>

/* Adds the file's suite(s) to the registry; returns 0 or -1. */
int unit_register(void);

/* Adds a suite with the given tests (NULL-terminated name/fn pairs). */
struct unit_case {
    const char *name;
    void (*fn)(void);
};
int unit_add_suite(const char *name, const struct unit_case *cases);

#define UNIT_CASE(fn)                                                          \
    {                                                                          \
#fn, fn                                                                \
    }

#endif
