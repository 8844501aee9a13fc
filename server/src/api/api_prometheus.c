/* api_prometheus.c - GET /metrics for Prometheus: X-API-Key, or
 * Authorization: Bearer with the API key or the read-only scrape token (the
 * route is public to the router so that the handler can read either). */
#include <stdlib.h>

#include "api.h"
#include "prom.h"

int
hlc_api_prometheus(struct hlc_req *r)
{
    const char *key = hlc_req_header(r, "X-API-Key");
    const char *auth = hlc_req_header(r, "Authorization");
    if (!key && !auth)
        return hlc_reply_error(r, 401, "UNAUTHORIZED",
                               "send X-API-Key, or Authorization: Bearer with the API key or "
                               "the scrape token",
                               NULL);
    if (!hlc_prom_auth_ok(r->hub, key, auth))
        return hlc_reply_error(r, 401, "UNAUTHORIZED", "the key or scrape token is not valid",
                               NULL);
    bool om = hlc_prom_wants_openmetrics(hlc_req_header(r, "Accept"));
    char *text = NULL;
    size_t len = 0;
    int rc = hlc_prom_render(r->hub, om, &text, &len);
    if (rc)
        return hlc_reply_err(r, rc, "rendering metrics");
    return hlc_reply_text(r, 200, hlc_prom_content_type(om), text, len, true);
}
