/* store_ollama.c - Ollama endpoints: each machine's configuration and the
 * last probe's findings (version, models, loaded models, up/down). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "store_internal.h"

static const char sql_read[] =
    "SELECT s.server_id, coalesce(o.enabled, 1), coalesce(o.configured, 0), o.url,"
    " coalesce(o.port, 11434), coalesce(o.via, 'hub'), coalesce(o.state, 'unknown'), o.version,"
    " coalesce(o.models, '[]'), coalesce(o.loaded, '[]'), o.error, o.response_ms,"
    " o.checked_at, o.since FROM servers s LEFT JOIN ollama o USING (server_id)"
    " WHERE (?1 IS NULL OR s.server_id=?1) AND (?1 IS NOT NULL OR o.configured OR o.ever_up)"
    " ORDER BY s.server_id";
static const struct store_col read_cols[] = {
    {"server_id", COL_TEXT},  {"enabled", COL_BOOL}, {"configured", COL_BOOL},
    {"url", COL_TEXT},        {"port", COL_INT},     {"via", COL_TEXT},
    {"state", COL_TEXT},      {"version", COL_TEXT}, {"models", COL_JSON},
    {"loaded", COL_JSON},     {"error", COL_TEXT},   {"response_ms", COL_REAL},
    {"checked_at", COL_TIME}, {"since", COL_TIME},
};
#define NREAD_COLS ((int)(sizeof(read_cols) / sizeof(read_cols[0])))

static const char sql_configure[] =
    "INSERT INTO ollama(server_id, enabled, configured, url, port, state, updated_at, via)"
    " SELECT server_id, ?2, ?2, ?3, ?4, ?5, ?6, ?7 FROM servers WHERE server_id=?1"
    " ON CONFLICT(server_id) DO UPDATE SET enabled=excluded.enabled,"
    " configured=excluded.configured, url=excluded.url, port=excluded.port, via=excluded.via,"
    " state=excluded.state, fails=0, error=NULL, since=NULL, updated_at=excluded.updated_at";

/* The state a probe leaves, from the row's values before it (a new row has
 * none: configured and ever_up are 0). */
#define NEW_STATE                                                                                  \
    "CASE WHEN ?2 THEN 'up' WHEN ever_up OR configured THEN 'down' ELSE 'not_detected' END"
static const char sql_record[] =
    "INSERT INTO ollama(server_id, state, ever_up, fails, version, models, loaded, error,"
    " response_ms, checked_at, since, updated_at)"
    " SELECT server_id, CASE WHEN ?2 THEN 'up' ELSE 'not_detected' END, ?2,"
    " CASE WHEN ?2 THEN 0 ELSE 1 END, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8"
    " FROM servers WHERE server_id=?1"
    " ON CONFLICT(server_id) DO UPDATE SET"
    " since=CASE WHEN state=" NEW_STATE " THEN coalesce(since, ?8) ELSE ?8 END,"
    " state=" NEW_STATE ", fails=CASE WHEN ?2 THEN 0 ELSE fails+1 END,"
    " ever_up=ever_up OR ?2, version=CASE WHEN ?2 THEN ?3 ELSE version END,"
    " models=CASE WHEN ?2 THEN ?4 ELSE models END, loaded=CASE WHEN ?2 THEN ?5 ELSE loaded END,"
    " error=?6, response_ms=?7, checked_at=?8, updated_at=?8 WHERE enabled"
    " RETURNING state, fails, ever_up OR configured";

static int
read_rows(struct hlc_store *s, const char *server_id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_read);
    if (!st)
        rc = HLC_EDB;
    else {
        sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
        rc = store_collect_rows(c, st, read_cols, NREAD_COLS, out, "read ollama endpoints");
    }
    store_release(s, c);
    return rc;
}

int
hlc_store_ollama_get(struct hlc_store *s, const char *server_id, json_t **out)
{
    json_t *list = NULL;
    *out = NULL;
    int rc = read_rows(s, server_id, &list);
    return store_single_row(rc, list, out);
}

int
hlc_store_ollama_list(struct hlc_store *s, json_t **out)
{
    *out = NULL;
    return read_rows(s, NULL, out);
}

int
hlc_store_ollama_configure(struct hlc_store *s, const char *server_id, bool enabled,
                           const char *url, int port, const char *via)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(c, sql_configure);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, enabled);
    sqlite3_bind_text(st, 3, url, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, port);
    sqlite3_bind_text(st, 5, enabled ? "unknown" : "disabled", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, hlc_now());
    sqlite3_bind_text(st, 7, via, -1, SQLITE_STATIC);
    rc = store_step_changed(c, st, "configure ollama");
out:
    store_release(s, c);
    return rc;
}

/* Binds a JSON value as its compact text (*text freed by the caller). */
static void
bind_json(sqlite3_stmt *st, int i, json_t *v, char **text)
{
    *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    sqlite3_bind_text(st, i, *text, -1, SQLITE_STATIC);
}

int
hlc_store_ollama_record(struct hlc_store *s, struct hlc_ollama_record *r)
{
    struct store_conn *c = store_acquire(s);
    char *models = NULL, *loaded = NULL;
    int rc = 0, step;
    snprintf(r->state, sizeof(r->state), "unknown");
    r->fails = 0;
    r->alertable = false;
    sqlite3_stmt *st = store_stmt(c, sql_record);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, r->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->ok);
    sqlite3_bind_text(st, 3, r->ok ? r->version : NULL, -1, SQLITE_STATIC);
    bind_json(st, 4, r->ok ? r->models : NULL, &models);
    bind_json(st, 5, r->ok ? r->loaded : NULL, &loaded);
    sqlite3_bind_text(st, 6, r->ok ? NULL : r->error, -1, SQLITE_STATIC);
    store_bind_real(st, 7, r->response_ms);
    sqlite3_bind_int64(st, 8, r->now);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(r->state, sizeof(r->state), "%s", (const char *)sqlite3_column_text(st, 0));
        r->fails = sqlite3_column_int(st, 1);
        r->alertable = sqlite3_column_int(st, 2) != 0;
        step = sqlite3_step(st);
    } else if (step == SQLITE_DONE) {
        rc = HLC_EBUSY; /* no row written: disabled, or the machine is gone */
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "record ollama probe");
        goto out;
    }
    if (rc == HLC_EBUSY && store_machine_exists(c, r->server_id) == HLC_ENOTFOUND)
        rc = HLC_ENOTFOUND;
out:
    store_release(s, c);
    free(models);
    free(loaded);
    return rc;
}
