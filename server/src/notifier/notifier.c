/* notifier.c - the notification side of the hub: which channels are set,
 * the messages a finished remediation sends, and the sender thread that
 * delivers the outbox. The alert engine and the actions service write outbox
 * rows in the same transaction as their cause; the bus (alert_raised,
 * alert_resolved, action_finished) wakes the sender, which also wakes by
 * itself when a retry falls due. */
#include "notifier.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "config.h"
#include "credentials.h"
#include "hlc/base.h"
#include "hlc/loop.h"
#include "hub.h"
#include "notify.h"
#include "store.h"

#define SEND_TIMEOUT_MS 10000
#define RETRY_MAX_S 300
#define RETRY_GIVE_UP_S (24 * 3600)
#define IDLE_WAKE_MS 60000 /* a look at the outbox with nothing said to it */
#define BATCH 32

struct hlc_notifier {
    struct hlc_loop loop; /* the sender */
};

/* Wall clock in milliseconds (the outbox's retry times). */
static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- channels ------------------------------------------------------------ */

/* The credential kind holding a channel's URL. */
static const char *
channel_kind(const char *channel)
{
    if (strcmp(channel, "slack") == 0)
        return "slack_webhook";
    if (strcmp(channel, "webhook") == 0)
        return "webhook_url";
    return "ntfy_url";
}

/* The channel's URL (heap, wiped by the caller with hlc_credentials_free_secret)
 * and for ntfy its bearer token (may stay NULL): the sealed setting, else
 * SLACK_WEBHOOK_URL for Slack. *source "settings" or "env". HLC_ENOTFOUND. */
static int
channel_url(struct hlc_hub *hub, const char *channel, char **url, char **bearer,
            const char **source)
{
    *url = NULL;
    if (bearer)
        *bearer = NULL;
    int rc = hlc_credentials_get_secret(hub, channel_kind(channel), url);
    if (rc == 0) {
        if (source)
            *source = "settings";
    } else if (rc == HLC_ENOTFOUND && strcmp(channel, "slack") == 0 && hub->set.slack_webhook &&
               *hub->set.slack_webhook) {
        *url = hlc_xasprintf("%s", hub->set.slack_webhook);
        if (source)
            *source = "env";
        rc = 0;
    }
    if (rc == 0 && bearer && strcmp(channel, "ntfy") == 0 &&
        hlc_credentials_get_secret(hub, "ntfy_token", bearer) != 0)
        *bearer = NULL;
    return rc;
}

size_t
hlc_notifier_channels(struct hlc_hub *hub, const char *out[HLC_NOTIFY_NCHANNELS])
{
    size_t n = 0;
    for (int i = 0; i < HLC_NOTIFY_NCHANNELS; i++) {
        char *url = NULL;
        if (channel_url(hub, hlc_notify_channels[i], &url, NULL, NULL) == 0)
            out[n++] = hlc_notify_channels[i];
        hlc_credentials_free_secret(url);
    }
    return n;
}

void
hlc_notifier_machine_name(struct hlc_hub *hub, const char *id, char out[static 200])
{
    json_t *m = NULL;
    const char *dn = NULL;
    if (!id) { /* a check run from the hub, tied to no machine */
        snprintf(out, 200, "the hub");
        return;
    }
    if (hlc_store_machine_get(hub->store, id, &m) == 0)
        dn = json_string_value(json_object_get(m, "display_name"));
    if (dn && strcmp(dn, id) != 0)
        snprintf(out, 200, "%.120s (%.63s)", dn, id);
    else
        snprintf(out, 200, "%.63s", id);
    json_decref(m);
}

/* ---- remediation notifications ------------------------------------------ */

