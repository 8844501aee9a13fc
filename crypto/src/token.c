/* token.c - sealed tokens (XChaCha20-Poly1305) and the keyring; format in token.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hlc/base.h"
#include "hlc/token.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define KEYID_BYTES 4
/* base64url of HLC_TOKEN_KEY_BYTES without padding. */
#define KEY_B64_CHARS 43

struct tkey {
    unsigned char key[HLC_TOKEN_KEY_BYTES]; /* secret key bytes */
    unsigned char id[KEYID_BYTES];          /* its key id */
};

struct hlc_keyring {
    size_t n;        /* keys in use */
    struct tkey *k;  /* sodium_malloc'd array of HLC_TOKEN_MAX_KEYS */
};

static void
key_id_of(const unsigned char key[HLC_TOKEN_KEY_BYTES], unsigned char id[KEYID_BYTES])
{
    static const char label[] = "hlc-key-id";
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)label, sizeof(label) - 1);
    crypto_generichash_update(&st, key, HLC_TOKEN_KEY_BYTES);
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(id, h, KEYID_BYTES);
}

static void
hex_id(const unsigned char id[KEYID_BYTES], char out[static 9])
{
    sodium_bin2hex(out, 9, id, KEYID_BYTES);
}

int
hlc_keyring_parse(const char *spec, struct hlc_keyring **out)
{
    *out = NULL;
    if (!spec)
        return HLC_ECRYPTO_KEY;
    struct hlc_keyring *kr = hlc_xcalloc(1, sizeof(*kr));
    kr->k = sodium_malloc(sizeof(struct tkey) * HLC_TOKEN_MAX_KEYS);
    if (!kr->k)
        abort(); /* out of memory, as xmalloc does */
    const char *p = spec;
    int rc = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\n' ||
                            last[-1] == '\r'))
            last--;
        /* Python's Fernet.generate_key() prints the same 32 bytes with the
         * one '=' of base64url padding: 44 characters instead of 43. */
        if (last - p == KEY_B64_CHARS + 1 && last[-1] == '=')
            last--;
        size_t binlen = 0;
        const char *b64end = NULL;
        if (kr->n == HLC_TOKEN_MAX_KEYS || last == p ||
            sodium_base642bin(kr->k[kr->n].key, HLC_TOKEN_KEY_BYTES, p, (size_t)(last - p), NULL,
                              &binlen, &b64end, B64_VARIANT) != 0 ||
            binlen != HLC_TOKEN_KEY_BYTES || b64end != last) {
            rc = HLC_ECRYPTO_KEY;
            break;
        }
        key_id_of(kr->k[kr->n].key, kr->k[kr->n].id);
        kr->n++;
        if (*end != ',')
            break;
        p = end + 1;
    }
    if (rc != 0 || kr->n == 0) {
        hlc_keyring_free(kr);
        return HLC_ECRYPTO_KEY;
    }
    *out = kr;
    return 0;
}

void
hlc_keyring_free(struct hlc_keyring *kr)
{
    if (!kr)
        return;
    sodium_free(kr->k); /* wipes */
    free(kr);
}

size_t
hlc_keyring_count(const struct hlc_keyring *kr)
{
    return kr->n;
}

void
hlc_keyring_key_id(const struct hlc_keyring *kr, size_t i, char out[static 9])
{
    hex_id(kr->k[i].id, out);
}

char *
hlc_key_generate(void)
{
    unsigned char key[HLC_TOKEN_KEY_BYTES];
    randombytes_buf(key, sizeof(key));
    size_t n = sodium_base64_encoded_len(sizeof(key), B64_VARIANT);
    char *out = hlc_xmalloc(n);
    sodium_bin2base64(out, n, key, sizeof(key), B64_VARIANT);
    sodium_memzero(key, sizeof(key));
    return out;
}

