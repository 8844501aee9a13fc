/* probe.c - a connection test that runs the steps of an SSH contact one by
 * one (resolve, TCP connect, host key, authentication, a trivial exec) and
 * times each, so an operator sees which one fails. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "hlc/base.h"
#include "poller_internal.h"

const char *
hlc_probe_step_name(int step)
{
    static const char *const names[HLC_PROBE_NSTEPS] = {"resolve", "connect", "host_key", "auth",
                                                        "exec"};
    return step >= 0 && step < HLC_PROBE_NSTEPS ? names[step] : "?";
}

/* Starts step i; returns its start time. */
static int64_t
begin(struct hlc_probe_result *res, int i)
{
    res->step[i].ran = true;
    return hlc_mono_ms();
}

static int
finish(struct hlc_probe_result *res, int i, int64_t t0, int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
finish(struct hlc_probe_result *res, int i, int64_t t0, int err, const char *fmt, ...)
{
    res->step[i].ms = hlc_mono_ms() - t0;
    res->step[i].ok = err == 0;
    res->step[i].err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->step[i].detail, sizeof(res->step[i].detail), fmt, ap);
    va_end(ap);
    return err;
}

/* A non-blocking connect to one address, waited for at most timeout_ms:
 * the connected socket (blocking again), or -1 with *err set. */
static int
tcp_connect(const struct addrinfo *ai, int timeout_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *err = HLC_EIO;
        return -1;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    int e = rc == 0 ? 0 : errno;
    if (rc != 0 && e == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, timeout_ms);
        socklen_t len = sizeof(e);
        if (n == 0)
            e = ETIMEDOUT;
        else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = errno ? errno : EIO;
    }
    if (e != 0) {
        close(fd);
        *err = e == ECONNREFUSED ? HLC_ESSH_CONNECT
               : e == ETIMEDOUT  ? HLC_ETIMEOUT
               : (e == ENETUNREACH || e == EHOSTUNREACH) ? HLC_ESSH_NOROUTE
                                                          : HLC_ESSH_CONNECT;
        errno = e;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *err = 0;
    return fd;
}

static void
addr_text(const struct addrinfo *ai, char *out, size_t n)
{
    const void *a = ai->ai_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
    if (!inet_ntop(ai->ai_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}

int
hlc_ssh_probe(const struct hlc_ssh_target *t, int timeout_ms, struct hlc_probe_result *res)
{
    memset(res, 0, sizeof(*res));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *ai = NULL;
    ssh_session ssh = NULL;
    ssh_key priv = NULL;
    ssh_channel ch = NULL;
    char *fp = NULL, port[8], addr[64] = "";
    int fd = -1, err = 0;
    snprintf(port, sizeof(port), "%d", t->port);

    int64_t t0 = begin(res, HLC_PROBE_RESOLVE);
    int g = getaddrinfo(t->host, port, &hints, &ai);
    if (g != 0 || !ai) {
        err = finish(res, HLC_PROBE_RESOLVE, t0, HLC_ESSH_NOROUTE, "%s does not resolve: %s",
                     t->host, gai_strerror(g));
        goto out;
    }
    addr_text(ai, addr, sizeof(addr));
    finish(res, HLC_PROBE_RESOLVE, t0, 0, "%s is %s", t->host, addr);

    t0 = begin(res, HLC_PROBE_CONNECT);
    int cerr = HLC_ESSH_CONNECT, sys = 0;
    for (const struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = tcp_connect(a, timeout_ms, &cerr);
        sys = errno;
        if (fd >= 0)
            addr_text(a, addr, sizeof(addr));
    }
    if (fd < 0) {
        err = finish(res, HLC_PROBE_CONNECT, t0, cerr, "TCP connect to port %d failed: %s",
                     t->port, strerror(sys));
        goto out;
    }
    finish(res, HLC_PROBE_CONNECT, t0, 0, "connected to %s port %d", addr, t->port);

    t0 = begin(res, HLC_PROBE_HOSTKEY);
    ssh = sshpool_session_new(t, timeout_ms);
    ssh_options_set(ssh, SSH_OPTIONS_FD, &fd); /* the session owns it from here */
    fd = -1;
    if (ssh_connect(ssh) != SSH_OK) {
        err = finish(res, HLC_PROBE_HOSTKEY, t0, HLC_ESSH_CONNECT, "SSH handshake failed: %s",
                     ssh_get_error(ssh));
        goto out;
    }
    if (!(fp = sshpool_fingerprint(ssh))) {
        err = finish(res, HLC_PROBE_HOSTKEY, t0, HLC_ESSH_CONNECT, "no host key was presented");
        goto out;
    }
    snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", fp);
    if (!t->pinned) {
        res->host_key = "new";
    } else if (strcmp(t->pinned, fp) == 0) {
        res->host_key = "pinned";
    } else {
        res->host_key = "changed";
        err = finish(res, HLC_PROBE_HOSTKEY, t0, HLC_ESSH_HOSTKEY,
                     "host key %s is not the pinned %s: nothing more was tried", fp, t->pinned);
        goto out;
    }
    finish(res, HLC_PROBE_HOSTKEY, t0, 0, "%s host key %s", res->host_key, fp);

    t0 = begin(res, HLC_PROBE_AUTH);
    if (!t->privkey || ssh_pki_import_privkey_base64(t->privkey, NULL, NULL, NULL, &priv) != SSH_OK) {
        err = finish(res, HLC_PROBE_AUTH, t0, HLC_ESSH_AUTH, "the hub's SSH key cannot be read");
        goto out;
    }
    int auth = ssh_userauth_publickey(ssh, NULL, priv);
    if (auth != SSH_AUTH_SUCCESS) {
        err = finish(res, HLC_PROBE_AUTH, t0, auth == SSH_AUTH_ERROR ? HLC_ESSH_CONNECT : HLC_ESSH_AUTH,
                     "user %s was refused with the hub's key%s%s", t->user,
                     auth == SSH_AUTH_ERROR ? ": " : "", auth == SSH_AUTH_ERROR ? ssh_get_error(ssh) : "");
        goto out;
    }
    finish(res, HLC_PROBE_AUTH, t0, 0, "logged in as %s", t->user);

    t0 = begin(res, HLC_PROBE_EXEC);
    if (!(ch = ssh_channel_new(ssh)) || ssh_channel_open_session(ch) != SSH_OK ||
        ssh_channel_request_exec(ch, "true") != SSH_OK) {
        err = finish(res, HLC_PROBE_EXEC, t0, HLC_ESSH_EXEC, "the command could not start: %s",
                     ssh_get_error(ssh));
        goto out;
    }
    char sink[256];
    int n;
    while ((n = ssh_channel_read_timeout(ch, sink, sizeof(sink), 0, timeout_ms)) > 0)
        ; /* a login banner on stdout is drained, not shown */
    ssh_channel_send_eof(ch);
    int code = ssh_channel_get_exit_status(ch);
    if (n == SSH_ERROR || code != 0)
        err = finish(res, HLC_PROBE_EXEC, t0, HLC_ESSH_EXEC, "`true` ended with exit status %d",
                     code);
    else
        finish(res, HLC_PROBE_EXEC, t0, 0, "`true` exited 0");
out:
    if (ch) {
        ssh_channel_close(ch);
        ssh_channel_free(ch);
    }
    if (fp)
        ssh_string_free_char(fp);
    ssh_key_free(priv);
    if (ssh) {
        ssh_disconnect(ssh);
        ssh_free(ssh);
    }
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    return err;
}
