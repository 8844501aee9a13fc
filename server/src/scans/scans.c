/* scans.c - ad-hoc scans: recorded, queued on the poller's worker pool, run
 * as one exec of the scan script over a fresh SSH connection, parsed and
 * stored. Host keys follow the machines' trust on first use: a host's key
 * is the one pinned for a machine at that address and port, else the one
 * the newest scan of it trusted. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "credentials.h"
#include "hlc/base.h"
#include "hlc/poller.h"
#include "hub.h"
#include "remote.h"
#include "scans.h"
#include "store.h"

/* Scans queued or running, across the process (jobs outlive no hub: the
 * poller runs or cancels every one before the store closes). */
static atomic_int inflight;

struct scan_job {
    struct hlc_hub *hub;    /* whose store and credentials */
    char id[37];            /* scan uuid */
    char host[254];         /* validated host name or address */
    int port;               /* SSH port */
    char user[33];          /* validated login */
    bool full;              /* full scan */
    char *privkey;          /* uploaded key (wiped and freed with the job), or NULL */
};

/* The key a scan logs in with (see hlc_scans_create); heap, wiped by the
 * caller with hlc_credentials_free_secret. */
static int
scan_key(struct scan_job *j, char **key)
{
    *key = NULL;
    if (j->privkey) {
        *key = hlc_xstrdup(j->privkey);
        return 0;
    }
    char *mid = NULL, *user = NULL;
    int rc = hlc_store_machine_at(j->hub->store, j->host, j->port, &mid);
    if (rc == 0 && mid) {
        rc = hlc_credentials_ssh_key_for(j->hub, mid, key, &user);
        free(user); /* the scan logs in as the user it was given */
        free(mid);
        if (rc != HLC_ENOTFOUND) /* deleted meanwhile: the fleet's key */
            return rc;
    }
    return rc == 0 || rc == HLC_ENOTFOUND ? hlc_credentials_ssh_key_fleet(j->hub, key) : rc;
}

/* The reason a failed scan gives, in the polls' words. */
static char *
failure_reason(int rc, const char *fp, const char *from)
{
    if (rc == HLC_ESSH_HOSTKEY)
        return hlc_xasprintf("host key changed: the host now presents %s, which is not the key "
                             "pinned for it (by %s); nothing was run",
                             fp[0] ? fp : "another key",
                             from && strcmp(from, "machine") == 0 ? "its registered machine"
                                                                   : "an earlier scan");
    if (rc == HLC_ETOOBIG)
        return hlc_xstrdup("the host's answer was larger than a scan may be");
    return hlc_xstrdup(hlc_remote_reason(rc));
}

/* Serialises a result within HLC_SCAN_MAX_RESULT: the package list (the
 * only part that can be large) is dropped first, keeping its count. */
static char *
result_text(json_t *res)
{
    char *text = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (text && strlen(text) <= HLC_SCAN_MAX_RESULT)
        return text;
    free(text);
    json_t *pk = json_object_get(res, "packages");
    if (json_is_object(pk)) {
        json_object_set_new(pk, "list", json_null());
        json_object_set_new(pk, "truncated", json_true());
    }
    json_object_set_new(res, "truncated", json_true());
    text = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (text && strlen(text) <= HLC_SCAN_MAX_RESULT)
        return text;
    free(text);
    return NULL;
}

