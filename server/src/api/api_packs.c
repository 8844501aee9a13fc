/* api_packs.c - config packs and compliance checks:
 *   GET  /api/v1/packs, POST /api/v1/packs/reload, GET /api/v1/packs/{name}
 *   POST /api/v1/servers/{id}/compliance/check {"pack"}
 *   GET  /api/v1/servers/{id}/compliance, GET /api/v1/compliance */
#include <string.h>

#include "api.h"
#include "hub.h"
#include "packs.h"
#include "store.h"
#include "validate.h"

int
hlc_api_packs_list(struct hlc_req *r)
{
    return hlc_reply_json(r, 200, hlc_packs_list(r->hub));
}

int
hlc_api_packs_reload(struct hlc_req *r)
{
    hlc_packs_reload(r->hub);
    return hlc_reply_json(r, 200, hlc_packs_list(r->hub));
}

int
hlc_api_packs_get(struct hlc_req *r)
{
    const char *name = r->params[0];
    struct hlc_pack *p = NULL;
    const char *source = NULL;
    int rc = hlc_pack_valid_name(name) ? hlc_packs_resolve(r->hub, name, &p, &source)
                                       : HLC_ENOTFOUND;
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no pack has that name", "name");
    if (rc != 0)
        return hlc_reply_err(r, rc, "resolving the pack");
    json_t *body = hlc_packs_pack_json(p, source);
    hlc_pack_free(p);
    return hlc_reply_json(r, 200, body);
}

int
hlc_api_compliance_check(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    int ret;
    json_t *b = hlc_req_json(r, &ret);
    if (!b)
        return ret;
    static const char *const keys[] = {"pack", NULL};
    struct hlc_verr e;
    if (!hlc_v_known_keys(b, keys, &e) ||
        !hlc_v_string(b, "pack", true, false, 64, hlc_pack_valid_name,
                      "a pack name ([a-z0-9][a-z0-9_-]*)", &e)) {
        json_decref(b);
        return hlc_reply_verr(r, &e);
    }
    struct hlc_pack *p = NULL;
    int rc = hlc_packs_resolve(r->hub, json_string_value(json_object_get(b, "pack")), &p, NULL);
    json_decref(b);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "no pack has that name", "pack");
    if (rc != 0)
        return hlc_reply_err(r, rc, "resolving the pack");
    json_t *out = NULL;
    rc = hlc_packs_check(r->hub, id, p, &out);
    hlc_pack_free(p);
    if (rc != 0)
        return hlc_api_reply_remote_error(r, rc, "checking the machine");
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_compliance_server(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    json_t *latest = NULL, *history = NULL;
    int rc = hlc_store_compliance_server(r->hub->store, id, 100, &latest, &history);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading compliance");
    return hlc_reply_json(r, 200, json_pack("{s:s, s:o, s:o}", "server_id", id, "latest", latest,
                                            "history", history));
}

int
hlc_api_compliance_fleet(struct hlc_req *r)
{
    json_t *out = NULL;
    int rc = hlc_packs_fleet(r->hub, &out);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading fleet compliance");
    return hlc_reply_json(r, 200, out);
}
