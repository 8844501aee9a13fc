/* collect_parse.c - the pure parser from the collector's text to a sample.
 * No I/O and no globals: the poller, the push agent and the fuzzer share it.
 * Input is treated as untrusted bytes: every line is copied into a bounded
 * buffer before it is looked at, every number is range-checked, and every
 * array stops at the caps of sample.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hlc/base.h"
#include "hlc/collect.h"

/* Longest line the text sections look at; longer ones (such as /proc/stat's
 * intr line) are skipped whole. Docker's JSON lines are parsed in place. */
#define LINE_MAX_LEN 4096

/* Sanity ceilings: values beyond them are garbage, not a big machine. */
#define MAX_BYTES (UINT64_C(1) << 62)      /* 4 EiB */
#define MAX_KB (MAX_BYTES / 1024)
#define MAX_JIFFIES (UINT64_C(1) << 62)
#define MAX_CPUS 65536u
#define MAX_LOAD 1.0e6
#define MAX_UPTIME (200.0 * 365 * 86400)
#define MAX_COUNT 1000000

struct lines {
    const char *p;   /* next unread byte */
    const char *end; /* one past the last byte */
};

/* Copies the next line (without its newline) into buf. Returns 1 with a
 * line, 0 at the end; a line longer than the buffer comes back as an empty
 * string with *toolong set so callers skip it. */
static int
next_line(struct lines *it, char *buf, size_t size, bool *toolong)
{
    if (it->p >= it->end)
        return 0;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *stop = nl ? nl : it->end;
    size_t n = (size_t)(stop - it->p);
    if (n > 0 && it->p[n - 1] == '\r')
        n--;
    *toolong = n >= size;
    if (*toolong)
        n = 0;
    memcpy(buf, it->p, n);
    buf[n] = '\0';
    it->p = nl ? nl + 1 : it->end;
    return 1;
}

