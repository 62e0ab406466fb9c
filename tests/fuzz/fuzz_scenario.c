/*
 * fuzz_scenario: YAML text into the scenario loader.
 *
 * Any bytes must give a scenario or a refusal with a message, never a
 * crash, a leak or undefined behaviour. `extends` resolves against the
 * built-ins only (no folder), so the fuzzer never reads the disk.
 */
#include "scenario.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario *sc = NULL;
    struct schema_err err = {0};

    if (scenario_load_text((const char *)data, size, "fuzz.yaml", NULL, &sc,
                           &err) == 0)
        scenario_free(sc);
    return 0;
}
