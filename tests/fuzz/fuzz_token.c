/* fuzz_token.c - libFuzzer harness: arbitrary text as a token to open and as
 * a keyring to parse. Neither may crash, leak, or report success for input
 * that was not sealed under the ring's key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hlc/base.h"
#include "hlc/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hlc_keyring *kr;
    if (!kr) {
        if (sodium_init() < 0 ||
            hlc_keyring_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,"
                              "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8",
                              &kr) != 0)
            abort();
    }
    char *text = hlc_xstrndup((const char *)data, size);
    unsigned char *plain = NULL;
    size_t len = 0;
    int rc = hlc_token_open(kr, text, 3600, 1700000000, &plain, &len);
    if (rc == 0) {
        /* Only a token made with one of the ring's keys can open: re-seal
         * and reopen to prove the plaintext round-trips. */
        char *again = NULL;
        if (hlc_token_seal(kr, plain, len, &again) != 0)
            abort();
        unsigned char *p2 = NULL;
        size_t l2 = 0;
        if (hlc_token_open(kr, again, 0, 0, &p2, &l2) != 0 || l2 != len ||
            memcmp(p2, plain, len) != 0)
            abort();
        hlc_token_free_plain(p2, l2);
        free(again);
        hlc_token_free_plain(plain, len);
    } else if (plain) {
        abort();
    }
    char id[9];
    (void)hlc_token_key_id(text, id);
    struct hlc_keyring *other = NULL;
    if (hlc_keyring_parse(text, &other) == 0 && hlc_keyring_count(other) == 0)
        abort();
    hlc_keyring_free(other);
    free(text);
    return 0;
}
