/* tailscale.c - discovery, import and the periodic sync of tailnet devices.
 *
 * The device list comes from the Tailscale API when a credential is stored
 * (tailscale_api_key, else tailscale_oauth_client "CLIENT_ID:SECRET"), else
 * from the local tailscaled's LocalAPI when its socket exists. Every call to
 * the alert engine sits in sync_alerts(), so it can move onto the bus. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alerts.h"
#include "config.h"
#include "credentials.h"
#include "hub.h"
#include "remote.h"
#include "store.h"
#include "tailscale_internal.h"

#define CACHE_MS 60000               /* a discovery answers from the last fetch this long */
#define EXPIRY_WARN_S (14 * 86400)   /* node keys expiring within this raise an alert */

struct hlc_tailscale {
    pthread_mutex_t mu;              /* guards the cache and stop */
    pthread_cond_t cv;               /* wakes the sync thread to stop */
    bool stop;
    pthread_t thread;
    bool started;
    pthread_mutex_t op_mu;           /* one import or sync at a time */
    struct hlc_ts_device *dev;       /* last fetch, sorted by node_id */
    size_t ndev;
    const char *source;              /* "api" or "local" */
    int64_t fetched_mono_ms;         /* when (0 = never) */
    int64_t fetched_at;              /* wall clock of it */
};

/* The device list with its source, sorted by node_id (heap copy). */
struct fetched {
    struct hlc_ts_device *dev;
    size_t ndev;
    const char *source;
    int64_t at;
};

static int
dev_cmp(const void *a, const void *b)
{
    return strcmp(((const struct hlc_ts_device *)a)->node_id,
                  ((const struct hlc_ts_device *)b)->node_id);
}

static int
dev_key_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct hlc_ts_device *)elem)->node_id);
}

/* A setting: the database's when set, else the environment's (with its default). */
static char *
setting(struct hlc_hub *hub, const char *key, const char *env_value)
{
    json_t *sec = NULL;
    char *out = NULL;
    if (hlc_config_section(hub->store, "tailscale", &sec) == 0) {
        const char *v = json_string_value(json_object_get(sec, key));
        if (v && *v)
            out = hlc_xstrdup(v);
    }
    json_decref(sec);
    return out ? out : hlc_xstrdup(env_value ? env_value : "");
}

static void
fail(struct hlc_ts_error *err, const char *code, const char *msg)
{
    err->http_status = 0;
    snprintf(err->code, sizeof(err->code), "%s", code);
    snprintf(err->message, sizeof(err->message), "%s", msg);
}

