/* sched.c - the poller's worker pool and scheduler: every machine polled at
 * its interval with jitter, never twice at once, never waiting on another. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hlc/base.h"
#include "poller_internal.h"

/* Up to +-5% of the interval (at most 3 s), so polls of a fleet spread out. */
static int64_t
jitter_ms(int interval_s)
{
    int64_t span = (int64_t)interval_s * 50;
    if (span > 3000)
        span = 3000;
    if (span <= 0)
        return 0;
    return (int64_t)randombytes_uniform((uint32_t)(2 * span + 1)) - span;
}

static struct sched_entry *
find_entry(struct hlc_poller *p, const char *id)
{
    for (size_t i = 0; i < p->nent; i++)
        if (strcmp(p->ent[i].id, id) == 0)
            return &p->ent[i];
    return NULL;
}

/* Merges a fresh schedule: known machines keep their due time, new ones are
 * polled within a couple of seconds, vanished ones are dropped. Holds p->mu. */
static void
merge_schedule(struct hlc_poller *p, const struct hlc_poll_entry *list, size_t n)
{
    int64_t now = hlc_mono_ms();
    for (size_t i = 0; i < p->nent; i++)
        p->ent[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        struct sched_entry *e = find_entry(p, list[i].id);
        if (!e) {
            if (p->nent == p->capent) {
                p->capent = p->capent ? p->capent * 2 : 32;
                p->ent = hlc_xrealloc(p->ent, p->capent * sizeof(*p->ent));
            }
            e = &p->ent[p->nent++];
            memset(e, 0, sizeof(*e));
            snprintf(e->id, sizeof(e->id), "%s", list[i].id);
            e->due_ms = now + (int64_t)randombytes_uniform(2000);
        } else if (list[i].interval_s < e->interval_s &&
                   e->due_ms > now + (int64_t)list[i].interval_s * 1000) {
            e->due_ms = now + (int64_t)list[i].interval_s * 1000; /* shortened */
        }
        e->interval_s = list[i].interval_s > 0 ? list[i].interval_s : 60;
        e->seen = true;
    }
    size_t w = 0;
    for (size_t i = 0; i < p->nent; i++)
        if (p->ent[i].seen || p->ent[i].busy)
            p->ent[w++] = p->ent[i];
    p->nent = w;
}

static void
enqueue(struct hlc_poller *p, const char *id)
{
    if (p->qlen == p->qcap) {
        size_t ncap = p->qcap ? p->qcap * 2 : 64;
        char(*nq)[64] = hlc_xmalloc(ncap * sizeof(*nq));
        for (size_t i = 0; i < p->qlen; i++)
            memcpy(nq[i], p->queue[(p->qhead + i) % p->qcap], 64);
        free(p->queue);
        p->queue = nq;
        p->qcap = ncap;
        p->qhead = 0;
    }
    snprintf(p->queue[(p->qhead + p->qlen) % p->qcap], 64, "%s", id);
    p->qlen++;
    pthread_cond_signal(&p->work_cv);
}

static void
timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    hlc_abstime_in(ms, &ts);
    pthread_cond_timedwait(cv, mu, &ts);
}

