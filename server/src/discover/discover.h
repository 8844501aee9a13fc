/* discover.h - network discovery: which hosts of one IPv4 subnet answer
 * (ICMP echo over an unprivileged ping socket when the hub may open one,
 * else TCP connects to a few ports), with their MAC from the kernel's
 * neighbour table, the vendor from the IEEE OUI registry, the reverse-DNS
 * name and whether SSH answers (with its banner line).
 *
 * IPv4 only. Only addresses inside the subnet are probed; the reverse
 * lookups go to the system's resolver. Everything is bounded: at most
 * HLC_DISCOVER_MAX_ADDRS addresses (a /22), a fixed number of sockets open
 * at once, one total time limit.
 *
 * The parsers (CIDR, a /proc/net/arp line, an oui.txt line, an SSH banner)
 * are pure functions of their input so the unit tests and the fuzzer reach
 * them alone. hlc_discover_probe runs in the calling thread (plus short
 * detached threads for reverse DNS) and is thread-safe. */
#ifndef HLC_DISCOVER_H
#define HLC_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;

#define HLC_DISCOVER_MIN_PREFIX 22  /* larger subnets are refused */
#define HLC_DISCOVER_MAX_ADDRS 1024 /* a /22 */
#define HLC_DISCOVER_BANNER_MAX 255 /* bytes of the SSH banner line kept */
#define HLC_DISCOVER_VENDOR_MAX 127 /* bytes of a vendor name kept */

/* Parses "a.b.c.d/n" (decimal octets without leading zeros, 0 <= n <= 32)
 * into the network address (host byte order, host bits cleared) and the
 * prefix length. 0 or HLC_EINVAL. */
int hlc_discover_cidr_parse(const char *s, uint32_t *net, int *prefix);

/* One line of /proc/net/arp ("IP  HW-type  Flags  HW-address  Mask  Device").
 * 0 with *ip (host order) and mac ("aa:bb:cc:dd:ee:ff", lowercase) for a
 * complete entry (flag 0x2, a non-zero Ethernet address); HLC_ENOTFOUND for
 * a well-formed line that holds no usable address (incomplete, the header);
 * HLC_EPARSE otherwise. */
int hlc_discover_arp_line(const char *line, size_t len, uint32_t *ip, char mac[18]);

/* One line of Debian's ieee-data oui.txt: "AA-BB-CC   (hex)\t\tVendor".
 * 0 with prefix ("AABBCC") and vendor (printable, trimmed, cut at
 * HLC_DISCOVER_VENDOR_MAX bytes); HLC_ENOTFOUND for any other line. */
int hlc_discover_oui_line(const char *line, size_t len, char prefix[7],
                          char vendor[HLC_DISCOVER_VENDOR_MAX + 1]);

/* What a server sent first on port 22. 0 with the banner's first line
 * (without CR LF, starting "SSH-", non-printable bytes replaced by '?') in
 * out; 1 when no full line has arrived yet and more may come (fewer than
 * HLC_DISCOVER_BANNER_MAX + 2 bytes, all of them a possible start); HLC_EPARSE when the first line
 * is not an SSH identification or is too long. RFC 4253 allows other lines before the
 * identification; they are not skipped here (OpenSSH and Dropbear send none). */
int hlc_discover_ssh_banner(const char *buf, size_t len, char out[HLC_DISCOVER_BANNER_MAX + 1]);

/* One live host. */
struct hlc_discover_host {
    uint32_t ip;                                  /* host byte order */
    char ip_text[16];                             /* dotted quad */
    char mac[18];                                 /* "" when the neighbour table has none */
    char vendor[HLC_DISCOVER_VENDOR_MAX + 1];     /* "" when unknown */
    char hostname[254];                           /* reverse DNS, "" when none in time */
    bool ssh;                                     /* port 22 accepted a connection */
    char ssh_banner[HLC_DISCOVER_BANNER_MAX + 1]; /* "" when none in time */
};

struct hlc_discover_cfg {
    uint32_t net;         /* network address, host byte order */
    int prefix;           /* HLC_DISCOVER_MIN_PREFIX..32 */
    int time_limit_ms;    /* the whole run, lookups included */
    bool icmp;            /* echo probes (the caller checked the hub may) */
    bool resolve;         /* reverse DNS */
    const char *arp_path; /* NULL = /proc/net/arp */
    const char *oui_path; /* NULL = /usr/share/ieee-data/oui.txt; missing = no vendors */
};

struct hlc_discover_result {
    struct hlc_discover_host *hosts; /* by address, ascending */
    size_t nhosts;
    size_t probed;  /* addresses probed */
    bool timed_out; /* the limit cut some probe or lookup short */
    int64_t duration_ms;
};
void hlc_discover_result_release(struct hlc_discover_result *r);

/* Probes every address of the subnet (not the network and broadcast
 * addresses of a /30 or larger). 0, HLC_EINVAL for a bad cfg, HLC_EIO when
 * no socket could be opened at all. The caller releases *out either way. */
int hlc_discover_probe(const struct hlc_discover_cfg *cfg, struct hlc_discover_result *out);

/* The API's answer for GET /network/discover: {subnet, hosts[{ip, mac,
 * vendor, hostname, ssh, ssh_banner, registered_as}], duration_ms, probe,
 * timed_out}. registered_as is the id of the machine whose hostname,
 * ip_address or tailscale_ip is that address literally (names are not
 * resolved). net/prefix as hlc_discover_cidr_parse gave them. One run at a
 * time: HLC_EBUSY while another is under way; HLC_EDB. */
int hlc_discover_network(struct hlc_hub *hub, uint32_t net, int prefix, json_t **out);

#endif
