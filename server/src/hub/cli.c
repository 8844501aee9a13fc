/* cli.c - the admin verbs of the homelabcmd command, beside serve/version/help. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

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

/* ---- health: the container's HEALTHCHECK, no curl binary needed ---------- */

/* The health reply, kept up to 16 KiB. */
static size_t
health_body(char *data, size_t size, size_t n, void *ud)
{
    struct hlc_buf *b = ud;
    (void)hlc_buf_append(b, data, size * n); /* past the cap it stays cut */
    return size * n;
}

/* The URL of the hub's own health route from its listen address: a wildcard
 * host is asked on loopback. */
static char *
health_url_of(const struct hlc_settings *set)
{
    const char *l = set->listen;
    const char *colon = strrchr(l, ':');
    const char *port = colon ? colon + 1 : "8080";
    const char *scheme = set->tls_cert ? "https" : "http";
    size_t hostlen = colon ? (size_t)(colon - l) : 0;
    if (hostlen == 0 || (hostlen == 1 && l[0] == '*') ||
        (hostlen == 7 && strncmp(l, "0.0.0.0", 7) == 0))
        return hlc_xasprintf("%s://127.0.0.1:%s/api/v1/system/health", scheme, port);
    if (hostlen == 4 && strncmp(l, "[::]", 4) == 0)
        return hlc_xasprintf("%s://[::1]:%s/api/v1/system/health", scheme, port);
    return hlc_xasprintf("%s://%.*s:%s/api/v1/system/health", scheme, (int)hostlen, l, port);
}

/* health [--url URL]: exit 0 when /api/v1/system/health answers 200 with
 * status "healthy", 1 otherwise (2 for a usage error). URL is the hub's base
 * URL (http://hub:8080) or the health route's own. Without --url it asks
 * the hub configured by the environment (HOMELABCMD_LISTEN, and HTTPS when
 * HOMELABCMD_TLS_CERT is set: that loopback check does not verify the
 * certificate, which names the LAN host, not 127.0.0.1). */
static int
cmd_health(int argc, char **argv)
{
    const char *url_arg = NULL;
    if (argc == 3 && strcmp(argv[1], "--url") == 0) {
        url_arg = argv[2];
    } else if (argc == 2 && strncmp(argv[1], "--url=", 6) == 0) {
        url_arg = argv[1] + 6;
    } else if (argc != 1) {
        fprintf(stderr, "usage: homelabcmd health [--url URL]\n");
        return 2;
    }
    if (url_arg && strncmp(url_arg, "http://", 7) != 0 && strncmp(url_arg, "https://", 8) != 0) {
        fprintf(stderr, "homelabcmd health: --url must start with http:// or https://\n");
        return 2;
    }
    struct hlc_settings set;
    char *url = NULL;
    struct hlc_buf body;
    long status = 0;
    int rc = 1;
    memset(&set, 0, sizeof(set));
    hlc_buf_init(&body, 16 * 1024);
    if (!url_arg) {
        char *no_args[] = {argv[0], NULL};
        if (hlc_settings_load(&set, 1, no_args) != 0)
            goto out;
    }
    if (url_arg) {
        /* The hub's base URL names the health route by itself. */
        const char *host = strstr(url_arg, "://") + 3;
        const char *slash = strchr(host, '/');
        if (!slash || strcmp(slash, "/") == 0)
            url = hlc_xasprintf("%.*s/api/v1/system/health",
                                (int)(slash ? (size_t)(slash - url_arg) : strlen(url_arg)),
                                url_arg);
        else
            url = hlc_xstrdup(url_arg);
    } else {
        url = health_url_of(&set);
    }
    CURL *c = curl_easy_init();
    if (!c)
        goto out;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, health_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    if (!url_arg && set.tls_cert) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK) {
        printf("unhealthy: %s: %s\n", url, curl_easy_strerror(cc));
        goto out;
    }
    json_t *j = body.data ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    const char *st = json_string_value(json_object_get(j, "status"));
    bool healthy = status == 200 && st && strcmp(st, "healthy") == 0;
    printf("%s: %s answered %ld (%s)\n", healthy ? "healthy" : "unhealthy", url, status,
           st ? st : "no status");
    json_decref(j);
    rc = healthy ? 0 : 1;
out:
    free(url);
    hlc_buf_release(&body);
    hlc_settings_release(&set);
    return rc;
}

/* ---- backup / restore ---------------------------------------------------- */

/* argv = {verb, FILE, serve options...}: the settings from the options, FILE
 * in *file. 0, or 2 after printing the usage. */
