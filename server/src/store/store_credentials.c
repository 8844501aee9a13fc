/* store_credentials.c - the credentials table: sealed values and their metadata. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO credentials(id, kind, server_id, ssh_user, public_key, is_identity, sealed,"
    " key_id, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?9)";
static const char sql_replace[] =
    "DELETE FROM credentials WHERE kind=?1 AND server_id IS ?2 AND is_identity=0";
static const char sql_server_exists[] = "SELECT 1 FROM servers WHERE server_id=?1";
static const char sql_list[] =
    "SELECT id, kind, server_id, ssh_user, public_key, is_identity, key_id, created_at,"
    " updated_at FROM credentials ORDER BY is_identity DESC, created_at, id";
static const char sql_is_identity[] = "SELECT is_identity FROM credentials WHERE id=?1";
static const char sql_delete[] = "DELETE FROM credentials WHERE id=?1 AND is_identity=0";
static const char sql_find[] =
    "SELECT sealed, public_key FROM credentials WHERE kind=?1 AND server_id IS NULL"
    " AND is_identity=0 ORDER BY created_at DESC, rowid DESC LIMIT 1";
static const char sql_identity[] =
    "SELECT sealed, public_key FROM credentials WHERE is_identity=1";
/* Own key first, then the fleet-wide one, then the identity; newest first
 * within each, as sql_find. */
static const char sql_for_machine[] =
    "SELECT c.sealed, COALESCE(c.ssh_user, s.ssh_user, 'homelabcmd') FROM servers s"
    " JOIN (SELECT sealed, ssh_user FROM credentials WHERE is_identity=1 OR"
    " (kind='ssh_private_key' AND (server_id=?1 OR server_id IS NULL))"
    " ORDER BY is_identity, server_id IS NULL, created_at DESC, rowid DESC LIMIT 1) c"
    " WHERE s.server_id=?1";
static const char sql_all_sealed[] = "SELECT id, sealed FROM credentials ORDER BY id";
static const char sql_reseal[] =
    "UPDATE credentials SET sealed=?2, key_id=?3, updated_at=?4 WHERE id=?1";

static const struct store_col meta_cols[] = {
    {"id", COL_TEXT},         {"kind", COL_TEXT},       {"server_id", COL_TEXT},
    {"ssh_user", COL_TEXT},   {"public_key", COL_TEXT}, {"is_identity", COL_BOOL},
    {"key_id", COL_TEXT},     {"created_at", COL_TIME}, {"updated_at", COL_TIME},
};

static char *
col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? hlc_xstrdup((const char *)t) : NULL;
}

int
hlc_store_cred_insert(struct hlc_store *s, const struct hlc_cred_row *row, bool replace)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st;
    if (row->server_id) {
        st = store_stmt(c, sql_server_exists);
        if (!st) {
            rc = HLC_EDB;
            goto fail;
        }
        sqlite3_bind_text(st, 1, row->server_id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_ROW) {
            rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "credential machine");
            goto fail;
        }
    }
    if (replace && !row->is_identity) {
        st = store_stmt(c, sql_replace);
        if (!st) {
            rc = HLC_EDB;
            goto fail;
        }
        sqlite3_bind_text(st, 1, row->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, row->server_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = store_fail(c, "credential replace");
            sqlite3_reset(st);
            goto fail;
        }
        sqlite3_reset(st);
    }
    st = store_stmt(c, sql_insert);
    if (!st) {
        rc = HLC_EDB;
        goto fail;
    }
    sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, row->ssh_user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row->public_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, row->is_identity ? 1 : 0);
    sqlite3_bind_text(st, 7, row->sealed, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, row->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, hlc_now());
    int step = sqlite3_step(st);
    int ext = step == SQLITE_DONE ? 0 : sqlite3_extended_errcode(c->db);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? HLC_EEXISTS
                 : store_fail(c, "credential insert");
        goto fail;
    }
    rc = store_commit(c);
    goto out;
fail:
    store_rollback(c);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_cred_list(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    json_t *arr = NULL;
    sqlite3_stmt *st = store_stmt(c, sql_list);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    rc = store_collect_rows(c, st, meta_cols, 9, &arr, "credential list");
out:
    store_release(s, c);
    return store_result(rc, arr, out);
}

