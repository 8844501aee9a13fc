/* test_costs.c - cost arithmetic against hand-computed values, including the
 * PRD wireframe (65 W at 0.24/kWh: 0.37/day, 11.23/month, 134.78/year). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "costs.h"

#define assert_close(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void
test_wireframe(void **state)
{
    (void)state;
    struct hlc_costs_figures f = hlc_costs_project(65.0, 24.0, 0.24);
    /* 65 W x 24 h = 1.56 kWh; x 0.24 = 0.3744 */
    assert_close(f.daily, 0.3744);
    assert_close(f.monthly, 11.232);
    assert_close(f.yearly, 134.784);
    assert_close(hlc_costs_round2(f.daily), 0.37);
    assert_close(hlc_costs_round2(f.monthly), 11.23);
    assert_close(hlc_costs_round2(f.yearly), 134.78);
}

static void
test_workstation_hours(void **state)
{
    (void)state;
    /* 120 W for 8 h/day at 0.30: 0.96 kWh -> 0.288/day, 8.64/month, 103.68/year */
    struct hlc_costs_figures f = hlc_costs_project(120.0, 8.0, 0.30);
    assert_close(f.daily, 0.288);
    assert_close(f.monthly, 8.64);
    assert_close(f.yearly, 103.68);
    /* more than 24 h a day is clamped to 24 */
    f = hlc_costs_project(100.0, 30.0, 1.0);
    assert_close(f.daily, 2.4);
}

static void
test_energy_and_bad_inputs(void **state)
{
    (void)state;
    /* month-to-date: 200 W up 36.5 h at 0.24 -> 7.3 kWh -> 1.752 */
    assert_close(hlc_costs_energy(200.0, 36.5, 0.24), 1.752);
    assert_close(hlc_costs_energy(-5.0, 10.0, 0.24), 0.0);
    assert_close(hlc_costs_energy(50.0, NAN, 0.24), 0.0);
    assert_close(hlc_costs_energy(50.0, 10.0, INFINITY), 0.0);
    struct hlc_costs_figures f = hlc_costs_project(0.0, 24.0, 0.24);
    assert_close(f.yearly, 0.0);
}

static void
test_round2(void **state)
{
    (void)state;
    assert_close(hlc_costs_round2(0.125), 0.13);
    assert_close(hlc_costs_round2(2.004), 2.0);
    assert_close(hlc_costs_round2(-1.005 - 1e-9), -1.01);
    assert_close(hlc_costs_round2(NAN), 0.0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wireframe),
        cmocka_unit_test(test_workstation_hours),
        cmocka_unit_test(test_energy_and_bad_inputs),
        cmocka_unit_test(test_round2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
