/* fuzz_scan.c - libFuzzer harness for the scan output parser and the
 * comparison: any input either parses into a result whose strings are
 * printable ASCII and whose arrays keep their caps, or is refused with
 * HLC_EPARSE / HLC_ETOOBIG; comparing the result with itself finds no
 * change; nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "scans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(json_t *v, int depth)
{
    if (depth > 8)
        abort();
    if (json_is_string(v)) {
        for (const char *s = json_string_value(v); *s; s++)
            if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
                abort();
        if (json_string_length(v) > 511)
            abort();
    } else if (json_is_array(v)) {
        if (json_array_size(v) > HLC_SCAN_MAX_PACKAGES)
            abort();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) check(x, depth + 1);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) check(x, depth + 1);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = NULL;
    int rc = hlc_scan_parse((const char *)data, size, &o);
    if (rc != 0) {
        if ((rc != HLC_EPARSE && rc != HLC_ETOOBIG) || o)
            abort();
        return 0;
    }
    check(o, 0);
    json_t *d = hlc_scan_compare(o, o);
    json_t *pk = json_object_get(d, "packages");
    if (json_is_object(pk) && (json_array_size(json_object_get(pk, "added")) ||
                               json_array_size(json_object_get(pk, "removed"))))
        abort();
    if (json_is_true(json_object_get(json_object_get(d, "kernel"), "changed")))
        abort();
    json_decref(d);
    json_decref(o);
    return 0;
}
