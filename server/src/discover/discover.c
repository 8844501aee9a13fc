/* discover.c - probing one subnet: echo requests on one unprivileged ICMP
 * socket and non-blocking TCP connects, all driven by one poll() loop in the
 * calling thread; then the neighbour table, the OUI registry and reverse DNS
 * (a few detached threads, abandoned at the deadline). */
#include "discover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks.h"
#include "hlc/base.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define MAX_OPEN 256     /* TCP sockets open at once */
#define CONNECT_MS 400   /* a LAN host answers a SYN in well under this */
#define BANNER_MS 1000   /* for the SSH identification line after connect */
#define ECHO_GAP_MS 300  /* between the two rounds of echo requests */
#define ECHO_WAIT_MS 500 /* for replies after the last round */
#define RDNS_THREADS 8   /* lookup threads per discovery */
#define RDNS_MAX_LIVE 32 /* in all: abandoned lookups may hang for the resolver's timeouts */
#define ARP_CAP (1024 * 1024)
#define OUI_MAX_LINES 500000 /* oui.txt (2022) has ~33 000 "(hex)" lines among ~195 000 */

static const uint16_t ports_icmp[] = {22};
static const uint16_t ports_tcp[] = {22, 80, 443, 8080};

struct slot {
    uint32_t ip;
    bool live, ssh;
    char banner[HLC_DISCOVER_BANNER_MAX + 1];
};

struct conn {
    int fd;      /* -1 = free */
    size_t addr; /* index into the slots */
    uint16_t port;
    bool reading;     /* connected to 22, waiting for the banner */
    int64_t deadline; /* monotonic ms */
    size_t len;
    char buf[HLC_DISCOVER_BANNER_MAX + 2];
};

void
hlc_discover_result_release(struct hlc_discover_result *r)
{
    if (!r)
        return;
    free(r->hosts);
    memset(r, 0, sizeof(*r));
}

static void
conn_close(struct conn *c, size_t *nopen)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        (*nopen)--;
    }
}

/* Starts a non-blocking connect; 0 started, 1 finished at once (done with
 * *err), -1 no socket (EMFILE and the like: try again later). */
static int
conn_start(struct conn *c, uint32_t ip, uint16_t port, int *err)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        c->fd = fd;
        *err = 0;
        return 1;
    }
    if (errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return 1;
    }
    c->fd = fd;
    return 0;
}

/* What a finished connect says about the host: an accept or a reset means
 * something is there; unreachable or silence means nothing answered. */
static bool
answered(int err)
{
    return err == 0 || err == ECONNREFUSED;
}

/* Echo requests to addresses that are not there wait in the neighbour
 * table's queue until ARP gives up (about 3 s), and count against the
 * socket's send buffer meanwhile: a /22's worth needs ~1 MB. The forced size
 * works for a hub with CAP_NET_ADMIN, else the sysctl's wmem_max caps it. */
static int
icmp_open(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    int sz = 4 << 20;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    return fd;
}

/* Sends echo requests from *cursor on; false when the socket is full. */
static bool
icmp_send(int fd, struct slot *slots, size_t n, size_t *cursor)
{
    for (; *cursor < n; (*cursor)++) {
        if (slots[*cursor].live)
            continue;
        /* The sequence number is the slot (a /22 has 1022 < 65536). */
        unsigned char pkt[24];
        size_t len = hlc_check_echo_request(pkt, false, (uint16_t)*cursor, "HomelabCmd disc");
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(slots[*cursor].ip)};
        if (sendto(fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
            (errno == EAGAIN || errno == ENOBUFS))
            return false;
        /* Other errors (no route, unreachable) mean no reply will come. */
    }
    return true;
}

