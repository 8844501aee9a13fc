/* api_metrics.c - /api/v1/metrics (history, latest, fleet summary) and the
 * live service and container states of a machine. */
#include <string.h>

#include "api.h"
#include "hlc/sample.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define DEFAULT_POINTS 300
#define MAX_POINTS 1000

static const struct {
    const char *name;  /* ?range= value */
    int64_t seconds;   /* span */
    bool rollups;      /* read the hourly rollups rather than the samples */
} ranges[] = {
    {"1h", 3600, false},
    {"6h", 6 * 3600, false},
    {"24h", 86400, false},
    {"7d", 7 * 86400, false},
    {"30d", 30 * 86400, false},
    {"1y", 365 * 86400, true},
};

static int
not_found(struct hlc_req *r)
{
    return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
}

static int
check_id(struct hlc_req *r, const char **id)
{
    *id = r->params[0];
    return hlc_valid_slug(*id) ? 0 : not_found(r);
}

/* The window a history request asks for: ?range= and ?points= checked,
 * buckets picked. */
struct window {
    size_t ri;          /* index in ranges[] */
    int64_t bucket;     /* seconds per bucket */
    int64_t from, to;   /* [from, to), whole buckets */
};

/* Reads ?range= (24h unless asked) and ?points=: true with *w filled, or
 * false with the 422 sent and its result in *reply. */
static bool
window_of(struct hlc_req *r, struct window *w, int *reply)
{
    const char *range = hlc_req_query(r, "range");
    const char *points_s = hlc_req_query(r, "points");
    size_t ri = 2; /* 24h unless asked */
    if (range) {
        for (ri = 0; ri < sizeof(ranges) / sizeof(*ranges); ri++)
            if (strcmp(range, ranges[ri].name) == 0)
                break;
        if (ri == sizeof(ranges) / sizeof(*ranges)) {
            *reply = hlc_reply_error(r, 422, "VALIDATION_ERROR",
                                     "range must be one of 1h, 6h, 24h, 7d, 30d, 1y", "range");
            return false;
        }
    }
    int64_t points = DEFAULT_POINTS;
    if (points_s && hlc_parse_i64(points_s, 1, MAX_POINTS, &points) != 0) {
        *reply = hlc_reply_error(r, 422, "VALIDATION_ERROR",
                                 "points must be a whole number from 1 to 1000", "points");
        return false;
    }

    /* Buckets are aligned to the epoch (so a chart refreshed a minute later
     * keeps its buckets), whole minutes for samples and whole hours for
     * rollups, and never more than `points` of them. */
    int64_t span = ranges[ri].seconds, unit = ranges[ri].rollups ? 3600 : 60;
    int64_t bucket = (span + points - 1) / points;
    bucket = (bucket + unit - 1) / unit * unit;
    int64_t now = hlc_now();
    int64_t last = now / bucket;
    int64_t first = (now - span + bucket - 1) / bucket;
    if (last - first + 1 > points)
        first = last - points + 1;
    w->ri = ri;
    w->bucket = bucket;
    w->from = first * bucket;
    w->to = (last + 1) * bucket;
    return true;
}

/* Names the window on a history reply. */
static int
reply_window(struct hlc_req *r, const char *id, const struct window *w, json_t *h)
{
    json_object_set_new(h, "server_id", json_string(id));
    json_object_set_new(h, "range", json_string(ranges[w->ri].name));
    json_object_set_new(h, "bucket_seconds", json_integer(w->bucket));
    return hlc_reply_json(r, 200, h);
}

/* Which history one of the three history routes reads. */
enum history_kind { HIST_METRICS, HIST_FILESYSTEMS, HIST_TEMPERATURES };

/* The history routes: the machine id and window checked alike, then the
 * store's reader for `kind`, answered with the window named. */
static int
history_reply(struct hlc_req *r, enum history_kind kind)
{
    static const char *const what[] = {"reading metrics history", "reading filesystem history",
                                       "reading temperature history"};
    const char *id;
    struct window w;
    int ret = check_id(r, &id);
    if (ret || !window_of(r, &w, &ret))
        return ret;
    json_t *h = NULL;
    struct hlc_store *st = r->hub->store;
    bool rollups = ranges[w.ri].rollups;
    int rc = kind == HIST_METRICS
                 ? hlc_store_metrics_history(st, id, w.from, w.to, w.bucket, rollups, &h)
             : kind == HIST_FILESYSTEMS
                 ? hlc_store_fs_history(st, id, w.from, w.to, w.bucket, rollups,
                                        HLC_SAMPLE_MAX_FS, &h)
                 : hlc_store_temp_history(st, id, w.from, w.to, w.bucket, rollups,
                                          HLC_SAMPLE_MAX_TEMPS, &h);
    if (rc == HLC_ENOTFOUND)
        return not_found(r);
    if (rc)
        return hlc_reply_err(r, rc, what[kind]);
    return reply_window(r, id, &w, h);
}

