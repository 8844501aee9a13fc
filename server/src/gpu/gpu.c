/* gpu.c - records each sample's GPU readings and is the one place the
 * gpu_temperature alert is raised and resolved. */
#include "gpu.h"

#include <math.h>
#include <stdio.h>

#include "alerts.h"
#include "bus.h"
#include "config.h"
#include "hlc/base.h"
#include "hlc/sample.h"
#include "hub.h"
#include "store.h"

/* Raises gpu_temperature at the warning threshold (critical severity at
 * the critical one) and resolves it once every GPU is below warning. */
static void
judge(struct hlc_hub *hub, const char *server_id, const struct hlc_sample *s)
{
    const struct hlc_gpu *hot = NULL;
    for (size_t i = 0; i < s->ngpus; i++)
        if (isfinite(s->gpus[i].temp_c) && (!hot || s->gpus[i].temp_c > hot->temp_c))
            hot = &s->gpus[i];
    if (!hot)
        return; /* no temperature read: nothing to say either way */
    double warn = hlc_config_number(hub->store, "thresholds", "gpu_temperature_warning_c", 80);
    double crit = hlc_config_number(hub->store, "thresholds", "gpu_temperature_critical_c", 90);
    bool active = hot->temp_c >= warn;
    char title[128], message[300];
    snprintf(title, sizeof(title), "GPU %.15s at %.0f °C", hot->id, hot->temp_c);
    if (active)
        snprintf(message, sizeof(message),
                 "GPU %.15s (%.95s) on %.63s is at %.1f °C (warning %.0f °C, critical %.0f °C). "
                 "Check its fans and airflow, or what is loading it.",
                 hot->id, hot->name[0] ? hot->name : hot->vendor, server_id, hot->temp_c, warn,
                 crit);
    else
        snprintf(message, sizeof(message), "Every GPU is below %.0f °C again (hottest %.1f °C).",
                 warn, hot->temp_c);
    hlc_alerts_condition(hub, server_id, "gpu_temperature",
                         hot->temp_c >= crit ? "critical" : "high", title, message, active);
}

void
hlc_gpu_on_event(void *ud, const struct hlc_event *ev)
{
    struct hlc_hub *hub = ud;
    const struct hlc_sample *s = ev->sample;
    if (ev->kind != HLC_EV_SAMPLE_STORED || !s || !ev->server_id || !(s->have & HLC_HAVE_GPUS))
        return;
    if (hlc_store_gpu_put(hub->store, ev->server_id, s->timestamp, s->gpus, s->ngpus,
                          s->timestamp - HLC_GPU_KEEP_DAYS * 86400LL,
                          s->timestamp - HLC_GPU_HOURLY_KEEP_DAYS * 86400LL) != 0)
        return;
    judge(hub, ev->server_id, s);
}
