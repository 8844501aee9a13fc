/* pack_check.c - the check script: one POSIX sh program, sent on stdin of one
 * exec, that reports on every item of a pack in one framed output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/shell.h"
#include "pack_internal.h"

/* Output records, one line each (the parser in pack_parse.c reads them):
 *   =F <i> missing|symlink|dir|other|file <mode> <owner> <group> <size> <sha256|->
 *   =C <i> <base64 of the file>|big|budget   only where the hash differs
 *   =P ... =P.   dpkg-query -W lines "<name>|<status abbrev>|<version>", or "=P none"
 *   =S <i> <is-enabled or is-active word>|nosystemctl
 *   =Y <i> ok <value>|missing      =T <i> <zone>
 *   =L <i> 1 | 0 <base64 of up to 5 matching lines> | missing | unreadable
 *   =END
 * File content is sent only where the SHA-256 differs from the pack's, at most
 * 64 KiB a file and HLC_PACK_MAX_CONTENT_TOTAL in all, base64 so any byte
 * crosses the channel as text. As in the collector, the calls run in one
 * function with stdin from /dev/null (nothing can swallow the rest of the
 * script from the exec's stdin) and the output is printed in one go at the
 * end. Every process started is CPU on the target: one stat and one
 * sha256sum a file, one dpkg-query for every package, one systemctl a unit
 * question, builtins elsewhere. */
static const char prelude[] =
    "LC_ALL=C; export LC_ALL\n"
    "PATH=\"$PATH:/usr/sbin:/sbin:/usr/bin:/bin\"; export PATH\n"
    "B=%d\n"
    "hf() {\n"
    "  if [ -L \"$2\" ]; then echo \"=F $1 symlink\"; return; fi\n"
    "  if [ ! -e \"$2\" ]; then echo \"=F $1 missing\"; return; fi\n"
    "  if [ -d \"$2\" ]; then echo \"=F $1 dir\"; return; fi\n"
    "  if [ ! -f \"$2\" ]; then echo \"=F $1 other\"; return; fi\n"
    "  m=$(stat -c '%%a %%U %%G %%s' \"$2\" 2>/dev/null) || { echo \"=F $1 other\"; return; }\n"
    "  h=-\n"
    "  if [ -r \"$2\" ] && h=$(sha256sum <\"$2\" 2>/dev/null); then h=${h%%%% *}; else h=-; fi\n"
    "  echo \"=F $1 file $m $h\"\n"
    "  if [ \"$4\" = 1 ] && [ \"$h\" != - ] && [ \"$h\" != \"$3\" ]; then\n"
    "    s=${m##* }\n"
    "    if [ \"$s\" -gt 65536 ]; then echo \"=C $1 big\"\n"
    "    elif [ \"$s\" -gt \"$B\" ]; then echo \"=C $1 budget\"\n"
    "    else B=$((B - s)); printf '=C %%s ' \"$1\"; base64 -w 0 <\"$2\"; echo; fi\n"
    "  fi\n"
    "}\n"
    "hp() {\n"
    "  if command -v dpkg-query >/dev/null 2>&1; then\n"
    "    echo '=P'; dpkg-query -W --showformat='${Package}|${db:Status-Abbrev}|${Version}\\n' \"$@\" "
    "2>/dev/null; echo '=P.'\n"
    "  else echo '=P none'; fi\n"
    "}\n"
    "SC=0; command -v systemctl >/dev/null 2>&1 && SC=1\n"
    "hs() {\n"
    "  if [ $SC = 0 ]; then echo \"=S $1 nosystemctl\"; return; fi\n"
    "  v=$(systemctl \"$2\" \"$3\" 2>/dev/null | head -n 1)\n"
    "  echo \"=S $1 ${v:-not-found}\"\n"
    "}\n"
    "hy() {\n"
    "  if command -v sysctl >/dev/null 2>&1; then\n"
    "    if v=$(sysctl -n \"$2\" 2>/dev/null) && [ -n \"$v\" ]; then echo \"=Y $1 ok $v\"; "
    "else echo \"=Y $1 missing\"; fi\n"
    "  else\n"
    "    p=/proc/sys/$(printf '%%s' \"$2\" | tr . /)\n"
    "    if [ -r \"$p\" ] && read -r v <\"$p\"; then echo \"=Y $1 ok $v\"; "
    "else echo \"=Y $1 missing\"; fi\n"
    "  fi\n"
    "}\n"
    "ht() {\n"
    "  z=''\n"
    "  command -v timedatectl >/dev/null 2>&1 && z=$(timedatectl show -p Timezone --value "
    "2>/dev/null)\n"
    "  if [ -z \"$z\" ] && [ -L /etc/localtime ]; then z=$(readlink /etc/localtime); "
    "z=${z#*zoneinfo/}; fi\n"
    "  if [ -z \"$z\" ] && [ -r /etc/timezone ]; then read -r z </etc/timezone; fi\n"
    "  echo \"=T $1 ${z:-unknown}\"\n"
    "}\n"
    "hl() {\n"
    "  if [ ! -e \"$2\" ]; then echo \"=L $1 missing\"; return; fi\n"
    "  if [ ! -r \"$2\" ]; then echo \"=L $1 unreadable\"; return; fi\n"
    "  if grep -Fxq -e \"$3\" \"$2\" 2>/dev/null; then echo \"=L $1 1\"; return; fi\n"
    "  m=''\n"
    "  [ -n \"$4\" ] && m=$(grep -E -e \"$4\" \"$2\" 2>/dev/null | head -n 5 | head -c 2048 | "
    "base64 -w 0)\n"
    "  echo \"=L $1 0 $m\"\n"
    "}\n"
    "hlc_main() {\n";

