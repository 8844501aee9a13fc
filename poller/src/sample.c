/* sample.c - lifecycle of a sample and the rates derived from two of them. */
#include <stdlib.h>
#include <string.h>

#include "hlc/sample.h"

void
hlc_sample_init(struct hlc_sample *s)
{
    memset(s, 0, sizeof(*s));
}

void
hlc_sample_release(struct hlc_sample *s)
{
    if (!s)
        return;
    free(s->fs);
    free(s->net);
    free(s->services);
    free(s->containers);
    free(s->temps);
    free(s->gpus);
    memset(s, 0, sizeof(*s));
}

double
hlc_sample_mem_percent(const struct hlc_sample *s)
{
    if (!(s->have & HLC_HAVE_MEMORY) || s->mem_total == 0 || s->mem_available > s->mem_total)
        return 0.0;
    return 100.0 * (double)(s->mem_total - s->mem_available) / (double)s->mem_total;
}

double
hlc_fs_used_percent(const struct hlc_fs *f)
{
    uint64_t denom = f->used_bytes + f->avail_bytes;
    return denom ? 100.0 * (double)f->used_bytes / (double)denom : 0.0;
}

const char *
hlc_sample_service_status(const struct hlc_service *svc)
{
    const char *a = svc->active_state;
    if (strcmp(svc->load_state, "not-found") == 0)
        return "stopped";
    if (strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0 || strcmp(a, "activating") == 0)
        return "running";
    if (strcmp(a, "failed") == 0)
        return "failed";
    if (strcmp(a, "inactive") == 0 || strcmp(a, "deactivating") == 0 || strcmp(a, "maintenance") == 0)
        return "stopped";
    return "unknown";
}

static const struct hlc_net *
find_net(const struct hlc_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nnet; i++)
        if (strcmp(s->net[i].name, name) == 0)
            return &s->net[i];
    return NULL;
}

static const struct hlc_service *
find_service(const struct hlc_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nservices; i++)
        if (strcmp(s->services[i].name, name) == 0)
            return &s->services[i];
    return NULL;
}

/* Each service's CPU % of one core between the two samples, from systemd's
 * CPUUsageNSec, unless the machine reported one itself. */
static void
derive_services(const struct hlc_sample *prev, struct hlc_sample *cur, double secs)
{
    for (size_t i = 0; i < cur->nservices; i++) {
        struct hlc_service *v = &cur->services[i];
        if (v->has_cpu_percent || v->cpu_usage_ns < 0)
            continue;
        const struct hlc_service *p = find_service(prev, v->name);
        /* A restart in between (a new main PID, or the unit's counter begun
         * again) leaves no comparable pair: this sample is the baseline. */
        if (!p || p->cpu_usage_ns < 0 || v->cpu_usage_ns < p->cpu_usage_ns ||
            (p->main_pid > 0 && v->main_pid > 0 && p->main_pid != v->main_pid))
            continue;
        v->cpu_percent = 100.0 * (double)(v->cpu_usage_ns - p->cpu_usage_ns) / (secs * 1e9);
        v->has_cpu_percent = true;
    }
}

void
hlc_sample_derive(const struct hlc_sample *prev, struct hlc_sample *cur)
{
    if (cur->have & HLC_HAVE_CPU_REPORTED) {
        cur->have &= ~(unsigned)HLC_HAVE_NET_RATES;
    } else {
        cur->have &= ~(unsigned)(HLC_HAVE_CPU_PERCENT | HLC_HAVE_NET_RATES);
        cur->cpu_percent = 0.0;
    }
    for (size_t i = 0; i < cur->nnet; i++)
        cur->net[i].rx_bps = cur->net[i].tx_bps = 0.0;
    if (!prev || prev->timestamp >= cur->timestamp)
        return;
    /* A machine that rebooted in between restarts its counters: a new boot
     * time (beyond clock jitter) means no delta is meaningful. */
    if ((prev->have & cur->have & HLC_HAVE_UPTIME) &&
        llabs(prev->boot_time - cur->boot_time) > 5)
        return;

    if ((prev->have & cur->have & HLC_HAVE_CPU) && cur->cpu_total > prev->cpu_total &&
        cur->cpu_idle >= prev->cpu_idle) {
        uint64_t dt = cur->cpu_total - prev->cpu_total;
        uint64_t di = cur->cpu_idle - prev->cpu_idle;
        if (di <= dt) {
            cur->cpu_percent = 100.0 * (double)(dt - di) / (double)dt;
            cur->have |= HLC_HAVE_CPU_PERCENT;
        }
    }

    if (prev->have & cur->have & HLC_HAVE_SERVICES)
        derive_services(prev, cur, (double)(cur->timestamp - prev->timestamp));

    if (prev->have & cur->have & HLC_HAVE_NET) {
        double secs = (double)(cur->timestamp - prev->timestamp);
        bool any = false;
        for (size_t i = 0; i < cur->nnet; i++) {
            const struct hlc_net *p = find_net(prev, cur->net[i].name);
            if (!p || cur->net[i].rx_bytes < p->rx_bytes || cur->net[i].tx_bytes < p->tx_bytes)
                continue; /* new interface or a wrapped counter: baseline only */
            cur->net[i].rx_bps = (double)(cur->net[i].rx_bytes - p->rx_bytes) / secs;
            cur->net[i].tx_bps = (double)(cur->net[i].tx_bytes - p->tx_bytes) / secs;
            any = true;
        }
        if (any)
            cur->have |= HLC_HAVE_NET_RATES;
    }
}
