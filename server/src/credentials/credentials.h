/* credentials.h - the hub's sealed secrets: SSH private keys (the hub's own
 * identity and operator uploads), Tailscale tokens, webhook URLs. Values are
 * sealed with crypto/'s tokens under HOMELABCMD_ENCRYPTION_KEY before they
 * reach the store and unsealed only in memory, for the moment they are used.
 *
 * Contract for the rest of the hub (implemented by the credentials issue):
 * every returned secret is heap memory the caller wipes with sodium_memzero
 * (or hlc_credentials_free_secret) and frees as soon as it has been used.
 * All functions are thread-safe. */
#ifndef HLC_CREDENTIALS_H
#define HLC_CREDENTIALS_H

#include <stddef.h>

struct hlc_hub;

/* The SSH private key (OpenSSH or PEM text) and user to log in to one machine
 * with: the machine's own uploaded key if it has one, else the global upload,
 * else the hub's generated identity; the user is the credential's user if it
 * names one, else the machine's ssh_user. 0, HLC_ENOTFOUND (no machine),
 * HLC_ECRYPTO_* or HLC_EDB. */
int hlc_credentials_ssh_key_for(struct hlc_hub *hub, const char *server_id, char **privkey,
                                char **ssh_user);
/* Only the user hlc_credentials_ssh_key_for would give (heap), found without
 * unsealing the key: what a command line needs (sudo or not). 0,
 * HLC_ENOTFOUND (no machine) or HLC_EDB. */
int hlc_credentials_ssh_user_for(struct hlc_hub *hub, const char *server_id, char **ssh_user);

/* The SSH private key a machine not yet registered would log in with: the
 * fleet-wide upload, else the hub's identity. 0, HLC_ENOTFOUND,
 * HLC_ECRYPTO_* or HLC_EDB. */
int hlc_credentials_ssh_key_fleet(struct hlc_hub *hub, char **privkey);

/* The hub identity's public key as one authorized_keys line
 * ("ssh-ed25519 AAAA... homelabcmd@hub"). 0 or a negative HLC_E*. */
int hlc_credentials_public_key(struct hlc_hub *hub, char **line);

/* The newest secret of a kind ("tailscale_api_key", "slack_webhook", ...) in
 * global scope: 0, HLC_ENOTFOUND, or a negative HLC_E*. */
int hlc_credentials_get_secret(struct hlc_hub *hub, const char *kind, char **secret);

/* Seals and stores `secret` as the global secret of `kind`, replacing the
 * previous one; NULL or "" deletes it. 0 or a negative HLC_E*. */
int hlc_credentials_set_secret(struct hlc_hub *hub, const char *kind, const char *secret);

/* Wipe and free a secret returned above; NULL is a no-op. */
void hlc_credentials_free_secret(char *secret);

#endif
