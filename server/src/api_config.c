/* api_config.c - /api/v1/config and /api/v1/config/thresholds. */
#include "api.h"
#include "config.h"
#include "hub.h"
#include "validate.h"

int
hlc_api_config_get(struct hlc_req *r)
{
    json_t *o = NULL;
    int rc = hlc_config_all(r->hub->store, &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading configuration");
    json_object_set_new(o, "slack_webhook_configured",
                        json_boolean(r->hub->set.slack_webhook && *r->hub->set.slack_webhook));
    return hlc_reply_json(r, 200, o);
}

/* Validates and saves `patch` (stolen). On failure it has replied: false with *ret. */
static bool
apply(struct hlc_req *r, json_t *patch, int *ret)
{
    struct hlc_verr e;
    int rc;
    bool ok = hlc_config_update(r->hub->store, patch, &e, &rc);
    json_decref(patch);
    if (!ok) {
        *ret = hlc_reply_verr(r, &e);
        return false;
    }
    if (rc) {
        *ret = hlc_reply_err(r, rc, "saving configuration");
        return false;
    }
    return true;
}

int
hlc_api_config_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    json_object_del(body, "slack_webhook_configured"); /* echoed back by GET; read-only */
    if (!apply(r, body, &ret))
        return ret;
    return hlc_api_config_get(r);
}

int
hlc_api_thresholds_get(struct hlc_req *r)
{
    json_t *o = NULL;
    int rc = hlc_config_section(r->hub->store, "thresholds", &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading thresholds");
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_thresholds_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    if (!apply(r, json_pack("{s:o}", "thresholds", body), &ret))
        return ret;
    return hlc_api_thresholds_get(r);
}
