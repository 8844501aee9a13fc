/* remote.h - running things on a machine over its pooled SSH session: the
 * hub's glue between the poller library, the store and credentials. The
 * poller service (started in services.c) schedules every server-type
 * machine's poll; this header is what the API and the executor call. */
#ifndef HLC_REMOTE_H
#define HLC_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hlc/poller.h"

struct hlc_hub;

/* Runs `command` on machine server_id (see hlc_poller_exec). 0 = the command
 * ran (look at res->exit_code); HLC_ETIMEOUT (res holds partial output);
 * HLC_ENOTFOUND (no such machine); HLC_ESSH_HOSTKEY / HLC_ESSH_AUTH /
 * HLC_ESSH_CONNECT / HLC_ESSH_NOROUTE / HLC_ESSH_EXEC = could not run, nothing
 * ran; HLC_EIO = the session broke while the command ran (it may have run);
 * HLC_EBUSY when the poller is not running. res is always initialised. */
int hlc_remote_exec(struct hlc_hub *hub, const char *server_id, const char *command,
                    const char *stdin_data, size_t stdin_len, int timeout_ms, size_t out_cap,
                    struct hlc_exec_result *res);

/* Polls machine server_id now, synchronously, and ingests the sample. On
 * failure the machine's last_error says why, in words a person understands.
 * 0 or an error as above (HLC_EPARSE when the output made no sense).
 * latest (may be NULL): as for hlc_ingest_sample_latest. */
int hlc_remote_poll_now(struct hlc_hub *hub, const char *server_id, char **latest);

/* A reason a person understands for an error of hlc_remote_exec. */
const char *hlc_remote_reason(int err);

/* Drops machine server_id's pooled session and re-reads the schedule (after
 * its host key was accepted or its address changed). */
void hlc_remote_forget(struct hlc_hub *hub, const char *server_id);

/* Tests how the hub reaches a machine, step by step (hlc_ssh_probe): the
 * registered machine server_id with its current settings (connectivity,
 * address, port, user, pinned key, credential), or, when server_id is NULL,
 * host:port as `user` with the fleet's key. Nothing is pinned or stored.
 * *out = {"ok", "target": {host, port, user, connectivity}, "host_key":
 * new|pinned|changed|null, "fingerprint", "steps": [{name, status:
 * ok|failed|skipped, ms, detail, reason}]}. 0 (see "ok"), HLC_ENOTFOUND
 * (no such machine), or a credential error. */
int hlc_remote_test_connection(struct hlc_hub *hub, const char *server_id, const char *host,
                               int port, const char *user, json_t **out);
/* Poll figures since start, per machine polled at least once (new object):
 * {server_id: {duration_seconds (the last poll's), polls, errors}}. */
int hlc_remote_poll_stats(struct hlc_hub *hub, json_t **out);
/* SSH sessions open now (0 when the poller is not running). */
size_t hlc_remote_sessions(struct hlc_hub *hub);

/* Queues fn(arg) on the poller's worker pool (hlc_poller_submit): 0, or
 * HLC_EBUSY when the poller is not running (fn is then never called). */
int hlc_remote_submit(struct hlc_hub *hub, void (*fn)(void *arg, bool cancelled), void *arg);

/* Background service: the poller (scheduler + workers) and the offline sweep. */
int hlc_remote_start(struct hlc_hub *hub);
void hlc_remote_stop(struct hlc_hub *hub);

#endif
