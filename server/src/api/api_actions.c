/* api_actions.c - restart buttons (synchronous service and container
 * actions), the remediation workflow, custom scripts and the audit log. */
#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "api.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000

static const char *const states[] = {"pending",   "approved", "executing", "completed",
                                     "failed",    "rejected", NULL};

void
hlc_api_requested_by(struct hlc_req *r, char out[static 80])
{
    snprintf(out, 80, "api_key@%s", r->client_ip[0] ? r->client_ip : "unknown");
}

/* Names are never echoed back: they may hold anything. */
static int
bad_name(struct hlc_req *r, const char *field, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%s is not a valid %s; nothing was run", field, what);
    return hlc_reply_error(r, 400, "INVALID_NAME", msg, field);
}

static int
no_machine(struct hlc_req *r)
{
    return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
}

static bool
valid_action_id(const char *s)
{
    size_t n = strlen(s);
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Answers with an action that finished (or could not start): the error form
 * for 409/504/500 carries the action id and reason. */
static int
reply_run(struct hlc_req *r, enum hlc_run_kind kind, json_t *act, bool sync_shape)
{
    const char *reason = json_string_value(json_object_get(act, "failure_reason"));
    const char *aid = json_string_value(json_object_get(act, "action_id"));
    int status = 200;
    const char *code = NULL;
    switch (kind) {
    case HLC_RUN_DONE:
        break;
    case HLC_RUN_TIMEOUT:
        status = 504;
        code = "TIMEOUT";
        break;
    case HLC_RUN_UNREACHABLE:
        status = 409;
        code = strncmp(reason ? reason : "", "host key", 8) == 0 ? "HOST_KEY_REFUSED"
                                                        : "MACHINE_UNREACHABLE";
        break;
    case HLC_RUN_REFUSED:
        status = 409;
        code = "ACTION_REFUSED";
        break;
    case HLC_RUN_ERROR:
        status = 500;
        code = "INTERNAL";
        break;
    }
    if (status != 200 && sync_shape) {
        json_t *body = json_pack("{s:{s:s, s:s, s:n, s:s, s:s, s:O, s:O, s:O, s:O}}", "detail",
                                 "code", code, "message", reason ? reason : "action failed",
                                 "field", "action_id", aid, "status",
                                 json_string_value(json_object_get(act, "status")), "stdout",
                                 json_object_get(act, "stdout"), "stderr",
                                 json_object_get(act, "stderr"), "duration_ms",
                                 json_object_get(act, "duration_ms"), "exit_code",
                                 json_object_get(act, "exit_code"));
        json_decref(act);
        return hlc_reply_json(r, status, body);
    }
    if (!sync_shape)
        return hlc_reply_json(r, 200, act);
    json_t *body = json_object();
    static const char *const keys[] = {"action_id",        "status",          "exit_code",
                                       "stdout",           "stderr",          "stdout_truncated",
                                       "stderr_truncated", "duration_ms",     "command",
                                       "failure_reason",   "server_id",       "action_type",
                                       "target",           NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(act, *k);
        json_object_set(body, *k, v ? v : json_null());
    }
    json_decref(act);
    return hlc_reply_json(r, 200, body);
}

/* POST /servers/{id}/services/{name}/<verb>, /containers/{name}/<verb>:
 * the operator's button is the approval; runs now, answers the outcome. */
static int
run_now(struct hlc_req *r, enum hlc_action_type type)
{
    const char *id = r->params[0], *name = r->params[1];
    bool service = hlc_action_is_service(type);
    if (!hlc_action_target_valid(type, name))
        return bad_name(r, service ? "service" : "container",
                        service ? "systemd unit name" : "container name");
    if (!hlc_valid_slug(id))
        return no_machine(r);
    char who[80];
    hlc_api_requested_by(r, who);
    struct hlc_action_req req = {
        .server_id = id, .type = type, .target = name, .requested_by = who};
    char aid[37];
    int rc = hlc_actions_create(r->hub, &req, true, aid, NULL);
    if (rc == HLC_ENOTFOUND)
        return no_machine(r);
    if (rc == HLC_EDENIED)
        return bad_name(r, service ? "service" : "container", "name");
    if (rc)
        return hlc_reply_err(r, rc, "recording the action");
    enum hlc_run_kind kind;
    json_t *act = NULL;
    rc = hlc_actions_execute(r->hub, aid, "api_key", who, &kind, &act);
    if (rc)
        return hlc_reply_err(r, rc, "running the action");
    return reply_run(r, kind, act, true);
}

int
hlc_api_service_restart(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_RESTART_SERVICE);
}

