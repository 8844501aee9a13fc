/* bus.c - the in-process event bus (see bus.h). Subscriptions live in a fixed
 * array that only grows while the hub starts, so a publish reads it without a
 * lock; each inline subscription counts the calls under way so unsubscribe can
 * wait them out, and each worker subscription owns a thread and a FIFO. */
#include "bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlc/base.h"

/* A queued copy of an event for a worker subscriber. */
struct qev {
    struct hlc_event ev; /* strings point into the copies below */
    char *strs[6];       /* server_id, source, alert_id, type, subject, severity */
    struct qev *next;
};

struct sub {
    int id;                    /* > 0, what subscribe returned */
    const char *name;          /* static, for logs */
    unsigned mask;             /* HLC_EV_BIT of each kind it takes */
    enum hlc_bus_delivery how; /* inline, worker or drain */
    hlc_bus_fn fn;
    void *ud;
    atomic_bool active;  /* false once unsubscribe began */
    atomic_int inflight; /* inline calls under way */
    /* worker only */
    pthread_t thread;
    pthread_mutex_t mu;    /* guards the queue and the flags below */
    pthread_cond_t ready;  /* queue no longer empty, or stopping */
    pthread_cond_t room;   /* queue no longer full, or stopping */
    struct qev *head, *tail;
    size_t qlen;
    bool accepting; /* publishers may enqueue */
    bool stopping;  /* the thread ends once the queue is done */
};

struct hlc_bus {
    pthread_mutex_t mu;                  /* serialises subscribe/unsubscribe */
    struct sub *subs[HLC_BUS_MAX_SUBS];  /* never shrinks until free */
    atomic_int nsubs;                    /* published with release order */
    atomic_ullong dropped;               /* events a full worker queue dropped */
};

static const char *const kind_names[HLC_EV__COUNT] = {
    [HLC_EV_SAMPLE_STORED] = "sample_stored",   [HLC_EV_ALERT_RAISED] = "alert_raised",
    [HLC_EV_ALERT_RESOLVED] = "alert_resolved", [HLC_EV_HOST_KEY_CHANGED] = "host_key_changed",
    [HLC_EV_ACTION_FINISHED] = "action_finished",
};

const char *
hlc_event_kind_name(enum hlc_event_kind k)
{
    return (unsigned)k < HLC_EV__COUNT && kind_names[k] ? kind_names[k] : "unknown";
}

static char *
dup_or_null(const char *s)
{
    return s ? hlc_xstrdup(s) : NULL;
}

static struct qev *
qev_copy(const struct hlc_event *ev)
{
    struct qev *q = hlc_xcalloc(1, sizeof(*q));
    q->ev = *ev;
    q->ev.sample = NULL; /* lives on the publisher's stack */
    const char *src[6] = {ev->server_id, ev->source, ev->alert_id,
                          ev->type,      ev->subject, ev->severity};
    for (int i = 0; i < 6; i++)
        q->strs[i] = dup_or_null(src[i]);
    q->ev.server_id = q->strs[0];
    q->ev.source = q->strs[1];
    q->ev.alert_id = q->strs[2];
    q->ev.type = q->strs[3];
    q->ev.subject = q->strs[4];
    q->ev.severity = q->strs[5];
    q->ev.data = ev->data ? json_deep_copy(ev->data) : NULL;
    return q;
}

static void
qev_free(struct qev *q)
{
    if (!q)
        return;
    for (int i = 0; i < 6; i++)
        free(q->strs[i]);
    json_decref(q->ev.data);
    free(q);
}

static void *
worker_main(void *arg)
{
    struct sub *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->ready, &s->mu);
        if (!s->head || (s->stopping && s->how != HLC_BUS_DRAIN))
            break;
        struct qev *q = s->head;
        s->head = q->next;
        if (!s->head)
            s->tail = NULL;
        s->qlen--;
        pthread_cond_signal(&s->room);
        pthread_mutex_unlock(&s->mu);
        s->fn(s->ud, &q->ev);
        qev_free(q);
        pthread_mutex_lock(&s->mu);
    }
    /* Stopping without drain: what is still queued is dropped. */
    while (s->head) {
        struct qev *q = s->head;
        s->head = q->next;
        qev_free(q);
    }
    s->tail = NULL;
    s->qlen = 0;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct hlc_bus *
hlc_bus_new(void)
{
    struct hlc_bus *b = hlc_xcalloc(1, sizeof(*b));
    pthread_mutex_init(&b->mu, NULL);
    atomic_init(&b->nsubs, 0);
    atomic_init(&b->dropped, 0);
    return b;
}

