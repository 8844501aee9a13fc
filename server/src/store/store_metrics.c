/* store_metrics.c - metrics history: per-sample rows, hourly rollups, the
 * latest sample per machine, latest filesystem/service/container snapshots,
 * history buckets, the fleet summary and pruning. */
#include "store_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/sample.h"

static void
bind_real(sqlite3_stmt *st, int idx, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_double(st, idx, v);
}

static void
bind_i64(sqlite3_stmt *st, int idx, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, v);
}

static void
bind_text_or_null(sqlite3_stmt *st, int idx, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

/* ---- ingest ------------------------------------------------------------- */

static const char sql_exists[] = "SELECT 1 FROM servers WHERE server_id=?1";

static const char sql_sample_insert[] =
    "INSERT OR IGNORE INTO metrics(server_id, timestamp, source, cpu_percent, memory_percent,"
    " memory_used_bytes, memory_total_bytes, swap_used_bytes, swap_total_bytes, disk_percent,"
    " disk_used_bytes, disk_total_bytes, network_rx_bytes, network_tx_bytes, network_rx_bps,"
    " network_tx_bps, load_1m, load_5m, load_15m, uptime_seconds, cpu_temp_c)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)";

/* One metric of the rollup: sum and count of the non-null values, min, max.
 * SQLite's two-argument min()/max() return NULL when either side is NULL,
 * hence the COALESCE fallbacks. */
#define ROLL(m)                                                                                    \
    m "_sum=COALESCE(" m "_sum,0)+COALESCE(excluded." m "_sum,0), " m "_n=" m "_n+excluded." m     \
      "_n, " m "_min=COALESCE(min(" m "_min,excluded." m "_min)," m "_min,excluded." m "_min), " m \
      "_max=COALESCE(max(" m "_max,excluded." m "_max)," m "_max,excluded." m "_max)"

static const char sql_hourly_upsert[] =
    "INSERT INTO metrics_hourly(server_id, hour,"
    " cpu_sum, cpu_n, cpu_min, cpu_max, mem_sum, mem_n, mem_min, mem_max,"
    " disk_sum, disk_n, disk_min, disk_max, load_sum, load_n, load_min, load_max,"
    " rx_sum, rx_n, rx_min, rx_max, tx_sum, tx_n, tx_min, tx_max,"
    " temp_sum, temp_n, temp_min, temp_max, load5_sum, load5_n, load5_min, load5_max,"
    " load15_sum, load15_n, load15_min, load15_max)"
    " VALUES(?1, ?2,"
    " ?3, ?3 IS NOT NULL, ?3, ?3, ?4, ?4 IS NOT NULL, ?4, ?4,"
    " ?5, ?5 IS NOT NULL, ?5, ?5, ?6, ?6 IS NOT NULL, ?6, ?6,"
    " ?7, ?7 IS NOT NULL, ?7, ?7, ?8, ?8 IS NOT NULL, ?8, ?8,"
    " ?9, ?9 IS NOT NULL, ?9, ?9, ?10, ?10 IS NOT NULL, ?10, ?10,"
    " ?11, ?11 IS NOT NULL, ?11, ?11)"
    " ON CONFLICT(server_id, hour) DO UPDATE SET " ROLL("cpu") ", " ROLL("mem") ", " ROLL(
        "disk") ", " ROLL("load") ", " ROLL("rx") ", " ROLL("tx") ", " ROLL("temp") ", " ROLL("load5") ", " ROLL("load15");

static const char sql_latest_upsert[] =
    "INSERT INTO metrics_latest(server_id, timestamp, source, have, cpu_total, cpu_idle,"
    " boot_time, cpu_percent, memory_percent, disk_percent, body, filesystems_at, services_at,"
    " containers_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
    " ON CONFLICT(server_id) DO UPDATE SET timestamp=excluded.timestamp,"
    " source=excluded.source, have=excluded.have, cpu_total=excluded.cpu_total,"
    " cpu_idle=excluded.cpu_idle, boot_time=excluded.boot_time,"
    " cpu_percent=excluded.cpu_percent, memory_percent=excluded.memory_percent,"
    " disk_percent=excluded.disk_percent, body=excluded.body,"
    " filesystems_at=COALESCE(excluded.filesystems_at, metrics_latest.filesystems_at),"
    " services_at=COALESCE(excluded.services_at, metrics_latest.services_at),"
    " containers_at=COALESCE(excluded.containers_at, metrics_latest.containers_at)"
    " WHERE excluded.timestamp > metrics_latest.timestamp";

/* Seen now, and the OS fields of the newest sample (NULL binds keep them). */
static const char sql_seen[] =
    "UPDATE servers SET last_seen=MAX(COALESCE(last_seen,0), ?2), status='online',"
    " last_error=NULL, os_distribution=COALESCE(?3, os_distribution),"
    " os_version=COALESCE(?4, os_version), kernel=COALESCE(?5, kernel),"
    " architecture=COALESCE(?6, architecture) WHERE server_id=?1";

/* Snapshot rows are updated in place (no delete + re-insert of rows that
 * are still there), then the ones the sample no longer has are dropped. */
static const char sql_fs_clear[] =
    "DELETE FROM filesystem_latest WHERE server_id=?1 AND checked_at < ?2";
static const char sql_fs_insert[] =
    "INSERT INTO filesystem_latest(server_id, mount, device, fstype, total_bytes,"
    " used_bytes, avail_bytes, checked_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"
    " ON CONFLICT(server_id, mount) DO UPDATE SET device=excluded.device,"
    " fstype=excluded.fstype, total_bytes=excluded.total_bytes,"
    " used_bytes=excluded.used_bytes, avail_bytes=excluded.avail_bytes,"
    " checked_at=excluded.checked_at";
static const char sql_svc_clear[] =
    "DELETE FROM service_latest WHERE server_id=?1 AND checked_at < ?2";
static const char sql_svc_insert[] =
    "INSERT INTO service_latest(server_id, service_name, status, active_state,"
    " sub_state, load_state, pid, memory_bytes, cpu_usage_ns, checked_at, cpu_percent)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
    " ON CONFLICT(server_id, service_name) DO UPDATE SET status=excluded.status,"
    " active_state=excluded.active_state, sub_state=excluded.sub_state,"
    " load_state=excluded.load_state, pid=excluded.pid, memory_bytes=excluded.memory_bytes,"
    " cpu_usage_ns=excluded.cpu_usage_ns, checked_at=excluded.checked_at,"
    " cpu_percent=excluded.cpu_percent";
static const char sql_ctr_clear[] =
    "DELETE FROM container_latest WHERE server_id=?1 AND checked_at < ?2";
static const char sql_ctr_insert[] =
    "INSERT INTO container_latest(server_id, name, container_id, image, state,"
    " status, checked_at) VALUES(?1,?2,?3,?4,?5,?6,?7)"
    " ON CONFLICT(server_id, name) DO UPDATE SET container_id=excluded.container_id,"
    " image=excluded.image, state=excluded.state, status=excluded.status,"
    " checked_at=excluded.checked_at";

/* Drops a machine's snapshot rows older than this sample's. */
static int
clear_stale(struct store_conn *c, const char *sql, const char *id, int64_t ts, const char *what)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ts);
    return store_step_done(c, st, what);
}

