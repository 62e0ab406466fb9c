/*
 * config: one table describes every flag, so the parser, the environment
 * lookup and the help text cannot drift apart.
 */
#include "config.h"

#include "auditconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind {
    K_STR,
    K_INT,
    K_SIZE,
    K_LEVEL,
    K_FORMAT,
    K_NAMES,
    K_BOOL,
    K_SEVERITY
};

struct flag {
    const char *name; /* without the leading dashes */
    enum kind kind;
    size_t offset;
    const char *arg;
    const char *help;
};

#define F(name, kind, field, arg, help)                                        \
    {                                                                          \
        name, kind, offsetof(struct config, field), arg, help                  \
    }

static const struct flag flags[] = {
    F("listen", K_STR, listen, "HOST:PORT",
      "address to serve HTTPS on (port 0 picks a free port)"),
    F("tls-dir", K_STR, tls_dir, "DIR",
      "where the generated CA (ca.pem) and certificate are kept"),
    F("tls-name", K_NAMES, tls_names, "NAME",
      "extra DNS name or IP for the generated certificate (repeatable)"),
    F("cert", K_STR, cert_file, "FILE", "serve this certificate chain"),
    F("key", K_STR, key_file, "FILE", "private key of --cert"),
    F("log-level", K_LEVEL, log_level, "LEVEL",
      "debug, info, warn, error or off (default info)"),
    F("log-format", K_FORMAT, log_format, "FORMAT",
      "text or json (default text)"),
    F("probe", K_STR, probe_url, "URL",
      "health-check the mock at URL (self: --listen's) and exit"),
    F("threads", K_INT, threads, "N", "worker threads (default 64)"),
    F("max-body", K_SIZE, max_body, "BYTES",
      "largest request body accepted (default 1048576)"),
    F("scenario", K_STR, scenario, "FILE",
      "scenario to run: a YAML file or a built-in name (default: default)"),
    F("check", K_STR, check, "FILE",
      "check a scenario file, print FILE: ok or why not, and exit"),
    F("request-timeout", K_SIZE, request_timeout_ms, "MS",
      "time a client has to send a request's headers and body, and the "
      "longest wait for more of them (default 10000)"),
    F("journal-size", K_SIZE, journal_size, "N",
      "requests kept in the journal (default 10000, at most 1000000)"),
    F("admin-token", K_STR, admin_token, "TOKEN",
      "require Authorization: Bearer TOKEN on /__admin/ (but health)"),
    F("fail-on", K_SEVERITY, fail_on, "SEVERITY",
      "exit 3 at shutdown if the audit found critical, warning or info "
      "findings (at or above)"),
    F("help", K_BOOL, show_help, NULL, "print this help and exit"),
    F("version", K_BOOL, show_version, NULL, "print the version and exit"),
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

void
config_usage(FILE *out)
{
    fprintf(out, "usage: cybrid-mock [options]\n\n"
                 "A mock of the Cybrid sandbox over HTTPS.\n\n");
    for (size_t i = 0; i < N_FLAGS; i++) {
        char left[48];

        snprintf(left, sizeof(left), "--%s%s%s", flags[i].name,
                 flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
        fprintf(out, "  %-24s %s\n", left, flags[i].help);
    }
    fprintf(out, "\nEach option can also be set as CYBRID_MOCK_<OPTION> "
                 "(e.g. CYBRID_MOCK_LISTEN).\n");
}

static char *
keep(struct config *cfg, char *s)
{
    if (cfg->n_owned < (int)(sizeof(cfg->owned) / sizeof(cfg->owned[0])))
        cfg->owned[cfg->n_owned++] = s;
    return s;
}

static int
add_names(struct config *cfg, const char *value, struct mock_err *err)
{
    char *copy = keep(cfg, xstrdup(value));
    char *save = NULL;

    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (cfg->n_tls_names >= TLS_MAX_NAMES)
            return err_set(err, MOCK_EINVAL, "--tls-name: at most %d names",
                           TLS_MAX_NAMES);
        if (*tok != '\0')
            cfg->tls_names[cfg->n_tls_names++] = tok;
    }
    return 0;
}

static int
parse_number(const char *name, const char *value, long long max, long long *out,
             struct mock_err *err)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < 1 || v > max)
        return err_set(err, MOCK_EINVAL,
                       "--%s wants a whole number from 1 to %lld, got \"%s\"",
                       name, max, value);
    *out = v;
    return 0;
}

static int
set_flag(struct config *cfg, const struct flag *f, const char *value,
         struct mock_err *err)
{
    char *field = (char *)cfg + f->offset;
    long long n = 0;
    enum audit_severity sev;

