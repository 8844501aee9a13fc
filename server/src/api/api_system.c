/* api_system.c - /api/v1/system/health and /api/v1/system/stats. */
#include "api.h"
#include "hub.h"
#include "store.h"

int
hlc_api_health(struct hlc_req *r)
{
    bool db = hlc_store_ping(r->hub->store);
    char now[32];
    hlc_time_iso(hlc_now(), now);
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:s}", "status", db ? "healthy" : "degraded",
                          "version", HLC_VERSION, "database", db ? "ok" : "unavailable",
                          "database_ok", db, "uptime_seconds",
                          (json_int_t)((hlc_mono_ms() - r->hub->started_mono_ms) / 1000),
                          "server_time", now);
    return hlc_reply_json(r, db ? 200 : 503, o);
}

int
hlc_api_stats(struct hlc_req *r)
{
    json_t *db = NULL;
    int rc = hlc_store_stats(r->hub->store, &db);
    if (rc)
        return hlc_reply_err(r, rc, "reading statistics");
    char started[32];
    hlc_time_iso(r->hub->started_at, started);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o}", "version", HLC_VERSION, "started_at",
                          started, "uptime_seconds",
                          (json_int_t)((hlc_mono_ms() - r->hub->started_mono_ms) / 1000),
                          "requests_served", (json_int_t)atomic_load(&r->hub->requests),
                          "database", db);
    json_t *outbox = NULL;
    if (hlc_store_outbox_stats(r->hub->store, &outbox) == 0)
        json_object_set_new(o, "outbox", outbox);
    return hlc_reply_json(r, 200, o);
}
