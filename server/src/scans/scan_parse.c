/* scan_parse.c - the pure parser of a scan's output and the comparison of
 * two results. The sections the collector also prints go through its parser
 * (hlc_collect_parse); the rest are read here, every value bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/sample.h"
#include "scans.h"

/* One line or token: a pointer into the text and a length. */
struct span {
    const char *p;
    size_t n;
};

/* A JSON string of at most cap bytes of s, printable ASCII only (anything
 * else becomes '?'), so hostile bytes never reach jansson's UTF-8 check. */
static json_t *
jstr(const char *s, size_t n, size_t cap)
{
    char buf[512];
    if (cap >= sizeof(buf))
        cap = sizeof(buf) - 1;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[n] = '\0';
    return json_string(buf);
}

static json_t *
jcstr(const char *s, size_t cap)
{
    return jstr(s, strlen(s), cap);
}

/* The next line of [*pos, end) without its '\n'; false at the end. */
static bool
next_line(const char **pos, const char *end, struct span *line)
{
    if (*pos >= end)
        return false;
    const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));
    const char *stop = nl ? nl : end;
    line->p = *pos;
    line->n = (size_t)(stop - *pos);
    if (line->n && line->p[line->n - 1] == '\r')
        line->n--;
    *pos = nl ? nl + 1 : end;
    return true;
}

/* Splits a line at blanks into at most max tokens; the last one takes the
 * rest of the line when rest is set. Returns the count. */
static size_t
tokens(struct span line, struct span *tok, size_t max, bool rest)
{
    size_t k = 0, i = 0;
    while (k < max) {
        while (i < line.n && (line.p[i] == ' ' || line.p[i] == '\t'))
            i++;
        if (i >= line.n)
            break;
        size_t start = i;
        if (rest && k == max - 1) {
            size_t e = line.n;
            while (e > start && (line.p[e - 1] == ' ' || line.p[e - 1] == '\t'))
                e--;
            tok[k++] = (struct span){line.p + start, e - start};
            break;
        }
        while (i < line.n && line.p[i] != ' ' && line.p[i] != '\t')
            i++;
        tok[k++] = (struct span){line.p + start, i - start};
    }
    return k;
}

static bool
span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* A bounded integer from a token: 0 or HLC_EPARSE/HLC_ERANGE. */
static int
span_i64(struct span s, int64_t min, int64_t max, int64_t *v)
{
    char buf[32];
    if (s.n == 0 || s.n >= sizeof(buf))
        return HLC_EPARSE;
    memcpy(buf, s.p, s.n);
    buf[s.n] = '\0';
    return hlc_parse_i64(buf, min, max, v);
}

static int
span_double(struct span s, double min, double max, double *v)
{
    char buf[32];
    if (s.n == 0 || s.n >= sizeof(buf))
        return HLC_EPARSE;
    memcpy(buf, s.p, s.n);
    buf[s.n] = '\0';
    char *end = NULL;
    double d = strtod(buf, &end);
    if (end == buf || *end || !(d >= min && d <= max))
        return HLC_EPARSE;
    *v = d;
    return 0;
}

/* Appends v to arr unless arr holds cap items already (then *cut). */
static void
push(json_t *arr, json_t *v, size_t cap, bool *cut)
{
    if (!v)
        return;
    if (json_array_size(arr) >= cap) {
        *cut = true;
        json_decref(v);
        return;
    }
    json_array_append_new(arr, v);
}

/* ---- full-scan sections -------------------------------------------------- */

/* The interface object named name (created, in order of first mention). */
static json_t *
iface(json_t *ifaces, struct span name, bool *cut)
{
    size_t n = name.n;
    const char *at = memchr(name.p, '@', n); /* "veth0@if5" */
    if (at)
        n = (size_t)(at - name.p);
    if (n && name.p[n - 1] == ':')
        n--;
    if (n == 0 || n > 32 || (n == 2 && memcmp(name.p, "lo", 2) == 0))
        return NULL;
    json_t *key = jstr(name.p, n, 32);
    const char *k = json_string_value(key);
    size_t i;
    json_t *it;
    json_array_foreach(ifaces, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "name")), k) == 0) {
            json_decref(key);
            return it;
        }
    }
    if (json_array_size(ifaces) >= HLC_SCAN_MAX_IFACES) {
        *cut = true;
        json_decref(key);
        return NULL;
    }
    it = json_pack("{s:o, s:n, s:n, s:n, s:[]}", "name", key, "mac", "state", "mtu", "addresses");
    json_array_append_new(ifaces, it);
    return it;
}

