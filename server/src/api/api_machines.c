/* api_machines.c - /api/v1/servers: the fleet registry and expected services. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "hlc/shell.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define MAX_TAGS 32
#define MAX_SERVICES 100

static const char *const machine_types[] = {"server", "workstation", NULL};
static const char *const connectivities[] = {"direct", "tailscale", NULL};

static const char *const machine_keys[] = {
    "server_id",    "display_name", "hostname",     "ip_address",
    "mac_address",  "tdp_watts",    "location",     "machine_type",
    "connectivity", "ssh_port",     "ssh_user",     "tailscale_hostname",
    "tailscale_ip", "poll_interval_seconds", "tags", "expected_services",
    NULL};

static bool
valid_unit(const char *s)
{
    return hlc_shell_valid_unit(s);
}

/* Validates an expected-services array; `field` names it in errors. */
bool
hlc_api_check_services(json_t *svcs, const char *field, struct hlc_verr *e)
{
    static const char *const svc_keys[] = {"name", "critical", NULL};
    if (!json_is_array(svcs))
        return hlc_v_fail(e, field, "%s must be an array", field);
    if (json_array_size(svcs) > MAX_SERVICES)
        return hlc_v_fail(e, field, "%s may list at most %d services", field, MAX_SERVICES);
    size_t i, j;
    json_t *svc, *other;
    json_array_foreach(svcs, i, svc)
    {
        char f[64];
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        if (!json_is_object(svc))
            return hlc_v_fail(e, f, "%s must be an object with name and critical", f);
        if (!hlc_v_known_keys(svc, svc_keys, e) ||
            !hlc_v_string(svc, "name", true, false, 128, valid_unit,
                          "a systemd unit name (letters, digits, : _ . @ -)", e) ||
            !hlc_v_bool(svc, "critical", false, e)) {
            char inner[160];
            snprintf(inner, sizeof(inner), "%s.%s", f, e->field);
            hlc_v_set_field(e, inner);
            return false;
        }
        const char *name = json_string_value(json_object_get(svc, "name"));
        json_array_foreach(svcs, j, other)
        {
            if (j >= i)
                break;
            if (strcmp(name, json_string_value(json_object_get(other, "name"))) == 0)
                return hlc_v_fail(e, f, "service '%s' is listed twice", name);
        }
    }
    return true;
}

static bool
check_tags(json_t *tags, struct hlc_verr *e)
{
    if (!json_is_array(tags))
        return hlc_v_fail(e, "tags", "tags must be an array of strings");
    if (json_array_size(tags) > MAX_TAGS)
        return hlc_v_fail(e, "tags", "at most %d tags", MAX_TAGS);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (!json_is_string(t) || !hlc_valid_tag(json_string_value(t)))
            return hlc_v_fail(e, "tags",
                              "each tag must be 1-32 letters, digits or _ . : - (tag %zu is not)",
                              i);
    }
    return true;
}

/* Checks a machine body. `creating`: server_id and hostname required. */
static bool
check_machine(json_t *m, bool creating, struct hlc_verr *e)
{
    if (!hlc_v_known_keys(m, machine_keys, e))
        return false;
    if (!hlc_v_string(m, "server_id", creating, false, 63, hlc_valid_slug,
                      "a slug: lowercase letters, digits and '-', starting with a letter or "
                      "digit, at most 63 characters",
                      e))
        return false;
    if (!hlc_v_string(m, "display_name", false, false, 100, NULL, NULL, e) ||
        !hlc_v_string(m, "hostname", creating, false, 253, hlc_valid_hostname,
                      "a host name or IP address", e) ||
        !hlc_v_string(m, "ip_address", false, true, 45, hlc_valid_ip, "an IPv4 or IPv6 address",
                      e) ||
        !hlc_v_string(m, "mac_address", false, true, 17, hlc_valid_mac,
                      "a MAC address like aa:bb:cc:dd:ee:ff", e) ||
        !hlc_v_int(m, "tdp_watts", false, false, 0, 10000, e) ||
        !hlc_v_string(m, "location", false, true, 128, NULL, NULL, e) ||
        !hlc_v_enum(m, "machine_type", false, machine_types, e) ||
        !hlc_v_enum(m, "connectivity", false, connectivities, e) ||
        !hlc_v_int(m, "ssh_port", false, false, 1, 65535, e) ||
        !hlc_v_string(m, "ssh_user", false, false, 32, hlc_valid_ssh_user,
                      "a login name (lowercase letters, digits, _ . -)", e) ||
        !hlc_v_string(m, "tailscale_hostname", false, true, 253, hlc_valid_hostname,
                      "a MagicDNS name or host name", e) ||
        !hlc_v_string(m, "tailscale_ip", false, true, 45, hlc_valid_ip,
                      "a Tailscale IPv4 or IPv6 address", e) ||
        !hlc_v_int(m, "poll_interval_seconds", false, true, 10, 86400, e))
        return false;
    json_t *tags = json_object_get(m, "tags");
    if (tags && !check_tags(tags, e))
        return false;
    json_t *svcs = json_object_get(m, "expected_services");
    if (svcs && !hlc_api_check_services(svcs, "expected_services", e))
        return false;
    return true;
}

