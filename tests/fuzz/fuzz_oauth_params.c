/*
 * fuzz_oauth_params: the POST /oauth/token body, as JSON or as a form.
 *
 * The first byte picks the content type (even: JSON, odd: form); the
 * rest is the body. Every parameter read must be a NUL-terminated string
 * that fits its field.
 */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oauth_params p;
    char why[96], *body;

    if (size == 0)
        return 0;
    body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    memset(&p, 0, sizeof(p));
    if (oauth_params_parse(data[0] % 2 == 0, body, size - 1, &p, why,
                           sizeof(why)) == 0) {
        if (memchr(p.client_id, '\0', sizeof(p.client_id)) == NULL ||
            memchr(p.scope, '\0', sizeof(p.scope)) == NULL)
            abort();
    } else if (memchr(why, '\0', sizeof(why)) == NULL) {
        abort();
    }
    free(body);
    return 0;
}
