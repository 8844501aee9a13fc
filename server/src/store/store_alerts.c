/* store_alerts.c - alerts (one active per machine, type and subject) and the
 * notification outbox the sender drains. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_alert_insert[] =
    "INSERT OR IGNORE INTO alerts(alert_id, server_id, severity, type, subject, title, message,"
    " metric_value, threshold_value, status, created_at, muted)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,'open',?10,?11)";
static const char sql_alert_autoresolve[] =
    "UPDATE alerts SET status='resolved', resolved_at=?2, auto_resolved=1"
    " WHERE alert_id=?1 AND status!='resolved'";
static const char sql_alert_active[] =
    "SELECT alert_id, type, subject, severity, status, muted FROM alerts"
    " WHERE server_id IS ?1 AND status!='resolved'";
static const struct store_col active_cols[] = {
    {"alert_id", COL_TEXT}, {"type", COL_TEXT},   {"subject", COL_TEXT},
    {"severity", COL_TEXT}, {"status", COL_TEXT}, {"muted", COL_BOOL},
};

#define ALERT_COLS                                                                          \
    "a.alert_id, a.server_id, s.display_name, a.severity, a.type, a.subject, a.title,"     \
    " a.message, a.metric_value, a.threshold_value, a.status, a.created_at,"               \
    " a.acknowledged_at, a.resolved_at, a.auto_resolved, a.action_id, r.status,"           \
    " r.action_type, (a.muted OR (a.status!='resolved' AND EXISTS (SELECT 1 FROM"         \
    " alert_mutes m WHERE (m.server_id IS NULL OR m.server_id=a.server_id)"                \
    " AND (m.alert_type IS NULL OR m.alert_type=a.type) AND (m.until IS NULL"              \
    " OR m.until>CAST(strftime('%s','now') AS INTEGER)))))"
#define ALERT_FROM                                                                          \
    " FROM alerts a LEFT JOIN servers s ON s.server_id=a.server_id"                         \
    " LEFT JOIN remediation_actions r ON r.action_id=a.action_id"
static const struct store_col alert_cols[] = {
    {"alert_id", COL_TEXT},        {"server_id", COL_TEXT},      {"server_name", COL_TEXT},
    {"severity", COL_TEXT},        {"type", COL_TEXT},           {"subject", COL_TEXT},
    {"title", COL_TEXT},           {"message", COL_TEXT},        {"metric_value", COL_REAL},
    {"threshold_value", COL_REAL}, {"status", COL_TEXT},         {"created_at", COL_TIME},
    {"acknowledged_at", COL_TIME}, {"resolved_at", COL_TIME},    {"auto_resolved", COL_BOOL},
    {"action_id", COL_TEXT},       {"action_status", COL_TEXT},  {"action_type", COL_TEXT},
    {"muted", COL_BOOL}, /* raised under a mute rule, or one covers it now */
};
#define NALERT_COLS ((int)(sizeof(alert_cols) / sizeof(alert_cols[0])))

static const char sql_alert_get[] = "SELECT " ALERT_COLS ALERT_FROM " WHERE a.alert_id=?1";
#define ALERT_WHERE                                                                         \
    " WHERE (?1 IS NULL OR a.status=?1 OR (?1='active' AND a.status!='resolved'))"          \
    " AND (?2 IS NULL OR a.severity=?2) AND (?3 IS NULL OR a.server_id=?3)"                 \
    " AND (?4 IS NULL OR a.type=?4)"
static const char sql_alert_list[] = "SELECT " ALERT_COLS ALERT_FROM ALERT_WHERE
                                     " ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?5 OFFSET ?6";
static const char sql_alert_count[] = "SELECT count(*)" ALERT_FROM ALERT_WHERE;
static const char sql_alert_ack[] =
    "UPDATE alerts SET status='acknowledged', acknowledged_at=?2"
    " WHERE alert_id=?1 AND status='open'";