/* Fetches and parses the device list from the source the hub has. */
static int
fetch(struct hlc_hub *hub, struct fetched *f, struct hlc_ts_error *err)
{
    memset(f, 0, sizeof(*f));
    char *key = NULL, *oauth = NULL;
    char *base = setting(hub, "api_url", hub->set.tailscale_api_url);
    char *sock = setting(hub, "socket", hub->set.tailscale_socket);
    char *tailnet = setting(hub, "tailnet", "-");
    long timeout_ms =
        1000L * (long)hlc_config_number(hub->store, "tailscale", "request_timeout_seconds", 30);
    struct hlc_buf body;
    hlc_buf_init(&body, HLC_TS_MAX_BODY);
    size_t skipped = 0;
    int rc = hlc_credentials_get_secret(hub, "tailscale_api_key", &key);
    if (rc == HLC_ENOTFOUND)
        rc = hlc_credentials_get_secret(hub, "tailscale_oauth_client", &oauth);
    if (rc != 0 && rc != HLC_ENOTFOUND) {
        fail(err, "TAILSCALE_NOT_CONFIGURED",
             "the stored Tailscale credential cannot be unsealed (wrong encryption key?)");
        goto out;
    }
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        base[--blen] = '\0'; /* "https://host/" and "https://host" are one base */
    if (key || oauth) {
        struct ts_api a = {.base = base, .tailnet = tailnet, .api_key = key,
                           .timeout_ms = timeout_ms};
        char *colon = oauth ? strchr(oauth, ':') : NULL;
        if (oauth && !colon) {
            fail(err, "TAILSCALE_NOT_CONFIGURED",
                 "the stored tailscale_oauth_client is not CLIENT_ID:CLIENT_SECRET; store it again");
            rc = HLC_EINVAL;
            goto out;
        }
        if (oauth) {
            *colon = '\0';
            a.client_id = oauth;
            a.client_secret = colon + 1;
        }
        rc = ts_fetch_api(&a, &body, err);
        if (oauth)
            *colon = ':'; /* whole again, so the wipe below reaches the secret */
        if (rc == 0) {
            rc = hlc_ts_parse_devices(body.data ? body.data : "", body.len, &f->dev, &f->ndev,
                                      &skipped);
            f->source = "api";
        }
    } else {
        struct stat stt;
        if (!*sock || stat(sock, &stt) != 0 || !S_ISSOCK(stt.st_mode)) {
            fail(err, "TAILSCALE_NOT_CONFIGURED",
                 "no Tailscale credential is stored and no local tailscaled socket was found: "
                 "store an API key or OAuth client in Settings, or run the hub on a tailnet node");
            rc = HLC_ENOTFOUND;
            goto out;
        }
        rc = ts_fetch_local(sock, timeout_ms, &body, err);
        if (rc == 0) {
            rc = hlc_ts_parse_status(body.data ? body.data : "", body.len, &f->dev, &f->ndev,
                                     &skipped);
            f->source = "local";
        }
    }
    if (rc == HLC_EPARSE || rc == HLC_ETOOBIG) {
        if (!err->code[0] || strcmp(err->code, "TAILSCALE_BAD_ANSWER") != 0)
            fail(err, "TAILSCALE_BAD_ANSWER",
                 rc == HLC_ETOOBIG ? "the device list is larger than the hub accepts"
                                   : "the device list could not be understood");
    }
    if (rc == 0) {
        if (f->ndev > 1)
            qsort(f->dev, f->ndev, sizeof(*f->dev), dev_cmp);
        f->at = hlc_now();
        if (skipped)
            hlc_log(HLC_LOG_WARN, "tailscale: %zu device%s in the answer could not be used",
                    skipped, skipped == 1 ? "" : "s");
    } else {
        free(f->dev);
        f->dev = NULL;
        f->ndev = 0;
        hlc_log(HLC_LOG_WARN, "tailscale: fetching devices failed: %s", err->message);
    }
out:
    hlc_credentials_free_secret(key);
    hlc_credentials_free_secret(oauth);
    hlc_buf_release(&body);
    free(base);
    free(sock);
    free(tailnet);
    return rc;
}

/* A fresh fetch (refresh) or the cached one when it is recent. */
static int
devices_now(struct hlc_hub *hub, bool refresh, struct fetched *f, struct hlc_ts_error *err)
{
    struct hlc_tailscale *ts = hub->tailscale;
    memset(err, 0, sizeof(*err));
    if (!ts) {
        fail(err, "TAILSCALE_UNAVAILABLE", "the Tailscale service is not running");
        return HLC_EBUSY;
    }
    pthread_mutex_lock(&ts->mu);
    if (!refresh && ts->fetched_mono_ms && hlc_mono_ms() - ts->fetched_mono_ms < CACHE_MS) {
        f->ndev = ts->ndev;
        f->dev = hlc_xcalloc(ts->ndev ? ts->ndev : 1, sizeof(*f->dev));
        if (ts->ndev)
            memcpy(f->dev, ts->dev, ts->ndev * sizeof(*f->dev));
        f->source = ts->source;
        f->at = ts->fetched_at;
        pthread_mutex_unlock(&ts->mu);
        return 0;
    }
    pthread_mutex_unlock(&ts->mu);
    int rc = fetch(hub, f, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&ts->mu);
    free(ts->dev);
    ts->ndev = f->ndev;
    ts->dev = hlc_xcalloc(f->ndev ? f->ndev : 1, sizeof(*ts->dev));
    if (f->ndev)
        memcpy(ts->dev, f->dev, f->ndev * sizeof(*ts->dev));
    ts->source = f->source;
    ts->fetched_at = f->at;
    ts->fetched_mono_ms = hlc_mono_ms();
    pthread_mutex_unlock(&ts->mu);
    return 0;
}

