/* notify.c - message bodies per channel and the one HTTP POST. */
#include "notify.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hlc/base.h"

const char *const hlc_notify_channels[HLC_NOTIFY_NCHANNELS] = {"slack", "webhook", "ntfy"};

/* Cloud metadata services by name (their addresses are refused below). */
static const char *const metadata_names[] = {
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal", NULL};

static bool
v4_ok(const unsigned char a[4])
{
    if (a[0] == 0)                  /* 0.0.0.0/8: "this host" */
        return false;
    if (a[0] == 169 && a[1] == 254) /* link-local, 169.254.169.254 metadata */
        return false;
    if (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200) /* Alibaba metadata */
        return false;
    if (a[0] >= 224)                /* multicast, reserved, broadcast */
        return false;
    return true;
}

bool
hlc_notify_addr_ok(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return v4_ok((const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)
                         ->sin_addr);
    if (sa->sa_family != AF_INET6)
        return false;
    const unsigned char *b =
        ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char zero[16] = {0};
    static const unsigned char aws[16] = {0xfd, 0, 0x0e, 0xc2, [14] = 0x02, 0x54}; /* fd00:ec2::254 */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_ok(b + 12);
    if (memcmp(b, zero, 16) == 0 || memcmp(b, aws, 16) == 0)
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (b[0] == 0xff) /* multicast */
        return false;
    return true;
}

const char *
hlc_notify_url_problem(const char *url)
{
    static const char *const not_url =
        "must be an http:// or https:// URL (at most 2048 characters), or \"\" to remove it";
    if (!url)
        return not_url;
    size_t n = strlen(url), skip;
    if (n > HLC_NOTIFY_URL_MAX)
        return not_url;
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return not_url;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] == 0x7f)
            return not_url;
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0)
        return not_url; /* no host */
    /* user:password@ hides the real host from a reader and puts a secret in
     * the URL; a backslash is read as a slash by some parsers. */
    if (memchr(auth, '@', alen) || memchr(auth, '\\', alen))
        return "must not contain user:password@ or a backslash before the path";
    char host[256];
    size_t hlen;
    if (auth[0] == '[') {
        const char *end = memchr(auth, ']', alen);
        if (!end || (size_t)(end - auth - 1) >= sizeof(host))
            return not_url;
        hlen = (size_t)(end - auth - 1);
        memcpy(host, auth + 1, hlen);
        host[hlen] = '\0';
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
        if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
            return not_url; /* zone ids (%eth0) included */
        if (!hlc_notify_addr_ok((const struct sockaddr *)&a6))
            return "must not point at a link-local, cloud metadata or unspecified address";
        return NULL;
    }
    hlen = strcspn(auth, ":/?#");
    if (hlen == 0 || hlen >= sizeof(host))
        return not_url;
    for (size_t i = 0; i < hlen; i++)
        host[i] = (char)tolower((unsigned char)auth[i]);
    host[hlen] = '\0';
    if (hlen > 1 && host[hlen - 1] == '.')
        host[--hlen] = '\0';
    for (size_t i = 0; metadata_names[i]; i++)
        if (strcmp(host, metadata_names[i]) == 0)
            return "must not point at a cloud metadata service";
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        if (!hlc_notify_addr_ok((const struct sockaddr *)&a4))
            return "must not point at a link-local, cloud metadata or unspecified address";
        return NULL;
    }
    /* 2130706433, 0x7f.1, 0177.0.0.1, 127.1: numbers that resolvers read as
     * addresses but people do not; only the dotted quad is taken. */
    if (inet_aton(host, &a4.sin_addr))
        return "must write an IPv4 address as four decimal numbers (a.b.c.d)";
    return NULL;
}

bool
hlc_notify_url_ok(const char *url)
{
    return hlc_notify_url_problem(url) == NULL;
}

char *
hlc_notify_url_mask(const char *url)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep ? (size_t)(sep + 3 - url) : 0;
    const char *host = url + scheme;
    size_t hl = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hl); /* never show user:password@ */
    if (at) {
        hl -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    return hlc_xasprintf("%.*s%.*s/…", (int)scheme, url, (int)hl, host);
}

const char *
hlc_notify_colour(const char *kind, const char *severity)
{
    if (strcmp(kind, "alert_resolved") == 0)
        return "good";
    if (!severity)
        return "#9e9e9e";
    if (strcmp(severity, "critical") == 0)
        return "#d50000"; /* red */
    if (strcmp(severity, "high") == 0)
        return "#ff6d00"; /* orange */
    if (strcmp(severity, "medium") == 0)
        return "#ffd600"; /* yellow */
    return "#2979ff";     /* low: blue */
}

