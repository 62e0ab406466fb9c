/*
 * log: leveled, escaped, redacted event lines.
 *
 * The line is assembled in a fixed buffer on the caller's stack and
 * written with one fwrite under a lock; a value that does not fit is cut
 * and the line marked truncated=1, never overflowing.
 */
#include "log.h"

#include "util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static enum log_level threshold = LOG_INFO;
static enum log_format line_format = LOG_TEXT;
static FILE *stream;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

void
log_setup(enum log_level level, enum log_format format, FILE *out)
{
    threshold = level;
    line_format = format;
    stream = out;
}

int
log_level_parse(const char *s, enum log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return MOCK_EINVAL;
}

int
log_format_parse(const char *s, enum log_format *out)
{
    if (strcasecmp(s, "text") == 0)
        *out = LOG_TEXT;
    else if (strcasecmp(s, "json") == 0)
        *out = LOG_JSON;
    else
        return MOCK_EINVAL;
    return 0;
}

int
log_enabled(enum log_level level)
{
    return level != LOG_OFF && level >= threshold;
}

size_t
log_escape(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        char tmp[8];
        size_t tl;

        switch (c) {
        case '\n':
            memcpy(tmp, "\\n", 3);
            break;
        case '\r':
            memcpy(tmp, "\\r", 3);
            break;
        case '\t':
            memcpy(tmp, "\\t", 3);
            break;
        case '"':
            memcpy(tmp, "\\\"", 3);
            break;
        case '\\':
            memcpy(tmp, "\\\\", 3);
            break;
        default:
            if (c < 0x20 || c >= 0x7f)
                snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            else {
                tmp[0] = (char)c;
                tmp[1] = '\0';
            }
        }
        tl = strlen(tmp);
        if (o + tl >= cap)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
    }
    out[o] = '\0';
    return o;
}

static void
append(struct log_line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 2 - l->len; /* keep '}' and '\n' */

    if (n > room) {
        n = room;
        l->truncated = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
append_escaped(struct log_line *l, const char *s, int quote)
{
    char esc[LOG_LINE_MAX];
    size_t n = log_escape(s, strlen(s), esc, sizeof(esc));

    if (quote)
        append(l, "\"", 1);
    append(l, esc, n);
    if (quote)
        append(l, "\"", 1);
}

static int
needs_quotes(const char *s)
{
    if (*s == '\0')
        return 1;
    for (; *s; s++) {
        if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x21)
            return 1;
    }
    return 0;
}

static void
append_key(struct log_line *l, const char *key)
{
    if (l->format == LOG_JSON) {
        append(l, ",", 1);
        append_escaped(l, key, 1);
        append(l, ":", 1);
    } else {
        append(l, " ", 1);
        append_escaped(l, key, 0);
        append(l, "=", 1);
    }
}

void
log_begin(struct log_line *l, enum log_level level, const char *module,
          const char *event)
{
    struct timeval tv;
    char stamp[32];

    gettimeofday(&tv, NULL);
    iso8601_format((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, stamp);
    l->len = 0;
    l->truncated = 0;
    l->format = line_format;
    if (l->format == LOG_JSON) {
        append(l, "{\"time\":\"", 9);
        append(l, stamp, strlen(stamp));
        append(l, "\",\"level\":\"", 11);
        append(l, level_names[level], strlen(level_names[level]));
        append(l, "\",\"module\":", 11);
        append_escaped(l, module, 1);
        append(l, ",\"event\":", 9);
        append_escaped(l, event, 1);
    } else {
        append(l, stamp, strlen(stamp));
        append(l, " ", 1);
        append(l, level_names[level], strlen(level_names[level]));
        append(l, " ", 1);
        append_escaped(l, module, 0);
        append(l, " ", 1);
        append_escaped(l, event, 0);
    }
}

void
log_str(struct log_line *l, const char *key, const char *value)
{
    if (value == NULL)
        value = "";
    if (log_key_is_secret(key))
        value = "[redacted]";
    append_key(l, key);
    append_escaped(l, value, l->format == LOG_JSON || needs_quotes(value));
}

void
log_int(struct log_line *l, const char *key, long long value)
{
    char num[32];

    snprintf(num, sizeof(num), "%lld", value);
    append_key(l, key);
    append(l, num, strlen(num));
}

void
log_end(struct log_line *l)
{
    FILE *out = stream ? stream : stderr;

    if (l->truncated) {
        /* Make room for the marker by dropping the tail of the line. */
        const char *mark =
            l->format == LOG_JSON ? ",\"truncated\":1" : " truncated=1";
        size_t ml = strlen(mark);

        if (l->len + ml > sizeof(l->buf) - 2)
            l->len = sizeof(l->buf) - 2 - ml;
        memcpy(l->buf + l->len, mark, ml);
        l->len += ml;
    }
    if (l->format == LOG_JSON)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    pthread_mutex_lock(&write_lock);
    fwrite(l->buf, 1, l->len, out);
    fflush(out);
    pthread_mutex_unlock(&write_lock);
}

void
log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    struct log_line l;
    char text[1024];
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_scrub(text, sizeof(text));
    log_begin(&l, level, module, "message");
    log_str(&l, "msg", text);
    log_end(&l);
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);

    return n >= sl && strncasecmp(s + n - sl, suffix, sl) == 0;
}

