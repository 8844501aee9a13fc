/* api_packs_assign.c - which packs a machine gets, removal with cleanup and
 * the drift schedule:
 *   GET/PUT /api/v1/servers/{id}/packs, DELETE /api/v1/servers/{id}/packs/{name}
 *   GET /api/v1/packs/assignments, PUT /api/v1/packs/assignments/tags/{tag}
 *   POST /api/v1/packs/drift/run[?due=true] */
#include <string.h>

#include "api.h"
#include "assign.h"
#include "config.h"
#include "drift.h"
#include "hub.h"
#include "packs.h"
#include "store.h"
#include "validate.h"

/* Checks body.packs: an array of at most HLC_DRIFT_MAX_ASSIGNED distinct
 * names of packs the hub has. *status: 400 for the form, 422 unknown. */
static bool
check_packs(struct hlc_hub *hub, json_t *packs, struct hlc_verr *e)
{
    if (!json_is_array(packs))
        return hlc_v_fail(e, "packs", "packs must be an array of pack names");
    if (json_array_size(packs) > HLC_DRIFT_MAX_ASSIGNED)
        return hlc_v_fail(e, "packs", "at most %d packs", HLC_DRIFT_MAX_ASSIGNED);
    size_t i, j;
    json_t *v;
    json_array_foreach(packs, i, v)
    {
        const char *name = json_string_value(v);
        if (!name || !hlc_pack_valid_name(name))
            return hlc_v_fail(e, "packs", "packs[%zu] must be a pack name ([a-z0-9][a-z0-9_-]*)",
                              i);
        for (j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(packs, j)), name) == 0)
                return hlc_v_fail(e, "packs", "pack %s is listed twice", name);
        struct hlc_pack *p = NULL;
        int rc = hlc_packs_resolve(hub, name, &p, NULL);
        hlc_pack_free(p);
        if (rc == HLC_ENOTFOUND)
            return hlc_v_fail(e, "packs", "no pack is named %s", name);
        if (rc != 0)
            return hlc_v_fail(e, "packs", "pack %s cannot be resolved: %s", name,
                              hlc_strerror(rc));
    }
    return true;
}

static int
reply_machine(struct hlc_req *r, const char *id, int status)
{
    json_t *eff = NULL;
    int rc = hlc_store_packs_effective(r->hub->store, id, &eff);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading pack assignments");
    int hours = -1;
    int64_t last = 0;
    rc = hlc_store_packs_drift_get(r->hub->store, id, &hours, &last);
    if (rc != 0) {
        json_decref(eff);
        return hlc_reply_err(r, rc, "reading the drift schedule");
    }
    int fleet = (int)hlc_config_number(r->hub->store, "packs", "drift_interval_hours", 24);
    json_t *own = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
    {
        size_t k;
        json_t *src;
        json_array_foreach(json_object_get(v, "sources"), k, src)
        {
            if (strcmp(json_string_value(src), "machine") == 0)
                json_array_append(own, json_object_get(v, "name"));
        }
    }
    char iso[32];
    if (last)
        hlc_time_iso(last, iso);
    return hlc_reply_json(
        r, status,
        json_pack("{s:s, s:o, s:o, s:o, s:i, s:o}", "server_id", id, "packs", own, "effective",
                  eff, "drift_interval_hours", hours > 0 ? json_integer(hours) : json_null(),
                  "effective_drift_interval_hours", hours > 0 ? hours : fleet,
                  "last_drift_check", last ? json_string(iso) : json_null()));
}

int
hlc_api_server_packs_get(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    return reply_machine(r, id, 200);
}

int
hlc_api_server_packs_put(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"packs", "drift_interval_hours", NULL};
    struct hlc_verr e;
    json_t *packs = json_object_get(b, "packs");
    if (!hlc_v_known_keys(b, keys, &e) ||
        !hlc_v_int(b, "drift_interval_hours", false, true, 1, 8760, &e) ||
        (!packs && !hlc_v_fail(&e, "packs", "packs is required")) ||
        !check_packs(r->hub, packs, &e)) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    int rc = hlc_store_packs_assign_machine(r->hub->store, id, packs);
    json_t *h = json_object_get(b, "drift_interval_hours");
    if (rc == 0 && h)
        rc = hlc_store_packs_drift_interval(r->hub->store, id,
                                            json_is_null(h) ? -1 : (int)json_integer_value(h));
    json_decref(b);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "saving pack assignments");
    hlc_drift_settle(r->hub, id);
    return reply_machine(r, id, 200);
}

/* Every package the packs in eff (but `skip`) require. */
static json_t *
required_elsewhere(struct hlc_hub *hub, json_t *eff, const char *skip)
{
    json_t *keep = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        struct hlc_pack *p = NULL;
        if (strcmp(name, skip) == 0 || hlc_packs_resolve(hub, name, &p, NULL) != 0)
            continue;
        for (size_t k = 0; k < p->nitems; k++)
            if (p->items[k].type == HLC_PACK_PKG)
                json_array_append_new(keep, json_string(p->items[k].target));
        hlc_pack_free(p);
    }
    return keep;
}

