/* alerts.c - conditions from samples, the alert lifecycle, the offline sweep.
 * Notifications are written here as outbox rows; notifier/ delivers them. */
#include "alerts.h"

#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "bus.h"
#include "config.h"
#include "hlc/base.h"
#include "hlc/loop.h"
#include "hlc/sample.h"
#include "hub.h"
#include "notifier.h"
#include "store.h"

#define SWEEP_PERIOD_MS 5000
#define PRUNE_PERIOD_MS (6 * 3600 * 1000LL)
#define RESOLVED_KEEP_DAYS 90 /* TRD §5 retention of resolved alerts */
#define OUTBOX_KEEP_DAYS 30
#define MAX_CONDS 512
#define STREAKS_MAX 8192

/* A machine's run of samples over the CPU thresholds, and whether it was
 * known to have no active alert as of an alerts generation of the store. */
struct streak {
    char id[64];
    int warn, crit;
    bool quiet;
    unsigned long long quiet_gen;
};

struct hlc_alerts {
    struct hlc_loop loop; /* the sweep */
    pthread_mutex_t mu;   /* guards the streaks and the cached thresholds */

    struct streak *streaks;
    size_t nstreaks;

    unsigned cfg_version; /* hlc_config_version() the thresholds were read at */
    bool cfg_loaded;
    struct thresholds {
        double disk_w, disk_c, mem_w, mem_c, cpu_w, cpu_c;
        int cpu_n;
    } thr;
    json_t *overrides; /* per machine: {server_id: {thresholds key: number}} */
};

/* One condition a sample shows. */
struct cond {
    const char *type;
    const char *severity;
    char subject[256];
    char title[300];
    char message[700];
    double value, threshold;
    bool restart; /* a critical service: queue restart_service */
    char pack[128]; /* a drifted config pack: offer its apply_pack action */
    char unit[128]; /* the unit to restart when not the subject (a check's service) */
};

/* ---- helpers ----------------------------------------------------------- */

static void
human_bytes(uint64_t b, char out[static 24])
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1000.0 && u < 5) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, 24, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static const char *
severity_switch(const char *sev)
{
    if (strcmp(sev, "critical") == 0)
        return "notify_on_critical";
    if (strcmp(sev, "high") == 0)
        return "notify_on_high";
    if (strcmp(sev, "medium") == 0)
        return "notify_on_medium";
    return "notify_on_low";
}

static bool
switch_on(json_t *ncfg, const char *key)
{
    return json_is_true(json_object_get(ncfg, key));
}

/* The event object of a raised or resolved alert (new reference). */
static json_t *
alert_event(const char *kind, const struct cond *c, const char *alert_id, const char *server_id,
            const char *server_name, int64_t now)
{
    char iso[32];
    hlc_time_iso(now, iso);
    json_t *fields = json_array();
    if (c->subject[0] && strcmp(c->type, "server_offline") != 0)
        json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Subject", "value",
                                                c->subject));
    if (isfinite(c->threshold) && isfinite(c->value)) {
        char v[32], t[32];
        snprintf(v, sizeof(v), "%.1f", c->value);
        snprintf(t, sizeof(t), "%.0f", c->threshold);
        json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Value", "value", v));
        json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Threshold", "value", t));
    }
    json_array_append_new(fields, json_pack("{s:s, s:s}", "title", "Time", "value", iso));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:s, s:s, s:o}", "kind", kind,
                     "severity", c->severity, "type", c->type, "title", c->title, "message",
                     c->message, "server_id", server_id, "time", (json_int_t)now, "alert_id",
                     alert_id, "server_name", server_name, "fields", fields);
}

/* ---- thresholds and streaks ------------------------------------------- */

/* Sets the thresholds `t` holds ({key: number}; keys it lacks stay). */
static void
thresholds_from(struct thresholds *th, json_t *t)
{
    const struct {
        const char *key;
        double *to;
    } map[] = {
        {"disk_warning_percent", &th->disk_w},   {"disk_critical_percent", &th->disk_c},
        {"memory_warning_percent", &th->mem_w},  {"memory_critical_percent", &th->mem_c},
        {"cpu_warning_percent", &th->cpu_w},     {"cpu_critical_percent", &th->cpu_c},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        json_t *v = json_object_get(t, map[i].key);
        if (json_is_number(v))
            *map[i].to = json_number_value(v);
    }
    json_t *n = json_object_get(t, "cpu_sustained_samples");
    if (json_is_integer(n))
        th->cpu_n = json_integer_value(n) < 1 ? 1 : (int)json_integer_value(n);
}

