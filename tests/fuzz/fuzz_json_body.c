/*
 * fuzz_json_body: the JSON body parser every JSON endpoint goes through
 * (http_json_parse: cJSON, object only, no repeated key at any depth).
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    size_t at;
    cJSON *json;

    memcpy(text, data, size);
    text[size] = '\0';
    json = http_json_parse(text, size, &at);
    if (json == NULL && at != SIZE_MAX && at > size)
        abort(); /* an error offset outside the body */
    cJSON_Delete(json);
    free(text);
    return 0;
}
