/* store.h - the hub's one storage interface. All SQL lives behind it (store*.c),
 * so another backend (PostgreSQL) can be added without touching callers.
 *
 * Thread-safety: every function may be called from any thread; the store
 * keeps a small pool of SQLite connections and hands one to each call.
 * Errors: 0 on success or a negative HLC_E* code (HLC_EDB is logged with
 * SQLite's message). JSON results are new references the caller decrefs;
 * JSON arguments are borrowed. */
#ifndef HLC_STORE_H
#define HLC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_store;

/* Opens (creating if needed) the database at `path` and upgrades its schema
 * in place to the latest migration. `nconns` connections are pooled (>= 1). */
int hlc_store_open(struct hlc_store **out, const char *path, unsigned nconns);
/* Checkpoints the WAL and closes every connection. NULL is a no-op. */
void hlc_store_free(struct hlc_store *s);
/* The schema level of the open database (PRAGMA user_version). */
int hlc_store_schema_version(struct hlc_store *s);
/* The schema level this build upgrades to. This function can't fail. */
int hlc_store_latest_version(void);
/* A number that changes after every call that wrote to the database: lets
 * callers cache what they computed from it. Lock-free. */
unsigned long long hlc_store_generation(struct hlc_store *s);
/* Changes after every committed write to the alerts table (lock-free). */
unsigned long long hlc_store_alerts_generation(struct hlc_store *s);
/* Changes after every write that adds, edits or deletes a machine or sets
 * its expected services (lock-free): what a poll reads about a machine. */
unsigned long long hlc_store_machines_generation(struct hlc_store *s);
/* True when a trivial query answers. */
bool hlc_store_ping(struct hlc_store *s);
/* Database file sizes and row counts for /system/stats (new object). */
int hlc_store_stats(struct hlc_store *s, json_t **out);

/* ---- backup and restore (store_backup.c): by file, beside any open store ---- */

/* PRAGMA integrity_check of the database file at `path`, opened read-only.
 * 0 when it is sound; HLC_ENOTFOUND (no file), HLC_EDB (not a database or
 * damaged). *schema (may be NULL) = its schema level. why (whylen bytes)
 * says what is wrong in words. */
int hlc_store_check_file(const char *path, int *schema, char *why, size_t whylen);
/* A consistent copy of the live database at db_path into dest, through
 * SQLite's online backup API while the hub may be writing: one read
 * transaction (a snapshot), written to dest.tmp-PID, integrity-checked,
 * fsynced and renamed over dest. On failure dest is untouched. */
int hlc_store_backup_file(const char *db_path, const char *dest, char *why, size_t whylen);
/* Puts the backup `src` in place of db_path (the hub must be stopped): src
 * is integrity-checked and must not be newer than this build's schema, is
 * copied to a temporary file beside db_path and checked again, the old
 * -wal/-shm files are removed and the copy renamed into place. On failure
 * before the rename nothing changed. */
int hlc_store_restore_file(const char *src, const char *db_path, char *why, size_t whylen);

/* ---- machines (TRD "servers") -------------------------------------- */

/* Inserts a validated machine object (keys as in the API). HLC_EEXISTS when
 * the server_id is taken. Expected services in "expected_services" are
 * inserted in the same transaction. */
int hlc_store_machine_insert(struct hlc_store *s, json_t *m);
/* One machine with its expected services; HLC_ENOTFOUND. */
int hlc_store_machine_get(struct hlc_store *s, const char *id, json_t **out);
/* Every machine, ordered by the saved card order then id (new array). */
int hlc_store_machine_list(struct hlc_store *s, json_t **out);
/* Applies the writable keys present in `patch` atomically; HLC_ENOTFOUND. */
int hlc_store_machine_update(struct hlc_store *s, const char *id, json_t *patch);
/* Deletes the machine and, through foreign keys, all of its data. */
int hlc_store_machine_delete(struct hlc_store *s, const char *id);
/* Expected services [{name, critical, created_at}] of one machine. */
int hlc_store_services_get(struct hlc_store *s, const char *id, json_t **out);
/* The names of a machine's expected services, sorted (heap array of heap
 * strings, *n of them; free each and the array): what a poll asks about.
 * 0, HLC_ENOTFOUND (no such machine), HLC_EDB. */
int hlc_store_service_names(struct hlc_store *s, const char *id, size_t max, char ***names,
                            size_t *n);
/* Replaces the expected services (array of {name, critical}) in one transaction. */
int hlc_store_services_set(struct hlc_store *s, const char *id, json_t *services);
/* Sets sort_order for the listed ids in one transaction (dashboard card order). */
int hlc_store_machine_order_set(struct hlc_store *s, json_t *ids);

/* ---- configuration (TRD "config" key/value) ------------------------- */

/* The JSON stored under `key`; HLC_ENOTFOUND when never set. */
int hlc_store_config_get(struct hlc_store *s, const char *key, json_t **out);
/* One number of a config row: 0 and *out, HLC_ENOTFOUND when the row or
 * the field is missing or not a number. */
int hlc_store_config_number(struct hlc_store *s, const char *key, const char *field, double *out);
/* Stores `value` under `key` (insert or replace). */
int hlc_store_config_set(struct hlc_store *s, const char *key, json_t *value);
/* Stores every key of `obj` in one transaction: all or nothing. */
int hlc_store_config_set_many(struct hlc_store *s, json_t *obj);

/* ---- metrics (collect): samples, hourly rollups, latest snapshots ---- */

struct hlc_sample;

/* One sample's headline numbers as stored per row. Doubles that are NaN and
 * integers below 0 are stored as NULL (the metric was missing). */
struct hlc_metric_point {
    int64_t timestamp;                          /* sample time, epoch seconds */
    double cpu_percent, memory_percent, disk_percent;
    int64_t memory_used, memory_total, swap_used, swap_total;
    int64_t disk_used, disk_total;              /* the fs behind disk_percent */
    int64_t rx_bytes, tx_bytes;                 /* counters summed over interfaces */
    double rx_bps, tx_bps;                      /* rates summed likewise */
    double load1, load5, load15;
    int64_t uptime_seconds;
    double cpu_temp_c;
};

