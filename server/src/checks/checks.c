/* checks.c - the checks service: a scheduler thread that hands due
 * (check, place) jobs to a few worker threads, each run recorded and
 * judged, and the one place check alerts are raised and resolved. */
#include "checks.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "hlc/base.h"
#include "hub.h"
#include "remote.h"
#include "store.h"

#define WORKERS 8
#define PRUNE_PERIOD_MS (3600 * 1000LL)
#define RESULTS_KEEP_DAYS 30 /* as metric samples */
#define HOURLY_KEEP_DAYS 365 /* as metric rollups */
#define PRUNE_BATCH 5000
#define SSH_MARGIN_MS 5000   /* the probe's own timeout plus the session's work */

/* One check at one place. Heap, so a reload never moves a job a worker holds. */
struct job {
    int64_t id;
    char place[64];   /* "hub" or a server_id */
    int interval_ms;
    int64_t next_ms;  /* monotonic */
    bool queued, running;
    bool dead;        /* dropped by a reload while running: the worker frees it */
    bool synced;      /* its alerts were reconciled since the hub started */
    json_t *def;      /* the check as stored (own reference) */
};

struct hlc_checks {
    pthread_t sched, workers[WORKERS];
    int nworkers;
    bool sched_started;
    pthread_mutex_t mu;
    pthread_cond_t sched_cv, work_cv;
    bool stop;
    struct job **jobs;
    size_t njobs;
    size_t nqueued;
    _Atomic unsigned long long want_gen; /* bumped by hlc_checks_changed */
    unsigned long long have_gen;
    int64_t next_prune_ms;
    struct hlc_hub *hub;
};

static void
job_free(struct job *j)
{
    if (j) {
        json_decref(j->def);
        free(j);
    }
}

/* ---- alerts (the only calls into the alert engine) ------------------- */

/* Where a check's alert at `place` belongs: the machine it is tied to, else
 * the machine it ran from, else none (the hub). */
static const char *
alert_machine(json_t *def, const char *place)
{
    const char *tie = json_string_value(json_object_get(def, "server_id"));
    if (tie)
        return tie;
    return strcmp(place, "hub") == 0 ? NULL : place;
}

static void
report(struct hlc_hub *hub, json_t *def, const struct hlc_check_record *rec,
       const struct hlc_check_result *res, bool synced)
{
    const char *name = json_string_value(json_object_get(def, "name")) ?: "check";
    const char *service = json_string_value(json_object_get(def, "service"));
    int fail_after = (int)json_integer_value(json_object_get(def, "failures_before_alert"));
    int warn_days = (int)json_integer_value(json_object_get(def, "cert_warn_days"));
    if (fail_after <= 0)
        fail_after = 2;
    if (warn_days <= 0)
        warn_days = 14;
    const char *where = strcmp(rec->place, "hub") == 0 ? "the hub" : rec->place;
    char subject[96], title[300], message[700];
    snprintf(subject, sizeof(subject), "check:%lld@%.63s", (long long)rec->check_id, rec->place);
    struct hlc_alert_check ac = {.server_id = alert_machine(def, rec->place), .subject = subject,
                                 .title = title, .message = message, .value = NAN,
                                 .threshold = NAN};

    bool failing = !rec->ok && rec->fails >= fail_after;
    bool was = rec->prev_fails >= fail_after;
    if (failing != was || !synced) {
        ac.type = "check_failed";
        ac.severity = "high";
        ac.active = failing;
        ac.service = failing ? service : NULL;
        ac.value = rec->fails;
        ac.threshold = fail_after;
        snprintf(title, sizeof(title), "Check %.120s failing from %.63s", name, where);
        if (failing)
            snprintf(message, sizeof(message), "%.250s (%d failures in a row).%s%.128s%s%.63s%s",
                     res->error, rec->fails, service && ac.server_id ? " Suggested fix: restart "
                                                                     : "",
                     service && ac.server_id ? service : "",
                     service && ac.server_id ? " on " : "",
                     service && ac.server_id ? ac.server_id : "",
                     service && ac.server_id ? " (queued as an action)." : "");
        else
            snprintf(message, sizeof(message), "The check answers again from %.63s.", where);
        hlc_alerts_check(hub, &ac);
    }
    if (isfinite(res->cert_days)) {
        bool expiring = res->cert_days < warn_days;
        bool was_exp = isfinite(rec->prev_cert_days) && rec->prev_cert_days < warn_days;
        if (expiring != was_exp || !synced) {
            ac.type = "certificate_expiring";
            ac.severity = res->cert_days < 3 ? "high" : "medium";
            ac.active = expiring;
            ac.service = NULL;
            ac.value = floor(res->cert_days * 10) / 10;
            ac.threshold = warn_days;
            snprintf(title, sizeof(title), "Certificate of %.120s expires in %.0f days", name,
                     floor(res->cert_days));
            if (expiring)
                snprintf(message, sizeof(message),
                         "The TLS certificate %.200s serves (seen from %.63s) expires in %.1f "
                         "days; renew it before browsers refuse it.",
                         json_string_value(json_object_get(def, "url")) ?: name, where,
                         res->cert_days);
            else
                snprintf(message, sizeof(message), "The certificate was renewed.");
            hlc_alerts_check(hub, &ac);
        }
    }
}