static char *
skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void
rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* A whole token of decimal digits within [0, max]. */
static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A finite decimal number within [min, max]; the whole token must parse. */
static bool
parse_double(const char *s, double min, double max, double *out)
{
    if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.'))
        return false; /* refuses "nan", "inf" and leading blanks */
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || !end || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Splits s in place on blanks into at most max tokens; returns the count. */
static size_t
split(char *s, char **tok, size_t max)
{
    size_t n = 0;
    char *p = s;
    while (n < max) {
        p = skip_ws(p);
        if (!*p)
            break;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* Copies a printable value into a fixed field; false (field untouched) when
 * it does not fit or holds control characters. */
static bool
set_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
            return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Makes room for element `n` of a heap array (zeroing new slots), doubling
 * from 4; callers check their cap first, so growth is bounded. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 4;
    arr = hlc_xrealloc(arr, ncap * elem);
    memset((char *)arr + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return arr;
}

/* ---- osrelease ---------------------------------------------------------- */

/* Unquotes an os-release value in place (shell-like: "..." with \ escapes,
 * or '...'); false when the quoting is broken. */
static bool
os_unquote(char *v)
{
    size_t n = strlen(v);
    if (n == 0 || (v[0] != '"' && v[0] != '\''))
        return true;
    char q = v[0];
    if (n < 2 || v[n - 1] != q)
        return false;
    char *w = v;
    for (size_t i = 1; i < n - 1; i++) {
        if (q == '"' && v[i] == '\\' && i + 1 < n - 1)
            i++;
        *w++ = v[i];
    }
    *w = '\0';
    return true;
}

static int
parse_osrelease(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char id[sizeof(s->os_id)] = "", name[sizeof(s->os_name)] = "", pretty[sizeof(s->os_name)] = "";
    char version[sizeof(s->os_version)] = "";
    bool toolong, any = false;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        char *eq = strchr(line, '=');
        if (toolong || line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *val = eq + 1;
        rtrim(val);
        if (!os_unquote(val))
            continue;
        if (strcmp(line, "ID") == 0)
            any |= set_field(id, sizeof(id), val);
        else if (strcmp(line, "NAME") == 0)
            any |= set_field(name, sizeof(name), val);
        else if (strcmp(line, "PRETTY_NAME") == 0)
            any |= set_field(pretty, sizeof(pretty), val);
        else if (strcmp(line, "VERSION_ID") == 0)
            any |= set_field(version, sizeof(version), val);
    }
    if (!any)
        return HLC_EPARSE;
    memcpy(s->os_id, id, sizeof(id));
    memcpy(s->os_name, pretty[0] ? pretty : name, sizeof(pretty));
    memcpy(s->os_version, version, sizeof(version));
    s->have |= HLC_HAVE_IDENTITY;
    return 0;
}

/* ---- uname -------------------------------------------------------------- */

static int
parse_uname(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char host[sizeof(s->hostname)] = "", kernel[sizeof(s->kernel)] = "", arch[sizeof(s->arch)] = "";
    bool toolong, any = false;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        char *eq = strchr(line, '=');
        if (toolong || !eq)
            continue;
        *eq = '\0';
        char *val = eq + 1;
        rtrim(val);
        if (!*val)
            continue;
        if (strcmp(line, "hostname") == 0)
            any |= set_field(host, sizeof(host), val);
        else if (strcmp(line, "kernel") == 0)
            any |= set_field(kernel, sizeof(kernel), val);
        else if (strcmp(line, "arch") == 0)
            any |= set_field(arch, sizeof(arch), val);
    }
    if (!any)
        return HLC_EPARSE;
    if (host[0])
        memcpy(s->hostname, host, sizeof(host));
    if (kernel[0])
        memcpy(s->kernel, kernel, sizeof(kernel));
    if (arch[0])
        memcpy(s->arch, arch, sizeof(arch));
    s->have |= HLC_HAVE_IDENTITY;
    return 0;
}

/* ---- stat, cpus --------------------------------------------------------- */

static int
parse_stat(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[16];
    bool toolong, have_total = false;
    uint64_t total = 0, idle = 0, btime = 0;
    unsigned cores = 0;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        if (toolong)
            continue;
        size_t n = split(line, tok, 16);
        if (n == 0)
            continue;
        if (strcmp(tok[0], "cpu") == 0 && n >= 5) {
            /* user nice system idle [iowait irq softirq steal [guest guest_nice]];
             * guest time is already counted in user, so it is left out. */
            uint64_t v[8] = {0};
            size_t nv = n - 1 < 8 ? n - 1 : 8;
            bool ok = true;
            for (size_t i = 0; i < nv && ok; i++)
                ok = parse_u64(tok[i + 1], MAX_JIFFIES, &v[i]);
            if (!ok)
                continue;
            uint64_t t = 0;
            for (size_t i = 0; i < nv; i++)
                t += v[i]; /* 8 values below 2^62 each cannot overflow 2^64... */
            if (t < v[0] || t > MAX_JIFFIES)
                continue; /* ...but refuse sums past the ceiling all the same */
            total = t;
            idle = v[3] + (nv > 4 ? v[4] : 0);
            have_total = true;
        } else if (strncmp(tok[0], "cpu", 3) == 0 && isdigit((unsigned char)tok[0][3])) {
            uint64_t id;
            if (parse_u64(tok[0] + 3, MAX_CPUS, &id) && cores < MAX_CPUS)
                cores++;
        } else if (strcmp(tok[0], "btime") == 0 && n == 2) {
            uint64_t b;
            if (parse_u64(tok[1], INT64_MAX, &b) && b > 0)
                btime = b;
        }
    }
    if (!have_total)
        return HLC_EPARSE;
    s->cpu_total = total;
    s->cpu_idle = idle;
    if (cores > 0 && s->cpu_cores == 0)
        s->cpu_cores = cores;
    if (btime > 0)
        s->boot_time = (int64_t)btime;
    s->have |= HLC_HAVE_CPU;
    return 0;
}

static int
parse_cpus(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        rtrim(line);
        uint64_t v;
        if (!toolong && parse_u64(skip_ws(line), MAX_CPUS, &v) && v > 0) {
            s->cpu_cores = (unsigned)v;
            return 0;
        }
    }
    return HLC_EPARSE;
}

/* ---- meminfo ------------------------------------------------------------ */

