/* fuzz_pack_result.c - libFuzzer harness for the check output parser: any
 * bytes a machine sends give one verdict per item and consistent counts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pack_yaml[] =
    "name: f\n"
    "files:\n"
    "  - {path: /etc/a.conf, content: \"a\\n\", mode: \"0644\", owner: root, group: root}\n"
    "  - {path: /etc/b.conf, absent: true}\n"
    "packages: {present: [git, htop], absent: [telnet]}\n"
    "services: {enabled: [ssh], disabled: [cups], running: [ssh], stopped: [cron]}\n"
    "settings:\n"
    "  sysctl: {vm.swappiness: \"10\"}\n"
    "  timezone: Europe/London\n"
    "  lines: [{path: /etc/environment, line: \"EDITOR=vim\", match: \"^EDITOR=\"}]\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hlc_pack *p;
    if (!p && hlc_pack_load("f.yaml", pack_yaml, sizeof(pack_yaml) - 1, &p, NULL) != 0)
        abort();
    struct hlc_pack_results res;
    for (int trunc = 0; trunc < 2; trunc++) {
        if (hlc_pack_parse(p, (const char *)data, size, trunc, &res) != 0)
            abort();
        if (res.n != p->nitems || res.pass + res.fail + res.error != res.n)
            abort();
        for (size_t i = 0; i < res.n; i++) {
            const struct hlc_pack_result *r = &res.r[i];
            if (!r->expected || (r->status == HLC_PACK_ERROR && !r->reason) ||
                (r->status != HLC_PACK_ERROR && !r->actual) ||
                (r->status == HLC_PACK_FAIL && r->mismatch == 0) ||
                (r->actual_content && r->actual_len > HLC_PACK_MAX_CONTENT))
                abort();
        }
        hlc_pack_results_release(&res);
    }
    return 0;
}