static int
snapshots(struct store_conn *c, const char *id, const struct hlc_sample *smp, unsigned write)
{
    sqlite3_stmt *st;
    int rc;
    write &= smp->have;
    if (write & HLC_HAVE_FS) {
        for (size_t i = 0; i < smp->nfs; i++) {
            const struct hlc_fs *f = &smp->fs[i];
            if (!(st = store_stmt(c, sql_fs_insert)))
                return HLC_EDB;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, f->mount, -1, SQLITE_STATIC);
            bind_text_or_null(st, 3, f->device);
            bind_text_or_null(st, 4, f->fstype);
            sqlite3_bind_int64(st, 5, (sqlite3_int64)f->total_bytes);
            sqlite3_bind_int64(st, 6, (sqlite3_int64)f->used_bytes);
            sqlite3_bind_int64(st, 7, (sqlite3_int64)f->avail_bytes);
            sqlite3_bind_int64(st, 8, smp->timestamp);
            if ((rc = store_step_done(c, st, "store filesystem")) != 0)
                return rc;
        }
        if ((rc = clear_stale(c, sql_fs_clear, id, smp->timestamp, "clear filesystems")) != 0)
            return rc;
    }
    if (write & HLC_HAVE_SERVICES) {
        for (size_t i = 0; i < smp->nservices; i++) {
            const struct hlc_service *v = &smp->services[i];
            if (!(st = store_stmt(c, sql_svc_insert)))
                return HLC_EDB;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, hlc_sample_service_status(v), -1, SQLITE_STATIC);
            bind_text_or_null(st, 4, v->active_state);
            bind_text_or_null(st, 5, v->sub_state);
            bind_text_or_null(st, 6, v->load_state);
            bind_i64(st, 7, v->main_pid > 0 ? v->main_pid : -1);
            bind_i64(st, 8, v->memory_bytes);
            bind_i64(st, 9, v->cpu_usage_ns);
            sqlite3_bind_int64(st, 10, smp->timestamp);
            bind_real(st, 11, v->has_cpu_percent ? v->cpu_percent : NAN);
            if ((rc = store_step_done(c, st, "store service state")) != 0)
                return rc;
        }
        if ((rc = clear_stale(c, sql_svc_clear, id, smp->timestamp, "clear services")) != 0)
            return rc;
    }
    if (write & HLC_HAVE_CONTAINERS) {
        for (size_t i = 0; i < smp->ncontainers; i++) {
            const struct hlc_container *k = &smp->containers[i];
            if (!(st = store_stmt(c, sql_ctr_insert)))
                return HLC_EDB;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
            bind_text_or_null(st, 3, k->id);
            bind_text_or_null(st, 4, k->image);
            bind_text_or_null(st, 5, k->state);
            bind_text_or_null(st, 6, k->status);
            sqlite3_bind_int64(st, 7, smp->timestamp);
            if ((rc = store_step_done(c, st, "store container")) != 0)
                return rc;
        }
        if ((rc = clear_stale(c, sql_ctr_clear, id, smp->timestamp, "clear containers")) != 0)
            return rc;
    }
    return 0;
}

