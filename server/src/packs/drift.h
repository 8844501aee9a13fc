/* drift.h - pack assignments and scheduled drift detection.
 *
 * A machine's packs are its own plus those of each of its tags. Every stored
 * check of an assigned pack is judged (hlc_drift_judge, called by
 * hlc_packs_check, so a re-check after an apply counts too): a machine that
 * had complied and no longer does raises config_drift (subject
 * "pack:<name>", one per machine and pack, naming the drifted items; the
 * diff is in GET /api/v1/servers/{id}/compliance); one that never complied
 * raises config_noncompliant once; a compliant check resolves both.
 * The drift service checks every assigned pack on every machine not known to
 * be offline once per packs.drift_interval_hours (or the machine's
 * override); a machine it cannot reach is skipped with no alert and tried
 * again on a later round. A round checks up to 5 machines at once (one
 * worker each, every pack of a machine in turn). Thread-safe. */
#ifndef HLC_DRIFT_H
#define HLC_DRIFT_H

#include <stdbool.h>

#include <jansson.h>

#include "hlc/pack.h"

struct hlc_hub;

/* At most this many packs in one assignment list. */
#define HLC_DRIFT_MAX_ASSIGNED 32

/* Judges a stored check of p on machine id (see above). */
void hlc_drift_judge(struct hlc_hub *hub, const char *id, const struct hlc_pack *p,
                     bool compliant, json_t *items);

/* Whether pack `name` is assigned to machine id (directly or by tag). */
bool hlc_drift_assigned(struct hlc_hub *hub, const char *id, const char *name);

/* Resolves machine id's active config_drift / config_noncompliant alerts of
 * packs no longer assigned to it (id NULL: every machine's), after an
 * assignment changed. */
void hlc_drift_settle(struct hlc_hub *hub, const char *id);

/* One scheduled round now: every due machine (every reachable machine when
 * `all`). *out = {machines, checks, compliant, not_compliant, unreachable,
 * errors} (new). 0 or a store error. One round at a time. */
int hlc_drift_run(struct hlc_hub *hub, bool all, json_t **out);

/* The scheduler service. */
int hlc_drift_start(struct hlc_hub *hub);
void hlc_drift_stop(struct hlc_hub *hub);

#endif
