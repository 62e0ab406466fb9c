/* Tests of certificate generation and reuse. */
#include "tls.h"
#include "unit.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cybrid-tls-test-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static X509 *
load(const char *name)
{
    char path[128];
    FILE *f;
    X509 *c;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return c;
}

static int
mode_of(const char *name)
{
    char path[128];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 0777);
}

static void
test_generates_ca_and_server_certificate(void)
{
    struct tls_options opt = {.dir = dir, .names = {"mock.test"}, .n_names = 1};
    struct tls_material m;
    struct mock_err err = {0};
    X509 *ca, *srv;

    CU_ASSERT_EQUAL_FATAL(tls_prepare(&opt, &m, &err), 0);
    CU_ASSERT_TRUE(m.generated);
    ca = load("ca.pem");
    srv = load("server.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    CU_ASSERT_EQUAL(X509_verify(srv, X509_get0_pubkey(ca)), 1);
    CU_ASSERT_EQUAL(X509_check_ca(ca), 1);
    CU_ASSERT_EQUAL(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(X509_check_host(srv, "mock.test", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    CU_ASSERT_EQUAL(X509_check_ip_asc(srv, "::1", 0), 1);
    CU_ASSERT_NOT_EQUAL(X509_check_host(srv, "evil.test", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(mode_of("ca-key.pem"), 0600);
    CU_ASSERT_EQUAL(mode_of("server-key.pem"), 0600);
    X509_free(ca);
    X509_free(srv);
    tls_material_free(&m);
}

static void
test_second_start_reuses_valid_files(void)
{
    struct tls_options opt = {.dir = dir, .names = {"mock.test"}, .n_names = 1};
    struct tls_material m;
    struct mock_err err = {0};

    CU_ASSERT_EQUAL_FATAL(tls_prepare(&opt, &m, &err), 0);
    CU_ASSERT_FALSE(m.generated);
    tls_material_free(&m);
}

static void
test_new_name_reissues_server_but_keeps_ca(void)
{
    struct tls_options opt = {
        .dir = dir, .names = {"other.test"}, .n_names = 1};
    struct tls_material m;
    struct mock_err err = {0};
    X509 *before = load("ca.pem"), *after, *srv;

    CU_ASSERT_EQUAL_FATAL(tls_prepare(&opt, &m, &err), 0);
    CU_ASSERT_TRUE(m.generated);
    after = load("ca.pem");
    srv = load("server.pem");
    CU_ASSERT_EQUAL(X509_cmp(before, after), 0);
    CU_ASSERT_EQUAL(X509_check_host(srv, "other.test", 0, 0, NULL), 1);
    X509_free(before);
    X509_free(after);
    X509_free(srv);
    tls_material_free(&m);
}

static void
test_corrupt_ca_is_replaced(void)
{
    struct tls_options opt = {.dir = dir};
    struct tls_material m;
    struct mock_err err = {0};
    char path[128];
    FILE *f;
    X509 *ca;

    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    f = fopen(path, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(tls_prepare(&opt, &m, &err), 0);
    CU_ASSERT_TRUE(m.generated);
    ca = load("ca.pem");
    CU_ASSERT_PTR_NOT_NULL(ca);
    X509_free(ca);
    tls_material_free(&m);
}

static void
test_given_certificate_must_be_readable(void)
{
    struct tls_options opt = {.dir = dir,
                              .cert_file = "/nonexistent.pem",
                              .key_file = "/nonexistent-key.pem"};
    struct tls_material m;
    struct mock_err err = {0};

    CU_ASSERT_EQUAL(tls_prepare(&opt, &m, &err), MOCK_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent.pem"));
}

static void
test_ctx_refuses_below_tls_1_2(void)
{
    struct tls_options opt = {.dir = dir};
    struct tls_material m;
    struct mock_err err = {0};
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    CU_ASSERT_EQUAL_FATAL(tls_prepare(&opt, &m, &err), 0);
    CU_ASSERT_EQUAL(tls_configure_ctx(ctx, &m, &err), 0);
    CU_ASSERT_EQUAL(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    SSL_CTX_free(ctx);
    tls_material_free(&m);
}

/* Writes key to dir/name in the given PEM form (PKCS#8 or traditional). */
static void
write_key(const char *name, EVP_PKEY *key, int traditional)
{
    char path[128];
    BIO *b;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    b = BIO_new_file(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    if (traditional)
        PEM_write_bio_PrivateKey_traditional(b, key, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    BIO_free(b);
}

static void
test_read_key_takes_other_types_than_the_expected_one(void)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256"), *got;
    char path[128];

    write_key("rsa-pkcs8.pem", rsa, 0);
    write_key("rsa-pkcs1.pem", rsa, 1);
    write_key("ec-sec1.pem", ec, 1);
    snprintf(path, sizeof(path), "%s/rsa-pkcs8.pem", dir);
    got = tls_read_key(path, "EC");
    CU_ASSERT_TRUE(got != NULL && EVP_PKEY_eq(got, rsa) == 1);
    EVP_PKEY_free(got);
    snprintf(path, sizeof(path), "%s/rsa-pkcs1.pem", dir);
    got = tls_read_key(path, "EC");
    CU_ASSERT_TRUE(got != NULL && EVP_PKEY_eq(got, rsa) == 1);
    EVP_PKEY_free(got);
    snprintf(path, sizeof(path), "%s/ec-sec1.pem", dir);
    got = tls_read_key(path, "EC");
    CU_ASSERT_TRUE(got != NULL && EVP_PKEY_eq(got, ec) == 1);
    EVP_PKEY_free(got);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static void
test_read_key_refuses_what_is_not_a_key(void)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/not-a-key.pem", dir);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
          "-----END PRIVATE KEY-----\n",
          f);
    fclose(f);
    CU_ASSERT_PTR_NULL(tls_read_key(path, "RSA"));
    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    CU_ASSERT_PTR_NULL(tls_read_key(path, "RSA"));
}

int
unit_register(void)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_generates_ca_and_server_certificate),
        UNIT_CASE(test_second_start_reuses_valid_files),
        UNIT_CASE(test_new_name_reissues_server_but_keeps_ca),
        UNIT_CASE(test_corrupt_ca_is_replaced),
        UNIT_CASE(test_given_certificate_must_be_readable),
        UNIT_CASE(test_ctx_refuses_below_tls_1_2),
        UNIT_CASE(test_read_key_takes_other_types_than_the_expected_one),
        UNIT_CASE(test_read_key_refuses_what_is_not_a_key),
        {NULL, NULL}};

    if (setup() != 0)
        return -1;
    return unit_add_suite("tls", cases);
}
