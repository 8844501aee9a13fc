/* store_actions.c - remediation actions, the append-only audit log and
 * operator-defined custom scripts. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_server_exists[] = "SELECT 1 FROM servers WHERE server_id=?1";

static const char sql_action_insert[] =
    "INSERT INTO remediation_actions(action_id, server_id, alert_id, action_type, target,"
    " parameters, status, auto_approved, requested_by, command, created_at, approved_at)"
    " VALUES (?1,?2,?3,?4,?5,coalesce(?6,'{}'),?7,?8,?9,?10,?11,?12)";

#define ACTION_COLS                                                                        \
    "action_id, server_id, alert_id, action_type, target, parameters, status,"             \
    " auto_approved, requested_by, created_at, approved_at, executed_at, completed_at,"    \
    " command, exit_code, stdout, stdout_truncated, stderr, stderr_truncated, duration_ms," \
    " failure_reason"
static const struct store_col action_cols[] = {
    {"action_id", COL_TEXT},        {"server_id", COL_TEXT},    {"alert_id", COL_TEXT},
    {"action_type", COL_TEXT},      {"target", COL_TEXT},       {"parameters", COL_JSON},
    {"status", COL_TEXT},           {"auto_approved", COL_BOOL}, {"requested_by", COL_TEXT},
    {"created_at", COL_TIME},       {"approved_at", COL_TIME},  {"executed_at", COL_TIME},
    {"completed_at", COL_TIME},     {"command", COL_TEXT},      {"exit_code", COL_INT},
    {"stdout", COL_TEXT},           {"stdout_truncated", COL_BOOL}, {"stderr", COL_TEXT},
    {"stderr_truncated", COL_BOOL}, {"duration_ms", COL_INT},   {"failure_reason", COL_TEXT},
};
#define NACTION_COLS ((int)(sizeof(action_cols) / sizeof(action_cols[0])))

static const char sql_action_get[] =
    "SELECT " ACTION_COLS " FROM remediation_actions WHERE action_id=?1";
static const char sql_action_list[] =
    "SELECT " ACTION_COLS " FROM remediation_actions"
    " WHERE (?1 IS NULL OR status=?1) AND (?2 IS NULL OR server_id=?2)"
    " AND (?3=0 OR status IN ('completed','failed','rejected'))"
    " ORDER BY created_at DESC, rowid DESC LIMIT ?4";
static const char sql_action_move[] =
    "UPDATE remediation_actions SET status=?3,"
    " approved_at=CASE WHEN ?3='approved' THEN ?4 ELSE approved_at END,"
    " executed_at=CASE WHEN ?3='executing' THEN ?4 ELSE executed_at END,"
    " completed_at=CASE WHEN ?3 IN ('rejected','completed','failed') THEN ?4"
    "   ELSE completed_at END"
    " WHERE action_id=?1 AND status=?2";
static const char sql_action_exists[] = "SELECT 1 FROM remediation_actions WHERE action_id=?1";
static const char sql_action_finish[] =
    "UPDATE remediation_actions SET status=?2, completed_at=?3, command=?4, exit_code=?5,"
    " stdout=?6, stdout_truncated=?7, stderr=?8, stderr_truncated=?9, duration_ms=?10,"
    " failure_reason=?11 WHERE action_id=?1 AND status='executing'";
static const char sql_audit_insert[] =
    "INSERT INTO audit_log(created_at, server_id, action_id, action_type, target, trigger,"
    " actor, alert_id, command, status, exit_code, duration_ms, failure_reason, stdout,"
    " stdout_truncated, stderr, stderr_truncated)"
    " SELECT ?2, server_id, action_id, action_type, target, ?3, ?4, alert_id, ?5, ?6, ?7, ?8,"
    " ?9, ?10, ?11, ?12, ?13 FROM remediation_actions WHERE action_id=?1";
static const char sql_action_recover[] =
    "UPDATE remediation_actions SET status='failed', completed_at=?1,"
    " failure_reason='interrupted: the hub stopped before the action finished'"
    " WHERE status IN ('approved','executing')";

static const char sql_action_prune[] =
    "DELETE FROM remediation_actions WHERE status IN ('completed','failed','rejected')"
    " AND coalesce(completed_at, created_at) < ?1";

static const char sql_audit_list[] =
    "SELECT id, created_at, server_id, action_id, action_type, target, trigger, actor,"
    " alert_id, command, status, exit_code, duration_ms, failure_reason, stdout,"
    " stdout_truncated, stderr, stderr_truncated FROM audit_log"
    " WHERE (?1 IS NULL OR server_id=?1) AND (?2 IS NULL OR action_type=?2)"
    " AND (?3 IS NULL OR created_at>=?3) AND (?4 IS NULL OR created_at<=?4)"
    " ORDER BY created_at DESC, id DESC LIMIT ?5";
static const struct store_col audit_cols[] = {
    {"id", COL_INT},           {"created_at", COL_TIME},     {"server_id", COL_TEXT},
    {"action_id", COL_TEXT},   {"action_type", COL_TEXT},    {"target", COL_TEXT},
    {"trigger", COL_TEXT},     {"actor", COL_TEXT},          {"alert_id", COL_TEXT},
    {"command", COL_TEXT},     {"status", COL_TEXT},         {"exit_code", COL_INT},
    {"duration_ms", COL_INT},  {"failure_reason", COL_TEXT}, {"stdout", COL_TEXT},
    {"stdout_truncated", COL_BOOL}, {"stderr", COL_TEXT},    {"stderr_truncated", COL_BOOL},
};
#define NAUDIT_COLS ((int)(sizeof(audit_cols) / sizeof(audit_cols[0])))

static const char sql_script_insert[] =
    "INSERT INTO custom_scripts(server_id, name, script, description, created_at)"
    " VALUES (?1,?2,?3,?4,?5)";
static const char sql_script_list[] =
    "SELECT name, script, description, created_at FROM custom_scripts WHERE server_id=?1"
    " ORDER BY name";
static const struct store_col script_cols[] = {
    {"name", COL_TEXT}, {"script", COL_TEXT}, {"description", COL_TEXT}, {"created_at", COL_TIME},
};
static const char sql_script_get[] =
    "SELECT script FROM custom_scripts WHERE server_id=?1 AND name=?2";
static const char sql_script_delete[] =
    "DELETE FROM custom_scripts WHERE server_id=?1 AND name=?2";

static void
bind_time(sqlite3_stmt *st, int i, int64_t t)
{
    if (t > 0)
        sqlite3_bind_int64(st, i, t);
    else
        sqlite3_bind_null(st, i);
}

int
hlc_store_action_insert(struct hlc_store *s, const struct hlc_action_row *row)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_exists(c, sql_server_exists, row->server_id);
    if (rc <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        goto out;
    }
    rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_action_insert);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, row->action_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->alert_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, row->action_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row->parameters, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, row->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, row->auto_approved ? 1 : 0);
    sqlite3_bind_text(st, 9, row->requested_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, row->command, -1, SQLITE_STATIC);
    bind_time(st, 11, row->created_at);
    bind_time(st, 12, row->approved_at);
    int step = sqlite3_step(st);
    int ext = step == SQLITE_DONE ? 0 : sqlite3_extended_errcode(c->db);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = HLC_EEXISTS;
        else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
            rc = HLC_ENOTFOUND; /* the machine went away meanwhile */
        else
            rc = store_fail(c, "action insert");
    }
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_action_get(struct hlc_store *s, const char *id, json_t **out)
{
    return store_get_row(s, sql_action_get, id, action_cols, NACTION_COLS, out, "action get");
}

