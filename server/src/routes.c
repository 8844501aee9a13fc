/* routes.c - every HTTP route of the hub, in one table. */
#include "api.h"

const struct hlc_route hlc_routes[] = {
    {"GET", "/api/v1/system/health", hlc_api_health, HLC_ROUTE_PUBLIC},
    {"GET", "/api/v1/system/stats", hlc_api_stats, 0},

    {"GET", "/api/v1/servers", hlc_api_servers_list, 0},
    {"POST", "/api/v1/servers", hlc_api_servers_create, 0},
    {"GET", "/api/v1/servers/{}", hlc_api_servers_get, 0},
    {"PUT", "/api/v1/servers/{}", hlc_api_servers_update, 0},
    {"DELETE", "/api/v1/servers/{}", hlc_api_servers_delete, 0},
    {"GET", "/api/v1/servers/{}/services", hlc_api_services_get, 0},
    {"PUT", "/api/v1/servers/{}/services", hlc_api_services_put, 0},
    {"PUT", "/api/v1/preferences/card-order", hlc_api_card_order_put, 0},

    {"GET", "/api/v1/config", hlc_api_config_get, 0},
    {"PUT", "/api/v1/config", hlc_api_config_put, 0},
    {"GET", "/api/v1/config/thresholds", hlc_api_thresholds_get, 0},
    {"PUT", "/api/v1/config/thresholds", hlc_api_thresholds_put, 0},

    {NULL, NULL, NULL, 0},
};
