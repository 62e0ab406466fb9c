/*
 * fuzz_bank_patch: a PATCH /api/banks/{guid} body through the JSON
 * parser and the patch checks (bank_patch_read).
 */
#include "bank.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct check c = {0};
    cJSON *body, *v[BANK_PATCH_FIELDS] = {0};
    size_t at;

    memcpy(text, data, size);
    text[size] = '\0';
    body = http_json_parse(text, size, &at);
    if (body != NULL) {
        bank_patch_read(&c, body, v);
        if (c.status != 0 && c.status != 400 && c.status != 422)
            abort();
        for (int i = 0; i < BANK_PATCH_FIELDS; i++)
            cJSON_Delete(v[i]);
    }
    cJSON_Delete(body);
    free(text);
    return 0;
}