static json_t *
time_or_null(int64_t t)
{
    if (t <= 0)
        return json_null();
    char buf[32];
    hlc_time_iso(t, buf);
    return json_string(buf);
}

static json_t *
str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* The address a machine made from d connects to: its IPv4, else its IPv6. */
static const char *
ts_address(const struct hlc_ts_device *d)
{
    return d->ipv4[0] ? d->ipv4 : d->ipv6;
}

/* The machine already made from d: by node id, then by Tailscale IP. */
static const char *
imported_as(json_t *known, const struct hlc_ts_device *d)
{
    const char *sid = json_string_value(json_object_get(json_object_get(known, "by_node"),
                                                        d->node_id));
    json_t *by_ip = json_object_get(known, "by_ip");
    for (size_t i = 0; !sid && i < d->naddrs; i++)
        sid = json_string_value(json_object_get(by_ip, d->addrs[i]));
    return sid;
}

/* A free machine id for d: its host name's slug, with -2, -3... on
 * collision; the id is taken in `ids` so the next device gets another. */
static void
suggest_id(const struct hlc_ts_device *d, json_t *ids, char out[static 64])
{
    char base[64];
    const char *src = d->hostname[0] ? d->hostname : d->name;
    char label[64];
    if (!d->hostname[0] && d->name[0]) {
        snprintf(label, sizeof(label), "%.*s", (int)strcspn(d->name, "."), d->name);
        src = label;
    }
    hlc_ts_slug(src, base);
    snprintf(out, 64, "%s", base);
    for (int k = 2; json_object_get(ids, out) && k < 10000; k++) {
        char suffix[8];
        int sl = snprintf(suffix, sizeof(suffix), "-%d", k);
        snprintf(out, 64, "%.*s%s", 63 - sl, base, suffix);
    }
    json_object_set_new(ids, out, json_true());
}

static bool
has_tag(const struct hlc_ts_device *d, const char *tag)
{
    for (size_t i = 0; i < d->ntags; i++)
        if (strcmp(d->tags[i], tag) == 0 ||
            (strncmp(d->tags[i], "tag:", 4) == 0 && strcmp(d->tags[i] + 4, tag) == 0))
            return true;
    return false;
}

static json_t *
device_json(const struct hlc_ts_device *d, json_t *known, json_t *ids)
{
    json_t *addrs = json_array(), *tags = json_array();
    for (size_t i = 0; i < d->naddrs; i++)
        json_array_append_new(addrs, json_string(d->addrs[i]));
    for (size_t i = 0; i < d->ntags; i++)
        json_array_append_new(tags, json_string(d->tags[i]));
    const char *as = imported_as(known, d);
    char sug[64] = "";
    if (!as)
        suggest_id(d, ids, sug);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:b,"
                     " s:b, s:b, s:b, s:o, s:o, s:s}",
                     "node_id", d->node_id, "name", str_or_null(d->name), "hostname",
                     str_or_null(d->hostname), "tailscale_ip", str_or_null(ts_address(d)),
                     "addresses", addrs, "os", str_or_null(d->os), "online",
                     d->online < 0 ? json_null() : json_boolean(d->online), "last_seen",
                     time_or_null(d->last_seen), "tags", tags, "key_expiry",
                     time_or_null(d->key_expiry_disabled ? 0 : d->expires),
                     "key_expiry_disabled", d->key_expiry_disabled, "user", str_or_null(d->user),
                     "client_version", str_or_null(d->client_version), "update_available",
                     d->update_available, "authorized", d->authorized, "is_external",
                     d->is_external, "is_self", d->is_self, "imported_as", str_or_null(as),
                     "suggested_server_id", as ? json_null() : json_string(sug),
                     "suggested_machine_type", hlc_ts_machine_type(d->os));
}

