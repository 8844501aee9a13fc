/* store_machines.c - the fleet registry: machines and their expected services. */
#include "store_internal.h"

#include <string.h>

#include "hlc/base.h"

/* Columns an operator writes, in the order the statements below use. */
static const struct store_col writable[] = {
    {"display_name", COL_TEXT},       {"hostname", COL_TEXT},
    {"ip_address", COL_TEXT},         {"mac_address", COL_TEXT},
    {"tdp_watts", COL_INT},           {"location", COL_TEXT},
    {"machine_type", COL_TEXT},       {"connectivity", COL_TEXT},
    {"ssh_port", COL_INT},            {"ssh_user", COL_TEXT},
    {"tailscale_hostname", COL_TEXT}, {"tailscale_ip", COL_TEXT},
    {"poll_interval_seconds", COL_INT}, {"tags", COL_JSON},
};
#define NWRITABLE ((int)(sizeof(writable) / sizeof(writable[0])))

#define WRITABLE_NAMES                                                                             \
    "display_name, hostname, ip_address, mac_address, tdp_watts, location, machine_type,"         \
    " connectivity, ssh_port, ssh_user, tailscale_hostname, tailscale_ip,"                         \
    " poll_interval_seconds, tags"

/* Every column the API shows, in SELECT order. */
static const struct store_col shown[] = {
    {"server_id", COL_TEXT},          {"display_name", COL_TEXT},
    {"hostname", COL_TEXT},           {"ip_address", COL_TEXT},
    {"mac_address", COL_TEXT},        {"tdp_watts", COL_INT},
    {"location", COL_TEXT},           {"machine_type", COL_TEXT},
    {"connectivity", COL_TEXT},       {"ssh_port", COL_INT},
    {"ssh_user", COL_TEXT},           {"tailscale_hostname", COL_TEXT},
    {"tailscale_ip", COL_TEXT},       {"poll_interval_seconds", COL_INT},
    {"tags", COL_JSON},               {"os_distribution", COL_TEXT},
    {"os_version", COL_TEXT},         {"kernel", COL_TEXT},
    {"architecture", COL_TEXT},       {"registered_at", COL_TIME},
    {"updated_at", COL_TIME},         {"last_seen", COL_TIME},
    {"status", COL_TEXT},             {"last_error", COL_TEXT},
    {"sort_order", COL_INT},          {"host_key_fingerprint", COL_TEXT},
    {"host_key_changed", COL_BOOL},   {"agent_auth", COL_TEXT},
};
#define NSHOWN ((int)(sizeof(shown) / sizeof(shown[0])))

#define SHOWN_NAMES                                                                                \
    "server_id, " WRITABLE_NAMES ", os_distribution, os_version, kernel, architecture,"          \
    " registered_at, updated_at, last_seen, status, last_error, sort_order,"                       \
    " host_key_fingerprint, host_key_changed, agent_auth"

static const char sql_insert[] = "INSERT INTO servers(server_id, " WRITABLE_NAMES
                                 ", registered_at, updated_at)"
                                 " VALUES(?1, COALESCE(?2, ?1), ?3, ?4, ?5, COALESCE(?6, 50), ?7,"
                                 " COALESCE(?8, 'server'), COALESCE(?9, 'direct'),"
                                 " COALESCE(?10, 22), COALESCE(?11, 'homelabcmd'), ?12, ?13, ?14,"
                                 " COALESCE(?15, '[]'), ?16, ?17)";
static const char sql_get[] = "SELECT " SHOWN_NAMES " FROM servers WHERE server_id=?1";
static const char sql_list[] =
    "SELECT " SHOWN_NAMES " FROM servers ORDER BY sort_order IS NULL, sort_order, server_id";
static const char sql_update[] =
    "UPDATE servers SET display_name=?2, hostname=?3, ip_address=?4, mac_address=?5,"
    " tdp_watts=?6, location=?7, machine_type=?8, connectivity=?9, ssh_port=?10, ssh_user=?11,"
    " tailscale_hostname=?12, tailscale_ip=?13, poll_interval_seconds=?14, tags=?15,"
    " updated_at=?16 WHERE server_id=?1";
static const char sql_delete[] = "DELETE FROM servers WHERE server_id=?1";
static const char sql_svc_list[] =
    "SELECT service_name, critical, created_at FROM expected_services WHERE server_id=?1"
    " ORDER BY service_name";
