/* checks_probe.c - probes run from the hub itself: HTTP(S) with libcurl
 * (the leaf certificate's expiry from CURLINFO_CERTINFO), a TCP connect
 * with a deadline, and a DNS query over UDP to the given resolver. */
#include "checks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hlc/base.h"

void
hlc_probe_out_release(struct hlc_probe_out *po)
{
    free((void *)po->body);
    po->body = NULL;
    po->body_len = 0;
}

/* ---- HTTP(S) --------------------------------------------------------- */

static size_t
body_sink(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct hlc_buf *b = ud;
    size_t n = size * nmemb;
    size_t room = b->cap - b->len;
    /* Past the cap the rest is read and dropped: the keyword is looked for
     * in the first HLC_CHECK_BODY_CAP bytes, and the timeout bounds it. */
    hlc_buf_append(b, ptr, n < room ? n : room);
    return n;
}

/* Days left on the first certificate of the chain curl saw, NaN when none. */
static double
cert_days_left(CURL *h)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return NAN;
    for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
        static const char key[] = "Expire date:";
        if (strncmp(s->data, key, sizeof(key) - 1) != 0)
            continue;
        /* OpenSSL's form: "Mar  2 12:00:00 2027 GMT"; curl_getdate reads it. */
        time_t t = curl_getdate(s->data + sizeof(key) - 1, NULL);
        if (t == -1)
            return NAN;
        return ((double)t - (double)hlc_now()) / 86400.0;
    }
    return NAN;
}

static void
probe_http(const struct hlc_check_spec *sp, struct hlc_probe_out *po)
{
    struct hlc_buf body;
    hlc_buf_init(&body, HLC_CHECK_BODY_CAP);
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(po->error, sizeof(po->error), "could not start an HTTP client");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, sp->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, sp->follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)sp->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, sp->verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, sp->verify_tls ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "HomelabCmd-check/1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    if (strcmp(sp->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t us = 0;
    if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
        po->time_s = (double)us / 1e6;
    po->cert_days = cert_days_left(h);
    po->rc = (int)rc;
    if (rc != CURLE_OK) {
        snprintf(po->error, sizeof(po->error), "%.190s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        po->time_s = NAN;
    } else {
        po->code = code >= 100 && code < 1000 ? (int)code : -1;
    }
out:
    po->body_len = body.len;
    po->body = hlc_buf_steal(&body);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- TCP --------------------------------------------------------------- */

/* Connects a non-blocking socket of ai within the time left; 0 or an errno. */
static int
connect_one(const struct addrinfo *ai, int64_t deadline_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int64_t left = deadline_ms - hlc_mono_ms();
            int n = left > 0 ? poll(&p, 1, (int)left) : 0;
            socklen_t sl = sizeof(err);
            if (n == 0)
                err = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
                err = errno;
        }
    }
    close(fd);
    return err;
}

