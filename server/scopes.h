/*
 * scopes: the catalogue of Cybrid authorization scopes.
 *
 * Each scope has a fixed index (its bit in a scope set, two 64-bit words,
 * as in struct principal) and the token types that may hold it: the
 * organization, bank and customer sets of Cybrid's scope table. Bank
 * credentials never hold subscription scopes and customer tokens never
 * hold customers:execute. A few scopes (*_applications:write|execute,
 * users:write|execute) are known but never granted: a token request that
 * names them has them dropped.
 */
#ifndef CYBRID_SCOPES_H
#define CYBRID_SCOPES_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define SCOPES_MAX 128 /* bits in a scope set */

/* Token types a scope may belong to (the values of enum token_type). */
#define SCOPE_ORG 1u
#define SCOPE_BANK 2u
#define SCOPE_CUSTOMER 4u

/* How many scopes the catalogue holds. */
size_t scopes_count(void);

/* The index of a scope name, or -1 when unknown. */
int scopes_index(const char *name);

/* The name of the scope at index i, or NULL past the end. */
const char *scopes_name(int i);

/* The token types (SCOPE_* bits) that may hold scope i; 0 if unknown. */
unsigned scopes_types(int i);

/* 1 when requests for scope i are tolerated and the scope dropped. */
int scopes_dropped(int i);

/* Sets out to every grantable scope that a token of types may hold. */
void scopes_all(unsigned types, uint64_t out[2]);

/* 1 when set holds scope i. */
int scopes_has(const uint64_t set[2], int i);

/* Adds scope i to set. */
void scopes_add(uint64_t set[2], int i);

/* 1 when every scope of a is in b. */
int scopes_subset(const uint64_t a[2], const uint64_t b[2]);

/*
 * Parses a space-separated scope string into out. The string must be
 * non-empty, names separated by exactly one space, with no leading,
 * trailing or other whitespace; duplicates are allowed. Returns 0;
 * MOCK_EINVAL for bad whitespace or an empty string; MOCK_ENOENT for a
 * name not in the catalogue, copied (cut to cap) into bad.
 */
int scopes_parse(const char *s, uint64_t out[2], char *bad, size_t cap);

/* The set as a space-separated string in catalogue order; caller frees. */
char *scopes_join(const uint64_t set[2]);

/* The set as a JSON array of names in catalogue order; caller frees. */
cJSON *scopes_json(const uint64_t set[2]);

#endif
