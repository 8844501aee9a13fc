/* base.h - what every HomelabCmd library shares: error codes, allocation
 * wrappers, a bounded growable buffer, the injected log callback, time and ids. */
#ifndef HLC_BASE_H
#define HLC_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Every recoverable failure is one of these negative codes (0 is success).
 * XX(name, value, message). Add new codes at the end of a group. */
#define HLC_ERRNO_MAP(XX)                                                            \
    XX(NOMEM, -1, "out of memory")                                                   \
    XX(INVAL, -2, "invalid argument")                                                \
    XX(TOOBIG, -3, "input larger than its limit")                                    \
    XX(NOTFOUND, -4, "not found")                                                    \
    XX(EXISTS, -5, "already exists")                                                 \
    XX(IO, -6, "input/output error")                                                 \
    XX(DB, -7, "database error")                                                     \
    XX(PARSE, -8, "malformed input")                                                 \
    XX(RANGE, -9, "value out of range")                                              \
    XX(TIMEOUT, -10, "timed out")                                                    \
    XX(BUSY, -11, "resource busy")                                                   \
    XX(STATE, -12, "illegal state transition")                                       \
    XX(CRYPTO_KEY, -20, "wrong or missing encryption key")                           \
    XX(CRYPTO_TAG, -21, "token failed authentication")                               \
    XX(CRYPTO_VERSION, -22, "unknown token version")                                 \
    XX(CRYPTO_TRUNC, -23, "token truncated or malformed")                            \
    XX(CRYPTO_EXPIRED, -24, "token older than its maximum age")                      \
    XX(SSH_CONNECT, -30, "connection refused or unreachable")                        \
    XX(SSH_AUTH, -31, "authentication refused")                                      \
    XX(SSH_HOSTKEY, -32, "host key changed")                                         \
    XX(SSH_EXEC, -33, "remote command failed to start")                              \
    XX(SSH_NOROUTE, -34, "no route to host")                                         \
    XX(DENIED, -40, "refused by the command whitelist")

enum hlc_err {
#define HLC_ERR_ENUM(name, val, msg) HLC_E##name = (val),
    HLC_ERRNO_MAP(HLC_ERR_ENUM)
#undef HLC_ERR_ENUM
};

/* Message for an error code; never NULL, static storage. Thread-safe. */
const char *hlc_strerror(int err);
/* Short symbolic name ("NOTFOUND") for an error code; never NULL. */
const char *hlc_errname(int err);

/* Allocation that cannot fail: out of memory aborts (tmux's xmalloc). */
void *hlc_xmalloc(size_t n);
void *hlc_xcalloc(size_t nmemb, size_t size);
void *hlc_xrealloc(void *p, size_t n);
char *hlc_xstrdup(const char *s);
char *hlc_xstrndup(const char *s, size_t n);
/* printf into a fresh heap string; aborts on out of memory. */
char *hlc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer with a hard cap (curl's dynbuf): appending past
 * `cap` fails with HLC_ETOOBIG and leaves the contents as they were, so text
 * from outside can never grow without bound. Always NUL-terminated. */
struct hlc_buf {
    char *data;  /* NUL-terminated contents, NULL until the first append */
    size_t len;  /* bytes used, not counting the terminating NUL */
    size_t size; /* bytes allocated */
    size_t cap;  /* the most `len` may ever be */
};

void hlc_buf_init(struct hlc_buf *b, size_t cap);
void hlc_buf_release(struct hlc_buf *b);
void hlc_buf_reset(struct hlc_buf *b);
/* 0 or HLC_ETOOBIG (nothing appended). Aborts on out of memory. */
int hlc_buf_append(struct hlc_buf *b, const void *data, size_t n);
int hlc_buf_appendf(struct hlc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the contents to the caller (free() it) and resets the buffer. */
char *hlc_buf_steal(struct hlc_buf *b);

/* Logging: libraries never print. They call the callback their caller set. */
enum hlc_log_level { HLC_LOG_ERROR, HLC_LOG_WARN, HLC_LOG_INFO, HLC_LOG_DEBUG };
typedef void (*hlc_log_fn)(enum hlc_log_level level, const char *msg, void *ud);
/* Installs the process-wide log callback (NULL silences). Call before threads start. */
void hlc_log_set(hlc_log_fn fn, void *ud, enum hlc_log_level max_level);
void hlc_log(enum hlc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds since the epoch (wall clock) and a monotonic clock in ms / ns. */
int64_t hlc_now(void);
int64_t hlc_mono_ms(void);
int64_t hlc_mono_ns(void);
/* The CLOCK_REALTIME instant `ms` milliseconds from now (negative = now), as
 * pthread_cond_timedwait and pthread_mutex_timedlock want it. */
void hlc_abstime_in(int64_t ms, struct timespec *ts);
/* Formats `t` as "2026-01-18T14:32:00Z" into out (at least 21 bytes). */
void hlc_time_iso(int64_t t, char out[static 32]);
/* Parses an ISO 8601 UTC/offset timestamp; 0 or HLC_EPARSE. */
int hlc_time_parse(const char *s, int64_t *out);

/* A random RFC 4122 version-4 UUID as 36 characters plus NUL. */
void hlc_uuid4(char out[static 37]);
/* `n` random bytes as lowercase hex into out (2n+1 bytes). */
void hlc_random_hex(char *out, size_t n);

/* Checked decimal parsing (never atoi): whole string must be a number within
 * [min, max]. 0, HLC_EPARSE or HLC_ERANGE. */
int hlc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A host name by RFC 1123 (labels of letters, digits, '-' and '_', none
 * starting or ending with '-', at most 63 bytes each and 253 in all). */
bool hlc_valid_dns_name(const char *s);

/* Length of the well-formed UTF-8 character at p, which has `avail` bytes (at
 * least 1): 1 for ASCII (NUL included), 2 to 4 for a multi-byte sequence,
 * 0 for anything else (a stray or missing continuation byte, an overlong
 * form, a surrogate, a value past U+10FFFF). */
size_t hlc_utf8_len(const void *p, size_t avail);

/* First line of a small secret file (heap, caller frees; the read buffer is
 * wiped), NULL if absent or empty. */
char *hlc_read_secret_file(const char *path);
/* Creates `path` with mode 0600 holding secret + newline, synced; -1 if it
 * exists or cannot be written. */
int hlc_write_secret_file(const char *path, const char *secret);

#endif