static const char sql_alert_resolve[] =
    "UPDATE alerts SET status='resolved', resolved_at=?2, auto_resolved=0,"
    " acknowledged_at=coalesce(acknowledged_at, ?2) WHERE alert_id=?1 AND status!='resolved'";
static const char sql_alert_status[] = "SELECT status FROM alerts WHERE alert_id=?1";
static const char sql_alert_set_action[] = "UPDATE alerts SET action_id=?2 WHERE alert_id=?1";
static const char sql_offline_candidates[] =
    "SELECT s.server_id, s.display_name, s.hostname, s.last_seen, s.last_error FROM servers s"
    " WHERE s.machine_type='server' AND s.status='offline' AND NOT EXISTS (SELECT 1 FROM"
    " alerts a WHERE a.server_id=s.server_id AND a.type='server_offline'"
    " AND a.status!='resolved')";
static const struct store_col offline_cols[] = {
    {"server_id", COL_TEXT}, {"display_name", COL_TEXT}, {"hostname", COL_TEXT},
    {"last_seen", COL_TIME}, {"last_error", COL_TEXT},
};
static const char sql_alert_prune[] =
    "DELETE FROM alerts WHERE status='resolved' AND resolved_at < ?1";
static const char sql_outbox_prune[] =
    "DELETE FROM notify_outbox WHERE status!='pending' AND created_at < ?1";

static const char sql_outbox_insert[] =
    "INSERT INTO notify_outbox(channel, kind, alert_id, payload, created_at, next_attempt_ms)"
    " VALUES (?1,?2,?3,?4,?5,?6)";
static const char sql_outbox_notified[] = "UPDATE alerts SET notified=1 WHERE alert_id=?1";
static const char sql_outbox_due[] =
    "SELECT id, channel, kind, alert_id, payload, attempts, created_at FROM notify_outbox"
    " WHERE status='pending' AND next_attempt_ms<=?1 ORDER BY next_attempt_ms, id LIMIT ?2";
static const struct store_col outbox_cols[] = {
    {"id", COL_INT},      {"channel", COL_TEXT}, {"kind", COL_TEXT},       {"alert_id", COL_TEXT},
    {"payload", COL_TEXT}, {"attempts", COL_INT}, {"created_at", COL_TIME},
};
static const char sql_outbox_next[] =
    "SELECT min(next_attempt_ms) FROM notify_outbox WHERE status='pending'";
static const char sql_outbox_delivered[] =
    "UPDATE notify_outbox SET status='delivered', delivered_at=?2, attempts=attempts+1,"
    " last_error=NULL WHERE id=?1 AND status='pending'";
static const char sql_outbox_failed[] =
    "UPDATE notify_outbox SET status=CASE WHEN ?3 THEN 'dead' ELSE 'pending' END,"
    " attempts=attempts+1, next_attempt_ms=?2, last_error=?4 WHERE id=?1 AND status='pending'";
static const char sql_outbox_hold[] =
    "UPDATE notify_outbox SET next_attempt_ms=max(next_attempt_ms, ?2)"
    " WHERE status='pending' AND channel=?1";
static const char sql_outbox_stats[] =
    "SELECT coalesce(sum(status='pending'),0), coalesce(sum(status='delivered'),0),"
    " coalesce(sum(status='dead'),0) FROM notify_outbox";

static void
bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int
store_outbox_put(struct store_conn *c, const struct hlc_outbox_row *rows, size_t n, int64_t now)
{
    sqlite3_stmt *st = store_stmt(c, sql_outbox_insert);
    if (!st)
        return HLC_EDB;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, rows[i].channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rows[i].kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rows[i].alert_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rows[i].payload, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_int64(st, 6, now * 1000);
        int rc = store_step_done(c, st, "outbox insert");
        if (rc)
            return rc;
    }
    if (n && rows[0].alert_id) {
        st = store_stmt(c, sql_outbox_notified);
        if (!st)
            return HLC_EDB;
        sqlite3_bind_text(st, 1, rows[0].alert_id, -1, SQLITE_STATIC);
        return store_step_done(c, st, "alert notified");
    }
    return 0;
}

