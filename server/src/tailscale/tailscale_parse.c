/* tailscale_parse.c - the pure parsers of the Tailscale API's device list and
 * the LocalAPI's status, and the small pure helpers import uses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hlc/base.h"
#include "tailscale.h"
#include "validate.h"

/* A boolean field: absent or null gives def; a non-boolean is an error. */
static bool
take_bool(json_t *obj, const char *key, bool def, bool *out)
{
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v);
    return true;
}

/* A date field: "", absent, null, 0001-01-01T00:00:00Z, dates before 1970
 * and text that is no date are "unknown" (0); a non-string is an error. */
static bool
take_time(json_t *obj, const char *key, int64_t *out)
{
    char buf[64];
    *out = 0;
    if (!hlc_json_take_text(obj, key, buf, sizeof(buf)))
        return false;
    int64_t t;
    if (hlc_time_parse(buf, &t) == 0 && t > 0)
        *out = t;
    return true;
}

/* A stable node id: letters and digits only ("nXXXXCNTRL", "n1234"). */
static bool
valid_node_id(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return false;
    return true;
}

/* The MagicDNS name without its trailing dot; "" when it is no DNS name. */
static void
fix_name(char *name)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[n - 1] = '\0';
    if (*name && !hlc_valid_dns_name(name))
        name[0] = '\0';
}

/* The addresses array: each an IPv4/IPv6 literal (others are skipped),
 * at most HLC_TS_MAX_ADDRS kept; false when it is not an array of strings. */
static bool
take_addrs(json_t *obj, const char *key, struct hlc_ts_device *d)
{
    json_t *a = json_object_get(obj, key);
    if (!a || json_is_null(a))
        return true;
    if (!json_is_array(a))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return false;
        const char *s = json_string_value(v);
        unsigned char buf[16];
        bool v4 = inet_pton(AF_INET, s, buf) == 1;
        if (json_string_length(v) >= sizeof(d->addrs[0]) ||
            (!v4 && inet_pton(AF_INET6, s, buf) != 1))
            continue;
        if (v4 && !d->ipv4[0])
            snprintf(d->ipv4, sizeof(d->ipv4), "%s", s);
        if (!v4 && !d->ipv6[0])
            snprintf(d->ipv6, sizeof(d->ipv6), "%s", s);
        if (d->naddrs == HLC_TS_MAX_ADDRS) {
            d->truncated = true;
            continue;
        }
        snprintf(d->addrs[d->naddrs++], sizeof(d->addrs[0]), "%s", s);
    }
    return true;
}

/* Tags: strings "tag:name" of printable characters; over the cap cut. */
static bool
take_tags(json_t *obj, const char *key, struct hlc_ts_device *d)
{
    json_t *a = json_object_get(obj, key);
    if (!a || json_is_null(a))
        return true;
    if (!json_is_array(a))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) >= sizeof(d->tags[0]) ||
            json_string_length(v) == 0)
            return false;
        const char *s = json_string_value(v);
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                return false;
        if (d->ntags == HLC_TS_MAX_TAGS) {
            d->truncated = true;
            continue;
        }
        snprintf(d->tags[d->ntags++], sizeof(d->tags[0]), "%s", s);
    }
    return true;
}

/* One API device object into d: false to skip it. */
static bool
api_device(json_t *o, struct hlc_ts_device *d)
{
    memset(d, 0, sizeof(*d));
    if (!json_is_object(o))
        return false;
    bool connected = false;
    json_t *cc = json_object_get(o, "connectedToControl");
    if (!hlc_json_take_text(o, "id", d->id, sizeof(d->id)) ||
        !hlc_json_take_text(o, "nodeId", d->node_id, sizeof(d->node_id)) || !valid_node_id(d->node_id) ||
        !hlc_json_take_text(o, "name", d->name, sizeof(d->name)) ||
        !hlc_json_take_text(o, "hostname", d->hostname, sizeof(d->hostname)) ||
        !hlc_json_take_text(o, "os", d->os, sizeof(d->os)) ||
        !hlc_json_take_text(o, "user", d->user, sizeof(d->user)) ||
        !hlc_json_take_text(o, "clientVersion", d->client_version, sizeof(d->client_version)) ||
        !take_bool(o, "updateAvailable", false, &d->update_available) ||
        !take_bool(o, "keyExpiryDisabled", false, &d->key_expiry_disabled) ||
        !take_bool(o, "authorized", true, &d->authorized) ||
        !take_bool(o, "isExternal", false, &d->is_external) ||
        !take_bool(o, "connectedToControl", false, &connected) ||
        !take_time(o, "lastSeen", &d->last_seen) || !take_time(o, "expires", &d->expires) ||
        !take_addrs(o, "addresses", d) || !take_tags(o, "tags", d))
        return false;
    d->online = (!cc || json_is_null(cc)) ? -1 : connected;
    fix_name(d->name);
    if (d->key_expiry_disabled)
        d->expires = 0;
    return true;
}

