/* test_store.c - the SQLite store: migrations, machines, services, config, concurrency. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"
#include "hlc/base.h"
#include "store.h"
#include "store_internal.h"
#include "validate.h"

struct fx {
    char dir[64];
    char path[128];
    struct hlc_store *s;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hlc-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (hlc_store_open(&f->s, f->path, 4) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    hlc_store_free(f->s);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static json_t *
machine(const char *id)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:[], s:[{s:s, s:b}, {s:s, s:b}]}",
                     "server_id", id, "display_name", id, "hostname", "h.lan", "tdp_watts", 65,
                     "machine_type", "server", "connectivity", "direct", "ssh_port", 22,
                     "ssh_user", "homelabcmd", "tags", "expected_services", "name", "plex",
                     "critical", 1, "name", "smbd", "critical", 0);
}

static void
test_schema(void **state)
{
    struct fx *f = *state;
    assert_int_equal(hlc_store_schema_version(f->s), hlc_store_latest_version());
    assert_true(hlc_store_latest_version() >= 1);
    assert_true(hlc_store_ping(f->s));
    /* Reopening an up-to-date database changes nothing. */
    struct hlc_store *again = NULL;
    assert_int_equal(hlc_store_open(&again, f->path, 1), 0);
    assert_int_equal(hlc_store_schema_version(again), hlc_store_latest_version());
    hlc_store_free(again);
}

static void
test_machine_crud(void **state)
{
    struct fx *f = *state;
    json_t *m = machine("nas"), *got = NULL, *list = NULL;
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    assert_int_equal(hlc_store_machine_insert(f->s, m), HLC_EEXISTS);
    assert_int_equal(hlc_store_machine_get(f->s, "nas", &got), 0);
    assert_int_equal(json_integer_value(json_object_get(got, "tdp_watts")), 65);
    assert_string_equal(json_string_value(json_object_get(got, "status")), "unknown");
    assert_int_equal(json_array_size(json_object_get(got, "expected_services")), 2);
    json_decref(got);

    json_t *patch = json_pack("{s:i, s:n}", "tdp_watts", 80, "location");
    assert_int_equal(hlc_store_machine_update(f->s, "nas", patch), 0);
    assert_int_equal(hlc_store_machine_update(f->s, "ghost", patch), HLC_ENOTFOUND);
    json_decref(patch);
    assert_int_equal(hlc_store_machine_get(f->s, "nas", &got), 0);
    assert_int_equal(json_integer_value(json_object_get(got, "tdp_watts")), 80);
    assert_string_equal(json_string_value(json_object_get(got, "hostname")), "h.lan");
    json_decref(got);

    assert_int_equal(hlc_store_machine_list(f->s, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);

    assert_int_equal(hlc_store_machine_delete(f->s, "nas"), 0);
    assert_int_equal(hlc_store_machine_delete(f->s, "nas"), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_machine_get(f->s, "nas", &got), HLC_ENOTFOUND);
    json_t *svcs = NULL;
    assert_int_equal(hlc_store_services_get(f->s, "nas", &svcs), HLC_ENOTFOUND);
    json_decref(m);
}

static void
test_insert_is_atomic(void **state)
{
    struct fx *f = *state;
    /* A duplicate service name fails the whole insert: no machine left behind. */
    json_t *m = json_pack("{s:s, s:s, s:s, s:[{s:s}, {s:s}]}", "server_id", "dup", "display_name",
                          "d", "hostname", "h", "expected_services", "name", "a", "name", "a");
    assert_int_equal(hlc_store_machine_insert(f->s, m), HLC_EEXISTS);
    json_t *got = NULL;
    assert_int_equal(hlc_store_machine_get(f->s, "dup", &got), HLC_ENOTFOUND);
    json_decref(m);
}

static void
test_services_replace(void **state)
{
    struct fx *f = *state;
    json_t *m = machine("pi");
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    json_t *svcs = json_pack("[{s:s, s:b}]", "name", "pihole-FTL", "critical", 1);
    assert_int_equal(hlc_store_services_set(f->s, "pi", svcs), 0);
    json_t *got = NULL;
    assert_int_equal(hlc_store_services_get(f->s, "pi", &got), 0);
    assert_int_equal(json_array_size(got), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "name")),
                        "pihole-FTL");
    json_decref(got);
    assert_int_equal(hlc_store_services_set(f->s, "nobody", svcs), HLC_ENOTFOUND);
    json_decref(svcs);
    json_decref(m);
}