/* `ip -o addr show`: "2: eth0    inet 10.0.0.5/24 brd ... scope global eth0". */
static void
parse_addr(const char *p, const char *end, json_t *ifaces, bool *cut)
{
    struct span line, t[4];
    while (next_line(&p, end, &line)) {
        if (tokens(line, t, 4, false) < 4 || !(span_eq(t[2], "inet") || span_eq(t[2], "inet6")))
            continue;
        if (t[3].n > 50)
            continue;
        json_t *it = iface(ifaces, t[1], cut);
        if (!it)
            continue;
        json_t *addrs = json_object_get(it, "addresses");
        push(addrs,
             json_pack("{s:s, s:o}", "family", span_eq(t[2], "inet") ? "ipv4" : "ipv6", "address",
                       jstr(t[3].p, t[3].n, 50)),
             HLC_SCAN_MAX_ADDRS, cut);
    }
}

/* `ip -o link show`: "2: eth0: <...> mtu 1500 ... state UP ...\    link/ether aa:..". */
static void
parse_link(const char *p, const char *end, json_t *ifaces, bool *cut)
{
    struct span line, t[64];
    while (next_line(&p, end, &line)) {
        size_t n = tokens(line, t, 64, false);
        if (n < 2 || t[0].n < 2 || t[0].p[t[0].n - 1] != ':')
            continue;
        json_t *it = iface(ifaces, t[1], cut);
        if (!it)
            continue;
        for (size_t i = 2; i + 1 < n; i++) {
            int64_t v;
            if (span_eq(t[i], "mtu") && span_i64(t[i + 1], 0, 1000000, &v) == 0)
                json_object_set_new(it, "mtu", json_integer(v));
            else if (span_eq(t[i], "state"))
                json_object_set_new(it, "state", jstr(t[i + 1].p, t[i + 1].n, 16));
            else if (span_eq(t[i], "link/ether") && t[i + 1].n == 17)
                json_object_set_new(it, "mac", jstr(t[i + 1].p, t[i + 1].n, 17));
        }
    }
}

/* `ip route show`: "default via 10.0.0.1 dev eth0 proto dhcp metric 100". */
static void
parse_route(const char *p, const char *end, json_t *routes, bool *cut)
{
    struct span line, t[32];
    while (next_line(&p, end, &line)) {
        size_t n = tokens(line, t, 32, false);
        if (n < 1 || t[0].n > 50)
            continue;
        json_t *r = json_pack("{s:o, s:n, s:n}", "destination", jstr(t[0].p, t[0].n, 50), "via",
                              "dev");
        for (size_t i = 1; i + 1 < n; i++) {
            if (span_eq(t[i], "via"))
                json_object_set_new(r, "via", jstr(t[i + 1].p, t[i + 1].n, 50));
            else if (span_eq(t[i], "dev"))
                json_object_set_new(r, "dev", jstr(t[i + 1].p, t[i + 1].n, 32));
        }
        push(routes, r, HLC_SCAN_MAX_ROUTES, cut);
    }
}

static void
parse_dns(const char *p, const char *end, json_t *dns, bool *cut)
{
    struct span line, t[8];
    json_t *ns = json_object_get(dns, "nameservers"), *search = json_object_get(dns, "search");
    while (next_line(&p, end, &line)) {
        size_t n = tokens(line, t, 8, false);
        if (n < 2)
            continue;
        if (span_eq(t[0], "nameserver"))
            push(ns, jstr(t[1].p, t[1].n, 64), HLC_SCAN_MAX_DNS, cut);
        else if (span_eq(t[0], "search") || span_eq(t[0], "domain"))
            for (size_t i = 1; i < n; i++)
                push(search, jstr(t[i].p, t[i].n, 253), HLC_SCAN_MAX_DNS, cut);
    }
}

/* `ss -H -tuln`: "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*". */
static void
parse_listen(const char *p, const char *end, json_t *out, bool *cut)
{
    struct span line, t[6];
    while (next_line(&p, end, &line)) {
        if (tokens(line, t, 6, false) < 5)
            continue;
        struct span local = t[4];
        const char *colon = NULL;
        for (size_t i = local.n; i > 0; i--)
            if (local.p[i - 1] == ':') {
                colon = local.p + i - 1;
                break;
            }
        if (!colon)
            continue;
        int64_t port;
        struct span ps = {colon + 1, (size_t)(local.p + local.n - colon - 1)};
        if (span_i64(ps, 0, 65535, &port) != 0)
            continue;
        push(out,
             json_pack("{s:o, s:o, s:I}", "protocol", jstr(t[0].p, t[0].n, 8), "address",
                       jstr(local.p, (size_t)(colon - local.p), 64), "port", (json_int_t)port),
             HLC_SCAN_MAX_LISTEN, cut);
    }
}