/* One ingested sample to store: the history row, its hourly rollup, and,
 * when it is the machine's newest, the latest row (counters + `latest_json`,
 * the API's latest object), the filesystem/service/container snapshots of
 * the sections it carries (rows rewritten only for the HLC_HAVE_FS/SERVICES/
 * CONTAINERS bits in `write_snapshots`, i.e. when the caller saw them change;
 * their checked_at moves on either way), and the machine's last_seen (= now),
 * status 'online', last_error NULL and OS fields. A sample whose
 * (server_id, timestamp) is already stored changes nothing. */
struct hlc_metric_write {
    const char *id;                     /* server_id */
    const struct hlc_sample *smp;       /* the derived sample */
    const struct hlc_metric_point *point; /* its headline numbers */
    const char *source;                 /* "ssh" or "agent" */
    const char *latest_json;            /* the latest object, serialized */
    unsigned write_snapshots;           /* HLC_HAVE_* sections to rewrite */
    int64_t now;                        /* contact time for last_seen */
    int rc;                             /* out: 0, HLC_ENOTFOUND or HLC_EDB */
    bool duplicate;                     /* out: already stored, nothing changed */
    bool newest;                        /* out: became the machine's latest */
};
/* Stores n samples in one transaction (group commit), each in its own
 * savepoint so one failing leaves the others stored. Returns 0 when the
 * transaction committed (see each w[i]->rc) or HLC_EDB (every rc set). */
int hlc_store_metrics_ingest_batch(struct hlc_store *s, struct hlc_metric_write *const *w,
                                   size_t n);
/* The same for one sample; returns w->rc. */
int hlc_store_metrics_ingest(struct hlc_store *s, struct hlc_metric_write *w);
/* Fills prev (initialised by the caller) with the counters of the machine's
 * latest stored sample, enough for hlc_sample_derive(): timestamp, have,
 * cpu_total/idle, boot_time, net[] counters. HLC_ENOTFOUND when none. */
int hlc_store_metrics_baseline(struct hlc_store *s, const char *id, struct hlc_sample *prev);
/* The latest object of one machine (new reference); HLC_ENOTFOUND when the
 * machine has no sample yet. */
int hlc_store_metrics_latest(struct hlc_store *s, const char *id, json_t **out);
/* The same latest sample as the JSON text it is stored as (heap, caller
 * frees): for replies that send it unchanged. 0, HLC_ENOTFOUND, HLC_EDB. */
int hlc_store_metrics_latest_text(struct hlc_store *s, const char *id, char **out, size_t *len);
/* Every machine's latest object keyed by server_id (new object). */
int hlc_store_metrics_latest_all(struct hlc_store *s, json_t **out);
/* History between [from, to) in buckets of `bucket` seconds aligned to the
 * epoch: {"timestamps":[...], "series":{metric:{avg,min,max}}}, only buckets
 * with data. From the hourly rollups when `rollups`, else the samples.
 * HLC_ENOTFOUND when there is no such machine. */
int hlc_store_metrics_history(struct hlc_store *s, const char *id, int64_t from, int64_t to,
                              int64_t bucket, bool rollups, json_t **out);
/* Each filesystem's used % between [from, to) in buckets of `bucket` seconds
 * aligned to the epoch, from the hourly sums when `rollups`, else the samples:
 * {"filesystems":[{"mount", "series":[{"t", "used_percent"}]}] sorted by mount,
 * only buckets with data, "truncated": true when more than max_mounts mounts
 * had data (the first max_mounts are kept)}. HLC_ENOTFOUND for an unknown
 * machine, HLC_EINVAL for a bucket or max_mounts of 0. */
int hlc_store_fs_history(struct hlc_store *s, const char *id, int64_t from, int64_t to,
                         int64_t bucket, bool rollups, size_t max_mounts, json_t **out);
/* Each temperature sensor's degrees Celsius the same way:
 * {"temperatures":[{"zone", "series":[{"t", "celsius"}]}] sorted by zone,
 * "truncated" past max_zones}. HLC_ENOTFOUND, HLC_EINVAL as above. */
int hlc_store_temp_history(struct hlc_store *s, const char *id, int64_t from, int64_t to,
                           int64_t bucket, bool rollups, size_t max_zones, json_t **out);
/* Fleet counts and averages for /metrics/summary (new object). */
int hlc_store_metrics_summary(struct hlc_store *s, json_t **out);
/* Every machine's CPU and memory % averaged per `bucket` seconds over [from, to):
 * {"<id>": {"i": [bucket index from from/bucket], "cpu": [...], "mem": [...]}},
 * machines without samples left out. */
int hlc_store_metrics_sparklines(struct hlc_store *s, int64_t from, int64_t to, int64_t bucket,
                                 json_t **out);
/* Deletes at most `batch` samples, `batch` filesystem and `batch` temperature
 * samples older than samples_before and at most `batch` hourly rollups and
 * `batch` filesystem and temperature hourly sums older than hourly_before, in
 * one short transaction.
 * *deleted = rows removed (0 when nothing is left to prune). */
int hlc_store_metrics_prune(struct hlc_store *s, int64_t samples_before, int64_t hourly_before,
                            int batch, int *deleted);
/* Expected services merged with the latest systemd state (and any reported
 * unit not expected): [{service_name, critical, status, active_state,
 * sub_state, pid, memory_bytes, cpu_usage_ns, checked_at}]. HLC_ENOTFOUND. */
int hlc_store_service_states(struct hlc_store *s, const char *id, json_t **out);
/* Latest containers [{id, name, image, state, status, checked_at}]. HLC_ENOTFOUND. */
int hlc_store_container_states(struct hlc_store *s, const char *id, json_t **out);

/* ---- Prometheus exposition (store_prometheus.c) ----------------------- */

/* What one /metrics scrape shows, read in one read transaction (new object):
 * {"machines":[{server_id, machine_type, status, last_seen, boot_time,
 * latest (the latest object or null)}], "services":[{server_id, service,
 * critical, status}] (expected services), "containers":[{server_id, name,
 * state}], "alerts":[{severity, count}] (active alerts)}. */
