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
    {"GET", "/api/v1/servers/{}/services", hlc_api_service_states, 0},
    {"PUT", "/api/v1/servers/{}/services", hlc_api_services_put, 0},
    {"PUT", "/api/v1/preferences/card-order", hlc_api_card_order_put, 0},
    /* dashboard: live updates (key in the header or ?key=) */
    {"GET", "/api/v1/events", hlc_api_events, HLC_ROUTE_KEY_IN_QUERY},
    /* dashboard: widget layout per machine */
    {"GET", "/api/v1/servers/{}/layout", hlc_api_layout_get, 0},
    {"PUT", "/api/v1/servers/{}/layout", hlc_api_layout_put, 0},

    /* collect: metrics history, latest, summary; live containers */
    {"GET", "/api/v1/metrics/summary", hlc_api_metrics_summary, 0},
    {"GET", "/api/v1/metrics/sparklines", hlc_api_metrics_sparklines, 0}, /* dashboard table */
    {"GET", "/api/v1/metrics/{}", hlc_api_metrics_history, 0},
    {"GET", "/api/v1/metrics/{}/latest", hlc_api_metrics_latest, 0},
    {"GET", "/api/v1/metrics/{}/filesystems", hlc_api_metrics_fs_history, 0},
    {"GET", "/api/v1/metrics/{}/temperatures", hlc_api_metrics_temp_history, 0},
    {"GET", "/api/v1/servers/{}/containers", hlc_api_container_states, 0},

    /* ad-hoc scans of any host, their history and comparison */
    {"POST", "/api/v1/scans", hlc_api_scans_create, 0},
    {"GET", "/api/v1/scans", hlc_api_scans_list, 0},
    {"GET", "/api/v1/scans/{}", hlc_api_scans_get, 0},
    {"GET", "/api/v1/scans/{}/compare/{}", hlc_api_scans_compare, 0},
    {"POST", "/api/v1/scans/{}/register", hlc_api_scans_register, 0},

    {"GET", "/api/v1/config", hlc_api_config_get, 0},
    {"PUT", "/api/v1/config", hlc_api_config_put, 0},
    {"GET", "/api/v1/config/thresholds", hlc_api_thresholds_get, 0},
    {"PUT", "/api/v1/config/thresholds", hlc_api_thresholds_put, 0},

    /* credentials (sealed; write-only) */
    {"POST", "/api/v1/credentials", hlc_api_credentials_create, 0},
    {"GET", "/api/v1/credentials", hlc_api_credentials_list, 0},
    {"DELETE", "/api/v1/credentials/{}", hlc_api_credentials_delete, 0},
    {"GET", "/api/v1/ssh/public-key", hlc_api_ssh_public_key, 0},

    /* SSH poller */
    {"POST", "/api/v1/servers/{}/poll", hlc_api_servers_poll, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/host-key/accept", hlc_api_servers_hostkey_accept, HLC_ROUTE_SLOW},
    /* executor: restart buttons, remediation workflow, custom scripts, audit */
    {"POST", "/api/v1/servers/{}/services/{}/restart", hlc_api_service_restart, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/services/{}/start", hlc_api_service_start, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/services/{}/stop", hlc_api_service_stop, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/containers/{}/start", hlc_api_container_start, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/containers/{}/stop", hlc_api_container_stop, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/containers/{}/restart", hlc_api_container_restart, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/actions", hlc_api_actions_list, 0},
    {"POST", "/api/v1/actions", hlc_api_actions_create, 0},
    {"GET", "/api/v1/actions/history", hlc_api_actions_history, 0},
    {"GET", "/api/v1/actions/{}", hlc_api_actions_get, 0},
    {"POST", "/api/v1/actions/{}/approve", hlc_api_actions_approve, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/actions/{}/reject", hlc_api_actions_reject, 0},
    {"GET", "/api/v1/servers/{}/scripts", hlc_api_scripts_list, 0},
    {"POST", "/api/v1/servers/{}/scripts", hlc_api_scripts_create, 0},
    {"DELETE", "/api/v1/servers/{}/scripts/{}", hlc_api_scripts_delete, 0},
    {"GET", "/api/v1/audit", hlc_api_audit_list, 0},

    /* alerts, notifications and cost */
    {"GET", "/api/v1/alerts", hlc_api_alerts_list, 0},
    {"GET", "/api/v1/alerts/{}", hlc_api_alerts_get, 0},
    {"POST", "/api/v1/alerts/{}/acknowledge", hlc_api_alerts_acknowledge, 0},
    {"POST", "/api/v1/alerts/{}/resolve", hlc_api_alerts_resolve, 0},
    {"POST", "/api/v1/notifications/test", hlc_api_notifications_test, HLC_ROUTE_SLOW},
    /* alert rules: per-machine thresholds, snooze/mute */
    {"GET", "/api/v1/servers/{}/thresholds", hlc_api_server_thresholds_get, 0},
    {"PUT", "/api/v1/servers/{}/thresholds", hlc_api_server_thresholds_put, 0},
    {"GET", "/api/v1/alert-mutes", hlc_api_alert_mutes_list, 0},
    {"POST", "/api/v1/alert-mutes", hlc_api_alert_mutes_create, 0},
    {"DELETE", "/api/v1/alert-mutes/{}", hlc_api_alert_mutes_delete, 0},
    {"GET", "/api/v1/costs", hlc_api_costs_get, 0},
    {"PUT", "/api/v1/costs/config", hlc_api_costs_config_put, 0},
    {"GET", "/api/v1/costs/{}", hlc_api_costs_server, 0},

    /* service checks: HTTP/TCP/DNS from the hub or from machines */
    {"GET", "/api/v1/checks", hlc_api_checks_list, 0},
    {"POST", "/api/v1/checks", hlc_api_checks_create, 0},
    {"GET", "/api/v1/checks/{}", hlc_api_checks_get, 0},
    {"PUT", "/api/v1/checks/{}", hlc_api_checks_update, 0},
    {"DELETE", "/api/v1/checks/{}", hlc_api_checks_delete, 0},
    {"POST", "/api/v1/checks/{}/run", hlc_api_checks_run, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/checks/{}/results", hlc_api_checks_results, 0},
    /* Ollama endpoints per machine */
    {"GET", "/api/v1/ollama", hlc_api_ollama_list, 0},
    {"GET", "/api/v1/servers/{}/ollama", hlc_api_ollama_get, 0},
    {"PUT", "/api/v1/servers/{}/ollama", hlc_api_ollama_put, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/ollama/probe", hlc_api_ollama_probe, HLC_ROUTE_SLOW},
    /* GPUs as the collector read them */
    {"GET", "/api/v1/servers/{}/gpus", hlc_api_gpus_get, 0},
    /* the family status page: settings (key), the page and its data (its own token) */
    {"GET", "/api/v1/status-page", hlc_api_status_page_get, 0},
    {"PUT", "/api/v1/status-page", hlc_api_status_page_put, 0},
    {"POST", "/api/v1/status-page/token", hlc_api_status_page_token, 0},
    {"DELETE", "/api/v1/status-page/token", hlc_api_status_page_revoke, 0},
    {"GET", "/status", hlc_api_status_page_html, HLC_ROUTE_PUBLIC},
    {"GET", "/status/data", hlc_api_status_page_data, HLC_ROUTE_PUBLIC},
    {"GET", "/status/{}", hlc_api_status_page_html, HLC_ROUTE_PUBLIC},
    {"GET", "/status/{}/data", hlc_api_status_page_data, HLC_ROUTE_PUBLIC},

    /* agent: push heartbeats from homelabcmd-agent */
    {"POST", "/api/v1/agents/heartbeat", hlc_api_agent_heartbeat, HLC_ROUTE_AGENT},
    {"GET", "/agent/install.sh", hlc_api_agent_install_sh, HLC_ROUTE_PUBLIC},
    {"GET", "/agent/homelabcmd-agent", hlc_api_agent_binary, HLC_ROUTE_PUBLIC},

    /* tailscale: discovery, import, sync; connection tests */
    {"GET", "/api/v1/tailscale/devices", hlc_api_tailscale_devices, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/tailscale/import", hlc_api_tailscale_import, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/tailscale/sync", hlc_api_tailscale_sync, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/tailscale/status", hlc_api_tailscale_status, 0},
    {"POST", "/api/v1/servers/{}/test-connection", hlc_api_servers_test_connection, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/test-connection", hlc_api_test_connection, HLC_ROUTE_SLOW},
    /* network discovery: live hosts of one IPv4 subnet (at most a /22) */
    {"GET", "/api/v1/network/discover", hlc_api_network_discover, HLC_ROUTE_SLOW},
    /* enroll: agents' own credentials (the enroll exchange is public, rate-limited) */
    {"POST", "/api/v1/agents/enrollment-tokens", hlc_api_enroll_tokens_create, 0},
    {"GET", "/api/v1/agents/enrollment-tokens", hlc_api_enroll_tokens_list, 0},
    {"DELETE", "/api/v1/agents/enrollment-tokens/{}", hlc_api_enroll_tokens_delete, 0},
    {"POST", "/api/v1/agents/enroll", hlc_api_agents_enroll, HLC_ROUTE_PUBLIC},
    {"GET", "/api/v1/servers/{}/agent-tokens", hlc_api_agent_tokens_list, 0},
    {"DELETE", "/api/v1/servers/{}/agent-tokens/{}", hlc_api_agent_tokens_delete, 0},
    {"POST", "/api/v1/servers/{}/agent-tokens/{}/rotate", hlc_api_agent_tokens_rotate, 0},
    /* ecosystem: Prometheus (key or scrape token checked by the handler) */
    {"GET", "/metrics", hlc_api_prometheus, HLC_ROUTE_PUBLIC},
    /* every route here needs its entry in server/openapi.json (test_openapi.py) */
    {"GET", "/api/openapi.json", hlc_api_openapi, HLC_ROUTE_PUBLIC},
    {"GET", "/api/docs", hlc_api_docs, HLC_ROUTE_PUBLIC},
    /* config packs: definitions, compliance checks over SSH */
    {"GET", "/api/v1/packs", hlc_api_packs_list, 0},
    {"POST", "/api/v1/packs/reload", hlc_api_packs_reload, 0},
    {"GET", "/api/v1/packs/assignments", hlc_api_pack_assignments, 0},
    {"PUT", "/api/v1/packs/assignments/tags/{}", hlc_api_pack_assign_tag, 0},
    {"POST", "/api/v1/packs/drift/run", hlc_api_pack_drift_run, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/packs/{}", hlc_api_packs_get, 0},
    {"GET", "/api/v1/servers/{}/packs", hlc_api_server_packs_get, 0},
    {"PUT", "/api/v1/servers/{}/packs", hlc_api_server_packs_put, 0},
    {"DELETE", "/api/v1/servers/{}/packs/{}", hlc_api_server_packs_delete, HLC_ROUTE_SLOW},
    {"POST", "/api/v1/servers/{}/compliance/check", hlc_api_compliance_check, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/servers/{}/compliance", hlc_api_compliance_server, 0},
    {"GET", "/api/v1/compliance", hlc_api_compliance_fleet, 0},
    {"POST", "/api/v1/servers/{}/packs/{}/apply", hlc_api_pack_apply, HLC_ROUTE_SLOW},
    {"GET", "/api/v1/servers/{}/packs/{}/previous", hlc_api_pack_previous, 0},

    {NULL, NULL, NULL, 0},
};