static const char *
str(json_t *ev, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(ev, key));
    return v ? v : fallback;
}

/* "🚨 CRITICAL: Server offline" and friends (PRD Appendix B). */
static char *
headline(json_t *ev)
{
    const char *kind = str(ev, "kind", ""), *sev = str(ev, "severity", "low");
    const char *title = str(ev, "title", "");
    if (strcmp(kind, "alert_resolved") == 0)
        return hlc_xasprintf("✅ RESOLVED: %s", title);
    if (strcmp(kind, "remediation") == 0)
        return hlc_xasprintf("%s %s", json_is_true(json_object_get(ev, "success")) ? "✅" : "❌",
                             title);
    if (strcmp(kind, "test") == 0)
        return hlc_xasprintf("🔔 %s", title);
    const char *icon = strcmp(sev, "critical") == 0 ? "🚨"
                       : strcmp(sev, "high") == 0   ? "🔴"
                       : strcmp(sev, "medium") == 0 ? "⚠️"
                                                    : "ℹ️";
    char up[16];
    size_t i = 0;
    for (; i < sizeof(up) - 1 && sev[i]; i++)
        up[i] = (char)toupper((unsigned char)sev[i]);
    up[i] = '\0';
    return hlc_xasprintf("%s %s: %s", icon, up, title);
}

/* The remediation line of a raised alert, or NULL. */
static char *
remediation_line(json_t *ev)
{
    json_t *rem = json_object_get(ev, "remediation");
    if (!json_is_object(rem) || strcmp(str(ev, "kind", ""), "alert_raised") != 0)
        return NULL;
    const char *st = str(rem, "status", "pending");
    const char *what = strcmp(st, "pending") == 0     ? "pending approval, approve in the dashboard"
                       : strcmp(st, "completed") == 0 ? "completed"
                       : strcmp(st, "failed") == 0    ? "failed"
                       : strcmp(st, "rejected") == 0  ? "rejected"
                                                      : "running (auto-approved)";
    return hlc_xasprintf("🔧 Remediation queued: %s %s (%s)", str(rem, "action_type", ""),
                         str(rem, "target", ""), what);
}

/* Plain text: headline, message, fields, remediation, for ntfy and Slack's fallback. */
static char *
plain_text(json_t *ev, bool with_headline)
{
    struct hlc_buf b;
    hlc_buf_init(&b, 64 * 1024);
    if (with_headline) {
        char *h = headline(ev);
        hlc_buf_appendf(&b, "%s\n", h);
        free(h);
    }
    hlc_buf_appendf(&b, "%s", str(ev, "message", ""));
    json_t *fields = json_object_get(ev, "fields"), *f;
    size_t i;
    json_array_foreach(fields, i, f)
    {
        hlc_buf_appendf(&b, "\n%s: %s", str(f, "title", ""), str(f, "value", ""));
    }
    char *rl = remediation_line(ev);
    if (rl)
        hlc_buf_appendf(&b, "\n%s", rl);
    free(rl);
    char *out = hlc_buf_steal(&b);
    return out ? out : hlc_xasprintf("%s", "");
}

static json_t *
slack_body(json_t *ev)
{
    char *h = headline(ev), *text = plain_text(ev, true);
    json_t *fields = json_array(), *f;
    if (json_is_string(json_object_get(ev, "server_name")))
        json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "title", "Server", "value",
                                                str(ev, "server_name", ""), "short", 1));
    if (strcmp(str(ev, "kind", ""), "remediation") != 0 && json_object_get(ev, "severity"))
        json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "title", "Severity", "value",
                                                str(ev, "severity", ""), "short", 1));
    size_t i;
    json_array_foreach(json_object_get(ev, "fields"), i, f)
    {
        json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "title", str(f, "title", ""),
                                                "value", str(f, "value", ""), "short", 1));
    }
    char *rl = remediation_line(ev);
    json_t *att = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "fallback", text, "color",
                            hlc_notify_colour(str(ev, "kind", ""), str(ev, "severity", NULL)),
                            "title", h, "text", rl ? rl : str(ev, "message", ""), "fields", fields,
                            "footer", "HomelabCmd", "ts",
                            json_integer_value(json_object_get(ev, "time")));
    if (rl) /* the message leads, the remediation follows */
        json_object_set_new(att, "text",
                            json_sprintf("%s\n%s", str(ev, "message", ""), rl));
    json_t *body = json_pack("{s:s, s:[o]}", "text", h, "attachments", att);
    free(h);
    free(text);
    free(rl);
    return body;
}