static int
key_is_secret_n(const char *key, size_t n)
{
    static const char *const exact[] = {"authorization",
                                        "proxy-authorization",
                                        "cookie",
                                        "set-cookie",
                                        "secret",
                                        "token",
                                        "password",
                                        "signature",
                                        "x-cybrid-signature",
                                        "jwt",
                                        "bearer",
                                        "credentials",
                                        NULL};
    static const char *const suffixes[] = {"_secret",  "-secret", "_token",
                                           "-token",   "_key",    "-key",
                                           "password", NULL};

    for (int i = 0; exact[i]; i++) {
        if (strlen(exact[i]) == n && strncasecmp(key, exact[i], n) == 0)
            return 1;
    }
    for (int i = 0; suffixes[i]; i++) {
        if (ends_with(key, n, suffixes[i]))
            return 1;
    }
    return 0;
}

int
log_key_is_secret(const char *key)
{
    return key_is_secret_n(key, strlen(key));
}

static int
is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int
is_jwt_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
           c == '=' || c == '+' || c == '/';
}

/* Length of the credential or value starting at s. */
static size_t
value_len(const char *s)
{
    size_t n = 0;

    while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '&' &&
           s[n] != ',' && s[n] != '"' && s[n] != ';' && s[n] != '}')
        n++;
    return n;
}

struct scrub_out {
    char *buf;
    size_t cap;
    size_t len;
};

static void
emit(struct scrub_out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap)
        n = o->cap - 1 - o->len;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Handles "Bearer x" / "Basic x" at s; returns input consumed or 0. */
static size_t
scrub_scheme(const char *s, struct scrub_out *o)
{
    static const char *const schemes[] = {"Bearer ", "Basic ", NULL};

    for (int i = 0; schemes[i]; i++) {
        size_t sl = strlen(schemes[i]);
        size_t vl;

        if (strncasecmp(s, schemes[i], sl) != 0)
            continue;
        vl = value_len(s + sl);
        emit(o, s, sl);
        emit(o, "[redacted]", 10);
        return sl + vl;
    }
    return 0;
}

/* Handles a secret key followed by = or : at s; returns consumed or 0. */
static size_t
scrub_pair(const char *s, struct scrub_out *o)
{
    size_t kl = 0, sep;

    while (is_word(s[kl]))
        kl++;
    if (kl == 0 || !key_is_secret_n(s, kl))
        return 0;
    sep = kl;
    if (s[sep] == '"')
        sep++;
    if (s[sep] != '=' && s[sep] != ':')
        return 0;
    sep++;
    while (s[sep] == ' ' || s[sep] == '"')
        sep++;
    emit(o, s, sep);
    emit(o, "[redacted]", 10);
    /* "Authorization: Bearer x": the scheme's credential goes too. */
    if (strncasecmp(s + sep, "Bearer ", 7) == 0)
        sep += 7;
    else if (strncasecmp(s + sep, "Basic ", 6) == 0)
        sep += 6;
    return sep + value_len(s + sep);
}

void
log_scrub(char *s, size_t cap)
{
    char *in = xstrdup(s);
    struct scrub_out o = {s, cap, 0};
    size_t i = 0;

    while (in[i] && o.len + 1 < cap) {
        int word_start = i == 0 || !is_word(in[i - 1]);
        size_t used = 0;

        if (word_start) {
            used = scrub_scheme(in + i, &o);
            if (used == 0)
                used = scrub_pair(in + i, &o);
            if (used == 0 && strncmp(in + i, "eyJ", 3) == 0) {
                while (is_jwt_char(in[i + used]))
                    used++;
                emit(&o, "[redacted-jwt]", 14);
            }
        }
        if (used == 0 && in[i] == '?' && i > 0 &&
            !isspace((unsigned char)in[i - 1]) && in[i + 1] != '\0' &&
            !isspace((unsigned char)in[i + 1])) {
            /* A query string: drop it whole, it may carry credentials. */
            while (in[i + used] && !isspace((unsigned char)in[i + used]))
                used++;
        }
        if (used == 0) {
            emit(&o, in + i, 1);
            used = 1;
        }
        i += used;
    }
    s[o.len] = '\0';
    secret_free(in);
}