static void
test_config(void **state)
{
    struct fx *f = *state;
    json_t *t = NULL;
    assert_int_equal(hlc_config_section(f->s, "thresholds", &t), 0);
    assert_true(json_number_value(json_object_get(t, "disk_warning_percent")) == 80.0);
    json_decref(t);
    assert_int_equal(hlc_config_section(f->s, "nope", &t), HLC_ENOTFOUND);
    assert_true(hlc_config_number(f->s, "costs", "electricity_rate_kwh", -1) == 0.24);

    struct hlc_verr e;
    int rc;
    json_t *bad = json_pack("{s:{s:f}, s:{s:i}}", "costs", "electricity_rate_kwh", 0.5,
                            "thresholds", "disk_warning_percent", 99);
    assert_false(hlc_config_update(f->s, bad, &e, &rc));
    assert_string_equal(e.field, "thresholds.disk_warning_percent");
    json_decref(bad);
    /* Nothing of the rejected patch was written. */
    assert_true(hlc_config_number(f->s, "costs", "electricity_rate_kwh", -1) == 0.24);

    json_t *good = json_pack("{s:{s:f, s:s}}", "costs", "electricity_rate_kwh", 0.31, "currency",
                             "EUR");
    assert_true(hlc_config_update(f->s, good, &e, &rc));
    assert_int_equal(rc, 0);
    json_decref(good);
    assert_true(hlc_config_number(f->s, "costs", "electricity_rate_kwh", -1) == 0.31);

    /* Reads are kept between writes: what a caller does to its copy stays
     * its own, and every write is seen by the next read. */
    assert_int_equal(hlc_config_section(f->s, "costs", &t), 0);
    json_object_set_new(t, "electricity_rate_kwh", json_real(9.0));
    json_object_set_new(t, "currency", json_string("USD"));
    json_decref(t);
    assert_int_equal(hlc_config_section(f->s, "costs", &t), 0);
    assert_true(json_number_value(json_object_get(t, "electricity_rate_kwh")) == 0.31);
    assert_string_equal(json_string_value(json_object_get(t, "currency")), "EUR");
    json_decref(t);
    assert_int_equal(hlc_store_config_get(f->s, "unset", &t), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_config_get(f->s, "unset", &t), HLC_ENOTFOUND);
    json_t *v = json_pack("{s:i}", "n", 1);
    assert_int_equal(hlc_store_config_set(f->s, "unset", v), 0);
    json_decref(v);
    assert_int_equal(hlc_store_config_get(f->s, "unset", &t), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "n")), 1);
    json_object_set_new(t, "n", json_integer(7));
    json_decref(t);
    v = json_pack("{s:i}", "n", 2);
    assert_int_equal(hlc_store_config_set(f->s, "unset", v), 0);
    json_decref(v);
    assert_int_equal(hlc_store_config_get(f->s, "unset", &t), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "n")), 2);
    json_decref(t);
    assert_true(hlc_config_number(f->s, "polling", "ssh_timeout_seconds", -1) == 10);
}

struct worker_arg {
    struct hlc_store *s;
    int base;
};

static void *
worker(void *p)
{
    struct worker_arg *a = p;
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof(id), "w%d-%d", a->base, i);
        json_t *m = machine(id);
        if (hlc_store_machine_insert(a->s, m) != 0)
            return (void *)1;
        json_decref(m);
        json_t *list = NULL;
        if (hlc_store_machine_list(a->s, &list) != 0)
            return (void *)1;
        json_decref(list);
    }
    return NULL;
}

