/* jsonr.c - JSON reader into jansson values (see jsonr.h). One pass over
 * the bytes: strings without escapes go to jansson straight from the text,
 * integers are accumulated in place, and only reals go through strtod (the
 * hub never calls setlocale, so its decimal point is '.'). */
#include "jsonr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"

struct reader {
    const unsigned char *start, *p, *end; /* the text and the next byte */
    int depth;                            /* values open now */
    struct jsonr_error *err;              /* filled on the first error */
    bool failed;                          /* an error was reported */
    struct hlc_buf buf;                   /* decoded text of an escaped string */
};

/* Reports an error at byte `at` (the first one reported wins); NULL. */
static void *fail(struct reader *r, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *
fail(struct reader *r, const unsigned char *at, const char *fmt, ...)
{
    if (r->failed)
        return NULL;
    r->failed = true;
    int line = 1;
    const unsigned char *bol = r->start;
    for (const unsigned char *q = r->start; q < at; q++)
        if (*q == '\n') {
            line++;
            bol = q + 1;
        }
    r->err->line = line;
    r->err->column = (int)(at - bol) + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err->text, sizeof(r->err->text), fmt, ap);
    va_end(ap);
    return NULL;
}

static void
skip_ws(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool
is_digit(const unsigned char *q, const unsigned char *end)
{
    return q < end && *q >= '0' && *q <= '9';
}

/* Appends to the decoded string; its cap, the text's length, is never
 * reached (unescaping only shortens). */
static bool
put(struct reader *r, const void *s, size_t n)
{
    return hlc_buf_append(&r->buf, s, n) == 0;
}

/* The four hex digits at q as a number, or -1. */
static long
hex4(const unsigned char *q, const unsigned char *end)
{
    if (end - q < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = q[i];
        int d = c >= '0' && c <= '9'   ? (int)(c - '0')
                : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
                : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10)
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the escape at q (a backslash) into r->buf; the byte after it, or
 * NULL on error. */
static const unsigned char *
unescape(struct reader *r, const unsigned char *q)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (q + 1 >= r->end)
        return fail(r, q, "unterminated string");
    const char *m = q[1] ? strchr(from, q[1]) : NULL;
    if (m) {
        if (!put(r, &to[m - from], 1))
            return fail(r, q, "out of memory");
        return q + 2;
    }
    if (q[1] != 'u')
        return fail(r, q, "invalid escape '\\%c' in string",
                    q[1] >= 0x20 && q[1] < 0x7f ? q[1] : '?');
    long cp = hex4(q + 2, r->end);
    if (cp < 0)
        return fail(r, q, "invalid \\u escape in string");
    const unsigned char *next = q + 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long lo =
            next + 1 < r->end && next[0] == '\\' && next[1] == 'u' ? hex4(next + 2, r->end) : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(r, q, "invalid Unicode: a high surrogate without its low half");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        next += 6;
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return fail(r, q, "invalid Unicode: a low surrogate without its high half");
    } else if (cp == 0) {
        return fail(r, q, "\\u0000 is not allowed in strings");
    }
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (!put(r, u, n))
        return fail(r, q, "out of memory");
    return next;
}

/* Reads the string whose opening quote r->p is at: *s and *n get its bytes,
 * which are in the text itself when it has no escape, else in r->buf (valid
 * until the next string is read). false on error. */
static bool
read_string(struct reader *r, const char **s, size_t *n)
{
    const unsigned char *begin = ++r->p, *q = begin;
    bool escaped = false;
    hlc_buf_reset(&r->buf);
    while (q < r->end) {
        unsigned c = *q;
        if (c == '"') {
            r->p = q + 1;
            *s = escaped ? r->buf.data : (const char *)begin;
            *n = escaped ? r->buf.len : (size_t)(q - begin);
            return true;
        }
        if (c == '\\') {
            if (!escaped && !put(r, begin, (size_t)(q - begin)))
                return fail(r, q, "out of memory");
            escaped = true;
            if (!(q = unescape(r, q)))
                return false;
            continue;
        }
        if (c < 0x20)
            return fail(r, q, "control character 0x%02x in string", c);
        size_t len = c < 0x80 ? 1 : hlc_utf8_len(q, (size_t)(r->end - q));
        if (!len)
            return fail(r, q, "invalid UTF-8 byte 0x%02x in string", c);
        if (escaped && !put(r, q, len))
            return fail(r, q, "out of memory");
        q += len;
    }
    return fail(r, q, "unterminated string");
}

static json_t *
read_number(struct reader *r)
{
    const unsigned char *s = r->p, *q = s, *end = r->end;
    bool neg = q < end && *q == '-';
    if (neg)
        q++;
    if (!is_digit(q, end))
        return fail(r, s, "invalid number");
    if (*q == '0') {
        if (is_digit(++q, end))
            return fail(r, s, "invalid number: a leading zero");
    } else {
        while (is_digit(q, end))
            q++;
    }
    bool real = false;
    if (q < end && *q == '.') {
        if (!is_digit(++q, end))
            return fail(r, s, "invalid number: no digit after the decimal point");
        while (is_digit(q, end))
            q++;
        real = true;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (!is_digit(q, end))
            return fail(r, s, "invalid number: no digit in the exponent");
        while (is_digit(q, end))
            q++;
        real = true;
    }
    r->p = q;
    if (!real) {
        /* In int64: up to 2^63 - 1, or 2^63 when negative. */
        uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (const unsigned char *d = s + neg; d < q; d++) {
            unsigned digit = *d - '0';
            if (v > (max - digit) / 10)
                return fail(r, s, neg ? "too big negative integer" : "too big integer");
            v = v * 10 + digit;
        }
        json_int_t i =
            neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v) : (json_int_t)v;
        json_t *j = json_integer(i);
        return j ? j : fail(r, s, "out of memory");
    }
    size_t n = (size_t)(q - s);
    char small[64], *text = n < sizeof(small) ? small : malloc(n + 1);
    if (!text)
        return fail(r, s, "out of memory");
    memcpy(text, s, n);
    text[n] = '\0';
    errno = 0;
    double d = strtod(text, NULL);
    bool overflow = isinf(d) && errno == ERANGE;
    if (text != small)
        free(text);
    if (overflow)
        return fail(r, s, "real number overflow");
    json_t *j = json_real(d);
    return j ? j : fail(r, s, "out of memory");
}

