/* prom.c - renders /metrics (Prometheus text 0.0.4 / OpenMetrics 1.0) from
 * the store's latest rows and the hub's own counters, and checks scrapes. */
#include "prom.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "hlc/base.h"
#include "hub.h"
#include "ingest.h"
#include "remote.h"
#include "store.h"

/* A scrape of 200 machines is ~150 KiB; the cap only stops a runaway. */
#define PROM_MAX_BYTES (64u << 20)

enum fam_type { F_GAUGE, F_COUNTER, F_INFO };

struct writer {
    struct hlc_buf b;   /* the exposition */
    bool om;            /* OpenMetrics */
    const char *name;   /* the family being written: its samples' name */
    enum fam_type type; /* and type */
};

/* Starts a family. `name` is the sample name as scraped: counters end in
 * _total and info metrics in _info; OpenMetrics names the family without
 * that suffix, the 0.0.4 format with it (and has no info type: gauge). */
static void
family(struct writer *w, const char *name, enum fam_type type, const char *help)
{
    w->name = name;
    w->type = type;
    size_t n = strlen(name);
    if (w->om && type == F_COUNTER)
        n -= strlen("_total");
    else if (w->om && type == F_INFO)
        n -= strlen("_info");
    const char *tname = type == F_COUNTER ? "counter"
                        : type == F_INFO  ? (w->om ? "info" : "gauge")
                                          : "gauge";
    (void)hlc_buf_appendf(&w->b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help, (int)n,
                          name, tname);
}

/* A label value with \ " and newline escaped, as both formats want. */
static void
label_value(struct writer *w, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            (void)hlc_buf_append(&w->b, "\\\\", 2);
        else if (*p == '"')
            (void)hlc_buf_append(&w->b, "\\\"", 2);
        else if (*p == '\n')
            (void)hlc_buf_append(&w->b, "\\n", 2);
        else
            (void)hlc_buf_append(&w->b, p, 1);
    }
}

/* One sample of the current family: labels as NULL-terminated name/value
 * pairs (a NULL value leaves that label out). NaN writes nothing: a metric
 * the machine did not report is absent, not zero. */
static void
sample(struct writer *w, double v, const char *const *labels)
{
    if (isnan(v))
        return;
    (void)hlc_buf_append(&w->b, w->name, strlen(w->name));
    bool any = false;
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!labels[i + 1])
            continue;
        (void)hlc_buf_append(&w->b, any ? "," : "{", 1);
        (void)hlc_buf_appendf(&w->b, "%s=\"", labels[i]);
        label_value(w, labels[i + 1]);
        (void)hlc_buf_append(&w->b, "\"", 1);
        any = true;
    }
    if (any)
        (void)hlc_buf_append(&w->b, "}", 1);
    if (v == floor(v) && fabs(v) < 9e15)
        (void)hlc_buf_appendf(&w->b, " %.0f\n", v);
    else
        (void)hlc_buf_appendf(&w->b, " %.15g\n", v);
}

/* A number from a JSON object, NaN when absent or null. */
static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : (json_is_boolean(v) ? json_is_true(v) : NAN);
}

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* One gauge per machine from its latest object: value = latest[key] * scale. */
static void
per_machine(struct writer *w, const json_t *machines, const char *name, const char *help,
            const char *key, double scale)
{
    family(w, name, F_GAUGE, help);
    size_t i;
    const json_t *m;
    json_array_foreach(machines, i, m)
    {
        const char *lab[] = {"server_id", str(m, "server_id"), NULL};
        sample(w, num(json_object_get(m, "latest"), key) * scale, lab);
    }
}