/* `ps -eo pid=,user=,pcpu=,pmem=,rss=,comm=`. */
static void
parse_ps(const char *p, const char *end, json_t *out, bool *cut)
{
    struct span line, t[6];
    while (next_line(&p, end, &line)) {
        if (tokens(line, t, 6, true) < 6)
            continue;
        int64_t pid, rss;
        double cpu, mem;
        if (span_i64(t[0], 1, INT32_MAX, &pid) != 0 || span_double(t[2], 0, 1e6, &cpu) != 0 ||
            span_double(t[3], 0, 100, &mem) != 0 || span_i64(t[4], 0, INT64_MAX / 1024, &rss) != 0)
            continue;
        push(out,
             json_pack("{s:I, s:o, s:f, s:f, s:I, s:o}", "pid", (json_int_t)pid, "user",
                       jstr(t[1].p, t[1].n, 32), "cpu_percent", cpu, "mem_percent", mem,
                       "rss_bytes", (json_int_t)(rss * 1024), "command", jstr(t[5].p, t[5].n, 128)),
             HLC_SCAN_MAX_PROCS, cut);
    }
}

static json_t *
package(struct span name, struct span version)
{
    if (name.n == 0 || name.n > 128)
        return NULL;
    return json_pack("{s:o, s:o}", "name", jstr(name.p, name.n, 128), "version",
                     jstr(version.p, version.n, 128));
}

/* One package list line in the given manager's format, or NULL. */
static json_t *
package_line(const char *mgr, struct span line)
{
    struct span t[3];
    if (strcmp(mgr, "dpkg") == 0 || strcmp(mgr, "rpm") == 0) {
        /* tab-separated: [status \t] name \t version */
        size_t want = mgr[0] == 'd' ? 3 : 2, k = 0, start = 0;
        for (size_t i = 0; i <= line.n && k < want; i++) {
            if (i == line.n || line.p[i] == '\t') {
                t[k++] = (struct span){line.p + start, i - start};
                start = i + 1;
            }
        }
        if (k != want)
            return NULL;
        if (want == 3) {
            if (t[0].n < 2 || t[0].p[1] != 'i') /* the status: installed */
                return NULL;
            return package(t[1], t[2]);
        }
        return package(t[0], t[1]);
    }
    if (strcmp(mgr, "opkg") == 0) { /* "name - version" */
        if (tokens(line, t, 3, true) < 3 || !span_eq(t[1], "-"))
            return NULL;
        return package(t[0], t[2]);
    }
    /* apk: "name-1.2.3-r0": the version starts after the second '-' from the end */
    size_t dashes = 0, i = line.n;
    while (i > 0 && dashes < 2)
        if (line.p[--i] == '-')
            dashes++;
    if (dashes < 2 || i == 0 || line.n > 300)
        return NULL;
    return package((struct span){line.p, i}, (struct span){line.p + i + 1, line.n - i - 1});
}

static void
parse_packages(const char *mgr, const char *p, const char *end, json_t **out, bool *cut)
{
    json_t *list = json_array();
    struct span line;
    size_t count = 0;
    bool lcut = false;
    while (next_line(&p, end, &line)) {
        json_t *pk = package_line(mgr, line);
        if (!pk)
            continue;
        count++;
        push(list, pk, HLC_SCAN_MAX_PACKAGES, &lcut);
    }
    *cut |= lcut;
    json_decref(*out);
    *out = json_pack("{s:s, s:I, s:o, s:b}", "manager", mgr, "count", (json_int_t)count, "list",
                     list, "truncated", lcut);
}

