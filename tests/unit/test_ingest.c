/* test_ingest.c - samples into a real SQLite file through hlc_ingest_sample:
 * derivation, idempotence, order, latest row and snapshots, machine status,
 * history buckets from samples and rollups, summary, pruning, threads. */
#include <math.h>
#include <pthread.h>
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
#include <sqlite3.h>

#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/sample.h"
#include "hub.h"
#include "ingest.h"
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/hlc-ingest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (hlc_store_open(&f->hub.store, f->path, 4) != 0)
        return -1;
    static const char *const ids[] = {"nas", "pi", "laptop"};
    for (int i = 0; i < 3; i++) {
        json_t *m = json_pack("{s:s, s:s, s:s, s:[{s:s, s:b}, {s:s, s:b}]}", "server_id", ids[i],
                              "hostname", "h.lan", "machine_type",
                              i == 2 ? "workstation" : "server", "expected_services", "name",
                              "docker", "critical", 1, "name", "nfs-server", "critical", 0);
        if (hlc_store_machine_insert(f->hub.store, m) != 0)
            return -1;
        json_decref(m);
    }
    if (hlc_ingest_start(&f->hub) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    hlc_ingest_stop(&f->hub);
    hlc_store_free(f->hub.store);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A sample with counters advancing by `busy`/`idle` jiffies and `rx` bytes
 * per call, memory `mem_pct` used. */
static void
make(struct hlc_sample *s, int64_t ts, uint64_t busy, uint64_t idle, uint64_t rx, double mem_pct)
{
    hlc_sample_init(s);
    s->timestamp = ts;
    s->have = HLC_HAVE_IDENTITY | HLC_HAVE_CPU | HLC_HAVE_MEMORY | HLC_HAVE_FS | HLC_HAVE_NET |
              HLC_HAVE_LOAD | HLC_HAVE_UPTIME;
    snprintf(s->hostname, sizeof(s->hostname), "nas01");
    snprintf(s->os_id, sizeof(s->os_id), "debian");
    snprintf(s->os_name, sizeof(s->os_name), "Debian GNU/Linux 12 (bookworm)");
    snprintf(s->os_version, sizeof(s->os_version), "12");
    snprintf(s->kernel, sizeof(s->kernel), "6.1.0-26-amd64");
    snprintf(s->arch, sizeof(s->arch), "x86_64");
    s->cpu_cores = 4;
    s->cpu_total = busy + idle;
    s->cpu_idle = idle;
    s->mem_total = 1000ull * 1024 * 1024;
    s->mem_available = (uint64_t)((double)s->mem_total * (1.0 - mem_pct / 100.0));
    s->swap_total = 100;
    s->swap_free = 40;
    s->fs = hlc_xcalloc(2, sizeof(*s->fs));
    s->nfs = 2;
    snprintf(s->fs[0].mount, sizeof(s->fs[0].mount), "/srv/media");
    snprintf(s->fs[0].device, sizeof(s->fs[0].device), "/dev/sda1");
    snprintf(s->fs[0].fstype, sizeof(s->fs[0].fstype), "ext4");
    s->fs[0].total_bytes = 1000;
    s->fs[0].used_bytes = 900;
    s->fs[0].avail_bytes = 100;
    snprintf(s->fs[1].mount, sizeof(s->fs[1].mount), "/");
    snprintf(s->fs[1].device, sizeof(s->fs[1].device), "/dev/nvme0n1p2");
    snprintf(s->fs[1].fstype, sizeof(s->fs[1].fstype), "ext4");
    s->fs[1].total_bytes = 4000;
    s->fs[1].used_bytes = 1000;
    s->fs[1].avail_bytes = 2750;
    s->net = hlc_xcalloc(2, sizeof(*s->net));
    s->nnet = 2;
    snprintf(s->net[0].name, sizeof(s->net[0].name), "eth0");
    s->net[0].rx_bytes = rx;
    s->net[0].tx_bytes = rx / 2;
    snprintf(s->net[1].name, sizeof(s->net[1].name), "veth12");
    s->net[1].rx_bytes = rx;
    s->net[1].tx_bytes = rx;
    s->load1 = 0.5;
    s->load5 = 0.25;
    s->load15 = 0.125;
    s->boot_time = 1700000000;
    s->uptime_seconds = ts - s->boot_time;
}

static int64_t
count(struct fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static double
num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void
test_ingest_latest_and_status(void **state)
{
    struct fx *f = *state;
    struct hlc_sample s;
    int64_t t0 = 1733000000;

    make(&s, t0, 1000, 9000, 1000000, 25);
    assert_int_equal(hlc_ingest_sample(&f->hub, "ghost", &s, "ssh"), HLC_ENOTFOUND);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "carrier-pigeon"), HLC_EINVAL);
    s.timestamp = hlc_now() + 3600; /* a clock an hour fast */
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "agent"), HLC_EINVAL);
    s.timestamp = t0;
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    assert_false(s.have & HLC_HAVE_CPU_PERCENT); /* first sample: baseline only */
    hlc_sample_release(&s);

    json_t *l = NULL;
    assert_int_equal(hlc_store_metrics_latest(f->hub.store, "nas", &l), 0);
    assert_true(json_is_null(json_object_get(l, "cpu_percent")));
    json_decref(l);

    /* 60 s later: +600 busy, +400 idle => 60 %; eth0 +60000 B => 1000 B/s */
    make(&s, t0 + 60, 1600, 9400, 1060000, 25);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    assert_true(s.have & HLC_HAVE_CPU_PERCENT);
    hlc_sample_release(&s);

    assert_int_equal(hlc_store_metrics_latest(f->hub.store, "nas", &l), 0);
    assert_true(num(l, "cpu_percent") == 60.0);
    assert_true(num(l, "memory_percent") == 25.0);
    assert_true(num(l, "memory_total_bytes") == 1000.0 * 1024 * 1024);
    assert_true(num(l, "memory_used_bytes") == 250.0 * 1024 * 1024);
    assert_true(num(l, "swap_used_bytes") == 60);
    /* root fs, as df: used / (used + avail) */
    assert_true(fabs(num(l, "disk_percent") - 26.67) < 0.001);
    assert_int_equal(json_array_size(json_object_get(l, "filesystems")), 2);
    /* the veth is left out of the machine's totals */
    assert_true(num(l, "network_rx_bps") == 1000.0);
    assert_true(num(l, "network_tx_bps") == 500.0);
    assert_int_equal(json_array_size(json_object_get(l, "network")), 2);
    assert_true(num(l, "load_1m") == 0.5);
    assert_true(num(l, "cpu_cores") == 4);
    assert_true(json_is_null(json_object_get(l, "cpu_temp_c")));
    assert_true(json_is_null(json_object_get(l, "updates_available")));
    assert_string_equal(json_string_value(json_object_get(l, "source")), "ssh");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(l, "os"), "distribution")),
        "Debian GNU/Linux 12 (bookworm)");
    assert_string_equal(json_string_value(json_object_get(l, "timestamp")),
                        "2024-11-30T20:54:20Z");
    json_decref(l);

    json_t *m = NULL;
    assert_int_equal(hlc_store_machine_get(f->hub.store, "nas", &m), 0);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "online");
    assert_true(json_is_string(json_object_get(m, "last_seen")));
    assert_string_equal(json_string_value(json_object_get(m, "kernel")), "6.1.0-26-amd64");
    assert_string_equal(json_string_value(json_object_get(m, "os_version")), "12");
    json_decref(m);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics WHERE server_id='nas'"), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_latest WHERE server_id='nas'"), 2);
}

