/*
 * scenario: loads scenarios from YAML.
 *
 * A load starts from the schema's defaults (no fixtures, 8 hour tokens,
 * the guide's rate limits), then applies the files of the `extends`
 * chain from the root-most parent down to the file asked for. Applying a
 * file walks its document against the section tables below, so a key
 * given overwrites what a parent set (mappings merge key by key) and a
 * list given replaces the parent's list whole. name and description are
 * never inherited. After the last file the fixtures are checked as a
 * whole (guids unique, every reference names a fixture that exists), with
 * errors pointing at the entry that was wrong, in whichever file.
 *
 * A new section is a row in top_fields and a parse function (or a field
 * table walked by schema_submap).
 *
 * `extends` resolves a name (NAME.yaml in the including file's folder,
 * then the built-in scenarios/), builtin:PATH (a compiled-in file, such
 * as builtin:fixtures/default.yaml) or a relative path inside the
 * scenario folder: the folder of the file first loaded. Absolute paths,
 * `..` that climbs out and symlinks that lead out are refused, as are
 * cycles.
 */
#include "scenario.h"

#include "auditconf.h"
#include "faultspec.h"
#include "fixtures.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 8
#define MAX_FILE (1024 * 1024)
#define NODE_BUDGET 100000

/* One file of the extends chain. */
struct source {
    char *display; /* named in errors */
    char *id;      /* what a cycle is detected by */
    char *dir;     /* its folder: real path, or inside the built-ins */
    int builtin;
    int request; /* 1: text given directly, not read from a file */
    char *text;
    size_t len;
};

struct load {
    struct fixtures_places places; /* the parsers' user pointer */
    struct scenario *sc;
    const char *root; /* the scenario folder (real path), or NULL */
    char **files;     /* display names kept for places */
    size_t n_files;
    const struct source *stack[MAX_DEPTH + 1];
    int depth;
};

/* ---- settings ------------------------------------------------------- */

static int
parse_status(struct schema_ctx *cx, yaml_node_t *node, void *dst,
             const void *arg)
{
    static const struct schema_range any = {100, 599};
    unsigned v;

    if (schema_uint(cx, node, &v, &any) != 0)
        return MOCK_EINVAL;
    if (v != 403 && v != 429)
        return schema_fail(cx, node, "bad status %u: want 429 or 403", v);
    *(int *)dst = (int)v;
    return 0;
}

static const struct schema_range limit_range = {1, 1000000};

static const struct schema_field limit_fields[] = {
    SCHEMA_FIELD(struct limit_rule, "limit", schema_uint, limit, &limit_range,
                 0),
    SCHEMA_FIELD(struct limit_rule, "window", schema_millis, window_ms, NULL,
                 0),
    SCHEMA_FIELD(struct limit_rule, "status", parse_status, status, NULL, 0),
    SCHEMA_FIELD(struct limit_rule, "retry_after", schema_bool, retry_after,
                 NULL, 0),
    {NULL, NULL, 0, NULL, 0},
};

const struct schema_field *
scenario_limit_fields(void)
{
    return limit_fields;
}

/* A rate-limit class: `off`, or a mapping merged onto the parent's. */
static int
parse_limit(struct schema_ctx *cx, yaml_node_t *node, void *dst,
            const void *arg)
{
    struct limit_rule *rule = dst;

    if (schema_is_word(node, "off")) {
        rule->enabled = 0;
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE)
        return schema_fail(cx, node,
                           "expected off or a mapping of limit, "
                           "window, status, retry_after");
    rule->enabled = 1;
    return schema_map(cx, node, limit_fields, rule);
}

#define SC(key, fn, member, arg)                                               \
    SCHEMA_FIELD(struct scenario, key, fn, member, arg, 0)
static const struct schema_field token_fields[] = {
    SC("organization_ttl", schema_seconds, organization_token_ttl, NULL),
    SC("bank_ttl", schema_seconds, bank_token_ttl, NULL),
    SC("customer_ttl", schema_seconds, customer_token_ttl, NULL),
    {NULL, NULL, 0, NULL, 0},
};

static const struct schema_field limits_fields[] = {
    SC("general", parse_limit, limits[LIMIT_GENERAL], NULL),
    SC("oauth_token", parse_limit, limits[LIMIT_OAUTH_TOKEN], NULL),
    SC("customer_tokens", parse_limit, limits[LIMIT_CUSTOMER_TOKENS], NULL),
    SC("trusted_proxies", schema_addrlist, trusted_proxies, NULL),
    {NULL, NULL, 0, NULL, 0},
};