/* One sample's writes inside the caller's transaction. */
static int
ingest_one(struct store_conn *c, struct hlc_metric_write *w)
{
    const char *id = w->id, *source = w->source, *latest_json = w->latest_json;
    const struct hlc_sample *smp = w->smp;
    const struct hlc_metric_point *p = w->point;
    unsigned write_snapshots = w->write_snapshots;
    int64_t now = w->now;
    bool *duplicate = &w->duplicate, *newest = &w->newest;
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = store_stmt(c, sql_exists))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = HLC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = store_fail(c, "find machine");
        goto out;
    }

    if (!(st = store_stmt(c, sql_sample_insert))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->timestamp);
    sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    bind_real(st, 4, p->cpu_percent);
    bind_real(st, 5, p->memory_percent);
    bind_i64(st, 6, p->memory_used);
    bind_i64(st, 7, p->memory_total);
    bind_i64(st, 8, p->swap_used);
    bind_i64(st, 9, p->swap_total);
    bind_real(st, 10, p->disk_percent);
    bind_i64(st, 11, p->disk_used);
    bind_i64(st, 12, p->disk_total);
    bind_i64(st, 13, p->rx_bytes);
    bind_i64(st, 14, p->tx_bytes);
    bind_real(st, 15, p->rx_bps);
    bind_real(st, 16, p->tx_bps);
    bind_real(st, 17, p->load1);
    bind_real(st, 18, p->load5);
    bind_real(st, 19, p->load15);
    bind_i64(st, 20, p->uptime_seconds);
    bind_real(st, 21, p->cpu_temp_c);
    if ((rc = store_step_done(c, st, "store sample")) != 0)
        goto out;
    if (sqlite3_changes(c->db) == 0) {
        *duplicate = true; /* already stored: nothing else changes */
        goto out;
    }

    if (!(st = store_stmt(c, sql_hourly_upsert))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->timestamp - (p->timestamp % 3600 + 3600) % 3600);
    bind_real(st, 3, p->cpu_percent);
    bind_real(st, 4, p->memory_percent);
    bind_real(st, 5, p->disk_percent);
    bind_real(st, 6, p->load1);
    bind_real(st, 7, p->rx_bps);
    bind_real(st, 8, p->tx_bps);
    bind_real(st, 9, p->cpu_temp_c);
    bind_real(st, 10, p->load5);
    bind_real(st, 11, p->load15);
    if ((rc = store_step_done(c, st, "update hourly rollup")) != 0)
        goto out;
    if ((rc = store_fs_history_put(c, id, p->timestamp, smp)) != 0 ||
        (rc = store_temp_history_put(c, id, p->timestamp, smp)) != 0)
        goto out;

    if (!(st = store_stmt(c, sql_latest_upsert))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->timestamp);
    sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, smp->have);
    if (smp->have & HLC_HAVE_CPU) {
        sqlite3_bind_int64(st, 5, (sqlite3_int64)(smp->cpu_total & INT64_MAX));
        sqlite3_bind_int64(st, 6, (sqlite3_int64)(smp->cpu_idle & INT64_MAX));
    }
    if (smp->boot_time > 0)
        sqlite3_bind_int64(st, 7, smp->boot_time);
    bind_real(st, 8, p->cpu_percent);
    bind_real(st, 9, p->memory_percent);
    bind_real(st, 10, p->disk_percent);
    sqlite3_bind_text(st, 11, latest_json, -1, SQLITE_STATIC);
    if (smp->have & HLC_HAVE_FS)
        sqlite3_bind_int64(st, 12, p->timestamp);
    if (smp->have & HLC_HAVE_SERVICES)
        sqlite3_bind_int64(st, 13, p->timestamp);
    if (smp->have & HLC_HAVE_CONTAINERS)
        sqlite3_bind_int64(st, 14, p->timestamp);
    if ((rc = store_step_done(c, st, "store latest sample")) != 0)
        goto out;
    *newest = sqlite3_changes(c->db) > 0;

    if (!(st = store_stmt(c, sql_seen))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if (*newest && (smp->have & HLC_HAVE_IDENTITY)) {
        bind_text_or_null(st, 3, smp->os_name[0] ? smp->os_name : smp->os_id);
        bind_text_or_null(st, 4, smp->os_version);
        bind_text_or_null(st, 5, smp->kernel);
        bind_text_or_null(st, 6, smp->arch);
    }
    if ((rc = store_step_done(c, st, "mark machine seen")) != 0)
        goto out;
    if (*newest)
        rc = snapshots(c, id, smp, write_snapshots);
out:
    return rc;
}

