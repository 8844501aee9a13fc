/* fuzz_pack_apply.c - libFuzzer harness for the apply output parser: any
 * bytes a machine sends give one outcome per planned step, consistent
 * counts, and text that is valid UTF-8 without control characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hlc_pack_plan_step s[4] = {
        {.item = 0, .kind = HLC_STEP_INSTALL, .depends_on = -1},
        {.item = 1, .kind = HLC_STEP_WRITE_FILE, .depends_on = -1},
        {.item = 3, .kind = HLC_STEP_ENABLE, .depends_on = 0},
        {.item = 7, .kind = HLC_STEP_EDIT_LINE, .depends_on = 1},
    };
    struct hlc_pack_plan plan = {.s = s, .n = 4};
    struct hlc_pack_apply_results res;
    if (hlc_pack_apply_parse(&plan, (const char *)data, size, &res) != 0)
        abort();
    if (res.n != plan.n || res.applied + res.unchanged + res.failed + res.skipped != res.n)
        abort();
    for (size_t i = 0; i < res.n; i++) {
        const char *t = res.r[i].stderr_text;
        if (!t || res.r[i].exit_code < -1 || res.r[i].exit_code > 255)
            abort();
        size_t n = strlen(t);
        for (size_t k = 0; k < n;) {
            unsigned char c = (unsigned char)t[k];
            size_t l = c >= 0x80 ? hlc_utf8_len(t + k, n - k) : 1;
            if (l == 0 || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                abort();
            k += l;
        }
    }
    hlc_pack_apply_results_release(&res);
    return 0;
}