int hlc_store_prom_snapshot(struct hlc_store *s, json_t **out);

/* ---- credentials: sealed secrets (the values are crypto/ tokens) ---- */

struct hlc_cred_row {
    const char *id;          /* uuid */
    const char *kind;        /* ssh_private_key, tailscale_api_key, slack_webhook, ... */
    const char *server_id;   /* NULL = global */
    const char *ssh_user;    /* for SSH keys, NULL = the machine's ssh_user */
    const char *public_key;  /* for SSH keys: authorized_keys form (not secret) */
    bool is_identity;        /* the hub's own generated SSH identity */
    const char *sealed;      /* the token */
    const char *key_id;      /* id of the key that sealed it */
};
/* Inserts a credential; when `replace` is set, credentials of the same kind
 * and scope (identity excluded) are deleted in the same transaction.
 * HLC_ENOTFOUND when server_id names no machine; HLC_EEXISTS for a second
 * identity. */
int hlc_store_cred_insert(struct hlc_store *s, const struct hlc_cred_row *row, bool replace);
/* Metadata of every credential, never the sealed value (new array). */
int hlc_store_cred_list(struct hlc_store *s, json_t **out);
/* HLC_ENOTFOUND, or HLC_ESTATE for the hub identity (it cannot be deleted). */
int hlc_store_cred_delete(struct hlc_store *s, const char *id);
/* Deletes every global credential of `kind` (a cleared setting). */
int hlc_store_cred_delete_kind(struct hlc_store *s, const char *kind);
/* The newest global credential of `kind` (identity excluded), or with
 * identity=true the hub identity. Heap copies of the sealed value and, when
 * asked, of public_key (may be NULL). HLC_ENOTFOUND when none. A machine's
 * SSH credential: hlc_store_cred_for_machine. */
int hlc_store_cred_find(struct hlc_store *s, const char *kind, bool identity, char **sealed,
                        char **public_key);
/* The SSH credential a machine connects with, found in one query: its own
 * ssh_private_key, else the fleet-wide one, else the hub identity. Heap
 * copies of the sealed key (when `sealed` is not NULL) and of the user it
 * logs in as: the credential's, else the machine's ssh_user, else
 * "homelabcmd". HLC_ENOTFOUND when the machine or every credential is missing. */
int hlc_store_cred_for_machine(struct hlc_store *s, const char *server_id, char **sealed,
                               char **ssh_user);
/* Re-seals every credential in ONE transaction: fn gets each sealed value and
 * returns 0 with the new token and key id (heap), or an error that rolls the
 * whole transaction back and is returned. *count = credentials re-sealed. */
typedef int (*hlc_cred_reseal_fn)(void *ud, const char *sealed, char **resealed, char **key_id);
int hlc_store_cred_reseal(struct hlc_store *s, hlc_cred_reseal_fn fn, void *ud, int *count);
/* Before the store is opened: reads the sealed values of the database at
 * `path` through a read-only connection that runs no migration and writes
 * nothing, calling fn for each (fn returning non-zero stops and is returned).
 * *count = credentials seen; 0 when the file or the table does not exist. */
int hlc_store_cred_peek(const char *path, int (*fn)(void *ud, const char *sealed), void *ud,
                        int *count);

/* ---- costs ------------------------------------------------------------- */

/* Every machine with what its cost needs: [{server_id, display_name,
 * hostname, machine_type, tdp_watts, registered_at (epoch s),
 * up_hours_window (hours up since window_from; workstations only, null
 * for servers), up_hours_month (since month_from)}], in card order. Up-time
 * is estimated from the hourly rollups: samples in an hour x the sampling
 * interval (agent_interval_s for workstations, the machine's poll interval or
 * poll_interval_s otherwise), capped at one hour per hour. */
int hlc_store_costs_usage(struct hlc_store *s, int64_t window_from, int64_t month_from,
                          int agent_interval_s, int poll_interval_s, json_t **out);

/* ---- alerts and the notification outbox ------------------------------ */

/* One row for the outbox: a notification of `kind` ("alert_raised",
 * "alert_resolved", "remediation", "test") to one channel ("slack",
 * "webhook", "ntfy"); payload is the event as JSON text. */
struct hlc_outbox_row {
    const char *channel;
    const char *kind;
    const char *alert_id; /* may be NULL */
    const char *payload;
};

/* One change the alert engine makes: raise a new alert (resolve false), or
 * resolve the active alert alert_id automatically (resolve true). The
 * notification rows (nrows, may be 0) are written only when the change
 * applies, in the same transaction. */
struct hlc_alert_change {
    bool resolve;
    char alert_id[37];        /* new alert's uuid (filled by the caller) or the one to resolve */
    const char *server_id;
    const char *severity;     /* critical, high, medium, low */
    const char *type;         /* disk_warning, service_down, ... */
    const char *subject;      /* mount point, unit, container or "" */
    const char *title;
    const char *message;
    double metric_value;      /* NaN = null */
    double threshold_value;   /* NaN = null */
    const struct hlc_outbox_row *rows;
    size_t nrows;
    bool muted;               /* a mute rule matched: no rows, shown as muted */
    bool applied;             /* out: raised (no active duplicate existed) / resolved */
};
/* Applies n changes in one transaction; each change is skipped (applied
 * false) when another writer got there first: a duplicate active alert, or
 * an alert already resolved. 0 or HLC_EDB (nothing written). */
int hlc_store_alerts_apply(struct hlc_store *s, struct hlc_alert_change *ch, size_t n,
                           int64_t now);
/* Active (open or acknowledged) alerts of one machine:
 * [{alert_id, type, subject, severity, status}] (new array). */
int hlc_store_alerts_active(struct hlc_store *s, const char *server_id, json_t **out);
/* One alert as the API shows it (with auto_remediation); HLC_ENOTFOUND. */
int hlc_store_alert_get(struct hlc_store *s, const char *id, json_t **out);
struct hlc_alert_filter {
    const char *status;    /* open, acknowledged, resolved, active (= open|acknowledged) or NULL */
    const char *severity;  /* or NULL */
    const char *server_id; /* or NULL */
    const char *type;      /* or NULL */
    int limit, offset;
};
/* Alerts newest first (new array) and how many match in all. */
int hlc_store_alerts_list(struct hlc_store *s, const struct hlc_alert_filter *f, json_t **out,
                          long long *total);