static void
machines_part(struct writer *w, const json_t *machines, const json_t *polls)
{
    size_t i, j;
    const json_t *m, *e;
    static const char *const states[] = {"online", "offline", "unknown"};

    family(w, "homelabcmd_machine_up", F_GAUGE,
           "1 when the hub heard from the machine within the offline threshold");
    json_array_foreach(machines, i, m)
    {
        const char *lab[] = {"server_id", str(m, "server_id"), "machine_type",
                             str(m, "machine_type"), NULL};
        const char *st = str(m, "status");
        sample(w, st && strcmp(st, "online") == 0, lab);
    }
    family(w, "homelabcmd_machine_status", F_GAUGE,
           "The machine's status: 1 for the state it is in, 0 for the others");
    json_array_foreach(machines, i, m)
    {
        const char *st = str(m, "status");
        for (size_t k = 0; k < 3; k++) {
            const char *lab[] = {"server_id", str(m, "server_id"), "status", states[k], NULL};
            sample(w, st && strcmp(st, states[k]) == 0, lab);
        }
    }
    family(w, "homelabcmd_machine_info", F_INFO, "The machine's type and operating system");
    json_array_foreach(machines, i, m)
    {
        const json_t *os = json_object_get(json_object_get(m, "latest"), "os");
        const char *lab[] = {"server_id",    str(m, "server_id"),      "machine_type",
                             str(m, "machine_type"), "os", str(os, "distribution"),
                             "kernel",       str(os, "kernel"),        "architecture",
                             str(os, "architecture"), NULL};
        sample(w, 1, lab);
    }
    family(w, "homelabcmd_machine_last_seen_timestamp_seconds", F_GAUGE,
           "When the hub last heard from the machine (Unix time)");
    json_array_foreach(machines, i, m)
    {
        const char *lab[] = {"server_id", str(m, "server_id"), NULL};
        sample(w, num(m, "last_seen"), lab);
    }
    family(w, "homelabcmd_boot_time_seconds", F_GAUGE, "When the machine booted (Unix time)");
    json_array_foreach(machines, i, m)
    {
        const char *lab[] = {"server_id", str(m, "server_id"), NULL};
        sample(w, num(m, "boot_time"), lab);
    }
    per_machine(w, machines, "homelabcmd_cpu_usage_ratio",
                "CPU busy between the last two samples (0-1)", "cpu_percent", 0.01);
    per_machine(w, machines, "homelabcmd_memory_used_bytes", "Memory in use", "memory_used_bytes",
                1);
    per_machine(w, machines, "homelabcmd_memory_total_bytes", "Memory installed",
                "memory_total_bytes", 1);
    per_machine(w, machines, "homelabcmd_swap_used_bytes", "Swap in use", "swap_used_bytes", 1);
    per_machine(w, machines, "homelabcmd_swap_total_bytes", "Swap configured", "swap_total_bytes",
                1);
    per_machine(w, machines, "homelabcmd_load1", "Load average over 1 minute", "load_1m", 1);
    per_machine(w, machines, "homelabcmd_load5", "Load average over 5 minutes", "load_5m", 1);
    per_machine(w, machines, "homelabcmd_load15", "Load average over 15 minutes", "load_15m", 1);
    per_machine(w, machines, "homelabcmd_cpu_temperature_celsius",
                "Hottest CPU temperature sensor", "cpu_temp_c", 1);
    per_machine(w, machines, "homelabcmd_updates_pending", "Packages with an update waiting",
                "updates_available", 1);
    per_machine(w, machines, "homelabcmd_updates_security",
                "Packages with a security update waiting", "security_updates", 1);
    per_machine(w, machines, "homelabcmd_reboot_required",
                "1 when the machine asks for a reboot (/var/run/reboot-required)",
                "reboot_required", 1);

    /* Filesystems and interfaces: one sample per mount / device. */
    static const struct {
        const char *name, *help, *key;
    } fs[] = {
        {"homelabcmd_filesystem_size_bytes", "Filesystem size", "total_bytes"},
        {"homelabcmd_filesystem_avail_bytes", "Filesystem space available to non-root users",
         "avail_bytes"},
    };
    for (size_t f = 0; f < 2; f++) {
        family(w, fs[f].name, F_GAUGE, fs[f].help);
        json_array_foreach(machines, i, m)
        {
            json_array_foreach(json_object_get(json_object_get(m, "latest"), "filesystems"), j, e)
            {
                const char *lab[] = {"server_id", str(m, "server_id"), "mountpoint",
                                     str(e, "mount"), "device", str(e, "device"), "fstype",
                                     str(e, "fstype"), NULL};
                sample(w, num(e, fs[f].key), lab);
            }
        }
    }
    static const struct {
        const char *name, *help, *key;
    } net[] = {
        {"homelabcmd_network_receive_bytes_total", "Bytes received by the interface",
         "rx_bytes"},
        {"homelabcmd_network_transmit_bytes_total", "Bytes sent by the interface", "tx_bytes"},
    };
    for (size_t f = 0; f < 2; f++) {
        family(w, net[f].name, F_COUNTER, net[f].help);
        json_array_foreach(machines, i, m)
        {
            json_array_foreach(json_object_get(json_object_get(m, "latest"), "network"), j, e)
            {
                const char *lab[] = {"server_id", str(m, "server_id"), "device", str(e, "name"),
                                     NULL};
                sample(w, num(e, net[f].key), lab);
            }
        }
    }

    /* Polls: only machines the poller has polled since the hub started. */
    const char *id;
    family(w, "homelabcmd_poll_duration_seconds", F_GAUGE, "Wall time of the last SSH poll");
    json_object_foreach((json_t *)polls, id, e)
    {
        const char *lab[] = {"server_id", id, NULL};
        sample(w, num(e, "duration_seconds"), lab);
    }
    family(w, "homelabcmd_polls_total", F_COUNTER, "SSH polls since the hub started");
    json_object_foreach((json_t *)polls, id, e)
    {
        const char *lab[] = {"server_id", id, NULL};
        sample(w, num(e, "polls"), lab);
    }
    family(w, "homelabcmd_poll_errors_total", F_COUNTER,
           "SSH polls that failed since the hub started");
    json_object_foreach((json_t *)polls, id, e)
    {
        const char *lab[] = {"server_id", id, NULL};
        sample(w, num(e, "errors"), lab);
    }
}

