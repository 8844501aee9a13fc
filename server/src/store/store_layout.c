/* store_layout.c - the dashboard's per-machine widget layouts. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"

static const char sql_get[] =
    "SELECT l.widgets FROM servers s LEFT JOIN server_layouts l ON l.server_id = s.server_id"
    " WHERE s.server_id = ?1";
static const char sql_set[] =
    "INSERT INTO server_layouts (server_id, widgets, updated_at)"
    " SELECT server_id, ?2, ?3 FROM servers WHERE server_id = ?1"
    " ON CONFLICT(server_id) DO UPDATE SET widgets = excluded.widgets,"
    " updated_at = excluded.updated_at";

int
hlc_store_layout_get(struct hlc_store *s, const char *id, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_get);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = HLC_ENOTFOUND;
    } else if (step != SQLITE_ROW) {
        rc = store_fail(c, "read layout");
    } else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        json_t *w = text ? json_loads(text, 0, NULL) : NULL;
        if (json_is_array(w))
            *out = w;
        else
            json_decref(w); /* unreadable: as if none was saved */
    }
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_layout_set(struct hlc_store *s, const char *id, json_t *widgets)
{
    char *text = json_dumps(widgets, JSON_COMPACT);
    if (!text)
        return HLC_ENOMEM;
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_set);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, hlc_now());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = store_fail(c, "save layout");
    else if (sqlite3_changes(c->db) == 0)
        rc = HLC_ENOTFOUND;
out:
    store_release(s, c);
    free(text);
    return rc;
}
