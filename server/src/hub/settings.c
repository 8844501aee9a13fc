/* settings.c - the hub's settings from the environment and flags, and the
 * small files it keeps secrets in (the data directory, mode 0600 files). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "hlc/base.h"

void
hlc_usage(FILE *f)
{
    fprintf(f,
            "homelabcmd %s - a self-hosted hub that watches and runs a homelab fleet\n"
            "\n"
            "usage: homelabcmd <command> [options]\n"
            "\n"
            "commands:\n"
            "  serve                 run the hub (HTTP API, dashboard, pollers)\n"
            "  version               print the version\n"
            "  help                  this text\n"
            "%s"
            "\n"
            "options (each also read from the environment variable shown):\n"
            "  --data-dir DIR        HOMELABCMD_DATA_DIR     data directory (./data)\n"
            "  --listen HOST:PORT    HOMELABCMD_LISTEN       listen address (0.0.0.0:8080)\n"
            "  --www-dir DIR         HOMELABCMD_WWW_DIR      built dashboard (%s)\n"
            "  --db FILE             HOMELABCMD_DB           database file (DATA_DIR/homelabcmd.db)\n"
            "  --http-threads N      HOMELABCMD_HTTP_THREADS HTTP worker threads (16)\n"
            "  --max-body BYTES      HOMELABCMD_MAX_BODY     request body cap (1048576)\n"
            "  --per-ip-limit N      HOMELABCMD_PER_IP_LIMIT connections per client (64)\n"
            "                        HOMELABCMD_MAX_CONNECTIONS connections in all (4096,\n"
            "                        lowered to fit the descriptor limit)\n"
            "                        HOMELABCMD_HEAD_TIMEOUT seconds for a request head (10)\n"
            "                        HOMELABCMD_BODY_TIMEOUT seconds for its body (60)\n"
            "                        HOMELABCMD_AUTH_FAIL_LIMIT wrong keys a minute per\n"
            "                        address answered at once (10); later ones wait\n"
            "  --poll-workers N      HOMELABCMD_POLL_WORKERS SSH poll threads (0 = 2 x cores)\n"
            "  --no-access-log       HOMELABCMD_ACCESS_LOG=0 no per-request log line\n"
            "  --agent-bin FILE      HOMELABCMD_AGENT_BIN    agent binary served at /agent/\n"
            "                        (default: homelabcmd-agent next to this program)\n"
            "  HOMELABCMD_TAILSCALE_API_URL  Tailscale API (https://api.tailscale.com)\n"
            "  HOMELABCMD_TAILSCALE_SOCKET   local tailscaled socket\n"
            "                        (/var/run/tailscale/tailscaled.sock); both also settable\n"
            "                        in the database config (tailscale.api_url, .socket)\n"
            "  --tls-cert FILE       HOMELABCMD_TLS_CERT     serve HTTPS with this PEM cert\n"
            "  --tls-key FILE        HOMELABCMD_TLS_KEY      and this PEM private key\n"
            "\n"
            "secrets come only from the environment:\n"
            "  HOMELABCMD_API_KEY         the X-API-Key (generated into DATA_DIR/api_key if unset)\n"
            "  HOMELABCMD_ENCRYPTION_KEY  key(s) sealing credentials at rest (comma-separated)\n"
            "  SLACK_WEBHOOK_URL          Slack incoming webhook for notifications\n",
            HLC_VERSION, hlc_cli_usage, HLC_WWW_DIR);
}

static char *
env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? hlc_xstrdup(v) : (def ? hlc_xstrdup(def) : NULL);
}

static int
env_uint(const char *name, long long min, long long max, long long def, long long *out)
{
    const char *v = getenv(name);
    int64_t n;
    *out = def;
    if (!v || !*v)
        return 0;
    if (hlc_parse_i64(v, min, max, &n) != 0) {
        fprintf(stderr, "homelabcmd: %s must be a number between %lld and %lld\n", name, min,
                max);
        return -1;
    }
    *out = n;
    return 0;
}

static void
replace(char **slot, const char *v)
{
    free(*slot);
    *slot = hlc_xstrdup(v);
}

void
hlc_settings_release(struct hlc_settings *s)
{
    free(s->data_dir);
    free(s->listen);
    free(s->www_dir);
    if (s->api_key)
        sodium_memzero(s->api_key, strlen(s->api_key));
    free(s->api_key);
    if (s->encryption_key)
        sodium_memzero(s->encryption_key, strlen(s->encryption_key));
    free(s->encryption_key);
    free(s->slack_webhook);
    free(s->db_path);
    free(s->agent_bin);
    free(s->tailscale_api_url);
    free(s->tailscale_socket);
    free(s->tls_cert);
    free(s->tls_key);
    memset(s, 0, sizeof(*s));
}

int
hlc_settings_load(struct hlc_settings *s, int argc, char **argv)
{
    long long threads, max_body, per_ip, workers, access = 1, max_conns, head_t, body_t,
              fails;
    memset(s, 0, sizeof(*s));
    s->data_dir = env_or("HOMELABCMD_DATA_DIR", "./data");
    s->listen = env_or("HOMELABCMD_LISTEN", "0.0.0.0:8080");
    s->www_dir = env_or("HOMELABCMD_WWW_DIR", HLC_WWW_DIR);
    s->api_key = env_or("HOMELABCMD_API_KEY", NULL);
    s->encryption_key = env_or("HOMELABCMD_ENCRYPTION_KEY", NULL);
    s->slack_webhook = env_or("SLACK_WEBHOOK_URL", NULL);
    s->db_path = env_or("HOMELABCMD_DB", NULL);
    s->agent_bin = env_or("HOMELABCMD_AGENT_BIN", NULL);
    s->tailscale_api_url = env_or("HOMELABCMD_TAILSCALE_API_URL", "https://api.tailscale.com");
    s->tailscale_socket = env_or("HOMELABCMD_TAILSCALE_SOCKET", "/var/run/tailscale/tailscaled.sock");
    s->tls_cert = env_or("HOMELABCMD_TLS_CERT", NULL);
    s->tls_key = env_or("HOMELABCMD_TLS_KEY", NULL);
    if (env_uint("HOMELABCMD_HTTP_THREADS", 1, 256, 16, &threads) ||
        env_uint("HOMELABCMD_MAX_BODY", 1024, 64LL << 20, 1 << 20, &max_body) ||
        env_uint("HOMELABCMD_PER_IP_LIMIT", 1, 65535, 64, &per_ip) ||
        env_uint("HOMELABCMD_MAX_CONNECTIONS", 16, 65536, 4096, &max_conns) ||
        env_uint("HOMELABCMD_HEAD_TIMEOUT", 1, 600, 10, &head_t) ||
        env_uint("HOMELABCMD_BODY_TIMEOUT", 1, 3600, 60, &body_t) ||
        env_uint("HOMELABCMD_AUTH_FAIL_LIMIT", 1, 1000000, 10, &fails) ||
        env_uint("HOMELABCMD_POLL_WORKERS", 0, 1024, 0, &workers) ||
        env_uint("HOMELABCMD_ACCESS_LOG", 0, 1, 1, &access))
        return -1;

    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"www-dir", required_argument, NULL, 'w'},
        {"db", required_argument, NULL, 'b'},
        {"http-threads", required_argument, NULL, 't'},
        {"max-body", required_argument, NULL, 'm'},
        {"per-ip-limit", required_argument, NULL, 'p'},
        {"poll-workers", required_argument, NULL, 'W'},
        {"no-access-log", no_argument, NULL, 'q'},
        {"agent-bin", required_argument, NULL, 'A'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:l:w:b:t:m:p:W:A:C:K:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            replace(&s->data_dir, optarg);
            break;
        case 'l':
            replace(&s->listen, optarg);
            break;
        case 'w':
            replace(&s->www_dir, optarg);
            break;
        case 'b':
            replace(&s->db_path, optarg);
            break;
        case 't':
        case 'm':
        case 'p': {
            long long lo = c == 'm' ? 1024 : 1, hi = c == 't' ? 256 : c == 'm' ? 64LL << 20 : 65535;
            if (hlc_parse_i64(optarg, lo, hi, &n) != 0) {
                fprintf(stderr, "homelabcmd: --%s needs a number between %lld and %lld\n",
                        c == 't' ? "http-threads" : c == 'm' ? "max-body" : "per-ip-limit", lo,
                        hi);
                return -1;
            }
            if (c == 't')
                threads = n;
            else if (c == 'm')
                max_body = n;
            else
                per_ip = n;
            break;
        }
        case 'W':
            if (hlc_parse_i64(optarg, 0, 1024, &n) != 0) {
                fprintf(stderr, "homelabcmd: --poll-workers needs a number between 0 and 1024\n");
                return -1;
            }
            workers = n;
            break;
        case 'q':
            access = 0;
            break;
        case 'A':
            replace(&s->agent_bin, optarg);
            break;
        case 'C':
            replace(&s->tls_cert, optarg);
            break;
        case 'K':
            replace(&s->tls_key, optarg);
            break;
        case 'h':
            hlc_usage(stdout);
            exit(0);
        default:
            hlc_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "homelabcmd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!s->tls_cert != !s->tls_key) {
        fprintf(stderr,
                "homelabcmd: HTTPS needs both HOMELABCMD_TLS_CERT and HOMELABCMD_TLS_KEY\n");
        return -1;
    }
    if (!s->db_path)
        s->db_path = hlc_xasprintf("%s/homelabcmd.db", s->data_dir);
    s->http_threads = (unsigned)threads;
    s->max_body = (size_t)max_body;
    s->per_ip_limit = (unsigned)per_ip;
    s->max_conns = (unsigned)max_conns;
    s->head_timeout = (unsigned)head_t;
    s->body_timeout = (unsigned)body_t;
    s->auth_fails = (unsigned)fails;
    s->access_log = access != 0;
    s->poll_workers = (unsigned)workers;
    return 0;
}
int
hlc_data_dir_prepare(const char *dir)
{
    char *path = hlc_xstrdup(dir);
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                fprintf(stderr, "homelabcmd: cannot create %s: %s\n", path, strerror(errno));
                free(path);
                return -1;
            }
            *p = '/';
        }
    }
    int rc = mkdir(path, 0700);
    if (rc != 0 && errno != EEXIST) {
        fprintf(stderr, "homelabcmd: cannot create data directory %s: %s\n", path,
                strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

int
hlc_data_dir_lock(const char *dir, int *fd_out)
{
    char *path = hlc_xasprintf("%s/homelabcmd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    *fd_out = -1;
    if (fd < 0)
        return HLC_EIO;
    /* flock, not a pid file: the kernel drops it when the hub dies, even
     * by kill -9, so a stale lock never blocks a restore. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(fd);
        return busy ? HLC_EBUSY : HLC_EIO;
    }
    *fd_out = fd;
    return 0;
}
