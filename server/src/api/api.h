/* api.h - the route handlers, one group per api_*.c file. */
#ifndef HLC_API_H
#define HLC_API_H

#include <stdbool.h>

#include <jansson.h>

#include "http.h"

struct hlc_verr;

/* api_machines.c */
int hlc_api_servers_list(struct hlc_req *r);
int hlc_api_servers_create(struct hlc_req *r);
/* Validates machine m (taken) as POST /servers does, registers it, pins
 * fingerprint (may be NULL) as its host key and sets facts (may be NULL:
 * OS name, version, kernel, architecture; NULL entries kept), then replies
 * 201 with the machine (or 409/422 with why). */
int hlc_api_servers_register(struct hlc_req *r, json_t *m, const char *fingerprint,
                             const char *const facts[4]);
int hlc_api_servers_get(struct hlc_req *r);
int hlc_api_servers_update(struct hlc_req *r);
int hlc_api_servers_delete(struct hlc_req *r);
int hlc_api_services_put(struct hlc_req *r);
int hlc_api_card_order_put(struct hlc_req *r);
bool hlc_api_check_services(json_t *svcs, const char *field, struct hlc_verr *e);

/* api_config.c */
int hlc_api_config_get(struct hlc_req *r);
int hlc_api_config_put(struct hlc_req *r);
int hlc_api_thresholds_get(struct hlc_req *r);
int hlc_api_thresholds_put(struct hlc_req *r);
/* A notification channel's secret (kind slack_webhook, webhook_url or
 * ntfy_url: a URL by hlc_notify_url_problem's rules; other kinds pass), one
 * check for PUT /config and POST /credentials. False with e filled. */
bool hlc_api_check_channel_secret(const char *kind, const char *value, const char *field,
                                  struct hlc_verr *e);

/* api_metrics.c (collect) */
int hlc_api_metrics_history(struct hlc_req *r);
int hlc_api_metrics_fs_history(struct hlc_req *r);
int hlc_api_metrics_temp_history(struct hlc_req *r);
int hlc_api_metrics_latest(struct hlc_req *r);
int hlc_api_metrics_summary(struct hlc_req *r);
int hlc_api_metrics_sparklines(struct hlc_req *r);
int hlc_api_service_states(struct hlc_req *r);
int hlc_api_container_states(struct hlc_req *r);

/* api_system.c */
int hlc_api_health(struct hlc_req *r);
int hlc_api_stats(struct hlc_req *r);

/* api_credentials.c */
int hlc_api_credentials_create(struct hlc_req *r);
int hlc_api_credentials_list(struct hlc_req *r);
int hlc_api_credentials_delete(struct hlc_req *r);
int hlc_api_ssh_public_key(struct hlc_req *r);

/* api_poller.c */
int hlc_api_servers_poll(struct hlc_req *r);
int hlc_api_servers_hostkey_accept(struct hlc_req *r);
/* The reply for an error of hlc_remote_exec / hlc_remote_poll_now: 404, 409
 * (host key changed, unreachable), 504 (timeout) or 502, with the reason. */
int hlc_api_reply_remote_error(struct hlc_req *r, int rc, const char *what);
/* api_actions.c (executor) */
int hlc_api_service_restart(struct hlc_req *r);
int hlc_api_service_start(struct hlc_req *r);
int hlc_api_service_stop(struct hlc_req *r);
int hlc_api_container_start(struct hlc_req *r);
int hlc_api_container_stop(struct hlc_req *r);
int hlc_api_container_restart(struct hlc_req *r);
int hlc_api_actions_create(struct hlc_req *r);
int hlc_api_actions_list(struct hlc_req *r);
int hlc_api_actions_history(struct hlc_req *r);
int hlc_api_actions_get(struct hlc_req *r);
int hlc_api_actions_approve(struct hlc_req *r);
int hlc_api_actions_reject(struct hlc_req *r);
int hlc_api_scripts_list(struct hlc_req *r);
int hlc_api_scripts_create(struct hlc_req *r);
int hlc_api_scripts_delete(struct hlc_req *r);
int hlc_api_audit_list(struct hlc_req *r);
/* Who made a request, for audit rows: "api_key@<client ip>". */
void hlc_api_requested_by(struct hlc_req *r, char out[static 80]);

/* api_scans.c */
int hlc_api_scans_create(struct hlc_req *r);
int hlc_api_scans_list(struct hlc_req *r);
int hlc_api_scans_get(struct hlc_req *r);
int hlc_api_scans_compare(struct hlc_req *r);
int hlc_api_scans_register(struct hlc_req *r);

/* dashboard: server-sent events (api_events.c); checks the key itself (?key=) */
int hlc_api_events(struct hlc_req *r);
/* dashboard: widget layouts (api_layout.c) */
int hlc_api_layout_get(struct hlc_req *r);
int hlc_api_layout_put(struct hlc_req *r);

