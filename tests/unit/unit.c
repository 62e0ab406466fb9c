/* unit: runs the suites a test program registers; exits 1 on failure. */
#include "unit.h"

#include <stdio.h>

int
unit_add_suite(const char *name, const struct unit_case *cases)
{
    CU_pSuite suite = CU_add_suite(name, NULL, NULL);

    if (suite == NULL)
        return -1;
    for (; cases->name != NULL; cases++) {
        if (CU_add_test(suite, cases->name, cases->fn) == NULL)
            return -1;
    }
    return 0;
}

int
main(void)
{
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (unit_register() != 0) {
        fprintf(stderr, "unit: cannot register tests: %s\n",
                CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    if (CU_get_run_summary()->nTestsRun == 0)
        failures++;
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}