int
hlc_tailscale_devices(struct hlc_hub *hub, bool refresh, const char *online, const char *os,
                      const char *tag, json_t **out, struct hlc_ts_error *err)
{
    struct fetched f;
    json_t *known = NULL;
    int rc = devices_now(hub, refresh, &f, err);
    if (rc != 0)
        return rc;
    if ((rc = hlc_store_ts_known(hub->store, &known)) != 0) {
        free(f.dev);
        fail(err, "INTERNAL", "reading the machines failed");
        return rc;
    }
    json_t *ids = json_deep_copy(json_object_get(known, "ids"));
    json_t *arr = json_array();
    for (size_t i = 0; i < f.ndev; i++) {
        const struct hlc_ts_device *d = &f.dev[i];
        if (online && (d->online < 0 || (d->online == 1) != (strcmp(online, "true") == 0)))
            continue;
        if (os && strcasecmp(os, d->os) != 0)
            continue;
        if (tag && !has_tag(d, tag))
            continue;
        json_array_append_new(arr, device_json(d, known, ids));
    }
    char at[32];
    hlc_time_iso(f.at, at);
    *out = json_pack("{s:s, s:s, s:o, s:I}", "source", f.source, "fetched_at", at, "devices",
                     arr, "total", (json_int_t)json_array_size(arr));
    json_decref(ids);
    json_decref(known);
    free(f.dev);
    return 0;
}

/* ---- import ---------------------------------------------------------------- */

static void
store_node(const struct hlc_ts_device *d, struct hlc_store_ts_node *n)
{
    *n = (struct hlc_store_ts_node){
        .node_id = d->node_id,
        .name = d->name,
        .hostname = d->hostname,
        .tailscale_ip = ts_address(d),
        .os = d->os,
        .online = d->online,
        .last_seen = d->last_seen,
        .key_expiry = d->key_expiry_disabled ? 0 : d->expires,
        .key_expiry_disabled = d->key_expiry_disabled,
    };
}

/* The machine object for device d with the request's overrides (validated
 * by the API) on top of what the device suggests. */
static json_t *
machine_for(const struct hlc_ts_device *d, json_t *want, const char *id, const char *fleet_user)
{
    char label[64];
    snprintf(label, sizeof(label), "%.*s", (int)strcspn(d->name, "."), d->name);
    const char *display = json_string_value(json_object_get(want, "display_name"));
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s}", "server_id", id, "display_name",
                          display ? display : d->hostname[0] ? d->hostname : id, "hostname",
                          label[0] ? label : ts_address(d), "connectivity", "tailscale",
                          "tailscale_ip", ts_address(d));
    /* The hostname column must be a host name: the OS's may hold spaces. */
    if (d->name[0])
        json_object_set_new(m, "tailscale_hostname", json_string(d->name));
    const char *type = json_string_value(json_object_get(want, "machine_type"));
    json_object_set_new(m, "machine_type", json_string(type ? type : hlc_ts_machine_type(d->os)));
    json_t *tags = json_array();
    for (size_t i = 0; i < d->ntags; i++) {
        const char *t = d->tags[i];
        bool ok = strlen(t) <= 32 && ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') ||
                                      (t[0] >= '0' && t[0] <= '9'));
        for (const char *p = t; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 strchr("_.:-", *p);
        if (ok)
            json_array_append_new(tags, json_string(t));
    }
    json_object_set_new(m, "tags", tags);
    json_object_set_new(m, "ssh_user", json_string(fleet_user));
    static const char *const passthrough[] = {"ssh_user", "ssh_port", "tdp_watts",
                                              "expected_services", NULL};
    for (const char *const *k = passthrough; *k; k++) {
        json_t *v = json_object_get(want, *k);
        if (v)
            json_object_set(m, *k, v);
    }
    return m;
}

static json_t *
result(const char *node, const char *status, const char *sid, const char *msg)
{
    return json_pack("{s:s, s:s, s:o, s:o}", "node_id", node, "status", status, "server_id",
                     str_or_null(sid), "message", str_or_null(msg));
}

