/* test_scans.c - the scan output parser (real-format sections and hostile
 * text), the comparison of two results, and the scans store (history, pins,
 * 30-day retention). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc/base.h"
#include "scans.h"
#include "store.h"

static const char sample_full[] =
    "<<<osrelease>>>\n"
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
    "<<<uname>>>\nhostname=nas\nkernel=6.1.0-27-amd64\narch=x86_64\n"
    "<<<stat>>>\ncpu  100 0 50 1000 10 0 5 0 0 0\ncpu0 100 0 50 1000 10 0 5 0 0 0\nbtime 1700000000\n"
    "<<<cpus>>>\n4\n"
    "<<<cpuinfo>>>\nmodel name\t: Intel(R) Celeron(R) N5105 @ 2.00GHz\n"
    "<<<meminfo>>>\nMemTotal:        8000000 kB\nMemFree:  1000000 kB\nMemAvailable:    6000000 kB\n"
    "SwapTotal: 0 kB\nSwapFree: 0 kB\n"
    "<<<uptime>>>\n3600.50 7000.00\n"
    "<<<loadavg>>>\n0.50 0.40 0.30 1/200 1234\n"
    "<<<df>>>\nFilesystem Type 1-blocks Used Available Capacity Mounted on\n"
    "/dev/sda1 ext4 100000000 40000000 60000000 40% /\n"
    "tmpfs tmpfs 1000 0 1000 0% /run\n"
    "<<<addr>>>\n"
    "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
    "2: eth0    inet 192.168.1.10/24 brd 192.168.1.255 scope global eth0\\       valid_lft forever\n"
    "2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n"
    "<<<link>>>\n"
    "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT\\    "
    "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
    "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT "
    "group default qlen 1000\\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
    "<<<route>>>\ndefault via 192.168.1.1 dev eth0 proto dhcp metric 100\n"
    "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10\n"
    "<<<dns>>>\nnameserver 192.168.1.1\nsearch lan home.arpa\n"
    "<<<listen>>>\n"
    "tcp   LISTEN 0      128      0.0.0.0:22     0.0.0.0:*\n"
    "tcp   LISTEN 0      511         [::]:80        [::]:*\n"
    "udp   UNCONN 0      0     127.0.0.53%lo:53     0.0.0.0:*\n"
    "<<<ps_cpu>>>\n  812 root      12.5  1.2 98304 plexmediaserver\n    1 root 0.0 0.1 12000 systemd\n"
    "<<<ps_mem>>>\n  812 root      12.5  1.2 98304 plexmediaserver\n"
    "<<<dpkg>>>\nii \tbash\t5.2.15-2+b2\nrc \told-pkg\t1.0\nii \tzlib1g\t1:1.2.13.dfsg-1\n"
    "<<<failed>>>\nbackup.service loaded failed failed Nightly backup\n"
    "<<<docker>>>\n{\"ID\":\"abc\",\"Names\":\"web\",\"Image\":\"nginx\",\"State\":\"running\","
    "\"Status\":\"Up 2 hours\"}\n";

static void
test_parse_full(void **state)
{
    (void)state;
    json_t *o = NULL;
    assert_int_equal(hlc_scan_parse(sample_full, strlen(sample_full), &o), 0);
    assert_string_equal(json_string_value(json_object_get(o, "hostname")), "nas");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "os"), "name")),
                        "Debian GNU/Linux 12 (bookworm)");
    json_t *cpu = json_object_get(o, "cpu");
    assert_int_equal(json_integer_value(json_object_get(cpu, "cores")), 4);
    assert_string_equal(json_string_value(json_object_get(cpu, "model")),
                        "Intel(R) Celeron(R) N5105 @ 2.00GHz");
    json_t *mem = json_object_get(o, "memory");
    assert_int_equal(json_integer_value(json_object_get(mem, "total_bytes")), 8000000LL * 1024);
    json_t *disks = json_object_get(o, "disks");
    assert_int_equal(json_array_size(disks), 1); /* tmpfs skipped, as the collector does */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(disks, 0), "total_bytes")),
                     100000000);
    json_t *ifs = json_object_get(json_object_get(o, "network"), "interfaces");
    assert_int_equal(json_array_size(ifs), 1); /* lo left out */
    json_t *eth = json_array_get(ifs, 0);
    assert_string_equal(json_string_value(json_object_get(eth, "name")), "eth0");
    assert_string_equal(json_string_value(json_object_get(eth, "mac")), "52:54:00:12:34:56");
    assert_string_equal(json_string_value(json_object_get(eth, "state")), "UP");
    assert_int_equal(json_integer_value(json_object_get(eth, "mtu")), 1500);
    assert_int_equal(json_array_size(json_object_get(eth, "addresses")), 2);
    json_t *routes = json_object_get(json_object_get(o, "network"), "routes");
    assert_int_equal(json_array_size(routes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(routes, 0), "via")),
                        "192.168.1.1");
    json_t *dns = json_object_get(json_object_get(o, "network"), "dns");
    assert_int_equal(json_array_size(json_object_get(dns, "search")), 2);
    json_t *ls = json_object_get(o, "listening");
    assert_int_equal(json_array_size(ls), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 1), "address")),
                        "[::]");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ls, 2), "port")), 53);
    json_t *ps = json_object_get(json_object_get(o, "processes"), "by_cpu");
    assert_int_equal(json_array_size(ps), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ps, 0), "rss_bytes")),
                     98304LL * 1024);
    json_t *pk = json_object_get(o, "packages");
    assert_string_equal(json_string_value(json_object_get(pk, "manager")), "dpkg");
    assert_int_equal(json_integer_value(json_object_get(pk, "count")), 2); /* "rc" is removed */
    assert_int_equal(json_array_size(json_object_get(o, "failed_units")), 1);
    assert_int_equal(json_array_size(json_object_get(o, "containers")), 1);
    assert_false(json_is_true(json_object_get(o, "truncated")));
    json_decref(o);
}

