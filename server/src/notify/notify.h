/* notify.h - notification channels: Slack incoming webhooks (colour-coded
 * attachments), a generic JSON webhook and ntfy. The message bodies are
 * built by pure functions from one event object; hlc_notify_post sends one
 * over libcurl and classifies the answer for the outbox's retry policy.
 *
 * Event object (what the outbox stores as payload):
 *   {"kind": "alert_raised" | "alert_resolved" | "remediation" | "test",
 *    "severity": "critical|high|medium|low" (remediation: by outcome),
 *    "title": str, "message": str, "server_id": str|null,
 *    "server_name": str|null, "time": epoch seconds, "alert_id": str|null,
 *    "fields": [{"title": str, "value": str}, ...],
 *    "remediation": {"action_id","action_type","target","status"} (optional),
 *    "success": bool (remediation only)} */
#ifndef HLC_NOTIFY_H
#define HLC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The channels, as stored in the outbox. */
#define HLC_NOTIFY_NCHANNELS 3
extern const char *const hlc_notify_channels[HLC_NOTIFY_NCHANNELS]; /* slack, webhook, ntfy */

/* Largest URL accepted for a channel. */
#define HLC_NOTIFY_URL_MAX 2048

struct sockaddr;

/* NULL for a channel URL the hub will post to, else why not (static text
 * that reads after "the URL ..."): http:// or https:// with a host, no
 * whitespace or control characters, at most HLC_NOTIFY_URL_MAX bytes, no
 * user:password@, no link-local, cloud-metadata or unspecified address or
 * metadata host name, and an IPv4 host only as a dotted quad (2130706433 and
 * 0x7f.1 are refused). LAN and loopback addresses are allowed. */
const char *hlc_notify_url_problem(const char *url);
bool hlc_notify_url_ok(const char *url); /* hlc_notify_url_problem(url) == NULL */
/* The address rule alone (IPv4, IPv6, v4-mapped), applied again to every
 * address a URL's host resolves to when it is sent. */
bool hlc_notify_addr_ok(const struct sockaddr *sa);
/* "https://hooks.slack.com/…": scheme and host only, for display (heap). */
char *hlc_notify_url_mask(const char *url);

/* Slack's attachment colour for a severity ("good" green for a resolution). */
const char *hlc_notify_colour(const char *kind, const char *severity);

/* A request ready to send: body, content type and extra header lines. */
struct hlc_notify_msg {
    char *body;
    const char *content_type;
    char *headers[4];  /* "Name: value" lines (heap), NULL-terminated */
};
/* Builds the request for `channel` from the event (borrowed); event_id is a
 * stable id for the delivery (the outbox row), sent to webhook receivers so
 * they can drop a repeat. 0 or HLC_EINVAL (unknown channel). Pure. */
int hlc_notify_build(const char *channel, json_t *event, long long event_id,
                     struct hlc_notify_msg *out);
void hlc_notify_msg_free(struct hlc_notify_msg *m);

/* How a POST ended. */
struct hlc_notify_result {
    bool ok;            /* 2xx */
    bool retry;         /* worth retrying: 408, 429, 5xx, timeouts, network errors */
    long status;        /* HTTP status, 0 when none */
    long retry_after_s; /* Retry-After in seconds, -1 when absent */
    bool blocked;       /* never sent: the URL or an address it resolved to is refused */
    char error[200];    /* what went wrong, for the outbox and the test endpoint */
};
/* POSTs m to url (http/https only, no redirects, `timeout_ms` in all).
 * `abort_flag` (may be NULL) is polled during the transfer; when it turns
 * true the POST is abandoned as a retryable error. */
void hlc_notify_post(const char *url, const char *bearer, const struct hlc_notify_msg *m,
                     long timeout_ms, const _Atomic bool *abort_flag,
                     struct hlc_notify_result *res);

#endif
