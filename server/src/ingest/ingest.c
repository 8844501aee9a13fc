/* ingest.c - samples into the hub: derive, store, mark online, alert hook;
 * plus the pruning thread of the metrics background service. */
#include "ingest.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/sample.h"
#include "bus.h"
#include "hub.h"
#include "jsonw.h"
#include "store.h"

#define CACHE_BUCKETS 1024
#define PRUNE_BATCH 2000
#define PRUNE_PERIOD_S 600
#define GROUP_MAX 64 /* samples committed together at most */

/* Snapshot sections whose rows are rewritten only when their content changed. */
static const unsigned snap_bits[3] = {HLC_HAVE_FS, HLC_HAVE_SERVICES, HLC_HAVE_CONTAINERS};
#define SNAP_ALL (HLC_HAVE_FS | HLC_HAVE_SERVICES | HLC_HAVE_CONTAINERS)

/* The last sample's counters per machine: what the next one derives against. */
struct baseline {
    char id[64];            /* server_id */
    struct hlc_sample s;    /* counters only: timestamp, have, cpu, boot, net[], services[], updates */
    uint64_t hash[3];       /* content hash of the stored fs/services/containers rows */
    unsigned hashed;        /* snap_bits whose hash is known to match the rows */
    int inflight;           /* ingests of this machine running now */
    struct baseline *next;  /* hash chain */
};

/* A sample waiting to be committed with whatever else is waiting. Its
 * thread sleeps on its own semaphore: posted once, either when the sample
 * is stored (or failed: w->rc says) or when the thread is to commit the
 * next batch itself (lead). Nobody else is woken for it. */
struct group_job {
    struct hlc_metric_write *w; /* what to store; results land in it */
    sem_t wake;                 /* posted once, by whoever finished with it */
    bool lead;                  /* woken to commit the next batch */
    struct group_job *next;     /* queue link */
};

struct hlc_ingest {
    pthread_mutex_t mu;                    /* guards buckets */
    struct baseline *buckets[CACHE_BUCKETS];
    pthread_mutex_t group_mu;              /* guards the fields below */
    struct group_job *queue, *queue_tail;  /* samples waiting for a commit */
    bool committing;                       /* a thread leads (the queue is empty if not) */
    pthread_t pruner;                      /* pruning thread */
    bool pruner_running;                   /* pruner was started */
    pthread_mutex_t stop_mu;               /* guards stopping */
    pthread_cond_t stop_cv;                /* wakes the pruner to stop */
    bool stopping;                         /* set by stop */
};

static unsigned
hash_id(const char *id)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % CACHE_BUCKETS;
}

static uint64_t
hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull; /* FNV-1a 64 */
    return h;
}

/* Content hashes of the three snapshot arrays. The parser zero-fills every
 * element before writing it, so equal content means equal bytes. */
static void
snapshot_hashes(const struct hlc_sample *s, uint64_t out[3])
{
    uint64_t seed = 14695981039346656037ull;
    out[0] = hash_bytes(hash_bytes(seed, &s->nfs, sizeof(s->nfs)), s->fs, s->nfs * sizeof(*s->fs));
    out[1] = hash_bytes(hash_bytes(seed, &s->nservices, sizeof(s->nservices)), s->services,
                        s->nservices * sizeof(*s->services));
    out[2] = hash_bytes(hash_bytes(seed, &s->ncontainers, sizeof(s->ncontainers)),
                        s->containers, s->ncontainers * sizeof(*s->containers));
}

