/* test_packs.c - the pack loader (errors with line and column, hostile packs,
 * extends and cycles), the check script run by a real sh on real files, the
 * result parser on hostile output, and GNU diff's unified diffs. */
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

#include "hlc/pack.h"

static int bad_count;

static struct hlc_pack *
load_ok(const char *text)
{
    struct hlc_pack *p = NULL;
    struct hlc_pack_error e;
    int rc = hlc_pack_load("t.yaml", text, strlen(text), &p, &e);
    if (rc != 0)
        fail_msg("load failed: %s:%d:%d: %s", e.file, e.line, e.column, e.message);
    return p;
}

/* Loads text expecting a refusal at line:col whose message holds `part`. */
static void
load_bad(const char *text, int line, int col, const char *part)
{
    struct hlc_pack *p = (struct hlc_pack *)1;
    struct hlc_pack_error e;
    int rc = hlc_pack_load("bad.yaml", text, strlen(text), &p, &e);
    if (rc == 0)
        fail_msg("accepted: %s", text);
    assert_null(p);
    if (e.line != line || e.column != col || !strstr(e.message, part))
        bad_count++;
    assert_string_equal(e.file, "bad.yaml");
    if (e.line != line || e.column != col || !strstr(e.message, part))
        print_message("for %s\n got %d:%d %s\n want %d:%d ...%s...\n", text, e.line, e.column,
                 e.message, line, col, part);
}

static void
test_builtins_resolve(void **state)
{
    (void)state;
    struct hlc_pack *packs[8] = {0};
    assert_int_equal(hlc_pack_nbuiltins, 3);
    for (size_t i = 0; i < hlc_pack_nbuiltins; i++) {
        struct hlc_pack_error e;
        int rc = hlc_pack_load(hlc_pack_builtins[i].file, hlc_pack_builtins[i].text,
                               strlen(hlc_pack_builtins[i].text), &packs[i], &e);
        if (rc != 0)
            fail_msg("%s:%d:%d: %s", e.file, e.line, e.column, e.message);
    }
    struct hlc_pack *max = NULL;
    assert_int_equal(hlc_pack_resolve(packs, 3, "developer-max", &max, NULL), 0);
    bool sshd = false, git = false, docker = false;
    int watches = 0;
    for (size_t i = 0; i < max->nitems; i++) {
        const struct hlc_pack_item *it = &max->items[i];
        if (it->type == HLC_PACK_FILE && strcmp(it->target, "/etc/ssh/sshd_config.d/50-homelab.conf") == 0) {
            sshd = strcmp(it->origin, "base") == 0 && it->mode == 0644 &&
                   strstr(it->value, "PasswordAuthentication no\n") && strlen(it->sha256) == 64;
        }
        git |= it->type == HLC_PACK_PKG && strcmp(it->target, "git") == 0 &&
               strcmp(it->origin, "developer-lite") == 0;
        docker |= it->type == HLC_PACK_SVC_RUNNING && strcmp(it->target, "docker") == 0;
        if (it->type == HLC_PACK_SYSCTL && strcmp(it->target, "fs.inotify.max_user_watches") == 0) {
            watches++;
            /* developer-max's value replaced developer-lite's, in place */
            assert_string_equal(it->value, "1048576");
            assert_string_equal(it->origin, "developer-max");
        }
    }
    assert_true(sshd && git && docker);
    assert_int_equal(watches, 1);
    char *script = NULL;
    assert_int_equal(hlc_pack_check_script(max, &script), 0);
    assert_non_null(strstr(script, "hf 0 '/etc/ssh/sshd_config.d/50-homelab.conf' "));
    free(script);
    hlc_pack_free(max);
    for (size_t i = 0; i < 3; i++)
        hlc_pack_free(packs[i]);
}

