/*
 * config: the command line and its CYBRID_MOCK_* environment twins.
 *
 * Every flag --some-flag can also be set by the environment variable
 * CYBRID_MOCK_SOME_FLAG; a flag on the command line wins. A repeatable
 * flag (--tls-name) takes a comma-separated list from the environment.
 */
#ifndef CYBRID_CONFIG_H
#define CYBRID_CONFIG_H

#include "log.h"
#include "tls.h"
#include "util.h"

#include <stddef.h>

struct config {
    const char *listen;
    const char *tls_dir;
    const char *cert_file;
    const char *key_file;
    const char *tls_names[TLS_MAX_NAMES];
    int n_tls_names;
    enum log_level log_level;
    enum log_format log_format;
    const char *probe_url; /* --probe: health check and exit */
    int threads;
    size_t max_body;
    size_t request_timeout_ms; /* --request-timeout */
    const char *scenario;      /* --scenario FILE or built-in name, or NULL */
    const char *check;         /* --check FILE, or NULL */
    const char *admin_token;   /* --admin-token, or NULL: admin API open */
    size_t journal_size;       /* --journal-size (entries) */
    int fail_on; /* --fail-on: exit 3 at shutdown when the audit found
                    something this severe (0 info .. 2 critical); -1 no */
    int show_help;
    int show_version;
    char *owned[TLS_MAX_NAMES + 4]; /* strings this struct allocated */
    int n_owned;
};

/*
 * Fills cfg from the environment, then argv. Returns 0, or MOCK_EINVAL
 * with err holding a one-line reason fit for the user.
 */
int config_parse(struct config *cfg, int argc, char **argv,
                 struct mock_err *err);

/* Frees what config_parse allocated. NULL-safe. */
void config_free(struct config *cfg);

/* The --help text. */
void config_usage(FILE *out);

#endif