/* Copies the counters derive() needs (and the last known update counts). */
static void
copy_counters(struct hlc_sample *dst, const struct hlc_sample *src)
{
    free(dst->net);
    free(dst->services);
    hlc_sample_init(dst);
    dst->timestamp = src->timestamp;
    dst->have = src->have & (HLC_HAVE_CPU | HLC_HAVE_NET | HLC_HAVE_UPTIME | HLC_HAVE_UPDATES |
                             HLC_HAVE_SERVICES);
    dst->cpu_total = src->cpu_total;
    dst->cpu_idle = src->cpu_idle;
    dst->boot_time = src->boot_time;
    dst->updates_pending = src->updates_pending;
    dst->updates_security = src->updates_security;
    if (src->nnet > 0) {
        dst->net = hlc_xcalloc(src->nnet, sizeof(*dst->net));
        memcpy(dst->net, src->net, src->nnet * sizeof(*dst->net));
        dst->nnet = src->nnet;
    }
    if ((src->have & HLC_HAVE_SERVICES) && src->nservices > 0) { /* their CPU counters */
        dst->services = hlc_xcalloc(src->nservices, sizeof(*dst->services));
        memcpy(dst->services, src->services, src->nservices * sizeof(*dst->services));
        dst->nservices = src->nservices;
    }
}

static struct baseline *
cache_find(struct hlc_ingest *in, const char *id, bool create)
{
    struct baseline **head = &in->buckets[hash_id(id)], *b;
    for (b = *head; b; b = b->next)
        if (strcmp(b->id, id) == 0)
            return b;
    if (!create || strlen(id) >= sizeof(b->id))
        return NULL;
    b = hlc_xcalloc(1, sizeof(*b));
    memcpy(b->id, id, strlen(id) + 1);
    b->next = *head;
    *head = b;
    return b;
}

/* Starts an ingest of machine id: copies its baseline into prev (true when
 * there is one) and says which snapshot sections must be written: all of
 * them unless this is the only ingest of the machine in flight and the
 * stored rows are known to hold the same content. */
static bool
cache_begin(struct hlc_ingest *in, const char *id, struct hlc_sample *prev)
{
    if (!in)
        return false;
    bool found = false;
    pthread_mutex_lock(&in->mu);
    struct baseline *b = cache_find(in, id, true);
    if (b) {
        if (b->s.timestamp > 0) {
            copy_counters(prev, &b->s);
            found = true;
        }
        b->inflight++;
    }
    pthread_mutex_unlock(&in->mu);
    return found;
}

/* The snapshots (fs, services, containers) a sample must write: those whose
 * content, derived figures included, differs from the stored rows'. Only
 * while this is the machine's one ingest in flight are the rows known. */
static unsigned
cache_write_mask(struct hlc_ingest *in, const char *id, const uint64_t hash[3])
{
    unsigned write = SNAP_ALL;
    if (!in)
        return write;
    pthread_mutex_lock(&in->mu);
    struct baseline *b = cache_find(in, id, false);
    if (b && b->inflight == 1)
        for (int k = 0; k < 3; k++)
            if ((b->hashed & snap_bits[k]) && b->hash[k] == hash[k])
                write &= ~snap_bits[k];
    pthread_mutex_unlock(&in->mu);
    return write;
}

/* Ends an ingest: when s became the stored latest, it becomes the baseline
 * and its sections' hashes describe the stored rows. */
static void
cache_end(struct hlc_ingest *in, const char *id, const struct hlc_sample *s, bool newest,
          const uint64_t hash[3])
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    struct baseline *b = cache_find(in, id, false);
    if (b) {
        b->inflight--;
        if (newest && b->s.timestamp < s->timestamp) {
            int pend = b->s.updates_pending, sec = b->s.updates_security;
            bool had = b->s.have & HLC_HAVE_UPDATES;
            copy_counters(&b->s, s);
            if (!(s->have & HLC_HAVE_UPDATES) && had) { /* keep the last known counts */
                b->s.updates_pending = pend;
                b->s.updates_security = sec;
                b->s.have |= HLC_HAVE_UPDATES;
            }
            for (int k = 0; k < 3; k++)
                if (s->have & snap_bits[k]) {
                    b->hash[k] = hash[k];
                    b->hashed |= snap_bits[k];
                }
        }
    }
    pthread_mutex_unlock(&in->mu);
}

static void
cache_drop(struct hlc_ingest *in, const char *id)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    for (struct baseline **pp = &in->buckets[hash_id(id)]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            struct baseline *b = *pp;
            *pp = b->next;
            hlc_sample_release(&b->s);
            free(b);
            break;
        }
    pthread_mutex_unlock(&in->mu);
}

