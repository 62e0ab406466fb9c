/*
 * faultspec: field tables and parsers of the faults and timeline lists.
 *
 * An entry is read onto a zeroed struct with its defaults set, then
 * checked as a whole; on a refusal everything read so far is freed and
 * the scenario keeps its parent's list.
 */
#include "faultspec.h"

#include "webhooks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[FAULT_ACTIONS] = {
    "respond",  "delay",     "reset",         "hang",
    "truncate", "malformed", "expire_tokens", "rate_limit",
};

const char *
faultspec_action_name(enum fault_action a)
{
    return a >= 0 && a < FAULT_ACTIONS ? action_names[a] : "none";
}

static void
strlist_clear(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void
faultspec_match_free(struct fault_match *m)
{
    free(m->method);
    free(m->path);
    for (size_t i = 0; i < m->n_headers; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    memset(m, 0, sizeof(*m));
    m->token_type = MATCH_TOKEN_ANY;
}

static void
rule_clear(struct fault_rule *r)
{
    free(r->name);
    faultspec_match_free(&r->match);
    strlist_clear(&r->hdr_names);
    strlist_clear(&r->hdr_values);
    free(r->body);
    free(r->message_code);
}

static void
entry_clear(struct timeline_entry *e)
{
    free(e->name);
    faultspec_match_free(&e->on);
    free(e->event_type);
    free(e->tamper);
    free(e->organization_guid);
    free(e->bank_guid);
    free(e->object_guid);
}

void
faultspec_free(struct scenario *sc)
{
    for (size_t i = 0; i < sc->n_faults; i++)
        rule_clear(&sc->faults[i]);
    free(sc->faults);
    sc->faults = NULL;
    sc->n_faults = 0;
    for (size_t i = 0; i < sc->n_timeline; i++)
        entry_clear(&sc->timeline[i]);
    free(sc->timeline);
    sc->timeline = NULL;
    sc->n_timeline = 0;
}

/* ---- match ------------------------------------------------------------ */

static int
parse_method(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    const char *s = schema_scalar(cx, node, "an HTTP method");
    size_t n = s ? strlen(s) : 0;

    if (s == NULL)
        return MOCK_EINVAL;
    if (n == 0 || n > 16 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n)
        return schema_fail(cx, node,
                           "bad method \"%.40s\": want an upper-case HTTP "
                           "method such as GET or POST",
                           s);
    return schema_string(cx, node, dst, NULL);
}

/* A path glob: starts with '/', and ** only as a whole segment. */
static int
parse_glob(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    const char *s = schema_scalar(cx, node, "a path");
    const char *p;

    if (s == NULL)
        return MOCK_EINVAL;
    if (*s != '/' || strlen(s) > 1000)
        return schema_fail(cx, node,
                           "bad path \"%.60s\": want a path starting with /, "
                           "like /api/banks/*",
                           s);
    for (p = strstr(s, "**"); p != NULL; p = strstr(p + 2, "**")) {
        if (p[-1] != '/' || (p[2] != '\0' && p[2] != '/'))
            return schema_fail(cx, node,
                               "bad path \"%.60s\": ** must be a whole "
                               "segment, like /api/**",
                               s);
    }
    return schema_string(cx, node, dst, NULL);
}

static int
parse_token_type(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                 const void *arg)
{
    static const char *const names[] = {"none", "organization", "bank", NULL,
                                        "customer"};
    const char *s = schema_scalar(cx, node, "a token type");

    if (s == NULL)
        return MOCK_EINVAL;
    for (int i = 0; i < 5; i++) {
        if (names[i] != NULL && strcmp(names[i], s) == 0) {
            *(int *)dst = i;
            return 0;
        }
    }
    return schema_fail(cx, node,
                       "bad token_type \"%.40s\": want one of organization, "
                       "bank, customer, none",
                       s);
}

/* headers: {Name: true | false | "exact value"}. */
static int
parse_headers(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    struct fault_match *m = dst;
    yaml_node_pair_t *p;
    size_t n;

    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "expected a mapping of header names to true, "
                           "false or a value");
    n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    m->headers = xcalloc(n ? n : 1, sizeof(*m->headers));
    for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = schema_node(cx, p->key),
                    *v = schema_node(cx, p->value);
        const char *name = schema_scalar(cx, k, "a header name");
        const char *value = schema_scalar(cx, v, "true, false or a value");
        struct fault_header_match *h = &m->headers[m->n_headers];

        if (name == NULL || value == NULL)
            return MOCK_EINVAL;
        if (*name == '\0' || strlen(name) > 47 ||
            strpbrk(name, " \t:()<>@,;\\\"/[]?={}") != NULL)
            return schema_fail(cx, k, "bad header name \"%.40s\"", name);
        h->name = xstrdup(name);
        m->n_headers++;
        if (schema_is_word(v, "false"))
            h->absent = 1;
        else if (!schema_is_word(v, "true"))
            h->value = xstrdup(value);
    }
    return 0;
}