size_t
hlc_notifier_remediation_rows(struct hlc_hub *hub, json_t *action, struct hlc_outbox_row **rows,
                              char **payload)
{
    *rows = NULL;
    *payload = NULL;
    const char *alert_id = json_string_value(json_object_get(action, "alert_id"));
    if (!alert_id && !json_is_true(json_object_get(action, "auto_approved")))
        return 0; /* an operator's button: they see the outcome on screen */
    json_t *al = NULL;
    bool quiet = alert_id && hlc_store_alert_get(hub->store, alert_id, &al) == 0 &&
                 json_is_true(json_object_get(al, "muted"));
    json_decref(al);
    if (quiet)
        return 0; /* the operator muted the alert: its remediation is as quiet */
    json_t *ncfg = NULL;
    if (hlc_config_section(hub->store, "notifications", &ncfg) != 0)
        return 0;
    bool on = json_is_true(json_object_get(ncfg, "notify_on_remediation"));
    json_decref(ncfg);
    const char *chans[HLC_NOTIFY_NCHANNELS];
    size_t nchan = on ? hlc_notifier_channels(hub, chans) : 0;
    if (nchan == 0)
        return 0;
    const char *sid = json_string_value(json_object_get(action, "server_id")) ?: "";
    const char *type = json_string_value(json_object_get(action, "action_type")) ?: "";
    const char *target = json_string_value(json_object_get(action, "target")) ?: "";
    const char *status = json_string_value(json_object_get(action, "status")) ?: "";
    bool ok = strcmp(status, "completed") == 0;
    char name[200];
    hlc_notifier_machine_name(hub, sid, name);
    json_t *ec = json_object_get(action, "exit_code");
    const char *why = json_string_value(json_object_get(action, "failure_reason"));
    char msg[600], iso[32];
    int64_t now = hlc_now();
    hlc_time_iso(now, iso);
    snprintf(msg, sizeof(msg), "%s %s on %s: %s%s%.300s.", type, target, name,
             ok ? "success" : "failed", why ? " - " : "", why ? why : "");
    json_t *fields = json_array();
    json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Action", "value", type));
    json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Target", "value", target));
    if (json_is_integer(ec)) {
        char e[24];
        snprintf(e, sizeof(e), "%lld", (long long)json_integer_value(ec));
        json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Exit code", "value", e));
    }
    json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Time", "value", iso));
    json_t *ev = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:o, s:O}", "kind", "remediation", "severity",
        ok ? "low" : "high", "title", ok ? "Remediation completed" : "Remediation failed",
        "message", msg, "server_id", sid, "server_name", name, "time", (json_int_t)now, "success",
        ok, "fields", fields, "action_id", json_object_get(action, "action_id"));
    json_object_set_new(ev, "alert_id", alert_id ? json_string(alert_id) : json_null());
    *payload = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (!*payload)
        return 0;
    *rows = hlc_xcalloc(nchan, sizeof(**rows));
    for (size_t k = 0; k < nchan; k++)
        (*rows)[k] = (struct hlc_outbox_row){
            .channel = chans[k], .kind = "remediation", .alert_id = NULL, .payload = *payload};
    return nchan;
}

/* ---- the sender ------------------------------------------------------------ */

static void
kick(struct hlc_hub *hub)
{
    if (hub->notifier)
        hlc_loop_kick(&hub->notifier->loop);
}

void
hlc_notifier_on_event(void *hub, const struct hlc_event *ev)
{
    if (ev->kind == HLC_EV_ALERT_RAISED || ev->kind == HLC_EV_ALERT_RESOLVED ||
        ev->kind == HLC_EV_ACTION_FINISHED)
        kick(hub);
}

/* Adds the alert's current remediation to a raised-alert event. */
static void
enrich(struct hlc_hub *hub, json_t *ev)
{
    const char *aid = json_string_value(json_object_get(ev, "alert_id"));
    if (!aid || strcmp(json_string_value(json_object_get(ev, "kind")) ?: "", "alert_raised") != 0)
        return;
    json_t *al = NULL;
    if (hlc_store_alert_get(hub->store, aid, &al) != 0)
        return;
    json_t *rem = json_object_get(al, "auto_remediation");
    if (json_is_true(json_object_get(rem, "available"))) {
        json_t *act = NULL;
        const char *act_id = json_string_value(json_object_get(rem, "action_id"));
        if (act_id && hlc_store_action_get(hub->store, act_id, &act) == 0) {
            json_object_set_new(ev, "remediation",
                                json_pack("{s:O, s:O, s:O, s:O}", "action_id",
                                          json_object_get(act, "action_id"), "action_type",
                                          json_object_get(act, "action_type"), "target",
                                          json_object_get(act, "target"), "status",
                                          json_object_get(act, "status")));
            json_decref(act);
        }
    }
    json_decref(al);
}