static int
apply_one(struct store_conn *c, struct hlc_alert_change *ch, int64_t now)
{
    sqlite3_stmt *st = store_stmt(c, ch->resolve ? sql_alert_autoresolve : sql_alert_insert);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, ch->alert_id, -1, SQLITE_STATIC);
    if (ch->resolve) {
        sqlite3_bind_int64(st, 2, now);
    } else {
        sqlite3_bind_text(st, 2, ch->server_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ch->severity, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, ch->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ch->subject ? ch->subject : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, ch->title, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, ch->message, -1, SQLITE_STATIC);
        bind_real_or_null(st, 8, ch->metric_value);
        bind_real_or_null(st, 9, ch->threshold_value);
        sqlite3_bind_int64(st, 10, now);
        sqlite3_bind_int(st, 11, ch->muted);
    }
    int rc = store_step_done(c, st, ch->resolve ? "alert resolve" : "alert insert");
    if (rc)
        return rc;
    /* A missing machine (deleted meanwhile) fails the FK and rolls back: treat
     * an unchanged row as "someone else got there first". */
    ch->applied = sqlite3_changes(c->db) > 0;
    if (ch->applied && ch->nrows)
        rc = store_outbox_put(c, ch->rows, ch->nrows, now);
    return rc;
}

int
hlc_store_alerts_apply(struct hlc_store *s, struct hlc_alert_change *ch, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++)
        ch[i].applied = false;
    if (n == 0)
        return 0;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc == 0) {
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = apply_one(c, &ch[i], now);
        if (rc == 0)
            rc = store_commit(c);
        else
            store_rollback(c);
    }
    if (rc)
        for (size_t i = 0; i < n; i++)
            ch[i].applied = false;
    store_release(s, c);
    /* After the commit: a reader of the old generation reads again. */
    atomic_fetch_add(&s->alerts_generation, 1);
    return rc;
}

int
hlc_store_alerts_active(struct hlc_store *s, const char *server_id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_alert_active);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        rc = store_collect_rows(c, st, active_cols, 6, out, "alerts active");
    }
    store_release(s, c);
    return rc;
}

/* Folds action_id/action_status/action_type into the TRD auto_remediation object. */
static void
shape_alert(json_t *a)
{
    json_t *id = json_object_get(a, "action_id");
    json_t *rem = json_pack("{s:b, s:O, s:O, s:O}", "available", json_is_string(id), "action_id",
                            id, "status", json_object_get(a, "action_status"), "action_type",
                            json_object_get(a, "action_type"));
    json_object_set_new(a, "auto_remediation", rem);
    json_object_del(a, "action_id");
    json_object_del(a, "action_status");
    json_object_del(a, "action_type");
}

int
hlc_store_alert_get(struct hlc_store *s, const char *id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_alert_get);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *out = store_row_json(st, alert_cols, NALERT_COLS);
            shape_alert(*out);
            rc = 0;
        } else {
            rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "alert get");
        }
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}

static void
bind_filter(sqlite3_stmt *st, const struct hlc_alert_filter *f)
{
    sqlite3_bind_text(st, 1, f->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->type, -1, SQLITE_STATIC);
}

