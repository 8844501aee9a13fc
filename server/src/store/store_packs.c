/* store_packs.c - config-pack compliance checks (config_check). */
#include "store_internal.h"

#include <stdlib.h>

#include "hlc/base.h"

#define HISTORY_KEEP 50

static const char sql_add[] =
    "INSERT INTO config_check (server_id, pack, checked_at, compliant, pass_count, fail_count,"
    " error_count, items) SELECT server_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM servers"
    " WHERE server_id = ?1";
static const char sql_prune[] =
    "DELETE FROM config_check WHERE server_id = ?1 AND pack = ?2 AND id NOT IN"
    " (SELECT id FROM config_check WHERE server_id = ?1 AND pack = ?2 ORDER BY id DESC LIMIT ?3)";
static const char sql_latest[] =
    "SELECT pack, checked_at, compliant, pass_count, fail_count, error_count, items"
    " FROM config_check WHERE id IN (SELECT max(id) FROM config_check WHERE server_id = ?1"
    " GROUP BY pack) ORDER BY pack";
static const char sql_history[] =
    "SELECT pack, checked_at, compliant, pass_count, fail_count, error_count, id"
    " FROM config_check WHERE server_id = ?1 ORDER BY id DESC LIMIT ?2";
static const char sql_fleet[] =
    "SELECT server_id, pack, checked_at, compliant, fail_count, error_count FROM config_check"
    " WHERE id IN (SELECT max(id) FROM config_check GROUP BY server_id, pack)"
    " ORDER BY server_id, pack";

int
hlc_store_compliance_add(struct hlc_store *s, const struct hlc_compliance_row *row)
{
    char *items = json_dumps(row->items, JSON_COMPACT);
    if (!items)
        return HLC_ENOMEM;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_add);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, row->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->pack, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, row->checked_at);
    sqlite3_bind_int(st, 4, row->compliant);
    sqlite3_bind_int(st, 5, row->npass);
    sqlite3_bind_int(st, 6, row->nfail);
    sqlite3_bind_int(st, 7, row->nerror);
    sqlite3_bind_text(st, 8, items, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "add compliance check");
        goto out;
    }
    if (sqlite3_changes(c->db) == 0) {
        rc = HLC_ENOTFOUND;
        goto out;
    }
    if (!(st = store_stmt(c, sql_prune))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, row->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->pack, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, HISTORY_KEEP);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "prune compliance checks");
        goto out;
    }
    rc = store_commit(c); /* store_release rolls back a transaction left open */
out:
    store_release(s, c);
    free(items);
    return rc;
}

static json_t *
time_json(int64_t t)
{
    char iso[32];
    hlc_time_iso(t, iso);
    return json_string(iso);
}

static json_t *
counts_json(sqlite3_stmt *st, int first)
{
    return json_pack("{s:i, s:i, s:i}", "pass", sqlite3_column_int(st, first), "fail",
                     sqlite3_column_int(st, first + 1), "error", sqlite3_column_int(st, first + 2));
}

/* One sql_history row onto h. */
static void
history_row(sqlite3_stmt *st, json_t *h)
{
    json_array_append_new(
        h, json_pack("{s:I, s:s, s:b, s:o, s:o}", "id", (json_int_t)sqlite3_column_int64(st, 6),
                     "pack", (const char *)sqlite3_column_text(st, 0), "compliant",
                     sqlite3_column_int(st, 2), "checked_at",
                     time_json(sqlite3_column_int64(st, 1)), "counts", counts_json(st, 3)));
}

int
hlc_store_compliance_server(struct hlc_store *s, const char *id, int limit, json_t **latest,
                            json_t **history)
{
    *latest = *history = NULL;
    struct store_conn *c = store_acquire(s);
    json_t *l = json_array(), *h = json_array();
    int rc = 0;
    sqlite3_stmt *st;
    int step;
    if ((rc = store_machine_exists(c, id)) != 0)
        goto out;
    if (!(st = store_stmt(c, sql_latest))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *items = (const char *)sqlite3_column_text(st, 6);
        json_t *it = items ? json_loads(items, 0, NULL) : NULL;
        json_array_append_new(
            l, json_pack("{s:s, s:s, s:b, s:o, s:o, s:o}", "server_id", id, "pack",
                         (const char *)sqlite3_column_text(st, 0), "compliant",
                         sqlite3_column_int(st, 2), "checked_at",
                         time_json(sqlite3_column_int64(st, 1)), "counts", counts_json(st, 3),
                         "items", it ? it : json_array()));
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "read latest compliance");
        goto out;
    }
    if ((st = store_stmt(c, sql_history))) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, limit);
    }
    if ((rc = store_each_row(c, st, history_row, h, "read compliance history")) != 0)
        goto out;
    *latest = l;
    *history = h;
    l = h = NULL;
out:
    json_decref(l);
    json_decref(h);
    store_release(s, c);
    return rc;
}

/* One sql_fleet row onto a. */
static void
fleet_row(sqlite3_stmt *st, json_t *a)
{
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:o, s:b, s:i, s:i}", "server_id",
                     (const char *)sqlite3_column_text(st, 0), "pack",
                     (const char *)sqlite3_column_text(st, 1), "checked_at",
                     time_json(sqlite3_column_int64(st, 2)), "compliant", sqlite3_column_int(st, 3),
                     "fail", sqlite3_column_int(st, 4), "error", sqlite3_column_int(st, 5)));
}

int
hlc_store_compliance_fleet(struct hlc_store *s, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    json_t *a = json_array();
    int rc = store_each_row(c, store_stmt(c, sql_fleet), fleet_row, a, "read fleet compliance");
    store_release(s, c);
    return store_result(rc, a, out);
}
