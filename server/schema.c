/*
 * schema: the table walker and the value parsers.
 *
 * Types are checked on the node, not guessed from text: a number must be
 * a plain scalar of digits (a quoted "100" is a string), a boolean a
 * plain true or false. Aliases are allowed, but every visit of a node
 * spends from a budget, so a document cannot make the walk explode.
 */
#include "schema.h"

#include "scenario.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS 64

static void fill(struct schema_err *err, const char *file, int line, int column,
                 const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
fill(struct schema_err *err, const char *file, int line, int column,
     const char *fmt, va_list ap)
{
    if (err == NULL)
        return;
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = column;
    err->base.code = MOCK_EINVAL;
    if (line > 0)
        snprintf(err->base.msg, sizeof(err->base.msg), "%s:%d:%d: %s",
                 err->file, line, column, err->reason);
    else
        snprintf(err->base.msg, sizeof(err->base.msg), "%s: %s", err->file,
                 err->reason);
}

int
schema_fail_at(struct schema_err *err, const char *file, int line, int column,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fill(err, file, line, column, fmt, ap);
    va_end(ap);
    return MOCK_EINVAL;
}

int
schema_fail(struct schema_ctx *cx, const yaml_node_t *node, const char *fmt,
            ...)
{
    va_list ap;

    va_start(ap, fmt);
    fill(cx->err, cx->file, (int)node->start_mark.line + 1,
         (int)node->start_mark.column + 1, fmt, ap);
    va_end(ap);
    return MOCK_EINVAL;
}

static int
syntax_error(yaml_parser_t *p, const char *file, struct schema_err *err)
{
    const char *problem = p->problem ? p->problem : "unreadable YAML";

    if (p->error == YAML_MEMORY_ERROR)
        return schema_fail_at(err, file, 0, 0, "out of memory");
    if (p->context != NULL)
        return schema_fail_at(err, file, (int)p->problem_mark.line + 1,
                              (int)p->problem_mark.column + 1,
                              "YAML syntax: %s %s", p->context, problem);
    return schema_fail_at(err, file, (int)p->problem_mark.line + 1,
                          (int)p->problem_mark.column + 1, "YAML syntax: %s",
                          problem);
}

int
schema_parse(const char *text, size_t len, const char *file,
             yaml_document_t *doc, struct schema_err *err)
{
    yaml_parser_t p;
    yaml_document_t extra;
    yaml_node_t *root;
    int rc = 0;

    if (memchr(text, '\0', len) != NULL)
        return schema_fail_at(err, file, 0, 0, "contains a NUL byte");
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        rc = syntax_error(&p, file, err);
        yaml_parser_delete(&p);
        return rc;
    }
    root = yaml_document_get_root_node(doc);
    if (root == NULL) {
        rc = schema_fail_at(err, file, 0, 0, "the scenario is empty");
    } else if (!yaml_parser_load(&p, &extra)) {
        rc = syntax_error(&p, file, err);
    } else {
        yaml_node_t *second = yaml_document_get_root_node(&extra);

        if (second != NULL)
            rc = schema_fail_at(err, file, (int)second->start_mark.line + 1,
                                (int)second->start_mark.column + 1,
                                "only one YAML document is allowed");
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&p);
    if (rc != 0)
        yaml_document_delete(doc);
    return rc;
}

yaml_node_t *
schema_node(struct schema_ctx *cx, int id)
{
    return yaml_document_get_node(cx->doc, id);
}