static void
test_loader_errors(void **state)
{
    (void)state;
    load_bad("name: x\ncolour: red\n", 2, 1, "unknown key 'colour'");
    load_bad("description: no name\n", 1, 1, "name: missing");
    load_bad("name: Bad_Name\n", 1, 7, "must match");
    load_bad("name: x\nfiles:\n  - path: etc/motd\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles:\n  - path: /etc/../shadow\n", 3, 11, "'..'");
    load_bad("name: x\nfiles:\n  - path: /etc//motd\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles: {path: /etc/motd}\n", 2, 8, "expected a list");
    load_bad("name: x\nfiles:\n  - {path: /etc/motd, mode: 644x}\n", 3, 29, "octal");
    load_bad("name: x\nfiles:\n  - {path: /etc/motd, absent: yes}\n", 3, 31, "true or false");
    load_bad("name: x\nfiles:\n  - {path: /etc/motd, absent: true, mode: \"0644\"}\n", 3, 31,
             "absent file takes no");
    load_bad("name: x\nfiles:\n  - {content: hi}\n", 3, 5, "needs a path");
    load_bad("name: x\npackages:\n  present: [Git]\n", 3, 13, "not a valid name");
    load_bad("name: x\npackages:\n  present: [git, git]\n", 3, 18, "named twice");
    load_bad("name: x\npackages:\n  present: [git]\n  absent: [git]\n", 4, 12, "named twice");
    load_bad("name: x\npackages:\n  installed: [git]\n", 3, 3, "unknown key 'installed'");
    load_bad("name: x\nservices:\n  running: [ssh]\n  running: [cron]\n", 4, 3, "duplicate key");
    load_bad("name: x\nsettings:\n  sysctl: {vm.swappiness: [1]}\n", 3, 27, "expected a string");
    load_bad("name: x\nsettings:\n  timezone: ../etc/passwd\n", 3, 13, "not a tz name");
    load_bad("name: x\nsettings:\n  lines:\n    - {path: /etc/x, line: a, match: \"(\"}\n", 4,
             38, "regular expression");
    load_bad("name: x\nsettings:\n  lines:\n    - {path: /etc/x}\n", 4, 7, "needs path and line");
    load_bad("name: x\nextends: [x]\n", 2, 11, "cannot extend itself");
    load_bad("name: x\nfiles: [\n", 3, 1, "YAML syntax");
    load_bad("name: x\n---\nname: y\n", 2, 1, "one YAML document");
    load_bad("", 0, 0, "empty");
    load_bad("- a\n- b\n", 1, 1, "mapping at the top");
    /* content bounds */
    size_t big = HLC_PACK_MAX_CONTENT + 10;
    char *t = malloc(big + 100);
    int n = snprintf(t, 100, "name: x\nfiles:\n  - path: /a\n    content: ");
    memset(t + n, 'a', big);
    t[n + big] = '\0';
    load_bad(t, 4, 14, "at most 65536");
    free(t);
    /* whole-file bound */
    size_t huge = HLC_PACK_MAX_FILE_BYTES + 1;
    t = malloc(huge + 1);
    memset(t, '#', huge);
    t[huge] = '\0';
    struct hlc_pack *p = NULL;
    struct hlc_pack_error e;
    assert_int_equal(hlc_pack_load("big.yaml", t, huge, &p, &e), HLC_ETOOBIG);
    free(t);
    /* item count bound */
    struct hlc_buf b;
    hlc_buf_init(&b, 1 << 20);
    hlc_buf_appendf(&b, "name: x\npackages:\n  present:\n");
    for (int i = 0; i <= HLC_PACK_MAX_ITEMS; i++)
        hlc_buf_appendf(&b, "    - pkg%d\n", i);
    load_bad(b.data, 3 + HLC_PACK_MAX_ITEMS + 1, 7, "more than 512 items");
    hlc_buf_release(&b);
    assert_int_equal(bad_count, 0);
}

