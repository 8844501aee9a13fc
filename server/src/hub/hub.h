/* hub.h - the running hub: its settings and the services every handler reaches. */
#ifndef HLC_HUB_H
#define HLC_HUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>


struct hlc_store;
struct hlc_keyring;
struct hlc_ingest;
struct hlc_remote;
struct hlc_actions;
struct hlc_alerts;
struct hlc_notifier;
struct hlc_events;
struct hlc_bus;
struct hlc_tailscale;
struct hlc_drift;
struct hlc_enroll;
struct hlc_packs;
struct hlc_exec_result;
struct hlc_checks;
struct hlc_ollama;

/* Settings from the environment and flags (secrets only from the environment). */
struct hlc_settings {
    char *data_dir;        /* HOMELABCMD_DATA_DIR, default ./data */
    char *listen;          /* HOMELABCMD_LISTEN, default 0.0.0.0:8080 */
    char *www_dir;         /* HOMELABCMD_WWW_DIR, the built dashboard */
    char *api_key;         /* HOMELABCMD_API_KEY, or generated into data_dir */
    char *encryption_key;  /* HOMELABCMD_ENCRYPTION_KEY (comma-separated keyring) */
    char *slack_webhook;   /* SLACK_WEBHOOK_URL */
    char *db_path;         /* data_dir/homelabcmd.db unless HOMELABCMD_DB */
    unsigned http_threads; /* HOMELABCMD_HTTP_THREADS */
    size_t max_body;       /* HOMELABCMD_MAX_BODY bytes */
    unsigned per_ip_limit; /* HOMELABCMD_PER_IP_LIMIT */
    unsigned max_conns;    /* HOMELABCMD_MAX_CONNECTIONS (capped by the fd limit) */
    unsigned head_timeout; /* HOMELABCMD_HEAD_TIMEOUT seconds for a request head */
    unsigned body_timeout; /* HOMELABCMD_BODY_TIMEOUT seconds for its body */
    unsigned auth_fails;   /* HOMELABCMD_AUTH_FAIL_LIMIT wrong keys a minute, then held */
    bool access_log;       /* HOMELABCMD_ACCESS_LOG (default on) */
    unsigned poll_workers; /* HOMELABCMD_POLL_WORKERS, 0 = 2 x cores */
    char *agent_bin;       /* HOMELABCMD_AGENT_BIN, NULL = next to the hub binary */
    char *tailscale_api_url; /* HOMELABCMD_TAILSCALE_API_URL, default https://api.tailscale.com */
    char *tailscale_socket;  /* HOMELABCMD_TAILSCALE_SOCKET, default /var/run/tailscale/tailscaled.sock */
    char *tls_cert;        /* HOMELABCMD_TLS_CERT: PEM certificate file, NULL = plain HTTP */
    char *tls_key;         /* HOMELABCMD_TLS_KEY: its PEM private key file */
};

struct hlc_hub {
    struct hlc_settings set;      /* as started */
    struct hlc_store *store;      /* the database */
    struct hlc_keyring *keyring;  /* seals and unseals credentials (credentials.c) */
    unsigned char api_key_hash[32]; /* BLAKE2b of the API key, for constant-time checks */
    int64_t started_at;           /* wall clock at start */
    int64_t started_mono_ms;      /* monotonic clock at start */
    atomic_uint_fast64_t requests; /* requests answered */
    int port;                     /* port actually bound */
    struct hlc_remote *remote;    /* SSH poller and offline sweep (remote.c), NULL until started */
    struct hlc_ingest *ingest;    /* metrics baselines + pruner (ingest.c), NULL until started */
    struct hlc_actions *actions;  /* actions worker (actions.c), NULL until started */
    struct hlc_alerts *alerts;    /* alert engine and offline sweep (alerts.c), NULL until started */
    struct hlc_notifier *notifier; /* the outbox sender (notifier.c), NULL until started */
    struct hlc_events *events;    /* server-sent event streams (api_events.c), NULL until started */
    struct hlc_bus *bus;          /* in-process event bus (bus/), NULL in tests that start one service */
    struct hlc_tailscale *tailscale; /* device cache + periodic sync (tailscale.c), NULL until started */
    struct hlc_enroll *enroll;    /* agent enrollment limiter + sign-in record (enroll.c), NULL until started */
    struct hlc_packs *packs;      /* config pack registry (packs.c), NULL until started */
    struct hlc_checks *checks;    /* service checks scheduler (checks.c), NULL until started */
    struct hlc_drift *drift;      /* drift schedule (packs/drift.c), NULL until started */
    struct hlc_ollama *ollama;    /* Ollama probe spacing per machine (ollama.c), NULL until started */
    /* Does an apply_pack action's work instead of one exec (packs/apply.c sets
     * it when the packs service starts, so actions/ never calls into packs/):
     * fills res as an exec would, out = the outcome JSON; returns as
     * hlc_remote_exec. NULL: apply_pack actions fail. */
    int (*apply_pack)(struct hlc_hub *hub, const char *server_id, const char *pack, int timeout_ms,
                      struct hlc_exec_result *res);
};

/* True when `key` is the hub's API key; constant time in the key's contents. */
bool hlc_hub_key_ok(const struct hlc_hub *hub, const char *key);

#endif
