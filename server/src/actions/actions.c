/* actions.c - remediation actions: create, approve, run over SSH, record. */
#include "actions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "bus.h"
#include "config.h"
#include "credentials.h"
#include "hlc/poller.h"
#include "hub.h"
#include "notifier.h"
#include "remote.h"
#include "store.h"

/* Defaults when the remediation config cannot be read. */
#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_UPDATES_TIMEOUT_S 3600

/* ---- worker: auto-approved runs and re-polls, off the caller's thread ---- */

enum job_kind { JOB_EXEC, JOB_REPOLL };

/* A re-poll waits until the machine has had no action for this long, so a
 * burst of actions (or a script clicking restart in a loop) costs one poll
 * at its end instead of one poll competing with every next command. */
#define REPOLL_DEBOUNCE_MS 500

struct job {
    enum job_kind kind;  /* what to do */
    int64_t due_ms;      /* monotonic time it may start */
    char id[64];         /* action id (JOB_EXEC) or server id (JOB_REPOLL) */
    char actor[96];      /* JOB_EXEC: who triggered it */
    char trigger[16];    /* JOB_EXEC: "api_key" or "auto_approve" */
    struct job *next;    /* queue link */
};

#define NWORKERS 2

struct hlc_actions {
    struct hlc_hub *hub;           /* back pointer */
    pthread_mutex_t mu;            /* guards the queue and stop */
    pthread_cond_t cv;             /* signalled on a new job or stop */
    struct job *head, *tail;       /* FIFO of jobs */
    bool stop;                     /* workers exit when set */
    pthread_t th[NWORKERS];        /* the worker threads */
    int64_t pruned_at;             /* wall time of the last prune (under mu) */
    int nthreads;                  /* how many started */
};

static void
enqueue(struct hlc_hub *hub, enum job_kind kind, const char *id, const char *trigger,
        const char *actor)
{
    struct hlc_actions *a = hub->actions;
    if (!a)
        return; /* not started (unit tests): nothing runs in the background */
    int64_t due = hlc_mono_ms() + (kind == JOB_REPOLL ? REPOLL_DEBOUNCE_MS : 0);
    pthread_mutex_lock(&a->mu);
    if (kind == JOB_REPOLL) {
        /* One pending re-poll per machine is enough: push it back. */
        for (struct job *j = a->head; j; j = j->next) {
            if (j->kind == JOB_REPOLL && strcmp(j->id, id) == 0) {
                j->due_ms = due;
                pthread_mutex_unlock(&a->mu);
                return;
            }
        }
    }
    if (a->stop) {
        pthread_mutex_unlock(&a->mu);
        return;
    }
    struct job *j = hlc_xcalloc(1, sizeof(*j));
    j->kind = kind;
    j->due_ms = due;
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->actor, sizeof(j->actor), "%s", actor ? actor : "");
    snprintf(j->trigger, sizeof(j->trigger), "%s", trigger ? trigger : "auto_approve");
    if (a->tail)
        a->tail->next = j;
    else
        a->head = j;
    a->tail = j;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Unlinks and returns the first job that is due, or NULL; *wait_ms gets
 * how long until the earliest one is (-1 = none queued). Under a->mu. */
static struct job *
take_due(struct hlc_actions *a, int64_t *wait_ms)
{
    int64_t now = hlc_mono_ms();
    *wait_ms = -1;
    for (struct job **pp = &a->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        struct job *j = *pp;
        if (j->due_ms <= now) {
            *pp = j->next;
            if (a->tail == j)
                a->tail = prev;
            return j;
        }
        if (*wait_ms < 0 || j->due_ms - now < *wait_ms)
            *wait_ms = j->due_ms - now;
    }
    return NULL;
}

/* Deletes finished actions past their retention. */
static void
prune(struct hlc_hub *hub)
{
    int n = 0;
    int rc = hlc_store_action_prune(hub->store, hlc_now() - HLC_ACTIONS_KEEP_DAYS * 86400LL, &n);
    if (rc != 0)
        hlc_log(HLC_LOG_WARN, "actions: pruning finished actions: %s", hlc_strerror(rc));
    else if (n > 0)
        hlc_log(HLC_LOG_INFO, "actions: pruned %d finished action(s) older than %d days", n,
                HLC_ACTIONS_KEEP_DAYS);
}