static int
parse_meminfo(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[4];
    bool toolong;
    enum { TOTAL, AVAIL, FREE, BUFFERS, CACHED, SWAPT, SWAPF, NKEYS };
    static const char *const keys[NKEYS] = {"MemTotal:", "MemAvailable:", "MemFree:", "Buffers:",
                                            "Cached:",   "SwapTotal:",    "SwapFree:"};
    uint64_t val[NKEYS] = {0};
    bool got[NKEYS] = {false};
    while (next_line(&it, line, sizeof(line), &toolong)) {
        /* Most of the ~55 lines are none of the keys: their first letter says so. */
        if (toolong || !strchr("MBCS", line[0]))
            continue;
        size_t n = split(line, tok, 4);
        if (n < 2 || n > 3 || (n == 3 && strcmp(tok[2], "kB") != 0))
            continue;
        for (int k = 0; k < NKEYS; k++) {
            uint64_t v;
            if (tok[0][0] == keys[k][0] && strcmp(tok[0], keys[k]) == 0) {
                if (parse_u64(tok[1], MAX_KB, &v)) {
                    val[k] = v * 1024;
                    got[k] = true;
                }
                break;
            }
        }
    }
    if (!got[TOTAL] || val[TOTAL] == 0)
        return HLC_EPARSE;
    uint64_t avail;
    if (got[AVAIL])
        avail = val[AVAIL];
    else if (got[FREE]) /* kernels before 3.14: the classic estimate */
        avail = val[FREE] + val[BUFFERS] + val[CACHED];
    else
        return HLC_EPARSE;
    if (avail > val[TOTAL])
        avail = val[TOTAL]; /* the estimate can overshoot; never report negative use */
    if (got[SWAPF] && val[SWAPF] > val[SWAPT])
        return HLC_EPARSE;
    s->mem_total = val[TOTAL];
    s->mem_available = avail;
    s->swap_total = val[SWAPT];
    s->swap_free = val[SWAPF];
    s->have |= HLC_HAVE_MEMORY;
    return 0;
}

/* ---- df ----------------------------------------------------------------- */

static bool
pseudo_fstype(const char *t)
{
    static const char *const pseudo[] = {
        "tmpfs", "devtmpfs", "overlay", "overlayfs", "squashfs", "proc", "sysfs", "cgroup",
        "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf",
        "autofs", "fusectl", "configfs", "hugetlbfs", "binfmt_misc", "efivarfs", "ramfs",
        "nsfs", "rpc_pipefs", "selinuxfs", "aufs", "shm", "none", "nfsd", "fuse.lxcfs",
        "fuse.gvfsd-fuse", "fuse.portal", "fuse.snapfuse", "fuse.rootlesskit", "iso9660",
        "udf", "zram"};
    for (size_t i = 0; i < sizeof(pseudo) / sizeof(*pseudo); i++)
        if (strcmp(t, pseudo[i]) == 0)
            return true;
    return false;
}

static int
parse_df(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong, header = false, typed = false, truncated = false;
    struct hlc_fs *fs = NULL;
    size_t nfs = 0, cap = 0;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        if (toolong)
            continue;
        if (!header) {
            /* "Filesystem [Type] 1-blocks Used Available Capacity Mounted on" */
            if (strncmp(line, "Filesystem", 10) == 0) {
                header = true;
                char copy[LINE_MAX_LEN];
                memcpy(copy, line, strlen(line) + 1);
                char *tok[3];
                typed = split(copy, tok, 3) >= 2 && strcmp(tok[1], "Type") == 0;
            }
            continue;
        }
        /* device [type] total used avail capacity mount-point-with-spaces */
        size_t want = typed ? 6 : 5;
        char *tok[7];
        char *p = line;
        size_t n = 0;
        while (n < want) {
            p = skip_ws(p);
            if (!*p)
                break;
            tok[n++] = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
        }
        char *mount = skip_ws(p);
        rtrim(mount);
        if (n < want || mount[0] != '/')
            continue;
        const char *dev = tok[0], *type = typed ? tok[1] : "";
        char **num = tok + (typed ? 2 : 1);
        uint64_t total, used, avail;
        if (!parse_u64(num[0], MAX_BYTES, &total) || !parse_u64(num[1], MAX_BYTES, &used) ||
            !parse_u64(num[2], MAX_BYTES, &avail) || num[3][strlen(num[3]) - 1] != '%')
            continue;
        if (total == 0 || used > total || avail > total)
            continue;
        if (typed ? pseudo_fstype(type) : pseudo_fstype(dev))
            continue;
        if (nfs == HLC_SAMPLE_MAX_FS) {
            truncated = true;
            continue;
        }
        fs = grow(fs, &cap, nfs, sizeof(*fs));
        struct hlc_fs *f = &fs[nfs];
        if (!set_field(f->mount, sizeof(f->mount), mount) ||
            !set_field(f->device, sizeof(f->device), dev) ||
            !set_field(f->fstype, sizeof(f->fstype), type)) {
            memset(f, 0, sizeof(*f));
            truncated = true;
            continue;
        }
        f->total_bytes = total;
        f->used_bytes = used;
        f->avail_bytes = avail;
        nfs++;
    }
    if (!header) {
        free(fs);
        return HLC_EPARSE;
    }
    free(s->fs);
    s->fs = fs;
    s->nfs = nfs;
    s->truncated |= truncated;
    s->have |= HLC_HAVE_FS;
    return 0;
}

