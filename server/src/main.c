/* main.c - the homelabcmd command: serve, version, help (and the admin verbs). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "api_events.h"
#include "bus.h"
#include "cli.h"
#include "credentials_internal.h"
#include "hlc/token.h"
#include "http.h"
#include "hub.h"
#include "store.h"

#ifndef HLC_WWW_DIR
#define HLC_WWW_DIR "/usr/share/homelabcmd/www"
#endif



static void
log_stderr(enum hlc_log_level level, const char *msg, void *ud)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    (void)ud;
    char ts[32];
    hlc_time_iso(hlc_now(), ts);
    fprintf(stderr, "%s %s %s\n", ts, names[level], msg);
}


/* A short key can be guessed even through the throttle. */
static int
api_key_long_enough(const char *key, const char *from)
{
    if (strlen(key) >= 32)
        return 0;
    fprintf(stderr,
            "homelabcmd: the API key in %s is %zu characters; it must be at least 32 "
            "(for example: openssl rand -hex 32), or remove it to have one generated\n",
            from, strlen(key));
    return -1;
}

/* Resolves the API key: environment, then DATA_DIR/api_key, else generated. */
static int
api_key_prepare(struct hlc_settings *s)
{
    if (s->api_key)
        return api_key_long_enough(s->api_key, "HOMELABCMD_API_KEY");
    int ret = 0;
    char *path = hlc_xasprintf("%s/api_key", s->data_dir);
    s->api_key = hlc_read_secret_file(path);
    if (s->api_key) {
        ret = api_key_long_enough(s->api_key, path);
        goto out;
    }
    char key[65];
    hlc_random_hex(key, 32);
    if (hlc_write_secret_file(path, key) != 0) {
        fprintf(stderr, "homelabcmd: cannot write %s: %s\n", path, strerror(errno));
        ret = -1;
        goto out;
    }
    s->api_key = hlc_xstrdup(key);
    sodium_memzero(key, sizeof(key));
    /* Only where it is: stdout ends up in logs. */
    printf("Generated an API key, saved in %s (mode 0600)\n", path);
    fflush(stdout);
out:
    free(path);
    return ret;
}

/* A PEM file for HTTPS (at most 1 MiB), NUL-terminated on the heap; NULL
 * after printing why. */
static char *
read_pem(const char *path)
{
    struct hlc_buf b;
    char chunk[4096];
    hlc_buf_init(&b, 1 << 20);
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "homelabcmd: cannot read %s: %s\n", path, strerror(errno));
        hlc_buf_release(&b);
        return NULL;
    }
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (hlc_buf_append(&b, chunk, n) != 0) {
            ok = false;
            break;
        }
    ok = ok && !ferror(f) && b.data;
    fclose(f);
    sodium_memzero(chunk, sizeof(chunk));
    if (!ok || !strstr(b.data, "-----BEGIN ")) {
        fprintf(stderr, "homelabcmd: %s is not a PEM file of at most 1 MiB\n", path);
        if (b.data)
            sodium_memzero(b.data, b.len);
        hlc_buf_release(&b);
        return NULL;
    }
    return hlc_buf_steal(&b);
}

