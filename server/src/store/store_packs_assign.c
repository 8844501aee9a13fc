/* store_packs_assign.c - packs assigned to machines and tags, the drift
 * schedule per machine and whether a machine ever complied with a pack. */
#include "store_internal.h"

#include <string.h>

#include "hlc/base.h"

static const char sql_del_machine[] = "DELETE FROM pack_assign_machine WHERE server_id = ?1";
static const char sql_add_machine[] =
    "INSERT OR IGNORE INTO pack_assign_machine (server_id, pack, assigned_at) VALUES (?1, ?2, ?3)";
static const char sql_del_tag[] = "DELETE FROM pack_assign_tag WHERE tag = ?1";
static const char sql_add_tag[] =
    "INSERT OR IGNORE INTO pack_assign_tag (tag, pack, assigned_at) VALUES (?1, ?2, ?3)";
static const char sql_rm_machine[] =
    "DELETE FROM pack_assign_machine WHERE server_id = ?1 AND pack = ?2";
/* Every assignment reaching machine ?1: its own, then each of its tags'. */
static const char sql_effective[] =
    "SELECT pack, 'machine' FROM pack_assign_machine WHERE server_id = ?1"
    " UNION ALL SELECT t.pack, 'tag:' || t.tag FROM servers s, json_each(s.tags) j,"
    " pack_assign_tag t WHERE s.server_id = ?1 AND t.tag = j.value"
    " ORDER BY 1, 2";
static const char sql_tags[] = "SELECT tag, pack FROM pack_assign_tag ORDER BY tag, pack";
static const char sql_drift_get[] =
    "SELECT interval_hours, last_run FROM pack_drift WHERE server_id = ?1";
static const char sql_drift_interval[] =
    "INSERT INTO pack_drift (server_id, interval_hours) SELECT server_id, ?2 FROM servers"
    " WHERE server_id = ?1 ON CONFLICT(server_id) DO UPDATE SET interval_hours = ?2";
static const char sql_drift_ran[] =
    "INSERT INTO pack_drift (server_id, last_run) SELECT server_id, ?2 FROM servers"
    " WHERE server_id = ?1 ON CONFLICT(server_id) DO UPDATE SET last_run = ?2";
static const char sql_state_get[] =
    "SELECT ever_compliant FROM pack_state WHERE server_id = ?1 AND pack = ?2";
static const char sql_state_set[] =
    "INSERT INTO pack_state (server_id, pack, ever_compliant) SELECT server_id, ?2, ?3"
    " FROM servers WHERE server_id = ?1 ON CONFLICT(server_id, pack) DO UPDATE SET"
    " ever_compliant = max(ever_compliant, ?3)";

/* Replaces the rows of one owner (machine or tag) by `packs` in one
 * transaction. */
static int
replace(struct hlc_store *s, const char *del, const char *add, const char *owner, json_t *packs,
        bool machine)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    if (machine && (rc = store_machine_exists(c, owner)) != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, del);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    if ((rc = store_step_done(c, st, "clear pack assignments")) != 0)
        goto out;
    int64_t now = hlc_now();
    size_t i;
    json_t *v;
    json_array_foreach(packs, i, v)
    {
        if (!(st = store_stmt(c, add))) {
            rc = HLC_EDB;
            goto out;
        }
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json_string_value(v), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if ((rc = store_step_done(c, st, "add pack assignment")) != 0)
            goto out;
    }
    rc = store_commit(c); /* store_release rolls back a transaction left open */
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_packs_assign_machine(struct hlc_store *s, const char *id, json_t *packs)
{
    return replace(s, sql_del_machine, sql_add_machine, id, packs, true);
}

int
hlc_store_packs_assign_tag(struct hlc_store *s, const char *tag, json_t *packs)
{
    return replace(s, sql_del_tag, sql_add_tag, tag, packs, false);
}

int
hlc_store_packs_unassign_machine(struct hlc_store *s, const char *id, const char *pack)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_rm_machine);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
        rc = store_step_changed(c, st, "remove pack assignment");
    }
    store_release(s, c);
    return rc;
}

/* One (pack, source) row, ordered by pack: a new entry when the pack
 * changes, else one more source on the last. */
static void
effective_row(sqlite3_stmt *st, json_t *a)
{
    const char *pack = (const char *)sqlite3_column_text(st, 0);
    const char *from = (const char *)sqlite3_column_text(st, 1);
    size_t n = json_array_size(a);
    json_t *last = n ? json_array_get(a, n - 1) : NULL;
    if (!last || strcmp(json_string_value(json_object_get(last, "name")), pack) != 0) {
        last = json_pack("{s:s, s:[]}", "name", pack, "sources");
        json_array_append_new(a, last);
    }
    json_array_append_new(json_object_get(last, "sources"), json_string(from));
}

int
hlc_store_packs_effective(struct hlc_store *s, const char *id, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    json_t *a = json_array();
    int rc = store_machine_exists(c, id);
    if (rc == 0) {
        sqlite3_stmt *st = store_stmt(c, sql_effective);
        if (st)
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = store_each_row(c, st, effective_row, a, "read pack assignments");
    }
    store_release(s, c);
    return store_result(rc, a, out);
}

/* One (tag, pack) row into o[tag]. */
static void
tag_row(sqlite3_stmt *st, json_t *o)
{
    const char *tag = (const char *)sqlite3_column_text(st, 0);
    json_t *list = json_object_get(o, tag);
    if (!list) {
        list = json_array();
        json_object_set_new(o, tag, list);
    }
    json_array_append_new(list, json_string((const char *)sqlite3_column_text(st, 1)));
}

int
hlc_store_packs_tags(struct hlc_store *s, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    json_t *o = json_object();
    int rc = store_each_row(c, store_stmt(c, sql_tags), tag_row, o, "read tag pack assignments");
    store_release(s, c);
    return store_result(rc, o, out);
}

int
hlc_store_packs_drift_get(struct hlc_store *s, const char *id, int *interval_hours,
                          int64_t *last_run)
{
    *interval_hours = -1;
    *last_run = 0;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_drift_get);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                *interval_hours = sqlite3_column_int(st, 0);
            *last_run = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_fail(c, "read drift schedule");
    }
    store_release(s, c);
    return rc;
}

static int
drift_put(struct hlc_store *s, const char *sql, const char *id, bool null, int64_t v)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (null)
            sqlite3_bind_null(st, 2);
        else
            sqlite3_bind_int64(st, 2, v);
        rc = store_step_changed(c, st, "write drift schedule");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_packs_drift_interval(struct hlc_store *s, const char *id, int interval_hours)
{
    return drift_put(s, sql_drift_interval, id, interval_hours < 0, interval_hours);
}

int
hlc_store_packs_drift_ran(struct hlc_store *s, const char *id, int64_t at)
{
    return drift_put(s, sql_drift_ran, id, false, at);
}

int
hlc_store_packs_state(struct hlc_store *s, const char *id, const char *pack, bool compliant,
                      bool *ever_before)
{
    *ever_before = false;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_state_get);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *ever_before = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = store_fail(c, "read pack state");
        goto out;
    }
    if (!(st = store_stmt(c, sql_state_set))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, compliant ? 1 : 0);
    if ((rc = store_step_done(c, st, "write pack state")) != 0)
        goto out;
    rc = store_commit(c); /* store_release rolls back a transaction left open */
out:
    store_release(s, c);
    return rc;
}