/* Sends one outbox row and records the outcome; true when the channel is
 * down (a retryable failure): its other rows are held back with this one. */
static bool
deliver(struct hlc_hub *hub, struct hlc_notifier *a, json_t *row)
{
    bool down = false;
    long long id = json_integer_value(json_object_get(row, "id"));
    const char *channel = json_string_value(json_object_get(row, "channel"));
    long long attempts = json_integer_value(json_object_get(row, "attempts"));
    const char *created = json_string_value(json_object_get(row, "created_at"));
    int64_t now = hlc_now();
    int64_t created_at = now;
    if (created)
        hlc_time_parse(created, &created_at);
    json_t *ev = json_loads(json_string_value(json_object_get(row, "payload")) ?: "", 0, NULL);
    char *url = NULL, *bearer = NULL;
    if (!ev) {
        hlc_store_outbox_failed(hub->store, id, 0, true, "the stored event is not JSON");
        return false;
    }
    if (channel_url(hub, channel, &url, &bearer, NULL) != 0) {
        hlc_store_outbox_failed(hub->store, id, 0, true, "the channel is no longer configured");
        json_decref(ev);
        return false;
    }
    enrich(hub, ev);
    struct hlc_notify_msg m;
    struct hlc_notify_result res;
    if (hlc_notify_build(channel, ev, id, &m) != 0) {
        hlc_store_outbox_failed(hub->store, id, 0, true, "the message could not be built");
    } else {
        int64_t t0 = hlc_mono_ms();
        hlc_notify_post(url, bearer, &m, SEND_TIMEOUT_MS, &a->loop.stopping, &res);
        int64_t ms = hlc_mono_ms() - t0;
        if (res.ok) {
            hlc_store_outbox_delivered(hub->store, id, hlc_now());
            hlc_log(HLC_LOG_INFO, "notify: %s #%lld delivered in %lld ms", channel, id,
                    (long long)ms);
        } else {
            /* 1 s, 2 s, 4 s ... 5 min; Retry-After wins when longer. */
            long long wait = attempts >= 9 ? RETRY_MAX_S : (1LL << attempts);
            if (wait > RETRY_MAX_S)
                wait = RETRY_MAX_S;
            if (res.retry_after_s > wait)
                wait = res.retry_after_s;
            bool dead = !res.retry || now - created_at > RETRY_GIVE_UP_S;
            if (hlc_loop_stopping(&a->loop)) /* abandoned for shutdown: not an attempt's fault */
                wait = 0;
            hlc_store_outbox_failed(hub->store, id, now_ms() + wait * 1000, dead, res.error);
            if (!dead) { /* the channel is down: its other rows wait with this one */
                hlc_store_outbox_hold(hub->store, channel, now_ms() + wait * 1000);
                down = true;
            }
            hlc_log(dead ? HLC_LOG_ERROR : HLC_LOG_WARN, "notify: %s #%lld %s: %s", channel, id,
                    dead ? "given up" : "will retry", res.error);
        }
        hlc_notify_msg_free(&m);
    }
    hlc_credentials_free_secret(url);
    hlc_credentials_free_secret(bearer);
    json_decref(ev);
    return down;
}

static void *
sender_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_notifier *a = hub->notifier;
    while (!hlc_loop_stopping(&a->loop)) {
        json_t *due = NULL;
        if (hlc_store_outbox_due(hub->store, now_ms(), BATCH, &due) == 0) {
            size_t i;
            json_t *row;
            const char *down[HLC_NOTIFY_NCHANNELS] = {NULL};
            size_t ndown = 0;
            json_array_foreach(due, i, row)
            {
                if (hlc_loop_stopping(&a->loop))
                    break;
                const char *ch = json_string_value(json_object_get(row, "channel")) ?: "";
                bool skip = false;
                for (size_t k = 0; k < ndown; k++)
                    skip |= strcmp(down[k], ch) == 0;
                if (!skip && deliver(hub, a, row) && ndown < HLC_NOTIFY_NCHANNELS)
                    down[ndown++] = ch;
            }
            size_t n = json_array_size(due);
            json_decref(due);
            if (n == BATCH)
                continue; /* more may be due */
        }
        /* Sleep until the next due row or a wake-up from the bus. */
        int64_t wait_ms = IDLE_WAKE_MS, at_ms;
        if (hlc_store_outbox_next(hub->store, &at_ms) == 0 && at_ms - now_ms() < wait_ms)
            wait_ms = at_ms - now_ms();
        hlc_loop_sleep(&a->loop, wait_ms);
    }
    return NULL;
}