static void
test_concurrent_writers(void **state)
{
    struct fx *f = *state;
    pthread_t th[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){f->s, i};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    json_t *list = NULL;
    assert_int_equal(hlc_store_machine_list(f->s, &list), 0);
    assert_int_equal(json_array_size(list), 200);
    json_decref(list);
}

static void
test_patterns(void **state)
{
    (void)state;
    assert_true(hlc_valid_slug("omv-nas-1"));
    assert_true(hlc_valid_slug("0pi"));
    assert_false(hlc_valid_slug("-a"));
    assert_false(hlc_valid_slug("A"));
    assert_false(hlc_valid_slug("a_b"));
    assert_false(hlc_valid_slug(""));
    assert_true(hlc_valid_hostname("nas.home.lan"));
    assert_true(hlc_valid_hostname("192.168.1.4"));
    assert_true(hlc_valid_hostname("fe80::1"));
    assert_false(hlc_valid_hostname("bad host"));
    assert_false(hlc_valid_hostname("-x.lan"));
    assert_false(hlc_valid_hostname("a..b"));
    assert_true(hlc_valid_mac("AA:bb:cc:dd:ee:ff"));
    assert_false(hlc_valid_mac("AA:bb:cc:dd:ee"));
    assert_true(hlc_valid_ssh_user("homelabcmd"));
    assert_false(hlc_valid_ssh_user("Root"));
    assert_false(hlc_valid_ssh_user("a b"));
}

/* Which key and user a machine logs in with: its own key, else the
 * fleet-wide one, else the identity; the key's user, else the machine's. */
static void
test_machine_credential(void **state)
{
    struct fx *f = *state;
    json_t *m = machine("nas");
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    json_decref(m);
    m = machine("pi");
    json_object_set_new(m, "ssh_user", json_string("pi"));
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    json_decref(m);
    char *sealed = NULL, *user = NULL;
    /* nothing sealed yet */
    assert_int_equal(hlc_store_cred_for_machine(f->s, "nas", &sealed, &user), HLC_ENOTFOUND);
    struct hlc_cred_row ident = {"i1", "ssh_private_key", NULL, NULL, "pub", true, "S-ident", "k"};
    assert_int_equal(hlc_store_cred_insert(f->s, &ident, false), 0);
    struct {
        const char *server, *want_sealed, *want_user;
    } cases[3][2] = {
        {{"nas", "S-ident", "homelabcmd"}, {"pi", "S-ident", "pi"}},
        {{"nas", "S-fleet", "admin"}, {"pi", "S-fleet", "admin"}},
        {{"nas", "S-nas", "homelabcmd"}, {"pi", "S-fleet", "admin"}},
    };
    struct hlc_cred_row fleet = {"g1",  "ssh_private_key", NULL, "admin", NULL,
                                 false, "S-fleet",         "k"};
    struct hlc_cred_row own = {"n1", "ssh_private_key", "nas", NULL, NULL, false, "S-nas", "k"};
    struct hlc_cred_row other = {"t1", "tailscale_api_key", "nas", NULL, NULL, false, "S-ts", "k"};
    for (int step = 0; step < 3; step++) {
        if (step == 1) {
            assert_int_equal(hlc_store_cred_insert(f->s, &fleet, false), 0);
            assert_int_equal(hlc_store_cred_insert(f->s, &other, false), 0);
        }
        if (step == 2)
            assert_int_equal(hlc_store_cred_insert(f->s, &own, false), 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(
                hlc_store_cred_for_machine(f->s, cases[step][i].server, &sealed, &user), 0);
            assert_string_equal(sealed, cases[step][i].want_sealed);
            assert_string_equal(user, cases[step][i].want_user);
            free(sealed);
            free(user);
            /* the user alone, without the key */
            assert_int_equal(hlc_store_cred_for_machine(f->s, cases[step][i].server, NULL, &user),
                             0);
            assert_string_equal(user, cases[step][i].want_user);
            free(user);
        }
    }
    assert_int_equal(hlc_store_cred_for_machine(f->s, "ghost", &sealed, &user), HLC_ENOTFOUND);
    assert_null(sealed);
    assert_null(user);
}