static const char *
type_name(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

static int
spend(struct schema_ctx *cx, const yaml_node_t *node)
{
    if (cx->budget == 0)
        return schema_fail(cx, node, "too many nodes (aliases expanding?)");
    cx->budget--;
    return 0;
}

const char *
schema_scalar(struct schema_ctx *cx, yaml_node_t *node, const char *want)
{
    if (spend(cx, node) != 0)
        return NULL;
    if (node->type != YAML_SCALAR_NODE) {
        schema_fail(cx, node, "expected %s, got %s", want, type_name(node));
        return NULL;
    }
    /* A "\0" escape would cut the text short wherever it is read. */
    if (strlen((const char *)node->data.scalar.value) !=
        node->data.scalar.length) {
        schema_fail(cx, node, "a NUL character is not allowed here");
        return NULL;
    }
    return (const char *)node->data.scalar.value;
}

int
schema_is_word(const yaml_node_t *node, const char *word)
{
    return node->type == YAML_SCALAR_NODE &&
           node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           strcmp((const char *)node->data.scalar.value, word) == 0;
}

yaml_node_t *
schema_lookup(struct schema_ctx *cx, yaml_node_t *map, const char *key)
{
    if (map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = schema_node(cx, p->key);

        if (k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return schema_node(cx, p->value);
    }
    return NULL;
}

static int
find_field(const struct schema_field *fields, const char *key)
{
    for (int i = 0; fields[i].key != NULL; i++) {
        if (strcmp(fields[i].key, key) == 0)
            return i;
    }
    return -1;
}

static int
check_required(struct schema_ctx *cx, yaml_node_t *node,
               const struct schema_field *fields, const char *seen)
{
    for (int i = 0; fields[i].key != NULL; i++) {
        if (fields[i].required && !seen[i])
            return schema_fail(cx, node, "missing key \"%s\"", fields[i].key);
    }
    return 0;
}

int
schema_map(struct schema_ctx *cx, yaml_node_t *node,
           const struct schema_field *fields, void *base)
{
    char seen[MAX_FIELDS] = {0};

    if (spend(cx, node) != 0)
        return MOCK_EINVAL;
    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node, "expected a mapping, got %s",
                           type_name(node));
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = schema_node(cx, p->key);
        const char *key = schema_scalar(cx, k, "a key");
        int i;

        if (key == NULL)
            return MOCK_EINVAL;
        i = find_field(fields, key);
        if (i < 0)
            return schema_fail(cx, k, "unknown key \"%s\"", key);
        if (seen[i])
            return schema_fail(cx, k, "duplicate key \"%s\"", key);
        seen[i] = 1;
        if (fields[i].parse(cx, schema_node(cx, p->value),
                            (char *)base + fields[i].offset,
                            fields[i].arg) != 0)
            return MOCK_EINVAL;
    }
    return check_required(cx, node, fields, seen);
}

int
schema_submap(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    return schema_map(cx, node, arg, dst);
}

/* A string value: any scalar but a plain null or nothing at all. */
static const char *
text_value(struct schema_ctx *cx, yaml_node_t *node)
{
    const char *s = schema_scalar(cx, node, "a string");

    if (s == NULL)
        return NULL;
    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)) {
        schema_fail(cx, node, "expected a string, got nothing");
        return NULL;
    }
    return s;
}

int
schema_string(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    const char *s = text_value(cx, node);
    char **out = dst;

    if (s == NULL)
        return MOCK_EINVAL;
    free(*out);
    *out = xstrdup(s);
    return 0;
}

int
schema_secret(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    const char *s = text_value(cx, node);
    char **out = dst;

    if (s == NULL)
        return MOCK_EINVAL;
    secret_free(*out);
    *out = xstrdup(s);
    return 0;
}

int
schema_enum(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const char *const *allowed = arg;
    const char *s = text_value(cx, node);
    char list[256] = "";

    if (s == NULL)
        return MOCK_EINVAL;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(allowed[i], s) == 0)
            return schema_string(cx, node, dst, NULL);
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 i ? ", " : "", allowed[i]);
    }
    return schema_fail(cx, node, "bad value \"%s\": want one of %s", s, list);
}

int
schema_guid(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const char *s = text_value(cx, node);

    if (s == NULL)
        return MOCK_EINVAL;
    if (!guid_valid(s))
        return schema_fail(cx, node,
                           "bad guid \"%.40s\": want 32 lowercase hex "
                           "characters",
                           s);
    memcpy(dst, s, 33);
    return 0;
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

/* Checks one list item; 0 or MOCK_EINVAL after schema_fail. */
typedef int (*item_check_fn)(struct schema_ctx *cx, yaml_node_t *node,
                             const char *s, const void *arg);

static int
read_list(struct schema_ctx *cx, yaml_node_t *node, struct strlist *out,
          item_check_fn check, const void *arg)
{
    struct strlist l = {0};
    size_t n;

    if (spend(cx, node) != 0)
        return MOCK_EINVAL;
    if (node->type != YAML_SEQUENCE_NODE)
        return schema_fail(cx, node, "expected a list, got %s",
                           type_name(node));
    n = (size_t)(node->data.sequence.items.top -
                 node->data.sequence.items.start);
    l.v = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = schema_node(cx, node->data.sequence.items.start[i]);
        const char *s = text_value(cx, item);

        if (s == NULL || (check != NULL && check(cx, item, s, arg) != 0)) {
            strlist_clear(&l);
            return MOCK_EINVAL;
        }
        l.v[l.n++] = xstrdup(s);
    }
    strlist_clear(out);
    *out = l;
    return 0;
}

