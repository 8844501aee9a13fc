/* sshpool.c - one pooled libssh session per machine, and exec on it. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include <sodium.h>

#include "hlc/base.h"
#include "poller_internal.h"

void
hlc_exec_result_release(struct hlc_exec_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
    r->exit_code = -1;
}

static struct sess *
sess_get(struct hlc_poller *p, const char *id)
{
    pthread_mutex_lock(&p->pool_mu);
    for (size_t i = 0; i < p->nsess; i++) {
        if (strcmp(p->sess[i]->id, id) == 0) {
            struct sess *s = p->sess[i];
            pthread_mutex_unlock(&p->pool_mu);
            return s;
        }
    }
    if (p->nsess == p->capsess) {
        p->capsess = p->capsess ? p->capsess * 2 : 16;
        p->sess = hlc_xrealloc(p->sess, p->capsess * sizeof(*p->sess));
    }
    struct sess *s = hlc_xcalloc(1, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    pthread_mutex_init(&s->mu, NULL);
    p->sess[p->nsess++] = s;
    pthread_mutex_unlock(&p->pool_mu);
    return s;
}

static void
sess_drop(struct hlc_poller *p, struct sess *s)
{
    if (!s->ssh)
        return;
    if (s->spare)
        ssh_channel_free(s->spare);
    s->spare = NULL;
    ssh_disconnect(s->ssh);
    ssh_free(s->ssh);
    s->ssh = NULL;
    atomic_fetch_sub(&p->connected, 1);
}

static void
target_release(struct hlc_ssh_target *t)
{
    free(t->host);
    free(t->user);
    if (t->privkey) {
        sodium_memzero(t->privkey, strlen(t->privkey));
        free(t->privkey);
    }
    free(t->pinned);
    memset(t, 0, sizeof(*t));
}

/* Maps libssh's connect error text to a code a person's reason comes from. */
static int
connect_error(ssh_session ssh)
{
    const char *msg = ssh_get_error(ssh);
    if (strstr(msg, "refused"))
        return HLC_ESSH_CONNECT;
    if (strstr(msg, "No route") || strstr(msg, "unreachable") || strstr(msg, "resolve") ||
        strstr(msg, "Name or service"))
        return HLC_ESSH_NOROUTE;
    if (strstr(msg, "imeout") || strstr(msg, "timed out"))
        return HLC_ETIMEOUT;
    return HLC_ESSH_CONNECT;
}

/* The ciphers the hub offers, best first. Where the CPU has AES and
 * carry-less multiply instructions, AES-GCM costs a fraction of what
 * ChaCha20-Poly1305 does per packet (which also goes through OpenSSL's
 * parameter lookups for each packet's Poly1305 key); where it has not (a
 * Raspberry Pi 4, say), ChaCha20 stays first. Both are in either list, and
 * AES-CTR with an HMAC for servers that offer neither. */
static const char *
cipher_order(void)
{
    bool aes = false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    aes = __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
    unsigned long hw = getauxval(AT_HWCAP);
    aes = (hw & (1UL << 3)) && (hw & (1UL << 4)); /* HWCAP_AES, HWCAP_PMULL */
#endif
    return aes ? "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
                 "aes128-ctr,aes192-ctr,aes256-ctr"
               : "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
                 "aes128-ctr,aes192-ctr,aes256-ctr";
}

ssh_session
sshpool_session_new(const struct hlc_ssh_target *t, int timeout_ms)
{
    ssh_session ssh = ssh_new();
    if (!ssh)
        abort();
    long secs = (timeout_ms + 999) / 1000;
    int port = t->port;
    bool no = false;
    ssh_options_set(ssh, SSH_OPTIONS_HOST, t->host);
    ssh_options_set(ssh, SSH_OPTIONS_PORT, &port);
    ssh_options_set(ssh, SSH_OPTIONS_USER, t->user);
    ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &secs);
    ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    ssh_options_set(ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
    int nodelay = 1; /* no Nagle: a small exec request must not wait for a delayed ACK */
    ssh_options_set(ssh, SSH_OPTIONS_NODELAY, &nodelay);
    const char *ciphers = cipher_order();
    ssh_options_set(ssh, SSH_OPTIONS_CIPHERS_C_S, ciphers);
    ssh_options_set(ssh, SSH_OPTIONS_CIPHERS_S_C, ciphers);
    return ssh;
}

