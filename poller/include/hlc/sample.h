/* sample.h - one machine's state at one moment, as the collector script (over
 * SSH) or the push agent (locally) saw it. The pure parser fills it from the
 * collector's text; the poller, the agent, the hub's store and the alert engine
 * all read it. Plain data: fixed-size strings, heap arrays with counts. */
#ifndef HLC_SAMPLE_H
#define HLC_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard caps on what one sample may hold; input beyond them is dropped (and
 * the parser reports it through `truncated`), never grown without bound. */
#define HLC_SAMPLE_MAX_FS 64
#define HLC_SAMPLE_MAX_NET 64
#define HLC_SAMPLE_MAX_SERVICES 128
#define HLC_SAMPLE_MAX_CONTAINERS 256
#define HLC_SAMPLE_MAX_TEMPS 32
#define HLC_SAMPLE_MAX_GPUS 16

/* Which sections a sample carries: a section a host cannot give is missing,
 * and its fields below are then meaningless (zero). */
enum hlc_have {
    HLC_HAVE_IDENTITY = 1u << 0,   /* hostname, os_*, kernel, arch */
    HLC_HAVE_CPU = 1u << 1,        /* cpu_cores and the jiffy counters */
    HLC_HAVE_MEMORY = 1u << 2,     /* mem_* and swap_* */
    HLC_HAVE_FS = 1u << 3,         /* fs[] (may be empty) */
    HLC_HAVE_NET = 1u << 4,        /* net[] (may be empty) */
    HLC_HAVE_LOAD = 1u << 5,       /* load1/5/15 */
    HLC_HAVE_UPTIME = 1u << 6,     /* uptime_seconds, boot_time */
    HLC_HAVE_TEMPS = 1u << 7,      /* temps[] and cpu_temp_c */
    HLC_HAVE_REBOOT = 1u << 8,     /* reboot_required */
    HLC_HAVE_UPDATES = 1u << 9,    /* updates_pending, updates_security */
    HLC_HAVE_SERVICES = 1u << 10,  /* services[] */
    HLC_HAVE_CONTAINERS = 1u << 11,/* containers[] (Docker is present) */
    HLC_HAVE_CPU_PERCENT = 1u << 12, /* cpu_percent derived from a previous sample */
    HLC_HAVE_NET_RATES = 1u << 13, /* net[].rx_bps/tx_bps derived likewise */
    /* cpu_percent as the machine reported it (a v1 agent sends no counters):
     * hlc_sample_derive keeps it instead of clearing it. */
    HLC_HAVE_CPU_REPORTED = 1u << 14,
    HLC_HAVE_GPUS = 1u << 15,      /* gpus[] (at least one GPU was read) */
};

/* One real mounted filesystem (tmpfs, devtmpfs, overlay, squashfs skipped). */
struct hlc_fs {
    char mount[256];        /* mount point, e.g. "/" or "/srv/media" */
    char device[128];       /* source device, e.g. "/dev/sda1" */
    char fstype[32];        /* e.g. "ext4"; empty when the host did not say */
    uint64_t total_bytes;   /* size */
    uint64_t used_bytes;    /* used */
    uint64_t avail_bytes;   /* available to unprivileged users */
};

/* One network interface other than lo: cumulative counters since boot. */
struct hlc_net {
    char name[32];          /* interface name */
    uint64_t rx_bytes;      /* received bytes counter */
    uint64_t tx_bytes;      /* transmitted bytes counter */
    double rx_bps;          /* bytes/s since the previous sample (HLC_HAVE_NET_RATES) */
    double tx_bps;          /* likewise */
};

/* One expected service's systemd state. */
struct hlc_service {
    char name[128];         /* unit name as configured, e.g. "plex" or "nginx.service" */
    char active_state[32];  /* ActiveState: active, inactive, failed, activating... */
    char sub_state[32];     /* SubState: running, dead, exited... */
    int64_t main_pid;       /* MainPID, 0 when none */
    int64_t memory_bytes;   /* MemoryCurrent, -1 when not available */
    int64_t cpu_usage_ns;   /* CPUUsageNSec, -1 when not available */
    char load_state[32];    /* LoadState: loaded, not-found, masked...; empty when not reported */
    double cpu_percent;     /* CPU % of one core, when has_cpu_percent: as a v1 agent
                             * reports it, or derived from cpu_usage_ns between samples */
    bool has_cpu_percent;   /* cpu_percent was reported or derived */
};