/* A tailscale machine needs an address on the tailnet. */
static bool
check_tailscale_address(json_t *merged, struct hlc_verr *e)
{
    const char *conn = json_string_value(json_object_get(merged, "connectivity"));
    if (conn && strcmp(conn, "tailscale") == 0 &&
        !json_is_string(json_object_get(merged, "tailscale_hostname")) &&
        !json_is_string(json_object_get(merged, "tailscale_ip")))
        return hlc_v_fail(e, "connectivity",
                          "connectivity 'tailscale' needs tailscale_hostname or tailscale_ip");
    return true;
}

static void
set_default(json_t *m, const char *key, json_t *v)
{
    if (!json_object_get(m, key))
        json_object_set(m, key, v);
    json_decref(v);
}

static int
machine_id_param(struct hlc_req *r, const char **id)
{
    *id = r->params[0];
    if (!hlc_valid_slug(*id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    return 0;
}

/* The fleet list and each machine's JSON are the dashboard's hottest reads:
 * their serialized bodies are kept until the store's generation says anything
 * was written. Slots are picked by a hash of the key ("" = the list). */
#define BODY_SLOTS 64
static struct {
    pthread_mutex_t mu;              /* guards the slots */
    struct {
        char key[64];                /* machine id, "" for the list */
        unsigned long long gen;      /* store generation the text was built at */
        struct hlc_store *store;     /* which store it came from */
        char *text;                  /* serialized response, NULL when empty */
        size_t len;                  /* its length */
    } slot[BODY_SLOTS];
} body_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t
body_slot(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BODY_SLOTS;
}

/* A copy of the cached body for key at generation gen, or NULL. */
static char *
body_get(struct hlc_store *st, unsigned long long gen, const char *key, size_t *len)
{
    char *copy = NULL;
    size_t i = body_slot(key);
    pthread_mutex_lock(&body_cache.mu);
    if (body_cache.slot[i].text && body_cache.slot[i].gen == gen &&
        body_cache.slot[i].store == st && strcmp(body_cache.slot[i].key, key) == 0) {
        *len = body_cache.slot[i].len;
        copy = hlc_xmalloc(*len + 1);
        memcpy(copy, body_cache.slot[i].text, *len + 1);
    }
    pthread_mutex_unlock(&body_cache.mu);
    return copy;
}

static void
body_put(struct hlc_store *st, unsigned long long gen, const char *key, const char *text,
         size_t len)
{
    if (strlen(key) >= sizeof(body_cache.slot[0].key))
        return;
    size_t i = body_slot(key);
    char *keep = hlc_xstrdup(text);
    pthread_mutex_lock(&body_cache.mu);
    free(body_cache.slot[i].text);
    snprintf(body_cache.slot[i].key, sizeof(body_cache.slot[i].key), "%s", key);
    body_cache.slot[i].text = keep;
    body_cache.slot[i].len = len;
    body_cache.slot[i].gen = gen;
    body_cache.slot[i].store = st;
    pthread_mutex_unlock(&body_cache.mu);
}

int
hlc_api_servers_list(struct hlc_req *r)
{
    struct hlc_store *st = r->hub->store;
    unsigned long long gen = hlc_store_generation(st);
    size_t clen = 0;
    char *cached = body_get(st, gen, "", &clen);
    if (cached)
        return hlc_reply_text(r, 200, "application/json", cached, clen, true);

    json_t *arr = NULL, *latest = NULL;
    int rc = hlc_store_machine_list(st, &arr);
    if (rc == 0 && (rc = hlc_store_metrics_latest_all(st, &latest)) != 0)
        json_decref(arr);
    if (rc)
        return hlc_reply_err(r, rc, "listing machines");
    size_t n = json_array_size(arr), i;
    json_t *m;
    json_array_foreach(arr, i, m)
    {
        json_t *l = json_object_get(latest, json_string_value(json_object_get(m, "server_id")));
        json_object_set(m, "latest", l ? l : json_null());
    }
    json_decref(latest);
    json_t *body = json_pack("{s:o, s:I}", "servers", arr, "total", (json_int_t)n);
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    if (!text)
        return hlc_reply_error(r, 500, "INTERNAL", "could not encode the machine list", NULL);
    size_t len = strlen(text);
    body_put(st, gen, "", text, len);
    return hlc_reply_text(r, 200, "application/json", text, len, true);
}

int
hlc_api_servers_create(struct hlc_req *r)
{
    int ret;
    json_t *m = hlc_req_json(r, &ret);
    if (!m)
        return ret;
    return hlc_api_servers_register(r, m, NULL, NULL);
}

int
hlc_api_servers_register(struct hlc_req *r, json_t *m, const char *fingerprint,
                         const char *const facts[4])
{
    struct hlc_verr e;
    if (!check_machine(m, true, &e) || !check_tailscale_address(m, &e)) {
        json_decref(m);
        return hlc_reply_verr(r, &e);
    }
    set_default(m, "display_name", json_deep_copy(json_object_get(m, "server_id")));
    set_default(m, "tdp_watts", json_integer(50));
    set_default(m, "machine_type", json_string("server"));
    /* The fleet default (tailscale.default_connectivity) for a machine that
     * says none: 'tailscale' only where it has a tailnet address to use. */
    if (!json_object_get(m, "connectivity")) {
        json_t *ts = NULL;
        bool want_ts = hlc_config_section(r->hub->store, "tailscale", &ts) == 0 &&
                       strcmp(json_string_value(json_object_get(ts, "default_connectivity")) ?: "",
                              "tailscale") == 0;
        json_decref(ts);
        bool has_addr = json_is_string(json_object_get(m, "tailscale_hostname")) ||
                        json_is_string(json_object_get(m, "tailscale_ip"));
        set_default(m, "connectivity", json_string(want_ts && has_addr ? "tailscale" : "direct"));
    }
    set_default(m, "ssh_port", json_integer(22));
    set_default(m, "ssh_user", json_string("homelabcmd"));
    set_default(m, "tags", json_array());
    const char *id = json_string_value(json_object_get(m, "server_id"));
    int rc = hlc_store_machine_insert(r->hub->store, m);
    if (rc == HLC_EEXISTS) {
        json_decref(m);
        return hlc_reply_error(r, 409, "CONFLICT", "a machine with that server_id already exists",
                               "server_id");
    }
    json_t *out = NULL;
    char *scanned = NULL;
    const char *from = NULL;
    if (rc == 0 && !fingerprint) {
        /* A host scanned before keeps the key its scans trusted. */
        json_t *conn = json_object_get(m, "connectivity");
        bool ts = json_is_string(conn) && strcmp(json_string_value(conn), "tailscale") == 0;
        const char *addr = NULL;
        if (ts)
            addr = json_string_value(json_object_get(m, "tailscale_ip"))
                       ?: json_string_value(json_object_get(m, "tailscale_hostname"));
        if (!addr)
            addr = json_string_value(json_object_get(m, "ip_address"))
                       ?: json_string_value(json_object_get(m, "hostname"));
        int port = (int)json_integer_value(json_object_get(m, "ssh_port"));
        if (addr && hlc_store_scan_pin(r->hub->store, addr, port, &scanned, &from) == 0 &&
            scanned && from && strcmp(from, "scan") == 0)
            fingerprint = scanned;
    }
    if (rc == 0 && fingerprint)
        rc = hlc_store_hostkey_pin(r->hub->store, id, fingerprint);
    free(scanned);
    if (rc == 0 && facts)
        rc = hlc_store_machine_set_facts(r->hub->store, id, facts[0], facts[1], facts[2], facts[3]);
    if (rc == 0)
        rc = hlc_store_machine_get(r->hub->store, id, &out);
    json_decref(m);
    if (rc)
        return hlc_reply_err(r, rc, "registering the machine");
    return hlc_reply_json(r, 201, out);
}

int
hlc_api_servers_get(struct hlc_req *r)
{
    const char *id;
    int ret = machine_id_param(r, &id);
    if (ret)
        return ret;
    struct hlc_store *st = r->hub->store;
    unsigned long long gen = hlc_store_generation(st);
    size_t clen = 0;
    char *cached = body_get(st, gen, id, &clen);
    if (cached)
        return hlc_reply_text(r, 200, "application/json", cached, clen, true);
    json_t *m = NULL, *latest = NULL;
    int rc = hlc_store_machine_get(st, id, &m);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc == 0 && (rc = hlc_store_metrics_latest(st, id, &latest)) == HLC_ENOTFOUND)
        rc = 0;
    if (rc) {
        json_decref(m);
        return hlc_reply_err(r, rc, "reading the machine");
    }
    json_object_set_new(m, "latest", latest ? latest : json_null());
    char *text = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(m);
    if (!text)
        return hlc_reply_error(r, 500, "INTERNAL", "could not encode the machine", NULL);
    size_t len = strlen(text);
    body_put(st, gen, id, text, len);
    return hlc_reply_text(r, 200, "application/json", text, len, true);
}

int
hlc_api_servers_update(struct hlc_req *r)
{
    const char *id;
    int ret = machine_id_param(r, &id);
    if (ret)
        return ret;
    json_t *patch = hlc_req_json(r, &ret);
    if (!patch)
        return ret;
    struct hlc_verr e;
    json_t *cur = NULL, *out = NULL;
    int rc;
    if (!check_machine(patch, false, &e))
        goto invalid;
    json_t *pid = json_object_get(patch, "server_id");
    if (pid && strcmp(json_string_value(pid), id) != 0) {
        hlc_v_fail(&e, "server_id", "server_id cannot be changed (it is the machine's key)");
        goto invalid;
    }
    if ((rc = hlc_store_machine_get(r->hub->store, id, &cur)) != 0)
        goto fail;
    json_object_update(cur, patch);
    if (!check_tailscale_address(cur, &e))
        goto invalid;
    json_object_del(patch, "server_id");
    if ((rc = hlc_store_machine_update(r->hub->store, id, patch)) != 0 ||
        (rc = hlc_store_machine_get(r->hub->store, id, &out)) != 0)
        goto fail;
    json_decref(cur);
    json_decref(patch);
    return hlc_reply_json(r, 200, out);
invalid:
    json_decref(cur);
    json_decref(patch);
    return hlc_reply_verr(r, &e);
fail:
    json_decref(cur);
    json_decref(patch);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    return hlc_reply_err(r, rc, "updating the machine");
}

int
hlc_api_servers_delete(struct hlc_req *r)
{
    const char *id;
    int ret = machine_id_param(r, &id);
    if (ret)
        return ret;
    int rc = hlc_store_machine_delete(r->hub->store, id);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "deleting the machine");
    return hlc_reply_empty(r, 204);
}

