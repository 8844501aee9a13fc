/* enroll.c - enrollment tokens, agent tokens, the enroll rate limit and the
 * record of how each agent signs in. */
#include "enroll.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "hlc/base.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

/* Token text: a prefix saying what it is (so a leaked one is recognised in
 * a log or a paste) and base64url of 32 random bytes. */
#define ENROLL_PREFIX "hlce_"
#define AGENT_PREFIX "hlca_"
#define SECRET_BYTES 32
#define TOKEN_CHARS (5 + 43 + 1)

#define LIMIT_SLOTS 256
#define SEEN_SLOTS 1024
/* A token's last use is written at most this often per machine. */
#define SEEN_EVERY_S 60

/* One address's enroll allowance (a token bucket). Addresses that hash to
 * the same slot evict each other, which only ever gives an attempt back. */
struct limit_slot {
    char ip[48];      /* address, "" when free */
    double tokens;    /* attempts left */
    int64_t last_ms;  /* monotonic time tokens was computed at */
};

/* What was last written about a machine's sign-in. */
struct seen_slot {
    char server_id[64]; /* machine, "" when free */
    char token_id[40];  /* token it used, "" for the admin key */
    char ip[48];        /* from where */
    int64_t at;         /* when written (wall clock) */
};

struct hlc_enroll {
    pthread_mutex_t mu;                      /* guards both tables */
    struct limit_slot limit[LIMIT_SLOTS];    /* enroll attempts per address */
    struct seen_slot seen[SEEN_SLOTS];       /* sign-ins per machine */
    /* agent.allow_admin_key_heartbeats as read at config version
     * admin_ok_ver - 1 (0: not read yet): read on every v1 heartbeat. */
    bool admin_ok;
    unsigned admin_ok_ver;
};

static unsigned
slot_of(const char *s, unsigned n)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % n;
}

int
hlc_enroll_start(struct hlc_hub *hub)
{
    struct hlc_enroll *en = hlc_xcalloc(1, sizeof(*en));
    pthread_mutex_init(&en->mu, NULL);
    hub->enroll = en;
    return 0;
}

void
hlc_enroll_stop(struct hlc_hub *hub)
{
    struct hlc_enroll *en = hub->enroll;
    if (!en)
        return;
    hub->enroll = NULL;
    pthread_mutex_destroy(&en->mu);
    free(en);
}

static void
hash_token(const char *token, unsigned char out[HLC_STORE_TOKEN_HASH])
{
    crypto_generichash(out, HLC_STORE_TOKEN_HASH, (const unsigned char *)token, strlen(token),
                       NULL, 0);
}

/* A new secret token with its prefix, and its hash. */
static void
new_token(const char *prefix, char out[static TOKEN_CHARS],
          unsigned char hash[HLC_STORE_TOKEN_HASH])
{
    unsigned char raw[SECRET_BYTES];
    randombytes_buf(raw, sizeof(raw));
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    sodium_bin2base64(out + pl, TOKEN_CHARS - pl, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    hash_token(out, hash);
}

json_t *
hlc_enroll_machine_json(const char *server_id, const char *hostname, const char *machine_type)
{
    const char *host = hostname && hostname[0] && hlc_valid_hostname(hostname) ? hostname
                                                                              : server_id;
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:[]}", "server_id", server_id,
                     "display_name", server_id, "hostname", host, "tdp_watts", 50,
                     "machine_type", machine_type ? machine_type : "workstation",
                     "connectivity", "direct", "ssh_port", 22, "ssh_user", "homelabcmd", "tags");
}

static json_t *
time_or_null(int64_t t)
{
    char iso[32];
    hlc_time_iso(t, iso);
    return json_string(iso);
}

