/* store_series.c - per-item histories (each filesystem, each temperature
 * sensor): one row per sample and item, its hourly sums, and the per-item
 * series the machine page charts, driven by one table of SQL per kind. */
#include "store_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/sample.h"

/* The read of one kind's samples and rollups: per item and bucket, oldest
 * first within each item; ?1 server, [?2, ?3) the window, ?4 the bucket. */
#define SERIES_READ_SAMPLES(table, item, value)                                                    \
    "SELECT " item ", timestamp / ?4 AS b, round(avg(" value "), 3) FROM " table                   \
    " WHERE server_id=?1 AND timestamp >= ?2 AND timestamp < ?3 GROUP BY " item ", b"              \
    " ORDER BY " item ", b"
#define SERIES_READ_ROLLUPS(table, item, sum, n)                                                   \
    "SELECT " item ", hour / ?4 AS b, round(sum(" sum ") / sum(" n "), 3) FROM " table             \
    " WHERE server_id=?1 AND hour >= ?2 AND hour < ?3 GROUP BY " item ", b ORDER BY " item ", b"

/* One kind of per-item history. Its put statements take ?1 server, ?2 the
 * sample time (the hour for hourly_put), ?3 the item's name, ?4 its value,
 * then whatever bind() adds; put is an INSERT OR IGNORE so that an item
 * listed twice in one sample is stored (and summed) once. */
struct series_kind {
    const char *what;         /* in log messages, e.g. "filesystem" */
    const char *put;          /* one row per sample and item */
    const char *hourly_put;   /* the hour's sums, upserted */
    const char *read_samples; /* SERIES_READ_SAMPLES */
    const char *read_rollups; /* SERIES_READ_ROLLUPS */
    const char *list_key;     /* the reply's array, e.g. "filesystems" */
    const char *item_key;     /* each entry's name key, e.g. "mount" */
    const char *value_key;    /* each point's value key, e.g. "used_percent" */
    size_t size;              /* bytes of one item in the sample's array */
    /* Binds ?3 onwards for one item; false skips it (no usable reading). */
    bool (*bind)(sqlite3_stmt *st, const void *item);
};

/* ---- filesystems ---------------------------------------------------------- */

static bool
bind_fs(sqlite3_stmt *st, const void *item)
{
    const struct hlc_fs *f = item;
    sqlite3_bind_text(st, 3, f->mount, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, hlc_fs_used_percent(f));
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(f->used_bytes & INT64_MAX));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(f->total_bytes & INT64_MAX));
    return true;
}

static const struct series_kind fs_kind = {
    .what = "filesystem history",
    .put = "INSERT OR IGNORE INTO filesystem_metrics(server_id, timestamp, mount, used_percent,"
           " used_bytes, total_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* bytes are the newest sample's */
    .hourly_put = "INSERT INTO filesystem_hourly(server_id, hour, mount, pct_sum, pct_n, pct_min,"
                  " pct_max, used_bytes, total_bytes) VALUES(?1, ?2, ?3, ?4, 1, ?4, ?4, ?5, ?6)"
                  " ON CONFLICT(server_id, hour, mount) DO UPDATE SET"
                  " pct_sum=pct_sum+excluded.pct_sum, pct_n=pct_n+1,"
                  " pct_min=min(pct_min, excluded.pct_min), pct_max=max(pct_max, excluded.pct_max),"
                  " used_bytes=excluded.used_bytes, total_bytes=excluded.total_bytes",
    .read_samples = SERIES_READ_SAMPLES("filesystem_metrics", "mount", "used_percent"),
    .read_rollups = SERIES_READ_ROLLUPS("filesystem_hourly", "mount", "pct_sum", "pct_n"),
    .list_key = "filesystems",
    .item_key = "mount",
    .value_key = "used_percent",
    .size = sizeof(struct hlc_fs),
    .bind = bind_fs,
};

/* ---- temperature sensors -------------------------------------------------- */

static bool
bind_temp(sqlite3_stmt *st, const void *item)
{
    const struct hlc_temp *t = item;
    if (t->zone[0] == '\0' || !isfinite(t->celsius))
        return false;
    sqlite3_bind_text(st, 3, t->zone, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, t->celsius);
    return true;
}

