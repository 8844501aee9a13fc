/* store_fs.c - each filesystem's history: one row per sample and mount, its
 * hourly sums, and the per-mount series the machine page charts. */
#include "store_internal.h"

#include <stdint.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/sample.h"

/* A mount listed twice in one sample (a bind mount) is stored once. */
static const char sql_fs_put[] =
    "INSERT OR IGNORE INTO filesystem_metrics(server_id, timestamp, mount, used_percent,"
    " used_bytes, total_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
/* The same parameters, ?2 being the hour: bytes are the newest sample's. */
static const char sql_fs_hourly_put[] =
    "INSERT INTO filesystem_hourly(server_id, hour, mount, pct_sum, pct_n, pct_min, pct_max,"
    " used_bytes, total_bytes) VALUES(?1, ?2, ?3, ?4, 1, ?4, ?4, ?5, ?6)"
    " ON CONFLICT(server_id, hour, mount) DO UPDATE SET pct_sum=pct_sum+excluded.pct_sum,"
    " pct_n=pct_n+1, pct_min=min(pct_min, excluded.pct_min),"
    " pct_max=max(pct_max, excluded.pct_max), used_bytes=excluded.used_bytes,"
    " total_bytes=excluded.total_bytes";

static void
bind_fs(sqlite3_stmt *st, const char *id, int64_t t, const struct hlc_fs *f)
{
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t);
    sqlite3_bind_text(st, 3, f->mount, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, hlc_fs_used_percent(f));
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(f->used_bytes & INT64_MAX));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(f->total_bytes & INT64_MAX));
}

int
store_fs_history_put(struct store_conn *c, const char *id, int64_t ts, const struct hlc_sample *smp)
{
    if (!(smp->have & HLC_HAVE_FS))
        return 0;
    int64_t hour = ts - (ts % 3600 + 3600) % 3600;
    size_t n = smp->nfs < HLC_SAMPLE_MAX_FS ? smp->nfs : HLC_SAMPLE_MAX_FS;
    for (size_t i = 0; i < n; i++) {
        const struct hlc_fs *f = &smp->fs[i];
        sqlite3_stmt *st = store_stmt(c, sql_fs_put);
        if (!st)
            return HLC_EDB;
        bind_fs(st, id, ts, f);
        int rc = store_step_done(c, st, "store filesystem history");
        if (rc)
            return rc;
        if (sqlite3_changes(c->db) == 0)
            continue; /* the same mount again in this sample */
        if (!(st = store_stmt(c, sql_fs_hourly_put)))
            return HLC_EDB;
        bind_fs(st, id, hour, f);
        if ((rc = store_step_done(c, st, "roll up filesystem history")) != 0)
            return rc;
    }
    return 0;
}

/* Per mount and bucket, oldest first within each mount. */
static const char sql_fs_hist_samples[] =
    "SELECT mount, timestamp / ?4 AS b, round(avg(used_percent), 3) FROM filesystem_metrics"
    " WHERE server_id=?1 AND timestamp >= ?2 AND timestamp < ?3 GROUP BY mount, b"
    " ORDER BY mount, b";
static const char sql_fs_hist_rollups[] =
    "SELECT mount, hour / ?4 AS b, round(sum(pct_sum) / sum(pct_n), 3) FROM filesystem_hourly"
    " WHERE server_id=?1 AND hour >= ?2 AND hour < ?3 GROUP BY mount, b ORDER BY mount, b";

int
hlc_store_fs_history(struct hlc_store *s, const char *id, int64_t from, int64_t to, int64_t bucket,
                     bool rollups, size_t max_mounts, json_t **out)
{
    if (bucket <= 0 || max_mounts == 0)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    json_t *list = NULL;
    int rc, step;
    if ((rc = store_machine_exists(c, id)) != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, rollups ? sql_fs_hist_rollups : sql_fs_hist_samples);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, bucket);
    list = json_array();
    json_t *series = NULL;    /* the current mount's points */
    const char *mount = NULL; /* its name, owned by the list */
    bool truncated = false;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (!m)
            continue;
        if (!mount || strcmp(m, mount) != 0) {
            /* rows come grouped by mount: a new name starts its series */
            if (json_array_size(list) == max_mounts) {
                truncated = true;
                break;
            }
            json_t *one = json_pack("{s:s, s:[]}", "mount", m, "series");
            json_array_append_new(list, one);
            series = json_object_get(one, "series");
            mount = json_string_value(json_object_get(one, "mount"));
        }
        json_array_append_new(series, json_pack("{s:I, s:f}", "t",
                                                (json_int_t)(sqlite3_column_int64(st, 1) * bucket),
                                                "used_percent", sqlite3_column_double(st, 2)));
    }
    sqlite3_reset(st);
    if (!truncated && step != SQLITE_DONE) {
        rc = store_fail(c, "read filesystem history");
        goto out;
    }
    *out = json_pack("{s:o, s:b}", "filesystems", list, "truncated", truncated);
    list = NULL;
out:
    json_decref(list);
    store_release(s, c);
    return rc;
}
