/* api_discover.c - GET /api/v1/network/discover?subnet=<IPv4 CIDR>. */
#include <string.h>

#include "api.h"
#include "discover.h"
#include "hub.h"

int
hlc_api_network_discover(struct hlc_req *r)
{
    const char *subnet = hlc_req_query(r, "subnet");
    uint32_t net;
    int prefix;
    if (!subnet || !subnet[0])
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "subnet is required: an IPv4 network such as 192.168.1.0/24",
                               "subnet");
    if (strlen(subnet) > 18 || hlc_discover_cidr_parse(subnet, &net, &prefix) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR",
                               "subnet must be an IPv4 network in CIDR form such as "
                               "192.168.1.0/24 (IPv6 is not supported)",
                               "subnet");
    if (prefix < HLC_DISCOVER_MIN_PREFIX)
        return hlc_reply_error(r, 422, "SUBNET_TOO_LARGE",
                               "subnets larger than a /22 (1024 addresses) are refused: "
                               "discover a /22 or smaller part of it at a time",
                               "subnet");
    json_t *out = NULL;
    int rc = hlc_discover_network(r->hub, net, prefix, &out);
    if (rc == HLC_EBUSY)
        return hlc_reply_error(r, 409, "DISCOVERY_RUNNING",
                               "another network discovery is running; try again when it ends",
                               NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "discovering the network");
    return hlc_reply_json(r, 200, out);
}
