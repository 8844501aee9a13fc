/* test_prom.c - the Prometheus exposition: Accept negotiation, label escaping,
 * both formats' family lines, and the scrape token (only its hash stored;
 * it opens /metrics, a wrong one does not). Against a real store file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hlc/base.h"
#include "hub.h"
#include "prom.h"
#include "store.h"

struct fx {
    char dir[64];
    char path[128];
    struct hlc_hub hub;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (sodium_init() < 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/hlc-prom-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (hlc_store_open(&f->hub.store, f->path, 2) != 0)
        return -1;
    /* An id the API would refuse, to see the escaping of \ " and newline. */
    json_t *m = json_pack("{s:s, s:s, s:s}", "server_id", "we\"ird\\id\nx", "hostname", "h.lan",
                          "machine_type", "server");
    if (hlc_store_machine_insert(f->hub.store, m) != 0)
        return -1;
    json_decref(m);
    crypto_generichash(f->hub.api_key_hash, sizeof(f->hub.api_key_hash),
                       (const unsigned char *)"the-api-key-0123456789", 22, NULL, 0);
    f->hub.started_at = 1700000000;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    hlc_store_free(f->hub.store);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void
test_accept(void **state)
{
    (void)state;
    assert_true(hlc_prom_wants_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assert_true(hlc_prom_wants_openmetrics("application/openmetrics-text; q=0.5"));
    assert_false(hlc_prom_wants_openmetrics("application/openmetrics-text;q=0,text/plain"));
    assert_false(hlc_prom_wants_openmetrics("application/openmetrics-text;q=0.0"));
    assert_false(hlc_prom_wants_openmetrics("text/plain;version=0.0.4"));
    assert_false(hlc_prom_wants_openmetrics(NULL));
    assert_false(hlc_prom_wants_openmetrics(""));
}

static void
test_render_both_formats(void **state)
{
    struct fx *f = *state;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(hlc_prom_render(&f->hub, false, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "homelabcmd_machine_up{server_id=\"we\\\"ird\\\\id\\nx\","
                                 "machine_type=\"server\"} 0\n"));
    assert_non_null(strstr(text, "# TYPE homelabcmd_http_requests_total counter\n"));
    assert_non_null(strstr(text, "# TYPE homelabcmd_build_info gauge\n"));
    assert_non_null(strstr(text, "homelabcmd_start_time_seconds 1700000000\n"));
    assert_non_null(strstr(text, "homelabcmd_alerts_active{severity=\"critical\"} 0\n"));
    /* no sample yet: the machine's CPU ratio is absent, not 0 */
    assert_null(strstr(text, "homelabcmd_cpu_usage_ratio{"));
    assert_null(strstr(text, "# EOF"));
    free(text);
    assert_int_equal(hlc_prom_render(&f->hub, true, &text, &len), 0);
    assert_non_null(strstr(text, "# TYPE homelabcmd_http_requests counter\n"
                                 "homelabcmd_http_requests_total 0\n"));
    assert_non_null(strstr(text, "# TYPE homelabcmd_build info\n"));
    assert_int_equal(strcmp(text + len - 6, "# EOF\n"), 0);
    free(text);
}

static void
test_scrape_token(void **state)
{
    struct fx *f = *state;
    const char *tok = "scrape-token-0123456789abcdef";
    assert_false(hlc_prom_token_is_set(f->hub.store));
    assert_true(hlc_prom_auth_ok(&f->hub, "the-api-key-0123456789", NULL));
    assert_true(hlc_prom_auth_ok(&f->hub, NULL, "Bearer the-api-key-0123456789"));
    assert_false(hlc_prom_auth_ok(&f->hub, NULL, "Bearer scrape-token-0123456789abcdef"));
    assert_false(hlc_prom_auth_ok(&f->hub, NULL, "Basic dXNlcjpwYXNz"));
    assert_false(hlc_prom_auth_ok(&f->hub, NULL, NULL));
    assert_int_equal(hlc_prom_token_set(f->hub.store, "too-short"), HLC_EINVAL);
    assert_int_equal(hlc_prom_token_set(f->hub.store, "spaces are not allowed here"), HLC_EINVAL);
    assert_int_equal(hlc_prom_token_set(f->hub.store, tok), 0);
    assert_true(hlc_prom_token_is_set(f->hub.store));
    assert_true(hlc_prom_auth_ok(&f->hub, NULL, "Bearer scrape-token-0123456789abcdef"));
    assert_true(hlc_prom_auth_ok(&f->hub, NULL, "bearer scrape-token-0123456789abcdef"));
    assert_false(hlc_prom_auth_ok(&f->hub, NULL, "Bearer scrape-token-0123456789abcdeF"));
    /* the token opens /metrics only as a Bearer, never as X-API-Key */
    assert_false(hlc_prom_auth_ok(&f->hub, tok, NULL));
    /* only the hash is stored */
    json_t *v = NULL;
    assert_int_equal(hlc_store_config_get(f->hub.store, "prometheus", &v), 0);
    char *dump = json_dumps(v, 0);
    assert_null(strstr(dump, tok));
    assert_int_equal(strlen(json_string_value(json_object_get(v, "scrape_token_blake2b"))), 64);
    free(dump);
    json_decref(v);
    assert_int_equal(hlc_prom_token_set(f->hub.store, ""), 0);
    assert_false(hlc_prom_token_is_set(f->hub.store));
    assert_false(hlc_prom_auth_ok(&f->hub, NULL, "Bearer scrape-token-0123456789abcdef"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),
        cmocka_unit_test_setup_teardown(test_render_both_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scrape_token, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