static void
states_part(struct writer *w, const json_t *snap)
{
    size_t i;
    const json_t *e;
    family(w, "homelabcmd_service_active", F_GAUGE,
           "1 when an expected systemd service is running, 0 when not (or not reported)");
    json_array_foreach(json_object_get(snap, "services"), i, e)
    {
        const char *st = str(e, "status");
        const char *lab[] = {"server_id", str(e, "server_id"), "service", str(e, "service"),
                             "critical", json_is_true(json_object_get(e, "critical")) ? "true"
                                                                                       : "false",
                             NULL};
        sample(w, st && strcmp(st, "running") == 0, lab);
    }
    family(w, "homelabcmd_container_running", F_GAUGE,
           "1 when the Docker container is running, 0 when not");
    json_array_foreach(json_object_get(snap, "containers"), i, e)
    {
        const char *st = str(e, "state");
        const char *lab[] = {"server_id", str(e, "server_id"), "container", str(e, "name"), NULL};
        sample(w, st && strcmp(st, "running") == 0, lab);
    }
    static const char *const sev[] = {"critical", "high", "medium", "low"};
    family(w, "homelabcmd_alerts_active", F_GAUGE, "Open or acknowledged alerts by severity");
    for (size_t k = 0; k < 4; k++) {
        double n = 0;
        json_array_foreach(json_object_get(snap, "alerts"), i, e)
        {
            const char *s = str(e, "severity");
            if (s && strcmp(s, sev[k]) == 0)
                n = num(e, "count");
        }
        const char *lab[] = {"severity", sev[k], NULL};
        sample(w, n, lab);
    }
}

static void
hub_part(struct writer *w, struct hlc_hub *hub, size_t nmachines)
{
    const char *ver[] = {"version", HLC_VERSION, NULL};
    family(w, "homelabcmd_build_info", F_INFO, "The hub's version");
    sample(w, 1, ver);
    family(w, "homelabcmd_start_time_seconds", F_GAUGE, "When the hub started (Unix time)");
    sample(w, (double)hub->started_at, NULL);
    family(w, "homelabcmd_machines", F_GAUGE, "Machines registered");
    sample(w, (double)nmachines, NULL);
    family(w, "homelabcmd_http_requests_total", F_COUNTER, "HTTP requests answered");
    sample(w, (double)atomic_load(&hub->requests), NULL);
    uint64_t stored = 0, dup = 0, failed = 0;
    hlc_ingest_counts(&stored, &dup, &failed);
    family(w, "homelabcmd_ingest_samples_total", F_COUNTER,
           "Samples (polls and heartbeats) handled, by result");
    const char *l1[] = {"result", "stored", NULL};
    const char *l2[] = {"result", "duplicate", NULL};
    const char *l3[] = {"result", "failed", NULL};
    sample(w, (double)stored, l1);
    sample(w, (double)dup, l2);
    sample(w, (double)failed, l3);
    family(w, "homelabcmd_ssh_sessions_open", F_GAUGE, "SSH sessions the poller holds open");
    sample(w, (double)hlc_remote_sessions(hub), NULL);
    json_t *ob = NULL;
    family(w, "homelabcmd_notifications_outbox", F_GAUGE,
           "Notifications in the outbox by state");
    if (hlc_store_outbox_stats(hub->store, &ob) == 0) {
        static const char *const st[] = {"pending", "delivered", "dead"};
        for (size_t k = 0; k < 3; k++) {
            const char *lab[] = {"state", st[k], NULL};
            sample(w, num(ob, st[k]), lab);
        }
    }
    json_decref(ob);
}

