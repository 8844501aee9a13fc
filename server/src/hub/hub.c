/* hub.c - small services of the running hub shared by every handler. */
#include <string.h>

#include <sodium.h>

#include "hub.h"

bool
hlc_hub_key_ok(const struct hlc_hub *hub, const char *key)
{
    /* Hashing first makes the comparison independent of the key's length. */
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    return sodium_memcmp(h, hub->api_key_hash, sizeof(h)) == 0;
}
