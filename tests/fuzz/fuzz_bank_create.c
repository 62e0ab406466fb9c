/*
 * fuzz_bank_create: a POST /api/banks body through the JSON parser and
 * the bank checks (bank_from_body).
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
    size_t at;
    cJSON *body, *bank;

    memcpy(text, data, size);
    text[size] = '\0';
    body = http_json_parse(text, size, &at);
    if (body != NULL) {
        bank = bank_from_body(&c, body, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        if (c.status != 0 && c.status != 400 && c.status != 422)
            abort();
        if (c.status == 0 &&
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(bank, "name")))
            abort();
        cJSON_Delete(bank);
    }
    cJSON_Delete(body);
    free(text);
    return 0;
}
