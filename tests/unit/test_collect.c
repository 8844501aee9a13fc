/* test_collect.c - the collector's exec line, its parser on fixtures in the
 * documented formats of Debian 12, Ubuntu 24.04 and Raspberry Pi OS, and the
 * real script run by /bin/sh on this machine. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc/base.h"
#include "hlc/collect.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct hlc_buf b;
    hlc_buf_init(&b, 8 * 1024 * 1024);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(hlc_buf_append(&b, chunk, n), 0);
    fclose(f);
    *len = b.len;
    char *s = hlc_buf_steal(&b);
    return s ? s : hlc_xstrdup("");
}

static void
parse_fixture(const char *name, int64_t ts, struct hlc_sample *s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/collect/%s", HLC_FIXTURES, name);
    size_t len;
    char *text = slurp(path, &len);
    hlc_sample_init(s);
    s->timestamp = ts;
    assert_int_equal(hlc_collect_parse(text, len, s), 0);
    free(text);
}

static const struct hlc_fs *
find_fs(const struct hlc_sample *s, const char *mount)
{
    for (size_t i = 0; i < s->nfs; i++)
        if (strcmp(s->fs[i].mount, mount) == 0)
            return &s->fs[i];
    return NULL;
}

static const struct hlc_net *
find_net(const struct hlc_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nnet; i++)
        if (strcmp(s->net[i].name, name) == 0)
            return &s->net[i];
    return NULL;
}

static void
test_command(void **state)
{
    (void)state;
    char *cmd = NULL;
    const char *svcs[] = {"docker", "getty@tty1.service", "pihole-FTL"};
    assert_int_equal(hlc_collect_command(svcs, 3, false, &cmd), 0);
    assert_string_equal(cmd, "exec sh -s -- 'docker' 'getty@tty1.service' 'pihole-FTL'");
    free(cmd);
    assert_int_equal(hlc_collect_command(NULL, 0, true, &cmd), 0);
    assert_string_equal(cmd, "exec sh -s -- --updates");
    free(cmd);

    cmd = NULL;
    const char *bad[] = {"nginx", "x;reboot"};
    assert_int_equal(hlc_collect_command(bad, 2, false, &cmd), HLC_EINVAL);
    const char *bad2[] = {"-rf"};
    assert_int_equal(hlc_collect_command(bad2, 1, false, &cmd), HLC_EINVAL);
    const char *bad3[] = {"$(id)"};
    assert_int_equal(hlc_collect_command(bad3, 1, false, &cmd), HLC_EINVAL);
    assert_null(cmd);
    const char *many[HLC_SAMPLE_MAX_SERVICES + 1];
    for (size_t i = 0; i <= HLC_SAMPLE_MAX_SERVICES; i++)
        many[i] = "ok";
    assert_int_equal(hlc_collect_command(many, HLC_SAMPLE_MAX_SERVICES + 1, false, &cmd),
                     HLC_EINVAL);
    assert_int_equal(hlc_collect_command(many, HLC_SAMPLE_MAX_SERVICES, false, &cmd), 0);
    free(cmd);
}

static void
test_debian12(void **state)
{
    (void)state;
    struct hlc_sample s;
    parse_fixture("debian12_x86_64.txt", 1733109600, &s);
    unsigned want = HLC_HAVE_IDENTITY | HLC_HAVE_CPU | HLC_HAVE_MEMORY | HLC_HAVE_FS |
                    HLC_HAVE_NET | HLC_HAVE_LOAD | HLC_HAVE_UPTIME | HLC_HAVE_TEMPS |
                    HLC_HAVE_REBOOT | HLC_HAVE_UPDATES | HLC_HAVE_SERVICES | HLC_HAVE_CONTAINERS;
    assert_int_equal(s.have, want);
    assert_false(s.truncated);
    assert_string_equal(s.hostname, "nas01");
    assert_string_equal(s.os_id, "debian");
    assert_string_equal(s.os_name, "Debian GNU/Linux 12 (bookworm)");
    assert_string_equal(s.os_version, "12");
    assert_string_equal(s.kernel, "6.1.0-26-amd64");
    assert_string_equal(s.arch, "x86_64");
    assert_int_equal(s.cpu_cores, 4);
    /* user+nice+system+idle+iowait+irq+softirq+steal */
    assert_true(s.cpu_total == 2255341ull + 1402 + 716523 + 112358443 + 58121 + 0 + 20544 + 0);
    assert_true(s.cpu_idle == 112358443ull + 58121);
    assert_int_equal(s.boot_time, 1731900000);
    assert_true(s.mem_total == 16318444ull * 1024);
    assert_true(s.mem_available == 11843720ull * 1024);
    assert_true(s.swap_total == 1003516ull * 1024);
    assert_true(s.swap_free == 978940ull * 1024);

    /* tmpfs, devtmpfs, overlay skipped; a mount point with a space kept whole */
    assert_int_equal(s.nfs, 4);
    const struct hlc_fs *root = find_fs(&s, "/");
    assert_non_null(root);
    assert_string_equal(root->device, "/dev/nvme0n1p2");
    assert_string_equal(root->fstype, "ext4");
    assert_true(root->total_bytes == 490577010688ull);
    assert_true(root->used_bytes == 123455848448ull);
    assert_true(root->avail_bytes == 342104219648ull);
    const struct hlc_fs *b = find_fs(&s, "/srv/Backups 2024");
    assert_non_null(b);
    assert_string_equal(b->fstype, "xfs");
    assert_non_null(find_fs(&s, "/boot/efi"));
    assert_null(find_fs(&s, "/run"));
    assert_null(find_fs(&s, "/var/lib/docker/overlay2/4f6d0c3e/merged"));

    assert_int_equal(s.nnet, 3);
    assert_null(find_net(&s, "lo"));
    const struct hlc_net *e = find_net(&s, "enp3s0");
    assert_non_null(e);
    assert_true(e->rx_bytes == 918273645123ull);
    assert_true(e->tx_bytes == 123456789012ull);
    assert_non_null(find_net(&s, "veth3a1b2c4"));

    assert_true(s.load1 == 0.52 && s.load5 == 0.58 && s.load15 == 0.59);
    assert_int_equal(s.uptime_seconds, 1209600);
    assert_int_equal(s.ntemps, 7);
    assert_true(s.cpu_temp_c == 47.0); /* hottest CPU-like zone, not nvme/acpitz */
    assert_true(s.reboot_required);
    assert_int_equal(s.updates_pending, 4);
    assert_int_equal(s.updates_security, 2);

    assert_int_equal(s.nservices, 3);
    assert_string_equal(s.services[0].name, "docker");
    assert_string_equal(s.services[0].active_state, "active");
    assert_string_equal(s.services[0].sub_state, "running");
    assert_string_equal(s.services[0].load_state, "loaded");
    assert_int_equal(s.services[0].main_pid, 1021);
    assert_int_equal(s.services[0].memory_bytes, 98304000);
    assert_int_equal(s.services[0].cpu_usage_ns, 912345678901LL);
    assert_string_equal(s.services[1].name, "smbd.service");
    assert_string_equal(s.services[1].active_state, "failed");
    assert_int_equal(s.services[1].memory_bytes, -1);
    assert_int_equal(s.services[1].cpu_usage_ns, -1);
    assert_string_equal(s.services[2].load_state, "not-found");
    assert_int_equal(s.services[2].memory_bytes, -1);

    assert_int_equal(s.ncontainers, 2);
    assert_string_equal(s.containers[0].name, "plex");
    assert_string_equal(s.containers[0].image, "lscr.io/linuxserver/plex:latest");
    assert_string_equal(s.containers[0].state, "running");
    assert_string_equal(s.containers[0].status, "Up 2 weeks");
    assert_int_equal(strlen(s.containers[0].id), 64);
    assert_string_equal(s.containers[1].name, "web-nginx-1");
    assert_string_equal(s.containers[1].state, "exited");
    hlc_sample_release(&s);
}

