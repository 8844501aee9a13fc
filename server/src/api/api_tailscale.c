/* api_tailscale.c - /api/v1/tailscale: discovery, import, sync; and the
 * connection tests of a machine (registered or not yet). */
#include <string.h>

#include "api.h"
#include "hub.h"
#include "remote.h"
#include "tailscale.h"
#include "validate.h"

#define MAX_IMPORT 1000

/* A fetch error: 409 when nothing is configured, else 502 (the peer's fault). */
static int
reply_ts_error(struct hlc_req *r, int rc, const struct hlc_ts_error *err)
{
    if (!err->code[0])
        return hlc_reply_err(r, rc, "talking to Tailscale");
    int status = strcmp(err->code, "TAILSCALE_NOT_CONFIGURED") == 0 ? 409
                 : strcmp(err->code, "INTERNAL") == 0               ? 500
                                                                    : 502;
    return hlc_reply_error(r, status, err->code, err->message, NULL);
}

static bool
printable_max(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && hlc_valid_printable(s);
}

int
hlc_api_tailscale_devices(struct hlc_req *r)
{
    const char *online = hlc_req_query(r, "online");
    const char *os = hlc_req_query(r, "os");
    const char *tag = hlc_req_query(r, "tag");
    const char *refresh = hlc_req_query(r, "refresh");
    if (online && strcmp(online, "true") != 0 && strcmp(online, "false") != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "online must be true or false",
                               "online");
    if (os && !printable_max(os, 32))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "os must be 1-32 printable characters",
                               "os");
    if (tag && !printable_max(tag, 63))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "tag must be 1-63 printable characters",
                               "tag");
    if (refresh && strcmp(refresh, "1") != 0 && strcmp(refresh, "0") != 0 &&
        strcmp(refresh, "true") != 0 && strcmp(refresh, "false") != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "refresh must be 1 or 0", "refresh");
    bool fresh = refresh && (strcmp(refresh, "1") == 0 || strcmp(refresh, "true") == 0);
    json_t *out = NULL;
    struct hlc_ts_error err;
    int rc = hlc_tailscale_devices(r->hub, fresh, online, os, tag, &out, &err);
    if (rc != 0)
        return reply_ts_error(r, rc, &err);
    return hlc_reply_json(r, 200, out);
}

static bool
valid_node_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static bool
check_import(json_t *body, struct hlc_verr *e)
{
    static const char *const top[] = {"devices", NULL};
    static const char *const keys[] = {"node_id",  "server_id", "display_name", "machine_type",
                                       "ssh_user", "ssh_port",  "tdp_watts",    "expected_services",
                                       NULL};
    static const char *const types[] = {"server", "workstation", NULL};
    if (!hlc_v_known_keys(body, top, e))
        return false;
    json_t *devs = json_object_get(body, "devices");
    if (!json_is_array(devs) || json_array_size(devs) == 0 || json_array_size(devs) > MAX_IMPORT)
        return hlc_v_fail(e, "devices", "devices must be an array of 1 to %d devices", MAX_IMPORT);
    size_t i, j;
    json_t *d, *o;
    json_array_foreach(devs, i, d)
    {
        char f[48];
        snprintf(f, sizeof(f), "devices[%zu]", i);
        if (!json_is_object(d))
            return hlc_v_fail(e, f, "%s must be an object with node_id", f);
        bool ok = hlc_v_known_keys(d, keys, e) &&
                  hlc_v_string(d, "node_id", true, false, 63, valid_node_id,
                               "a Tailscale node id (letters and digits)", e) &&
                  hlc_v_string(d, "server_id", false, false, 63, hlc_valid_slug,
                               "a slug: lowercase letters, digits and '-'", e) &&
                  hlc_v_string(d, "display_name", false, false, 100, hlc_valid_printable, "text",
                               e) &&
                  hlc_v_enum(d, "machine_type", false, types, e) &&
                  hlc_v_string(d, "ssh_user", false, false, 32, hlc_valid_ssh_user,
                               "a login name (lowercase letters, digits, _ . -)", e) &&
                  hlc_v_int(d, "ssh_port", false, false, 1, 65535, e) &&
                  hlc_v_int(d, "tdp_watts", false, false, 0, 10000, e);
        json_t *svcs = json_object_get(d, "expected_services");
        if (ok && svcs)
            ok = hlc_api_check_services(svcs, "expected_services", e);
        if (!ok) {
            char inner[120];
            snprintf(inner, sizeof(inner), "%s.%s", f, e->field);
            hlc_v_set_field(e, inner);
            return false;
        }
        const char *node = json_string_value(json_object_get(d, "node_id"));
        const char *sid = json_string_value(json_object_get(d, "server_id"));
        json_array_foreach(devs, j, o)
        {
            if (j >= i)
                break;
            if (strcmp(node, json_string_value(json_object_get(o, "node_id"))) == 0)
                return hlc_v_fail(e, f, "node %s is listed twice", node);
            const char *other = json_string_value(json_object_get(o, "server_id"));
            if (sid && other && strcmp(sid, other) == 0)
                return hlc_v_fail(e, f, "server_id %s is asked for twice", sid);
        }
    }
    return true;
}

int
hlc_api_tailscale_import(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    if (!check_import(body, &e)) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    json_t *out = NULL;
    struct hlc_ts_error err;
    int rc = hlc_tailscale_import(r->hub, body, &out, &err);
    json_decref(body);
    if (rc != 0)
        return reply_ts_error(r, rc, &err);
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_tailscale_sync(struct hlc_req *r)
{
    json_t *out = NULL;
    struct hlc_ts_error err;
    int rc = hlc_tailscale_sync(r->hub, &out, &err);
    if (rc != 0)
        return reply_ts_error(r, rc, &err);
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_tailscale_status(struct hlc_req *r)
{
    json_t *out = NULL;
    int rc = hlc_tailscale_status(r->hub, &out);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading the Tailscale state");
    return hlc_reply_json(r, 200, out);
}

static int
reply_test(struct hlc_req *r, int rc, json_t *out)
{
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id (or no SSH key)",
                               "server_id");
    if (rc != 0)
        return hlc_reply_err(r, rc, "testing the connection");
    return hlc_reply_json(r, 200, out);
}

int
hlc_api_servers_test_connection(struct hlc_req *r)
{
    const char *id = r->params[0];
    if (!hlc_valid_slug(id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    json_t *out = NULL;
    int rc = hlc_remote_test_connection(r->hub, id, NULL, 0, NULL, &out);
    return reply_test(r, rc, out);
}

int
hlc_api_test_connection(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const keys[] = {"hostname", "ssh_port", "ssh_user", NULL};
    struct hlc_verr e;
    if (!hlc_v_known_keys(body, keys, &e) ||
        !hlc_v_string(body, "hostname", true, false, 253, hlc_valid_hostname,
                      "a host name or IP address", &e) ||
        !hlc_v_int(body, "ssh_port", false, false, 1, 65535, &e) ||
        !hlc_v_string(body, "ssh_user", false, false, 32, hlc_valid_ssh_user,
                      "a login name (lowercase letters, digits, _ . -)", &e)) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    json_t *port = json_object_get(body, "ssh_port");
    const char *user = json_string_value(json_object_get(body, "ssh_user"));
    json_t *out = NULL;
    int rc = hlc_remote_test_connection(r->hub, NULL,
                                        json_string_value(json_object_get(body, "hostname")),
                                        port ? (int)json_integer_value(port) : 22,
                                        user ? user : "homelabcmd", &out);
    json_decref(body);
    return reply_test(r, rc, out);
}
