/* test_bus.c - the event bus on its own: inline and worker delivery, order per
 * publisher, a blocked worker never blocks the publisher, nested publishes,
 * copies for workers, unsubscribe waiting out calls under way, and the drain
 * at shutdown. Deadlocks, not clocks, are what these tests would fail on:
 * ctest's timeout turns a publisher that blocks into a failure. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bus.h"
#include "hlc/base.h"

/* A gate a subscriber waits at until the test opens it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
};

static void
gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = false;
}

static void
gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void
gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void
nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Records the subject of each event it gets, in order. */
struct recorder {
    pthread_mutex_t mu;
    char seen[256][16];
    int n;
    struct gate *gate;        /* when set, each call waits here first */
    atomic_int started;       /* calls begun */
    atomic_bool in_call;      /* a call is under way */
    bool sample_was_null;     /* every event had sample == NULL */
};

static void
rec_init(struct recorder *r, struct gate *g)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    r->gate = g;
    r->sample_was_null = true;
}

static void
record(void *ud, const struct hlc_event *ev)
{
    struct recorder *r = ud;
    atomic_store(&r->in_call, true);
    atomic_fetch_add(&r->started, 1);
    if (r->gate)
        gate_wait(r->gate);
    pthread_mutex_lock(&r->mu);
    if (r->n < 256)
        snprintf(r->seen[r->n++], sizeof(r->seen[0]), "%s", ev->subject ? ev->subject : "");
    if (ev->sample)
        r->sample_was_null = false;
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->in_call, false);
}

static void
publish_n(struct hlc_bus *b, enum hlc_event_kind k, int n)
{
    for (int i = 0; i < n; i++) {
        char subj[16];
        snprintf(subj, sizeof(subj), "%d", i);
        struct hlc_event ev = {.kind = k, .subject = subj, .server_id = "m1"};
        hlc_bus_publish(b, &ev);
        memset(subj, 'x', sizeof(subj) - 1); /* a worker must hold its own copy */
    }
}