static void
test_ubuntu2404(void **state)
{
    (void)state;
    struct hlc_sample s;
    parse_fixture("ubuntu2404_x86_64.txt", 1733109600, &s);
    assert_string_equal(s.os_id, "ubuntu");
    assert_string_equal(s.os_name, "Ubuntu 24.04.1 LTS");
    assert_string_equal(s.os_version, "24.04");
    assert_int_equal(s.cpu_cores, 2);
    /* snaps (squashfs) and tmpfs skipped; LVM root, /boot, /boot/efi, NFS kept */
    assert_int_equal(s.nfs, 4);
    assert_non_null(find_fs(&s, "/"));
    assert_string_equal(find_fs(&s, "/")->device, "/dev/mapper/ubuntu--vg-ubuntu--lv");
    assert_null(find_fs(&s, "/snap/core22/1663"));
    assert_string_equal(find_fs(&s, "/mnt/media")->fstype, "nfs4");
    assert_int_equal(s.nnet, 2);
    assert_non_null(find_net(&s, "tailscale0"));
    /* present and empty: nothing to upgrade, Docker without containers */
    assert_true(s.have & HLC_HAVE_UPDATES);
    assert_int_equal(s.updates_pending, 0);
    assert_int_equal(s.updates_security, 0);
    assert_true(s.have & HLC_HAVE_CONTAINERS);
    assert_int_equal(s.ncontainers, 0);
    /* no sensors on this VM */
    assert_false(s.have & HLC_HAVE_TEMPS);
    assert_int_equal(s.ntemps, 0);
    assert_false(s.reboot_required);
    assert_true(s.have & HLC_HAVE_REBOOT);
    assert_int_equal(s.nservices, 1);
    hlc_sample_release(&s);
}