static void
icmp_read(int fd, struct slot *slots, size_t n, uint32_t first)
{
    for (;;) {
        unsigned char in[128];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t got = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            continue; /* an ICMP error queued for one of our echoes */
        }
        if (got < 8 || fl < sizeof(from))
            continue;
        uint32_t ip = ntohl(from.sin_addr.s_addr);
        size_t idx = ((size_t)in[6] << 8) | in[7];
        if (!hlc_check_echo_reply(in, (size_t)got, false, (uint16_t)idx))
            continue;
        /* The reply must come from the address that echo went to. */
        if (ip >= first && ip - first < n && idx < n && slots[idx].ip == ip)
            slots[idx].live = true;
    }
}

/* The sweep: every address x port connect and the echo rounds, until all
 * are done or the deadline. Returns false when the deadline cut it short. */
static bool
sweep(struct slot *slots, size_t n, bool icmp, int64_t deadline)
{
    const uint16_t *ports = icmp ? ports_icmp : ports_tcp;
    size_t nports = icmp ? sizeof(ports_icmp) / sizeof(ports_icmp[0])
                         : sizeof(ports_tcp) / sizeof(ports_tcp[0]);
    struct conn *conns = hlc_xcalloc(MAX_OPEN, sizeof(*conns));
    struct pollfd *pfd = hlc_xcalloc(MAX_OPEN + 1, sizeof(*pfd));
    for (size_t i = 0; i < MAX_OPEN; i++)
        conns[i].fd = -1;
    size_t job = 0, njobs = n * nports, nopen = 0;
    int ifd = icmp ? icmp_open() : -1;
    int rounds = ifd >= 0 ? 0 : 2;
    size_t cursor = 0;
    int64_t next_round = hlc_mono_ms(), echo_until = 0;
    bool complete = false, starved = false;
    for (;;) {
        int64_t now = hlc_mono_ms();
        if (now >= deadline)
            break;
        /* Echo rounds. */
        if (rounds < 2 && now >= next_round) {
            /* The second round is a retry for lost replies: when the
             * buffer is full it is cut short rather than waited for. */
            if (icmp_send(ifd, slots, n, &cursor) || rounds == 1) {
                rounds++;
                cursor = 0;
                next_round = now + ECHO_GAP_MS;
                echo_until = now + ECHO_WAIT_MS;
            }
        }
        /* New connects while there is room. */
        while (job < njobs && nopen < MAX_OPEN) {
            size_t a = job % n;
            uint16_t port = ports[job / n];
            if (port != 22 && slots[a].live) { /* found already; 22 always asks for ssh */
                job++;
                continue;
            }
            struct conn *c = NULL;
            for (size_t i = 0; i < MAX_OPEN && !c; i++)
                if (conns[i].fd < 0)
                    c = &conns[i];
            int err = 0;
            int st = conn_start(c, slots[a].ip, port, &err);
            if (st < 0)
                break; /* out of descriptors: wait for some to close */
            job++;
            c->addr = a;
            c->port = port;
            c->reading = false;
            c->len = 0;
            c->deadline = now + CONNECT_MS;
            if (st == 0) {
                nopen++;
                continue;
            }
            if (answered(err))
                slots[a].live = true;
            if (c->fd >= 0) { /* connected at once (never on a real link) */
                close(c->fd);
                c->fd = -1;
                slots[a].ssh |= port == 22;
            }
        }
        if (nopen == 0 && job < njobs) {
            /* Not one descriptor to be had: the connects are given up. */
            job = njobs;
            starved = true;
        }
        bool echo_done = rounds >= 2 && now >= echo_until;
        if (job >= njobs && nopen == 0 && (ifd < 0 || echo_done)) {
            complete = !starved;
            break;
        }
        /* Wait for the next event. */
        size_t np = 0;
        int64_t wake = deadline;
        if (ifd >= 0) {
            pfd[np++] = (struct pollfd){.fd = ifd, .events = POLLIN};
            if (rounds < 2 && next_round < wake)
                wake = next_round;
            if (rounds >= 2 && !echo_done && echo_until < wake)
                wake = echo_until;
        }
        size_t map[MAX_OPEN];
        for (size_t i = 0; i < MAX_OPEN; i++) {
            if (conns[i].fd < 0)
                continue;
            map[np - (ifd >= 0)] = i;
            pfd[np++] =
                (struct pollfd){.fd = conns[i].fd, .events = conns[i].reading ? POLLIN : POLLOUT};
            if (conns[i].deadline < wake)
                wake = conns[i].deadline;
        }
        int64_t wait = wake - now;
        int pr = poll(pfd, np, wait > 0 ? (int)wait : 0);
        if (pr < 0 && errno != EINTR)
            break;
        now = hlc_mono_ms();
        size_t base = 0;
        if (ifd >= 0) {
            if (pfd[0].revents)
                icmp_read(ifd, slots, n, slots[0].ip);
            base = 1;
        }
        for (size_t k = base; k < np; k++) {
            struct conn *c = &conns[map[k - base]];
            struct slot *s = &slots[c->addr];
            if (!pfd[k].revents) {
                if (now >= c->deadline)
                    conn_close(c, &nopen); /* silence: no answer from this port */
                continue;
            }
            if (!c->reading) {
                int err = 0;
                socklen_t sl = sizeof(err);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
                    err = errno;
                if (answered(err))
                    s->live = true;
                if (err == 0 && c->port == 22) {
                    s->ssh = true;
                    c->reading = true;
                    c->deadline = now + BANNER_MS;
                    continue;
                }
                conn_close(c, &nopen);
                continue;
            }
            ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got > 0)
                c->len += (size_t)got;
            int b = hlc_discover_ssh_banner(c->buf, c->len, s->banner);
            if (got <= 0 || b != 1 || c->len == sizeof(c->buf)) {
                if (b != 0)
                    s->banner[0] = '\0';
                conn_close(c, &nopen);
            }
        }
    }
    for (size_t i = 0; i < MAX_OPEN; i++)
        conn_close(&conns[i], &nopen);
    if (ifd >= 0)
        close(ifd);
    free(pfd);
    free(conns);
    return complete;
}

