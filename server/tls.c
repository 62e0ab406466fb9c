/*
 * tls: certificate generation with OpenSSL's X509 API, reuse checks, and
 * the SSL_CTX settings of the listener.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS 3650
#define SERVER_DAYS 397
#define MIN_VALID_SECONDS (24 * 3600)

static int
crypto_fail(struct mock_err *err, const char *what)
{
    char detail[256] = "no detail";
    unsigned long e = ERR_get_error();

    if (e != 0)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    return err_set(err, MOCK_ECRYPTO, "%s: %s", what, detail);
}

int
tls_make_dir(const char *dir, struct mock_err *err)
{
    char *path = xstrdup(dir);
    int rc = 0;

    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(path);
    if (rc != 0)
        return err_set(err, MOCK_EIO, "cannot create TLS directory %s: %s", dir,
                       strerror(errno));
    return 0;
}

static EVP_PKEY *
make_ec_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Writes via a temporary file and rename, so readers never see half. */
static int
write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert,
          struct mock_err *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    FILE *f;
    int ok;

    if (fd < 0) {
        err_set(err, MOCK_EIO, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return MOCK_EIO;
    }
    fchmod(fd, (mode_t)mode);
    f = fdopen(fd, "w");
    ok = f != NULL;
    if (ok && key != NULL)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (ok && cert != NULL)
        ok = PEM_write_X509(f, cert) == 1;
    if (f != NULL)
        ok = (fclose(f) == 0) && ok;
    else
        close(fd);
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        unlink(tmp);
        err_set(err, MOCK_EIO, "cannot write %s", path);
    }
    free(tmp);
    return ok ? 0 : MOCK_EIO;
}

static EVP_PKEY *read_key_file(FILE *f, const char *type);

EVP_PKEY *
tls_load_or_make_key(const char *path, const char *type,
                     EVP_PKEY *(*make)(void), struct mock_err *err)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key;

    if (f != NULL) {
        key = read_key_file(f, type);
        fclose(f);
        if (key == NULL)
            crypto_fail(err, path);
        return key;
    }
    key = make();
    if (key == NULL) {
        crypto_fail(err, "key generation failed");
        return NULL;
    }
    if (write_pem(path, 0600, key, NULL, err) != 0) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static X509 *
read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *cert;

    if (f == NULL)
        return NULL;
    cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return cert;
}

/*
 * A PEM private key from f. OpenSSL's generic reader builds a decoder for
 * every key type it knows before reading, which is most of a start's
 * work; a decoder for the expected type is built in a fraction of that,
 * and the generic reader is the fallback for any other key.
 */
static EVP_PKEY *
read_key_file(FILE *f, const char *type)
{
    OSSL_DECODER_CTX *dctx;
    EVP_PKEY *key = NULL;
    long start = ftell(f);

    dctx = OSSL_DECODER_CTX_new_for_pkey(
        &key, "PEM", NULL, type, OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
    if (dctx != NULL && OSSL_DECODER_from_fp(dctx, f) == 1 && key != NULL) {
        OSSL_DECODER_CTX_free(dctx);
        return key;
    }
    OSSL_DECODER_CTX_free(dctx);
    EVP_PKEY_free(key);
    ERR_clear_error();
    if (start < 0 || fseek(f, start, SEEK_SET) != 0)
        return NULL;
    return PEM_read_PrivateKey(f, NULL, NULL, NULL);
}

EVP_PKEY *
tls_read_key(const char *path, const char *type)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key;

    if (f == NULL)
        return NULL;
    key = read_key_file(f, type);
    fclose(f);
    return key;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int
is_ip_literal(const char *s)
{
    return strspn(s, "0123456789.") == strlen(s) || strchr(s, ':') != NULL;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1" plus the extra names. */
static char *
san_list(const struct tls_options *opt)
{
    size_t cap = 64;
    char *s;

    for (int i = 0; i < opt->n_names; i++)
        cap += strlen(opt->names[i]) + 8;
    s = xmalloc(cap);
    strcpy(s, "DNS:localhost,IP:127.0.0.1,IP:::1");
    for (int i = 0; i < opt->n_names; i++) {
        strcat(s, is_ip_literal(opt->names[i]) ? ",IP:" : ",DNS:");
        strcat(s, opt->names[i]);
    }
    return s;
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, int days)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn;
    X509_NAME *name;

    random_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    X509_set_version(cert, 2);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 24 * 3600);
    X509_set_pubkey(cert, key);
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"cybrid-mock", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    return cert;
}