static const char sql_savepoint[] = "SAVEPOINT ingest";
static const char sql_release[] = "RELEASE ingest";
static const char sql_rollback_to[] = "ROLLBACK TO ingest";

static int
run_plain(struct store_conn *c, const char *sql)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    return st ? store_step_done(c, st, sql) : HLC_EDB;
}

int
hlc_store_metrics_ingest_batch(struct hlc_store *s, struct hlc_metric_write *const *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w[i]->rc = HLC_EDB;
        w[i]->duplicate = w[i]->newest = false;
    }
    struct store_conn *c = store_acquire_ingest(s);
    int rc = store_begin(c);
    /* Each sample of a batch in its own savepoint: one that fails leaves no
     * trace and does not take the others down with it. A batch of one needs
     * none: its failure rolls the transaction back. */
    bool sp = n > 1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (sp && (rc = run_plain(c, sql_savepoint)) != 0)
            break;
        w[i]->rc = ingest_one(c, w[i]);
        if (w[i]->rc != 0) {
            w[i]->newest = false;
            rc = sp ? run_plain(c, sql_rollback_to) : w[i]->rc;
        }
        if (sp && rc == 0)
            rc = run_plain(c, sql_release);
    }
    if (rc == 0)
        rc = store_commit(c);
    if (rc != 0)
        for (size_t i = 0; i < n; i++) {
            if (w[i]->rc == 0)
                w[i]->rc = rc;
            w[i]->duplicate = w[i]->newest = false;
        }
    store_release_ingest(s, c); /* rolls back anything left open */
    return rc;
}

int
hlc_store_metrics_ingest(struct hlc_store *s, struct hlc_metric_write *w)
{
    struct hlc_metric_write *one[1] = {w};
    hlc_store_metrics_ingest_batch(s, one, 1);
    return w->rc;
}

/* ---- reads -------------------------------------------------------------- */

static const char sql_baseline[] =
    "SELECT timestamp, have, cpu_total, cpu_idle, boot_time, body FROM metrics_latest"
    " WHERE server_id=?1";