/* ---- the neighbour table and the OUI registry ------------------------- */

static int
by_ip(const void *a, const void *b)
{
    uint32_t x = ((const struct hlc_discover_host *)a)->ip;
    uint32_t y = ((const struct hlc_discover_host *)b)->ip;
    return x < y ? -1 : x > y;
}

static void
fill_macs(const char *path, struct hlc_discover_host *h, size_t n)
{
    FILE *f = fopen(path ? path : "/proc/net/arp", "re");
    if (!f)
        return;
    char line[256];
    size_t total = 0;
    while (fgets(line, sizeof(line), f) && total < ARP_CAP) {
        size_t len = strlen(line);
        total += len;
        uint32_t ip;
        char mac[18];
        if (hlc_discover_arp_line(line, len, &ip, mac) != 0)
            continue;
        struct hlc_discover_host key = {.ip = ip};
        struct hlc_discover_host *m = bsearch(&key, h, n, sizeof(*h), by_ip);
        if (m)
            memcpy(m->mac, mac, sizeof(m->mac));
    }
    fclose(f);
}

static void
fill_vendors(const char *path, struct hlc_discover_host *h, size_t n)
{
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += h[i].mac[0] != '\0';
    if (!want)
        return;
    FILE *f = fopen(path ? path : "/usr/share/ieee-data/oui.txt", "re");
    if (!f)
        return;
    char line[512], prefix[7], vendor[HLC_DISCOVER_VENDOR_MAX + 1];
    for (size_t lines = 0; want && lines < OUI_MAX_LINES && fgets(line, sizeof(line), f); lines++) {
        if (hlc_discover_oui_line(line, strlen(line), prefix, vendor) != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            const char *m = h[i].mac;
            if (!m[0] || h[i].vendor[0])
                continue;
            char p[7] = {m[0], m[1], m[3], m[4], m[6], m[7], '\0'};
            for (int k = 0; k < 6; k++)
                if (p[k] >= 'a' && p[k] <= 'f')
                    p[k] = (char)(p[k] - 'a' + 'A');
            if (memcmp(p, prefix, 6) == 0) {
                snprintf(h[i].vendor, sizeof(h[i].vendor), "%s", vendor);
                want--;
            }
        }
    }
    fclose(f);
}