/* Operator moves: to "acknowledged" (from open; a no-op when already
 * acknowledged) or "resolved" (from open or acknowledged). HLC_ENOTFOUND,
 * HLC_ESTATE when the alert is resolved already. */
int hlc_store_alert_move(struct hlc_store *s, const char *id, const char *to, int64_t now);
/* Links the remediation action queued for an alert. */
int hlc_store_alert_set_action(struct hlc_store *s, const char *alert_id, const char *action_id);
/* Server-type machines that are offline with no active server_offline alert:
 * [{server_id, display_name, hostname, last_seen, last_error}] (new array). */
int hlc_store_alerts_offline_candidates(struct hlc_store *s, json_t **out);
/* Deletes resolved alerts resolved before `before` and finished outbox rows
 * older than `outbox_before`; *deleted counts both. */
int hlc_store_alerts_prune(struct hlc_store *s, int64_t before, int64_t outbox_before,
                           int *deleted);

/* Inserts outbox rows in one transaction (notifications not tied to a row
 * change elsewhere: a test message). */
int hlc_store_outbox_insert(struct hlc_store *s, const struct hlc_outbox_row *rows, size_t n,
                            int64_t now);
/* Up to `limit` pending rows due at now_ms, oldest first:
 * [{id, channel, kind, alert_id, payload, attempts, created_at}] (new array). */
int hlc_store_outbox_due(struct hlc_store *s, int64_t now_ms, int limit, json_t **out);
/* When the next pending row is due (epoch ms); HLC_ENOTFOUND when none. */
int hlc_store_outbox_next(struct hlc_store *s, int64_t *at_ms);
/* A row was delivered (2xx): it will never be sent again. */
int hlc_store_outbox_delivered(struct hlc_store *s, long long id, int64_t now);
/* A delivery failed: retry at next_ms, or give up (dead) with the error. */
int hlc_store_outbox_failed(struct hlc_store *s, long long id, int64_t next_ms, bool dead,
                            const char *error);
/* Holds back every pending row of `channel` until at least until_ms (a
 * channel that is down is retried as a whole, oldest first, never one row
 * after another while the rest wait). */
int hlc_store_outbox_hold(struct hlc_store *s, const char *channel, int64_t until_ms);
/* Counts of pending, delivered and dead rows (new object). */
int hlc_store_outbox_stats(struct hlc_store *s, json_t **out);

/* ---- actions (executor): remediation actions, audit log, custom scripts ---- */

/* A new action row. Times are epoch seconds; 0 stores NULL. */
struct hlc_action_row {
    const char *action_id;    /* uuid */
    const char *server_id;    /* machine */
    const char *alert_id;     /* triggering alert, may be NULL */
    const char *action_type;  /* whitelisted type name */
    const char *target;       /* unit, container, path, script name */
    const char *parameters;   /* JSON object text, NULL = "{}" */
    const char *status;       /* "pending" or "approved" */
    bool auto_approved;       /* approved by the remediation config */
    const char *requested_by; /* "api_key@<ip>", "alert:<id>", ... */
    const char *command;      /* the command line it will run (for review) */
    int64_t created_at;
    int64_t approved_at;
};
/* HLC_ENOTFOUND when server_id names no machine, HLC_EEXISTS for a taken id. */
int hlc_store_action_insert(struct hlc_store *s, const struct hlc_action_row *row);
/* The action as the API shows it (TRD action schema plus command, outcome
 * and failure_reason); HLC_ENOTFOUND. */
int hlc_store_action_get(struct hlc_store *s, const char *id, json_t **out);
/* Newest first, at most `limit`: status NULL = any; `history` = only
 * completed/failed/rejected; server_id NULL = every machine (new array). */
int hlc_store_action_list(struct hlc_store *s, const char *status, const char *server_id,
                          bool history, int limit, json_t **out);
/* Moves the action from state `from` to `to` in one UPDATE ... WHERE
 * status=from, stamping approved_at (to approved), executed_at (to executing)
 * or completed_at (to rejected) with `at`, so two callers can never both make
 * the same move. 0, HLC_ENOTFOUND, or HLC_ESTATE when it is not in `from`. */
int hlc_store_action_transition(struct hlc_store *s, const char *id, const char *from,
                                const char *to, int64_t at);
/* How an executing action ended, and who made it run (for the audit row). */
struct hlc_action_outcome {
    bool success;              /* completed (true) or failed */
    const char *command;       /* the exact command line sent */
    bool ran;                  /* a command was sent (exit_code/output meaningful) */
    int exit_code;             /* remote exit status, when ran and finished */
    bool exited;               /* exit_code is known */
    const char *out;           /* stdout (valid UTF-8, capped), may be NULL */
    bool out_truncated;
    const char *err;           /* stderr, likewise */
    bool err_truncated;
    int64_t duration_ms;       /* wall time of the exec, -1 = none */
    const char *reason;        /* why it failed (timeout, unreachable...), NULL */
    const char *trigger;       /* "api_key", "auto_approve" */
    const char *actor;         /* who: "api_key@127.0.0.1", "alert:<id>", ... */
    size_t audit_out_cap;      /* output kept in the audit row per stream */
    int64_t at;                /* completion time */
    const struct hlc_outbox_row *notify; /* remediation notifications, may be NULL */
    size_t nnotify;
};
/* executing -> completed|failed with the outcome, the audit row appended
 * and the notification rows queued, in one transaction. HLC_ENOTFOUND, HLC_ESTATE (not executing). */
int hlc_store_action_finish(struct hlc_store *s, const char *id,
                            const struct hlc_action_outcome *o);
/* At start-up: actions left approved or executing by a hub that stopped are
 * marked failed ("interrupted"). *count = rows changed. */
int hlc_store_action_recover(struct hlc_store *s, int64_t at, int *count);

/* Deletes finished actions (completed, failed, rejected) that ended before
 * `before` (TRD retention); the audit log keeps their record. */
int hlc_store_action_prune(struct hlc_store *s, int64_t before, int *deleted);