/* `systemctl list-units --state=failed --no-legend --plain`. */
static void
parse_failed(const char *p, const char *end, json_t *out, bool *cut)
{
    struct span line, t[5];
    while (next_line(&p, end, &line)) {
        /* systemd < 248 prints a bullet even with --plain */
        if (line.n >= 3 && memcmp(line.p, "\xe2\x97\x8f", 3) == 0) {
            line.p += 3;
            line.n -= 3;
        }
        size_t n = tokens(line, t, 5, true);
        if (n < 4)
            continue;
        push(out,
             json_pack("{s:o, s:o, s:o, s:o}", "unit", jstr(t[0].p, t[0].n, 128), "active",
                       jstr(t[2].p, t[2].n, 32), "sub", jstr(t[3].p, t[3].n, 32), "description",
                       n == 5 ? jstr(t[4].p, t[4].n, 200) : json_string("")),
             HLC_SCAN_MAX_FAILED, cut);
    }
}

static void
parse_cpuinfo(const char *p, const char *end, json_t *cpu)
{
    struct span line;
    while (next_line(&p, end, &line)) {
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon)
            continue;
        const char *v = colon + 1;
        size_t n = (size_t)(line.p + line.n - v);
        while (n && (*v == ' ' || *v == '\t')) {
            v++;
            n--;
        }
        if (n) {
            json_object_set_new(cpu, "model", jstr(v, n, 128));
            return;
        }
    }
}

/* ---- the whole output ---------------------------------------------------- */

/* The quick part, from the collector's parse of the same text. */
static json_t *
quick_part(const struct hlc_sample *s)
{
    json_t *o = json_object();
    bool id = s->have & HLC_HAVE_IDENTITY;
    json_object_set_new(o, "hostname", id && s->hostname[0] ? jcstr(s->hostname, 255) : json_null());
    json_object_set_new(o, "os",
                        id ? json_pack("{s:o, s:o, s:o}", "id", jcstr(s->os_id, 64), "name",
                                       jcstr(s->os_name, 128), "version", jcstr(s->os_version, 64))
                           : json_null());
    json_object_set_new(o, "kernel", id && s->kernel[0] ? jcstr(s->kernel, 128) : json_null());
    json_object_set_new(o, "arch", id && s->arch[0] ? jcstr(s->arch, 32) : json_null());
    bool up = s->have & HLC_HAVE_UPTIME;
    json_object_set_new(o, "uptime_seconds", up ? json_integer(s->uptime_seconds) : json_null());
    json_object_set_new(o, "boot_time", up ? json_integer(s->boot_time) : json_null());
    json_t *cpu = json_object();
    json_object_set_new(cpu, "cores",
                        s->have & HLC_HAVE_CPU ? json_integer(s->cpu_cores) : json_null());
    json_object_set_new(cpu, "model", json_null());
    bool ld = s->have & HLC_HAVE_LOAD;
    json_object_set_new(cpu, "load", ld ? json_pack("[f, f, f]", s->load1, s->load5, s->load15)
                                        : json_null());
    json_object_set_new(o, "cpu", cpu);
    json_object_set_new(
        o, "memory",
        s->have & HLC_HAVE_MEMORY
            ? json_pack("{s:I, s:I, s:f, s:I, s:I}", "total_bytes", (json_int_t)s->mem_total,
                        "available_bytes", (json_int_t)s->mem_available, "used_percent",
                        hlc_sample_mem_percent(s), "swap_total_bytes", (json_int_t)s->swap_total,
                        "swap_free_bytes", (json_int_t)s->swap_free)
            : json_null());
    json_t *disks = json_array();
    for (size_t i = 0; i < s->nfs; i++) {
        const struct hlc_fs *f = &s->fs[i];
        json_array_append_new(
            disks, json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:f}", "mount", jcstr(f->mount, 255),
                             "device", jcstr(f->device, 127), "fstype", jcstr(f->fstype, 31),
                             "total_bytes", (json_int_t)f->total_bytes, "used_bytes",
                             (json_int_t)f->used_bytes, "avail_bytes", (json_int_t)f->avail_bytes,
                             "used_percent", hlc_fs_used_percent(f)));
    }
    json_object_set_new(o, "disks", s->have & HLC_HAVE_FS ? disks : json_null());
    if (!(s->have & HLC_HAVE_FS))
        json_decref(disks);
    if (s->have & HLC_HAVE_CONTAINERS) {
        json_t *c = json_array();
        for (size_t i = 0; i < s->ncontainers; i++)
            json_array_append_new(
                c, json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", jcstr(s->containers[i].id, 71),
                             "name", jcstr(s->containers[i].name, 127), "image",
                             jcstr(s->containers[i].image, 255), "state",
                             jcstr(s->containers[i].state, 31), "status",
                             jcstr(s->containers[i].status, 127)));
        json_object_set_new(o, "containers", c);
    } else {
        json_object_set_new(o, "containers", json_null());
    }
    return o;
}

