/* api_config.c - /api/v1/config and /api/v1/config/thresholds. The
 * notification channel URLs in the notifications section are secrets: PUT
 * seals them as credentials, GET shows them masked. */
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "config.h"
#include "credentials.h"
#include "hub.h"
#include "notifier.h"
#include "notify.h"
#include "prom.h"
#include "validate.h"

/* notifications.<key> -> credential kind */
static const struct {
    const char *key, *kind;
} channel_keys[] = {
    {"slack_webhook_url", "slack_webhook"},
    {"webhook_url", "webhook_url"},
    {"ntfy_url", "ntfy_url"},
};
#define NCHANNEL_KEYS (sizeof(channel_keys) / sizeof(channel_keys[0]))

bool
hlc_api_check_channel_secret(const char *kind, const char *value, const char *field,
                             struct hlc_verr *e)
{
    bool is_url = false;
    for (size_t i = 0; i < NCHANNEL_KEYS; i++)
        is_url = is_url || strcmp(kind, channel_keys[i].kind) == 0;
    const char *why = is_url ? hlc_notify_url_problem(value) : NULL;
    return why ? hlc_v_fail(e, field, "%s", why) : true;
}

int
hlc_api_config_get(struct hlc_req *r)
{
    json_t *o = NULL;
    int rc = hlc_config_all(r->hub->store, &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading configuration");
    json_t *ch = hlc_notifier_channels_json(r->hub);
    json_object_set_new(o, "slack_webhook_configured",
                        json_boolean(json_is_string(json_object_get(ch, "slack_webhook_url"))));
    json_object_update(json_object_get(o, "notifications"), ch);
    json_decref(ch);
    json_object_set_new(o, "prometheus",
                        json_pack("{s:b}", "scrape_token_set",
                                  hlc_prom_token_is_set(r->hub->store)));
    return hlc_reply_json(r, 200, o);
}

/* Validates and saves `patch` (stolen). On failure it has replied: false with *ret. */
static bool
apply(struct hlc_req *r, json_t *patch, int *ret)
{
    struct hlc_verr e;
    int rc;
    bool ok = hlc_config_update(r->hub->store, patch, &e, &rc);
    json_decref(patch);
    if (!ok) {
        *ret = hlc_reply_verr(r, &e);
        return false;
    }
    if (rc) {
        *ret = hlc_reply_err(r, rc, "saving configuration");
        return false;
    }
    return true;
}

int
hlc_api_config_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    json_object_del(body, "slack_webhook_configured"); /* echoed back by GET; read-only */
    /* prometheus.scrape_token: only its hash is stored, after the rest is saved. */
    json_t *prom = json_incref(json_object_get(body, "prometheus"));
    json_object_del(body, "prometheus");
    const char *bad = prom && !json_is_object(prom) ? "prometheus" : NULL;
    const char *pk;
    json_t *pv;
    json_object_foreach(json_is_object(prom) ? prom : NULL, pk, pv)
    {
        if (strcmp(pk, "scrape_token_set") == 0) /* echoed back by GET; read-only */
            continue;
        if (strcmp(pk, "scrape_token") != 0 || !json_is_string(pv) ||
            !hlc_prom_token_valid(json_string_value(pv)))
            bad = "prometheus.scrape_token";
    }
    if (bad) {
        json_decref(prom);
        json_decref(body);
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "prometheus takes only scrape_token: 16-256 characters of "
                               "A-Z a-z 0-9 . _ ~ + / = - (\"\" removes it)",
                               bad);
    }
    /* Channel URLs: validated first, stored only after the rest is valid. */
    json_t *notif = json_object_get(body, "notifications");
    json_t *urls = json_object();
    json_object_del(notif, "slack_webhook_source"); /* read-only, echoed by GET */
    for (size_t i = 0; json_is_object(notif) && i < NCHANNEL_KEYS; i++) {
        json_t *v = json_object_get(notif, channel_keys[i].key);
        if (!v)
            continue;
        char field[64];
        snprintf(field, sizeof(field), "notifications.%s", channel_keys[i].key);
        const char *u = json_string_value(v);
        bool masked = u && strstr(u, "/…"); /* GET's masked value sent back unchanged */
        struct hlc_verr e;
        if (!json_is_null(v) && !masked &&
            (!u || (*u && !hlc_api_check_channel_secret(channel_keys[i].kind, u, field, &e)))) {
            if (!u)
                hlc_v_fail(&e, field, "%s", hlc_notify_url_problem(NULL));
            json_decref(urls);
            json_decref(body);
            return hlc_reply_verr(r, &e);
        }
        if (!masked)
            json_object_set_new(urls, channel_keys[i].kind,
                                json_is_null(v) ? json_string("") : json_incref(v));
        json_object_del(notif, channel_keys[i].key);
    }
    json_incref(body);
    if (!apply(r, body, &ret)) {
        json_decref(urls);
        json_decref(body);
        json_decref(prom);
        return ret;
    }
    const char *token = json_string_value(json_object_get(prom, "scrape_token"));
    int trc = token ? hlc_prom_token_set(r->hub->store, token) : 0;
    if (token)
        sodium_memzero((char *)token, strlen(token));
    json_decref(prom);
    if (trc) {
        json_decref(urls);
        json_decref(body);
        return hlc_reply_err(r, trc, "storing the scrape token");
    }
    const char *kind;
    json_t *v;
    int rc = 0;
    json_object_foreach(urls, kind, v)
    {
        if (rc == 0)
            rc = hlc_credentials_set_secret(r->hub, kind, json_string_value(v));
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(urls);
    json_decref(body);
    if (r->body.data) /* the raw request held the URLs too */
        sodium_memzero(r->body.data, r->body.len);
    if (rc)
        return hlc_reply_err(r, rc, "storing the notification channel");
    return hlc_api_config_get(r);
}

int
hlc_api_thresholds_get(struct hlc_req *r)
{
    json_t *o = NULL;
    int rc = hlc_config_section(r->hub->store, "thresholds", &o);
    if (rc)
        return hlc_reply_err(r, rc, "reading thresholds");
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_thresholds_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    if (!apply(r, json_pack("{s:o}", "thresholds", body), &ret))
        return ret;
    return hlc_api_thresholds_get(r);
}
