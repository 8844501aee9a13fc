/* heartbeat.c - strict heartbeat decoder: bounded size and depth, known keys
 * only, typed and ranged fields, capped arrays; every error names its field. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "heartbeat.h"
#include "hlc/base.h"
#include "jsonr.h"

#define U64MAX ((long long)LLONG_MAX)

static const char *const top_keys[] = {
    "server_id", "timestamp", "machine_type", "hostname", "metrics", "os_info",
    "filesystems", "network", "services", "containers", "temperatures",
    "reboot_required", "updates_available", "security_updates", NULL};
static const char *const metric_keys[] = {
    "cpu_percent", "cpu_cores", "cpu_total_jiffies", "cpu_idle_jiffies",
    "memory_percent", "memory_used_gb", "memory_total_gb", "memory_total_bytes",
    "memory_available_bytes", "swap_total_bytes", "swap_free_bytes", "disk_percent",
    "disk_used_gb", "disk_total_gb", "network_rx_bytes", "network_tx_bytes", "load_1m",
    "load_5m", "load_15m", "uptime_seconds", "boot_time", "cpu_temp_c", NULL};
static const char *const os_keys[] = {"id", "distribution", "version", "kernel",
                                      "architecture", NULL};
static const char *const fs_keys[] = {"mount", "device", "fstype", "total_bytes",
                                      "used_bytes", "avail_bytes", NULL};
static const char *const net_keys[] = {"name", "rx_bytes", "tx_bytes", NULL};
static const char *const svc_keys[] = {"name", "status", "active_state", "sub_state", "pid",
                                       "memory_bytes", "memory_mb", "cpu_usage_ns",
                                       "cpu_percent", NULL};
static const char *const ctr_keys[] = {"id", "name", "image", "state", "status", NULL};
static const char *const temp_keys[] = {"zone", "celsius", NULL};
static const char *const machine_types[] = {"workstation", "server", NULL};
static const char *const svc_status[] = {"running", "stopped", "failed", "unknown", NULL};

/* Nesting depth of the raw text, strings skipped; true when within max. */
static bool
depth_ok(const char *t, size_t len, int max)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return false;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

/* Prefixes e->field with "prefix." (or "prefix[i]." when i >= 0). */
static bool
nest(struct hlc_verr *e, const char *prefix, long i)
{
    char f[160];
    if (i >= 0)
        snprintf(f, sizeof(f), "%s[%ld].%s", prefix, i, e->field);
    else
        snprintf(f, sizeof(f), "%s.%s", prefix, e->field);
    hlc_v_set_field(e, f);
    return false;
}