static const char sql_svc_clear[] = "DELETE FROM expected_services WHERE server_id=?1";
static const char sql_svc_insert[] = "INSERT INTO expected_services(server_id, service_name,"
                                     " critical, created_at) VALUES(?1,?2,?3,?4)";
static const char sql_order[] = "UPDATE servers SET sort_order=?2 WHERE server_id=?1";

static const struct store_col svc_cols[] = {
    {"name", COL_TEXT}, {"critical", COL_BOOL}, {"created_at", COL_TIME}};

static int
services_insert(struct store_conn *c, const char *id, json_t *services)
{
    size_t i;
    json_t *svc;
    int64_t now = hlc_now();
    json_array_foreach(services, i, svc)
    {
        sqlite3_stmt *st = store_stmt(c, sql_svc_insert);
        if (!st)
            return HLC_EDB;
        json_t *crit = json_object_get(svc, "critical");
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(svc, "name")), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 3, crit ? json_is_true(crit) : 1);
        sqlite3_bind_int64(st, 4, now);
        int rc = sqlite3_step(st);
        int ext = rc == SQLITE_DONE ? 0 : sqlite3_extended_errcode(c->db);
        sqlite3_reset(st);
        if (ext == SQLITE_CONSTRAINT_UNIQUE)
            return HLC_EEXISTS;
        if (rc != SQLITE_DONE)
            return store_fail(c, "insert expected service");
    }
    return 0;
}

static int
services_json(struct store_conn *c, const char *id, json_t **out)
{
    sqlite3_stmt *st = store_stmt(c, sql_svc_list);
    if (!st)
        return HLC_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, store_row_json(st, svc_cols, 3));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return store_fail(c, "list expected services");
    }
    *out = arr;
    return 0;
}

static bool
exists(struct store_conn *c, const char *id, int *err)
{
    sqlite3_stmt *st = store_stmt(c, sql_get);
    if (!st) {
        *err = HLC_EDB;
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    *err = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : store_fail(c, "lookup machine");
    return rc == SQLITE_ROW;
}

/* Ends a call that may have written machines' rows: the generation moves
 * after the commit, so a reader that saw the old one reads again. */
static void
machines_release(struct hlc_store *s, struct store_conn *c)
{
    store_release(s, c);
    atomic_fetch_add(&s->machines_generation, 1);
}

int
store_machine_insert_in(struct store_conn *c, json_t *m)
{
    const char *id = json_string_value(json_object_get(m, "server_id"));
    if (!id)
        return HLC_EINVAL;
    sqlite3_stmt *st = store_stmt(c, sql_insert);
    if (!st)
        return HLC_EDB;
    int64_t now = hlc_now();
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = store_bind_json(st, 2, m, writable, NWRITABLE);
    if (rc != 0) {
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_bind_int64(st, 2 + NWRITABLE, now);
    sqlite3_bind_int64(st, 3 + NWRITABLE, now);
    int step = sqlite3_step(st);
    int ext = step == SQLITE_DONE ? 0 : sqlite3_extended_errcode(c->db);
    sqlite3_reset(st);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return HLC_EEXISTS;
    if (step != SQLITE_DONE)
        return store_fail(c, "insert machine");
    json_t *svcs = json_object_get(m, "expected_services");
    if (json_is_array(svcs) && (rc = services_insert(c, id, svcs)) != 0)
        return rc;
    return 0;
}

int
hlc_store_machine_insert(struct hlc_store *s, json_t *m)
{
    if (!json_is_string(json_object_get(m, "server_id")))
        return HLC_EINVAL;
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc == 0 && (rc = store_machine_insert_in(c, m)) == 0)
        rc = store_commit(c);
    machines_release(s, c); /* rolls back anything left open */
    return rc;
}

/* Ends a call that may have written machines' rows (store_tailscale.c). */
void
store_machines_release(struct hlc_store *s, struct store_conn *c)
{
    machines_release(s, c);
}

int
hlc_store_machine_get(struct hlc_store *s, const char *id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_get);
    int rc = 0;
    json_t *m = NULL, *svcs = NULL;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        m = store_row_json(st, shown, NSHOWN);
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = HLC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = store_fail(c, "get machine");
        goto out;
    }
    if ((rc = services_json(c, id, &svcs)) != 0)
        goto out;
    json_object_set_new(m, "expected_services", svcs);
    *out = m;
    m = NULL;
