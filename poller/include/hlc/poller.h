/* poller.h - polls machines over pooled SSH sessions on a thread pool.
 *
 * One authenticated libssh session per machine is kept open and reused: every
 * exec opens a new channel on it. A session is used by one thread at a time.
 * Connect, authentication and each exec have timeouts, so a dead or hanging
 * machine never holds a worker longer than that. A fixed pool of worker
 * threads runs the scheduled polls; the scheduler never queues a machine that
 * is already queued or being polled.
 *
 * The library knows nothing of the hub: it asks the caller, through callbacks,
 * where a machine is and with which key (target), tells it what host key a
 * machine presented (host_key), and hands it each scheduled poll (poll). It
 * never prints; it logs through hlc_log. All functions are thread-safe. */
#ifndef HLC_POLLER_H
#define HLC_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The outcome of one command run on a machine. */
struct hlc_exec_result {
    int exit_code;          /* remote exit status; -1 when it never finished */
    char *out;              /* stdout, NUL-terminated, at most out_cap bytes */
    size_t out_len;         /* bytes in out */
    bool out_truncated;     /* stdout went past out_cap and was cut */
    char *err;              /* stderr, likewise */
    size_t err_len;         /* bytes in err */
    bool err_truncated;     /* stderr was cut */
    int64_t duration_ms;    /* wall time of the exec (connect excluded) */
};
/* Frees out/err and zeroes r; NULL is a no-op. */
void hlc_exec_result_release(struct hlc_exec_result *r);

/* Where and how to reach one machine. Filled by the caller's target callback
 * with heap strings the poller frees (privkey is wiped first). */
struct hlc_ssh_target {
    char *host;               /* address or name to connect to */
    int port;                 /* SSH port */
    char *user;               /* login user */
    char *privkey;            /* OpenSSH or PEM private key text */
    char *pinned;             /* pinned host key "SHA256:...", NULL = trust on first use */
};

/* One machine the scheduler polls. */
struct hlc_poll_entry {
    char id[64];              /* machine id */
    int interval_s;           /* seconds between polls */
};

struct hlc_poller_cfg {
    unsigned workers;         /* poll threads; 0 = 2 x online CPUs */
    int connect_timeout_ms;   /* TCP connect + key exchange + auth; 0 = 10000 */
    int keepalive_s;          /* keepalive sessions idle this long; 0 = 30 */
    int backoff_max_ms;       /* cap of the reconnect backoff; 0 = 30000 */
    int refresh_ms;           /* how often the schedule is re-read; 0 = 5000 */
    void *ud;                 /* passed to every callback */
    /* Fills t for machine id: 0, or a negative HLC_E* (the exec fails with it). */
    int (*target)(void *ud, const char *id, struct hlc_ssh_target *t);
    /* A machine presented a host key: changed=false when nothing was pinned
     * (the caller pins it), true when it differs from the pin (refused). */
    void (*host_key)(void *ud, const char *id, const char *fingerprint, bool changed);
    /* Runs one scheduled poll, on a worker thread. */
    void (*poll)(void *ud, const char *id);
    /* The machines to poll now: *list heap (the poller frees), *n entries. */
    int (*schedule)(void *ud, struct hlc_poll_entry **list, size_t *n);
};

struct hlc_poller; /* opaque */

/* Starts the worker pool and the scheduler. 0, HLC_EINVAL (missing callback)
 * or HLC_EIO (a thread could not start). */
int hlc_poller_new(struct hlc_poller **out, const struct hlc_poller_cfg *cfg);
/* Stops the threads (a poll in flight finishes first, bounded by its
 * timeouts), closes every session and frees. NULL is a no-op. */
void hlc_poller_free(struct hlc_poller *p);

