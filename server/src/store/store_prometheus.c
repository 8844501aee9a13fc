/* store_prometheus.c - everything one /metrics scrape reads, in a few
 * queries over the latest rows (never the history). */
#include "store_internal.h"

#include <string.h>

#include "hlc/base.h"

static const char sql_prom_machines[] =
    "SELECT s.server_id, s.machine_type, s.status, s.last_seen, l.boot_time, l.body"
    " FROM servers s LEFT JOIN metrics_latest l ON l.server_id=s.server_id"
    " ORDER BY s.server_id";
static const struct store_col prom_machine_cols[] = {
    {"server_id", COL_TEXT}, {"machine_type", COL_TEXT}, {"status", COL_TEXT},
    {"last_seen", COL_INT},  {"boot_time", COL_INT},     {"latest", COL_JSON},
};

/* Expected services only: a unit reported but not expected is no one's
 * concern on a dashboard of states. */
static const char sql_prom_services[] =
    "SELECT e.server_id, e.service_name, e.critical, COALESCE(l.status, 'unknown')"
    " FROM expected_services e LEFT JOIN service_latest l"
    "  ON l.server_id=e.server_id AND l.service_name=e.service_name"
    " ORDER BY e.server_id, e.service_name";
static const struct store_col prom_service_cols[] = {
    {"server_id", COL_TEXT}, {"service", COL_TEXT}, {"critical", COL_BOOL}, {"status", COL_TEXT},
};

static const char sql_prom_containers[] =
    "SELECT server_id, name, COALESCE(state, 'unknown') FROM container_latest"
    " ORDER BY server_id, name";
static const struct store_col prom_container_cols[] = {
    {"server_id", COL_TEXT}, {"name", COL_TEXT}, {"state", COL_TEXT},
};

static const char sql_prom_alerts[] =
    "SELECT severity, count(*) FROM alerts WHERE status!='resolved' GROUP BY severity";
static const struct store_col prom_alert_cols[] = {
    {"severity", COL_TEXT}, {"count", COL_INT},
};

/* Every row of `sql` as a new array under `key` of out. */
static int
rows_into(struct store_conn *c, const char *sql, const struct store_col *cols, int ncols,
          json_t *out, const char *key)
{
    sqlite3_stmt *st = store_stmt(c, sql);
    json_t *arr = NULL;
    int rc = st ? store_collect_rows(c, st, cols, ncols, &arr, key) : HLC_EDB;
    if (rc == 0)
        json_object_set_new(out, key, arr);
    return rc;
}

int
hlc_store_prom_snapshot(struct hlc_store *s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    json_t *o = json_object();
    int rc = 0;
    /* One read transaction: every family describes the same moment. */
    if ((rc = store_exec(c, "BEGIN")) != 0)
        goto out;
    if ((rc = rows_into(c, sql_prom_machines, prom_machine_cols, 6, o, "machines")) == 0 &&
        (rc = rows_into(c, sql_prom_services, prom_service_cols, 4, o, "services")) == 0 &&
        (rc = rows_into(c, sql_prom_containers, prom_container_cols, 3, o, "containers")) == 0)
        rc = rows_into(c, sql_prom_alerts, prom_alert_cols, 2, o, "alerts");
    store_rollback(c);
out:
    store_release(s, c);
    if (rc != 0) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}