static const struct schema_field clock_fields[] = {
    SC("start", schema_instant, clock_start_ms, NULL),
    {NULL, NULL, 0, NULL, 0},
};

static int
parse_queue_max(struct schema_ctx *cx, yaml_node_t *node, void *dst,
                const void *arg)
{
    static const struct schema_range range = {1, 1000000};
    unsigned v;

    if (schema_uint(cx, node, &v, &range) != 0)
        return MOCK_EINVAL;
    *(size_t *)dst = v;
    return 0;
}

static const struct schema_range attempts_range = {1, 100};
static const struct schema_real_range factor_range = {1.0, 10.0};

#define W(key, fn, member, arg)                                                \
    SCHEMA_FIELD(struct webhook_config, key, fn, member, arg, 0)
static const struct schema_field retry_fields[] = {
    W("attempts", schema_uint, attempts, &attempts_range),
    W("first_delay", schema_millis, first_delay_ms, NULL),
    W("factor", schema_real, factor, &factor_range),
    {NULL, NULL, 0, NULL, 0},
};

static const struct schema_field webhook_fields[] = {
    {"retry", schema_submap, 0, retry_fields, 0},
    W("timeout", schema_millis, timeout_ms, NULL),
    W("ca_file", schema_file, ca_file, NULL),
    W("allow_http", schema_bool, allow_http, NULL),
    W("verify_tls", schema_bool, verify_tls, NULL),
    W("queue_max", parse_queue_max, queue_max, NULL),
    {NULL, NULL, 0, NULL, 0},
};

/* extends was followed before the walk; here its type is checked. */
static int
parse_extends(struct schema_ctx *cx, yaml_node_t *node, void *dst,
              const void *arg)
{
    return schema_scalar(cx, node, "a scenario name or path") ? 0 : MOCK_EINVAL;
}

/* The sections of a scenario file. */
static const struct schema_field top_fields[] = {
    SC("name", schema_string, name, NULL),
    SC("description", schema_string, description, NULL),
    {"extends", parse_extends, 0, NULL, 0},
    {"fixtures", schema_submap, 0, fixtures_fields, 0},
    {"tokens", schema_submap, 0, token_fields, 0},
    {"rate_limits", schema_submap, 0, limits_fields, 0},
    {"clock", schema_submap, 0, clock_fields, 0},
    SC("webhooks", schema_submap, webhooks, webhook_fields),
    {"faults", faultspec_parse_faults, 0, NULL, 0},
    {"timeline", faultspec_parse_timeline, 0, NULL, 0},
    SC("audit", auditconf_parse, audit, NULL),
    {NULL, NULL, 0, NULL, 0},
};

/* What a scenario without `extends` starts from. */
static void
baseline(struct scenario *sc)
{
    sc->organization_token_ttl = 28800;
    sc->bank_token_ttl = 28800;
    sc->customer_token_ttl = 28800;
    sc->limits[LIMIT_GENERAL] = (struct limit_rule){1, 100, 300000, 429, 1};
    sc->limits[LIMIT_OAUTH_TOKEN] = (struct limit_rule){1, 20, 300000, 403, 0};
    sc->limits[LIMIT_CUSTOMER_TOKENS] =
        (struct limit_rule){1, 200, 300000, 403, 0};
    sc->webhooks = (struct webhook_config){
        .attempts = 5,
        .first_delay_ms = 1000,
        .factor = 2.0,
        .timeout_ms = 10000,
        .verify_tls = 1,
        .queue_max = 1024,
    };
}

/* ---- sources and extends -------------------------------------------- */

static void
source_free(struct source *s)
{
    free(s->display);
    free(s->id);
    free(s->dir);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

static const struct scenario_builtin *
builtin_find(const char *path)
{
    for (size_t i = 0; i < scenario_n_builtins; i++) {
        if (strcmp(scenario_builtins[i].path, path) == 0)
            return &scenario_builtins[i];
    }
    return NULL;
}

static void
builtin_source(const struct scenario_builtin *b, struct source *out)
{
    const char *slash = strrchr(b->path, '/');

    out->display = xasprintf("builtin:%s", b->path);
    out->id = xstrdup(out->display);
    out->dir =
        slash ? xstrndup(b->path, (size_t)(slash - b->path)) : xstrdup("");
    out->builtin = 1;
    out->text = xstrndup(b->text, b->len);
    out->len = b->len;
}

/* Reads a whole file of at most MAX_FILE bytes into out->text. */
static int
read_text(const char *path, struct source *out, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        snprintf(why, cap, "cannot open: %s", strerror(errno));
        return errno == ENOENT ? MOCK_ENOENT : MOCK_EIO;
    }
    out->text = xmalloc(MAX_FILE + 1);
    n = fread(out->text, 1, MAX_FILE + 1, f);
    if (ferror(f) || n > MAX_FILE) {
        snprintf(why, cap, "%s",
                 ferror(f) ? "cannot read" : "larger than 1 MiB");
        fclose(f);
        return MOCK_EIO;
    }
    fclose(f);
    out->text[n] = '\0';
    out->len = n;
    return 0;
}

