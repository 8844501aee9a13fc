/* store_checks.c - service checks: definitions, results, hourly rollups and
 * the latest state per place. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO checks(name, type, interval_seconds, def, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
static const char sql_update[] =
    "UPDATE checks SET name=?2, type=?3, interval_seconds=?4, def=?5, updated_at=?6 WHERE id=?1";
static const char sql_delete[] = "DELETE FROM checks WHERE id=?1";
static const char sql_list[] =
    "SELECT id, def, created_at, updated_at FROM checks WHERE ?1 IS NULL OR id=?1 ORDER BY id";
static const char sql_states[] =
    "SELECT place, ok, fails, last_ms/1000, response_ms, status_code, cert_days, error,"
    " since_ms/1000, check_id FROM check_state WHERE ?1 IS NULL OR check_id=?1 ORDER BY check_id, place";
static const struct store_col state_cols[] = {
    {"place", COL_TEXT},       {"ok", COL_BOOL},          {"fails", COL_INT},
    {"last_at", COL_TIME},     {"response_ms", COL_REAL}, {"status_code", COL_INT},
    {"cert_days", COL_REAL},   {"error", COL_TEXT},       {"since", COL_TIME},
};
#define NSTATE_COLS ((int)(sizeof(state_cols) / sizeof(state_cols[0])))

static const char sql_state_get[] =
    "SELECT fails, cert_days FROM check_state WHERE check_id=?1 AND place=?2";
static const char sql_result_put[] =
    "INSERT OR REPLACE INTO check_results(check_id, place, ts_ms, ok, response_ms, status_code,"
    " cert_days, error) SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM checks WHERE id=?1";
static const char sql_hourly_put[] =
    "INSERT INTO check_hourly(check_id, place, hour, n, up, rt_sum, rt_n, rt_min, rt_max)"
    " VALUES (?1, ?2, ?3, 1, ?4, coalesce(?5, 0), ?5 IS NOT NULL, ?5, ?5)"
    " ON CONFLICT(check_id, place, hour) DO UPDATE SET n=n+1, up=up+excluded.up,"
    " rt_sum=rt_sum+excluded.rt_sum, rt_n=rt_n+excluded.rt_n,"
    " rt_min=min(coalesce(rt_min, excluded.rt_min), coalesce(excluded.rt_min, rt_min)),"
    " rt_max=max(coalesce(rt_max, excluded.rt_max), coalesce(excluded.rt_max, rt_max))";
static const char sql_state_put[] =
    "INSERT INTO check_state(check_id, place, last_ms, ok, fails, response_ms, status_code,"
    " cert_days, error, since_ms) VALUES (?1, ?2, ?3, ?4, ?9, ?5, ?6, ?7, ?8, ?3)"
    " ON CONFLICT(check_id, place) DO UPDATE SET last_ms=excluded.last_ms,"
    " since_ms=CASE WHEN ok=excluded.ok THEN since_ms ELSE excluded.last_ms END,"
    " ok=excluded.ok, fails=excluded.fails, response_ms=excluded.response_ms,"
    " status_code=excluded.status_code, cert_days=excluded.cert_days, error=excluded.error";
static const char sql_uptime[] =
    "SELECT place, sum(CASE WHEN hour>=?2 THEN up END), sum(CASE WHEN hour>=?2 THEN n END),"
    " sum(CASE WHEN hour>=?3 THEN up END), sum(CASE WHEN hour>=?3 THEN n END),"
    " sum(up), sum(n) FROM check_hourly WHERE check_id=?1 AND hour>=?4 GROUP BY place";
static const char sql_history[] =
    "SELECT place, ts_ms/1000, ok, response_ms, status_code, cert_days, error FROM check_results"
    " WHERE check_id=?1 AND (?2 IS NULL OR place=?2) ORDER BY ts_ms DESC LIMIT ?3";
static const struct store_col history_cols[] = {
    {"place", COL_TEXT},       {"time", COL_TIME},   {"ok", COL_BOOL},
    {"response_ms", COL_REAL}, {"status_code", COL_INT}, {"cert_days", COL_REAL},
    {"error", COL_TEXT},
};
static const char sql_prune_results_wr[] =
    "DELETE FROM check_results WHERE (check_id, place, ts_ms) IN (SELECT check_id, place, ts_ms"
    " FROM check_results WHERE ts_ms<?1 LIMIT ?2)";
static const char sql_prune_hourly[] =
    "DELETE FROM check_hourly WHERE (check_id, place, hour) IN (SELECT check_id, place, hour"
    " FROM check_hourly WHERE hour<?1 LIMIT ?2)";

/* Binds the columns every definition write carries: name, type, interval, def. */
static int
bind_def(sqlite3_stmt *st, int first, json_t *def, char **text)
{
    *text = json_dumps(def, JSON_COMPACT);
    if (!*text)
        return HLC_ENOMEM;
    sqlite3_bind_text(st, first, json_string_value(json_object_get(def, "name")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, first + 1, json_string_value(json_object_get(def, "type")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, first + 2, json_integer_value(json_object_get(def, "interval_seconds")));
    sqlite3_bind_text(st, first + 3, *text, -1, SQLITE_STATIC);
    return 0;
}

int
hlc_store_check_insert(struct hlc_store *s, json_t *def, int64_t *id)
{
    struct store_conn *c = store_acquire(s);
    char *text = NULL;
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_insert);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    if ((rc = bind_def(st, 1, def, &text)) != 0)
        goto out;
    sqlite3_bind_int64(st, 5, hlc_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "insert check");
    else
        *id = sqlite3_last_insert_rowid(c->db);
    sqlite3_reset(st);
out:
    store_release(s, c);
    free(text);
    return rc;
}

int
hlc_store_check_update(struct hlc_store *s, int64_t id, json_t *def)
{
    struct store_conn *c = store_acquire(s);
    char *text = NULL;
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_update);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    if ((rc = bind_def(st, 2, def, &text)) != 0)
        goto out;
    sqlite3_bind_int64(st, 6, hlc_now());
    rc = store_step_changed(c, st, "update check");
out:
    store_release(s, c);
    free(text);
    return rc;
}

