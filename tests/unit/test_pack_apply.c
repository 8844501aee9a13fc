/* test_pack_apply.c - apply plans and the apply script, run by a real sh on
 * real files in a temp dir: only failing items touched, atomic writes,
 * idempotence, symlinks refused, a write that fails (file-size limit) leaves
 * the old file whole, dependent items skipped, and the parser on cut-off and
 * hostile output. */
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

static struct hlc_pack *
load_ok(const char *text)
{
    struct hlc_pack *p = NULL;
    struct hlc_pack_error e;
    if (hlc_pack_load("t.yaml", text, strlen(text), &p, &e) != 0)
        fail_msg("load failed: %s:%d:%d: %s", e.file, e.line, e.column, e.message);
    return p;
}

/* Runs script with `sh -s` after `pre` (shell text, may be ""). */
static char *
run_sh(const char *pre, const char *script, size_t *len)
{
    char tmp[] = "/tmp/hlc-apply-script-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
    close(fd);
    char *cmd = hlc_xasprintf("sh -c '%s sh -s' < %s", pre, tmp);
    FILE *f = popen(cmd, "r");
    free(cmd);
    assert_non_null(f);
    struct hlc_buf b;
    hlc_buf_init(&b, HLC_PACK_MAX_OUTPUT);
    hlc_buf_append(&b, "", 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(hlc_buf_append(&b, chunk, n), 0);
    pclose(f);
    unlink(tmp);
    *len = b.len;
    return hlc_buf_steal(&b);
}

static void
check(const struct hlc_pack *p, const char *pre, struct hlc_pack_results *res)
{
    char *script = NULL;
    assert_int_equal(hlc_pack_check_script(p, &script), 0);
    size_t len = 0;
    char *out = run_sh(pre, script, &len);
    free(script);
    assert_int_equal(hlc_pack_parse(p, out, len, false, res), 0);
    free(out);
}

static void
apply(const struct hlc_pack *p, const struct hlc_pack_plan *plan, const char *pre,
      struct hlc_pack_apply_results *ar)
{
    char *script = NULL;
    assert_int_equal(hlc_pack_apply_script(p, plan, false, &script), 0);
    size_t len = 0;
    char *out = run_sh(pre, script, &len);
    free(script);
    if (getenv("HLC_TEST_DUMP"))
        print_message("%s\n", out);
    assert_int_equal(hlc_pack_apply_parse(plan, out, len, ar), 0);
    free(out);
}

static void
write_text(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct hlc_buf b;
    hlc_buf_init(&b, 1 << 20);
    hlc_buf_append(&b, "", 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        hlc_buf_append(&b, chunk, n);
    fclose(f);
    return hlc_buf_steal(&b);
}

static const struct hlc_pack_plan_step *
step_of(const struct hlc_pack_plan *plan, size_t item, size_t *k)
{
    for (size_t i = 0; i < plan->n; i++)
        if (plan->s[i].item == item) {
            if (k)
                *k = i;
            return &plan->s[i];
        }
    return NULL;
}

/* Only failing items are planned and touched; the second apply has nothing to do. */
static void
test_apply_files_and_lines(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-apply-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char same[300], diff[300], gone[300], extra[300], env[300], meta[300];
    snprintf(same, sizeof(same), "%s/same.conf", dir);
    snprintf(diff, sizeof(diff), "%s/diff.conf", dir);
    snprintf(gone, sizeof(gone), "%s/gone.conf", dir);
    snprintf(extra, sizeof(extra), "%s/extra.conf", dir);
    snprintf(env, sizeof(env), "%s/environment", dir);
    snprintf(meta, sizeof(meta), "%s/meta.conf", dir);
    write_text(same, "a\nb\n", 0644);
    write_text(diff, "one\ntwo\n", 0600);
    write_text(extra, "x\n", 0644);
    write_text(env, "PATH=/bin\nEDITOR=nano\nLANG=C\n", 0640);
    write_text(meta, "keep\n", 0666);
    struct stat st0;
    assert_int_equal(stat(same, &st0), 0);
    char *yaml = hlc_xasprintf("name: t\nfiles:\n"
                               "  - {path: %s, content: \"a\\nb\\n\", mode: \"0644\"}\n"
                               "  - {path: %s, content: \"one\\n2\\n\", mode: \"0640\"}\n"
                               "  - {path: %s, content: \"new\\n\", mode: \"0600\"}\n"
                               "  - {path: %s, absent: true}\n"
                               "  - {path: %s, content: \"keep\\n\", mode: \"0644\"}\n"
                               "settings:\n"
                               "  lines:\n"
                               "    - {path: %s, line: \"PATH=/bin\"}\n"
                               "    - {path: %s, line: \"EDITOR=vim\", match: \"^EDITOR=\"}\n"
                               "    - {path: %s, line: \"TZ=UTC\"}\n",
                               same, diff, gone, extra, meta, env, env, env);
    struct hlc_pack *p = load_ok(yaml);
    free(yaml);
    struct hlc_pack_results res;
    check(p, "", &res);
    assert_int_equal(res.fail, 6);
    struct hlc_pack_plan plan;
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    assert_int_equal(plan.n, 6);
    assert_null(step_of(&plan, 0, NULL)); /* passing: not touched */
    assert_null(step_of(&plan, 5, NULL));
    assert_int_equal(step_of(&plan, 1, NULL)->kind, HLC_STEP_WRITE_FILE);
    assert_int_equal(step_of(&plan, 2, NULL)->kind, HLC_STEP_WRITE_FILE);
    assert_int_equal(step_of(&plan, 3, NULL)->kind, HLC_STEP_REMOVE_FILE);
    assert_int_equal(step_of(&plan, 4, NULL)->kind, HLC_STEP_FIX_META);
    assert_int_equal(step_of(&plan, 6, NULL)->kind, HLC_STEP_EDIT_LINE);
    assert_non_null(strstr(step_of(&plan, 2, NULL)->description, "atomically"));
    hlc_pack_results_release(&res);

    struct hlc_pack_apply_results ar;
    apply(p, &plan, "", &ar);
    assert_true(ar.complete);
    for (size_t k = 0; k < ar.n; k++)
        if (ar.r[k].outcome != HLC_APPLY_APPLIED)
            fail_msg("step %zu (%s): %s %s", k, hlc_pack_step_name(plan.s[k].kind),
                     hlc_pack_outcome_name(ar.r[k].outcome), ar.r[k].stderr_text);
    assert_int_equal(ar.applied, 6);
    hlc_pack_apply_results_release(&ar);
    hlc_pack_plan_release(&plan);

    char *t = read_text(diff);
    assert_string_equal(t, "one\n2\n");
    free(t);
    t = read_text(gone);
    assert_string_equal(t, "new\n");
    free(t);
    assert_null(read_text(extra));
    t = read_text(env);
    assert_string_equal(t, "PATH=/bin\nEDITOR=vim\nLANG=C\nTZ=UTC\n");
    free(t);
    struct stat st;
    assert_int_equal(stat(diff, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(stat(gone, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(meta, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(stat(env, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* a line edit keeps the mode */
    assert_int_equal(stat(same, &st), 0);
    assert_int_equal(st.st_ino, st0.st_ino); /* the passing file was not rewritten */

    /* No temp file is left behind. */
    char *cmd = hlc_xasprintf("ls -A %s | grep -c hlc-apply", dir);
    FILE *f = popen(cmd, "r");
    free(cmd);
    char cnt[16] = "";
    assert_non_null(fgets(cnt, sizeof(cnt), f));
    pclose(f);
    assert_string_equal(cnt, "0\n");

    /* Second time: compliant, nothing planned, nothing changes. */
    check(p, "", &res);
    assert_int_equal(res.fail, 0);
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    assert_int_equal(plan.n, 0);
    apply(p, &plan, "", &ar);
    assert_true(ar.complete);
    assert_int_equal(ar.applied + ar.failed + ar.unchanged + ar.skipped, 0);
    hlc_pack_apply_results_release(&ar);
    hlc_pack_plan_release(&plan);
    hlc_pack_results_release(&res);
    hlc_pack_free(p);
    cmd = hlc_xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* A symlink planted after the check is refused, its target untouched; a
 * write that fails (file-size limit: the disk-full case) leaves the old file. */
static void
test_apply_symlink_and_full_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-apply-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char link[300], victim[300], big[300], line[300];
    snprintf(link, sizeof(link), "%s/planted.conf", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(big, sizeof(big), "%s/big.conf", dir);
    snprintf(line, sizeof(line), "%s/line.conf", dir);
    write_text(victim, "precious\n", 0600);
    write_text(big, "old content\n", 0644);
    write_text(line, "a=1\n", 0644);
    struct hlc_buf yb;
    hlc_buf_init(&yb, 1 << 20);
    hlc_buf_appendf(&yb,
                    "name: t\nfiles:\n  - {path: %s, content: \"evil\\n\"}\n"
                    "  - {path: %s, content: \"",
                    link, big);
    for (int i = 0; i < 800; i++)
        hlc_buf_appendf(&yb, "line %04d of a long file\\n", i);
    hlc_buf_appendf(&yb, "\"}\nsettings:\n  lines:\n    - {path: %s, line: \"b=2\"}\n", line);
    char *yaml = hlc_buf_steal(&yb);
    struct hlc_pack *p = load_ok(yaml);
    free(yaml);
    struct hlc_pack_results res;
    check(p, "", &res);
    assert_int_equal(res.fail, 3);
    struct hlc_pack_plan plan;
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    hlc_pack_results_release(&res);
    assert_int_equal(plan.n, 3);
    assert_int_equal(symlink(victim, link), 0); /* planted after the check */
    struct hlc_pack_apply_results ar;
    apply(p, &plan, "ulimit -f 8;", &ar); /* 8 KiB: the big file cannot be written */
    assert_true(ar.complete);
    size_t k;
    assert_non_null(step_of(&plan, 0, &k));
    assert_int_equal(ar.r[k].outcome, HLC_APPLY_FAILED);
    assert_non_null(strstr(ar.r[k].stderr_text, "symbolic link"));
    assert_non_null(step_of(&plan, 1, &k));
    assert_int_equal(ar.r[k].outcome, HLC_APPLY_FAILED);
    assert_int_not_equal(ar.r[k].exit_code, 0);
    assert_non_null(strstr(ar.r[k].stderr_text, "left as it was"));
    assert_non_null(step_of(&plan, 2, &k)); /* one failure does not stop the others */
    assert_int_equal(ar.r[k].outcome, HLC_APPLY_APPLIED);
    hlc_pack_apply_results_release(&ar);
    hlc_pack_plan_release(&plan);
    char *t = read_text(victim);
    assert_string_equal(t, "precious\n");
    free(t);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    t = read_text(big);
    assert_string_equal(t, "old content\n");
    free(t);
    t = read_text(line);
    assert_string_equal(t, "a=1\nb=2\n");
    free(t);
    char *cmd = hlc_xasprintf("ls -A %s | grep -c hlc-apply", dir);
    FILE *f = popen(cmd, "r");
    free(cmd);
    char cnt[16] = "";
    assert_non_null(fgets(cnt, sizeof(cnt), f));
    pclose(f);
    assert_string_equal(cnt, "0\n"); /* the failed temp copy was removed */
    hlc_pack_free(p);
    cmd = hlc_xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* Packages, services, sysctl and timezone through stand-ins that log their
 * arguments; a unit from a package that failed to install is skipped. */
static void
test_apply_packages_services(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-apply-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *bin = hlc_xasprintf("%s/bin", dir);
    assert_int_equal(mkdir(bin, 0755), 0);
    static const struct {
        const char *name, *body;
    } tools[] = {
        {"dpkg-query", "exit 1\n"},
        {"apt-get", "echo \"apt-get $*\" >>\"$L\"\n"
                    "case \"$*\" in *broken*) echo 'E: Unable to locate package broken' >&2; "
                    "exit 100;; esac\nexit 0\n"},
        {"systemctl", "echo \"systemctl $*\" >>\"$L\"\n"
                      "case $1 in is-enabled) echo disabled; exit 1;; is-active) echo inactive; "
                      "exit 3;; esac\nexit 0\n"},
        {"timedatectl", "echo \"timedatectl $*\" >>\"$L\"\n"
                        "[ \"$1\" = show ] && echo Etc/UTC\nexit 0\n"},
        {"sysctl", "echo \"sysctl $*\" >>\"$L\"\n[ \"$1\" = -n ] && echo 0\nexit 0\n"},
    };
    for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++) {
        char *path = hlc_xasprintf("%s/%s", bin, tools[i].name);
        char *body = hlc_xasprintf("#!/bin/sh\n%s", tools[i].body);
        write_text(path, body, 0755);
        free(path);
        free(body);
    }
    const char *yaml = "name: t\n"
                       "packages: {present: [nginx, broken]}\n"
                       "services: {enabled: [nginx, broken], running: [cron]}\n"
                       "settings:\n  timezone: Europe/Berlin\n";
    struct hlc_pack *p = load_ok(yaml);
    char *pre = hlc_xasprintf("PATH=%s:$PATH; L=%s/log; export PATH L;", bin, dir);
    struct hlc_pack_results res;
    check(p, pre, &res);
    assert_int_equal(res.fail, 6);
    struct hlc_pack_plan plan;
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    hlc_pack_results_release(&res);
    assert_int_equal(plan.n, 6);
    /* packages first, services last */
    assert_int_equal(plan.s[0].kind, HLC_STEP_INSTALL);
    assert_int_equal(plan.s[5].kind, HLC_STEP_START);
    const struct hlc_pack_plan_step *sb = step_of(&plan, 3, NULL);
    assert_int_equal(sb->kind, HLC_STEP_ENABLE);
    assert_int_equal(sb->depends_on, 1);
    assert_int_equal(step_of(&plan, 4, NULL)->depends_on, -1); /* cron: no package here */
    char *logp = hlc_xasprintf("%s/log", dir);
    unlink(logp);
    struct hlc_pack_apply_results ar;
    apply(p, &plan, pre, &ar);
    assert_true(ar.complete);
    size_t k;
    step_of(&plan, 1, &k);
    assert_int_equal(ar.r[k].outcome, HLC_APPLY_FAILED);
    assert_int_equal(ar.r[k].exit_code, 100);
    assert_string_equal(ar.r[k].stderr_text, "E: Unable to locate package broken");
    step_of(&plan, 3, &k);
    assert_int_equal(ar.r[k].outcome, HLC_APPLY_SKIPPED);
    assert_non_null(strstr(ar.r[k].stderr_text, "broken"));
    assert_int_equal(ar.applied, 4);
    assert_int_equal(ar.skipped, 1);
    assert_int_equal(ar.failed, 1);
    hlc_pack_apply_results_release(&ar);
    char *log = read_text(logp);
    assert_non_null(log);
    assert_non_null(strstr(log, "apt-get install -y --no-install-recommends nginx\n"));
    assert_non_null(strstr(log, "systemctl enable --now nginx\n"));
    assert_non_null(strstr(log, "systemctl start cron\n"));
    assert_non_null(strstr(log, "timedatectl set-timezone Europe/Berlin\n"));
    assert_null(strstr(log, "enable --now broken"));
    free(log);
    free(logp);
    hlc_pack_plan_release(&plan);
    hlc_pack_free(p);
    free(pre);
    free(bin);
    char *cmd = hlc_xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* The sysctl drop-in holds every sysctl item of the pack, one file. */
static void
test_plan_sysctl_dropin(void **state)
{
    (void)state;
    struct hlc_pack *p =
        load_ok("name: hard\nsettings:\n  sysctl: {kernel.a: \"1\", net.b: \"0\"}\n");
    struct hlc_pack_results res = {0};
    res.n = p->nitems;
    res.r = hlc_xcalloc(res.n, sizeof(*res.r));
    res.r[1].status = HLC_PACK_FAIL;
    res.r[1].mismatch = HLC_PACK_STATE;
    struct hlc_pack_plan plan;
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    assert_int_equal(plan.n, 1);
    assert_string_equal(plan.sysctl_path, "/etc/sysctl.d/90-homelabcmd-hard.conf");
    assert_non_null(strstr(plan.sysctl_content, "kernel.a = 1\n"));
    assert_non_null(strstr(plan.sysctl_content, "net.b = 0\n"));
    char *script = NULL;
    assert_int_equal(hlc_pack_apply_script(p, &plan, true, &script), 0);
    assert_non_null(strstr(script, "S='sudo -n'"));
    assert_non_null(strstr(script, "sy '/etc/sysctl.d/90-homelabcmd-hard.conf'"));
    free(script);
    /* A value no pattern allows never reaches a script. */
    free(p->items[1].value);
    p->items[1].value = hlc_xstrdup("1; rm -rf /");
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), HLC_EINVAL);
    assert_null(script);
    hlc_pack_plan_release(&plan);
    free(res.r);
    hlc_pack_free(p);
}

/* Cut-off output (the session died mid-apply) fails what did not report;
 * garbage is ignored. */
/* The apply script re-checks every planned item's values, a file's owner,
 * group and content included, so a pack changed after loading never reaches a
 * shell. */
static void
test_script_refuses_tampered_items(void **state)
{
    (void)state;
    struct hlc_pack *p = load_ok("name: t\nfiles:\n"
                                 "  - {path: /etc/t.conf, content: \"a\\n\", owner: root}\n"
                                 "settings:\n  lines:\n    - {path: /etc/u.conf, line: \"K=v\"}\n");
    struct hlc_pack_results res = {0};
    res.n = p->nitems;
    res.r = hlc_xcalloc(res.n, sizeof(*res.r));
    res.r[0].status = res.r[1].status = HLC_PACK_FAIL;
    res.r[0].mismatch = HLC_PACK_CONTENT;
    res.r[1].mismatch = HLC_PACK_MISSING;
    struct hlc_pack_plan plan;
    assert_int_equal(hlc_pack_plan_build(p, &res, NULL, &plan), 0);
    assert_int_equal(plan.n, 2);
    char *script = NULL;
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), 0);
    free(script);
    struct hlc_pack_item *f = &p->items[0], *l = &p->items[1];
    char *keep = f->owner;
    f->owner = hlc_xstrdup("Root User"); /* not a user name */
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), HLC_EINVAL);
    free(f->owner);
    f->owner = keep;
    keep = f->value;
    f->value = hlc_xstrdup("a\x01\n"); /* a control character in the content */
    f->value_len = 3;
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), HLC_EINVAL);
    free(f->value);
    f->value = keep;
    f->value_len = 2;
    l->match = hlc_xstrdup("a\nb"); /* a line pattern over two lines */
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), HLC_EINVAL);
    free(l->match);
    l->match = NULL;
    assert_int_equal(hlc_pack_apply_script(p, &plan, false, &script), 0);
    free(script);
    hlc_pack_plan_release(&plan);
    free(res.r);
    hlc_pack_free(p);
}

static void
test_parse_cut_off_and_hostile(void **state)
{
    (void)state;
    struct hlc_pack_plan_step s[3] = {
        {.item = 0, .kind = HLC_STEP_INSTALL, .depends_on = -1},
        {.item = 2, .kind = HLC_STEP_WRITE_FILE, .depends_on = -1},
        {.item = 7, .kind = HLC_STEP_START, .depends_on = -1},
    };
    struct hlc_pack_plan plan = {.s = s, .n = 3};
    const char out[] = "noise\n=A 0 applied 0 \n=A 0 failed 1 \n=A 9 applied 0\n"
                       "=A 2 failed 1 ZXJyCg==\n=A 7 applied 0";
    struct hlc_pack_apply_results ar;
    assert_int_equal(hlc_pack_apply_parse(&plan, out, sizeof(out) - 1, &ar), 0);
    assert_false(ar.complete);
    assert_int_equal(ar.r[0].outcome, HLC_APPLY_APPLIED); /* first record wins */
    assert_int_equal(ar.r[1].outcome, HLC_APPLY_FAILED);
    assert_string_equal(ar.r[1].stderr_text, "err");
    assert_int_equal(ar.r[2].outcome, HLC_APPLY_FAILED); /* no newline: cut off */
    assert_int_equal(ar.r[2].exit_code, -1);
    assert_non_null(strstr(ar.r[2].stderr_text, "stopped before"));
    assert_int_equal(ar.failed, 2);
    hlc_pack_apply_results_release(&ar);
    /* Every prefix and random bytes: never crashes, always n results. */
    for (size_t n = 0; n < sizeof(out); n++) {
        assert_int_equal(hlc_pack_apply_parse(&plan, out, n, &ar), 0);
        assert_int_equal(ar.n, 3);
        hlc_pack_apply_results_release(&ar);
    }
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    assert_int_equal(hlc_pack_apply_parse(&plan, (char *)junk, sizeof(junk), &ar), 0);
    hlc_pack_apply_results_release(&ar);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_files_and_lines),
        cmocka_unit_test(test_apply_symlink_and_full_disk),
        cmocka_unit_test(test_apply_packages_services),
        cmocka_unit_test(test_plan_sysctl_dropin),
        cmocka_unit_test(test_script_refuses_tampered_items),
        cmocka_unit_test(test_parse_cut_off_and_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