int
schema_strlist(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    return read_list(cx, node, dst, NULL, NULL);
}

static int
check_addr(struct schema_ctx *cx, yaml_node_t *node, const char *s,
           const void *v4_only)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    unsigned char buf[16];
    int max = 32;

    if (n < sizeof(host)) {
        memcpy(host, s, n);
        host[n] = '\0';
        if (inet_pton(AF_INET, host, buf) != 1) {
            max = v4_only ? -1 : 128;
            if (max > 0 && inet_pton(AF_INET6, host, buf) != 1)
                max = -1;
        }
    } else {
        max = -1;
    }
    if (max > 0 && slash != NULL) {
        char *end;
        long bits = strtol(slash + 1, &end, 10);

        if (!isdigit((unsigned char)slash[1]) || *end != '\0' || bits > max)
            max = -1;
    }
    if (max < 0)
        return schema_fail(cx, node,
                           "bad address \"%.60s\": want an %s "
                           "address or CIDR range",
                           s, v4_only ? "IPv4" : "IP");
    return 0;
}

int
schema_addrlist(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg)
{
    return read_list(cx, node, dst, check_addr, arg);
}

/* A plain scalar's text, or NULL after a type error naming want. */
static const char *
plain_value(struct schema_ctx *cx, yaml_node_t *node, const char *want)
{
    const char *s = schema_scalar(cx, node, want);

    if (s != NULL && node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        schema_fail(cx, node, "expected %s, got a quoted string", want);
        return NULL;
    }
    return s;
}

int
schema_uint(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const struct schema_range *r = arg;
    const char *s = plain_value(cx, node, "a whole number");
    long long v = 0;

    if (s == NULL)
        return MOCK_EINVAL;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 1000000000000LL)
            return schema_fail(cx, node,
                               "expected a whole number, got "
                               "\"%.40s\"",
                               s);
        v = v * 10 + (*p - '0');
    }
    if (*s == '\0' || v < r->min || v > r->max)
        return schema_fail(cx, node, "%s is out of range %lld..%lld", s, r->min,
                           r->max);
    *(unsigned *)dst = (unsigned)v;
    return 0;
}

int
schema_real(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const struct schema_real_range *r = arg;
    const char *s = plain_value(cx, node, "a number");
    char *end;
    double v;

    if (s == NULL)
        return MOCK_EINVAL;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !isdigit((unsigned char)*s) || !isfinite(v))
        return schema_fail(cx, node, "expected a number, got \"%.40s\"", s);
    if (v < r->min || v > r->max)
        return schema_fail(cx, node, "%s is out of range %g..%g", s, r->min,
                           r->max);
    *(double *)dst = v;
    return 0;
}

int
schema_file(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const char *s = text_value(cx, node);
    char **out = dst;
    char *path;

    if (s == NULL)
        return MOCK_EINVAL;
    if (*s == '/' || cx->dir == NULL)
        path = xstrdup(s);
    else
        path = xasprintf("%s/%s", cx->dir, s);
    if (access(path, R_OK) != 0) {
        free(path);
        return schema_fail(cx, node, "cannot read file \"%.100s\"", s);
    }
    free(*out);
    *out = path;
    return 0;
}

int
schema_bool(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const char *s = plain_value(cx, node, "true or false");

    if (s == NULL)
        return MOCK_EINVAL;
    if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
        return schema_fail(cx, node, "expected true or false, got \"%.40s\"",
                           s);
    *(int *)dst = strcmp(s, "true") == 0;
    return 0;
}

int
schema_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1},
                 {"s", 1000},
                 {"m", 60000},
                 {"h", 3600000LL},
                 {"d", 86400000LL}};
    int64_t total = 0;

    if (*s == '\0')
        return MOCK_EINVAL;
    while (*s) {
        int64_t v = 0;
        size_t u, len;

        if (!isdigit((unsigned char)*s))
            return MOCK_EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
            if (v > 1000000000LL)
                return MOCK_EINVAL;
            v = v * 10 + (*s - '0');
        }
        for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            len = strlen(units[u].unit);
            if (strncmp(s, units[u].unit, len) == 0 &&
                !isalpha((unsigned char)s[len]))
                break;
        }
        if (u == sizeof(units) / sizeof(units[0]))
            return MOCK_EINVAL;
        total += v * units[u].ms;
        if (total > 100LL * 365 * 86400000LL)
            return MOCK_EINVAL;
        s += len;
    }
    *ms = total;
    return 0;
}