int
hlc_store_check_delete(struct hlc_store *s, int64_t id)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_delete);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = store_step_changed(c, st, "delete check");
out:
    store_release(s, c);
    return rc;
}

/* Checks (one when id > 0) with their latest state per place. */
static int
read_checks(struct hlc_store *s, int64_t id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    json_t *list = json_array();
    int rc = 0, step;
    sqlite3_stmt *st = store_stmt(c, sql_list);
    sqlite3_stmt *ss = store_stmt(c, sql_states);
    if (!st || !ss) {
        rc = HLC_EDB;
        goto out;
    }
    if (id > 0) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(ss, 1, id);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 1);
        json_t *o = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(o)) {
            json_decref(o);
            continue; /* unreadable: never written by this hub */
        }
        char iso[32];
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        hlc_time_iso(sqlite3_column_int64(st, 2), iso);
        json_object_set_new(o, "created_at", json_string(iso));
        hlc_time_iso(sqlite3_column_int64(st, 3), iso);
        json_object_set_new(o, "updated_at", json_string(iso));
        json_object_set_new(o, "latest", json_array());
        json_array_append_new(list, o);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "list checks");
        goto out;
    }
    /* Both are ordered by id: walk the states beside the checks (the
     * state's check_id is its last column, after what the API shows). */
    size_t k = 0;
    while ((step = sqlite3_step(ss)) == SQLITE_ROW) {
        int64_t cid = sqlite3_column_int64(ss, NSTATE_COLS);
        while (k < json_array_size(list) &&
               json_integer_value(json_object_get(json_array_get(list, k), "id")) < cid)
            k++;
        json_t *chk = json_array_get(list, k);
        if (!chk || json_integer_value(json_object_get(chk, "id")) != cid)
            continue;
        json_t *row = store_row_json(ss, state_cols, NSTATE_COLS);
        json_array_append_new(json_object_get(chk, "latest"), row);
    }
    sqlite3_reset(ss);
    if (step != SQLITE_DONE)
        rc = store_fail(c, "read check states");
out:
    store_release(s, c);
    if (rc) {
        json_decref(list);
        list = NULL;
    }
    *out = list;
    return rc;
}

int
hlc_store_check_get(struct hlc_store *s, int64_t id, json_t **out)
{
    json_t *list = NULL;
    *out = NULL;
    int rc = read_checks(s, id > 0 ? id : -1, &list);
    return store_single_row(rc, list, out);
}

int
hlc_store_check_list(struct hlc_store *s, json_t **out)
{
    return read_checks(s, 0, out);
}

/* Binds ?1..?8 as the result and state statements both number them: check,
 * place, time, ok, response time, status, certificate days, error. */
static void
bind_record(sqlite3_stmt *st, const struct hlc_check_record *r, const char *err)
{
    sqlite3_bind_int64(st, 1, r->check_id);
    sqlite3_bind_text(st, 2, r->place, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->ts_ms);
    sqlite3_bind_int(st, 4, r->ok);
    store_bind_real(st, 5, r->response_ms);
    if (r->status_code >= 0)
        sqlite3_bind_int(st, 6, r->status_code);
    store_bind_real(st, 7, r->cert_days);
    sqlite3_bind_text(st, 8, err, -1, SQLITE_STATIC);
}

