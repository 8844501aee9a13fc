/* enroll.h - push agents' own credentials. An operator creates a one-time,
 * short-lived enrollment token; an agent exchanges it once for an agent
 * token bound to its machine, which can post that machine's heartbeats and
 * nothing else. The hub keeps only BLAKE2b-256 hashes of both. Thread-safe
 * once started. */
#ifndef HLC_ENROLL_H
#define HLC_ENROLL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;

/* Enrollment token lifetime: default, shortest and longest (seconds). */
#define HLC_ENROLL_TTL_DEFAULT 3600
#define HLC_ENROLL_TTL_MIN 300
#define HLC_ENROLL_TTL_MAX (7 * 86400)
/* Longest token text looked at; real ones are 48 characters. */
#define HLC_ENROLL_TOKEN_MAX 128
/* Enroll attempts an address may make in a burst, and the seconds it waits
 * for each further one. */
#define HLC_ENROLL_BURST 5
#define HLC_ENROLL_REFILL_S 2

/* The limiter and the sign-in cache; 0 or HLC_E*. stop is idempotent. */
int hlc_enroll_start(struct hlc_hub *hub);
void hlc_enroll_stop(struct hlc_hub *hub);

/* A new machine as an agent registers it (the same defaults as a first
 * heartbeat): hostname when valid, else server_id. New object. */
json_t *hlc_enroll_machine_json(const char *server_id, const char *hostname,
                                const char *machine_type);

/* Creates an enrollment token living ttl_s seconds, optionally bound to a
 * server_id and/or machine_type (NULL: not bound; the caller validated
 * them). *out = {id, token, server_id, machine_type, created_at, expires_at,
 * status}: the only time the token is shown. 0 or HLC_EDB. */
int hlc_enroll_token_create(struct hlc_hub *hub, int64_t ttl_s, const char *server_id,
                            const char *machine_type, json_t **out);

/* True when address `ip` may try an enrollment now, taking one attempt of
 * its allowance; else *retry_after_s says when. Without hlc_enroll_start,
 * always true. */
bool hlc_enroll_allow(struct hlc_hub *hub, const char *ip, int *retry_after_s);
/* Gives the attempt back after a successful enrollment: only failures
 * (guesses, replays) use up an address's allowance. */
void hlc_enroll_refund(struct hlc_hub *hub, const char *ip);

/* Exchanges an enrollment token for an agent token of machine server_id
 * (NULL: the one the token is bound to), registering the machine if new.
 * *out = {server_id, machine_type, agent_token, token_id}. Errors:
 * HLC_ENOTFOUND  the token is unknown, spent, revoked or expired
 * HLC_EDENIED     it is bound to another machine
 * HLC_EINVAL     no server_id given and the token names none
 * HLC_EEXISTS    the machine already has an agent token and the enrollment
 *                token is not bound to it (an unbound token cannot take over
 *                a machine); a bound token replaces the machine's tokens
 * HLC_EDB. On error nothing was written and the token is not spent. */
int hlc_enroll_redeem(struct hlc_hub *hub, const char *token, const char *server_id,
                      const char *hostname, const char *machine_type, json_t **out);

/* Looks up an agent token before anything else of its request is read:
 * 0 with the machine it speaks for in server_id and its id in token_id,
 * HLC_ENOTFOUND (no such token: 401) or HLC_EDB. The caller refuses a
 * heartbeat for any other machine (403). */
int hlc_agent_token_check(struct hlc_hub *hub, const char *token, char server_id[static 64],
                          char token_id[static 40]);
/* Whether heartbeats signed with the admin key are still taken (config
 * agent.allow_admin_key_heartbeats, default true). */
bool hlc_agent_admin_key_allowed(struct hlc_hub *hub);
/* Records how machine server_id's heartbeat signed in (token_id NULL: the
 * admin key), writing only when that changed or a token's last use is more
 * than a minute old, so heartbeats do not add a write each. */
void hlc_agent_seen(struct hlc_hub *hub, const char *server_id, const char *token_id,
                    const char *ip);

/* Issues a fresh agent token in place of token_id of machine server_id (the
 * old one dies at once). *out = {id, agent_token, server_id}. HLC_ENOTFOUND. */
int hlc_agent_token_rotate(struct hlc_hub *hub, const char *server_id, const char *token_id,
                           json_t **out);

#endif
