/* validate.h - checks on JSON from outside: types, ranges, lengths, patterns.
 * Each check either accepts or fills a struct hlc_verr naming the field and
 * saying what is wrong, which the API returns as 422. Thread-safe. */
#ifndef HLC_VALIDATE_H
#define HLC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct hlc_verr {
    char field[64];    /* the offending field, dotted for nesting ("thresholds.cpu") */
    char message[256]; /* what is wrong, for a person */
};

typedef bool (*hlc_pattern_fn)(const char *s);

/* A string field. Absent: ok unless required (*out untouched). null: ok when
 * nullable (*out = NULL). Otherwise must be a string of 1..maxlen bytes of
 * valid UTF-8 (jansson guarantees) matching `pattern` (may be NULL). */
bool hlc_v_string(json_t *obj, const char *key, bool required, bool nullable, size_t maxlen,
                  hlc_pattern_fn pattern, const char *pattern_desc, struct hlc_verr *e);
/* An integer field within [min, max]. */
bool hlc_v_int(json_t *obj, const char *key, bool required, bool nullable, long long min,
               long long max, struct hlc_verr *e);
/* A number (integer or real) within [min, max]. */
bool hlc_v_number(json_t *obj, const char *key, bool required, double min, double max,
                  struct hlc_verr *e);
/* A boolean field. */
bool hlc_v_bool(json_t *obj, const char *key, bool required, struct hlc_verr *e);
/* A string that is one of the NULL-terminated `choices`. */
bool hlc_v_enum(json_t *obj, const char *key, bool required, const char *const *choices,
                struct hlc_verr *e);
/* Every key of obj is in the NULL-terminated `allowed` list. */
bool hlc_v_known_keys(json_t *obj, const char *const *allowed, struct hlc_verr *e);
/* Fills e with a message (printf) for `field`; returns false. */
bool hlc_v_fail(struct hlc_verr *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets e->field to `field`, cut to fit. */
void hlc_v_set_field(struct hlc_verr *e, const char *field);

/* Copies obj[key], a string from outside JSON, into a fixed field dst of
 * cap bytes. Absent or null: dst = "" and true. A non-string, one that
 * does not fit, or one holding a control character: false (dst ""); the
 * caller skips the record. */
bool hlc_json_take_text(json_t *obj, const char *key, char *dst, size_t cap);

/* Patterns. */
bool hlc_valid_slug(const char *s);     /* ^[a-z0-9][a-z0-9-]{0,62}$ */
bool hlc_valid_hostname(const char *s); /* RFC 1123 host name or IPv4/IPv6 literal */
bool hlc_valid_ip(const char *s);       /* IPv4 or IPv6 literal */
bool hlc_valid_mac(const char *s);      /* aa:bb:cc:dd:ee:ff */
bool hlc_valid_ssh_user(const char *s); /* ^[a-z_][a-z0-9_.-]{0,31}$ */
bool hlc_valid_tag(const char *s);      /* ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$ */
bool hlc_valid_printable(const char *s); /* no control characters */

#endif