int
hlc_notify_build(const char *channel, json_t *event, long long event_id,
                 struct hlc_notify_msg *out)
{
    memset(out, 0, sizeof(*out));
    json_t *body = NULL;
    if (strcmp(channel, "slack") == 0) {
        body = slack_body(event);
        out->content_type = "application/json";
    } else if (strcmp(channel, "webhook") == 0) {
        body = json_deep_copy(event);
        json_object_set_new(body, "event_id", json_sprintf("hlc-%lld", event_id));
        char *rl = remediation_line(event);
        char *h = headline(event);
        json_object_set_new(body, "headline", json_string(h));
        if (rl)
            json_object_set_new(body, "remediation_text", json_string(rl));
        free(rl);
        free(h);
        out->content_type = "application/json";
        out->headers[0] = hlc_xasprintf("Idempotency-Key: hlc-%lld", event_id);
        out->headers[1] = hlc_xasprintf("X-HomelabCmd-Event: %s", str(event, "kind", "event"));
    } else if (strcmp(channel, "ntfy") == 0) {
        out->body = plain_text(event, false);
        out->content_type = "text/plain; charset=utf-8";
        const char *sev = str(event, "severity", "low"), *kind = str(event, "kind", "");
        int prio = strcmp(kind, "alert_raised") != 0   ? 3
                   : strcmp(sev, "critical") == 0      ? 5
                   : strcmp(sev, "high") == 0          ? 4
                   : strcmp(sev, "medium") == 0        ? 3
                                                       : 2;
        /* Header values must be one line: the title is cut at any control byte. */
        char *h = headline(event);
        for (char *p = h; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = ' ';
        out->headers[0] = hlc_xasprintf("Title: %s", h);
        free(h);
        out->headers[1] = hlc_xasprintf("Priority: %d", prio);
        out->headers[2] = hlc_xasprintf(
            "Tags: %s", strcmp(kind, "alert_resolved") == 0 ? "white_check_mark"
                        : strcmp(kind, "remediation") == 0  ? "wrench"
                        : prio >= 4                         ? "rotating_light"
                                                            : "warning");
        return 0;
    } else {
        return HLC_EINVAL;
    }
    out->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!out->body) {
        hlc_notify_msg_free(out);
        return HLC_EINVAL;
    }
    return 0;
}

void
hlc_notify_msg_free(struct hlc_notify_msg *m)
{
    free(m->body);
    for (int i = 0; i < 4; i++)
        free(m->headers[i]);
    memset(m, 0, sizeof(*m));
}

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

static int
progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const _Atomic bool *flag = ud;
    return flag && atomic_load(flag) ? 1 : 0;
}

/* Every address curl is about to connect to, after DNS: the URL's rules
 * again, so a name resolving to a link-local or metadata address is refused
 * as its literal is. */
static curl_socket_t
open_checked(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    bool *refused = clientp;
    (void)purpose;
    if (!hlc_notify_addr_ok(&a->addr)) {
        *refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void
hlc_notify_post(const char *url, const char *bearer, const struct hlc_notify_msg *m,
                long timeout_ms, const _Atomic bool *abort_flag, struct hlc_notify_result *res)
{
    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    const char *why = hlc_notify_url_problem(url);
    if (why) {
        res->blocked = true;
        snprintf(res->error, sizeof(res->error), "the channel URL %s", why);
        return;
    }
    bool refused = false;
    CURL *h = curl_easy_init();
    if (!h) {
        res->retry = true;
        snprintf(res->error, sizeof(res->error), "could not start an HTTP client");
        return;
    }
    struct curl_slist *hdrs = NULL;
    char ct[96], auth[600];
    snprintf(ct, sizeof(ct), "Content-Type: %s", m->content_type);
    hdrs = curl_slist_append(hdrs, ct);
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (int i = 0; i < 4 && m->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, m->headers[i]);
    if (bearer && *bearer && strlen(bearer) < 500) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &refused);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "HomelabCmd/1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE, 1L << 20);
    if (abort_flag) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)abort_flag);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode cc = curl_easy_perform(h);
    if (refused) {
        res->blocked = true;
        snprintf(res->error, sizeof(res->error),
                 "the channel's host resolved to a link-local or metadata address");
    } else if (cc != CURLE_OK) {
        res->retry = true;
        snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
        curl_off_t ra = -1;
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            res->retry_after_s = ra > 86400 ? 86400 : (long)ra;
        res->ok = res->status >= 200 && res->status < 300;
        res->retry = res->status == 408 || res->status == 429 || res->status >= 500;
        if (!res->ok)
            snprintf(res->error, sizeof(res->error), "the receiver answered HTTP %ld",
                     res->status);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}
