/* fuzz_discover.c - libFuzzer harness for discovery's parsers of outside
 * input: a CIDR from the query string, lines of /proc/net/arp and of
 * ieee-data's oui.txt, what a server sends first on port 22. Each either
 * parses into a value that keeps its invariants (a cleared network address,
 * a lowercase colon MAC, printable strings within their caps) or is refused
 * with its documented code; nothing reads past the input. The first byte
 * picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "hlc/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_printable(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pick = data[0] % 4;
    /* A copy of exactly the rest, so ASan sees any read past it. */
    size_t n = size - 1;
    char *in = malloc(n ? n : 1);
    if (!in)
        return 0;
    memcpy(in, data + 1, n);
    switch (pick) {
    case 0: {
        char *z = malloc(n + 1);
        if (!z)
            break;
        memcpy(z, in, n);
        z[n] = '\0';
        uint32_t net = 0;
        int prefix = -1;
        int rc = hlc_discover_cidr_parse(z, &net, &prefix);
        if (rc == 0) {
            if (prefix < 0 || prefix > 32)
                abort();
            uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
            if (net & ~mask)
                abort();
        } else if (rc != HLC_EINVAL) {
            abort();
        }
        free(z);
        break;
    }
    case 1: {
        uint32_t ip;
        char mac[18];
        int rc = hlc_discover_arp_line(in, n, &ip, mac);
        if (rc == 0) {
            for (int i = 0; i < 17; i++)
                if (i % 3 == 2
                        ? mac[i] != ':'
                        : !((mac[i] >= '0' && mac[i] <= '9') || (mac[i] >= 'a' && mac[i] <= 'f')))
                    abort();
            if (mac[17] != '\0')
                abort();
        } else if (rc != HLC_ENOTFOUND && rc != HLC_EPARSE) {
            abort();
        }
        break;
    }
    case 2: {
        char prefix[7], vendor[HLC_DISCOVER_VENDOR_MAX + 1];
        int rc = hlc_discover_oui_line(in, n, prefix, vendor);
        if (rc == 0) {
            check_printable(vendor, sizeof(vendor));
            if (!vendor[0] || strlen(prefix) != 6)
                abort();
            for (int i = 0; i < 6; i++)
                if (!((prefix[i] >= '0' && prefix[i] <= '9') ||
                      (prefix[i] >= 'A' && prefix[i] <= 'F')))
                    abort();
        } else if (rc != HLC_ENOTFOUND) {
            abort();
        }
        break;
    }
    default: {
        char out[HLC_DISCOVER_BANNER_MAX + 1];
        int rc = hlc_discover_ssh_banner(in, n, out);
        if (rc == 0) {
            check_printable(out, sizeof(out));
            if (strncmp(out, "SSH-", 4) != 0)
                abort();
        } else if (rc == 1) {
            if (n >= HLC_DISCOVER_BANNER_MAX + 2 || memchr(in, '\n', n))
                abort();
        } else if (rc != HLC_EPARSE) {
            abort();
        }
        break;
    }
    }
    free(in);
    return 0;
}