static void *
worker(void *arg)
{
    struct hlc_actions *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct job *j = NULL;
        int64_t wait_ms = -1;
        while (!a->stop && !(j = take_due(a, &wait_ms))) {
            if (wait_ms < 0) {
                pthread_cond_wait(&a->cv, &a->mu);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += wait_ms / 1000;
                ts.tv_nsec += (wait_ms % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&a->cv, &a->mu, &ts);
            }
        }
        if (a->stop) {
            free(j);
            break;
        }
        bool due_prune = hlc_now() - a->pruned_at >= 86400;
        if (due_prune)
            a->pruned_at = hlc_now();
        pthread_mutex_unlock(&a->mu);
        if (due_prune)
            prune(a->hub);
        if (j->kind == JOB_EXEC) {
            enum hlc_run_kind kind;
            int rc = hlc_actions_execute(a->hub, j->id, j->trigger, j->actor, &kind, NULL);
            if (rc != 0)
                hlc_log(HLC_LOG_WARN, "actions: running %s: %s", j->id, hlc_strerror(rc));
        } else {
            int rc = hlc_remote_poll_now(a->hub, j->id, NULL);
            if (rc != 0)
                hlc_log(HLC_LOG_INFO, "actions: re-poll of %s after an action: %s", j->id,
                        hlc_strerror(rc));
        }
        free(j);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int
hlc_actions_start(struct hlc_hub *hub)
{
    int n = 0;
    int rc = hlc_store_action_recover(hub->store, hlc_now(), &n);
    if (rc != 0)
        return rc;
    if (n > 0)
        hlc_log(HLC_LOG_WARN, "actions: %d action(s) interrupted by the last stop marked failed", n);
    prune(hub);
    struct hlc_actions *a = hlc_xcalloc(1, sizeof(*a));
    a->hub = hub;
    a->pruned_at = hlc_now();
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < NWORKERS; i++) {
        if (pthread_create(&a->th[i], NULL, worker, a) != 0)
            break;
        a->nthreads++;
    }
    hub->actions = a;
    if (a->nthreads == 0) {
        hlc_actions_stop(hub);
        return HLC_EIO;
    }
    return 0;
}

void
hlc_actions_stop(struct hlc_hub *hub)
{
    struct hlc_actions *a = hub->actions;
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nthreads; i++)
        pthread_join(a->th[i], NULL);
    hub->actions = NULL;
    /* Jobs never started: their actions stay approved and the next start
     * marks them failed (interrupted). */
    for (struct job *j = a->head, *next; j; j = next) {
        next = j->next;
        free(j);
    }
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---- configuration -------------------------------------------------- */

static bool
listed(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    }
    return false;
}

bool
hlc_actions_auto_approved(struct hlc_hub *hub, enum hlc_action_type type)
{
    json_t *cfg = NULL;
    if (hlc_config_section(hub->store, "remediation", &cfg) != 0)
        return false;
    const char *name = hlc_action_type_name(type);
    bool ok = json_is_true(json_object_get(cfg, "auto_approve_enabled")) &&
              listed(json_object_get(cfg, "auto_approve_actions"), name) &&
              !listed(json_object_get(cfg, "require_approval_actions"), name);
    json_decref(cfg);
    return ok;
}

static int
timeout_ms(struct hlc_hub *hub, enum hlc_action_type type)
{
    /* Only the limit this type uses: each config read is a query and a parse
     * on the restart button's path. */
    bool updates = hlc_action_timeout_ms(type, 0, 1) == 1;
    double v = updates ? hlc_config_number(hub->store, "remediation", "updates_timeout_seconds",
                                           DEFAULT_UPDATES_TIMEOUT_S)
                       : hlc_config_number(hub->store, "remediation", "command_timeout_seconds",
                                           DEFAULT_TIMEOUT_S);
    return (int)(v * 1000);
}

/* ---- building ------------------------------------------------------- */

/* Builds the command line an action runs, from what the store holds: the
 * machine's SSH user (for sudo), the custom script body. 0, HLC_EDENIED,
 * HLC_ENOTFOUND (machine or script gone), other store/credential errors. */
static int
build_command(struct hlc_hub *hub, const char *server_id, enum hlc_action_type type,
              const char *target, int days, char **cmd)
{
    char *user = NULL, *script = NULL;
    int rc = hlc_credentials_ssh_user_for(hub, server_id, &user);
    if (rc != 0)
        goto out;
    if (type == HLC_ACT_CUSTOM) {
        if (!hlc_script_valid_name(target)) {
            rc = HLC_EDENIED;
            goto out;
        }
        if ((rc = hlc_store_script_get(hub->store, server_id, target, &script)) != 0)
            goto out;
    }
    struct hlc_action_spec spec = {
        .type = type,
        .target = target,
        .days = days,
        .script = script,
        .as_root = user && strcmp(user, "root") == 0,
    };
    rc = hlc_action_build(&spec, cmd);
out:
    free(user);
    free(script);
    return rc;
}