/* ---- netdev ------------------------------------------------------------- */

static int
parse_netdev(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[17];
    bool toolong, any = false, truncated = false;
    struct hlc_net *net = NULL;
    size_t nnet = 0, cap = 0;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        char *colon = strchr(line, ':');
        if (toolong || !colon)
            continue; /* the two header lines have no colon */
        *colon = '\0';
        char *name = skip_ws(line);
        rtrim(name);
        if (!*name || strchr(name, '|') || strchr(name, ' '))
            continue;
        /* rx: bytes packets errs drop fifo frame compressed multicast
         * tx: bytes packets errs drop fifo colls carrier compressed */
        size_t n = split(colon + 1, tok, 17);
        uint64_t rx, tx;
        if (n != 16 || !parse_u64(tok[0], UINT64_MAX, &rx) || !parse_u64(tok[8], UINT64_MAX, &tx))
            continue;
        any = true;
        if (strcmp(name, "lo") == 0)
            continue;
        if (nnet == HLC_SAMPLE_MAX_NET) {
            truncated = true;
            continue;
        }
        net = grow(net, &cap, nnet, sizeof(*net));
        if (!set_field(net[nnet].name, sizeof(net[nnet].name), name)) {
            truncated = true;
            continue;
        }
        net[nnet].rx_bytes = rx;
        net[nnet].tx_bytes = tx;
        nnet++;
    }
    if (!any) {
        free(net);
        return HLC_EPARSE;
    }
    free(s->net);
    s->net = net;
    s->nnet = nnet;
    s->truncated |= truncated;
    s->have |= HLC_HAVE_NET;
    s->have &= ~(unsigned)HLC_HAVE_NET_RATES;
    return 0;
}

/* ---- loadavg, uptime ---------------------------------------------------- */

static int
parse_loadavg(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[6];
    bool toolong;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        double l1, l5, l15;
        if (toolong || split(line, tok, 6) < 3)
            continue;
        if (parse_double(tok[0], 0, MAX_LOAD, &l1) && parse_double(tok[1], 0, MAX_LOAD, &l5) &&
            parse_double(tok[2], 0, MAX_LOAD, &l15)) {
            s->load1 = l1;
            s->load5 = l5;
            s->load15 = l15;
            s->have |= HLC_HAVE_LOAD;
            return 0;
        }
    }
    return HLC_EPARSE;
}

static int
parse_uptime(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[3];
    bool toolong;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        double up;
        if (toolong || split(line, tok, 3) < 1 || !parse_double(tok[0], 0, MAX_UPTIME, &up))
            continue;
        s->uptime_seconds = (int64_t)up;
        /* /proc/stat's btime is exact; without it, boot time from our clock. */
        if (s->boot_time == 0 && s->timestamp > s->uptime_seconds)
            s->boot_time = s->timestamp - s->uptime_seconds;
        s->have |= HLC_HAVE_UPTIME;
        return 0;
    }
    return HLC_EPARSE;
}

/* ---- thermal ------------------------------------------------------------ */

