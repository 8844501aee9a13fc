/* heartbeat.h - the strict decoder of an agent heartbeat (TRD §4 "Agent
 * Heartbeat", extended with raw counters, filesystems, network, containers
 * and temperatures) into a struct hlc_sample plus the machine's identity.
 * Pure: no I/O, no hub; the fuzz harness drives it directly. */
#ifndef HLC_HEARTBEAT_H
#define HLC_HEARTBEAT_H

#include <stddef.h>

#include "hlc/sample.h"
#include "validate.h"

/* Largest heartbeat accepted, and the deepest nesting ({} and []). */
#define HLC_HEARTBEAT_MAX_BYTES (256 * 1024)
#define HLC_HEARTBEAT_MAX_DEPTH 4

struct hlc_heartbeat {
    char server_id[64];     /* slug */
    char machine_type[16];  /* "workstation" (default) or "server" */
    struct hlc_sample s;    /* the sample, timestamp set */
};

/* Decodes `len` bytes of JSON. Returns 0 (hb filled; release hb->s with
 * hlc_sample_release), HLC_ETOOBIG (over HLC_HEARTBEAT_MAX_BYTES; 413),
 * HLC_EPARSE (not JSON, invalid UTF-8, nested too deep; 400, e->message
 * says why) or HLC_EINVAL (a field is missing, of the wrong type or out of
 * range; 422, e names it). On error hb holds nothing to release. */
int hlc_heartbeat_decode(const char *text, size_t len, struct hlc_heartbeat *hb,
                         struct hlc_verr *e);

#endif
