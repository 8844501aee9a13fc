/* tailscale_internal.h - what the service (tailscale.c) and the HTTP client
 * (tailscale_client.c) share. */
#ifndef HLC_TAILSCALE_INTERNAL_H
#define HLC_TAILSCALE_INTERNAL_H

#include "hlc/base.h"
#include "tailscale.h"

/* How to reach the API: the base URL ("https://api.tailscale.com"), the
 * tailnet ("-" = the credential's own) and one credential: an API access
 * token, or an OAuth client's id and secret (borrowed; never copied except
 * into the request). */
struct ts_api {
    const char *base;
    const char *tailnet;
    const char *api_key;
    const char *client_id;
    const char *client_secret;
    long timeout_ms;
};

/* GET {base}/api/v2/tailnet/{tailnet}/devices?fields=all into body (capped at
 * HLC_TS_MAX_BODY). With an OAuth client, the access token comes from the
 * in-memory cache or POST {base}/api/v2/oauth/token (scope
 * devices:core:read), kept until a minute before it expires; a 401 with a
 * cached token drops it and asks once more. 0, or HLC_EDENIED (401/403),
 * HLC_ETIMEOUT, HLC_ETOOBIG, HLC_EIO (network, other status) with *err set. */
int ts_fetch_api(const struct ts_api *a, struct hlc_buf *body, struct hlc_ts_error *err);

/* GET /localapi/v0/status over the tailscaled socket at `sock` into body.
 * 0 or an error as above. */
int ts_fetch_local(const char *sock, long timeout_ms, struct hlc_buf *body,
                   struct hlc_ts_error *err);

/* Forgets the cached OAuth access token (wiped). */
void ts_token_forget(void);

#endif
