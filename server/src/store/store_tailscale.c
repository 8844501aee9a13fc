/* store_tailscale.c - machines made from tailnet nodes: the links, what the
 * last sync saw, the nodes that left, and the expiry an alert was raised for. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"

static const char sql_link_insert[] =
    "INSERT INTO tailscale_devices(node_id, server_id, name, hostname, tailscale_ip, os,"
    " online, last_seen, key_expiry, key_expiry_disabled, imported_at, synced_at)"
    " VALUES(?1,?11,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)"; /* bind_node's order */
static const char sql_link_exists[] = "SELECT server_id FROM tailscale_devices WHERE node_id=?1";
static const char sql_known_nodes[] = "SELECT node_id, server_id FROM tailscale_devices";
static const char sql_known_servers[] = "SELECT server_id, tailscale_ip FROM servers";
static const char sql_links[] =
    "SELECT node_id, server_id, name, hostname, tailscale_ip, os, online, last_seen,"
    " key_expiry, key_expiry_disabled, state, left_at, imported_at, synced_at, expiry_alerted"
    " FROM tailscale_devices ORDER BY server_id";
static const char sql_link_refresh[] =
    "UPDATE tailscale_devices SET name=?2, hostname=?3, tailscale_ip=?4, os=?5, online=?6,"
    " last_seen=?7, key_expiry=?8, key_expiry_disabled=?9, state='present', left_at=NULL,"
    " synced_at=?10 WHERE node_id=?1";
static const char sql_link_left[] =
    "UPDATE tailscale_devices SET state='left', left_at=?2, online=0, synced_at=?2"
    " WHERE node_id=?1 AND state='present'";
static const char sql_server_follow[] =
    "UPDATE servers SET tailscale_ip=?2, tailscale_hostname=?3, updated_at=?4 WHERE server_id=?1";
static const char sql_alerted[] = "UPDATE tailscale_devices SET expiry_alerted=?2 WHERE node_id=?1";

static const struct store_col link_cols[] = {
    {"node_id", COL_TEXT},      {"server_id", COL_TEXT},
    {"name", COL_TEXT},         {"hostname", COL_TEXT},
    {"tailscale_ip", COL_TEXT}, {"os", COL_TEXT},
    {"online", COL_BOOL},       {"last_seen", COL_TIME},
    {"key_expiry", COL_TIME},   {"key_expiry_disabled", COL_BOOL},
    {"state", COL_TEXT},        {"left_at", COL_TIME},
    {"imported_at", COL_TIME},  {"synced_at", COL_TIME},
    {"expiry_alerted", COL_TIME},
};
#define NLINK ((int)(sizeof(link_cols) / sizeof(link_cols[0])))

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void
bind_time_or_null(sqlite3_stmt *st, int i, int64_t t)
{
    if (t > 0)
        sqlite3_bind_int64(st, i, t);
    else
        sqlite3_bind_null(st, i);
}

/* Binds ?2..?9 with the node's fields (sql_link_refresh and sql_link_insert). */
static void
bind_node(sqlite3_stmt *st, const struct hlc_store_ts_node *n)
{
    bind_text_or_null(st, 2, n->name);
    bind_text_or_null(st, 3, n->hostname);
    bind_text_or_null(st, 4, n->tailscale_ip);
    bind_text_or_null(st, 5, n->os);
    if (n->online < 0)
        sqlite3_bind_null(st, 6);
    else
        sqlite3_bind_int(st, 6, n->online);
    bind_time_or_null(st, 7, n->last_seen);
    bind_time_or_null(st, 8, n->key_expiry);
    sqlite3_bind_int(st, 9, n->key_expiry_disabled);
}

int
hlc_store_ts_import(struct hlc_store *s, json_t *m, const struct hlc_store_ts_node *n)
{
    const char *id = json_string_value(json_object_get(m, "server_id"));
    if (!id || !n->node_id)
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st;
    int rc = store_begin(c);
    if (rc)
        goto out;
    if (!(st = store_stmt(c, sql_link_exists))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, n->node_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW) {
        rc = HLC_ESTATE;
        goto out;
    }
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "look up tailscale node");
        goto out;
    }
    if ((rc = store_machine_insert_in(c, m)) != 0)
        goto out;
    if (!(st = store_stmt(c, sql_link_insert))) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, n->node_id, -1, SQLITE_STATIC);
    bind_node(st, n);
    sqlite3_bind_int64(st, 10, hlc_now());
    sqlite3_bind_text(st, 11, id, -1, SQLITE_STATIC);
    if ((rc = store_step_done(c, st, "link tailscale node")) != 0)
        goto out;
    rc = store_commit(c);