static json_t *read_value(struct reader *r);

/* Steps past the opening '{' or '[' and any space after it; true (and past
 * it too) when the closing byte comes at once: an empty object or array. */
static bool
closed_at_once(struct reader *r, unsigned char close)
{
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return true;
    }
    return false;
}

/* What follows a member or an element: 1 after a ',' (another comes), 0
 * after the closing byte, -1 (reported) on anything else. */
static int
next_or_close(struct reader *r, unsigned char close, const char *in)
{
    skip_ws(r);
    if (r->p < r->end && (*r->p == ',' || *r->p == close))
        return *r->p++ == ',';
    fail(r, r->p, "',' or '%c' expected in %s", close, in);
    return -1;
}

static json_t *
read_object(struct reader *r)
{
    json_t *obj = json_object();
    if (!obj)
        return fail(r, r->p, "out of memory");
    if (closed_at_once(r, '}'))
        return obj;
    for (;;) {
        skip_ws(r);
        if (r->p >= r->end || *r->p != '"') {
            fail(r, r->p, "a string key expected in an object");
            break;
        }
        const unsigned char *at = r->p;
        const char *k;
        size_t kn;
        if (!read_string(r, &k, &kn))
            break;
        if (json_object_getn(obj, k, kn)) {
            fail(r, at, "duplicate object key");
            break;
        }
        /* An escaped key lives in r->buf, which the value may reuse. */
        char *kcopy = NULL;
        if (k == r->buf.data) {
            if (!(kcopy = malloc(kn ? kn : 1))) {
                fail(r, at, "out of memory");
                break;
            }
            memcpy(kcopy, k, kn);
            k = kcopy;
        }
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':') {
            free(kcopy);
            fail(r, r->p, "':' expected after an object key");
            break;
        }
        r->p++;
        json_t *v = read_value(r);
        int set = v ? json_object_setn_new_nocheck(obj, k, kn, v) : -1;
        free(kcopy);
        if (set != 0) {
            if (v)
                fail(r, at, "out of memory");
            break;
        }
        int more = next_or_close(r, '}', "an object");
        if (more > 0)
            continue;
        if (more == 0)
            return obj;
        break;
    }
    json_decref(obj);
    return NULL;
}

static json_t *
read_array(struct reader *r)
{
    json_t *arr = json_array();
    if (!arr)
        return fail(r, r->p, "out of memory");
    if (closed_at_once(r, ']'))
        return arr;
    for (;;) {
        const unsigned char *at = r->p;
        json_t *v = read_value(r);
        if (!v)
            break;
        if (json_array_append_new(arr, v) != 0) {
            fail(r, at, "out of memory");
            break;
        }
        int more = next_or_close(r, ']', "an array");
        if (more > 0)
            continue;
        if (more == 0)
            return arr;
        break;
    }
    json_decref(arr);
    return NULL;
}

/* true, false or null at r->p, whole (a letter right after is no match). */
static bool
literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    const unsigned char *q = r->p;
    if ((size_t)(r->end - q) < n || memcmp(q, word, n) != 0)
        return false;
    if (q + n < r->end && ((q[n] | 0x20) >= 'a' && (q[n] | 0x20) <= 'z'))
        return false;
    r->p += n;
    return true;
}

static json_t *
read_value(struct reader *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return fail(r, r->p, "a value expected, the text ended");
    if (++r->depth > JSONR_MAX_DEPTH)
        return fail(r, r->p, "nested deeper than %d values", JSONR_MAX_DEPTH);
    json_t *v = NULL;
    const unsigned char *at = r->p;
    switch (*r->p) {
    case '{':
        v = read_object(r);
        break;
    case '[':
        v = read_array(r);
        break;
    case '"': {
        const char *s;
        size_t n;
        if (read_string(r, &s, &n) && !(v = json_stringn_nocheck(s, n)))
            fail(r, at, "out of memory");
        break;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        v = read_number(r);
        break;
    default:
        if (literal(r, "true"))
            v = json_true();
        else if (literal(r, "false"))
            v = json_false();
        else if (literal(r, "null"))
            v = json_null();
        else if (*at >= 0x20 && *at < 0x7f)
            fail(r, at, "unexpected '%c'", *at);
        else
            fail(r, at, "unexpected byte 0x%02x", *at);
    }
    r->depth--;
    return v;
}

json_t *
jsonr_parse(const char *text, size_t len, struct jsonr_error *err)
{
    struct reader r = {
        .start = (const unsigned char *)text,
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .err = err,
    };
    hlc_buf_init(&r.buf, len);
    memset(err, 0, sizeof(*err));
    skip_ws(&r);
    json_t *root = NULL;
    if (r.p >= r.end || (*r.p != '{' && *r.p != '['))
        fail(&r, r.p, "'{' or '[' expected");
    else if ((root = read_value(&r))) {
        skip_ws(&r);
        if (r.p < r.end) {
            fail(&r, r.p, "the text goes on after its value");
            json_decref(root);
            root = NULL;
        }
    }
    hlc_buf_release(&r.buf);
    return root;
}
