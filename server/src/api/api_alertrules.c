/* api_alertrules.c - /api/v1/servers/{id}/thresholds (per-machine overrides
 * of the global thresholds) and /api/v1/alert-mutes (snooze / mute rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "hlc/base.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define MUTE_MAX_MINUTES (366 * 24 * 60) /* a snooze longer than a year is a mute */
#define MUTE_REASON_MAX 200
#define ALERT_TYPE_MAX 32

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

static bool
valid_alert_type(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= ALERT_TYPE_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

int
hlc_api_alert_mutes_list(struct hlc_req *r)
{
    json_t *arr = NULL;
    int rc = hlc_store_mutes_list(r->hub->store, hlc_now(), &arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing mute rules");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "mutes", arr));
}

/* Reads and checks a POST body into *m (strings borrowed from b). */
static bool
parse_mute(json_t *b, int64_t now, struct hlc_alert_mute *m, struct hlc_verr *e)
{
    static const char *const keys[] = {"server_id", "alert_type", "until", "duration_minutes",
                                       "reason", NULL};
    if (!hlc_v_known_keys(b, keys, e) ||
        !hlc_v_string(b, "server_id", false, true, 63, hlc_valid_slug, "a machine id", e) ||
        !hlc_v_string(b, "alert_type", false, true, ALERT_TYPE_MAX, valid_alert_type,
                      "an alert type (a-z and _)", e) ||
        !hlc_v_string(b, "until", false, true, 40, NULL, NULL, e) ||
        !hlc_v_int(b, "duration_minutes", false, true, 1, MUTE_MAX_MINUTES, e) ||
        !hlc_v_string(b, "reason", false, true, MUTE_REASON_MAX, hlc_valid_printable,
                      "printable text", e))
        return false;
    memset(m, 0, sizeof(*m));
    m->server_id = json_string_value(json_object_get(b, "server_id"));
    m->alert_type = json_string_value(json_object_get(b, "alert_type"));
    m->reason = json_string_value(json_object_get(b, "reason"));
    const char *until = json_string_value(json_object_get(b, "until"));
    json_t *dur = json_object_get(b, "duration_minutes");
    if (until && json_is_integer(dur))
        return hlc_v_fail(e, "until", "give either until or duration_minutes, not both");
    if (json_is_integer(dur))
        m->until = now + json_integer_value(dur) * 60;
    if (until) {
        if (hlc_time_parse(until, &m->until) != 0)
            return hlc_v_fail(e, "until", "until must be a time like 2026-01-31T18:00:00Z");
        if (m->until <= now)
            return hlc_v_fail(e, "until", "until must be in the future");
        if (m->until > now + MUTE_MAX_MINUTES * 60LL)
            return hlc_v_fail(e, "until", "until must be within a year (leave it out to mute "
                                          "until the rule is removed)");
    }
    return true;
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
    if (!parse_mute(body, now, &m, &e)) {
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