int
hlc_store_action_list(struct hlc_store *s, const char *status, const char *server_id,
                      bool history, int limit, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    json_t *arr = NULL;
    sqlite3_stmt *st = store_stmt(c, sql_action_list);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, history ? 1 : 0);
    sqlite3_bind_int(st, 4, limit);
    rc = store_collect_rows(c, st, action_cols, NACTION_COLS, &arr, "action list");
out:
    store_release(s, c);
    return store_result(rc, arr, out);
}

int
hlc_store_action_transition(struct hlc_store *s, const char *id, const char *from,
                            const char *to, int64_t at)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_action_move);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "action transition");
        goto out;
    }
    if (sqlite3_changes(c->db) == 0) {
        rc = store_exists(c, sql_action_exists, id);
        rc = rc == 1 ? HLC_ESTATE : rc == 0 ? HLC_ENOTFOUND : rc;
    }
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_action_finish(struct hlc_store *s, const char *id, const struct hlc_action_outcome *o)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    const char *status = o->success ? "completed" : "failed";
    sqlite3_stmt *st = store_stmt(c, sql_action_finish);
    if (!st) {
        rc = HLC_EDB;
        goto fail;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->at);
    sqlite3_bind_text(st, 4, o->command, -1, SQLITE_STATIC);
    if (o->ran && o->exited)
        sqlite3_bind_int(st, 5, o->exit_code);
    sqlite3_bind_text(st, 6, o->ran ? (o->out ? o->out : "") : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, o->out_truncated ? 1 : 0);
    sqlite3_bind_text(st, 8, o->ran ? (o->err ? o->err : "") : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, o->err_truncated ? 1 : 0);
    if (o->duration_ms >= 0)
        sqlite3_bind_int64(st, 10, o->duration_ms);
    sqlite3_bind_text(st, 11, o->reason, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "action finish");
        goto fail;
    }
    if (sqlite3_changes(c->db) == 0) {
        rc = store_exists(c, sql_action_exists, id);
        rc = rc == 1 ? HLC_ESTATE : rc == 0 ? HLC_ENOTFOUND : rc;
        goto fail;
    }
    if (o->command) {
        /* The audit row keeps at most audit_out_cap bytes of each stream,
         * cut on a UTF-8 character boundary. */
        st = store_stmt(c, sql_audit_insert);
        if (!st) {
            rc = HLC_EDB;
            goto fail;
        }
        size_t olen = o->ran && o->out ? strlen(o->out) : 0;
        size_t elen = o->ran && o->err ? strlen(o->err) : 0;
        bool ocut = olen > o->audit_out_cap, ecut = elen > o->audit_out_cap;
        if (ocut)
            for (olen = o->audit_out_cap; olen > 0 && ((unsigned char)o->out[olen] & 0xc0) == 0x80;)
                olen--;
        if (ecut)
            for (elen = o->audit_out_cap; elen > 0 && ((unsigned char)o->err[elen] & 0xc0) == 0x80;)
                elen--;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, o->at);
        sqlite3_bind_text(st, 3, o->trigger, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->command, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, status, -1, SQLITE_STATIC);
        if (o->ran && o->exited)
            sqlite3_bind_int(st, 7, o->exit_code);
        if (o->duration_ms >= 0)
            sqlite3_bind_int64(st, 8, o->duration_ms);
        sqlite3_bind_text(st, 9, o->reason, -1, SQLITE_STATIC);
        if (o->ran)
            sqlite3_bind_text(st, 10, o->out ? o->out : "", (int)olen, SQLITE_STATIC);
        sqlite3_bind_int(st, 11, (ocut || o->out_truncated) ? 1 : 0);
        if (o->ran)
            sqlite3_bind_text(st, 12, o->err ? o->err : "", (int)elen, SQLITE_STATIC);
        sqlite3_bind_int(st, 13, (ecut || o->err_truncated) ? 1 : 0);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) {
            rc = store_fail(c, "audit insert");
            goto fail;
        }
    }
    if (o->nnotify && (rc = store_outbox_put(c, o->notify, o->nnotify, o->at)) != 0)
        goto fail;
    rc = store_commit(c);
    goto out;
