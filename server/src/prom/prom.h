/* prom.h - Prometheus exposition of the fleet and the hub: the text format
 * 0.0.4 or OpenMetrics 1.0, and the read-only scrape token. */
#ifndef HLC_PROM_H
#define HLC_PROM_H

#include <stdbool.h>
#include <stddef.h>

struct hlc_hub;
struct hlc_store;

/* The scrape, rendered from the latest rows and the hub's counters: heap text
 * (caller frees) in *out, *len bytes. OpenMetrics 1.0 when `openmetrics`
 * (ends "# EOF"), else the text format 0.0.4. No sample carries a timestamp.
 * 0 or HLC_EDB. Thread-safe. */
int hlc_prom_render(struct hlc_hub *hub, bool openmetrics, char **out, size_t *len);
/* The Content-Type of a rendering. This function can't fail. */
const char *hlc_prom_content_type(bool openmetrics);
/* True when an Accept header asks for OpenMetrics (Prometheus sends it first). */
bool hlc_prom_wants_openmetrics(const char *accept);

/* True when `token` is "" or 16-256 characters of A-Z a-z 0-9 . _ ~ + / = -. */
bool hlc_prom_token_valid(const char *token);
/* Sets the read-only scrape token (only its BLAKE2b-256 hash is stored);
 * "" removes it. 0, HLC_EINVAL (not 16-256 characters of A-Z a-z 0-9 and
 * . _ ~ + / = -) or HLC_EDB. */
int hlc_prom_token_set(struct hlc_store *s, const char *token);
/* True when a scrape token is set. */
bool hlc_prom_token_is_set(struct hlc_store *s);
/* True when a scrape may read /metrics: X-API-Key is the API key, or
 * Authorization is "Bearer <API key or scrape token>". Either header may be
 * NULL. Constant time in the secrets' contents. */
bool hlc_prom_auth_ok(struct hlc_hub *hub, const char *x_api_key, const char *authorization);

#endif
