/* api_packs_apply.c - POST /api/v1/servers/{id}/packs/{name}/apply
 * {"dry_run": true|false}: the plan, or an apply_pack action (pending until
 * approved unless the remediation config auto-approves apply_pack; then it
 * runs now and the answer carries the outcome). */
#include <string.h>

#include "actions.h"
#include "api.h"
#include "hub.h"
#include "packs.h"
#include "store.h"
#include "validate.h"

/* {action_id, status, ...the outcome} for a finished or pending action. */
static json_t *
action_body(json_t *act)
{
    json_t *body = json_object();
    static const char *const keys[] = {
        "action_id",      "status",  "auto_approved", "exit_code", "stderr", "duration_ms",
        "failure_reason", "command", "server_id",     "target",    NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(act, *k);
        json_object_set(body, *k, v ? v : json_null());
    }
    json_t *ap = json_object_get(act, "apply");
    if (json_is_object(ap))
        json_object_update(body, ap); /* changes, items, compliant, counts, ... */
    return body;
}

/* GET /api/v1/servers/{id}/packs/{name}/previous: what applies replaced. */
int
hlc_api_pack_previous(struct hlc_req *r)
{
    const char *id = r->params[0], *name = r->params[1];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (!hlc_pack_valid_name(name))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no pack has that name", "name");
    json_t *files = NULL;
    int rc = hlc_store_pack_previous_list(r->hub->store, id, name, &files);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading replaced files");
    return hlc_reply_json(
        r, 200, json_pack("{s:s, s:s, s:o}", "server_id", id, "pack", name, "files", files));
}

int
hlc_api_pack_apply(struct hlc_req *r)
{
    const char *id = r->params[0], *name = r->params[1];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (!hlc_pack_valid_name(name))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no pack has that name", "name");
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"dry_run", NULL};
    struct hlc_verr e;
    if (!hlc_v_known_keys(b, keys, &e) || !hlc_v_bool(b, "dry_run", true, &e)) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    bool dry = json_is_true(json_object_get(b, "dry_run"));
    json_decref(b);
    struct hlc_pack *p = NULL;
    int rc = hlc_packs_resolve(r->hub, name, &p, NULL);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no pack has that name", "name");
    if (rc != 0)
        return hlc_reply_err(r, rc, "resolving the pack");
    if (dry) {
        json_t *out = NULL;
        rc = hlc_packs_apply_plan(r->hub, id, p, &out);
        hlc_pack_free(p);
        if (rc != 0)
            return hlc_api_reply_remote_error(r, rc, "checking the machine");
        return hlc_reply_json(r, 200, out);
    }
    hlc_pack_free(p);
    char who[80];
    hlc_api_requested_by(r, who);
    struct hlc_action_req req = {
        .server_id = id, .type = HLC_ACT_APPLY_PACK, .target = name, .requested_by = who};
    char aid[37];
    bool auto_ok = false;
    rc = hlc_actions_create(r->hub, &req, false, aid, &auto_ok);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "queueing the apply");
    json_t *act = NULL;
    if (!auto_ok) {
        if ((rc = hlc_actions_get(r->hub, aid, &act)) != 0)
            return hlc_reply_err(r, rc, "reading the action");
        json_t *body = action_body(act);
        json_decref(act);
        json_object_set_new(
            body, "message",
            json_string("pending approval: POST /api/v1/actions/{action_id}/approve "
                        "runs it (the plan is built again from a fresh check)"));
        return hlc_reply_json(r, 202, body);
    }
    enum hlc_run_kind kind;
    rc = hlc_actions_execute(r->hub, aid, "auto_approve", who, &kind, &act);
    if (rc != 0)
        return hlc_reply_err(r, rc, "running the apply");
    json_t *body = action_body(act);
    json_decref(act);
    return hlc_reply_json(r, 200, body);
}
