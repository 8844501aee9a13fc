/* store_gpu.c - GPU readings per sample: history and the newest ones. */
#include <stdlib.h>

#include "hlc/base.h"
#include "hlc/sample.h"
#include "store_internal.h"

static const char sql_put[] =
    "INSERT OR REPLACE INTO gpu_metrics(server_id, timestamp, gpu_id, vendor, name, util_percent,"
    " mem_used_bytes, mem_total_bytes, temp_c, power_w)"
    " SELECT server_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM servers WHERE server_id=?1";
static const char sql_prune[] = "DELETE FROM gpu_metrics WHERE server_id=?1 AND timestamp<?2";
#define READING_COLS                                                                             \
    "gpu_id, vendor, name, timestamp, util_percent, mem_used_bytes, mem_total_bytes, temp_c,"   \
    " power_w"
static const char sql_latest[] =
    "SELECT " READING_COLS " FROM gpu_metrics WHERE server_id=?1 AND timestamp="
    "(SELECT max(timestamp) FROM gpu_metrics WHERE server_id=?1) ORDER BY gpu_id";
static const char sql_history[] =
    "SELECT * FROM (SELECT " READING_COLS " FROM gpu_metrics WHERE server_id=?1 AND timestamp>=?2"
    " ORDER BY timestamp DESC, gpu_id LIMIT ?3) ORDER BY timestamp, gpu_id";
static const struct store_col reading_cols[] = {
    {"gpu_id", COL_TEXT},         {"vendor", COL_TEXT},          {"name", COL_TEXT},
    {"time", COL_TIME},           {"util_percent", COL_REAL},    {"mem_used_bytes", COL_REAL},
    {"mem_total_bytes", COL_REAL}, {"temp_c", COL_REAL},          {"power_w", COL_REAL},
};
#define NREADING_COLS ((int)(sizeof(reading_cols) / sizeof(reading_cols[0])))

int
hlc_store_gpu_put(struct hlc_store *s, const char *server_id, int64_t ts,
                  const struct hlc_gpu *gpus, size_t n, int64_t before)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    bool open = rc == 0;
    sqlite3_stmt *st;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct hlc_gpu *g = &gpus[i];
        if (!(st = store_stmt(c, sql_put))) {
            rc = HLC_EDB;
            break;
        }
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ts);
        sqlite3_bind_text(st, 3, g->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, g->vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, g->name[0] ? g->name : NULL, -1, SQLITE_STATIC);
        store_bind_real(st, 6, g->util_percent);
        store_bind_real(st, 7, g->mem_used_bytes);
        store_bind_real(st, 8, g->mem_total_bytes);
        store_bind_real(st, 9, g->temp_c);
        store_bind_real(st, 10, g->power_w);
        rc = store_step_changed(c, st, "store gpu reading");
    }
    if (rc == 0 && (st = store_stmt(c, sql_prune))) {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, before);
        rc = store_step_done(c, st, "prune gpu readings");
    } else if (rc == 0) {
        rc = HLC_EDB;
    }
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
hlc_store_gpu_get(struct hlc_store *s, const char *server_id, int64_t since, int limit,
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
    if (!(st = store_stmt(c, sql_history))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int(st, 3, limit);
    if ((rc = store_collect_rows(c, st, reading_cols, NREADING_COLS, &hist, "read gpu history")))
        goto out;
    *out = json_pack("{s:o, s:o}", "gpus", latest, "history", hist);
    latest = hist = NULL;
out:
    json_decref(latest);
    json_decref(hist);
    store_release(s, c);
    return rc;
}
