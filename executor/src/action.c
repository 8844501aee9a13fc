/* action.c - the command whitelist: action types, target checks, templates. */
#include "hlc/executor.h"

#include <stdlib.h>
#include <string.h>

#include "hlc/shell.h"

/* Longest line a template can produce besides a custom script. */
#define CMD_CAP (HLC_SCRIPT_MAX + 1024)

static const char *const type_names[HLC_ACT_COUNT] = {
    [HLC_ACT_RESTART_SERVICE] = "restart_service",
    [HLC_ACT_START_SERVICE] = "start_service",
    [HLC_ACT_STOP_SERVICE] = "stop_service",
    [HLC_ACT_CLEAR_LOGS] = "clear_logs",
    [HLC_ACT_APPLY_UPDATES] = "apply_updates",
    [HLC_ACT_CONTAINER_START] = "container_start",
    [HLC_ACT_CONTAINER_STOP] = "container_stop",
    [HLC_ACT_CONTAINER_RESTART] = "container_restart",
    [HLC_ACT_CUSTOM] = "custom",
    [HLC_ACT_APPLY_PACK] = "apply_pack",
};

/* The verb each service/container type passes to systemctl/docker. */
static const char *const verbs[HLC_ACT_COUNT] = {
    [HLC_ACT_RESTART_SERVICE] = "restart",   [HLC_ACT_START_SERVICE] = "start",
    [HLC_ACT_STOP_SERVICE] = "stop",         [HLC_ACT_CONTAINER_START] = "start",
    [HLC_ACT_CONTAINER_STOP] = "stop",       [HLC_ACT_CONTAINER_RESTART] = "restart",
};

const char *
hlc_action_type_name(enum hlc_action_type t)
{
    return (unsigned)t < HLC_ACT_COUNT ? type_names[t] : NULL;
}

int
hlc_action_type_parse(const char *name, enum hlc_action_type *out)
{
    if (!name)
        return HLC_EINVAL;
    for (int i = 0; i < HLC_ACT_COUNT; i++) {
        if (strcmp(type_names[i], name) == 0) {
            *out = (enum hlc_action_type)i;
            return 0;
        }
    }
    return HLC_EINVAL;
}

bool
hlc_action_is_service(enum hlc_action_type t)
{
    return t == HLC_ACT_RESTART_SERVICE || t == HLC_ACT_START_SERVICE ||
           t == HLC_ACT_STOP_SERVICE;
}

bool
hlc_action_is_container(enum hlc_action_type t)
{
    return t == HLC_ACT_CONTAINER_START || t == HLC_ACT_CONTAINER_STOP ||
           t == HLC_ACT_CONTAINER_RESTART;
}

static bool
word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* Stricter than hlc_shell_valid_log_path: every component is runs of
 * [A-Za-z0-9_-] joined by single dots, so no component is "", ".", ".." or
 * hidden, and the deploy/ sudoers regex can say the same thing. */
static bool
log_path_valid(const char *s)
{
    if (!hlc_shell_valid_log_path(s))
        return false;
    const char *p = s + strlen("/var/log/");
    bool at_start = true; /* at the start of a run */
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (word_char(c)) {
            at_start = false;
        } else if (c == '.' || c == '/') {
            if (at_start)
                return false;
            at_start = true;
        } else {
            return false;
        }
    }
    return !at_start;
}

bool
hlc_script_valid_name(const char *s)
{
    if (!s || !s[0] || strlen(s) > 63)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool
hlc_script_valid_body(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > HLC_SCRIPT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            return false;
    }
    return true;
}