static int
make_ca(const char *dir, X509 **ca_out, EVP_PKEY **key_out,
        struct mock_err *err)
{
    EVP_PKEY *key = make_ec_key();
    X509 *ca;
    char *key_path, *ca_path;
    int rc;

    if (key == NULL)
        return crypto_fail(err, "CA key generation failed");
    ca = new_cert(key, "cybrid-mock local CA", CA_DAYS);
    X509_set_issuer_name(ca, X509_get_subject_name(ca));
    if (!add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
        !X509_sign(ca, key, EVP_sha256())) {
        X509_free(ca);
        EVP_PKEY_free(key);
        return crypto_fail(err, "CA certificate signing failed");
    }
    key_path = xasprintf("%s/ca-key.pem", dir);
    ca_path = xasprintf("%s/ca.pem", dir);
    rc = write_pem(key_path, 0600, key, NULL, err);
    if (rc == 0)
        rc = write_pem(ca_path, 0644, NULL, ca, err);
    free(key_path);
    free(ca_path);
    if (rc != 0) {
        X509_free(ca);
        EVP_PKEY_free(key);
        return rc;
    }
    *ca_out = ca;
    *key_out = key;
    return 0;
}

static int
make_server(const struct tls_options *opt, X509 *ca, EVP_PKEY *ca_key,
            struct mock_err *err)
{
    EVP_PKEY *key = make_ec_key();
    X509 *cert;
    char *san, *key_path, *cert_path;
    int ok, rc;

    if (key == NULL)
        return crypto_fail(err, "server key generation failed");
    cert = new_cert(key, "localhost", SERVER_DAYS);
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    san = san_list(opt);
    ok = add_ext(cert, ca, NID_basic_constraints, "CA:FALSE") &&
         add_ext(cert, ca, NID_key_usage,
                 "critical,digitalSignature,keyEncipherment") &&
         add_ext(cert, ca, NID_ext_key_usage, "serverAuth") &&
         add_ext(cert, ca, NID_subject_alt_name, san) &&
         add_ext(cert, ca, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(cert, ca_key, EVP_sha256());
    free(san);
    if (!ok) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return crypto_fail(err, "server certificate signing failed");
    }
    key_path = xasprintf("%s/server-key.pem", opt->dir);
    cert_path = xasprintf("%s/server.pem", opt->dir);
    rc = write_pem(key_path, 0600, key, NULL, err);
    if (rc == 0)
        rc = write_pem(cert_path, 0644, NULL, cert, err);
    free(key_path);
    free(cert_path);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* 1 when cert stays valid for a day more, 0 otherwise. */
static int
still_valid(X509 *cert)
{
    time_t later = time(NULL) + MIN_VALID_SECONDS;

    return X509_cmp_time(X509_get0_notAfter(cert), &later) > 0 &&
           X509_cmp_current_time(X509_get0_notBefore(cert)) < 0;
}

static int
covers_names(X509 *cert, const struct tls_options *opt)
{
    static const char *const base[] = {"localhost", "127.0.0.1", "::1"};

    for (int i = 0; i < 3; i++) {
        int ok = is_ip_literal(base[i])
                     ? X509_check_ip_asc(cert, base[i], 0) == 1
                     : X509_check_host(cert, base[i], 0, 0, NULL) == 1;
        if (!ok)
            return 0;
    }
    for (int i = 0; i < opt->n_names; i++) {
        const char *n = opt->names[i];
        int ok = is_ip_literal(n) ? X509_check_ip_asc(cert, n, 0) == 1
                                  : X509_check_host(cert, n, 0, 0, NULL) == 1;
        if (!ok)
            return 0;
    }
    return 1;
}

/* 1 when server.pem was issued by ca, matches its key and is usable. */
static int
server_reusable(const struct tls_options *opt, X509 *ca)
{
    char *cert_path = xasprintf("%s/server.pem", opt->dir);
    char *key_path = xasprintf("%s/server-key.pem", opt->dir);
    X509 *cert = read_cert(cert_path);
    EVP_PKEY *key = tls_read_key(key_path, "EC");
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
    int ok = cert != NULL && key != NULL && ca_pub != NULL &&
             X509_verify(cert, ca_pub) == 1 &&
             X509_check_private_key(cert, key) == 1 && still_valid(cert) &&
             covers_names(cert, opt);

    X509_free(cert);
    EVP_PKEY_free(key);
    free(cert_path);
    free(key_path);
    ERR_clear_error();
    return ok;
}

static int
generate_or_reuse(const struct tls_options *opt, int *generated,
                  struct mock_err *err)
{
    char *ca_path = xasprintf("%s/ca.pem", opt->dir);
    char *ca_key_path = xasprintf("%s/ca-key.pem", opt->dir);
    X509 *ca = read_cert(ca_path);
    EVP_PKEY *ca_key = tls_read_key(ca_key_path, "EC");
    int rc = 0;

