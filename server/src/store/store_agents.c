/* store_agents.c - push agents' credentials: enrollment tokens and per-machine
 * agent tokens, both kept only as hashes. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#include "hlc/base.h"

static const char sql_enroll_insert[] =
    "INSERT INTO enrollment_tokens(id, token_hash, server_id, machine_type, created_at,"
    " expires_at) VALUES(?1,?2,?3,?4,?5,?6)";
static const char sql_enroll_list[] =
    "SELECT id, server_id, machine_type, created_at, expires_at, used_at, used_by,"
    " CASE WHEN used_at IS NOT NULL THEN 'used' WHEN expires_at <= ?1 THEN 'expired'"
    " ELSE 'active' END FROM enrollment_tokens ORDER BY created_at DESC, id";
static const struct store_col enroll_cols[] = {
    {"id", COL_TEXT},         {"server_id", COL_TEXT}, {"machine_type", COL_TEXT},
    {"created_at", COL_TIME}, {"expires_at", COL_TIME}, {"used_at", COL_TIME},
    {"used_by", COL_TEXT},    {"status", COL_TEXT},
};
static const char sql_enroll_delete[] = "DELETE FROM enrollment_tokens WHERE id=?1";
static const char sql_enroll_find[] =
    "SELECT id, server_id, machine_type FROM enrollment_tokens"
    " WHERE token_hash=?1 AND used_at IS NULL AND expires_at > ?2";
static const char sql_enroll_spend[] =
    "UPDATE enrollment_tokens SET used_at=?2, used_by=?3"
    " WHERE token_hash=?1 AND used_at IS NULL AND expires_at > ?2";

static const char sql_token_insert[] =
    "INSERT INTO agent_tokens(id, server_id, token_hash, created_at) VALUES(?1,?2,?3,?4)";
static const char sql_token_any[] = "SELECT 1 FROM agent_tokens WHERE server_id=?1";
static const char sql_token_clear[] = "DELETE FROM agent_tokens WHERE server_id=?1";
static const char sql_token_find[] =
    "SELECT id, server_id FROM agent_tokens WHERE token_hash=?1";
static const char sql_token_list[] =
    "SELECT id, created_at, last_used_at, last_used_ip FROM agent_tokens"
    " WHERE server_id=?1 ORDER BY created_at, id";
static const struct store_col token_cols[] = {
    {"id", COL_TEXT},
    {"created_at", COL_TIME},
    {"last_used_at", COL_TIME},
    {"last_used_ip", COL_TEXT},
};
static const char sql_token_delete[] = "DELETE FROM agent_tokens WHERE server_id=?1 AND id=?2";
static const char sql_machine_exists[] = "SELECT 1 FROM servers WHERE server_id=?1";
static const char sql_seen_token[] =
    "UPDATE agent_tokens SET last_used_at=?2, last_used_ip=?3 WHERE id=?1";
static const char sql_seen_machine[] =
    "UPDATE servers SET agent_auth=?2 WHERE server_id=?1 AND agent_auth IS NOT ?2";

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void
col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", v ? v : "");
}

/* Steps a write statement to its end: 0 or HLC_EDB (logged). */
/* True when a query bound to `id` returns a row (*rc: 0 or HLC_EDB). */
static bool
any_row(struct store_conn *c, const char *sql, const char *id, int *rc)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st) {
        *rc = HLC_EDB;
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    *rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : store_fail(c, "look up");
    return step == SQLITE_ROW;
}

static int
token_insert(struct store_conn *c, const char *id, const char *server_id,
             const unsigned char hash[HLC_STORE_TOKEN_HASH], int64_t now)
{
    sqlite3_stmt *st = store_stmt(c, sql_token_insert);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, HLC_STORE_TOKEN_HASH, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    return store_step_done(c, st, "store agent token");
}

int
hlc_store_enroll_insert(struct hlc_store *s, const char *id,
                        const unsigned char hash[HLC_STORE_TOKEN_HASH], const char *server_id,
                        const char *machine_type, int64_t created_at, int64_t expires_at)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_enroll_insert);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, hash, HLC_STORE_TOKEN_HASH, SQLITE_STATIC);
        bind_opt(st, 3, server_id);
        bind_opt(st, 4, machine_type);
        sqlite3_bind_int64(st, 5, created_at);
        sqlite3_bind_int64(st, 6, expires_at);
        rc = store_step_done(c, st, "store enrollment token");
    }
    store_release(s, c);
    return rc;
}

/* Runs a listing query (bound to an int64 or a text first parameter). */
static int
list(struct hlc_store *s, const char *sql, int64_t n, const char *text,
     const struct store_col *cols, int ncols, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql);
    int rc = 0, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, n);
    json_t *arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, store_row_json(st, cols, ncols));
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        rc = store_fail(c, "list tokens");
        goto out;
    }
    *out = arr;
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_enroll_list(struct hlc_store *s, int64_t now, json_t **out)
{
    return list(s, sql_enroll_list, now, NULL, enroll_cols,
                (int)(sizeof(enroll_cols) / sizeof(enroll_cols[0])), out);
}

/* Deletes with a one- or two-text-parameter statement; HLC_ENOTFOUND when
 * nothing matched. */
static int
delete_one(struct hlc_store *s, const char *sql, const char *a, const char *b)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        rc = store_step_changed(c, st, "revoke token");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_enroll_delete(struct hlc_store *s, const char *id)
{
    return delete_one(s, sql_enroll_delete, id, NULL);
}

