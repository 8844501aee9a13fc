/* api_checks.c - /api/v1/checks: service checks (CRUD, run now, results).
 * Every field is validated here before it is stored: URLs are http(s)
 * with no userinfo and only RFC 3986 characters, hosts are names or IP
 * literals, ports and ranges are bounded, run_from names the hub or
 * existing machines. What reaches a machine's shell is quoted by the
 * checks room (hlc_check_remote_script). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "checks.h"
#include "hlc/shell.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define RUN_FROM_MAX 16
#define RESULTS_DEFAULT 100
#define RESULTS_MAX 1000

static const char *const common_keys[] = {
    "name", "type", "interval_seconds", "run_from", "timeout_seconds", "failures_before_alert",
    "server_id", "service", NULL};
static const char *const http_keys[] = {"url", "method", "status_min", "status_max", "keyword",
                                        "keyword_absent", "follow_redirects", "verify_tls",
                                        "cert_warn_days", NULL};
static const char *const tcp_keys[] = {"host", "port", NULL};
static const char *const dns_keys[] = {"query", "resolver", "resolver_port", "expect", NULL};
static const char *const ping_keys[] = {"host", NULL};
static const char *const types[] = {"http", "tcp", "dns", "ping", NULL};
static const char *const methods[] = {"GET", "HEAD", NULL};

static const char *const *
type_keys(const char *type)
{
    if (!strcmp(type, "http"))
        return http_keys;
    if (!strcmp(type, "tcp"))
        return tcp_keys;
    if (!strcmp(type, "ping"))
        return ping_keys;
    return dns_keys;
}

static bool
in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(*list, k))
            return true;
    return false;
}

/* An http(s) URL: RFC 3986 characters only, no userinfo, a valid host and
 * an optional port 1-65535. */
bool
hlc_api_valid_http_url(const char *u)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "-._~:/?#[]@!$&'()*+,;=%";
    size_t n = strlen(u);
    if (n > 2048 || strspn(u, ok) != n)
        return false;
    const char *p;
    if (!strncmp(u, "http://", 7))
        p = u + 7;
    else if (!strncmp(u, "https://", 8))
        p = u + 8;
    else
        return false;
    size_t alen = strcspn(p, "/?#");
    char auth[300];
    if (alen == 0 || alen >= sizeof(auth))
        return false;
    memcpy(auth, p, alen);
    auth[alen] = '\0';
    if (strchr(auth, '@'))
        return false; /* userinfo: credentials do not belong in a check */
    char *host = auth, *port = NULL;
    if (auth[0] == '[') {
        char *close = strchr(auth, ']');
        if (!close)
            return false;
        *close = '\0';
        host = auth + 1;
        if (!strchr(host, ':') || !hlc_valid_ip(host))
            return false;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return false;
    } else {
        char *colon = strchr(auth, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
        if (!hlc_valid_hostname(host) || strchr(host, ':') || strchr(host, '['))
            return false;
    }
    if (port) {
        int64_t v;
        if (hlc_parse_i64(port, 1, 65535, &v) != 0)
            return false;
    }
    return true;
}

static bool
valid_host(const char *s)
{
    return hlc_valid_hostname(s) && s[0] != '-';
}

static bool
valid_query(const char *s)
{
    return hlc_valid_hostname(s) && !hlc_valid_ip(s);
}

static bool
valid_unit(const char *s)
{
    return hlc_shell_valid_unit(s);
}

/* Checks `c` (the whole definition, defaults not yet filled) and fills the
 * defaults. False with e set. */