static void
test_duplicates_and_order(void **state)
{
    struct fx *f = *state;
    struct hlc_sample s;
    int64_t t0 = 1733000000;
    make(&s, t0, 1000, 9000, 1000, 10);
    assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
    hlc_sample_release(&s);
    make(&s, t0 + 120, 2000, 10000, 2000, 30);
    assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
    hlc_sample_release(&s);
    /* the same sample again (the agent re-sending its spool): a no-op */
    make(&s, t0 + 120, 2000, 10000, 2000, 99);
    assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
    hlc_sample_release(&s);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics WHERE server_id='pi'"), 2);
    assert_int_equal(count(f, "SELECT round(memory_percent) FROM metrics_latest"
                              " WHERE server_id='pi'"),
                     30);
    /* an older sample arriving late: kept in history, never the latest */
    make(&s, t0 + 60, 1500, 9500, 1500, 20);
    assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
    hlc_sample_release(&s);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics WHERE server_id='pi'"), 3);
    assert_int_equal(count(f, "SELECT timestamp FROM metrics_latest WHERE server_id='pi'"),
                     t0 + 120);
    assert_int_equal(count(f, "SELECT round(memory_percent) FROM metrics_latest"
                              " WHERE server_id='pi'"),
                     30);
    /* the hour's rollup counts each stored sample once: 10, 30, 20 */
    assert_int_equal(count(f, "SELECT mem_n FROM metrics_hourly WHERE server_id='pi'"), 3);
    assert_int_equal(count(f, "SELECT round(mem_sum/mem_n) FROM metrics_hourly"
                              " WHERE server_id='pi'"),
                     20);
    assert_int_equal(count(f, "SELECT round(mem_min) FROM metrics_hourly WHERE server_id='pi'"),
                     10);
    assert_int_equal(count(f, "SELECT round(mem_max) FROM metrics_hourly WHERE server_id='pi'"),
                     30);
}

/* After a hub restart the in-memory baseline is gone: the next sample still
 * derives, from the latest row. A reboot in between starts a new baseline. */
