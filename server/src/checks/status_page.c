/* status_page.c - the family status page's settings, access and data. */
#include "status_page.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "hlc/base.h"
#include "hub.h"
#include "store.h"

#define KEY "status_page"

/* Settings are read-modify-written as one config row: one writer at a time. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

/* The stored row, or the defaults (new object). */
static json_t *
load(struct hlc_hub *hub)
{
    json_t *row = NULL;
    if (hlc_store_config_get(hub->store, KEY, &row) != 0 || !json_is_object(row)) {
        json_decref(row);
        row = json_pack("{s:b, s:b, s:s, s:[]}", "enabled", 0, "public_on_lan", 0, "title",
                        "Home services", "services");
    }
    return row;
}

static void
token_hash(const char *token, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

int
hlc_status_page_get(struct hlc_hub *hub, json_t **out)
{
    json_t *row = load(hub);
    json_object_set_new(row, "has_token", json_boolean(json_object_get(row, "token_hash") != NULL));
    json_object_del(row, "token_hash");
    *out = row;
    return 0;
}

int
hlc_status_page_set(struct hlc_hub *hub, json_t *patch)
{
    pthread_mutex_lock(&write_mu);
    json_t *row = load(hub);
    json_object_update(row, patch);
    int rc = hlc_store_config_set(hub->store, KEY, row);
    json_decref(row);
    pthread_mutex_unlock(&write_mu);
    return rc;
}

int
hlc_status_page_new_token(struct hlc_hub *hub, char out[HLC_STATUS_TOKEN_LEN + 1])
{
    char hash[65];
    hlc_random_hex(out, HLC_STATUS_TOKEN_LEN / 2);
    token_hash(out, hash);
    json_t *patch = json_pack("{s:s}", "token_hash", hash);
    int rc = hlc_status_page_set(hub, patch);
    json_decref(patch);
    return rc;
}

int
hlc_status_page_revoke(struct hlc_hub *hub)
{
    pthread_mutex_lock(&write_mu);
    json_t *row = load(hub);
    json_object_del(row, "token_hash");
    int rc = hlc_store_config_set(hub->store, KEY, row);
    json_decref(row);
    pthread_mutex_unlock(&write_mu);
    return rc;
}

/* Loopback, RFC 1918, link-local, CGNAT-free private ranges and IPv6 ULA /
 * link-local: what "on the LAN" means here. */
static bool
lan_address(const char *ip)
{
    unsigned char a[16];
    if (strncmp(ip, "::ffff:", 7) == 0 && inet_pton(AF_INET, ip + 7, a) == 1)
        ip += 7;
    if (inet_pton(AF_INET, ip, a) == 1)
        return a[0] == 127 || a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254);
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char loop[16] = {[15] = 1};
        return memcmp(a, loop, 16) == 0 || (a[0] & 0xFE) == 0xFC ||
               (a[0] == 0xFE && (a[1] & 0xC0) == 0x80);
    }
    return false;
}

bool
hlc_status_page_allowed(struct hlc_hub *hub, const char *token, const char *client_ip)
{
    json_t *row = load(hub);
    bool ok = false;
    if (!json_is_true(json_object_get(row, "enabled"))) {
        ok = false;
    } else if (!token) {
        ok = json_is_true(json_object_get(row, "public_on_lan")) && lan_address(client_ip);
    } else {
        const char *want = json_string_value(json_object_get(row, "token_hash"));
        char got[65];
        token_hash(token, got);
        ok = want && strlen(want) == 64 && sodium_memcmp(got, want, 64) == 0;
    }
    json_decref(row);
    return ok;
}

/* One service's state and uptime from its check's results (new object). */
static json_t *
service(struct hlc_hub *hub, json_t *svc, int64_t now)
{
    int64_t id = json_integer_value(json_object_get(svc, "check_id"));
    json_t *res = NULL, *chk = NULL;
    const char *state = "pending";
    double up[3] = {0, 0, 0};
    int have[3] = {0, 0, 0};
    static const char *const windows[] = {"24h", "7d", "30d"};
    if (hlc_store_check_get(hub->store, id, &chk) == 0 &&
        hlc_store_check_results(hub->store, id, NULL, 1, now, &res) == 0) {
        json_t *places = json_object_get(chk, "run_from"), *p;
        size_t i, n = 0, ok = 0;
        json_array_foreach(json_object_get(res, "places"), i, p)
        {
            /* Only the places the check still runs from count. */
            const char *pl = json_string_value(json_object_get(p, "place"));
            bool current = false;
            size_t k;
            json_t *q;
            json_array_foreach(places, k, q)
            {
                current |= pl && !strcmp(json_string_value(q), pl);
            }
            if (!current)
                continue;
            n++;
            ok += json_is_true(json_object_get(p, "ok"));
            for (int w = 0; w < 3; w++) {
                json_t *v = json_object_get(json_object_get(p, "uptime"), windows[w]);
                if (json_is_number(v)) {
                    up[w] += json_number_value(v);
                    have[w]++;
                }
            }
        }
        state = n == 0 ? "pending" : ok == n ? "up" : ok == 0 ? "down" : "degraded";
    }
    json_decref(res);
    json_decref(chk);
    json_t *uptime = json_object();
    for (int w = 0; w < 3; w++)
        json_object_set_new(uptime, windows[w],
                            have[w] ? json_real((double)(long)(up[w] / have[w] * 100) / 100)
                                    : json_null());
    return json_pack("{s:O, s:s, s:o}", "label", json_object_get(svc, "label"), "state", state,
                     "uptime", uptime);
}

int
hlc_status_page_data(struct hlc_hub *hub, json_t **out)
{
    json_t *row = load(hub), *svcs = json_array(), *s;
    int64_t now = hlc_now();
    size_t i;
    json_array_foreach(json_object_get(row, "services"), i, s)
    {
        json_array_append_new(svcs, service(hub, s, now));
    }
    char iso[32];
    hlc_time_iso(now, iso);
    *out = json_pack("{s:O, s:s, s:o}", "title", json_object_get(row, "title"), "updated_at", iso,
                     "services", svcs);
    json_decref(row);
    return 0;
}