void
hlc_checks_forget(struct hlc_hub *hub, json_t *def)
{
    static const char *const types[] = {"check_failed", "certificate_expiring"};
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(def, "run_from"), i, p)
    {
        const char *place = json_string_value(p);
        if (!place)
            continue;
        char subject[96];
        snprintf(subject, sizeof(subject), "check:%lld@%.63s",
                 (long long)json_integer_value(json_object_get(def, "id")), place);
        for (size_t t = 0; t < 2; t++) {
            struct hlc_alert_check ac = {.server_id = alert_machine(def, place),
                                         .type = types[t], .severity = "high",
                                         .subject = subject, .title = "",
                                         .message = "The check was changed or deleted.",
                                         .value = NAN, .threshold = NAN, .active = false};
            hlc_alerts_check(hub, &ac);
        }
    }
}

/* ---- one run ------------------------------------------------------------- */

/* Wall clock in milliseconds: when a run happened, as results are keyed. */
static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Probes spec from machine `place` over its SSH session. */
static void
probe_remote(struct hlc_hub *hub, const struct hlc_check_spec *sp, const char *place,
             struct hlc_check_result *res)
{
    struct hlc_buf script;
    struct hlc_exec_result er;
    memset(&er, 0, sizeof(er));
    hlc_buf_init(&script, 16384);
    int rc = hlc_check_remote_script(&script, sp);
    if (rc != 0) {
        memset(res, 0, sizeof(*res));
        res->response_ms = res->cert_days = NAN;
        res->status_code = -1;
        snprintf(res->error, sizeof(res->error), "the check cannot be sent to a shell: %s",
                 hlc_strerror(rc));
        goto out;
    }
    /* The script goes on stdin to sh, as the collector does: no command
     * line holds anything from the check. */
    rc = hlc_remote_exec(hub, place, "sh -s", script.data, script.len,
                         sp->timeout_ms + SSH_MARGIN_MS, HLC_CHECK_REMOTE_BODY_CAP + 4096, &er);
    struct hlc_probe_out po;
    hlc_probe_out_init(&po);
    if (rc != 0 && rc != HLC_ETIMEOUT) {
        snprintf(po.error, sizeof(po.error), "could not run the probe on %.63s: %s", place,
                 hlc_remote_reason(rc));
    } else if (rc == HLC_ETIMEOUT) {
        snprintf(po.error, sizeof(po.error), "the probe on %.63s timed out", place);
    } else if (hlc_check_probe_parse(er.out ? er.out : "", er.out_len, &po) != 0) {
        hlc_probe_out_init(&po);
        snprintf(po.error, sizeof(po.error), "the probe on %.63s printed nothing readable",
                 place);
    }
    hlc_check_judge(sp, &po, res);
    if (!isfinite(res->response_ms) && res->ok)
        res->response_ms = (double)er.duration_ms; /* the exec's wall time */
out:
    hlc_exec_result_release(&er);
    hlc_buf_release(&script);
}

/* Runs check `def` (id) at `place`, records and judges it. Returns the
 * result as the API shows it (new object) or NULL when the check or the
 * machine is gone. */