int
hlc_bus_subscribe(struct hlc_bus *b, const char *name, unsigned mask,
                  enum hlc_bus_delivery how, hlc_bus_fn fn, void *ud)
{
    if (!b || !fn || mask == 0 || (mask >> HLC_EV__COUNT) != 0)
        return HLC_EINVAL;
    pthread_mutex_lock(&b->mu);
    int n = atomic_load(&b->nsubs);
    if (n >= HLC_BUS_MAX_SUBS) {
        pthread_mutex_unlock(&b->mu);
        return HLC_ETOOBIG;
    }
    struct sub *s = hlc_xcalloc(1, sizeof(*s));
    s->id = n + 1;
    s->name = name ? name : "subscriber";
    s->mask = mask;
    s->how = how;
    s->fn = fn;
    s->ud = ud;
    atomic_init(&s->active, true);
    atomic_init(&s->inflight, 0);
    if (how != HLC_BUS_INLINE) {
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->ready, NULL);
        pthread_cond_init(&s->room, NULL);
        s->accepting = true;
        if (pthread_create(&s->thread, NULL, worker_main, s) != 0) {
            pthread_cond_destroy(&s->room);
            pthread_cond_destroy(&s->ready);
            pthread_mutex_destroy(&s->mu);
            free(s);
            pthread_mutex_unlock(&b->mu);
            hlc_log(HLC_LOG_ERROR, "bus: cannot start the worker of %s", name);
            return HLC_EIO;
        }
    }
    b->subs[n] = s;
    atomic_store_explicit(&b->nsubs, n + 1, memory_order_release);
    pthread_mutex_unlock(&b->mu);
    return s->id;
}

static void
end_sub(struct sub *s)
{
    if (!atomic_exchange(&s->active, false))
        return; /* already ended */
    if (s->how == HLC_BUS_INLINE) {
        /* Publishers raise inflight before they look at active, so once
         * active is false and inflight reaches 0 no call can begin. */
        struct timespec nap = {0, 200 * 1000};
        while (atomic_load(&s->inflight) > 0)
            nanosleep(&nap, NULL);
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->accepting = false;
    s->stopping = true;
    pthread_cond_broadcast(&s->ready);
    pthread_cond_broadcast(&s->room);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
}

void
hlc_bus_unsubscribe(struct hlc_bus *b, int id)
{
    if (!b || id <= 0)
        return;
    pthread_mutex_lock(&b->mu);
    struct sub *s = id <= atomic_load(&b->nsubs) ? b->subs[id - 1] : NULL;
    pthread_mutex_unlock(&b->mu);
    if (s)
        end_sub(s);
}

static void
enqueue(struct hlc_bus *b, struct sub *s, const struct hlc_event *ev)
{
    pthread_mutex_lock(&s->mu);
    while (s->accepting && s->qlen >= HLC_BUS_QUEUE_MAX && s->how == HLC_BUS_DRAIN)
        pthread_cond_wait(&s->room, &s->mu);
    if (!s->accepting || s->qlen >= HLC_BUS_QUEUE_MAX) {
        if (s->accepting)
            atomic_fetch_add(&b->dropped, 1);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    struct qev *q = qev_copy(ev);
    if (s->tail)
        s->tail->next = q;
    else
        s->head = q;
    s->tail = q;
    s->qlen++;
    pthread_cond_signal(&s->ready);
    pthread_mutex_unlock(&s->mu);
}

void
hlc_bus_publish(struct hlc_bus *b, const struct hlc_event *ev)
{
    if (!b || !ev || (unsigned)ev->kind >= HLC_EV__COUNT)
        return;
    unsigned bit = HLC_EV_BIT(ev->kind);
    int n = atomic_load_explicit(&b->nsubs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        struct sub *s = b->subs[i];
        if (!(s->mask & bit))
            continue;
        if (s->how != HLC_BUS_INLINE) {
            if (atomic_load(&s->active))
                enqueue(b, s, ev);
            continue;
        }
        atomic_fetch_add(&s->inflight, 1);
        if (atomic_load(&s->active))
            s->fn(s->ud, ev);
        atomic_fetch_sub(&s->inflight, 1);
    }
}

unsigned long long
hlc_bus_dropped(const struct hlc_bus *b)
{
    return b ? atomic_load(&b->dropped) : 0;
}

void
hlc_bus_free(struct hlc_bus *b)
{
    if (!b)
        return;
    int n = atomic_load(&b->nsubs);
    for (int i = 0; i < n; i++) {
        struct sub *s = b->subs[i];
        end_sub(s);
        if (s->how != HLC_BUS_INLINE) {
            pthread_cond_destroy(&s->room);
            pthread_cond_destroy(&s->ready);
            pthread_mutex_destroy(&s->mu);
        }
        free(s);
    }
    pthread_mutex_destroy(&b->mu);
    free(b);
}
