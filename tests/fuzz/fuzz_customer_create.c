/*
 * fuzz_customer_create: a POST /api/customers body through the JSON
 * parser and the customer checks (customer_from_body).
 */
#include "customer.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct check c = {0};
    size_t at;
    cJSON *body, *customer;

    memcpy(text, data, size);
    text[size] = '\0';
    body = http_json_parse(text, size, &at);
    if (body != NULL) {
        customer =
            customer_from_body(&c, body, "b0a1c2d3e4f5061728394a5b6c7d8e9f");
        if (c.status != 0 && c.status != 400 && c.status != 422)
            abort();
        cJSON_Delete(customer);
    }
    cJSON_Delete(body);
    free(text);
    return 0;
}