/* ^[a-z0-9][a-z0-9_-]{0,63}$, as packs/ names them. */
static bool
pack_name_valid(const char *s)
{
    if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    size_t n = strlen(s);
    if (n > 64)
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

bool
hlc_action_target_valid(enum hlc_action_type t, const char *target)
{
    switch (t) {
    case HLC_ACT_RESTART_SERVICE:
    case HLC_ACT_START_SERVICE:
    case HLC_ACT_STOP_SERVICE:
        return hlc_shell_valid_unit(target);
    case HLC_ACT_CONTAINER_START:
    case HLC_ACT_CONTAINER_STOP:
    case HLC_ACT_CONTAINER_RESTART:
        return hlc_shell_valid_container(target);
    case HLC_ACT_CLEAR_LOGS:
        return target && (strcmp(target, HLC_CLEAR_LOGS_JOURNAL) == 0 || log_path_valid(target));
    case HLC_ACT_APPLY_UPDATES:
        return !target || target[0] == '\0' || strcmp(target, "system") == 0;
    case HLC_ACT_CUSTOM:
        return hlc_script_valid_name(target);
    case HLC_ACT_APPLY_PACK:
        return pack_name_valid(target);
    case HLC_ACT_COUNT:
        break;
    }
    return false;
}

/* Appends the privilege prefix and a fixed command word sequence. */
static int
put(struct hlc_buf *b, bool sudo, const char *words)
{
    int rc = sudo ? hlc_buf_append(b, "sudo -n ", 8) : 0;
    return rc ? rc : hlc_buf_append(b, words, strlen(words));
}

int
hlc_action_build(const struct hlc_action_spec *spec, char **cmd)
{
    if (!spec || !hlc_action_target_valid(spec->type, spec->target))
        return HLC_EDENIED;
    bool sudo = !spec->as_root;
    struct hlc_buf b;
    hlc_buf_init(&b, CMD_CAP);
    int rc = 0;
    switch (spec->type) {
    case HLC_ACT_RESTART_SERVICE:
    case HLC_ACT_START_SERVICE:
    case HLC_ACT_STOP_SERVICE:
        rc = put(&b, sudo, "systemctl ");
        if (!rc)
            rc = hlc_buf_appendf(&b, "%s ", verbs[spec->type]);
        if (!rc)
            rc = hlc_shell_quote(&b, spec->target);
        break;
    case HLC_ACT_CONTAINER_START:
    case HLC_ACT_CONTAINER_STOP:
    case HLC_ACT_CONTAINER_RESTART:
        rc = put(&b, sudo, "docker ");
        if (!rc)
            rc = hlc_buf_appendf(&b, "%s ", verbs[spec->type]);
        if (!rc)
            rc = hlc_shell_quote(&b, spec->target);
        break;
    case HLC_ACT_CLEAR_LOGS:
        if (strcmp(spec->target, HLC_CLEAR_LOGS_JOURNAL) == 0) {
            int days = spec->days ? spec->days : HLC_CLEAR_LOGS_DEFAULT_DAYS;
            if (days < 1 || days > HLC_CLEAR_LOGS_MAX_DAYS) {
                rc = HLC_EDENIED;
                break;
            }
            rc = put(&b, sudo, "journalctl ");
            if (!rc)
                rc = hlc_buf_appendf(&b, "--vacuum-time=%dd", days);
        } else {
            /* A link planted under /var/log must not aim a root truncate
             * anywhere. The guard runs first, as the SSH user: the path must
             * exist and resolve to itself (no symlink in any component), else
             * nothing is truncated. Then dd empties it opening with
             * O_NOFOLLOW, so a file swapped for a symlink after the guard
             * looked is refused too (truncate(1) would follow it), and
             * O_NONBLOCK, so one swapped for a FIFO fails instead of hanging. */
            rc = put(&b, false, "if [ \"$(realpath -e -- ");
            if (!rc)
                rc = hlc_shell_quote(&b, spec->target);
            if (!rc)
                rc = put(&b, false, ")\" = ");
            if (!rc)
                rc = hlc_shell_quote(&b, spec->target);
            if (!rc)
                rc = put(&b, false, " ]; then ");
            if (!rc)
                rc = put(&b, sudo, "dd if=/dev/null of=");
            if (!rc)
                rc = hlc_shell_quote(&b, spec->target);
            if (!rc)
                rc = put(&b, false, " oflag=nofollow,nonblock conv=nocreat status=none");
            if (!rc)
                rc = put(&b, false, "; else echo 'clear_logs: refused, missing or reached "
                                        "through a symlink:' ");
            if (!rc)
                rc = hlc_shell_quote(&b, spec->target);
            if (!rc)
                rc = put(&b, false, " >&2; exit 1; fi");
        }
        break;
    case HLC_ACT_APPLY_UPDATES:
        /* VAR=value before the command is understood alike by sh and sudo
         * (deploy/ sudoers keeps DEBIAN_FRONTEND for apt-get). */
        rc = put(&b, sudo, "DEBIAN_FRONTEND=noninteractive apt-get -q update && ");
        if (!rc)
            rc = put(&b, sudo,
                     "DEBIAN_FRONTEND=noninteractive apt-get -q -y"
                     " -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
                     " upgrade");
        break;
    case HLC_ACT_CUSTOM:
        /* The operator's own text, run as defined and never with anything
         * from a request: no prefix, no arguments. */
        if (!hlc_script_valid_body(spec->script))
            rc = HLC_EDENIED;
        else
            rc = hlc_buf_append(&b, spec->script, strlen(spec->script));
        break;
    case HLC_ACT_APPLY_PACK:
        /* The label reviewed and audited; the hub sends the script itself on
         * stdin, built from a check run just before (server/src/packs/apply.c),
         * and the per-item commands land in the action's output. */
        rc = put(&b, false, "sh -s  # apply pack ");
        if (!rc)
            rc = hlc_shell_quote(&b, spec->target);
        if (!rc)
            rc = put(&b, false, sudo ? ": script on stdin, changes via sudo" : ": script on stdin");
        break;
    case HLC_ACT_COUNT:
        rc = HLC_EDENIED;
        break;
    }
    if (rc != 0) {
        hlc_buf_release(&b);
        return rc == HLC_EDENIED ? rc : HLC_EDENIED;
    }
    *cmd = hlc_buf_steal(&b);
    return 0;
}

int
hlc_action_timeout_ms(enum hlc_action_type t, int short_ms, int long_ms)
{
    return t == HLC_ACT_APPLY_UPDATES || t == HLC_ACT_APPLY_PACK ? long_ms : short_ms;
}