int
hlc_api_metrics_history(struct hlc_req *r)
{
    return history_reply(r, HIST_METRICS);
}

/* GET /metrics/{id}/filesystems: each mount's used % over the same windows
 * and buckets as the metrics history; at most as many mounts as one sample
 * may carry. */
int
hlc_api_metrics_fs_history(struct hlc_req *r)
{
    return history_reply(r, HIST_FILESYSTEMS);
}

/* GET /metrics/{id}/temperatures: each sensor zone's degrees over the same
 * windows and buckets; at most as many zones as one sample may carry. */
int
hlc_api_metrics_temp_history(struct hlc_req *r)
{
    return history_reply(r, HIST_TEMPERATURES);
}

int
hlc_api_metrics_latest(struct hlc_req *r)
{
    const char *id;
    int ret = check_id(r, &id);
    if (ret)
        return ret;
    json_t *l = NULL;
    int rc = hlc_store_metrics_latest(r->hub->store, id, &l);
    if (rc == HLC_ENOTFOUND) {
        json_t *m = NULL;
        if (hlc_store_machine_get(r->hub->store, id, &m) != 0)
            return not_found(r);
        json_decref(m);
        return hlc_reply_error(r, 404, "NO_DATA", "no sample has been collected from this machine yet",
                               "server_id");
    }
    if (rc)
        return hlc_reply_err(r, rc, "reading the latest sample");
    return hlc_reply_json(r, 200, l);
}

int
hlc_api_metrics_summary(struct hlc_req *r)
{
    json_t *s = NULL;
    int rc = hlc_store_metrics_summary(r->hub->store, &s);
    if (rc)
        return hlc_reply_err(r, rc, "summarising the fleet");
    return hlc_reply_json(r, 200, s);
}

#define SPARK_SPAN 3600
#define SPARK_DEFAULT_POINTS 30
#define SPARK_MAX_POINTS 120

/* GET /metrics/sparklines?points=N: the last hour of every machine's CPU and
 * memory in N buckets, for the fleet table's sparklines in one request. */
int
hlc_api_metrics_sparklines(struct hlc_req *r)
{
    const char *points_s = hlc_req_query(r, "points");
    int64_t points = SPARK_DEFAULT_POINTS;
    if (points_s && hlc_parse_i64(points_s, 2, SPARK_MAX_POINTS, &points) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "points must be a whole number from 2 to 120", "points");
    int64_t bucket = (SPARK_SPAN + points - 1) / points;
    int64_t now = hlc_now();
    int64_t first = (now - SPARK_SPAN) / bucket + 1, last = now / bucket;
    json_t *m = NULL;
    int rc = hlc_store_metrics_sparklines(r->hub->store, first * bucket, (last + 1) * bucket,
                                          bucket, &m);
    if (rc)
        return hlc_reply_err(r, rc, "reading sparklines");
    return hlc_reply_json(r, 200,
                          json_pack("{s:s, s:I, s:I, s:I, s:o}", "range", "1h", "bucket_seconds",
                                    (json_int_t)bucket, "from", (json_int_t)(first * bucket),
                                    "points", (json_int_t)(last - first + 1), "servers", m));
}

int
hlc_api_service_states(struct hlc_req *r)
{
    const char *id;
    int ret = check_id(r, &id);
    if (ret)
        return ret;
    json_t *svcs = NULL;
    int rc = hlc_store_service_states(r->hub->store, id, &svcs);
    if (rc == HLC_ENOTFOUND)
        return not_found(r);
    if (rc)
        return hlc_reply_err(r, rc, "reading services");
    /* "name" as well: what PUT takes and older clients read */
    size_t i;
    json_t *v;
    json_array_foreach(svcs, i, v)
    {
        json_object_set(v, "name", json_object_get(v, "service_name"));
    }
    return hlc_reply_json(r, 200, json_pack("{s:s, s:o}", "server_id", id, "services", svcs));
}

int
hlc_api_container_states(struct hlc_req *r)
{
    const char *id;
    int ret = check_id(r, &id);
    if (ret)
        return ret;
    json_t *c = NULL;
    int rc = hlc_store_container_states(r->hub->store, id, &c);
    if (rc == HLC_ENOTFOUND)
        return not_found(r);
    if (rc)
        return hlc_reply_err(r, rc, "reading containers");
    return hlc_reply_json(r, 200, json_pack("{s:s, s:o}", "server_id", id, "containers", c));
}
