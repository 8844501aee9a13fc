/* status_page.h - the family status page: an opt-in, read-only view of the
 * services the operator picked (up, down, degraded, uptime %), reached
 * with its own revocable token or, when the operator says so, by anyone on
 * the LAN. It shows labels and states only: no check targets, machine
 * names, addresses, metrics or controls. Settings live in the config row
 * "status_page"; the token is kept as a BLAKE2b hash. Thread-safe. */
#ifndef HLC_STATUS_PAGE_H
#define HLC_STATUS_PAGE_H

#include <stdbool.h>

#include <jansson.h>

struct hlc_hub;

#define HLC_STATUS_TOKEN_LEN 48 /* hex characters: 24 random bytes */
#define HLC_STATUS_MAX_SERVICES 50

/* The settings as the operator sees them (new object):
 * {enabled, public_on_lan, title, services: [{check_id, label}], has_token}. */
int hlc_status_page_get(struct hlc_hub *hub, json_t **out);
/* Applies validated settings: any of enabled, public_on_lan, title,
 * services (check ids the caller checked exist). */
int hlc_status_page_set(struct hlc_hub *hub, json_t *patch);
/* Makes a new token (the old one stops working) into out. */
int hlc_status_page_new_token(struct hlc_hub *hub, char out[HLC_STATUS_TOKEN_LEN + 1]);
/* Revokes the token: only LAN-public access (if on) remains. */
int hlc_status_page_revoke(struct hlc_hub *hub);
/* May this request read the page? token: the one in the path, or NULL for
 * the LAN-public path; client_ip: the peer's address. Constant time in the
 * token's contents. */
bool hlc_status_page_allowed(struct hlc_hub *hub, const char *token, const char *client_ip);
/* What the page shows (new object): {title, updated_at, services: [{label,
 * state: up|down|degraded|pending, uptime: {"24h","7d","30d"}}]}. */
int hlc_status_page_data(struct hlc_hub *hub, json_t **out);

#endif
