/* test_actions.c - the actions store: state machine moves that only one
 * caller can make, outcome + audit row in one transaction, the audit log
 * refusing updates and deletes, custom scripts, recovery at start-up. */
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
#include <sqlite3.h>

#include "actions.h"
#include "config.h"
#include "credentials_internal.h"
#include "hlc/base.h"
#include "hlc/token.h"
#include "hub.h"
#include "store.h"
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/hlc-actions-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (hlc_store_open(&f->s, f->path, 4) != 0)
        return -1;
    json_t *m = json_pack("{s:s, s:s, s:s}", "server_id", "nas", "display_name", "nas",
                          "hostname", "nas.lan");
    int rc = hlc_store_machine_insert(f->s, m);
    json_decref(m);
    *state = f;
    return rc;
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

static void
queue(struct hlc_store *s, const char *id, const char *status)
{
    struct hlc_action_row row = {
        .action_id = id,
        .server_id = "nas",
        .alert_id = "alert-1",
        .action_type = "restart_service",
        .target = "plex",
        .status = status,
        .requested_by = "alert:alert-1",
        .command = "sudo -n systemctl restart 'plex'",
        .created_at = hlc_now(),
    };
    assert_int_equal(hlc_store_action_insert(s, &row), 0);
}

static const char *
status_of(struct hlc_store *s, const char *id, json_t **keep)
{
    assert_int_equal(hlc_store_action_get(s, id, keep), 0);
    return json_string_value(json_object_get(*keep, "status"));
}