fail:
    store_rollback(c);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_action_recover(struct hlc_store *s, int64_t at, int *count)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    *count = 0;
    sqlite3_stmt *st = store_stmt(c, sql_action_recover);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, at);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "action recover");
    else
        *count = sqlite3_changes(c->db);
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_action_prune(struct hlc_store *s, int64_t before, int *deleted)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    *deleted = 0;
    sqlite3_stmt *st = store_stmt(c, sql_action_prune);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, before);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "action prune");
    else
        *deleted = sqlite3_changes(c->db);
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_audit_list(struct hlc_store *s, const struct hlc_audit_filter *f, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    json_t *arr = NULL;
    sqlite3_stmt *st = store_stmt(c, sql_audit_list);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, f->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->action_type, -1, SQLITE_STATIC);
    bind_time(st, 3, f->since);
    bind_time(st, 4, f->until);
    sqlite3_bind_int(st, 5, f->limit);
    rc = store_collect_rows(c, st, audit_cols, NAUDIT_COLS, &arr, "audit list");
out:
    store_release(s, c);
    return store_result(rc, arr, out);
}

int
hlc_store_script_insert(struct hlc_store *s, const char *server_id, const char *name,
                        const char *script, const char *description)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_exists(c, sql_server_exists, server_id);
    if (rc <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        goto out;
    }
    rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_script_insert);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, script, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, hlc_now());
    int step = sqlite3_step(st);
    int ext = step == SQLITE_DONE ? 0 : sqlite3_extended_errcode(c->db);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = ext == SQLITE_CONSTRAINT_PRIMARYKEY ? HLC_EEXISTS
             : ext == SQLITE_CONSTRAINT_FOREIGNKEY ? HLC_ENOTFOUND
                                                  : store_fail(c, "script insert");
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_script_list(struct hlc_store *s, const char *server_id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    json_t *arr = NULL;
    int rc = store_exists(c, sql_server_exists, server_id);
    if (rc <= 0) {
        rc = rc == 0 ? HLC_ENOTFOUND : rc;
        goto out;
    }
    rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_script_list);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    rc = store_collect_rows(c, st, script_cols, 4, &arr, "script list");
out:
    store_release(s, c);
    return store_result(rc, arr, out);
}

int
hlc_store_script_get(struct hlc_store *s, const char *server_id, const char *name,
                     char **script)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_script_get);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *script = hlc_xstrdup((const char *)sqlite3_column_text(st, 0));
    else
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "script get");
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_script_delete(struct hlc_store *s, const char *server_id, const char *name)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_script_delete);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = store_step_changed(c, st, "script delete");
out:
    store_release(s, c);
    return rc;
}