static int
file_verb_args(int argc, char **argv, struct hlc_settings *set, const char **file)
{
    if (argc < 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
        fprintf(stderr, "usage: homelabcmd %s FILE [--data-dir DIR] [--db FILE]\n", argv[0]);
        return 2;
    }
    *file = argv[1];
    /* getopt starts after argv[0]: FILE stands in as the verb. */
    return hlc_settings_load(set, argc - 1, argv + 1) == 0 ? 0 : 2;
}

/* backup FILE: a consistent copy of the database while the hub runs. */
static int
cmd_backup(int argc, char **argv)
{
    struct hlc_settings set;
    const char *file = NULL;
    char why[512];
    memset(&set, 0, sizeof(set));
    int rc = file_verb_args(argc, argv, &set, &file);
    if (rc != 0)
        goto out;
    int err = hlc_store_backup_file(set.db_path, file, why, sizeof(why));
    if (err != 0) {
        fprintf(stderr, "homelabcmd backup: %s: %s (nothing written to %s)\n", hlc_strerror(err),
                why, file);
        rc = 1;
        goto out;
    }
    int schema = -1;
    (void)hlc_store_check_file(file, &schema, why, sizeof(why));
    printf("backed up %s to %s (schema %d, integrity ok); back up the encryption key "
           "(HOMELABCMD_ENCRYPTION_KEY or %s/encryption_key) separately\n",
           set.db_path, file, schema, set.data_dir);
out:
    hlc_settings_release(&set);
    return rc;
}

/* The pid in DATA_DIR/homelabcmd.pid (quickstart writes it) when that
 * process is alive, else 0. */
static long
pidfile_alive(const char *data_dir)
{
    char *path = hlc_xasprintf("%s/homelabcmd.pid", data_dir);
    char *text = hlc_read_secret_file(path);
    free(path);
    int64_t pid = 0;
    if (!text || hlc_parse_i64(text, 1, 1 << 22, &pid) != 0)
        pid = 0;
    free(text);
    if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        pid = 0;
    return (long)pid;
}

/* restore FILE: puts a backup in place of the database of a stopped hub. */
static int
cmd_restore(int argc, char **argv)
{
    struct hlc_settings set;
    const char *file = NULL;
    char why[512];
    int lock = -1;
    memset(&set, 0, sizeof(set));
    int rc = file_verb_args(argc, argv, &set, &file);
    if (rc != 0)
        goto out;
    rc = 1;
    if (hlc_data_dir_prepare(set.data_dir) != 0)
        goto out;
    int err = hlc_data_dir_lock(set.data_dir, &lock);
    long pid = pidfile_alive(set.data_dir);
    if (err == HLC_EBUSY || pid > 0) {
        fprintf(stderr, "homelabcmd restore: the hub is running on %s (%s); stop it first, "
                        "nothing was changed\n", set.data_dir,
                err == HLC_EBUSY ? "it holds homelabcmd.lock" : "homelabcmd.pid is alive");
        goto out;
    }
    if (err != 0) {
        fprintf(stderr, "homelabcmd restore: cannot lock %s: %s\n", set.data_dir,
                hlc_strerror(err));
        goto out;
    }
    err = hlc_store_restore_file(file, set.db_path, why, sizeof(why));
    if (err != 0) {
        fprintf(stderr, "homelabcmd restore: %s: %s (the database was not changed)\n",
                hlc_strerror(err), why);
        goto out;
    }
    int schema = -1;
    err = hlc_store_check_file(set.db_path, &schema, why, sizeof(why));
    if (err != 0) {
        fprintf(stderr, "homelabcmd restore: the restored %s fails its check: %s\n",
                set.db_path, why);
        goto out;
    }
    printf("restored %s from %s (schema %d, integrity ok); start the hub with the same "
           "encryption key the backup was made under\n",
           set.db_path, file, schema);
    rc = 0;
out:
    if (lock >= 0)
        close(lock);
    hlc_settings_release(&set);
    return rc;
}

const struct hlc_cli_cmd hlc_cli_cmds[] = {
    {"keygen", cmd_keygen},
    {"rotate-credentials", cmd_rotate},
    {"health", cmd_health},
    {"backup", cmd_backup},
    {"restore", cmd_restore},
    {NULL, NULL},
};

const char hlc_cli_usage[] =
    "  keygen                print a new HOMELABCMD_ENCRYPTION_KEY\n"
    "  rotate-credentials    re-seal stored credentials under the first key of\n"
    "                        HOMELABCMD_ENCRYPTION_KEY (takes the serve options)\n"
    "  health [--url URL]    exit 0 when the hub answers healthy, 1 when not\n"
    "  backup FILE           consistent copy of the database, while the hub runs\n"
    "  restore FILE          put a backup in place (the hub must be stopped)\n";
