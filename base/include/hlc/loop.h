/* loop.h - a service's background thread that works in rounds and sleeps
 * between them: started once, woken early by a kick, stopped and joined
 * once. Thread-safe. */
#ifndef HLC_LOOP_H
#define HLC_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct hlc_loop {
    pthread_t thread;
    pthread_mutex_t mu; /* guards kicked */
    pthread_cond_t cv;
    bool started;
    bool kicked;
    _Atomic bool stopping; /* may be handed to calls that give up when it turns true */
};

/* Starts fn(arg) on its own thread; *l may be zeroed memory. 0, or HLC_EIO
 * when the thread could not start (then *l holds nothing to stop). */
int hlc_loop_start(struct hlc_loop *l, void *(*fn)(void *), void *arg);

/* Tells the thread to stop, wakes it and joins it. A no-op on a loop that
 * did not start. */
void hlc_loop_stop(struct hlc_loop *l);

/* Wakes the thread's sleep now (or makes its next sleep return at once). */
void hlc_loop_kick(struct hlc_loop *l);

/* For the thread: sleeps up to ms (<= 0: not at all), until a kick, or
 * until stop. Consumes the kick. */
void hlc_loop_sleep(struct hlc_loop *l, int64_t ms);

/* For the thread: whether stop was asked. */
static inline bool
hlc_loop_stopping(struct hlc_loop *l)
{
    return atomic_load(&l->stopping);
}

#endif
