/* notify.c - message bodies per channel and the one HTTP POST. */
#include "notify.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hlc/base.h"

const char *const hlc_notify_channels[HLC_NOTIFY_NCHANNELS] = {"slack", "webhook", "ntfy"};

bool
hlc_notify_url_ok(const char *url)
{
    if (!url)
        return false;
    size_t n = strlen(url), skip;
    if (n > HLC_NOTIFY_URL_MAX)
        return false;
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return false;
    if (n == skip || url[skip] == '/' || url[skip] == '?' || url[skip] == '#')
        return false; /* no host */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] == 0x7f)
            return false;
    return true;
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

void
hlc_notify_post(const char *url, const char *bearer, const struct hlc_notify_msg *m,
                long timeout_ms, const _Atomic bool *abort_flag, struct hlc_notify_result *res)
{
    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    if (!hlc_notify_url_ok(url)) {
        snprintf(res->error, sizeof(res->error), "the channel URL is not an http(s) URL");
        return;
    }
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
    if (cc != CURLE_OK) {
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