static void
probe_tcp(const struct hlc_check_spec *sp, struct hlc_probe_out *po)
{
    int64_t t0 = hlc_mono_ms(), deadline = t0 + sp->timeout_ms;
    char port[8];
    snprintf(port, sizeof(port), "%d", sp->port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res = NULL;
    int g = getaddrinfo(sp->host, port, &hints, &res);
    if (g != 0) {
        snprintf(po->error, sizeof(po->error), "cannot resolve %.120s: %s", sp->host,
                 gai_strerror(g));
        return;
    }
    int err = ENOENT;
    for (struct addrinfo *ai = res; ai && err; ai = ai->ai_next)
        err = connect_one(ai, deadline);
    freeaddrinfo(res);
    po->rc = err ? 1 : 0;
    if (err)
        snprintf(po->error, sizeof(po->error), "could not connect to %.120s:%d: %s", sp->host,
                 sp->port, strerror(err));
    else
        po->time_s = (double)(hlc_mono_ms() - t0) / 1000.0;
}

/* ---- ping ---------------------------------------------------------------- */

bool
hlc_check_ping_allowed(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

size_t
hlc_check_echo_request(unsigned char pkt[24], bool v6, uint16_t seq, const char *tag)
{
    size_t t = strnlen(tag, 16);
    memset(pkt, 0, 24);
    pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    memcpy(pkt + 8, tag, t);
    return 8 + t;
}

bool
hlc_check_echo_reply(const unsigned char *in, size_t n, bool v6, uint16_t seq)
{
    return n >= 8 && in[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) &&
           ((unsigned)in[6] << 8 | in[7]) == seq;
}

/* One echo over an unprivileged ICMP socket: the kernel sets the identifier
 * and the checksum and hands back only replies to this socket. */
static void
probe_ping(const struct hlc_check_spec *sp, struct hlc_probe_out *po)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    int g = getaddrinfo(sp->host, NULL, &hints, &res);
    if (g != 0) {
        snprintf(po->error, sizeof(po->error), "cannot resolve %.120s: %s", sp->host,
                 gai_strerror(g));
        return;
    }
    bool v6 = res->ai_family == AF_INET6;
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    uint16_t seq = (uint16_t)hlc_mono_ns();
    unsigned char pkt[24];
    size_t plen = hlc_check_echo_request(pkt, v6, seq, "HomelabCmd check");
    int64_t t0 = hlc_mono_ns(), deadline = hlc_mono_ms() + sp->timeout_ms;
    if (fd < 0) {
        snprintf(po->error, sizeof(po->error),
                 "the hub may not send ICMP echo (net.ipv4.ping_group_range): %s",
                 strerror(errno));
        goto out;
    }
    if (sendto(fd, pkt, plen, 0, res->ai_addr, res->ai_addrlen) < 0) {
        snprintf(po->error, sizeof(po->error), "cannot ping %.120s: %s", sp->host,
                 strerror(errno));
        goto out;
    }
    for (;;) {
        int64_t left = deadline - hlc_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            po->rc = 1;
            break;
        }
        unsigned char in[256];
        ssize_t n = recv(fd, in, sizeof(in), 0);
        if (n < 0) { /* an ICMP error for our echo (host unreachable) */
            snprintf(po->error, sizeof(po->error), "no echo reply from %.120s: %s", sp->host,
                     strerror(errno));
            break;
        }
        if (hlc_check_echo_reply(in, (size_t)n, v6, seq)) {
            po->rc = 0;
            po->time_s = (double)(hlc_mono_ns() - t0) / 1e9;
            break;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
}

/* ---- DNS --------------------------------------------------------------- */

/* Through the system's resolver (no resolver named): getaddrinfo. */
static void
dns_system(const struct hlc_check_spec *sp, int family, struct hlc_probe_out *po)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int64_t t0 = hlc_mono_ms();
    int g = getaddrinfo(sp->query, NULL, &hints, &res);
    po->time_s = (double)(hlc_mono_ms() - t0) / 1000.0;
    if (g != 0) {
        po->rc = 1;
        po->rcode = g == EAI_NONAME ? 3 : -1;
        if (po->rcode < 0)
            snprintf(po->error, sizeof(po->error), "the system resolver failed: %s",
                     gai_strerror(g));
        return;
    }
    for (struct addrinfo *ai = res; ai && po->naddrs < HLC_CHECK_MAX_ADDRS; ai = ai->ai_next) {
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        inet_ntop(ai->ai_family, a, po->addrs[po->naddrs++], sizeof(po->addrs[0]));
    }
    freeaddrinfo(res);
    po->rc = 0;
    po->rcode = 0;
}

static void
probe_dns(const struct hlc_check_spec *sp, struct hlc_probe_out *po)
{
    bool v6 = strchr(sp->expect, ':') != NULL;
    int qtype = v6 ? HLC_DNS_AAAA : HLC_DNS_A;
    snprintf(po->tool, sizeof(po->tool), "hub");
    if (!sp->resolver[0]) {
        dns_system(sp, v6 ? AF_INET6 : AF_INET, po);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, sp->resolver, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)sp->resolver_port);
        sl = sizeof(*s4);
    } else if (inet_pton(AF_INET6, sp->resolver, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)sp->resolver_port);
        sl = sizeof(*s6);
    } else {
        snprintf(po->error, sizeof(po->error), "resolver is not an IP address");
        return;
    }
    uint16_t id = 0;
    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        id = (uint16_t)hlc_mono_ns();
    uint8_t q[300], a[1500];
    size_t qlen;
    if (hlc_dns_query_build(q, sizeof(q), id, sp->query, qtype, &qlen) != 0) {
        snprintf(po->error, sizeof(po->error), "cannot ask for that name");
        return;
    }
    int64_t t0 = hlc_mono_ms(), deadline = t0 + sp->timeout_ms;
    /* A connected socket: the kernel drops datagrams from anyone but the
     * resolver, and an ICMP port-unreachable comes back as ECONNREFUSED. */
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) != 0 || send(fd, q, qlen, 0) < 0) {
        snprintf(po->error, sizeof(po->error), "cannot reach the resolver %.60s: %s",
                 sp->resolver, strerror(errno));
        goto out;
    }
    for (;;) {
        int64_t left = deadline - hlc_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (n <= 0) {
            snprintf(po->error, sizeof(po->error), "no reply from the resolver %.60s:%d",
                     sp->resolver, sp->resolver_port);
            goto out;
        }
        ssize_t got = recv(fd, a, sizeof(a), 0);
        if (got < 0) {
            snprintf(po->error, sizeof(po->error), "no reply from the resolver %.60s:%d: %s",
                     sp->resolver, sp->resolver_port, strerror(errno));
            goto out;
        }
        /* A datagram that is not the answer to this id is ignored (a late
         * answer to an earlier query); keep waiting for ours. */
        if (hlc_dns_answer_parse(a, (size_t)got, id, qtype, po) == 0)
            break;
    }
    po->rc = 0;
    po->time_s = (double)(hlc_mono_ms() - t0) / 1000.0;
out:
    if (fd >= 0)
        close(fd);
}

void
hlc_check_probe_hub(const struct hlc_check_spec *sp, struct hlc_probe_out *po,
                    double *elapsed_ms)
{
    hlc_probe_out_init(po);
    int64_t t0 = hlc_mono_ns();
    switch (sp->type) {
    case HLC_CHECK_HTTP:
        probe_http(sp, po);
        break;
    case HLC_CHECK_TCP:
        probe_tcp(sp, po);
        break;
    case HLC_CHECK_DNS:
        probe_dns(sp, po);
        break;
    case HLC_CHECK_PING:
        probe_ping(sp, po);
        break;
    }
    *elapsed_ms = (double)(hlc_mono_ns() - t0) / 1e6;
}