int
hlc_enroll_token_create(struct hlc_hub *hub, int64_t ttl_s, const char *server_id,
                        const char *machine_type, json_t **out)
{
    *out = NULL;
    char id[33], token[TOKEN_CHARS];
    unsigned char hash[HLC_STORE_TOKEN_HASH];
    hlc_random_hex(id, 16);
    new_token(ENROLL_PREFIX, token, hash);
    int64_t now = hlc_now();
    int rc = hlc_store_enroll_insert(hub->store, id, hash, server_id, machine_type, now,
                                     now + ttl_s);
    if (rc == 0)
        *out = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "id", id, "token", token,
                         "server_id", server_id ? json_string(server_id) : json_null(),
                         "machine_type", machine_type ? json_string(machine_type) : json_null(),
                         "created_at", time_or_null(now), "expires_at",
                         time_or_null(now + ttl_s), "status", "active");
    sodium_memzero(token, sizeof(token));
    return rc;
}

bool
hlc_enroll_allow(struct hlc_hub *hub, const char *ip, int *retry_after_s)
{
    struct hlc_enroll *en = hub->enroll;
    *retry_after_s = 0;
    if (!en)
        return true;
    int64_t now = hlc_mono_ms();
    pthread_mutex_lock(&en->mu);
    struct limit_slot *sl = &en->limit[slot_of(ip, LIMIT_SLOTS)];
    if (strcmp(sl->ip, ip) != 0) {
        snprintf(sl->ip, sizeof(sl->ip), "%s", ip);
        sl->tokens = HLC_ENROLL_BURST;
        sl->last_ms = now;
    }
    sl->tokens += (double)(now - sl->last_ms) / (1000.0 * HLC_ENROLL_REFILL_S);
    if (sl->tokens > HLC_ENROLL_BURST)
        sl->tokens = HLC_ENROLL_BURST;
    sl->last_ms = now;
    bool ok = sl->tokens >= 1.0;
    if (ok)
        sl->tokens -= 1.0;
    else
        *retry_after_s = (int)((1.0 - sl->tokens) * HLC_ENROLL_REFILL_S) + 1;
    pthread_mutex_unlock(&en->mu);
    return ok;
}

void
hlc_enroll_refund(struct hlc_hub *hub, const char *ip)
{
    struct hlc_enroll *en = hub->enroll;
    if (!en)
        return;
    pthread_mutex_lock(&en->mu);
    struct limit_slot *sl = &en->limit[slot_of(ip, LIMIT_SLOTS)];
    if (strcmp(sl->ip, ip) == 0 && sl->tokens + 1.0 <= HLC_ENROLL_BURST)
        sl->tokens += 1.0;
    pthread_mutex_unlock(&en->mu);
}

int
hlc_enroll_redeem(struct hlc_hub *hub, const char *token, const char *server_id,
                  const char *hostname, const char *machine_type, json_t **out)
{
    *out = NULL;
    if (strlen(token) > HLC_ENROLL_TOKEN_MAX || strncmp(token, ENROLL_PREFIX, 5) != 0)
        return HLC_ENOTFOUND;
    unsigned char hash[HLC_STORE_TOKEN_HASH];
    hash_token(token, hash);
    int64_t now = hlc_now();
    struct hlc_enroll_row row;
    int rc = hlc_store_enroll_find(hub->store, hash, now, &row);
    if (rc)
        return rc;
    if (row.server_id[0] && server_id && strcmp(row.server_id, server_id) != 0)
        return HLC_EDENIED;
    const char *sid = row.server_id[0] ? row.server_id : server_id;
    if (!sid)
        return HLC_EINVAL;
    const char *type = row.machine_type[0] ? row.machine_type : machine_type;
    json_t *m = hlc_enroll_machine_json(sid, hostname, type);
    char tid[33], agent[TOKEN_CHARS];
    unsigned char ahash[HLC_STORE_TOKEN_HASH];
    hlc_random_hex(tid, 16);
    new_token(AGENT_PREFIX, agent, ahash);
    rc = hlc_store_enroll_redeem(hub->store, hash, now, m, row.server_id[0] != '\0', tid, ahash);
    if (rc == 0)
        *out = json_pack("{s:s, s:s, s:s, s:s}", "server_id", sid, "machine_type",
                         json_string_value(json_object_get(m, "machine_type")), "agent_token",
                         agent, "token_id", tid);
    json_decref(m);
    sodium_memzero(agent, sizeof(agent));
    return rc;
}

