/* remote.c - the hub's poller glue: targets from the store and credentials,
 * host-key pinning, scheduled polls through the collector and ingest, and the
 * sweep that turns silent machines offline. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bus.h"
#include "config.h"
#include "credentials.h"
#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/poller.h"
#include "hlc/sample.h"
#include "hub.h"
#include "ingest.h"
#include "remote.h"
#include "store.h"

/* Per machine: when it last asked for pending updates (costly: every few
 * hours) and the timestamp of its last SSH sample. */
struct upd_mark {
    char id[64];        /* machine */
    int64_t at;         /* wall-clock seconds of the last successful ask */
    int64_t last_ts;    /* timestamp of the last sample taken over SSH */
    /* Its expected service names as read at machines generation
     * names_gen - 1 (0: never read): a poll reads them only after a
     * machine was added, edited or deleted. */
    char **names;
    size_t nnames;
    unsigned long long names_gen;
    /* For /metrics: the last poll's wall time, polls and failed polls. */
    int64_t poll_ms;
    uint64_t polls, poll_errors;
};

struct hlc_remote {
    struct hlc_poller *poller;  /* sessions, workers, scheduler */
    pthread_t sweeper;          /* offline sweep */
    bool sweeper_started;       /* it runs */
    pthread_mutex_t mu;         /* guards stop and the update marks */
    pthread_cond_t cv;          /* wakes the sweeper to stop */
    bool stop;                  /* stopping */
    struct upd_mark *marks;     /* per machine */
    size_t nmarks;              /* used */
};

static struct hlc_remote *
remote_of(struct hlc_hub *hub)
{
    return hub->remote;
}

const char *
hlc_remote_reason(int err)
{
    switch (err) {
    case HLC_ESSH_AUTH:
        return "authentication refused: the machine does not accept the hub's SSH key for "
               "this user (add the key from GET /api/v1/ssh/public-key to its authorized_keys)";
    case HLC_ESSH_HOSTKEY:
        return "host key changed: the machine presented a different SSH host key than the "
               "one pinned; nothing was run (accept it if the change is expected)";
    case HLC_ETIMEOUT:
        return "timed out: the machine did not answer within the SSH timeout";
    case HLC_ESSH_CONNECT:
        return "connection refused: nothing is listening on the SSH port";
    case HLC_ESSH_NOROUTE:
        return "no route to host: the address cannot be reached or resolved";
    case HLC_ESSH_EXEC:
        return "the machine accepted the login but would not run a command";
    case HLC_EIO:
        return "the SSH connection broke while the command ran";
    case HLC_EPARSE:
        return "the machine's answer could not be understood";
    case HLC_ECRYPTO_KEY:
    case HLC_ECRYPTO_TAG:
        return "the SSH key for this machine cannot be unsealed";
    default:
        return hlc_strerror(err);
    }
}

/* ---- poller callbacks ------------------------------------------------ */

static int
cb_target(void *ud, const char *id, struct hlc_ssh_target *t)
{
    struct hlc_hub *hub = ud;
    struct hlc_store_ssh_target st;
    int rc = hlc_store_ssh_target(hub->store, id, &st);
    if (rc != 0)
        return rc;
    char *key = NULL, *user = NULL;
    rc = hlc_credentials_ssh_key_for(hub, id, &key, &user);
    if (rc != 0) {
        hlc_store_ssh_target_release(&st);
        return rc;
    }
    t->host = st.address;
    t->port = st.port;
    t->pinned = st.pinned;
    t->user = user;
    t->privkey = key; /* the poller wipes it */
    st.address = st.pinned = NULL;
    hlc_store_ssh_target_release(&st);
    return 0;
}

static void
cb_host_key(void *ud, const char *id, const char *fp, bool changed)
{
    struct hlc_hub *hub = ud;
    if (!changed) {
        hlc_store_hostkey_pin(hub->store, id, fp);
        hlc_log(HLC_LOG_INFO, "poller: %s: trusted host key %s on first use", id, fp);
        return;
    }
    char *why = hlc_xasprintf("host key changed: the machine now presents %s, which is not the "
                              "pinned key; nothing was run. If the change is expected, accept it "
                              "(POST /api/v1/servers/%s/host-key/accept)",
                              fp, id);
    hlc_store_hostkey_changed(hub->store, id, fp, why);
    hlc_log(HLC_LOG_WARN, "poller: %s: %s", id, why);
    free(why);
    struct hlc_event ev = {.kind = HLC_EV_HOST_KEY_CHANGED, .server_id = id, .subject = fp};
    hlc_bus_publish(hub->bus, &ev);
}

