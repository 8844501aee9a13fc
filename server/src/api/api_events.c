/* api_events.c - GET /api/v1/events: a server-sent-events stream telling the
 * dashboard that something changed (a new sample of machine X, or an alert raised
 * on X with no sample behind it), so it refetches at once instead of waiting for
 * its next poll.
 *
 * Each stream is a libmicrohttpd callback response. With nothing to send, its
 * reader suspends the connection (no thread waits); hlc_events_publish() and the
 * keepalive timer resume the suspended ones. Bounded: at most EV_MAX_CLIENTS
 * streams (503 past that), a ring of the last EV_RING events (a reader that fell
 * further behind gets a "resync" event), a comment line every EV_KEEPALIVE_S
 * seconds (and to all when full, so streams of departed clients are noticed), and every stream
 * ended by hlc_events_close() before the HTTP daemon stops. EventSource cannot set headers, so the
 * key may come as ?key= (the route's HLC_ROUTE_KEY_IN_QUERY). */
#include "api_events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "api.h"
#include "bus.h"
#include "hlc/base.h"
#include "hub.h"
#include "validate.h"

#define EV_MAX_CLIENTS 32
#define EV_RING 256
#define EV_KEEPALIVE_S 15
#define EV_KIND_MAX 16
#define EV_ID_MAX 64

struct ev {
    uint64_t seq;
    char kind[EV_KIND_MAX + 1];
    char id[EV_ID_MAX + 1];
};

struct ev_client {
    struct hlc_events *ev;
    struct MHD_Connection *conn;
    uint64_t seq;       /* last event sent */
    bool suspended;     /* suspended by its reader, waiting for a resume */
    bool keepalive_due; /* send a comment line on the next read */
    bool hello_sent;    /* the retry: line went out */
    bool gone;          /* its client left: no longer counted, ends on its next read */
    struct ev_client *next;
};

struct hlc_events {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the keepalive thread on stop */
    pthread_t keepalive;
    bool thread_started;
    bool closing;            /* streams end, no new ones */
    bool stopping;           /* keepalive thread exits */
    uint64_t seq;            /* last event published */
    struct ev ring[EV_RING]; /* event seq lives at ring[seq % EV_RING] */
    struct ev_client *clients;
    unsigned nclients;
};

/* Resumes every suspended stream; caller holds mu. */
static void
resume_all(struct hlc_events *ev, bool keepalive)
{
    for (struct ev_client *c = ev->clients; c; c = c->next) {
        if (keepalive)
            c->keepalive_due = true;
        if (c->suspended) {
            c->suspended = false;
            MHD_resume_connection(c->conn);
        }
    }
}

static void *
keepalive_main(void *arg)
{
    struct hlc_events *ev = arg;
    pthread_mutex_lock(&ev->mu);
    while (!ev->stopping) {
        struct timespec until;
        hlc_abstime_in(EV_KEEPALIVE_S * 1000, &until);
        while (!ev->stopping && pthread_cond_timedwait(&ev->cv, &ev->mu, &until) == 0) {
        }
        if (!ev->stopping && !ev->closing)
            resume_all(ev, true);
    }
    pthread_mutex_unlock(&ev->mu);
    return NULL;
}

int
hlc_events_start(struct hlc_hub *hub)
{
    struct hlc_events *ev = hlc_xcalloc(1, sizeof(*ev));
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
    if (pthread_create(&ev->keepalive, NULL, keepalive_main, ev) != 0) {
        hlc_log(HLC_LOG_ERROR, "events: cannot start the keepalive thread");
        pthread_cond_destroy(&ev->cv);
        pthread_mutex_destroy(&ev->mu);
        free(ev);
        return HLC_EIO;
    }
    ev->thread_started = true;
    hub->events = ev;
    return 0;
}

void
hlc_events_close(struct hlc_hub *hub)
{
    struct hlc_events *ev = hub ? hub->events : NULL;
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->closing = true;
    resume_all(ev, false);
    pthread_mutex_unlock(&ev->mu);
}

void
hlc_events_stop(struct hlc_hub *hub)
{
    struct hlc_events *ev = hub ? hub->events : NULL;
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->closing = true;
    ev->stopping = true;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    if (ev->thread_started)
        pthread_join(ev->keepalive, NULL);
    /* The HTTP daemon stopped first, so every stream's response was freed. */
    pthread_cond_destroy(&ev->cv);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
    hub->events = NULL;
}

void
hlc_events_publish(struct hlc_hub *hub, const char *kind, const char *id)
{
    struct hlc_events *ev = hub ? hub->events : NULL;
    if (!ev || !kind || !id || !hlc_valid_slug(id) || !hlc_valid_slug(kind))
        return;
    pthread_mutex_lock(&ev->mu);
    if (ev->nclients > 0 && !ev->closing) {
        struct ev *e = &ev->ring[++ev->seq % EV_RING];
        e->seq = ev->seq;
        snprintf(e->kind, sizeof(e->kind), "%s", kind);
        snprintf(e->id, sizeof(e->id), "%s", id);
        resume_all(ev, false);
    }
    pthread_mutex_unlock(&ev->mu);
}