static int
rec_count(struct recorder *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void
assert_in_order(struct recorder *r, int n)
{
    assert_int_equal(rec_count(r), n);
    for (int i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(r->seen[i], want);
    }
}

static void
test_inline_order_and_kinds(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    struct recorder a, other;
    rec_init(&a, NULL);
    rec_init(&other, NULL);
    assert_true(hlc_bus_subscribe(b, "a", HLC_EV_BIT(HLC_EV_ALERT_RAISED), HLC_BUS_INLINE,
                                  record, &a) > 0);
    assert_true(hlc_bus_subscribe(b, "other", HLC_EV_BIT(HLC_EV_SAMPLE_STORED),
                                  HLC_BUS_INLINE, record, &other) > 0);
    publish_n(b, HLC_EV_ALERT_RAISED, 50);
    /* Inline delivery is done when publish returns, in publish order. */
    assert_in_order(&a, 50);
    assert_int_equal(rec_count(&other), 0); /* not its kind */
    hlc_bus_free(b);
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    struct hlc_event ev = {.kind = HLC_EV_SAMPLE_STORED};
    hlc_bus_publish(NULL, &ev); /* no bus: nothing happens */
    struct hlc_bus *b = hlc_bus_new();
    struct recorder r;
    rec_init(&r, NULL);
    assert_int_equal(hlc_bus_subscribe(b, "x", 0, HLC_BUS_INLINE, record, &r), HLC_EINVAL);
    assert_int_equal(hlc_bus_subscribe(b, "x", 1u << HLC_EV__COUNT, HLC_BUS_INLINE, record, &r),
                     HLC_EINVAL);
    assert_int_equal(hlc_bus_subscribe(b, "x", 1, HLC_BUS_INLINE, NULL, &r), HLC_EINVAL);
    for (int i = 0; i < HLC_BUS_MAX_SUBS; i++)
        assert_true(hlc_bus_subscribe(b, "x", 1, HLC_BUS_INLINE, record, &r) > 0);
    assert_int_equal(hlc_bus_subscribe(b, "x", 1, HLC_BUS_INLINE, record, &r), HLC_ETOOBIG);
    struct hlc_event bad = {.kind = HLC_EV__COUNT};
    hlc_bus_publish(b, &bad);
    assert_int_equal(rec_count(&r), 0);
    assert_string_equal(hlc_event_kind_name(HLC_EV_ALERT_RESOLVED), "alert_resolved");
    assert_string_equal(hlc_event_kind_name(HLC_EV__COUNT), "unknown");
    hlc_bus_free(b);
}

/* A worker that is stuck does not hold up the publisher: all 20 publishes
 * return while its first call waits at the gate; then it gets all 20, in
 * order, as copies (the publisher overwrote each subject after publishing)
 * and never the publisher's sample. */
static void
test_worker_does_not_block_publisher(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    struct gate g;
    gate_init(&g);
    struct recorder r;
    rec_init(&r, &g);
    int id = hlc_bus_subscribe(b, "slow", HLC_EV_BIT(HLC_EV_SAMPLE_STORED), HLC_BUS_WORKER,
                               record, &r);
    assert_true(id > 0);
    struct hlc_sample *fake = (struct hlc_sample *)&r; /* any non-NULL pointer */
    struct hlc_event first = {.kind = HLC_EV_SAMPLE_STORED, .subject = "0", .sample = fake};
    hlc_bus_publish(b, &first);
    for (int i = 1; i < 20; i++) {
        char subj[16];
        snprintf(subj, sizeof(subj), "%d", i);
        struct hlc_event ev = {.kind = HLC_EV_SAMPLE_STORED, .subject = subj};
        hlc_bus_publish(b, &ev);
        memset(subj, 'x', sizeof(subj) - 1);
    }
    assert_true(rec_count(&r) == 0); /* still at the gate */
    gate_open(&g);
    while (rec_count(&r) < 20)
        nap_ms(1);
    assert_in_order(&r, 20);
    assert_true(r.sample_was_null);
    hlc_bus_unsubscribe(b, id);
    hlc_bus_free(b);
}

/* Two publishing threads, one worker: each publisher's events arrive in the
 * order it published them. */
struct pub_arg {
    struct hlc_bus *b;
    const char *prefix;
};

static void *
publisher(void *arg)
{
    struct pub_arg *p = arg;
    for (int i = 0; i < 100; i++) {
        char subj[16];
        snprintf(subj, sizeof(subj), "%s%03d", p->prefix, i);
        struct hlc_event ev = {.kind = HLC_EV_ACTION_FINISHED, .subject = subj};
        hlc_bus_publish(p->b, &ev);
    }
    return NULL;
}

static void
test_order_per_publisher(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    static struct recorder r; /* 200 entries fit the recorder's 256 */
    rec_init(&r, NULL);
    int id = hlc_bus_subscribe(b, "w", HLC_EV_BIT(HLC_EV_ACTION_FINISHED), HLC_BUS_DRAIN, record,
                               &r);
    assert_true(id > 0);
    pthread_t t1, t2;
    struct pub_arg a1 = {b, "a"}, a2 = {b, "b"};
    pthread_create(&t1, NULL, publisher, &a1);
    pthread_create(&t2, NULL, publisher, &a2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    hlc_bus_unsubscribe(b, id); /* drain: all 200 delivered before it returns */
    assert_int_equal(rec_count(&r), 200);
    int next_a = 0, next_b = 0;
    for (int i = 0; i < 200; i++) {
        int *next = r.seen[i][0] == 'a' ? &next_a : &next_b;
        assert_int_equal(atoi(r.seen[i] + 1), *next);
        (*next)++;
    }
    hlc_bus_free(b);
}

/* An inline subscriber that publishes: the nested event is delivered on the
 * same thread before the outer publish returns. */
struct relay {
    struct hlc_bus *b;
};

static void
relay_fn(void *ud, const struct hlc_event *ev)
{
    struct relay *rl = ud;
    struct hlc_event out = {.kind = HLC_EV_ALERT_RAISED, .subject = ev->subject};
    hlc_bus_publish(rl->b, &out);
}

static void
test_nested_publish(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    struct relay rl = {b};
    struct recorder r;
    rec_init(&r, NULL);
    assert_true(hlc_bus_subscribe(b, "relay", HLC_EV_BIT(HLC_EV_SAMPLE_STORED), HLC_BUS_INLINE,
                                  relay_fn, &rl) > 0);
    assert_true(hlc_bus_subscribe(b, "rec", HLC_EV_BIT(HLC_EV_ALERT_RAISED), HLC_BUS_INLINE,
                                  record, &r) > 0);
    publish_n(b, HLC_EV_SAMPLE_STORED, 3);
    assert_in_order(&r, 3);
    hlc_bus_free(b);
}

/* Unsubscribing an inline subscriber waits for a call under way on another
 * thread, and nothing is delivered to it afterwards. */
struct held_pub {
    struct hlc_bus *b;
};

static void *
held_publisher(void *arg)
{
    struct held_pub *h = arg;
    struct hlc_event ev = {.kind = HLC_EV_HOST_KEY_CHANGED, .subject = "0"};
    hlc_bus_publish(h->b, &ev);
    return NULL;
}

static void *
open_later(void *arg)
{
    nap_ms(50);
    gate_open(arg);
    return NULL;
}

static void
test_unsubscribe_waits_for_inline_call(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    struct gate g;
    gate_init(&g);
    struct recorder r;
    rec_init(&r, &g);
    int id = hlc_bus_subscribe(b, "held", HLC_EV_BIT(HLC_EV_HOST_KEY_CHANGED), HLC_BUS_INLINE,
                               record, &r);
    pthread_t pub, opener;
    struct held_pub h = {b};
    pthread_create(&pub, NULL, held_publisher, &h);
    while (atomic_load(&r.started) == 0)
        nap_ms(1);
    pthread_create(&opener, NULL, open_later, &g);
    hlc_bus_unsubscribe(b, id);
    /* The call that was under way has finished... */
    assert_false(atomic_load(&r.in_call));
    assert_int_equal(rec_count(&r), 1);
    pthread_join(pub, NULL);
    pthread_join(opener, NULL);
    /* ...and none starts now. */
    struct hlc_event ev = {.kind = HLC_EV_HOST_KEY_CHANGED, .subject = "1"};
    hlc_bus_publish(b, &ev);
    assert_int_equal(rec_count(&r), 1);
    hlc_bus_unsubscribe(b, id); /* twice is harmless */
    hlc_bus_unsubscribe(b, 999);
    hlc_bus_free(b);
}

/* At shutdown a drain worker gets every event queued before it was
 * unsubscribed; a plain worker drops what is still queued. */
static void
shutdown_with_queue(enum hlc_bus_delivery how, int *delivered)
{
    struct hlc_bus *b = hlc_bus_new();
    struct gate g;
    gate_init(&g);
    static struct recorder r;
    rec_init(&r, &g);
    int id = hlc_bus_subscribe(b, "w", HLC_EV_BIT(HLC_EV_ALERT_RESOLVED), how, record, &r);
    publish_n(b, HLC_EV_ALERT_RESOLVED, 100);
    while (atomic_load(&r.started) == 0)
        nap_ms(1);
    pthread_t opener;
    pthread_create(&opener, NULL, open_later, &g);
    hlc_bus_unsubscribe(b, id);
    pthread_join(opener, NULL);
    *delivered = rec_count(&r);
    /* After unsubscribe nothing more arrives. */
    publish_n(b, HLC_EV_ALERT_RESOLVED, 5);
    nap_ms(5);
    assert_int_equal(rec_count(&r), *delivered);
    hlc_bus_free(b);
}

static void
test_shutdown_drain(void **state)
{
    (void)state;
    int n = 0;
    shutdown_with_queue(HLC_BUS_DRAIN, &n);
    assert_int_equal(n, 100);
    shutdown_with_queue(HLC_BUS_WORKER, &n);
    assert_true(n >= 1 && n < 100);
}

/* A full queue: a plain worker drops (and counts) what does not fit. */
static void
test_full_queue_drops(void **state)
{
    (void)state;
    struct hlc_bus *b = hlc_bus_new();
    struct gate g;
    gate_init(&g);
    struct recorder r;
    rec_init(&r, &g);
    int id = hlc_bus_subscribe(b, "w", HLC_EV_BIT(HLC_EV_SAMPLE_STORED), HLC_BUS_WORKER, record,
                               &r);
    struct hlc_event ev = {.kind = HLC_EV_SAMPLE_STORED, .subject = "s"};
    hlc_bus_publish(b, &ev);
    while (atomic_load(&r.started) == 0)
        nap_ms(1);
    /* The worker holds one event; the queue takes HLC_BUS_QUEUE_MAX more. */
    for (int i = 0; i < HLC_BUS_QUEUE_MAX + 10; i++)
        hlc_bus_publish(b, &ev);
    assert_int_equal(hlc_bus_dropped(b), 10);
    gate_open(&g);
    hlc_bus_unsubscribe(b, id);
    hlc_bus_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_order_and_kinds),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_worker_does_not_block_publisher),
        cmocka_unit_test(test_order_per_publisher),
        cmocka_unit_test(test_nested_publish),
        cmocka_unit_test(test_unsubscribe_waits_for_inline_call),
        cmocka_unit_test(test_shutdown_drain),
        cmocka_unit_test(test_full_queue_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
