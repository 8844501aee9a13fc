/* poller_internal.h - what the session pool (sshpool.c) and the scheduler
 * (sched.c) share. */
#ifndef HLC_POLLER_INTERNAL_H
#define HLC_POLLER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <libssh/libssh.h>

#include "hlc/poller.h"

/* One machine's pooled session. */
struct sess {
    char id[64];              /* machine id */
    pthread_mutex_t mu;       /* held by the one thread using the session */
    ssh_session ssh;          /* connected and authenticated, or NULL */
    ssh_channel spare;        /* next exec's channel, its open sent ahead, or NULL */
    int64_t last_used_ms;     /* monotonic time of the last exec or keepalive */
    int64_t retry_at_ms;      /* no reconnect before this (backoff) */
    int backoff_ms;           /* current backoff step */
    int last_err;             /* why the last connect failed */
};

/* A one-off job for the worker pool (hlc_poller_submit). */
struct job {
    void (*fn)(void *arg, bool cancelled); /* what to run */
    void *arg;                /* its argument */
    struct job *next;         /* FIFO link */
};

/* A scheduled machine. */
struct sched_entry {
    char id[64];              /* machine id */
    int interval_s;           /* seconds between polls */
    int64_t due_ms;           /* monotonic time of the next poll */
    bool busy;                /* queued or being polled */
    bool seen;                /* still in the latest schedule (refresh mark) */
};

struct hlc_poller {
    struct hlc_poller_cfg cfg;    /* as given, defaults filled in */

    pthread_mutex_t pool_mu;      /* guards sess/nsess */
    struct sess **sess;           /* every machine ever used */
    size_t nsess, capsess;        /* used, allocated */
    atomic_size_t connected;      /* sessions with ssh != NULL */

    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t work_cv;       /* a job was queued, or stopping */
    pthread_cond_t sched_cv;      /* kick, a poll finished, or stopping */
    struct sched_entry *ent;      /* the schedule */
    size_t nent, capent;          /* used, allocated */
    char (*queue)[64];            /* ring of machine ids to poll */
    size_t qcap, qhead, qlen;     /* ring state */
    struct job *jobs, *jobs_tail; /* one-off jobs, FIFO */
    bool jobs_turn;               /* the next free worker takes a job before a poll */
    bool stopping;                /* set by hlc_poller_free */
    bool kicked;                  /* refresh the schedule now */
    pthread_t *workers;           /* cfg.workers threads */
    size_t nworkers;              /* started */
    pthread_t sched_thread;       /* the scheduler */
    bool sched_started;           /* it was started */
};

/* sshpool.c: closes every session (at free). */
void sshpool_close_all(struct hlc_poller *p);
/* sshpool.c: keepalive on sessions idle past cfg.keepalive_s (never blocks). */
void sshpool_keepalive(struct hlc_poller *p);

/* sshpool.c: a new libssh session for t with the hub's options (timeouts,
 * no config files or known_hosts, ciphers, no Nagle); not connected. */
ssh_session sshpool_session_new(const struct hlc_ssh_target *t, int timeout_ms);
/* sshpool.c: the connected session's host key as "SHA256:..." (free with
 * ssh_string_free_char), or NULL. */
char *sshpool_fingerprint(ssh_session ssh);

#endif