static const char epilogue[] = "  echo '=END'\n"
                               "}\n"
                               "hlc_out=$(hlc_main </dev/null)\n"
                               "printf '%s\\n' \"$hlc_out\"\n"
                               "exit 0\n";

int
pack_script_end(struct hlc_buf *b, int rc, const char *tail, size_t n, char **script)
{
    if (rc == 0)
        rc = hlc_buf_append(b, tail, n);
    if (rc != 0) {
        hlc_buf_release(b);
        return HLC_EINVAL;
    }
    *script = hlc_buf_steal(b);
    return 0;
}

/* Appends " 'word'" (quoted); HLC_EINVAL when the quoting function refuses. */
static int
word(struct hlc_buf *b, const char *s)
{
    int rc = hlc_buf_append(b, " ", 1);
    return rc != 0 ? rc : hlc_shell_quote(b, s);
}

/* Every value is checked again: a pack built by hand (not by the loader)
 * must not reach a shell unchecked either. */
bool
pack_item_valid(const struct hlc_pack_item *it)
{
    switch (it->type) {
    case HLC_PACK_FILE:
    case HLC_PACK_FILE_ABSENT:
        return pack_valid_path(it->target);
    case HLC_PACK_PKG:
    case HLC_PACK_PKG_ABSENT:
        return pack_valid_package(it->target);
    case HLC_PACK_SVC_ENABLED:
    case HLC_PACK_SVC_DISABLED:
    case HLC_PACK_SVC_RUNNING:
    case HLC_PACK_SVC_STOPPED:
        return hlc_shell_valid_unit(it->target);
    case HLC_PACK_SYSCTL:
        return pack_valid_sysctl_key(it->target) && pack_valid_sysctl_value(it->value);
    case HLC_PACK_TIMEZONE:
        return pack_valid_timezone(it->value);
    case HLC_PACK_LINE:
        return pack_valid_path(it->target) && pack_valid_text_line(it->value) &&
               (!it->match || pack_valid_text_line(it->match));
    }
    return false;
}