/* The global thresholds and every machine's overrides, re-read when the
 * configuration changed (under a->mu). */
static void
load_thresholds(struct hlc_hub *hub, struct hlc_alerts *a)
{
    unsigned v = hlc_config_version();
    if (a->cfg_loaded && v == a->cfg_version)
        return;
    json_t *t = NULL, *ov = NULL;
    if (hlc_config_section(hub->store, "thresholds", &t) != 0)
        return;
    if (hlc_store_thresholds_overrides_all(hub->store, &ov) != 0) {
        json_decref(t);
        return;
    }
    a->thr.cpu_n = 1;
    thresholds_from(&a->thr, t);
    json_decref(t);
    json_decref(a->overrides);
    a->overrides = ov;
    a->cfg_version = v;
    a->cfg_loaded = true;
}

/* The machine's CPU streak after this sample (under a->mu). */
static struct streak *
streak_of(struct hlc_alerts *a, const char *id)
{
    for (size_t i = 0; i < a->nstreaks; i++)
        if (strcmp(a->streaks[i].id, id) == 0)
            return &a->streaks[i];
    if (a->nstreaks == STREAKS_MAX)
        return NULL;
    a->streaks = hlc_xrealloc(a->streaks, (a->nstreaks + 1) * sizeof(*a->streaks));
    struct streak *s = &a->streaks[a->nstreaks++];
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    return s;
}

/* With set: records that the machine had no active alert as of alerts
 * generation gen. Without: whether that is still known at gen. */
static bool
quiet_as_of(struct hlc_alerts *a, const char *id, unsigned long long gen, bool set)
{
    pthread_mutex_lock(&a->mu);
    struct streak *sk = streak_of(a, id);
    bool known = false;
    if (sk && set) {
        sk->quiet = true;
        sk->quiet_gen = gen;
    } else if (sk) {
        known = sk->quiet && sk->quiet_gen == gen;
    }
    pthread_mutex_unlock(&a->mu);
    return known;
}

/* ---- conditions ---------------------------------------------------------- */

/* The conditions found so far: grown on demand (most samples have none). */
struct conds {
    struct cond *v;
    size_t n, cap;
};

static struct cond *
add(struct conds *cs, const char *type, const char *sev, const char *subject)
{
    if (cs->n == MAX_CONDS)
        return NULL;
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 4;
        cs->v = hlc_xrealloc(cs->v, cs->cap * sizeof(*cs->v));
    }
    struct cond *c = &cs->v[cs->n++];
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->severity = sev;
    c->value = c->threshold = NAN;
    snprintf(c->subject, sizeof(c->subject), "%s", subject ? subject : "");
    return c;
}

/* Is a container down? dead or restarting, or exited with a non-zero code
 * ("Exited (137) 2 hours ago"); a clean exit (0) is a finished job. */
static bool
container_down(const struct hlc_container *k, int *code)
{
    *code = -1;
    if (strcmp(k->state, "dead") == 0 || strcmp(k->state, "restarting") == 0)
        return true;
    if (strcmp(k->state, "exited") != 0)
        return false;
    const char *p = strchr(k->status, '(');
    if (p && sscanf(p + 1, "%d", code) == 1)
        return *code != 0;
    return false;
}

/* Conditions of a sample; *evaluated gets the alert types this sample can
 * clear (their sections are present). */