static json_t *
run_place(struct hlc_hub *hub, json_t *def, int64_t id, const char *place, bool *synced)
{
    struct hlc_check_spec sp;
    struct hlc_check_result res;
    if (hlc_check_spec_from_json(def, &sp) != 0) {
        hlc_log(HLC_LOG_WARN, "checks: check %lld has an unreadable definition", (long long)id);
        return NULL;
    }
    int64_t ts_ms = wall_ms();
    if (strcmp(place, "hub") == 0) {
        struct hlc_probe_out po;
        double elapsed;
        hlc_check_probe_hub(&sp, &po, &elapsed);
        hlc_check_judge(&sp, &po, &res);
        if (!isfinite(res.response_ms) && res.ok)
            res.response_ms = elapsed;
        hlc_probe_out_release(&po);
    } else {
        json_t *m = NULL;
        if (hlc_store_machine_get(hub->store, place, &m) != 0)
            return NULL; /* the machine was deleted: nothing to say about it */
        json_decref(m);
        probe_remote(hub, &sp, place, &res);
    }
    struct hlc_check_record rec = {.check_id = id, .place = place, .ts_ms = ts_ms,
                                   .ok = res.ok, .response_ms = res.response_ms,
                                   .status_code = res.status_code, .cert_days = res.cert_days,
                                   .error = res.error};
    if (hlc_store_check_record(hub->store, &rec) != 0)
        return NULL;
    report(hub, def, &rec, &res, *synced);
    *synced = true;
    char iso[32];
    hlc_time_iso(ts_ms / 1000, iso);
    return json_pack("{s:s, s:b, s:o, s:o, s:o, s:s?, s:i, s:s}", "place", place, "ok", res.ok,
                     "response_ms", isfinite(res.response_ms) ? json_real(res.response_ms)
                                                              : json_null(),
                     "status_code", res.status_code >= 0 ? json_integer(res.status_code)
                                                        : json_null(),
                     "cert_days", isfinite(res.cert_days) ? json_real(res.cert_days)
                                                          : json_null(),
                     "error", res.ok ? NULL : res.error, "fails", rec.fails, "time", iso);
}

/* ---- scheduler and workers --------------------------------------------- */

/* Re-reads the checks (under c->mu): jobs that stay keep their schedule
 * and alert state; new ones start spread over their first interval. */
static void
reload(struct hlc_checks *c)
{
    unsigned long long gen = atomic_load(&c->want_gen);
    json_t *list = NULL;
    if (hlc_store_check_list(c->hub->store, &list) != 0)
        return;
    c->have_gen = gen;
    struct job **next = NULL;
    size_t n = 0, cap = 0;
    int64_t now = hlc_mono_ms();
    size_t i;
    json_t *def;
    json_array_foreach(list, i, def)
    {
        int64_t id = json_integer_value(json_object_get(def, "id"));
        int iv = (int)json_integer_value(json_object_get(def, "interval_seconds"));
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(def, "run_from"), k, p)
        {
            const char *place = json_string_value(p);
            if (!place || strlen(place) >= sizeof(((struct job *)0)->place))
                continue;
            struct job *j = NULL;
            for (size_t x = 0; x < c->njobs && !j; x++)
                if (c->jobs[x] && c->jobs[x]->id == id && strcmp(c->jobs[x]->place, place) == 0)
                    j = c->jobs[x], c->jobs[x] = NULL;
            if (!j) {
                j = hlc_xcalloc(1, sizeof(*j));
                j->id = id;
                snprintf(j->place, sizeof(j->place), "%s", place);
                /* Spread first runs (500 checks every minute should not all
                 * start in the same second), at most 5 s after start. */
                int spread = iv * 1000 < 5000 ? iv * 1000 : 5000;
                j->next_ms = now + (int64_t)((uint64_t)(id * 7919 + (int64_t)k * 104729) %
                                             (uint64_t)(spread > 0 ? spread : 1));
            }
            json_decref(j->def);
            j->def = json_incref(def);
            j->interval_ms = (iv > 0 ? iv : 60) * 1000;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                next = hlc_xrealloc(next, cap * sizeof(*next));
            }
            next[n++] = j;
        }
    }
    /* What is left was deleted or moved: drop it (a running one when its
     * worker is done with it). */
    for (size_t x = 0; x < c->njobs; x++) {
        struct job *j = c->jobs[x];
        if (!j)
            continue;
        if (j->queued)
            c->nqueued--;
        if (j->running)
            j->dead = true;
        else
            job_free(j);
    }
    free(c->jobs);
    c->jobs = next;
    c->njobs = n;
    json_decref(list);
}