int
hlc_api_service_start(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_START_SERVICE);
}

int
hlc_api_service_stop(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_STOP_SERVICE);
}

int
hlc_api_container_start(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_CONTAINER_START);
}

int
hlc_api_container_stop(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_CONTAINER_STOP);
}

int
hlc_api_container_restart(struct hlc_req *r)
{
    return run_now(r, HLC_ACT_CONTAINER_RESTART);
}

/* ---- workflow --------------------------------------------------------- */

static bool
valid_type_name(const char *s)
{
    enum hlc_action_type t;
    return hlc_action_type_parse(s, &t) == 0;
}

int
hlc_api_actions_create(struct hlc_req *r)
{
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"server_id", "action_type", "target", "parameters", NULL};
    static const char *const pkeys[] = {"days", NULL};
    struct hlc_verr e;
    json_t *params = json_object_get(b, "parameters");
    json_t *target = json_object_get(b, "target");
    bool ok = hlc_v_known_keys(b, keys, &e) &&
              hlc_v_string(b, "server_id", true, false, 63, NULL, NULL, &e) &&
              hlc_v_string(b, "action_type", true, false, 32, valid_type_name,
                           "one of restart_service, start_service, stop_service, clear_logs, "
                           "apply_updates, container_start, container_stop, "
                           "container_restart, custom, apply_pack",
                           &e);
    if (ok && target && !json_is_string(target))
        ok = hlc_v_fail(&e, "target", "target must be a string");
    if (ok && params && !json_is_null(params)) {
        ok = json_is_object(params) ? hlc_v_known_keys(params, pkeys, &e) &&
                                          hlc_v_int(params, "days", false, false, 1,
                                                    HLC_CLEAR_LOGS_MAX_DAYS, &e)
                                    : hlc_v_fail(&e, "parameters", "parameters must be an object");
        if (!ok) {
            char f[80];
            snprintf(f, sizeof(f), "parameters.%s", e.field);
            hlc_v_set_field(&e, f);
        }
    }
    if (!ok) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    enum hlc_action_type type;
    hlc_action_type_parse(json_string_value(json_object_get(b, "action_type")), &type);
    const char *tgt = json_string_value(target);
    if (!tgt && type != HLC_ACT_APPLY_UPDATES) {
        json_decref(b);
        hlc_v_fail(&e, "target", "target is required");
        return hlc_reply_verr(r, &e);
    }
    const char *sid = json_string_value(json_object_get(b, "server_id"));
    int days = (int)json_integer_value(json_object_get(params, "days"));
    if (days && !(type == HLC_ACT_CLEAR_LOGS && tgt && strcmp(tgt, HLC_CLEAR_LOGS_JOURNAL) == 0)) {
        json_decref(b);
        hlc_v_fail(&e, "parameters.days", "days applies only to clear_logs of the journal");
        return hlc_reply_verr(r, &e);
    }
    if (!hlc_action_target_valid(type, tgt)) {
        json_decref(b);
        return bad_name(r, "target", "target for this action type");
    }
    if (!hlc_valid_slug(sid)) {
        json_decref(b);
        return no_machine(r);
    }
    char who[80];
    hlc_api_requested_by(r, who);
    struct hlc_action_req req = {.server_id = sid, .type = type, .target = tgt, .days = days,
                                 .requested_by = who};
    char aid[37];
    bool auto_ok = false;
    int rc = hlc_actions_create(r->hub, &req, false, aid, &auto_ok);
    json_decref(b);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND",
                               type == HLC_ACT_CUSTOM
                                   ? "no such machine, or no custom script of that name on it"
                                   : "no machine with that id",
                               type == HLC_ACT_CUSTOM ? "target" : "server_id");
    if (rc == HLC_EDENIED)
        return bad_name(r, "target", "target for this action type");
    if (rc)
        return hlc_reply_err(r, rc, "queueing the action");
    json_t *act = NULL;
    if (auto_ok && !(type == HLC_ACT_APPLY_UPDATES &&
                     hlc_actions_run_later(r->hub, aid, "auto_approve", who))) {
        enum hlc_run_kind kind;
        rc = hlc_actions_execute(r->hub, aid, "auto_approve", who, &kind, &act);
    } else {
        rc = hlc_actions_get(r->hub, aid, &act);
    }
    if (rc)
        return hlc_reply_err(r, rc, "queueing the action");
    return hlc_reply_json(r, 201, act);
}