static void
scan_run(struct scan_job *j)
{
    struct hlc_hub *hub = j->hub;
    struct hlc_ssh_target t;
    struct hlc_exec_result res;
    memset(&t, 0, sizeof(t));
    memset(&res, 0, sizeof(res));
    char fp[128] = "";
    const char *from = NULL;
    char *pinned = NULL, *text = NULL, *why = NULL;
    json_t *parsed = NULL;
    if (hlc_store_scan_running(hub->store, j->id, hlc_now()) != 0)
        return; /* pruned or already finished */
    int rc = hlc_store_scan_pin(hub->store, j->host, j->port, &pinned, &from);
    if (rc == 0)
        rc = scan_key(j, &t.privkey);
    if (rc == 0) {
        t.host = j->host;
        t.port = j->port;
        t.user = j->user;
        t.pinned = pinned;
        int timeout_ms =
            1000 * (int)hlc_config_number(hub->store, "polling", "ssh_timeout_seconds", 10);
        if (j->full)
            timeout_ms *= 2; /* package databases and ps take longer than /proc */
        rc = hlc_poller_exec_once(&t, hlc_scan_command(j->full), hlc_scan_script,
                                  strlen(hlc_scan_script), timeout_ms, HLC_SCAN_MAX_OUTPUT, &res,
                                  fp);
    }
    if (rc == 0 && res.out_truncated)
        rc = HLC_ETOOBIG;
    if (rc == 0)
        rc = hlc_scan_parse(res.out ? res.out : "", res.out_len, &parsed);
    if (rc == 0) {
        json_object_set_new(parsed, "scan_type", json_string(j->full ? "full" : "quick"));
        if (!(text = result_text(parsed)))
            rc = HLC_ETOOBIG;
    }
    /* The key trusted: the pin it matched, or the one seen first. */
    const char *trusted = rc == HLC_ESSH_HOSTKEY || !fp[0] ? NULL : fp;
    if (rc == 0) {
        hlc_store_scan_finish(hub->store, j->id, true, NULL, text, trusted, hlc_now());
        if (!pinned && trusted)
            hlc_log(HLC_LOG_INFO, "scans: %s:%d: trusted host key %s on first use", j->host,
                    j->port, trusted);
    } else {
        why = failure_reason(rc, fp, from);
        hlc_store_scan_finish(hub->store, j->id, false, why, NULL, trusted, hlc_now());
        hlc_log(HLC_LOG_DEBUG, "scans: %s:%d: %s", j->host, j->port, why);
    }
    if (t.privkey)
        hlc_credentials_free_secret(t.privkey);
    free(pinned);
    free(text);
    free(why);
    json_decref(parsed);
    hlc_exec_result_release(&res);
}

static void
scan_job(void *arg, bool cancelled)
{
    struct scan_job *j = arg;
    if (cancelled)
        hlc_store_scan_finish(j->hub->store, j->id, false,
                              "the hub stopped before the scan could run", NULL, NULL, hlc_now());
    else
        scan_run(j);
    atomic_fetch_sub(&inflight, 1);
    hlc_credentials_free_secret(j->privkey);
    free(j);
}

int
hlc_scans_create(struct hlc_hub *hub, const char *host, int port, const char *user, bool full,
                 const char *privkey, char id[static 37])
{
    if (strlen(host) >= sizeof(((struct scan_job *)0)->host) ||
        strlen(user) >= sizeof(((struct scan_job *)0)->user) || port < 1 || port > 65535)
        return HLC_EINVAL;
    if (atomic_fetch_add(&inflight, 1) >= HLC_SCANS_MAX_INFLIGHT) {
        atomic_fetch_sub(&inflight, 1);
        return HLC_EBUSY;
    }
    hlc_uuid4(id);
    int rc = hlc_store_scan_insert(hub->store, id, host, port, user, full ? "full" : "quick",
                                   hlc_now());
    if (rc != 0) {
        atomic_fetch_sub(&inflight, 1);
        return rc;
    }
    struct scan_job *j = hlc_xcalloc(1, sizeof(*j));
    j->hub = hub;
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->host, sizeof(j->host), "%s", host);
    snprintf(j->user, sizeof(j->user), "%s", user);
    j->port = port;
    j->full = full;
    j->privkey = privkey ? hlc_xstrdup(privkey) : NULL;
    if ((rc = hlc_remote_submit(hub, scan_job, j)) != 0) {
        hlc_store_scan_finish(hub->store, id, false, "the poller is not running", NULL, NULL,
                              hlc_now());
        atomic_fetch_sub(&inflight, 1);
        hlc_credentials_free_secret(j->privkey);
        free(j);
    }
    return rc;
}

int
hlc_scans_start(struct hlc_hub *hub)
{
    return hlc_store_scans_fail_unfinished(hub->store,
                                           "the hub restarted before the scan finished", hlc_now());
}

void
hlc_scans_stop(struct hlc_hub *hub)
{
    (void)hub; /* queued jobs are run or cancelled by the poller as it stops */
}