static void
test_rpios(void **state)
{
    (void)state;
    struct hlc_sample s;
    parse_fixture("rpios_armv7l.txt", 1733109600, &s);
    assert_string_equal(s.os_id, "raspbian");
    assert_string_equal(s.arch, "armv7l");
    assert_int_equal(s.cpu_cores, 4);
    assert_true(s.mem_total == 944268ull * 1024);
    assert_int_equal(s.nfs, 2);
    assert_string_equal(find_fs(&s, "/")->device, "/dev/root");
    assert_true(s.cpu_temp_c > 52.07 && s.cpu_temp_c < 52.08);
    /* no Docker, no updates asked */
    assert_false(s.have & HLC_HAVE_CONTAINERS);
    assert_false(s.have & HLC_HAVE_UPDATES);
    assert_int_equal(s.services[0].memory_bytes, -1);
    hlc_sample_release(&s);

    /* aarch64 with most sections missing and an old kernel's meminfo */
    parse_fixture("rpios_aarch64_minimal.txt", 1732101200, &s);
    assert_int_equal(s.have, HLC_HAVE_IDENTITY | HLC_HAVE_CPU | HLC_HAVE_MEMORY |
                                 HLC_HAVE_LOAD | HLC_HAVE_UPTIME);
    assert_string_equal(s.arch, "aarch64");
    assert_string_equal(s.os_id, "");
    assert_int_equal(s.cpu_cores, 4); /* counted from the cpuN lines */
    assert_true(s.mem_available == (7512340ull + 12340 + 312340) * 1024);
    assert_int_equal(s.boot_time, 1732100000);
    assert_int_equal(s.nfs, 0);
    assert_null(s.fs);
    hlc_sample_release(&s);
}

static int
poll_text(char *buf, size_t size, unsigned long long user, unsigned long long sys,
          unsigned long long idle, long long btime, unsigned long long rx, unsigned long long tx,
          long long up)
{
    return snprintf(buf, size,
                    "<<<stat>>>\ncpu  %llu 0 %llu %llu 0 0 0 0 0 0\nbtime %lld\n"
                    "<<<netdev>>>\nInter-|\n face |\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
                    "  eth0: %llu 10 0 0 0 0 0 0 %llu 10 0 0 0 0 0 0\n"
                    "<<<uptime>>>\n%lld.00 1.00\n",
                    user, sys, idle, btime, rx, tx, up);
}

/* Two polls of one machine: rates from the counters; a reboot in between
 * (counters back to small values, new boot time) starts a new baseline. */