int
hlc_store_cred_delete(struct hlc_store *s, const char *id)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_is_identity);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int ident = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "credential get");
        goto out;
    }
    if (ident) {
        rc = HLC_ESTATE;
        goto out;
    }
    st = store_stmt(c, sql_delete);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "credential delete");
    else if (sqlite3_changes(c->db) == 0)
        rc = HLC_ENOTFOUND;
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

/* Runs sql, its ?1 bound to `param` unless NULL, and copies the first row's
 * two text columns into *first and *second (each may be NULL: not wanted).
 * HLC_ENOTFOUND when there is no row. */
static int
first_row(struct hlc_store *s, const char *sql, const char *param, char **first, char **second,
          const char *what)
{
    if (first)
        *first = NULL;
    if (second)
        *second = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (first)
            *first = col_dup(st, 0);
        if (second)
            *second = col_dup(st, 1);
    } else {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, what);
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_cred_find(struct hlc_store *s, const char *kind, bool identity, char **sealed,
                    char **public_key)
{
    return first_row(s, identity ? sql_identity : sql_find, identity ? NULL : kind, sealed,
                     public_key, "credential find");
}

int
hlc_store_cred_for_machine(struct hlc_store *s, const char *server_id, char **sealed,
                           char **ssh_user)
{
    return first_row(s, sql_for_machine, server_id, sealed, ssh_user, "machine credential");
}

int
hlc_store_cred_reseal(struct hlc_store *s, hlc_cred_reseal_fn fn, void *ud, int *count)
{
    *count = 0;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *sel = store_stmt(c, sql_all_sealed);
    sqlite3_stmt *upd = store_stmt(c, sql_reseal);
    if (!sel || !upd) {
        rc = HLC_EDB;
        goto fail;
    }
    int64_t now = hlc_now();
    int step;
    /* Reading and updating the same table inside one transaction is fine in
     * SQLite: the update changes no column the SELECT orders or filters by. */
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(sel, 0);
        const char *sealed = (const char *)sqlite3_column_text(sel, 1);
        char *re = NULL, *kid = NULL;
        rc = fn(ud, sealed ? sealed : "", &re, &kid);
        if (rc != 0) {
            sqlite3_reset(sel);
            goto fail;
        }
        sqlite3_bind_text(upd, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(upd, 2, re, -1, SQLITE_STATIC);
        sqlite3_bind_text(upd, 3, kid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 4, now);
        int ustep = sqlite3_step(upd);
        sqlite3_reset(upd);
        free(re);
        free(kid);
        if (ustep != SQLITE_DONE) {
            rc = store_fail(c, "credential reseal");
            sqlite3_reset(sel);
            goto fail;
        }
        (*count)++;
    }
    sqlite3_reset(sel);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "credential reseal scan");
        goto fail;
    }
    rc = store_commit(c);
    if (rc == 0)
        goto out;
fail:
    store_rollback(c);
    *count = 0;
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_cred_peek(const char *path, int (*fn)(void *ud, const char *sealed), void *ud,
                    int *count)
{
    *count = 0;
    if (access(path, F_OK) != 0)
        return 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        hlc_log(HLC_LOG_ERROR, "store: cannot open %s read-only: %s", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    int prc = sqlite3_prepare_v2(db, "SELECT sealed FROM credentials", -1, &st, NULL);
    if (prc != SQLITE_OK) {
        /* An older database without the table holds no credential. */
        if (strstr(sqlite3_errmsg(db), "no such table") == NULL) {
            hlc_log(HLC_LOG_ERROR, "store: %s", sqlite3_errmsg(db));
            rc = HLC_EDB;
        }
        goto out;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        (*count)++;
        const char *sealed = (const char *)sqlite3_column_text(st, 0);
        if (fn && (rc = fn(ud, sealed ? sealed : "")) != 0)
            goto out;
    }
    if (step != SQLITE_DONE) {
        hlc_log(HLC_LOG_ERROR, "store: %s", sqlite3_errmsg(db));
        rc = HLC_EDB;
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

int
hlc_store_cred_delete_kind(struct hlc_store *s, const char *kind)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_replace);
    if (st) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_null(st, 2);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(c, "credential delete kind");
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}
