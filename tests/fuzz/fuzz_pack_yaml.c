/* fuzz_pack_yaml.c - libFuzzer harness for the pack loader and resolver:
 * any bytes either load into a pack whose every value passes the patterns
 * (the check script is built from it) or fail with an error naming a place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hlc_pack *p = NULL;
    struct hlc_pack_error e;
    int rc = hlc_pack_load("fuzz.yaml", (const char *)data, size, &p, &e);
    if (rc != 0) {
        if (p || !memchr(e.message, '\0', sizeof(e.message)) || e.message[0] == '\0')
            abort();
        return 0;
    }
    if (!p || p->nitems > HLC_PACK_MAX_ITEMS)
        abort();
    /* A loaded pack always gives a script (every value is valid). */
    char *script = NULL;
    if (hlc_pack_check_script(p, &script) != 0 || !script)
        abort();
    free(script);
    /* Resolve against itself and a base pack it may extend. */
    static const char base[] = "name: base\npackages: {present: [git]}\n";
    struct hlc_pack *b = NULL;
    if (hlc_pack_load("base.yaml", base, sizeof(base) - 1, &b, NULL) != 0)
        abort();
    struct hlc_pack *all[] = {p, b};
    struct hlc_pack *flat = NULL;
    if (hlc_pack_resolve(all, 2, p->name, &flat, &e) == 0) {
        char *s2 = NULL;
        if (hlc_pack_check_script(flat, &s2) != 0)
            abort();
        free(s2);
        hlc_pack_free(flat);
    }
    hlc_pack_free(b);
    hlc_pack_free(p);
    return 0;
}