static bool
check_def(struct hlc_hub *hub, json_t *c, struct hlc_verr *e)
{
    if (!hlc_v_enum(c, "type", true, types, e))
        return false;
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *const *tkeys = type_keys(type);
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v)
    {
        if (!in_list(key, common_keys) && !in_list(key, tkeys))
            return hlc_v_fail(e, key, "%s is not a field of %s checks", key, type);
    }
    if (!hlc_v_string(c, "name", true, false, 100, hlc_valid_printable, "printable text", e) ||
        !hlc_v_int(c, "interval_seconds", false, false, 10, 86400, e) ||
        !hlc_v_int(c, "timeout_seconds", false, false, 1, 60, e) ||
        !hlc_v_int(c, "failures_before_alert", false, false, 1, 100, e) ||
        !hlc_v_string(c, "server_id", false, true, 63, hlc_valid_slug, "a machine id", e) ||
        !hlc_v_string(c, "service", false, true, 128, valid_unit, "a systemd unit name", e))
        return false;
    const char *tie = json_string_value(json_object_get(c, "server_id"));
    json_t *m = NULL;
    if (tie && hlc_store_machine_get(hub->store, tie, &m) != 0)
        return hlc_v_fail(e, "server_id", "no machine has that server_id");
    json_decref(m);
    if (json_string_value(json_object_get(c, "service")) && !tie)
        return hlc_v_fail(e, "service", "a service needs the server_id of its machine");

    json_t *rf = json_object_get(c, "run_from");
    if (rf && (!json_is_array(rf) || json_array_size(rf) < 1 ||
               json_array_size(rf) > RUN_FROM_MAX))
        return hlc_v_fail(e, "run_from", "run_from must be a list of 1-%d places (\"hub\" or "
                                         "server ids)", RUN_FROM_MAX);
    size_t i, j;
    json_t *p;
    json_array_foreach(rf, i, p)
    {
        const char *place = json_string_value(p);
        if (!place || (strcmp(place, "hub") != 0 && !hlc_valid_slug(place)))
            return hlc_v_fail(e, "run_from", "run_from[%zu] is not \"hub\" or a server id", i);
        for (j = 0; j < i; j++)
            if (!strcmp(json_string_value(json_array_get(rf, j)), place))
                return hlc_v_fail(e, "run_from", "run_from lists %s twice", place);
        if (strcmp(place, "hub") != 0 && hlc_store_machine_get(hub->store, place, &m) != 0)
            return hlc_v_fail(e, "run_from", "run_from[%zu]: no machine has that server_id", i);
        json_decref(m);
        m = NULL;
    }
    if (!rf)
        json_object_set_new(c, "run_from", json_pack("[s]", "hub"));
    if (!json_object_get(c, "interval_seconds"))
        json_object_set_new(c, "interval_seconds", json_integer(60));
    if (!json_object_get(c, "timeout_seconds"))
        json_object_set_new(c, "timeout_seconds", json_integer(10));
    if (!json_object_get(c, "failures_before_alert"))
        json_object_set_new(c, "failures_before_alert", json_integer(2));

    if (!strcmp(type, "http")) {
        if (!hlc_v_string(c, "url", true, false, 2048, hlc_api_valid_http_url,
                          "an http:// or https:// URL with a valid host, no user:password@", e) ||
            !hlc_v_enum(c, "method", false, methods, e) ||
            !hlc_v_int(c, "status_min", false, false, 100, 599, e) ||
            !hlc_v_int(c, "status_max", false, false, 100, 599, e) ||
            !hlc_v_string(c, "keyword", false, true, 256, hlc_valid_printable, "printable text",
                          e) ||
            !hlc_v_bool(c, "keyword_absent", false, e) ||
            !hlc_v_bool(c, "follow_redirects", false, e) || !hlc_v_bool(c, "verify_tls", false, e) ||
            !hlc_v_int(c, "cert_warn_days", false, false, 1, 365, e))
            return false;
        json_t *lo = json_object_get(c, "status_min"), *hi = json_object_get(c, "status_max");
        if ((lo ? json_integer_value(lo) : 200) > (hi ? json_integer_value(hi) : 399))
            return hlc_v_fail(e, "status_max", "status_max is below status_min");
        if (!json_object_get(c, "cert_warn_days"))
            json_object_set_new(c, "cert_warn_days", json_integer(14));
    } else if (!strcmp(type, "tcp") || !strcmp(type, "ping")) {
        bool tcp = !strcmp(type, "tcp");
        if (!hlc_v_string(c, "host", true, false, 253, valid_host, "a host name or IP address",
                          e) ||
            (tcp && !hlc_v_int(c, "port", true, false, 1, 65535, e)))
            return false;
        /* Said now rather than by every run: this hub cannot ping at all. */
        size_t k;
        json_t *pl;
        json_array_foreach(json_object_get(c, "run_from"), k, pl)
        {
            if (!tcp && !strcmp(json_string_value(pl), "hub") && !hlc_check_ping_allowed())
                return hlc_v_fail(e, "run_from",
                                  "this hub may not send ICMP echo (its group is outside "
                                  "net.ipv4.ping_group_range): run the ping from a machine, "
                                  "or use a tcp check");
        }
    } else {
        if (!hlc_v_string(c, "query", true, false, 253, valid_query, "a host name to resolve",
                          e) ||
            !hlc_v_string(c, "resolver", false, true, 45, hlc_valid_ip, "an IP address", e) ||
            !hlc_v_int(c, "resolver_port", false, false, 1, 65535, e) ||
            !hlc_v_string(c, "expect", false, true, 45, hlc_valid_ip, "an IP address", e))
            return false;
    }
    /* Nulls mean "none": drop them so the stored object holds only values. */
    void *iter = json_object_iter(c);
    while (iter) {
        void *next = json_object_iter_next(c, iter);
        if (json_is_null(json_object_iter_value(iter)))
            json_object_del(c, json_object_iter_key(iter));
        iter = next;
    }
    return true;
}

