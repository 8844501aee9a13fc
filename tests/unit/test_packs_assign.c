/* test_packs_assign.c - the removal cleanup: its script run by a real sh on
 * real files (a file still as the pack wrote it goes; a changed one, a
 * symlink and a folder stay), packages another pack requires spared, and the
 * parser on hostile output. */
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
#include <jansson.h>

#include "assign.h"
#include "hlc/pack.h"

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

static void
put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *
outcome(json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(list, i), "outcome"));
}

static void
test_script_on_real_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/hlc-assign-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char yaml[2048], path[1200];
    snprintf(yaml, sizeof(yaml),
             "name: t\nfiles:\n"
             "  - {path: %s/same, content: \"a\\n\"}\n"
             "  - {path: %s/changed, content: \"b\\n\"}\n"
             "  - {path: %s/link, content: \"a\\n\"}\n"
             "  - {path: %s/dir, content: \"a\\n\"}\n"
             "  - {path: %s/gone, content: \"a\\n\"}\n"
             "  - {path: \"%s/a=b,c~d\", content: \"q\\n\"}\n"
             "  - {path: %s/modeonly, mode: \"0600\"}\n",
             dir, dir, dir, dir, dir, dir, dir);
    struct hlc_pack *p = load_ok(yaml);
    snprintf(path, sizeof(path), "%s/same", dir);
    put(path, "a\n");
    snprintf(path, sizeof(path), "%s/changed", dir);
    put(path, "changed by hand\n");
    snprintf(path, sizeof(path), "%s/target", dir);
    put(path, "a\n");
    char link[1200];
    snprintf(link, sizeof(link), "%s/link", dir);
    assert_int_equal(symlink(path, link), 0);
    snprintf(path, sizeof(path), "%s/dir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/a=b,c~d", dir);
    put(path, "q\n");
    snprintf(path, sizeof(path), "%s/modeonly", dir);
    put(path, "kept: the pack did not write it\n");

    char *script = NULL;
    assert_int_equal(hlc_assign_cleanup_script(p, NULL, &script), 0);
    char sfile[1200];
    snprintf(sfile, sizeof(sfile), "%s.sh", dir);
    put(sfile, script);
    free(script);
    char cmd[2600];
    snprintf(cmd, sizeof(cmd), "sh %s", sfile);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    unlink(sfile);

    json_t *r = hlc_assign_cleanup_parse(p, NULL, out, n);
    json_t *files = json_object_get(r, "files");
    assert_int_equal(json_array_size(files), 6); /* modeonly has no content */
    assert_string_equal(outcome(files, 0), "removed");
    assert_string_equal(outcome(files, 1), "changed");
    assert_string_equal(outcome(files, 2), "not_regular");
    assert_string_equal(outcome(files, 3), "not_regular");
    assert_string_equal(outcome(files, 4), "missing");
    assert_string_equal(outcome(files, 5), "removed");
    assert_int_equal(json_integer_value(json_object_get(r, "removed")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "left")), 3);
    json_decref(r);

    snprintf(path, sizeof(path), "%s/same", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/changed", dir);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/target", dir); /* not written through the link */
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(access(link, F_OK), 0);
    snprintf(path, sizeof(path), "%s/modeonly", dir);
    assert_int_equal(access(path, F_OK), 0);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    hlc_pack_free(p);
}

static void
test_packages_kept_and_parser(void **state)
{
    (void)state;
    struct hlc_pack *p = load_ok("name: t\npackages:\n  present: [git, htop, vim]\n"
                                 "  absent: [telnet]\n");
    json_t *keep = json_pack("[s]", "git");
    char *script = NULL;
    assert_int_equal(hlc_assign_cleanup_script(p, keep, &script), 0);
    assert_null(strstr(script, "'git'"));
    assert_non_null(strstr(script, "'htop'"));
    assert_null(strstr(script, "telnet")); /* what must be absent is never touched */
    free(script);
    /* Hostile output: a line for a look-alike index, an unknown word, junk. */
    const char *out = "P10 removed\nP1 exploded\n\x01\xff garbage\nP2 removed\nP2 failed";
    json_t *r = hlc_assign_cleanup_parse(p, keep, out, strlen(out));
    json_t *pk = json_object_get(r, "packages");
    assert_int_equal(json_array_size(pk), 3);
    assert_string_equal(outcome(pk, 0), "kept");
    assert_string_equal(outcome(pk, 1), "unknown");
    assert_string_equal(outcome(pk, 2), "removed");
    assert_int_equal(json_integer_value(json_object_get(r, "removed")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "left")), 1);
    json_decref(r);
    r = hlc_assign_cleanup_parse(p, keep, "", 0);
    assert_string_equal(outcome(json_object_get(r, "packages"), 2), "unknown");
    json_decref(r);
    json_decref(keep);
    hlc_pack_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_on_real_files),
        cmocka_unit_test(test_packages_kept_and_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
