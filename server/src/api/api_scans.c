/* api_scans.c - /api/v1/scans: start an ad-hoc scan, its result and the
 * history per host, compare two scans, register a scanned host. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "credentials_internal.h"
#include "hlc/base.h"
#include "hub.h"
#include "scans.h"
#include "store.h"
#include "validate.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define OFFSET_MAX 1000000

static const char *const scan_types[] = {"quick", "full", NULL};
/* An uploaded private key's text: an RSA-4096 PEM is about 3.3 KB. */
#define MAX_KEY_TEXT 16384

/* Key text spans lines: its shape is checked by parsing it, below. */
static bool
key_text(const char *s)
{
    (void)s;
    return true;
}

/* Frees a request body after wiping the uploaded key it may hold. */
static void
wipe_body(json_t *body)
{
    json_t *k = json_object_get(body, "ssh_private_key");
    if (json_is_string(k))
        sodium_memzero((char *)json_string_value(k), json_string_length(k));
    json_decref(body);
}

/* A scan id in the path: a lowercase uuid, else 404 without the store. */
static bool
valid_scan_id(const char *id)
{
    if (!id || strlen(id) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
        if (dash ? id[i] != '-' : !hex)
            return false;
    }
    return true;
}

static int
reply_no_scan(struct hlc_req *r, const char *field)
{
    return hlc_reply_error(r, 404, "NOT_FOUND", "no scan with that id", field);
}

int
hlc_api_scans_create(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const keys[] = {"hostname", "port",          "ssh_user",
                                       "scan_type", "ssh_private_key", NULL};
    struct hlc_verr e;
    char *publine = NULL;
    if (!hlc_v_known_keys(body, keys, &e) ||
        !hlc_v_string(body, "hostname", true, false, 253, hlc_valid_hostname,
                      "a host name or IP address", &e) ||
        !hlc_v_int(body, "port", false, false, 1, 65535, &e) ||
        !hlc_v_string(body, "ssh_user", false, false, 32, hlc_valid_ssh_user,
                      "a login name (lowercase letters, digits, _ . -)", &e) ||
        !hlc_v_enum(body, "scan_type", false, scan_types, &e) ||
        !hlc_v_string(body, "ssh_private_key", false, false, MAX_KEY_TEXT, key_text, "", &e)) {
        wipe_body(body);
        return hlc_reply_verr(r, &e);
    }
    /* An uploaded key is checked as a credential's is, then held only in memory. */
    const char *key = json_string_value(json_object_get(body, "ssh_private_key"));
    if (key && hlc_credentials_ssh_describe(key, &publine, NULL) != 0) {
        hlc_v_fail(&e, "ssh_private_key",
                   "ssh_private_key is not an OpenSSH or PEM private key without a passphrase "
                   "(remove one with: ssh-keygen -p -N '' -f KEY)");
        wipe_body(body);
        return hlc_reply_verr(r, &e);
    }
    free(publine);
    json_t *port = json_object_get(body, "port");
    const char *user = json_string_value(json_object_get(body, "ssh_user"));
    const char *type = json_string_value(json_object_get(body, "scan_type"));
    char id[37];
    int rc = hlc_scans_create(r->hub, json_string_value(json_object_get(body, "hostname")),
                              port ? (int)json_integer_value(port) : 22,
                              user ? user : "homelabcmd", type && strcmp(type, "full") == 0, key,
                              id);
    wipe_body(body);
    if (rc == HLC_EBUSY)
        return hlc_reply_error(r, 429, "TOO_MANY_SCANS",
                               "too many scans are queued or running; try again when one ends",
                               NULL);
    if (rc)
        return hlc_reply_err(r, rc, "starting the scan");
    return hlc_reply_json(r, 202, json_pack("{s:s, s:s}", "scan_id", id, "status", "pending"));
}

int
hlc_api_scans_list(struct hlc_req *r)
{
    const char *host = hlc_req_query(r, "hostname");
    const char *limit = hlc_req_query(r, "limit"), *offset = hlc_req_query(r, "offset");
    int64_t lim = LIST_DEFAULT, off = 0;
    if (host && (strlen(host) > 253 || !hlc_valid_hostname(host)))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "hostname must be a host name or IP address", "hostname");
    if (limit && hlc_parse_i64(limit, 1, LIST_MAX, &lim) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "limit must be an integer 1-200",
                               "limit");
    if (offset && hlc_parse_i64(offset, 0, OFFSET_MAX, &off) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "offset must be an integer 0-1000000",
                               "offset");
    json_t *arr = NULL;
    long long total = 0;
    int rc = hlc_store_scan_list(r->hub->store, host, (int)lim, (int)off, &arr, &total);
    if (rc)
        return hlc_reply_err(r, rc, "listing scans");
    return hlc_reply_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "scans", arr, "total",
                                            (json_int_t)total, "limit", (json_int_t)lim, "offset",
                                            (json_int_t)off));
}