static void *
worker_main(void *arg)
{
    struct hlc_checks *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && c->nqueued == 0)
            pthread_cond_wait(&c->work_cv, &c->mu);
        if (c->stop)
            break;
        struct job *j = NULL;
        for (size_t i = 0; i < c->njobs && !j; i++)
            if (c->jobs[i]->queued)
                j = c->jobs[i];
        if (!j) { /* cannot happen: nqueued counts queued jobs */
            c->nqueued = 0;
            continue;
        }
        j->queued = false;
        j->running = true;
        c->nqueued--;
        json_t *def = json_incref(j->def);
        int64_t id = j->id;
        char place[64];
        memcpy(place, j->place, sizeof(place));
        bool synced = j->synced;
        pthread_mutex_unlock(&c->mu);

        json_decref(run_place(c->hub, def, id, place, &synced));
        json_decref(def);

        pthread_mutex_lock(&c->mu);
        j->running = false;
        j->synced = synced;
        int64_t now = hlc_mono_ms();
        j->next_ms += j->interval_ms;
        if (j->next_ms <= now) /* fell behind: no burst of catch-up runs */
            j->next_ms = now + j->interval_ms;
        if (j->dead)
            job_free(j);
        pthread_cond_signal(&c->sched_cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void
prune(struct hlc_checks *c)
{
    int64_t now = hlc_now();
    int deleted;
    do {
        if (hlc_store_check_prune(c->hub->store, (now - RESULTS_KEEP_DAYS * 86400LL) * 1000,
                                  now - HOURLY_KEEP_DAYS * 86400LL, PRUNE_BATCH, &deleted) != 0)
            break;
    } while (deleted > 0 && !c->stop);
}

static void *
sched_main(void *arg)
{
    struct hlc_checks *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        if (atomic_load(&c->want_gen) != c->have_gen)
            reload(c);
        int64_t now = hlc_mono_ms(), wake = now + 60000;
        for (size_t i = 0; i < c->njobs; i++) {
            struct job *j = c->jobs[i];
            if (j->queued || j->running)
                continue;
            if (j->next_ms <= now) {
                j->queued = true;
                c->nqueued++;
                pthread_cond_signal(&c->work_cv);
            } else if (j->next_ms < wake) {
                wake = j->next_ms;
            }
        }
        if (now >= c->next_prune_ms) {
            c->next_prune_ms = now + PRUNE_PERIOD_MS;
            pthread_mutex_unlock(&c->mu);
            prune(c);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        struct timespec ts;
        hlc_abstime_in(wake - now, &ts);
        pthread_cond_timedwait(&c->sched_cv, &c->mu, &ts);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

void
hlc_checks_changed(struct hlc_hub *hub)
{
    struct hlc_checks *c = hub->checks;
    if (!c)
        return;
    atomic_fetch_add(&c->want_gen, 1);
    pthread_mutex_lock(&c->mu);
    pthread_cond_signal(&c->sched_cv);
    pthread_mutex_unlock(&c->mu);
}

int
hlc_checks_run_now(struct hlc_hub *hub, int64_t id, json_t **out)
{
    *out = NULL;
    struct hlc_checks *c = hub->checks;
    if (!c)
        return HLC_EBUSY;
    json_t *def = NULL;
    int rc = hlc_store_check_get(hub->store, id, &def);
    if (rc)
        return rc;
    json_t *results = json_array(), *p;
    size_t i;
    json_array_foreach(json_object_get(def, "run_from"), i, p)
    {
        const char *place = json_string_value(p);
        if (!place)
            continue;
        /* The scheduled job's alert state decides whether this run must
         * reconcile alerts first (after a restart). */
        bool synced = false;
        pthread_mutex_lock(&c->mu);
        for (size_t k = 0; k < c->njobs; k++)
            if (c->jobs[k]->id == id && strcmp(c->jobs[k]->place, place) == 0)
                synced = c->jobs[k]->synced;
        pthread_mutex_unlock(&c->mu);
        json_t *r = run_place(hub, def, id, place, &synced);
        if (r)
            json_array_append_new(results, r);
    }
    json_decref(def);
    *out = results;
    return 0;
}

int
hlc_checks_start(struct hlc_hub *hub)
{
    struct hlc_checks *c = hlc_xcalloc(1, sizeof(*c));
    c->hub = hub;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->sched_cv, NULL);
    pthread_cond_init(&c->work_cv, NULL);
    atomic_store(&c->want_gen, 1);
    c->next_prune_ms = hlc_mono_ms() + 60000; /* not in the start-up rush */
    hub->checks = c;
    for (; c->nworkers < WORKERS; c->nworkers++)
        if (pthread_create(&c->workers[c->nworkers], NULL, worker_main, c) != 0)
            break;
    if (c->nworkers == 0 || pthread_create(&c->sched, NULL, sched_main, c) != 0) {
        hlc_log(HLC_LOG_ERROR, "checks: could not start threads");
        hlc_checks_stop(hub);
        return HLC_ENOMEM;
    }
    c->sched_started = true;
    return 0;
}

void
hlc_checks_stop(struct hlc_hub *hub)
{
    struct hlc_checks *c = hub->checks;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->sched_cv);
    pthread_cond_broadcast(&c->work_cv);
    pthread_mutex_unlock(&c->mu);
    if (c->sched_started)
        pthread_join(c->sched, NULL);
    for (int i = 0; i < c->nworkers; i++)
        pthread_join(c->workers[i], NULL);
    hub->checks = NULL;
    for (size_t i = 0; i < c->njobs; i++)
        job_free(c->jobs[i]);
    free(c->jobs);
    pthread_cond_destroy(&c->sched_cv);
    pthread_cond_destroy(&c->work_cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