/* Runs `command` on machine id over its pooled session (connecting first if
 * needed), writing stdin_data (may be NULL) to its stdin then EOF. stdout and
 * stderr are each kept up to out_cap bytes. Waits at most timeout_ms for the
 * session to be free and then for the command.
 * Returns 0 when the command ran to completion (see res->exit_code);
 * HLC_ETIMEOUT when it did not finish in time (res holds partial output);
 * HLC_ESSH_CONNECT / HLC_ESSH_NOROUTE / HLC_ESSH_AUTH / HLC_ESSH_HOSTKEY /
 * HLC_ESSH_EXEC when nothing could be run; or the target callback's error.
 * res is always initialised; release it. */
int hlc_poller_exec(struct hlc_poller *p, const char *id, const char *command,
                    const char *stdin_data, size_t stdin_len, int timeout_ms, size_t out_cap,
                    struct hlc_exec_result *res);

/* Runs `command` once on a host that is not pooled (an ad-hoc scan): a
 * fresh connection to t (t->pinned NULL = trust on first use), the command
 * with stdin_data then EOF, and a disconnect, all within timeout_ms. The
 * host key presented is copied to fingerprint ("" when none was); nothing
 * is pinned here. Returns as hlc_poller_exec (HLC_ESSH_HOSTKEY when the key
 * differs from t->pinned: nothing was run). res is always initialised;
 * release it. Thread-safe; blocks the calling thread. */
int hlc_poller_exec_once(const struct hlc_ssh_target *t, const char *command,
                         const char *stdin_data, size_t stdin_len, int timeout_ms,
                         size_t out_cap, struct hlc_exec_result *res, char fingerprint[static 128]);

/* Queues fn(arg) to run once on one of the pool's worker threads, after the
 * polls queued before it. 0, or HLC_EBUSY when the poller is stopping (fn is
 * then never called). A job still queued when the poller is freed is
 * dropped: fn(arg) is called with cancelled=true on the freeing thread so
 * the caller can release arg. */
int hlc_poller_submit(struct hlc_poller *p, void (*fn)(void *arg, bool cancelled), void *arg);

/* Closes machine id's pooled session (after its host key was accepted or its
 * address changed); the next exec connects afresh. */
void hlc_poller_forget(struct hlc_poller *p, const char *id);
/* Re-reads the schedule now (after a machine was added or changed). */
void hlc_poller_kick(struct hlc_poller *p);
/* Sessions currently connected. */
size_t hlc_poller_sessions(struct hlc_poller *p);

/* ---- connection test (probe.c) ------------------------------------------ */

/* The steps of a connection test, in order. */
enum hlc_probe_step {
    HLC_PROBE_RESOLVE,   /* name resolution (getaddrinfo) */
    HLC_PROBE_CONNECT,   /* TCP connect to the first address that answers */
    HLC_PROBE_HOSTKEY,   /* key exchange and the host key against the pin */
    HLC_PROBE_AUTH,      /* public-key authentication */
    HLC_PROBE_EXEC,      /* a trivial command (`true`) */
    HLC_PROBE_NSTEPS
};

struct hlc_probe_result {
    struct {
        bool ran;             /* the step was tried (a failed earlier step stops the rest) */
        bool ok;              /* it succeeded */
        int64_t ms;           /* its wall time */
        int err;              /* why it failed: HLC_ESSH_*, HLC_ETIMEOUT, ... (0 when ok) */
        char detail[200];     /* what it found: the address, the key state, the exit code */
    } step[HLC_PROBE_NSTEPS];
    char fingerprint[128];    /* the host key presented ("SHA256:..."), "" when none */
    const char *host_key;     /* "new" (nothing pinned), "pinned" (matches), "changed", or NULL */
};

/* Tries each step against t (t->pinned may be NULL: the key is reported
 * "new", never pinned here) within timeout_ms per step, and fills res.
 * Changes nothing anywhere: no pin, no pooled session. A changed host key
 * stops before authentication. 0 when every step passed, else the failing
 * step's error. Thread-safe. */
int hlc_ssh_probe(const struct hlc_ssh_target *t, int timeout_ms, struct hlc_probe_result *res);
/* The step's name as the API shows it ("resolve", "connect", "host_key",
 * "auth", "exec"). */
const char *hlc_probe_step_name(int step);

#endif