static void
test_derive_and_rebaseline(void **state)
{
    (void)state;
    char text[1024];
    struct hlc_sample a, b, c;
    hlc_sample_init(&a);
    a.timestamp = 1000;
    int n = poll_text(text, sizeof(text), 1000ull, 500ull, 8500ull, 100LL, 1000000ull,
                     2000000ull, 900LL);
    assert_int_equal(hlc_collect_parse(text, (size_t)n, &a), 0);
    hlc_sample_derive(NULL, &a);
    assert_false(a.have & (HLC_HAVE_CPU_PERCENT | HLC_HAVE_NET_RATES));

    hlc_sample_init(&b);
    b.timestamp = 1060;
    /* +600 busy, +400 idle => 60 %; eth0 +6000 rx / +12000 tx in 60 s */
    n = poll_text(text, sizeof(text), 1400ull, 700ull, 8900ull, 100LL, 1006000ull, 2012000ull,
                 960LL);
    assert_int_equal(hlc_collect_parse(text, (size_t)n, &b), 0);
    hlc_sample_derive(&a, &b);
    assert_true(b.have & HLC_HAVE_CPU_PERCENT);
    assert_true(b.cpu_percent > 59.999 && b.cpu_percent < 60.001);
    assert_true(b.have & HLC_HAVE_NET_RATES);
    assert_true(b.net[0].rx_bps == 100.0 && b.net[0].tx_bps == 200.0);

    /* rebooted: counters went backwards and the boot time moved */
    hlc_sample_init(&c);
    c.timestamp = 1120;
    n = poll_text(text, sizeof(text), 10ull, 5ull, 85ull, 1100LL, 500ull, 700ull, 20LL);
    assert_int_equal(hlc_collect_parse(text, (size_t)n, &c), 0);
    hlc_sample_derive(&b, &c);
    assert_false(c.have & (HLC_HAVE_CPU_PERCENT | HLC_HAVE_NET_RATES));
    assert_true(c.net[0].rx_bps == 0.0);

    /* counters backwards without a boot-time change (a wrapped counter) */
    struct hlc_sample d;
    hlc_sample_init(&d);
    d.timestamp = 1180;
    n = poll_text(text, sizeof(text), 1500ull, 800ull, 9000ull, 100LL, 5ull, 7ull, 1020LL);
    assert_int_equal(hlc_collect_parse(text, (size_t)n, &d), 0);
    hlc_sample_derive(&b, &d);
    assert_true(d.have & HLC_HAVE_CPU_PERCENT); /* CPU still moved forward */
    assert_false(d.have & HLC_HAVE_NET_RATES);  /* net is a new baseline */
    hlc_sample_release(&a);
    hlc_sample_release(&b);
    hlc_sample_release(&c);
    hlc_sample_release(&d);
}

/* A sample at `ts` with services plex (pid, ns) and sonarr (no counter). */
static void
svc_sample(struct hlc_sample *s, int64_t ts, int64_t pid, int64_t ns)
{
    hlc_sample_init(s);
    s->timestamp = ts;
    s->have = HLC_HAVE_SERVICES;
    s->services = calloc(2, sizeof(*s->services));
    s->nservices = 2;
    snprintf(s->services[0].name, sizeof(s->services[0].name), "plex");
    s->services[0].main_pid = pid;
    s->services[0].cpu_usage_ns = ns;
    snprintf(s->services[1].name, sizeof(s->services[1].name), "sonarr");
    s->services[1].cpu_usage_ns = -1;
}

/* A service's CPU % of one core between two polls, from CPUUsageNSec; none
 * across a restart (new PID, counter begun again) or without a counter, and
 * a reported figure (a v1 agent's) is kept. */
static void
test_derive_service_cpu(void **state)
{
    (void)state;
    struct hlc_sample a, b, c, d;
    svc_sample(&a, 1000, 42, 5000000000LL);
    hlc_sample_derive(NULL, &a);
    assert_false(a.services[0].has_cpu_percent);
    svc_sample(&b, 1010, 42, 7500000000LL); /* 2.5 s of CPU in 10 s */
    hlc_sample_derive(&a, &b);
    assert_true(b.services[0].has_cpu_percent);
    assert_true(b.services[0].cpu_percent > 24.999 && b.services[0].cpu_percent < 25.001);
    assert_false(b.services[1].has_cpu_percent);
    svc_sample(&c, 1020, 77, 9000000000LL); /* restarted: new main PID */
    hlc_sample_derive(&b, &c);
    assert_false(c.services[0].has_cpu_percent);
    svc_sample(&d, 1030, 77, 100000000LL); /* the counter began again */
    hlc_sample_derive(&c, &d);
    assert_false(d.services[0].has_cpu_percent);
    hlc_sample_release(&d);
    svc_sample(&d, 1030, 77, 9000000000LL); /* idle: 0 % */
    d.services[1].cpu_percent = 3.5;
    d.services[1].has_cpu_percent = true;
    hlc_sample_derive(&c, &d);
    assert_true(d.services[0].has_cpu_percent && d.services[0].cpu_percent == 0.0);
    assert_true(d.services[1].has_cpu_percent && d.services[1].cpu_percent == 3.5);
    hlc_sample_release(&a);
    hlc_sample_release(&b);
    hlc_sample_release(&c);
    hlc_sample_release(&d);
}