/* One LocalAPI PeerStatus object into d: false to skip it. */
static bool
status_peer(json_t *o, struct hlc_ts_device *d, bool self)
{
    memset(d, 0, sizeof(*d));
    if (!json_is_object(o))
        return false;
    bool online = false;
    json_t *on = json_object_get(o, "Online");
    if (!hlc_json_take_text(o, "ID", d->node_id, sizeof(d->node_id)) || !valid_node_id(d->node_id) ||
        !hlc_json_take_text(o, "DNSName", d->name, sizeof(d->name)) ||
        !hlc_json_take_text(o, "HostName", d->hostname, sizeof(d->hostname)) ||
        !hlc_json_take_text(o, "OS", d->os, sizeof(d->os)) ||
        !take_bool(o, "Online", false, &online) ||
        !take_time(o, "LastSeen", &d->last_seen) || !take_time(o, "KeyExpiry", &d->expires) ||
        !take_addrs(o, "TailscaleIPs", d) || !take_tags(o, "Tags", d))
        return false;
    d->online = (!on || json_is_null(on)) ? (self ? 1 : -1) : online;
    d->key_expiry_disabled = d->expires == 0; /* KeyExpiry is omitted when it never expires */
    d->authorized = true;
    d->is_self = self;
    fix_name(d->name);
    return true;
}

/* Both parsers: the answer's device objects (the API's "devices" array, or
 * the LocalAPI's Self then each Peer) through one loop with one set of
 * bounds. */
static int
parse(const char *text, size_t len, bool status, struct hlc_ts_device **out, size_t *n,
      size_t *skipped)
{
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    if (len > HLC_TS_MAX_BODY)
        return HLC_ETOOBIG;
    if (!text || memchr(text, '\0', len))
        return HLC_EPARSE;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *list = NULL;
    json_t *self = json_object_get(root, "Self");
    int rc = 0;
    if (!status) {
        list = json_incref(json_object_get(root, "devices"));
        if (!json_is_array(list))
            rc = HLC_EPARSE;
    } else {
        json_t *peers = json_object_get(root, "Peer");
        if (!json_is_object(root) || (peers && !json_is_null(peers) && !json_is_object(peers)) ||
            (!self && !peers)) {
            rc = HLC_EPARSE;
        } else if (json_object_size(peers) < HLC_TS_MAX_DEVICES) {
            list = json_array();
            if (self && !json_is_null(self))
                json_array_append(list, self);
            const char *key;
            json_t *p;
            json_object_foreach(peers, key, p)
            {
                json_array_append(list, p);
            }
        } else {
            rc = HLC_ETOOBIG;
        }
    }
    size_t total = json_array_size(list), i;
    if (rc == 0 && total > HLC_TS_MAX_DEVICES)
        rc = HLC_ETOOBIG;
    if (rc == 0) {
        struct hlc_ts_device *v = total ? hlc_xcalloc(total, sizeof(*v)) : NULL;
        json_t *o;
        json_array_foreach(list, i, o)
        {
            bool ok = status ? status_peer(o, &v[*n], o == self) : api_device(o, &v[*n]);
            if (ok)
                (*n)++;
            else if (skipped)
                (*skipped)++;
        }
        *out = v;
    }
    json_decref(list);
    json_decref(root);
    return rc;
}

int
hlc_ts_parse_devices(const char *text, size_t len, struct hlc_ts_device **out, size_t *n,
                     size_t *skipped)
{
    return parse(text, len, false, out, n, skipped);
}

int
hlc_ts_parse_status(const char *text, size_t len, struct hlc_ts_device **out, size_t *n,
                    size_t *skipped)
{
    return parse(text, len, true, out, n, skipped);
}

const char *
hlc_ts_machine_type(const char *os)
{
    static const char *const desktops[] = {"macos", "windows", "ios", "android", "ipados",
                                           "tvos"};
    for (size_t i = 0; os && i < sizeof(desktops) / sizeof(desktops[0]); i++)
        if (strcasecmp(os, desktops[i]) == 0)
            return "workstation";
    return "server";
}

void
hlc_ts_slug(const char *hostname, char out[static 64])
{
    size_t n = 0;
    bool dash = false;
    for (const unsigned char *p = (const unsigned char *)(hostname ? hostname : ""); *p && n < 63;
         p++) {
        if (isalnum(*p) && *p < 0x80) {
            if (dash && n > 0 && n < 62)
                out[n++] = '-';
            dash = false;
            out[n++] = (char)tolower(*p);
        } else {
            dash = true; /* runs of anything else become one '-' */
        }
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, 64, "device");
}
