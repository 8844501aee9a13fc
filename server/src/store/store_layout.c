/* store_layout.c - the dashboard's per-machine widget layouts, one per breakpoint. */
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

/* The breakpoints a stored document may hold; anything else in it is dropped. */
static const char *const breakpoints[] = {"lg", "md", "sm", NULL};

/* The stored text as {"lg":[...],"md":[...],"sm":[...]} with only the saved ones:
 * a plain array (stored before breakpoints) is the lg layout. Never NULL. */
static json_t *
layout_doc(const char *text)
{
    json_t *doc = json_object();
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(v)) {
        json_object_set(doc, "lg", v);
    } else if (json_is_object(v)) {
        for (size_t i = 0; breakpoints[i]; i++) {
            json_t *l = json_object_get(v, breakpoints[i]);
            if (json_is_array(l))
                json_object_set(doc, breakpoints[i], l);
        }
    }
    json_decref(v); /* unreadable: as if none was saved */
    return doc;
}

/* Reads the document on c: 0 with *out set, HLC_ENOTFOUND, HLC_EDB. */
static int
layout_read(struct store_conn *c, const char *id, json_t **out)
{
    sqlite3_stmt *st = store_stmt(c, sql_get);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = HLC_ENOTFOUND;
    else if (step != SQLITE_ROW)
        rc = store_fail(c, "read layout");
    else
        *out = layout_doc((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc;
}

int
hlc_store_layout_get(struct hlc_store *s, const char *id, json_t **out)
{
    *out = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = layout_read(c, id, out);
    store_release(s, c);
    return rc;
}

int
hlc_store_layout_merge(struct hlc_store *s, const char *id, json_t *patch, json_t **out)
{
    *out = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    if ((rc = layout_read(c, id, &doc)))
        goto out;
    const char *bp;
    json_t *v;
    json_object_foreach(patch, bp, v) {
        if (json_is_array(v))
            json_object_set(doc, bp, v);
        else
            json_object_del(doc, bp);
    }
    text = json_dumps(doc, JSON_COMPACT);
    if (!text) {
        rc = HLC_ENOMEM;
        goto out;
    }
    sqlite3_stmt *st = store_stmt(c, sql_set);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, hlc_now());
    if ((rc = store_step_changed(c, st, "save layout")))
        goto out;
    rc = store_commit(c);
out:
    if (rc) {
        store_rollback(c);
        json_decref(doc);
    } else {
        *out = doc;
    }
    store_release(s, c);
    free(text);
    return rc;
}
