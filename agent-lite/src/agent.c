/* agent.c - homelabcmd-agent: reads this machine's /proc, /sys and mounts,
 * asks systemctl/docker/apt-get (without a shell) for the configured
 * services, containers and pending updates, turns it all into a heartbeat
 * (TRD §4, extended with raw counters, filesystems, network and
 * temperatures) and posts it to the hub every interval, signed with its
 * agent token (Authorization: Bearer; got once for an enrollment token) or,
 * as v1 agents did, the admin key in X-API-Key, over
 * one reused libcurl handle; what the hub does not take goes to an on-disk
 * spool sent in order later. `--once` prints the heartbeat instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent_config.h"
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

/* ---- commands (systemctl, docker, apt-get), run without a shell ---------- */

/* Runs argv with LC_ALL=C, stdin from /dev/null, stderr discarded, and
 * captures up to cap-1 bytes of stdout into buf (NUL-terminated, the rest
 * read and dropped). Killed after timeout_s. Exit status, or -1 when it could
 * not run or was killed. */
static int
run_capture(char *const argv[], char *buf, size_t cap, int timeout_s, size_t *len)
{
    int pfd[2];
    *len = 0;
    buf[0] = '\0';
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 2);
        }
        dup2(pfd[1], 1);
        setenv("LC_ALL", "C", 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    int64_t deadline = hlc_mono_ms() + (int64_t)timeout_s * 1000;
    bool killed = false;
    for (;;) {
        int64_t left = deadline - hlc_mono_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        char drop[4096];
        char *dst = *len + 1 < cap ? buf + *len : drop;
        size_t room = *len + 1 < cap ? cap - 1 - *len : sizeof(drop);
        ssize_t n = read(pfd[0], dst, room);
        if (n <= 0)
            break;
        if (dst != drop)
            *len += (size_t)n;
    }
    buf[*len] = '\0';
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (killed || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* Is `prog` an executable in PATH? */
static bool
in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char p[1024];
        if (n > 0 && n < sizeof(p) - 64) {
            snprintf(p, sizeof(p), "%.*s/%s", (int)n, path, prog);
            if (access(p, X_OK) == 0)
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

/* systemctl show for the configured units, one call for all: its blocks come
 * back in the order asked, separated by blank lines, and become the
 * collector's `services` section behind Asked= lines naming them, exactly as
 * the SSH collector sends it. */
static void
collect_services(const struct hlc_agent_config *cfg, struct hlc_sample *s, char *buf)
{
    if (cfg->nservices == 0)
        return;
    char *argv[HLC_SAMPLE_MAX_SERVICES + 5];
    int k = 0;
    argv[k++] = (char *)"systemctl";
    argv[k++] = (char *)"show";
    argv[k++] = (char *)"-p";
    argv[k++] = (char *)"Id,LoadState,ActiveState,SubState,MainPID,MemoryCurrent,CPUUsageNSec";
    argv[k++] = (char *)"--";
    for (size_t i = 0; i < cfg->nservices; i++)
        argv[k++] = (char *)cfg->services[i];
    argv[k] = NULL;
    size_t len;
    if (run_capture(argv, buf, MAX_FILE, 10, &len) != 0)
        return;
    struct hlc_buf body;
    hlc_buf_init(&body, MAX_FILE + 64 * HLC_SAMPLE_MAX_SERVICES);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cfg->nservices; i++)
        rc = hlc_buf_appendf(&body, "Asked=%s\n", cfg->services[i]);
    if (rc == 0)
        rc = hlc_buf_append(&body, buf, len);
    if (rc == 0)
        hlc_collect_parse_section("services", body.data, body.len, s);
    hlc_buf_release(&body);
}

static void
collect_docker(const struct hlc_agent_config *cfg, struct hlc_sample *s, char *buf)
{
    if (cfg->docker == HLC_DOCKER_OFF || (cfg->docker == HLC_DOCKER_AUTO && !in_path("docker")))
        return;
    char *argv[] = {(char *)"docker", (char *)"ps", (char *)"-a", (char *)"--format",
                    (char *)"{{json .}}", NULL};
    size_t len;
    if (run_capture(argv, buf, MAX_FILE, 10, &len) == 0)
        hlc_collect_parse_section("docker", buf, len, s);
}

/* Pending and security updates from `apt-get -s upgrade`, every
 * updates_check_hours (it costs seconds of CPU); *last is when it last ran. */
static void
collect_updates(const struct hlc_agent_config *cfg, struct hlc_sample *s, char *buf,
                int64_t *last)
{
    int64_t now = hlc_mono_ms() / 1000;
    if (cfg->updates_check_hours <= 0 || !in_path("apt-get") ||
        (*last && now - *last < cfg->updates_check_hours * 3600))
        return;
    *last = now ? now : 1;
    char *argv[] = {(char *)"apt-get", (char *)"-s", (char *)"-o", (char *)"Debug::NoLocking=1",
                    (char *)"upgrade", NULL};
    size_t len;
    if (run_capture(argv, buf, MAX_FILE, 300, &len) != 0)
        return;
    /* keep the Inst lines, in place */
    size_t out = 0;
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > 5 && strncmp(line, "Inst ", 5) == 0) {
            memmove(buf + out, line, n);
            out += n;
            buf[out++] = '\n';
        }
        if (!nl)
            break;
    }
    buf[out] = '\0';
    hlc_collect_parse_section("updates", buf, out, s);
}