static void
test_baseline_from_store(void **state)
{
    struct fx *f = *state;
    struct hlc_sample s;
    int64_t t0 = 1733000000;
    make(&s, t0, 1000, 9000, 5000, 10);
    s.have |= HLC_HAVE_UPDATES;
    s.updates_pending = 7;
    s.updates_security = 2;
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    hlc_sample_release(&s);
    hlc_ingest_stop(&f->hub); /* drops the cache, as a restart would */
    assert_null(f->hub.ingest);

    make(&s, t0 + 60, 1300, 9700, 11000, 10);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    assert_true(s.have & HLC_HAVE_CPU_PERCENT);
    assert_true(fabs(s.cpu_percent - 30.0) < 1e-9);
    assert_true(s.have & HLC_HAVE_NET_RATES);
    assert_true(s.net[0].rx_bps == 100.0);
    hlc_sample_release(&s);
    json_t *l = NULL;
    assert_int_equal(hlc_store_metrics_latest(f->hub.store, "nas", &l), 0);
    /* updates are asked for only every few hours: the last known count stays */
    assert_true(num(l, "updates_available") == 7 && num(l, "security_updates") == 2);
    json_decref(l);

    assert_int_equal(hlc_ingest_start(&f->hub), 0);
    make(&s, t0 + 120, 10, 90, 10, 10); /* rebooted: counters restarted */
    s.boot_time = t0 + 100;
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    assert_false(s.have & (HLC_HAVE_CPU_PERCENT | HLC_HAVE_NET_RATES));
    hlc_sample_release(&s);
    assert_int_equal(hlc_store_metrics_latest(f->hub.store, "nas", &l), 0);
    assert_true(json_is_null(json_object_get(l, "cpu_percent")));
    json_decref(l);

    /* no btime: boot time from the sample's time minus its uptime */
    make(&s, t0 + 180, 20, 180, 20, 10);
    s.boot_time = 0;
    s.uptime_seconds = 80;
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    assert_int_equal(s.boot_time, t0 + 100);
    assert_true(s.have & HLC_HAVE_CPU_PERCENT); /* same boot: rates derive */
    hlc_sample_release(&s);
}

static void
test_services_containers(void **state)
{
    struct fx *f = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/collect/debian12_x86_64.txt", HLC_FIXTURES);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char text[65536];
    size_t len = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    struct hlc_sample s;
    hlc_sample_init(&s);
    s.timestamp = 1733000000;
    assert_int_equal(hlc_collect_parse(text, len, &s), 0);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    hlc_sample_release(&s);

    json_t *svcs = NULL;
    assert_int_equal(hlc_store_service_states(f->hub.store, "nas", &svcs), 0);
    /* expected: docker (running), nfs-server (never reported: unknown);
     * reported but not expected: plex (not-found: stopped), smbd.service (failed) */
    assert_int_equal(json_array_size(svcs), 4);
    json_t *d = json_array_get(svcs, 0);
    assert_string_equal(json_string_value(json_object_get(d, "service_name")), "docker");
    assert_true(json_is_true(json_object_get(d, "critical")));
    assert_string_equal(json_string_value(json_object_get(d, "status")), "running");
    assert_int_equal(json_integer_value(json_object_get(d, "pid")), 1021);
    assert_int_equal(json_integer_value(json_object_get(d, "memory_bytes")), 98304000);
    assert_true(json_is_string(json_object_get(d, "checked_at")));
    json_t *n = json_array_get(svcs, 1);
    assert_string_equal(json_string_value(json_object_get(n, "service_name")), "nfs-server");
    assert_string_equal(json_string_value(json_object_get(n, "status")), "unknown");
    assert_true(json_is_null(json_object_get(n, "checked_at")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(svcs, 2), "status")),
                        "stopped");
    assert_string_equal(json_string_value(json_object_get(json_array_get(svcs, 3), "status")),
                        "failed");
    assert_true(json_is_null(json_object_get(json_array_get(svcs, 3), "memory_bytes")));
    json_decref(svcs);

    json_t *ctrs = NULL;
    assert_int_equal(hlc_store_container_states(f->hub.store, "nas", &ctrs), 0);
    assert_int_equal(json_array_size(ctrs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ctrs, 0), "name")),
                        "plex");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ctrs, 1), "state")),
                        "exited");
    json_decref(ctrs);
    assert_int_equal(hlc_store_container_states(f->hub.store, "ghost", &ctrs), HLC_ENOTFOUND);

    /* a later poll without the docker section leaves the snapshot alone; one
     * with an empty section clears it */
    static const char later[] = "<<<docker>>>\n";
    hlc_sample_init(&s);
    s.timestamp = 1733000060;
    assert_int_equal(hlc_collect_parse(later, sizeof(later) - 1, &s), 0);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    hlc_sample_release(&s);
    assert_int_equal(hlc_store_container_states(f->hub.store, "nas", &ctrs), 0);
    assert_int_equal(json_array_size(ctrs), 0);
    json_decref(ctrs);
    assert_int_equal(count(f, "SELECT count(*) FROM service_latest WHERE server_id='nas'"), 3);

    /* the latest object carries temperatures, updates and reboot flag */
    json_t *l = NULL;
    assert_int_equal(hlc_store_metrics_latest(f->hub.store, "nas", &l), 0);
    assert_true(json_is_null(json_object_get(l, "cpu_temp_c"))); /* not in the later poll */
    assert_true(num(l, "updates_available") == 4); /* carried from the earlier poll */
    json_decref(l);
}

