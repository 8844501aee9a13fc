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
    size_t len = (size_t)snprintf(buf, cap, "%zu of %zu item%s %s:", nbad,
                                  json_array_size(items), json_array_size(items) == 1 ? "" : "s",
                                  nbad == 1 ? "differs" : "differ");
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
                                 .apply_pack = p->name, /* the approve button applies it */
                                 .value = NAN, .threshold = NAN, .active = true};
    hlc_alerts_check(hub, &ac);
    free(severity);
}

static void
settle_one(struct hlc_hub *hub, const char *id)
{
    json_t *active = NULL, *eff = NULL;
    if (hlc_store_alerts_active(hub->store, id, &active) != 0 ||
        hlc_store_packs_effective(hub->store, id, &eff) != 0)
        goto out;
    size_t i;
    json_t *al;
    json_array_foreach(active, i, al)
    {
        const char *type = json_string_value(json_object_get(al, "type")) ?: "";
        const char *subject = json_string_value(json_object_get(al, "subject")) ?: "";
        if ((strcmp(type, "config_drift") != 0 && strcmp(type, "config_noncompliant") != 0) ||
            strncmp(subject, "pack:", 5) != 0)
            continue;
        bool still = false;
        size_t k;
        json_t *v;
        json_array_foreach(eff, k, v)
        {
            still |= strcmp(json_string_value(json_object_get(v, "name")), subject + 5) == 0;
        }
        if (still)
            continue;
        char message[160];
        snprintf(message, sizeof(message), "pack %s is no longer assigned to %s", subject + 5,
                 id);
        struct hlc_alert_check ac = {.server_id = id, .type = type, .severity = "medium",
                                     .subject = subject, .title = "", .message = message,
                                     .value = NAN, .threshold = NAN, .active = false};
        hlc_alerts_check(hub, &ac);
    }
out:
    json_decref(active);
    json_decref(eff);
}

void
hlc_drift_settle(struct hlc_hub *hub, const char *id)
{
    if (id) {
        settle_one(hub, id);
        return;
    }
    json_t *machines = NULL;
    if (hlc_store_machine_list(hub->store, &machines) != 0)
        return;
    size_t i;
    json_t *m;
    json_array_foreach(machines, i, m)
    {
        settle_one(hub, json_string_value(json_object_get(m, "server_id")));
    }
    json_decref(machines);
}

/* A round's work: the due machines (ids and their packs), taken in turn by
 * up to DRIFT_WORKERS threads, and what they found. */
#define DRIFT_WORKERS 4

struct round {
    struct hlc_hub *hub;
    json_t *todo;        /* [[id, effective]] */
    size_t next;         /* guarded by mu */
    pthread_mutex_t mu;  /* guards next and the counts */
    int checks, compliant, not_compliant, unreachable, errors;
};

/* Checks every assigned pack of machine id. */
static void
run_machine(struct round *rd, const char *id, json_t *eff)
{
    struct hlc_hub *hub = rd->hub;
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
    {
        if (hub->drift && hlc_loop_stopping(&hub->drift->loop))
            return;
        const char *name = json_string_value(json_object_get(v, "name"));
        struct hlc_pack *p = NULL;
        if (hlc_packs_resolve(hub, name, &p, NULL) != 0) {
            hlc_log(HLC_LOG_WARN, "drift: %s: pack %s cannot be resolved", id, name);
            pthread_mutex_lock(&rd->mu);
            rd->errors++;
            pthread_mutex_unlock(&rd->mu);
            continue;
        }
        json_t *res = NULL;
        int rc = hlc_packs_check(hub, id, p, &res);
        hlc_pack_free(p);
        bool ok = rc == 0 && json_is_true(json_object_get(res, "compliant"));
        json_decref(res);
        pthread_mutex_lock(&rd->mu);
        rd->checks++;
        if (rc != 0)
            rd->unreachable++;
        else if (ok)
            rd->compliant++;
        else
            rd->not_compliant++;
        pthread_mutex_unlock(&rd->mu);
        if (rc != 0)
            return; /* the machine is not answering: the next round tries again */
    }
    hlc_store_packs_drift_ran(hub->store, id, hlc_now());
}

static void *
round_worker(void *arg)
{
    struct round *rd = arg;
    for (;;) {
        pthread_mutex_lock(&rd->mu);
        size_t k = rd->next++;
        pthread_mutex_unlock(&rd->mu);
        json_t *job = json_array_get(rd->todo, k);
        if (!job)
            return NULL;
        run_machine(rd, json_string_value(json_array_get(job, 0)), json_array_get(job, 1));
    }
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
    int fleet_hours = (int)hlc_config_number(hub->store, "packs", "drift_interval_hours", 24);
    int64_t now = hlc_now();
    int skipped = 0;
    struct round rd = {.hub = hub, .todo = json_array()};
    pthread_mutex_init(&rd.mu, NULL);
    if (d)
        pthread_mutex_lock(&d->run_mu);
    size_t i;
    json_t *m;
    json_array_foreach(machines, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "server_id"));
        json_t *eff = NULL;
        if (hlc_store_packs_effective(hub->store, id, &eff) != 0 || json_array_size(eff) == 0) {
            json_decref(eff);
            continue;
        }
        /* Not known to be reachable now (a workstation asleep, a server
         * down): skipped, never flagged; checked once it answers again. */
        if (strcmp(json_string_value(json_object_get(m, "status")) ?: "", "offline") == 0) {
            skipped++;
            json_decref(eff);
            continue;
        }
        int hours = -1;
        int64_t last = 0;
        hlc_store_packs_drift_get(hub->store, id, &hours, &last);
        if (hours <= 0)
            hours = fleet_hours;
        if (all || last == 0 || now - last >= (int64_t)hours * 3600)
            json_array_append_new(rd.todo, json_pack("[s, o]", id, eff));
        else
            json_decref(eff);
    }
    size_t n = json_array_size(rd.todo);
    pthread_t th[DRIFT_WORKERS];
    size_t started = 0;
    for (; started < DRIFT_WORKERS && started + 1 < n; started++)
        if (pthread_create(&th[started], NULL, round_worker, &rd) != 0)
            break;
    round_worker(&rd); /* this thread works too */
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    if (d)
        pthread_mutex_unlock(&d->run_mu);
    *out = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "machines", (int)n, "checks",
                     rd.checks, "compliant", rd.compliant, "not_compliant", rd.not_compliant,
                     "unreachable", rd.unreachable, "skipped", skipped, "errors", rd.errors);
    pthread_mutex_destroy(&rd.mu);
    json_decref(rd.todo);
    json_decref(machines);
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