int
hlc_store_metrics_baseline(struct hlc_store *s, const char *id, struct hlc_sample *prev)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_baseline);
    int rc = 0;
    json_t *body = NULL;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        prev->timestamp = sqlite3_column_int64(st, 0);
        prev->have = (unsigned)sqlite3_column_int64(st, 1);
        prev->cpu_total = (uint64_t)sqlite3_column_int64(st, 2);
        prev->cpu_idle = (uint64_t)sqlite3_column_int64(st, 3);
        prev->boot_time = sqlite3_column_int64(st, 4);
        body = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
    }
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = HLC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = store_fail(c, "read baseline");
        goto out;
    }
    json_t *upd = json_object_get(body, "updates_available");
    json_t *sec = json_object_get(body, "security_updates");
    if (json_is_integer(upd) && json_is_integer(sec)) {
        prev->updates_pending = (int)json_integer_value(upd);
        prev->updates_security = (int)json_integer_value(sec);
        prev->have |= HLC_HAVE_UPDATES;
    }
    json_t *net = json_object_get(body, "network");
    size_t n = json_array_size(net);
    if (n > HLC_SAMPLE_MAX_NET)
        n = HLC_SAMPLE_MAX_NET;
    free(prev->net);
    prev->net = n ? hlc_xcalloc(n, sizeof(*prev->net)) : NULL;
    prev->nnet = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(net, i);
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *rx = json_object_get(e, "rx_bytes"), *tx = json_object_get(e, "tx_bytes");
        if (!name || !json_is_integer(rx) || !json_is_integer(tx) ||
            strlen(name) >= sizeof(prev->net[0].name))
            continue;
        struct hlc_net *d = &prev->net[prev->nnet++];
        memcpy(d->name, name, strlen(name) + 1);
        d->rx_bytes = (uint64_t)json_integer_value(rx);
        d->tx_bytes = (uint64_t)json_integer_value(tx);
    }
out:
    json_decref(body);
    store_release(s, c);
    return rc;
}

static const char sql_latest_one[] = "SELECT body FROM metrics_latest WHERE server_id=?1";

int
hlc_store_metrics_latest(struct hlc_store *s, const char *id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_latest_one);
    int rc = HLC_ENOTFOUND;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        json_t *v = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        rc = v ? 0 : HLC_EDB;
        *out = v;
    } else if (step != SQLITE_DONE) {
        rc = store_fail(c, "read latest sample");
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_metrics_latest_text(struct hlc_store *s, const char *id, char **out, size_t *len)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_latest_one);
    int rc = HLC_ENOTFOUND;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *out = hlc_xmalloc(n + 1);
        memcpy(*out, sqlite3_column_text(st, 0), n);
        (*out)[n] = '\0';
        *len = n;
        rc = 0;
    } else if (step == SQLITE_ROW) {
        rc = HLC_EDB;
    } else if (step != SQLITE_DONE) {
        rc = store_fail(c, "read latest sample");
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

static const char sql_latest_all[] = "SELECT server_id, body FROM metrics_latest";

int
hlc_store_metrics_latest_all(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_latest_all);
    int rc = 0, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    json_t *obj = json_object();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *v = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (v)
            json_object_set_new(obj, (const char *)sqlite3_column_text(st, 0), v);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(obj);
        rc = store_fail(c, "read latest samples");
        goto out;
    }
    *out = obj;
out:
    store_release(s, c);
    return rc;
}

/* The nine charted metrics, in the column order of both history queries. */
static const char *const series_names[] = {
    "cpu_percent",    "memory_percent", "disk_percent", "load_1m",  "network_rx_bps",
    "network_tx_bps", "cpu_temp_c",     "load_5m",      "load_15m"};
#define NSERIES 9

#define AGG(c) "round(avg(" c "), 3), min(" c "), max(" c ")"
static const char sql_hist_samples[] =
    "SELECT timestamp / ?4 AS b, " AGG("cpu_percent") ", " AGG("memory_percent") ", " AGG(
        "disk_percent") ", " AGG("load_1m") ", " AGG("network_rx_bps") ", " AGG("network_tx_bps") ", " AGG("cpu_temp_c") ", " AGG("load_5m") ", " AGG("load_15m") " FROM metrics WHERE server_id=?1 AND timestamp >= ?2 AND timestamp < ?3"
                                                                 " GROUP BY b ORDER BY b";