int
hlc_store_check_record(struct hlc_store *s, struct hlc_check_record *r)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    bool open = rc == 0;
    r->prev_fails = 0;
    r->prev_cert_days = NAN;
    r->first = true;
    const char *err = r->ok || !r->error || !r->error[0] ? NULL : r->error;
    sqlite3_stmt *st = rc ? NULL : store_stmt(c, sql_state_get);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, r->check_id);
    sqlite3_bind_text(st, 2, r->place, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->first = false;
        r->prev_fails = sqlite3_column_int(st, 0);
        if (sqlite3_column_type(st, 1) != SQLITE_NULL)
            r->prev_cert_days = sqlite3_column_double(st, 1);
    }
    sqlite3_reset(st);
    r->fails = r->ok ? 0 : r->prev_fails + 1;

    if (!(st = store_stmt(c, sql_result_put))) {
        rc = HLC_EDB;
        goto out;
    }
    bind_record(st, r, err);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "record check result");
        goto out;
    }
    if (sqlite3_changes(c->db) == 0) {
        rc = HLC_ENOTFOUND; /* deleted while it ran */
        goto out;
    }
    if (!(st = store_stmt(c, sql_hourly_put))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, r->check_id);
    sqlite3_bind_text(st, 2, r->place, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->ts_ms / 1000 / 3600 * 3600);
    sqlite3_bind_int(st, 4, r->ok);
    store_bind_real(st, 5, r->ok ? r->response_ms : NAN);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "roll up check result");
        goto out;
    }
    if (!(st = store_stmt(c, sql_state_put))) {
        rc = HLC_EDB;
        goto out;
    }
    bind_record(st, r, err);
    sqlite3_bind_int(st, 9, r->fails);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "save check state");
        goto out;
    }
    rc = store_commit(c);
    open = false;
out:
    if (open)
        store_rollback(c);
    store_release(s, c);
    return rc;
}

/* up/n as a percentage with two decimals, or null when nothing ran. */
static json_t *
percent(sqlite3_stmt *st, int up_col)
{
    if (sqlite3_column_type(st, up_col + 1) == SQLITE_NULL || sqlite3_column_int64(st, up_col + 1) == 0)
        return json_null();
    double p = 100.0 * (double)sqlite3_column_int64(st, up_col) /
               (double)sqlite3_column_int64(st, up_col + 1);
    return json_real(round(p * 100.0) / 100.0);
}

int
hlc_store_check_results(struct hlc_store *s, int64_t id, const char *place, int limit,
                        int64_t now, json_t **out)
{
    json_t *chk = NULL;
    *out = NULL;
    int rc = hlc_store_check_get(s, id, &chk);
    if (rc)
        return rc;
    json_t *places = json_incref(json_object_get(chk, "latest"));
    json_decref(chk);
    json_t *hist = json_array();
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_uptime);
    int step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    int64_t h24 = (now - 86400) / 3600 * 3600, h7 = (now - 7 * 86400) / 3600 * 3600,
            h30 = (now - 30 * 86400) / 3600 * 3600;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, h24);
    sqlite3_bind_int64(st, 3, h7);
    sqlite3_bind_int64(st, 4, h30);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *pl = (const char *)sqlite3_column_text(st, 0);
        size_t i;
        json_t *p;
        json_array_foreach(places, i, p)
        {
            if (pl && strcmp(json_string_value(json_object_get(p, "place")) ?: "", pl) == 0)
                json_object_set_new(p, "uptime",
                                    json_pack("{s:o, s:o, s:o}", "24h", percent(st, 1), "7d",
                                              percent(st, 3), "30d", percent(st, 5)));
        }
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "read check uptime");
        goto out;
    }
    if (!(st = store_stmt(c, sql_history))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, place, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(hist, store_row_json(st, history_cols,
                                                   (int)(sizeof(history_cols) /
                                                         sizeof(history_cols[0]))));
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = store_fail(c, "read check history");
out:
    store_release(s, c);
    if (rc == 0) {
        /* A place that has run has an uptime object even with no rollup row. */
        size_t i;
        json_t *p;
        json_array_foreach(places, i, p)
        {
            if (!json_object_get(p, "uptime"))
                json_object_set_new(p, "uptime", json_pack("{s:n, s:n, s:n}", "24h", "7d", "30d"));
        }
        *out = json_pack("{s:I, s:O, s:O}", "check_id", (json_int_t)id, "places", places,
                         "history", hist);
    }
    json_decref(places);
    json_decref(hist);
    return rc;
}

int
hlc_store_check_prune(struct hlc_store *s, int64_t results_before_ms, int64_t hourly_before,
                      int batch, int *deleted)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    *deleted = 0;
    const char *const sqls[] = {sql_prune_results_wr, sql_prune_hourly};
    const int64_t before[] = {results_before_ms, hourly_before};
    for (int i = 0; i < 2 && rc == 0; i++) {
        sqlite3_stmt *st = store_stmt(c, sqls[i]);
        if (!st) {
            rc = HLC_EDB;
            break;
        }
        sqlite3_bind_int64(st, 1, before[i]);
        sqlite3_bind_int(st, 2, batch);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = store_fail(c, "prune check results");
        else
            *deleted += sqlite3_changes(c->db);
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}
