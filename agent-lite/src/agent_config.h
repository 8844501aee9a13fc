/* agent_config.h - the push agent's settings: defaults, then
 * /etc/homelabcmd-agent/config.yaml (libyaml), then the environment, then
 * flags. The YAML is one mapping of known keys; anything else (an unknown
 * key, a wrong type, a value out of range, anchors/aliases, nesting where
 * none belongs, a file over 64 KiB) is refused with a message naming the
 * line and the key. */
#ifndef HLC_AGENT_CONFIG_H
#define HLC_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "hlc/sample.h"

#define HLC_AGENT_CONFIG_PATH "/etc/homelabcmd-agent/config.yaml"
#define HLC_AGENT_CONFIG_MAX (64 * 1024)

enum hlc_agent_docker { HLC_DOCKER_AUTO, HLC_DOCKER_ON, HLC_DOCKER_OFF };

struct hlc_agent_config {
    char hub_url[512];        /* hub_url: http(s)://host[:port] */
    char api_key[257];        /* api_key: the hub's admin key (v1 style; prefer agent_token) */
    char agent_token[129];    /* agent_token: this machine's own token (hlca_...) */
    char enrollment_token[129]; /* enrollment_token: one-time (hlce_...), exchanged at start */
    char server_id[64];       /* server_id: slug; "" = this host's name */
    char machine_type[16];    /* machine_type: workstation (default) | server */
    long interval;            /* interval: seconds between heartbeats, 1..86400 (60) */
    char spool_dir[512];      /* spool_dir: absolute path; "" = no spool */
    long spool_max_files;     /* spool_max_files: 1..1000000 (0 = 24 h at the interval) */
    long long spool_max_bytes; /* spool_max_bytes: 4096..16 GiB (16 MiB) */
    char services[HLC_SAMPLE_MAX_SERVICES][128]; /* services: units to report (names) */
    size_t nservices;
    enum hlc_agent_docker docker; /* docker: auto | true | false */
    long updates_check_hours; /* updates_check_hours: 0 (never) .. 168 (6) */
};

/* Defaults into c. */
void hlc_agent_config_defaults(struct hlc_agent_config *c);

/* Applies the YAML text to c (keys it holds override what c has). 0, or -1
 * with a message in err ("line 3: interval: must be 1..86400 seconds").
 * Pure: no I/O. */
int hlc_agent_config_parse(const char *text, size_t len, struct hlc_agent_config *c, char *err,
                           size_t errlen);

/* Reads and applies the file. missing_ok: a file that does not exist is not
 * an error (the default path). 0 or -1 with err. */
int hlc_agent_config_load(const char *path, bool missing_ok, struct hlc_agent_config *c,
                          char *err, size_t errlen);

/* The config text with its agent_token set to `token` and any
 * enrollment_token removed (top-level lines of those keys dropped, one
 * `agent_token: "..."` line appended); everything else kept byte for byte.
 * Heap text the caller frees. Pure. */
char *hlc_agent_config_with_token(const char *text, size_t len, const char *token);

/* Rewrites the file at path that way (missing: created), mode 0600, through
 * a temporary file that is fsynced and renamed, so a crash leaves the old
 * file or the new one. 0 or -1 with err. */
int hlc_agent_config_store_token(const char *path, const char *token, char *err, size_t errlen);

/* Applies one setting given as text (from a flag or the environment), with
 * the same checks as the file; `key` is a YAML key name. 0 or -1 with err. */
int hlc_agent_config_set(struct hlc_agent_config *c, const char *key, const char *value,
                         char *err, size_t errlen);

#endif
