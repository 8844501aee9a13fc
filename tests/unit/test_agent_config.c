/* test_agent_config.c - the push agent's config.yaml: good files, every kind
 * of bad one (each refused naming the line and key), and flag/env values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_config.h"

static int
parse(const char *text, struct hlc_agent_config *c, char *err)
{
    hlc_agent_config_defaults(c);
    return hlc_agent_config_parse(text, strlen(text), c, err, 300);
}

static void
test_defaults_and_full_file(void **state)
{
    (void)state;
    struct hlc_agent_config c;
    char err[300] = "";
    assert_int_equal(parse("", &c, err), 0);
    assert_string_equal(c.machine_type, "workstation");
    assert_int_equal(c.interval, 60);
    assert_int_equal(c.updates_check_hours, 6);
    assert_int_equal(c.docker, HLC_DOCKER_AUTO);
    assert_int_equal(c.spool_max_bytes, 16 << 20);

    const char *full = "# written by install.sh\n"
                       "hub_url: \"http://hub.lan:8080/\"\n"
                       "api_key: \"abc.DEF-123_~+/=\"\n"
                       "server_id: laptop-1\n"
                       "machine_type: server\n"
                       "interval: 30\n"
                       "spool_dir: /var/lib/homelabcmd-agent/spool\n"
                       "spool_max_files: 100\n"
                       "spool_max_bytes: 1048576\n"
                       "docker: off\n"
                       "updates_check_hours: 0\n"
                       "services:\n"
                       "  - ssh\n"
                       "  - docker.service\n"
                       "  - 'getty@tty1.service'\n";
    assert_int_equal(parse(full, &c, err), 0);
    assert_string_equal(c.hub_url, "http://hub.lan:8080"); /* trailing / dropped */
    assert_string_equal(c.api_key, "abc.DEF-123_~+/=");
    assert_string_equal(c.server_id, "laptop-1");
    assert_string_equal(c.machine_type, "server");
    assert_int_equal(c.interval, 30);
    assert_string_equal(c.spool_dir, "/var/lib/homelabcmd-agent/spool");
    assert_int_equal(c.spool_max_files, 100);
    assert_int_equal(c.spool_max_bytes, 1048576);
    assert_int_equal(c.docker, HLC_DOCKER_OFF);
    assert_int_equal(c.updates_check_hours, 0);
    assert_int_equal(c.nservices, 3);
    assert_string_equal(c.services[2], "getty@tty1.service");
    /* flow style works too, and an empty list clears */
    assert_int_equal(parse("services: [nginx, plex]\n", &c, err), 0);
    assert_int_equal(c.nservices, 2);
    assert_int_equal(parse("services:\n", &c, err), 0);
    assert_int_equal(c.nservices, 0);
}

static void
expect_bad(const char *text, const char *needle)
{
    struct hlc_agent_config c;
    char err[300] = "";
    assert_int_equal(parse(text, &c, err), -1);
    if (!strstr(err, needle)) {
        fprintf(stderr, "error '%s' lacks '%s' for input:\n%s\n", err, needle, text);
        fail();
    }
}

static void
test_bad_files(void **state)
{
    (void)state;
    expect_bad("bogus: 1\n", "line 1: unknown setting 'bogus'");
    expect_bad("hub_url: ftp://x\n", "hub_url: must start with http");
    expect_bad("hub_url: \"http://a b\"\n", "hub_url: holds characters");
    expect_bad("api_key: \"a;rm -rf /\"\n", "api_key");
    expect_bad("server_id: Laptop\n", "server_id: must be a lowercase slug");
    expect_bad("machine_type: toaster\n", "machine_type: must be workstation or server");
    expect_bad("interval: 0\n", "interval: must be a whole number 1..86400");
    expect_bad("interval: 1e3\n", "interval");
    expect_bad("interval: [1]\n", "interval: must be a plain value");
    expect_bad("spool_dir: relative/dir\n", "spool_dir: must be an absolute path");
    expect_bad("spool_max_bytes: 10\n", "spool_max_bytes");
    expect_bad("docker: maybe\n", "docker: must be auto, true or false");
    expect_bad("updates_check_hours: 500\n", "updates_check_hours");
    expect_bad("interval: 5\ndocker: auto\nservices:\n  - \"nginx; reboot\"\n", "line 4: services:");
    expect_bad("services: nginx\n", "services: must be a list");
    expect_bad("services:\n  - {name: x}\n", "services: each entry is a unit name");
    expect_bad("- just\n- a list\n", "must be a mapping");
    expect_bad("x: &a 1\ny: *a\n", "anchors and aliases");
    expect_bad("hub_url: \"http://x\"\n---\nhub_url: \"http://y\"\n", "only one YAML document");
    expect_bad("hub_url: [unclosed\n", "line");
    expect_bad("key: \"\\x01\"\n", "unknown setting");
    expect_bad("server_id: \"a\\tb\"\n", "server_id");
    /* over the size cap */
    size_t big = HLC_AGENT_CONFIG_MAX + 10;
    char *t = malloc(big + 1);
    memset(t, '#', big);
    t[big] = '\0';
    expect_bad(t, "larger than");
    free(t);
    /* more services than a sample holds */
    char *many = malloc(64 * 1024);
    size_t off = (size_t)snprintf(many, 64 * 1024, "services:\n");
    for (int i = 0; i < HLC_SAMPLE_MAX_SERVICES + 1; i++)
        off += (size_t)snprintf(many + off, 64 * 1024 - off, "  - u%d\n", i);
    expect_bad(many, "at most");
    free(many);
}

