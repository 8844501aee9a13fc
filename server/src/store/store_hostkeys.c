/* store_hostkeys.c - what the poller reads and writes: targets, pinned host
 * keys, last errors and the offline sweep. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/poller.h"
#include "store_internal.h"

static const char sql_target[] =
    "SELECT CASE WHEN connectivity='tailscale'"
    "  THEN COALESCE(tailscale_ip, tailscale_hostname, ip_address, hostname)"
    "  ELSE COALESCE(ip_address, hostname) END,"
    " ssh_port, host_key_fingerprint, host_key_changed, ssh_user FROM servers"
    " WHERE server_id=?1";
static const char sql_targets[] =
    "SELECT s.server_id, COALESCE(s.poll_interval_seconds, ?1) FROM servers s"
    " WHERE s.machine_type='server' AND NOT EXISTS (SELECT 1 FROM metrics_latest l"
    " WHERE l.server_id=s.server_id AND l.source='agent' AND l.timestamp >= ?2)"
    " ORDER BY s.server_id";
static const char sql_pin[] =
    "UPDATE servers SET host_key_fingerprint=?2 WHERE server_id=?1"
    " AND host_key_fingerprint IS NULL";
static const char sql_changed[] =
    "UPDATE servers SET host_key_pending=?2, host_key_changed=1, last_error=?3"
    " WHERE server_id=?1";
static const char sql_accept_check[] =
    "SELECT host_key_changed, host_key_pending FROM servers WHERE server_id=?1";
static const char sql_accept[] =
    "UPDATE servers SET host_key_fingerprint=host_key_pending, host_key_pending=NULL,"
    " host_key_changed=0, last_error=NULL WHERE server_id=?1 AND host_key_changed=1";
static const char sql_error[] = "UPDATE servers SET last_error=?2 WHERE server_id=?1";
static const char sql_offline[] =
    "UPDATE servers SET status='offline' WHERE status='online' AND last_seen < ?1";

void
hlc_store_ssh_target_release(struct hlc_store_ssh_target *t)
{
    if (!t)
        return;
    free(t->address);
    free(t->pinned);
    free(t->user);
    memset(t, 0, sizeof(*t));
}

/* Runs a prepared write with text parameters; HLC_ENOTFOUND if no row changed
 * and want_row is set. */
static int
write_texts(struct hlc_store *s, const char *sql, const char *a, const char *b, const char *c3,
            bool want_row)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (c3)
        sqlite3_bind_text(st, 3, c3, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "host keys");
    else if (want_row && sqlite3_changes(c->db) == 0)
        rc = HLC_ENOTFOUND;
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_ssh_target(struct hlc_store *s, const char *id, struct hlc_store_ssh_target *t)
{
    memset(t, 0, sizeof(*t));
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_target);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *fp = (const char *)sqlite3_column_text(st, 2);
        t->address = hlc_xstrdup(a ? a : "");
        t->port = sqlite3_column_int(st, 1);
        t->pinned = fp ? hlc_xstrdup(fp) : NULL;
        t->changed = sqlite3_column_int(st, 3) != 0;
        const char *u = (const char *)sqlite3_column_text(st, 4);
        t->user = u ? hlc_xstrdup(u) : NULL;
    } else {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "ssh target");
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_poll_targets(struct hlc_store *s, int default_interval, int64_t agent_since,
                       void **list, size_t *n)
{
    *list = NULL;
    *n = 0;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    struct hlc_poll_entry *v = NULL;
    size_t cap = 0;
    sqlite3_stmt *st = store_stmt(c, sql_targets);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int(st, 1, default_interval);
    sqlite3_bind_int64(st, 2, agent_since);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            v = hlc_xrealloc(v, cap * sizeof(*v));
        }
        snprintf(v[*n].id, sizeof(v[*n].id), "%s", (const char *)sqlite3_column_text(st, 0));
        v[*n].interval_s = sqlite3_column_int(st, 1);
        (*n)++;
    }
    if (step != SQLITE_DONE)
        rc = store_fail(c, "poll targets");
    sqlite3_reset(st);
out:
    store_release(s, c);
    if (rc != 0) {
        free(v);
        *n = 0;
    } else {
        *list = v;
    }
    return rc;
}

int
hlc_store_hostkey_pin(struct hlc_store *s, const char *id, const char *fingerprint)
{
    return write_texts(s, sql_pin, id, fingerprint, NULL, false);
}

int
hlc_store_hostkey_changed(struct hlc_store *s, const char *id, const char *fingerprint,
                          const char *reason)
{
    return write_texts(s, sql_changed, id, fingerprint, reason, true);
}

int
hlc_store_hostkey_accept(struct hlc_store *s, const char *id)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_accept_check);
    if (!st) {
        rc = HLC_EDB;
        goto fail;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    bool changed = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0 &&
                   sqlite3_column_type(st, 1) != SQLITE_NULL;
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "host key accept");
        goto fail;
    }
    if (!changed) {
        rc = HLC_ESTATE;
        goto fail;
    }
    st = store_stmt(c, sql_accept);
    if (!st) {
        rc = HLC_EDB;
        goto fail;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "host key accept");
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
hlc_store_machine_set_error(struct hlc_store *s, const char *id, const char *reason)
{
    return write_texts(s, sql_error, id, reason, NULL, false);
}

int
hlc_store_machines_mark_offline(struct hlc_store *s, int64_t now, int threshold_s, int *changed)
{
    *changed = 0;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_offline);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, now - threshold_s);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_fail(c, "offline sweep");
    else
        *changed = sqlite3_changes(c->db);
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}