/* 1 when real (a real path) lies inside the folder root. */
static int
inside(const char *root, const char *real)
{
    size_t n = strlen(root);

    return strncmp(root, real, n) == 0 && (real[n] == '/' || n == 1);
}

/*
 * Opens a file named by an extends: real path inside the scenario
 * folder, readable. Errors point at node.
 */
static int
file_source(struct load *ld, struct schema_ctx *cx, yaml_node_t *node,
            const char *path, struct source *out)
{
    char real[PATH_MAX], why[160];

    if (realpath(path, real) == NULL)
        return schema_fail(cx, node, "extends: no scenario file %s", path);
    if (!inside(ld->root, real))
        return schema_fail(cx, node,
                           "extends: %s leads outside the scenario folder %s",
                           path, ld->root);
    if (read_text(real, out, why, sizeof(why)) != 0)
        return schema_fail(cx, node, "extends: %s: %s", path, why);
    out->display = xstrdup(path);
    out->id = xstrdup(real);
    out->dir = xstrndup(real, (size_t)(strrchr(real, '/') - real));
    return 0;
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Joins dir and rel (both relative to a folder) into out, resolving "."
 * and ".."; -1 when the result would climb above the folder.
 */
static int
join_inside(const char *dir, const char *rel, char *out, size_t cap)
{
    char buf[PATH_MAX], *save = NULL;
    size_t len = 0;

    if (snprintf(buf, sizeof(buf), "%s/%s", dir, rel) >= (int)sizeof(buf))
        return -1;
    out[0] = '\0';
    for (char *seg = strtok_r(buf, "/", &save); seg;
         seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            char *cut = strrchr(out, '/');

            if (len == 0)
                return -1;
            len = cut ? (size_t)(cut - out) : 0;
            out[len] = '\0';
            continue;
        }
        if (len + strlen(seg) + 2 > cap)
            return -1;
        len += (size_t)sprintf(out + len, "%s%s", len ? "/" : "", seg);
    }
    return 0;
}

/* extends: builtin:PATH, a file compiled into the binary. */
static int
resolve_builtin(struct schema_ctx *cx, yaml_node_t *node, const char *v,
                struct source *out)
{
    char rel[PATH_MAX], full[PATH_MAX + 8];
    const struct scenario_builtin *b;

    if (join_inside("", v, rel, sizeof(rel)) != 0)
        return schema_fail(cx, node,
                           "extends: \"builtin:%.60s\" climbs out of the "
                           "built-in files",
                           v);
    snprintf(full, sizeof(full), "%s%s", rel,
             has_suffix(rel, ".yaml") ? "" : ".yaml");
    if ((b = builtin_find(full)) == NULL)
        return schema_fail(cx, node, "extends: no built-in %s", full);
    builtin_source(b, out);
    return 0;
}

/* extends: a path with a slash, relative to the including file. */
static int
resolve_path(struct load *ld, struct schema_ctx *cx, yaml_node_t *node,
             const struct source *from, const char *v, struct source *out)
{
    char rel[PATH_MAX], full[PATH_MAX + 8];
    const char *dir = from->dir;
    const struct scenario_builtin *b;

    if (!from->builtin) {
        if (ld->root == NULL)
            return schema_fail(cx, node,
                               "extends: \"%s\" is a path, but this scenario "
                               "has no folder; name a built-in scenario",
                               v);
        dir = from->dir + strlen(ld->root);
        dir += *dir == '/';
    }
    if (join_inside(dir, v, rel, sizeof(rel)) != 0)
        return schema_fail(
            cx, node, "extends: \"%s\" climbs out of the scenario folder", v);
    if (from->builtin) {
        snprintf(full, sizeof(full), "%s%s", rel,
                 has_suffix(rel, ".yaml") ? "" : ".yaml");
        if ((b = builtin_find(full)) == NULL)
            return schema_fail(cx, node, "extends: no built-in %s", full);
        builtin_source(b, out);
        return 0;
    }
    snprintf(full, sizeof(full), "%s/%s%s", ld->root, rel,
             has_suffix(rel, ".yaml") || has_suffix(rel, ".yml") ? ""
                                                                 : ".yaml");
    return file_source(ld, cx, node, full, out);
}

