/*
 * scopes: one static table; a scope's index is its row. Lookups by name
 * walk the table (about seventy short strings), which costs well under a
 * microsecond and needs no set-up or locking.
 */
#include "scopes.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define O SCOPE_ORG
#define B SCOPE_BANK
#define C SCOPE_CUSTOMER

struct scope_def {
    const char *name;
    unsigned types;
    int dropped;
};

static const struct scope_def table[] = {
    {"organizations:read", O, 0},
    {"organizations:write", O, 0},
    {"organization_applications:write", O, 1},
    {"organization_applications:execute", O, 1},
    {"bank_applications:write", O | B, 1},
    {"bank_applications:execute", O | B, 1},
    {"users:read", O, 0},
    {"users:write", O, 1},
    {"users:execute", O, 1},
    {"banks:read", O | B, 0},
    {"banks:write", O | B, 0},
    {"banks:execute", O, 0},
    {"customers:read", O | B | C, 0},
    {"customers:pii:read", O | B | C, 0},
    {"customers:write", B | C, 0},
    {"customers:execute", B, 0},
    {"counterparties:read", O | B | C, 0},
    {"counterparties:pii:read", O | B | C, 0},
    {"counterparties:write", B | C, 0},
    {"counterparties:execute", B | C, 0},
    {"accounts:read", O | B | C, 0},
    {"accounts:write", B | C, 0},
    {"accounts:execute", B | C, 0},
    {"prices:read", O | B | C, 0},
    {"quotes:read", O | B | C, 0},
    {"quotes:execute", O | B | C, 0},
    {"trades:read", O | B | C, 0},
    {"trades:execute", O | B | C, 0},
    {"transactions:read", O | B | C, 0},
    {"transfers:read", O | B | C, 0},
    {"transfers:pii:read", O | B | C, 0},
    {"transfers:write", O | B | C, 0},
    {"transfers:execute", O | B | C, 0},
    {"external_bank_accounts:read", O | B | C, 0},
    {"external_bank_accounts:pii:read", O | B | C, 0},
    {"external_bank_accounts:write", B | C, 0},
    {"external_bank_accounts:execute", B | C, 0},
    {"external_wallets:read", O | B | C, 0},
    {"external_wallets:write", B | C, 0},
    {"external_wallets:execute", B | C, 0},
    {"workflows:read", O | B | C, 0},
    {"workflows:execute", B | C, 0},
    {"deposit_addresses:read", O | B | C, 0},
    {"deposit_addresses:write", B | C, 0},
    {"deposit_addresses:execute", B | C, 0},
    {"deposit_bank_accounts:read", O | B | C, 0},
    {"deposit_bank_accounts:write", B | C, 0},
    {"deposit_bank_accounts:execute", B | C, 0},
    {"invoices:read", O | B | C, 0},
    {"invoices:write", B | C, 0},
    {"invoices:execute", B | C, 0},
    {"identity_verifications:read", O | B | C, 0},
    {"identity_verifications:pii:read", O | B | C, 0},
    {"identity_verifications:write", B | C, 0},
    {"identity_verifications:execute", O | B | C, 0},
    {"persona_sessions:execute", O | B | C, 0},
    {"sardine_sessions:execute", B | C, 0},
    {"plans:read", O | B | C, 0},
    {"plans:execute", B | C, 0},
    {"executions:read", O | B | C, 0},
    {"executions:execute", B | C, 0},
    {"files:read", O | B, 0},
    {"files:pii:read", O | B, 0},
    {"files:execute", O | B, 0},
    {"subscriptions:read", O, 0},
    {"subscriptions:write", O, 0},
    {"subscriptions:execute", O, 0},
    {"subscription_events:read", O, 0},
    {"subscription_events:execute", O, 0},
};

#define N_SCOPES (sizeof(table) / sizeof(table[0]))

_Static_assert(N_SCOPES <= SCOPES_MAX, "scope sets hold 128 bits");

size_t
scopes_count(void)
{
    return N_SCOPES;
}

/* Index of the name s[0..n), or -1. */
static int
find(const char *s, size_t n)
{
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (strncmp(table[i].name, s, n) == 0 && table[i].name[n] == '\0')
            return (int)i;
    }
    return -1;
}

int
scopes_index(const char *name)
{
    return name ? find(name, strlen(name)) : -1;
}

const char *
scopes_name(int i)
{
    return i >= 0 && (size_t)i < N_SCOPES ? table[i].name : NULL;
}

unsigned
scopes_types(int i)
{
    return i >= 0 && (size_t)i < N_SCOPES ? table[i].types : 0;
}

int
scopes_dropped(int i)
{
    return i >= 0 && (size_t)i < N_SCOPES && table[i].dropped;
}

void
scopes_all(unsigned types, uint64_t out[2])
{
    out[0] = out[1] = 0;
    for (size_t i = 0; i < N_SCOPES; i++) {
        if ((table[i].types & types) != 0 && !table[i].dropped)
            scopes_add(out, (int)i);
    }
}

int
scopes_has(const uint64_t set[2], int i)
{
    if (i < 0 || i >= SCOPES_MAX)
        return 0;
    return (set[i / 64] >> (i % 64)) & 1;
}

void
scopes_add(uint64_t set[2], int i)
{
    if (i >= 0 && i < SCOPES_MAX)
        set[i / 64] |= (uint64_t)1 << (i % 64);
}

int
scopes_subset(const uint64_t a[2], const uint64_t b[2])
{
    return (a[0] & ~b[0]) == 0 && (a[1] & ~b[1]) == 0;
}

int
scopes_parse(const char *s, uint64_t out[2], char *bad, size_t cap)
{
    const char *p = s;

    out[0] = out[1] = 0;
    if (cap > 0)
        bad[0] = '\0';
    if (s == NULL || *s == '\0')
        return MOCK_EINVAL;
    for (;;) {
        size_t n = strcspn(p, " ");
        int i;

        if (n == 0)
            return MOCK_EINVAL; /* leading, trailing or doubled space */
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)p[k];

            if (c <= 0x20 || c >= 0x7f)
                return MOCK_EINVAL; /* tabs, newlines, controls */
        }
        i = find(p, n);
        if (i < 0) {
            if (cap > 0)
                snprintf(bad, cap, "%.*s", (int)n, p);
            return MOCK_ENOENT;
        }
        scopes_add(out, i);
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

char *
scopes_join(const uint64_t set[2])
{
    size_t len = 1;
    char *out;

    for (size_t i = 0; i < N_SCOPES; i++) {
        if (scopes_has(set, (int)i))
            len += strlen(table[i].name) + 1;
    }
    out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0, used = 0; i < N_SCOPES; i++) {
        if (!scopes_has(set, (int)i))
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s",
                                 used ? " " : "", table[i].name);
    }
    return out;
}

cJSON *
scopes_json(const uint64_t set[2])
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < N_SCOPES; i++) {
        if (scopes_has(set, (int)i))
            cJSON_AddItemToArray(a, cJSON_CreateString(table[i].name));
    }
    return a;
}
