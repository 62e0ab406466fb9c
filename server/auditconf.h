/*
 * auditconf: the audit's rules as the scenario and the findings see them:
 * the catalogue (id, severity, section of the security guide, message),
 * each rule's default settings and the `audit:` section of a scenario.
 *
 * The section maps rule ids to `on`, `off` or a mapping of the rule's
 * settings (enabled, and for some rules threshold, window, ratio or
 * slower_than), plus max_tracked, the size of each state table. Unknown
 * keys and bad values are refused with FILE:LINE:COLUMN.
 */
#ifndef CYBRID_AUDITCONF_H
#define CYBRID_AUDITCONF_H

#include "findings.h"
#include "schema.h"

#include <stdint.h>

enum audit_rule {
    AUDIT_PRIVILEGED_TOKEN_IN_BROWSER,
    AUDIT_EXPIRED_TOKEN_RESENT,
    AUDIT_RETRY_BEFORE_RETRY_AFTER,
    AUDIT_TOKEN_REQUESTS_AFTER_LIMIT,
    AUDIT_TOKENS_NOT_CACHED,
    AUDIT_BANK_TOKEN_FOR_CUSTOMER,
    AUDIT_CUSTOMER_SCOPES_UNUSED,
    AUDIT_CREDENTIALS_IN_QUERY,
    AUDIT_CORS_WILDCARD_OR_HTTP,
    AUDIT_WEBHOOK_PLAIN_HTTP,
    AUDIT_WEBHOOK_TLS_UNVERIFIED,
    AUDIT_WEBHOOK_FORGED_ACCEPTED,
    AUDIT_WEBHOOK_STALE_ACCEPTED,
    AUDIT_WEBHOOK_SLOW_RECEIVER,
    AUDIT_RULES
};

enum audit_severity { AUDIT_INFO, AUDIT_WARNING, AUDIT_CRITICAL };

/* One rule's settings from the scenario. */
struct audit_rule_config {
    int enabled;
    unsigned threshold; /* occurrences tolerated before it fires */
    int64_t window_ms;  /* its time bound, for the rules that have one */
    double ratio;       /* tokens_not_cached: tokens per call */
};

/* The `audit:` section of a scenario. */
struct audit_config {
    struct audit_rule_config rules[AUDIT_RULES];
    unsigned max_tracked; /* entries per state table (a power of two) */
};

/* The catalogue: AUDIT_RULES rows in enum audit_rule order. */
const struct findings_rule *auditconf_catalogue(void);

/* Sets every rule to its defaults (a scenario without `audit:`). */
void auditconf_defaults(struct audit_config *c);

/*
 * Parses a scenario's `audit:` section into *(struct audit_config **)dst,
 * allocated with the defaults the first time (a schema_field parser).
 */
int auditconf_parse(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                    const void *arg);

/* Frees a parsed `audit:` section. NULL-safe. */
void auditconf_free(struct audit_config *c);

/* The rule's id as written in scenarios and findings. */
const char *auditconf_rule_id(enum audit_rule rule);

/* Parses "critical", "warning" or "info"; 0 or MOCK_EINVAL. */
int auditconf_severity_parse(const char *s, enum audit_severity *out);

#endif