static int
days_of(json_t *params)
{
    json_t *d = json_object_get(params, "days");
    return json_is_integer(d) ? (int)json_integer_value(d) : 0;
}

int
hlc_actions_create(struct hlc_hub *hub, const struct hlc_action_req *req, bool approved,
                   char id_out[static 37], bool *auto_out)
{
    if (!hlc_action_target_valid(req->type, req->target))
        return HLC_EDENIED;
    const char *target = req->target && req->target[0] ? req->target : "system";
    char *cmd = NULL;
    int rc = build_command(hub, req->server_id, req->type, target, req->days, &cmd);
    if (rc != 0)
        return rc;
    bool auto_ok = !approved && hlc_actions_auto_approved(hub, req->type);
    char params[48] = "{}";
    if (req->type == HLC_ACT_CLEAR_LOGS && strcmp(target, HLC_CLEAR_LOGS_JOURNAL) == 0)
        snprintf(params, sizeof(params), "{\"days\":%d}",
                 req->days ? req->days : HLC_CLEAR_LOGS_DEFAULT_DAYS);
    int64_t now = hlc_now();
    hlc_uuid4(id_out);
    struct hlc_action_row row = {
        .action_id = id_out,
        .server_id = req->server_id,
        .alert_id = req->alert_id,
        .action_type = hlc_action_type_name(req->type),
        .target = target,
        .parameters = params,
        .status = approved || auto_ok ? "approved" : "pending",
        .auto_approved = auto_ok,
        .requested_by = req->requested_by ? req->requested_by : "unknown",
        .command = cmd,
        .created_at = now,
        .approved_at = approved || auto_ok ? now : 0,
    };
    rc = hlc_store_action_insert(hub->store, &row);
    free(cmd);
    if (auto_out)
        *auto_out = auto_ok;
    return rc;
}

/* ---- running -------------------------------------------------------- */

/* Copies `n` bytes of command output as valid UTF-8 with no NUL: every
 * invalid sequence or NUL becomes U+FFFD, so it can be stored and sent as
 * JSON text. */
