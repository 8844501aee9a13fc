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

/* PUT {enabled, url, port}: every key optional (enabled true, url null =
 * the machine's address, port 11434); the whole configuration is replaced. */
int
hlc_api_ollama_put(struct hlc_req *r)
{
    static const char *const keys[] = {"enabled", "url", "port", NULL};
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    bool ok = hlc_v_known_keys(body, keys, &e);
    ok = ok && hlc_v_bool(body, "enabled", false, &e) &&
         hlc_v_string(body, "url", false, true, 2048, hlc_api_valid_http_url,
                      "an http:// or https:// URL with a valid host, no user:password@", &e) &&
         hlc_v_int(body, "port", false, false, 1, 65535, &e);
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    json_t *en = json_object_get(body, "enabled"), *port = json_object_get(body, "port");
    json_t *ep = NULL;
    int rc = hlc_ollama_configure(r->hub, r->params[0], !en || json_is_true(en),
                                  json_string_value(json_object_get(body, "url")),
                                  port ? (int)json_integer_value(port) : HLC_OLLAMA_PORT, &ep);
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
