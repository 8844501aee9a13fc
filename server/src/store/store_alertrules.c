/* store_alertrules.c - alert rules: per-machine threshold overrides and
 * mute rules, with an audit row for each mute added or removed. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_machine_exists[] = "SELECT 1 FROM servers WHERE server_id=?1";
static const char sql_thr_get[] = "SELECT overrides FROM server_thresholds WHERE server_id=?1";
static const char sql_thr_all[] = "SELECT server_id, overrides FROM server_thresholds";
static const char sql_thr_put[] =
    "INSERT INTO server_thresholds(server_id, overrides, updated_at) VALUES (?1,?2,?3)"
    " ON CONFLICT(server_id) DO UPDATE SET overrides=excluded.overrides,"
    " updated_at=excluded.updated_at";
static const char sql_thr_delete[] = "DELETE FROM server_thresholds WHERE server_id=?1";

#define MUTE_COLS "id, server_id, alert_type, until, reason, created_at, created_by"
static const struct store_col mute_cols[] = {
    {"id", COL_INT},     {"server_id", COL_TEXT},  {"alert_type", COL_TEXT},
    {"until", COL_TIME}, {"reason", COL_TEXT},     {"created_at", COL_TIME},
    {"created_by", COL_TEXT},
};
#define NMUTE_COLS ((int)(sizeof(mute_cols) / sizeof(mute_cols[0])))
static const char sql_mute_insert[] =
    "INSERT INTO alert_mutes(server_id, alert_type, until, reason, created_at, created_by)"
    " VALUES (?1,?2,?3,?4,?5,?6)";
static const char sql_mute_get[] = "SELECT " MUTE_COLS " FROM alert_mutes WHERE id=?1";
static const char sql_mute_list[] =
    "SELECT " MUTE_COLS " FROM alert_mutes WHERE until IS NULL OR until>?1"
    " ORDER BY created_at DESC, id DESC";
static const char sql_mute_delete[] = "DELETE FROM alert_mutes WHERE id=?1";
static const char sql_mute_match[] =
    "SELECT 1 FROM alert_mutes WHERE (server_id IS NULL OR server_id=?1)"
    " AND (alert_type IS NULL OR alert_type=?2) AND (until IS NULL OR until>?3) LIMIT 1";
static const char sql_mute_prune[] =
    "DELETE FROM alert_mutes WHERE until IS NOT NULL AND until<?1";
/* Mutes are not remediation actions, but the operator's one trail of what
 * was changed by whom is the audit log: server_id '*' = every machine. */
static const char sql_mute_audit[] =
    "INSERT INTO audit_log(created_at, server_id, action_type, target, trigger, actor, command,"
    " status) VALUES (?1, coalesce(?2,'*'), ?3, coalesce(?4,'*'), 'api_key', ?5, ?6,"
    " 'completed')";

int
hlc_store_thresholds_override_get(struct hlc_store *s, const char *server_id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_exists(c, sql_machine_exists, server_id);
    sqlite3_stmt *st = NULL;
    if (rc <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        goto out;
    }
    rc = HLC_EDB;
    if (!(st = store_stmt(c, sql_thr_get)))
        goto out;
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    json_t *o = NULL;
    if (step == SQLITE_ROW)
        o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    else if (step != SQLITE_DONE)
        goto out_reset;
    *out = json_is_object(o) ? o : json_object();
    if (!json_is_object(o))
        json_decref(o);
    rc = 0;
out_reset:
    if (rc)
        rc = store_fail(c, "thresholds override get");
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_thresholds_override_set(struct hlc_store *s, const char *server_id, json_t *overrides,
                                  int64_t now)
{
    struct store_conn *c = store_acquire(s);
    char *text = NULL;
    int rc = store_begin(c);
    if (rc)
        goto out;
    rc = store_exists(c, sql_machine_exists, server_id);
    if (rc <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        store_rollback(c);
        goto out;
    }
    bool none = json_object_size(overrides) == 0;
    sqlite3_stmt *st = store_stmt(c, none ? sql_thr_delete : sql_thr_put);
    rc = HLC_EDB;
    if (st && !none && !(text = json_dumps(overrides, JSON_COMPACT | JSON_SORT_KEYS)))
        st = NULL;
    if (st) {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        if (!none) {
            sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now);
        }
        rc = store_step_done(c, st, "thresholds override set");
    }
    if (rc == 0)
        rc = store_commit(c);
    else
        store_rollback(c);
out:
    free(text);
    store_release(s, c);
    return rc;
}

