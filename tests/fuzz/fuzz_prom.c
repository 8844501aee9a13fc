/* fuzz_prom.c - libFuzzer harness: arbitrary text as a scraper's Accept
 * header and as a scrape token to validate (/metrics reads both from the
 * outside). Neither may crash; a token judged valid must be 16-256 of the
 * allowed characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = hlc_xstrndup((const char *)data, size);
    (void)hlc_prom_wants_openmetrics(text);
    if (hlc_prom_token_valid(text) && *text) {
        size_t n = strlen(text);
        if (n < 16 || n > 256 || strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789._~+/=-") != n)
            abort();
    }
    free(text);
    return 0;
}