/* Zone types that measure the CPU package or the SoC it sits on. */
static bool
cpu_like(const char *zone)
{
    static const char *const pat[] = {"x86_pkg_temp", "coretemp", "k10temp", "zenpower", "cpu",
                                      "soc",          "package",  "tctl"};
    char low[64];
    size_t n = strlen(zone);
    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)zone[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(pat) / sizeof(*pat); i++)
        if (strstr(low, pat[i]))
            return true;
    return false;
}

static int
parse_thermal(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[3];
    bool toolong, truncated = false;
    struct hlc_temp *t = NULL;
    size_t nt = 0, cap = 0;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        if (toolong || split(line, tok, 3) != 2)
            continue;
        double milli;
        /* -50..200 degrees: outside that a sensor is broken or unwired
         * (many boards report -273 or 0x7fff...). */
        if (!parse_double(tok[1], -50000, 200000, &milli))
            continue;
        if (nt == HLC_SAMPLE_MAX_TEMPS) {
            truncated = true;
            continue;
        }
        t = grow(t, &cap, nt, sizeof(*t));
        if (!set_field(t[nt].zone, sizeof(t[nt].zone), tok[0]))
            continue;
        t[nt].celsius = milli / 1000.0;
        nt++;
    }
    if (nt == 0) {
        free(t);
        return HLC_EPARSE;
    }
    /* The hottest CPU-like sensor; else ACPI's zone; else the first one. */
    double cpu = 0;
    int pick = -1;
    for (size_t i = 0; i < nt; i++)
        if (cpu_like(t[i].zone) && (pick < 0 || t[i].celsius > cpu)) {
            cpu = t[i].celsius;
            pick = (int)i;
        }
    for (size_t i = 0; pick < 0 && i < nt; i++)
        if (strcmp(t[i].zone, "acpitz") == 0) {
            cpu = t[i].celsius;
            pick = (int)i;
        }
    if (pick < 0)
        cpu = t[0].celsius;
    free(s->temps);
    s->temps = t;
    s->ntemps = nt;
    s->cpu_temp_c = cpu;
    s->truncated |= truncated;
    s->have |= HLC_HAVE_TEMPS;
    return 0;
}

/* ---- gpus --------------------------------------------------------------- */

#define MAX_VRAM (1024.0 * 1024 * 1024 * 1024 * 64) /* 64 TiB */

/* The next free GPU slot, or NULL at the cap (the sample says truncated). */
static struct hlc_gpu *
gpu_slot(struct hlc_sample *s)
{
    if (s->ngpus == HLC_SAMPLE_MAX_GPUS) {
        s->truncated = true;
        return NULL;
    }
    if (!s->gpus)
        s->gpus = hlc_xcalloc(HLC_SAMPLE_MAX_GPUS, sizeof(*s->gpus));
    struct hlc_gpu *g = &s->gpus[s->ngpus];
    memset(g, 0, sizeof(*g));
    g->util_percent = g->mem_used_bytes = g->mem_total_bytes = g->temp_c = g->power_w = NAN;
    return g;
}

/* A GPU section's result: HLC_EPARSE when it added no GPU. */
static int
gpus_read(struct hlc_sample *s, size_t before)
{
    if (s->ngpus == before)
        return HLC_EPARSE;
    s->have |= HLC_HAVE_GPUS;
    return 0;
}

/* A reading within [min, max] times scale, or NaN when the tool said it has
 * none ("[N/A]", "[Not Supported]", "-") or it is out of range. */
static double
reading(const char *v, double min, double max, double scale)
{
    double d;
    if (!parse_double(v, min, max, &d))
        return NAN;
    return d * scale;
}

static char *
trim(char *s)
{
    s = skip_ws(s);
    rtrim(s);
    return s;
}

/* "0, NVIDIA GeForce RTX 3090, 35, 10240, 24576, 65, 250.50": the name may
 * hold commas, so the index is the first field and the readings the last
 * five. */