static void
conditions(struct hlc_hub *hub, struct hlc_alerts *al, const char *id,
           const struct hlc_sample *s, struct conds *cs, unsigned *evaluated)
{
    pthread_mutex_lock(&al->mu);
    load_thresholds(hub, al);
    struct thresholds th = al->thr;
    thresholds_from(&th, json_object_get(al->overrides, id)); /* this machine's own */
    const struct thresholds *a = &th;
    pthread_mutex_unlock(&al->mu);
    struct cond *c;
    char used[24], total[24];
    *evaluated = 0;
    if (s->have & HLC_HAVE_FS) {
        *evaluated |= HLC_HAVE_FS;
        for (size_t i = 0; i < s->nfs; i++) {
            const struct hlc_fs *f = &s->fs[i];
            double pct = hlc_fs_used_percent(f);
            bool crit = pct >= a->disk_c;
            if (!crit && pct < a->disk_w)
                continue;
            if (!(c = add(cs, crit ? "disk_critical" : "disk_warning", crit ? "high" : "medium",
                          f->mount)))
                break;
            human_bytes(f->used_bytes, used);
            human_bytes(f->used_bytes + f->avail_bytes, total);
            c->value = round(pct * 10) / 10;
            c->threshold = crit ? a->disk_c : a->disk_w;
            snprintf(c->title, sizeof(c->title), "%s on %.200s",
                     crit ? "Disk almost full" : "Disk usage high", f->mount);
            snprintf(c->message, sizeof(c->message),
                     "%.200s is %.1f%% full (%s of %s used); threshold %.0f%%. Consider clearing "
                     "old files or expanding storage.",
                     f->mount, pct, used, total, c->threshold);
        }
    }
    if (s->have & HLC_HAVE_MEMORY && s->mem_total > 0) {
        *evaluated |= HLC_HAVE_MEMORY;
        double pct = hlc_sample_mem_percent(s);
        bool crit = pct >= a->mem_c;
        if ((crit || pct >= a->mem_w) &&
            (c = add(cs, crit ? "memory_critical" : "memory_warning", crit ? "high" : "medium",
                     NULL))) {
            human_bytes(s->mem_total - s->mem_available, used);
            human_bytes(s->mem_total, total);
            c->value = round(pct * 10) / 10;
            c->threshold = crit ? a->mem_c : a->mem_w;
            snprintf(c->title, sizeof(c->title), "%s", crit ? "Memory almost exhausted"
                                                            : "Memory usage high");
            snprintf(c->message, sizeof(c->message),
                     "Memory is %.1f%% used (%s of %s); threshold %.0f%%.", pct, used, total,
                     c->threshold);
        }
    }
    if (s->have & HLC_HAVE_CPU_PERCENT) {
        *evaluated |= HLC_HAVE_CPU_PERCENT;
        pthread_mutex_lock(&al->mu);
        struct streak *sk = streak_of(al, id), st = {{0}, 0, 0, false, 0};
        if (sk) {
            sk->warn = s->cpu_percent >= a->cpu_w ? sk->warn + 1 : 0;
            sk->crit = s->cpu_percent >= a->cpu_c ? sk->crit + 1 : 0;
            st = *sk;
        }
        pthread_mutex_unlock(&al->mu);
        if (sk) {
            bool crit = st.crit >= a->cpu_n;
            if ((crit || st.warn >= a->cpu_n) &&
                (c = add(cs, crit ? "cpu_critical" : "cpu_warning", crit ? "high" : "medium",
                         NULL))) {
                c->value = round(s->cpu_percent * 10) / 10;
                c->threshold = crit ? a->cpu_c : a->cpu_w;
                snprintf(c->title, sizeof(c->title), "CPU usage %s", crit ? "critical" : "high");
                snprintf(c->message, sizeof(c->message),
                         "CPU has been at or above %.0f%% for %d samples in a row (now %.1f%%).",
                         c->threshold, crit ? st.crit : st.warn, s->cpu_percent);
            }
        }
    }
    if (s->have & HLC_HAVE_SERVICES) {
        *evaluated |= HLC_HAVE_SERVICES;
        json_t *expected = NULL;
        for (size_t i = 0; i < s->nservices; i++) {
            const struct hlc_service *sv = &s->services[i];
            const char *st = hlc_sample_service_status(sv);
            if (strcmp(st, "stopped") != 0 && strcmp(st, "failed") != 0)
                continue;
            if (!expected && hlc_store_services_get(hub->store, id, &expected) != 0)
                expected = json_array();
            bool critical = false;
            size_t j;
            json_t *e;
            json_array_foreach(expected, j, e)
            {
                if (strcmp(json_string_value(json_object_get(e, "name")) ?: "", sv->name) == 0)
                    critical = json_is_true(json_object_get(e, "critical"));
            }
            if (!(c = add(cs, "service_down", critical ? "high" : "medium", sv->name)))
                break;
            c->restart = critical;
            snprintf(c->title, sizeof(c->title), "Service %s: %.128s",
                     strcmp(st, "failed") == 0 ? "failed" : "stopped", sv->name);
            snprintf(c->message, sizeof(c->message), "%.128s is %s (%.32s/%.32s)%s%s.", sv->name,
                     st, sv->active_state, sv->sub_state,
                     strcmp(sv->load_state, "not-found") == 0 ? ", the unit is not installed" : "",
                     critical ? "; it is a critical service" : "");
        }
        json_decref(expected);
    }
    if (s->have & HLC_HAVE_CONTAINERS) {
        *evaluated |= HLC_HAVE_CONTAINERS;
        for (size_t i = 0; i < s->ncontainers; i++) {
            const struct hlc_container *k = &s->containers[i];
            int code;
            if (!container_down(k, &code) || !(c = add(cs, "container_down", "medium", k->name)))
                continue;
            if (code >= 0)
                c->value = code;
            snprintf(c->title, sizeof(c->title), "Container down: %.128s", k->name);
            snprintf(c->message, sizeof(c->message), "Container %.128s (%.200s) is %.32s: %.128s.",
                     k->name, k->image, k->state, k->status);
        }
    }
    if (s->have & HLC_HAVE_UPDATES) {
        *evaluated |= HLC_HAVE_UPDATES;
        if (s->updates_pending > 0 && (c = add(cs, "update_available", "low", NULL))) {
            c->value = s->updates_pending;
            snprintf(c->title, sizeof(c->title), "%d update%s available", s->updates_pending,
                     s->updates_pending == 1 ? "" : "s");
            snprintf(c->message, sizeof(c->message),
                     "%d package%s can be upgraded (%d from security sources).",
                     s->updates_pending, s->updates_pending == 1 ? "" : "s", s->updates_security);
        }
        if (s->updates_security > 0 && (c = add(cs, "security_updates", "medium", NULL))) {
            c->value = s->updates_security;
            snprintf(c->title, sizeof(c->title), "%d security update%s available",
                     s->updates_security, s->updates_security == 1 ? "" : "s");
            snprintf(c->message, sizeof(c->message),
                     "%d package%s with security fixes can be upgraded.", s->updates_security,
                     s->updates_security == 1 ? "" : "s");
        }
    }
    if (s->have & HLC_HAVE_REBOOT) {
        *evaluated |= HLC_HAVE_REBOOT;
        if (s->reboot_required && (c = add(cs, "reboot_required", "low", NULL))) {
            snprintf(c->title, sizeof(c->title), "Reboot required");
            snprintf(c->message, sizeof(c->message),
                     "The machine asks for a reboot to finish installing updates.");
        }
    }
}