int
hlc_api_services_put(struct hlc_req *r)
{
    const char *id;
    int ret = machine_id_param(r, &id);
    if (ret)
        return ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const keys[] = {"services", NULL};
    struct hlc_verr e;
    json_t *svcs = json_object_get(body, "services");
    if (!hlc_v_known_keys(body, keys, &e) ||
        (!svcs && !hlc_v_fail(&e, "services", "services is required")) ||
        !hlc_api_check_services(svcs, "services", &e)) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    int rc = hlc_store_services_set(r->hub->store, id, svcs);
    json_decref(body);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "saving services");
    return hlc_api_service_states(r); /* the new list merged with live state */
}

int
hlc_api_card_order_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const keys[] = {"order", NULL};
    struct hlc_verr e;
    json_t *order = json_object_get(body, "order");
    bool ok = hlc_v_known_keys(body, keys, &e);
    if (ok && (!json_is_array(order) || json_array_size(order) > 10000))
        ok = hlc_v_fail(&e, "order", "order must be an array of server ids");
    size_t i;
    json_t *v;
    json_array_foreach(order, i, v)
    {
        if (!ok)
            break;
        if (!json_is_string(v) || !hlc_valid_slug(json_string_value(v)))
            ok = hlc_v_fail(&e, "order", "order[%zu] is not a server id", i);
    }
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    int rc = hlc_store_machine_order_set(r->hub->store, order);
    json_t *echo = json_pack("{s:O}", "order", order);
    json_decref(body);
    if (rc == HLC_ENOTFOUND) {
        json_decref(echo);
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "order names an unknown server",
                               "order");
    }
    if (rc) {
        json_decref(echo);
        return hlc_reply_err(r, rc, "saving the card order");
    }
    return hlc_reply_json(r, 200, echo);
}
