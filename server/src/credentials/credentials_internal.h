/* credentials_internal.h - what main.c, cli.c and the credentials API share
 * with credentials.c beyond the public contract in credentials.h. */
#ifndef HLC_CREDENTIALS_INTERNAL_H
#define HLC_CREDENTIALS_INTERNAL_H

#include "hub.h"

struct hlc_keyring;
struct hlc_store;

/* Resolves the keyring before the store opens: HOMELABCMD_ENCRYPTION_KEY, else
 * DATA_DIR/encryption_key. When sealed credentials exist and the key is
 * missing or cannot open every one of them, prints which and how to fix it and
 * returns 2 having changed nothing (the database is only read). With no key
 * and no credential, generates DATA_DIR/encryption_key (0600) and logs it.
 * 0 with *out set, or 2 after printing. */
int hlc_credentials_prepare_keyring(struct hlc_settings *set, struct hlc_keyring **out);
/* Generates and stores the hub's ed25519 identity unless it exists. */
int hlc_credentials_ensure_identity(struct hlc_hub *hub);
/* Seals a text secret under the ring's first key; *sealed heap, key_id filled. */
int hlc_credentials_seal(const struct hlc_keyring *kr, const char *secret, char **sealed,
                         char key_id[static 9]);
/* Parses an OpenSSH or PEM private key (no passphrase): its public key as an
 * authorized_keys line and, if fingerprint is not NULL, "SHA256:...".
 * HLC_EPARSE when it is not a usable private key. */
int hlc_credentials_ssh_describe(const char *privkey, char **public_line, char **fingerprint);
/* Re-seals every stored credential under the ring's first key in one
 * transaction (all or nothing). */
int hlc_credentials_rotate(struct hlc_store *store, const struct hlc_keyring *kr, int *count);

#endif