/* May this sample clear an active alert of `type`? */
static bool
clears(const char *type, unsigned evaluated, const char *source)
{
    static const struct {
        const char *prefix;
        unsigned need;
    } map[] = {
        {"disk_", HLC_HAVE_FS},          {"memory_", HLC_HAVE_MEMORY},
        {"cpu_", HLC_HAVE_CPU_PERCENT},  {"service_down", HLC_HAVE_SERVICES},
        {"container_down", HLC_HAVE_CONTAINERS}, {"update_available", HLC_HAVE_UPDATES},
        {"security_updates", HLC_HAVE_UPDATES},  {"reboot_required", HLC_HAVE_REBOOT},
    };
    if (strcmp(type, "server_offline") == 0)
        return true; /* any sample is a contact */
    if (strcmp(type, "host_key_changed") == 0)
        return strcmp(source, "ssh") == 0; /* SSH works again: the key was accepted */
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strncmp(type, map[i].prefix, strlen(map[i].prefix)) == 0)
            return (evaluated & map[i].need) != 0;
    return false;
}

/* ---- applying changes --------------------------------------------------- */

/* Does a mute rule silence alerts of `type` on server_id now? An alert
 * (`al`, may be NULL) raised under one stays silent to its resolution: a
 * "resolved" message about an alert never announced would only confuse. */
