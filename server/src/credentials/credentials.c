/* credentials.c - the keyring, the start-up refusal, the hub's SSH identity and
 * the lookups other parts of the hub use to get a secret for a moment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "credentials.h"
#include "credentials_internal.h"
#include "hlc/base.h"
#include "hlc/token.h"
#include "store.h"

void
hlc_credentials_free_secret(char *secret)
{
    if (!secret)
        return;
    sodium_memzero(secret, strlen(secret));
    free(secret);
}

/* ---- the keyring and the refusal to start with the wrong one ---------- */

struct peek_state {
    const struct hlc_keyring *kr; /* the key(s) we were given */
    char bad_id[9];               /* key id of a credential we cannot open */
    int err;                      /* its error */
};

static int
peek_one(void *ud, const char *sealed)
{
    struct peek_state *ps = ud;
    unsigned char *plain = NULL;
    size_t len = 0;
    int rc = hlc_token_open(ps->kr, sealed, 0, 0, &plain, &len);
    hlc_token_free_plain(plain, len);
    if (rc != 0) {
        ps->err = rc;
        if (hlc_token_key_id(sealed, ps->bad_id) != 0)
            snprintf(ps->bad_id, sizeof(ps->bad_id), "?");
        return rc;
    }
    return 0;
}

int
hlc_credentials_prepare_keyring(struct hlc_settings *set, struct hlc_keyring **out)
{
    *out = NULL;
    char *path = hlc_xasprintf("%s/encryption_key", set->data_dir);
    char *spec = NULL;
    const char *source = "HOMELABCMD_ENCRYPTION_KEY";
    int rc = 2;
    if (set->encryption_key) {
        spec = hlc_xstrdup(set->encryption_key);
    } else {
        spec = hlc_read_secret_file(path);
        source = path;
    }

    struct hlc_keyring *kr = NULL;
    if (spec && hlc_keyring_parse(spec, &kr) != 0) {
        fprintf(stderr,
                "homelabcmd: %s is not a valid encryption key list: each key is base64url of "
                "32 random bytes (43 characters), several separated by commas. "
                "'homelabcmd keygen' prints a new key.\n",
                source);
        goto out;
    }

    struct peek_state ps = {.kr = kr};
    int count = 0;
    int prc = hlc_store_cred_peek(set->db_path, kr ? peek_one : NULL, &ps, &count);
    if (prc == HLC_EDB) {
        fprintf(stderr, "homelabcmd: cannot read the database %s\n", set->db_path);
        goto out;
    }
    if (count > 0 && !kr) {
        fprintf(stderr,
                "homelabcmd: refusing to start: the database %s holds sealed credentials but "
                "no encryption key was given. Set HOMELABCMD_ENCRYPTION_KEY to the key they "
                "were sealed with (or put it back in %s). Nothing was changed.\n",
                set->db_path, path);
        goto out;
    }
    if (prc != 0) {
        char have[9];
        hlc_keyring_key_id(kr, 0, have);
        fprintf(stderr,
                "homelabcmd: refusing to start: the encryption key from %s (key id %s%s) "
                "cannot unseal the stored credentials (sealed under key id %s: %s). Set "
                "HOMELABCMD_ENCRYPTION_KEY to the key they were sealed with; to move to a new "
                "key, list both (NEW,OLD) and run 'homelabcmd rotate-credentials'. "
                "Nothing was changed.\n",
                source, have, hlc_keyring_count(kr) > 1 ? ", ..." : "", ps.bad_id,
                hlc_strerror(ps.err));
        goto out;
    }
    if (!kr) {
        /* No key and nothing sealed yet: make one and keep it beside the data. */
        char *key = hlc_key_generate();
        int wrc = hlc_write_secret_file(path, key);
        if (wrc != 0 || hlc_keyring_parse(key, &kr) != 0) {
            fprintf(stderr, "homelabcmd: cannot write %s: %s\n", path, strerror(errno));
            hlc_credentials_free_secret(key);
            goto out;
        }
        hlc_credentials_free_secret(key);
        hlc_log(HLC_LOG_WARN,
                "generated an encryption key for sealed credentials into %s (mode 0600); "
                "back it up, or set HOMELABCMD_ENCRYPTION_KEY: without it the stored SSH "
                "keys and tokens cannot be read",
                path);
    }
    *out = kr;
    kr = NULL;
    rc = 0;
out:
    hlc_keyring_free(kr);
    if (spec)
        hlc_credentials_free_secret(spec);
    free(path);
    return rc;
}

/* ---- sealing -------------------------------------------------------- */

int
hlc_credentials_seal(const struct hlc_keyring *kr, const char *secret, char **sealed,
                     char key_id[static 9])
{
    int rc = hlc_token_seal(kr, secret, strlen(secret), sealed);
    if (rc == 0)
        hlc_keyring_key_id(kr, 0, key_id);
    return rc;
}

static int
unseal(struct hlc_hub *hub, const char *sealed, char **secret)
{
    unsigned char *plain = NULL;
    size_t len = 0;
    int rc = hlc_token_open(hub->keyring, sealed, 0, 0, &plain, &len);
    if (rc != 0) {
        hlc_log(HLC_LOG_ERROR, "a stored credential cannot be unsealed: %s", hlc_strerror(rc));
        return rc;
    }
    if (memchr(plain, '\0', len)) {
        hlc_token_free_plain(plain, len);
        return HLC_EPARSE;
    }
    *secret = (char *)plain; /* NUL-terminated by hlc_token_open */
    return 0;
}

/* ---- SSH keys --------------------------------------------------------- */