static int
parse_nvidia(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong;
    size_t before = s->ngpus;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        char *f[5], *first, *last;
        if (toolong || !(first = strchr(line, ',')))
            continue;
        *first = '\0';
        bool ok = true;
        for (int k = 4; k >= 0 && ok; k--) {
            last = strrchr(first + 1, ',');
            if (!last) {
                ok = false;
                break;
            }
            *last = '\0';
            f[k] = trim(last + 1);
        }
        uint64_t idx;
        char *name = trim(first + 1);
        if (!ok || !parse_u64(trim(line), 255, &idx))
            continue;
        struct hlc_gpu *g = gpu_slot(s);
        if (!g)
            break;
        snprintf(g->id, sizeof(g->id), "nvidia%u", (unsigned)idx);
        snprintf(g->vendor, sizeof(g->vendor), "nvidia");
        if (!set_field(g->name, sizeof(g->name), name))
            g->name[0] = '\0';
        g->util_percent = reading(f[0], 0, 100, 1);
        g->mem_used_bytes = reading(f[1], 0, MAX_VRAM / 1048576.0, 1048576.0);
        g->mem_total_bytes = reading(f[2], 0, MAX_VRAM / 1048576.0, 1048576.0);
        g->temp_c = reading(f[3], -50, 200, 1);
        g->power_w = reading(f[4], 0, 10000, 1);
        s->ngpus++;
    }
    return gpus_read(s, before);
}

/* "card0 45 1073741824 8573157376 52000 35000000" (sysfs units: bytes,
 * millidegrees, microwatts; "-" = no such file). */
static int
parse_amdgpu(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    char *tok[7];
    bool toolong;
    size_t before = s->ngpus;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        uint64_t card;
        if (toolong || split(line, tok, 7) != 6 || strncmp(tok[0], "card", 4) != 0 ||
            !parse_u64(tok[0] + 4, 9999, &card))
            continue;
        double busy = reading(tok[1], 0, 100, 1);
        if (isnan(busy))
            continue; /* the one file every amdgpu card has */
        struct hlc_gpu *g = gpu_slot(s);
        if (!g)
            break;
        snprintf(g->id, sizeof(g->id), "card%u", (unsigned)card);
        snprintf(g->vendor, sizeof(g->vendor), "amd");
        g->util_percent = busy;
        g->mem_used_bytes = reading(tok[2], 0, MAX_VRAM, 1);
        g->mem_total_bytes = reading(tok[3], 0, MAX_VRAM, 1);
        g->temp_c = reading(tok[4], -50000, 200000, 0.001);
        g->power_w = reading(tok[5], 0, 1e10, 1e-6);
        s->ngpus++;
    }
    return gpus_read(s, before);
}

/* ---- reboot, updates ---------------------------------------------------- */

static int
parse_reboot(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        rtrim(line);
        char *v = skip_ws(line);
        if (toolong || !*v)
            continue;
        if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
            s->reboot_required = true;
        else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
            s->reboot_required = false;
        else
            return HLC_EPARSE;
        s->have |= HLC_HAVE_REBOOT;
        return 0;
    }
    return HLC_EPARSE;
}

static int
parse_updates(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong;
    int pending = 0, security = 0;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        /* "Inst pkg [old] (new Debian-Security:12/stable-security [amd64])" */
        if (toolong || strncmp(line, "Inst ", 5) != 0)
            continue;
        if (pending < MAX_COUNT)
            pending++;
        const char *paren = strchr(line, '(');
        if (paren && strstr(paren, "-security") && security < MAX_COUNT)
            security++;
    }
    /* An empty section is a real answer: nothing to upgrade. */
    s->updates_pending = pending;
    s->updates_security = security;
    s->have |= HLC_HAVE_UPDATES;
    return 0;
}

/* ---- services ----------------------------------------------------------- */

/* systemd prints "[not set]" or UINT64_MAX ("infinity") when it does not
 * account a value; both become -1. */
static int64_t
sd_value(const char *v)
{
    uint64_t u;
    if (!parse_u64(v, UINT64_MAX, &u) || u > (uint64_t)INT64_MAX)
        return -1;
    return (int64_t)u;
}