/* Group commit (leader/follower, no extra thread): a sample joins the queue;
 * if no batch is running, its thread takes everything queued (up to
 * GROUP_MAX) and commits it in one transaction, while samples arriving
 * meanwhile queue up for the next batch. Alone, a sample commits at once;
 * under load, one commit's fixed cost is shared by many. When a batch is
 * stored, its threads are woken one by one and the first sample still
 * queued is handed the lead: no thread wakes only to sleep again. */
static void
commit_grouped(struct hlc_hub *hub, struct hlc_metric_write *w)
{
    struct hlc_ingest *in = hub->ingest;
    if (!in) {
        hlc_store_metrics_ingest(hub->store, w);
        return;
    }
    struct group_job job = {.w = w};
    sem_init(&job.wake, 0, 0);
    pthread_mutex_lock(&in->group_mu);
    if (in->queue_tail)
        in->queue_tail->next = &job;
    else
        in->queue = &job;
    in->queue_tail = &job;
    bool lead = !in->committing;
    in->committing = true;
    pthread_mutex_unlock(&in->group_mu);
    if (!lead) {
        while (sem_wait(&job.wake) != 0)
            ; /* EINTR */
        if (!job.lead) {
            sem_destroy(&job.wake);
            return; /* stored by the leader of its batch */
        }
    }
    /* Leading: this job heads the queue; take it and what waits behind it. */
    struct group_job *batch[GROUP_MAX];
    struct hlc_metric_write *ws[GROUP_MAX];
    size_t n = 0;
    pthread_mutex_lock(&in->group_mu);
    while (in->queue && n < GROUP_MAX) {
        batch[n] = in->queue;
        ws[n] = in->queue->w;
        in->queue = in->queue->next;
        n++;
    }
    if (!in->queue)
        in->queue_tail = NULL;
    pthread_mutex_unlock(&in->group_mu);
    hlc_store_metrics_ingest_batch(hub->store, ws, n);
    /* Hand the lead to the first of those who came meanwhile, or give it up. */
    pthread_mutex_lock(&in->group_mu);
    struct group_job *next = in->queue;
    if (next)
        next->lead = true;
    else
        in->committing = false;
    pthread_mutex_unlock(&in->group_mu);
    for (size_t i = 0; i < n; i++)
        if (batch[i] != &job)
            sem_post(&batch[i]->wake); /* batch[i] may be gone once posted */
    if (next)
        sem_post(&next->wake);
    sem_destroy(&job.wake);
}

/* Interfaces whose traffic is already counted on a physical one (bridges,
 * container veths, VPN tunnels) stay out of the machine's totals. */
