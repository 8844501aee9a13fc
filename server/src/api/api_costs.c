/* api_costs.c - /api/v1/costs: electricity cost per machine and for the
 * fleet. Servers run 24 h a day; a workstation's day is its measured
 * average up-time over the last 30 days (since it was registered, if
 * later). Month-to-date is the energy of every machine's measured up-time
 * since the 1st of this month (UTC). Convention in costs.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "costs.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define WINDOW_DAYS 30

/* The first second of the current month, UTC. */
static int64_t
month_start(int64_t now)
{
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int64_t)timegm(&tm);
}

/* One machine's figures (new object) from its usage row; adds to the fleet sums. */
static json_t *
machine_costs(json_t *u, double rate, int64_t now, double sums[5])
{
    const char *type = json_string_value(json_object_get(u, "machine_type"));
    double watts = (double)json_integer_value(json_object_get(u, "tdp_watts"));
    bool ws = type && strcmp(type, "workstation") == 0;
    double hours_per_day = 24.0;
    if (ws) {
        int64_t from = now - WINDOW_DAYS * 86400LL;
        int64_t reg = json_integer_value(json_object_get(u, "registered_at"));
        double days = (double)(now - (reg > from ? reg : from)) / 86400.0;
        if (days < 1.0)
            days = 1.0;
        hours_per_day = json_number_value(json_object_get(u, "up_hours_window")) / days;
    }
    double up_month = json_number_value(json_object_get(u, "up_hours_month"));
    struct hlc_costs_figures f = hlc_costs_project(watts, hours_per_day, rate);
    double mtd = hlc_costs_energy(watts, up_month, rate);
    sums[0] += f.daily;
    sums[1] += f.monthly;
    sums[2] += f.yearly;
    sums[3] += mtd;
    sums[4] += watts;
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:f, s:s, s:f, s:f, s:f, s:f, s:f}", "server_id",
                     json_object_get(u, "server_id"), "hostname", json_object_get(u, "hostname"),
                     "display_name", json_object_get(u, "display_name"), "machine_type",
                     json_object_get(u, "machine_type"), "tdp_watts",
                     json_object_get(u, "tdp_watts"), "hours_per_day",
                     hlc_costs_round2(hours_per_day > 24 ? 24 : hours_per_day), "basis",
                     ws ? "measured up-time (last 30 days)" : "always on (24 h/day)", "daily",
                     hlc_costs_round2(f.daily), "monthly", hlc_costs_round2(f.monthly), "yearly",
                     hlc_costs_round2(f.yearly), "month_to_date", hlc_costs_round2(mtd),
                     "up_hours_month", hlc_costs_round2(up_month));
}

/* The whole cost report (new object), or NULL with *rc. */
static json_t *
report(struct hlc_hub *hub, int *rc)
{
    json_t *cfg = NULL, *usage = NULL;
    if ((*rc = hlc_config_section(hub->store, "costs", &cfg)) != 0)
        return NULL;
    double rate = json_number_value(json_object_get(cfg, "electricity_rate_kwh"));
    int agent_iv = (int)hlc_config_number(hub->store, "agent", "heartbeat_interval_seconds", 60);
    int poll_iv = (int)hlc_config_number(hub->store, "polling", "poll_interval_seconds", 60);
    int64_t now = hlc_now();
    if ((*rc = hlc_store_costs_usage(hub->store, now - WINDOW_DAYS * 86400LL, month_start(now),
                                     agent_iv, poll_iv, &usage)) != 0) {
        json_decref(cfg);
        return NULL;
    }
    double sums[5] = {0, 0, 0, 0, 0};
    json_t *servers = json_array(), *u;
    size_t i;
    json_array_foreach(usage, i, u)
    {
        json_array_append_new(servers, machine_costs(u, rate, now, sums));
    }
    json_t *out = json_pack(
        "{s:O, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:o, s:{s:f, s:f, s:s}}", "currency",
        json_object_get(cfg, "currency"), "electricity_rate_kwh", rate, "fleet", "daily",
        hlc_costs_round2(sums[0]), "monthly", hlc_costs_round2(sums[1]), "yearly",
        hlc_costs_round2(sums[2]), "month_to_date", hlc_costs_round2(sums[3]), "watts", sums[4],
        "servers", servers, "convention", "days_per_month", HLC_COSTS_DAYS_PER_MONTH,
        "months_per_year", HLC_COSTS_MONTHS_PER_YEAR, "note",
        "daily = watts x hours/day / 1000 x rate; a month is 30 days, a year 12 months");
    json_decref(cfg);
    json_decref(usage);
    return out;
}

