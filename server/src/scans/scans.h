/* scans.h - ad-hoc SSH scans of a host that need not be registered: one exec
 * of a POSIX sh script (scan_script.c) on the poller's worker pool, its
 * sections parsed by a pure parser (scan_parse.c) into a bounded JSON
 * result, kept in the store for HLC_SCANS_KEEP_DAYS (store.h), comparable two by two
 * and turned into a registered machine in one call. Thread-safe. */
#ifndef HLC_SCANS_H
#define HLC_SCANS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct hlc_hub;

/* The most output a scan's exec may give (more fails the scan). */
#define HLC_SCAN_MAX_OUTPUT (2u * 1024u * 1024u)
/* The most a stored result may weigh: past it the package list goes first. */
#define HLC_SCAN_MAX_RESULT (1024u * 1024u)
/* Scans queued or running at once; more are refused (429). */
#define HLC_SCANS_MAX_INFLIGHT 8

/* Caps on what one result holds. */
#define HLC_SCAN_MAX_IFACES 64
#define HLC_SCAN_MAX_ADDRS 16     /* per interface */
#define HLC_SCAN_MAX_ROUTES 128
#define HLC_SCAN_MAX_DNS 16
#define HLC_SCAN_MAX_LISTEN 256
#define HLC_SCAN_MAX_PROCS 10     /* per list */
#define HLC_SCAN_MAX_PACKAGES 20000
#define HLC_SCAN_MAX_FAILED 256

/* The scan script, a NUL-terminated POSIX sh script for `sh -s` on stdin.
 * Sections (`<<<name>>>` lines): the collector's osrelease, uname, stat, cpus,
 * meminfo, uptime, loadavg, df (collect.h) and, with --full, docker; its own
 * cpuinfo (the first `model name`/`Hardware`/`Model` line of /proc/cpuinfo),
 * and with --full: addr (`ip -o addr show`), link (`ip -o link show`),
 * route (`ip route show` and `ip -6 route show`), dns (resolv.conf's
 * nameserver/search/domain lines), listen (`ss -H -tuln`), ps_cpu and ps_mem
 * (`ps -eo pid=,user=,pcpu=,pmem=,rss=,comm=` sorted by CPU, by RSS, 10 lines
 * each), one package section of dpkg (`${db:Status-Abbrev}\t${Package}\t
 * ${Version}`), apk (`apk info -v`), rpm (`%{NAME}\t%{VERSION}-%{RELEASE}`)
 * or opkg (`opkg list-installed`), the first of them present, and failed
 * (`systemctl list-units --state=failed --no-legend --plain`). */
extern const char hlc_scan_script[];
/* The exec line: "exec sh -s --" or "exec sh -s -- --full". Static. */
const char *hlc_scan_command(bool full);

/* Parses the script's output into a new JSON object *out (see README
 * "Scans" for its keys). Every string is cut to its cap and made printable
 * ASCII; every array stops at the caps above ("truncated": true then).
 * 0; HLC_ETOOBIG when len > HLC_SCAN_MAX_OUTPUT; HLC_EPARSE when the text
 * holds a NUL byte or neither a CPU nor a memory section (not the script
 * talking). *out is NULL on error. Pure: no I/O, no globals; thread-safe. */
int hlc_scan_parse(const char *text, size_t len, json_t **out);

/* What changed from scan result a to scan result b (both as hlc_scan_parse
 * made them): {"packages": {"added", "removed", "changed"} or null when
 * either has no package list, "disks": [{"mount", "used_bytes_before",
 * "used_bytes_after", "growth_bytes", "total_bytes_before",
 * "total_bytes_after"}], "memory", "kernel", "os": {"before", "after",
 * "changed"}}. Always a new object. Pure; thread-safe. */
json_t *hlc_scan_compare(json_t *a, json_t *b);

/* Records a pending scan of host:port as user and queues it on the poller's
 * pool; id gets its uuid. privkey (may be NULL): an uploaded private key to
 * log in with, copied, kept only in memory until the scan ends and wiped;
 * without one the scan uses the key of the registered machine at host:port
 * if there is one (its own upload, else the fleet's), else the fleet-wide
 * upload, else the hub's identity. 0, HLC_EBUSY (too many in flight, or the
 * poller is not running), HLC_EDB. */
int hlc_scans_create(struct hlc_hub *hub, const char *host, int port, const char *user,
                     bool full, const char *privkey, char id[static 37]);

/* Background service: marks scans a previous run left unfinished as failed. */
int hlc_scans_start(struct hlc_hub *hub);
void hlc_scans_stop(struct hlc_hub *hub);

#endif
