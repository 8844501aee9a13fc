/* api_alertrules.c - /api/v1/servers/{id}/thresholds (per-machine overrides
 * of the global thresholds) and /api/v1/alert-mutes (snooze / mute rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "api.h"
#include "config.h"
#include "hlc/base.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

static int
no_machine(struct hlc_req *r)
{
    return hlc_reply_error(r, 404, "NOT_FOUND", "no such machine", NULL);
}

int
hlc_api_server_thresholds_get(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return no_machine(r);
    json_t *ov = NULL;
    int rc = hlc_store_thresholds_override_get(r->hub->store, id, &ov);
    if (rc == HLC_ENOTFOUND)
        return no_machine(r);
    if (rc)
        return hlc_reply_err(r, rc, "reading the machine's thresholds");
    json_t *o = hlc_config_thresholds_effective(r->hub->store, ov);
    json_object_set_new(o, "server_id", json_string(id));
    json_object_set_new(o, "overrides", ov);
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_server_thresholds_put(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return no_machine(r);
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    int rc;
    bool ok = hlc_config_thresholds_override(r->hub->store, id, body, &e, &rc);
    json_decref(body);
    if (!ok)
        return hlc_reply_verr(r, &e);
    if (rc == HLC_ENOTFOUND)
        return no_machine(r);
    if (rc)
        return hlc_reply_err(r, rc, "saving the machine's thresholds");
    return hlc_api_server_thresholds_get(r);
}

/* ---- mute rules ------------------------------------------------------------ */

int
hlc_api_alert_mutes_list(struct hlc_req *r)
{
    json_t *arr = NULL;
    int rc = hlc_store_mutes_list(r->hub->store, hlc_now(), &arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing mute rules");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "mutes", arr));
}

int
hlc_api_alert_mutes_create(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    int64_t now = hlc_now();
    struct hlc_alert_mute m;
    struct hlc_verr e;
    if (!hlc_alerts_mute_parse(body, now, &m, &e)) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    char actor[80], until[32] = "", summary[400];
    hlc_api_requested_by(r, actor);
    m.created_by = actor;
    if (m.until)
        hlc_time_iso(m.until, until);
    snprintf(summary, sizeof(summary), "mute %s alerts on %s %s%s%s%s",
             m.alert_type ? m.alert_type : "all", m.server_id ? m.server_id : "every machine",
             m.until ? "until " : "until removed", until, m.reason ? ": " : "",
             m.reason ? m.reason : "");
    json_t *rule = NULL;
    int rc = hlc_store_mute_add(r->hub->store, &m, summary, now, &rule);
    json_decref(body);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "server_id names no machine",
                               "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "saving the mute rule");
    hlc_log(HLC_LOG_INFO, "alerts: %s (%s)", summary, actor);
    return hlc_reply_json(r, 201, rule);
}

int
hlc_api_alert_mutes_delete(struct hlc_req *r)
{
    int64_t id;
    if (hlc_parse_i64(r->params[0], 1, INT64_MAX, &id) != 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such mute rule", NULL);
    char actor[80];
    hlc_api_requested_by(r, actor);
    int rc = hlc_store_mute_delete(r->hub->store, id, actor, hlc_now());
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such mute rule", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "removing the mute rule");
    return hlc_reply_empty(r, 204);
}