static int
serve(int argc, char **argv)
{
    struct hlc_hub hub;
    struct hlc_http *http = NULL;
    int rc = 1;
    int lock_fd = -1;
    char *tls_cert = NULL, *tls_key = NULL;
    memset(&hub, 0, sizeof(hub));
    /* glibc gives each thread that allocates its own arena (up to 8 per core),
     * and each keeps what its polls and requests once used: with a thousand
     * pooled sessions that was ~190 MB of RSS, 73 MB in two arenas
     * (bench_fleet.py). MALLOC_ARENA_MAX in the environment still wins. */
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, 2);
    /* SIGINT and SIGTERM are taken by sigwait below: blocked before the first
     * thread starts (every thread inherits the mask), or the kernel may give
     * one to a service thread, whose default action kills the hub mid-write. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (hlc_settings_load(&hub.set, argc, argv) != 0) {
        hlc_settings_release(&hub.set);
        return 2;
    }
    if (hlc_data_dir_prepare(hub.set.data_dir) != 0)
        goto out;
    /* Held while the hub runs, so `homelabcmd restore` refuses to replace
     * the database under it (the kernel releases it when the hub ends). */
    if (hlc_data_dir_lock(hub.set.data_dir, &lock_fd) != 0) {
        fprintf(stderr, "homelabcmd: another hub is running on %s (its lock %s/homelabcmd.lock "
                        "is held)\n", hub.set.data_dir, hub.set.data_dir);
        goto out;
    }
    if (api_key_prepare(&hub.set) != 0)
        goto out;
    crypto_generichash(hub.api_key_hash, sizeof(hub.api_key_hash),
                       (const unsigned char *)hub.set.api_key, strlen(hub.set.api_key), NULL, 0);
    /* Before the store opens (and migrates): a wrong key must change nothing. */
    if (hlc_credentials_prepare_keyring(&hub.set, &hub.keyring) != 0) {
        rc = 2;
        goto out;
    }
    if (hlc_store_open(&hub.store, hub.set.db_path, hub.set.http_threads + 2) != 0) {
        fprintf(stderr, "homelabcmd: cannot open the database %s\n", hub.set.db_path);
        goto out;
    }
    if (hlc_credentials_ensure_identity(&hub) != 0) {
        fprintf(stderr, "homelabcmd: cannot prepare the hub's SSH identity\n");
        goto out;
    }
    hub.bus = hlc_bus_new();
    if (hlc_services_start(&hub) != 0)
        goto out;

    hub.started_at = hlc_now();
    hub.started_mono_ms = hlc_mono_ms();
    struct hlc_http_cfg hc = {
        .listen = hub.set.listen,
        .threads = hub.set.http_threads,
        .max_body = hub.set.max_body,
        .conn_timeout_s = 30,
        .head_timeout_s = hub.set.head_timeout,
        .body_timeout_s = hub.set.body_timeout,
        .auth_fail_limit = hub.set.auth_fails,
        .per_ip_limit = hub.set.per_ip_limit,
        .conn_limit = hub.set.max_conns,
        .access_log = hub.set.access_log,
    };
    if (hub.set.tls_cert) {
        tls_cert = read_pem(hub.set.tls_cert);
        tls_key = read_pem(hub.set.tls_key);
        if (!tls_cert || !tls_key)
            goto out;
        hc.tls_cert_pem = tls_cert;
        hc.tls_key_pem = tls_key;
    }
    if (hlc_http_start(&http, &hc, &hub, &hub.port) != 0)
        goto out;
    hlc_log(HLC_LOG_INFO, "homelabcmd %s listening on %s (port %d), data in %s", HLC_VERSION,
            hub.set.listen, hub.port, hub.set.data_dir);
    int sig = 0;
    sigwait(&sigs, &sig);
    hlc_log(HLC_LOG_INFO, "signal %d: shutting down", sig);
    rc = 0;
out:
    hlc_events_close(&hub); /* open event streams end before the daemon stops */
    hlc_http_stop(http);
    hlc_services_stop(&hub);
    hlc_bus_free(hub.bus);
    hlc_store_free(hub.store);
    hlc_keyring_free(hub.keyring);
    hlc_settings_release(&hub.set);
    if (lock_fd >= 0)
        close(lock_fd);
    free(tls_cert);
    if (tls_key)
        sodium_memzero(tls_key, strlen(tls_key));
    free(tls_key);
    if (rc == 0)
        hlc_log(HLC_LOG_INFO, "stopped cleanly");
    return rc;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "homelabcmd: libsodium failed to initialise\n");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { /* notifications */
        fprintf(stderr, "homelabcmd: libcurl failed to initialise\n");
        return 1;
    }
    hlc_log_set(log_stderr, NULL, getenv("HOMELABCMD_DEBUG") ? HLC_LOG_DEBUG : HLC_LOG_INFO);
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (argc < 2) {
        hlc_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("homelabcmd %s (schema %d)\n", HLC_VERSION, hlc_store_latest_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        hlc_usage(stdout);
        return 0;
    }
    for (const struct hlc_cli_cmd *c = hlc_cli_cmds; c->name; c++)
        if (strcmp(cmd, c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "homelabcmd: unknown command '%s' (try 'homelabcmd --help')\n", cmd);
    return 2;
}