static bool
muted(struct hlc_hub *hub, const char *server_id, const char *type, json_t *al, int64_t now)
{
    bool m = false;
    if (json_is_true(json_object_get(al, "muted")))
        return true;
    if (type && hlc_store_mute_match(hub->store, server_id, type, now, &m) != 0)
        m = false; /* the store logged it; a message too many beats a lost one */
    return m;
}

/* Outbox rows for one event: one per configured channel when the severity's
 * switch is on. payloads[] keeps the text alive until the rows are stored. */
struct pending {
    struct hlc_alert_change *ch;
    size_t n, cap;
    struct hlc_outbox_row *rows; /* nchan per change */
    char **payloads;
    struct cond *conds;          /* raised: the condition (copy) */
};

static void
notify_rows(struct hlc_alert_change *ch, struct hlc_outbox_row *rows, char **payload_slot,
            json_t *event, const char *kind, const char *const *chans, size_t nchan)
{
    *payload_slot = json_dumps(event, JSON_COMPACT);
    ch->rows = rows;
    ch->nrows = *payload_slot ? nchan : 0;
    for (size_t k = 0; k < ch->nrows; k++)
        rows[k] = (struct hlc_outbox_row){
            .channel = chans[k], .kind = kind, .alert_id = ch->alert_id, .payload = *payload_slot};
}

/* Raises `raise` and resolves `resolve` (alert objects from the store) for
 * server_id in one transaction with their notifications; then tells the bus
 * what changed (alert_raised / alert_resolved with `evflags`: the actions
 * service queues the remediation of critical services from it, the notifier
 * wakes its sender). Whether any alert was raised or resolved. */