/* Audit log filters; NULL/0 = no filter. limit 1..1000. */
struct hlc_audit_filter {
    const char *server_id;
    const char *action_type;
    int64_t since, until; /* created_at in [since, until] */
    int limit;
};
/* Newest first (new array). The audit log has no update or delete. */
int hlc_store_audit_list(struct hlc_store *s, const struct hlc_audit_filter *f, json_t **out);

/* Custom scripts of one machine. insert: HLC_ENOTFOUND (no machine),
 * HLC_EEXISTS (name taken). */
int hlc_store_script_insert(struct hlc_store *s, const char *server_id, const char *name,
                            const char *script, const char *description);
/* [{name, script, description, created_at}] by name; HLC_ENOTFOUND (no machine). */
int hlc_store_script_list(struct hlc_store *s, const char *server_id, json_t **out);
/* The body of one script (heap); HLC_ENOTFOUND. */
int hlc_store_script_get(struct hlc_store *s, const char *server_id, const char *name,
                         char **script);
/* HLC_ENOTFOUND when there is no such script. */
int hlc_store_script_delete(struct hlc_store *s, const char *server_id, const char *name);
/* ---- poller: who to poll, host keys, reachability ------------------ */

/* What the poller needs to reach one machine (heap strings; release with
 * hlc_store_ssh_target_release). */
struct hlc_store_ssh_target {
    char *address;        /* connectivity tailscale: tailscale_ip or name; direct: ip or hostname */
    int port;             /* ssh_port */
    char *pinned;         /* host_key_fingerprint, NULL before first contact */
    bool changed;         /* a changed key is waiting to be accepted */
    char *user;           /* ssh_user, NULL when unset */
};
void hlc_store_ssh_target_release(struct hlc_store_ssh_target *t);
/* HLC_ENOTFOUND when there is no such machine. */
int hlc_store_ssh_target(struct hlc_store *s, const char *id, struct hlc_store_ssh_target *t);
/* Machines polled over SSH (machine_type 'server') with their interval
 * (their own, else default_interval): a heap array of `struct
 * hlc_poll_entry` from hlc/poller.h. A server whose push agent reported at
 * or after agent_since is left out: its agent is the source while it talks,
 * and SSH takes over when it falls silent. */
int hlc_store_poll_targets(struct hlc_store *s, int default_interval, int64_t agent_since,
                           void **list, size_t *n);
/* Pins a first-seen host key (only if none is pinned yet). */
int hlc_store_hostkey_pin(struct hlc_store *s, const char *id, const char *fingerprint);
/* Records a changed host key and the reason in last_error. */
int hlc_store_hostkey_changed(struct hlc_store *s, const char *id, const char *fingerprint,
                              const char *reason);
/* Pins the pending key. HLC_ENOTFOUND, or HLC_ESTATE when no change waits. */
int hlc_store_hostkey_accept(struct hlc_store *s, const char *id);
/* Sets last_error (a person's reason for the last failed contact). */
int hlc_store_machine_set_error(struct hlc_store *s, const char *id, const char *reason);
/* Marks online machines whose last contact is older than threshold_s
 * offline; *changed = how many. */
int hlc_store_machines_mark_offline(struct hlc_store *s, int64_t now, int threshold_s,
                                    int *changed);

/* ---- dashboard: widget layouts (store_layout.c) ---- */
/* *out = the saved layouts, {"lg":[...],"md":[...],"sm":[...]} holding only the
 * breakpoints that have one (a layout stored as a plain array before breakpoints
 * is lg); the caller frees it. HLC_ENOTFOUND when the machine does not exist. */
int hlc_store_layout_get(struct hlc_store *s, const char *id, json_t **out);
/* In one transaction: sets each breakpoint of patch (an object the caller
 * validated, keys lg/md/sm) whose value is an array, removes each whose value is
 * null, keeps the others; *out = the document as saved (caller frees).
 * HLC_ENOTFOUND, HLC_EDB, HLC_ENOMEM (then *out stays NULL). */
int hlc_store_layout_merge(struct hlc_store *s, const char *id, json_t *patch, json_t **out);

/* ---- tailscale: imported tailnet nodes (store_tailscale.c) ---- */

/* What one node looks like (the import's and the sync's view of it). */
struct hlc_store_ts_node {
    const char *node_id;       /* stable node id */
    const char *name;          /* MagicDNS FQDN or NULL */
    const char *hostname;      /* OS host name or NULL */
    const char *tailscale_ip;  /* first IPv4 (else IPv6) or NULL */
    const char *os;            /* or NULL */
    int online;                /* 1, 0, -1 unknown (stored NULL) */
    int64_t last_seen;         /* 0 = unknown */
    int64_t key_expiry;        /* 0 = none / never */
    bool key_expiry_disabled;
};
/* Creates machine `m` (validated, as hlc_store_machine_insert) and its link
 * to node n in one transaction. HLC_EEXISTS when the server_id is taken,
 * HLC_ESTATE when the node is already linked to a machine. */
int hlc_store_ts_import(struct hlc_store *s, json_t *m, const struct hlc_store_ts_node *n);
/* What import matches against (new object): {"by_node": {node_id:
 * server_id}, "by_ip": {tailscale_ip: server_id} (every machine with one),
 * "ids": {server_id: true} (every machine)}. */
int hlc_store_ts_known(struct hlc_store *s, json_t **out);
/* Every link: [{node_id, server_id, name, hostname, tailscale_ip, os,
 * online, last_seen, key_expiry, key_expiry_disabled, state, left_at,
 * imported_at, synced_at, expiry_alerted}] by server_id (new array). */
int hlc_store_ts_links(struct hlc_store *s, json_t **out);
/* Applies one sync in one transaction: every linked node found in
 * seen[0..n) (sorted by node_id with strcmp) is refreshed and marked
 * present, and its machine's tailscale_ip / tailscale_hostname follow when
 * they changed; a linked node not in seen is marked left (left_at = now).
 * *changes = [{server_id, node_id, change: "moved"|"left"|"returned"}]. */
int hlc_store_ts_sync_apply(struct hlc_store *s, const struct hlc_store_ts_node *seen, size_t n,
                            int64_t now, json_t **changes);