static char *
utf8_clean(const char *s, size_t n)
{
    struct hlc_buf b;
    hlc_buf_init(&b, n * 3 + 1);
    hlc_buf_append(&b, "", 0);
    size_t i = 0;
    while (i < n) {
        size_t len = s[i] ? hlc_utf8_len(s + i, n - i) : 0;
        if (len) {
            hlc_buf_append(&b, s + i, len);
            i += len;
        } else {
            hlc_buf_append(&b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    return hlc_buf_steal(&b);
}

/* The action's JSON as the API shows it (0 or a store error). */
static int
load(struct hlc_hub *hub, const char *id, json_t **out)
{
    int rc = hlc_store_action_get(hub->store, id, out);
    if (rc == 0)
        hlc_actions_decorate(*out);
    return rc;
}

/* Where a finished action is announced, once its outcome (and any
 * remediation notification) is committed: the log, and action_finished on
 * the bus with the action as the API shows it (the notifier wakes its sender,
 * event streams tell the dashboards). */
static void
action_finished(struct hlc_hub *hub, const char *id, const char *server_id, bool success)
{
    hlc_log(HLC_LOG_INFO, "actions: %s %s", id, success ? "completed" : "failed");
    json_t *act = NULL;
    if (load(hub, id, &act) != 0)
        return; /* deleted with its machine meanwhile: nobody to tell */
    struct hlc_event ev = {
        .kind = HLC_EV_ACTION_FINISHED,
        .server_id = server_id,
        .type = json_string_value(json_object_get(act, "action_type")),
        .alert_id = json_string_value(json_object_get(act, "alert_id")),
        .data = act,
    };
    hlc_bus_publish(hub->bus, &ev);
    json_decref(act);
}

int
hlc_actions_execute(struct hlc_hub *hub, const char *id, const char *trigger, const char *actor,
                    enum hlc_run_kind *kind, json_t **action_out)
{
    json_t *act = NULL;
    char *cmd = NULL, *out = NULL, *err = NULL;
    char reason[300];
    struct hlc_exec_result res;
    memset(&res, 0, sizeof(res));
    res.exit_code = -1;
    *kind = HLC_RUN_ERROR;
    int rc = hlc_store_action_transition(hub->store, id, "approved", "executing", hlc_now());
    if (rc != 0)
        return rc;
    if ((rc = hlc_store_action_get(hub->store, id, &act)) != 0)
        return rc;
    char server_id[64];
    snprintf(server_id, sizeof(server_id), "%s",
             json_string_value(json_object_get(act, "server_id")));
    const char *target = json_string_value(json_object_get(act, "target"));
    const char *queued = json_string_value(json_object_get(act, "command"));
    enum hlc_action_type type = HLC_ACT_COUNT;
    struct hlc_action_outcome o = {
        .trigger = trigger, .actor = actor, .duration_ms = -1,
        .audit_out_cap = HLC_AUDIT_OUT_CAP};
    int brc = hlc_action_type_parse(json_string_value(json_object_get(act, "action_type")), &type);
    if (brc == 0)
        brc = build_command(hub, server_id, type, target,
                            days_of(json_object_get(act, "parameters")), &cmd);
    if (brc != 0) {
        *kind = HLC_RUN_REFUSED;
        o.reason = brc == HLC_ENOTFOUND ? "refused: the custom script no longer exists"
                                        : "refused: the command no longer passes the whitelist";
    } else if (queued && strcmp(queued, cmd) != 0) {
        /* What was reviewed is what runs: a script redefined or an SSH user
         * changed since the action was queued fails it instead. */
        *kind = HLC_RUN_REFUSED;
        o.reason = "refused: the command changed since the action was queued";
    } else {
        o.command = cmd;
        int xrc = type != HLC_ACT_APPLY_PACK
                      ? hlc_remote_exec(hub, server_id, cmd, NULL, 0, timeout_ms(hub, type),
                                        HLC_ACTION_OUT_CAP, &res)
                  : hub->apply_pack
                      ? hub->apply_pack(hub, server_id, target, timeout_ms(hub, type), &res)
                      : HLC_EBUSY;
        o.duration_ms = res.duration_ms;
        if (xrc == 0 || xrc == HLC_ETIMEOUT) {
            o.ran = true;
            out = utf8_clean(res.out ? res.out : "", res.out ? res.out_len : 0);
            err = utf8_clean(res.err ? res.err : "", res.err ? res.err_len : 0);
            o.out = out;
            o.err = err;
            o.out_truncated = res.out_truncated;
            o.err_truncated = res.err_truncated;
        }
        if (xrc == 0) {
            *kind = HLC_RUN_DONE;
            o.exited = res.exit_code >= 0;
            o.exit_code = res.exit_code;
            o.success = res.exit_code == 0;
            if (!o.success) {
                if (res.exit_code < 0)
                    snprintf(reason, sizeof(reason), "the command ended without an exit status");
                else
                    snprintf(reason, sizeof(reason), "exit status %d", res.exit_code);
                o.reason = reason;
            }
        } else if (xrc == HLC_ETIMEOUT) {
            *kind = HLC_RUN_TIMEOUT;
            o.reason = "timeout";
        } else if (xrc == HLC_ENOTFOUND) {
            *kind = HLC_RUN_ERROR;
            o.reason = "the machine was deleted";
        } else if (xrc == HLC_EIO) {
            /* The session broke mid-run: the command may have run. */
            *kind = HLC_RUN_UNREACHABLE;
            o.ran = true;
            snprintf(reason, sizeof(reason),
                     "unreachable: the SSH session broke while the command ran (it may have "
                     "run): %s", hlc_remote_reason(xrc));
            o.reason = reason;
        } else if (xrc == HLC_EBUSY) {
            *kind = HLC_RUN_ERROR;
            o.reason = "the SSH poller is not running";
        } else {
            /* HOSTKEY, AUTH, CONNECT, NOROUTE, EXEC: nothing ran. */
            *kind = HLC_RUN_UNREACHABLE;
            snprintf(reason, sizeof(reason), "%s: %s",
                     xrc == HLC_ESSH_HOSTKEY ? "host key refused" : "unreachable",
                     hlc_remote_reason(xrc));
            o.reason = reason;
        }
    }
    o.at = hlc_now();
    /* The remediation notification (FR5.5) commits with the outcome. */
    json_object_set_new(act, "status", json_string(o.success ? "completed" : "failed"));
    json_object_set_new(act, "exit_code", o.ran && o.exited ? json_integer(o.exit_code)
                                                            : json_null());
    json_object_set_new(act, "failure_reason", o.reason ? json_string(o.reason) : json_null());
    struct hlc_outbox_row *nrows = NULL;
    char *npayload = NULL;
    o.nnotify = hlc_notifier_remediation_rows(hub, act, &nrows, &npayload);
    o.notify = nrows;
    rc = hlc_store_action_finish(hub->store, id, &o);
    free(nrows);
    free(npayload);
    json_decref(act);
    if (rc == 0) {
        action_finished(hub, id, server_id, o.success);
        if (o.ran && (hlc_action_is_service(type) || hlc_action_is_container(type)))
            enqueue(hub, JOB_REPOLL, server_id, NULL, NULL);
        if (action_out)
            rc = load(hub, id, action_out);
    }
    hlc_exec_result_release(&res);
    free(cmd);
    free(out);
    free(err);
    return rc;
}

int
hlc_actions_get(struct hlc_hub *hub, const char *id, json_t **out)
{
    return load(hub, id, out);
}

void
hlc_actions_decorate(json_t *a)
{
    const char *st = json_string_value(json_object_get(a, "status"));
    json_t *result = json_null();
    if (st && (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0)) {
        /* The error a person wants: the command's stderr, else why it failed. */
        json_t *se = json_object_get(a, "stderr");
        json_t *err = json_is_string(se) && json_string_length(se) > 0
                          ? se
                          : json_object_get(a, "failure_reason");
        json_t *outp = json_object_get(a, "stdout");
        result = json_pack("{s:b, s:O, s:O}", "success", strcmp(st, "completed") == 0, "output",
                           outp ? outp : json_null(), "error",
                           strcmp(st, "completed") == 0 ? json_null() : (err ? err : json_null()));
    }
    json_object_set_new(a, "result", result);
    /* apply_pack: its stdout is the outcome JSON (packs/apply.c). */
    const char *type = json_string_value(json_object_get(a, "action_type"));
    const char *so = json_string_value(json_object_get(a, "stdout"));
    if (type && strcmp(type, "apply_pack") == 0) {
        json_t *ap = so && so[0] == '{' ? json_loads(so, 0, NULL) : NULL;
        json_object_set_new(a, "apply", json_is_object(ap) ? ap : json_null());
        if (ap && !json_is_object(ap))
            json_decref(ap);
    }
}

int
hlc_actions_queue(struct hlc_hub *hub, const char *server_id, const char *action_type,
                  const char *target, const char *alert_id, json_t **action_out)
{
    enum hlc_action_type type;
    if (hlc_action_type_parse(action_type, &type) != 0)
        return HLC_EINVAL;
    char who[80];
    snprintf(who, sizeof(who), "alert:%.60s", alert_id ? alert_id : "none");
    struct hlc_action_req req = {
        .server_id = server_id,
        .type = type,
        .target = target,
        .alert_id = alert_id,
        .requested_by = who,
    };
    char id[37];
    bool auto_ok = false;
    int rc = hlc_actions_create(hub, &req, false, id, &auto_ok);
    if (rc != 0)
        return rc;
    if (auto_ok)
        enqueue(hub, JOB_EXEC, id, "auto_approve", who);
    return action_out ? load(hub, id, action_out) : 0;
}

void
hlc_actions_on_event(void *ud, const struct hlc_event *ev)
{
    struct hlc_hub *hub = ud;
    if (ev->kind != HLC_EV_ALERT_RAISED || !ev->server_id || !ev->subject || !ev->alert_id)
        return;
    const char *type, *target;
    if (ev->flags & HLC_EVF_WANTS_RESTART) {
        type = "restart_service";
        target = ev->unit ? ev->unit : ev->subject;
    } else if ((ev->flags & HLC_EVF_WANTS_APPLY) && ev->pack) {
        type = "apply_pack";
        target = ev->pack;
    } else {
        return;
    }
    json_t *act = NULL;
    int rc = hlc_actions_queue(hub, ev->server_id, type, target, ev->alert_id, &act);
    const char *aid = json_string_value(json_object_get(act, "action_id"));
    if (rc == 0 && aid)
        hlc_store_alert_set_action(hub->store, ev->alert_id, aid);
    else
        hlc_log(HLC_LOG_WARN, "actions: could not queue %s %s on %s: %s", type, target,
                ev->server_id, hlc_strerror(rc));
    json_decref(act);
}

bool
hlc_actions_run_later(struct hlc_hub *hub, const char *id, const char *trigger, const char *actor)
{
    if (!hub->actions)
        return false;
    enqueue(hub, JOB_EXEC, id, trigger, actor);
    return true;
}