static bool
apply(struct hlc_hub *hub, const char *server_id, struct cond *raise, size_t nraise,
      json_t *resolve, const char *reason, unsigned evflags)
{
    size_t nres = json_array_size(resolve), n = nraise + nres;
    if (n == 0)
        return false;
    int64_t now = hlc_now();
    json_t *ncfg = NULL;
    if (hlc_config_section(hub->store, "notifications", &ncfg) != 0)
        ncfg = json_object();
    const char *chans[HLC_NOTIFY_NCHANNELS];
    size_t nchan = hlc_notifier_channels(hub, chans);
    char name[200];
    hlc_notifier_machine_name(hub, server_id, name);

    struct hlc_alert_change *ch = hlc_xcalloc(n, sizeof(*ch));
    struct hlc_outbox_row *rows = hlc_xcalloc(n * (nchan ? nchan : 1), sizeof(*rows));
    char **payloads = hlc_xcalloc(n, sizeof(*payloads));
    for (size_t i = 0; i < nraise; i++) {
        struct cond *c = &raise[i];
        hlc_uuid4(ch[i].alert_id);
        ch[i].server_id = server_id;
        ch[i].severity = c->severity;
        ch[i].type = c->type;
        ch[i].subject = c->subject;
        ch[i].title = c->title;
        ch[i].message = c->message;
        ch[i].metric_value = c->value;
        ch[i].threshold_value = c->threshold;
        ch[i].muted = muted(hub, server_id, c->type, NULL, now);
        if (nchan && !ch[i].muted && switch_on(ncfg, severity_switch(c->severity))) {
            json_t *ev = alert_event("alert_raised", c, ch[i].alert_id, server_id, name, now);
            notify_rows(&ch[i], rows + i * nchan, &payloads[i], ev, "alert_raised", chans, nchan);
            json_decref(ev);
        }
    }
    for (size_t j = 0; j < nres; j++) {
        json_t *al = json_array_get(resolve, j);
        struct hlc_alert_change *x = &ch[nraise + j];
        x->resolve = true;
        snprintf(x->alert_id, sizeof(x->alert_id), "%s",
                 json_string_value(json_object_get(al, "alert_id")));
        const char *sev = json_string_value(json_object_get(al, "severity"));
        if (nchan && sev && switch_on(ncfg, severity_switch(sev)) &&
            !muted(hub, server_id, json_string_value(json_object_get(al, "type")), al, now)) {
            struct cond c;
            memset(&c, 0, sizeof(c));
            c.type = json_string_value(json_object_get(al, "type"));
            c.severity = sev;
            c.value = c.threshold = NAN;
            snprintf(c.subject, sizeof(c.subject), "%s",
                     json_string_value(json_object_get(al, "subject")) ?: "");
            snprintf(c.title, sizeof(c.title), "%s", json_string_value(json_object_get(al, "title")) ?: c.type);
            snprintf(c.message, sizeof(c.message), "%s", reason);
            json_t *ev = alert_event("alert_resolved", &c, x->alert_id, server_id, name, now);
            notify_rows(x, rows + (nraise + j) * nchan, &payloads[nraise + j], ev,
                        "alert_resolved", chans, nchan);
            json_decref(ev);
        }
    }
    int rc = hlc_store_alerts_apply(hub->store, ch, n, now);
    bool changed = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!ch[i].applied)
            continue;
        changed = true;
        if (i < nraise)
            hlc_log(HLC_LOG_INFO, "alerts: %s %s raised on %s (%s)%s", raise[i].severity,
                    raise[i].type, server_id ? server_id : "the hub", raise[i].subject,
                    ch[i].muted ? ", muted: no message" : "");
    }
    if (rc != 0)
        hlc_log(HLC_LOG_ERROR, "alerts: could not record alerts of %s",
                server_id ? server_id : "the hub");
    /* On the bus the actions service (subscribed before the notifier) records
     * a remediation on the alert inline, so the sender, woken after it, tells
     * it in the same message. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!ch[i].applied)
            continue;
        struct hlc_event ev = {.server_id = server_id, .alert_id = ch[i].alert_id,
                               .flags = evflags};
        if (i < nraise) {
            ev.kind = HLC_EV_ALERT_RAISED;
            ev.type = raise[i].type;
            ev.subject = raise[i].subject;
            ev.severity = raise[i].severity;
            if (raise[i].restart) {
                ev.flags |= HLC_EVF_WANTS_RESTART;
                ev.unit = raise[i].unit[0] ? raise[i].unit : raise[i].subject;
            }
            if (raise[i].pack[0]) {
                ev.flags |= HLC_EVF_WANTS_APPLY;
                ev.pack = raise[i].pack;
            }
        } else {
            json_t *al = json_array_get(resolve, i - nraise);
            ev.kind = HLC_EV_ALERT_RESOLVED;
            ev.type = json_string_value(json_object_get(al, "type"));
            ev.subject = json_string_value(json_object_get(al, "subject"));
            ev.severity = json_string_value(json_object_get(al, "severity"));
        }
        hlc_bus_publish(hub->bus, &ev);
    }
    for (size_t i = 0; i < n; i++)
        free(payloads[i]);
    free(payloads);
    free(rows);
    free(ch);
    json_decref(ncfg);
    return changed;
}

void
hlc_alerts_evaluate(struct hlc_hub *hub, const char *server_id, const struct hlc_sample *s,
                    const char *source)
{
    struct hlc_alerts *a = hub->alerts;
    if (!a)
        return;
    struct conds found = {NULL, 0, 0};
    unsigned evaluated;
    conditions(hub, a, server_id, s, &found, &evaluated);
    struct cond *cs = found.v;
    size_t n = found.n;

    /* The common case, a healthy machine with no active alert: nothing to
     * read while no alert has been raised anywhere since it was last seen
     * so (only a raised alert makes one active). */
    unsigned long long gen = hlc_store_alerts_generation(hub->store);
    if (n == 0 && quiet_as_of(a, server_id, gen, false)) {
        free(cs);
        return;
    }
    json_t *active = NULL;
    if (hlc_store_alerts_active(hub->store, server_id, &active) != 0) {
        free(cs);
        return;
    }
    if (n == 0 && json_array_size(active) == 0)
        quiet_as_of(a, server_id, gen, true);
    /* Resolve what is active and no longer true... */
    json_t *resolve = json_array();
    size_t j;
    json_t *al;
    json_array_foreach(active, j, al)
    {
        const char *type = json_string_value(json_object_get(al, "type"));
        const char *subject = json_string_value(json_object_get(al, "subject"));
        if (!type || !subject || !clears(type, evaluated, source))
            continue;
        bool still = false;
        for (size_t i = 0; i < n && !still; i++)
            still = strcmp(cs[i].type, type) == 0 && strcmp(cs[i].subject, subject) == 0;
        if (!still)
            json_array_append(resolve, al);
    }
    /* ...and raise what is not active yet (compacting cs in place). */
    size_t nraise = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_active = false;
        json_array_foreach(active, j, al)
        {
            const char *type = json_string_value(json_object_get(al, "type"));
            const char *subject = json_string_value(json_object_get(al, "subject"));
            is_active |= type && subject && strcmp(type, cs[i].type) == 0 &&
                         strcmp(subject, cs[i].subject) == 0;
        }
        if (!is_active) {
            if (nraise != i)
                cs[nraise] = cs[i];
            nraise++;
        }
    }
    apply(hub, server_id, cs, nraise, resolve, "The condition cleared.", HLC_EVF_FROM_SAMPLE);
    json_decref(resolve);
    json_decref(active);
    free(cs);
}