/* extends: a name, looked up beside the including file, then built in. */
static int
resolve_name(struct load *ld, struct schema_ctx *cx, yaml_node_t *node,
             const struct source *from, const char *v, struct source *out)
{
    const char *ext =
        has_suffix(v, ".yaml") || has_suffix(v, ".yml") ? "" : ".yaml";
    char path[PATH_MAX + 64], real[PATH_MAX];
    const struct scenario_builtin *b;

    if (*v == '.' ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(v))
        return schema_fail(cx, node, "extends: bad scenario name \"%.60s\"", v);
    if (!from->builtin && from->dir != NULL) {
        snprintf(path, sizeof(path), "%s/%s%s", from->dir, v, ext);
        if (realpath(path, real) != NULL && strcmp(real, from->id) != 0)
            return file_source(ld, cx, node, path, out);
    }
    snprintf(path, sizeof(path), "scenarios/%s%s", v, ext);
    b = builtin_find(path);
    if (b == NULL)
        return schema_fail(cx, node,
                           "extends: no scenario named \"%.60s\" here or "
                           "built in",
                           v);
    builtin_source(b, out);
    if (strcmp(out->id, from->id) == 0) {
        source_free(out);
        return schema_fail(cx, node, "extends: \"%s\" names this file", v);
    }
    return 0;
}

static int apply(struct load *ld, const struct source *src,
                 struct schema_err *err);

/* Loads the parent named by an extends node, then applies it. */
static int
follow(struct load *ld, struct schema_ctx *cx, yaml_node_t *node,
       const struct source *from)
{
    const char *v = schema_scalar(cx, node, "a scenario name or path");
    struct source parent = {0};
    int rc;

    if (v == NULL)
        return MOCK_EINVAL;
    if (*v == '\0')
        return schema_fail(cx, node, "extends: name a scenario");
    if (*v == '/')
        return schema_fail(cx, node,
                           "extends: \"%.60s\" is an absolute path; give a "
                           "name or a path relative to this file",
                           v);
    if (strncmp(v, "builtin:", 8) == 0)
        rc = resolve_builtin(cx, node, v + 8, &parent);
    else if (strchr(v, '/') != NULL)
        rc = resolve_path(ld, cx, node, from, v, &parent);
    else
        rc = resolve_name(ld, cx, node, from, v, &parent);
    if (rc != 0)
        return rc;
    for (int i = 0; i <= ld->depth; i++) {
        if (strcmp(ld->stack[i]->id, parent.id) == 0) {
            rc = schema_fail(cx, node, "extends: cycle: %s extends %s again",
                             from->display, parent.display);
            source_free(&parent);
            return rc;
        }
    }
    if (ld->depth + 1 > MAX_DEPTH) {
        source_free(&parent);
        return schema_fail(cx, node, "extends: more than %d levels", MAX_DEPTH);
    }
    ld->stack[++ld->depth] = &parent;
    rc = apply(ld, &parent, cx->err);
    ld->depth--;
    source_free(&parent);
    return rc;
}

/* Keeps a copy of a file name for the places that point into it. */
static const char *
keep_file(struct load *ld, const char *name)
{
    ld->files = xrealloc(ld->files, (ld->n_files + 1) * sizeof(char *));
    ld->files[ld->n_files] = xstrdup(name);
    return ld->files[ld->n_files++];
}

static char *
stem(const struct source *src)
{
    const char *base = strrchr(src->display, '/');
    size_t n;

    if (src->request)
        return xstrdup("unnamed");
    base = base ? base + 1 : src->display;
    n = strcspn(base, ".");
    return xstrndup(base, n);
}