static void
test_set_and_load(void **state)
{
    (void)state;
    struct hlc_agent_config c;
    char err[300];
    hlc_agent_config_defaults(&c);
    assert_int_equal(hlc_agent_config_set(&c, "interval", "15", err, sizeof(err)), 0);
    assert_int_equal(c.interval, 15);
    assert_int_equal(hlc_agent_config_set(&c, "interval", "15s", err, sizeof(err)), -1);
    assert_int_equal(hlc_agent_config_set(&c, "nope", "1", err, sizeof(err)), -1);
    /* load: a missing default file is fine, a missing named file is not */
    assert_int_equal(hlc_agent_config_load("/nonexistent/config.yaml", true, &c, err, sizeof(err)),
                     0);
    assert_int_equal(
        hlc_agent_config_load("/nonexistent/config.yaml", false, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/config.yaml"));
    char path[] = "/tmp/hlc-agent-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "server_id: from-file\ninterval: 5\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(hlc_agent_config_load(path, false, &c, err, sizeof(err)), 0);
    assert_string_equal(c.server_id, "from-file");
    assert_int_equal(c.interval, 5);
    unlink(path);
}

/* Tokens: only the hub's forms; the config rewrite after enrolling swaps the
 * enrollment token for the agent token and keeps every other line. */
static void
test_tokens_and_rewrite(void **state)
{
    (void)state;
    struct hlc_agent_config c;
    char err[300] = "";
    assert_int_equal(parse("enrollment_token: hlce_AbC-_9\nagent_token: \"hlca_xyz\"\n", &c, err),
                     0);
    assert_string_equal(c.enrollment_token, "hlce_AbC-_9");
    assert_string_equal(c.agent_token, "hlca_xyz");
    const char *bad[] = {"agent_token: hlce_wrongkind\n", "enrollment_token: hlca_x\n",
                         "agent_token: \"hlca_a b\"\n", "agent_token: \"hlca_$(id)\"\n", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(parse(bad[i], &c, err), -1);
        assert_non_null(strstr(err, "token"));
    }
    const char *before = "# by install.sh\nhub_url: \"http://hub:8080\"\n"
                         "enrollment_token: \"hlce_once\"\nservices: [ssh]\n"
                         "agent_token: \"hlca_old\"\n# agent_token: in a comment stays\n"
                         "interval: 30";
    char *after = hlc_agent_config_with_token(before, strlen(before), "hlca_NEW");
    assert_string_equal(after, "# by install.sh\nhub_url: \"http://hub:8080\"\n"
                               "services: [ssh]\n# agent_token: in a comment stays\n"
                               "interval: 30\nagent_token: \"hlca_NEW\"\n");
    assert_int_equal(parse(after, &c, err), 0);
    assert_string_equal(c.agent_token, "hlca_NEW");
    assert_string_equal(c.enrollment_token, "");
    free(after);

    char path[] = "/tmp/hlc-agent-tok-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, before, strlen(before)), (ssize_t)strlen(before));
    close(fd);
    assert_int_equal(hlc_agent_config_store_token(path, "hlca_SAVED", err, sizeof(err)), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    hlc_agent_config_defaults(&c);
    assert_int_equal(hlc_agent_config_load(path, false, &c, err, sizeof(err)), 0);
    assert_string_equal(c.agent_token, "hlca_SAVED");
    assert_string_equal(c.enrollment_token, "");
    assert_int_equal(c.interval, 30);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_full_file),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_set_and_load),
        cmocka_unit_test(test_tokens_and_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
