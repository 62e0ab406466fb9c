/*
 * faultspec: the `faults:` and `timeline:` sections of a scenario, read
 * from YAML into struct fault_rule and struct timeline_entry (see
 * scenario.h).
 *
 * Both are lists: a list given in a file replaces the parent's list
 * whole. Each entry is a mapping walked against a field table, so an
 * unknown key, a wrong type or a bad value is refused with its place; the
 * checks across keys (exactly one action, a parameter that belongs to
 * another action, a timeline entry without a trigger or an effect) point
 * at the entry or at the key at fault.
 */
#ifndef CYBRID_FAULTSPEC_H
#define CYBRID_FAULTSPEC_H

#include "scenario.h"
#include "schema.h"

/* Parses a `faults:` list into the struct scenario at dst. */
int faultspec_parse_faults(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                           const void *arg);

/* Parses a `timeline:` list into the struct scenario at dst. */
int faultspec_parse_timeline(struct schema_ctx *cx, yaml_node_t *node,
                             void *dst, const void *arg);

/* The action's name as written in scenarios ("respond", "reset", ...). */
const char *faultspec_action_name(enum fault_action a);

/* Frees a match's strings and headers and zeroes it. */
void faultspec_match_free(struct fault_match *m);

/* Frees the faults and timeline of sc and zeroes their counts. */
void faultspec_free(struct scenario *sc);

#endif
