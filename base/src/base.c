/* base.c - error table, allocation wrappers, bounded buffer, log, time, ids. */
#include "hlc/base.h"

#include <ctype.h>
#include <stdbool.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

const char *
hlc_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define HLC_ERR_MSG(name, val, msg)                                                                \
    case val:                                                                                      \
        return msg;
        HLC_ERRNO_MAP(HLC_ERR_MSG)
#undef HLC_ERR_MSG
    }
    return "unknown error";
}

const char *
hlc_errname(int err)
{
    switch (err) {
    case 0:
        return "OK";
#define HLC_ERR_NAME(name, val, msg)                                                               \
    case val:                                                                                      \
        return #name;
        HLC_ERRNO_MAP(HLC_ERR_NAME)
#undef HLC_ERR_NAME
    }
    return "UNKNOWN";
}

static void
oom(size_t n)
{
    fprintf(stderr, "homelabcmd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
hlc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *
hlc_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *
hlc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *
hlc_xstrdup(const char *s)
{
    return hlc_xstrndup(s, strlen(s));
}

char *
hlc_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = hlc_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
hlc_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return out;
}

void
hlc_buf_init(struct hlc_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void
hlc_buf_release(struct hlc_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->size = 0;
}

void
hlc_buf_reset(struct hlc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int
hlc_buf_append(struct hlc_buf *b, const void *data, size_t n)
{
    if (n > b->cap || b->len > b->cap - n)
        return HLC_ETOOBIG;
    if (b->len + n + 1 > b->size) {
        size_t want = b->size ? b->size : 256;
        while (want < b->len + n + 1)
            want *= 2;
        if (want > b->cap + 1)
            want = b->cap + 1;
        b->data = hlc_xrealloc(b->data, want);
        b->size = want;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
hlc_buf_appendf(struct hlc_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return HLC_EINVAL;
    if ((size_t)n < sizeof(small))
        return hlc_buf_append(b, small, (size_t)n);
    char *big = hlc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = hlc_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

char *
hlc_buf_steal(struct hlc_buf *b)
{
    char *p = b->data ? b->data : hlc_xstrdup("");
    b->data = NULL;
    b->len = b->size = 0;
    return p;
}

static hlc_log_fn log_fn;
static void *log_ud;
static enum hlc_log_level log_max = HLC_LOG_INFO;

void
hlc_log_set(hlc_log_fn fn, void *ud, enum hlc_log_level max_level)
{
    log_fn = fn;
    log_ud = ud;
    log_max = max_level;
}

void
hlc_log(enum hlc_log_level level, const char *fmt, ...)
{
    if (!log_fn || level > log_max)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_ud);
}

int64_t
hlc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void
hlc_abstime_in(int64_t ms, struct timespec *ts)
{
    if (ms < 0)
        ms = 0;
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int64_t
hlc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
hlc_mono_ms(void)
{
    return hlc_mono_ns() / 1000000LL;
}

void
hlc_time_iso(int64_t t, char out[static 32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int
hlc_time_parse(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    const char *p = s;
    memset(&tm, 0, sizeof(tm));
    if (!s || take_digits(&p, 4, &y) || *p++ != '-' || take_digits(&p, 2, &mo) || *p++ != '-' ||
        take_digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
        return HLC_EPARSE;
    p++;
    if (take_digits(&p, 2, &h) || *p++ != ':' || take_digits(&p, 2, &mi) || *p++ != ':' ||
        take_digits(&p, 2, &sec))
        return HLC_EPARSE;
    if (*p == '.') { /* fractional seconds are accepted and dropped */
        p++;
        if (!isdigit((unsigned char)*p))
            return HLC_EPARSE;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (take_digits(&p, 2, &oh))
            return HLC_EPARSE;
        if (*p == ':')
            p++;
        if (take_digits(&p, 2, &om))
            return HLC_EPARSE;
    } else if (*p != '\0') {
        return HLC_EPARSE;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        y < 1970 || y > 9999 || oh > 23 || om > 59)
        return HLC_EPARSE;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return HLC_EPARSE;
    *out = (int64_t)t - sign * (oh * 3600 + om * 60);
    return 0;
}

/* Fills b with n bytes from the kernel's CSPRNG (getrandom(2) blocks only
 * until the pool is first seeded at boot). A failure here cannot be handled
 * sensibly by any caller (keys and tokens would be guessable), so it aborts. */
static void
random_fill(unsigned char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        got += (size_t)r;
    }
}

void
hlc_uuid4(char out[static 37])
{
    unsigned char b[16];
    random_fill(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

void
hlc_random_hex(char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char *b = hlc_xmalloc(n);
    random_fill(b, n);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
    explicit_bzero(b, n);
    free(b);
}

bool
hlc_valid_dns_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!(isalnum(c) || c == '-' || c == '_') || (label == 0 && c == '-') || ++label > 63)
            return false;
    }
    return s[n - 1] != '-';
}

int
hlc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return HLC_EPARSE;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return HLC_EPARSE;
    if (errno == ERANGE || v < min || v > max)
        return HLC_ERANGE;
    *out = (int64_t)v;
    return 0;
}

size_t
hlc_utf8_len(const void *p, size_t avail)
{
    const unsigned char *q = p;
    unsigned c = q[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    /* The second byte's range rules out overlong forms, surrogates and
     * values past U+10FFFF. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (avail < n || q[1] < lo || q[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((q[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Reads a small secret file (one line); NULL when absent. */
char *
hlc_read_secret_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char buf[512];
    char *out = NULL;
    if (fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (*buf)
            out = hlc_xstrdup(buf);
    }
    explicit_bzero(buf, sizeof(buf));
    fclose(f);
    return out;
}

/* Writes a secret to a new file with mode 0600 (fails if it exists). */
int
hlc_write_secret_file(const char *path, const char *secret)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen(secret);
    bool ok = write(fd, secret, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
              fsync(fd) == 0;
    close(fd);
    return ok ? 0 : -1;
}
