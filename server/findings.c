/*
 * findings: one slot per rule under one mutex; renderings copy the slots
 * out first so the lock is never held while formatting.
 */
#include "findings.h"

#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t count;
    int64_t first_ms, last_ms;
    char example[40];
    char detail[160];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const struct findings_rule *catalogue;
static size_t n_rules;
static int enabled[FINDINGS_MAX];
static struct slot slots[FINDINGS_MAX];

void
findings_reset(const struct findings_rule *rules, size_t n, const int *on)
{
    pthread_mutex_lock(&mu);
    catalogue = rules;
    n_rules = n < FINDINGS_MAX ? n : FINDINGS_MAX;
    memset(slots, 0, sizeof(slots));
    for (size_t i = 0; i < n_rules; i++)
        enabled[i] = on[i];
    pthread_mutex_unlock(&mu);
}

void
findings_clear(void)
{
    pthread_mutex_lock(&mu);
    memset(slots, 0, sizeof(slots));
    n_rules = 0;
    pthread_mutex_unlock(&mu);
}

static void
keep(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s != NULL ? s : "");
}

void
findings_add(size_t rule, int64_t now_ms, const char *example,
             const char *detail)
{
    pthread_mutex_lock(&mu);
    if (rule < n_rules) {
        struct slot *s = &slots[rule];

        if (s->count++ == 0) {
            s->first_ms = now_ms;
            keep(s->example, sizeof(s->example), example);
            keep(s->detail, sizeof(s->detail), detail);
        }
        s->last_ms = now_ms;
    }
    pthread_mutex_unlock(&mu);
}

void
findings_set(size_t rule, uint64_t count, int64_t first_ms, int64_t last_ms,
             const char *example, const char *detail)
{
    pthread_mutex_lock(&mu);
    if (rule < n_rules) {
        struct slot *s = &slots[rule];

        s->count = count;
        s->first_ms = first_ms;
        s->last_ms = last_ms;
        keep(s->example, sizeof(s->example), example);
        keep(s->detail, sizeof(s->detail), detail);
    }
    pthread_mutex_unlock(&mu);
}

uint64_t
findings_count(size_t rule)
{
    uint64_t n = 0;

    pthread_mutex_lock(&mu);
    if (rule < n_rules)
        n = slots[rule].count;
    pthread_mutex_unlock(&mu);
    return n;
}

const char *
findings_severity_name(int severity)
{
    static const char *const names[] = {"info", "warning", "critical"};

    return severity >= 0 && severity <= 2 ? names[severity] : "info";
}

/* A copy of the state, taken under the lock. */
struct snapshot {
    const struct findings_rule *rules;
    size_t n;
    int on[FINDINGS_MAX];
    struct slot s[FINDINGS_MAX];
};

static void
snap(struct snapshot *out)
{
    pthread_mutex_lock(&mu);
    out->rules = catalogue;
    out->n = n_rules;
    memcpy(out->on, enabled, sizeof(out->on));
    memcpy(out->s, slots, sizeof(out->s));
    pthread_mutex_unlock(&mu);
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
    char iso[32];

    iso8601_format(ms, iso);
    cJSON_AddStringToObject(o, key, iso);
}

static cJSON *
finding_json(const struct findings_rule *r, const struct slot *s)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "rule", r->id);
    cJSON_AddStringToObject(o, "severity", findings_severity_name(r->severity));
    cJSON_AddStringToObject(o, "message", r->message);
    cJSON_AddStringToObject(o, "guide_section", r->section);
    cJSON_AddNumberToObject(o, "count", (double)s->count);
    add_time(o, "first_seen", s->first_ms);
    add_time(o, "last_seen", s->last_ms);
    if (s->example[0] != '\0')
        cJSON_AddStringToObject(o, "example_request_id", s->example);
    else
        cJSON_AddNullToObject(o, "example_request_id");
    cJSON_AddStringToObject(o, "detail", s->detail);
    return o;
}

cJSON *
findings_json(void)
{
    struct snapshot sn;
    cJSON *body = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(body, "findings");
    cJSON *rules = cJSON_AddArrayToObject(body, "rules");
    cJSON *sum = cJSON_AddObjectToObject(body, "summary");
    double by[3] = {0, 0, 0};

    snap(&sn);
    /* Most severe first, then in catalogue order. */
    for (int sev = 2; sev >= 0; sev--) {
        for (size_t i = 0; i < sn.n; i++) {
            if (sn.rules[i].severity != sev || sn.s[i].count == 0)
                continue;
            cJSON_AddItemToArray(list, finding_json(&sn.rules[i], &sn.s[i]));
            by[sev] += 1;
        }
    }
    for (size_t i = 0; i < sn.n; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "rule", sn.rules[i].id);
        cJSON_AddStringToObject(o, "severity",
                                findings_severity_name(sn.rules[i].severity));
        cJSON_AddBoolToObject(o, "enabled", sn.on[i]);
        cJSON_AddItemToArray(rules, o);
    }
    cJSON_AddNumberToObject(sum, "critical", by[2]);
    cJSON_AddNumberToObject(sum, "warning", by[1]);
    cJSON_AddNumberToObject(sum, "info", by[0]);
    return body;
}