int
hlc_api_scans_get(struct hlc_req *r)
{
    if (!valid_scan_id(r->params[0]))
        return reply_no_scan(r, "scan_id");
    json_t *scan = NULL;
    int rc = hlc_store_scan_get(r->hub->store, r->params[0], &scan);
    if (rc == HLC_ENOTFOUND)
        return reply_no_scan(r, "scan_id");
    if (rc)
        return hlc_reply_err(r, rc, "reading the scan");
    return hlc_reply_json(r, 200, scan);
}

/* A completed scan by path parameter i, or a reply already queued (*ret). */
static json_t *
completed_scan(struct hlc_req *r, int i, const char *field, int *ret)
{
    json_t *scan = NULL;
    if (!valid_scan_id(r->params[i])) {
        *ret = reply_no_scan(r, field);
        return NULL;
    }
    int rc = hlc_store_scan_get(r->hub->store, r->params[i], &scan);
    if (rc == HLC_ENOTFOUND) {
        *ret = reply_no_scan(r, field);
        return NULL;
    }
    if (rc) {
        *ret = hlc_reply_err(r, rc, "reading the scan");
        return NULL;
    }
    const char *st = json_string_value(json_object_get(scan, "status"));
    if (!st || strcmp(st, "completed") != 0 || !json_is_object(json_object_get(scan, "results"))) {
        json_decref(scan);
        *ret = hlc_reply_error(r, 409, "SCAN_NOT_COMPLETED",
                               "the scan has not completed (it is pending, running or failed)",
                               field);
        return NULL;
    }
    return scan;
}

int
hlc_api_scans_compare(struct hlc_req *r)
{
    int ret = 0;
    json_t *a = completed_scan(r, 0, "scan_id", &ret);
    if (!a)
        return ret;
    json_t *b = completed_scan(r, 1, "other_id", &ret);
    if (!b) {
        json_decref(a);
        return ret;
    }
    json_t *diff = hlc_scan_compare(json_object_get(a, "results"), json_object_get(b, "results"));
    json_object_set_new(diff, "scan_id", json_string(r->params[0]));
    json_object_set_new(diff, "other_id", json_string(r->params[1]));
    json_object_set(diff, "hostname", json_object_get(a, "hostname"));
    json_object_set(diff, "other_hostname", json_object_get(b, "hostname"));
    json_decref(a);
    json_decref(b);
    return hlc_reply_json(r, 200, diff);
}

static const char *
str_at(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    if (k2)
        v = json_object_get(v, k2);
    const char *s = json_string_value(v);
    return s && *s ? s : NULL;
}

int
hlc_api_scans_register(struct hlc_req *r)
{
    int ret = 0;
    json_t *scan = completed_scan(r, 0, "scan_id", &ret);
    if (!scan)
        return ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body) {
        json_decref(scan);
        return ret;
    }
    if (!json_is_object(body)) {
        json_decref(scan);
        json_decref(body);
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "the body must be a JSON object", NULL);
    }
    json_t *res = json_object_get(scan, "results");
    /* The scan's facts, then what the caller overrides. */
    char name[101];
    snprintf(name, sizeof(name), "%s",
             str_at(res, "hostname", NULL) ?: json_string_value(json_object_get(scan, "hostname")));
    json_t *m = json_pack("{s:O, s:O, s:O, s:s}", "hostname", json_object_get(scan, "hostname"),
                          "ssh_port", json_object_get(scan, "port"), "ssh_user",
                          json_object_get(scan, "ssh_user"), "display_name", name);
    json_object_update(m, body);
    json_decref(body);
    const char *facts[4] = {str_at(res, "os", "name"), str_at(res, "os", "version"),
                            str_at(res, "kernel", NULL), str_at(res, "arch", NULL)};
    /* The key the scan trusted becomes the machine's pin, but only when the
     * machine is reached where the scan reached it. */
    const char *fp = str_at(scan, "host_key_fingerprint", NULL);
    json_t *h = json_object_get(m, "hostname"), *p = json_object_get(m, "ssh_port");
    if (!json_equal(h, json_object_get(scan, "hostname")) ||
        !json_equal(p, json_object_get(scan, "port")) || json_object_get(m, "ip_address"))
        fp = NULL;
    char *pin = fp ? hlc_xstrdup(fp) : NULL;
    ret = hlc_api_servers_register(r, m, pin, facts);
    free(pin);
    json_decref(scan);
    return ret;
}