/* Records the key expiry an alert was raised for (0 = none). */
int hlc_store_ts_set_alerted(struct hlc_store *s, const char *node_id, int64_t expiry);

/* ---- push agents' credentials (store_agents.c) ---- */
/* Tokens are never stored, only their BLAKE2b-256 hash (HLC_STORE_TOKEN_HASH
 * bytes); a token is found by its hash. */
#define HLC_STORE_TOKEN_HASH 32

/* An unspent, unexpired enrollment token as found by its hash. */
struct hlc_enroll_row {
    char id[40];           /* its public id */
    char server_id[64];    /* the machine it is bound to, "" when none */
    char machine_type[16]; /* the type it is bound to, "" when none */
};
/* Stores a new enrollment token (server_id, machine_type may be NULL). */
int hlc_store_enroll_insert(struct hlc_store *s, const char *id,
                            const unsigned char hash[HLC_STORE_TOKEN_HASH], const char *server_id,
                            const char *machine_type, int64_t created_at, int64_t expires_at);
/* Every enrollment token, newest first, with its status at `now`
 * ("active", "used", "expired"); never a secret (new array). */
int hlc_store_enroll_list(struct hlc_store *s, int64_t now, json_t **out);
/* Revokes (deletes) one; HLC_ENOTFOUND. */
int hlc_store_enroll_delete(struct hlc_store *s, const char *id);
/* The unspent token with this hash valid at `now`; HLC_ENOTFOUND otherwise. */
int hlc_store_enroll_find(struct hlc_store *s, const unsigned char hash[HLC_STORE_TOKEN_HASH],
                          int64_t now, struct hlc_enroll_row *out);
/* In one transaction: spends the enrollment token (HLC_ENOTFOUND when it was
 * spent, revoked or expired meanwhile), registers `machine` (a validated
 * machine object) unless its server_id exists, and issues agent token
 * `token_id`. When `replace` is false and the machine already has an agent
 * token, nothing is written and HLC_EEXISTS is returned; when true its
 * older agent tokens are deleted. */
int hlc_store_enroll_redeem(struct hlc_store *s, const unsigned char hash[HLC_STORE_TOKEN_HASH],
                            int64_t now, json_t *machine, bool replace, const char *token_id,
                            const unsigned char token_hash[HLC_STORE_TOKEN_HASH]);

/* An agent token as found by its hash. */
struct hlc_agent_token_row {
    char id[40];           /* its public id */
    char server_id[64];    /* the one machine it speaks for */
};
int hlc_store_agent_token_find(struct hlc_store *s,
                               const unsigned char hash[HLC_STORE_TOKEN_HASH],
                               struct hlc_agent_token_row *out);
/* A machine's agent tokens [{id, created_at, last_used_at, last_used_ip}],
 * oldest first; HLC_ENOTFOUND when the machine does not exist. */
int hlc_store_agent_token_list(struct hlc_store *s, const char *server_id, json_t **out);
/* Revokes one of the machine's tokens; HLC_ENOTFOUND. */
int hlc_store_agent_token_delete(struct hlc_store *s, const char *server_id, const char *id);
/* Replaces token old_id of the machine by new_id in one transaction (the old
 * one stops working at once); HLC_ENOTFOUND. */
int hlc_store_agent_token_rotate(struct hlc_store *s, const char *server_id, const char *old_id,
                                 const char *new_id,
                                 const unsigned char hash[HLC_STORE_TOKEN_HASH]);
/* Records how a machine's heartbeat signed in: servers.agent_auth =
 * "agent_token" (token_id given: its last_used_at/_ip set too) or
 * "admin_key" (token_id NULL). */
int hlc_store_agent_seen(struct hlc_store *s, const char *server_id, const char *token_id,
                         const char *ip, int64_t now);
/* ---- config packs: compliance checks (store_packs.c) ---- */

/* One finished check of one pack on one machine. */
struct hlc_compliance_row {
    const char *server_id;  /* machine */
    const char *pack;       /* pack name */
    int64_t checked_at;     /* epoch seconds */
    bool compliant;         /* no item failed or errored */
    int npass, nfail, nerror; /* item counts */
    json_t *items;          /* the API's items array (borrowed) */
};
/* Stores a check and prunes the pair's history to its newest 50.
 * HLC_ENOTFOUND when the machine does not exist. */
int hlc_store_compliance_add(struct hlc_store *s, const struct hlc_compliance_row *row);
/* Machine id's newest check per pack (*latest: array of
 * {pack, compliant, checked_at, counts, items}) and its last `limit` checks
 * of any pack (*history: array without items). HLC_ENOTFOUND: no machine. */
int hlc_store_compliance_server(struct hlc_store *s, const char *id, int limit, json_t **latest,
                                json_t **history);
/* The newest check of every machine x pack pair: array of
 * {server_id, pack, compliant, checked_at, fail, error}. */
int hlc_store_compliance_fleet(struct hlc_store *s, json_t **out);
/* ---- config packs: assignments and drift (store_packs_assign.c) ---- */
/* Replaces machine id's own packs (names, validated) / tag's packs.
 * HLC_ENOTFOUND: no machine. */
int hlc_store_packs_assign_machine(struct hlc_store *s, const char *id, json_t *packs);
int hlc_store_packs_assign_tag(struct hlc_store *s, const char *tag, json_t *packs);
/* Drops one of machine id's own packs; HLC_ENOTFOUND when it had none. */
int hlc_store_packs_unassign_machine(struct hlc_store *s, const char *id, const char *pack);
/* The packs reaching machine id: [{name, sources: ["machine", "tag:<t>"...]}]
 * by name. HLC_ENOTFOUND: no machine. */
int hlc_store_packs_effective(struct hlc_store *s, const char *id, json_t **out);
/* Every tag's packs: {tag: [names]}. */
int hlc_store_packs_tags(struct hlc_store *s, json_t **out);
/* Machine id's drift schedule: its interval override in hours (-1 = the
 * fleet's) and when a scheduled run last checked it (0 = never). */