static void
test_hostile_packs(void **state)
{
    (void)state;
    /* Injection attempts in every field that could reach a shell. */
    load_bad("name: x\nfiles:\n  - path: \"/etc/x;reboot\"\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles:\n  - path: \"/tmp/$(reboot)\"\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles:\n  - path: \"/tmp/a b\"\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles:\n  - path: \"/tmp/a'b\"\n", 3, 11, "must be absolute");
    load_bad("name: x\nfiles:\n  - {path: /a, owner: \"root;id\"}\n", 3, 23, "user/group");
    load_bad("name: x\npackages:\n  present: [\"git;reboot\"]\n", 3, 13, "not a valid name");
    load_bad("name: x\npackages:\n  present: [\"-oDebug=1\"]\n", 3, 13, "not a valid name");
    load_bad("name: x\npackages:\n  present: [\"git*\"]\n", 3, 13, "not a valid name");
    load_bad("name: x\nservices:\n  running: [\"ssh`id`\"]\n", 3, 13, "not a valid name");
    load_bad("name: x\nservices:\n  running: [\"-H evil\"]\n", 3, 13, "not a valid name");
    load_bad("name: x\nsettings:\n  sysctl: {\"vm.swappiness;id\": \"1\"}\n", 3, 12, "not a sysctl key");
    load_bad("name: x\nsettings:\n  sysctl: {vm.swappiness: \"1; reboot\"}\n", 3, 27,
             "value must be");
    load_bad("name: x\nsettings:\n  sysctl: {vm.swappiness: \"$(id)\"}\n", 3, 27, "value must be");
    load_bad("name: x\nsettings:\n  lines:\n    - {path: /e, line: \"a\\nb\"}\n", 4, 24,
             "one line of text");
    load_bad("name: x\nfiles:\n  - {path: /a, content: \"a\\0b\"}\n", 3, 25, "UTF-8 text");
    load_bad("name: x\nfiles:\n  - {path: /a, content: \"\\x1b[31m\"}\n", 3, 25, "UTF-8 text");
    load_bad("name: x\ndescription: \"\xff\xfe\"\n", 2, 15, "YAML syntax");
    /* Exponential aliases (billion laughs) are refused before anything is built. */
    load_bad("name: x\na: &a [x, x]\nb: &b [*a, *a]\n", 3, 8, "aliases");
    /* A line holding quotes and $() is fine: it is data, quoted in the script. */
    struct hlc_pack *p = load_ok("name: x\nsettings:\n  lines:\n"
                                 "    - {path: /e, line: \"X='$(reboot)' `id`\"}\n");
    char *script = NULL;
    assert_int_equal(hlc_pack_check_script(p, &script), 0);
    assert_non_null(strstr(script, "hl 0 '/e' 'X='\\''$(reboot)'\\'' `id`' ''\n"));
    free(script);
    /* A pack built by hand, not by the loader, is checked again. */
    free(p->items[0].target);
    p->items[0].target = strdup("/e;reboot");
    assert_int_equal(hlc_pack_check_script(p, &script), HLC_EINVAL);
    assert_null(script);
    hlc_pack_free(p);
    assert_int_equal(bad_count, 0);
}

static void
test_extends_and_cycles(void **state)
{
    (void)state;
    struct hlc_pack *a = load_ok("name: a\nextends: [b]\npackages: {present: [git]}\n");
    struct hlc_pack *b = load_ok("name: b\nextends:\n  - c\npackages: {absent: [git]}\n");
    struct hlc_pack *c = load_ok("name: c\nextends: a\n");
    struct hlc_pack *d = load_ok("name: d\nextends: [nosuch]\n");
    struct hlc_pack *all[] = {a, b, c, d};
    struct hlc_pack *out = (struct hlc_pack *)1;
    struct hlc_pack_error e;
    assert_int_equal(hlc_pack_resolve(all, 4, "a", &out, &e), HLC_EINVAL);
    assert_null(out);
    assert_non_null(strstr(e.message, "cycle"));
    /* the cycle closes at c's "extends: a", line 2 column 10 */
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 10);
    assert_int_equal(hlc_pack_resolve(all, 4, "d", &out, &e), HLC_EINVAL);
    assert_non_null(strstr(e.message, "no pack named 'nosuch'"));
    assert_int_equal(hlc_pack_resolve(all, 4, "zz", &out, &e), HLC_ENOTFOUND);
    hlc_pack_free(c);
    /* without the cycle: b's "absent git" is replaced by a's "present git" */
    c = load_ok("name: c\n");
    all[2] = c;
    assert_int_equal(hlc_pack_resolve(all, 3, "a", &out, &e), 0);
    assert_int_equal(out->nitems, 1);
    assert_int_equal(out->items[0].type, HLC_PACK_PKG);
    assert_string_equal(out->items[0].origin, "a");
    hlc_pack_free(out);
    for (size_t i = 0; i < 4; i++)
        hlc_pack_free(all[i]);
}

/* The script run by the real /bin/sh against real files in a temp dir. */
static char *
run_script(const char *script, size_t *len)
{
    char tmp[] = "/tmp/hlc-packs-script-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "sh -s < %s", tmp);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    struct hlc_buf b;
    hlc_buf_init(&b, HLC_PACK_MAX_OUTPUT);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(hlc_buf_append(&b, chunk, n), 0);
    assert_int_equal(pclose(f), 0);
    unlink(tmp);
    *len = b.len;
    return hlc_buf_steal(&b);
}

static void
write_text(const char *path, const char *text, size_t n, int mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
    chmod(path, (mode_t)mode);
}