/* apk, rpm and opkg lines name and version the package. */
static void
test_parse_other_managers(void **state)
{
    (void)state;
    static const struct {
        const char *section, *line, *name, *version;
    } cases[] = {
        {"apk", "musl-1.2.4-r2", "musl", "1.2.4-r2"},
        {"apk", "py3-setuptools-68.0.0-r0", "py3-setuptools", "68.0.0-r0"},
        {"rpm", "bash\t5.1.8-6.el9", "bash", "5.1.8-6.el9"},
        {"opkg", "dropbear - 2022.82-2", "dropbear", "2022.82-2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = hlc_xasprintf("<<<meminfo>>>\nMemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n<<<%s>>>\n%s\n",
                                   cases[i].section, cases[i].line);
        json_t *o = NULL;
        assert_int_equal(hlc_scan_parse(text, strlen(text), &o), 0);
        json_t *pk = json_object_get(o, "packages");
        assert_string_equal(json_string_value(json_object_get(pk, "manager")), cases[i].section);
        json_t *p0 = json_array_get(json_object_get(pk, "list"), 0);
        assert_string_equal(json_string_value(json_object_get(p0, "name")), cases[i].name);
        assert_string_equal(json_string_value(json_object_get(p0, "version")), cases[i].version);
        json_decref(o);
        free(text);
    }
}

/* Hostile output: control bytes and invalid UTF-8 become '?', over-long
 * values are cut, arrays stop at their caps, junk lines are skipped, and
 * text that is not the script's is refused. */