int
hlc_api_costs_get(struct hlc_req *r)
{
    int rc;
    json_t *o = report(r->hub, &rc);
    if (!o)
        return hlc_reply_err(r, rc, "computing costs");
    return hlc_reply_json(r, 200, o);
}

int
hlc_api_costs_server(struct hlc_req *r)
{
    int rc;
    json_t *o = report(r->hub, &rc);
    if (!o)
        return hlc_reply_err(r, rc, "computing costs");
    json_t *found = NULL, *m;
    size_t i;
    json_array_foreach(json_object_get(o, "servers"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "server_id")), r->params[0]) == 0)
            found = m;
    }
    if (!found) {
        json_decref(o);
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such machine", NULL);
    }
    json_t *one = json_deep_copy(found);
    json_object_set(one, "currency", json_object_get(o, "currency"));
    json_object_set(one, "electricity_rate_kwh", json_object_get(o, "electricity_rate_kwh"));
    json_decref(o);
    return hlc_reply_json(r, 200, one);
}

int
hlc_api_costs_config_put(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const allowed[] = {"electricity_rate_kwh", "currency", "tdp_watts", NULL};
    struct hlc_verr e;
    json_t *tdp = json_object_get(body, "tdp_watts");
    bool ok = hlc_v_known_keys(body, allowed, &e);
    if (ok && tdp && (!json_is_object(tdp) || json_object_size(tdp) > 1000))
        ok = hlc_v_fail(&e, "tdp_watts",
                        "tdp_watts must be an object {\"server_id\": watts} (at most 1000)");
    const char *id;
    json_t *w;
    if (ok)
        json_object_foreach(tdp, id, w)
        {
            char field[96];
            snprintf(field, sizeof(field), "tdp_watts.%.63s", id);
            json_t *m = NULL;
            if (!hlc_valid_slug(id) || hlc_store_machine_get(r->hub->store, id, &m) != 0) {
                ok = hlc_v_fail(&e, field, "no machine has that server_id");
            } else if (!json_is_integer(w) || json_integer_value(w) < 0 ||
                       json_integer_value(w) > 10000) {
                ok = hlc_v_fail(&e, field, "watts must be an integer 0-10000");
            }
            json_decref(m);
            if (!ok) {
                hlc_v_set_field(&e, field);
                break;
            }
        }
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    /* Rate and currency go through the config section's own checks. */
    json_t *section = json_object();
    if (json_object_get(body, "electricity_rate_kwh"))
        json_object_set(section, "electricity_rate_kwh",
                        json_object_get(body, "electricity_rate_kwh"));
    if (json_object_get(body, "currency"))
        json_object_set(section, "currency", json_object_get(body, "currency"));
    int rc = 0;
    if (json_object_size(section)) {
        json_t *patch = json_pack("{s:o}", "costs", section);
        ok = hlc_config_update(r->hub->store, patch, &e, &rc);
        json_decref(patch);
    } else {
        json_decref(section);
    }
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    json_object_foreach(tdp, id, w)
    {
        if (rc)
            break;
        json_t *patch = json_pack("{s:O}", "tdp_watts", w);
        rc = hlc_store_machine_update(r->hub->store, id, patch);
        json_decref(patch);
    }
    json_decref(body);
    if (rc)
        return hlc_reply_err(r, rc, "saving cost settings");
    return hlc_api_costs_get(r);
}
