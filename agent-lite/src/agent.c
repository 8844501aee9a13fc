/* agent.c - homelabcmd-agent: reads this machine's /proc, /sys and mounts,
 * turns them into a heartbeat (TRD §4, extended with raw counters,
 * filesystems, network and temperatures) and posts it to the hub every
 * interval with X-API-Key over one reused libcurl handle. `--once` prints
 * the heartbeat instead of sending it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/sample.h"

#define MAX_FILE (256 * 1024)

static volatile sig_atomic_t stopping;

/* Copies src into dst[cap], cut to fit, always terminated. */
static void
copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void
on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Reads a whole small file into buf (NUL-terminated); length or -1. */
static long
read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

static void
section(const char *name, const char *path, char *buf, struct hlc_sample *s)
{
    long n = read_file(path, buf, MAX_FILE);
    if (n > 0)
        hlc_collect_parse_section(name, buf, (size_t)n, s);
}

/* A filesystem worth reporting: backed by a device, not a pseudo/overlay fs. */
static bool
real_fs(const char *dev, const char *type)
{
    static const char *const skip[] = {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc",
                                       "sysfs", "cgroup", "cgroup2", "devpts", "mqueue",
                                       "debugfs", "tracefs", "securityfs", "pstore", "bpf",
                                       "autofs", "fusectl", "configfs", "hugetlbfs", "nsfs",
                                       "ramfs", "binfmt_misc", "efivarfs", "rpc_pipefs", NULL};
    for (size_t i = 0; skip[i]; i++)
        if (strcmp(type, skip[i]) == 0)
            return false;
    return dev[0] == '/' || strchr(dev, ':') != NULL || strcmp(type, "zfs") == 0 ||
           strcmp(type, "btrfs") == 0;
}

static void
collect_fs(struct hlc_sample *s)
{
    FILE *f = fopen("/proc/self/mounts", "re");
    if (!f)
        return;
    s->fs = hlc_xcalloc(HLC_SAMPLE_MAX_FS, sizeof(*s->fs));
    s->have |= HLC_HAVE_FS;
    char line[1024];
    while (fgets(line, sizeof(line), f) && s->nfs < HLC_SAMPLE_MAX_FS) {
        char dev[256], mnt[512], type[64];
        if (sscanf(line, "%255s %511s %63s", dev, mnt, type) != 3 || !real_fs(dev, type))
            continue;
        bool dup = false;
        for (size_t i = 0; i < s->nfs; i++)
            dup = dup || strcmp(s->fs[i].mount, mnt) == 0;
        struct statvfs v;
        if (dup || strlen(mnt) >= sizeof(s->fs[0].mount) || statvfs(mnt, &v) != 0 ||
            v.f_blocks == 0)
            continue;
        struct hlc_fs *fs = &s->fs[s->nfs++];
        copy(fs->mount, sizeof(fs->mount), mnt);
        copy(fs->device, sizeof(fs->device), dev);
        copy(fs->fstype, sizeof(fs->fstype), type);
        fs->total_bytes = (uint64_t)v.f_blocks * v.f_frsize;
        fs->used_bytes = (uint64_t)(v.f_blocks - v.f_bfree) * v.f_frsize;
        fs->avail_bytes = (uint64_t)v.f_bavail * v.f_frsize;
    }
    fclose(f);
}

static void
collect_temps(struct hlc_sample *s, char *buf)
{
    DIR *d = opendir("/sys/class/thermal");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && s->ntemps < HLC_SAMPLE_MAX_TEMPS) {
        if (strncmp(de->d_name, "thermal_zone", 12) != 0)
            continue;
        char p[300], zone[64];
        snprintf(p, sizeof(p), "/sys/class/thermal/%s/type", de->d_name);
        if (read_file(p, buf, 64) <= 0)
            continue;
        buf[strcspn(buf, "\n")] = '\0';
        copy(zone, sizeof(zone), buf);
        snprintf(p, sizeof(p), "/sys/class/thermal/%s/temp", de->d_name);
        int64_t milli;
        if (read_file(p, buf, 32) <= 0)
            continue;
        buf[strcspn(buf, "\n")] = '\0';
        if (hlc_parse_i64(buf, -100000, 250000, &milli) != 0)
            continue;
        if (!s->temps)
            s->temps = hlc_xcalloc(HLC_SAMPLE_MAX_TEMPS, sizeof(*s->temps));
        struct hlc_temp *t = &s->temps[s->ntemps++];
        copy(t->zone, sizeof(t->zone), zone);
        t->celsius = (double)milli / 1000.0;
    }
    closedir(d);
}

