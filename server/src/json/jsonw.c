/* jsonw.c - direct JSON text writer (see jsonw.h). */
#include "jsonw.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Far above any sample's latest row (the sample itself is capped at 1 MiB
 * of collector text); a writer that reaches it fails rather than grows. */
#define JSONW_CAP (8u << 20)

void
jsonw_init(struct jsonw *w)
{
    hlc_buf_init(&w->b, JSONW_CAP);
    w->first = true;
    w->bad = false;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
    if (!w->bad && hlc_buf_append(&w->b, s, n) != 0)
        w->bad = true;
}

/* The separator and key that come before a value. */
static void
lead(struct jsonw *w, const char *key)
{
    char tmp[64]; /* the keys are the hub's own short names: one append */
    size_t n = 0, k = key ? strlen(key) : 0;
    if (!w->first)
        tmp[n++] = ',';
    w->first = false;
    if (key && k + 4 <= sizeof(tmp)) {
        tmp[n++] = '"';
        memcpy(tmp + n, key, k);
        n += k;
        tmp[n++] = '"';
        tmp[n++] = ':';
        key = NULL;
    }
    put(w, tmp, n);
    if (key) {
        put(w, "\"", 1);
        put(w, key, k);
        put(w, "\":", 2);
    }
}

void
jsonw_object(struct jsonw *w, const char *key)
{
    lead(w, key);
    put(w, "{", 1);
    w->first = true;
}

void
jsonw_array(struct jsonw *w, const char *key)
{
    lead(w, key);
    put(w, "[", 1);
    w->first = true;
}

void
jsonw_end_object(struct jsonw *w)
{
    put(w, "}", 1);
    w->first = false;
}

void
jsonw_end_array(struct jsonw *w)
{
    put(w, "]", 1);
    w->first = false;
}

void
jsonw_null(struct jsonw *w, const char *key)
{
    lead(w, key);
    put(w, "null", 4);
}

void
jsonw_bool(struct jsonw *w, const char *key, bool v)
{
    lead(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

/* The decimal digits of v, written backwards from end; where they start.
 * (snprintf costs some 1,800 instructions a number: a sample's latest row
 * has dozens.) */
static char *
digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
    char num[24], *end = num + sizeof(num);
    char *p = digits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    lead(w, key);
    put(w, p, (size_t)(end - p));
}

/* What %.15g gives for a value with at most two decimals (percentages and
 * other rounded figures), without printf: k = v * 100 is an integer below
 * 10^14 and v the double nearest k / 100, and a decimal of at most 15
 * significant digits comes back from its nearest double unchanged (DBL_DIG),
 * so the text is k / 100 with trailing zeros dropped. 0 when v is not such a
 * value (-0 included: it prints a sign); otherwise the length written. */
static size_t
two_decimals(double v, char out[static 24])
{
    if (!(fabs(v) < 1e12) || (v == 0 && signbit(v)))
        return 0;
    double k = round(v * 100.0);
    if (k / 100.0 != v)
        return 0;
    uint64_t mag = (uint64_t)fabs(k);
    char tmp[24], *end = tmp + sizeof(tmp), *p = end;
    unsigned frac = (unsigned)(mag % 100);
    if (frac) {
        if (frac % 10)
            *--p = (char)('0' + frac % 10);
        *--p = (char)('0' + frac / 10);
        *--p = '.';
    }
    p = digits(p, mag / 100);
    if (k < 0)
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    return n;
}

void
jsonw_real(struct jsonw *w, const char *key, double v)
{
    if (!isfinite(v)) {
        jsonw_null(w, key);
        return;
    }
    /* As jansson writes a real: 15 significant digits, always marked as a
     * real (".0" when printf gave an integer), exponent without '+' or
     * leading zeros. */
    char num[40], out[48];
    size_t o = two_decimals(v, num);
    if (o) {
        if (!memchr(num, '.', o)) {
            memcpy(num + o, ".0", 2);
            o += 2;
        }
        lead(w, key);
        put(w, num, o);
        return;
    }
    snprintf(num, sizeof(num), "%.15g", v);
    const char *e = strchr(num, 'e');
    if (!e) {
        o = strlen(num);
        memcpy(out, num, o);
        if (!strchr(num, '.')) {
            memcpy(out + o, ".0", 2);
            o += 2;
        }
    } else {
        o = (size_t)(e - num) + 1;
        memcpy(out, num, o);
        const char *x = e + 1;
        if (*x == '+')
            x++;
        else if (*x == '-')
            out[o++] = *x++;
        while (*x == '0' && x[1])
            x++;
        size_t rest = strlen(x);
        memcpy(out + o, x, rest);
        o += rest;
    }
    lead(w, key);
    put(w, out, o);
}

void
jsonw_str(struct jsonw *w, const char *key, const char *s)
{
    if (!s) {
        jsonw_null(w, key);
        return;
    }
    lead(w, key);
    put(w, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t len = c < 0x80 ? 1 : hlc_utf8_len(p + i, n - i);
            if (len == 0) {
                w->bad = true;
                return;
            }
            i += len;
            run += len;
            continue;
        }
        put(w, (const char *)p + i - run, run);
        run = 0;
        char esc[8];
        const char *e = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t"
                        : c == '\r' ? "\\r"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                                    : NULL;
        if (!e) {
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            e = esc;
        }
        put(w, e, strlen(e));
        i++;
    }
    put(w, (const char *)p + n - run, run);
    put(w, "\"", 1);
}

char *
jsonw_finish(struct jsonw *w)
{
    if (w->bad) {
        hlc_buf_release(&w->b);
        jsonw_init(w);
        return NULL;
    }
    if (!w->b.data)
        put(w, "", 0);
    char *text = hlc_buf_steal(&w->b);
    jsonw_init(w);
    return text;
}