int
hlc_scan_parse(const char *text, size_t len, json_t **out)
{
    *out = NULL;
    if (len > HLC_SCAN_MAX_OUTPUT)
        return HLC_ETOOBIG;
    if (memchr(text, '\0', len))
        return HLC_EPARSE;
    struct hlc_sample s;
    hlc_sample_init(&s);
    /* The collector's parser takes at most its own cap: a scan's extra
     * sections (packages) come after the quick ones, so the head suffices. */
    size_t qlen = len < HLC_COLLECT_MAX_OUTPUT ? len : HLC_COLLECT_MAX_OUTPUT;
    int rc = hlc_collect_parse(text, qlen, &s);
    if (rc != 0 || !(s.have & (HLC_HAVE_CPU | HLC_HAVE_MEMORY))) {
        hlc_sample_release(&s);
        return HLC_EPARSE;
    }
    json_t *o = quick_part(&s);
    bool cut = s.truncated;
    hlc_sample_release(&s);

    json_t *ifaces = NULL, *routes = NULL, *dns = NULL, *listen = NULL, *by_cpu = NULL,
           *by_mem = NULL, *pkgs = NULL, *failed = NULL;
    const char *p = text, *end = text + len;
    struct span line;
    const char *body = NULL;
    char name[16] = "";
    for (;;) {
        const char *here = p;
        bool more = next_line(&p, end, &line);
        bool header = more && line.n > 6 && line.n < 6 + sizeof(name) &&
                      memcmp(line.p, "<<<", 3) == 0 && memcmp(line.p + line.n - 3, ">>>", 3) == 0;
        if (!more || header) {
            if (body && name[0]) {
                const char *bend = more ? here : end;
                if (strcmp(name, "cpuinfo") == 0)
                    parse_cpuinfo(body, bend, json_object_get(o, "cpu"));
                else if (strcmp(name, "addr") == 0 || strcmp(name, "link") == 0) {
                    if (!ifaces)
                        ifaces = json_array();
                    (name[0] == 'a' ? parse_addr : parse_link)(body, bend, ifaces, &cut);
                } else if (strcmp(name, "route") == 0) {
                    if (!routes)
                        routes = json_array();
                    parse_route(body, bend, routes, &cut);
                } else if (strcmp(name, "dns") == 0) {
                    if (!dns)
                        dns = json_pack("{s:[], s:[]}", "nameservers", "search");
                    parse_dns(body, bend, dns, &cut);
                } else if (strcmp(name, "listen") == 0) {
                    if (!listen)
                        listen = json_array();
                    parse_listen(body, bend, listen, &cut);
                } else if (strcmp(name, "ps_cpu") == 0 || strcmp(name, "ps_mem") == 0) {
                    json_t **l = name[3] == 'c' ? &by_cpu : &by_mem;
                    if (!*l)
                        *l = json_array();
                    parse_ps(body, bend, *l, &cut);
                } else if (strcmp(name, "dpkg") == 0 || strcmp(name, "apk") == 0 ||
                           strcmp(name, "rpm") == 0 || strcmp(name, "opkg") == 0) {
                    parse_packages(name, body, bend, &pkgs, &cut);
                } else if (strcmp(name, "failed") == 0) {
                    if (!failed)
                        failed = json_array();
                    parse_failed(body, bend, failed, &cut);
                }
            }
            if (!more)
                break;
            memcpy(name, line.p + 3, line.n - 6);
            name[line.n - 6] = '\0';
            body = p;
        }
    }
    json_t *net = ifaces || routes || dns
                      ? json_pack("{s:o, s:o, s:o}", "interfaces", ifaces ? ifaces : json_null(),
                                  "routes", routes ? routes : json_null(), "dns",
                                  dns ? dns : json_null())
                      : json_null();
    json_object_set_new(o, "network", net);
    json_object_set_new(o, "listening", listen ? listen : json_null());
    json_object_set_new(o, "processes",
                        by_cpu || by_mem
                            ? json_pack("{s:o, s:o}", "by_cpu", by_cpu ? by_cpu : json_null(),
                                        "by_memory", by_mem ? by_mem : json_null())
                            : json_null());
    json_object_set_new(o, "packages", pkgs ? pkgs : json_null());
    json_object_set_new(o, "failed_units", failed ? failed : json_null());
    json_object_set_new(o, "truncated", json_boolean(cut));
    *out = o;
    return 0;
}

