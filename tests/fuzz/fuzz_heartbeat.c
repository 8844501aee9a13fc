/* fuzz_heartbeat.c - libFuzzer harness for the agent heartbeat decoder:
 * any input either decodes into a sample within the caps and invariants the
 * hub relies on, or is refused with a field-naming error; nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heartbeat.h"
#include "hlc/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hlc_heartbeat hb;
    struct hlc_verr e;
    int rc = hlc_heartbeat_decode((const char *)data, size, &hb, &e);
    if (rc != 0) {
        if (rc != HLC_EINVAL && rc != HLC_EPARSE && rc != HLC_ETOOBIG)
            abort();
        if (!e.message[0] || !memchr(e.field, '\0', sizeof(e.field)))
            abort();
        return 0;
    }
    const struct hlc_sample *s = &hb.s;
    if (!hlc_valid_slug(hb.server_id) || s->timestamp <= 0)
        abort();
    if (strcmp(hb.machine_type, "workstation") != 0 && strcmp(hb.machine_type, "server") != 0)
        abort();
    if (s->nfs > HLC_SAMPLE_MAX_FS || s->nnet > HLC_SAMPLE_MAX_NET ||
        s->nservices > HLC_SAMPLE_MAX_SERVICES || s->ncontainers > HLC_SAMPLE_MAX_CONTAINERS ||
        s->ntemps > HLC_SAMPLE_MAX_TEMPS)
        abort();
    if ((s->have & HLC_HAVE_MEMORY) && s->mem_available > s->mem_total)
        abort();
    if ((s->have & HLC_HAVE_CPU) && s->cpu_idle > s->cpu_total)
        abort();
    for (size_t i = 0; i < s->nfs; i++)
        if (s->fs[i].used_bytes > s->fs[i].total_bytes || s->fs[i].mount[0] != '/')
            abort();
    for (size_t i = 0; i < s->ntemps; i++)
        if (!(s->temps[i].celsius >= -100 && s->temps[i].celsius <= 250))
            abort();
    struct hlc_sample copy = hb.s;
    hlc_sample_release(&copy);
    return 0;
}