static int
parse_services(struct lines it, struct hlc_sample *s)
{
    char line[LINE_MAX_LEN];
    bool toolong, truncated = false;
    struct hlc_service *sv = NULL;
    size_t n = 0, cap = 0;
    struct hlc_service *cur = NULL;
    /* Two forms. "Unit=a" names the block of properties after it. One
     * `systemctl show a b c` prints its blocks in the order asked, separated
     * by blank lines: "Asked=a", "Asked=b", "Asked=c" lines before it name
     * them in turn, and a unit whose block never came (systemctl cut short)
     * is dropped at the end. */
    bool filled[HLC_SAMPLE_MAX_SERVICES];
    size_t next_block = 0; /* the Asked= entry the next block fills */
    bool by_blocks = false;
    while (next_line(&it, line, sizeof(line), &toolong)) {
        if (!toolong && line[0] == '\0') {
            if (by_blocks)
                cur = NULL; /* the next property opens the next unit's block */
            continue;
        }
        char *eq = strchr(line, '=');
        if (toolong || !eq)
            continue;
        *eq = '\0';
        char *val = eq + 1;
        rtrim(val);
        bool asked = strcmp(line, "Asked") == 0;
        if (asked || strcmp(line, "Unit") == 0) {
            cur = NULL;
            by_blocks = asked;
            if (n == HLC_SAMPLE_MAX_SERVICES) {
                truncated = true;
                continue;
            }
            sv = grow(sv, &cap, n, sizeof(*sv));
            memset(&sv[n], 0, sizeof(sv[n]));
            if (!*val || !set_field(sv[n].name, sizeof(sv[n].name), val))
                continue;
            sv[n].memory_bytes = -1;
            sv[n].cpu_usage_ns = -1;
            filled[n] = !asked;
            if (asked) {
                n++;
            } else {
                cur = &sv[n++];
                next_block = n;
            }
            continue;
        }
        if (by_blocks && !cur) {
            while (next_block < n && filled[next_block])
                next_block++;
            if (next_block == n)
                continue; /* a block nobody asked for */
            filled[next_block] = true;
            cur = &sv[next_block++];
        }
        if (!cur)
            continue;
        if (strcmp(line, "ActiveState") == 0)
            set_field(cur->active_state, sizeof(cur->active_state), val);
        else if (strcmp(line, "SubState") == 0)
            set_field(cur->sub_state, sizeof(cur->sub_state), val);
        else if (strcmp(line, "LoadState") == 0)
            set_field(cur->load_state, sizeof(cur->load_state), val);
        else if (strcmp(line, "MainPID") == 0) {
            uint64_t pid;
            if (parse_u64(val, INT32_MAX, &pid))
                cur->main_pid = (int64_t)pid;
        } else if (strcmp(line, "MemoryCurrent") == 0)
            cur->memory_bytes = sd_value(val);
        else if (strcmp(line, "CPUUsageNSec") == 0)
            cur->cpu_usage_ns = sd_value(val);
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (filled[i])
            sv[kept++] = sv[i];
    n = kept;
    if (n == 0 && !truncated) {
        free(sv);
        return HLC_EPARSE;
    }
    free(s->services);
    s->services = sv;
    s->nservices = n;
    s->truncated |= truncated;
    s->have |= HLC_HAVE_SERVICES;
    return 0;
}

/* ---- docker ------------------------------------------------------------- */

/* Docker before 20.10 prints no State; derive it from the Status text. */
static const char *
state_from_status(const char *status)
{
    if (strncmp(status, "Up", 2) == 0)
        return strstr(status, "(Paused)") ? "paused" : "running";
    if (strncmp(status, "Exited", 6) == 0)
        return "exited";
    if (strncmp(status, "Created", 7) == 0)
        return "created";
    if (strncmp(status, "Restarting", 10) == 0)
        return "restarting";
    if (strncmp(status, "Dead", 4) == 0)
        return "dead";
    if (strncmp(status, "Removal", 7) == 0)
        return "removing";
    return "";
}

static bool
json_field(json_t *o, const char *key, char *dst, size_t size)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && set_field(dst, size, v);
}