/* One sample of this machine, read now. */
static void
collect(struct hlc_sample *s, char *buf)
{
    hlc_sample_init(s);
    s->timestamp = (int64_t)time(NULL);
    section("stat", "/proc/stat", buf, s);
    section("meminfo", "/proc/meminfo", buf, s);
    section("netdev", "/proc/net/dev", buf, s);
    section("loadavg", "/proc/loadavg", buf, s);
    section("uptime", "/proc/uptime", buf, s);
    section("osrelease", "/etc/os-release", buf, s);
    struct utsname u;
    if (uname(&u) == 0) {
        copy(s->kernel, sizeof(s->kernel), u.release);
        copy(s->arch, sizeof(s->arch), u.machine);
        copy(s->hostname, sizeof(s->hostname), u.nodename);
    }
    collect_fs(s);
    collect_temps(s, buf);
    s->reboot_required = access("/var/run/reboot-required", F_OK) == 0;
    s->have |= HLC_HAVE_REBOOT;
}

static json_t *
heartbeat_json(const struct hlc_sample *s, const char *id, const char *type)
{
    char ts[32];
    hlc_time_iso(s->timestamp, ts);
    json_t *m = json_object();
    if (s->have & HLC_HAVE_CPU) {
        json_object_set_new(m, "cpu_cores", json_integer(s->cpu_cores ? s->cpu_cores : 1));
        json_object_set_new(m, "cpu_total_jiffies", json_integer((json_int_t)s->cpu_total));
        json_object_set_new(m, "cpu_idle_jiffies", json_integer((json_int_t)s->cpu_idle));
    }
    if (s->have & HLC_HAVE_MEMORY) {
        json_object_set_new(m, "memory_total_bytes", json_integer((json_int_t)s->mem_total));
        json_object_set_new(m, "memory_available_bytes",
                            json_integer((json_int_t)s->mem_available));
        json_object_set_new(m, "swap_total_bytes", json_integer((json_int_t)s->swap_total));
        json_object_set_new(m, "swap_free_bytes", json_integer((json_int_t)s->swap_free));
    }
    if (s->have & HLC_HAVE_LOAD) {
        json_object_set_new(m, "load_1m", json_real(s->load1));
        json_object_set_new(m, "load_5m", json_real(s->load5));
        json_object_set_new(m, "load_15m", json_real(s->load15));
    }
    if (s->have & HLC_HAVE_UPTIME)
        json_object_set_new(m, "uptime_seconds", json_integer(s->uptime_seconds));
    json_t *hb = json_pack("{s:s, s:s, s:s, s:o, s:b}", "server_id", id, "timestamp", ts,
                           "machine_type", type, "metrics", m, "reboot_required",
                           s->reboot_required);
    if (s->hostname[0])
        json_object_set_new(hb, "hostname", json_string(s->hostname));
    json_t *os = json_object();
    const char *osf[][2] = {{"id", s->os_id}, {"distribution", s->os_name},
                            {"version", s->os_version}, {"kernel", s->kernel},
                            {"architecture", s->arch}};
    for (size_t i = 0; i < 5; i++)
        if (osf[i][1][0])
            json_object_set_new(os, osf[i][0], json_string(osf[i][1]));
    json_object_set_new(hb, "os_info", os);
    json_t *a = json_array();
    for (size_t i = 0; i < s->nfs; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "mount", s->fs[i].mount, "device",
                         s->fs[i].device, "fstype", s->fs[i].fstype, "total_bytes",
                         (json_int_t)s->fs[i].total_bytes, "used_bytes",
                         (json_int_t)s->fs[i].used_bytes, "avail_bytes",
                         (json_int_t)s->fs[i].avail_bytes));
    json_object_set_new(hb, "filesystems", a);
    a = json_array();
    for (size_t i = 0; i < s->nnet; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", s->net[i].name,
                                           "rx_bytes", (json_int_t)s->net[i].rx_bytes,
                                           "tx_bytes", (json_int_t)s->net[i].tx_bytes));
    json_object_set_new(hb, "network", a);
    if (s->ntemps) {
        a = json_array();
        for (size_t i = 0; i < s->ntemps; i++)
            json_array_append_new(a, json_pack("{s:s, s:f}", "zone", s->temps[i].zone,
                                               "celsius", s->temps[i].celsius));
        json_object_set_new(hb, "temperatures", a);
    }
    return hb;
}

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Posts one heartbeat; 0 when the hub acknowledged it (2xx), HLC_EIO otherwise. */
static int
post(CURL *c, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status < 200 || status > 299) {
        fprintf(stderr, "homelabcmd-agent: heartbeat not accepted: %s (HTTP %ld)\n",
                cc != CURLE_OK ? curl_easy_strerror(cc) : "hub refused", status);
        return HLC_EIO;
    }
    return 0;
}