static void
test_garbage(void **state)
{
    (void)state;
    struct hlc_sample s;
    hlc_sample_init(&s);
    /* not collector output at all */
    assert_int_equal(hlc_collect_parse("hello\nworld\n", 12, &s), HLC_EPARSE);
    assert_int_equal(hlc_collect_parse("", 0, &s), HLC_EPARSE);
    assert_int_equal(hlc_collect_parse("<<<stat>>>\0x", 12, &s), HLC_EPARSE);
    assert_int_equal(s.have, 0);

    static const char junk[] =
        "motd line <<<not a header>>>\n"
        "<<<meminfo>>>\r\n"
        "MemTotal:  -5 kB\n"
        "MemTotal: 99999999999999999999999 kB\n"
        "garbage\n"
        "MemTotal:       1024 kB\n"
        "MemAvailable:   2048 kB\n" /* more than total: clamped */
        "<<<loadavg>>>\n"
        "nan inf 1\n"
        "0.5 1e999 2\n"
        "0.25 0.5 0.75 1/2 3\n"
        "<<<uptime>>>\n"
        "-1 2\n"
        "<<<df>>>\n"
        "/dev/sda1 ext4 100 50 50 50% /no-header-yet\n"
        "<<<netdev>>>\n"
        "eth0: 1 2 3\n"
        "eth1: x 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n"
        "<<<thermal>>>\n"
        "cpu-thermal -273150\n"
        "cpu-thermal 2147483647\n"
        "<<<services>>>\n"
        "ActiveState=active\n"
        "<<<reboot>>>\n"
        "maybe\n"
        "<<<stat>>>\n"
        "cpu  1 2 3\n"
        "cpu  18446744073709551615 0 0 0 0 0 0 0\n"
        "<<<docker>>>\n"
        "{\"ID\":\"abc\"}\n"
        "{not json\n"
        "[1,2]\n"
        "{\"ID\":\"abc\",\"Names\":\"ok\",\"Status\":\"Up 3 hours (Paused)\"}\n"
        "<<<future-section>>>\n"
        "whatever\n"
        "<<<uname>>>\n"
        "hostname=bad\x01name\n"
        "kernel=6.1\n";
    assert_int_equal(hlc_collect_parse(junk, sizeof(junk) - 1, &s), 0);
    assert_int_equal(s.have, HLC_HAVE_MEMORY | HLC_HAVE_LOAD | HLC_HAVE_CONTAINERS |
                                 HLC_HAVE_IDENTITY);
    assert_true(s.mem_total == 1024 * 1024 && s.mem_available == s.mem_total);
    assert_true(s.load1 == 0.25 && s.load15 == 0.75);
    assert_int_equal(s.ncontainers, 1);
    assert_string_equal(s.containers[0].state, "paused");
    assert_string_equal(s.hostname, "");
    assert_string_equal(s.kernel, "6.1");
    hlc_sample_release(&s);

    /* too big, and the single-section entry point */
    size_t big = HLC_COLLECT_MAX_OUTPUT + 1;
    char *huge = hlc_xmalloc(big);
    memset(huge, '\n', big);
    hlc_sample_init(&s);
    assert_int_equal(hlc_collect_parse(huge, big, &s), HLC_ETOOBIG);
    assert_int_equal(hlc_collect_parse_section("meminfo", huge, big, &s), HLC_ETOOBIG);
    free(huge);
    assert_int_equal(hlc_collect_parse_section("nope", "", 0, &s), HLC_EINVAL);
    assert_int_equal(hlc_collect_parse_section("meminfo", "x\n", 2, &s), HLC_EPARSE);
    assert_int_equal(s.have, 0);
    hlc_sample_release(&s);
}

