/* cli.c - the admin verbs of the homelabcmd command, beside serve/version/help. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "credentials.h"
#include "credentials_internal.h"
#include "hlc/base.h"
#include "hlc/token.h"
#include "store.h"

/* keygen: prints a new encryption key (base64url of 32 random bytes). */
static int
cmd_keygen(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: homelabcmd keygen\n");
        return 2;
    }
    char *key = hlc_key_generate();
    printf("%s\n", key);
    hlc_credentials_free_secret(key);
    return 0;
}

/* rotate-credentials: re-seals every stored credential under the first key of
 * HOMELABCMD_ENCRYPTION_KEY in one transaction. */
static int
cmd_rotate(int argc, char **argv)
{
    struct hlc_settings set;
    struct hlc_keyring *kr = NULL;
    struct hlc_store *store = NULL;
    int rc = 1;
    memset(&set, 0, sizeof(set));
    if (hlc_settings_load(&set, argc, argv) != 0) {
        hlc_settings_release(&set);
        return 2;
    }
    if (!set.encryption_key) {
        fprintf(stderr, "homelabcmd rotate-credentials: set HOMELABCMD_ENCRYPTION_KEY=NEW,OLD "
                        "(the new key first, then every key still in use)\n");
        rc = 2;
        goto out;
    }
    if (hlc_credentials_prepare_keyring(&set, &kr) != 0) {
        rc = 2;
        goto out;
    }
    if (hlc_store_open(&store, set.db_path, 1) != 0) {
        fprintf(stderr, "homelabcmd: cannot open the database %s\n", set.db_path);
        goto out;
    }
    int count = 0;
    int err = hlc_credentials_rotate(store, kr, &count);
    if (err != 0) {
        fprintf(stderr, "homelabcmd rotate-credentials: nothing changed: %s\n",
                hlc_strerror(err));
        goto out;
    }
    char id[9];
    hlc_keyring_key_id(kr, 0, id);
    printf("re-sealed %d credential%s under key id %s; the other keys may now be removed "
           "from HOMELABCMD_ENCRYPTION_KEY\n",
           count, count == 1 ? "" : "s", id);
    rc = 0;
out:
    hlc_store_free(store);
    hlc_keyring_free(kr);
    hlc_settings_release(&set);
    return rc;
}

const struct hlc_cli_cmd hlc_cli_cmds[] = {
    {"keygen", cmd_keygen},
    {"rotate-credentials", cmd_rotate},
    {NULL, NULL},
};

const char hlc_cli_usage[] =
    "  keygen                print a new HOMELABCMD_ENCRYPTION_KEY\n"
    "  rotate-credentials    re-seal stored credentials under the first key of\n"
    "                        HOMELABCMD_ENCRYPTION_KEY (takes the serve options)\n";