/* The spool: heartbeats the hub did not acknowledge, one file each, named by
 * timestamp so a directory listing sorted by name is their order. Written to
 * a temporary name, fsynced and renamed, so a crash leaves whole files only.
 * Holds at most `max` files; the oldest go first. */
struct spool {
    const char *dir;  /* NULL: no spool */
    long max;         /* files kept */
};

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted spool file names (heap); count in *n. */
static char **
spool_list(const struct spool *sp, size_t *n)
{
    *n = 0;
    DIR *d = opendir(sp->dir);
    if (!d)
        return NULL;
    size_t cap = 16;
    char **v = hlc_xmalloc(cap * sizeof(*v));
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                abort();
            v = nv;
        }
        v[(*n)++] = hlc_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(v, *n, sizeof(*v), name_cmp);
    return v;
}

static void
spool_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
spool_put(const struct spool *sp, int64_t ts, const char *body)
{
    char tmp[1200], path[1200];
    snprintf(tmp, sizeof(tmp), "%s/.%020lld.tmp", sp->dir, (long long)ts);
    snprintf(path, sizeof(path), "%s/%020lld.json", sp->dir, (long long)ts);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    size_t len = strlen(body), off = 0;
    while (off < len) {
        ssize_t w = write(fd, body + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = off == len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return;
    }
    size_t n;
    char **v = spool_list(sp, &n);
    for (size_t i = 0; n > (size_t)sp->max && i < n - (size_t)sp->max; i++) {
        snprintf(path, sizeof(path), "%s/%s", sp->dir, v[i]);
        unlink(path);
    }
    spool_free(v, n);
}

/* Sends the spool oldest first; stops at the first refusal. 0 when emptied. */
static int
spool_drain(const struct spool *sp, CURL *c, const char *url, char *buf)
{
    size_t n;
    char **v = spool_list(sp, &n);
    int rc = 0;
    for (size_t i = 0; i < n && !stopping; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", sp->dir, v[i]);
        long len = read_file(path, buf, MAX_FILE);
        if (len > 0 && (rc = post(c, url, buf)) != 0)
            break;
        unlink(path);
    }
    spool_free(v, n);
    return rc;
}

static const char *
opt_env(const char *flag, const char *env)
{
    if (flag)
        return flag;
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}

static void
usage(void)
{
    fputs("usage: homelabcmd-agent [--hub URL] [--key KEY] [--id SERVER_ID]\n"
          "         [--type workstation|server] [--interval SECONDS] [--once]\n"
          "         [--spool-dir DIR] [--spool-max FILES]\n"
          "env: HOMELABCMD_AGENT_HUB, HOMELABCMD_AGENT_KEY, HOMELABCMD_AGENT_ID,\n"
          "     HOMELABCMD_AGENT_INTERVAL\n",
          stderr);
}

int
main(int argc, char **argv)
{
    const char *hub = NULL, *key = NULL, *id = NULL, *type = "workstation", *ival = NULL;
    const char *spool_dir = NULL, *spool_max = NULL;
    bool once = false;
    static const struct option opts[] = {
        {"hub", required_argument, NULL, 'h'},  {"key", required_argument, NULL, 'k'},
        {"id", required_argument, NULL, 'i'},   {"type", required_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'n'}, {"once", no_argument, NULL, 'o'},
        {"spool-dir", required_argument, NULL, 's'}, {"spool-max", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'h': hub = optarg; break;
        case 'k': key = optarg; break;
        case 'i': id = optarg; break;
        case 't': type = optarg; break;
        case 'n': ival = optarg; break;
        case 'o': once = true; break;
        case 's': spool_dir = optarg; break;
        case 'm': spool_max = optarg; break;
        default: usage(); return 2;
        }
    }
    hub = opt_env(hub, "HOMELABCMD_AGENT_HUB");
    key = opt_env(key, "HOMELABCMD_AGENT_KEY");
    id = opt_env(id, "HOMELABCMD_AGENT_ID");
    ival = opt_env(ival, "HOMELABCMD_AGENT_INTERVAL");
    int64_t interval = 60;
    if (ival && hlc_parse_i64(ival, 1, 86400, &interval) != 0) {
        fputs("homelabcmd-agent: --interval must be 1..86400 seconds\n", stderr);
        return 2;
    }
    struct spool sp = {opt_env(spool_dir, "HOMELABCMD_AGENT_SPOOL_DIR"), 86400 / interval};
    spool_max = opt_env(spool_max, "HOMELABCMD_AGENT_SPOOL_MAX");
    int64_t smax;
    if (spool_max) {
        if (hlc_parse_i64(spool_max, 1, 1000000, &smax) != 0) {
            fputs("homelabcmd-agent: --spool-max must be 1..1000000 files\n", stderr);
            return 2;
        }
        sp.max = (long)smax;
    }
    if (sp.max < 1)
        sp.max = 1;
    if (strcmp(type, "workstation") != 0 && strcmp(type, "server") != 0) {
        usage();
        return 2;
    }
    char host[256] = "";
    if (!id) {
        gethostname(host, sizeof(host) - 1);
        for (char *p = host; *p; p++)
            *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : (*p == '.' ? '\0' : *p);
        id = host;
    }
    char *buf = hlc_xmalloc(MAX_FILE);
    if (once) {
        struct hlc_sample s;
        collect(&s, buf);
        json_t *hb = heartbeat_json(&s, id, type);
        json_dumpf(hb, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(hb);
        hlc_sample_release(&s);
        free(buf);
        return 0;
    }
    if (!hub || !key) {
        fputs("homelabcmd-agent: --hub and --key (or HOMELABCMD_AGENT_HUB/_KEY) are required\n",
              stderr);
        free(buf);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    char url[1024], hdr[600];
    snprintf(url, sizeof(url), "%s/api/v1/agents/heartbeat", hub);
    snprintf(hdr, sizeof(hdr), "X-API-Key: %s", key);
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    while (!stopping) {
        struct hlc_sample s;
        collect(&s, buf);
        json_t *hb = heartbeat_json(&s, id, type);
        char *body = json_dumps(hb, JSON_COMPACT | JSON_REAL_PRECISION(15));
        /* Older spooled heartbeats go first so the hub sees them in order. */
        bool drained = !sp.dir || spool_drain(&sp, c, url, buf) == 0;
        if (body && (!drained || post(c, url, body) != 0) && sp.dir)
            spool_put(&sp, s.timestamp, body);
        free(body);
        json_decref(hb);
        hlc_sample_release(&s);
        for (int64_t t = 0; t < interval && !stopping; t++)
            sleep(1);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    free(buf);
    return 0;
}