/* How long a machine may be silent before it counts as offline. */
static int
offline_seconds(struct hlc_hub *hub)
{
    return (int)hlc_config_number(hub->store, "thresholds", "server_offline_seconds", 180);
}

static int
cb_schedule(void *ud, struct hlc_poll_entry **list, size_t *n)
{
    struct hlc_hub *hub = ud;
    int def = (int)hlc_config_number(hub->store, "polling", "poll_interval_seconds", 60);
    /* A server heard from its push agent within the offline threshold is not
     * also polled over SSH; once the agent is silent that long, SSH takes over. */
    void *v = NULL;
    int rc = hlc_store_poll_targets(hub->store, def, hlc_now() - offline_seconds(hub), &v, n);
    *list = v;
    return rc;
}

static void
cb_poll(void *ud, const char *id)
{
    hlc_remote_poll_now(ud, id, NULL);
}

/* ---- polling ----------------------------------------------------------- */

/* The mark of machine id if it has one. Holds rm->mu. */
static struct upd_mark *
mark_find(struct hlc_remote *rm, const char *id)
{
    for (size_t i = 0; i < rm->nmarks; i++)
        if (strcmp(rm->marks[i].id, id) == 0)
            return &rm->marks[i];
    return NULL;
}

static struct upd_mark *mark_of(struct hlc_remote *rm, const char *id);

/* Whether this poll also asks for pending updates. The marks live in memory:
 * after a restart, a machine whose counts are already stored is asked at a
 * random point of the next interval instead of at once, so a restarted hub
 * does not run every machine's package manager in its first round. */
static bool
updates_due(struct hlc_hub *hub, struct hlc_remote *rm, const char *id, int64_t now, int every_s)
{
    pthread_mutex_lock(&rm->mu);
    const struct upd_mark *m = mark_find(rm, id);
    bool known = m != NULL, due = !m || now - m->at >= every_s;
    pthread_mutex_unlock(&rm->mu);
    if (known || every_s <= 0)
        return due;
    struct hlc_sample prev;
    hlc_sample_init(&prev);
    bool stored = hlc_store_metrics_baseline(hub->store, id, &prev) == 0 &&
                  (prev.have & HLC_HAVE_UPDATES);
    hlc_sample_release(&prev);
    if (!stored)
        return true;
    pthread_mutex_lock(&rm->mu);
    mark_of(rm, id)->at = now - (int64_t)randombytes_uniform((uint32_t)every_s);
    pthread_mutex_unlock(&rm->mu);
    return false;
}

/* The mark of machine id, created if new. Holds rm->mu. */
static struct upd_mark *
mark_of(struct hlc_remote *rm, const char *id)
{
    struct upd_mark *m = mark_find(rm, id);
    if (m)
        return m;
    size_t i = rm->nmarks;
    rm->marks = hlc_xrealloc(rm->marks, (rm->nmarks + 1) * sizeof(*rm->marks));
    memset(&rm->marks[i], 0, sizeof(rm->marks[i]));
    snprintf(rm->marks[i].id, sizeof(rm->marks[i].id), "%s", id);
    rm->nmarks++;
    return &rm->marks[i];
}

static void
updates_done(struct hlc_remote *rm, const char *id, int64_t now)
{
    pthread_mutex_lock(&rm->mu);
    mark_of(rm, id)->at = now;
    pthread_mutex_unlock(&rm->mu);
}

/* How far ahead of the clock a sample's time may run when polls of one
 * machine come faster than one a second: each poll keeps a second of its
 * own (back-to-back polls, a benchmark's hundreds of polls in a minute) and
 * is stored and judged, and only past this (four minutes of polls faster
 * than the clock) do samples share a second, so they never reach the
 * ingest's skew limit (HLC_INGEST_MAX_SKEW), past which every poll was
 * refused. */
#define SAMPLE_MAX_AHEAD (HLC_INGEST_MAX_SKEW - 60)

/* The timestamp for a sample just taken: now, or one second after the
 * machine's previous SSH sample when two polls (a scheduled one and a manual
 * one, or the re-poll after an action) finish within the same second, since
 * samples are unique per second and the later one holds the fresher state.
 * It runs at most SAMPLE_MAX_AHEAD seconds ahead: past that, a sample shares
 * its second with the previous one and the ingest keeps the first, so a
 * burst of polls can never push samples toward the future (where, past the
 * ingest's skew limit, every poll was refused). */