static void
copy_str(char *dst, size_t cap, json_t *obj, const char *key)
{
    json_t *j = json_object_get(obj, key);
    const char *v = json_string_value(j);
    if (!v || cap == 0)
        return;
    size_t n = json_string_length(j); /* validated to fit, but never trusted */
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static bool
get_u64(json_t *obj, const char *key, bool required, uint64_t *out, struct hlc_verr *e)
{
    if (!hlc_v_int(obj, key, required, false, 0, U64MAX, e))
        return false;
    json_t *v = json_object_get(obj, key);
    if (v)
        *out = (uint64_t)json_integer_value(v);
    return true;
}

/* A printable string of at most cap-1 bytes, copied into dst. */
static bool
get_str(json_t *obj, const char *key, bool required, char *dst, size_t cap, struct hlc_verr *e)
{
    if (!hlc_v_string(obj, key, required, false, cap - 1, hlc_valid_printable,
                      "printable text", e))
        return false;
    copy_str(dst, cap, obj, key);
    return true;
}

/* An optional number that may also be null (the TRD's "float or null"). */
static bool
get_num_or_null(json_t *obj, const char *key, double min, double max, struct hlc_verr *e)
{
    return json_is_null(json_object_get(obj, key)) || hlc_v_number(obj, key, false, min, max, e);
}

static bool
check_array(json_t *root, const char *key, size_t max, json_t **out, struct hlc_verr *e)
{
    *out = json_object_get(root, key);
    if (!*out)
        return true;
    if (!json_is_array(*out))
        return hlc_v_fail(e, key, "%s must be an array", key);
    if (json_array_size(*out) > max)
        return hlc_v_fail(e, key, "%s may hold at most %zu entries", key, max);
    size_t i;
    json_t *it;
    json_array_foreach(*out, i, it)
    {
        if (!json_is_object(it)) {
            char f[64];
            snprintf(f, sizeof(f), "%s[%zu]", key, i);
            return hlc_v_fail(e, f, "%s must be an object", f);
        }
    }
    return true;
}

static bool
decode_metrics(json_t *m, struct hlc_sample *s, struct hlc_verr *e)
{
    if (!json_is_object(m))
        return hlc_v_fail(e, "metrics", "metrics must be an object");
    if (!hlc_v_known_keys(m, metric_keys, e) || !hlc_v_number(m, "cpu_percent", false, 0, 100, e) ||
        !hlc_v_number(m, "memory_percent", false, 0, 100, e) ||
        !hlc_v_number(m, "disk_percent", false, 0, 100, e) ||
        !hlc_v_number(m, "memory_used_gb", false, 0, 1e9, e) ||
        !hlc_v_number(m, "memory_total_gb", false, 0, 1e9, e) ||
        !hlc_v_number(m, "disk_used_gb", false, 0, 1e12, e) ||
        !hlc_v_number(m, "disk_total_gb", false, 0, 1e12, e) ||
        !hlc_v_int(m, "network_rx_bytes", false, false, 0, U64MAX, e) ||
        !hlc_v_int(m, "network_tx_bytes", false, false, 0, U64MAX, e) ||
        !hlc_v_int(m, "cpu_cores", false, false, 1, 65536, e) ||
        !hlc_v_number(m, "load_1m", false, 0, 1e6, e) ||
        !hlc_v_number(m, "load_5m", false, 0, 1e6, e) ||
        !hlc_v_number(m, "load_15m", false, 0, 1e6, e) ||
        !hlc_v_int(m, "uptime_seconds", false, false, 0, 100LL * 366 * 86400, e) ||
        !hlc_v_string(m, "boot_time", false, false, 40, NULL, NULL, e) ||
        !hlc_v_number(m, "cpu_temp_c", false, -100, 250, e))
        return nest(e, "metrics", -1);
    uint64_t total = 0, idle = 0;
    bool has_total = json_object_get(m, "cpu_total_jiffies") != NULL;
    bool has_idle = json_object_get(m, "cpu_idle_jiffies") != NULL;
    if (!get_u64(m, "cpu_total_jiffies", false, &total, e) ||
        !get_u64(m, "cpu_idle_jiffies", false, &idle, e))
        return nest(e, "metrics", -1);
    if (has_total != has_idle)
        return hlc_v_fail(e, "metrics.cpu_total_jiffies",
                          "cpu_total_jiffies and cpu_idle_jiffies go together");
    if (has_total && idle > total)
        return hlc_v_fail(e, "metrics.cpu_idle_jiffies",
                          "cpu_idle_jiffies cannot exceed cpu_total_jiffies");
    json_t *cp = json_object_get(m, "cpu_percent");
    if (cp && !has_total) { /* a v1 agent: its own figure, no counters to derive from */
        s->cpu_percent = json_number_value(cp);
        s->have |= HLC_HAVE_CPU_PERCENT | HLC_HAVE_CPU_REPORTED;
    }
    json_t *cores = json_object_get(m, "cpu_cores");
    if (has_total || cores) {
        s->have |= HLC_HAVE_CPU;
        s->cpu_total = total;
        s->cpu_idle = idle;
        s->cpu_cores = cores ? (unsigned)json_integer_value(cores) : 1;
    }
    if (json_object_get(m, "memory_total_bytes")) {
        if (!get_u64(m, "memory_total_bytes", true, &s->mem_total, e) ||
            !get_u64(m, "memory_available_bytes", true, &s->mem_available, e) ||
            !get_u64(m, "swap_total_bytes", false, &s->swap_total, e) ||
            !get_u64(m, "swap_free_bytes", false, &s->swap_free, e))
            return nest(e, "metrics", -1);
        if (s->mem_available > s->mem_total)
            return hlc_v_fail(e, "metrics.memory_available_bytes",
                              "memory_available_bytes cannot exceed memory_total_bytes");
        if (s->swap_free > s->swap_total)
            return hlc_v_fail(e, "metrics.swap_free_bytes",
                              "swap_free_bytes cannot exceed swap_total_bytes");
        s->have |= HLC_HAVE_MEMORY;
    } else if (json_object_get(m, "memory_total_gb") && json_object_get(m, "memory_used_gb")) {
        double t = json_number_value(json_object_get(m, "memory_total_gb"));
        double u = json_number_value(json_object_get(m, "memory_used_gb"));
        if (u > t)
            return hlc_v_fail(e, "metrics.memory_used_gb",
                              "memory_used_gb cannot exceed memory_total_gb");
        s->mem_total = (uint64_t)(t * 1073741824.0);
        s->mem_available = (uint64_t)((t - u) * 1073741824.0);
        s->have |= HLC_HAVE_MEMORY;
    }
    if (json_object_get(m, "load_1m")) {
        s->load1 = json_number_value(json_object_get(m, "load_1m"));
        s->load5 = json_number_value(json_object_get(m, "load_5m"));
        s->load15 = json_number_value(json_object_get(m, "load_15m"));
        s->have |= HLC_HAVE_LOAD;
    }
    json_t *up = json_object_get(m, "uptime_seconds");
    if (up) {
        s->uptime_seconds = json_integer_value(up);
        s->have |= HLC_HAVE_UPTIME;
    }
    const char *bt = json_string_value(json_object_get(m, "boot_time"));
    if (bt && hlc_time_parse(bt, &s->boot_time) != 0)
        return hlc_v_fail(e, "metrics.boot_time", "boot_time must be an ISO 8601 time");
    json_t *temp = json_object_get(m, "cpu_temp_c");
    if (temp) {
        s->cpu_temp_c = json_number_value(temp);
        s->have |= HLC_HAVE_TEMPS;
    }
    return true;
}

static bool
decode_os(json_t *os, struct hlc_sample *s, struct hlc_verr *e)
{
    if (!json_is_object(os))
        return hlc_v_fail(e, "os_info", "os_info must be an object");
    if (!hlc_v_known_keys(os, os_keys, e) ||
        !get_str(os, "id", false, s->os_id, sizeof(s->os_id), e) ||
        !get_str(os, "distribution", false, s->os_name, sizeof(s->os_name), e) ||
        !get_str(os, "version", false, s->os_version, sizeof(s->os_version), e) ||
        !get_str(os, "kernel", false, s->kernel, sizeof(s->kernel), e) ||
        !get_str(os, "architecture", false, s->arch, sizeof(s->arch), e))
        return nest(e, "os_info", -1);
    s->have |= HLC_HAVE_IDENTITY;
    return true;
}

static bool
decode_arrays(json_t *root, struct hlc_sample *s, struct hlc_verr *e)
{
    json_t *a, *it;
    size_t i;
    if (!check_array(root, "filesystems", HLC_SAMPLE_MAX_FS, &a, e))
        return false;
    if (a) {
        s->fs = hlc_xcalloc(json_array_size(a) + 1, sizeof(*s->fs));
        s->have |= HLC_HAVE_FS;
        json_array_foreach(a, i, it)
        {
            struct hlc_fs *f = &s->fs[s->nfs++];
            if (!hlc_v_known_keys(it, fs_keys, e) ||
                !get_str(it, "mount", true, f->mount, sizeof(f->mount), e) ||
                !get_str(it, "device", false, f->device, sizeof(f->device), e) ||
                !get_str(it, "fstype", false, f->fstype, sizeof(f->fstype), e) ||
                !get_u64(it, "total_bytes", true, &f->total_bytes, e) ||
                !get_u64(it, "used_bytes", true, &f->used_bytes, e) ||
                !get_u64(it, "avail_bytes", true, &f->avail_bytes, e))
                return nest(e, "filesystems", (long)i);
            if (f->mount[0] != '/')
                return hlc_v_fail(e, "filesystems.mount", "a mount point starts with /");
            if (f->used_bytes > f->total_bytes)
                return hlc_v_fail(e, "filesystems.used_bytes",
                                  "used_bytes cannot exceed total_bytes");
        }
    }
    if (!check_array(root, "network", HLC_SAMPLE_MAX_NET, &a, e))
        return false;
    if (a) {
        s->net = hlc_xcalloc(json_array_size(a) + 1, sizeof(*s->net));
        s->have |= HLC_HAVE_NET;
        json_array_foreach(a, i, it)
        {
            struct hlc_net *n = &s->net[s->nnet++];
            if (!hlc_v_known_keys(it, net_keys, e) ||
                !get_str(it, "name", true, n->name, sizeof(n->name), e) ||
                !get_u64(it, "rx_bytes", true, &n->rx_bytes, e) ||
                !get_u64(it, "tx_bytes", true, &n->tx_bytes, e))
                return nest(e, "network", (long)i);
        }
    }
    if (!check_array(root, "services", HLC_SAMPLE_MAX_SERVICES, &a, e))
        return false;
    if (a) {
        s->services = hlc_xcalloc(json_array_size(a) + 1, sizeof(*s->services));
        s->have |= HLC_HAVE_SERVICES;
        json_array_foreach(a, i, it)
        {
            struct hlc_service *v = &s->services[s->nservices++];
            v->memory_bytes = -1;
            v->cpu_usage_ns = -1;
            if (!hlc_v_known_keys(it, svc_keys, e) ||
                !get_str(it, "name", true, v->name, sizeof(v->name), e) ||
                !hlc_v_enum(it, "status", false, svc_status, e) ||
                !get_str(it, "active_state", false, v->active_state, sizeof(v->active_state), e) ||
                !get_str(it, "sub_state", false, v->sub_state, sizeof(v->sub_state), e) ||
                !hlc_v_int(it, "pid", false, true, 0, INT_MAX, e) ||
                !hlc_v_int(it, "memory_bytes", false, true, 0, U64MAX, e) ||
                !get_num_or_null(it, "memory_mb", 0, 1e9, e) ||
                !hlc_v_int(it, "cpu_usage_ns", false, true, 0, U64MAX, e) ||
                !get_num_or_null(it, "cpu_percent", 0, 1e6, e))
                return nest(e, "services", (long)i);
            const char *st = json_string_value(json_object_get(it, "status"));
            if (!v->active_state[0] && st) {
                static const char *const map[][3] = {{"running", "active", "running"},
                                                     {"stopped", "inactive", "dead"},
                                                     {"failed", "failed", "failed"}};
                for (size_t k = 0; k < 3; k++)
                    if (strcmp(st, map[k][0]) == 0) {
                        snprintf(v->active_state, sizeof(v->active_state), "%s", map[k][1]);
                        snprintf(v->sub_state, sizeof(v->sub_state), "%s", map[k][2]);
                    }
            }
            v->main_pid = json_integer_value(json_object_get(it, "pid"));
            json_t *mb = json_object_get(it, "memory_bytes");
            if (json_is_integer(mb))
                v->memory_bytes = json_integer_value(mb);
            else if (json_is_number(json_object_get(it, "memory_mb")))
                v->memory_bytes =
                    (int64_t)(json_number_value(json_object_get(it, "memory_mb")) * 1048576.0);
            json_t *ns = json_object_get(it, "cpu_usage_ns");
            if (json_is_integer(ns))
                v->cpu_usage_ns = json_integer_value(ns);
            json_t *pct = json_object_get(it, "cpu_percent");
            if (json_is_number(pct)) {
                v->cpu_percent = json_number_value(pct);
                v->has_cpu_percent = true;
            }
        }
    }
    if (!check_array(root, "containers", HLC_SAMPLE_MAX_CONTAINERS, &a, e))
        return false;
    if (a) {
        s->containers = hlc_xcalloc(json_array_size(a) + 1, sizeof(*s->containers));
        s->have |= HLC_HAVE_CONTAINERS;
        json_array_foreach(a, i, it)
        {
            struct hlc_container *c = &s->containers[s->ncontainers++];
            if (!hlc_v_known_keys(it, ctr_keys, e) ||
                !get_str(it, "id", true, c->id, sizeof(c->id), e) ||
                !get_str(it, "name", true, c->name, sizeof(c->name), e) ||
                !get_str(it, "image", false, c->image, sizeof(c->image), e) ||
                !get_str(it, "state", true, c->state, sizeof(c->state), e) ||
                !get_str(it, "status", false, c->status, sizeof(c->status), e))
                return nest(e, "containers", (long)i);
        }
    }
    if (!check_array(root, "temperatures", HLC_SAMPLE_MAX_TEMPS, &a, e))
        return false;
    if (a) {
        s->temps = hlc_xcalloc(json_array_size(a) + 1, sizeof(*s->temps));
        json_array_foreach(a, i, it)
        {
            struct hlc_temp *t = &s->temps[s->ntemps++];
            if (!hlc_v_known_keys(it, temp_keys, e) ||
                !get_str(it, "zone", true, t->zone, sizeof(t->zone), e) ||
                !hlc_v_number(it, "celsius", true, -100, 250, e))
                return nest(e, "temperatures", (long)i);
            t->celsius = json_number_value(json_object_get(it, "celsius"));
            if (!(s->have & HLC_HAVE_TEMPS) || t->celsius > s->cpu_temp_c)
                s->cpu_temp_c = t->celsius;
            s->have |= HLC_HAVE_TEMPS;
        }
    }
    return true;
}

/* A v1 agent (TRD §4) reports its root disk and its network as totals in
 * metrics instead of the filesystems and network arrays: they become one
 * filesystem "/" and one interface "total", so they are stored, charted and
 * alerted on like a v2 agent's. Arrays, when sent, win. */
static bool
decode_v1_totals(json_t *m, struct hlc_sample *s, struct hlc_verr *e)
{
    json_t *tot = json_object_get(m, "disk_total_gb");
    json_t *used = json_object_get(m, "disk_used_gb");
    if (!(s->have & HLC_HAVE_FS) && tot && used) {
        double t = json_number_value(tot) * 1073741824.0;
        double u = json_number_value(used) * 1073741824.0;
        if (u > t)
            return hlc_v_fail(e, "metrics.disk_used_gb",
                              "disk_used_gb cannot exceed disk_total_gb");
        /* The agent's disk_percent is used / (used + available) as df and
         * psutil compute it, so blocks reserved for root stay unavailable:
         * the available bytes follow from it rather than from total - used. */
        double avail = t - u;
        json_t *pct = json_object_get(m, "disk_percent");
        double p = pct ? json_number_value(pct) : 0.0;
        if (p > 0.0 && u > 0.0 && u * (100.0 - p) / p < avail)
            avail = u * (100.0 - p) / p;
        s->fs = hlc_xcalloc(1, sizeof(*s->fs));
        s->nfs = 1;
        snprintf(s->fs[0].mount, sizeof(s->fs[0].mount), "/");
        s->fs[0].total_bytes = (uint64_t)t;
        s->fs[0].used_bytes = (uint64_t)u;
        s->fs[0].avail_bytes = (uint64_t)avail;
        s->have |= HLC_HAVE_FS;
    }
    json_t *rx = json_object_get(m, "network_rx_bytes");
    json_t *tx = json_object_get(m, "network_tx_bytes");
    if (!(s->have & HLC_HAVE_NET) && rx && tx) {
        s->net = hlc_xcalloc(1, sizeof(*s->net));
        s->nnet = 1;
        snprintf(s->net[0].name, sizeof(s->net[0].name), "total");
        s->net[0].rx_bytes = (uint64_t)json_integer_value(rx);
        s->net[0].tx_bytes = (uint64_t)json_integer_value(tx);
        s->have |= HLC_HAVE_NET;
    }
    return true;
}

static bool
decode(json_t *root, struct hlc_heartbeat *hb, struct hlc_verr *e)
{
    struct hlc_sample *s = &hb->s;
    if (!hlc_v_known_keys(root, top_keys, e) ||
        !hlc_v_string(root, "server_id", true, false, 63, hlc_valid_slug,
                      "a slug: lowercase letters, digits and '-', at most 63 characters", e) ||
        !hlc_v_string(root, "timestamp", true, false, 40, NULL, NULL, e) ||
        !hlc_v_enum(root, "machine_type", false, machine_types, e) ||
        !hlc_v_string(root, "hostname", false, false, 253, hlc_valid_hostname, "a host name",
                      e) ||
        !hlc_v_bool(root, "reboot_required", false, e) ||
        !hlc_v_int(root, "updates_available", false, false, 0, 1000000, e) ||
        !hlc_v_int(root, "security_updates", false, false, 0, 1000000, e))
        return false;
    copy_str(hb->server_id, sizeof(hb->server_id), root, "server_id");
    snprintf(hb->machine_type, sizeof(hb->machine_type), "workstation");
    copy_str(hb->machine_type, sizeof(hb->machine_type), root, "machine_type");
    if (hlc_time_parse(json_string_value(json_object_get(root, "timestamp")), &s->timestamp) ||
        s->timestamp <= 0)
        return hlc_v_fail(e, "timestamp", "timestamp must be an ISO 8601 time");
    json_t *m = json_object_get(root, "metrics");
    if (!m)
        return hlc_v_fail(e, "metrics", "metrics is required");
    if (!decode_metrics(m, s, e))
        return false;
    json_t *os = json_object_get(root, "os_info");
    if (os && !decode_os(os, s, e))
        return false;
    copy_str(s->hostname, sizeof(s->hostname), root, "hostname");
    if (s->hostname[0])
        s->have |= HLC_HAVE_IDENTITY;
    json_t *rb = json_object_get(root, "reboot_required");
    if (rb) {
        s->reboot_required = json_is_true(rb);
        s->have |= HLC_HAVE_REBOOT;
    }
    json_t *ua = json_object_get(root, "updates_available");
    if (ua) {
        s->updates_pending = (int)json_integer_value(ua);
        s->updates_security = (int)json_integer_value(json_object_get(root, "security_updates"));
        if (s->updates_security > s->updates_pending)
            return hlc_v_fail(e, "security_updates",
                              "security_updates cannot exceed updates_available");
        s->have |= HLC_HAVE_UPDATES;
    } else if (json_object_get(root, "security_updates")) {
        return hlc_v_fail(e, "security_updates", "security_updates needs updates_available");
    }
    return decode_arrays(root, s, e) && decode_v1_totals(m, s, e);
}

int
hlc_heartbeat_decode(const char *text, size_t len, struct hlc_heartbeat *hb, struct hlc_verr *e)
{
    memset(hb, 0, sizeof(*hb));
    hlc_sample_init(&hb->s);
    memset(e, 0, sizeof(*e));
    if (len > HLC_HEARTBEAT_MAX_BYTES) {
        hlc_v_fail(e, "", "a heartbeat may be at most %d bytes", HLC_HEARTBEAT_MAX_BYTES);
        return HLC_ETOOBIG;
    }
    if (!depth_ok(text, len, HLC_HEARTBEAT_MAX_DEPTH)) {
        hlc_v_fail(e, "", "a heartbeat nests at most %d levels deep", HLC_HEARTBEAT_MAX_DEPTH);
        return HLC_EPARSE;
    }
    struct jsonr_error jerr;
    json_t *root = jsonr_parse(text, len, &jerr);
    if (!root) {
        hlc_v_fail(e, "", "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                   jerr.text);
        return HLC_EPARSE;
    }
    int rc = 0;
    if (!json_is_object(root)) {
        hlc_v_fail(e, "", "a heartbeat is a JSON object");
        rc = HLC_EINVAL;
    } else if (!decode(root, hb, e)) {
        rc = HLC_EINVAL;
    }
    json_decref(root);
    if (rc)
        hlc_sample_release(&hb->s);
    return rc;
}