/* Raises one alert that no sample comes with (host key refused, machine
 * silent); its alert_raised event carries no HLC_EVF_FROM_SAMPLE, so open
 * dashboards hear of it at once (no sample_stored event will tell them). */
static void
raise_alone(struct hlc_hub *hub, const char *server_id, struct cond *c)
{
    json_t *none = json_array();
    apply(hub, server_id, c, 1, none, "", 0);
    json_decref(none);
}

void
hlc_alerts_host_key_changed(struct hlc_hub *hub, const char *server_id, const char *fingerprint)
{
    if (!hub->alerts)
        return;
    json_t *active = NULL;
    if (hlc_store_alerts_active(hub->store, server_id, &active) != 0)
        return;
    size_t i;
    json_t *al;
    bool have = false;
    json_array_foreach(active, i, al)
    {
        have |= strcmp(json_string_value(json_object_get(al, "type")) ?: "", "host_key_changed") == 0;
    }
    json_decref(active);
    if (have)
        return;
    struct cond c;
    memset(&c, 0, sizeof(c));
    c.type = "host_key_changed";
    c.severity = "critical";
    c.value = c.threshold = NAN;
    snprintf(c.title, sizeof(c.title), "SSH host key changed");
    snprintf(c.message, sizeof(c.message),
             "The machine presented a different SSH host key (%.100s). The hub refuses to "
             "connect and runs nothing until an operator accepts the new key; if nobody "
             "reinstalled the machine, treat this as a possible attack.",
             fingerprint ? fingerprint : "unknown");
    raise_alone(hub, server_id, &c);
}

void
hlc_alerts_on_event(void *ud, const struct hlc_event *ev)
{
    struct hlc_hub *hub = ud;
    if (ev->kind == HLC_EV_SAMPLE_STORED && ev->sample && ev->server_id && ev->source)
        hlc_alerts_evaluate(hub, ev->server_id, ev->sample, ev->source);
    else if (ev->kind == HLC_EV_HOST_KEY_CHANGED && ev->server_id)
        hlc_alerts_host_key_changed(hub, ev->server_id, ev->subject);
}

/* ---- service checks --------------------------------------------------------- */

bool
hlc_alerts_check(struct hlc_hub *hub, const struct hlc_alert_check *ac)
{
    if (!hub->alerts)
        return false;
    json_t *active = NULL;
    if (hlc_store_alerts_active(hub->store, ac->server_id, &active) != 0)
        return false;
    bool changed = false;
    json_t *resolve = json_array(), *al;
    size_t i;
    bool have = false;
    json_array_foreach(active, i, al)
    {
        if (strcmp(json_string_value(json_object_get(al, "type")) ?: "", ac->type) != 0 ||
            strcmp(json_string_value(json_object_get(al, "subject")) ?: "", ac->subject) != 0)
            continue;
        have = true;
        if (!ac->active)
            json_array_append(resolve, al);
    }
    if (ac->active && !have) {
        struct cond c;
        memset(&c, 0, sizeof(c));
        c.type = ac->type;
        c.severity = ac->severity;
        c.value = ac->value;
        c.threshold = ac->threshold;
        snprintf(c.subject, sizeof(c.subject), "%s", ac->subject);
        snprintf(c.title, sizeof(c.title), "%s", ac->title);
        snprintf(c.message, sizeof(c.message), "%s", ac->message);
        if (ac->service && ac->server_id) {
            c.restart = true;
            snprintf(c.unit, sizeof(c.unit), "%s", ac->service);
        }
        if (ac->apply_pack && ac->server_id)
            snprintf(c.pack, sizeof(c.pack), "%s", ac->apply_pack);
        json_t *none = json_array();
        changed = apply(hub, ac->server_id, &c, 1, none, "", 0);
        json_decref(none);
    } else if (json_array_size(resolve)) {
        changed = apply(hub, ac->server_id, NULL, 0, resolve, ac->message, 0);
    }
    json_decref(resolve);
    json_decref(active);
    return changed;
}

