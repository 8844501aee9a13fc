/* validate.c - field checks for JSON from outside. */
#include "validate.h"

#include "hlc/base.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


bool
hlc_v_fail(struct hlc_verr *e, const char *field, const char *fmt, ...)
{
    hlc_v_set_field(e, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return false;
}

void
hlc_v_set_field(struct hlc_verr *e, const char *field)
{
    size_t n = strnlen(field, sizeof(e->field) - 1);
    memcpy(e->field, field, n);
    e->field[n] = '\0';
}

bool
hlc_v_string(json_t *obj, const char *key, bool required, bool nullable, size_t maxlen,
             hlc_pattern_fn pattern, const char *pattern_desc, struct hlc_verr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? hlc_v_fail(e, key, "%s is required", key) : true;
    if (json_is_null(v))
        return nullable ? true : hlc_v_fail(e, key, "%s may not be null", key);
    if (!json_is_string(v))
        return hlc_v_fail(e, key, "%s must be a string", key);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0)
        return hlc_v_fail(e, key, "%s may not be empty", key);
    if (len > maxlen)
        return hlc_v_fail(e, key, "%s is longer than %zu characters", key, maxlen);
    if (strlen(s) != len)
        return hlc_v_fail(e, key, "%s contains a NUL character", key);
    if (pattern && !pattern(s))
        return hlc_v_fail(e, key, "%s must be %s", key, pattern_desc);
    if (!pattern && !hlc_valid_printable(s))
        return hlc_v_fail(e, key, "%s contains control characters", key);
    return true;
}

bool
hlc_v_int(json_t *obj, const char *key, bool required, bool nullable, long long min,
          long long max, struct hlc_verr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? hlc_v_fail(e, key, "%s is required", key) : true;
    if (json_is_null(v))
        return nullable ? true : hlc_v_fail(e, key, "%s may not be null", key);
    if (!json_is_integer(v))
        return hlc_v_fail(e, key, "%s must be an integer", key);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return hlc_v_fail(e, key, "%s must be between %lld and %lld", key, min, max);
    return true;
}

bool
hlc_v_number(json_t *obj, const char *key, bool required, double min, double max,
             struct hlc_verr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? hlc_v_fail(e, key, "%s is required", key) : true;
    if (!json_is_number(v))
        return hlc_v_fail(e, key, "%s must be a number", key);
    double d = json_number_value(v);
    if (!(d >= min && d <= max))
        return hlc_v_fail(e, key, "%s must be between %g and %g", key, min, max);
    return true;
}

bool
hlc_v_bool(json_t *obj, const char *key, bool required, struct hlc_verr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? hlc_v_fail(e, key, "%s is required", key) : true;
    if (!json_is_boolean(v))
        return hlc_v_fail(e, key, "%s must be true or false", key);
    return true;
}

bool
hlc_v_enum(json_t *obj, const char *key, bool required, const char *const *choices,
           struct hlc_verr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? hlc_v_fail(e, key, "%s is required", key) : true;
    if (json_is_string(v)) {
        for (const char *const *c = choices; *c; c++)
            if (strcmp(*c, json_string_value(v)) == 0)
                return true;
    }
    char list[200] = "";
    size_t off = 0;
    for (const char *const *c = choices; *c && off < sizeof(list); c++) {
        int n = snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", *c);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    return hlc_v_fail(e, key, "%s must be one of: %s", key, list);
}

bool
hlc_v_known_keys(json_t *obj, const char *const *allowed, struct hlc_verr *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char shown[48];
            snprintf(shown, sizeof(shown), "%s", key);
            for (char *p = shown; *p; p++)
                if (!isprint((unsigned char)*p))
                    *p = '?';
            return hlc_v_fail(e, shown, "unknown field '%s'", shown);
        }
    }
    return true;
}

bool
hlc_valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '-'))
            return false;
    }
    return true;
}

bool
hlc_valid_ip(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool
hlc_valid_hostname(const char *s)
{
    return hlc_valid_ip(s) || hlc_valid_dns_name(s);
}

bool
hlc_valid_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':' && s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool
hlc_valid_ssh_user(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    if (!(islower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool
hlc_valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32 || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

bool
hlc_valid_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

bool
hlc_json_take_text(json_t *obj, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    dst[0] = '\0';
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}
