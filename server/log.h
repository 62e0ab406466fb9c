/*
 * log: one line per event, as text or JSON, on stderr.
 *
 * A line has the time, level, module and event name, then key=value
 * pairs. Callers build it with log_begin/log_str/log_int/log_end after
 * checking log_enabled(), so nothing is formatted for a level that is off.
 * Every value is escaped (control bytes cannot forge a line), a value
 * under a secret-looking key is replaced by "[redacted]", and free text
 * goes through log_scrub(), which removes JWTs, Bearer/Basic credentials,
 * secret=value pairs and query strings. Nothing logged by this module can
 * carry a token, a client secret, a signing key or an Authorization value.
 */
#ifndef CYBRID_LOG_H
#define CYBRID_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };
enum log_format { LOG_TEXT, LOG_JSON };

#define LOG_LINE_MAX 2048

/* A line being built; lives on the caller's stack. */
struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    enum log_format format;
    int truncated;
};

/* Sets the threshold, the format and the stream (NULL: stderr). */
void log_setup(enum log_level level, enum log_format format, FILE *out);
/* Parses "debug", "info", "warn", "error" or "off"; 0 or MOCK_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* Parses "text" or "json"; 0 or MOCK_EINVAL. */
int log_format_parse(const char *s, enum log_format *out);
/* 1 when lines of this level are written. */
int log_enabled(enum log_level level);

void log_begin(struct log_line *l, enum log_level level, const char *module,
               const char *event);
void log_str(struct log_line *l, const char *key, const char *value);
void log_int(struct log_line *l, const char *key, long long value);
/* Writes the line in one call, so concurrent lines never interleave. */
void log_end(struct log_line *l);

/* A free-text message (scrubbed, escaped) under key msg. */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 when a value under this key must never be written. */
int log_key_is_secret(const char *key);

/*
 * Rewrites s in place: JWT-shaped words, the credential after "Bearer " or
 * "Basic ", the value of secret-looking key=value or key: value pairs, and
 * anything after '?' in a word become "[redacted]" or are dropped. The
 * result is never longer than the input plus 16 bytes per redaction, so
 * the caller gives a buffer of size cap; the text is cut to fit.
 */
void log_scrub(char *s, size_t cap);

/*
 * Escapes in[0..n) into out (size cap, always NUL-terminated): control
 * bytes, quotes and backslashes as \n, \t, \", \\ or \u00XX. Returns the
 * length written.
 */
size_t log_escape(const char *in, size_t n, char *out, size_t cap);

#endif