static void
test_check_on_real_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-packs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char same[300], diff[300], bin[300], gone[300], extra[300], env[300];
    snprintf(same, sizeof(same), "%s/same.conf", dir);
    snprintf(diff, sizeof(diff), "%s/diff.conf", dir);
    snprintf(bin, sizeof(bin), "%s/bin.conf", dir);
    snprintf(gone, sizeof(gone), "%s/gone.conf", dir);
    snprintf(extra, sizeof(extra), "%s/extra.conf", dir);
    snprintf(env, sizeof(env), "%s/environment", dir);
    write_text(same, "a\nb\n", 4, 0644);
    write_text(diff, "one\ntwo\nthree", 13, 0600);
    write_text(bin, "\x7f" "ELF\0\1\2", 7, 0644);
    write_text(extra, "x\n", 2, 0644);
    write_text(env, "PATH=/bin\nEDITOR=nano\n", 22, 0644);
    char *yaml = hlc_xasprintf(
        "name: t\nfiles:\n"
        "  - {path: %s, content: \"a\\nb\\n\", mode: \"0644\"}\n"
        "  - {path: %s, content: \"one\\n2\\nthree\\n\", mode: \"0644\"}\n"
        "  - {path: %s, content: \"text\\n\"}\n"
        "  - {path: %s, content: \"new\\n\"}\n"
        "  - {path: %s, absent: true}\n"
        "packages: {present: [dpkg, hlc-no-such-package], absent: [hlc-other-missing]}\n"
        "settings:\n"
        "  sysctl: {kernel.ostype: Linux, kernel.hostname: \"no-such-host-name\"}\n"
        "  lines:\n"
        "    - {path: %s, line: \"PATH=/bin\"}\n"
        "    - {path: %s, line: \"EDITOR=vim\", match: \"^EDITOR=\"}\n",
        same, diff, bin, gone, extra, env, env);
    struct hlc_pack *p = load_ok(yaml);
    free(yaml);
    char *script = NULL;
    assert_int_equal(hlc_pack_check_script(p, &script), 0);
    size_t len = 0;
    char *out = run_script(script, &len);
    free(script);
    struct hlc_pack_results res;
    assert_int_equal(hlc_pack_parse(p, out, len, false, &res), 0);
    free(out);
    hlc_pack_diff_results(p, &res);
    enum hlc_pack_status want[] = {HLC_PACK_PASS, HLC_PACK_FAIL, HLC_PACK_FAIL, HLC_PACK_FAIL,
                                   HLC_PACK_FAIL, HLC_PACK_PASS, HLC_PACK_FAIL, HLC_PACK_PASS,
                                   HLC_PACK_PASS, HLC_PACK_FAIL, HLC_PACK_PASS, HLC_PACK_FAIL};
    assert_int_equal(res.n, sizeof(want) / sizeof(*want));
    /* Order: files, then packages as written, sysctls, lines. */
    for (size_t i = 0; i < res.n; i++)
        if (res.r[i].status != want[i])
            fail_msg("item %zu (%s): status %d, want %d (%s / %s)", i, p->items[i].target,
                     res.r[i].status, want[i], res.r[i].actual ? res.r[i].actual : "",
                     res.r[i].reason ? res.r[i].reason : "");
    assert_int_equal(res.r[1].mismatch, HLC_PACK_CONTENT | HLC_PACK_MODE);
    char *wantdiff = hlc_xasprintf("--- %s (machine)\n+++ %s (pack)\n"
                                   "@@ -1,3 +1,3 @@\n one\n-two\n-three\n\\ No newline at end of file\n"
                                   "+2\n+three\n",
                                   diff, diff);
    assert_string_equal(res.r[1].diff, wantdiff);
    free(wantdiff);
    assert_true(res.r[2].binary);
    assert_non_null(strstr(res.r[2].diff, "Binary file"));
    assert_int_equal(res.r[3].mismatch, HLC_PACK_MISSING);
    wantdiff = hlc_xasprintf("--- /dev/null\n+++ %s (pack)\n@@ -0,0 +1 @@\n+new\n", gone);
    assert_string_equal(res.r[3].diff, wantdiff);
    free(wantdiff);
    assert_int_equal(res.r[4].mismatch, HLC_PACK_PRESENT);
    assert_null(res.r[4].diff);
    assert_non_null(strstr(res.r[5].actual, "installed "));
    assert_string_equal(res.r[6].actual, "not installed");
    assert_string_equal(res.r[9].expected, "no-such-host-name");
    assert_non_null(strstr(res.r[11].actual, "lines matching: EDITOR=nano"));
    assert_int_equal(res.pass, 5);
    assert_int_equal(res.fail, 7);
    hlc_pack_results_release(&res);
    hlc_pack_free(p);
    const char *files[] = {same, diff, bin, extra, env};
    for (size_t i = 0; i < 5; i++)
        unlink(files[i]);
    rmdir(dir);
}