int
hlc_notifier_start(struct hlc_hub *hub)
{
    struct hlc_notifier *a = hlc_xcalloc(1, sizeof(*a));
    hub->notifier = a;
    if (hlc_loop_start(&a->loop, sender_main, hub) != 0) {
        hlc_log(HLC_LOG_ERROR, "notifier: could not start the sender thread");
        hlc_notifier_stop(hub);
        return HLC_EIO;
    }
    return 0;
}

void
hlc_notifier_stop(struct hlc_hub *hub)
{
    struct hlc_notifier *a = hub->notifier;
    if (!a)
        return;
    hlc_loop_stop(&a->loop);
    hub->notifier = NULL;
    free(a);
}

/* ---- the settings page and the test message ------------------------------ */

json_t *
hlc_notifier_channels_json(struct hlc_hub *hub)
{
    json_t *o = json_object();
    static const char *const keys[HLC_NOTIFY_NCHANNELS] = {"slack_webhook_url", "webhook_url",
                                                           "ntfy_url"};
    for (int i = 0; i < HLC_NOTIFY_NCHANNELS; i++) {
        char *url = NULL;
        const char *source = NULL;
        if (channel_url(hub, hlc_notify_channels[i], &url, NULL, &source) == 0) {
            char *masked = hlc_notify_url_mask(url);
            json_object_set_new(o, keys[i], json_string(masked));
            free(masked);
        } else {
            json_object_set_new(o, keys[i], json_null());
        }
        if (i == 0)
            json_object_set_new(o, "slack_webhook_source",
                                source ? json_string(source) : json_null());
        hlc_credentials_free_secret(url);
    }
    return o;
}

int
hlc_notifier_send_test(struct hlc_hub *hub, json_t **results)
{
    const char *chans[HLC_NOTIFY_NCHANNELS];
    size_t nchan = hlc_notifier_channels(hub, chans);
    if (nchan == 0)
        return HLC_ENOTFOUND;
    int64_t now = hlc_now();
    char iso[32];
    hlc_time_iso(now, iso);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:n, s:n, s:I, s:n, s:[{s:s, s:s}]}", "kind",
                           "test", "severity", "low", "title", "HomelabCmd test notification",
                           "message", "If you can read this, notifications from your hub work.",
                           "server_id", "server_name", "time", (json_int_t)now, "alert_id",
                           "fields", "title", "Time", "value", iso);
    json_t *arr = json_array();
    for (size_t i = 0; i < nchan; i++) {
        char *url = NULL, *bearer = NULL;
        struct hlc_notify_result res;
        memset(&res, 0, sizeof(res));
        struct hlc_notify_msg m;
        if (channel_url(hub, chans[i], &url, &bearer, NULL) != 0) {
            snprintf(res.error, sizeof(res.error), "the channel is not configured");
        } else if (hlc_notify_build(chans[i], ev, 0, &m) == 0) {
            hlc_notify_post(url, bearer, &m, SEND_TIMEOUT_MS, NULL, &res);
            hlc_notify_msg_free(&m);
        }
        /* Delivered or not, and the receiver's status at most: how a
         * connection failed (refused, timed out, reset) would make this a
         * port scanner for whoever holds the key. */
        char said[sizeof(res.error) + 32];
        if (res.blocked)
            snprintf(said, sizeof(said), "not delivered: %s", res.error);
        else if (res.status > 0)
            snprintf(said, sizeof(said), "not delivered: the receiver answered HTTP %ld",
                     res.status);
        else
            snprintf(said, sizeof(said), "not delivered");
        json_array_append_new(arr, json_pack("{s:s, s:b, s:I, s:s?}", "channel", chans[i], "ok",
                                             res.ok, "status", (json_int_t)res.status, "error",
                                             res.ok ? NULL : said));
        hlc_credentials_free_secret(url);
        hlc_credentials_free_secret(bearer);
    }
    json_decref(ev);
    *results = arr;
    return 0;
}
