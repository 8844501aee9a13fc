/* api_poller.c - poll a machine now; accept a changed SSH host key. */
#include <string.h>

#include "api.h"
#include "hlc/base.h"
#include "hub.h"
#include "remote.h"
#include "store.h"

/* Replies for a machine that could not be reached or read. */
int
hlc_api_reply_remote_error(struct hlc_req *r, int rc, const char *what)
{
    const char *why = hlc_remote_reason(rc);
    switch (rc) {
    case HLC_ENOTFOUND:
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    case HLC_ESSH_HOSTKEY:
        return hlc_reply_error(r, 409, "HOST_KEY_CHANGED", why, NULL);
    case HLC_ESSH_AUTH:
    case HLC_ESSH_CONNECT:
    case HLC_ESSH_NOROUTE:
    case HLC_ESSH_EXEC:
    case HLC_ECRYPTO_KEY:
    case HLC_ECRYPTO_TAG:
        return hlc_reply_error(r, 409, "UNREACHABLE", why, NULL);
    case HLC_ETIMEOUT:
        return hlc_reply_error(r, 504, "TIMEOUT", why, NULL);
    case HLC_EIO:
    case HLC_EPARSE:
    case HLC_ETOOBIG:
        return hlc_reply_error(r, 502, "BAD_GATEWAY", why, NULL);
    default:
        return hlc_reply_err(r, rc, what);
    }
}

int
hlc_api_servers_poll(struct hlc_req *r)
{
    const char *id = r->params[0];
    char *latest = NULL;
    int rc = hlc_remote_poll_now(r->hub, id, &latest);
    if (rc != 0)
        return hlc_api_reply_remote_error(r, rc, "polling the machine");
    /* The JSON text the ingest just stored as the machine's latest, sent as
     * it is; read back only if a newer sample (a heartbeat) holds the row. */
    size_t len = latest ? strlen(latest) : 0;
    if (!latest && (rc = hlc_store_metrics_latest_text(r->hub->store, id, &latest, &len)) != 0)
        return hlc_reply_err(r, rc, "reading the fresh sample");
    return hlc_reply_text(r, 200, "application/json", latest, len, true);
}

int
hlc_api_servers_hostkey_accept(struct hlc_req *r)
{
    const char *id = r->params[0];
    int rc = hlc_store_hostkey_accept(r->hub->store, id);
    if (rc == HLC_ESTATE)
        return hlc_reply_error(r, 409, "CONFLICT", "no changed host key is waiting for this machine",
                               NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "accepting the host key");
    hlc_remote_forget(r->hub, id);
    json_t *m = NULL;
    rc = hlc_store_machine_get(r->hub->store, id, &m);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading the machine");
    return hlc_reply_json(r, 200, m);
}