static int
duration(struct schema_ctx *cx, yaml_node_t *node, int64_t *ms, int whole)
{
    const char *s = plain_value(cx, node, "a duration");

    if (s == NULL)
        return MOCK_EINVAL;
    if (schema_parse_duration(s, ms) != 0)
        return schema_fail(cx, node,
                           "bad duration \"%.40s\": want a number "
                           "and a unit, like 500ms, 60s, 5m, 8h or 1h30m",
                           s);
    if (*ms == 0 || (whole && *ms % 1000 != 0))
        return schema_fail(cx, node, "bad duration \"%.40s\": want %s", s,
                           whole ? "whole seconds, at least 1s"
                                 : "at least 1ms");
    return 0;
}

int
schema_seconds(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    int64_t ms;

    if (duration(cx, node, &ms, 1) != 0)
        return MOCK_EINVAL;
    *(int64_t *)dst = ms / 1000;
    return 0;
}

int
schema_millis(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    return duration(cx, node, dst, 0);
}

/* Reads exactly n digits; -1 when they are not there. */
static int
digits(const char **s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++, (*s)++) {
        if (!isdigit((unsigned char)**s))
            return -1;
        v = v * 10 + (**s - '0');
    }
    return v;
}

static int
days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses YYYY-MM-DD at *s; -1 when it is not a real date. */
static int64_t
parse_date(const char **s)
{
    int y = digits(s, 4), m, d;

    if (y < 1970 || *(*s)++ != '-' || (m = digits(s, 2)) < 1 || m > 12 ||
        *(*s)++ != '-' || (d = digits(s, 2)) < 1 || d > days_in_month(y, m))
        return -1;
    return days_from_civil(y, m, d);
}

int
schema_parse_instant(const char *s, int64_t *ms)
{
    int64_t days = parse_date(&s), frac = 0, offset = 0;
    int h, mi, sec;

    if (days < 0 || *s++ != 'T' || (h = digits(&s, 2)) < 0 || h > 23 ||
        *s++ != ':' || (mi = digits(&s, 2)) < 0 || mi > 59 || *s++ != ':' ||
        (sec = digits(&s, 2)) < 0 || sec > 59)
        return MOCK_EINVAL;
    if (*s == '.') {
        int64_t scale = 100;

        if (!isdigit((unsigned char)*++s))
            return MOCK_EINVAL;
        for (; isdigit((unsigned char)*s); s++, scale /= 10)
            frac += (*s - '0') * scale;
    }
    if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh = digits(&s, 2), om;

        if (oh < 0 || oh > 23 || *s++ != ':' || (om = digits(&s, 2)) < 0 ||
            om > 59 || *s != '\0')
            return MOCK_EINVAL;
        offset = sign * (oh * 3600 + om * 60);
    } else if (strcmp(s, "Z") != 0) {
        return MOCK_EINVAL;
    }
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset) * 1000 + frac;
    return 0;
}

int
schema_instant(struct schema_ctx *cx, yaml_node_t *node, void *dst,
               const void *arg)
{
    const char *s = text_value(cx, node);
    int64_t ms;

    if (s == NULL)
        return MOCK_EINVAL;
    if (schema_is_word(node, "now")) {
        *(int64_t *)dst = 0;
        return 0;
    }
    if (schema_parse_instant(s, &ms) != 0 || ms <= 0)
        return schema_fail(cx, node,
                           "bad time \"%.40s\": want ISO 8601 UTC "
                           "like 2026-01-01T09:00:00Z, or now",
                           s);
    *(int64_t *)dst = ms;
    return 0;
}

int
schema_date(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    const char *s = text_value(cx, node);
    const char *p = s;

    if (s == NULL)
        return MOCK_EINVAL;
    if (parse_date(&p) < 0 || *p != '\0')
        return schema_fail(cx, node, "bad date \"%.40s\": want YYYY-MM-DD", s);
    return schema_string(cx, node, dst, NULL);
}
