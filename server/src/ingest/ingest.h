/* ingest.h - the one way a sample enters the hub, whether an SSH poll or an
 * agent heartbeat produced it: rates derived against the machine's previous
 * sample, then history, rollups, latest row and snapshots stored in one short
 * transaction, and the machine marked online. Also the metrics background
 * service (pruning history past its retention). */
#ifndef HLC_INGEST_H
#define HLC_INGEST_H

#include <stdint.h>
#include <jansson.h>

struct hlc_hub;
struct hlc_sample;

/* History retention: per-sample rows and hourly rollups. */
#define HLC_METRICS_SAMPLE_DAYS 30
#define HLC_METRICS_HOURLY_DAYS 365
/* How far ahead of the hub's clock a sample's timestamp may be (seconds). */
#define HLC_INGEST_MAX_SKEW 300

/* Ingests one sample of machine `server_id`; source is "ssh" or "agent".
 * A zero s->timestamp means now. Derives cpu_percent and network rates in s
 * (hlc_sample_derive against the previous sample, kept in memory per
 * machine or read back from the latest row), stores it, updates the
 * machine's last_seen/status/last_error/os fields, then calls the alert hook.
 * Samples are unique per (server_id, timestamp): a duplicate is a no-op
 * returning 0; an older sample is stored in history but never replaces the
 * latest row. Returns 0, HLC_EINVAL (bad arguments, or a timestamp more than
 * HLC_INGEST_MAX_SKEW ahead of the hub's clock), HLC_ENOTFOUND (no such
 * machine) or HLC_EDB. Thread-safe; s stays the caller's. */
int hlc_ingest_sample(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s,
                      const char *source);

/* hlc_ingest_sample, and when the sample became the machine's latest,
 * *latest gets the latest row's JSON text as stored (free() it; else NULL). */
int hlc_ingest_sample_latest(struct hlc_hub *hub, const char *server_id, struct hlc_sample *s,
                             const char *source, char **latest);

/* The API's `latest` object for a derived sample, as compact JSON text
 * (free() it; NULL when a string in the sample is not valid UTF-8).
 * `prev_updates` (may be NULL) supplies updates_available/security_updates
 * when s lacks the updates section, since that is asked for only every few
 * hours. Pure. */
char *hlc_ingest_latest_text(const struct hlc_sample *s, const char *source,
                             const struct hlc_sample *prev_updates);

/* Samples handled since the process started: stored, duplicates (already
 * stored, nothing changed) and refused or failed. Lock-free. */
void hlc_ingest_counts(uint64_t *stored, uint64_t *duplicate, uint64_t *failed);

/* Background service: the per-machine baseline cache, group commit (samples
 * ingested concurrently share one transaction) and the pruning thread.
 * start: 0 or HLC_E*; stop is idempotent and must run when no ingest is in
 * flight. hlc_ingest_sample works without them (reading the baseline from
 * the store each time, one transaction per sample). */
int hlc_ingest_start(struct hlc_hub *hub);
void hlc_ingest_stop(struct hlc_hub *hub);

#endif
