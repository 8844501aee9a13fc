/* test_shell.c - name patterns and the one quoting function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc/shell.h"

static void
test_units(void **state)
{
    (void)state;
    const char *good[] = {"plex", "plex.service", "getty@tty1.service", "systemd-journald",
                          "dev-sda1.device", "user@1000.service", "a:b", "X11"};
    const char *bad[] = {"", "-plex", ".hidden", "plex;reboot", "a b", "a/b", "$(id)", "`id`",
                         "a..b", "a\nb", "a|b", "a&b", "'", "\"", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_true(hlc_shell_valid_unit(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(hlc_shell_valid_unit(bad[i]));
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(hlc_shell_valid_unit(longname));
    assert_false(hlc_shell_valid_unit(NULL));
}

static void
test_containers_and_paths(void **state)
{
    (void)state;
    assert_true(hlc_shell_valid_container("nginx"));
    assert_true(hlc_shell_valid_container("my_app-1.web"));
    assert_false(hlc_shell_valid_container("my app"));
    assert_false(hlc_shell_valid_container("a@b"));
    assert_true(hlc_shell_valid_log_path("/var/log/syslog"));
    assert_true(hlc_shell_valid_log_path("/var/log/nginx/access.log.1"));
    assert_false(hlc_shell_valid_log_path("/var/log/"));
    assert_false(hlc_shell_valid_log_path("/var/log/../../etc/shadow"));
    assert_false(hlc_shell_valid_log_path("/etc/passwd"));
    assert_false(hlc_shell_valid_log_path("/var/log//x"));
    assert_false(hlc_shell_valid_log_path("/var/log/x y"));
    assert_false(hlc_shell_valid_log_path("/var/log/x;rm"));
}

static void
test_quote(void **state)
{
    (void)state;
    struct hlc_buf b;
    hlc_buf_init(&b, 64);
    assert_int_equal(hlc_shell_quote(&b, "plain"), 0);
    assert_string_equal(b.data, "'plain'");
    hlc_buf_reset(&b);
    assert_int_equal(hlc_shell_quote(&b, "it's $(x)"), 0);
    assert_string_equal(b.data, "'it'\\''s $(x)'");
    hlc_buf_reset(&b);
    assert_int_equal(hlc_shell_quote(&b, ""), 0);
    assert_string_equal(b.data, "''");
    hlc_buf_reset(&b);
    assert_int_equal(hlc_shell_quote(&b, "a\nb"), HLC_EINVAL);
    assert_int_equal(b.len, 0);
    /* Too big for the buffer: nothing half-appended. */
    assert_int_equal(hlc_buf_append(&b, "prefix ", 7), 0);
    char big[100];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(hlc_shell_quote(&b, big), HLC_ETOOBIG);
    assert_string_equal(b.data, "prefix ");
    hlc_buf_release(&b);
}

/* Round trip through a real /bin/sh: what the shell sees is the input. */
static void
test_quote_through_sh(void **state)
{
    (void)state;
    const char *inputs[] = {"simple", "with space", "it's", "''''", "$(touch /tmp/hlc-pwned)",
                            "`id`", "a;b|c&d>e<f", "\\back\\slash", "*?[glob]", "~root",
                            "!history", "tab\there", "-leading-dash", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
        struct hlc_buf b;
        hlc_buf_init(&b, 4096);
        assert_int_equal(hlc_buf_append(&b, "printf '%s' ", 12), 0);
        assert_int_equal(hlc_shell_quote(&b, inputs[i]), 0);
        FILE *p = popen(b.data, "r");
        assert_non_null(p);
        char out[256] = "";
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_string_equal(out, inputs[i]);
        hlc_buf_release(&b);
    }
    FILE *f = fopen("/tmp/hlc-pwned", "r");
    assert_null(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_containers_and_paths),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_through_sh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
