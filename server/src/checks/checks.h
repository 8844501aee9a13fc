/* checks.h - service checks: HTTP(S), TCP and DNS probes run from the hub
 * or from a machine over its pooled SSH session, on an interval, with
 * history, uptime and the check_failed / certificate_expiring alerts.
 *
 * The pure parts (what a check asks, how a probe's answer is judged, the
 * DNS wire format, the remote probe's output) are plain functions of their
 * inputs, so the unit tests and the fuzzer reach them alone. The service
 * (hlc_checks_start) owns a scheduler thread and a few worker threads.
 * All functions are thread-safe. */
#ifndef HLC_CHECKS_H
#define HLC_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;
struct hlc_buf;

enum hlc_check_type { HLC_CHECK_HTTP, HLC_CHECK_TCP, HLC_CHECK_DNS, HLC_CHECK_PING };

#define HLC_CHECK_BODY_CAP (1024 * 1024) /* body kept for the keyword, from the hub */
#define HLC_CHECK_REMOTE_BODY_CAP 65536  /* the same through a machine's SSH session */
#define HLC_CHECK_MAX_ADDRS 16           /* DNS answers kept */

/* What one check asks, read from its stored (validated) object. */
struct hlc_check_spec {
    enum hlc_check_type type;
    int timeout_ms;            /* per probe */
    char url[2049];            /* http: http:// or https:// URL */
    char method[8];            /* http: GET or HEAD */
    int status_min, status_max; /* http: accepted status range */
    char keyword[257];         /* http: "" = none */
    bool keyword_absent;       /* http: the keyword must NOT be in the body */
    bool follow_redirects;     /* http: up to 5 */
    bool verify_tls;           /* http: verify the certificate chain and name */
    char host[254];            /* tcp, ping */
    int port;                  /* tcp */
    char query[254];           /* dns: the name asked for */
    char resolver[64];         /* dns: IP literal, "" = the system's resolver */
    int resolver_port;         /* dns */
    char expect[64];           /* dns: an address one answer must be, "" = any answer */
};

/* Fills spec from a check object as the API stores it. HLC_EINVAL when a
 * field the type needs is missing or too long. */
int hlc_check_spec_from_json(json_t *check, struct hlc_check_spec *spec);

/* What a probe saw, from the hub or parsed from a machine's probe output. */
struct hlc_probe_out {
    char tool[16];              /* remote: curl, wget, nc, bash, dig, nslookup, getent, none */
    int rc;                     /* the tool's exit status, -1 unknown */
    int code;                   /* http status, -1 none */
    double time_s;              /* the tool's own timing, NaN when it gave none */
    double cert_days;           /* https from the hub: days the leaf certificate has left, NaN */
    char addrs[HLC_CHECK_MAX_ADDRS][46]; /* dns: addresses answered (IP literals) */
    int naddrs;
    int rcode;                  /* dns from the hub: the answer's RCODE, -1 none */
    const char *body;           /* http: the body (not NUL-terminated), may be NULL */
    size_t body_len;
    char error[200];            /* why the probe itself failed, "" = it got an answer */
};
void hlc_probe_out_init(struct hlc_probe_out *po);

/* One judged run. */
struct hlc_check_result {
    bool ok;
    double response_ms;  /* NaN when nothing answered */
    int status_code;     /* http, -1 none */
    double cert_days;    /* NaN none */
    char error[256];     /* why it failed, "" when ok */
};

/* Judges what a probe saw against what the check asks (pure). */
void hlc_check_judge(const struct hlc_check_spec *spec, const struct hlc_probe_out *po,
                     struct hlc_check_result *res);

/* ---- the remote probe: a POSIX sh script run over SSH ---------------- */

/* Appends to b the script that probes `spec` from a machine with the tools
 * it has (curl or wget; nc or bash's /dev/tcp; dig, nslookup or getent).
 * Every string from the check goes through hlc_shell_quote(). 0,
 * HLC_ETOOBIG, HLC_EINVAL (a string the quoting function refuses). */
int hlc_check_remote_script(struct hlc_buf *b, const struct hlc_check_spec *spec);
/* Parses the script's stdout: "HLC-PROBE 1", then "key value" lines (tool,
 * rc, code, time (seconds), ms (milliseconds), addr, error) up to a "BODY" line after which the rest is
 * the body. po->body points into out. Lines longer than 512 bytes, unknown
 * keys and addresses that are not IP literals are ignored. 0, or
 * HLC_EPARSE when the output does not start with the header. Pure. */
int hlc_check_probe_parse(const char *out, size_t len, struct hlc_probe_out *po);

/* ---- DNS over UDP (the hub's own client) ------------------------------ */

#define HLC_DNS_A 1
#define HLC_DNS_AAAA 28

/* Writes a recursive query for `name` (a host name, 1..253 bytes) of qtype
 * into buf (at least 300 bytes). 0 and *len, or HLC_EINVAL. Pure. */
int hlc_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name, int qtype,
                        size_t *len);
/* Parses an answer to query `id`: *rcode, and the A/AAAA records of qtype
 * as text into po->addrs. Compressed names are followed with a bound on
 * jumps. 0, HLC_EPARSE (malformed, truncated, not an answer to id). Pure. */
int hlc_dns_answer_parse(const uint8_t *buf, size_t len, uint16_t id, int qtype,
                         struct hlc_probe_out *po);

/* ---- probes from the hub ---------------------------------------------- */

/* Whether this hub may send ICMP echo through unprivileged ping sockets
 * (net.ipv4.ping_group_range holds its group); ping checks from the hub
 * need it. */
bool hlc_check_ping_allowed(void);

/* An echo request for such a socket in pkt (the kernel fills in the
 * identifier and the checksum): sequence number seq and a payload of up to
 * 16 bytes of tag. Returns its length. Network discovery sends these too. */
size_t hlc_check_echo_request(unsigned char pkt[24], bool v6, uint16_t seq, const char *tag);
/* Whether n bytes read from such a socket are the echo reply to seq. */
bool hlc_check_echo_reply(const unsigned char *in, size_t n, bool v6, uint16_t seq);

/* Runs spec from the hub (libcurl, a socket connect, a DNS query), filling
 * po (body heap, freed with hlc_probe_out_release) and the elapsed time. */
void hlc_check_probe_hub(const struct hlc_check_spec *spec, struct hlc_probe_out *po,
                         double *elapsed_ms);
void hlc_probe_out_release(struct hlc_probe_out *po);

/* ---- the service ------------------------------------------------------- */

/* A check was created, changed or deleted: the scheduler re-reads the list. */
void hlc_checks_changed(struct hlc_hub *hub);
/* Runs check `id` now at every place it runs from, records and judges the
 * results like a scheduled run, and returns them: [{place, ok, ...}].
 * HLC_ENOTFOUND, HLC_EBUSY when the service is not running. */
int hlc_checks_run_now(struct hlc_hub *hub, int64_t id, json_t **out);
/* Resolves the active alerts of a check that is being deleted (call before
 * the row goes). */
void hlc_checks_forget(struct hlc_hub *hub, json_t *check);

int hlc_checks_start(struct hlc_hub *hub);
void hlc_checks_stop(struct hlc_hub *hub);

#endif
