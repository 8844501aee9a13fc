/* fuzz_json.c - libFuzzer harness holding the JSON reader to jansson: for
 * any input without a NUL byte, jsonr_parse accepts exactly when
 * json_loadb(..., JSON_REJECT_DUPLICATES) does, with an equal value; input
 * with one it always refuses (jansson lets a NUL right after a number or a
 * literal through). A refusal names where it stopped; nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    struct jsonr_error err;
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    json_t *mine = jsonr_parse((const char *)data, size, &err);
    if (memchr(data, 0, size) ? mine != NULL : !ref != !mine)
        abort();
    if (mine && !json_equal(ref, mine))
        abort();
    if (!mine && (err.line < 1 || err.column < 1 || !err.text[0]))
        abort();
    json_decref(ref);
    json_decref(mine);
    return 0;
}