/* The statement cache holds every distinct statement a connection has run:
 * the hub's SQL set outgrew a fixed 96 once (checks and packs), and each
 * statement past it failed with "statement cache full". */
#define SQL10(p)                                                                               \
    "SELECT " p "0", "SELECT " p "1", "SELECT " p "2", "SELECT " p "3", "SELECT " p "4",        \
        "SELECT " p "5", "SELECT " p "6", "SELECT " p "7", "SELECT " p "8", "SELECT " p "9"
#define SQL100(p)                                                                              \
    SQL10(p "0"), SQL10(p "1"), SQL10(p "2"), SQL10(p "3"), SQL10(p "4"), SQL10(p "5"),        \
        SQL10(p "6"), SQL10(p "7"), SQL10(p "8"), SQL10(p "9")
static const char *const many_sql[] = {SQL100("1"), SQL100("2"), SQL100("3")};

static void
test_statement_cache_grows(void **state)
{
    struct fx *f = *state;
    const size_t n = sizeof(many_sql) / sizeof(many_sql[0]);
    sqlite3_stmt *first[sizeof(many_sql) / sizeof(many_sql[0])];
    struct store_conn *c = store_acquire(f->s);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++) {
            sqlite3_stmt *st = store_stmt(c, many_sql[i]);
            assert_non_null(st);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            /* "SELECT 1234" answers 1234: the statement is the one asked for */
            assert_int_equal(sqlite3_column_int(st, 0), atoi(many_sql[i] + 7));
            if (round == 0)
                first[i] = st;
            else
                assert_ptr_equal(st, first[i]); /* prepared once, reused */
        }
    }
    store_release(f->s, c);
}