static int
parse_docker(struct lines it, struct hlc_sample *s)
{
    bool truncated = false;
    struct hlc_container *c = NULL;
    size_t n = 0, cap = 0;
    while (it.p < it.end) {
        const char *nl = memchr(it.p, '\n', (size_t)(it.end - it.p));
        const char *stop = nl ? nl : it.end;
        const char *start = it.p;
        it.p = nl ? nl + 1 : it.end;
        while (start < stop && (*start == ' ' || *start == '\t'))
            start++;
        if (start == stop || *start != '{')
            continue;
        json_error_t err;
        json_t *o = json_loadb(start, (size_t)(stop - start), JSON_REJECT_DUPLICATES, &err);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            continue;
        }
        if (n == HLC_SAMPLE_MAX_CONTAINERS) {
            truncated = true;
            json_decref(o);
            continue;
        }
        c = grow(c, &cap, n, sizeof(*c));
        struct hlc_container *k = &c[n];
        bool ok = json_field(o, "ID", k->id, sizeof(k->id)) &&
                  json_field(o, "Names", k->name, sizeof(k->name));
        if (ok) {
            json_field(o, "Image", k->image, sizeof(k->image));
            json_field(o, "Status", k->status, sizeof(k->status));
            if (!json_field(o, "State", k->state, sizeof(k->state)))
                set_field(k->state, sizeof(k->state), state_from_status(k->status));
            n++;
        } else {
            memset(k, 0, sizeof(*k));
        }
        json_decref(o);
    }
    free(s->containers);
    s->containers = c;
    s->ncontainers = n;
    s->truncated |= truncated;
    s->have |= HLC_HAVE_CONTAINERS; /* present and empty: Docker with no containers */
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(struct lines, struct hlc_sample *);
} sections[] = {
    {"osrelease", parse_osrelease}, {"uname", parse_uname},     {"stat", parse_stat},
    {"cpus", parse_cpus},           {"meminfo", parse_meminfo}, {"df", parse_df},
    {"netdev", parse_netdev},       {"loadavg", parse_loadavg}, {"uptime", parse_uptime},
    {"thermal", parse_thermal},     {"reboot", parse_reboot},   {"updates", parse_updates},
    {"services", parse_services},   {"docker", parse_docker},   {"nvidia", parse_nvidia},
    {"amdgpu", parse_amdgpu},
};

static int
dispatch(const char *name, size_t name_len, const char *body, size_t len, struct hlc_sample *out)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++)
        if (strlen(sections[i].name) == name_len &&
            memcmp(sections[i].name, name, name_len) == 0) {
            struct lines it = {body, body + len};
            return sections[i].fn(it, out);
        }
    return HLC_EINVAL;
}

int
hlc_collect_parse_section(const char *name, const char *body, size_t len, struct hlc_sample *out)
{
    if (!name || !out || (!body && len > 0))
        return HLC_EINVAL;
    if (len > HLC_COLLECT_MAX_OUTPUT)
        return HLC_ETOOBIG;
    if (len > 0 && memchr(body, '\0', len))
        return HLC_EPARSE;
    return dispatch(name, strlen(name), body ? body : "", len, out);
}

/* A section header: the whole line is "<<<name>>>" with a short name. */
static bool
is_header(const char *line, size_t n, const char **name, size_t *name_len)
{
    if (n < 7 || n > 64 || memcmp(line, "<<<", 3) != 0 || memcmp(line + n - 3, ">>>", 3) != 0)
        return false;
    *name = line + 3;
    *name_len = n - 6;
    return true;
}

int
hlc_collect_parse(const char *text, size_t len, struct hlc_sample *out)
{
    if (!out || (!text && len > 0))
        return HLC_EINVAL;
    if (len > HLC_COLLECT_MAX_OUTPUT)
        return HLC_ETOOBIG;
    if (len == 0 || memchr(text, '\0', len))
        return HLC_EPARSE;
    const char *end = text + len, *p = text;
    const char *name = NULL, *body = NULL;
    size_t name_len = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        const char *hname;
        size_t hlen;
        if (is_header(p, n, &hname, &hlen)) {
            if (name) /* a section that fails to parse is simply missing */
                (void)dispatch(name, name_len, body, (size_t)(p - body), out);
            name = hname;
            name_len = hlen;
            body = nl ? nl + 1 : end;
        }
        p = nl ? nl + 1 : end;
    }
    if (name)
        (void)dispatch(name, name_len, body, (size_t)(end - body), out);
    bool any = name != NULL;
    return any ? 0 : HLC_EPARSE;
}