void
hlc_events_on_event(void *hub, const struct hlc_event *ev)
{
    if (ev->kind == HLC_EV_SAMPLE_STORED)
        hlc_events_publish(hub, "sample", ev->server_id);
    else if ((ev->kind == HLC_EV_ALERT_RAISED || ev->kind == HLC_EV_ALERT_RESOLVED) &&
             !(ev->flags & HLC_EVF_FROM_SAMPLE))
        hlc_events_publish(hub, "alert", ev->server_id);
    else if (ev->kind == HLC_EV_ACTION_FINISHED)
        hlc_events_publish(hub, "action", ev->server_id);
}

/* Appends s if it fits; false when it does not. */
static bool
put(char *buf, size_t max, size_t *n, const char *s, size_t len)
{
    if (*n + len > max)
        return false;
    memcpy(buf + *n, s, len);
    *n += len;
    return true;
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct ev_client *c = cls;
    struct hlc_events *ev = c->ev;
    size_t n = 0;
    char line[256];
    pthread_mutex_lock(&ev->mu);
    if (ev->closing || c->gone) {
        pthread_mutex_unlock(&ev->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (!c->hello_sent) {
        int len = snprintf(line, sizeof(line), "retry: 2000\n: homelabcmd events\n\n");
        if (put(buf, max, &n, line, (size_t)len))
            c->hello_sent = true;
    }
    if (ev->seq - c->seq > EV_RING - 1) { /* fell behind the ring: refetch everything */
        int len = snprintf(line, sizeof(line), "id: %llu\nevent: resync\ndata: {}\n\n",
                           (unsigned long long)ev->seq);
        if (put(buf, max, &n, line, (size_t)len))
            c->seq = ev->seq;
    }
    while (c->seq < ev->seq) {
        const struct ev *e = &ev->ring[(c->seq + 1) % EV_RING];
        /* kind and id are slugs (checked by the publisher's callers); JSON-safe */
        int len = snprintf(line, sizeof(line),
                           "id: %llu\nevent: %s\ndata: {\"kind\":\"%s\",\"id\":\"%s\"}\n\n",
                           (unsigned long long)e->seq, e->kind, e->kind, e->id);
        if (len < 0 || !put(buf, max, &n, line, (size_t)len))
            break;
        c->seq++;
    }
    if (c->keepalive_due && put(buf, max, &n, ": keepalive\n\n", 13))
        c->keepalive_due = false;
    if (n == 0) { /* nothing to say: wait for a publish or the keepalive */
        c->suspended = true;
        MHD_suspend_connection(c->conn);
    }
    pthread_mutex_unlock(&ev->mu);
    return (ssize_t)n;
}

static void
client_free(void *cls)
{
    struct ev_client *c = cls;
    struct hlc_events *ev = c->ev;
    pthread_mutex_lock(&ev->mu);
    for (struct ev_client **p = &ev->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (!c->gone)
        ev->nclients--;
    pthread_mutex_unlock(&ev->mu);
    free(c);
}

/* Frees the slots of streams whose client has closed its end. A suspended
 * stream is not watched by libmicrohttpd, so a departed client would hold
 * its slot until the next write; a peek at its socket tells at once (an
 * EventSource sends nothing after its request, so EOF means gone). Caller
 * holds mu. */
static void
reap_departed(struct hlc_events *ev)
{
    for (struct ev_client *c = ev->clients; c; c = c->next) {
        if (c->gone)
            continue;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        char b;
        if (!ci || recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 0)
            continue; /* alive (EAGAIN), or a byte waiting */
        c->gone = true;
        ev->nclients--;
        if (c->suspended) {
            c->suspended = false;
            MHD_resume_connection(c->conn);
        }
    }
}

int
hlc_api_events(struct hlc_req *r)
{
    struct hlc_events *ev = r->hub->events;
    /* The key (header or ?key=) was checked on the head (HLC_ROUTE_KEY_IN_QUERY). */
    if (r->body.len > 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "this endpoint takes no body", NULL);
    if (!ev)
        return hlc_reply_error(r, 503, "UNAVAILABLE", "the event stream is not running", NULL);

    struct ev_client *c = hlc_xcalloc(1, sizeof(*c));
    c->ev = ev;
    c->conn = r->conn;
    pthread_mutex_lock(&ev->mu);
    if (ev->nclients >= EV_MAX_CLIENTS)
        reap_departed(ev);
    bool full = ev->nclients >= EV_MAX_CLIENTS, closing = ev->closing;
    if (!full && !closing) {
        c->seq = ev->seq; /* only what happens from now on */
        c->next = ev->clients;
        ev->clients = c;
        ev->nclients++;
    } else if (full) {
        /* A client that went away is only noticed when written to: write a
         * keepalive to every stream so dead ones free their slots for a retry. */
        resume_all(ev, true);
    }
    pthread_mutex_unlock(&ev->mu);
    if (full || closing) {
        free(c);
        return closing ? hlc_reply_error(r, 503, "UNAVAILABLE", "the hub is shutting down", NULL)
                       : hlc_reply_error(r, 503, "TOO_MANY_STREAMS",
                                         "too many event streams are open (at most 32)", NULL);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 2048, reader, c, client_free);
    if (!resp) {
        client_free(c);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->status = 200;
    int ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}
