/* fuzz_collect.c - libFuzzer harness for the collector output parser: the
 * whole-text entry point, and each section entry point the agent feeds, with
 * the first byte choosing the section. Checks the invariants the hub relies on. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct hlc_sample *s)
{
    if (s->nfs > HLC_SAMPLE_MAX_FS || s->nnet > HLC_SAMPLE_MAX_NET ||
        s->nservices > HLC_SAMPLE_MAX_SERVICES || s->ncontainers > HLC_SAMPLE_MAX_CONTAINERS ||
        s->ntemps > HLC_SAMPLE_MAX_TEMPS || s->ngpus > HLC_SAMPLE_MAX_GPUS ||
        (s->ngpus > 0) != ((s->have & HLC_HAVE_GPUS) != 0))
        abort();
    if ((s->have & HLC_HAVE_MEMORY) && (s->mem_available > s->mem_total))
        abort();
    for (size_t i = 0; i < s->nfs; i++)
        if (s->fs[i].used_bytes > s->fs[i].total_bytes || s->fs[i].mount[0] != '/' ||
            memchr(s->fs[i].mount, '\0', sizeof(s->fs[i].mount)) == NULL)
            abort();
    for (size_t i = 0; i < s->ntemps; i++)
        if (!(s->temps[i].celsius >= -50 && s->temps[i].celsius <= 200))
            abort();
    for (size_t i = 0; i < s->ngpus; i++) {
        const struct hlc_gpu *g = &s->gpus[i];
        if (!memchr(g->name, '\0', sizeof(g->name)) || !g->id[0] ||
            !(isnan(g->util_percent) || (g->util_percent >= 0 && g->util_percent <= 100)) ||
            !(isnan(g->temp_c) || (g->temp_c >= -50 && g->temp_c <= 200)) ||
            g->mem_used_bytes < 0 || g->power_w < 0)
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hlc_sample s, prev;
    hlc_sample_init(&s);
    s.timestamp = 1700000000;
    (void)hlc_collect_parse((const char *)data, size, &s);
    check(&s);
    /* derive against itself shifted in time: exercises the rate code */
    hlc_sample_init(&prev);
    prev.timestamp = 1700000000;
    (void)hlc_collect_parse((const char *)data, size, &prev);
    prev.timestamp -= 60;
    hlc_sample_derive(&prev, &s);
    hlc_sample_release(&prev);
    hlc_sample_release(&s);

    static const char *const names[] = {"stat",    "meminfo", "netdev", "loadavg", "uptime",
                                        "osrelease", "uname", "cpus",   "df",      "thermal",
                                        "reboot",  "updates", "services", "docker",
                                        "nvidia",  "amdgpu"};
    if (size > 0) {
        hlc_sample_init(&s);
        const char *name = names[data[0] % (sizeof(names) / sizeof(*names))];
        (void)hlc_collect_parse_section(name, (const char *)data + 1, size - 1, &s);
        check(&s);
        hlc_sample_release(&s);
    }
    return 0;
}