#define M(key, fn, member)                                                     \
    SCHEMA_FIELD(struct fault_match, key, fn, member, NULL, 0)
static const struct schema_field match_fields[] = {
    M("method", parse_method, method),
    M("path", parse_glob, path),
    {"headers", parse_headers, 0, NULL, 0},
    M("token_type", parse_token_type, token_type),
    {NULL, NULL, 0, NULL, 0},
};

/* ---- faults ----------------------------------------------------------- */

static const struct schema_range after_range = {0, 1000000000};
static const struct schema_range times_range = {1, 1000000000};
static const struct schema_range seed_range = {0, 4294967295LL};
static const struct schema_real_range prob_range = {0.0, 1.0};

static int
parse_respond_headers(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                      const void *arg)
{
    struct fault_rule *r = dst;

    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "expected a mapping of header names "
                           "to values");
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = schema_node(cx, p->key),
                    *v = schema_node(cx, p->value);
        const char *name = schema_scalar(cx, k, "a header name");
        const char *value = schema_scalar(cx, v, "a header value");

        if (name == NULL || value == NULL)
            return MOCK_EINVAL;
        if (*name == '\0' || strlen(name) > 47 ||
            strpbrk(name, " \t:()<>@,;\\\"/[]?={}") != NULL)
            return schema_fail(cx, k, "bad header name \"%.40s\"", name);
        if (strlen(value) > 500 || strpbrk(value, "\r\n") != NULL)
            return schema_fail(cx, v,
                               "bad header value: at most 500 "
                               "characters on one line");
        r->hdr_names.v =
            xrealloc(r->hdr_names.v, (r->hdr_names.n + 1) * sizeof(char *));
        r->hdr_values.v =
            xrealloc(r->hdr_values.v, (r->hdr_values.n + 1) * sizeof(char *));
        r->hdr_names.v[r->hdr_names.n++] = xstrdup(name);
        r->hdr_values.v[r->hdr_values.n++] = xstrdup(value);
    }
    if (r->hdr_names.n > 8)
        return schema_fail(cx, node, "at most 8 headers");
    return 0;
}

static int
parse_status(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    static const struct schema_range any = {200, 599};

    return schema_uint(cx, node, dst, &any);
}

