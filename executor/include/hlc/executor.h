/* executor.h - the command whitelist: remediation action types and the one
 * template each maps to. Nothing else in the hub builds a command line that
 * runs on a machine on someone's behalf: a request names an action type and
 * a target, the target is checked against that type's strict pattern and
 * quoted by hlc_shell_quote(), and the template supplies everything else.
 *
 * Pure functions, thread-safe, no I/O. Strings returned through `char **`
 * are heap memory the caller frees. */
#ifndef HLC_EXECUTOR_H
#define HLC_EXECUTOR_H

#include <stdbool.h>

#include "hlc/base.h"

/* The whitelist (TRD §8, v2 EP0013/EP0014). Order is stable; COUNT ends it. */
enum hlc_action_type {
    HLC_ACT_RESTART_SERVICE,   /* systemctl restart <unit> */
    HLC_ACT_START_SERVICE,     /* systemctl start <unit> */
    HLC_ACT_STOP_SERVICE,      /* systemctl stop <unit> */
    HLC_ACT_CLEAR_LOGS,        /* journalctl --vacuum-time=<d>d, or empty one /var/log file
                                  reached without symlinks (realpath -e guard, then dd
                                  oflag=nofollow) */
    HLC_ACT_APPLY_UPDATES,     /* apt-get update && apt-get upgrade, non-interactive */
    HLC_ACT_CONTAINER_START,   /* docker start <name> */
    HLC_ACT_CONTAINER_STOP,    /* docker stop <name> */
    HLC_ACT_CONTAINER_RESTART, /* docker restart <name> */
    HLC_ACT_CUSTOM,            /* an operator-defined script of one machine, verbatim */
    HLC_ACT_APPLY_PACK,        /* apply a config pack's failing items: `sh -s` with the
                                  script server/src/packs/apply.c builds from a fresh check */
    HLC_ACT_COUNT
};

/* clear_logs with this target vacuums the systemd journal; any other target
 * must be a log file path under /var/log. */
#define HLC_CLEAR_LOGS_JOURNAL "journal"
#define HLC_CLEAR_LOGS_DEFAULT_DAYS 7
#define HLC_CLEAR_LOGS_MAX_DAYS 3650
/* A custom script's body is at most this many bytes. */
#define HLC_SCRIPT_MAX 8192

/* "restart_service", ...; NULL for a value outside the enum. */
const char *hlc_action_type_name(enum hlc_action_type t);
/* 0 and *out set, or HLC_EINVAL for a name not on the whitelist. */
int hlc_action_type_parse(const char *name, enum hlc_action_type *out);
/* restart/start/stop_service. */
bool hlc_action_is_service(enum hlc_action_type t);
/* container_start/stop/restart. */
bool hlc_action_is_container(enum hlc_action_type t);

/* Whether `target` is acceptable for type `t`: a unit name for services, a
 * container name for containers, "journal" or a /var/log file (each path
 * component letters/digits/_/- runs joined by single dots) for clear_logs,
 * the empty string or NULL for apply_updates (it takes no target; "system"
 * is accepted as its conventional label), a script name for custom, a pack
 * name (^[a-z0-9][a-z0-9_-]{0,63}$) for apply_pack. */
bool hlc_action_target_valid(enum hlc_action_type t, const char *target);

/* A custom script's name: ^[a-z0-9][a-z0-9_-]{0,62}$. */
bool hlc_script_valid_name(const char *s);
/* A custom script's body: 1..HLC_SCRIPT_MAX bytes, printable text, tabs and
 * newlines (no NUL, no other control characters, no carriage returns). */
bool hlc_script_valid_body(const char *s);

/* What to build. */
struct hlc_action_spec {
    enum hlc_action_type type; /* whitelisted type */
    const char *target;        /* unit, container, "journal"/log path, script name */
    int days;                  /* clear_logs journal: keep this many days (0 = default) */
    const char *script;        /* custom: the stored body of script `target` */
    bool as_root;              /* the SSH user is root: no "sudo -n" prefix */
};

/* Builds the exact command line for `spec` into *cmd (heap). Privileged
 * commands are prefixed "sudo -n " unless as_root, so a missing sudoers rule
 * fails at once instead of waiting for a password; a custom script runs
 * verbatim as the SSH user (it may call sudo itself). Returns 0, or
 * HLC_EDENIED when the target (or days, or script) fails its check; then
 * *cmd is untouched and nothing may run. */
int hlc_action_build(const struct hlc_action_spec *spec, char **cmd);

/* The default run-time limit of a type in milliseconds: apply_updates and
 * apply_pack (it may install packages) get `long_ms`, everything else
 * `short_ms`. */
int hlc_action_timeout_ms(enum hlc_action_type t, int short_ms, int long_ms);

#endif
