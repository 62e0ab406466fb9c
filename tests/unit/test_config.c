/* Tests of command-line and environment parsing. */
#include "config.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static int
parse(struct config *cfg, struct mock_err *err, int argc, char **argv)
{
    return config_parse(cfg, argc, argv, err);
}

static void
test_defaults_listen_on_loopback_8443(void)
{
    char *argv[] = {"cybrid-mock", NULL};
    struct config cfg;
    struct mock_err err = {0};

    unsetenv("CYBRID_MOCK_LISTEN");
    CU_ASSERT_EQUAL(parse(&cfg, &err, 1, argv), 0);
    CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:8443");
    CU_ASSERT_EQUAL(cfg.max_body, 1024 * 1024);
    CU_ASSERT_PTR_NOT_NULL(cfg.tls_dir);
    config_free(&cfg);
}

static void
test_flag_beats_environment(void)
{
    char *argv[] = {"cybrid-mock", "--listen", "127.0.0.1:0", NULL};
    struct config cfg;
    struct mock_err err = {0};

    setenv("CYBRID_MOCK_LISTEN", "0.0.0.0:9999", 1);
    setenv("CYBRID_MOCK_LOG_LEVEL", "debug", 1);
    CU_ASSERT_EQUAL(parse(&cfg, &err, 3, argv), 0);
    CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:0");
    CU_ASSERT_EQUAL(cfg.log_level, LOG_DEBUG);
    unsetenv("CYBRID_MOCK_LISTEN");
    unsetenv("CYBRID_MOCK_LOG_LEVEL");
    config_free(&cfg);
}

static void
test_equals_form_and_repeated_names(void)
{
    char *argv[] = {"cybrid-mock", "--tls-name=mock.internal", "--tls-name",
                    "10.0.0.7", NULL};
    struct config cfg;
    struct mock_err err = {0};

    CU_ASSERT_EQUAL(parse(&cfg, &err, 4, argv), 0);
    CU_ASSERT_EQUAL(cfg.n_tls_names, 2);
    CU_ASSERT_STRING_EQUAL(cfg.tls_names[0], "mock.internal");
    CU_ASSERT_STRING_EQUAL(cfg.tls_names[1], "10.0.0.7");
    config_free(&cfg);
}

static void
test_environment_names_are_a_comma_list(void)
{
    char *argv[] = {"cybrid-mock", NULL};
    struct config cfg;
    struct mock_err err = {0};

    setenv("CYBRID_MOCK_TLS_NAME", "a.test,b.test", 1);
    CU_ASSERT_EQUAL(parse(&cfg, &err, 1, argv), 0);
    CU_ASSERT_EQUAL(cfg.n_tls_names, 2);
    CU_ASSERT_STRING_EQUAL(cfg.tls_names[1], "b.test");
    unsetenv("CYBRID_MOCK_TLS_NAME");
    config_free(&cfg);
}

static void
refused(int argc, char **argv, const char *needle)
{
    struct config cfg;
    struct mock_err err = {0};

    CU_ASSERT_EQUAL(parse(&cfg, &err, argc, argv), MOCK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    config_free(&cfg);
}

static void
test_bad_flags_get_one_line_reasons(void)
{
    char *a1[] = {"x", "--nope"};
    char *a2[] = {"x", "--threads", "zero"};
    char *a3[] = {"x", "--log-level", "loud"};
    char *a4[] = {"x", "--cert", "c.pem"};
    char *a5[] = {"x", "--listen"};
    char *a6[] = {"x", "stray"};
    char *a7[] = {"x", "--max-body", "-5"};
    char *a8[] = {"x", "--help=yes"};

    refused(2, a1, "unknown option");
    refused(3, a2, "--threads");
    refused(3, a3, "--log-level");
    refused(3, a4, "together");
    refused(2, a5, "needs a value");
    refused(2, a6, "unexpected argument");
    refused(3, a7, "--max-body");
    refused(2, a8, "takes no value");
}

static void
test_bad_environment_names_the_variable(void)
{
    char *argv[] = {"cybrid-mock", NULL};

    setenv("CYBRID_MOCK_LOG_FORMAT", "xml", 1);
    refused(1, argv, "CYBRID_MOCK_LOG_FORMAT");
    unsetenv("CYBRID_MOCK_LOG_FORMAT");
}

static void
test_scenario_and_check_read_flag_and_environment(void)
{
    char *argv[] = {"cybrid-mock", "--check", "a.yaml", NULL};
    struct config cfg;
    struct mock_err err = {0};

    setenv("CYBRID_MOCK_SCENARIO", "/srv/scenarios/storm.yaml", 1);
    CU_ASSERT_EQUAL(parse(&cfg, &err, 3, argv), 0);
    CU_ASSERT_STRING_EQUAL(cfg.scenario, "/srv/scenarios/storm.yaml");
    CU_ASSERT_STRING_EQUAL(cfg.check, "a.yaml");
    unsetenv("CYBRID_MOCK_SCENARIO");
    config_free(&cfg);
    CU_ASSERT_EQUAL(parse(&cfg, &err, 1, argv), 0);
    CU_ASSERT_PTR_NULL(cfg.scenario);
    CU_ASSERT_PTR_NULL(cfg.check);
    config_free(&cfg);
}

/* Found by valgrind: --threads stored an uninitialised value. */
static void
test_threads_and_request_timeout_take_their_values(void)
{
    char *argv[] = {"cybrid-mock",       "--threads", "8",
                    "--request-timeout", "1500",      NULL};
    char *bad[] = {"cybrid-mock", "--request-timeout", "50", NULL};
    struct config cfg;
    struct mock_err err = {0};

    CU_ASSERT_EQUAL(parse(&cfg, &err, 5, argv), 0);
    CU_ASSERT_EQUAL(cfg.threads, 8);
    CU_ASSERT_EQUAL(cfg.request_timeout_ms, 1500);
    config_free(&cfg);
    CU_ASSERT_EQUAL(parse(&cfg, &err, 3, bad), MOCK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--request-timeout"));
    config_free(&cfg);
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_defaults_listen_on_loopback_8443),
        UNIT_CASE(test_threads_and_request_timeout_take_their_values),
        UNIT_CASE(test_flag_beats_environment),
        UNIT_CASE(test_equals_form_and_repeated_names),
        UNIT_CASE(test_environment_names_are_a_comma_list),
        UNIT_CASE(test_bad_flags_get_one_line_reasons),
        UNIT_CASE(test_bad_environment_names_the_variable),
        UNIT_CASE(test_scenario_and_check_read_flag_and_environment),
        {NULL, NULL}};

    return unit_add_suite("config", cases);
}