static void
test_history_and_summary(void **state)
{
    struct fx *f = *state;
    int64_t now = 1733011200; /* a whole hour */
    /* 24 h of 1-minute samples; memory % = minute of the hour */
    for (int i = 0; i < 24 * 60; i++) {
        struct hlc_sample s;
        make(&s, now - 86400 + i * 60, 1000 + (uint64_t)i * 30, 9000 + (uint64_t)i * 30,
             (uint64_t)i * 6000, (double)(i % 60));
        assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
        hlc_sample_release(&s);
    }
    json_t *h = NULL;
    assert_int_equal(
        hlc_store_metrics_history(f->hub.store, "pi", now - 86400, now + 1, 3600, false, &h), 0);
    json_t *ts = json_object_get(h, "timestamps");
    assert_int_equal(json_array_size(ts), 24);
    assert_int_equal(json_integer_value(json_array_get(ts, 0)), now - 86400);
    json_t *mem = json_object_get(json_object_get(h, "series"), "memory_percent");
    assert_true(fabs(json_number_value(json_array_get(json_object_get(mem, "avg"), 5)) - 29.5) <
                0.01);
    assert_true(json_number_value(json_array_get(json_object_get(mem, "min"), 5)) == 0);
    assert_true(json_number_value(json_array_get(json_object_get(mem, "max"), 5)) == 59);
    json_t *cpu = json_object_get(json_object_get(h, "series"), "cpu_percent");
    /* the very first sample has no rate yet; every other one is 50 % */
    assert_true(json_number_value(json_array_get(json_object_get(cpu, "max"), 0)) == 50.0);
    json_t *temp = json_object_get(json_object_get(h, "series"), "cpu_temp_c");
    assert_true(json_is_null(json_array_get(json_object_get(temp, "avg"), 0)));
    /* load 1, 5 and 15 minutes each their own series */
    json_t *l5 = json_object_get(json_object_get(h, "series"), "load_5m");
    json_t *l15 = json_object_get(json_object_get(h, "series"), "load_15m");
    assert_true(json_number_value(json_array_get(json_object_get(l5, "avg"), 3)) == 0.25);
    assert_true(json_number_value(json_array_get(json_object_get(l15, "max"), 3)) == 0.125);
    json_decref(h);

    /* the same day from the hourly rollups, in 6-hour buckets */
    assert_int_equal(hlc_store_metrics_history(f->hub.store, "pi", now - 86400, now + 1, 21600,
                                               true, &h),
                     0);
    ts = json_object_get(h, "timestamps");
    assert_int_equal(json_array_size(ts), 4);
    mem = json_object_get(json_object_get(h, "series"), "memory_percent");
    assert_true(fabs(json_number_value(json_array_get(json_object_get(mem, "avg"), 1)) - 29.5) <
                0.01);
    assert_true(json_number_value(json_array_get(json_object_get(mem, "max"), 1)) == 59);
    json_t *rx = json_object_get(json_object_get(h, "series"), "network_rx_bps");
    assert_true(json_number_value(json_array_get(json_object_get(rx, "avg"), 2)) == 100.0);
    l5 = json_object_get(json_object_get(h, "series"), "load_5m");
    l15 = json_object_get(json_object_get(h, "series"), "load_15m");
    assert_true(json_number_value(json_array_get(json_object_get(l5, "min"), 2)) == 0.25);
    assert_true(json_number_value(json_array_get(json_object_get(l15, "avg"), 2)) == 0.125);
    json_decref(h);

    json_t *sum = NULL;
    assert_int_equal(hlc_store_metrics_summary(f->hub.store, &sum), 0);
    assert_int_equal(json_integer_value(json_object_get(sum, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(sum, "online")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "unknown")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sum, "workstations"), "total")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sum, "servers"), "online")), 1);
    assert_true(num(sum, "avg_memory_percent") == 59.0);
    assert_true(num(sum, "max_disk_percent") > 26.6);
    json_decref(sum);

    json_t *all = NULL;
    assert_int_equal(hlc_store_metrics_latest_all(f->hub.store, &all), 0);
    assert_int_equal(json_object_size(all), 1);
    assert_non_null(json_object_get(all, "pi"));
    json_decref(all);
}

/* Each filesystem's used % per sample and hour, written with the sample,
 * read back per mount in epoch-aligned buckets from samples and rollups. */
