/* services.c - the hub's background services, started in order after the
 * store opens and stopped in reverse before it closes, and the one place
 * where the domain rooms are wired to each other through the event bus. */
#include <stddef.h>

#include "cli.h"
#include "actions.h"
#include "alerts.h"
#include "api_events.h"
#include "bus.h"
#include "hub.h"
#include "enroll.h"
#include "gpu.h"
#include "checks.h"
#include "ollama.h"
#include "ingest.h"
#include "notifier.h"
#include "packs.h"
#include "remote.h"
#include "scans.h"
#include "tailscale.h"
#include "drift.h"

#define MAX_WIRES 4

/* One subscription a service makes once it runs (and ends before it stops). */
struct wire {
    unsigned mask;             /* HLC_EV_BIT of each kind */
    enum hlc_bus_delivery how; /* inline or on a worker */
    hlc_bus_fn fn;             /* called with the hub */
};

struct service {
    const char *name;                       /* for logs */
    int (*start)(struct hlc_hub *hub);      /* 0 or negative HLC_E* (logged by it) */
    void (*stop)(struct hlc_hub *hub);      /* idempotent */
    struct wire wires[MAX_WIRES];           /* ends at fn == NULL */
};

/* Who hears what:
 *   poller -> ingest -> store, then sample_stored -> alerts, event streams;
 *   poller's host_key_changed -> alerts;
 *   alerts' alert_raised (critical service down) -> actions (queue a restart);
 *   alert_raised/resolved and actions' action_finished -> notifier (wake the
 *   sender: the rows were committed with their cause); the notifier is wired
 *   after actions so a remediation queued inline is on the alert before the
 *   sender reads it;
 *   alerts' alert_raised/resolved -> event streams (those a sample caused
 *   already went out as the sample's event); action_finished -> event streams;
 *   sample_stored -> gpu (readings stored, gpu_temperature judged, inline);
 *   sample_stored -> ollama (a polled machine's endpoint is probed, on a
 *   worker: it waits on the network). */
static const struct service services[] = {
    {"metrics", hlc_ingest_start, hlc_ingest_stop, {{0}}},
    {"poller", hlc_remote_start, hlc_remote_stop, {{0}}},
    {"scans", hlc_scans_start, hlc_scans_stop, {{0}}},
    {"actions", hlc_actions_start, hlc_actions_stop,
     {{HLC_EV_BIT(HLC_EV_ALERT_RAISED), HLC_BUS_INLINE, hlc_actions_on_event}}},
    {"notifier", hlc_notifier_start, hlc_notifier_stop,
     {{HLC_EV_BIT(HLC_EV_ALERT_RAISED) | HLC_EV_BIT(HLC_EV_ALERT_RESOLVED) |
           HLC_EV_BIT(HLC_EV_ACTION_FINISHED),
       HLC_BUS_INLINE, hlc_notifier_on_event}}},
    {"alerts", hlc_alerts_start, hlc_alerts_stop,
     {{HLC_EV_BIT(HLC_EV_SAMPLE_STORED) | HLC_EV_BIT(HLC_EV_HOST_KEY_CHANGED), HLC_BUS_INLINE,
       hlc_alerts_on_event},
      {HLC_EV_BIT(HLC_EV_SAMPLE_STORED), HLC_BUS_INLINE, hlc_gpu_on_event}}},
    {"events", hlc_events_start, hlc_events_stop,
     {{HLC_EV_BIT(HLC_EV_SAMPLE_STORED) | HLC_EV_BIT(HLC_EV_ALERT_RAISED) |
           HLC_EV_BIT(HLC_EV_ALERT_RESOLVED) | HLC_EV_BIT(HLC_EV_ACTION_FINISHED),
       HLC_BUS_INLINE, hlc_events_on_event}}},
    {"tailscale", hlc_tailscale_start, hlc_tailscale_stop, {{0}}},
    {"enroll", hlc_enroll_start, hlc_enroll_stop, {{0}}},
    {"packs", hlc_packs_start, hlc_packs_stop, {{0}}},
    {"drift", hlc_drift_start, hlc_drift_stop, {{0}}},
    {"checks", hlc_checks_start, hlc_checks_stop, {{0}}},
    {"ollama", hlc_ollama_start, hlc_ollama_stop,
     {{HLC_EV_BIT(HLC_EV_SAMPLE_STORED), HLC_BUS_WORKER, hlc_ollama_on_event}}},
    {NULL, NULL, NULL, {{0}}},
};

#define NSERVICES (sizeof(services) / sizeof(services[0]) - 1)

static size_t started;
static int subs[NSERVICES][MAX_WIRES]; /* subscription ids, 0 = none */

static void
unwire(struct hlc_hub *hub, size_t i)
{
    for (size_t w = 0; w < MAX_WIRES; w++) {
        hlc_bus_unsubscribe(hub->bus, subs[i][w]);
        subs[i][w] = 0;
    }
}

int
hlc_services_start(struct hlc_hub *hub)
{
    for (started = 0; services[started].name; started++) {
        const struct service *sv = &services[started];
        if (sv->start(hub) != 0) {
            hlc_log(HLC_LOG_ERROR, "could not start %s", sv->name);
            hlc_services_stop(hub);
            return -1;
        }
        for (size_t w = 0; w < MAX_WIRES && sv->wires[w].fn && hub->bus; w++) {
            int id = hlc_bus_subscribe(hub->bus, sv->name, sv->wires[w].mask, sv->wires[w].how,
                                       sv->wires[w].fn, hub);
            if (id < 0) {
                hlc_log(HLC_LOG_ERROR, "could not subscribe %s to the bus: %s", sv->name,
                        hlc_strerror(id));
                started++; /* its stop must run too */
                hlc_services_stop(hub);
                return -1;
            }
            subs[started][w] = id;
        }
    }
    return 0;
}

void
hlc_services_stop(struct hlc_hub *hub)
{
    while (started > 0) {
        started--;
        unwire(hub, started); /* no delivery to a service that is stopping */
        services[started].stop(hub);
    }
}
