/* services.c - the hub's background services, started in order after the
 * store opens and stopped in reverse before it closes. */
#include <stddef.h>

#include "cli.h"
#include "actions.h"
#include "alerts.h"
#include "api_events.h"
#include "checks.h"
#include "ingest.h"
#include "remote.h"

struct service {
    const char *name;                       /* for logs */
    int (*start)(struct hlc_hub *hub);      /* 0 or negative HLC_E* (logged by it) */
    void (*stop)(struct hlc_hub *hub);      /* idempotent */
};

static const struct service services[] = {
    {"metrics", hlc_ingest_start, hlc_ingest_stop},
    {"poller", hlc_remote_start, hlc_remote_stop},
    {"actions", hlc_actions_start, hlc_actions_stop},
    {"alerts", hlc_alerts_start, hlc_alerts_stop},
    {"events", hlc_events_start, hlc_events_stop},
    {"checks", hlc_checks_start, hlc_checks_stop},
    {NULL, NULL, NULL},
};

static size_t started;

int
hlc_services_start(struct hlc_hub *hub)
{
    for (started = 0; services[started].name; started++) {
        if (services[started].start(hub) != 0) {
            hlc_log(HLC_LOG_ERROR, "could not start %s", services[started].name);
            hlc_services_stop(hub);
            return -1;
        }
    }
    return 0;
}

void
hlc_services_stop(struct hlc_hub *hub)
{
    while (started > 0) {
        started--;
        services[started].stop(hub);
    }
}
