/* guard.c - live connection counts, slow-client deadlines and the wrong-key
 * throttle of the HTTP front (see guard.h). */
#include "guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hlc/base.h"

/* An address as a table key: IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64
 * (one LAN host may hold a whole /64, so per-address limits count it once). */
struct addr_key {
    uint8_t b[16];
};

struct addr_entry {
    struct addr_key key;
    bool used;
    unsigned conns;       /* live connections (connection table) */
    unsigned fails;       /* wrong keys in the current run (failure table) */
    int64_t last_fail_ms; /* when the last one came */
};

/* Open addressing, linear probing, deletion by backward shift, so a table
 * never fills up with tombstones under churn. `cap` is a power of two at
 * least twice the most entries it holds. */
struct addr_map {
    struct addr_entry *e;
    size_t cap;
    size_t n;
    size_t max; /* entries allowed */
};

struct fd_slot {
    bool live;
    uint8_t phase;      /* enum hlc_guard_phase */
    int64_t deadline;   /* monotonic ms; INT64_MAX = none (or already told) */
    struct addr_key key;
};

struct hlc_guard {
    struct hlc_guard_cfg cfg;
    pthread_mutex_t mu;
    struct fd_slot *slots; /* by fd, cfg.fd_slots of them */
    int top;               /* highest fd + 1 ever tracked, bounds the expiry scan */
    unsigned total;        /* live connections */
    struct addr_map conns; /* address -> live connections */
    struct addr_map fails; /* address -> recent wrong keys */
};

