/*
 * schema: strict reading of YAML documents into C structs, driven by
 * tables of fields.
 *
 * libyaml parses a whole document into nodes, each with the line and
 * column it starts at. A struct schema_field table names the keys a
 * mapping may hold, the function that parses each value and where in the
 * destination struct it goes; schema_map() walks a mapping against such
 * a table and refuses an unknown key, a duplicate key or a missing
 * required key. The value parsers refuse a wrong type or a bad value.
 * Every refusal says where: "FILE:LINE:COLUMN: reason", 1-based.
 *
 * A parser that replaces an owned value frees the old one first, so a
 * struct can be filled by several documents in turn (later keys win).
 */
#ifndef CYBRID_SCHEMA_H
#define CYBRID_SCHEMA_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* Why and where a document was refused. */
struct schema_err {
    struct mock_err base; /* code, and msg "FILE:LINE:COLUMN: reason" */
    char file[128];
    int line, column; /* 1-based; 0 when the error has no place */
    char reason[352];
};

/* One document being read. */
struct schema_ctx {
    const char *file; /* named in errors */
    yaml_document_t *doc;
    struct schema_err *err;
    const char *dir; /* folder of the file being read, or NULL */
    size_t budget;   /* nodes still allowed to be visited */
    void *user;      /* the caller's state, for its own parsers */
};

/*
 * Parses the node into dst (a field of the struct being filled); arg is
 * the field's arg. Returns 0, or MOCK_EINVAL after schema_fail().
 */
typedef int (*schema_parse_fn)(struct schema_ctx *cx, yaml_node_t *node,
                               void *dst, const void *arg);

struct schema_field {
    const char *key;
    schema_parse_fn parse;
    size_t offset; /* of the destination inside the struct */
    const void *arg;
    int required; /* 1: the key must be present */
};

/* A row of a field table: key, parser, the member of type it fills. */
#define SCHEMA_FIELD(type, key, fn, member, arg, req)                          \
    {                                                                          \
        key, fn, offsetof(type, member), arg, req                              \
    }

/* An inclusive range for schema_uint. */
struct schema_range {
    long long min, max;
};

/* An inclusive range for schema_real. */
struct schema_real_range {
    double min, max;
};

/*
 * Parses text[0..len) as exactly one YAML document into doc (free it with
 * yaml_document_delete). Syntax errors, an empty text and a second
 * document are refused with their place. Returns 0 or MOCK_EINVAL.
 */
int schema_parse(const char *text, size_t len, const char *file,
                 yaml_document_t *doc, struct schema_err *err);

/* Fills err at node's start; returns MOCK_EINVAL. */
int schema_fail(struct schema_ctx *cx, const yaml_node_t *node, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

/* Fills err with a place given directly (line and column 1-based). */
int schema_fail_at(struct schema_err *err, const char *file, int line,
                   int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Walks a mapping node against fields (ended by a NULL key), parsing each
 * value into base + offset. Refuses a non-mapping, a non-scalar or
 * unknown key, a repeated key and a missing required key.
 */
int schema_map(struct schema_ctx *cx, yaml_node_t *node,
               const struct schema_field *fields, void *base);

/* The node with this id in the document being read. */
yaml_node_t *schema_node(struct schema_ctx *cx, int id);

/* The value of key in a mapping node, or NULL. */
yaml_node_t *schema_lookup(struct schema_ctx *cx, yaml_node_t *map,
                           const char *key);

/*
 * The scalar's text, or NULL (after schema_fail) for another node or a
 * text holding a NUL character.
 */
const char *schema_scalar(struct schema_ctx *cx, yaml_node_t *node,
                          const char *want);

/* 1 when the node is a plain (unquoted) scalar equal to word. */
int schema_is_word(const yaml_node_t *node, const char *word);

/* Value parsers for schema_field rows; dst's type is given first. */
/* char *: an owned string; replaces the old one. */
int schema_string(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                  const void *arg);
/* char *: like schema_string, but the old value is wiped. */
int schema_secret(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                  const void *arg);
/* char *: one of the strings in arg (const char *const[], NULL-ended). */
int schema_enum(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* char[33]: 32 lowercase hex characters. */
int schema_guid(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* struct strlist: a sequence of strings; replaces the old list. */
int schema_strlist(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                   const void *arg);
/* struct strlist: IP addresses or CIDR ranges; arg non-NULL: IPv4 only. */
int schema_addrlist(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                    const void *arg);
/* unsigned: a plain whole number inside arg (struct schema_range). */
int schema_uint(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* double: a plain decimal number inside arg (struct schema_real_range). */
int schema_real(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* char *: a readable file; a relative path is taken from cx->dir. */
int schema_file(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* int: plain true or false, stored as 1 or 0. */
int schema_bool(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* int64_t: a duration such as 60s, 5m, 8h, 1h30m, stored in seconds. */
int schema_seconds(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                   const void *arg);
/* int64_t: a duration stored in milliseconds (500ms allowed). */
int schema_millis(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                  const void *arg);
/* int64_t: an ISO 8601 instant in epoch milliseconds; `now` gives 0. */
int schema_instant(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                   const void *arg);
/* char *: a calendar date, YYYY-MM-DD. */
int schema_date(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg);
/* Any mapping: walks it with arg (a field table) onto dst. */
int schema_submap(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                  const void *arg);

/*
 * Parses a duration: one or more <digits><unit> groups with units ms, s,
 * m, h, d ("90s", "1h30m", "500ms"). Returns 0 and the total in
 * milliseconds, or MOCK_EINVAL.
 */
int schema_parse_duration(const char *s, int64_t *ms);

/*
 * Parses YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM) into epoch
 * milliseconds. Returns 0 or MOCK_EINVAL.
 */
int schema_parse_instant(const char *s, int64_t *ms);

#endif