int
hlc_store_alerts_list(struct hlc_store *s, const struct hlc_alert_filter *f, json_t **out,
                      long long *total)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_alert_count);
    if (!st)
        goto out;
    bind_filter(st, f);
    int step = sqlite3_step(st);
    *total = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = store_fail(c, "alerts count");
        goto out;
    }
    st = store_stmt(c, sql_alert_list);
    if (!st)
        goto out;
    bind_filter(st, f);
    sqlite3_bind_int(st, 5, f->limit);
    sqlite3_bind_int(st, 6, f->offset);
    rc = store_collect_rows(c, st, alert_cols, NALERT_COLS, out, "alerts list");
    if (rc == 0) {
        size_t i;
        json_t *a;
        json_array_foreach(*out, i, a)
        {
            shape_alert(a);
        }
    }
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_alert_move(struct hlc_store *s, const char *id, const char *to, int64_t now)
{
    bool ack = strcmp(to, "acknowledged") == 0;
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, ack ? sql_alert_ack : sql_alert_resolve);
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if ((rc = store_step_done(c, st, "alert move")) != 0 || sqlite3_changes(c->db) > 0)
        goto out;
    /* Nothing changed: say why. */
    st = store_stmt(c, sql_alert_status);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *cur = (const char *)sqlite3_column_text(st, 0);
        rc = (ack && strcmp(cur, "acknowledged") == 0) ? 0 : HLC_ESTATE;
    } else {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "alert status");
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    atomic_fetch_add(&s->alerts_generation, 1);
    return rc;
}

int
hlc_store_alert_set_action(struct hlc_store *s, const char *alert_id, const char *action_id)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_alert_set_action);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, action_id, -1, SQLITE_STATIC);
        rc = store_step_done(c, st, "alert action");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_alerts_offline_candidates(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_offline_candidates);
    int rc = st ? store_collect_rows(c, st, offline_cols, 5, out, "offline candidates") : HLC_EDB;
    store_release(s, c);
    return rc;
}

int
hlc_store_alerts_prune(struct hlc_store *s, int64_t before, int64_t outbox_before, int *deleted)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    *deleted = 0;
    const char *sqls[2] = {sql_alert_prune, sql_outbox_prune};
    int64_t at[2] = {before, outbox_before};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = store_stmt(c, sqls[i]);
        if (!st)
            goto out;
        sqlite3_bind_int64(st, 1, at[i]);
        if ((rc = store_step_done(c, st, "alerts prune")) != 0)
            goto out;
        *deleted += sqlite3_changes(c->db);
    }
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_insert(struct hlc_store *s, const struct hlc_outbox_row *rows, size_t n,
                        int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc == 0) {
        if ((rc = store_outbox_put(c, rows, n, now)) == 0)
            rc = store_commit(c);
        else
            store_rollback(c);
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_due(struct hlc_store *s, int64_t now_ms, int limit, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_due);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, now_ms);
        sqlite3_bind_int(st, 2, limit);
        rc = store_collect_rows(c, st, outbox_cols, 7, out, "outbox due");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_next(struct hlc_store *s, int64_t *at_ms)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_next);
    int rc = HLC_EDB;
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            *at_ms = sqlite3_column_int64(st, 0);
            rc = 0;
        } else {
            rc = step == SQLITE_ROW ? HLC_ENOTFOUND : store_fail(c, "outbox next");
        }
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_delivered(struct hlc_store *s, long long id, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_delivered);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        rc = store_step_done(c, st, "outbox delivered");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_failed(struct hlc_store *s, long long id, int64_t next_ms, bool dead,
                        const char *error)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_failed);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, next_ms);
        sqlite3_bind_int(st, 3, dead ? 1 : 0);
        sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
        rc = store_step_done(c, st, "outbox failed");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_hold(struct hlc_store *s, const char *channel, int64_t until_ms)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_hold);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, until_ms);
        rc = store_step_done(c, st, "outbox hold");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_outbox_stats(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_outbox_stats);
    int rc = HLC_EDB;
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = json_pack("{s:I, s:I, s:I}", "pending", (json_int_t)sqlite3_column_int64(st, 0),
                             "delivered", (json_int_t)sqlite3_column_int64(st, 1), "dead",
                             (json_int_t)sqlite3_column_int64(st, 2));
            rc = 0;
        } else {
            rc = store_fail(c, "outbox stats");
        }
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}