static void
test_parse_hostile(void **state)
{
    (void)state;
    json_t *o = NULL;
    assert_int_equal(hlc_scan_parse("hello\n", 6, &o), HLC_EPARSE);
    assert_null(o);
    assert_int_equal(hlc_scan_parse("<<<meminfo>>>\nMemTotal: 1 kB\0x", 30, &o), HLC_EPARSE);
    assert_int_equal(hlc_scan_parse("x", HLC_SCAN_MAX_OUTPUT + 1, &o), HLC_ETOOBIG);

    struct hlc_buf b;
    hlc_buf_init(&b, 8u * 1024 * 1024);
    const char head[] = "<<<meminfo>>>\nMemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n<<<cpuinfo>>>\nmodel name\t: \x1b[31m\xff\xfe"
                        "evil\n<<<dpkg>>>\n";
    assert_int_equal(hlc_buf_append(&b, head, sizeof(head) - 1), 0);
    char line[600];
    for (int i = 0; i < HLC_SCAN_MAX_PACKAGES + 5; i++) {
        int n = snprintf(line, sizeof(line), "ii \tpkg%d\t1.%d\n", i, i);
        assert_int_equal(hlc_buf_append(&b, line, (size_t)n), 0);
    }
    memset(line, 'A', 500);
    memcpy(line, "ii \t", 4);
    line[300] = '\t';
    line[500] = '\n';
    assert_int_equal(hlc_buf_append(&b, line, 501), 0);
    const char tail[] = "garbage without tabs\n<<<listen>>>\ntcp LISTEN 0 1 0.0.0.0:99999 x\n"
                        "tcp LISTEN 0 1 noport x\n<<<ps_cpu>>>\nabc root 1 1 1 x\n"
                        "<<<<>>>\n<<<failed>>>\n\xe2\x97\x8f bad.service loaded failed failed \x01\n";
    assert_int_equal(hlc_buf_append(&b, tail, sizeof(tail) - 1), 0);
    size_t len = b.len;
    char *text = hlc_buf_steal(&b);
    assert_int_equal(hlc_scan_parse(text, len, &o), 0);
    free(text);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "cpu"), "model")), "?[31m??evil");
    json_t *pk = json_object_get(o, "packages");
    assert_int_equal(json_integer_value(json_object_get(pk, "count")), HLC_SCAN_MAX_PACKAGES + 5);
    assert_int_equal(json_array_size(json_object_get(pk, "list")), HLC_SCAN_MAX_PACKAGES);
    assert_true(json_is_true(json_object_get(pk, "truncated")));
    assert_true(json_is_true(json_object_get(o, "truncated")));
    assert_int_equal(json_array_size(json_object_get(o, "listening")), 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "processes"), "by_cpu")), 0);
    json_t *f = json_array_get(json_object_get(o, "failed_units"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "unit")), "bad.service");
    assert_string_equal(json_string_value(json_object_get(f, "description")), "?");
    json_decref(o);
}

static json_t *
result(const char *kernel, long long used, const char *const *pkgs)
{
    json_t *list = json_array();
    for (size_t i = 0; pkgs[i]; i += 2)
        json_array_append_new(list, json_pack("{s:s, s:s}", "name", pkgs[i], "version", pkgs[i + 1]));
    return json_pack("{s:s, s:{s:s}, s:{s:I}, s:[{s:s, s:I, s:I}], s:{s:o}}", "kernel", kernel, "os",
                     "name", "Debian 12", "memory", "total_bytes", (json_int_t)8000, "disks",
                     "mount", "/", "used_bytes", (json_int_t)used, "total_bytes",
                     (json_int_t)100000, "packages", "list", list);
}

static void
test_compare(void **state)
{
    (void)state;
    const char *const pa[] = {"bash", "5.2", "curl", "7.88", "vim", "9.0", NULL};
    const char *const pb[] = {"htop", "3.2", "bash", "5.3", "curl", "7.88", NULL};
    json_t *a = result("6.1.0-26", 1000, pa), *b = result("6.1.0-27", 4500, pb);
    json_t *d = hlc_scan_compare(a, b);
    json_t *pk = json_object_get(d, "packages");
    assert_int_equal(json_array_size(json_object_get(pk, "added")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(pk, "added"), 0), "name")),
        "htop");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(pk, "removed"), 0), "name")),
                        "vim");
    json_t *ch = json_array_get(json_object_get(pk, "changed"), 0);
    assert_string_equal(json_string_value(json_object_get(ch, "from")), "5.2");
    assert_string_equal(json_string_value(json_object_get(ch, "to")), "5.3");
    json_t *disk = json_array_get(json_object_get(d, "disks"), 0);
    assert_int_equal(json_integer_value(json_object_get(disk, "growth_bytes")), 3500);
    assert_true(json_is_true(json_object_get(json_object_get(d, "kernel"), "changed")));
    assert_false(json_is_true(json_object_get(json_object_get(d, "memory"), "changed")));
    assert_false(json_is_true(json_object_get(json_object_get(d, "os"), "changed")));
    json_decref(d);
    /* A quick scan has no package list: nothing to compare there. */
    json_object_del(b, "packages");
    d = hlc_scan_compare(a, b);
    assert_true(json_is_null(json_object_get(d, "packages")));
    json_decref(d);
    json_decref(a);
    json_decref(b);
}