/* One sample of this machine, read now. */
static void
collect(const struct hlc_agent_config *cfg, struct hlc_sample *s, char *buf,
        int64_t *updates_at)
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
    collect_services(cfg, s, buf);
    collect_docker(cfg, s, buf);
    collect_updates(cfg, s, buf, updates_at);
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
    if (s->have & HLC_HAVE_SERVICES) {
        a = json_array();
        for (size_t i = 0; i < s->nservices; i++) {
            const struct hlc_service *v = &s->services[i];
            json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", v->name, "status",
                                  hlc_sample_service_status(v), "active_state", v->active_state,
                                  "sub_state", v->sub_state);
            if (v->main_pid > 0)
                json_object_set_new(o, "pid", json_integer(v->main_pid));
            if (v->memory_bytes >= 0)
                json_object_set_new(o, "memory_bytes", json_integer(v->memory_bytes));
            if (v->cpu_usage_ns >= 0)
                json_object_set_new(o, "cpu_usage_ns", json_integer(v->cpu_usage_ns));
            json_array_append_new(a, o);
        }
        json_object_set_new(hb, "services", a);
    }
    if (s->have & HLC_HAVE_CONTAINERS) {
        a = json_array();
        for (size_t i = 0; i < s->ncontainers; i++) {
            const struct hlc_container *k = &s->containers[i];
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", k->id, "name",
                                               k->name, "image", k->image, "state", k->state,
                                               "status", k->status));
        }
        json_object_set_new(hb, "containers", a);
    }
    if (s->have & HLC_HAVE_UPDATES) {
        json_object_set_new(hb, "updates_available", json_integer(s->updates_pending));
        json_object_set_new(hb, "security_updates", json_integer(s->updates_security));
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

/* How a POST ended. */
enum post_result {
    POST_OK,        /* 2xx: stored by the hub */
    POST_RETRY,     /* network error, timeout, 408, 429, 5xx: keep it and try later */
    POST_REFUSED,   /* any other 4xx: the hub will never take this one */
};

static enum post_result
post(CURL *c, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && status >= 200 && status <= 299)
        return POST_OK;
    fprintf(stderr, "homelabcmd-agent: heartbeat not accepted: %s (HTTP %ld)\n",
            cc != CURLE_OK ? curl_easy_strerror(cc) : "hub refused", status);
    if (cc != CURLE_OK || status == 408 || status == 429 || status >= 500 || status < 400)
        return POST_RETRY;
    return POST_REFUSED;
}

/* The spool: heartbeats the hub did not acknowledge, one file each, named by
 * timestamp so a directory listing sorted by name is their order. Written to
 * a temporary name, fsynced and renamed, so a crash leaves whole files only.
 * Holds at most `max` files and `max_bytes` bytes; the oldest go first. */
struct spool {
    const char *dir;     /* NULL: no spool */
    long max;            /* files kept */
    long long max_bytes; /* bytes kept */
};

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted spool file names (heap); count in *n, their total size in *bytes. */
static char **
spool_list(const struct spool *sp, size_t *n, long long *bytes)
{
    *n = 0;
    *bytes = 0;
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
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            cap *= 2;
            v = hlc_xrealloc(v, cap * sizeof(*v));
        }
        v[(*n)++] = hlc_xstrdup(de->d_name);
        *bytes += st.st_size;
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

