/* costs.h - pure electricity cost arithmetic (no I/O, no SQL). Thread-safe.
 *
 * Convention (matches the PRD wireframe: 65 W at 0.24/kWh shows 0.37/day,
 * 11.23/month, 134.78/year):
 *   daily   = watts x hours_per_day / 1000 x rate      (a server: 24 h/day)
 *   monthly = daily x 30                               (a "month" is 30 days)
 *   yearly  = monthly x 12                             (a "year" is 360 days)
 * Figures are computed unrounded and rounded to 2 decimals only for display
 * (hlc_costs_round2), so fleet totals are the rounded sum of exact values.
 * Month-to-date is the energy of the machine's actual up-time this month. */
#ifndef HLC_COSTS_H
#define HLC_COSTS_H

#define HLC_COSTS_DAYS_PER_MONTH 30.0
#define HLC_COSTS_MONTHS_PER_YEAR 12.0

struct hlc_costs_figures {
    double daily;
    double monthly;
    double yearly;
};

/* Cost of running `watts` for `hours` at `rate` per kWh. Negative or
 * non-finite inputs count as 0. */
double hlc_costs_energy(double watts, double hours, double rate);

/* Daily/monthly/yearly figures for a machine drawing `watts` for
 * `hours_per_day` (24 for a server; a workstation's measured average). */
struct hlc_costs_figures hlc_costs_project(double watts, double hours_per_day, double rate);

/* Round half away from zero to 2 decimals, for the API. */
double hlc_costs_round2(double v);

#endif
