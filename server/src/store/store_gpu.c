/* store_gpu.c - GPU readings per sample: history and the newest ones. */
#include <stdlib.h>

#include "hlc/base.h"
#include "hlc/sample.h"
#include "store_internal.h"

static const char sql_put[] =
    "INSERT OR REPLACE INTO gpu_metrics(server_id, timestamp, gpu_id, vendor, name, util_percent,"
    " mem_used_bytes, mem_total_bytes, temp_c, power_w)"
    " SELECT server_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM servers WHERE server_id=?1";
/* The same parameters as sql_put, ?2 being the hour. */
static const char sql_hourly_put[] =
    "INSERT INTO gpu_hourly(server_id, hour, gpu_id, vendor, name, util_sum, util_n, mem_sum,"
    " mem_n, mem_total, temp_sum, temp_n, temp_max, power_sum, power_n)"
    " SELECT server_id, ?2, ?3, ?4, ?5, coalesce(?6, 0), ?6 IS NOT NULL, coalesce(?7, 0),"
    " ?7 IS NOT NULL, ?8, coalesce(?9, 0), ?9 IS NOT NULL, ?9, coalesce(?10, 0), ?10 IS NOT NULL"
    " FROM servers WHERE server_id=?1"
    " ON CONFLICT(server_id, hour, gpu_id) DO UPDATE SET vendor=excluded.vendor,"
    " name=excluded.name, util_sum=util_sum+excluded.util_sum, util_n=util_n+excluded.util_n,"
    " mem_sum=mem_sum+excluded.mem_sum, mem_n=mem_n+excluded.mem_n,"
    " mem_total=coalesce(excluded.mem_total, mem_total), temp_sum=temp_sum+excluded.temp_sum,"
    " temp_n=temp_n+excluded.temp_n,"
    " temp_max=max(coalesce(temp_max, excluded.temp_max), coalesce(excluded.temp_max, temp_max)),"
    " power_sum=power_sum+excluded.power_sum, power_n=power_n+excluded.power_n";
static const char sql_prune[] = "DELETE FROM gpu_metrics WHERE server_id=?1 AND timestamp<?2";
static const char sql_prune_hourly[] = "DELETE FROM gpu_hourly WHERE server_id=?1 AND hour<?2";
#define READING_COLS                                                                               \
    "gpu_id, vendor, name, timestamp, util_percent, mem_used_bytes, mem_total_bytes, temp_c,"      \
    " power_w"
static const char sql_latest[] =
    "SELECT " READING_COLS " FROM gpu_metrics WHERE server_id=?1 AND timestamp="
    "(SELECT max(timestamp) FROM gpu_metrics WHERE server_id=?1) ORDER BY gpu_id";
static const char sql_history[] =
    "SELECT * FROM (SELECT " READING_COLS " FROM gpu_metrics WHERE server_id=?1 AND timestamp>=?2"
    " ORDER BY timestamp DESC, gpu_id LIMIT ?3) ORDER BY timestamp, gpu_id";
/* Hourly averages in the readings' shape (the hour as its time). */
static const char sql_history_hourly[] =
    "SELECT * FROM (SELECT gpu_id, vendor, name, hour, util_sum / nullif(util_n, 0),"
    " mem_sum / nullif(mem_n, 0), mem_total, temp_sum / nullif(temp_n, 0),"
    " power_sum / nullif(power_n, 0) FROM gpu_hourly WHERE server_id=?1 AND hour>=?2"
    " ORDER BY hour DESC, gpu_id LIMIT ?3) ORDER BY hour, gpu_id";
static const struct store_col reading_cols[] = {
    {"gpu_id", COL_TEXT},
    {"vendor", COL_TEXT},
    {"name", COL_TEXT},
    {"time", COL_TIME},
    {"util_percent", COL_REAL},
    {"mem_used_bytes", COL_REAL},
    {"mem_total_bytes", COL_REAL},
    {"temp_c", COL_REAL},
    {"power_w", COL_REAL},
};
#define NREADING_COLS ((int)(sizeof(reading_cols) / sizeof(reading_cols[0])))

/* Binds ?1..?10 of sql_put and sql_hourly_put. */
static void
bind_reading(sqlite3_stmt *st, const char *server_id, int64_t t, const struct hlc_gpu *g)
{
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t);
    sqlite3_bind_text(st, 3, g->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, g->vendor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, g->name[0] ? g->name : NULL, -1, SQLITE_STATIC);
    store_bind_real(st, 6, g->util_percent);
    store_bind_real(st, 7, g->mem_used_bytes);
    store_bind_real(st, 8, g->mem_total_bytes);
    store_bind_real(st, 9, g->temp_c);
    store_bind_real(st, 10, g->power_w);
}

/* Runs a prune statement (?1 machine, ?2 bound). */
static int
prune(struct store_conn *c, const char *sql, const char *server_id, int64_t before)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before);
    return store_step_done(c, st, "prune gpu readings");
}

int
hlc_store_gpu_put(struct hlc_store *s, const char *server_id, int64_t ts,
                  const struct hlc_gpu *gpus, size_t n, int64_t before, int64_t hourly_before)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    bool open = rc == 0;
    sqlite3_stmt *st;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!(st = store_stmt(c, sql_put))) {
            rc = HLC_EDB;
            break;
        }
        bind_reading(st, server_id, ts, &gpus[i]);
        if ((rc = store_step_changed(c, st, "store gpu reading")) != 0)
            break;
        if (!(st = store_stmt(c, sql_hourly_put))) {
            rc = HLC_EDB;
            break;
        }
        bind_reading(st, server_id, ts / 3600 * 3600, &gpus[i]);
        rc = store_step_done(c, st, "roll up gpu reading");
    }
    if (rc == 0)
        rc = prune(c, sql_prune, server_id, before);
    if (rc == 0)
        rc = prune(c, sql_prune_hourly, server_id, hourly_before);
    if (rc == 0) {
        rc = store_commit(c);
        open = false;
    }
    if (open)
        store_rollback(c);
    store_release(s, c);
    return rc;
}

int
hlc_store_gpu_get(struct hlc_store *s, const char *server_id, int64_t since, int limit, bool hourly,
                  json_t **out)
{
    struct store_conn *c = store_acquire(s);
    json_t *latest = NULL, *hist = NULL;
    int rc = 0;
    *out = NULL;
    if ((rc = store_machine_exists(c, server_id)) != 0)
        goto out;
    sqlite3_stmt *st;
    if (!(st = store_stmt(c, sql_latest))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    if ((rc = store_collect_rows(c, st, reading_cols, NREADING_COLS, &latest, "read gpus")))
        goto out;
    if (!(st = store_stmt(c, hourly ? sql_history_hourly : sql_history))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int(st, 3, limit);
    if ((rc = store_collect_rows(c, st, reading_cols, NREADING_COLS, &hist, "read gpu history")))
        goto out;
    *out = json_pack("{s:o, s:o, s:s}", "gpus", latest, "history", hist, "resolution",
                     hourly ? "hour" : "sample");
    latest = hist = NULL;
out:
    json_decref(latest);
    json_decref(hist);
    store_release(s, c);
    return rc;
}