/* mkdir -p with mode 0700 for what it creates. */
static int
make_dirs(const char *dir)
{
    char p[600];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static void
spool_put(const struct spool *sp, int64_t ts, const char *body)
{
    char tmp[1200], path[1200];
    if (make_dirs(sp->dir) != 0) {
        fprintf(stderr, "homelabcmd-agent: spool %s: %s; heartbeat dropped\n", sp->dir,
                strerror(errno));
        return;
    }
    snprintf(tmp, sizeof(tmp), "%s/.%020lld.tmp", sp->dir, (long long)ts);
    snprintf(path, sizeof(path), "%s/%020lld.json", sp->dir, (long long)ts);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "homelabcmd-agent: spool %s: %s; heartbeat dropped\n", tmp,
                strerror(errno));
        return;
    }
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
        fprintf(stderr, "homelabcmd-agent: spool %s: write failed; heartbeat dropped\n", path);
        return;
    }
    /* over a cap: the oldest go first (the newest, just written, always stays) */
    size_t n;
    long long bytes;
    char **v = spool_list(sp, &n, &bytes);
    for (size_t i = 0; i + 1 < n && (n - i > (size_t)sp->max || bytes > sp->max_bytes); i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", sp->dir, v[i]);
        if (stat(path, &st) == 0)
            bytes -= st.st_size;
        unlink(path);
    }
    spool_free(v, n);
}

/* Sends the spool oldest first. A heartbeat the hub refuses for good (4xx)
 * is dropped with a log line and the next one is tried; a network error or a
 * busy hub stops the drain. 0 when emptied. */
static int
spool_drain(const struct spool *sp, CURL *c, const char *url, char *buf)
{
    size_t n;
    long long bytes;
    char **v = spool_list(sp, &n, &bytes);
    int rc = 0;
    for (size_t i = 0; i < n && !stopping; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", sp->dir, v[i]);
        long len = read_file(path, buf, MAX_FILE);
        if (len > 0) {
            enum post_result pr = post(c, url, buf);
            if (pr == POST_RETRY) {
                rc = -1;
                break;
            }
            if (pr == POST_REFUSED)
                fprintf(stderr, "homelabcmd-agent: dropping spooled %s: the hub refused it\n",
                        v[i]);
        }
        unlink(path);
    }
    spool_free(v, n);
    return rc;
}

/* A reply body, kept up to a small cap (the enroll answer is ~200 bytes). */
struct reply {
    char data[4096];
    size_t len;
};

static size_t
keep(char *p, size_t size, size_t n, void *ud)
{
    struct reply *rp = ud;
    size_t got = size * n, room = sizeof(rp->data) - 1 - rp->len;
    memcpy(rp->data + rp->len, p, got < room ? got : room);
    rp->len += got < room ? got : room;
    rp->data[rp->len] = '\0';
    return got;
}

/* Exchanges cfg's enrollment token for this machine's agent token (into
 * cfg->agent_token) and writes it into the config file at `path` in place
 * of the enrollment token, which the hub has now spent. 0, or -1 with a
 * message on stderr. */
static int
enroll(struct hlc_agent_config *cfg, const char *path)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    json_t *req = json_pack("{s:s, s:s, s:s}", "token", cfg->enrollment_token, "server_id",
                            cfg->server_id, "machine_type", cfg->machine_type);
    /* The hub takes a host name only in its RFC 1123 form; leave out others. */
    if (host[0] && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
                       strlen(host))
        json_object_set_new(req, "hostname", json_string(host));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/v1/agents/enroll", cfg->hub_url);
    struct reply rp = {.len = 0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rp);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body);
    json_t *ans = cc == CURLE_OK ? json_loads(rp.data, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(ans, "agent_token"));
    int rc = -1;
    char err[300];
    if (cc != CURLE_OK) {
        fprintf(stderr, "homelabcmd-agent: enrolling at %s: %s\n", url, curl_easy_strerror(cc));
    } else if (status != 201 || !tok) {
        const char *msg = json_string_value(
            json_object_get(json_object_get(ans, "detail"), "message"));
        fprintf(stderr, "homelabcmd-agent: the hub refused the enrollment token (HTTP %ld): %s\n",
                status, msg ? msg : "no reason given");
    } else if (hlc_agent_config_set(cfg, "agent_token", tok, err, sizeof(err)) != 0) {
        fprintf(stderr, "homelabcmd-agent: the hub's answer: %s\n", err);
    } else if (hlc_agent_config_store_token(path, tok, err, sizeof(err)) != 0) {
        fprintf(stderr, "homelabcmd-agent: enrolled, but could not save the agent token: %s\n",
                err);
    } else {
        fprintf(stderr, "homelabcmd-agent: enrolled as %s; agent token saved in %s\n",
                cfg->server_id, path);
        cfg->enrollment_token[0] = '\0';
        rc = 0;
    }
    json_decref(ans);
    explicit_bzero(rp.data, sizeof(rp.data));
    return rc;
}

