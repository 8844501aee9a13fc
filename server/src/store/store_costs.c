/* store_costs.c - what cost estimates need from the store: each machine's
 * power rating and the hours it was actually up, from the hourly rollups. */
#include "hlc/base.h"
#include "store_internal.h"

/* Up-time of one hour = samples in it x the machine's sampling interval,
 * capped at the hour; the interval is ?3 for workstations (the agent's
 * heartbeat) and the machine's poll interval (default ?4) otherwise. */
#define UP_HOURS(from)                                                                        \
    "(SELECT coalesce(sum(min(1.0, max(h.mem_n, h.load_n, h.disk_n) * CASE WHEN"             \
    " s.machine_type='workstation' THEN ?3 ELSE coalesce(s.poll_interval_seconds, ?4) END"   \
    " / 3600.0)), 0) FROM metrics_hourly h WHERE h.server_id=s.server_id AND h.hour >= " from \
    ")"
/* The 30-day window is read only for workstations (a server's day is 24 h),
 * so servers skip that scan: CASE evaluates its subquery only when taken. */
static const char sql_costs_usage[] =
    "SELECT s.server_id, s.display_name, s.hostname, s.machine_type, s.tdp_watts,"
    " s.registered_at, CASE WHEN s.machine_type='workstation' THEN " UP_HOURS("?1") " END, "
    UP_HOURS("?2") " FROM servers s"
    " ORDER BY s.sort_order IS NULL, s.sort_order, s.server_id";
static const struct store_col usage_cols[] = {
    {"server_id", COL_TEXT},     {"display_name", COL_TEXT}, {"hostname", COL_TEXT},
    {"machine_type", COL_TEXT},  {"tdp_watts", COL_INT},     {"registered_at", COL_INT},
    {"up_hours_window", COL_REAL}, {"up_hours_month", COL_REAL},
};

int
hlc_store_costs_usage(struct hlc_store *s, int64_t window_from, int64_t month_from,
                      int agent_interval_s, int poll_interval_s, json_t **out)
{
    struct store_conn *c = store_acquire(s);
    sqlite3_stmt *st = store_stmt(c, sql_costs_usage);
    int rc = HLC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, window_from);
        sqlite3_bind_int64(st, 2, month_from);
        sqlite3_bind_int(st, 3, agent_interval_s);
        sqlite3_bind_int(st, 4, poll_interval_s);
        json_t *arr = json_array();
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(arr, store_row_json(st, usage_cols, 8));
        sqlite3_reset(st);
        if (step == SQLITE_DONE) {
            *out = arr;
            rc = 0;
        } else {
            json_decref(arr);
            rc = store_fail(c, "costs usage");
        }
    }
    store_release(s, c);
    return rc;
}
