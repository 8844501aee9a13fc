/* alerts.h - the alert engine.
 *
 * Every ingested sample (SSH poll or agent heartbeat) is evaluated against
 * the thresholds: disk per filesystem, memory, CPU sustained over several
 * samples, expected services (critical ones high, others medium),
 * containers, updates, security updates, reboot required; a periodic sweep
 * raises server_offline for silent server-type machines (never for
 * workstations) and the poller reports changed host keys. At most one
 * active alert per machine, type and subject; an alert whose condition
 * clears resolves itself (auto_resolved). A critical service down queues a
 * restart_service action linked to its alert (run at once when the
 * remediation config auto-approves it).
 *
 * Each raised or resolved alert's notification is written as outbox rows
 * (one per configured channel, unless muted or its severity's switch is off)
 * in the same transaction as the alert, then alert_raised / alert_resolved
 * go out on the bus; notifier/ delivers the rows. All functions are
 * thread-safe. */
#ifndef HLC_ALERTS_H
#define HLC_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;
struct hlc_sample;

struct hlc_event;
struct hlc_alert_mute;
struct hlc_verr;

/* The engine's bus subscriber (inline; ud is the hub): sample_stored
 * evaluates the sample, host_key_changed raises host_key_changed. */
void hlc_alerts_on_event(void *hub, const struct hlc_event *ev);

/* Evaluates a stored sample of machine server_id ("ssh" or "agent"). */
void hlc_alerts_evaluate(struct hlc_hub *hub, const char *server_id,
                         const struct hlc_sample *s, const char *source);

/* The poller met a changed host key on server_id: raises host_key_changed. */
void hlc_alerts_host_key_changed(struct hlc_hub *hub, const char *server_id,
                                 const char *fingerprint);

/* A condition no sample carries (a Tailscale node key about to expire, a
 * node that left the tailnet): when `active`, raises one alert of `type` on
 * server_id unless one is active already; when not, resolves the active one
 * automatically with `message` as the reason. True when an alert was raised
 * or resolved. */
bool hlc_alerts_condition(struct hlc_hub *hub, const char *server_id, const char *type,
                          const char *severity, const char *title, const char *message,
                          bool active);
/* A service check's condition at one place (checks.c is the only caller):
 * raise (active) or resolve the alert of `type` (check_failed,
 * certificate_expiring) about `subject` ("check:<id>@<place>") on machine
 * server_id, NULL for a check from the hub tied to no machine. A raised
 * alert with `service` set (and a server_id) queues that unit's
 * restart_service action, as a critical service found down does; one with
 * `apply_pack` set (and a server_id) offers that pack's apply as its
 * remediation (an apply_pack action, pending unless auto-approved). When
 * resolving, `message` says why. Config-pack drift (packs/drift.c) uses it
 * too. */
struct hlc_alert_check {
    const char *server_id; /* may be NULL */
    const char *type;
    const char *severity;
    const char *subject;
    const char *title;
    const char *message;
    const char *service;   /* may be NULL */
    const char *apply_pack; /* may be NULL */
    double value, threshold; /* NaN = none */
    bool active;
};
/* True when an alert was raised or resolved. */
bool hlc_alerts_check(struct hlc_hub *hub, const struct hlc_alert_check *ac);

/* Mute rules (alert_rules.c). Reads a POST /api/v1/alert-mutes body into
 * *m (its strings borrowed from body): server_id (machine id or null),
 * alert_type (a-z _ or null), until (a time within a year) or
 * duration_minutes (1 to a year's worth), not both, reason (printable,
 * <= 200). false with *e filled. Pure: no store, thread-safe. */
bool hlc_alerts_mute_parse(json_t *body, int64_t now, struct hlc_alert_mute *m,
                           struct hlc_verr *e);

/* Background service: the offline sweep and pruning thread. */
int hlc_alerts_start(struct hlc_hub *hub);
void hlc_alerts_stop(struct hlc_hub *hub);

#endif