/* api_alerts.c (alerts, notifications) */
int hlc_api_alerts_list(struct hlc_req *r);
int hlc_api_alerts_get(struct hlc_req *r);
int hlc_api_alerts_acknowledge(struct hlc_req *r);
int hlc_api_alerts_resolve(struct hlc_req *r);
int hlc_api_notifications_test(struct hlc_req *r);
/* api_alertrules.c (per-machine thresholds, mute rules) */
int hlc_api_server_thresholds_get(struct hlc_req *r);
int hlc_api_server_thresholds_put(struct hlc_req *r);
int hlc_api_alert_mutes_list(struct hlc_req *r);
int hlc_api_alert_mutes_create(struct hlc_req *r);
int hlc_api_alert_mutes_delete(struct hlc_req *r);

/* api_costs.c (electricity cost) */
int hlc_api_costs_get(struct hlc_req *r);
int hlc_api_costs_server(struct hlc_req *r);
int hlc_api_costs_config_put(struct hlc_req *r);

/* api_checks.c (service checks) */
int hlc_api_checks_list(struct hlc_req *r);
int hlc_api_checks_create(struct hlc_req *r);
int hlc_api_checks_get(struct hlc_req *r);
int hlc_api_checks_update(struct hlc_req *r);
int hlc_api_checks_delete(struct hlc_req *r);
int hlc_api_checks_run(struct hlc_req *r);
int hlc_api_checks_results(struct hlc_req *r);
/* An http(s) URL: RFC 3986 characters only, no userinfo, a valid host and
 * an optional port 1-65535 (checks' and Ollama's targets). */
bool hlc_api_valid_http_url(const char *u);

/* api_ollama.c (Ollama endpoints) */
int hlc_api_ollama_list(struct hlc_req *r);
int hlc_api_ollama_get(struct hlc_req *r);
int hlc_api_ollama_put(struct hlc_req *r);
int hlc_api_ollama_probe(struct hlc_req *r);
/* api_gpu.c (GPU readings) */
int hlc_api_gpus_get(struct hlc_req *r);

/* api_status_page.c (the family status page; the page and its data are public,
 * gated by the page's own token or LAN-public mode) */
int hlc_api_status_page_html(struct hlc_req *r);
int hlc_api_status_page_data(struct hlc_req *r);
int hlc_api_status_page_get(struct hlc_req *r);
int hlc_api_status_page_put(struct hlc_req *r);
int hlc_api_status_page_token(struct hlc_req *r);
int hlc_api_status_page_revoke(struct hlc_req *r);

/* api_agents.c (agent) */
int hlc_api_agent_heartbeat(struct hlc_req *r);

/* api_agent_dist.c: the agent installer and binary (public) */
int hlc_api_agent_install_sh(struct hlc_req *r);
int hlc_api_agent_binary(struct hlc_req *r);

/* api_tailscale.c (tailscale discovery/import/sync; connection tests) */
int hlc_api_tailscale_devices(struct hlc_req *r);
int hlc_api_tailscale_import(struct hlc_req *r);
int hlc_api_tailscale_sync(struct hlc_req *r);
int hlc_api_tailscale_status(struct hlc_req *r);
int hlc_api_servers_test_connection(struct hlc_req *r);
int hlc_api_test_connection(struct hlc_req *r);
/* api_discover.c (network discovery) */
int hlc_api_network_discover(struct hlc_req *r);
/* api_enroll.c (enroll): enrollment tokens, the enroll exchange, agent tokens */
int hlc_api_enroll_tokens_create(struct hlc_req *r);
int hlc_api_enroll_tokens_list(struct hlc_req *r);
int hlc_api_enroll_tokens_delete(struct hlc_req *r);
int hlc_api_agents_enroll(struct hlc_req *r);
int hlc_api_agent_tokens_list(struct hlc_req *r);
int hlc_api_agent_tokens_delete(struct hlc_req *r);
int hlc_api_agent_tokens_rotate(struct hlc_req *r);
/* api_prometheus.c: GET /metrics (checks X-API-Key or the Bearer token itself) */
int hlc_api_prometheus(struct hlc_req *r);
/* api_docs.c: the OpenAPI document and the interactive docs page (public) */
int hlc_api_openapi(struct hlc_req *r);
int hlc_api_docs(struct hlc_req *r);
/* api_packs.c (config packs, compliance) */
int hlc_api_packs_list(struct hlc_req *r);
int hlc_api_packs_reload(struct hlc_req *r);
int hlc_api_packs_get(struct hlc_req *r);
int hlc_api_compliance_check(struct hlc_req *r);
int hlc_api_compliance_server(struct hlc_req *r);
int hlc_api_compliance_fleet(struct hlc_req *r);
/* api_packs_assign.c (pack assignments, removal, drift schedule) */
int hlc_api_server_packs_get(struct hlc_req *r);
int hlc_api_server_packs_put(struct hlc_req *r);
int hlc_api_server_packs_delete(struct hlc_req *r);
int hlc_api_pack_assignments(struct hlc_req *r);
int hlc_api_pack_assign_tag(struct hlc_req *r);
int hlc_api_pack_drift_run(struct hlc_req *r);
/* api_packs_apply.c */
int hlc_api_pack_apply(struct hlc_req *r);
int hlc_api_pack_previous(struct hlc_req *r);

#endif
