/* notifier.h - notifications: the configured channels, remediation messages
 * and the sender thread that delivers the outbox.
 *
 * The alert engine and the actions service write a notification as outbox
 * rows (store.h) in the same transaction as its cause, one row per
 * configured channel, and then publish on the bus; this room's subscriber
 * wakes the sender on alert_raised, alert_resolved and action_finished. The
 * sender delivers each due row to Slack / a generic webhook / ntfy
 * (notify.h builds and posts the message), retrying 408, 429 (honouring
 * Retry-After), 5xx and network errors with exponential backoff (1 s
 * doubling to 5 min, for up to 24 h); a channel that is down holds its other
 * rows back with it. What is left at a restart is sent after it. A row is
 * marked delivered as soon as the receiver answers 2xx and is never sent
 * again; the only repeat possible is a hub crash between the receiver's
 * answer and that mark (webhook receivers get an Idempotency-Key to drop it).
 * All functions are thread-safe. */
#ifndef HLC_NOTIFIER_H
#define HLC_NOTIFIER_H

#include <stddef.h>

#include <jansson.h>

#include "notify.h"

struct hlc_hub;
struct hlc_event;
struct hlc_outbox_row;

/* Which channels are configured, in hlc_notify_channels order (checked
 * without unsealing anything but Slack's env). Returns how many. */
size_t hlc_notifier_channels(struct hlc_hub *hub, const char *out[HLC_NOTIFY_NCHANNELS]);

/* How messages name a machine: "Display name (id)", the id alone, or "the
 * hub" for NULL (a check run from the hub). */
void hlc_notifier_machine_name(struct hlc_hub *hub, const char *id, char out[static 200]);

/* Notification rows for a finished remediation action (the API's action
 * object): only for actions an alert asked for or auto-approve ran, when
 * notify_on_remediation is on, the alert is not muted and a channel is
 * configured. Returns the row count; *rows and *payload (shared by the rows)
 * are heap, freed by the caller with free() after the rows were stored. */
size_t hlc_notifier_remediation_rows(struct hlc_hub *hub, json_t *action,
                                     struct hlc_outbox_row **rows, char **payload);

/* The bus subscriber (inline, ud is the hub): wakes the sender. */
void hlc_notifier_on_event(void *hub, const struct hlc_event *ev);

/* Sends a test message to every configured channel now, bypassing the
 * outbox: *results = [{channel, ok, status, error}]. HLC_ENOTFOUND when no
 * channel is configured. */
int hlc_notifier_send_test(struct hlc_hub *hub, json_t **results);

/* The configured channels as the settings show them:
 * {"slack_webhook_url": masked|null, "slack_webhook_source": "settings"|"env"|null,
 *  "webhook_url": masked|null, "ntfy_url": masked|null} (new object). */
json_t *hlc_notifier_channels_json(struct hlc_hub *hub);

/* Background service: the sender thread. */
int hlc_notifier_start(struct hlc_hub *hub);
void hlc_notifier_stop(struct hlc_hub *hub);

#endif