int
hlc_token_seal_at(const struct hlc_keyring *kr, const void *plain, size_t len, int64_t timestamp,
                  const unsigned char nonce[HLC_TOKEN_NONCE_BYTES], char **token)
{
    *token = NULL;
    if (len > HLC_TOKEN_MAX_PLAIN)
        return HLC_ETOOBIG;
    const struct tkey *k = &kr->k[0];
    size_t rawlen = HLC_TOKEN_HEADER_BYTES + len + HLC_TOKEN_TAG_BYTES;
    unsigned char *raw = hlc_xmalloc(rawlen);
    raw[0] = HLC_TOKEN_VERSION;
    memcpy(raw + 1, k->id, KEYID_BYTES);
    uint64_t ts = (uint64_t)timestamp;
    for (int i = 0; i < 8; i++)
        raw[5 + i] = (unsigned char)(ts >> (56 - 8 * i));
    memcpy(raw + 13, nonce, HLC_TOKEN_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(raw + HLC_TOKEN_HEADER_BYTES, &clen, plain, len,
                                               raw, HLC_TOKEN_HEADER_BYTES, NULL, raw + 13,
                                               k->key);
    size_t n = sodium_base64_encoded_len(rawlen, B64_VARIANT);
    char *out = hlc_xmalloc(n);
    sodium_bin2base64(out, n, raw, rawlen, B64_VARIANT);
    free(raw);
    *token = out;
    return 0;
}

int
hlc_token_seal(const struct hlc_keyring *kr, const void *plain, size_t len, char **token)
{
    unsigned char nonce[HLC_TOKEN_NONCE_BYTES];
    randombytes_buf(nonce, sizeof(nonce));
    return hlc_token_seal_at(kr, plain, len, hlc_now(), nonce, token);
}

/* Decodes base64url into a new buffer; HLC_ECRYPTO_TRUNC when malformed or
 * too short to hold a header and a tag. */
static int
decode(const char *token, unsigned char **raw, size_t *rawlen)
{
    size_t tlen = strlen(token);
    size_t cap = tlen / 4 * 3 + 3;
    if (tlen == 0 || cap > HLC_TOKEN_HEADER_BYTES + HLC_TOKEN_MAX_PLAIN + HLC_TOKEN_TAG_BYTES + 3)
        return HLC_ECRYPTO_TRUNC;
    unsigned char *buf = hlc_xmalloc(cap);
    const char *end = NULL;
    if (sodium_base642bin(buf, cap, token, tlen, NULL, rawlen, &end, B64_VARIANT) != 0 ||
        end != token + tlen || *rawlen < HLC_TOKEN_HEADER_BYTES + HLC_TOKEN_TAG_BYTES) {
        free(buf);
        return HLC_ECRYPTO_TRUNC;
    }
    *raw = buf;
    return 0;
}

int
hlc_token_key_id(const char *token, char out[static 9])
{
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc = decode(token, &raw, &rawlen);
    if (rc != 0)
        return rc;
    if (raw[0] != HLC_TOKEN_VERSION) {
        free(raw);
        return HLC_ECRYPTO_VERSION;
    }
    hex_id(raw + 1, out);
    free(raw);
    return 0;
}

int
hlc_token_open(const struct hlc_keyring *kr, const char *token, int64_t max_age_s, int64_t now,
               unsigned char **plain, size_t *len)
{
    *plain = NULL;
    *len = 0;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc = decode(token, &raw, &rawlen);
    if (rc != 0)
        return rc;
    unsigned char *out = NULL;
    size_t clen = rawlen - HLC_TOKEN_HEADER_BYTES;
    if (raw[0] != HLC_TOKEN_VERSION) {
        rc = HLC_ECRYPTO_VERSION;
        goto out;
    }
    rc = HLC_ECRYPTO_KEY;
    out = hlc_xmalloc(clen - HLC_TOKEN_TAG_BYTES + 1);
    for (size_t i = 0; i < kr->n; i++) {
        if (memcmp(kr->k[i].id, raw + 1, KEYID_BYTES) != 0)
            continue;
        unsigned long long plen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL, raw + HLC_TOKEN_HEADER_BYTES,
                                                       clen, raw, HLC_TOKEN_HEADER_BYTES,
                                                       raw + 13, kr->k[i].key) != 0) {
            rc = HLC_ECRYPTO_TAG; /* keep trying: two keys may share an id */
            continue;
        }
        uint64_t ts = 0;
        for (int b = 0; b < 8; b++)
            ts = (ts << 8) | raw[5 + b];
        if (max_age_s > 0 && (ts > (uint64_t)INT64_MAX || now - (int64_t)ts > max_age_s)) {
            sodium_memzero(out, (size_t)plen);
            rc = HLC_ECRYPTO_EXPIRED;
            goto out;
        }
        out[plen] = '\0';
        *plain = out;
        *len = (size_t)plen;
        out = NULL;
        rc = 0;
        break;
    }
out:
    if (out) {
        sodium_memzero(out, clen - HLC_TOKEN_TAG_BYTES + 1);
        free(out);
    }
    free(raw);
    return rc;
}

void
hlc_token_free_plain(unsigned char *plain, size_t len)
{
    if (!plain)
        return;
    sodium_memzero(plain, len);
    free(plain);
}
