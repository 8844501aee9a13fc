/* pack_valid.c - strict patterns for everything a pack sends to a shell. */
#include <string.h>

#include <sodium.h>

#include "pack_internal.h"

static bool
is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static bool
is_alnum(int c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Every byte of s (1..max of them) is alphanumeric or in extra. */
static bool
all_of(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && !strchr(extra, s[i]))
            return false;
    return true;
}

bool
pack_valid_name(const char *s)
{
    if (!s || !(is_lower((unsigned char)s[0]) || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (const char *q = s; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            return false;
    return all_of(s, 64, "_-");
}

bool
hlc_pack_valid_name(const char *s)
{
    return pack_valid_name(s);
}

bool
pack_valid_path(const char *s)
{
    if (!s || s[0] != '/' || !all_of(s, HLC_PACK_MAX_PATH, "._@+,=:~/-"))
        return false;
    /* Each component: not empty (no "//", no trailing '/'), not "." or "..". */
    const char *c = s + 1;
    for (;;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (!e)
            return true;
        c = e + 1;
    }
}

bool
pack_valid_package(const char *s)
{
    if (!s || strlen(s) < 2 || !(is_lower((unsigned char)s[0]) || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (const char *q = s; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            return false;
    return all_of(s, 128, "+.-");
}

bool
pack_valid_account(const char *s)
{
    if (!s || !(is_lower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (const char *q = s; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            return false;
    return all_of(s, 32, "_-");
}

bool
pack_valid_sysctl_key(const char *s)
{
    if (!s || !is_lower((unsigned char)s[0]) || !all_of(s, 128, "._-"))
        return false;
    const char *dot = strchr(s, '.');
    if (!dot)
        return false;
    for (const char *q = s; q < dot; q++)
        if (!is_lower((unsigned char)*q) && !(*q >= '0' && *q <= '9') && *q != '_')
            return false;
    int parts = 0;
    for (const char *c = dot; c; c = strchr(c + 1, '.')) {
        if (c[1] == '.' || c[1] == '\0')
            return false;
        parts++;
    }
    return parts <= 15;
}

bool
pack_valid_sysctl_value(const char *s)
{
    return s && all_of(s, 128, " \t._:,/+-");
}

bool
pack_valid_timezone(const char *s)
{
    if (!s || !all_of(s, 64, "_+-/"))
        return false;
    int slashes = 0;
    if (s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return false;
    for (const char *q = s; *q; q++)
        slashes += *q == '/';
    return slashes <= 2;
}

bool
pack_valid_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return false;
        if (c == 0x7f)
            return false;
        size_t l = hlc_utf8_len(s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

bool
pack_valid_text_line(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    return n > 0 && n <= HLC_PACK_MAX_LINE && !strchr(s, '\n') && !strchr(s, '\r') &&
           pack_valid_text(s, n);
}

void
pack_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, n);
    sodium_bin2hex(out, 65, h, sizeof(h));
}
