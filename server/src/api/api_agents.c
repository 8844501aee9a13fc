/* api_agents.c - POST /api/v1/agents/heartbeat: a push agent's report,
 * signed with the machine's agent token (or, from v1 agents, the admin key).
 * Decoded strictly (heartbeat.h), the machine auto-registered on first
 * contact as the type it declares, the sample stored through ingest, and
 * acknowledged only once that is committed. Re-sent spooled heartbeats are
 * stored once (ingest is idempotent per timestamp). */
#include <string.h>

#include "api.h"
#include "enroll.h"
#include "heartbeat.h"
#include "hub.h"
#include "ingest.h"
#include "store.h"

/* Registers server_id as a new machine of the declared type; one registered
 * meanwhile is left as it is. 0 or HLC_E*. */
static int
register_machine(struct hlc_hub *hub, const struct hlc_heartbeat *hb)
{
    json_t *m = hlc_enroll_machine_json(hb->server_id, hb->s.hostname, hb->machine_type);
    if (!m)
        return HLC_ENOMEM;
    int rc = hlc_store_machine_insert(hub->store, m);
    json_decref(m);
    return rc == HLC_EEXISTS ? 0 : rc;
}

int
hlc_api_agent_heartbeat(struct hlc_req *r)
{
    if (r->body_toobig)
        return hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", "the heartbeat is too large", NULL);
    /* Who signs: an agent token (checked here, before the body is decoded)
     * speaks for its one machine; the admin key (v1 agents, checked by the
     * HTTP layer) for any, unless the operator turned that off. */
    char token_sid[64] = "", token_id[40] = "";
    const char *bearer = hlc_req_header(r, "X-API-Key") ? NULL : hlc_req_bearer(r);
    if (bearer) {
        int arc = hlc_agent_token_check(r->hub, bearer, token_sid, token_id);
        if (arc == HLC_ENOTFOUND)
            return hlc_reply_error(r, 401, "UNAUTHORIZED", "the agent token is not valid", NULL);
        if (arc)
            return hlc_reply_err(r, arc, "checking the agent token");
    } else if (!hlc_agent_admin_key_allowed(r->hub)) {
        return hlc_reply_error(r, 401, "UNAUTHORIZED",
                               "heartbeats signed with the admin key are turned off "
                               "(agent.allow_admin_key_heartbeats): enroll the agent",
                               NULL);
    }
    if (r->body.len == 0)
        return hlc_reply_error(r, 400, "BAD_REQUEST", "a JSON heartbeat is required", NULL);
    struct hlc_heartbeat hb;
    struct hlc_verr e;
    int rc = hlc_heartbeat_decode((const char *)r->body.data, r->body.len, &hb, &e);
    if (rc == HLC_ETOOBIG)
        return hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", e.message, NULL);
    if (rc == HLC_EPARSE)
        return hlc_reply_error(r, 400, "BAD_REQUEST", e.message, NULL);
    if (rc)
        return hlc_reply_verr(r, &e);
    int ret;
    if (bearer && strcmp(hb.server_id, token_sid) != 0) {
        ret = hlc_reply_error(r, 403, "FORBIDDEN",
                              "this agent token may post heartbeats only for its own machine",
                              "server_id");
        goto out;
    }
    if (hb.s.timestamp > hlc_now() + HLC_INGEST_MAX_SKEW) {
        ret = hlc_reply_error(r, 422, "VALIDATION_ERROR",
                              "timestamp is too far ahead of the hub's clock", "timestamp");
        goto out;
    }
    /* Known machines are the rule: ingest finds out (in its transaction)
     * whether the machine exists, and only a first heartbeat registers it. */
    rc = hlc_ingest_sample(r->hub, hb.server_id, &hb.s, "agent");
    if (rc == HLC_ENOTFOUND) {
        if ((rc = register_machine(r->hub, &hb)) != 0) {
            ret = hlc_reply_err(r, rc, "registering the machine");
            goto out;
        }
        rc = hlc_ingest_sample(r->hub, hb.server_id, &hb.s, "agent");
    }
    if (rc == HLC_EINVAL) {
        ret = hlc_reply_error(r, 422, "VALIDATION_ERROR",
                              "timestamp is too far ahead of the hub's clock", "timestamp");
        goto out;
    }
    if (rc) {
        ret = hlc_reply_err(r, rc, "storing the heartbeat");
        goto out;
    }
    hlc_agent_seen(r->hub, hb.server_id, bearer ? token_id : NULL, r->client_ip);
    char now[32];
    hlc_time_iso(hlc_now(), now);
    ret = hlc_reply_json(
        r, 200,
        json_pack("{s:b, s:s, s:[]}", "received", 1, "server_time", now, "pending_commands"));
out:
    hlc_sample_release(&hb.s);
    return ret;
}
