/* store_packs_apply.c - what pack applies replaced (pack_previous). */
#include "store_internal.h"

#include <stdlib.h>

#include "hlc/base.h"

static const char sql_add[] =
    "INSERT INTO pack_previous (server_id, pack, path, replaced_at, content)"
    " SELECT server_id, ?2, ?3, ?4, ?5 FROM servers WHERE server_id = ?1";
static const char sql_prune[] =
    "DELETE FROM pack_previous WHERE server_id = ?1 AND path = ?2 AND id NOT IN"
    " (SELECT id FROM pack_previous WHERE server_id = ?1 AND path = ?2 ORDER BY id DESC LIMIT ?3)";
static const char sql_list[] =
    "SELECT path, pack, replaced_at, content FROM pack_previous WHERE server_id = ?1"
    " AND (?2 IS NULL OR pack = ?2) ORDER BY id DESC LIMIT 200";

int
hlc_store_pack_previous_add(struct hlc_store *s, const char *server_id, const char *pack,
                            const char *path, int64_t at, const char *content, size_t len)
{
    if (len > HLC_STORE_PREVIOUS_MAX)
        len = HLC_STORE_PREVIOUS_MAX;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_add);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    sqlite3_bind_blob(st, 5, content ? content : "", (int)len, SQLITE_STATIC);
    if ((rc = store_step_changed(c, st, "keep previous content")) != 0)
        goto out;
    if (!(st = store_stmt(c, sql_prune))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, HLC_STORE_PREVIOUS_KEEP);
    if ((rc = store_step_done(c, st, "prune previous content")) != 0)
        goto out;
    rc = store_commit(c); /* store_release rolls back a transaction left open */
out:
    store_release(s, c);
    return rc;
}

/* One sql_list row onto l. */
static void
previous_row(sqlite3_stmt *st, json_t *l)
{
    char iso[32];
    hlc_time_iso(sqlite3_column_int64(st, 2), iso);
    const char *b = sqlite3_column_blob(st, 3);
    int n = sqlite3_column_bytes(st, 3);
    json_t *text = json_stringn(b ? b : "", (size_t)n); /* NULL: not valid UTF-8 */
    json_array_append_new(l, json_pack("{s:s, s:s, s:s, s:o}", "path",
                                       (const char *)sqlite3_column_text(st, 0), "pack",
                                       (const char *)sqlite3_column_text(st, 1), "replaced_at", iso,
                                       "content", text ? text : json_null()));
}

int
hlc_store_pack_previous_list(struct hlc_store *s, const char *server_id, const char *pack,
                             json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    json_t *l = json_array();
    int rc = store_machine_exists(c, server_id);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_list);
    if (st) {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        if (pack)
            sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
    }
    rc = store_each_row(c, st, previous_row, l, "list previous content");
out:
    store_release(s, c);
    return store_result(rc, l, out);
}