/* Imports one requested device; its result object. */
static json_t *
import_one(struct hlc_hub *hub, const struct fetched *f, json_t *known, json_t *ids, json_t *want)
{
    const char *node = json_string_value(json_object_get(want, "node_id"));
    const struct hlc_ts_device *d = bsearch(node, f->dev, f->ndev, sizeof(*f->dev), dev_key_cmp);
    if (!d)
        return result(node, "error", NULL, "no device with this node_id is on the tailnet");
    const char *as = imported_as(known, d);
    if (as)
        return result(node, "already_imported", as, "a machine was made from this device already");
    if (!ts_address(d)[0])
        return result(node, "error", NULL,
                      "the device has no Tailscale address to connect to (not yet authorized?)");
    const char *want_id = json_string_value(json_object_get(want, "server_id"));
    char id[64];
    if (want_id) {
        if (json_object_get(ids, want_id))
            return result(node, "error", NULL, "a machine with this server_id exists already");
        snprintf(id, sizeof(id), "%s", want_id);
        json_object_set_new(ids, id, json_true());
    } else {
        suggest_id(d, ids, id);
    }
    struct hlc_store_ts_node n;
    store_node(d, &n);
    int rc;
    for (int tries = 0;; tries++) {
        json_t *m = machine_for(d, want, id, "homelabcmd");
        rc = hlc_store_ts_import(hub->store, m, &n);
        json_decref(m);
        /* Someone registered the same id meanwhile: the next free one, unless it was asked for. */
        if (rc != HLC_EEXISTS || want_id || tries >= 20)
            break;
        suggest_id(d, ids, id);
    }
    if (rc == HLC_ESTATE)
        return result(node, "already_imported", NULL, "a machine was made from this device already");
    if (rc == HLC_EEXISTS)
        return result(node, "error", NULL, "a machine with this server_id exists already");
    if (rc != 0)
        return result(node, "error", NULL, hlc_strerror(rc));
    json_object_set_new(json_object_get(known, "by_node"), d->node_id, json_string(id));
    hlc_log(HLC_LOG_INFO, "tailscale: imported %s as %s (%s)", d->node_id, id, ts_address(d));
    hlc_remote_forget(hub, id); /* schedules its first poll now */
    return result(node, "created", id, NULL);
}

int
hlc_tailscale_import(struct hlc_hub *hub, json_t *req, json_t **out, struct hlc_ts_error *err)
{
    struct fetched f;
    json_t *known = NULL;
    int rc = devices_now(hub, false, &f, err);
    if (rc != 0)
        return rc;
    /* A device the cached list does not know may have joined since: ask again once. */
    size_t i;
    json_t *want;
    json_array_foreach(json_object_get(req, "devices"), i, want)
    {
        const char *node = json_string_value(json_object_get(want, "node_id"));
        if (node && !bsearch(node, f.dev, f.ndev, sizeof(*f.dev), dev_key_cmp)) {
            free(f.dev);
            if ((rc = devices_now(hub, true, &f, err)) != 0)
                return rc;
            break;
        }
    }
    struct hlc_tailscale *ts = hub->tailscale;
    pthread_mutex_lock(&ts->op_mu);
    if ((rc = hlc_store_ts_known(hub->store, &known)) != 0) {
        pthread_mutex_unlock(&ts->op_mu);
        free(f.dev);
        fail(err, "INTERNAL", "reading the machines failed");
        return rc;
    }
    json_t *ids = json_object_get(known, "ids");
    json_t *results = json_array();
    json_array_foreach(json_object_get(req, "devices"), i, want)
    {
        json_array_append_new(results, import_one(hub, &f, known, ids, want));
    }
    pthread_mutex_unlock(&ts->op_mu);
    json_decref(known);
    free(f.dev);
    *out = json_pack("{s:o}", "results", results);
    return 0;
}

/* ---- sync ------------------------------------------------------------------ */

/* The alert engine's part of a sync: nodes that left or came back, and node
 * keys that expire within EXPIRY_WARN_S (raised once per expiry date,
 * resolved when the key was renewed or set never to expire). */
