/* api_enroll.c - push agents' credentials: enrollment tokens (admin key),
 * the public exchange of one for an agent token, and each machine's agent
 * tokens (list, revoke, rotate). Secrets appear once, in the answer that
 * created them. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "enroll.h"
#include "hlc/base.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

/* An enroll request is a token, an id, a host name and a type: far below
 * the hub's general body cap, so a bigger one is refused unread. */
#define ENROLL_MAX_BODY 4096

static const char *const machine_types[] = {"workstation", "server", NULL};
#define SLUG_RULE "a slug: lowercase letters, digits and '-', at most 63 characters"

static json_t *
object_or_empty(struct hlc_req *r, int *ret)
{
    if (r->body.len == 0 && !r->body_toobig)
        return json_object();
    return hlc_req_json(r, ret);
}

int
hlc_api_enroll_tokens_create(struct hlc_req *r)
{
    static const char *const keys[] = {"expires_in_seconds", "server_id", "machine_type", NULL};
    int ret;
    json_t *b = object_or_empty(r, &ret);
    if (!b)
        return ret;
    struct hlc_verr e = {0};
    if (!hlc_v_known_keys(b, keys, &e) ||
        !hlc_v_int(b, "expires_in_seconds", false, false, HLC_ENROLL_TTL_MIN, HLC_ENROLL_TTL_MAX,
                   &e) ||
        !hlc_v_string(b, "server_id", false, true, 63, hlc_valid_slug, SLUG_RULE, &e) ||
        !hlc_v_enum(b, "machine_type", false, machine_types, &e)) {
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    json_t *ttl = json_object_get(b, "expires_in_seconds");
    json_t *out = NULL;
    int rc = hlc_enroll_token_create(r->hub, ttl ? json_integer_value(ttl) : HLC_ENROLL_TTL_DEFAULT,
                                     json_string_value(json_object_get(b, "server_id")),
                                     json_string_value(json_object_get(b, "machine_type")), &out);
    ret = rc ? hlc_reply_err(r, rc, "creating the enrollment token") : hlc_reply_json(r, 201, out);
out:
    json_decref(b);
    return ret;
}

int
hlc_api_enroll_tokens_list(struct hlc_req *r)
{
    json_t *arr = NULL;
    int rc = hlc_store_enroll_list(r->hub->store, hlc_now(), &arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing enrollment tokens");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "enrollment_tokens", arr));
}

int
hlc_api_enroll_tokens_delete(struct hlc_req *r)
{
    int rc = hlc_store_enroll_delete(r->hub->store, r->params[0]);
    if (rc)
        return hlc_reply_err(r, rc, "enrollment token");
    return hlc_reply_empty(r, 204);
}

int
hlc_api_agents_enroll(struct hlc_req *r)
{
    static const char *const keys[] = {"token", "server_id", "hostname", "machine_type", NULL};
    int retry = 0;
    if (!hlc_enroll_allow(r->hub, r->client_ip, &retry)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "too many enrollment attempts: try again in %d s", retry);
        return hlc_reply_error(r, 429, "TOO_MANY_REQUESTS", msg, NULL);
    }
    if (r->body_toobig || r->body.len > ENROLL_MAX_BODY)
        return hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", "an enroll request is at most 4 KiB",
                               NULL);
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    struct hlc_verr e = {0};
    if (!hlc_v_known_keys(b, keys, &e) ||
        !hlc_v_string(b, "token", true, false, HLC_ENROLL_TOKEN_MAX, hlc_valid_printable,
                      "printable text", &e) ||
        !hlc_v_string(b, "server_id", false, false, 63, hlc_valid_slug, SLUG_RULE, &e) ||
        !hlc_v_string(b, "hostname", false, false, 253, hlc_valid_hostname, "a host name", &e) ||
        !hlc_v_enum(b, "machine_type", false, machine_types, &e)) {
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    json_t *out = NULL;
    int rc = hlc_enroll_redeem(r->hub, json_string_value(json_object_get(b, "token")),
                               json_string_value(json_object_get(b, "server_id")),
                               json_string_value(json_object_get(b, "hostname")),
                               json_string_value(json_object_get(b, "machine_type")), &out);
    switch (rc) {
    case 0:
        hlc_enroll_refund(r->hub, r->client_ip);
        ret = hlc_reply_json(r, 201, out);
        break;
    case HLC_ENOTFOUND:
        ret = hlc_reply_error(r, 401, "UNAUTHORIZED",
                              "the enrollment token is not valid, already used or expired", NULL);
        break;
    case HLC_EDENIED:
        ret = hlc_reply_error(r, 403, "FORBIDDEN",
                              "this enrollment token is for another machine", "server_id");
        break;
    case HLC_EINVAL:
        ret = hlc_reply_error(r, 422, "VALIDATION_ERROR",
                              "server_id is required: the enrollment token names no machine",
                              "server_id");
        break;
    case HLC_EEXISTS:
        ret = hlc_reply_error(r, 409, "CONFLICT",
                              "this machine is already enrolled: re-enroll it with a token "
                              "created for its server_id",
                              "server_id");
        break;
    default:
        ret = hlc_reply_err(r, rc, "enrolling");
    }
out:
    json_decref(b);
    return ret;
}

int
hlc_api_agent_tokens_list(struct hlc_req *r)
{
    json_t *arr = NULL;
    int rc = hlc_store_agent_token_list(r->hub->store, r->params[0], &arr);
    if (rc)
        return hlc_reply_err(r, rc, "machine");
    return hlc_reply_json(r, 200, json_pack("{s:s, s:o}", "server_id", r->params[0],
                                            "agent_tokens", arr));
}

int
hlc_api_agent_tokens_delete(struct hlc_req *r)
{
    int rc = hlc_store_agent_token_delete(r->hub->store, r->params[0], r->params[1]);
    if (rc)
        return hlc_reply_err(r, rc, "agent token");
    return hlc_reply_empty(r, 204);
}

int
hlc_api_agent_tokens_rotate(struct hlc_req *r)
{
    json_t *out = NULL;
    int rc = hlc_agent_token_rotate(r->hub, r->params[0], r->params[1], &out);
    if (rc)
        return hlc_reply_err(r, rc, "agent token");
    return hlc_reply_json(r, 201, out);
}