bool
hlc_alerts_condition(struct hlc_hub *hub, const char *server_id, const char *type,
                     const char *severity, const char *title, const char *message, bool active)
{
    struct hlc_alert_check ac = {.server_id = server_id, .type = type, .severity = severity,
                                 .subject = "", .title = title, .message = message,
                                 .value = NAN, .threshold = NAN, .active = active};
    return hlc_alerts_check(hub, &ac);
}

/* ---- offline sweep ------------------------------------------------------- */

static void
sweep_offline(struct hlc_hub *hub)
{
    json_t *cands = NULL;
    if (hlc_store_alerts_offline_candidates(hub->store, &cands) != 0)
        return;
    size_t i;
    json_t *m;
    json_array_foreach(cands, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "server_id"));
        const char *seen = json_string_value(json_object_get(m, "last_seen"));
        const char *err = json_string_value(json_object_get(m, "last_error"));
        struct cond c;
        memset(&c, 0, sizeof(c));
        c.type = "server_offline";
        c.severity = "critical";
        c.value = c.threshold = NAN;
        snprintf(c.title, sizeof(c.title), "Server offline");
        snprintf(c.message, sizeof(c.message),
                 "No contact since %.40s.%s%.300s Possible causes: the machine is powered off or "
                 "crashed, the network is down, or SSH is not answering.",
                 seen ? seen : "it was added", err ? " Last error: " : "", err ? err : "");
        raise_alone(hub, id, &c);
    }
    json_decref(cands);
}

/* ---- the sweep ------------------------------------------------------------ */

/* The engine's own thread: the offline sweep every SWEEP_PERIOD_MS and the
 * retention prune of resolved alerts, delivered notifications and expired
 * mute rules. */
static void *
sweep_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_alerts *a = hub->alerts;
    int64_t next_prune = hlc_mono_ms() + 60000;
    while (!hlc_loop_stopping(&a->loop)) {
        int64_t mono = hlc_mono_ms();
        sweep_offline(hub);
        if (mono >= next_prune) {
            int deleted = 0;
            int64_t now = hlc_now();
            hlc_store_alerts_prune(hub->store, now - RESOLVED_KEEP_DAYS * 86400LL,
                                   now - OUTBOX_KEEP_DAYS * 86400LL, &deleted);
            hlc_store_mutes_prune(hub->store, now - 86400); /* expired: listed nowhere */
            next_prune = mono + PRUNE_PERIOD_MS;
        }
        hlc_loop_sleep(&a->loop, SWEEP_PERIOD_MS);
    }
    return NULL;
}

int
hlc_alerts_start(struct hlc_hub *hub)
{
    struct hlc_alerts *a = hlc_xcalloc(1, sizeof(*a));
    pthread_mutex_init(&a->mu, NULL);
    hub->alerts = a;
    if (hlc_loop_start(&a->loop, sweep_main, hub) != 0) {
        hlc_log(HLC_LOG_ERROR, "alerts: could not start the sweep thread");
        hlc_alerts_stop(hub);
        return HLC_EIO;
    }
    return 0;
}

void
hlc_alerts_stop(struct hlc_hub *hub)
{
    struct hlc_alerts *a = hub->alerts;
    if (!a)
        return;
    hlc_loop_stop(&a->loop);
    hub->alerts = NULL;
    pthread_mutex_destroy(&a->mu);
    free(a->streaks);
    json_decref(a->overrides);
    free(a);
}

