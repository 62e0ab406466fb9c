/*
 * fuzz_customer_token: a POST /api/customer_tokens body through the JSON
 * parser and the request's checks (identity_customer_token_check).
 */
#include "identity.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct customer_token_ask ask;
    struct check c = {0};
    size_t at;
    cJSON *body;

    memcpy(text, data, size);
    text[size] = '\0';
    body = http_json_parse(text, size, &at);
    if (body != NULL) {
        int rc = identity_customer_token_check(&c, body, &ask);

        if (rc == 0 && !guid_valid(ask.customer_guid))
            abort(); /* accepted without a usable guid */
        if (rc != 0 && rc != 400 && rc != 422)
            abort();
    }
    cJSON_Delete(body);
    free(text);
    return 0;
}
