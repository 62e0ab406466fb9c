/*
 * util: the few helpers every module leans on.
 *
 * Allocation wrappers never return NULL: on out-of-memory they print one
 * line and abort, so callers need no error path for memory. A mock_err
 * carries a project error code and a human message from the place that
 * failed to the place that reports it.
 */
#ifndef CYBRID_UTIL_H
#define CYBRID_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Project error codes: fallible functions return 0 or one of these. */
enum mock_code {
    MOCK_OK = 0,
    MOCK_EINVAL = -1,  /* input refused */
    MOCK_ENOENT = -2,  /* no such thing */
    MOCK_EIO = -3,     /* file or socket failure */
    MOCK_ECRYPTO = -4, /* OpenSSL failure */
    MOCK_EEXIST = -5,  /* already there */
    MOCK_ELIMIT = -6,  /* a bound was hit */
};

/* A caller-owned error: code plus a message fit to print as is. */
struct mock_err {
    int code;
    char msg[512];
};

/* Fills err (if not NULL) and returns code, so `return err_set(...)`. */
int err_set(struct mock_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipes a secret string with OPENSSL_cleanse, then frees it. NULL-safe. */
void secret_free(char *s);

/* Fills buf with n cryptographically random bytes; aborts on failure. */
void random_bytes(void *buf, size_t n);
/* Writes 2*n lowercase hex characters and a NUL into out. */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* A new random guid: 32 lowercase hex characters and a NUL. */
void guid_new(char out[33]);
/* 1 when s is exactly 32 lowercase hex characters. */
int guid_valid(const char *s);
/* A random RFC 4122 version 4 UUID, 36 characters and a NUL. */
void uuid_new(char out[37]);

/*
 * A string that grows as it is written; start from {0} and free p. p is
 * NUL-terminated once anything was written.
 */
struct strbuf {
    char *p;
    size_t len, cap;
};

void strbuf_put(struct strbuf *b, const void *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats epoch milliseconds as ISO 8601 UTC with milliseconds. */
void iso8601_format(int64_t ms, char out[32]);

#endif
