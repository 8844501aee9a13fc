/* store_scans.c - ad-hoc scans: their rows, history, pins and retention. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO scans(scan_id, hostname, port, ssh_user, scan_type, status, created_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, 'pending', ?6)";
static const char sql_running[] =
    "UPDATE scans SET status='running', started_at=?2 WHERE scan_id=?1 AND status='pending'";
static const char sql_finish[] =
    "UPDATE scans SET status=?2, error=?3, results=?4, host_key_fingerprint=?5, completed_at=?6"
    " WHERE scan_id=?1 AND status IN ('pending','running')";
#define SCAN_COLS_SQL                                                                          \
    "scan_id, hostname, port, ssh_user, scan_type, status, error, host_key_fingerprint,"      \
    " created_at, started_at, completed_at"
static const char sql_get[] = "SELECT " SCAN_COLS_SQL ", results FROM scans WHERE scan_id=?1";
static const char sql_list[] =
    "SELECT " SCAN_COLS_SQL " FROM scans WHERE (?1 IS NULL OR hostname=?1)"
    " ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3";
static const char sql_count[] = "SELECT count(*) FROM scans WHERE (?1 IS NULL OR hostname=?1)";
static const struct store_col scan_cols[] = {
    {"scan_id", COL_TEXT},    {"hostname", COL_TEXT},      {"port", COL_INT},
    {"ssh_user", COL_TEXT},   {"scan_type", COL_TEXT},     {"status", COL_TEXT},
    {"error", COL_TEXT},      {"host_key_fingerprint", COL_TEXT}, {"created_at", COL_TIME},
    {"started_at", COL_TIME}, {"completed_at", COL_TIME},  {"results", COL_JSON},
};
#define NSCAN_COLS ((int)(sizeof(scan_cols) / sizeof(scan_cols[0])))
static const char sql_pin_machine[] =
    "SELECT host_key_fingerprint FROM servers WHERE (hostname=?1 OR ip_address=?1)"
    " AND ssh_port=?2 AND host_key_fingerprint IS NOT NULL ORDER BY registered_at LIMIT 1";
static const char sql_pin_scan[] =
    "SELECT host_key_fingerprint FROM scans WHERE hostname=?1 AND port=?2"
    " AND host_key_fingerprint IS NOT NULL ORDER BY created_at DESC, rowid DESC LIMIT 1";
static const char sql_machine_at[] =
    "SELECT server_id FROM servers WHERE (hostname=?1 OR ip_address=?1) AND ssh_port=?2"
    " ORDER BY registered_at LIMIT 1";
static const char sql_prune[] = "DELETE FROM scans WHERE created_at < ?1";
static const char sql_fail_unfinished[] =
    "UPDATE scans SET status='failed', error=?1, completed_at=?2"
    " WHERE status IN ('pending','running')";
static const char sql_facts[] =
    "UPDATE servers SET os_distribution=COALESCE(?2, os_distribution),"
    " os_version=COALESCE(?3, os_version), kernel=COALESCE(?4, kernel),"
    " architecture=COALESCE(?5, architecture) WHERE server_id=?1";

int
hlc_store_scan_insert(struct hlc_store *s, const char *id, const char *host, int port,
                      const char *user, const char *scan_type, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_insert);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, port);
        sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, scan_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        rc = store_step_done(c, st, "scan insert");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_scan_running(struct hlc_store *s, const char *id, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_running);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        rc = store_step_changed(c, st, "scan running");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_scan_finish(struct hlc_store *s, const char *id, bool ok, const char *error,
                      const char *results, const char *fingerprint, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_finish);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ok ? "completed" : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, results, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        rc = store_step_changed(c, st, "scan finish");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_scan_get(struct hlc_store *s, const char *id, json_t **out)
{
    *out = NULL;
    return store_get_row(s, sql_get, id, scan_cols, NSCAN_COLS, out, "scan get");
}

int
hlc_store_scan_list(struct hlc_store *s, const char *host, int limit, int offset, json_t **out,
                    long long *total)
{
    *out = NULL;
    *total = 0;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    json_t *arr = NULL;
    sqlite3_stmt *st = store_stmt(c, sql_list), *cnt = store_stmt(c, sql_count);
    if (!st || !cnt) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int(st, 3, offset);
    if ((rc = store_collect_rows(c, st, scan_cols, NSCAN_COLS - 1, &arr, "scan list")) != 0)
        goto out;
    sqlite3_bind_text(cnt, 1, host, -1, SQLITE_STATIC);
    if (sqlite3_step(cnt) == SQLITE_ROW)
        *total = sqlite3_column_int64(cnt, 0);
    else
        rc = store_fail(c, "scan count");
    sqlite3_reset(cnt);
out:
    store_release(s, c);
    return store_result(rc, arr, out);
}

/* The first column of sql's first row as heap text, or NULL. */
static int
pin_from(struct store_conn *c, const char *sql, const char *host, int port, char **fp)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, port);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        *fp = hlc_xstrdup((const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE)
        rc = store_fail(c, "scan pin");
    sqlite3_reset(st);
    return rc;
}

int
hlc_store_scan_pin(struct hlc_store *s, const char *host, int port, char **fingerprint,
                   const char **from)
{
    *fingerprint = NULL;
    *from = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = pin_from(c, sql_pin_machine, host, port, fingerprint);
    if (rc == 0 && *fingerprint)
        *from = "machine";
    else if (rc == 0 && (rc = pin_from(c, sql_pin_scan, host, port, fingerprint)) == 0 &&
             *fingerprint)
        *from = "scan";
    store_release(s, c);
    return rc;
}

int
hlc_store_machine_at(struct hlc_store *s, const char *host, int port, char **id)
{
    *id = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = pin_from(c, sql_machine_at, host, port, id);
    store_release(s, c);
    return rc;
}

int
hlc_store_scans_prune(struct hlc_store *s, int64_t before, int *deleted)
{
    *deleted = 0;
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_prune);
    if (st) {
        sqlite3_bind_int64(st, 1, before);
        rc = store_step_done(c, st, "scan prune");
        if (rc == 0)
            *deleted = sqlite3_changes(c->db);
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_scans_fail_unfinished(struct hlc_store *s, const char *reason, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_fail_unfinished);
    if (st) {
        sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        rc = store_step_done(c, st, "scan fail unfinished");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_machine_set_facts(struct hlc_store *s, const char *id, const char *os,
                            const char *version, const char *kernel, const char *arch)
{
    struct store_conn *c = store_acquire(s);
    int rc = HLC_EDB;
    sqlite3_stmt *st = store_stmt(c, sql_facts);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, os, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, kernel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, arch, -1, SQLITE_STATIC);
        rc = store_step_changed(c, st, "machine facts");
    }
    store_machines_release(s, c);
    return rc;
}