int
hlc_prom_render(struct hlc_hub *hub, bool openmetrics, char **out, size_t *len)
{
    json_t *snap = NULL, *polls = NULL;
    struct writer w = {.om = openmetrics};
    *out = NULL;
    *len = 0;
    int rc = hlc_store_prom_snapshot(hub->store, &snap);
    if (rc != 0)
        return rc;
    hlc_remote_poll_stats(hub, &polls);
    hlc_buf_init(&w.b, PROM_MAX_BYTES);
    const json_t *machines = json_object_get(snap, "machines");
    machines_part(&w, machines, polls);
    states_part(&w, snap);
    hub_part(&w, hub, json_array_size(machines));
    if (openmetrics)
        (void)hlc_buf_append(&w.b, "# EOF\n", 6);
    json_decref(snap);
    json_decref(polls);
    if (w.b.len >= PROM_MAX_BYTES - 64) { /* cut somewhere: refuse rather than mislead */
        hlc_buf_release(&w.b);
        return HLC_ETOOBIG;
    }
    *len = w.b.len;
    *out = hlc_buf_steal(&w.b);
    return 0;
}

const char *
hlc_prom_content_type(bool openmetrics)
{
    return openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                       : "text/plain; version=0.0.4; charset=utf-8";
}

bool
hlc_prom_wants_openmetrics(const char *accept)
{
    /* Prometheus lists OpenMetrics first with q=1 when it wants it; a
     * q=0 entry is a refusal. */
    const char *p = accept ? strstr(accept, "application/openmetrics-text") : NULL;
    if (!p)
        return false;
    const char *end = strchr(p, ',');
    const char *q = strstr(p, "q=0");
    return !(q && (!end || q < end) && !(q[3] == '.' && q[4] >= '1' && q[4] <= '9'));
}

/* ---- the scrape token ----------------------------------------------------- */

#define TOKEN_KEY "prometheus"

static bool
token_chars_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 16 || n > 256)
        return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._~+/=-", *p)))
            return false;
    return true;
}

bool
hlc_prom_token_valid(const char *token)
{
    return token && (!*token || token_chars_ok(token));
}

int
hlc_prom_token_set(struct hlc_store *s, const char *token)
{
    if (!hlc_prom_token_valid(token))
        return HLC_EINVAL;
    json_t *v;
    if (*token) {
        unsigned char h[32];
        char hex[65];
        crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        v = json_pack("{s:s}", "scrape_token_blake2b", hex);
    } else {
        v = json_object();
    }
    int rc = hlc_store_config_set(s, TOKEN_KEY, v);
    json_decref(v);
    return rc;
}

/* The stored hash, binary; false when none is set. */
static bool
token_hash(struct hlc_store *s, unsigned char h[32])
{
    json_t *v = NULL;
    if (hlc_store_config_get(s, TOKEN_KEY, &v) != 0)
        return false;
    const char *hex = json_string_value(json_object_get(v, "scrape_token_blake2b"));
    size_t n = 0;
    bool ok = hex && sodium_hex2bin(h, 32, hex, strlen(hex), NULL, &n, NULL) == 0 && n == 32;
    json_decref(v);
    return ok;
}

bool
hlc_prom_token_is_set(struct hlc_store *s)
{
    unsigned char h[32];
    return token_hash(s, h);
}

bool
hlc_prom_auth_ok(struct hlc_hub *hub, const char *x_api_key, const char *authorization)
{
    if (x_api_key)
        return hlc_hub_key_ok(hub, x_api_key);
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *cred = authorization + 7;
    while (*cred == ' ')
        cred++;
    if (hlc_hub_key_ok(hub, cred))
        return true;
    unsigned char want[32], got[32];
    if (!token_hash(hub->store, want))
        return false;
    crypto_generichash(got, sizeof(got), (const unsigned char *)cred, strlen(cred), NULL, 0);
    return sodium_memcmp(got, want, sizeof(got)) == 0;
}
