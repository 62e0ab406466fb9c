/*
 * tls: the listener's certificate and TLS settings.
 *
 * Without a given certificate the mock makes its own: a CA (ca.pem,
 * ca-key.pem) and a server certificate signed by it (server.pem,
 * server-key.pem) for localhost, 127.0.0.1, ::1 and any extra names, all
 * written into the TLS directory with keys at mode 0600. The next start
 * reuses them while they stay valid for at least a day and cover the
 * names asked for. Keys are ECDSA P-256, so making them costs
 * milliseconds. A lock file keeps two processes sharing a directory from
 * writing it at the same time.
 */
#ifndef CYBRID_TLS_H
#define CYBRID_TLS_H

#include "util.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#define TLS_MAX_NAMES 16

struct tls_options {
    const char *dir;                  /* where generated material lives */
    const char *cert_file;            /* given certificate (chain), or NULL */
    const char *key_file;             /* given key, or NULL */
    const char *names[TLS_MAX_NAMES]; /* extra DNS names or IP literals */
    int n_names;
};

/* What the listener serves; paths are owned by the struct. */
struct tls_material {
    char *cert_file;
    char *key_file;
    char *ca_file; /* NULL when the certificate was given */
    int generated; /* 1 when this start wrote new files */
};

/*
 * Finds or makes the certificate and key. On success fills out (free it
 * with tls_material_free) and returns 0; otherwise a negative code with
 * err saying which file or step failed.
 */
int tls_prepare(const struct tls_options *opt, struct tls_material *out,
                struct mock_err *err);
void tls_material_free(struct tls_material *m);

/*
 * Loads the material into ctx and sets TLS 1.2 as the lowest version.
 * Returns 0 or MOCK_ECRYPTO with err filled.
 */
int tls_configure_ctx(SSL_CTX *ctx, const struct tls_material *m,
                      struct mock_err *err);

/*
 * Reads a PEM private key from path, expecting one of OpenSSL's key
 * type ("RSA", "EC"; read much faster than an unknown one, which is
 * still read), or NULL when the file cannot be read.
 */
EVP_PKEY *tls_read_key(const char *path, const char *type);

/*
 * Reads a private key from path (type as in tls_read_key), or makes one
 * with make() and writes it there at mode 0600 when the file does not
 * exist. The caller frees the key with EVP_PKEY_free. Returns NULL with
 * err filled on failure.
 */
EVP_PKEY *tls_load_or_make_key(const char *path, const char *type,
                               EVP_PKEY *(*make)(void), struct mock_err *err);

/* Creates dir (and parents) with mode 0700 if missing. 0 or MOCK_EIO. */
int tls_make_dir(const char *dir, struct mock_err *err);

#endif