out:
    store_machines_release(s, c);
    return rc;
}

/* Adds column b of each row of sql as obj[col a] (text). */
static int
map_rows(struct store_conn *c, const char *sql, json_t *obj, bool only_ids, json_t *ids)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    if (!st)
        return HLC_EDB;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        if (only_ids) {
            json_object_set_new(ids, a, json_true());
            if (b)
                json_object_set_new(obj, b, json_string(a)); /* by ip -> server */
        } else if (a && b) {
            json_object_set_new(obj, a, json_string(b));
        }
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : store_fail(c, "read tailscale links");
}

int
hlc_store_ts_known(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    json_t *by_node = json_object(), *by_ip = json_object(), *ids = json_object();
    int rc = map_rows(c, sql_known_nodes, by_node, false, NULL);
    if (rc == 0)
        rc = map_rows(c, sql_known_servers, by_ip, true, ids);
    store_release(s, c);
    if (rc != 0) {
        json_decref(by_node);
        json_decref(by_ip);
        json_decref(ids);
        return rc;
    }
    *out = json_pack("{s:o, s:o, s:o}", "by_node", by_node, "by_ip", by_ip, "ids", ids);
    return 0;
}

static int
links_in(struct store_conn *c, json_t **out)
{
    sqlite3_stmt *st = store_stmt(c, sql_links);
    if (!st)
        return HLC_EDB;
    json_t *arr = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, store_row_json(st, link_cols, NLINK));
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        return store_fail(c, "list tailscale links");
    }
    *out = arr;
    return 0;
}

int
hlc_store_ts_links(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = links_in(c, out);
    store_release(s, c);
    return rc;
}

static int
node_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct hlc_store_ts_node *)elem)->node_id);
}

static bool
same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int
hlc_store_ts_sync_apply(struct hlc_store *s, const struct hlc_store_ts_node *seen, size_t n,
                        int64_t now, json_t **changes)
{
    *changes = json_array();
    struct store_conn *c = store_acquire(s);
    json_t *links = NULL;
    int rc = store_begin(c);
    if (rc || (rc = links_in(c, &links)) != 0)
        goto out;
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        const char *node = json_string_value(json_object_get(l, "node_id"));
        const char *sid = json_string_value(json_object_get(l, "server_id"));
        bool was_left = same(json_string_value(json_object_get(l, "state")), "left");
        const struct hlc_store_ts_node *d = bsearch(node, seen, n, sizeof(*seen), node_cmp);
        sqlite3_stmt *st;
        const char *change = NULL;
        if (!d) {
            if (was_left)
                continue;
            if (!(st = store_stmt(c, sql_link_left))) {
                rc = HLC_EDB;
                goto out;
            }
            sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now);
            if ((rc = store_step_done(c, st, "mark tailscale node left")) != 0)
                goto out;
            change = "left";
        } else {
            bool moved = !same(d->tailscale_ip, json_string_value(json_object_get(l, "tailscale_ip"))) ||
                         !same(d->name, json_string_value(json_object_get(l, "name")));
            if (!(st = store_stmt(c, sql_link_refresh))) {
                rc = HLC_EDB;
                goto out;
            }
            sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
            bind_node(st, d);
            sqlite3_bind_int64(st, 10, now);
            if ((rc = store_step_done(c, st, "refresh tailscale node")) != 0)
                goto out;
            /* A device that lost every address or its name keeps the last ones. */
            if (moved && d->tailscale_ip && *d->tailscale_ip) {
                if (!(st = store_stmt(c, sql_server_follow))) {
                    rc = HLC_EDB;
                    goto out;
                }
                sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, d->tailscale_ip, -1, SQLITE_STATIC);
                bind_text_or_null(st, 3, d->name);
                sqlite3_bind_int64(st, 4, now);
                if ((rc = store_step_done(c, st, "follow tailscale address")) != 0)
                    goto out;
                change = "moved";
            }
            if (was_left)
                change = "returned";
        }
        if (change)
            json_array_append_new(*changes, json_pack("{s:s, s:s, s:s}", "server_id", sid,
                                                      "node_id", node, "change", change));
    }
    rc = store_commit(c);
out:
    json_decref(links);
    store_machines_release(s, c);
    if (rc != 0)
        json_array_clear(*changes);
    return rc;
}

int
hlc_store_ts_set_alerted(struct hlc_store *s, const char *node_id, int64_t expiry)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_alerted);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
        bind_time_or_null(st, 2, expiry);
        rc = store_step_done(c, st, "record tailscale expiry alert");
    }
    store_release(s, c);
    return rc;
}