static bool
virtual_iface(const char *name)
{
    static const char *const prefixes[] = {"veth", "docker", "br-", "virbr", "vnet", "lxc",
                                           "cni",  "flannel", "cali", "tap", "tun", "wg",
                                           "tailscale", "zt", "ifb", "dummy", "kube"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* The filesystem behind disk_percent: "/" when present, else the fullest. */
static const struct hlc_fs *
main_fs(const struct hlc_sample *s)
{
    const struct hlc_fs *best = NULL;
    double best_pct = -1;
    for (size_t i = 0; i < s->nfs; i++) {
        if (strcmp(s->fs[i].mount, "/") == 0)
            return &s->fs[i];
        double pct = hlc_fs_used_percent(&s->fs[i]);
        if (pct > best_pct) {
            best_pct = pct;
            best = &s->fs[i];
        }
    }
    return best;
}

static double
round2(double v)
{
    return round(v * 100.0) / 100.0;
}

static int64_t
clamp_i(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void
net_totals(const struct hlc_sample *s, uint64_t *rx, uint64_t *tx, double *rxr, double *txr)
{
    *rx = *tx = 0;
    *rxr = *txr = 0;
    bool physical = false;
    for (size_t i = 0; i < s->nnet; i++)
        physical |= !virtual_iface(s->net[i].name);
    for (size_t i = 0; i < s->nnet; i++) {
        if (physical && virtual_iface(s->net[i].name))
            continue;
        *rx += s->net[i].rx_bytes;
        *tx += s->net[i].tx_bytes;
        *rxr += s->net[i].rx_bps;
        *txr += s->net[i].tx_bps;
    }
}

static void
make_point(const struct hlc_sample *s, struct hlc_metric_point *p)
{
    p->timestamp = s->timestamp;
    p->cpu_percent = (s->have & HLC_HAVE_CPU_PERCENT) ? round2(s->cpu_percent) : NAN;
    p->memory_percent = p->disk_percent = p->rx_bps = p->tx_bps = NAN;
    p->load1 = p->load5 = p->load15 = p->cpu_temp_c = NAN;
    p->memory_used = p->memory_total = p->swap_used = p->swap_total = -1;
    p->disk_used = p->disk_total = p->rx_bytes = p->tx_bytes = p->uptime_seconds = -1;
    if (s->have & HLC_HAVE_MEMORY) {
        p->memory_percent = round2(hlc_sample_mem_percent(s));
        p->memory_total = clamp_i(s->mem_total);
        p->memory_used = clamp_i(s->mem_total - s->mem_available);
        p->swap_total = clamp_i(s->swap_total);
        p->swap_used = clamp_i(s->swap_total - s->swap_free);
    }
    const struct hlc_fs *f = (s->have & HLC_HAVE_FS) ? main_fs(s) : NULL;
    if (f) {
        p->disk_percent = round2(hlc_fs_used_percent(f));
        p->disk_used = clamp_i(f->used_bytes);
        p->disk_total = clamp_i(f->total_bytes);
    }
    if (s->have & HLC_HAVE_NET) {
        uint64_t rx, tx;
        double rxr, txr;
        net_totals(s, &rx, &tx, &rxr, &txr);
        p->rx_bytes = clamp_i(rx);
        p->tx_bytes = clamp_i(tx);
        if (s->have & HLC_HAVE_NET_RATES) {
            p->rx_bps = round2(rxr);
            p->tx_bps = round2(txr);
        }
    }
    if (s->have & HLC_HAVE_LOAD) {
        p->load1 = s->load1;
        p->load5 = s->load5;
        p->load15 = s->load15;
    }
    if (s->have & HLC_HAVE_UPTIME)
        p->uptime_seconds = s->uptime_seconds;
    if (s->have & HLC_HAVE_TEMPS)
        p->cpu_temp_c = round2(s->cpu_temp_c);
}

/* The timestamp as ISO 8601 text, or null when unknown. */
static void
put_iso(struct jsonw *w, const char *key, int64_t t)
{
    char iso[32];
    if (t <= 0) {
        jsonw_null(w, key);
        return;
    }
    hlc_time_iso(t, iso);
    jsonw_str(w, key, iso);
}

static void
put_count(struct jsonw *w, const char *key, int64_t v)
{
    if (v < 0)
        jsonw_null(w, key);
    else
        jsonw_int(w, key, v);
}

static void
put_text(struct jsonw *w, const char *key, const char *v)
{
    jsonw_str(w, key, v && *v ? v : NULL);
}

char *
hlc_ingest_latest_text(const struct hlc_sample *s, const char *source,
                       const struct hlc_sample *prev_updates)
{
    struct hlc_metric_point p;
    make_point(s, &p);
    struct jsonw w;
    jsonw_init(&w);
    jsonw_object(&w, NULL);
    put_iso(&w, "timestamp", s->timestamp);
    jsonw_real(&w, "cpu_percent", p.cpu_percent);
    jsonw_real(&w, "memory_percent", p.memory_percent);
    put_count(&w, "memory_used_bytes", p.memory_used);
    put_count(&w, "memory_total_bytes", p.memory_total);
    put_count(&w, "swap_total_bytes", p.swap_total);
    put_count(&w, "swap_used_bytes", p.swap_used);
    jsonw_real(&w, "disk_percent", p.disk_percent);

    if (s->have & HLC_HAVE_FS) {
        jsonw_array(&w, "filesystems");
        for (size_t i = 0; i < s->nfs; i++) {
            const struct hlc_fs *f = &s->fs[i];
            jsonw_object(&w, NULL);
            jsonw_str(&w, "mount", f->mount);
            put_text(&w, "device", f->device);
            put_text(&w, "fstype", f->fstype);
            jsonw_int(&w, "total_bytes", clamp_i(f->total_bytes));
            jsonw_int(&w, "used_bytes", clamp_i(f->used_bytes));
            jsonw_int(&w, "avail_bytes", clamp_i(f->avail_bytes));
            jsonw_real(&w, "percent", round2(hlc_fs_used_percent(f)));
            jsonw_end_object(&w);
        }
        jsonw_end_array(&w);
    } else {
        jsonw_null(&w, "filesystems");
    }

    if (s->have & HLC_HAVE_NET) {
        bool rates = s->have & HLC_HAVE_NET_RATES;
        jsonw_array(&w, "network");
        for (size_t i = 0; i < s->nnet; i++) {
            const struct hlc_net *n = &s->net[i];
            jsonw_object(&w, NULL);
            jsonw_str(&w, "name", n->name);
            jsonw_int(&w, "rx_bytes", clamp_i(n->rx_bytes));
            jsonw_int(&w, "tx_bytes", clamp_i(n->tx_bytes));
            jsonw_real(&w, "rx_bps", rates ? round2(n->rx_bps) : NAN);
            jsonw_real(&w, "tx_bps", rates ? round2(n->tx_bps) : NAN);
            jsonw_end_object(&w);
        }
        jsonw_end_array(&w);
    } else {
        jsonw_null(&w, "network");
    }
    jsonw_real(&w, "network_rx_bps", p.rx_bps);
    jsonw_real(&w, "network_tx_bps", p.tx_bps);
    jsonw_real(&w, "load_1m", p.load1);
    jsonw_real(&w, "load_5m", p.load5);
    jsonw_real(&w, "load_15m", p.load15);
    put_count(&w, "uptime_seconds", p.uptime_seconds);
    put_iso(&w, "boot_time", s->boot_time);
    if (s->cpu_cores)
        jsonw_int(&w, "cpu_cores", s->cpu_cores);
    else
        jsonw_null(&w, "cpu_cores");
    jsonw_real(&w, "cpu_temp_c", p.cpu_temp_c);
    jsonw_array(&w, "temperatures");
    for (size_t i = 0; i < s->ntemps; i++) {
        jsonw_object(&w, NULL);
        jsonw_str(&w, "zone", s->temps[i].zone);
        jsonw_real(&w, "celsius", round2(s->temps[i].celsius));
        jsonw_end_object(&w);
    }
    jsonw_end_array(&w);
    if (s->have & HLC_HAVE_REBOOT)
        jsonw_bool(&w, "reboot_required", s->reboot_required);
    else
        jsonw_null(&w, "reboot_required");
    const struct hlc_sample *u = (s->have & HLC_HAVE_UPDATES) ? s
                                 : (prev_updates && (prev_updates->have & HLC_HAVE_UPDATES))
                                     ? prev_updates
                                     : NULL;
    if (u) {
        jsonw_int(&w, "updates_available", u->updates_pending);
        jsonw_int(&w, "security_updates", u->updates_security);
    } else {
        jsonw_null(&w, "updates_available");
        jsonw_null(&w, "security_updates");
    }
    if (s->have & HLC_HAVE_IDENTITY) {
        jsonw_object(&w, "os");
        put_text(&w, "hostname", s->hostname);
        put_text(&w, "distribution", s->os_name[0] ? s->os_name : s->os_id);
        put_text(&w, "version", s->os_version);
        put_text(&w, "kernel", s->kernel);
        put_text(&w, "architecture", s->arch);
        jsonw_end_object(&w);
    } else {
        jsonw_null(&w, "os");
    }
    jsonw_str(&w, "source", source);
    jsonw_end_object(&w);
    return jsonw_finish(&w);
}

int
hlc_ingest_sample(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s,
                  const char *source)
{
    return hlc_ingest_sample_latest(hub, server_id, s, source, NULL);
}

/* Samples handled since start, for /metrics (one hub per process). */
static _Atomic uint64_t n_stored, n_duplicate, n_failed;

void
hlc_ingest_counts(uint64_t *stored, uint64_t *duplicate, uint64_t *failed)
{
    *stored = atomic_load(&n_stored);
    *duplicate = atomic_load(&n_duplicate);
    *failed = atomic_load(&n_failed);
}

static int ingest_one(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s,
                      const char *source, char **latest, bool *duplicate);

int
hlc_ingest_sample_latest(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s,
                         const char *source, char **latest)
{
    bool dup = false;
    int rc = ingest_one(hub, server_id, s, source, latest, &dup);
    /* An unknown machine is not counted: the heartbeat registers it and
     * hands the same sample in again. */
    if (rc != HLC_ENOTFOUND)
        atomic_fetch_add(rc != 0 ? &n_failed : dup ? &n_duplicate : &n_stored, 1);
    return rc;
}

static int
ingest_one(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s, const char *source,
           char **latest, bool *dup_out)
{
    if (latest)
        *latest = NULL;
    if (!hub || !hub->store || !server_id || !s || !source ||
        (strcmp(source, "ssh") != 0 && strcmp(source, "agent") != 0))
        return HLC_EINVAL;
    int64_t now = hlc_now();
    if (s->timestamp <= 0)
        s->timestamp = now;
    /* A sample from the future would hold the latest row until the clock
     * caught up, hiding every correct sample meanwhile: refuse it. */
    if (s->timestamp > now + HLC_INGEST_MAX_SKEW)
        return HLC_EINVAL;
    /* Without /proc/stat's btime (or when the timestamp was set after
     * parsing), boot time follows from the sample's time and uptime. */
    if ((s->have & HLC_HAVE_UPTIME) && s->boot_time <= 0 && s->timestamp > s->uptime_seconds)
        s->boot_time = s->timestamp - s->uptime_seconds;

    uint64_t hash[3] = {0, 0, 0};
    struct hlc_sample prev;
    hlc_sample_init(&prev);
    bool have_prev = cache_begin(hub->ingest, server_id, &prev);
    if (!have_prev) {
        int brc = hlc_store_metrics_baseline(hub->store, server_id, &prev);
        if (brc != 0 && brc != HLC_ENOTFOUND) {
            hlc_sample_release(&prev);
            cache_end(hub->ingest, server_id, s, false, hash);
            return brc;
        }
        have_prev = brc == 0;
    }
    /* derive() refuses a prev not older than s, leaving s a new baseline. */
    hlc_sample_derive(have_prev ? &prev : NULL, s);
    /* After derive: a service's CPU % is part of its stored row. */
    snapshot_hashes(s, hash);
    unsigned write = cache_write_mask(hub->ingest, server_id, hash);

    struct hlc_metric_point p;
    make_point(s, &p);
    char *text = hlc_ingest_latest_text(s, source, have_prev ? &prev : NULL);
    hlc_sample_release(&prev);
    struct hlc_metric_write w = {
        .id = server_id, .smp = s, .point = &p, .source = source, .latest_json = text,
        .write_snapshots = write, .now = now, .rc = HLC_EINVAL,
    };
    if (text) /* only a sample with non-UTF-8 text fails to encode */
        commit_grouped(hub, &w);
    int rc = w.rc;
    bool duplicate = w.duplicate, newest = w.newest;
    if (latest && rc == 0 && newest)
        *latest = text; /* what the latest row now holds */
    else
        free(text);
    cache_end(hub->ingest, server_id, s, rc == 0 && newest, hash);
    if (rc == HLC_ENOTFOUND)
        cache_drop(hub->ingest, server_id);
    *dup_out = duplicate;
    if (rc != 0 || duplicate)
        return rc;
    struct hlc_event ev = {
        .kind = HLC_EV_SAMPLE_STORED, .server_id = server_id, .source = source, .sample = s,
    };
    hlc_bus_publish(hub->bus, &ev);
    return 0;
}

/* ---- background service: pruning ------------------------------------------ */

static void *
pruner_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_ingest *in = hub->ingest;
    int64_t wait_s = 30; /* first pass soon after start, then every PRUNE_PERIOD_S */
    for (;;) {
        struct timespec until;
        hlc_abstime_in(wait_s * 1000, &until);
        pthread_mutex_lock(&in->stop_mu);
        while (!in->stopping &&
               pthread_cond_timedwait(&in->stop_cv, &in->stop_mu, &until) == 0) {
        }
        bool stop = in->stopping;
        pthread_mutex_unlock(&in->stop_mu);
        if (stop)
            break;
        wait_s = PRUNE_PERIOD_S;
        int64_t now = hlc_now();
        long total = 0;
        for (;;) {
            int deleted = 0;
            int rc = hlc_store_metrics_prune(hub->store, now - HLC_METRICS_SAMPLE_DAYS * 86400LL,
                                             now - HLC_METRICS_HOURLY_DAYS * 86400LL,
                                             PRUNE_BATCH, &deleted);
            if (rc != 0 || deleted == 0)
                break;
            total += deleted;
            /* Let queued ingest transactions take the write lock in between. */
            struct timespec pause = {0, 20 * 1000 * 1000};
            nanosleep(&pause, NULL);
            pthread_mutex_lock(&in->stop_mu);
            stop = in->stopping;
            pthread_mutex_unlock(&in->stop_mu);
            if (stop)
                return NULL;
        }
        if (total > 0)
            hlc_log(HLC_LOG_INFO, "metrics: pruned %ld rows past retention", total);
        int scans = 0;
        if (hlc_store_scans_prune(hub->store, now - HLC_SCANS_KEEP_DAYS * 86400LL, &scans) == 0 &&
            scans > 0)
            hlc_log(HLC_LOG_INFO, "scans: pruned %d scan(s) older than %d days", scans,
                    HLC_SCANS_KEEP_DAYS);
    }
    return NULL;
}

int
hlc_ingest_start(struct hlc_hub *hub)
{
    if (hub->ingest)
        return 0;
    struct hlc_ingest *in = hlc_xcalloc(1, sizeof(*in));
    pthread_mutex_init(&in->mu, NULL);
    pthread_mutex_init(&in->group_mu, NULL);
    pthread_mutex_init(&in->stop_mu, NULL);
    pthread_cond_init(&in->stop_cv, NULL);
    hub->ingest = in;
    if (pthread_create(&in->pruner, NULL, pruner_main, hub) != 0) {
        hlc_log(HLC_LOG_ERROR, "metrics: cannot start the pruning thread");
        hlc_ingest_stop(hub);
        return HLC_ENOMEM;
    }
    in->pruner_running = true;
    return 0;
}

void
hlc_ingest_stop(struct hlc_hub *hub)
{
    struct hlc_ingest *in = hub ? hub->ingest : NULL;
    if (!in)
        return;
    if (in->pruner_running) {
        pthread_mutex_lock(&in->stop_mu);
        in->stopping = true;
        pthread_cond_signal(&in->stop_cv);
        pthread_mutex_unlock(&in->stop_mu);
        pthread_join(in->pruner, NULL);
    }
    hub->ingest = NULL;
    for (int i = 0; i < CACHE_BUCKETS; i++)
        while (in->buckets[i]) {
            struct baseline *b = in->buckets[i];
            in->buckets[i] = b->next;
            hlc_sample_release(&b->s);
            free(b);
        }
    pthread_mutex_destroy(&in->mu);
    pthread_mutex_destroy(&in->group_mu);
    pthread_mutex_destroy(&in->stop_mu);
    pthread_cond_destroy(&in->stop_cv);
    free(in);
}
