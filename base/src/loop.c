/* loop.c - a service's background thread (see hlc/loop.h). */
#include "hlc/loop.h"

#include <string.h>

#include "hlc/base.h"

int
hlc_loop_start(struct hlc_loop *l, void *(*fn)(void *), void *arg)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL); /* hlc_abstime_in gives CLOCK_REALTIME deadlines */
    atomic_init(&l->stopping, false);
    if (pthread_create(&l->thread, NULL, fn, arg) != 0) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        return HLC_EIO;
    }
    l->started = true;
    return 0;
}

void
hlc_loop_stop(struct hlc_loop *l)
{
    if (!l->started)
        return;
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->stopping, true);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    l->started = false;
}

void
hlc_loop_kick(struct hlc_loop *l)
{
    if (!l->started)
        return;
    pthread_mutex_lock(&l->mu);
    l->kicked = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void
hlc_loop_sleep(struct hlc_loop *l, int64_t ms)
{
    struct timespec until;
    hlc_abstime_in(ms, &until);
    pthread_mutex_lock(&l->mu);
    while (!l->kicked && !atomic_load(&l->stopping) &&
           pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0) {
    }
    l->kicked = false;
    pthread_mutex_unlock(&l->mu);
}