    if (ca == NULL || ca_key == NULL || !still_valid(ca) ||
        X509_check_private_key(ca, ca_key) != 1) {
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        ca = NULL;
        ca_key = NULL;
        ERR_clear_error();
        rc = make_ca(opt->dir, &ca, &ca_key, err);
        if (rc == 0)
            rc = make_server(opt, ca, ca_key, err);
        *generated = 1;
    } else if (!server_reusable(opt, ca)) {
        rc = make_server(opt, ca, ca_key, err);
        *generated = 1;
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(ca_path);
    free(ca_key_path);
    return rc;
}

int
tls_prepare(const struct tls_options *opt, struct tls_material *out,
            struct mock_err *err)
{
    char *lock_path;
    int lock_fd, rc;

    memset(out, 0, sizeof(*out));
    if (opt->cert_file != NULL || opt->key_file != NULL) {
        if (opt->cert_file == NULL || opt->key_file == NULL)
            return err_set(err, MOCK_EINVAL,
                           "--cert and --key must be given together");
        if (access(opt->cert_file, R_OK) != 0)
            return err_set(err, MOCK_EIO, "cannot read certificate %s: %s",
                           opt->cert_file, strerror(errno));
        if (access(opt->key_file, R_OK) != 0)
            return err_set(err, MOCK_EIO, "cannot read key %s: %s",
                           opt->key_file, strerror(errno));
        out->cert_file = xstrdup(opt->cert_file);
        out->key_file = xstrdup(opt->key_file);
        return 0;
    }
    rc = tls_make_dir(opt->dir, err);
    if (rc != 0)
        return rc;
    lock_path = xasprintf("%s/.lock", opt->dir);
    lock_fd = open(lock_path, O_RDWR | O_CREAT, 0600);
    free(lock_path);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        if (lock_fd >= 0)
            close(lock_fd);
        return err_set(err, MOCK_EIO, "cannot lock TLS directory %s: %s",
                       opt->dir, strerror(errno));
    }
    rc = generate_or_reuse(opt, &out->generated, err);
    close(lock_fd);
    if (rc != 0)
        return rc;
    out->cert_file = xasprintf("%s/server.pem", opt->dir);
    out->key_file = xasprintf("%s/server-key.pem", opt->dir);
    out->ca_file = xasprintf("%s/ca.pem", opt->dir);
    return 0;
}

void
tls_material_free(struct tls_material *m)
{
    if (m == NULL)
        return;
    free(m->cert_file);
    free(m->key_file);
    free(m->ca_file);
    memset(m, 0, sizeof(*m));
}

int
tls_configure_ctx(SSL_CTX *ctx, const struct tls_material *m,
                  struct mock_err *err)
{
    EVP_PKEY *key;
    int ok;

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        return crypto_fail(err, "cannot require TLS 1.2");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* A kept-alive connection waiting for its next request holds no
     * 34 KB of record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, m->cert_file) != 1)
        return crypto_fail(err, m->cert_file);
    key = tls_read_key(m->key_file, "EC");
    ok = key != NULL && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!ok)
        return crypto_fail(err, m->key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return crypto_fail(err, "certificate and key do not match");
    return 0;
}