int
hlc_credentials_ssh_describe(const char *privkey, char **public_line, char **fingerprint)
{
    ssh_key key = NULL, pub = NULL;
    char *b64 = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    int rc = HLC_EPARSE;
    *public_line = NULL;
    if (fingerprint)
        *fingerprint = NULL;
    if (ssh_pki_import_privkey_base64(privkey, NULL, NULL, NULL, &key) != SSH_OK)
        goto out;
    if (ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
        ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK)
        goto out;
    *public_line = hlc_xasprintf("%s %s homelabcmd@hub", ssh_key_type_to_char(ssh_key_type(pub)),
                                 b64);
    if (fingerprint && ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (fp) {
            *fingerprint = hlc_xstrdup(fp);
            ssh_string_free_char(fp);
        }
    }
    rc = 0;
out:
    ssh_clean_pubkey_hash(&hash);
    ssh_string_free_char(b64);
    ssh_key_free(pub);
    ssh_key_free(key);
    return rc;
}

int
hlc_credentials_ensure_identity(struct hlc_hub *hub)
{
    char *sealed = NULL;
    int rc = hlc_store_cred_find(hub->store, NULL, true, &sealed, NULL);
    free(sealed);
    if (rc != HLC_ENOTFOUND)
        return rc;

    ssh_key key = NULL;
    char *priv = NULL, *publine = NULL, *token = NULL;
    char id[37], kid[9];
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
        ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK) {
        hlc_log(HLC_LOG_ERROR, "cannot generate the hub's SSH key");
        rc = HLC_EIO;
        goto out;
    }
    rc = hlc_credentials_ssh_describe(priv, &publine, NULL);
    if (rc == 0)
        rc = hlc_credentials_seal(hub->keyring, priv, &token, kid);
    if (rc != 0)
        goto out;
    hlc_uuid4(id);
    struct hlc_cred_row row = {
        .id = id,
        .kind = "ssh_private_key",
        .public_key = publine,
        .is_identity = true,
        .sealed = token,
        .key_id = kid,
    };
    rc = hlc_store_cred_insert(hub->store, &row, false);
    if (rc == HLC_EEXISTS)
        rc = 0; /* another start won the race; keep theirs */
    if (rc == 0)
        hlc_log(HLC_LOG_INFO, "generated the hub's SSH identity: %s", publine);
out:
    if (priv) {
        sodium_memzero(priv, strlen(priv));
        ssh_string_free_char(priv);
    }
    ssh_key_free(key);
    free(publine);
    free(token);
    return rc;
}

int
hlc_credentials_ssh_key_for(struct hlc_hub *hub, const char *server_id, char **privkey,
                            char **ssh_user)
{
    *privkey = NULL;
    char *sealed = NULL;
    int rc = hlc_store_cred_for_machine(hub->store, server_id, &sealed, ssh_user);
    if (rc == 0)
        rc = unseal(hub, sealed, privkey);
    if (rc != 0) {
        free(*ssh_user);
        *ssh_user = NULL;
    }
    free(sealed);
    return rc;
}

int
hlc_credentials_ssh_key_fleet(struct hlc_hub *hub, char **privkey)
{
    *privkey = NULL;
    char *sealed = NULL;
    int rc = hlc_store_cred_find(hub->store, "ssh_private_key", false, &sealed, NULL);
    if (rc == HLC_ENOTFOUND)
        rc = hlc_store_cred_find(hub->store, NULL, true, &sealed, NULL);
    if (rc == 0)
        rc = unseal(hub, sealed, privkey);
    free(sealed);
    return rc;
}

int
hlc_credentials_ssh_user_for(struct hlc_hub *hub, const char *server_id, char **ssh_user)
{
    return hlc_store_cred_for_machine(hub->store, server_id, NULL, ssh_user);
}

int
hlc_credentials_public_key(struct hlc_hub *hub, char **line)
{
    char *sealed = NULL;
    *line = NULL;
    int rc = hlc_store_cred_find(hub->store, NULL, true, &sealed, line);
    free(sealed);
    if (rc == 0 && !*line)
        rc = HLC_ENOTFOUND;
    return rc;
}

int
hlc_credentials_get_secret(struct hlc_hub *hub, const char *kind, char **secret)
{
    char *sealed = NULL;
    *secret = NULL;
    int rc = hlc_store_cred_find(hub->store, kind, false, &sealed, NULL);
    if (rc == 0)
        rc = unseal(hub, sealed, secret);
    free(sealed);
    return rc;
}

int
hlc_credentials_set_secret(struct hlc_hub *hub, const char *kind, const char *secret)
{
    if (!secret || !*secret)
        return hlc_store_cred_delete_kind(hub->store, kind);
    char *sealed = NULL, kid[9], id[37];
    int rc = hlc_credentials_seal(hub->keyring, secret, &sealed, kid);
    if (rc != 0)
        return rc;
    hlc_uuid4(id);
    struct hlc_cred_row row = {.id = id, .kind = kind, .sealed = sealed, .key_id = kid};
    rc = hlc_store_cred_insert(hub->store, &row, true);
    free(sealed);
    return rc;
}

/* ---- rotation ----------------------------------------------------------- */

static int
reseal_one(void *ud, const char *sealed, char **resealed, char **key_id)
{
    const struct hlc_keyring *kr = ud;
    unsigned char *plain = NULL;
    size_t len = 0;
    int rc = hlc_token_open(kr, sealed, 0, 0, &plain, &len);
    if (rc != 0)
        return rc;
    rc = hlc_token_seal(kr, plain, len, resealed);
    hlc_token_free_plain(plain, len);
    if (rc == 0) {
        *key_id = hlc_xmalloc(9);
        hlc_keyring_key_id(kr, 0, *key_id);
    }
    return rc;
}

int
hlc_credentials_rotate(struct hlc_store *store, const struct hlc_keyring *kr, int *count)
{
    return hlc_store_cred_reseal(store, reseal_one, (void *)kr, count);
}