/* Applies one file (after its parents) onto the scenario being built. */
static int
apply(struct load *ld, const struct source *src, struct schema_err *err)
{
    yaml_document_t doc;
    struct schema_ctx cx = {0};
    yaml_node_t *root, *ext;
    int rc = 0;

    if (schema_parse(src->text, src->len, src->display, &doc, err) != 0)
        return MOCK_EINVAL;
    cx.file = keep_file(ld, src->display);
    cx.dir = src->builtin ? NULL : src->dir;
    cx.doc = &doc;
    cx.err = err;
    cx.budget = NODE_BUDGET;
    cx.user = &ld->places;
    root = yaml_document_get_root_node(&doc);
    ext = schema_lookup(&cx, root, "extends");
    if (ext != NULL)
        rc = follow(ld, &cx, ext, src);
    if (rc == 0) {
        free(ld->sc->name);
        free(ld->sc->description);
        ld->sc->name = ld->sc->description = NULL;
        rc = schema_map(&cx, root, top_fields, ld->sc);
    }
    if (rc == 0 && ld->sc->name == NULL)
        ld->sc->name = stem(src);
    if (rc == 0 && ld->sc->description == NULL)
        ld->sc->description = xstrdup("");
    yaml_document_delete(&doc);
    return rc;
}

/* ---- loading -------------------------------------------------------- */

/* Applies top (and its parents) onto the defaults and checks the result. */
static int
load(struct source *top, const char *root, struct scenario **out,
     struct schema_err *err)
{
    struct load ld = {0};
    int rc;

    ld.sc = xcalloc(1, sizeof(*ld.sc));
    ld.root = root;
    baseline(ld.sc);
    ld.stack[0] = top;
    rc = apply(&ld, top, err);
    if (rc == 0)
        rc = fixtures_check(ld.sc, &ld.places, err);
    fixtures_places_free(&ld.places);
    for (size_t i = 0; i < ld.n_files; i++)
        free(ld.files[i]);
    free(ld.files);
    if (rc != 0) {
        scenario_free(ld.sc);
        return rc;
    }
    *out = ld.sc;
    return 0;
}

int
scenario_load_text(const char *text, size_t len, const char *display,
                   const char *folder, struct scenario **out,
                   struct schema_err *err)
{
    struct source src = {0};
    char real[PATH_MAX];
    int rc;

    if (folder != NULL && realpath(folder, real) == NULL)
        return schema_fail_at(err, folder, 0, 0, "no such folder: %s",
                              strerror(errno));
    src.display = xstrdup(display);
    src.id = xstrdup(display);
    src.dir = folder ? xstrdup(real) : NULL;
    src.request = 1;
    src.text = xstrndup(text, len);
    src.len = len;
    rc = load(&src, folder ? real : NULL, out, err);
    source_free(&src);
    return rc;
}

int
scenario_load_file(const char *path, struct scenario **out,
                   struct schema_err *err)
{
    struct source src = {0};
    char real[PATH_MAX], why[160], name[128];
    const struct scenario_builtin *b;
    int rc;

    snprintf(name, sizeof(name), "scenarios/%s.yaml", path);
    if (strchr(path, '/') == NULL && access(path, F_OK) != 0 &&
        (b = builtin_find(name)) != NULL) {
        builtin_source(b, &src);
        rc = load(&src, NULL, out, err);
        source_free(&src);
        return rc;
    }
    if (realpath(path, real) == NULL) {
        rc = errno == ENOENT ? MOCK_ENOENT : MOCK_EIO;
        schema_fail_at(err, path, 0, 0, "cannot open: %s", strerror(errno));
        err->base.code = rc;
        return rc;
    }
    if ((rc = read_text(real, &src, why, sizeof(why))) != 0) {
        schema_fail_at(err, path, 0, 0, "%s", why);
        err->base.code = rc;
        source_free(&src);
        return rc;
    }
    src.display = xstrdup(path);
    src.id = xstrdup(real);
    src.dir = xstrndup(real, (size_t)(strrchr(real, '/') - real));
    rc = load(&src, src.dir, out, err);
    if (rc == 0)
        (*out)->file = xstrdup(path);
    source_free(&src);
    return rc;
}

struct scenario *
scenario_default(void)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    if (scenario_load_file("default", &sc, &err) != 0) {
        log_msg(LOG_ERROR, "scenario", "built-in default refused: %s",
                err.base.msg);
        abort();
    }
    return sc;
}

void
scenario_free(struct scenario *sc)
{
    if (sc == NULL)
        return;
    fixtures_free(sc);
    faultspec_free(sc);
    for (size_t i = 0; i < sc->trusted_proxies.n; i++)
        free(sc->trusted_proxies.v[i]);
    free(sc->trusted_proxies.v);
    free(sc->webhooks.ca_file);
    auditconf_free(sc->audit);
    free(sc->name);
    free(sc->description);
    free(sc->file);
    free(sc);
}