#define RAGG(m) "round(sum(" m "_sum) / NULLIF(sum(" m "_n), 0), 3), min(" m "_min), max(" m "_max)"
static const char sql_hist_rollups[] =
    "SELECT hour / ?4 AS b, " RAGG("cpu") ", " RAGG("mem") ", " RAGG("disk") ", " RAGG(
        "load") ", " RAGG("rx") ", " RAGG("tx") ", " RAGG("temp") ", " RAGG("load5") ", " RAGG("load15") " FROM metrics_hourly WHERE server_id=?1 AND hour >= ?2 AND hour < ?3"
                                                                  " GROUP BY b ORDER BY b";

static json_t *
col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_real(sqlite3_column_double(st, i));
}

int
hlc_store_metrics_history(struct hlc_store *s, const char *id, int64_t from, int64_t to,
                          int64_t bucket, bool rollups, json_t **out)
{
    if (bucket <= 0)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_exists);
    int rc = 0, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "find machine");
        goto out;
    }
    if (!(st = store_stmt(c, rollups ? sql_hist_rollups : sql_hist_samples))) {
        rc = HLC_EDB;
        goto out;
    }
    json_t *ts = json_array(), *series = json_object();
    json_t *agg[NSERIES][3];
    for (int m = 0; m < NSERIES; m++) {
        for (int k = 0; k < 3; k++)
            agg[m][k] = json_array();
        json_object_set_new(series, series_names[m],
                            json_pack("{s:o, s:o, s:o}", "avg", agg[m][0], "min", agg[m][1],
                                      "max", agg[m][2]));
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, bucket);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(ts, json_integer(sqlite3_column_int64(st, 0) * bucket));
        for (int m = 0; m < NSERIES; m++)
            for (int k = 0; k < 3; k++)
                json_array_append_new(agg[m][k], col_real(st, 1 + m * 3 + k));
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(ts);
        json_decref(series);
        rc = store_fail(c, "read history");
        goto out;
    }
    *out = json_pack("{s:o, s:o}", "timestamps", ts, "series", series);
out:
    store_release(s, c);
    return rc;
}

static const char sql_summary[] =
    "SELECT count(*), coalesce(sum(status='online'),0), coalesce(sum(status='offline'),0),"
    " coalesce(sum(status NOT IN ('online','offline')),0),"
    " coalesce(sum(machine_type='server'),0),"
    " coalesce(sum(machine_type='server' AND status='online'),0),"
    " coalesce(sum(machine_type='server' AND status='offline'),0),"
    " coalesce(sum(machine_type='server' AND status NOT IN ('online','offline')),0),"
    " coalesce(sum(machine_type='workstation'),0),"
    " coalesce(sum(machine_type='workstation' AND status='online'),0),"
    " coalesce(sum(machine_type='workstation' AND status='offline'),0),"
    " coalesce(sum(machine_type='workstation' AND status NOT IN ('online','offline')),0),"
    " (SELECT round(avg(l.cpu_percent), 2) FROM metrics_latest l JOIN servers s2 USING(server_id)"
    "   WHERE s2.status='online'),"
    " (SELECT round(avg(l.memory_percent), 2) FROM metrics_latest l JOIN servers s2 USING(server_id)"
    "   WHERE s2.status='online'),"
    " (SELECT max(l.disk_percent) FROM metrics_latest l JOIN servers s2 USING(server_id)"
    "   WHERE s2.status='online')"
    " FROM servers";

int
hlc_store_metrics_summary(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_summary);
    int rc = 0;
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        rc = st ? store_fail(c, "summary") : HLC_EDB;
        if (st)
            sqlite3_reset(st);
        goto out;
    }
#define I(i) (json_int_t) sqlite3_column_int64(st, i)
    *out = json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I},"
                     " s:o, s:o, s:o}",
                     "total", I(0), "online", I(1), "offline", I(2), "unknown", I(3), "servers",
                     "total", I(4), "online", I(5), "offline", I(6), "unknown", I(7),
                     "workstations", "total", I(8), "online", I(9), "offline", I(10), "unknown",
                     I(11), "avg_cpu_percent", col_real(st, 12), "avg_memory_percent",
                     col_real(st, 13), "max_disk_percent", col_real(st, 14));