static void
usage(FILE *f)
{
    fputs("usage: homelabcmd-agent [--config FILE] [--hub URL] [--key KEY] [--id SERVER_ID]\n"
          "         [--type workstation|server] [--interval SECONDS] [--spool-dir DIR]\n"
          "         [--spool-max FILES] [--spool-max-bytes BYTES] [--once] [--check]\n"
          "         [--enroll] [--version]\n"
          "Settings come from FILE (default " HLC_AGENT_CONFIG_PATH ", if it exists),\n"
          "then the environment (HOMELABCMD_AGENT_HUB, _KEY, _ID, _TYPE, _INTERVAL,\n"
          "_SPOOL_DIR, _SPOOL_MAX, _SPOOL_MAX_BYTES, _TOKEN, _ENROLLMENT_TOKEN), then\n"
          "the flags. Tokens are never flags (a process list shows those).\n"
          "  --once    print the heartbeat it would send and exit\n"
          "  --check   check the settings and exit (0 when usable)\n"
          "  --enroll  exchange enrollment_token for an agent token, save it in FILE, exit\n",
          f);
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    bool once = false, check = false, enroll_only = false;
    /* flag values by YAML key, applied after the file and the environment;
     * the last two (tokens) come only from the file or the environment */
    const char *flag_val[10] = {NULL};
    static const char *const flag_key[10] = {"hub_url",  "api_key",         "server_id",
                                             "machine_type", "interval",    "spool_dir",
                                             "spool_max_files", "spool_max_bytes",
                                             "agent_token", "enrollment_token"};
    static const char *const env_name[10] = {
        "HOMELABCMD_AGENT_HUB",       "HOMELABCMD_AGENT_KEY",      "HOMELABCMD_AGENT_ID",
        "HOMELABCMD_AGENT_TYPE",      "HOMELABCMD_AGENT_INTERVAL", "HOMELABCMD_AGENT_SPOOL_DIR",
        "HOMELABCMD_AGENT_SPOOL_MAX", "HOMELABCMD_AGENT_SPOOL_MAX_BYTES",
        "HOMELABCMD_AGENT_TOKEN",     "HOMELABCMD_AGENT_ENROLLMENT_TOKEN"};
    static const struct option opts[] = {
        {"hub", required_argument, NULL, 0},        {"key", required_argument, NULL, 1},
        {"id", required_argument, NULL, 2},         {"type", required_argument, NULL, 3},
        {"interval", required_argument, NULL, 4},   {"spool-dir", required_argument, NULL, 5},
        {"spool-max", required_argument, NULL, 6},  {"spool-max-bytes", required_argument, NULL, 7},
        {"config", required_argument, NULL, 'c'},   {"once", no_argument, NULL, 'o'},
        {"check", no_argument, NULL, 'k'},          {"version", no_argument, NULL, 'v'},
        {"enroll", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch >= 0 && ch < 8) {
            flag_val[ch] = optarg;
            continue;
        }
        switch (ch) {
        case 'c': config_path = optarg; break;
        case 'o': once = true; break;
        case 'k': check = true; break;
        case 'e': enroll_only = true; break;
        case 'v': printf("homelabcmd-agent %s\n", HLC_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    struct hlc_agent_config *cfg = hlc_xmalloc(sizeof(*cfg));
    hlc_agent_config_defaults(cfg);
    char err[400];
    int rc = hlc_agent_config_load(config_path ? config_path : HLC_AGENT_CONFIG_PATH,
                                   config_path == NULL, cfg, err, sizeof(err));
    for (int i = 0; rc == 0 && i < 10; i++) {
        const char *v = flag_val[i];
        if (!v) {
            v = getenv(env_name[i]);
            if (v && !*v)
                v = NULL;
        }
        if (v)
            rc = hlc_agent_config_set(cfg, flag_key[i], v, err, sizeof(err));
    }
    if (rc) {
        fprintf(stderr, "homelabcmd-agent: %s\n", err);
        free(cfg);
        return 2;
    }
    if (!cfg->server_id[0]) {
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        for (char *p = host; *p; p++)
            *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32)
                 : (*p == '.')           ? '\0'
                 : (*p == '_')           ? '-'
                                         : *p;
        if (hlc_agent_config_set(cfg, "server_id", host, err, sizeof(err)) != 0) {
            fprintf(stderr, "homelabcmd-agent: this host's name '%s' is not a usable id; set "
                            "server_id (--id)\n", host);
            free(cfg);
            return 2;
        }
    }
    if (!once && (!cfg->hub_url[0] ||
                  !(cfg->agent_token[0] || cfg->enrollment_token[0] || cfg->api_key[0]))) {
        fputs("homelabcmd-agent: the hub URL and a credential are required (hub_url and "
              "agent_token or enrollment_token in the config file or HOMELABCMD_AGENT_HUB/"
              "_TOKEN/_ENROLLMENT_TOKEN; a v1 api_key still works)\n",
              stderr);
        free(cfg);
        return 2;
    }
    const char *conf = config_path ? config_path : HLC_AGENT_CONFIG_PATH;
    if (enroll_only && !cfg->enrollment_token[0]) {
        fputs("homelabcmd-agent: --enroll needs an enrollment_token (config file or "
              "HOMELABCMD_AGENT_ENROLLMENT_TOKEN)\n", stderr);
        free(cfg);
        return 2;
    }
    /* An enrollment token is exchanged once: at --enroll, or at the first
     * start that has no agent token yet. */
    if (!once && !check && cfg->enrollment_token[0] && (enroll_only || !cfg->agent_token[0])) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = enroll(cfg, conf);
        curl_global_cleanup();
        if (rc != 0 || enroll_only) {
            free(cfg);
            return rc ? 1 : 0;
        }
    }
    if (check) {
        printf("homelabcmd-agent: settings OK: %s as %s (%s) every %ld s%s%s\n",
               cfg->hub_url[0] ? cfg->hub_url : "(no hub)", cfg->server_id, cfg->machine_type,
               cfg->interval, cfg->spool_dir[0] ? ", spool " : "", cfg->spool_dir);
        free(cfg);
        return 0;
    }
    struct spool sp = {cfg->spool_dir[0] ? cfg->spool_dir : NULL,
                       cfg->spool_max_files ? cfg->spool_max_files : 86400 / cfg->interval,
                       cfg->spool_max_bytes};
    if (sp.max < 1)
        sp.max = 1;
    char *buf = hlc_xmalloc(MAX_FILE);
    int64_t updates_at = 0;
    if (once) {
        struct hlc_sample s;
        collect(cfg, &s, buf, &updates_at);
        json_t *hb = heartbeat_json(&s, cfg->server_id, cfg->machine_type);
        json_dumpf(hb, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(hb);
        hlc_sample_release(&s);
        free(buf);
        free(cfg);
        return 0;
    }
    if (sp.dir && make_dirs(sp.dir) != 0)
        fprintf(stderr, "homelabcmd-agent: spool %s: %s (will retry)\n", sp.dir, strerror(errno));
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    char url[1024], hdr[600];
    snprintf(url, sizeof(url), "%s/api/v1/agents/heartbeat", cfg->hub_url);
    if (cfg->agent_token[0])
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", cfg->agent_token);
    else
        snprintf(hdr, sizeof(hdr), "X-API-Key: %s", cfg->api_key);
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    while (!stopping) {
        struct hlc_sample s;
        collect(cfg, &s, buf, &updates_at);
        json_t *hb = heartbeat_json(&s, cfg->server_id, cfg->machine_type);
        char *body = json_dumps(hb, JSON_COMPACT | JSON_REAL_PRECISION(15));
        /* Older spooled heartbeats go first so the hub sees them in order. */
        bool drained = !sp.dir || spool_drain(&sp, c, url, buf) == 0;
        if (body) {
            enum post_result pr = drained ? post(c, url, body) : POST_RETRY;
            if (pr == POST_RETRY && sp.dir)
                spool_put(&sp, s.timestamp, body);
        }
        free(body);
        json_decref(hb);
        hlc_sample_release(&s);
        /* one sleep per interval; SIGTERM/SIGINT cut it short */
        for (unsigned left = (unsigned)cfg->interval; left > 0 && !stopping;)
            left = sleep(left);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    free(buf);
    free(cfg);
    return 0;
}
