/* token.h - sealed secrets: a Fernet-like token on libsodium's
 * XChaCha20-Poly1305, and the keyring that seals and unseals them.
 *
 * Token, before base64url (RFC 4648 §5, no padding) encoding:
 *
 *   offset size  field
 *   0      1     version, HLC_TOKEN_VERSION (0x01)
 *   1      4     key id: first 4 bytes of BLAKE2b-256("hlc-key-id" || key)
 *   5      8     timestamp: seconds since the epoch, big-endian unsigned
 *   13     24    nonce: random, one per token
 *   37     n+16  ciphertext of the n-byte secret followed by the Poly1305 tag
 *
 * The 37 header bytes are the AEAD's associated data, so a changed version,
 * key id or timestamp fails authentication like a changed ciphertext does.
 *
 * Keys: a key is 32 random bytes written as base64url (43 characters, or 44
 * with the one `=` of padding, as Python's Fernet.generate_key() prints it). A
 * keyring is one or more keys separated by commas: the first seals, every one
 * unseals (like MultiFernet), so keys rotate by putting the new key first,
 * re-sealing everything, then dropping the old key.
 *
 * Thread-safety: a keyring is immutable after parsing; every function here may
 * be called from any thread. Call sodium_init() once before any of them. */
#ifndef HLC_TOKEN_H
#define HLC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define HLC_TOKEN_VERSION 0x01
#define HLC_TOKEN_KEY_BYTES 32
#define HLC_TOKEN_NONCE_BYTES 24
#define HLC_TOKEN_HEADER_BYTES 37 /* version + key id + timestamp + nonce */
#define HLC_TOKEN_TAG_BYTES 16
#define HLC_TOKEN_MAX_KEYS 8
/* Largest secret a token carries (an SSH private key is a few KiB). */
#define HLC_TOKEN_MAX_PLAIN (64 * 1024)

struct hlc_keyring; /* opaque */

/* Parses "KEY[,KEY...]" (whitespace around keys ignored). Each key must be
 * base64url of exactly 32 bytes. 0; HLC_ECRYPTO_KEY when a key is malformed
 * or the list is empty or longer than HLC_TOKEN_MAX_KEYS. The key text is
 * not kept; the key bytes live in guarded sodium memory. */
int hlc_keyring_parse(const char *spec, struct hlc_keyring **out);
/* Wipes and frees; NULL is a no-op. */
void hlc_keyring_free(struct hlc_keyring *kr);
/* Number of keys (>= 1). */
size_t hlc_keyring_count(const struct hlc_keyring *kr);
/* The key id of the i-th key as 8 lowercase hex characters + NUL. */
void hlc_keyring_key_id(const struct hlc_keyring *kr, size_t i, char out[static 9]);

/* A new random key as base64url text (heap; caller wipes and frees). */
char *hlc_key_generate(void);

/* Seals `len` bytes under the keyring's first key with the current time and a
 * random nonce. *token is heap text the caller frees. 0, or HLC_ETOOBIG when
 * len > HLC_TOKEN_MAX_PLAIN. */
int hlc_token_seal(const struct hlc_keyring *kr, const void *plain, size_t len, char **token);
/* As hlc_token_seal with a given timestamp and nonce: for fixed test vectors
 * only; a nonce must never be reused with the same key. */
int hlc_token_seal_at(const struct hlc_keyring *kr, const void *plain, size_t len,
                      int64_t timestamp, const unsigned char nonce[HLC_TOKEN_NONCE_BYTES],
                      char **token);

/* Opens a token with whichever key of the ring has its key id.
 * max_age_s > 0 refuses tokens older than that many seconds at `now`.
 * On success *plain is heap memory of *len bytes plus a terminating NUL (so a
 * text secret can be used as a C string); the caller wipes it with
 * hlc_token_free_plain as soon as it has been used.
 * Errors, distinct so a person can be told what is wrong:
 *   HLC_ECRYPTO_TRUNC   not base64url, or shorter than header + tag
 *   HLC_ECRYPTO_VERSION unknown version byte
 *   HLC_ECRYPTO_KEY     no key in the ring has the token's key id
 *   HLC_ECRYPTO_TAG     authentication failed (tampered, or a wrong key that
 *                       happens to share the id)
 *   HLC_ECRYPTO_EXPIRED older than max_age_s
 * On failure nothing is allocated. */
int hlc_token_open(const struct hlc_keyring *kr, const char *token, int64_t max_age_s, int64_t now,
                   unsigned char **plain, size_t *len);
/* The token's key id as 8 hex characters, without opening it: 0 or
 * HLC_ECRYPTO_TRUNC / HLC_ECRYPTO_VERSION. */
int hlc_token_key_id(const char *token, char out[static 9]);

/* Wipes and frees an opened secret; NULL is a no-op. */
void hlc_token_free_plain(unsigned char *plain, size_t len);

#endif
