/* api_alerts.c - /api/v1/alerts and /api/v1/notifications/test. */
#include <string.h>

#include "api.h"
#include "notifier.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define OFFSET_MAX 1000000

static const char *const statuses[] = {"open", "acknowledged", "resolved", "active", NULL};
static const char *const severities[] = {"critical", "high", "medium", "low", NULL};

static bool
one_of(const char *v, const char *const *choices)
{
    for (const char *const *c = choices; *c; c++)
        if (strcmp(*c, v) == 0)
            return true;
    return false;
}

int
hlc_api_alerts_list(struct hlc_req *r)
{
    struct hlc_alert_filter f = {.limit = LIST_DEFAULT};
    f.status = hlc_req_query(r, "status");
    f.severity = hlc_req_query(r, "severity");
    f.server_id = hlc_req_query(r, "server_id");
    f.type = hlc_req_query(r, "type");
    const char *limit = hlc_req_query(r, "limit"), *offset = hlc_req_query(r, "offset");
    int64_t v;
    if (f.status && !one_of(f.status, statuses))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "status must be open, acknowledged, resolved or active", "status");
    if (f.severity && !one_of(f.severity, severities))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "severity must be critical, high, medium or low", "severity");
    if (f.server_id && !hlc_valid_slug(f.server_id))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "server_id is not a machine id",
                               "server_id");
    if (f.type && (!*f.type || strlen(f.type) > 32 ||
                   strspn(f.type, "abcdefghijklmnopqrstuvwxyz_") != strlen(f.type)))
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "type is not an alert type", "type");
    if (limit) {
        if (hlc_parse_i64(limit, 1, LIST_MAX, &v) != 0)
            return hlc_reply_error(r, 422, "VALIDATION_ERROR", "limit must be an integer 1-1000",
                                   "limit");
        f.limit = (int)v;
    }
    if (offset) {
        if (hlc_parse_i64(offset, 0, OFFSET_MAX, &v) != 0)
            return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                                   "offset must be an integer 0-1000000", "offset");
        f.offset = (int)v;
    }
    json_t *arr = NULL;
    long long total = 0;
    int rc = hlc_store_alerts_list(r->hub->store, &f, &arr, &total);
    if (rc)
        return hlc_reply_err(r, rc, "listing alerts");
    return hlc_reply_json(r, 200, json_pack("{s:o, s:I}", "alerts", arr, "total",
                                            (json_int_t)total));
}

/* The alert id in the path: a uuid, else 404 without touching the store. */
static bool
valid_id(const char *id)
{
    if (strlen(id) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
        if (dash ? id[i] != '-' : !hex)
            return false;
    }
    return true;
}

int
hlc_api_alerts_get(struct hlc_req *r)
{
    if (!valid_id(r->params[0]))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such alert", NULL);
    json_t *a = NULL;
    int rc = hlc_store_alert_get(r->hub->store, r->params[0], &a);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such alert", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "reading the alert");
    return hlc_reply_json(r, 200, a);
}

static int
move(struct hlc_req *r, const char *to)
{
    if (!valid_id(r->params[0]))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such alert", NULL);
    int rc = hlc_store_alert_move(r->hub->store, r->params[0], to, hlc_now());
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such alert", NULL);
    if (rc == HLC_ESTATE)
        return hlc_reply_error(r, 409, "CONFLICT", "the alert is already resolved", "status");
    if (rc)
        return hlc_reply_err(r, rc, "updating the alert");
    return hlc_api_alerts_get(r);
}

int
hlc_api_alerts_acknowledge(struct hlc_req *r)
{
    return move(r, "acknowledged");
}

int
hlc_api_alerts_resolve(struct hlc_req *r)
{
    return move(r, "resolved");
}

int
hlc_api_notifications_test(struct hlc_req *r)
{
    json_t *results = NULL;
    int rc = hlc_notifier_send_test(r->hub, &results);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 409, "NO_CHANNEL",
                               "no notification channel is configured: set a Slack webhook URL, a "
                               "webhook URL or an ntfy URL first",
                               NULL);
    if (rc)
        return hlc_reply_err(r, rc, "sending the test notification");
    return hlc_reply_json(r, 200, json_pack("{s:o}", "results", results));
}