/* ---- store ---------------------------------------------------------------- */

struct fx {
    char dir[64];
    char path[128];
    struct hlc_store *s;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hlc-scans-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (hlc_store_open(&f->s, f->path, 2) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    hlc_store_free(f->s);
    char p[160];
    snprintf(p, sizeof(p), "%s/t.db", f->dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/t.db-wal", f->dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/t.db-shm", f->dir);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
test_store_history_pin_prune(void **state)
{
    struct fx *f = *state;
    int64_t now = hlc_now(), old = now - (HLC_SCANS_KEEP_DAYS + 1) * 86400LL;
    const char *a = "11111111-1111-4111-8111-111111111111",
               *b = "22222222-2222-4222-8222-222222222222",
               *c = "33333333-3333-4333-8333-333333333333";
    assert_int_equal(hlc_store_scan_insert(f->s, a, "nas.lan", 22, "u", "quick", old), 0);
    assert_int_equal(hlc_store_scan_insert(f->s, b, "nas.lan", 22, "u", "full", now - 10), 0);
    assert_int_equal(hlc_store_scan_insert(f->s, c, "pi.lan", 22, "u", "quick", now), 0);
    assert_int_equal(hlc_store_scan_running(f->s, a, old), 0);
    assert_int_equal(hlc_store_scan_running(f->s, a, old), HLC_ENOTFOUND); /* not pending */
    assert_int_equal(hlc_store_scan_finish(f->s, a, true, NULL, "{\"kernel\":\"6.1\"}",
                                           "SHA256:old", old),
                     0);
    assert_int_equal(hlc_store_scan_finish(f->s, a, false, "x", NULL, NULL, old), HLC_ENOTFOUND);
    json_t *arr = NULL;
    long long total = 0;
    assert_int_equal(hlc_store_scan_list(f->s, "nas.lan", 10, 0, &arr, &total), 0);
    assert_int_equal(total, 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "scan_id")), b);
    json_decref(arr);
    char *fp = NULL;
    const char *from = NULL;
    assert_int_equal(hlc_store_scan_pin(f->s, "nas.lan", 22, &fp, &from), 0);
    assert_string_equal(fp, "SHA256:old");
    assert_string_equal(from, "scan");
    free(fp);
    assert_int_equal(hlc_store_scan_pin(f->s, "nas.lan", 2222, &fp, &from), 0);
    assert_null(fp);
    json_t *s = NULL;
    assert_int_equal(hlc_store_scan_get(f->s, a, &s), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "results"), "kernel")),
                        "6.1");
    json_decref(s);
    /* Retention: the 31-day-old scan goes, the others stay. */
    int deleted = 0;
    assert_int_equal(hlc_store_scans_prune(f->s, now - HLC_SCANS_KEEP_DAYS * 86400LL, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(hlc_store_scan_get(f->s, a, &s), HLC_ENOTFOUND);
    assert_int_equal(hlc_store_scan_get(f->s, b, &s), 0);
    json_decref(s);
    assert_int_equal(hlc_store_scan_list(f->s, NULL, 10, 0, &arr, &total), 0);
    assert_int_equal(total, 2);
    json_decref(arr);
    /* Restart: what was left pending is failed with the reason. */
    assert_int_equal(hlc_store_scans_fail_unfinished(f->s, "restarted", now), 0);
    assert_int_equal(hlc_store_scan_get(f->s, c, &s), 0);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(s, "error")), "restarted");
    json_decref(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_other_managers),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_compare),
        cmocka_unit_test_setup_teardown(test_store_history_pin_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