    switch (f->kind) {
    case K_STR:
        if (*value == '\0')
            return err_set(err, MOCK_EINVAL, "--%s must not be empty", f->name);
        *(const char **)field = value;
        return 0;
    case K_INT:
        if (parse_number(f->name, value, 1024, &n, err) != 0)
            return MOCK_EINVAL;
        *(int *)field = (int)n;
        return 0;
    case K_SIZE:
        if (parse_number(f->name, value, 1LL << 30, &n, err) != 0)
            return MOCK_EINVAL;
        *(size_t *)field = (size_t)n;
        return 0;
    case K_LEVEL:
        if (log_level_parse(value, (enum log_level *)field) != 0)
            return err_set(err, MOCK_EINVAL,
                           "--log-level wants debug, info, warn, error or "
                           "off, got \"%s\"",
                           value);
        return 0;
    case K_FORMAT:
        if (log_format_parse(value, (enum log_format *)field) != 0)
            return err_set(err, MOCK_EINVAL,
                           "--log-format wants text or json, got \"%s\"",
                           value);
        return 0;
    case K_NAMES:
        return add_names(cfg, value, err);
    case K_SEVERITY:
        if (auditconf_severity_parse(value, &sev) != 0)
            return err_set(err, MOCK_EINVAL,
                           "--fail-on wants critical, warning or info, got "
                           "\"%s\"",
                           value);
        *(int *)field = (int)sev;
        return 0;
    case K_BOOL:
        *(int *)field = 1;
        return 0;
    }
    return MOCK_EINVAL;
}

static void
env_name(const char *flag, char *out, size_t cap)
{
    size_t o = snprintf(out, cap, "CYBRID_MOCK_");

    for (; *flag && o + 1 < cap; flag++)
        out[o++] = *flag == '-' ? '_' : (char)toupper((unsigned char)*flag);
    out[o] = '\0';
}

static int
read_environment(struct config *cfg, struct mock_err *err)
{
    for (size_t i = 0; i < N_FLAGS; i++) {
        char name[64];
        const char *value;

        if (flags[i].kind == K_BOOL)
            continue;
        env_name(flags[i].name, name, sizeof(name));
        value = getenv(name);
        if (value == NULL || *value == '\0')
            continue;
        if (set_flag(cfg, &flags[i], value, err) != 0) {
            char reason[sizeof(err->msg)];

            snprintf(reason, sizeof(reason), "%s", err->msg);
            return err_set(err, MOCK_EINVAL, "%s: %s", name, reason);
        }
    }
    return 0;
}

static const struct flag *
find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < N_FLAGS; i++) {
        if (strlen(flags[i].name) == len &&
            strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    }
    return NULL;
}

static char *
default_tls_dir(void)
{
    const char *base = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    if (base != NULL && *base == '/')
        return xasprintf("%s/cybrid-mock/tls", base);
    if (home != NULL && *home == '/')
        return xasprintf("%s/.cache/cybrid-mock/tls", home);
    return xasprintf("/tmp/cybrid-mock-%ld/tls", (long)getuid());
}

int
config_parse(struct config *cfg, int argc, char **argv, struct mock_err *err)
{
    int names_from_env;

    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = "127.0.0.1:8443";
    cfg->log_level = LOG_INFO;
    cfg->log_format = LOG_TEXT;
    cfg->threads = 64;
    cfg->max_body = 1024 * 1024;
    cfg->journal_size = 10000;
    cfg->fail_on = -1;
    cfg->request_timeout_ms = 10000;
    if (read_environment(cfg, err) != 0)
        return MOCK_EINVAL;
    names_from_env = cfg->n_tls_names;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        const struct flag *f;

        if (strncmp(arg, "--", 2) != 0)
            return err_set(err, MOCK_EINVAL,
                           "unexpected argument \"%s\" (see --help)", arg);
        eq = strchr(arg + 2, '=');
        f = find_flag(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (f == NULL)
            return err_set(err, MOCK_EINVAL,
                           "unknown option \"%s\" "
                           "(see --help)",
                           arg);
        if (f->kind == K_BOOL) {
            if (eq != NULL)
                return err_set(err, MOCK_EINVAL, "--%s takes no value",
                               f->name);
            value = "1";
        } else if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return err_set(err, MOCK_EINVAL, "--%s needs a value (%s)", f->name,
                           f->arg);
        }
        if (f->kind == K_NAMES && names_from_env > 0) {
            /* The command line replaces the environment's list. */
            cfg->n_tls_names = 0;
            names_from_env = 0;
        }
        if (set_flag(cfg, f, value, err) != 0)
            return MOCK_EINVAL;
    }
    if (cfg->journal_size > 1000000)
        return err_set(err, MOCK_EINVAL,
                       "--journal-size wants 1 to 1000000 entries");
    if (cfg->request_timeout_ms < 100 || cfg->request_timeout_ms > 600000)
        return err_set(err, MOCK_EINVAL,
                       "--request-timeout wants 100 to 600000 ms");
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL))
        return err_set(err, MOCK_EINVAL,
                       "--cert and --key must be given together");
    if (cfg->tls_dir == NULL)
        cfg->tls_dir = keep(cfg, default_tls_dir());
    return 0;
}

void
config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (int i = 0; i < cfg->n_owned; i++)
        free(cfg->owned[i]);
    cfg->n_owned = 0;
}