int
hlc_pack_check_script(const struct hlc_pack *p, char **script)
{
    if (!p || !script || p->nitems > HLC_PACK_MAX_ITEMS)
        return HLC_EINVAL;
    *script = NULL;
    struct hlc_buf b;
    hlc_buf_init(&b, 4 * 1024 * 1024);
    int rc = hlc_buf_appendf(&b, prelude, HLC_PACK_MAX_CONTENT_TOTAL);
    bool any_pkg = false;
    for (size_t i = 0; rc == 0 && i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        if (!pack_item_valid(it)) {
            rc = HLC_EINVAL;
            break;
        }
        switch (it->type) {
        case HLC_PACK_FILE:
        case HLC_PACK_FILE_ABSENT:
            rc = hlc_buf_appendf(&b, "  hf %zu", i);
            if (rc == 0)
                rc = word(&b, it->target);
            if (rc == 0)
                rc = hlc_buf_appendf(&b, " %s %d\n", it->sha256[0] ? it->sha256 : "-",
                                     it->type == HLC_PACK_FILE && it->value ? 1 : 0);
            break;
        case HLC_PACK_PKG:
        case HLC_PACK_PKG_ABSENT:
            any_pkg = true;
            break;
        case HLC_PACK_SVC_ENABLED:
        case HLC_PACK_SVC_DISABLED:
        case HLC_PACK_SVC_RUNNING:
        case HLC_PACK_SVC_STOPPED: {
            bool boot = it->type == HLC_PACK_SVC_ENABLED || it->type == HLC_PACK_SVC_DISABLED;
            rc = hlc_buf_appendf(&b, "  hs %zu %s", i, boot ? "is-enabled" : "is-active");
            if (rc == 0)
                rc = word(&b, it->target);
            if (rc == 0)
                rc = hlc_buf_append(&b, "\n", 1);
            break;
        }
        case HLC_PACK_SYSCTL:
            rc = hlc_buf_appendf(&b, "  hy %zu", i);
            if (rc == 0)
                rc = word(&b, it->target);
            if (rc == 0)
                rc = hlc_buf_append(&b, "\n", 1);
            break;
        case HLC_PACK_TIMEZONE:
            rc = hlc_buf_appendf(&b, "  ht %zu\n", i);
            break;
        case HLC_PACK_LINE:
            rc = hlc_buf_appendf(&b, "  hl %zu", i);
            if (rc == 0)
                rc = word(&b, it->target);
            if (rc == 0)
                rc = word(&b, it->value);
            if (rc == 0)
                rc = word(&b, it->match ? it->match : "");
            if (rc == 0)
                rc = hlc_buf_append(&b, "\n", 1);
            break;
        }
    }
    if (rc == 0 && any_pkg) {
        rc = hlc_buf_append(&b, "  hp", 4);
        for (size_t i = 0; rc == 0 && i < p->nitems; i++)
            if (p->items[i].type == HLC_PACK_PKG || p->items[i].type == HLC_PACK_PKG_ABSENT)
                rc = word(&b, p->items[i].target);
        if (rc == 0)
            rc = hlc_buf_append(&b, "\n", 1);
    }
    return pack_script_end(&b, rc, epilogue, sizeof(epilogue) - 1, script);
}

const char *
hlc_pack_kind(enum hlc_pack_type t)
{
    switch (t) {
    case HLC_PACK_FILE:
    case HLC_PACK_FILE_ABSENT:
        return "file";
    case HLC_PACK_PKG:
    case HLC_PACK_PKG_ABSENT:
        return "package";
    case HLC_PACK_SVC_ENABLED:
    case HLC_PACK_SVC_DISABLED:
    case HLC_PACK_SVC_RUNNING:
    case HLC_PACK_SVC_STOPPED:
        return "service";
    default:
        return "setting";
    }
}

const char *
hlc_pack_want(enum hlc_pack_type t)
{
    static const char *const w[] = {
        [HLC_PACK_FILE] = "present",       [HLC_PACK_FILE_ABSENT] = "absent",
        [HLC_PACK_PKG] = "installed",      [HLC_PACK_PKG_ABSENT] = "removed",
        [HLC_PACK_SVC_ENABLED] = "enabled", [HLC_PACK_SVC_DISABLED] = "disabled",
        [HLC_PACK_SVC_RUNNING] = "running", [HLC_PACK_SVC_STOPPED] = "stopped",
        [HLC_PACK_SYSCTL] = "sysctl",      [HLC_PACK_TIMEZONE] = "timezone",
        [HLC_PACK_LINE] = "line",
    };
    return (unsigned)t < sizeof(w) / sizeof(*w) ? w[t] : "?";
}