/* The path's check id, or -1. */
static int64_t
path_id(struct hlc_req *r)
{
    int64_t id;
    return hlc_parse_i64(r->params[0], 1, INT64_MAX, &id) == 0 ? id : -1;
}

static int
reply_check(struct hlc_req *r, int status, int64_t id)
{
    json_t *o = NULL;
    int rc = hlc_store_check_get(r->hub->store, id, &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading the check");
    return hlc_reply_json(r, status, o);
}

/* After a create or update: the scheduler re-reads, the client gets the check. */
static int
saved(struct hlc_req *r, int rc, int status, int64_t id)
{
    if (rc)
        return hlc_reply_err(r, rc, "saving the check");
    hlc_checks_changed(r->hub);
    return reply_check(r, status, id);
}

int
hlc_api_checks_list(struct hlc_req *r)
{
    json_t *list = NULL;
    int rc = hlc_store_check_list(r->hub->store, &list);
    if (rc)
        return hlc_reply_err(r, rc, "listing checks");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "checks", list));
}

int
hlc_api_checks_create(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    if (!check_def(r->hub, body, &e)) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    int64_t id = 0;
    int rc = hlc_store_check_insert(r->hub->store, body, &id);
    json_decref(body);
    return saved(r, rc, 201, id);
}

int
hlc_api_checks_get(struct hlc_req *r)
{
    int64_t id = path_id(r);
    if (id < 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    return reply_check(r, 200, id);
}

int
hlc_api_checks_update(struct hlc_req *r)
{
    int64_t id = path_id(r);
    if (id < 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    json_t *old = NULL;
    int rc = hlc_store_check_get(r->hub->store, id, &old);
    if (rc)
        return hlc_reply_err(r, rc, "reading the check");
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body) {
        json_decref(old);
        return ret;
    }
    /* The stored definition with the body's keys over it; a change of type
     * drops the old type's target fields. */
    json_t *def = json_deep_copy(old);
    static const char *const stored[] = {"id", "created_at", "updated_at", "latest", NULL};
    for (const char *const *k = stored; *k; k++)
        json_object_del(def, *k);
    const char *nt = json_string_value(json_object_get(body, "type"));
    const char *ot = json_string_value(json_object_get(old, "type"));
    if (nt && ot && strcmp(nt, ot) != 0)
        for (const char *const *k = type_keys(ot); *k; k++)
            json_object_del(def, *k);
    json_object_update(def, body);
    json_decref(body);
    struct hlc_verr e;
    if (!check_def(r->hub, def, &e)) {
        json_decref(def);
        json_decref(old);
        return hlc_reply_verr(r, &e);
    }
    rc = hlc_store_check_update(r->hub->store, id, def);
    json_decref(def);
    if (rc == 0)
        hlc_checks_forget(r->hub, old); /* its places or tie may have changed */
    json_decref(old);
    return saved(r, rc, 200, id);
}

int
hlc_api_checks_delete(struct hlc_req *r)
{
    int64_t id = path_id(r);
    json_t *old = NULL;
    int rc = id < 0 ? HLC_ENOTFOUND : hlc_store_check_get(r->hub->store, id, &old);
    if (rc == 0)
        rc = hlc_store_check_delete(r->hub->store, id);
    if (rc == 0)
        hlc_checks_forget(r->hub, old);
    json_decref(old);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "deleting the check");
    hlc_checks_changed(r->hub);
    return hlc_reply_empty(r, 204);
}

int
hlc_api_checks_run(struct hlc_req *r)
{
    int64_t id = path_id(r);
    if (id < 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    json_t *results = NULL;
    int rc = hlc_checks_run_now(r->hub, id, &results);
    if (rc)
        return hlc_reply_err(r, rc, "running the check");
    return hlc_reply_json(r, 200, json_pack("{s:I, s:o}", "check_id", (json_int_t)id, "results",
                                            results));
}

int
hlc_api_checks_results(struct hlc_req *r)
{
    int64_t id = path_id(r), limit = RESULTS_DEFAULT;
    if (id < 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    const char *place = hlc_req_query(r, "place"), *lim = hlc_req_query(r, "limit");
    if (place && strcmp(place, "hub") != 0 && !hlc_valid_slug(place))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "place is \"hub\" or a server id",
                               "place");
    if (lim && hlc_parse_i64(lim, 1, RESULTS_MAX, &limit) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "limit must be an integer 1-1000",
                               "limit");
    json_t *o = NULL;
    int rc = hlc_store_check_results(r->hub->store, id, place, (int)limit, hlc_now(), &o);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such check", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "reading results");
    return hlc_reply_json(r, 200, o);
}