#undef I
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

/* ---- fleet sparklines ----------------------------------------------------- */

/* Every machine's CPU and memory per bucket over [from, to): the join drives the
 * metrics primary key once per machine (a range probe each, never a scan of the
 * whole table), rows come out grouped by machine then bucket. */
static const char sql_sparklines[] =
    "SELECT s.server_id, m.timestamp / ?3 AS b, round(avg(m.cpu_percent), 1),"
    " round(avg(m.memory_percent), 1)"
    " FROM servers s JOIN metrics m ON m.server_id = s.server_id"
    " AND m.timestamp >= ?1 AND m.timestamp < ?2"
    " GROUP BY s.server_id, b ORDER BY s.server_id, b";

int
hlc_store_metrics_sparklines(struct hlc_store *s, int64_t from, int64_t to, int64_t bucket,
                             json_t **out)
{
    if (bucket <= 0 || to <= from)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_sparklines);
    int rc = 0, step;
    json_t *all = NULL;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    all = json_object();
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, bucket);
    int64_t first = from / bucket;
    json_t *cur = NULL;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        /* rows are grouped by machine: a new id starts its arrays */
        if (!cur || !json_object_get(all, id)) {
            cur = json_pack("{s:[], s:[], s:[]}", "i", "cpu", "mem");
            json_object_set_new(all, id, cur);
        }
        json_array_append_new(json_object_get(cur, "i"),
                              json_integer(sqlite3_column_int64(st, 1) - first));
        json_array_append_new(json_object_get(cur, "cpu"), col_real(st, 2));
        json_array_append_new(json_object_get(cur, "mem"), col_real(st, 3));
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "read sparklines");
        goto out;
    }
    *out = all;
    all = NULL;
out:
    json_decref(all);
    store_release(s, c);
    return rc;
}

/* ---- pruning ------------------------------------------------------------ */

/* One machine at a time (found by an index probe per machine, never a table
 * scan), its oldest rows first through the primary key, so each batch is a
 * short indexed range delete that never holds the write lock for long. */
#define OLDEST_OWNER(table, col)                                                                   \
    "(SELECT s.server_id FROM servers s WHERE EXISTS (SELECT 1 FROM " table " m"                   \
    " WHERE m.server_id=s.server_id AND m." col " < ?1) LIMIT 1)"
static const char sql_prune_samples[] =
    "DELETE FROM metrics WHERE server_id=" OLDEST_OWNER("metrics", "timestamp")
    " AND timestamp IN (SELECT timestamp FROM metrics WHERE server_id="
    OLDEST_OWNER("metrics", "timestamp") " AND timestamp < ?1 ORDER BY timestamp LIMIT ?2)";
static const char sql_prune_hourly[] =
    "DELETE FROM metrics_hourly WHERE server_id=" OLDEST_OWNER("metrics_hourly", "hour")
    " AND hour IN (SELECT hour FROM metrics_hourly WHERE server_id="
    OLDEST_OWNER("metrics_hourly", "hour") " AND hour < ?1 ORDER BY hour LIMIT ?2)";
/* Per-item rows are one per item at each time: (time, item) picks a row. */
#define PRUNE_ITEMS(table, col, item)                                                              \
    "DELETE FROM " table " WHERE server_id=" OLDEST_OWNER(table, col) " AND (" col ", " item      \
    ") IN (SELECT " col ", " item " FROM " table " WHERE server_id=" OLDEST_OWNER(table, col)     \
    " AND " col " < ?1 ORDER BY " col " LIMIT ?2)"