static void
test_caps(void **state)
{
    (void)state;
    struct hlc_buf b;
    hlc_buf_init(&b, HLC_COLLECT_MAX_OUTPUT);
    assert_int_equal(hlc_buf_appendf(&b, "<<<netdev>>>\nInter-|\n face |\n"), 0);
    for (int i = 0; i < HLC_SAMPLE_MAX_NET + 10; i++)
        assert_int_equal(hlc_buf_appendf(&b, "veth%d: 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0\n", i), 0);
    assert_int_equal(hlc_buf_appendf(&b, "<<<df>>>\nFilesystem Type 1-blocks Used Available "
                                         "Capacity Mounted on\n"),
                     0);
    for (int i = 0; i < HLC_SAMPLE_MAX_FS + 10; i++)
        assert_int_equal(hlc_buf_appendf(&b, "/dev/sd%d ext4 100 10 90 10%% /m/%d\n", i, i), 0);
    struct hlc_sample s;
    hlc_sample_init(&s);
    assert_int_equal(hlc_collect_parse(b.data, b.len, &s), 0);
    assert_int_equal(s.nnet, HLC_SAMPLE_MAX_NET);
    assert_int_equal(s.nfs, HLC_SAMPLE_MAX_FS);
    assert_true(s.truncated);
    hlc_sample_release(&s);
    hlc_buf_release(&b);
}

/* The agent's way in: files fed verbatim, one section at a time. */
static void
test_sections_verbatim(void **state)
{
    (void)state;
    struct hlc_sample s;
    hlc_sample_init(&s);
    static const char osr[] = "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\n";
    assert_int_equal(hlc_collect_parse_section("osrelease", osr, sizeof(osr) - 1, &s), 0);
    assert_string_equal(s.os_name, "Debian GNU/Linux"); /* NAME when no PRETTY_NAME */
    assert_string_equal(s.os_version, "12");
    static const char la[] = "1.00 2.00 3.00 1/1 1";
    assert_int_equal(hlc_collect_parse_section("loadavg", la, sizeof(la) - 1, &s), 0);
    assert_true(s.load5 == 2.0);
    assert_int_equal(s.have, HLC_HAVE_IDENTITY | HLC_HAVE_LOAD);
    hlc_sample_release(&s);
}

/* One `systemctl show a b c` answer: Asked= lines name its blank-line
 * separated blocks in order; a unit whose block never came (systemctl cut
 * short by its timeout) is dropped, a block nobody asked for is ignored, and
 * the one-block-per-Unit= form still parses. */
static void
test_services_blocks(void **state)
{
    (void)state;
    struct hlc_sample s;
    hlc_sample_init(&s);
    static const char one_call[] = "Asked=ssh\nAsked=sshd\nAsked=plex\n"
                                   "Id=ssh.service\nLoadState=loaded\nActiveState=active\n"
                                   "SubState=running\nMainPID=812\nMemoryCurrent=5242880\n"
                                   "CPUUsageNSec=[not set]\n"
                                   "\n"
                                   "Id=ssh.service\nLoadState=loaded\nActiveState=active\n"
                                   "SubState=running\nMainPID=812\n"
                                   "\n"
                                   "Id=plex.service\nLoadState=not-found\nActiveState=inactive\n"
                                   "SubState=dead\nMainPID=0\n"
                                   "\n"
                                   "Id=extra.service\nActiveState=failed\n";
    assert_int_equal(hlc_collect_parse_section("services", one_call, sizeof(one_call) - 1, &s), 0);
    assert_int_equal(s.nservices, 3);
    assert_string_equal(s.services[0].name, "ssh");
    assert_string_equal(s.services[0].active_state, "active");
    assert_int_equal(s.services[0].main_pid, 812);
    assert_int_equal(s.services[0].memory_bytes, 5242880);
    assert_int_equal(s.services[0].cpu_usage_ns, -1);
    /* an alias answers with the unit it names, but keeps the name asked for */
    assert_string_equal(s.services[1].name, "sshd");
    assert_string_equal(s.services[1].sub_state, "running");
    assert_int_equal(s.services[1].memory_bytes, -1);
    assert_string_equal(s.services[2].name, "plex");
    assert_string_equal(s.services[2].load_state, "not-found");

    static const char cut_short[] = "Asked=a\nAsked=b\nAsked=c\n"
                                    "ActiveState=active\nSubState=running\n\nActiveState=fai";
    assert_int_equal(hlc_collect_parse_section("services", cut_short, sizeof(cut_short) - 1, &s),
                     0);
    assert_int_equal(s.nservices, 2); /* c never answered */
    assert_string_equal(s.services[0].name, "a");
    assert_string_equal(s.services[1].name, "b");
    assert_string_equal(s.services[1].active_state, "fai");

    static const char nothing[] = "Asked=a\nAsked=b\n";
    assert_int_equal(hlc_collect_parse_section("services", nothing, sizeof(nothing) - 1, &s),
                     HLC_EPARSE);

    static const char per_unit[] = "Unit=a\nActiveState=active\nUnit=b\nActiveState=failed\n";
    assert_int_equal(hlc_collect_parse_section("services", per_unit, sizeof(per_unit) - 1, &s), 0);
    assert_int_equal(s.nservices, 2);
    assert_string_equal(s.services[1].name, "b");
    assert_string_equal(s.services[1].active_state, "failed");
    hlc_sample_release(&s);
}