/* ---- reverse DNS -------------------------------------------------------- */

/* Lookup threads alive, abandoned ones included: a resolver that hangs
 * cannot make repeated discoveries pile threads up without bound. */
static atomic_int rdns_live;

/* Shared by the caller and the lookup threads; the last one out frees it,
 * so a lookup still running after the deadline writes into live memory. */
struct rdns {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool abandoned; /* the caller left: take no new lookups */
    size_t n, next, done;
    uint32_t *ips;
    char (*names)[254];
};

static void
rdns_unref(struct rdns *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j->ips);
    free(j->names);
    free(j);
}

static void *
rdns_main(void *arg)
{
    struct rdns *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->abandoned && j->next < j->n) {
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(j->ips[i])};
        char host[NI_MAXHOST];
        int g = getnameinfo((struct sockaddr *)&sa, sizeof(sa), host, sizeof(host), NULL, 0,
                            NI_NAMEREQD);
        pthread_mutex_lock(&j->mu);
        if (g == 0 && strlen(host) < sizeof(j->names[0]) && hlc_valid_printable(host))
            memcpy(j->names[i], host, strlen(host) + 1);
        j->done++;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    rdns_unref(j);
    atomic_fetch_sub(&rdns_live, 1);
    return NULL;
}

/* Names what it can by the deadline; false when it had to give up. */
static bool
fill_names(struct hlc_discover_host *h, size_t n, int64_t deadline)
{
    if (!n)
        return true;
    struct rdns *j = hlc_xcalloc(1, sizeof(*j));
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->n = n;
    j->refs = 1;
    j->ips = hlc_xcalloc(n, sizeof(*j->ips));
    j->names = hlc_xcalloc(n, sizeof(*j->names));
    for (size_t i = 0; i < n; i++)
        j->ips[i] = h[i].ip;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    for (size_t t = 0; t < RDNS_THREADS && t < n; t++) {
        pthread_t tid;
        if (atomic_fetch_add(&rdns_live, 1) >= RDNS_MAX_LIVE) {
            atomic_fetch_sub(&rdns_live, 1);
            break; /* no names this time */
        }
        pthread_mutex_lock(&j->mu);
        j->refs++;
        pthread_mutex_unlock(&j->mu);
        if (pthread_create(&tid, &at, rdns_main, j) != 0) {
            atomic_fetch_sub(&rdns_live, 1);
            pthread_mutex_lock(&j->mu);
            j->refs--;
            pthread_mutex_unlock(&j->mu);
            break;
        }
    }
    pthread_attr_destroy(&at);
    pthread_mutex_lock(&j->mu);
    bool threads = j->refs > 1;
    while (threads && j->done < j->n) {
        int64_t left = deadline - hlc_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        hlc_abstime_in(left, &ts);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    bool all = j->done == j->n;
    j->abandoned = true;
    for (size_t i = 0; i < n; i++)
        memcpy(h[i].hostname, j->names[i], sizeof(h[i].hostname));
    pthread_mutex_unlock(&j->mu);
    rdns_unref(j);
    return all;
}

/* ---- the run ------------------------------------------------------------ */

int
hlc_discover_probe(const struct hlc_discover_cfg *cfg, struct hlc_discover_result *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg->prefix < HLC_DISCOVER_MIN_PREFIX || cfg->prefix > 32 || cfg->time_limit_ms < 100)
        return HLC_EINVAL;
    int64_t t0 = hlc_mono_ms();
    uint64_t size = 1ull << (32 - cfg->prefix);
    uint32_t first = cfg->net, n = (uint32_t)size;
    if (cfg->prefix <= 30) { /* not the network and broadcast addresses */
        first++;
        n -= 2;
    }
    struct slot *slots = hlc_xcalloc(n, sizeof(*slots));
    for (uint32_t i = 0; i < n; i++)
        slots[i].ip = first + i;
    /* Two thirds of the time for probing; the rest for the lookups. */
    bool complete = sweep(slots, n, cfg->icmp, t0 + cfg->time_limit_ms * 2 / 3);
    size_t live = 0;
    for (uint32_t i = 0; i < n; i++)
        live += slots[i].live;
    out->hosts = hlc_xcalloc(live ? live : 1, sizeof(*out->hosts));
    for (uint32_t i = 0; i < n; i++) {
        if (!slots[i].live)
            continue;
        struct hlc_discover_host *h = &out->hosts[out->nhosts++];
        h->ip = slots[i].ip;
        struct in_addr ia = {.s_addr = htonl(h->ip)};
        inet_ntop(AF_INET, &ia, h->ip_text, sizeof(h->ip_text));
        h->ssh = slots[i].ssh;
        memcpy(h->ssh_banner, slots[i].banner, sizeof(h->ssh_banner));
    }
    free(slots);
    out->probed = n;
    fill_macs(cfg->arp_path, out->hosts, out->nhosts);
    fill_vendors(cfg->oui_path, out->hosts, out->nhosts);
    if (cfg->resolve && !fill_names(out->hosts, out->nhosts, t0 + cfg->time_limit_ms))
        complete = false;
    out->timed_out = !complete;
    out->duration_ms = hlc_mono_ms() - t0;
    return 0;
}