static int
sync_alerts(struct hlc_hub *hub, json_t *changes, const struct fetched *f, int64_t now)
{
    size_t i;
    json_t *ch;
    json_array_foreach(changes, i, ch)
    {
        const char *sid = json_string_value(json_object_get(ch, "server_id"));
        const char *what = json_string_value(json_object_get(ch, "change"));
        if (strcmp(what, "moved") == 0)
            continue;
        bool left = strcmp(what, "left") == 0;
        char msg[300];
        snprintf(msg, sizeof(msg),
                 left ? "Tailscale node %s is no longer on the tailnet (removed, or its key "
                        "expired and it was logged out). The machine is kept; delete it if it "
                        "is gone for good."
                      : "Tailscale node %s is back on the tailnet.",
                 json_string_value(json_object_get(ch, "node_id")));
        hlc_alerts_condition(hub, sid, "tailscale_node_left", "medium", "Left the tailnet", msg,
                             left);
    }
    json_t *links = NULL;
    int expiring = 0;
    if (hlc_store_ts_links(hub->store, &links) != 0)
        return 0;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        const char *node = json_string_value(json_object_get(l, "node_id"));
        const char *sid = json_string_value(json_object_get(l, "server_id"));
        const struct hlc_ts_device *d = bsearch(node, f->dev, f->ndev, sizeof(*f->dev), dev_key_cmp);
        int64_t alerted = 0;
        const char *at = json_string_value(json_object_get(l, "expiry_alerted"));
        if (at && hlc_time_parse(at, &alerted) != 0)
            alerted = 0;
        if (!d)
            continue; /* left: its own alert says so */
        int64_t exp = d->key_expiry_disabled ? 0 : d->expires;
        bool soon = exp > 0 && exp - now < EXPIRY_WARN_S;
        if (soon) {
            expiring++;
            if (alerted == exp)
                continue; /* raised for this expiry already: once */
            char when[32], msg[400];
            hlc_time_iso(exp, when);
            snprintf(msg, sizeof(msg),
                     exp > now ? "The Tailscale node key of %s expires at %s (in %lld days). "
                                 "Re-authenticate the node (tailscale up --force-reauth) or "
                                 "disable key expiry for it in the admin console, or the hub "
                                 "loses contact."
                               : "The Tailscale node key of %s expired at %s (%lld days ago); "
                                 "the node is cut off until it is re-authenticated.",
                     d->name[0] ? d->name : d->node_id, when,
                     (long long)((exp > now ? exp - now : now - exp) / 86400));
            hlc_alerts_condition(hub, sid, "tailscale_key_expiry", "high",
                                 "Tailscale node key expires soon", msg, true);
            hlc_store_ts_set_alerted(hub->store, node, exp);
        } else if (alerted) {
            hlc_alerts_condition(hub, sid, "tailscale_key_expiry", "high", "",
                                 d->key_expiry_disabled
                                     ? "Key expiry was disabled for the node."
                                     : "The node key was renewed.",
                                 false);
            hlc_store_ts_set_alerted(hub->store, node, 0);
        }
    }
    json_decref(links);
    return expiring;
}

static void
record_sync(struct hlc_hub *hub, json_t *state)
{
    hlc_store_config_set(hub->store, "tailscale_sync", state);
}

int
hlc_tailscale_sync(struct hlc_hub *hub, json_t **out, struct hlc_ts_error *err)
{
    struct fetched f;
    int64_t now = hlc_now();
    char at[32];
    hlc_time_iso(now, at);
    int rc = devices_now(hub, true, &f, err);
    if (rc != 0) {
        json_t *st = json_pack("{s:s, s:b, s:s}", "at", at, "ok", 0, "error", err->message);
        record_sync(hub, st);
        json_decref(st);
        return rc;
    }
    struct hlc_tailscale *ts = hub->tailscale;
    struct hlc_store_ts_node *nodes = hlc_xcalloc(f.ndev ? f.ndev : 1, sizeof(*nodes));
    for (size_t i = 0; i < f.ndev; i++)
        store_node(&f.dev[i], &nodes[i]); /* f.dev is sorted by node_id: so is nodes */
    json_t *changes = NULL;
    pthread_mutex_lock(&ts->op_mu);
    rc = hlc_store_ts_sync_apply(hub->store, nodes, f.ndev, now, &changes);
    int moved = 0, left = 0, returned = 0, expiring = 0;
    if (rc == 0) {
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch)
        {
            const char *what = json_string_value(json_object_get(ch, "change"));
            const char *sid = json_string_value(json_object_get(ch, "server_id"));
            if (strcmp(what, "left") == 0) {
                left++;
                continue;
            }
            if (strcmp(what, "moved") == 0)
                moved++;
            else
                returned++;
            /* The pooled session still talks to the old address. */
            hlc_remote_forget(hub, sid);
            hlc_log(HLC_LOG_INFO, "tailscale: %s %s", sid, what);
        }
        expiring = sync_alerts(hub, changes, &f, now);
    }
    pthread_mutex_unlock(&ts->op_mu);
    free(nodes);
    json_decref(changes);
    if (rc != 0) {
        free(f.dev);
        fail(err, "INTERNAL", "recording the sync failed");
        return rc;
    }
    *out = json_pack("{s:s, s:s, s:b, s:I, s:i, s:i, s:i, s:i}", "at", at, "source", f.source,
                     "ok", 1, "devices", (json_int_t)f.ndev, "updated", moved, "left", left,
                     "returned", returned, "expiring", expiring);
    record_sync(hub, *out);
    free(f.dev);
    return 0;
}

