/*
 * main: reads the flags, prepares TLS, starts the listener, prints the
 * ready line and waits for a signal.
 *
 * Signals are blocked before any thread starts and taken with sigwait()
 * here, so no handler runs on a worker thread. SIGINT and SIGTERM stop
 * the server, print the audit's summary on stderr and exit 0, or 3 when
 * --fail-on is given and a finding at or above it exists. SIGHUP reloads the
 * --scenario file; a refused file leaves the running scenario in place and logs
 * why.
 *
 * --check FILE loads a scenario the way the server would, prints
 * "FILE: ok" (exit 0) or "FILE:LINE:COLUMN: reason" (exit 1), and stops.
 */
#include "admin.h"
#include "app.h"
#include "audit.h"
#include "config.h"
#include "http.h"
#include "identity.h"
#include "log.h"
#include "probe.h"
#include "scenario.h"
#include "tls.h"

#include <civetweb.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads the scenario a flag names, or the built-in default. */
static int
load_scenario(const char *path, struct scenario **out)
{
    struct schema_err err = {0};

    if (path == NULL) {
        *out = scenario_default();
        return 0;
    }
    if (scenario_load_file(path, out, &err) != 0) {
        fprintf(stderr, "cybrid-mock: %s\n", err.base.msg);
        return 1;
    }
    return 0;
}

static int
check(const char *path)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    if (scenario_load_file(path, &sc, &err) != 0) {
        fprintf(stderr, "%s\n", err.base.msg);
        return 1;
    }
    scenario_free(sc);
    printf("%s: ok\n", path);
    return 0;
}

static void
reload(const char *path)
{
    struct schema_err err = {0};
    struct scenario *sc = NULL;

    if (path == NULL) {
        log_msg(LOG_INFO, "main", "SIGHUP: no --scenario file to reload");
        return;
    }
    if (scenario_load_file(path, &sc, &err) != 0) {
        log_msg(LOG_WARN, "main", "SIGHUP: kept the running scenario: %s",
                err.base.msg);
        return;
    }
    log_msg(LOG_INFO, "main", "SIGHUP: reloaded scenario %s from %s", sc->name,
            path);
    app_replace(sc);
}

/* Tells the admin API where a PUT scenario's relative extends resolve. */
static void
set_scenario_folder(const char *path)
{
    char real[PATH_MAX];
    char *slash;

    if (path == NULL || realpath(path, real) == NULL)
        return;
    slash = strrchr(real, '/');
    if (slash != NULL && slash != real)
        *slash = '\0';
    admin_set_scenario_folder(real);
}

static int
prepare_tls(const struct config *cfg, struct tls_material *tls)
{
    struct tls_options topt = {0};
    struct mock_err err = {0};

    topt.dir = cfg->tls_dir;
    topt.cert_file = cfg->cert_file;
    topt.key_file = cfg->key_file;
    topt.n_names = cfg->n_tls_names;
    memcpy(topt.names, cfg->tls_names, sizeof(topt.names));
    if (tls_prepare(&topt, tls, &err) != 0) {
        fprintf(stderr, "cybrid-mock: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Waits for SIGINT or SIGTERM (returned), reloading on SIGHUP. */
static int
wait_for_stop(const sigset_t *set, const char *scenario)
{
    int sig = 0;

    while (sig != SIGINT && sig != SIGTERM) {
        if (sigwait(set, &sig) != 0)
            break;
        if (sig == SIGHUP)
            reload(scenario);
    }
    return sig;
}

/* Blocks the signals taken by wait_for_stop, before threads start. */
static void
block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void
shutdown_modules(struct tls_material *tls)
{
    app_shutdown();
    identity_shutdown();
    admin_shutdown();
    tls_material_free(tls);
}

static int
serve(const struct config *cfg)
{
    struct tls_material tls;
    struct http_options hopt = {0};
    struct app_options aopt = {0};
    struct http_server *srv;
    struct mock_err err = {0};
    struct scenario *sc;
    char *name;
    sigset_t set;
    int sig, failed;

    if (load_scenario(cfg->scenario, &sc) != 0)
        return 1;
    if (prepare_tls(cfg, &tls) != 0) {
        scenario_free(sc);
        return 1;
    }

    if (identity_init(cfg->tls_dir, &err) != 0) {
        fprintf(stderr, "cybrid-mock: signing key: %s\n", err.msg);
        tls_material_free(&tls);
        scenario_free(sc);
        return 1;
    }
    name = xstrdup(sc->name); /* sc belongs to app from here on */
    set_scenario_folder(cfg->scenario);
    aopt.journal_size = cfg->journal_size;
    aopt.admin_token = cfg->admin_token;
    app_init(sc, &aopt);
    admin_mark_start();

    block_signals(&set);

    hopt.listen = cfg->listen;
    hopt.cert_file = tls.cert_file;
    hopt.key_file = tls.key_file;
    hopt.threads = cfg->threads;
    hopt.max_body = cfg->max_body;
    hopt.request_timeout_ms = cfg->request_timeout_ms;
    hopt.dispatch = app_dispatch;
    hopt.refused = app_refused;
    srv = http_start(&hopt, &err);
    if (srv == NULL) {
        fprintf(stderr, "cybrid-mock: %s\n", err.msg);
        shutdown_modules(&tls);
        audit_shutdown();
        free(name);
        return 1;
    }
    if (tls.ca_file != NULL)
        log_msg(LOG_INFO, "tls", "%s CA at %s",
                tls.generated ? "generated" : "reusing", tls.ca_file);
    log_msg(LOG_INFO, "main", "running scenario %s", name);
    free(name);
    printf("ready %s\n", http_url(srv));
    fflush(stdout);

    sig = wait_for_stop(&set, cfg->scenario);
    log_msg(LOG_INFO, "main", "stopping on signal %d", sig);
    app_interrupt();
    http_stop(srv);
    shutdown_modules(&tls);
    failed = audit_summary(stderr, cfg->fail_on, cfg->log_format == LOG_JSON);
    audit_shutdown();
    return failed ? 3 : 0;
}

int
main(int argc, char **argv)
{
    struct config cfg;
    struct mock_err err = {0};
    int rc;

    if (config_parse(&cfg, argc, argv, &err) != 0) {
        fprintf(stderr, "cybrid-mock: %s\n", err.msg);
        config_free(&cfg);
        return 2;
    }
    if (cfg.show_help) {
        config_usage(stdout);
        config_free(&cfg);
        return 0;
    }
    if (cfg.show_version) {
        printf("cybrid-mock %s (civetweb %s)\n", CYBRID_MOCK_VERSION,
               mg_version());
        config_free(&cfg);
        return 0;
    }
    if (cfg.probe_url != NULL) {
        char *ca = xasprintf("%s/ca.pem", cfg.tls_dir);
        char url[256];

        /* "self": the health endpoint of the address in --listen. */
        if (strcmp(cfg.probe_url, "self") == 0) {
            http_local_url(cfg.listen, -1, url, sizeof(url) - 16);
            strcat(url, "/__admin/health");
        } else {
            snprintf(url, sizeof(url), "%s", cfg.probe_url);
        }
        rc = probe_run(url, ca);
        free(ca);
        config_free(&cfg);
        return rc;
    }
    log_setup(cfg.log_level, cfg.log_format, stderr);
    if (cfg.check != NULL) {
        rc = check(cfg.check);
        config_free(&cfg);
        return rc;
    }
    mg_init_library(MG_FEATURES_TLS);
    rc = serve(&cfg);
    mg_exit_library();
    config_free(&cfg);
    return rc;
}