/* Runs a lookup by token hash (?1; ?2 = now when now > 0) and copies the
 * row's first n text columns into dst[i] (cap[i] bytes each, "" for NULL).
 * 0, HLC_ENOTFOUND or HLC_EDB. */
static int
find_by_hash(struct hlc_store *s, const char *sql, const unsigned char hash[HLC_STORE_TOKEN_HASH],
             int64_t now, char *const dst[], const size_t cap[], int n)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_blob(st, 1, hash, HLC_STORE_TOKEN_HASH, SQLITE_STATIC);
        if (now > 0)
            sqlite3_bind_int64(st, 2, now);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            for (int i = 0; i < n; i++)
                col_copy(st, i, dst[i], cap[i]);
            rc = 0;
        } else {
            rc = step == SQLITE_DONE ? HLC_ENOTFOUND : store_fail(c, "find token");
        }
        sqlite3_reset(st);
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_enroll_find(struct hlc_store *s, const unsigned char hash[HLC_STORE_TOKEN_HASH],
                      int64_t now, struct hlc_enroll_row *out)
{
    memset(out, 0, sizeof(*out));
    char *const dst[] = {out->id, out->server_id, out->machine_type};
    const size_t cap[] = {sizeof(out->id), sizeof(out->server_id), sizeof(out->machine_type)};
    return find_by_hash(s, sql_enroll_find, hash, now, dst, cap, 3);
}

int
hlc_store_enroll_redeem(struct hlc_store *s, const unsigned char hash[HLC_STORE_TOKEN_HASH],
                        int64_t now, json_t *machine, bool replace, const char *token_id,
                        const unsigned char token_hash[HLC_STORE_TOKEN_HASH])
{
    const char *sid = json_string_value(json_object_get(machine, "server_id"));
    if (!sid)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_enroll_spend);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_blob(st, 1, hash, HLC_STORE_TOKEN_HASH, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, sid, -1, SQLITE_STATIC);
    /* HLC_ENOTFOUND: spent by a racing request, revoked or expired */
    if ((rc = store_step_changed(c, st, "spend enrollment token")) != 0)
        goto out;
    rc = store_machine_insert_in(c, machine);
    if (rc == HLC_EEXISTS) {
        bool has = any_row(c, sql_token_any, sid, &rc);
        if (rc)
            goto out;
        if (has && !replace) {
            rc = HLC_EEXISTS;
            goto out;
        }
        if (has && (st = store_stmt(c, sql_token_clear)) == NULL) {
            rc = HLC_EDB;
            goto out;
        }
        if (has) {
            sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
            if ((rc = store_step_done(c, st, "replace agent tokens")) != 0)
                goto out;
        }
    } else if (rc) {
        goto out;
    }
    if ((rc = token_insert(c, token_id, sid, token_hash, now)) != 0)
        goto out;
    rc = store_commit(c);
out:
    store_machines_release(s, c); /* rolls back anything left open */
    return rc;
}

int
hlc_store_agent_token_find(struct hlc_store *s, const unsigned char hash[HLC_STORE_TOKEN_HASH],
                           struct hlc_agent_token_row *out)
{
    memset(out, 0, sizeof(*out));
    char *const dst[] = {out->id, out->server_id};
    const size_t cap[] = {sizeof(out->id), sizeof(out->server_id)};
    return find_by_hash(s, sql_token_find, hash, 0, dst, cap, 2);
}

int
hlc_store_agent_token_list(struct hlc_store *s, const char *server_id, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    int rc;
    bool exists = any_row(c, sql_machine_exists, server_id, &rc);
    store_release(s, c);
    if (rc)
        return rc;
    if (!exists)
        return HLC_ENOTFOUND;
    return list(s, sql_token_list, 0, server_id, token_cols,
                (int)(sizeof(token_cols) / sizeof(token_cols[0])), out);
}

int
hlc_store_agent_token_delete(struct hlc_store *s, const char *server_id, const char *id)
{
    return delete_one(s, sql_token_delete, server_id, id);
}

int
hlc_store_agent_token_rotate(struct hlc_store *s, const char *server_id, const char *old_id,
                             const char *new_id, const unsigned char hash[HLC_STORE_TOKEN_HASH])
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_token_delete);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, old_id, -1, SQLITE_STATIC);
    /* HLC_ENOTFOUND: no such token */
    if ((rc = store_step_changed(c, st, "rotate agent token")) != 0)
        goto out;
    if ((rc = token_insert(c, new_id, server_id, hash, hlc_now())) != 0)
        goto out;
    rc = store_commit(c);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_agent_seen(struct hlc_store *s, const char *server_id, const char *token_id,
                     const char *ip, int64_t now)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_seen_machine);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, token_id ? "agent_token" : "admin_key", -1, SQLITE_STATIC);
    if ((rc = store_step_done(c, st, "record agent sign-in")) != 0)
        goto out;
    bool machine_changed = sqlite3_changes(c->db) > 0;
    if (token_id) {
        if (!(st = store_stmt(c, sql_seen_token))) {
            rc = HLC_EDB;
            goto out;
        }
        sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        bind_opt(st, 3, ip);
        if ((rc = store_step_done(c, st, "record agent token use")) != 0)
            goto out;
    }
    rc = store_commit(c);
    if (rc == 0 && machine_changed)
        atomic_fetch_add(&s->machines_generation, 1);
out:
    store_release(s, c);
    return rc;
}