/* ---- the API's answer ---------------------------------------------------- */

static const char *
registered(json_t *machines, const char *ip)
{
    size_t i;
    json_t *m;
    static const char *const keys[] = {"ip_address", "hostname", "tailscale_ip"};
    json_array_foreach(machines, i, m)
    {
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const char *v = json_string_value(json_object_get(m, keys[k]));
            if (v && strcmp(v, ip) == 0)
                return json_string_value(json_object_get(m, "server_id"));
        }
    }
    return NULL;
}

static json_t *
str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* One discovery at a time: each holds up to MAX_OPEN sockets and floods
 * the neighbour table; a second one waits for nothing and is refused. */
static pthread_mutex_t running = PTHREAD_MUTEX_INITIALIZER;

int
hlc_discover_network(struct hlc_hub *hub, uint32_t net, int prefix, json_t **out)
{
    *out = NULL;
    if (pthread_mutex_trylock(&running) != 0)
        return HLC_EBUSY;
    struct hlc_discover_cfg cfg = {
        .net = net,
        .prefix = prefix,
        .time_limit_ms = 3000,
        .icmp = hlc_check_ping_allowed(),
        .resolve = true,
    };
    struct hlc_discover_result res;
    json_t *machines = NULL;
    int rc = hlc_discover_probe(&cfg, &res);
    if (rc == 0)
        rc = hlc_store_machine_list(hub->store, &machines);
    if (rc != 0)
        goto out;
    json_t *hosts = json_array();
    for (size_t i = 0; i < res.nhosts; i++) {
        const struct hlc_discover_host *h = &res.hosts[i];
        const char *reg = registered(machines, h->ip_text);
        json_array_append_new(
            hosts, json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o}", "ip", h->ip_text, "mac",
                             str_or_null(h->mac), "vendor", str_or_null(h->vendor), "hostname",
                             str_or_null(h->hostname), "ssh", h->ssh, "ssh_banner",
                             str_or_null(h->ssh_banner), "registered_as", str_or_null(reg)));
    }
    struct in_addr ia = {.s_addr = htonl(net)};
    char addr[16], subnet[20];
    inet_ntop(AF_INET, &ia, addr, sizeof(addr));
    snprintf(subnet, sizeof(subnet), "%s/%d", addr, prefix);
    *out = json_pack("{s:s, s:o, s:I, s:s, s:I, s:b}", "subnet", subnet, "hosts", hosts,
                     "duration_ms", (json_int_t)res.duration_ms, "probe", cfg.icmp ? "icmp" : "tcp",
                     "probed", (json_int_t)res.probed, "timed_out", res.timed_out);
out:
    pthread_mutex_unlock(&running);
    json_decref(machines);
    hlc_discover_result_release(&res);
    return rc;
}
