/* config.h - the hub's runtime settings kept in the database: sections
 * (thresholds, costs, notifications, remediation, agent, polling), each with
 * TRD §5 defaults, validated field by field. Thread-safe. */
#ifndef HLC_CONFIG_H
#define HLC_CONFIG_H

#include <stdbool.h>

#include <jansson.h>

struct hlc_store;
struct hlc_verr;

/* The whole configuration, defaults merged with what is stored (new object). */
int hlc_config_all(struct hlc_store *s, json_t **out);
/* One section merged with its defaults (new object); HLC_ENOTFOUND for an
 * unknown section. */
int hlc_config_section(struct hlc_store *s, const char *section, json_t **out);
/* A numeric setting, or `fallback` when it cannot be read. */
double hlc_config_number(struct hlc_store *s, const char *section, const char *key,
                         double fallback);
/* Validates a patch {section: {key: value}} against the specs and the values
 * already stored, then writes every touched section in one transaction.
 * false with *e filled when invalid (nothing written); *rc holds a store error. */
bool hlc_config_update(struct hlc_store *s, json_t *patch, struct hlc_verr *e, int *rc);

/* Per-machine threshold overrides. The effective thresholds of a machine
 * with overrides `overrides` ({key: number}, may be NULL):
 * {"thresholds": {key: value}, "source": {key: "global"|"server"}} (new). */
json_t *hlc_config_thresholds_effective(struct hlc_store *s, json_t *overrides);
/* The pure step of the one below: `patch` applied to the overrides
 * `current` (may be NULL) given the global thresholds `global` (all read
 * only). true with *next = the new overrides (new object), or false with
 * *e filled and *next NULL. No store, no locks: the fuzzer's entry point. */
bool hlc_config_thresholds_merge(json_t *global, json_t *current, json_t *patch, json_t **next,
                                 struct hlc_verr *e);
/* Applies a partial patch {key: number|null} (null removes that override)
 * to server_id's overrides: each value checked as the global one is, and
 * the effective values keep each warning below its critical. false with *e
 * filled when invalid (nothing written); *rc holds a store error
 * (HLC_ENOTFOUND: no such machine). */
bool hlc_config_thresholds_override(struct hlc_store *s, const char *server_id, json_t *patch,
                                    struct hlc_verr *e, int *rc);

/* A number that changes whenever any hub in this process saved its
 * configuration: lets readers cache settings. Lock-free. */
unsigned hlc_config_version(void);

#endif