static void
test_parse_hostile(void **state)
{
    (void)state;
    struct hlc_pack *p = load_ok("name: t\nfiles:\n  - {path: /a, content: \"x\\n\"}\n"
                                 "packages: {present: [git]}\nservices: {running: [ssh]}\n");
    struct hlc_pack_results res;
    /* nothing at all */
    assert_int_equal(hlc_pack_parse(p, "", 0, false, &res), 0);
    assert_int_equal(res.error, 3);
    assert_non_null(strstr(res.r[0].reason, "cut off"));
    hlc_pack_results_release(&res);
    /* cut off inside the package block */
    const char *cut = "=F 0 missing\n=S 2 active\n=P\ngit|ii |1:2.39\n";
    assert_int_equal(hlc_pack_parse(p, cut, strlen(cut), true, &res), 0);
    assert_int_equal(res.r[0].status, HLC_PACK_FAIL);
    assert_int_equal(res.r[1].status, HLC_PACK_ERROR);
    assert_int_equal(res.r[2].status, HLC_PACK_PASS);
    hlc_pack_results_release(&res);
    /* malformed fields, out-of-range indexes, wrong record kinds */
    const char *bad = "=F 0 file 999 root root 1 zz\n=F 7 missing\n=F -1 missing\n"
                      "=S 0 active\n=S 2 act\x01ve\n=P none\n=END\n";
    assert_int_equal(hlc_pack_parse(p, bad, strlen(bad), false, &res), 0);
    assert_int_equal(res.error, 3);
    assert_non_null(strstr(res.r[0].reason, "malformed"));
    assert_non_null(strstr(res.r[1].reason, "dpkg"));
    assert_non_null(strstr(res.r[2].reason, "not text"));
    hlc_pack_results_release(&res);
    /* binary noise and a huge output */
    size_t n = 3 * 1024 * 1024;
    char *noise = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (char)(x >> 16);
        if (i % 97 == 0)
            noise[i] = '\n';
        if (i % 193 == 1)
            noise[i] = '=';
    }
    assert_int_equal(hlc_pack_parse(p, noise, n, true, &res), 0);
    assert_int_equal(res.pass + res.fail + res.error, 3);
    hlc_pack_results_release(&res);
    /* content that is binary, too big, or not base64 */
    const char *c = "=F 0 file 644 root root 5 0000000000000000000000000000000000000000000000000000000000000000\n"
                    "=C 0 AAEC\n=END\n";
    assert_int_equal(hlc_pack_parse(p, c, strlen(c), false, &res), 0);
    assert_true(res.r[0].binary);
    hlc_pack_diff_results(p, &res);
    assert_non_null(strstr(res.r[0].diff, "Binary file /a differs"));
    hlc_pack_results_release(&res);
    c = "=F 0 file 644 root root 99999 0000000000000000000000000000000000000000000000000000000000000000\n"
        "=C 0 big\n=END\n";
    assert_int_equal(hlc_pack_parse(p, c, strlen(c), false, &res), 0);
    hlc_pack_diff_results(p, &res);
    assert_non_null(strstr(res.r[0].diff, "larger than 64 KiB"));
    hlc_pack_results_release(&res);
    c = "=F 0 file 644 root root 9 0000000000000000000000000000000000000000000000000000000000000000\n"
        "=C 0 !!!notbase64\n=END\n";
    assert_int_equal(hlc_pack_parse(p, c, strlen(c), false, &res), 0);
    assert_int_equal(res.r[0].status, HLC_PACK_FAIL);
    hlc_pack_diff_results(p, &res);
    assert_non_null(strstr(res.r[0].diff, "not fetched"));
    hlc_pack_results_release(&res);
    free(noise);
    hlc_pack_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_resolve),
        cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_hostile_packs),
        cmocka_unit_test(test_extends_and_cycles),
        cmocka_unit_test(test_check_on_real_files),
        cmocka_unit_test(test_parse_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