char *
sshpool_fingerprint(ssh_session ssh)
{
    ssh_key pub = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp = NULL;
    if (ssh_get_server_publickey(ssh, &pub) == SSH_OK &&
        ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
        fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(pub);
    return fp;
}

/* Connects to t, checks the host key against t->pinned and authenticates.
 * *fp gets the key presented (free with ssh_string_free_char) whenever one
 * was, *changed whether it differs from the pin; on success *out is the
 * authenticated session. A changed key is refused before authentication. */
static int
target_connect(const struct hlc_ssh_target *t, int timeout_ms, const char *id, ssh_session *out,
               char **fp, bool *changed)
{
    ssh_key priv = NULL;
    int rc;
    *out = NULL;
    *fp = NULL;
    *changed = false;
    ssh_session ssh = sshpool_session_new(t, timeout_ms);
    if (ssh_connect(ssh) != SSH_OK) {
        rc = connect_error(ssh);
        hlc_log(HLC_LOG_DEBUG, "poller: %s: connect to %s:%d: %s", id, t->host, t->port,
                ssh_get_error(ssh));
        ssh_free(ssh);
        return rc;
    }
    if (!(*fp = sshpool_fingerprint(ssh))) {
        rc = HLC_ESSH_CONNECT;
        goto fail;
    }
    if (t->pinned && strcmp(t->pinned, *fp) != 0) {
        *changed = true;
        rc = HLC_ESSH_HOSTKEY;
        goto fail;
    }
    if (!t->privkey ||
        ssh_pki_import_privkey_base64(t->privkey, NULL, NULL, NULL, &priv) != SSH_OK) {
        rc = HLC_ESSH_AUTH;
        goto fail;
    }
    int auth = ssh_userauth_publickey(ssh, NULL, priv);
    ssh_key_free(priv);
    if (auth != SSH_AUTH_SUCCESS) {
        rc = auth == SSH_AUTH_ERROR ? connect_error(ssh) : HLC_ESSH_AUTH;
        goto fail;
    }
    *out = ssh;
    return 0;
fail:
    ssh_disconnect(ssh);
    ssh_free(ssh);
    return rc;
}

/* Connects a pooled session with the target its callback gives, telling the
 * callback what host key the machine presented. */
static int
sess_connect(struct hlc_poller *p, struct sess *s)
{
    struct hlc_ssh_target t;
    memset(&t, 0, sizeof(t));
    char *fp = NULL;
    bool changed = false;
    int rc = p->cfg.target(p->cfg.ud, s->id, &t);
    if (rc != 0)
        goto out;
    ssh_session ssh = NULL;
    rc = target_connect(&t, p->cfg.connect_timeout_ms, s->id, &ssh, &fp, &changed);
    if (fp && (changed || !t.pinned))
        p->cfg.host_key(p->cfg.ud, s->id, fp, changed);
    if (rc == 0) {
        s->ssh = ssh;
        atomic_fetch_add(&p->connected, 1);
    }
out:
    if (fp)
        ssh_string_free_char(fp);
    target_release(&t);
    return rc;
}

static void
append(char **buf, size_t *len, bool *cut, size_t cap, const char *data, size_t n)
{
    if (*len + n > cap) {
        *cut = true;
        n = cap - *len;
    }
    if (n == 0)
        return;
    *buf = hlc_xrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Reads what is already buffered on one stream, without waiting: 0, or
 * SSH_ERROR. ssh_channel_poll looks without toggling the socket's blocking
 * mode, which ssh_channel_read_nonblocking does on every call. */
static int
drain(ssh_channel ch, int is_err, struct hlc_exec_result *res, size_t cap, char *buf,
      size_t bufsz)
{
    int avail;
    while ((avail = ssh_channel_poll(ch, is_err)) > 0) {
        uint32_t want = (size_t)avail < bufsz ? (uint32_t)avail : (uint32_t)bufsz;
        int n = ssh_channel_read(ch, buf, want, is_err);
        if (n == SSH_ERROR)
            return SSH_ERROR;
        if (n == 0)
            break;
        if (is_err)
            append(&res->err, &res->err_len, &res->err_truncated, cap, buf, (size_t)n);
        else
            append(&res->out, &res->out_len, &res->out_truncated, cap, buf, (size_t)n);
    }
    return avail == SSH_ERROR ? SSH_ERROR : 0;
}

/* Sends the open request of the session's next channel and returns without
 * waiting: the server's confirmation arrives while this exec's command runs
 * (any read on the session handles it), so the next exec skips that round
 * trip. Best effort: on failure the next exec opens its own channel. */
static void
spare_open(struct sess *s)
{
    if (s->spare)
        return;
    ssh_channel ch = ssh_channel_new(s->ssh);
    if (!ch)
        return;
    ssh_set_blocking(s->ssh, 0);
    int rc = ssh_channel_open_session(ch); /* SSH_AGAIN: sent, answer pending */
    ssh_set_blocking(s->ssh, 1);
    if (rc == SSH_ERROR)
        ssh_channel_free(ch);
    else
        s->spare = ch;
}

/* An open session channel: the spare sent ahead if the server accepted it,
 * else a new one. NULL when none opens (a dead session). */
static ssh_channel
channel_get(struct sess *s)
{
    ssh_channel ch = s->spare;
    s->spare = NULL;
    if (ch) {
        if (ssh_channel_open_session(ch) == SSH_OK) /* waits only if not yet answered */
            return ch;
        ssh_channel_free(ch); /* refused (e.g. MaxSessions): try a fresh one */
    }
    ch = ssh_channel_new(s->ssh);
    if (ch && ssh_channel_open_session(ch) != SSH_OK) {
        ssh_channel_free(ch);
        ch = NULL;
    }
    return ch;
}

/* Holds the session's small packets in the kernel until cork(s, false),
 * which sends them as one segment. Best effort. */
static void
cork(struct sess *s, bool on)
{
    int fd = ssh_get_fd(s->ssh);
    int v = on;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

/* While output is read the session stays corked, so the window adjust
 * libssh sends on the first read leaves with the channel's close as one
 * segment. Past this much output it goes at once: the server's window
 * (64,000 bytes at the channel's open) must not run dry while it waits. */
#define CORKED_READ_MAX 32768

/* Runs one command on an open session. 0, HLC_ETIMEOUT, HLC_ESSH_EXEC
 * (the channel could not be opened or the server refused the command:
 * nothing ran) or HLC_EIO (the session broke while it ran).
 *
 * Few segments each way: the exec request and the next channel's open
 * leave as one (with the end of input when there is none), and the server
 * answers both in one. Input has to wait for that answer (OpenSSH opens a
 * session channel's window only when its command starts); then the input
 * and its end leave as one. The window adjust libssh sends on the first
 * read leaves with the channel's close. */
static int
run(struct sess *s, const char *command, const char *in, size_t inlen, int64_t deadline_ms,
    size_t cap, struct hlc_exec_result *res)
{
    ssh_channel ch = channel_get(s);
    if (!ch)
        return HLC_ESSH_EXEC;
    int rc = 0;
    bool input = in && inlen > 0;
    cork(s, true);
    ssh_set_blocking(s->ssh, 0);
    int exec = ssh_channel_request_exec(ch, command); /* SSH_AGAIN: sent, answer pending */
    ssh_set_blocking(s->ssh, 1);
    if (exec != SSH_ERROR) {
        if (!input)
            ssh_channel_send_eof(ch);
        spare_open(s); /* answered with the exec */
    }
    cork(s, false);
    if (exec == SSH_ERROR || (exec == SSH_AGAIN && ssh_channel_request_exec(ch, command) != SSH_OK))
        rc = HLC_ESSH_EXEC;
    else if (input) {
        cork(s, true);
        if (ssh_channel_write(ch, in, (uint32_t)inlen) != (int)inlen)
            rc = HLC_EIO;
        else
            ssh_channel_send_eof(ch);
        cork(s, false); /* input and its end */
    }
    if (rc != 0)
        goto out;
    cork(s, true); /* held: the window adjust, until the close */
    bool corked = true;
    char buf[16384];
    for (;;) {
        int64_t left = deadline_ms - hlc_mono_ms();
        if (left <= 0) {
            rc = HLC_ETIMEOUT;
            goto out;
        }
        int n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, left < 200 ? (int)left : 200);
        if (n == SSH_ERROR) {
            rc = HLC_EIO;
            goto out;
        }
        if (n > 0)
            append(&res->out, &res->out_len, &res->out_truncated, cap, buf, (size_t)n);
        if (drain(ch, 1, res, cap, buf, sizeof(buf)) != 0) {
            rc = HLC_EIO;
            goto out;
        }
        if (corked && (res->out_len + res->err_len > CORKED_READ_MAX || res->out_truncated ||
                       res->err_truncated)) { /* past a small cap the lengths stop growing */
            cork(s, false);
            corked = false;
        }
        if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
            if (drain(ch, 0, res, cap, buf, sizeof(buf)) != 0 ||
                drain(ch, 1, res, cap, buf, sizeof(buf)) != 0)
                rc = HLC_EIO;
            break;
        }
    }
    res->exit_code = (int)ssh_channel_get_exit_status(ch);
    if (res->exit_code == SSH_ERROR)
        res->exit_code = -1;
out:
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    cork(s, false); /* whatever is held leaves with the close */
    return rc;
}

static bool
lock_until(pthread_mutex_t *mu, int64_t deadline_ms)
{
    struct timespec ts;
    hlc_abstime_in(deadline_ms - hlc_mono_ms(), &ts);
    return pthread_mutex_timedlock(mu, &ts) == 0;
}

int
hlc_poller_exec(struct hlc_poller *p, const char *id, const char *command, const char *stdin_data,
                size_t stdin_len, int timeout_ms, size_t out_cap, struct hlc_exec_result *res)
{
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    if (!id || !command || timeout_ms <= 0)
        return HLC_EINVAL;
    struct sess *s = sess_get(p, id);
    int64_t start = hlc_mono_ms();
    if (!lock_until(&s->mu, start + timeout_ms))
        return HLC_ETIMEOUT;
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = s->ssh != NULL;
        if (!s->ssh) {
            int64_t now = hlc_mono_ms();
            if (now < s->retry_at_ms) {
                rc = s->last_err; /* still backing off: fail fast */
                break;
            }
            rc = sess_connect(p, s);
            if (rc != 0) {
                s->last_err = rc;
                s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 1000;
                if (s->backoff_ms > p->cfg.backoff_max_ms)
                    s->backoff_ms = p->cfg.backoff_max_ms;
                /* A refused host key stays refused until accepted: no retries. */
                s->retry_at_ms = rc == HLC_ESSH_HOSTKEY ? 0 : hlc_mono_ms() + s->backoff_ms;
                break;
            }
            s->backoff_ms = 0;
            s->retry_at_ms = 0;
        }
        int64_t t0 = hlc_mono_ms();
        rc = run(s, command, stdin_data, stdin_len, start + timeout_ms, out_cap, res);
        res->duration_ms = hlc_mono_ms() - t0;
        s->last_used_ms = hlc_mono_ms();
        if (rc == 0)
            break;
        /* A dead pooled session shows when its channel will not open: nothing
         * ran, so reconnect once and retry. Anything else is final. */
        sess_drop(p, s);
        if (!(rc == HLC_ESSH_EXEC && reused))
            break;
        hlc_exec_result_release(res);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
hlc_poller_exec_once(const struct hlc_ssh_target *t, const char *command, const char *stdin_data,
                     size_t stdin_len, int timeout_ms, size_t out_cap,
                     struct hlc_exec_result *res, char fingerprint[static 128])
{
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    fingerprint[0] = '\0';
    if (!t || !t->host || !t->user || !command || timeout_ms <= 0)
        return HLC_EINVAL;
    struct sess s;
    memset(&s, 0, sizeof(s));
    snprintf(s.id, sizeof(s.id), "%s", t->host);
    char *fp = NULL;
    bool changed = false;
    int64_t start = hlc_mono_ms();
    int rc = target_connect(t, timeout_ms, s.id, &s.ssh, &fp, &changed);
    if (fp) {
        snprintf(fingerprint, 128, "%s", fp);
        ssh_string_free_char(fp);
    }
    if (rc != 0)
        return rc;
    int64_t t0 = hlc_mono_ms();
    rc = run(&s, command, stdin_data, stdin_len, start + timeout_ms, out_cap, res);
    res->duration_ms = hlc_mono_ms() - t0;
    if (s.spare)
        ssh_channel_free(s.spare);
    ssh_disconnect(s.ssh);
    ssh_free(s.ssh);
    return rc;
}

void
hlc_poller_forget(struct hlc_poller *p, const char *id)
{
    struct sess *s = sess_get(p, id);
    pthread_mutex_lock(&s->mu);
    sess_drop(p, s);
    s->retry_at_ms = 0;
    s->backoff_ms = 0;
    pthread_mutex_unlock(&s->mu);
}

size_t
hlc_poller_sessions(struct hlc_poller *p)
{
    return atomic_load(&p->connected);
}

void
sshpool_keepalive(struct hlc_poller *p)
{
    int64_t now = hlc_mono_ms();
    pthread_mutex_lock(&p->pool_mu);
    size_t n = p->nsess;
    pthread_mutex_unlock(&p->pool_mu);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&p->pool_mu);
        struct sess *s = p->sess[i];
        pthread_mutex_unlock(&p->pool_mu);
        if (pthread_mutex_trylock(&s->mu) != 0)
            continue; /* in use: alive enough */
        if (s->ssh && now - s->last_used_ms > (int64_t)p->cfg.keepalive_s * 1000) {
            if (ssh_send_ignore(s->ssh, "keepalive") != SSH_OK || !ssh_is_connected(s->ssh))
                sess_drop(p, s);
            s->last_used_ms = now;
        }
        pthread_mutex_unlock(&s->mu);
    }
}

void
sshpool_close_all(struct hlc_poller *p)
{
    for (size_t i = 0; i < p->nsess; i++) {
        struct sess *s = p->sess[i];
        sess_drop(p, s);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
    free(p->sess);
    p->sess = NULL;
    p->nsess = p->capsess = 0;
}