static const struct schema_field respond_fields[] = {
    SCHEMA_FIELD(struct fault_rule, "status", parse_status, status, NULL, 1),
    {"headers", parse_respond_headers, 0, NULL, 0},
    SCHEMA_FIELD(struct fault_rule, "body", schema_string, body, NULL, 0),
    SCHEMA_FIELD(struct fault_rule, "message_code", schema_string, message_code,
                 NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

static int
parse_respond(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    struct fault_rule *r = dst;

    r->action = FAULT_RESPOND;
    r->n_actions++;
    return schema_map(cx, node, respond_fields, r);
}

static int
parse_delay(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    struct fault_rule *r = dst;

    r->action = FAULT_DELAY;
    r->n_actions++;
    if (schema_millis(cx, node, &r->ms, NULL) != 0)
        return MOCK_EINVAL;
    if (r->ms > 600000)
        return schema_fail(cx, node, "a delay is at most 10m");
    return 0;
}

static int
parse_action(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    struct fault_rule *r = dst;
    const char *s = schema_scalar(cx, node, "an action name");

    if (s == NULL)
        return MOCK_EINVAL;
    for (int a = FAULT_RESET; a < FAULT_ACTIONS; a++) {
        if (strcmp(s, action_names[a]) == 0) {
            r->action = (enum fault_action)a;
            r->n_actions++;
            return 0;
        }
    }
    return schema_fail(cx, node,
                       "bad action \"%.40s\": want one of reset, hang, "
                       "truncate, malformed, expire_tokens, rate_limit (or "
                       "the keys respond or delay)",
                       s);
}

static int
parse_hang_for(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    if (schema_millis(cx, node, dst, NULL) != 0)
        return MOCK_EINVAL;
    if (*(int64_t *)dst > 600000)
        return schema_fail(cx, node, "hang_for is at most 10m");
    return 0;
}

static int
parse_keep(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    static const struct schema_range range = {0, 100000000};
    unsigned v;

    if (schema_uint(cx, node, &v, &range) != 0)
        return MOCK_EINVAL;
    *(long long *)dst = v;
    return 0;
}

static int
parse_class(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    static const char *const names[LIMIT_CLASSES] = {"general", "oauth_token",
                                                     "customer_tokens"};
    const char *s = schema_scalar(cx, node, "a rate-limit class");

    if (s == NULL)
        return MOCK_EINVAL;
    for (int i = 0; i < LIMIT_CLASSES; i++) {
        if (strcmp(s, names[i]) == 0) {
            *(int *)dst = i;
            return 0;
        }
    }
    return schema_fail(cx, node,
                       "bad class \"%.40s\": want general, oauth_token or "
                       "customer_tokens",
                       s);
}

#define R(key, fn, member, arg)                                                \
    SCHEMA_FIELD(struct fault_rule, key, fn, member, arg, 0)
static const struct schema_field rule_fields[] = {
    R("name", schema_string, name, NULL),
    R("match", schema_submap, match, match_fields),
    R("after", schema_uint, trigger.after, &after_range),
    R("times", schema_uint, trigger.times, &times_range),
    R("probability", schema_real, trigger.probability, &prob_range),
    R("seed", schema_uint, trigger.seed, &seed_range),
    {"respond", parse_respond, 0, NULL, 0},
    {"delay", parse_delay, 0, NULL, 0},
    {"action", parse_action, 0, NULL, 0},
    R("hang_for", parse_hang_for, ms, NULL),
    R("keep_bytes", parse_keep, keep_bytes, NULL),
    R("limit_class", parse_class, limit_class, NULL),
    {NULL, NULL, 0, NULL, 0},
};

/* A parameter key given for an action it does not belong to. */
static int
check_param(struct schema_ctx *cx, yaml_node_t *item, const char *key,
            int belongs)
{
    yaml_node_t *v = schema_lookup(cx, item, key);

    if (v != NULL && !belongs)
        return schema_fail(cx, v, "%s does not apply to this fault's action",
                           key);
    return 0;
}

static int
check_rule(struct schema_ctx *cx, yaml_node_t *item, struct fault_rule *r)
{
    if (r->n_actions != 1)
        return schema_fail(cx, item,
                           "a fault needs exactly one of respond, delay "
                           "or action");
    if (check_param(cx, item, "hang_for", r->action == FAULT_HANG) != 0 ||
        check_param(cx, item, "keep_bytes", r->action == FAULT_TRUNCATE) != 0 ||
        check_param(cx, item, "limit_class", r->action == FAULT_RATE_LIMIT) !=
            0)
        return MOCK_EINVAL;
    if (r->action == FAULT_HANG && r->ms == 0)
        r->ms = 30000;
    return 0;
}

static void
rule_init(struct fault_rule *r, size_t i)
{
    memset(r, 0, sizeof(*r));
    r->match.token_type = MATCH_TOKEN_ANY;
    r->trigger.probability = 1.0;
    r->keep_bytes = -1;
    r->limit_class = LIMIT_NONE;
    r->name = xasprintf("fault-%zu", i + 1);
}

int
faultspec_parse_faults(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                       const void *arg)
{
    struct scenario *sc = dst;
    struct fault_rule *rules;
    size_t n;

    if (node->type != YAML_SEQUENCE_NODE)
        return schema_fail(cx, node, "expected a list of faults");
    n = (size_t)(node->data.sequence.items.top -
                 node->data.sequence.items.start);
    if (n > 64)
        return schema_fail(cx, node, "at most 64 faults");
    rules = xcalloc(n ? n : 1, sizeof(*rules));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = schema_node(cx, node->data.sequence.items.start[i]);

        rule_init(&rules[i], i);
        if (schema_map(cx, item, rule_fields, &rules[i]) != 0 ||
            check_rule(cx, item, &rules[i]) != 0) {
            for (size_t j = 0; j <= i; j++)
                rule_clear(&rules[j]);
            free(rules);
            return MOCK_EINVAL;
        }
    }
    for (size_t i = 0; i < sc->n_faults; i++)
        rule_clear(&sc->faults[i]);
    free(sc->faults);
    sc->faults = rules;
    sc->n_faults = n;
    return 0;
}

/* ---- timeline --------------------------------------------------------- */

static int
parse_at(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    const char *s = schema_scalar(cx, node, "a duration");

    if (s == NULL)
        return MOCK_EINVAL;
    if (strcmp(s, "0s") == 0 || strcmp(s, "0") == 0) {
        *(int64_t *)dst = 0;
        return 0;
    }
    return schema_millis(cx, node, dst, NULL);
}

static int
parse_event_type(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                 const void *arg)
{
    const char *s = schema_scalar(cx, node, "an event type");

    if (s == NULL)
        return MOCK_EINVAL;
    if (!webhooks_event_type_valid(s))
        return schema_fail(cx, node,
                           "bad event_type \"%.60s\": not an event type of "
                           "the Organization API",
                           s);
    return schema_string(cx, node, dst, NULL);
}

static int
parse_tamper(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    const char *s = schema_scalar(cx, node, "a tamper mode");
    enum webhook_tamper t;

    if (s == NULL)
        return MOCK_EINVAL;
    if (webhook_tamper_parse(s, &t) != 0 || t == WEBHOOK_TAMPER_NONE)
        return schema_fail(cx, node,
                           "bad tamper \"%.40s\": want one of bad_signature, "
                           "unsigned, wrong_key, stale_timestamp, "
                           "duplicate, replay",
                           s);
    return schema_string(cx, node, dst, NULL);
}

/* An optional guid stored as an owned string. */
static int
parse_guid_str(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    char guid[33];

    if (schema_guid(cx, node, guid, NULL) != 0)
        return MOCK_EINVAL;
    free(*(char **)dst);
    *(char **)dst = xstrdup(guid);
    return 0;
}

#define E(key, fn, member, req)                                                \
    SCHEMA_FIELD(struct timeline_entry, key, fn, member, NULL, req)
static const struct schema_field emit_fields[] = {
    E("event_type", parse_event_type, event_type, 1),
    E("tamper", parse_tamper, tamper, 0),
    E("organization_guid", parse_guid_str, organization_guid, 0),
    E("bank_guid", parse_guid_str, bank_guid, 0),
    E("object_guid", parse_guid_str, object_guid, 0),
    {NULL, NULL, 0, NULL, 0},
};

static int
parse_emit(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    struct timeline_entry *e = dst;

    e->emit = 1;
    return schema_map(cx, node, emit_fields, e);
}

static int
parse_on(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    struct timeline_entry *e = dst;

    e->has_on = 1;
    return schema_map(cx, node, match_fields, &e->on);
}

static int
parse_true(struct schema_ctx *cx, yaml_node_t *node, void *dst, const void *arg)
{
    if (schema_bool(cx, node, dst, NULL) != 0)
        return MOCK_EINVAL;
    if (*(int *)dst != 1)
        return schema_fail(cx, node, "write true, or leave the key out");
    return 0;
}

/* One class: off, or the fields to change (the others keep their value). */
static int
parse_change(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    struct limit_change *c = dst;
    struct limit_rule r = {0, 0, -1, 0, -1};

    c->given = 1;
    if (schema_is_word(node, "off")) {
        c->off = 1;
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "expected off or a mapping of limit, window, "
                           "status, retry_after");
    if (schema_map(cx, node, scenario_limit_fields(), &r) != 0)
        return MOCK_EINVAL;
    c->mask = (r.limit ? LIMIT_SET_LIMIT : 0) |
              (r.window_ms >= 0 ? LIMIT_SET_WINDOW : 0) |
              (r.status ? LIMIT_SET_STATUS : 0) |
              (r.retry_after >= 0 ? LIMIT_SET_RETRY_AFTER : 0);
    c->rule = r;
    return 0;
}

#define C(key, member)                                                         \
    SCHEMA_FIELD(struct timeline_entry, key, parse_change, member, NULL, 0)
static const struct schema_field changes_fields[] = {
    C("general", limits[LIMIT_GENERAL]),
    C("oauth_token", limits[LIMIT_OAUTH_TOKEN]),
    C("customer_tokens", limits[LIMIT_CUSTOMER_TOKENS]),
    {NULL, NULL, 0, NULL, 0},
};

#define TE(key, fn, member, arg)                                               \
    SCHEMA_FIELD(struct timeline_entry, key, fn, member, arg, 0)
static const struct schema_field entry_fields[] = {
    TE("name", schema_string, name, NULL),
    TE("at", parse_at, at_ms, NULL),
    {"on", parse_on, 0, NULL, 0},
    TE("after", schema_uint, trigger.after, &after_range),
    TE("times", schema_uint, trigger.times, &times_range),
    {"emit", parse_emit, 0, NULL, 0},
    TE("expire_tokens", parse_true, expire_tokens, NULL),
    {"rate_limits", schema_submap, 0, changes_fields, 0},
    {NULL, NULL, 0, NULL, 0},
};

static int
check_entry(struct schema_ctx *cx, yaml_node_t *item, struct timeline_entry *e)
{
    yaml_node_t *at = schema_lookup(cx, item, "at");
    int changes = 0;

    for (int i = 0; i < LIMIT_CLASSES; i++)
        changes += e->limits[i].given;
    if ((at != NULL) == (e->has_on != 0))
        return schema_fail(cx, item,
                           "a timeline entry needs exactly one of at or on");
    if (at == NULL)
        e->at_ms = -1;
    if (at != NULL) {
        if (schema_lookup(cx, item, "times") != NULL)
            return schema_fail(cx, schema_lookup(cx, item, "times"),
                               "times applies to an entry with on");
        if (schema_lookup(cx, item, "after") != NULL)
            return schema_fail(cx, schema_lookup(cx, item, "after"),
                               "after applies to an entry with on");
    }
    if (!e->emit && !e->expire_tokens && changes == 0)
        return schema_fail(cx, item,
                           "a timeline entry needs at least one of emit, "
                           "expire_tokens or rate_limits");
    return 0;
}

int
faultspec_parse_timeline(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                         const void *arg)
{
    struct scenario *sc = dst;
    struct timeline_entry *entries;
    size_t n;

    if (node->type != YAML_SEQUENCE_NODE)
        return schema_fail(cx, node, "expected a list of timeline entries");
    n = (size_t)(node->data.sequence.items.top -
                 node->data.sequence.items.start);
    if (n > 256)
        return schema_fail(cx, node, "at most 256 timeline entries");
    entries = xcalloc(n ? n : 1, sizeof(*entries));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = schema_node(cx, node->data.sequence.items.start[i]);
        struct timeline_entry *e = &entries[i];

        e->on.token_type = MATCH_TOKEN_ANY;
        e->trigger.probability = 1.0;
        e->trigger.times = 1;
        e->name = xasprintf("timeline-%zu", i + 1);
        if (schema_map(cx, item, entry_fields, e) != 0 ||
            check_entry(cx, item, e) != 0) {
            for (size_t j = 0; j <= i; j++)
                entry_clear(&entries[j]);
            free(entries);
            return MOCK_EINVAL;
        }
    }
    for (size_t i = 0; i < sc->n_timeline; i++)
        entry_clear(&sc->timeline[i]);
    free(sc->timeline);
    sc->timeline = entries;
    sc->n_timeline = n;
    return 0;
}