static const struct series_kind temp_kind = {
    .what = "temperature history",
    .put = "INSERT OR IGNORE INTO temperature_metrics(server_id, timestamp, zone, celsius)"
           " VALUES(?1, ?2, ?3, ?4)",
    .hourly_put = "INSERT INTO temperature_hourly(server_id, hour, zone, c_sum, c_n, c_min, c_max)"
                  " VALUES(?1, ?2, ?3, ?4, 1, ?4, ?4) ON CONFLICT(server_id, hour, zone) DO UPDATE"
                  " SET c_sum=c_sum+excluded.c_sum, c_n=c_n+1, c_min=min(c_min, excluded.c_min),"
                  " c_max=max(c_max, excluded.c_max)",
    .read_samples = SERIES_READ_SAMPLES("temperature_metrics", "zone", "celsius"),
    .read_rollups = SERIES_READ_ROLLUPS("temperature_hourly", "zone", "c_sum", "c_n"),
    .list_key = "temperatures",
    .item_key = "zone",
    .value_key = "celsius",
    .size = sizeof(struct hlc_temp),
    .bind = bind_temp,
};

/* ---- the shared write and read ------------------------------------------- */

static int
series_put(struct store_conn *c, const struct series_kind *k, const char *id, int64_t ts,
           const void *items, size_t n)
{
    int64_t hour = ts - (ts % 3600 + 3600) % 3600;
    const unsigned char *p = items;
    for (size_t i = 0; i < n; i++, p += k->size) {
        sqlite3_stmt *st = store_stmt(c, k->put);
        if (!st)
            return HLC_EDB;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ts);
        if (!k->bind(st, p))
            continue; /* the next store_stmt() resets and unbinds it */
        int rc = store_step_done(c, st, k->what);
        if (rc)
            return rc;
        if (sqlite3_changes(c->db) == 0)
            continue; /* the same item again in this sample */
        if (!(st = store_stmt(c, k->hourly_put)))
            return HLC_EDB;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, hour);
        k->bind(st, p);
        if ((rc = store_step_done(c, st, k->what)) != 0)
            return rc;
    }
    return 0;
}

int
store_fs_history_put(struct store_conn *c, const char *id, int64_t ts, const struct hlc_sample *smp)
{
    if (!(smp->have & HLC_HAVE_FS))
        return 0;
    size_t n = smp->nfs < HLC_SAMPLE_MAX_FS ? smp->nfs : HLC_SAMPLE_MAX_FS;
    return series_put(c, &fs_kind, id, ts, smp->fs, n);
}

int
store_temp_history_put(struct store_conn *c, const char *id, int64_t ts,
                       const struct hlc_sample *smp)
{
    if (!(smp->have & HLC_HAVE_TEMPS) || !smp->temps)
        return 0;
    size_t n = smp->ntemps < HLC_SAMPLE_MAX_TEMPS ? smp->ntemps : HLC_SAMPLE_MAX_TEMPS;
    return series_put(c, &temp_kind, id, ts, smp->temps, n);
}

static int
series_read(struct hlc_store *s, const struct series_kind *k, const char *id, int64_t from,
            int64_t to, int64_t bucket, bool rollups, size_t max_items, json_t **out)
{
    if (bucket <= 0 || max_items == 0)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    json_t *list = NULL;
    int rc, step;
    if ((rc = store_machine_exists(c, id)) != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, rollups ? k->read_rollups : k->read_samples);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, bucket);
    list = json_array();
    json_t *series = NULL;   /* the current item's points */
    const char *name = NULL; /* its name, owned by the list */
    bool truncated = false;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (!m)
            continue;
        if (!name || strcmp(m, name) != 0) {
            /* rows come grouped by item: a new name starts its series */
            if (json_array_size(list) == max_items) {
                truncated = true;
                break;
            }
            json_t *one = json_pack("{s:s, s:[]}", k->item_key, m, "series");
            json_array_append_new(list, one);
            series = json_object_get(one, "series");
            name = json_string_value(json_object_get(one, k->item_key));
        }
        json_array_append_new(series, json_pack("{s:I, s:f}", "t",
                                                (json_int_t)(sqlite3_column_int64(st, 1) * bucket),
                                                k->value_key, sqlite3_column_double(st, 2)));
    }
    sqlite3_reset(st);
    if (!truncated && step != SQLITE_DONE) {
        rc = store_fail(c, k->what);
        goto out;
    }
    *out = json_pack("{s:o, s:b}", k->list_key, list, "truncated", truncated);
    list = NULL;
out:
    json_decref(list);
    store_release(s, c);
    return rc;
}

int
hlc_store_fs_history(struct hlc_store *s, const char *id, int64_t from, int64_t to, int64_t bucket,
                     bool rollups, size_t max_mounts, json_t **out)
{
    return series_read(s, &fs_kind, id, from, to, bucket, rollups, max_mounts, out);
}

int
hlc_store_temp_history(struct hlc_store *s, const char *id, int64_t from, int64_t to,
                       int64_t bucket, bool rollups, size_t max_zones, json_t **out)
{
    return series_read(s, &temp_kind, id, from, to, bucket, rollups, max_zones, out);
}
