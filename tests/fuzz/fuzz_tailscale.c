/* fuzz_tailscale.c - libFuzzer harness for the Tailscale device-list and
 * LocalAPI status parsers: any input either parses into devices that keep
 * the invariants import relies on (a node id of letters and digits, strings
 * terminated within their fields, counts within the caps, checked
 * addresses), or is refused with HLC_EPARSE / HLC_ETOOBIG; nothing leaks.
 * The first byte picks the parser. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "tailscale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool status = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct hlc_ts_device *d = NULL;
    size_t n = 0, skipped = 0;
    int rc = status ? hlc_ts_parse_status(text, len, &d, &n, &skipped)
                    : hlc_ts_parse_devices(text, len, &d, &n, &skipped);
    if (rc != 0) {
        if ((rc != HLC_EPARSE && rc != HLC_ETOOBIG) || d || n)
            abort();
        return 0;
    }
    if (n > HLC_TS_MAX_DEVICES)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct hlc_ts_device *x = &d[i];
        if (!x->node_id[0])
            abort();
        for (const char *p = x->node_id; *p; p++)
            if (!isalnum((unsigned char)*p))
                abort();
        check_str(x->name, sizeof(x->name));
        check_str(x->hostname, sizeof(x->hostname));
        check_str(x->os, sizeof(x->os));
        check_str(x->user, sizeof(x->user));
        if (x->naddrs > HLC_TS_MAX_ADDRS || x->ntags > HLC_TS_MAX_TAGS)
            abort();
        unsigned char buf[16];
        for (size_t k = 0; k < x->naddrs; k++)
            if (inet_pton(AF_INET, x->addrs[k], buf) != 1 && inet_pton(AF_INET6, x->addrs[k], buf) != 1)
                abort();
        if (x->ipv4[0] && inet_pton(AF_INET, x->ipv4, buf) != 1)
            abort();
        if (x->online < -1 || x->online > 1 || x->last_seen < 0 || x->expires < 0)
            abort();
        char slug[64];
        hlc_ts_slug(x->hostname, slug);
        if (!slug[0] || strlen(slug) > 63)
            abort();
    }
    free(d);
    return 0;
}