static void
test_fs_history(void **state)
{
    struct fx *f = *state;
    int64_t now = 1733011200; /* a whole hour */
    /* 3 h of 1-minute samples; /srv/media fills by 1 % a minute from 10 % */
    for (int i = 0; i < 180; i++) {
        struct hlc_sample s;
        make(&s, now - 3 * 3600 + i * 60, 1000 + (uint64_t)i, 9000 + (uint64_t)i, 1, 5);
        s.fs[0].used_bytes = 100 + (uint64_t)(i % 60) * 10;
        s.fs[0].avail_bytes = 1000 - s.fs[0].used_bytes;
        if (i == 0) /* a bind mount listed twice is stored once */
            snprintf(s.fs[1].mount, sizeof(s.fs[1].mount), "/srv/media");
        assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
        if (i == 179) /* the same sample again changes nothing */
            assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
        hlc_sample_release(&s);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_metrics WHERE server_id='pi'"),
                     359);
    assert_int_equal(count(f, "SELECT sum(pct_n) FROM filesystem_hourly WHERE server_id='pi'"
                              " AND mount='/srv/media'"),
                     180);
    assert_int_equal(count(f, "SELECT round(pct_min) * 1000 + round(pct_max) FROM"
                              " filesystem_hourly WHERE server_id='pi' AND mount='/srv/media'"
                              " AND hour=1733004000"),
                     10069); /* 10 % to 69 % */
    assert_int_equal(count(f, "SELECT used_bytes FROM filesystem_hourly WHERE server_id='pi'"
                              " AND mount='/srv/media' AND hour=1733004000"),
                     690);
    assert_int_equal(count(f, "SELECT round(used_percent * 100) FROM filesystem_metrics"
                              " WHERE server_id='pi' AND mount='/' AND timestamp=1733000460"),
                     2667); /* 1000 / (1000 + 2750) */

    /* samples in 30-minute buckets: six per mount, oldest first, sorted by mount */
    json_t *h = NULL;
    assert_int_equal(hlc_store_fs_history(f->hub.store, "pi", now - 3 * 3600, now, 1800, false,
                                          64, &h),
                     0);
    json_t *fss = json_object_get(h, "filesystems");
    assert_int_equal(json_array_size(fss), 2);
    assert_false(json_is_true(json_object_get(h, "truncated")));
    json_t *root = json_array_get(fss, 0), *media = json_array_get(fss, 1);
    assert_string_equal(json_string_value(json_object_get(root, "mount")), "/");
    assert_string_equal(json_string_value(json_object_get(media, "mount")), "/srv/media");
    json_t *ms = json_object_get(media, "series");
    assert_int_equal(json_array_size(ms), 6);
    assert_int_equal(json_array_size(json_object_get(root, "series")), 6);
    json_t *p0 = json_array_get(ms, 0), *p1 = json_array_get(ms, 1);
    assert_int_equal(json_integer_value(json_object_get(p0, "t")), now - 3 * 3600);
    assert_int_equal(json_integer_value(json_object_get(p1, "t")), now - 3 * 3600 + 1800);
    /* minutes 0..29 are 10..39 %, 30..59 are 40..69 % */
    assert_true(fabs(json_number_value(json_object_get(p0, "used_percent")) - 24.5) < 0.001);
    assert_true(fabs(json_number_value(json_object_get(p1, "used_percent")) - 54.5) < 0.001);
    json_decref(h);

    /* the hourly sums in 2-hour buckets: the same average */
    assert_int_equal(hlc_store_fs_history(f->hub.store, "pi", now - 4 * 3600, now, 7200, true, 64,
                                          &h),
                     0);
    ms = json_object_get(json_array_get(json_object_get(h, "filesystems"), 1), "series");
    assert_int_equal(json_array_size(ms), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ms, 0), "t")),
                     now - 4 * 3600);
    assert_true(fabs(json_number_value(json_object_get(json_array_get(ms, 1), "used_percent")) -
                     39.5) < 0.001);
    json_decref(h);

    /* at most max_mounts mounts, and it says so */
    assert_int_equal(hlc_store_fs_history(f->hub.store, "pi", now - 3 * 3600, now, 1800, false, 1,
                                          &h),
                     0);
    assert_int_equal(json_array_size(json_object_get(h, "filesystems")), 1);
    assert_true(json_is_true(json_object_get(h, "truncated")));
    json_decref(h);

    /* a machine with no samples has none; an unknown one is not found */
    assert_int_equal(hlc_store_fs_history(f->hub.store, "nas", now - 3 * 3600, now, 1800, false,
                                          64, &h),
                     0);
    assert_int_equal(json_array_size(json_object_get(h, "filesystems")), 0);
    json_decref(h);
    h = NULL;
    assert_int_equal(hlc_store_fs_history(f->hub.store, "ghost", now - 3600, now, 60, false, 64,
                                          &h),
                     HLC_ENOTFOUND);
    assert_null(h);
    assert_int_equal(hlc_store_fs_history(f->hub.store, "pi", now - 3600, now, 0, false, 64, &h),
                     HLC_EINVAL);
    /* deleting the machine takes its filesystem history along */
    assert_int_equal(hlc_store_machine_delete(f->hub.store, "pi"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_metrics"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_hourly"), 0);
}

/* Gives a sample n temperature sensors named zone0.. at `c` degrees. */
static void
add_temps(struct hlc_sample *s, size_t n, double c)
{
    s->have |= HLC_HAVE_TEMPS;
    s->temps = hlc_xcalloc(n, sizeof(*s->temps));
    s->ntemps = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(s->temps[i].zone, sizeof(s->temps[i].zone), "zone%zu", i);
        s->temps[i].celsius = c;
    }
}

/* Each temperature sensor's degrees per sample and hour, written with the
 * sample (a zone listed twice once, at most a sample's cap of zones), read
 * back per zone from samples and rollups, pruned like the samples. */
