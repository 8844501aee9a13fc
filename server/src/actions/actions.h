/* actions.h - remediation actions: queued, approved (by an operator or by
 * the remediation config's auto-approve), run on the machine's pooled SSH
 * session through executor/'s whitelist, and recorded with an audit row.
 *
 * States: pending -> approved -> executing -> completed | failed, or
 * pending -> rejected. Every move is one conditional UPDATE in the store, so
 * two callers can never make the same move (two approvals: one runs, the
 * other gets HLC_ESTATE). All functions are thread-safe. */
#ifndef HLC_ACTIONS_H
#define HLC_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hlc/executor.h"

struct hlc_hub;

/* stdout and stderr are each kept up to this many bytes (marked when cut);
 * the audit row keeps HLC_AUDIT_OUT_CAP of each. */
#define HLC_ACTION_OUT_CAP (64 * 1024)
#define HLC_AUDIT_OUT_CAP (8 * 1024)
/* Finished actions are kept this long (TRD §5); the audit log forever. */
#define HLC_ACTIONS_KEEP_DAYS 90

/* For the alerts engine: queues a remediation action on `server_id`
 * (pending), or, when the remediation config auto-approves `action_type`,
 * approves it and runs it on the actions worker thread at once (the call
 * does not wait for the command). `target` is checked against the type's
 * pattern; `alert_id` may be NULL. *action_out (may be NULL) receives the
 * action as the API shows it. 0, HLC_EINVAL (unknown type), HLC_EDENIED
 * (target refused by the whitelist; nothing queued), HLC_ENOTFOUND (no such
 * machine or custom script), HLC_EDB. */
struct hlc_event;

/* The actions service's bus subscriber (inline; ud is the hub): an
 * alert_raised event flagged HLC_EVF_WANTS_RESTART queues a restart_service
 * of its subject (or unit), one flagged HLC_EVF_WANTS_APPLY an apply_pack of
 * its pack, linked to the alert (run at once when auto-approve allows). */
void hlc_actions_on_event(void *hub, const struct hlc_event *ev);

int hlc_actions_queue(struct hlc_hub *hub, const char *server_id, const char *action_type,
                      const char *target, const char *alert_id, json_t **action_out);

/* What asked for an action, for the record. */
struct hlc_action_req {
    const char *server_id;     /* machine */
    enum hlc_action_type type; /* whitelisted type */
    const char *target;        /* its target (validated here again) */
    int days;                  /* clear_logs journal: days to keep, 0 = default */
    const char *alert_id;      /* triggering alert or NULL */
    const char *requested_by;  /* "api_key@<ip>", "alert:<id>" */
};

/* Creates the action with its command line built for review. approved:
 * created already approved (an operator's button: the request is the
 * approval); otherwise pending, or approved with auto_approved set when the
 * remediation config covers the type (*auto_out tells). id_out gets the uuid.
 * Errors as hlc_actions_queue. */
int hlc_actions_create(struct hlc_hub *hub, const struct hlc_action_req *req, bool approved,
                       char id_out[static 37], bool *auto_out);

/* How a run ended. */
enum hlc_run_kind {
    HLC_RUN_DONE,        /* the command ran to its end (see the action's exit_code) */
    HLC_RUN_TIMEOUT,     /* it outlived its timeout: failed, reason "timeout" */
    HLC_RUN_UNREACHABLE, /* nothing ran: machine offline, auth or host key refused */
    HLC_RUN_REFUSED,     /* nothing ran: the command no longer builds as queued */
    HLC_RUN_ERROR,       /* nothing ran: hub-side failure */
};

/* Runs an approved action now on the calling thread: approved -> executing,
 * exec with the type's timeout, then completed|failed with the outcome and
 * an audit row (trigger "api_key" or "auto_approve", actor who). Service and
 * container actions queue a re-poll of the machine afterwards. *kind says
 * how it ended, *reason (static text or NULL) why nothing ran; *action_out
 * (may be NULL) the final action. 0 once the action is finished (whatever
 * the outcome), HLC_ENOTFOUND, HLC_ESTATE (not approved: someone else runs
 * or ran it), HLC_EDB. */
int hlc_actions_execute(struct hlc_hub *hub, const char *id, const char *trigger,
                        const char *actor, enum hlc_run_kind *kind, json_t **action_out);

/* Runs an approved action on the actions worker thread instead of the
 * caller's (apply_updates may take an hour: no HTTP thread waits for it).
 * false when the worker is not running (the caller runs it itself). */
bool hlc_actions_run_later(struct hlc_hub *hub, const char *id, const char *trigger,
                           const char *actor);

/* The action with the TRD's "result" object added (new reference). */
int hlc_actions_get(struct hlc_hub *hub, const char *id, json_t **out);
/* Adds the TRD "result" object to an action from the store, in place. */
void hlc_actions_decorate(json_t *action);

/* Whether the remediation config auto-approves `type` now: enabled, listed in
 * auto_approve_actions and not in require_approval_actions. */
bool hlc_actions_auto_approved(struct hlc_hub *hub, enum hlc_action_type type);

/* Background service: marks actions a stopped hub left approved/executing
 * as failed, prunes finished actions past HLC_ACTIONS_KEEP_DAYS (at start and
 * then at most daily, when the worker next wakes), then runs the worker
 * threads (long and auto-approved runs, re-polls). */
int hlc_actions_start(struct hlc_hub *hub);
void hlc_actions_stop(struct hlc_hub *hub);

#endif