int
hlc_tailscale_status(struct hlc_hub *hub, json_t **out)
{
    json_t *links = NULL, *last = NULL;
    int rc = hlc_store_ts_links(hub->store, &links);
    if (rc != 0)
        return rc;
    if (hlc_store_config_get(hub->store, "tailscale_sync", &last) != 0)
        last = json_null();
    int interval = (int)hlc_config_number(hub->store, "tailscale", "sync_interval_seconds", 900);
    *out = json_pack("{s:o, s:i, s:o}", "last_sync", last, "sync_interval_seconds", interval,
                     "machines", links);
    return 0;
}

/* ---- the periodic sync ------------------------------------------------------ */

/* Wakes every few seconds so a changed interval takes effect without a
 * restart, and syncs when the interval has passed since the last one. */
#define TICK_MS 5000

static void *
sync_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_tailscale *ts = hub->tailscale;
    int64_t last = hlc_mono_ms();
    pthread_mutex_lock(&ts->mu);
    while (!ts->stop) {
        struct timespec until;
        hlc_abstime_in(TICK_MS, &until);
        pthread_cond_timedwait(&ts->cv, &ts->mu, &until);
        if (ts->stop)
            break;
        int64_t every =
            1000 * (int64_t)hlc_config_number(hub->store, "tailscale", "sync_interval_seconds", 900);
        if (hlc_mono_ms() - last < every)
            continue;
        last = hlc_mono_ms();
        pthread_mutex_unlock(&ts->mu);
        json_t *links = NULL, *res = NULL;
        struct hlc_ts_error err;
        /* Nothing imported: nothing to keep in step, and no call to make. */
        if (hlc_store_ts_links(hub->store, &links) == 0 && json_array_size(links) > 0)
            hlc_tailscale_sync(hub, &res, &err);
        json_decref(links);
        json_decref(res);
        pthread_mutex_lock(&ts->mu);
    }
    pthread_mutex_unlock(&ts->mu);
    return NULL;
}

int
hlc_tailscale_start(struct hlc_hub *hub)
{
    struct hlc_tailscale *ts = hlc_xcalloc(1, sizeof(*ts));
    pthread_mutex_init(&ts->mu, NULL);
    pthread_mutex_init(&ts->op_mu, NULL);
    pthread_cond_init(&ts->cv, NULL);
    hub->tailscale = ts;
    if (pthread_create(&ts->thread, NULL, sync_main, hub) != 0) {
        hlc_log(HLC_LOG_ERROR, "tailscale: cannot start the sync thread");
        hlc_tailscale_stop(hub);
        return HLC_EIO;
    }
    ts->started = true;
    return 0;
}

void
hlc_tailscale_stop(struct hlc_hub *hub)
{
    struct hlc_tailscale *ts = hub->tailscale;
    if (!ts)
        return;
    pthread_mutex_lock(&ts->mu);
    ts->stop = true;
    pthread_cond_broadcast(&ts->cv);
    pthread_mutex_unlock(&ts->mu);
    if (ts->started)
        pthread_join(ts->thread, NULL);
    hub->tailscale = NULL;
    ts_token_forget();
    free(ts->dev);
    pthread_mutex_destroy(&ts->mu);
    pthread_mutex_destroy(&ts->op_mu);
    pthread_cond_destroy(&ts->cv);
    free(ts);
}
