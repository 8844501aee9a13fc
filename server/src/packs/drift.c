/* drift.c - judging stored checks of assigned packs and the drift schedule
 * (see drift.h). */
#include "drift.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "config.h"
#include "hlc/base.h"
#include "hlc/loop.h"
#include "hub.h"
#include "packs.h"
#include "store.h"

/* How often the scheduler looks for due machines. */
#define ROUND_MS (60 * 1000)

struct hlc_drift {
    struct hlc_loop loop;
    pthread_mutex_t run_mu; /* one round at a time */
};

static char *
drift_severity(struct hlc_hub *hub)
{
    json_t *sec = NULL;
    char *out = NULL;
    if (hlc_config_section(hub->store, "packs", &sec) == 0) {
        const char *v = json_string_value(json_object_get(sec, "drift_severity"));
        if (v)
            out = strdup(v);
    }
    json_decref(sec);
    return out ? out : strdup("medium");
}

bool
hlc_drift_assigned(struct hlc_hub *hub, const char *id, const char *name)
{
    json_t *eff = NULL;
    if (hlc_store_packs_effective(hub->store, id, &eff) != 0)
        return false;
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            found = true;
    }
    json_decref(eff);
    return found;
}

/* "N of M items differ: target (mismatch, ...), ..." cut to fit cap. */
static void
drifted_items(json_t *items, char *buf, size_t cap)
{
    size_t nbad = 0, i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "status")) ?: "", "pass") != 0)
            nbad++;
    }
    size_t len = (size_t)snprintf(buf, cap, "%zu of %zu items differ:", nbad,
                                  json_array_size(items));
    bool first = true;
    json_array_foreach(items, i, it)
    {
        const char *st = json_string_value(json_object_get(it, "status")) ?: "";
        if (strcmp(st, "pass") == 0 || len >= cap)
            continue;
        char what[128] = "";
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(it, "mismatch"), k, m)
        {
            size_t wl = strlen(what);
            snprintf(what + wl, sizeof(what) - wl, "%s%s", wl ? ", " : "", json_string_value(m));
        }
        int n = snprintf(buf + len, cap - len, "%s %s %s (%s)", first ? "" : ";",
                         json_string_value(json_object_get(it, "kind")),
                         json_string_value(json_object_get(it, "target")),
                         what[0] ? what : st);
        first = false;
        if (n < 0 || (size_t)n >= cap - len) {
            /* mark the cut */
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            len = cap;
        } else {
            len += (size_t)n;
        }
    }
}

void
hlc_drift_judge(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, bool compliant,
                json_t *items)
{
    bool ever = false;
    if (hlc_store_packs_state(hub->store, id, p->name, compliant, &ever) != 0)
        return;
    char subject[96];
    snprintf(subject, sizeof(subject), "pack:%s", p->name);
    char title[160], message[900];
    if (compliant) {
        snprintf(message, sizeof(message), "a check found %s compliant with pack %s", id,
                 p->name);
        static const char *const types[] = {"config_drift", "config_noncompliant"};
        for (int t = 0; t < 2; t++) {
            struct hlc_alert_check ac = {.server_id = id, .type = types[t], .severity = "medium",
                                         .subject = subject, .title = "", .message = message,
                                         .value = NAN, .threshold = NAN, .active = false};
            hlc_alerts_check(hub, &ac);
        }
        return;
    }
    if (!hlc_drift_assigned(hub, id, p->name))
        return;
    char *severity = drift_severity(hub);
    const char *type = ever ? "config_drift" : "config_noncompliant";
    if (ever)
        snprintf(title, sizeof(title), "Config drift: pack %s on %s", p->name, id);
    else
        snprintf(title, sizeof(title), "Not compliant: pack %s on %s (never was)", p->name, id);
    drifted_items(items, message, sizeof(message) - 80);
    size_t ml = strlen(message);
    snprintf(message + ml, sizeof(message) - ml, ". Diff: GET /api/v1/servers/%s/compliance", id);
    struct hlc_alert_check ac = {.server_id = id, .type = type, .severity = severity,
                                 .subject = subject, .title = title, .message = message,
                                 .value = NAN, .threshold = NAN, .active = true};
    hlc_alerts_check(hub, &ac);
    free(severity);
}