out:
    json_decref(m);
    store_release(s, c);
    return rc;
}

int
hlc_store_machine_list(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_list);
    int rc = 0, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    json_t *arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, store_row_json(st, shown, NSHOWN));
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        rc = store_fail(c, "list machines");
        goto out;
    }
    *out = arr;
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_machine_update(struct hlc_store *s, const char *id, json_t *patch)
{
    struct store_conn *c = store_acquire(s);
    json_t *cur = NULL;
    int rc = store_begin(c);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(c, sql_get);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        cur = store_row_json(st, shown, NSHOWN);
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = HLC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = store_fail(c, "read machine");
        goto out;
    }
    for (int i = 0; i < NWRITABLE; i++) {
        json_t *v = json_object_get(patch, writable[i].name);
        if (v)
            json_object_set(cur, writable[i].name, v);
    }
    st = store_stmt(c, sql_update);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = store_bind_json(st, 2, cur, writable, NWRITABLE)) != 0) {
        sqlite3_reset(st);
        goto out;
    }
    sqlite3_bind_int64(st, 2 + NWRITABLE, hlc_now());
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "update machine");
        goto out;
    }
    json_t *svcs = json_object_get(patch, "expected_services");
    if (json_is_array(svcs)) {
        st = store_stmt(c, sql_svc_clear);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) {
            rc = store_fail(c, "clear expected services");
            goto out;
        }
        if ((rc = services_insert(c, id, svcs)) != 0)
            goto out;
    }
    rc = store_commit(c);
out:
    json_decref(cur);
    machines_release(s, c);
    return rc;
}

int
hlc_store_machine_delete(struct hlc_store *s, const char *id)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_delete);
    int rc = 0;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = store_fail(c, "delete machine");
    else if (sqlite3_changes(c->db) == 0)
        rc = HLC_ENOTFOUND;
out:
    machines_release(s, c);
    return rc;
}

int
hlc_store_services_get(struct hlc_store *s, const char *id, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    int rc = 0;
    if (!exists(c, id, &rc)) {
        if (rc == 0)
            rc = HLC_ENOTFOUND;
        goto out;
    }
    rc = services_json(c, id, out);
out:
    store_release(s, c);
    return rc;
}

static const char sql_svc_names[] =
    "SELECT e.service_name FROM servers m LEFT JOIN expected_services e"
    " ON e.server_id = m.server_id WHERE m.server_id=?1 ORDER BY e.service_name";

int
hlc_store_service_names(struct hlc_store *s, const char *id, size_t max, char ***names,
                        size_t *n)
{
    *names = NULL;
    *n = 0;
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_svc_names);
    int rc = HLC_ENOTFOUND, step;
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    *names = hlc_xcalloc(max ? max : 1, sizeof(char *));
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = 0; /* the machine exists; a NULL name means it expects none */
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (name && *n < max)
            (*names)[(*n)++] = hlc_xstrdup((const char *)name);
    }
    if (step != SQLITE_DONE)
        rc = store_fail(c, "list expected service names");
    sqlite3_reset(st);
out:
    store_release(s, c);
    return rc;
}

int
hlc_store_services_set(struct hlc_store *s, const char *id, json_t *services)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    if (!exists(c, id, &rc)) {
        if (rc == 0)
            rc = HLC_ENOTFOUND;
        goto out;
    }
    sqlite3_stmt *st = store_stmt(c, sql_svc_clear);
    if (!st) {
        rc = HLC_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(c, "clear expected services");
        goto out;
    }
    if ((rc = services_insert(c, id, services)) != 0)
        goto out;
    rc = store_commit(c);
out:
    machines_release(s, c);
    return rc;
}

int
hlc_store_machine_order_set(struct hlc_store *s, json_t *ids)
{
    struct store_conn *c = store_acquire(s);
    int rc = store_begin(c);
    if (rc)
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        sqlite3_stmt *st = store_stmt(c, sql_order);
        if (!st) {
            rc = HLC_EDB;
            goto out;
        }
        sqlite3_bind_text(st, 1, json_string_value(v), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) {
            rc = store_fail(c, "save card order");
            goto out;
        }
        if (sqlite3_changes(c->db) == 0) {
            rc = HLC_ENOTFOUND;
            goto out;
        }
    }
    rc = store_commit(c);
out:
    store_release(s, c);
    return rc;
}