int
hlc_store_metrics_prune(struct hlc_store *s, int64_t samples_before, int64_t hourly_before,
                        int batch, int *deleted)
{
    *deleted = 0;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    static const struct {
        const char *sql; /* one batch's delete */
        bool hourly;     /* older than hourly_before, else samples_before */
    } steps[] = {
        {sql_prune_samples, false},
        {sql_prune_hourly, true},
        {PRUNE_ITEMS("filesystem_metrics", "timestamp", "mount"), false},
        {PRUNE_ITEMS("filesystem_hourly", "hour", "mount"), true},
        {PRUNE_ITEMS("temperature_metrics", "timestamp", "zone"), false},
        {PRUNE_ITEMS("temperature_hourly", "hour", "zone"), true},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
        sqlite3_stmt *st = store_stmt(c, steps[i].sql);
        if (!st) {
            rc = HLC_EDB;
            goto out;
        }
        sqlite3_bind_int64(st, 1, steps[i].hourly ? hourly_before : samples_before);
        sqlite3_bind_int(st, 2, batch);
        if ((rc = store_step_done(c, st, "prune metrics")) != 0)
            goto out;
        *deleted += sqlite3_changes(c->db);
    }
    rc = store_commit(c);
out:
    store_release(s, c);
    return rc;
}

/* ---- services and containers ---------------------------------------------- */

/* Expected services first (with their live state when reported), then any
 * reported unit no longer expected. */
static const char sql_svc_states[] =
    "SELECT e.service_name, e.critical, l.status, l.active_state, l.sub_state, l.pid,"
    " l.memory_bytes, l.cpu_usage_ns, CASE WHEN l.server_id IS NOT NULL THEN"
    "  COALESCE(m.services_at, l.checked_at) END, l.load_state, l.cpu_percent"
    " FROM expected_services e LEFT JOIN service_latest l"
    "  ON l.server_id=e.server_id AND l.service_name=e.service_name"
    " LEFT JOIN metrics_latest m ON m.server_id=e.server_id"
    " WHERE e.server_id=?1"
    " UNION ALL"
    " SELECT l.service_name, 0, l.status, l.active_state, l.sub_state, l.pid,"
    " l.memory_bytes, l.cpu_usage_ns, COALESCE(m.services_at, l.checked_at), l.load_state,"
    " l.cpu_percent"
    " FROM service_latest l LEFT JOIN metrics_latest m ON m.server_id=l.server_id"
    " WHERE l.server_id=?1 AND NOT EXISTS (SELECT 1 FROM"
    "  expected_services e WHERE e.server_id=l.server_id AND e.service_name=l.service_name)"
    " ORDER BY 1";

static const struct store_col svc_state_cols[] = {
    {"service_name", COL_TEXT}, {"critical", COL_BOOL},   {"status", COL_TEXT},
    {"active_state", COL_TEXT}, {"sub_state", COL_TEXT},  {"pid", COL_INT},
    {"memory_bytes", COL_INT},  {"cpu_usage_ns", COL_INT}, {"checked_at", COL_TIME},
    {"load_state", COL_TEXT},   {"cpu_percent", COL_REAL},
};

static const char sql_ctr_states[] =
    "SELECT k.container_id, k.name, k.image, k.state, k.status,"
    " COALESCE(m.containers_at, k.checked_at) FROM container_latest k"
    " LEFT JOIN metrics_latest m ON m.server_id=k.server_id WHERE k.server_id=?1"
    " ORDER BY k.name";
static const struct store_col ctr_cols[] = {
    {"id", COL_TEXT},    {"name", COL_TEXT},   {"image", COL_TEXT},
    {"state", COL_TEXT}, {"status", COL_TEXT}, {"checked_at", COL_TIME},
};

static int
list_rows(struct hlc_store *s, const char *id, const char *sql, const struct store_col *cols,
          int ncols, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_exists);
    int rc = 0, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "find machine");
        goto out;
    }
    if (!(st = store_stmt(c, sql))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    json_t *arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = store_row_json(st, cols, ncols);
        if (json_is_null(json_object_get(row, "status")) && cols == svc_state_cols)
            json_object_set_new(row, "status", json_string("unknown"));
        json_array_append_new(arr, row);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        rc = store_fail(c, "list states");
        goto out;
    }
    *out = arr;
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_service_states(struct hlc_store *s, const char *id, json_t **out)
{
    return list_rows(s, id, sql_svc_states, svc_state_cols,
                     (int)(sizeof(svc_state_cols) / sizeof(*svc_state_cols)), out);
}

int
hlc_store_container_states(struct hlc_store *s, const char *id, json_t **out)
{
    return list_rows(s, id, sql_ctr_states, ctr_cols, (int)(sizeof(ctr_cols) / sizeof(*ctr_cols)),
                     out);
}