static void
addr_key_of(const struct sockaddr *sa, struct addr_key *k)
{
    memset(k, 0, sizeof(*k));
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        k->b[10] = 0xff;
        k->b[11] = 0xff;
        memcpy(k->b + 12, &v4->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(k->b, &v6->sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
            memset(k->b + 8, 0, 8);
    }
}

static size_t
key_hash(const struct addr_key *k)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < sizeof(k->b); i++) {
        h ^= k->b[i];
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static void
map_init(struct addr_map *m, size_t max)
{
    size_t cap = 16;
    while (cap < max * 2)
        cap *= 2;
    m->e = hlc_xcalloc(cap, sizeof(*m->e));
    m->cap = cap;
    m->n = 0;
    m->max = max;
}

/* The entry for k, or NULL; with `add`, a new zeroed one when there is room. */
static struct addr_entry *
map_get(struct addr_map *m, const struct addr_key *k, bool add)
{
    size_t i = key_hash(k) & (m->cap - 1);
    while (m->e[i].used) {
        if (memcmp(m->e[i].key.b, k->b, sizeof(k->b)) == 0)
            return &m->e[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (!add || m->n >= m->max)
        return NULL;
    memset(&m->e[i], 0, sizeof(m->e[i]));
    m->e[i].used = true;
    m->e[i].key = *k;
    m->n++;
    return &m->e[i];
}

static void
map_del(struct addr_map *m, struct addr_entry *victim)
{
    size_t i = (size_t)(victim - m->e);
    size_t mask = m->cap - 1;
    m->e[i].used = false;
    m->n--;
    /* Move back every later entry of the run whose home lies at or before
     * the hole, so lookups never stop early at it. */
    for (size_t j = (i + 1) & mask; m->e[j].used; j = (j + 1) & mask) {
        size_t home = key_hash(&m->e[j].key) & mask;
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        m->e[i] = m->e[j];
        m->e[j].used = false;
        i = j;
    }
}

int
hlc_guard_new(struct hlc_guard **out, const struct hlc_guard_cfg *cfg)
{
    *out = NULL;
    if (!cfg->max_conns || !cfg->per_addr || !cfg->fd_slots || !cfg->fail_addrs ||
        cfg->head_ms <= 0 || cfg->body_ms <= 0 || cfg->idle_ms <= 0)
        return HLC_EINVAL;
    struct hlc_guard *g = hlc_xcalloc(1, sizeof(*g));
    g->cfg = *cfg;
    pthread_mutex_init(&g->mu, NULL);
    g->slots = hlc_xcalloc(cfg->fd_slots, sizeof(*g->slots));
    /* Each live connection has one address at most. */
    map_init(&g->conns, cfg->max_conns);
    map_init(&g->fails, cfg->fail_addrs);
    *out = g;
    return 0;
}

void
hlc_guard_free(struct hlc_guard *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g->conns.e);
    free(g->fails.e);
    free(g);
}

static int64_t
deadline_for(const struct hlc_guard *g, enum hlc_guard_phase phase, int64_t now)
{
    switch (phase) {
    case HLC_GUARD_HEAD:
        return now + g->cfg.head_ms;
    case HLC_GUARD_BODY:
        return now + g->cfg.body_ms;
    case HLC_GUARD_IDLE:
        return now + g->cfg.idle_ms;
    case HLC_GUARD_BUSY:
    default:
        return INT64_MAX;
    }
}

enum hlc_guard_verdict
hlc_guard_admit(struct hlc_guard *g, int fd, const struct sockaddr *sa, int64_t now_ms)
{
    if (fd < 0 || (unsigned)fd >= g->cfg.fd_slots)
        return HLC_GUARD_NO_SLOT;
    struct addr_key k;
    addr_key_of(sa, &k);
    enum hlc_guard_verdict v = HLC_GUARD_OK;
    pthread_mutex_lock(&g->mu);
    struct addr_entry *e = NULL;
    if (g->slots[fd].live)
        v = HLC_GUARD_NO_SLOT;
    else if (g->total >= g->cfg.max_conns)
        v = HLC_GUARD_FULL;
    else if (!(e = map_get(&g->conns, &k, true)))
        v = HLC_GUARD_FULL; /* cannot happen: one entry per live connection at most */
    else if (e->conns >= g->cfg.per_addr)
        v = HLC_GUARD_ADDR_FULL;
    if (v == HLC_GUARD_OK) {
        e->conns++;
        g->total++;
        struct fd_slot *s = &g->slots[fd];
        s->live = true;
        s->key = k;
        s->phase = HLC_GUARD_HEAD;
        s->deadline = deadline_for(g, HLC_GUARD_HEAD, now_ms);
        if (fd + 1 > g->top)
            g->top = fd + 1;
    } else if (e && e->conns == 0) {
        map_del(&g->conns, e);
    }
    pthread_mutex_unlock(&g->mu);
    return v;
}

void
hlc_guard_release(struct hlc_guard *g, int fd)
{
    if (fd < 0 || (unsigned)fd >= g->cfg.fd_slots)
        return;
    pthread_mutex_lock(&g->mu);
    struct fd_slot *s = &g->slots[fd];
    if (s->live) {
        s->live = false;
        g->total--;
        struct addr_entry *e = map_get(&g->conns, &s->key, false);
        if (e && --e->conns == 0)
            map_del(&g->conns, e);
    }
    pthread_mutex_unlock(&g->mu);
}

void
hlc_guard_phase(struct hlc_guard *g, int fd, enum hlc_guard_phase phase, int64_t now_ms)
{
    if (fd < 0 || (unsigned)fd >= g->cfg.fd_slots)
        return;
    pthread_mutex_lock(&g->mu);
    struct fd_slot *s = &g->slots[fd];
    if (s->live) {
        s->phase = (uint8_t)phase;
        s->deadline = deadline_for(g, phase, now_ms);
    }
    pthread_mutex_unlock(&g->mu);
}

unsigned
hlc_guard_expire(struct hlc_guard *g, int64_t now_ms, void (*fn)(int fd, void *ud), void *ud)
{
    unsigned n = 0;
    pthread_mutex_lock(&g->mu);
    for (int fd = 0; fd < g->top; fd++) {
        struct fd_slot *s = &g->slots[fd];
        if (s->live && s->deadline <= now_ms) {
            s->deadline = INT64_MAX; /* told once; it closes and is released */
            fn(fd, ud);
            n++;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return n;
}

void
hlc_guard_counts(struct hlc_guard *g, const struct sockaddr *sa, unsigned *total,
                 unsigned *from_addr)
{
    struct addr_key k;
    addr_key_of(sa, &k);
    pthread_mutex_lock(&g->mu);
    struct addr_entry *e = map_get(&g->conns, &k, false);
    *total = g->total;
    *from_addr = e ? e->conns : 0;
    pthread_mutex_unlock(&g->mu);
}

int64_t
hlc_guard_key_failed(struct hlc_guard *g, const struct sockaddr *sa, int64_t now_ms)
{
    struct addr_key k;
    addr_key_of(sa, &k);
    int64_t hold = 0;
    pthread_mutex_lock(&g->mu);
    struct addr_entry *e = map_get(&g->fails, &k, true);
    if (!e) {
        /* Full: forget the address quiet for longest (a scan, but only when
         * a new address fails while the table is full). */
        struct addr_entry *oldest = NULL;
        for (size_t i = 0; i < g->fails.cap; i++)
            if (g->fails.e[i].used &&
                (!oldest || g->fails.e[i].last_fail_ms < oldest->last_fail_ms))
                oldest = &g->fails.e[i];
        if (oldest)
            map_del(&g->fails, oldest);
        e = map_get(&g->fails, &k, true);
    }
    if (e) {
        if (e->fails && now_ms - e->last_fail_ms > g->cfg.fail_window_ms)
            e->fails = 0; /* quiet long enough: a fresh start */
        e->fails++;
        e->last_fail_ms = now_ms;
        if (e->fails > g->cfg.fail_limit) {
            unsigned over = e->fails - g->cfg.fail_limit - 1;
            hold = 250;
            while (over-- && hold < g->cfg.delay_max_ms)
                hold *= 2;
            if (hold > g->cfg.delay_max_ms)
                hold = g->cfg.delay_max_ms;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return hold;
}