/* Checks every assigned pack of machine id; counts into the totals. */
static void
run_machine(struct hlc_hub *hub, const char *id, json_t *eff, json_t *totals)
{
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        struct hlc_pack *p = NULL;
        if (hlc_packs_resolve(hub, name, &p, NULL) != 0) {
            hlc_log(HLC_LOG_WARN, "drift: %s: pack %s cannot be resolved", id, name);
            json_object_set_new(totals, "errors",
                                json_integer(json_integer_value(json_object_get(totals, "errors")) + 1));
            continue;
        }
        json_t *res = NULL;
        int rc = hlc_packs_check(hub, id, p, &res);
        hlc_pack_free(p);
        const char *key = rc != 0                                        ? "unreachable"
                          : json_is_true(json_object_get(res, "compliant")) ? "compliant"
                                                                            : "not_compliant";
        json_decref(res);
        json_object_set_new(totals, key,
                            json_integer(json_integer_value(json_object_get(totals, key)) + 1));
        json_object_set_new(totals, "checks",
                            json_integer(json_integer_value(json_object_get(totals, "checks")) + 1));
        if (rc != 0)
            return; /* the machine is not answering: the next round tries again */
    }
    hlc_store_packs_drift_ran(hub->store, id, hlc_now());
}

int
hlc_drift_run(struct hlc_hub *hub, bool all, json_t **out)
{
    *out = NULL;
    struct hlc_drift *d = hub->drift;
    json_t *machines = NULL;
    int rc = hlc_store_machine_list(hub->store, &machines);
    if (rc != 0)
        return rc;
    json_t *totals = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "machines", 0, "checks", 0,
                               "compliant", 0, "not_compliant", 0, "unreachable", 0, "skipped",
                               0, "errors", 0);
    int fleet_hours = (int)hlc_config_number(hub->store, "packs", "drift_interval_hours", 24);
    int64_t now = hlc_now();
    if (d)
        pthread_mutex_lock(&d->run_mu);
    size_t i;
    json_t *m;
    json_array_foreach(machines, i, m)
    {
        if (d && hlc_loop_stopping(&d->loop))
            break;
        const char *id = json_string_value(json_object_get(m, "server_id"));
        json_t *eff = NULL;
        if (hlc_store_packs_effective(hub->store, id, &eff) != 0 || json_array_size(eff) == 0) {
            json_decref(eff);
            continue;
        }
        /* Not known to be reachable now (a workstation asleep, a server
         * down): skipped, never flagged; checked once it answers again. */
        if (strcmp(json_string_value(json_object_get(m, "status")) ?: "", "offline") == 0) {
            json_object_set_new(
                totals, "skipped",
                json_integer(json_integer_value(json_object_get(totals, "skipped")) + 1));
            json_decref(eff);
            continue;
        }
        int hours = -1;
        int64_t last = 0;
        hlc_store_packs_drift_get(hub->store, id, &hours, &last);
        if (hours <= 0)
            hours = fleet_hours;
        if (all || last == 0 || now - last >= (int64_t)hours * 3600) {
            json_object_set_new(
                totals, "machines",
                json_integer(json_integer_value(json_object_get(totals, "machines")) + 1));
            run_machine(hub, id, eff, totals);
        }
        json_decref(eff);
    }
    if (d)
        pthread_mutex_unlock(&d->run_mu);
    json_decref(machines);
    *out = totals;
    return 0;
}

static void *
drift_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_drift *d = hub->drift;
    while (!hlc_loop_stopping(&d->loop)) {
        hlc_loop_sleep(&d->loop, ROUND_MS);
        if (hlc_loop_stopping(&d->loop))
            break;
        json_t *out = NULL;
        if (hlc_drift_run(hub, false, &out) == 0 &&
            json_integer_value(json_object_get(out, "checks")) > 0)
            hlc_log(HLC_LOG_INFO, "drift: checked %lld packs on %lld machines",
                    (long long)json_integer_value(json_object_get(out, "checks")),
                    (long long)json_integer_value(json_object_get(out, "machines")));
        json_decref(out);
    }
    return NULL;
}

int
hlc_drift_start(struct hlc_hub *hub)
{
    struct hlc_drift *d = calloc(1, sizeof(*d));
    if (!d)
        return HLC_ENOMEM;
    pthread_mutex_init(&d->run_mu, NULL);
    hub->drift = d;
    int rc = hlc_loop_start(&d->loop, drift_main, hub);
    if (rc != 0) {
        pthread_mutex_destroy(&d->run_mu);
        free(d);
        hub->drift = NULL;
    }
    return rc;
}

void
hlc_drift_stop(struct hlc_hub *hub)
{
    struct hlc_drift *d = hub->drift;
    if (!d)
        return;
    hlc_loop_stop(&d->loop);
    pthread_mutex_destroy(&d->run_mu);
    free(d);
    hub->drift = NULL;
}
