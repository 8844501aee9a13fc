/* api_ollama.c - /api/v1/ollama and /api/v1/servers/{id}/ollama: each
 * machine's Ollama endpoint (configure, probe now, read). */
#include <string.h>

#include "api.h"
#include "hub.h"
#include "ollama.h"
#include "store.h"
#include "validate.h"

static int
reply_probe(struct hlc_req *r, int rc, json_t *ep)
{
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "probing Ollama");
    return hlc_reply_json(r, 200, ep);
}

int
hlc_api_ollama_list(struct hlc_req *r)
{
    json_t *list = NULL;
    int rc = hlc_store_ollama_list(r->hub->store, &list);
    if (rc)
        return hlc_reply_err(r, rc, "listing Ollama endpoints");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "endpoints", list));
}

int
hlc_api_ollama_get(struct hlc_req *r)
{
    json_t *ep = NULL;
    int rc = hlc_store_ollama_get(r->hub->store, r->params[0], &ep);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "reading the Ollama endpoint");
    return hlc_reply_json(r, 200, ep);
}

/* PUT {enabled, url, port, via}: every key optional (enabled true, url null
 * = the machine's address, port 11434, via "hub"; "ssh" asks 127.0.0.1 on
 * the machine over its session); the whole configuration is replaced. */
int
hlc_api_ollama_put(struct hlc_req *r)
{
    static const char *const keys[] = {"enabled", "url", "port", "via", NULL};
    static const char *const vias[] = {"hub", "ssh", NULL};
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    bool ok = hlc_v_known_keys(body, keys, &e);
    ok = ok && hlc_v_bool(body, "enabled", false, &e) &&
         hlc_v_string(body, "url", false, true, 2048, hlc_api_valid_http_url,
                      "an http:// or https:// URL with a valid host, no user:password@", &e) &&
         hlc_v_int(body, "port", false, false, 1, 65535, &e) &&
         hlc_v_enum(body, "via", false, vias, &e);
    const char *via = json_string_value(json_object_get(body, "via"));
    if (ok && via && strcmp(via, "ssh") == 0 && json_string_value(json_object_get(body, "url")))
        ok = hlc_v_fail(&e, "url", "via ssh asks the machine's own 127.0.0.1 on port: no url");
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    json_t *en = json_object_get(body, "enabled"), *port = json_object_get(body, "port");
    json_t *ep = NULL;
    int rc = hlc_ollama_configure(r->hub, r->params[0], !en || json_is_true(en),
                                  json_string_value(json_object_get(body, "url")),
                                  port ? (int)json_integer_value(port) : HLC_OLLAMA_PORT,
                                  via ? via : "hub", &ep);
    json_decref(body);
    return reply_probe(r, rc, ep);
}

int
hlc_api_ollama_probe(struct hlc_req *r)
{
    json_t *ep = NULL;
    int rc = hlc_ollama_probe(r->hub, r->params[0], &ep);
    return reply_probe(r, rc, ep);
}
