/* api_status_page.c - the family status page: its settings under
 * /api/v1/status-page (API key) and the page itself at /status/{token}
 * (and /status when LAN-public), a self-contained HTML page and its data.
 * An unknown token, a revoked one or a disabled page all answer the same
 * 404, so a guess learns nothing. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hub.h"
#include "status_page.h"
#include "store.h"
#include "validate.h"

static const char page_html[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">"
    "<title>Status</title><style>"
    ":root{color-scheme:light dark;font-family:system-ui,sans-serif}"
    "body{margin:0 auto;max-width:36rem;padding:1rem}h1{font-size:1.4rem}"
    "ul{list-style:none;padding:0}li{display:flex;align-items:center;gap:.6rem;padding:.8rem;"
    "margin:.4rem 0;border-radius:.6rem;background:rgba(127,127,127,.12);font-size:1.1rem}"
    ".d{width:1rem;height:1rem;border-radius:50%;flex:none;background:#999}"
    ".up .d{background:#2e9d4f}.down .d{background:#d33}.degraded .d{background:#e6a700}"
    ".s{margin-left:auto;text-align:right;font-size:.85rem;opacity:.8}"
    "</style></head><body><h1 id=\"t\">Status</h1><ul id=\"l\"></ul><p id=\"u\" class=\"s\"></p>"
    "<script>"
    "var W={up:'Working',down:'Not working',degraded:'Partly working',pending:'Not checked yet'};"
    "function draw(d){document.getElementById('t').textContent=d.title;"
    "document.title=d.title;var l=document.getElementById('l');l.textContent='';"
    "d.services.forEach(function(s){var li=document.createElement('li');li.className=s.state;"
    "var dot=document.createElement('span');dot.className='d';var n=document.createElement('b');"
    "n.textContent=s.label;var r=document.createElement('span');r.className='s';"
    "r.textContent=W[s.state]+(s.uptime['24h']==null?'':' \\u00b7 '+s.uptime['24h']+'% today');"
    "li.appendChild(dot);li.appendChild(n);li.appendChild(r);l.appendChild(li)});"
    "document.getElementById('u').textContent='Updated '+new Date(d.updated_at).toLocaleTimeString()}"
    "function load(){fetch(location.pathname.replace(/\\/$/,'')+'/data',{cache:'no-store'})"
    ".then(function(r){return r.ok?r.json():Promise.reject(r.status)}).then(draw)"
    ".catch(function(){document.getElementById('u').textContent='Could not reach the hub'})}"
    "load();setInterval(load,30000);"
    "</script></body></html>";

static int
not_found(struct hlc_req *r)
{
    return hlc_reply_error(r, 404, "NOT_FOUND", "no such page", NULL);
}

/* token NULL: the LAN-public path. */
static int
page(struct hlc_req *r, const char *token)
{
    if (!hlc_status_page_allowed(r->hub, token, r->client_ip))
        return not_found(r);
    return hlc_reply_text(r, 200, "text/html; charset=utf-8", page_html, sizeof(page_html) - 1,
                          false);
}

static int
data(struct hlc_req *r, const char *token)
{
    if (!hlc_status_page_allowed(r->hub, token, r->client_ip))
        return not_found(r);
    json_t *o = NULL;
    int rc = hlc_status_page_data(r->hub, &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading the status page");
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_status_page_html(struct hlc_req *r)
{
    return page(r, r->nparams ? r->params[0] : NULL);
}

int
hlc_api_status_page_data(struct hlc_req *r)
{
    return data(r, r->nparams ? r->params[0] : NULL);
}

int
hlc_api_status_page_get(struct hlc_req *r)
{
    json_t *o = NULL;
    int rc = hlc_status_page_get(r->hub, &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading the status page");
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_status_page_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const allowed[] = {"enabled", "public_on_lan", "title", "services", NULL};
    struct hlc_verr e = {{0}, {0}};
    bool ok = hlc_v_known_keys(body, allowed, &e) && hlc_v_bool(body, "enabled", false, &e) &&
              hlc_v_bool(body, "public_on_lan", false, &e) &&
              hlc_v_string(body, "title", false, false, 80, hlc_valid_printable, "printable text",
                           &e);
    json_t *svcs = json_object_get(body, "services"), *s, *clean = json_array();
    if (ok && svcs && (!json_is_array(svcs) || json_array_size(svcs) > HLC_STATUS_MAX_SERVICES))
        ok = hlc_v_fail(&e, "services", "services must be a list of at most %d {check_id, label}",
                        HLC_STATUS_MAX_SERVICES);
    size_t i;
    json_array_foreach(svcs, i, s)
    {
        if (!ok)
            break;
        static const char *const keys[] = {"check_id", "label", NULL};
        json_t *chk = NULL;
        ok = json_is_object(s) && hlc_v_known_keys(s, keys, &e) &&
             hlc_v_int(s, "check_id", true, false, 1, INT64_MAX, &e) &&
             hlc_v_string(s, "label", false, false, 80, hlc_valid_printable, "printable text", &e);
        if (ok && hlc_store_check_get(r->hub->store,
                                      json_integer_value(json_object_get(s, "check_id")),
                                      &chk) != 0)
            ok = hlc_v_fail(&e, "services", "services[%zu]: no check has that id", i);
        if (ok) {
            /* The label the family sees: the operator's, else the check's name. */
            json_t *label = json_object_get(s, "label");
            json_array_append_new(clean, json_pack("{s:O, s:O}", "check_id",
                                                   json_object_get(s, "check_id"), "label",
                                                   label ? label : json_object_get(chk, "name")));
        } else if (!e.message[0]) {
            hlc_v_fail(&e, "services", "services[%zu] must be {check_id, label}", i);
        }
        if (!ok)
            hlc_v_set_field(&e, "services");
        json_decref(chk);
    }
    if (!ok) {
        json_decref(clean);
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    if (svcs)
        json_object_set_new(body, "services", clean);
    else
        json_decref(clean);
    int rc = hlc_status_page_set(r->hub, body);
    json_decref(body);
    if (rc)
        return hlc_reply_err(r, rc, "saving the status page");
    return hlc_api_status_page_get(r);
}

int
hlc_api_status_page_token(struct hlc_req *r)
{
    char token[HLC_STATUS_TOKEN_LEN + 1];
    int rc = hlc_status_page_new_token(r->hub, token);
    if (rc)
        return hlc_reply_err(r, rc, "making a token");
    char path[80];
    snprintf(path, sizeof(path), "/status/%s", token);
    return hlc_reply_json(r, 201, json_pack("{s:s, s:s}", "token", token, "path", path));
}

int
hlc_api_status_page_revoke(struct hlc_req *r)
{
    int rc = hlc_status_page_revoke(r->hub);
    if (rc)
        return hlc_reply_err(r, rc, "revoking the token");
    return hlc_reply_empty(r, 204);
}