int hlc_store_packs_drift_get(struct hlc_store *s, const char *id, int *interval_hours,
                              int64_t *last_run);
/* Sets the override (-1 clears it) / the last run; HLC_ENOTFOUND: no machine. */
int hlc_store_packs_drift_interval(struct hlc_store *s, const char *id, int interval_hours);
int hlc_store_packs_drift_ran(struct hlc_store *s, const char *id, int64_t at);
/* Records a check's verdict of pack on machine id; *ever_before says whether
 * an earlier check had found it compliant. */
int hlc_store_packs_state(struct hlc_store *s, const char *id, const char *pack, bool compliant,
                          bool *ever_before);
/* ---- config packs: what an apply replaced (store_packs_apply.c) ---- */
#define HLC_STORE_PREVIOUS_KEEP 10         /* versions kept per machine and path */
#define HLC_STORE_PREVIOUS_MAX (64 * 1024) /* bytes of one file kept */
/* Keeps the content `path` had before pack `pack` replaced it on machine
 * server_id (cut to HLC_STORE_PREVIOUS_MAX), pruning the path's older ones.
 * HLC_ENOTFOUND when the machine does not exist. */
int hlc_store_pack_previous_add(struct hlc_store *s, const char *server_id, const char *pack,
                                const char *path, int64_t at, const char *content, size_t len);
/* [{path, pack, replaced_at (ISO), content}] of machine server_id, newest
 * first, at most 200; pack NULL = every pack. HLC_ENOTFOUND: no machine. */
int hlc_store_pack_previous_list(struct hlc_store *s, const char *server_id, const char *pack,
                                 json_t **out);
/* ---- service checks (store_checks.c) ---- */
/* A check is its validated API object (`def`: name, type, interval_seconds,
 * run_from, the type's target, ...); the store adds id, created_at and
 * updated_at. Results are per place: "hub" or a server_id. */
/* Inserts; *id = the new check's id. */
int hlc_store_check_insert(struct hlc_store *s, json_t *def, int64_t *id);
/* Replaces the definition; HLC_ENOTFOUND. */
int hlc_store_check_update(struct hlc_store *s, int64_t id, json_t *def);
/* Deletes the check and its results; HLC_ENOTFOUND. */
int hlc_store_check_delete(struct hlc_store *s, int64_t id);
/* One check: def + {id, created_at, updated_at, latest: [state per place]};
 * HLC_ENOTFOUND. */
int hlc_store_check_get(struct hlc_store *s, int64_t id, json_t **out);
/* Every check as hlc_store_check_get shows it, by id (new array). */
int hlc_store_check_list(struct hlc_store *s, json_t **out);
/* One judged run to record. */
struct hlc_check_record {
    int64_t check_id;
    const char *place;   /* "hub" or a server_id */
    int64_t ts_ms;       /* when it ran, epoch ms */
    bool ok;
    double response_ms;  /* NaN = null */
    int status_code;     /* < 0 = null */
    double cert_days;    /* NaN = null */
    const char *error;   /* NULL or "" when ok */
    /* out: */
    int prev_fails;      /* consecutive failures before this run (0 first time) */
    int fails;           /* after it */
    double prev_cert_days; /* NaN when unknown */
    bool first;          /* no earlier state at this place */
};
/* The result row, its hourly rollup and the place's latest state, in one
 * transaction. HLC_ENOTFOUND when the check is gone (nothing written). */
int hlc_store_check_record(struct hlc_store *s, struct hlc_check_record *r);
/* {check_id, places: [state + uptime {"24h","7d","30d"} (percent or null)],
 *  history: [{place, time, ok, response_ms, status_code, cert_days, error}]}
 * newest first, at most `limit`, only `place` when not NULL; HLC_ENOTFOUND. */
int hlc_store_check_results(struct hlc_store *s, int64_t id, const char *place, int limit,
                            int64_t now, json_t **out);
/* Deletes at most `batch` results older than results_before_ms and hourly
 * rows older than hourly_before (epoch s); *deleted = rows removed. */
int hlc_store_check_prune(struct hlc_store *s, int64_t results_before_ms, int64_t hourly_before,
                          int batch, int *deleted);

/* ---- alert rules: per-machine threshold overrides, mute rules ---------- */

/* A machine's threshold overrides as stored ({key: number}, {} when none; new
 * object). HLC_ENOTFOUND for an unknown machine. */
int hlc_store_thresholds_override_get(struct hlc_store *s, const char *server_id, json_t **out);
/* Replaces a machine's overrides (validated by the caller); an empty object
 * removes them. HLC_ENOTFOUND for an unknown machine (nothing written). */
int hlc_store_thresholds_override_set(struct hlc_store *s, const char *server_id,
                                      json_t *overrides, int64_t now);
/* Every machine's overrides: {server_id: {key: number}} (new object). */
int hlc_store_thresholds_overrides_all(struct hlc_store *s, json_t **out);

/* A mute rule: alerts of alert_type on server_id (NULL = all for either)
 * send no message until `until` (0 = indefinitely). */
struct hlc_alert_mute {
    const char *server_id;  /* may be NULL: every machine */
    const char *alert_type; /* may be NULL: every type */
    int64_t until;          /* epoch seconds, 0 = until removed */
    const char *reason;     /* may be NULL */
    const char *created_by; /* "api_key@<ip>" */
};
/* Adds a rule and its audit row (command = summary) in one transaction;
 * *out = the rule {id, server_id, alert_type, until, reason, created_at,
 * created_by}. HLC_ENOTFOUND when server_id names no machine. */
int hlc_store_mute_add(struct hlc_store *s, const struct hlc_alert_mute *m, const char *summary,
                       int64_t now, json_t **out);
/* Removes a rule and appends its audit row. HLC_ENOTFOUND. */
int hlc_store_mute_delete(struct hlc_store *s, long long id, const char *actor, int64_t now);
/* Rules still in force at `now`, newest first (new array). */
int hlc_store_mutes_list(struct hlc_store *s, int64_t now, json_t **out);
/* *muted = a rule in force at `now` covers alerts of `type` on server_id
 * (NULL: an alert tied to no machine, covered only by all-machine rules). */