int
hlc_store_thresholds_overrides_all(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_thr_all);
    int rc = HLC_EDB;
    if (st) {
        json_t *o = json_object();
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *v = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
            if (json_is_object(v))
                json_object_set_new(o, (const char *)sqlite3_column_text(st, 0), v);
            else
                json_decref(v);
        }
        if (step == SQLITE_DONE) {
            *out = o;
            rc = 0;
        } else {
            json_decref(o);
            rc = store_fail(c, "thresholds overrides");
        }
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}

/* The audit row of a mute added or removed, inside the caller's transaction. */
static int
mute_audit(struct store_conn *c, const char *what, const char *server_id, const char *type,
           const char *actor, const char *text, int64_t now)
{
    sqlite3_stmt *st = store_stmt(c, sql_mute_audit);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    return store_step_done(c, st, "mute audit");
}

/* One mute rule by id (new object): 0, HLC_ENOTFOUND, HLC_EDB. */
static int
mute_get(struct store_conn *c, long long id, json_t **out)
{
    sqlite3_stmt *st = store_stmt(c, sql_mute_get);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        *out = store_row_json(st, mute_cols, NMUTE_COLS);
    else
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "mute get");
    sqlite3_reset(st);
    return rc;
}

int
hlc_store_mute_add(struct hlc_store *s, const struct hlc_alert_mute *m, const char *summary,
                   int64_t now, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    if (m->server_id && (rc = store_exists(c, sql_machine_exists, m->server_id)) <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        goto fail;
    }
    sqlite3_stmt *st = store_stmt(c, sql_mute_insert);
    rc = HLC_EDB;
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, m->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->alert_type, -1, SQLITE_STATIC);
    if (m->until > 0)
        sqlite3_bind_int64(st, 3, m->until);
    sqlite3_bind_text(st, 4, m->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_text(st, 6, m->created_by, -1, SQLITE_STATIC);
    if ((rc = store_step_done(c, st, "mute insert")))
        goto fail;
    long long id = sqlite3_last_insert_rowid(c->db);
    if ((rc = mute_audit(c, "alert_mute", m->server_id, m->alert_type, m->created_by, summary,
                         now)) ||
        (rc = mute_get(c, id, out)))
        goto fail;
    if ((rc = store_commit(c)))
        json_decref(*out);
    goto out;
fail:
    store_rollback(c);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_mute_delete(struct hlc_store *s, long long id, const char *actor, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    json_t *m = NULL;
    int rc = store_begin(c);
    if (rc)
        goto out;
    if ((rc = mute_get(c, id, &m)))
        goto fail;
    sqlite3_stmt *st = store_stmt(c, sql_mute_delete);
    rc = HLC_EDB;
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = store_step_done(c, st, "mute delete")))
        goto fail;
    char text[128];
    snprintf(text, sizeof(text), "unmute (rule %lld removed)", id);
    if ((rc = mute_audit(c, "alert_unmute", json_string_value(json_object_get(m, "server_id")),
                         json_string_value(json_object_get(m, "alert_type")), actor, text, now)))
        goto fail;
    rc = store_commit(c);
    goto out;
fail:
    store_rollback(c);
out:
    json_decref(m);
    store_release(s, c);
    return rc;
}

int
hlc_store_mutes_list(struct hlc_store *s, int64_t now, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_mute_list);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        rc = store_collect_rows(c, st, mute_cols, NMUTE_COLS, out, "mutes list");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_mute_match(struct hlc_store *s, const char *server_id, const char *type, int64_t now,
                     bool *muted)
{
    *muted = false;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_mute_match);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        int step = sqlite3_step(st);
        *muted = step == SQLITE_ROW;
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_fail(c, "mute match");
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_mutes_prune(struct hlc_store *s, int64_t before)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_mute_prune);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, before);
        rc = store_step_done(c, st, "mutes prune");
    }
    store_release(s, c);
    return rc;
}