static int
parse_limit(struct hlc_req *r, int *limit)
{
    const char *l = hlc_req_query(r, "limit");
    int64_t v = LIST_DEFAULT;
    if (l && hlc_parse_i64(l, 1, LIST_MAX, &v) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "limit must be an integer 1-1000",
                               "limit");
    *limit = (int)v;
    return 0;
}

static int
list_actions(struct hlc_req *r, bool history)
{
    const char *status = hlc_req_query(r, "status");
    const char *sid = hlc_req_query(r, "server_id");
    if (status) {
        bool known = false;
        for (const char *const *s = states; *s && !known; s++)
            known = strcmp(*s, status) == 0;
        if (!known)
            return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                                   "status must be pending, approved, executing, completed, "
                                   "failed or rejected",
                                   "status");
    }
    if (sid && !hlc_valid_slug(sid))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "server_id is not a machine id",
                               "server_id");
    int limit = LIST_DEFAULT, ret = parse_limit(r, &limit);
    if (ret)
        return ret;
    json_t *arr = NULL;
    int rc = hlc_store_action_list(r->hub->store, status, sid, history, limit, &arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing actions");
    size_t i;
    json_t *a;
    json_array_foreach(arr, i, a)
    {
        hlc_actions_decorate(a);
    }
    return hlc_reply_json(r, 200,
                          json_pack("{s:o, s:I}", "actions", arr, "total",
                                    (json_int_t)json_array_size(arr)));
}

int
hlc_api_actions_list(struct hlc_req *r)
{
    return list_actions(r, false);
}

int
hlc_api_actions_history(struct hlc_req *r)
{
    return list_actions(r, true);
}

int
hlc_api_actions_get(struct hlc_req *r)
{
    const char *id = r->params[0];
    json_t *act = NULL;
    int rc = valid_action_id(id) ? hlc_actions_get(r->hub, id, &act) : HLC_ENOTFOUND;
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no action with that id", "action_id");
    if (rc)
        return hlc_reply_err(r, rc, "reading the action");
    return hlc_reply_json(r, 200, act);
}

/* Whether the action is one that runs too long for an HTTP request. */
static bool
is_long(struct hlc_req *r, const char *id)
{
    json_t *act = NULL;
    if (hlc_store_action_get(r->hub->store, id, &act) != 0)
        return false;
    bool yes = strcmp(json_string_value(json_object_get(act, "action_type")), "apply_updates") == 0;
    json_decref(act);
    return yes;
}

static int
move(struct hlc_req *r, const char *to)
{
    const char *id = r->params[0];
    int rc = valid_action_id(id) ? hlc_store_action_transition(r->hub->store, id, "pending", to,
                                                               hlc_now())
                                 : HLC_ENOTFOUND;
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no action with that id", "action_id");
    if (rc == HLC_ESTATE)
        return hlc_reply_error(r, 409, "ILLEGAL_STATE",
                               "only a pending action can be approved or rejected", "status");
    if (rc)
        return hlc_reply_err(r, rc, "updating the action");
    json_t *act = NULL;
    if (strcmp(to, "rejected") == 0) {
        if ((rc = hlc_actions_get(r->hub, id, &act)) != 0)
            return hlc_reply_err(r, rc, "reading the action");
        return hlc_reply_json(r, 200, act);
    }
    char who[80];
    hlc_api_requested_by(r, who);
    if (is_long(r, id) && hlc_actions_run_later(r->hub, id, "api_key", who)) {
        /* apply_updates: approved now, runs on the worker; poll the action. */
        if ((rc = hlc_actions_get(r->hub, id, &act)) != 0)
            return hlc_reply_err(r, rc, "reading the action");
        return hlc_reply_json(r, 202, act);
    }
    enum hlc_run_kind kind;
    rc = hlc_actions_execute(r->hub, id, "api_key", who, &kind, &act);
    if (rc == HLC_ESTATE)
        return hlc_reply_error(r, 409, "ILLEGAL_STATE", "the action is already running", "status");
    if (rc)
        return hlc_reply_err(r, rc, "running the action");
    return reply_run(r, kind, act, false);
}

int
hlc_api_actions_approve(struct hlc_req *r)
{
    return move(r, "approved");
}

int
hlc_api_actions_reject(struct hlc_req *r)
{
    return move(r, "rejected");
}

/* ---- custom scripts --------------------------------------------------- */

