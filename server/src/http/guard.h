/* guard.h - the HTTP front's door keeper: live connections per address and in
 * all, deadlines for slow clients, and the throttle of repeated wrong keys.
 *
 * Pure bookkeeping (no sockets, no threads of its own): the accept thread asks
 * hlc_guard_admit() before a connection reaches libmicrohttpd, the request
 * callbacks move a connection through its phases, and a timer calls
 * hlc_guard_expire(). Every function is thread-safe (one mutex). */
#ifndef HLC_GUARD_H
#define HLC_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;
struct hlc_guard;

struct hlc_guard_cfg {
    unsigned max_conns;      /* live connections in all */
    unsigned per_addr;       /* live connections per address (IPv6: per /64) */
    unsigned fd_slots;       /* descriptors tracked: fds at or past it are refused */
    int64_t head_ms;         /* a new connection's first request head must be in by then */
    int64_t body_ms;         /* the body, once the head is in */
    int64_t idle_ms;         /* a kept-alive connection's next head */
    unsigned fail_limit;     /* wrong keys per address answered at once ... */
    int64_t fail_window_ms;  /* ... within this long; quiet this long forgets them */
    int64_t delay_max_ms;    /* the longest a wrong key is held */
    unsigned fail_addrs;     /* addresses remembered for failures (oldest evicted) */
};

/* Where a connection is; each phase but BUSY has a deadline. */
enum hlc_guard_phase {
    HLC_GUARD_HEAD,  /* accepted or kept alive: waiting for a request head */
    HLC_GUARD_BODY,  /* head in: waiting for the body */
    HLC_GUARD_BUSY,  /* request complete: the hub is answering (no deadline) */
    HLC_GUARD_IDLE,  /* answered, kept alive */
};

/* Why hlc_guard_admit refused. */
enum hlc_guard_verdict {
    HLC_GUARD_OK = 0,
    HLC_GUARD_FULL,      /* max_conns reached */
    HLC_GUARD_ADDR_FULL, /* per_addr reached for this address */
    HLC_GUARD_NO_SLOT,   /* fd past fd_slots, or already tracked */
};

/* 0 or HLC_EINVAL (a zero limit). *out is freed with hlc_guard_free. */
int hlc_guard_new(struct hlc_guard **out, const struct hlc_guard_cfg *cfg);
void hlc_guard_free(struct hlc_guard *g); /* NULL is a no-op */

/* Counts connection `fd` from `sa` in phase HEAD, or refuses it (nothing
 * counted). */
enum hlc_guard_verdict hlc_guard_admit(struct hlc_guard *g, int fd, const struct sockaddr *sa,
                                       int64_t now_ms);
/* The connection closed: its counts go. An fd not tracked is a no-op. */
void hlc_guard_release(struct hlc_guard *g, int fd);
/* Moves fd to `phase`, its deadline counted from now. */
void hlc_guard_phase(struct hlc_guard *g, int fd, enum hlc_guard_phase phase, int64_t now_ms);
/* Calls fn(fd, ud) once for each connection past its deadline (with the lock
 * held: fn must not call back into the guard). Returns how many. */
unsigned hlc_guard_expire(struct hlc_guard *g, int64_t now_ms, void (*fn)(int fd, void *ud),
                          void *ud);
/* Live connections in all and from sa's address. */
void hlc_guard_counts(struct hlc_guard *g, const struct sockaddr *sa, unsigned *total,
                      unsigned *from_addr);

/* A wrong or missing key from sa: how long to hold the answer, in ms (0 =
 * answer now). Past fail_limit failures within the window, the hold doubles
 * from 250 ms with each further failure up to delay_max_ms. A right key
 * never asks, so it is never held. */
int64_t hlc_guard_key_failed(struct hlc_guard *g, const struct sockaddr *sa, int64_t now_ms);

#endif
