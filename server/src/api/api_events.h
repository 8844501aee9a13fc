/* api_events.h - server-sent events for the dashboard (GET /api/v1/events). */
#ifndef HLC_API_EVENTS_H
#define HLC_API_EVENTS_H

struct hlc_hub;

/* Background service (services.c): the stream registry and its keepalive timer. */
int hlc_events_start(struct hlc_hub *hub);
void hlc_events_stop(struct hlc_hub *hub); /* after the HTTP daemon stopped */
/* Ends every open stream and refuses new ones; before the HTTP daemon stops
 * (libmicrohttpd cannot stop with suspended connections). */
void hlc_events_close(struct hlc_hub *hub);
/* Tells every open stream that `kind` happened to machine `id` (a slug):
 * "sample" (a new sample is stored) or "alert" (an alert raised with no
 * sample behind it: the offline sweep, a changed host key). Cheap when no
 * stream is open; never blocks on a client. */
void hlc_events_publish(struct hlc_hub *hub, const char *kind, const char *id);

struct hlc_event;
/* The streams' bus subscriber (inline; ud is the hub): sample_stored ->
 * "sample"; alert_raised/resolved without HLC_EVF_FROM_SAMPLE -> "alert";
 * action_finished -> "action". */
void hlc_events_on_event(void *hub, const struct hlc_event *ev);

#endif