int hlc_store_mute_match(struct hlc_store *s, const char *server_id, const char *type, int64_t now,
                         bool *muted);
/* Deletes rules that expired before `before`. */
int hlc_store_mutes_prune(struct hlc_store *s, int64_t before);
/* ---- Ollama endpoints (store_ollama.c) ---- */
/* Machine server_id's endpoint as the API shows it: {server_id, enabled,
 * configured, url, port, via, state, version, models, loaded, error,
 * response_ms, checked_at, since}; a machine never configured nor probed
 * gets the defaults (enabled, port 11434, state "unknown"). HLC_ENOTFOUND
 * when the machine is unknown. */
int hlc_store_ollama_get(struct hlc_store *s, const char *server_id, json_t **out);
/* The endpoints of machines that have Ollama (configured, or answered
 * once), by server_id (new array). */
int hlc_store_ollama_list(struct hlc_store *s, json_t **out);
/* Saves machine server_id's configuration (url NULL = the machine's address
 * on `port`, asked from the hub, or its loopback on `port` asked over its
 * SSH session when via is "ssh"); the state starts again ("unknown", or "disabled"), and an
 * enabled endpoint counts as configured (it alerts even before it first
 * answered). HLC_ENOTFOUND when the machine is unknown. */
int hlc_store_ollama_configure(struct hlc_store *s, const char *server_id, bool enabled,
                               const char *url, int port, const char *via);
/* One probe's findings. */
struct hlc_ollama_record {
    const char *server_id;
    bool ok;             /* it answered all three calls readably */
    const char *version; /* ok: the version */
    json_t *models;      /* ok: installed models (borrowed) */
    json_t *loaded;      /* ok: loaded models (borrowed) */
    const char *error;   /* !ok: why */
    double response_ms;  /* NaN when nothing answered */
    int64_t now;         /* epoch seconds */
    /* filled by the store: */
    char state[16];      /* "up", "down" (it had or was said to have Ollama), "not_detected" */
    int fails;           /* failed probes in a row, this one included */
    bool alertable;      /* it answered once or was configured: a failure may alert */
};
/* Records a probe atomically: on failure the last version and models are
 * kept (nothing of a bad answer is stored). HLC_ENOTFOUND when the machine
 * is gone, HLC_EBUSY when its endpoint is disabled (nothing written). */
int hlc_store_ollama_record(struct hlc_store *s, struct hlc_ollama_record *r);

/* ---- GPU readings (store_gpu.c) ---- */
struct hlc_gpu;
/* Stores one sample's GPUs (taken at ts), adds them to their hour's sums,
 * and drops the machine's readings older than `before` and hourly sums
 * older than `hourly_before`, in one transaction. HLC_ENOTFOUND when the
 * machine is gone. */
int hlc_store_gpu_put(struct hlc_store *s, const char *server_id, int64_t ts,
                      const struct hlc_gpu *gpus, size_t n, int64_t before,
                      int64_t hourly_before);
/* Machine server_id's GPUs: {gpus: [the newest sample's readings], history:
 * [readings since `since`, oldest first, at most `limit`; hourly: the
 * hours' averages (temperature, utilisation, power, VRAM used) instead],
 * resolution: "sample" or "hour"}; each reading {gpu_id, vendor, name,
 * time, util_percent, mem_used_bytes, mem_total_bytes, temp_c, power_w}.
 * HLC_ENOTFOUND for an unknown machine. */
int hlc_store_gpu_get(struct hlc_store *s, const char *server_id, int64_t since, int limit,
                      bool hourly, json_t **out);

/* ---- scans (store_scans.c) ------------------------------------------------ */

/* Scan history kept (TRD: 30 days), then pruned by the metrics pruner. */
#define HLC_SCANS_KEEP_DAYS 30

/* Records a pending scan. 0 or HLC_EDB. */
int hlc_store_scan_insert(struct hlc_store *s, const char *id, const char *host, int port,
                          const char *user, const char *scan_type, int64_t now);
/* pending -> running. 0, HLC_ENOTFOUND (no pending scan with that id), HLC_EDB. */
int hlc_store_scan_running(struct hlc_store *s, const char *id, int64_t now);
/* running -> completed (results: JSON text) or failed (error). fingerprint
 * (may be NULL): the host key the scan trusted. 0, HLC_ENOTFOUND, HLC_EDB. */
int hlc_store_scan_finish(struct hlc_store *s, const char *id, bool ok, const char *error,
                          const char *results, const char *fingerprint, int64_t now);
/* One scan with its results: {scan_id, hostname, port, ssh_user, scan_type,
 * status, error, results, host_key_fingerprint, created_at, started_at,
 * completed_at}. 0, HLC_ENOTFOUND, HLC_EDB. */
int hlc_store_scan_get(struct hlc_store *s, const char *id, json_t **out);
/* Scans newest first, without results, of one host (NULL = all); *total
 * counts all that match. 0 or HLC_EDB. */
int hlc_store_scan_list(struct hlc_store *s, const char *host, int limit, int offset,
                        json_t **out, long long *total);
/* The host key a scan of host:port must present (heap, or NULL when none
 * is known: trust on first use): a registered machine's pin for that
 * address and port first, else the newest scan's. *from (static) says
 * which ("machine" or "scan"). 0 or HLC_EDB. */
int hlc_store_scan_pin(struct hlc_store *s, const char *host, int port, char **fingerprint,
                       const char **from);
/* The registered machine reached at host:port (its hostname or ip_address
 * and ssh_port), the oldest if several: *id heap, or NULL. 0 or HLC_EDB. */
int hlc_store_machine_at(struct hlc_store *s, const char *host, int port, char **id);
/* Scans created before `before` are deleted; *deleted says how many. */
int hlc_store_scans_prune(struct hlc_store *s, int64_t before, int *deleted);
/* Marks every pending or running scan failed with reason (at start-up). */
int hlc_store_scans_fail_unfinished(struct hlc_store *s, const char *reason, int64_t now);
/* A registered machine's OS facts, as a scan found them (NULL keeps one). */
int hlc_store_machine_set_facts(struct hlc_store *s, const char *id, const char *os,
                                const char *version, const char *kernel, const char *arch);

#endif