/* One Docker container as `docker ps -a` reports it. */
struct hlc_container {
    char id[72];            /* container ID */
    char name[128];         /* Names */
    char image[256];        /* Image */
    char state[32];         /* State: running, exited, paused, restarting, created, dead */
    char status[128];       /* Status: human text, e.g. "Up 3 hours" */
};

/* One temperature sensor. */
struct hlc_temp {
    char zone[64];          /* thermal zone type, e.g. "x86_pkg_temp", "cpu-thermal" */
    double celsius;         /* degrees Celsius */
};

/* One GPU, from nvidia-smi or amdgpu's sysfs files. Readings the device
 * does not give are NaN. */
struct hlc_gpu {
    char id[16];            /* "nvidia0" (nvidia-smi's index), "card0" (DRM card) */
    char vendor[8];         /* "nvidia" or "amd" */
    char name[96];          /* nvidia-smi's name; "" for AMD (sysfs has no name) */
    double util_percent;    /* busy %, 0..100 */
    double mem_used_bytes;  /* VRAM used */
    double mem_total_bytes; /* VRAM size */
    double temp_c;          /* degrees Celsius */
    double power_w;         /* board power draw, watts */
};

struct hlc_sample {
    int64_t timestamp;      /* seconds since the epoch, UTC, when taken */
    unsigned have;          /* HLC_HAVE_* bits */
    bool truncated;         /* some input was over a cap and dropped */

    char hostname[256];     /* hostname as the machine reports it */
    char os_id[64];         /* os-release ID, e.g. "debian" */
    char os_name[128];      /* os-release PRETTY_NAME, e.g. "Debian GNU/Linux 12 (bookworm)" */
    char os_version[64];    /* os-release VERSION_ID, e.g. "12" */
    char kernel[128];       /* uname -r */
    char arch[32];          /* uname -m */

    unsigned cpu_cores;     /* online CPUs */
    uint64_t cpu_total;     /* /proc/stat "cpu" line: sum of all jiffies */
    uint64_t cpu_idle;      /* idle + iowait jiffies */
    double cpu_percent;     /* busy % since the previous sample (HLC_HAVE_CPU_PERCENT) */

    uint64_t mem_total;     /* bytes (MemTotal) */
    uint64_t mem_available; /* bytes (MemAvailable) */
    uint64_t swap_total;    /* bytes */
    uint64_t swap_free;     /* bytes */

    double load1, load5, load15; /* load averages */
    int64_t uptime_seconds; /* seconds since boot */
    int64_t boot_time;      /* seconds since the epoch */

    double cpu_temp_c;      /* hottest CPU-like zone, when HLC_HAVE_TEMPS */
    bool reboot_required;   /* /var/run/reboot-required exists */
    int updates_pending;    /* packages an upgrade would install */
    int updates_security;   /* of which from a -security source */

    struct hlc_fs *fs;              size_t nfs;
    struct hlc_net *net;            size_t nnet;
    struct hlc_service *services;   size_t nservices;
    struct hlc_container *containers; size_t ncontainers;
    struct hlc_temp *temps;         size_t ntemps;
    struct hlc_gpu *gpus;           size_t ngpus;
};

/* Zero a caller-owned sample. Cannot fail. */
void hlc_sample_init(struct hlc_sample *s);
/* Free the arrays and zero the sample; NULL is a no-op. */
void hlc_sample_release(struct hlc_sample *s);

/* Memory used, in percent of total (0 when the memory section is missing). */
double hlc_sample_mem_percent(const struct hlc_sample *s);

/* A filesystem's used share as df prints it: used / (used + available), so
 * reserved blocks count as unavailable; 0 for an empty one. Pure. */
double hlc_fs_used_percent(const struct hlc_fs *f);

/* A service's state in the API's four words: "running" (active, reloading,
 * activating), "stopped" (inactive, deactivating, or a unit systemd does not
 * know), "failed", or "unknown" when systemd did not report it. Static
 * storage; never NULL. */
const char *hlc_sample_service_status(const struct hlc_service *svc);

/* Fill cur's derived fields (cpu_percent, net rates, each service's CPU %) from the counters of the
 * previous sample of the same machine. When prev is NULL, not older than cur,
 * or a counter went backwards (a reboot or a wrap), nothing is derived and cur
 * becomes the new baseline. A cpu_percent the machine reported itself
 * (HLC_HAVE_CPU_REPORTED) stays unless the counters give one. Pure;
 * thread-safe. */
void hlc_sample_derive(const struct hlc_sample *prev, struct hlc_sample *cur);

#endif