int
hlc_agent_token_check(struct hlc_hub *hub, const char *token, char server_id[static 64],
                      char token_id[static 40])
{
    token_id[0] = server_id[0] = '\0';
    if (strlen(token) > HLC_ENROLL_TOKEN_MAX || strncmp(token, AGENT_PREFIX, 5) != 0)
        return HLC_ENOTFOUND;
    unsigned char hash[HLC_STORE_TOKEN_HASH];
    hash_token(token, hash);
    struct hlc_agent_token_row row;
    int rc = hlc_store_agent_token_find(hub->store, hash, &row);
    if (rc)
        return rc;
    snprintf(server_id, 64, "%s", row.server_id);
    snprintf(token_id, 40, "%s", row.id);
    return 0;
}

bool
hlc_agent_admin_key_allowed(struct hlc_hub *hub)
{
    struct hlc_enroll *en = hub->enroll;
    /* Read before the setting: a save meanwhile makes the next call read again. */
    unsigned ver = hlc_config_version() + 1;
    if (en) {
        pthread_mutex_lock(&en->mu);
        bool cached = en->admin_ok_ver == ver, ok = en->admin_ok;
        pthread_mutex_unlock(&en->mu);
        if (cached)
            return ok;
    }
    json_t *sec = NULL;
    bool ok = true; /* the default, also when the setting cannot be read */
    if (hlc_config_section(hub->store, "agent", &sec) == 0)
        ok = !json_is_false(json_object_get(sec, "allow_admin_key_heartbeats"));
    json_decref(sec);
    if (en) {
        pthread_mutex_lock(&en->mu);
        en->admin_ok = ok;
        en->admin_ok_ver = ver;
        pthread_mutex_unlock(&en->mu);
    }
    return ok;
}

void
hlc_agent_seen(struct hlc_hub *hub, const char *server_id, const char *token_id,
               const char *ip)
{
    struct hlc_enroll *en = hub->enroll;
    const char *tid = token_id ? token_id : "";
    int64_t now = hlc_now();
    struct seen_slot *sl = NULL;
    if (en) {
        pthread_mutex_lock(&en->mu);
        sl = &en->seen[slot_of(server_id, SEEN_SLOTS)];
        bool fresh = strcmp(sl->server_id, server_id) == 0 && strcmp(sl->token_id, tid) == 0 &&
                     strcmp(sl->ip, ip) == 0 && now - sl->at < SEEN_EVERY_S;
        pthread_mutex_unlock(&en->mu);
        if (fresh)
            return;
    }
    if (hlc_store_agent_seen(hub->store, server_id, token_id, ip, now) != 0 || !en)
        return; /* logged by the store; tried again on the next heartbeat */
    pthread_mutex_lock(&en->mu);
    snprintf(sl->server_id, sizeof(sl->server_id), "%s", server_id);
    snprintf(sl->token_id, sizeof(sl->token_id), "%s", tid);
    snprintf(sl->ip, sizeof(sl->ip), "%s", ip);
    sl->at = now;
    pthread_mutex_unlock(&en->mu);
}

int
hlc_agent_token_rotate(struct hlc_hub *hub, const char *server_id, const char *token_id,
                       json_t **out)
{
    *out = NULL;
    char tid[33], agent[TOKEN_CHARS];
    unsigned char hash[HLC_STORE_TOKEN_HASH];
    hlc_random_hex(tid, 16);
    new_token(AGENT_PREFIX, agent, hash);
    int rc = hlc_store_agent_token_rotate(hub->store, server_id, token_id, tid, hash);
    if (rc == 0)
        *out = json_pack("{s:s, s:s, s:s}", "id", tid, "agent_token", agent, "server_id",
                         server_id);
    sodium_memzero(agent, sizeof(agent));
    return rc;
}