static char *
run_script_here(size_t *len)
{
    char path[] = "/tmp/hlc-collect-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(hlc_collect_script);
    assert_int_equal(write(fd, hlc_collect_script, n), (ssize_t)n);
    close(fd);
    char cmdline[128];
    snprintf(cmdline, sizeof(cmdline), "/bin/sh -s -- ssh < %s", path);
    FILE *p = popen(cmdline, "r");
    assert_non_null(p);
    struct hlc_buf b;
    hlc_buf_init(&b, HLC_COLLECT_MAX_OUTPUT);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
        assert_int_equal(hlc_buf_append(&b, chunk, got), 0);
    int st = pclose(p);
    unlink(path);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    *len = b.len;
    return hlc_buf_steal(&b);
}

static void
test_real_script(void **state)
{
    (void)state;
    size_t len;
    char *out = run_script_here(&len);
    assert_non_null(out);
    struct hlc_sample s;
    hlc_sample_init(&s);
    s.timestamp = hlc_now();
    assert_int_equal(hlc_collect_parse(out, len, &s), 0);
    free(out);
    unsigned must = HLC_HAVE_IDENTITY | HLC_HAVE_CPU | HLC_HAVE_MEMORY | HLC_HAVE_FS |
                    HLC_HAVE_NET | HLC_HAVE_LOAD | HLC_HAVE_UPTIME | HLC_HAVE_REBOOT;
    assert_int_equal(s.have & must, must);

    /* MemTotal exactly as /proc/meminfo says */
    FILE *f = fopen("/proc/meminfo", "r");
    assert_non_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    assert_true(s.mem_total == kb * 1024);

    /* the root filesystem's size exactly as statvfs("/") says */
    struct statvfs sv;
    assert_int_equal(statvfs("/", &sv), 0);
    const struct hlc_fs *root = find_fs(&s, "/");
    assert_non_null(root);
    assert_true(root->total_bytes == (uint64_t)sv.f_blocks * sv.f_frsize);

    assert_int_equal(s.cpu_cores, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(s.boot_time > 0 && s.boot_time <= s.timestamp);
    char host[256];
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    assert_string_equal(s.hostname, host);
    /* kernel and architecture as uname(2) says (the script reads them from
     * /proc/sys/kernel, or runs uname where the kernel lacks kernel/arch) */
    struct utsname un;
    assert_int_equal(uname(&un), 0);
    assert_string_equal(s.kernel, un.release);
    assert_string_equal(s.arch, un.machine);
    hlc_sample_release(&s);
}

/* nvidia-smi's CSV (as --format=csv,noheader,nounits prints it, with a
 * comma in a name and unsupported readings) and amdgpu's sysfs values (a
 * Radeon RX 6800: bytes, millidegrees, microwatts), in one sample. */
static void
test_gpus(void **state)
{
    (void)state;
    static const char out[] =
        "<<<reboot>>>\n0\n"
        "<<<nvidia>>>\n"
        "0, NVIDIA GeForce RTX 3090, 35, 10240, 24576, 65, 250.50\n"
        "1, Tesla T4, PCIe, 16GB, 0, 3, 15360, 41, [N/A]\n"
        "2, NVIDIA RTX A2000, [Not Supported], [N/A], [N/A], [N/A], [N/A]\n"
        "x, bad index, 1, 2, 3, 4, 5\n"
        "3, too few, 1, 2\n"
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
        "<<<amdgpu>>>\n"
        "card1 45 1073741824 17163091968 52000 35000000\n"
        "card2 7 - - - -\n"
        "card3 - 1 2 3 4\n"     /* no busy percent: not a GPU reading */
        "renderD128 1 2 3 4 5\n"
        "card4 101 1 2 3 4\n";  /* busy over 100: garbage */
    struct hlc_sample s;
    hlc_sample_init(&s);
    assert_int_equal(hlc_collect_parse(out, strlen(out), &s), 0);
    assert_true(s.have & HLC_HAVE_GPUS);
    assert_int_equal(s.ngpus, 5);
    const struct hlc_gpu *g = s.gpus;
    assert_string_equal(g[0].id, "nvidia0");
    assert_string_equal(g[0].vendor, "nvidia");
    assert_string_equal(g[0].name, "NVIDIA GeForce RTX 3090");
    assert_true(g[0].util_percent == 35 && g[0].temp_c == 65 && g[0].power_w == 250.5);
    assert_true(g[0].mem_used_bytes == 10240.0 * 1048576 && g[0].mem_total_bytes == 24576.0 * 1048576);
    assert_string_equal(g[1].name, "Tesla T4, PCIe, 16GB");
    assert_true(g[1].util_percent == 0 && isnan(g[1].power_w) && g[1].temp_c == 41);
    assert_string_equal(g[2].id, "nvidia2");
    assert_true(isnan(g[2].util_percent) && isnan(g[2].mem_total_bytes) && isnan(g[2].temp_c));
    assert_string_equal(g[3].id, "card1");
    assert_string_equal(g[3].vendor, "amd");
    assert_string_equal(g[3].name, "");
    assert_true(g[3].util_percent == 45 && g[3].mem_used_bytes == 1073741824.0 &&
                g[3].mem_total_bytes == 17163091968.0);
    assert_true(fabs(g[3].temp_c - 52.0) < 1e-9 && fabs(g[3].power_w - 35.0) < 1e-9);
    assert_string_equal(g[4].id, "card2");
    assert_true(g[4].util_percent == 7 && isnan(g[4].mem_used_bytes) && isnan(g[4].temp_c));
    hlc_sample_release(&s);

    /* More GPUs than the cap: the first HLC_SAMPLE_MAX_GPUS, truncated. */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof(big), "<<<amdgpu>>>\n");
    for (int i = 0; i < HLC_SAMPLE_MAX_GPUS + 3; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "card%d 1 2 3 4 5\n", i);
    hlc_sample_init(&s);
    assert_int_equal(hlc_collect_parse(big, n, &s), 0);
    assert_int_equal(s.ngpus, HLC_SAMPLE_MAX_GPUS);
    assert_true(s.truncated);
    hlc_sample_release(&s);

    /* No usable line: no GPU section at all. */
    static const char none[] = "<<<nvidia>>>\nNo devices were found\n<<<amdgpu>>>\n";
    hlc_sample_init(&s);
    assert_int_equal(hlc_collect_parse(none, strlen(none), &s), 0);
    assert_false(s.have & HLC_HAVE_GPUS);
    assert_int_equal(s.ngpus, 0);
    hlc_sample_release(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),       cmocka_unit_test(test_debian12),
        cmocka_unit_test(test_ubuntu2404),    cmocka_unit_test(test_rpios),
        cmocka_unit_test(test_derive_and_rebaseline), cmocka_unit_test(test_derive_service_cpu),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_caps),          cmocka_unit_test(test_sections_verbatim),
        cmocka_unit_test(test_real_script),   cmocka_unit_test(test_services_blocks),
        cmocka_unit_test(test_gpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