int
hlc_api_scripts_list(struct hlc_req *r)
{
    const char *id = r->params[0];
    json_t *arr = NULL;
    int rc = hlc_valid_slug(id) ? hlc_store_script_list(r->hub->store, id, &arr) : HLC_ENOTFOUND;
    if (rc == HLC_ENOTFOUND)
        return no_machine(r);
    if (rc)
        return hlc_reply_err(r, rc, "listing scripts");
    return hlc_reply_json(r, 200, json_pack("{s:s, s:o}", "server_id", id, "scripts", arr));
}

static bool
script_body_ok(const char *s)
{
    return hlc_script_valid_body(s);
}

int
hlc_api_scripts_create(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return no_machine(r);
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"name", "script", "description", NULL};
    struct hlc_verr e;
    json_t *name = json_object_get(b, "name");
    if (!hlc_v_known_keys(b, keys, &e) ||
        (!json_is_string(name) && !hlc_v_fail(&e, "name", "name is required (a string)")) ||
        !hlc_v_string(b, "script", true, false, HLC_SCRIPT_MAX, script_body_ok,
                      "text of at most 8192 bytes without control characters other than tab "
                      "and newline",
                      &e) ||
        !hlc_v_string(b, "description", false, true, 200, hlc_valid_printable, "printable text",
                      &e)) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    if (!hlc_script_valid_name(json_string_value(name))) {
        json_decref(b);
        return bad_name(r, "name", "script name (a-z, 0-9, _ and -, at most 63)");
    }
    const char *n = json_string_value(name);
    const char *script = json_string_value(json_object_get(b, "script"));
    const char *desc = json_string_value(json_object_get(b, "description"));
    int rc = hlc_store_script_insert(r->hub->store, id, n, script, desc);
    if (rc == HLC_EEXISTS) {
        json_decref(b);
        return hlc_reply_error(r, 409, "CONFLICT",
                               "a script of that name exists on this machine; delete it first",
                               "name");
    }
    if (rc == HLC_ENOTFOUND) {
        json_decref(b);
        return no_machine(r);
    }
    if (rc) {
        json_decref(b);
        return hlc_reply_err(r, rc, "saving the script");
    }
    char now[32];
    hlc_time_iso(hlc_now(), now);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "server_id", id, "name", n, "script",
                            script, "description", desc, "created_at", now);
    json_decref(b);
    return hlc_reply_json(r, 201, out);
}

int
hlc_api_scripts_delete(struct hlc_req *r)
{
    const char *id = r->params[0], *name = r->params[1];
    if (!hlc_script_valid_name(name))
        return bad_name(r, "name", "script name");
    if (!hlc_valid_slug(id))
        return no_machine(r);
    int rc = hlc_store_script_delete(r->hub->store, id, name);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such script on that machine", "name");
    if (rc)
        return hlc_reply_err(r, rc, "deleting the script");
    return hlc_reply_empty(r, 204);
}

/* ---- audit ------------------------------------------------------------ */

static int
parse_time(const char *s, int64_t *out)
{
    if (hlc_parse_i64(s, 1, INT64_MAX / 2, out) == 0)
        return 0;
    return hlc_time_parse(s, out);
}

int
hlc_api_audit_list(struct hlc_req *r)
{
    struct hlc_audit_filter f = {.limit = LIST_DEFAULT};
    f.server_id = hlc_req_query(r, "server_id");
    f.action_type = hlc_req_query(r, "action_type");
    const char *since = hlc_req_query(r, "since"), *until = hlc_req_query(r, "until");
    if (f.server_id && !hlc_valid_slug(f.server_id))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "server_id is not a machine id",
                               "server_id");
    /* alert_mute / alert_unmute: the mute rules' audit rows (api_alertrules.c) */
    if (f.action_type && !valid_type_name(f.action_type) &&
        strcmp(f.action_type, "alert_mute") != 0 && strcmp(f.action_type, "alert_unmute") != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "action_type is not an action type",
                               "action_type");
    if (since && parse_time(since, &f.since) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "since must be ISO 8601 or epoch seconds", "since");
    if (until && parse_time(until, &f.until) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "until must be ISO 8601 or epoch seconds", "until");
    int ret = parse_limit(r, &f.limit);
    if (ret)
        return ret;
    json_t *arr = NULL;
    int rc = hlc_store_audit_list(r->hub->store, &f, &arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing the audit log");
    return hlc_reply_json(r, 200,
                          json_pack("{s:o, s:I}", "entries", arr, "total",
                                    (json_int_t)json_array_size(arr)));
}