static void *
sched_main(void *arg)
{
    struct hlc_poller *p = arg;
    int64_t next_refresh = 0, next_keepalive = hlc_mono_ms() + 5000;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        int64_t now = hlc_mono_ms();
        if (p->kicked || now >= next_refresh) {
            p->kicked = false;
            pthread_mutex_unlock(&p->mu);
            struct hlc_poll_entry *list = NULL;
            size_t n = 0;
            int rc = p->cfg.schedule(p->cfg.ud, &list, &n);
            pthread_mutex_lock(&p->mu);
            if (rc == 0)
                merge_schedule(p, list, n);
            free(list);
            next_refresh = hlc_mono_ms() + p->cfg.refresh_ms;
            continue;
        }
        if (now >= next_keepalive) {
            pthread_mutex_unlock(&p->mu);
            sshpool_keepalive(p);
            pthread_mutex_lock(&p->mu);
            next_keepalive = hlc_mono_ms() + 5000;
            continue;
        }
        int64_t wake = next_refresh < next_keepalive ? next_refresh : next_keepalive;
        for (size_t i = 0; i < p->nent; i++) {
            struct sched_entry *e = &p->ent[i];
            if (e->busy)
                continue;
            if (e->due_ms <= now) {
                e->busy = true;
                enqueue(p, e->id);
            } else if (e->due_ms < wake) {
                wake = e->due_ms;
            }
        }
        if (wake > now)
            timed_wait(&p->sched_cv, &p->mu, wake - now);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *
worker_main(void *arg)
{
    struct hlc_poller *p = arg;
    char id[64];
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->qlen == 0 && !p->jobs)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stopping)
            break;
        if (p->jobs && (p->qlen == 0 || p->jobs_turn)) {
            /* Jobs and polls take turns, so neither starves the other. */
            struct job *j = p->jobs;
            p->jobs = j->next;
            if (!p->jobs)
                p->jobs_tail = NULL;
            p->jobs_turn = false;
            pthread_mutex_unlock(&p->mu);
            j->fn(j->arg, false);
            free(j);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        p->jobs_turn = true;
        memcpy(id, p->queue[p->qhead], sizeof(id));
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        pthread_mutex_unlock(&p->mu);

        int64_t started = hlc_mono_ms();
        p->cfg.poll(p->cfg.ud, id);

        pthread_mutex_lock(&p->mu);
        struct sched_entry *e = find_entry(p, id);
        if (e) {
            e->busy = false;
            e->due_ms = started + (int64_t)e->interval_s * 1000 + jitter_ms(e->interval_s);
        }
        pthread_cond_signal(&p->sched_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int
hlc_poller_new(struct hlc_poller **out, const struct hlc_poller_cfg *cfg)
{
    *out = NULL;
    if (!cfg->target || !cfg->host_key || !cfg->poll || !cfg->schedule)
        return HLC_EINVAL;
    struct hlc_poller *p = hlc_xcalloc(1, sizeof(*p));
    p->cfg = *cfg;
    if (p->cfg.workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        p->cfg.workers = (unsigned)(cpus > 0 ? 2 * cpus : 4);
    }
    if (p->cfg.connect_timeout_ms <= 0)
        p->cfg.connect_timeout_ms = 10000;
    if (p->cfg.keepalive_s <= 0)
        p->cfg.keepalive_s = 30;
    if (p->cfg.backoff_max_ms <= 0)
        p->cfg.backoff_max_ms = 30000;
    if (p->cfg.refresh_ms <= 0)
        p->cfg.refresh_ms = 5000;
    ssh_init();
    pthread_mutex_init(&p->pool_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->sched_cv, NULL);
    p->workers = hlc_xcalloc(p->cfg.workers, sizeof(pthread_t));
    for (unsigned i = 0; i < p->cfg.workers; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
            hlc_poller_free(p);
            return HLC_EIO;
        }
        p->nworkers++;
    }
    if (pthread_create(&p->sched_thread, NULL, sched_main, p) != 0) {
        hlc_poller_free(p);
        return HLC_EIO;
    }
    p->sched_started = true;
    *out = p;
    return 0;
}

void
hlc_poller_kick(struct hlc_poller *p)
{
    pthread_mutex_lock(&p->mu);
    p->kicked = true;
    pthread_cond_signal(&p->sched_cv);
    pthread_mutex_unlock(&p->mu);
}

int
hlc_poller_submit(struct hlc_poller *p, void (*fn)(void *arg, bool cancelled), void *arg)
{
    struct job *j = hlc_xcalloc(1, sizeof(*j));
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return HLC_EBUSY;
    }
    if (p->jobs_tail)
        p->jobs_tail->next = j;
    else
        p->jobs = j;
    p->jobs_tail = j;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void
hlc_poller_free(struct hlc_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_cond_broadcast(&p->sched_cv);
    pthread_mutex_unlock(&p->mu);
    if (p->sched_started)
        pthread_join(p->sched_thread, NULL);
    for (size_t i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    sshpool_close_all(p);
    while (p->jobs) {
        struct job *j = p->jobs;
        p->jobs = j->next;
        j->fn(j->arg, true);
        free(j);
    }
    free(p->workers);
    free(p->ent);
    free(p->queue);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->sched_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->pool_mu);
    ssh_finalize();
    free(p);
}
