/*
 * findings: what the audit found, per rule, and its three renderings:
 * JSON for GET /__admin/findings, JUnit XML (one test case per rule,
 * failed where the rule fired) and the table printed at shutdown.
 *
 * A finding is a rule's count of occurrences, the virtual times of the
 * first and the last, and an example: the X-Request-Id (or delivery
 * guid) of one request that triggered it and a short detail such as
 * "GET /api/customers/{customer_guid}". Examples never hold a token or a
 * secret. All calls are thread-safe (one short mutex).
 */
#ifndef CYBRID_FINDINGS_H
#define CYBRID_FINDINGS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FINDINGS_MAX 32

/* A rule as the findings show it. */
struct findings_rule {
    const char *id;
    int severity;        /* 0 info, 1 warning, 2 critical */
    const char *section; /* of the security guide */
    const char *message;
};

/*
 * Takes the catalogue (n <= FINDINGS_MAX rows, kept by pointer) and the
 * rules turned on (enabled[i]), and forgets every finding.
 */
void findings_reset(const struct findings_rule *rules, size_t n,
                    const int *enabled);

/*
 * Counts one occurrence of rule at now_ms; example (an X-Request-Id or a
 * delivery guid) and detail are kept from the first occurrence.
 */
void findings_add(size_t rule, int64_t now_ms, const char *example,
                  const char *detail);

/* Replaces a rule's finding (for rules evaluated as a whole). */
void findings_set(size_t rule, uint64_t count, int64_t first_ms,
                  int64_t last_ms, const char *example, const char *detail);

/* The rule's count. */
uint64_t findings_count(size_t rule);

/* Severity names: "info", "warning", "critical". */
const char *findings_severity_name(int severity);

/* {"findings": [...], "summary": {...}, "rules": [...]}; caller frees. */
cJSON *findings_json(void);

/* The JUnit XML document; caller frees. */
char *findings_junit(void);

/*
 * Prints the table to out (json: one JSON object per line instead, an
 * audit_finding per fired rule then an audit_summary); returns 1 when a
 * fired rule's severity is at least fail_on (fail_on < 0: never), else 0.
 */
int findings_summary(FILE *out, int fail_on, int json);

/* Forgets everything (at exit). */
void findings_clear(void);

#endif