/* ---- JUnit ------------------------------------------------------------ */

/* XML text or attribute value: markup escaped, control bytes dropped. */
static void
puts_xml(struct strbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '<')
            strbuf_puts(b, "&lt;");
        else if (c == '>')
            strbuf_puts(b, "&gt;");
        else if (c == '&')
            strbuf_puts(b, "&amp;");
        else if (c == '"')
            strbuf_puts(b, "&quot;");
        else if (c == '\'')
            strbuf_puts(b, "&apos;");
        else if (c >= 0x20 || c == '\t')
            strbuf_put(b, s, 1);
    }
}

static void
junit_case(struct strbuf *b, const struct findings_rule *r, int on,
           const struct slot *s)
{
    char line[512], first[32], last[32];

    strbuf_puts(b, "    <testcase classname=\"cybrid-mock.audit.");
    strbuf_puts(b, findings_severity_name(r->severity));
    strbuf_puts(b, "\" name=\"");
    puts_xml(b, r->id);
    strbuf_puts(b, "\">\n");
    if (!on) {
        strbuf_puts(b, "      <skipped message=\"turned off in the scenario\"/>"
                       "\n");
    } else if (s->count > 0) {
        iso8601_format(s->first_ms, first);
        iso8601_format(s->last_ms, last);
        strbuf_puts(b, "      <failure type=\"");
        strbuf_puts(b, findings_severity_name(r->severity));
        strbuf_puts(b, "\" message=\"");
        puts_xml(b, r->message);
        strbuf_puts(b, "\">");
        snprintf(line, sizeof(line),
                 "count: %llu\nfirst_seen: %s\nlast_seen: %s\n"
                 "example_request_id: %s\ndetail: %s\nguide: %s",
                 (unsigned long long)s->count, first, last, s->example,
                 s->detail, r->section);
        puts_xml(b, line);
        strbuf_puts(b, "</failure>\n");
    }
    strbuf_puts(b, "    </testcase>\n");
}

char *
findings_junit(void)
{
    struct snapshot sn;
    struct strbuf b = {0};
    char head[256];
    size_t failures = 0, skipped = 0;

    snap(&sn);
    for (size_t i = 0; i < sn.n; i++) {
        failures += sn.on[i] && sn.s[i].count > 0;
        skipped += !sn.on[i];
    }
    strbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    snprintf(head, sizeof(head),
             "<testsuites name=\"cybrid-mock audit\" tests=\"%zu\" "
             "failures=\"%zu\">\n  <testsuite name=\"cybrid-mock audit\" "
             "tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
             sn.n, failures, sn.n, failures, skipped);
    strbuf_puts(&b, head);
    for (size_t i = 0; i < sn.n; i++)
        junit_case(&b, &sn.rules[i], sn.on[i], &sn.s[i]);
    strbuf_puts(&b, "  </testsuite>\n</testsuites>\n");
    return b.p;
}

/* ---- summary ---------------------------------------------------------- */

/* One summary row as a JSON line (with --log-format json). */
static void
json_row(FILE *out, const struct findings_rule *r, const struct slot *s)
{
    cJSON *o = finding_json(r, s);
    char *text;

    cJSON_AddStringToObject(o, "event", "audit_finding");
    text = cJSON_PrintUnformatted(o);
    fprintf(out, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static void
text_row(FILE *out, const struct findings_rule *r, const struct slot *s)
{
    char first[32];

    iso8601_format(s->first_ms, first);
    fprintf(out, "  %-8s  %-32s  %8llu  %-24s  %s\n",
            findings_severity_name(r->severity), r->id,
            (unsigned long long)s->count, first, s->example);
}

int
findings_summary(FILE *out, int fail_on, int json)
{
    struct snapshot sn;
    int failed = 0, n = 0;

    snap(&sn);
    if (!json) {
        fprintf(out, "cybrid-mock audit summary\n");
        fprintf(out, "  %-8s  %-32s  %8s  %-24s  %s\n", "severity", "rule",
                "count", "first_seen", "example_request_id");
    }
    for (int sev = 2; sev >= 0; sev--) {
        for (size_t i = 0; i < sn.n; i++) {
            if (sn.rules[i].severity != sev || sn.s[i].count == 0)
                continue;
            if (json)
                json_row(out, &sn.rules[i], &sn.s[i]);
            else
                text_row(out, &sn.rules[i], &sn.s[i]);
            n++;
            if (fail_on >= 0 && sev >= fail_on)
                failed = 1;
        }
    }
    if (json)
        fprintf(out,
                "{\"event\":\"audit_summary\",\"findings\":%d,"
                "\"failed\":%s}\n",
                n, failed ? "true" : "false");
    else if (n == 0)
        fprintf(out, "  no findings\n");
    fflush(out);
    return failed;
}