static void
test_lifecycle(void **state)
{
    struct fx *f = *state;
    struct hlc_store *s = f->s;
    queue(s, "a1", "pending");
    json_t *a = NULL;
    assert_string_equal(status_of(s, "a1", &a), "pending");
    assert_true(json_is_null(json_object_get(a, "approved_at")));
    assert_string_equal(json_string_value(json_object_get(a, "alert_id")), "alert-1");
    assert_true(json_is_object(json_object_get(a, "parameters")));
    json_decref(a);

    /* Illegal moves from pending. */
    assert_int_equal(hlc_store_action_transition(s, "a1", "approved", "executing", 1), HLC_ESTATE);
    assert_int_equal(hlc_store_action_transition(s, "nope", "pending", "approved", 1),
                     HLC_ENOTFOUND);
    struct hlc_action_outcome o = {.success = true, .command = "x", .trigger = "api_key",
                                   .duration_ms = -1, .at = 5};
    assert_int_equal(hlc_store_action_finish(s, "a1", &o), HLC_ESTATE);

    assert_int_equal(hlc_store_action_transition(s, "a1", "pending", "approved", 100), 0);
    assert_int_equal(hlc_store_action_transition(s, "a1", "pending", "approved", 100), HLC_ESTATE);
    assert_int_equal(hlc_store_action_transition(s, "a1", "pending", "rejected", 100), HLC_ESTATE);
    assert_int_equal(hlc_store_action_transition(s, "a1", "approved", "executing", 101), 0);

    struct hlc_action_outcome done = {
        .success = true, .command = "sudo -n systemctl restart 'plex'", .ran = true,
        .exited = true, .exit_code = 0, .out = "ok\n", .err = "caf\xc3\xa9 warning",
        .duration_ms = 42, .trigger = "api_key", .actor = "api_key@127.0.0.1",
        .audit_out_cap = 4, .at = 102};
    assert_int_equal(hlc_store_action_finish(s, "a1", &done), 0);
    assert_int_equal(hlc_store_action_finish(s, "a1", &done), HLC_ESTATE);
    assert_string_equal(status_of(s, "a1", &a), "completed");
    assert_int_equal(json_integer_value(json_object_get(a, "exit_code")), 0);
    assert_int_equal(json_integer_value(json_object_get(a, "duration_ms")), 42);
    assert_string_equal(json_string_value(json_object_get(a, "stdout")), "ok\n");
    assert_string_equal(json_string_value(json_object_get(a, "completed_at")),
                        "1970-01-01T00:01:42Z");
    assert_string_equal(json_string_value(json_object_get(a, "approved_at")),
                        "1970-01-01T00:01:40Z");
    json_decref(a);

    /* The audit row: copied from the action, output cut on a character
     * boundary ("caf" + 2-byte é would pass 4 bytes: cut to "caf"). */
    struct hlc_audit_filter flt = {.limit = 10};
    json_t *rows = NULL;
    assert_int_equal(hlc_store_audit_list(s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_t *r0 = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "server_id")), "nas");
    assert_string_equal(json_string_value(json_object_get(r0, "action_type")), "restart_service");
    assert_string_equal(json_string_value(json_object_get(r0, "alert_id")), "alert-1");
    assert_string_equal(json_string_value(json_object_get(r0, "actor")), "api_key@127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(r0, "command")),
                        "sudo -n systemctl restart 'plex'");
    assert_string_equal(json_string_value(json_object_get(r0, "stdout")), "ok\n");
    assert_false(json_is_true(json_object_get(r0, "stdout_truncated")));
    assert_string_equal(json_string_value(json_object_get(r0, "stderr")), "caf");
    assert_true(json_is_true(json_object_get(r0, "stderr_truncated")));
    json_decref(rows);

    /* Filters. */
    flt.server_id = "other";
    assert_int_equal(hlc_store_audit_list(s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    flt.server_id = "nas";
    flt.action_type = "restart_service";
    flt.since = 102;
    flt.until = 102;
    assert_int_equal(hlc_store_audit_list(s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    flt.since = 103;
    flt.until = 0;
    assert_int_equal(hlc_store_audit_list(s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);

    /* Reject, history and list filters. */
    queue(s, "a2", "pending");
    assert_int_equal(hlc_store_action_transition(s, "a2", "pending", "rejected", 200), 0);
    assert_int_equal(hlc_store_action_transition(s, "a2", "pending", "approved", 200), HLC_ESTATE);
    queue(s, "a3", "pending");
    assert_int_equal(hlc_store_action_list(s, "pending", NULL, false, 100, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(hlc_store_action_list(s, NULL, NULL, true, 100, &rows), 0);
    assert_int_equal(json_array_size(rows), 2); /* completed + rejected */
    json_decref(rows);
    assert_int_equal(hlc_store_action_list(s, NULL, "nas", false, 2, &rows), 0);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);
}

static void
test_append_only(void **state)
{
    struct fx *f = *state;
    queue(f->s, "b1", "approved");
    assert_int_equal(hlc_store_action_transition(f->s, "b1", "approved", "executing", 1), 0);
    struct hlc_action_outcome o = {.success = false, .command = "docker stop 'x'",
                                   .reason = "timeout", .duration_ms = 2000, .ran = true,
                                   .trigger = "auto_approve", .audit_out_cap = 100, .at = 3};
    assert_int_equal(hlc_store_action_finish(f->s, "b1", &o), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit_log SET command='x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* The machine goes away; its audit rows stay. */
    assert_int_equal(hlc_store_machine_delete(f->s, "nas"), 0);
    struct hlc_audit_filter flt = {.server_id = "nas", .limit = 10};
    json_t *rows = NULL;
    assert_int_equal(hlc_store_audit_list(f->s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_t *r0 = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(r0, "failure_reason")), "timeout");
    assert_string_equal(json_string_value(json_object_get(r0, "trigger")), "auto_approve");
    assert_true(json_is_null(json_object_get(r0, "exit_code")));
    json_decref(rows);
    json_t *a = NULL;
    assert_int_equal(hlc_store_action_get(f->s, "b1", &a), HLC_ENOTFOUND);
}

struct race {
    struct hlc_store *s;
    pthread_barrier_t *bar;
    int rc;
};

static void *
approver(void *arg)
{
    struct race *r = arg;
    pthread_barrier_wait(r->bar);
    r->rc = hlc_store_action_transition(r->s, "c1", "pending", "approved", hlc_now());
    return NULL;
}

static void
test_concurrent_approvals(void **state)
{
    struct fx *f = *state;
    for (int round = 0; round < 20; round++) {
        queue(f->s, "c1", "pending");
        enum { N = 4 };
        pthread_t th[N];
        struct race rs[N];
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, N);
        for (int i = 0; i < N; i++) {
            rs[i] = (struct race){f->s, &bar, 1};
            pthread_create(&th[i], NULL, approver, &rs[i]);
        }
        int won = 0, lost = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(th[i], NULL);
            won += rs[i].rc == 0;
            lost += rs[i].rc == HLC_ESTATE;
        }
        pthread_barrier_destroy(&bar);
        assert_int_equal(won, 1);
        assert_int_equal(lost, N - 1);
        /* clear for the next round */
        assert_int_equal(hlc_store_action_transition(f->s, "c1", "approved", "executing", 1), 0);
        struct hlc_action_outcome o = {.success = true, .duration_ms = -1, .at = 2};
        assert_int_equal(hlc_store_action_finish(f->s, "c1", &o), 0);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        assert_int_equal(
            sqlite3_exec(db, "DELETE FROM remediation_actions WHERE action_id='c1'", 0, 0, 0),
            SQLITE_OK);
        sqlite3_close(db);
    }
}

static void
test_recover_and_scripts(void **state)
{
    struct fx *f = *state;
    queue(f->s, "d1", "approved");
    queue(f->s, "d2", "approved");
    assert_int_equal(hlc_store_action_transition(f->s, "d2", "approved", "executing", 1), 0);
    queue(f->s, "d3", "pending");
    int n = 0;
    assert_int_equal(hlc_store_action_recover(f->s, 9, &n), 0);
    assert_int_equal(n, 2);
    json_t *a = NULL;
    assert_string_equal(status_of(f->s, "d1", &a), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(a, "failure_reason")), "interrupted"));
    json_decref(a);
    assert_string_equal(status_of(f->s, "d3", &a), "pending");
    json_decref(a);

    assert_int_equal(hlc_store_script_insert(f->s, "nas", "prune", "docker system prune -f", NULL),
                     0);
    assert_int_equal(hlc_store_script_insert(f->s, "nas", "prune", "x", NULL), HLC_EEXISTS);
    assert_int_equal(hlc_store_script_insert(f->s, "ghost", "prune", "x", NULL), HLC_ENOTFOUND);
    char *body = NULL;
    assert_int_equal(hlc_store_script_get(f->s, "nas", "prune", &body), 0);
    assert_string_equal(body, "docker system prune -f");
    free(body);
    json_t *list = NULL;
    assert_int_equal(hlc_store_script_list(f->s, "nas", &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_int_equal(hlc_store_script_list(f->s, "ghost", &list), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_script_delete(f->s, "nas", "prune"), 0);
    assert_int_equal(hlc_store_script_delete(f->s, "nas", "prune"), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_script_get(f->s, "nas", "prune", &body), HLC_ENOTFOUND);
    /* Retention: finished actions older than the cut go, others stay. */
    struct hlc_action_row old = {.action_id = "p1", .server_id = "nas", .action_type = "custom",
                                 .target = "x", .status = "pending", .requested_by = "t",
                                 .created_at = 50};
    assert_int_equal(hlc_store_action_insert(f->s, &old), 0);
    old.action_id = "p2";
    assert_int_equal(hlc_store_action_insert(f->s, &old), 0);
    assert_int_equal(hlc_store_action_transition(f->s, "p2", "pending", "rejected", 60), 0);
    assert_int_equal(hlc_store_action_prune(f->s, 61, &n), 0);
    assert_int_equal(n, 3); /* p2 (rejected at 60), d1 and d2 (failed at 9) */
    assert_int_equal(hlc_store_action_get(f->s, "p2", &a), HLC_ENOTFOUND);
    assert_string_equal(status_of(f->s, "p1", &a), "pending");
    json_decref(a);
    assert_string_equal(status_of(f->s, "d3", &a), "pending");
    json_decref(a);
    /* Unknown machine for an action. */
    struct hlc_action_row row = {.action_id = "e1", .server_id = "ghost", .action_type = "custom",
                                 .target = "x", .status = "pending", .requested_by = "t",
                                 .created_at = 1};
    assert_int_equal(hlc_store_action_insert(f->s, &row), HLC_ENOTFOUND);
}

/* hlc_actions_queue, the alerts engine's door: pending by default, refused
 * targets queue nothing, auto-approved types run on the worker thread. */
static void
test_queue_for_alerts(void **state)
{
    struct fx *f = *state;
    struct hlc_hub hub;
    memset(&hub, 0, sizeof(hub));
    hub.store = f->s;
    hub.set.data_dir = f->dir;
    hub.set.db_path = f->path;
    assert_int_equal(hlc_credentials_prepare_keyring(&hub.set, &hub.keyring), 0);
    assert_int_equal(hlc_credentials_ensure_identity(&hub), 0);

    json_t *a = NULL;
    assert_int_equal(hlc_actions_queue(&hub, "nas", "restart_service", "plex", "al-1", &a), 0);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "pending");
    assert_string_equal(json_string_value(json_object_get(a, "alert_id")), "al-1");
    assert_string_equal(json_string_value(json_object_get(a, "requested_by")), "alert:al-1");
    assert_string_equal(json_string_value(json_object_get(a, "command")),
                        "sudo -n systemctl restart 'plex'");
    assert_true(json_is_null(json_object_get(a, "result")));
    json_decref(a);

    assert_int_equal(hlc_actions_queue(&hub, "nas", "reboot", "now", NULL, NULL), HLC_EINVAL);
    assert_int_equal(hlc_actions_queue(&hub, "nas", "restart_service", "plex;reboot", NULL, NULL),
                     HLC_EDENIED);
    assert_int_equal(hlc_actions_queue(&hub, "nas", "custom", "nope", NULL, NULL), HLC_ENOTFOUND);
    assert_int_equal(hlc_actions_queue(&hub, "ghost", "restart_service", "plex", NULL, NULL),
                     HLC_ENOTFOUND);
    json_t *rows = NULL;
    assert_int_equal(hlc_store_action_list(f->s, NULL, NULL, false, 100, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);

    /* Auto-approved: runs on the worker. No poller runs here, so the run
     * fails with that reason - and is recorded, with its trigger. */
    json_t *patch = json_pack("{s:{s:b}}", "remediation", "auto_approve_enabled", 1);
    struct hlc_verr e;
    int rc = 0;
    assert_true(hlc_config_update(f->s, patch, &e, &rc));
    json_decref(patch);
    assert_int_equal(rc, 0);
    assert_false(hlc_actions_auto_approved(&hub, HLC_ACT_CUSTOM));
    assert_true(hlc_actions_auto_approved(&hub, HLC_ACT_CLEAR_LOGS));
    assert_int_equal(hlc_actions_start(&hub), 0);
    assert_int_equal(hlc_actions_queue(&hub, "nas", "restart_service", "smbd", "al-2", &a), 0);
    assert_true(json_is_true(json_object_get(a, "auto_approved")));
    char id[40];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(a, "action_id")));
    json_decref(a);
    const char *st = NULL;
    for (int i = 0; i < 500; i++) {
        assert_int_equal(hlc_actions_get(&hub, id, &a), 0);
        st = json_string_value(json_object_get(a, "status"));
        if (strcmp(st, "failed") == 0 || strcmp(st, "completed") == 0)
            break;
        json_decref(a);
        a = NULL;
        usleep(10000);
    }
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "failed");
    assert_false(json_is_true(json_object_get(json_object_get(a, "result"), "success")));
    json_decref(a);
    hlc_actions_stop(&hub);
    struct hlc_audit_filter flt = {.server_id = "nas", .limit = 10};
    assert_int_equal(hlc_store_audit_list(f->s, &flt, &rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_t *r0 = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "trigger")), "auto_approve");
    assert_string_equal(json_string_value(json_object_get(r0, "actor")), "alert:al-2");
    assert_string_equal(json_string_value(json_object_get(r0, "alert_id")), "al-2");
    json_decref(rows);
    hlc_keyring_free(hub.keyring);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_approvals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_and_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_for_alerts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
