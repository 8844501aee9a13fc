/* packs.h - the hub's config packs: the registry (built-in packs plus the
 * operator's .yaml and .yml files in DATA_DIR/packs, re-read when the folder changes) and
 * compliance checks run over a machine's pooled SSH session. */
#ifndef HLC_PACKS_H
#define HLC_PACKS_H

#include <jansson.h>

#include "hlc/pack.h"

struct hlc_hub;

/* Background service slot: loads the registry (never fails on a bad operator
 * pack: it is listed with its error). 0 or HLC_ENOMEM. */
int hlc_packs_start(struct hlc_hub *hub);
void hlc_packs_stop(struct hlc_hub *hub);

/* Re-reads DATA_DIR/packs now (else it is re-read at most once a second,
 * when a file's name, size or mtime changed). */
void hlc_packs_reload(struct hlc_hub *hub);
/* {"packs":[{name, description, extends, source, file, items}], "errors":[
 * {file, line, column, message}]} (new reference). */
json_t *hlc_packs_list(struct hlc_hub *hub);
/* The flattened pack `name` (free with hlc_pack_free); HLC_ENOTFOUND. */
int hlc_packs_resolve(struct hlc_hub *hub, const char *name, struct hlc_pack **out,
                      const char **source);
/* {name, description, extends, source, items:[...]} for a resolved pack. */
json_t *hlc_packs_pack_json(const struct hlc_pack *p, const char *source);

/* Checks resolved pack p on machine id in one SSH exec, stores the result
 * and returns the API object {server_id, pack, compliant, checked_at,
 * counts, items} in *out. 0, or an error of hlc_remote_exec (nothing
 * stored). Blocks for the exec (bounded by its timeout). */
int hlc_packs_check(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, json_t **out);
/* The same, also handing the parsed results (with diffs) to *keep on success
 * (release with hlc_pack_results_release); keep may be NULL. */
int hlc_packs_check_keep(struct hlc_hub *hub, const char *id, const struct hlc_pack *p,
                         json_t **out, struct hlc_pack_results *keep);

/* apply.c: the dry run of POST /servers/{id}/packs/{name}/apply - checks p
 * now (stored) and answers {server_id, pack, dry_run, compliant, checked_at,
 * changes, plan:[{kind, target, step, description, depends_on, mismatch,
 * diff}]}. 0 or an error of hlc_remote_exec. */
int hlc_packs_apply_plan(struct hlc_hub *hub, const char *id, const struct hlc_pack *p,
                         json_t **out);
/* Sets hub->apply_pack (the apply_pack action's work); called at start. */
void hlc_packs_apply_init(struct hlc_hub *hub);

/* The fleet matrix for GET /api/v1/compliance (new reference). */
int hlc_packs_fleet(struct hlc_hub *hub, json_t **out);

#endif