int
hlc_api_server_packs_delete(struct hlc_req *r)
{
    const char *id = r->params[0], *name = r->params[1];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    const char *cq = hlc_req_query(r, "cleanup");
    if (cq && strcmp(cq, "true") != 0 && strcmp(cq, "false") != 0)
        return hlc_reply_error(r, 400, "VALIDATION_ERROR", "cleanup must be true or false",
                               "cleanup");
    bool cleanup = cq && strcmp(cq, "true") == 0;
    if (!hlc_pack_valid_name(name))
        return hlc_reply_error(r, 404, "NOT_FOUND", "that pack is not assigned to the machine",
                               "name");
    /* The pack as it is now, resolved before the assignment goes. */
    struct hlc_pack *p = NULL;
    int prc = cleanup ? hlc_packs_resolve(r->hub, name, &p, NULL) : 0;
    if (cleanup && prc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "the pack no longer exists: nothing to clean up with", "cleanup");
    if (prc != 0)
        return hlc_reply_err(r, prc, "resolving the pack");
    int rc = hlc_store_packs_unassign_machine(r->hub->store, id, name);
    json_t *eff = NULL;
    if (rc == HLC_ENOTFOUND) {
        hlc_pack_free(p);
        /* Either no machine, or the pack is not its own. */
        if (hlc_store_packs_effective(r->hub->store, id, &eff) == HLC_ENOTFOUND)
            return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
        bool by_tag = false;
        size_t i;
        json_t *v;
        json_array_foreach(eff, i, v)
        {
            by_tag |= strcmp(json_string_value(json_object_get(v, "name")), name) == 0;
        }
        json_decref(eff);
        if (by_tag)
            return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                                   "the pack comes from one of the machine's tags: remove it "
                                   "from the tag's assignment",
                                   "name");
        return hlc_reply_error(r, 404, "NOT_FOUND", "that pack is not assigned to the machine",
                               "name");
    }
    if (rc != 0) {
        hlc_pack_free(p);
        return hlc_reply_err(r, rc, "removing the pack");
    }
    hlc_drift_settle(r->hub, id);
    json_t *out = json_pack("{s:s, s:s, s:b, s:n}", "server_id", id, "pack", name, "removed", 1,
                            "cleanup");
    if (cleanup) {
        rc = hlc_store_packs_effective(r->hub->store, id, &eff);
        json_t *keep = rc == 0 ? required_elsewhere(r->hub, eff, name) : NULL;
        json_decref(eff);
        bool still = rc == 0 && hlc_drift_assigned(r->hub, id, name);
        json_t *res = NULL;
        if (rc == 0 && still) {
            /* a tag still brings it: nothing of it is removed */
            res = json_pack("{s:[], s:[], s:i, s:i, s:s}", "files", "packages", "removed", 0,
                            "left", 0, "note", "still assigned through a tag: nothing removed");
        } else if (rc == 0) {
            rc = hlc_assign_cleanup(r->hub, id, p, keep, &res);
        }
        json_decref(keep);
        hlc_pack_free(p);
        if (rc != 0) {
            json_decref(out);
            return hlc_api_reply_remote_error(r, rc, "cleaning up the machine (the pack is "
                                                     "unassigned)");
        }
        json_object_set_new(out, "cleanup", res);
    }
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_pack_assignments(struct hlc_req *r)
{
    json_t *tags = NULL;
    int rc = hlc_store_packs_tags(r->hub->store, &tags);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading tag assignments");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "tags", tags));
}

int
hlc_api_pack_assign_tag(struct hlc_req *r)
{
    const char *tag = r->params[0];
    if (!hlc_valid_tag(tag))
        return hlc_reply_error(r, 404, "NOT_FOUND",
                               "not a tag ([A-Za-z0-9][A-Za-z0-9_.:-]{0,31})", "tag");
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"packs", NULL};
    struct hlc_verr e;
    json_t *packs = json_object_get(b, "packs");
    if (!hlc_v_known_keys(b, keys, &e) ||
        (!packs && !hlc_v_fail(&e, "packs", "packs is required")) ||
        !check_packs(r->hub, packs, &e)) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    int rc = hlc_store_packs_assign_tag(r->hub->store, tag, packs);
    json_t *out = json_pack("{s:s, s:O}", "tag", tag, "packs", packs);
    json_decref(b);
    if (rc != 0) {
        json_decref(out);
        return hlc_reply_err(r, rc, "saving the tag's packs");
    }
    hlc_drift_settle(r->hub, NULL);
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_pack_drift_run(struct hlc_req *r)
{
    /* ?due=true: only the machines whose interval has passed, as the
     * schedule's own rounds do */
    const char *due = hlc_req_query(r, "due");
    if (due && strcmp(due, "true") != 0 && strcmp(due, "false") != 0)
        return hlc_reply_error(r, 400, "VALIDATION_ERROR", "due must be true or false", "due");
    json_t *out = NULL;
    int rc = hlc_drift_run(r->hub, !(due && strcmp(due, "true") == 0), &out);
    if (rc != 0)
        return hlc_reply_err(r, rc, "running the drift check");
    return hlc_reply_json(r, 200, out);
}