static void
test_temp_history(void **state)
{
    struct fx *f = *state;
    int64_t now = 1733011200; /* a whole hour */
    /* 3 h of 1-minute samples; the package warms by half a degree a minute */
    for (int i = 0; i < 180; i++) {
        struct hlc_sample s;
        make(&s, now - 3 * 3600 + i * 60, 1000 + (uint64_t)i, 9000 + (uint64_t)i, 1, 5);
        add_temps(&s, 4, 30);
        snprintf(s.temps[0].zone, sizeof(s.temps[0].zone), "x86_pkg_temp");
        s.temps[0].celsius = 40 + (i % 60) * 0.5;
        snprintf(s.temps[1].zone, sizeof(s.temps[1].zone), "acpitz");
        /* a second acpitz zone (boards have several): the first is kept */
        snprintf(s.temps[2].zone, sizeof(s.temps[2].zone), "acpitz");
        s.temps[2].celsius = 99;
        s.temps[3].celsius = NAN; /* no reading: skipped */
        assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
        if (i == 179) /* the same sample again changes nothing */
            assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), 0);
        hlc_sample_release(&s);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_metrics WHERE server_id='pi'"),
                     360);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_metrics WHERE celsius > 90"), 0);
    assert_int_equal(count(f, "SELECT sum(c_n) FROM temperature_hourly WHERE server_id='pi'"
                              " AND zone='acpitz'"),
                     180);
    assert_int_equal(count(f, "SELECT round(c_min * 10) * 10000 + round(c_max * 10) FROM"
                              " temperature_hourly WHERE server_id='pi' AND zone='x86_pkg_temp'"
                              " AND hour=1733004000"),
                     4000695); /* 40 to 69.5 degrees */
    assert_int_equal(count(f, "SELECT max(c_max) FROM temperature_hourly WHERE zone='acpitz'"), 30);

    /* a sample over the cap: only HLC_SAMPLE_MAX_TEMPS zones are stored */
    struct hlc_sample big;
    make(&big, now - 60, 1, 1, 1, 5);
    add_temps(&big, HLC_SAMPLE_MAX_TEMPS + 8, 50);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &big, "agent"), 0);
    hlc_sample_release(&big);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_metrics WHERE server_id='nas'"),
                     HLC_SAMPLE_MAX_TEMPS);

    /* samples in 30-minute buckets: six per zone, oldest first, sorted by zone */
    json_t *h = NULL;
    assert_int_equal(
        hlc_store_temp_history(f->hub.store, "pi", now - 3 * 3600, now, 1800, false, 32, &h), 0);
    json_t *zs = json_object_get(h, "temperatures");
    assert_int_equal(json_array_size(zs), 2);
    assert_false(json_is_true(json_object_get(h, "truncated")));
    json_t *acpi = json_array_get(zs, 0), *pkg = json_array_get(zs, 1);
    assert_string_equal(json_string_value(json_object_get(acpi, "zone")), "acpitz");
    assert_string_equal(json_string_value(json_object_get(pkg, "zone")), "x86_pkg_temp");
    json_t *ps = json_object_get(pkg, "series");
    assert_int_equal(json_array_size(ps), 6);
    json_t *p0 = json_array_get(ps, 0), *p1 = json_array_get(ps, 1);
    assert_int_equal(json_integer_value(json_object_get(p0, "t")), now - 3 * 3600);
    /* minutes 0..29 are 40..54.5 degrees, 30..59 are 55..69.5 */
    assert_true(fabs(json_number_value(json_object_get(p0, "celsius")) - 47.25) < 0.001);
    assert_true(fabs(json_number_value(json_object_get(p1, "celsius")) - 62.25) < 0.001);
    assert_true(json_number_value(json_object_get(
                    json_array_get(json_object_get(acpi, "series"), 5), "celsius")) == 30);
    json_decref(h);

    /* the hourly sums in 2-hour buckets: the same average */
    assert_int_equal(
        hlc_store_temp_history(f->hub.store, "pi", now - 4 * 3600, now, 7200, true, 32, &h), 0);
    ps = json_object_get(json_array_get(json_object_get(h, "temperatures"), 1), "series");
    assert_int_equal(json_array_size(ps), 2);
    assert_true(fabs(json_number_value(json_object_get(json_array_get(ps, 1), "celsius")) - 54.75) <
                0.001);
    json_decref(h);

    /* at most max_zones zones, and it says so; an unknown machine is not found */
    assert_int_equal(hlc_store_temp_history(f->hub.store, "nas", now - 3600, now, 60, false, 4, &h),
                     0);
    assert_int_equal(json_array_size(json_object_get(h, "temperatures")), 4);
    assert_true(json_is_true(json_object_get(h, "truncated")));
    json_decref(h);
    h = NULL;
    assert_int_equal(
        hlc_store_temp_history(f->hub.store, "ghost", now - 3600, now, 60, false, 32, &h),
        HLC_ENOTFOUND);
    assert_null(h);

    /* pruned like the samples and rollups: the last two hours stay */
    int deleted = 0, rounds = 0;
    do {
        assert_int_equal(
            hlc_store_metrics_prune(f->hub.store, now - 2 * 3600, now - 2 * 3600, 50, &deleted), 0);
        rounds++;
    } while (deleted > 0 && rounds < 100);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_metrics WHERE server_id='pi'"),
                     240);
    assert_int_equal(count(f, "SELECT min(timestamp) FROM temperature_metrics"), now - 2 * 3600);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_hourly WHERE server_id='pi'"), 4);
    /* deleting the machine takes its temperature history along */
    assert_int_equal(hlc_store_machine_delete(f->hub.store, "pi"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_metrics WHERE server_id='pi'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM temperature_hourly WHERE server_id='pi'"), 0);
}

/* store_schema.c's steps: this test builds a database as it was before the
 * step that added load 5/15 to the rollups, then lets the store upgrade it. */
extern const char *const store_migrations[];

/* Upgrading keeps the hourly rollups and fills load 5/15 in from the samples
 * still kept for their hours. */
static void
test_migration_fills_load_rollups(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/v16.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(sqlite3_exec(db, store_migrations[i], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "PRAGMA user_version=16;"
                     "INSERT INTO servers(server_id, display_name, hostname, registered_at,"
                     " updated_at) VALUES('old', 'old', 'h', 1, 1);"
                     "INSERT INTO metrics(server_id, timestamp, source, load_1m, load_5m, load_15m)"
                     " VALUES('old', 7200, 'ssh', 1, 1, 0.5), ('old', 7260, 'ssh', 2, 3, 1.5);"
                     "INSERT INTO metrics_hourly(server_id, hour, load_sum, load_n, load_min,"
                     " load_max) VALUES('old', 7200, 3, 2, 1, 2), ('old', 0, 4, 1, 4, 4);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct hlc_store *st = NULL;
    assert_int_equal(hlc_store_open(&st, path, 1), 0);
    hlc_store_free(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT load_n, load5_sum, load5_n, load5_min, load5_max,"
                                        " load15_sum, load15_n, load15_max FROM metrics_hourly"
                                        " WHERE hour=7200",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2);
    assert_true(sqlite3_column_double(q, 1) == 4.0);
    assert_int_equal(sqlite3_column_int(q, 2), 2);
    assert_true(sqlite3_column_double(q, 3) == 1.0);
    assert_true(sqlite3_column_double(q, 4) == 3.0);
    assert_true(sqlite3_column_double(q, 5) == 2.0);
    assert_int_equal(sqlite3_column_int(q, 6), 2);
    assert_true(sqlite3_column_double(q, 7) == 1.5);
    sqlite3_finalize(q);
    /* an hour whose samples are gone keeps its load 1 and has no load 5/15 */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT load_n, load5_n, load5_sum IS NULL FROM"
                                        " metrics_hourly WHERE hour=0",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    assert_int_equal(sqlite3_column_int(q, 1), 0);
    assert_int_equal(sqlite3_column_int(q, 2), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void
test_prune(void **state)
{
    struct fx *f = *state;
    int64_t now = 1733011200;
    /* 3000 samples 40 days old (past the 30 days), 10 recent ones; rollups
     * 400 days old (past the year) */
    for (int i = 0; i < 3000; i++) {
        struct hlc_sample s;
        make(&s, now - 40 * 86400 + i * 60, 1, 1, 1, 5);
        assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
        hlc_sample_release(&s);
    }
    for (int i = 0; i < 10; i++) {
        struct hlc_sample s;
        make(&s, now - 400 * 86400 + i * 3600, 1, 1, 1, 5);
        assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "ssh"), 0);
        hlc_sample_release(&s);
        make(&s, now - i * 60, 1, 1, 1, 5);
        assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
        hlc_sample_release(&s);
    }
    int64_t hourly_before = count(f, "SELECT count(*) FROM metrics_hourly");
    int deleted = 0, rounds = 0, total = 0;
    do {
        assert_int_equal(hlc_store_metrics_prune(f->hub.store, now - 30 * 86400,
                                                 now - 365 * 86400, 1000, &deleted),
                         0);
        assert_true(deleted <= 4000); /* never more than a batch per table */
        total += deleted;
        rounds++;
    } while (deleted > 0 && rounds < 100);
    assert_true(rounds >= 4); /* 3010 rows in batches of 1000 */
    assert_int_equal(count(f, "SELECT count(*) FROM metrics WHERE server_id='nas'"), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics WHERE server_id='pi'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics_hourly WHERE server_id='pi'"), 0);
    /* rollups younger than a year stay, though their samples are gone */
    assert_int_equal(count(f, "SELECT count(*) FROM metrics_hourly WHERE server_id='nas'"),
                     hourly_before - 10);
    /* each filesystem's history goes the same way: two mounts a sample */
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_metrics WHERE server_id='nas'"),
                     20);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_metrics WHERE server_id='pi'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_hourly WHERE server_id='pi'"), 0);
    assert_true(count(f, "SELECT count(*) FROM filesystem_hourly WHERE server_id='nas'") > 0);
    assert_int_equal(total, 3010 + 10 + 6020 + 20);
}

/* Unchanged snapshot rows are not rewritten, yet checked_at says when the
 * machine last reported them; a change (or a restart) rewrites them. */
static void
test_snapshot_skip(void **state)
{
    struct fx *f = *state;
    int64_t t0 = 1733000000;
    for (int i = 0; i < 3; i++) {
        struct hlc_sample s;
        make(&s, t0 + i * 60, 1, 1, 1, 10);
        s.have |= HLC_HAVE_SERVICES;
        s.services = hlc_xcalloc(1, sizeof(*s.services));
        s.nservices = 1;
        snprintf(s.services[0].name, sizeof(s.services[0].name), "docker");
        snprintf(s.services[0].active_state, sizeof(s.services[0].active_state),
                 i < 2 ? "active" : "failed");
        s.services[0].memory_bytes = s.services[0].cpu_usage_ns = -1;
        assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
        hlc_sample_release(&s);
        /* the row is written at t0, left alone at t0+60, rewritten at t0+120 */
        int64_t written = i == 1 ? t0 : t0 + i * 60;
        assert_int_equal(count(f, "SELECT checked_at FROM service_latest WHERE server_id='nas'"
                                  " AND service_name='docker'"),
                         written);
        assert_int_equal(count(f, "SELECT checked_at FROM filesystem_latest WHERE"
                                  " server_id='nas' AND mount='/'"),
                         t0);
        json_t *svcs = NULL;
        assert_int_equal(hlc_store_service_states(f->hub.store, "nas", &svcs), 0);
        json_t *d = json_array_get(svcs, 0);
        assert_string_equal(json_string_value(json_object_get(d, "status")),
                            i < 2 ? "running" : "failed");
        int64_t checked = 0;
        assert_int_equal(
            hlc_time_parse(json_string_value(json_object_get(d, "checked_at")), &checked), 0);
        assert_int_equal(checked, t0 + i * 60);
        json_decref(svcs);
    }
    /* after a restart nothing is known about the rows: they are rewritten */
    hlc_ingest_stop(&f->hub);
    assert_int_equal(hlc_ingest_start(&f->hub), 0);
    struct hlc_sample s;
    make(&s, t0 + 180, 1, 1, 1, 10);
    assert_int_equal(hlc_ingest_sample(&f->hub, "nas", &s, "ssh"), 0);
    hlc_sample_release(&s);
    assert_int_equal(count(f, "SELECT checked_at FROM filesystem_latest WHERE"
                              " server_id='nas' AND mount='/'"),
                     t0 + 180);
}

/* A batch commits every good sample even when one in it fails. */
static void
test_batch_isolation(void **state)
{
    struct fx *f = *state;
    struct hlc_sample s[3];
    struct hlc_metric_point p = {0};
    struct hlc_metric_write w[3], *ws[3];
    const char *ids[3] = {"nas", "ghost", "pi"};
    for (int i = 0; i < 3; i++) {
        make(&s[i], 1733000000, 1, 1, 1, 10);
        p.timestamp = 1733000000;
        p.cpu_percent = p.memory_percent = p.disk_percent = NAN;
        p.rx_bps = p.tx_bps = p.load1 = p.load5 = p.load15 = p.cpu_temp_c = NAN;
        p.memory_used = p.memory_total = p.swap_used = p.swap_total = -1;
        p.disk_used = p.disk_total = p.rx_bytes = p.tx_bytes = p.uptime_seconds = -1;
        w[i] = (struct hlc_metric_write){.id = ids[i], .smp = &s[i], .point = &p,
                                         .source = "agent", .latest_json = "{}",
                                         .write_snapshots = HLC_HAVE_FS, .now = 1733000000};
        ws[i] = &w[i];
    }
    assert_int_equal(hlc_store_metrics_ingest_batch(f->hub.store, ws, 3), 0);
    assert_int_equal(w[0].rc, 0);
    assert_true(w[0].newest);
    assert_int_equal(w[1].rc, HLC_ENOTFOUND);
    assert_int_equal(w[2].rc, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics"), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM filesystem_latest"), 4);
    /* the same batch again: all duplicates, nothing changes */
    assert_int_equal(hlc_store_metrics_ingest_batch(f->hub.store, ws, 3), 0);
    assert_true(w[0].duplicate && w[2].duplicate);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics"), 2);
    for (int i = 0; i < 3; i++)
        hlc_sample_release(&s[i]);
}

struct worker {
    struct fx *f;
    const char *id;
    int64_t base;
    int n;
    int failures;
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        struct hlc_sample s;
        make(&s, w->base + i * 60, (uint64_t)i * 100, (uint64_t)i * 100, (uint64_t)i, 10);
        if (hlc_ingest_sample(&w->f->hub, w->id, &s, "agent") != 0)
            w->failures++;
        hlc_sample_release(&s);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct fx *f = *state;
    struct worker w[4] = {
        {f, "nas", 1733000000, 200, 0},
        {f, "pi", 1733000000, 200, 0},
        {f, "laptop", 1733000000, 200, 0},
        {f, "nas", 1733000000, 200, 0}, /* the same samples twice, concurrently */
    };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM metrics"), 600);
    assert_int_equal(count(f, "SELECT sum(mem_n) FROM metrics_hourly"), 600);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics_latest"), 3);
    assert_int_equal(count(f, "SELECT max(timestamp) FROM metrics_latest"), 1733000000 + 199 * 60);
    /* deleting a machine takes its history with it */
    assert_int_equal(hlc_store_machine_delete(f->hub.store, "pi"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics"), 400);
    assert_int_equal(count(f, "SELECT count(*) FROM metrics_hourly WHERE server_id='pi'"), 0);
    struct hlc_sample s;
    make(&s, 1733100000, 1, 1, 1, 1);
    assert_int_equal(hlc_ingest_sample(&f->hub, "pi", &s, "agent"), HLC_ENOTFOUND);
    hlc_sample_release(&s);
}

/* Ingest that never pauses still keeps the WAL bounded (it starts over
 * past 16,000 frames, ~64 MB): the log must start over between batches,
 * not grow for as long as samples keep coming (~53,000 frames here,
 * ~210 MB if it never did). */
static void
test_wal_bounded(void **state)
{
    struct fx *f = *state;
    struct worker w[3] = {
        {f, "nas", 1733000000, 4000, 0},
        {f, "pi", 1733000000, 4000, 0},
        {f, "laptop", 1733000000, 4000, 0},
    };
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM metrics"), 12000);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size < 100 * 1024 * 1024);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ingest_latest_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baseline_from_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_containers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_and_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_temp_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_fills_load_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
