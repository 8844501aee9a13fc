/* tailscale.h - a tailnet as a fleet: the device lists of the Tailscale API
 * (v2, bearer API key or OAuth client credentials) and of the local
 * tailscaled's LocalAPI (unix socket, no token), parsed by pure functions
 * with hard bounds; discovery, import as machines, and the periodic sync
 * that follows address and name changes, marks nodes that left the tailnet
 * and raises the node-key expiry alert.
 *
 * Parsers are pure (text in, array out, no I/O, no globals) and
 * thread-safe. The service functions are thread-safe; they never import
 * or change anything when the device list could not be fetched. */
#ifndef HLC_TAILSCALE_H
#define HLC_TAILSCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;

/* Caps on what one answer may hold: beyond them it is refused (size) or
 * cut (tags, addresses: the device's `truncated` says so). */
#define HLC_TS_MAX_BODY (16u * 1024u * 1024u) /* bytes of one device list */
#define HLC_TS_MAX_DEVICES 10000
#define HLC_TS_MAX_TAGS 16
#define HLC_TS_MAX_ADDRS 4

/* One device of the tailnet. Strings are empty when the answer lacked them;
 * every string is NUL-terminated valid UTF-8 without control characters. */
struct hlc_ts_device {
    char id[32];               /* API "id" (legacy numeric id); "" from the LocalAPI */
    char node_id[64];          /* "nodeId" / LocalAPI "ID": the stable node id (never empty) */
    char name[254];            /* MagicDNS FQDN, no trailing dot; "" when not a DNS name */
    char hostname[128];        /* the OS's host name, as reported (may hold spaces) */
    char addrs[HLC_TS_MAX_ADDRS][46]; /* Tailscale IPs (checked IPv4/IPv6 literals) */
    size_t naddrs;
    char ipv4[46];             /* the first IPv4 of addrs, or "" */
    char ipv6[46];             /* the first IPv6 of addrs, or "" */
    char os[32];               /* "linux", "macOS", "windows", "iOS", "android", ... */
    int online;                /* 1 connected to control / online, 0 not, -1 unknown (old client) */
    int64_t last_seen;         /* epoch seconds, 0 = unknown ("" or 0001-01-01) */
    char tags[HLC_TS_MAX_TAGS][64]; /* "tag:server", ... */
    size_t ntags;
    char user[128];            /* owner login, "" for tagged devices */
    char client_version[64];   /* "1.76.1-t...", "" */
    bool update_available;     /* a newer client exists */
    bool key_expiry_disabled;  /* the node key never expires */
    int64_t expires;           /* node key expiry, epoch seconds; 0 = none/unknown */
    bool authorized;           /* approved on the tailnet (true when not said) */
    bool is_external;          /* shared in from another tailnet */
    bool is_self;              /* LocalAPI: the node the hub runs on */
    bool truncated;            /* tags or addresses were over their cap */
};

/* Parses a Tailscale API v2 device list ({"devices": [...]}, as GET
 * /api/v2/tailnet/{tailnet}/devices?fields=all answers). Fields may be
 * missing or null; dates may be "" or 0001-01-01T00:00:00Z (unknown); old
 * clients lack connectedToControl (online -1). A device without a usable
 * nodeId, or with a field of the wrong type or over its size, is skipped
 * (*skipped counts them, may be NULL). *out is a heap array of *n devices
 * (free() it; NULL when none). 0, HLC_ETOOBIG (len > HLC_TS_MAX_BODY or more
 * than HLC_TS_MAX_DEVICES devices), HLC_EPARSE (not JSON, no devices array). */
int hlc_ts_parse_devices(const char *text, size_t len, struct hlc_ts_device **out, size_t *n,
                         size_t *skipped);

/* Parses the LocalAPI's GET /localapi/v0/status answer (the JSON of
 * `tailscale status --json`): Self and each Peer with ID, HostName, DNSName,
 * TailscaleIPs, OS, Online, LastSeen, Tags, KeyExpiry (absent = disabled).
 * Same bounds, skipping and returns as hlc_ts_parse_devices. */
int hlc_ts_parse_status(const char *text, size_t len, struct hlc_ts_device **out, size_t *n,
                        size_t *skipped);

/* The machine type a device suggests: "server" for Linux (and anything
 * unknown), "workstation" for macOS, Windows, iOS and Android. */
const char *hlc_ts_machine_type(const char *os);

/* A machine id made from a host name: lowercase letters, digits and '-',
 * at most 63 bytes, never empty ("device" when nothing is left). */
void hlc_ts_slug(const char *hostname, char out[static 64]);

/* ---- the client ---------------------------------------------------------- */

/* Why a fetch failed, in words that say what to do. */
struct hlc_ts_error {
    long http_status;     /* the peer's status, 0 when none */
    char code[32];        /* TAILSCALE_REFUSED, TAILSCALE_UNAVAILABLE, TAILSCALE_BAD_ANSWER,
                           * TAILSCALE_NOT_CONFIGURED */
    char message[300];
};

/* ---- the service (tailscale.c) ----------------------------------------- */

/* The discovered devices as the API shows them:
 * {"source": "api"|"local", "fetched_at", "devices": [{node_id, name,
 * hostname, tailscale_ip, addresses, os, online, last_seen, tags,
 * key_expiry, key_expiry_disabled, user, client_version, update_available,
 * authorized, is_external, imported_as, suggested_server_id,
 * suggested_machine_type}]}, filtered by online ("true"/"false"), os and tag
 * (each may be NULL). From a cache of the last fetch (60 s) unless refresh.
 * 0, HLC_EINVAL (bad filter), or the fetch's error with *err filled. */
int hlc_tailscale_devices(struct hlc_hub *hub, bool refresh, const char *online,
                          const char *os, const char *tag, json_t **out,
                          struct hlc_ts_error *err);

/* Imports the devices of `req` ({"devices": [{node_id, optional server_id,
 * display_name, machine_type, ssh_user, ssh_port, tdp_watts,
 * expected_services}]}, validated by the caller) as machines with
 * connectivity tailscale: *out = {"results": [{node_id, status, server_id,
 * message}]}. Nothing is created when the device list cannot be fetched
 * (the error, *err filled). */
int hlc_tailscale_import(struct hlc_hub *hub, json_t *req, json_t **out,
                         struct hlc_ts_error *err);

/* One sync now: fetches the device list and brings every imported machine up
 * to date (see the file comment). *out = {"source", "devices", "updated",
 * "left", "returned", "expiring"}. On a fetch error nothing changes. */
int hlc_tailscale_sync(struct hlc_hub *hub, json_t **out, struct hlc_ts_error *err);

/* The sync state and every imported machine's link (new object). */
int hlc_tailscale_status(struct hlc_hub *hub, json_t **out);

/* Background service: the periodic sync (tailscale.sync_interval_seconds). */
int hlc_tailscale_start(struct hlc_hub *hub);
void hlc_tailscale_stop(struct hlc_hub *hub);

#endif
