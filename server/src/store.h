/* store.h - the hub's one storage interface. All SQL lives behind it (store*.c),
 * so another backend (PostgreSQL) can be added without touching callers.
 *
 * Thread-safety: every function may be called from any thread; the store
 * keeps a small pool of SQLite connections and hands one to each call.
 * Errors: 0 on success or a negative HLC_E* code (HLC_EDB is logged with
 * SQLite's message). JSON results are new references the caller decrefs;
 * JSON arguments are borrowed. */
#ifndef HLC_STORE_H
#define HLC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_store;

/* Opens (creating if needed) the database at `path` and upgrades its schema
 * in place to the latest migration. `nconns` connections are pooled (>= 1). */
int hlc_store_open(struct hlc_store **out, const char *path, unsigned nconns);
/* Checkpoints the WAL and closes every connection. NULL is a no-op. */
void hlc_store_free(struct hlc_store *s);
/* The schema level of the open database (PRAGMA user_version). */
int hlc_store_schema_version(struct hlc_store *s);
/* The schema level this build upgrades to. This function can't fail. */
int hlc_store_latest_version(void);
/* A number that changes after every call that wrote to the database: lets
 * callers cache what they computed from it. Lock-free. */
unsigned long long hlc_store_generation(struct hlc_store *s);
/* True when a trivial query answers. */
bool hlc_store_ping(struct hlc_store *s);
/* Database file sizes and row counts for /system/stats (new object). */
int hlc_store_stats(struct hlc_store *s, json_t **out);

/* ---- machines (TRD "servers") -------------------------------------- */

/* Inserts a validated machine object (keys as in the API). HLC_EEXISTS when
 * the server_id is taken. Expected services in "expected_services" are
 * inserted in the same transaction. */
int hlc_store_machine_insert(struct hlc_store *s, json_t *m);
/* One machine with its expected services; HLC_ENOTFOUND. */
int hlc_store_machine_get(struct hlc_store *s, const char *id, json_t **out);
/* Every machine, ordered by the saved card order then id (new array). */
int hlc_store_machine_list(struct hlc_store *s, json_t **out);
/* Applies the writable keys present in `patch` atomically; HLC_ENOTFOUND. */
int hlc_store_machine_update(struct hlc_store *s, const char *id, json_t *patch);
/* Deletes the machine and, through foreign keys, all of its data. */
int hlc_store_machine_delete(struct hlc_store *s, const char *id);
/* Expected services [{name, critical, created_at}] of one machine. */
int hlc_store_services_get(struct hlc_store *s, const char *id, json_t **out);
/* Replaces the expected services (array of {name, critical}) in one transaction. */
int hlc_store_services_set(struct hlc_store *s, const char *id, json_t *services);
/* Sets sort_order for the listed ids in one transaction (dashboard card order). */
int hlc_store_machine_order_set(struct hlc_store *s, json_t *ids);

/* ---- configuration (TRD "config" key/value) ------------------------- */

/* The JSON stored under `key`; HLC_ENOTFOUND when never set. */
int hlc_store_config_get(struct hlc_store *s, const char *key, json_t **out);
/* Stores `value` under `key` (insert or replace). */
int hlc_store_config_set(struct hlc_store *s, const char *key, json_t *value);
/* Stores every key of `obj` in one transaction: all or nothing. */
int hlc_store_config_set_many(struct hlc_store *s, json_t *obj);

#endif