static int64_t
sample_time(struct hlc_remote *rm, const char *id)
{
    int64_t now = hlc_now();
    pthread_mutex_lock(&rm->mu);
    struct upd_mark *m = mark_of(rm, id);
    int64_t ts = now;
    if (m->last_ts >= now + SAMPLE_MAX_AHEAD)
        ts = m->last_ts > now + SAMPLE_MAX_AHEAD ? now : m->last_ts; /* else the clock went back */
    else if (m->last_ts >= now)
        ts = m->last_ts + 1;
    m->last_ts = ts;
    pthread_mutex_unlock(&rm->mu);
    return ts;
}

static void
names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char **
names_copy(char *const *names, size_t n)
{
    char **out = hlc_xcalloc(n ? n : 1, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = hlc_xstrdup(names[i]);
    return out;
}

/* The machine's expected service names (the caller frees them), or
 * HLC_ENOTFOUND when there is no such machine. Read from the store only
 * when a machine changed since the last read. */
static int
expected_services(struct hlc_hub *hub, const char *id, char ***names, size_t *n)
{
    struct hlc_remote *rm = remote_of(hub);
    *names = NULL;
    *n = 0;
    /* Before the read: a write that lands meanwhile leaves the copy stale. */
    unsigned long long gen = hlc_store_machines_generation(hub->store);
    pthread_mutex_lock(&rm->mu);
    struct upd_mark *m = mark_find(rm, id);
    if (m && m->names_gen == gen + 1) {
        *names = names_copy(m->names, m->nnames);
        *n = m->nnames;
        pthread_mutex_unlock(&rm->mu);
        return 0;
    }
    pthread_mutex_unlock(&rm->mu);
    int rc = hlc_store_service_names(hub->store, id, HLC_SAMPLE_MAX_SERVICES, names, n);
    if (rc != 0) {
        names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    pthread_mutex_lock(&rm->mu);
    m = mark_of(rm, id); /* the machine exists: a mark is bounded by the fleet */
    names_free(m->names, m->nnames);
    m->names = names_copy(*names, *n);
    m->nnames = *n;
    m->names_gen = gen + 1;
    pthread_mutex_unlock(&rm->mu);
    return 0;
}

int
hlc_remote_poll_now(struct hlc_hub *hub, const char *id, char **latest)
{
    if (latest)
        *latest = NULL;
    struct hlc_remote *rm = remote_of(hub);
    if (!rm)
        return HLC_EBUSY;
    char **names = NULL, *cmd = NULL;
    size_t nnames = 0;
    struct hlc_exec_result res;
    struct hlc_sample s;
    memset(&res, 0, sizeof(res));
    hlc_sample_init(&s);
    int64_t t0 = hlc_mono_ms();
    int rc = expected_services(hub, id, &names, &nnames);
    if (rc != 0)
        goto out;
    int64_t now = hlc_now();
    int upd_every = 3600 * (int)hlc_config_number(hub->store, "polling", "updates_check_hours", 6);
    bool with_updates = updates_due(hub, rm, id, now, upd_every);
    rc = hlc_collect_command((const char *const *)names, nnames, with_updates, &cmd);
    if (rc != 0)
        goto out;
    int timeout_ms = 1000 * (int)hlc_config_number(hub->store, "polling", "ssh_timeout_seconds", 10);
    rc = hlc_poller_exec(rm->poller, id, cmd, hlc_collect_script, strlen(hlc_collect_script),
                         timeout_ms, HLC_COLLECT_MAX_OUTPUT, &res);
    if (rc == 0 && res.out_truncated)
        rc = HLC_ETOOBIG;
    if (rc == 0)
        rc = hlc_collect_parse(res.out ? res.out : "", res.out_len, &s);
    if (rc == 0 && !(s.have & (HLC_HAVE_CPU | HLC_HAVE_MEMORY)))
        rc = HLC_EPARSE; /* not the collector talking (a login banner, a broken shell) */
    if (rc == 0) {
        s.timestamp = sample_time(rm, id);
        rc = hlc_ingest_sample_latest(hub, id, &s, "ssh", latest);
        /* Asked is enough: a machine whose package manager fails or is slow
         * past its timeout is not asked again on every poll. */
        if (rc == 0 && with_updates)
            updates_done(rm, id, now);
    } else if (rc != HLC_ENOTFOUND && rc != HLC_ESSH_HOSTKEY) {
        /* The host-key callback already wrote its own, longer reason. */
        hlc_store_machine_set_error(hub->store, id, hlc_remote_reason(rc));
        hlc_log(HLC_LOG_DEBUG, "poller: %s: %s", id, hlc_remote_reason(rc));
    }
out:
    if (rc != HLC_ENOTFOUND) { /* a mark only for a machine that exists */
        pthread_mutex_lock(&rm->mu);
        struct upd_mark *m = mark_of(rm, id);
        m->poll_ms = hlc_mono_ms() - t0;
        m->polls++;
        m->poll_errors += rc != 0;
        pthread_mutex_unlock(&rm->mu);
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(cmd);
    hlc_exec_result_release(&res);
    hlc_sample_release(&s);
    return rc;
}

int
hlc_remote_poll_stats(struct hlc_hub *hub, json_t **out)
{
    struct hlc_remote *rm = remote_of(hub);
    *out = json_object();
    if (!rm)
        return 0;
    pthread_mutex_lock(&rm->mu);
    for (size_t i = 0; i < rm->nmarks; i++) {
        const struct upd_mark *m = &rm->marks[i];
        if (!m->polls)
            continue;
        json_object_set_new(*out, m->id,
                            json_pack("{s:f, s:I, s:I}", "duration_seconds",
                                      (double)m->poll_ms / 1000.0, "polls", (json_int_t)m->polls,
                                      "errors", (json_int_t)m->poll_errors));
    }
    pthread_mutex_unlock(&rm->mu);
    return 0;
}

size_t
hlc_remote_sessions(struct hlc_hub *hub)
{
    struct hlc_remote *rm = remote_of(hub);
    return rm ? hlc_poller_sessions(rm->poller) : 0;
}

int
hlc_remote_exec(struct hlc_hub *hub, const char *id, const char *command, const char *stdin_data,
                size_t stdin_len, int timeout_ms, size_t out_cap, struct hlc_exec_result *res)
{
    struct hlc_remote *rm = remote_of(hub);
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    if (!rm)
        return HLC_EBUSY;
    return hlc_poller_exec(rm->poller, id, command, stdin_data, stdin_len, timeout_ms, out_cap,
                           res);
}

int
hlc_remote_submit(struct hlc_hub *hub, void (*fn)(void *arg, bool cancelled), void *arg)
{
    struct hlc_remote *rm = remote_of(hub);
    return rm ? hlc_poller_submit(rm->poller, fn, arg) : HLC_EBUSY;
}

void
hlc_remote_forget(struct hlc_hub *hub, const char *id)
{
    struct hlc_remote *rm = remote_of(hub);
    if (rm) {
        hlc_poller_forget(rm->poller, id);
        hlc_poller_kick(rm->poller);
    }
}

/* ---- connection test ---------------------------------------------------- */

int
hlc_remote_test_connection(struct hlc_hub *hub, const char *id, const char *host, int port,
                           const char *user, json_t **out)
{
    struct hlc_ssh_target t;
    struct hlc_store_ssh_target st;
    json_t *m = NULL;
    memset(&t, 0, sizeof(t));
    memset(&st, 0, sizeof(st));
    int rc = 0;
    const char *conn = "direct";
    if (id) {
        if ((rc = hlc_store_ssh_target(hub->store, id, &st)) != 0 ||
            (rc = hlc_credentials_ssh_key_for(hub, id, &t.privkey, &t.user)) != 0 ||
            (rc = hlc_store_machine_get(hub->store, id, &m)) != 0)
            goto out;
        conn = json_string_value(json_object_get(m, "connectivity")) ?: "direct";
        t.host = st.address;
        t.port = st.port;
        t.pinned = st.pinned;
    } else {
        if ((rc = hlc_credentials_ssh_key_fleet(hub, &t.privkey)) != 0)
            goto out;
        t.host = (char *)host;
        t.port = port;
        t.user = hlc_xstrdup(user);
    }
    int timeout_ms = 1000 * (int)hlc_config_number(hub->store, "polling", "ssh_timeout_seconds", 10);
    struct hlc_probe_result res;
    int prc = hlc_ssh_probe(&t, timeout_ms, &res);
    json_t *steps = json_array();
    for (int i = 0; i < HLC_PROBE_NSTEPS; i++) {
        bool ran = res.step[i].ran;
        json_array_append_new(
            steps, json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", hlc_probe_step_name(i), "status",
                             !ran ? "skipped" : res.step[i].ok ? "ok" : "failed", "ms",
                             ran ? json_integer(res.step[i].ms) : json_null(), "detail",
                             ran ? json_string(res.step[i].detail) : json_null(), "reason",
                             ran && !res.step[i].ok ? json_string(hlc_remote_reason(res.step[i].err))
                                                    : json_null()));
    }
    *out = json_pack("{s:b, s:{s:s, s:i, s:s, s:s}, s:o, s:o, s:o}", "ok", prc == 0, "target",
                     "host", t.host, "port", t.port, "user", t.user ? t.user : "", "connectivity",
                     conn, "host_key", res.host_key ? json_string(res.host_key) : json_null(),
                     "fingerprint", res.fingerprint[0] ? json_string(res.fingerprint) : json_null(),
                     "steps", steps);
out:
    if (t.privkey)
        hlc_credentials_free_secret(t.privkey);
    free(t.user);
    hlc_store_ssh_target_release(&st);
    json_decref(m);
    return rc;
}

/* ---- the offline sweep ------------------------------------------------- */

static void *
sweeper_main(void *arg)
{
    struct hlc_hub *hub = arg;
    struct hlc_remote *rm = remote_of(hub);
    unsigned sweeps = 0;
    pthread_mutex_lock(&rm->mu);
    while (!rm->stop) {
        pthread_mutex_unlock(&rm->mu);
        int threshold = offline_seconds(hub);
        int changed = 0;
        hlc_store_machines_mark_offline(hub->store, hlc_now(), threshold, &changed);
        /* Freed session and poll buffers go back to the system once a minute
         * rather than staying in the heap at their high-water mark. */
        if (++sweeps % 30 == 0)
            malloc_trim(0);
        if (changed > 0)
            hlc_log(HLC_LOG_INFO, "poller: %d machine%s went offline", changed,
                    changed == 1 ? "" : "s");
        pthread_mutex_lock(&rm->mu);
        struct timespec ts;
        hlc_abstime_in(2000, &ts);
        if (!rm->stop)
            pthread_cond_timedwait(&rm->cv, &rm->mu, &ts);
    }
    pthread_mutex_unlock(&rm->mu);
    return NULL;
}

int
hlc_remote_start(struct hlc_hub *hub)
{
    struct hlc_remote *rm = hlc_xcalloc(1, sizeof(*rm));
    pthread_mutex_init(&rm->mu, NULL);
    pthread_cond_init(&rm->cv, NULL);
    hub->remote = rm;
    int timeout_ms = 1000 * (int)hlc_config_number(hub->store, "polling", "ssh_timeout_seconds", 10);
    struct hlc_poller_cfg cfg = {
        .workers = hub->set.poll_workers,
        .connect_timeout_ms = timeout_ms,
        .backoff_max_ms = 30000,
        .ud = hub,
        .target = cb_target,
        .host_key = cb_host_key,
        .poll = cb_poll,
        .schedule = cb_schedule,
    };
    int rc = hlc_poller_new(&rm->poller, &cfg);
    if (rc != 0) {
        hlc_remote_stop(hub);
        return rc;
    }
    if (pthread_create(&rm->sweeper, NULL, sweeper_main, hub) != 0) {
        hlc_remote_stop(hub);
        return HLC_EIO;
    }
    rm->sweeper_started = true;
    return 0;
}

void
hlc_remote_stop(struct hlc_hub *hub)
{
    struct hlc_remote *rm = remote_of(hub);
    if (!rm)
        return;
    pthread_mutex_lock(&rm->mu);
    rm->stop = true;
    pthread_cond_broadcast(&rm->cv);
    pthread_mutex_unlock(&rm->mu);
    if (rm->sweeper_started)
        pthread_join(rm->sweeper, NULL);
    /* Detach from the hub first so nothing new reaches the poller while its
     * workers finish (a poll in flight is bounded by its timeouts). */
    hub->remote = NULL;
    hlc_poller_free(rm->poller);
    for (size_t i = 0; i < rm->nmarks; i++)
        names_free(rm->marks[i].names, rm->marks[i].nnames);
    free(rm->marks);
    pthread_cond_destroy(&rm->cv);
    pthread_mutex_destroy(&rm->mu);
    free(rm);
}
