/*
 * fuzz_origin: the origin validator. The input is tried as one origin
 * (origin_allowed, origin_canonical) and, when it parses as JSON, as a
 * cors_allowed_origins list matched against itself.
 */
#include "origin.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), canon[ORIGIN_MAX], again[ORIGIN_MAX];
    cJSON *list;

    memcpy(text, data, size);
    text[size] = '\0';
    if (origin_allowed(text) && origin_canonical(text, canon, sizeof(canon)))
        abort(); /* an allowed entry always has a canonical form */
    if (origin_canonical(text, canon, sizeof(canon)) == 0) {
        /* The canonical form is a fixed point. */
        if (origin_canonical(canon, again, sizeof(again)) != 0 ||
            strcmp(canon, again) != 0)
            abort();
    }
    list = cJSON_Parse(text);
    if (list != NULL) {
        const cJSON *e;

        if (origin_list_check(list) == ORIGIN_LIST_OK) {
            cJSON_ArrayForEach(e, list)
            {
                if (!origin_list_contains(list, e->valuestring))
                    abort(); /* an allowed entry matches itself */
            }
        }
        cJSON_Delete(list);
    }
    free(text);
    return 0;
}
