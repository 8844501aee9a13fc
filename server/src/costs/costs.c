/* costs.c - pure electricity cost arithmetic; see costs.h for the convention. */
#include "costs.h"

#include <math.h>

static double
clean(double v)
{
    return (isfinite(v) && v > 0.0) ? v : 0.0;
}

double
hlc_costs_energy(double watts, double hours, double rate)
{
    return clean(watts) * clean(hours) / 1000.0 * clean(rate);
}

struct hlc_costs_figures
hlc_costs_project(double watts, double hours_per_day, double rate)
{
    struct hlc_costs_figures f;
    double h = clean(hours_per_day);

    if (h > 24.0)
        h = 24.0;
    f.daily = hlc_costs_energy(watts, h, rate);
    f.monthly = f.daily * HLC_COSTS_DAYS_PER_MONTH;
    f.yearly = f.monthly * HLC_COSTS_MONTHS_PER_YEAR;
    return f;
}

double
hlc_costs_round2(double v)
{
    if (!isfinite(v))
        return 0.0;
    return round(v * 100.0) / 100.0;
}
