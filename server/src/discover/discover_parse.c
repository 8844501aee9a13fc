/* discover_parse.c - the pure parsers of discovery: a CIDR, a line of the
 * kernel's ARP table, a line of the IEEE OUI registry, an SSH banner. */
#include "discover.h"

#include <ctype.h>
#include <string.h>

#include "hlc/base.h"

/* A decimal number of 1-3 digits without a leading zero, <= max; advances *p. */
static bool
dec(const char **p, unsigned max, unsigned *out)
{
    const char *s = *p;
    unsigned v = 0;
    int n = 0;
    while (n < 3 && s[n] >= '0' && s[n] <= '9')
        v = v * 10 + (unsigned)(s[n++] - '0');
    if (n == 0 || (n > 1 && s[0] == '0') || (s[n] >= '0' && s[n] <= '9') || v > max)
        return false;
    *p = s + n;
    *out = v;
    return true;
}

int
hlc_discover_cidr_parse(const char *s, uint32_t *net, int *prefix)
{
    uint32_t a = 0;
    unsigned v;
    if (!s)
        return HLC_EINVAL;
    for (int i = 0; i < 4; i++) {
        if (!dec(&s, 255, &v))
            return HLC_EINVAL;
        a = a << 8 | v;
        if (*s++ != (i < 3 ? '.' : '/'))
            return HLC_EINVAL;
    }
    if (!dec(&s, 32, &v) || *s)
        return HLC_EINVAL;
    uint32_t mask = v == 0 ? 0 : 0xffffffffu << (32 - v);
    *net = a & mask;
    *prefix = (int)v;
    return 0;
}

/* The next whitespace-separated field of [*p, end); false when none. */
static bool
field(const char **p, const char *end, const char **f, size_t *flen)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *b = s;
    while (s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
        s++;
    *p = s;
    *f = b;
    *flen = (size_t)(s - b);
    return *flen > 0;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
hlc_discover_arp_line(const char *line, size_t len, uint32_t *ip, char mac[18])
{
    const char *p = line, *end = line + len, *f[6];
    size_t fl[6];
    for (int i = 0; i < 6; i++)
        if (!field(&p, end, &f[i], &fl[i]))
            return HLC_EPARSE;
    if (fl[0] == 2 && memcmp(f[0], "IP", 2) == 0)
        return HLC_ENOTFOUND; /* the header */
    char buf[24];
    if (fl[0] >= 16)
        return HLC_EPARSE;
    memcpy(buf, f[0], fl[0]);
    buf[fl[0]] = '\0';
    uint32_t a = 0;
    const char *s = buf;
    unsigned v;
    for (int i = 0; i < 4; i++) {
        if (!dec(&s, 255, &v) || *s != (i < 3 ? '.' : '\0'))
            return HLC_EPARSE;
        s += i < 3;
        a = a << 8 | v;
    }
    /* Flags: "0x" and hex digits; ATF_COM (0x2) marks a resolved entry. */
    if (fl[2] < 3 || fl[2] > 6 || f[2][0] != '0' || f[2][1] != 'x')
        return HLC_EPARSE;
    unsigned flags = 0;
    for (size_t i = 2; i < fl[2]; i++) {
        int h = hexval((unsigned char)f[2][i]);
        if (h < 0)
            return HLC_EPARSE;
        flags = flags << 4 | (unsigned)h;
    }
    if (fl[3] != 17)
        return HLC_EPARSE;
    bool zero = true;
    for (int i = 0; i < 17; i++) {
        char c = f[3][i];
        if (i % 3 == 2) {
            if (c != ':')
                return HLC_EPARSE;
            mac[i] = ':';
            continue;
        }
        if (hexval((unsigned char)c) < 0)
            return HLC_EPARSE;
        zero &= c == '0';
        mac[i] = (char)tolower((unsigned char)c);
    }
    mac[17] = '\0';
    if (!(flags & 0x2) || zero) {
        mac[0] = '\0';
        return HLC_ENOTFOUND;
    }
    *ip = a;
    return 0;
}

int
hlc_discover_oui_line(const char *line, size_t len, char prefix[7],
                      char vendor[HLC_DISCOVER_VENDOR_MAX + 1])
{
    static const char tag[] = "(hex)";
    if (len < 8 + 1 + sizeof(tag) - 1 || line[2] != '-' || line[5] != '-')
        return HLC_ENOTFOUND;
    for (int i = 0; i < 8; i++) {
        if (i == 2 || i == 5)
            continue;
        int h = hexval((unsigned char)line[i]);
        if (h < 0)
            return HLC_ENOTFOUND;
        prefix[i - i / 3] = (char)toupper((unsigned char)line[i]);
    }
    prefix[6] = '\0';
    size_t i = 8;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == 8 || len - i < sizeof(tag) - 1 || memcmp(line + i, tag, sizeof(tag) - 1) != 0)
        return HLC_ENOTFOUND;
    i += sizeof(tag) - 1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t e = len;
    while (e > i && (line[e - 1] == '\n' || line[e - 1] == '\r' || line[e - 1] == ' ' ||
                     line[e - 1] == '\t'))
        e--;
    size_t n = 0;
    for (size_t k = i; k < e && n < HLC_DISCOVER_VENDOR_MAX; k++) {
        unsigned char c = (unsigned char)line[k];
        if (c == '\n') /* one line only */
            break;
        /* ASCII printables only: the registry is mostly ASCII, and a '?'
         * for anything else can never leave a cut UTF-8 sequence. */
        vendor[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    vendor[n] = '\0';
    return n ? 0 : HLC_ENOTFOUND;
}

int
hlc_discover_ssh_banner(const char *buf, size_t len, char out[HLC_DISCOVER_BANNER_MAX + 1])
{
    static const char id[] = "SSH-";
    size_t k = len < 4 ? len : 4;
    if (memcmp(buf, id, k) != 0)
        return HLC_EPARSE;
    const char *nl = memchr(buf, '\n', len);
    if (!nl)
        return len < HLC_DISCOVER_BANNER_MAX + 2 ? 1 : HLC_EPARSE;
    size_t n = (size_t)(nl - buf);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n < 4 || n > HLC_DISCOVER_BANNER_MAX)
        return HLC_EPARSE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
    return 0;
}
