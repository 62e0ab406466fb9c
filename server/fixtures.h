/*
 * fixtures: the `fixtures:` section of a scenario: the organizations,
 * banks, applications, customers and subscriptions the mock starts with.
 *
 * Each list is read with the schema module's field tables; a list given
 * in a file replaces the parent's list whole. Because a list may come
 * from one file of an extends chain and a reference to it from another,
 * the entries are checked against each other only once the whole chain
 * is applied (fixtures_check), and every entry remembers the file, line
 * and column it was written at so that a refusal points at it.
 */
#ifndef CYBRID_FIXTURES_H
#define CYBRID_FIXTURES_H

#include "scenario.h"
#include "schema.h"

enum fixtures_kind {
    FIXTURES_ORGANIZATIONS,
    FIXTURES_BANKS,
    FIXTURES_APPLICATIONS,
    FIXTURES_CUSTOMERS,
    FIXTURES_SUBSCRIPTIONS,
    FIXTURES_KINDS
};

/* Where one entry was written; file is owned by the caller. */
struct fixtures_place {
    const char *file;
    int line, column;
};

/* The places of every entry, per list, in list order. */
struct fixtures_places {
    struct fixtures_place *v[FIXTURES_KINDS];
};

/*
 * The section's field table, for schema_map. Its parsers take the
 * struct scenario as the destination and the struct fixtures_places to
 * fill as the schema context's user pointer.
 */
extern const struct schema_field fixtures_fields[];

/*
 * Checks the merged fixtures: guids unique per list, client ids unique,
 * and every organization_guid, bank_guid and application owner naming a
 * fixture of the right kind. Returns 0, or MOCK_EINVAL with err pointing
 * at the entry at fault.
 */
int fixtures_check(const struct scenario *sc,
                   const struct fixtures_places *places,
                   struct schema_err *err);

/* Frees the places (not the file names they point at). */
void fixtures_places_free(struct fixtures_places *places);

/* Frees every fixture list of sc and zeroes the counts. */
void fixtures_free(struct scenario *sc);

#endif