/* ---- compare ------------------------------------------------------------- */

static int
by_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
    return strcmp(x ? x : "", y ? y : "");
}

/* The list's packages sorted by name (borrowed references). */
static json_t **
sorted_packages(json_t *list, size_t *n)
{
    *n = json_array_size(list);
    json_t **v = hlc_xcalloc(*n ? *n : 1, sizeof(*v));
    for (size_t i = 0; i < *n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, *n, sizeof(*v), by_name);
    return v;
}

static json_t *
compare_packages(json_t *a, json_t *b)
{
    json_t *la = json_object_get(a, "list"), *lb = json_object_get(b, "list");
    if (!json_is_array(la) || !json_is_array(lb))
        return json_null();
    size_t na, nb;
    json_t **va = sorted_packages(la, &na), **vb = sorted_packages(lb, &nb);
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : by_name(&va[i], &vb[j]);
        if (c < 0) {
            json_array_append(removed, va[i++]);
        } else if (c > 0) {
            json_array_append(added, vb[j++]);
        } else {
            json_t *fa = json_object_get(va[i], "version"), *fb = json_object_get(vb[j], "version");
            if (!json_equal(fa, fb))
                json_array_append_new(changed, json_pack("{s:O, s:O, s:O}", "name",
                                                         json_object_get(va[i], "name"), "from",
                                                         fa, "to", fb));
            i++;
            j++;
        }
    }
    free(va);
    free(vb);
    return json_pack("{s:o, s:o, s:o}", "added", added, "removed", removed, "changed", changed);
}

static json_t *
disk_of(json_t *disks, const char *mount)
{
    size_t i;
    json_t *d;
    json_array_foreach(disks, i, d)
    {
        const char *m = json_string_value(json_object_get(d, "mount"));
        if (m && strcmp(m, mount) == 0)
            return d;
    }
    return NULL;
}

static json_t *
num_or_null(json_t *d, const char *key)
{
    json_t *v = d ? json_object_get(d, key) : NULL;
    return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static void
disk_row(json_t *out, const char *mount, json_t *da, json_t *db)
{
    json_t *ua = num_or_null(da, "used_bytes"), *ub = num_or_null(db, "used_bytes");
    json_t *growth = json_is_integer(ua) && json_is_integer(ub)
                         ? json_integer(json_integer_value(ub) - json_integer_value(ua))
                         : json_null();
    json_array_append_new(out, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "mount", mount,
                                         "used_bytes_before", ua, "used_bytes_after", ub,
                                         "growth_bytes", growth, "total_bytes_before",
                                         num_or_null(da, "total_bytes"), "total_bytes_after",
                                         num_or_null(db, "total_bytes")));
}

static json_t *
compare_disks(json_t *a, json_t *b)
{
    json_t *out = json_array(), *da = json_object_get(a, "disks"), *db = json_object_get(b, "disks");
    size_t i;
    json_t *d;
    json_array_foreach(da, i, d)
    {
        const char *m = json_string_value(json_object_get(d, "mount"));
        if (m)
            disk_row(out, m, d, disk_of(db, m));
    }
    json_array_foreach(db, i, d)
    {
        const char *m = json_string_value(json_object_get(d, "mount"));
        if (m && !disk_of(da, m))
            disk_row(out, m, NULL, d);
    }
    return out;
}

static json_t *
change(json_t *before, json_t *after)
{
    bool none = (!before || json_is_null(before)) && (!after || json_is_null(after));
    return json_pack("{s:O, s:O, s:b}", "before", before ? before : json_null(), "after",
                     after ? after : json_null(), "changed",
                     !none && !(before && after && json_equal(before, after)));
}

json_t *
hlc_scan_compare(json_t *a, json_t *b)
{
    json_t *ma = json_object_get(a, "memory"), *mb = json_object_get(b, "memory");
    json_t *oa = json_object_get(a, "os"), *ob = json_object_get(b, "os");
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "packages",
                     compare_packages(json_object_get(a, "packages"),
                                      json_object_get(b, "packages")),
                     "disks", compare_disks(a, b), "memory",
                     change(json_object_get(ma, "total_bytes"), json_object_get(mb, "total_bytes")),
                     "kernel", change(json_object_get(a, "kernel"), json_object_get(b, "kernel")),
                     "os", change(json_object_get(oa, "name"), json_object_get(ob, "name")));
}