/* alert rules: a machine's threshold overrides and mute rules. */
static void
test_alert_rules(void **state)
{
    struct fx *f = *state;
    json_t *m = machine("nas");
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    json_decref(m);
    m = machine("pi");
    assert_int_equal(hlc_store_machine_insert(f->s, m), 0);
    json_decref(m);

    struct hlc_verr e;
    int rc;
    json_t *p = json_pack("{s:i, s:i}", "disk_warning_percent", 90, "disk_critical_percent", 95);
    assert_true(hlc_config_thresholds_override(f->s, "nas", p, &e, &rc));
    assert_int_equal(rc, 0);
    json_decref(p);
    /* 99 is in range but not below the global memory critical (95) */
    p = json_pack("{s:i}", "memory_warning_percent", 99);
    assert_false(hlc_config_thresholds_override(f->s, "nas", p, &e, &rc));
    assert_string_equal(e.field, "memory_warning_percent");
    json_decref(p);
    /* critical back to the global 90 leaves the warning (90) not below it; and
     * the good key beside it is not written either */
    p = json_pack("{s:n, s:i}", "disk_critical_percent", "cpu_warning_percent", 50);
    assert_false(hlc_config_thresholds_override(f->s, "nas", p, &e, &rc));
    assert_string_equal(e.field, "disk_warning_percent");
    json_decref(p);
    p = json_pack("{s:i}", "server_offline_seconds", 60);
    assert_false(hlc_config_thresholds_override(f->s, "nas", p, &e, &rc));
    json_decref(p);
    p = json_pack("{s:i}", "disk_warning_percent", 50);
    assert_true(hlc_config_thresholds_override(f->s, "ghost", p, &e, &rc));
    assert_int_equal(rc, HLC_ENOTFOUND);
    json_decref(p);
    json_t *ov = NULL;
    assert_int_equal(hlc_store_thresholds_override_get(f->s, "nas", &ov), 0);
    assert_int_equal(json_object_size(ov), 2); /* the two disk keys, nothing refused */
    json_t *eff = hlc_config_thresholds_effective(f->s, ov);
    assert_true(json_number_value(json_object_get(json_object_get(eff, "thresholds"),
                                                  "disk_warning_percent")) == 90);
    assert_string_equal(json_string_value(json_object_get(json_object_get(eff, "source"),
                                                          "disk_warning_percent")), "server");
    assert_string_equal(json_string_value(json_object_get(json_object_get(eff, "source"),
                                                          "memory_warning_percent")), "global");
    json_decref(eff);
    json_decref(ov);

    /* mutes: per machine and type, all machines, expiry */
    int64_t now = 1700000000;
    json_t *r1 = NULL, *r2 = NULL, *list = NULL;
    struct hlc_alert_mute mu = {.server_id = "nas", .alert_type = "disk_warning",
                                .created_by = "api_key@test"};
    assert_int_equal(hlc_store_mute_add(f->s, &mu, "mute 1", now, &r1), 0);
    struct hlc_alert_mute all = {.alert_type = "update_available", .until = now + 60,
                                 .created_by = "api_key@test"};
    assert_int_equal(hlc_store_mute_add(f->s, &all, "mute 2", now, &r2), 0);
    struct hlc_alert_mute ghost = {.server_id = "ghost", .created_by = "x"};
    json_t *r3 = NULL;
    assert_int_equal(hlc_store_mute_add(f->s, &ghost, "mute 3", now, &r3), HLC_ENOTFOUND);
    bool yes;
    assert_int_equal(hlc_store_mute_match(f->s, "nas", "disk_warning", now, &yes), 0);
    assert_true(yes);
    assert_int_equal(hlc_store_mute_match(f->s, "pi", "disk_warning", now, &yes), 0);
    assert_false(yes);
    assert_int_equal(hlc_store_mute_match(f->s, "nas", "disk_critical", now, &yes), 0);
    assert_false(yes);
    assert_int_equal(hlc_store_mute_match(f->s, "pi", "update_available", now + 59, &yes), 0);
    assert_true(yes);
    assert_int_equal(hlc_store_mute_match(f->s, NULL, "update_available", now, &yes), 0);
    assert_true(yes); /* an all-machines rule covers alerts tied to no machine too */
    assert_int_equal(hlc_store_mute_match(f->s, "pi", "update_available", now + 60, &yes), 0);
    assert_false(yes); /* expired by itself */
    assert_int_equal(hlc_store_mutes_list(f->s, now + 60, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    long long id1 = json_integer_value(json_object_get(r1, "id"));
    assert_int_equal(hlc_store_mute_delete(f->s, id1, "api_key@test", now), 0);
    assert_int_equal(hlc_store_mute_delete(f->s, id1, "api_key@test", now), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_mute_match(f->s, "nas", "disk_warning", now, &yes), 0);
    assert_false(yes);
    struct hlc_audit_filter af = {.action_type = "alert_mute", .limit = 10};
    assert_int_equal(hlc_store_audit_list(f->s, &af, &list), 0);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    af.action_type = "alert_unmute";
    assert_int_equal(hlc_store_audit_list(f->s, &af, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "server_id")),
                        "nas");
    json_decref(list);
    assert_int_equal(hlc_store_mutes_prune(f->s, now + 61), 0);
    assert_int_equal(hlc_store_mutes_list(f->s, 0, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    json_decref(r1);
    json_decref(r2);
    /* a deleted machine takes its overrides with it */
    assert_int_equal(hlc_store_machine_delete(f->s, "nas"), 0);
    assert_int_equal(hlc_store_thresholds_overrides_all(f->s, &ov), 0);
    assert_int_equal(json_object_size(ov), 0);
    json_decref(ov);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_credential, setup, teardown),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test_setup_teardown(test_statement_cache_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
