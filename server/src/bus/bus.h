/* bus.h - the hub's in-process event bus: how domain rooms react to each other
 * without calling each other.
 *
 * A publisher fills a struct hlc_event and calls hlc_bus_publish(); every
 * subscriber registered for that kind gets it, either inline (on the
 * publisher's thread, before publish returns, in subscription order) or on
 * the subscriber's own worker thread (queued, in publish order per
 * publishing thread). Subscriptions are made at start-up (hub/services.c
 * wires them all in one place) and ended at shutdown; publishing with no bus
 * (NULL, as in unit tests that start one service alone) does nothing.
 *
 * Rules that keep it simple to reason about:
 * - Publish only after your own writes are committed and with none of your
 *   locks held: an inline subscriber may call back into the store, and may
 *   publish in turn (delivery nests on the same thread; the bus holds no lock
 *   while it calls a subscriber).
 * - Inline subscribers must be quick (an SSE wake-up, an alert evaluation).
 *   Anything that may block on a machine or a peer asks for a worker.
 * - A worker subscriber gets a copy of the event's strings and JSON; it never
 *   gets `sample` (that lives on the publisher's stack), which is NULL there.
 * - The bus is not a durable queue. What must survive a crash (notifications)
 *   is written to the store's outbox in the same transaction as its cause;
 *   the bus only wakes the sender. At shutdown a worker subscriber that asked
 *   for HLC_BUS_DRAIN is given every event queued before hlc_bus_unsubscribe();
 *   others drop what is still queued.
 * All functions are thread-safe. */
#ifndef HLC_BUS_H
#define HLC_BUS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct hlc_sample;
struct hlc_bus;

/* Kinds of event. Append new kinds before HLC_EV__COUNT. */
enum hlc_event_kind {
    HLC_EV_SAMPLE_STORED,   /* a sample became history: server_id, source, sample */
    HLC_EV_ALERT_RAISED,    /* server_id, alert_id, type, subject, severity, flags */
    HLC_EV_ALERT_RESOLVED,  /* server_id, alert_id, type, subject, severity */
    HLC_EV_HOST_KEY_CHANGED, /* server_id, subject = the presented key's fingerprint */
    HLC_EV_ACTION_FINISHED, /* server_id, type = action type, alert_id (or NULL), data = action */
    HLC_EV__COUNT
};

/* Event flags. */
#define HLC_EVF_FROM_SAMPLE 1u     /* alert_*: raised or resolved while evaluating a sample
                                    * (a sample_stored event tells the same story) */
#define HLC_EVF_WANTS_RESTART 2u   /* alert_raised: a critical service is down and its
                                    * restart should be queued (subject = the unit) */
#define HLC_EVF_WANTS_APPLY 4u     /* alert_raised: a machine drifted from a config pack
                                    * and applying it (`pack`) is the suggested fix */

struct hlc_event {
    enum hlc_event_kind kind;
    unsigned flags;                  /* HLC_EVF_* */
    const char *server_id;           /* the machine it is about, or NULL */
    const char *source;              /* sample_stored: "ssh" or "agent" */
    const struct hlc_sample *sample; /* sample_stored, inline subscribers only */
    const char *alert_id;            /* alert_*: the alert; action_finished: the alert
                                      * that asked for the action, or NULL */
    const char *type;                /* alert type, or action type */
    const char *subject;             /* alert subject, or see the kind */
    const char *severity;            /* alert_*: critical/high/medium/low */
    const char *pack;                /* alert_raised with HLC_EVF_WANTS_APPLY: the pack
                                      * (inline subscribers only, as unit) */
    const char *unit;                /* alert_raised with HLC_EVF_WANTS_RESTART: the unit
                                      * to restart when not the subject (a check's service) */
    json_t *data;                    /* optional JSON, borrowed (copied for workers) */
};

/* A subscriber. `ud` is what it subscribed with. Must not free ev. */
typedef void (*hlc_bus_fn)(void *ud, const struct hlc_event *ev);

enum hlc_bus_delivery {
    HLC_BUS_INLINE, /* on the publisher's thread */
    HLC_BUS_WORKER, /* on the subscriber's own thread; drops queued events at shutdown */
    HLC_BUS_DRAIN,  /* a worker that gets every event queued before it unsubscribed */
};

/* A mask of kinds for hlc_bus_subscribe. */
#define HLC_EV_BIT(k) (1u << (k))

/* Creates a bus. Cannot fail (out of memory aborts). */
struct hlc_bus *hlc_bus_new(void);
/* Ends every subscription still open (as hlc_bus_unsubscribe) and frees the
 * bus. No publish may be running or start. NULL is a no-op. */
void hlc_bus_free(struct hlc_bus *b);

/* Subscribes fn(ud, ev) to the kinds in `mask`. `name` (static) is for logs.
 * Returns a subscription id > 0, or HLC_EINVAL (bad mask, NULL fn, NULL bus),
 * HLC_ETOOBIG (more than HLC_BUS_MAX_SUBS subscriptions) or HLC_EIO (the
 * worker thread could not start). A worker subscription starts its thread
 * here. */
int hlc_bus_subscribe(struct hlc_bus *b, const char *name, unsigned mask,
                      enum hlc_bus_delivery how, hlc_bus_fn fn, void *ud);

/* Ends subscription `id`: no delivery starts after it returns, and it waits
 * for deliveries under way (inline calls on other threads; the worker's
 * queue, drained first for HLC_BUS_DRAIN) to finish. Must not be called from
 * inside the subscriber itself. Unknown ids are ignored. */
void hlc_bus_unsubscribe(struct hlc_bus *b, int id);

/* Delivers ev to every subscriber of ev->kind (see above). b may be NULL.
 * Never fails: a worker whose queue is full (HLC_BUS_QUEUE_MAX events) drops
 * the event and counts it, except an HLC_BUS_DRAIN worker, for which the
 * publisher waits for room. */
void hlc_bus_publish(struct hlc_bus *b, const struct hlc_event *ev);

/* How many events worker subscribers dropped because their queue was full. */
unsigned long long hlc_bus_dropped(const struct hlc_bus *b);

/* The kind's name as logs and the SSE stream say it ("sample_stored", ...). */
const char *hlc_event_kind_name(enum hlc_event_kind k);

#define HLC_BUS_QUEUE_MAX 4096
#define HLC_BUS_MAX_SUBS 64

#endif
