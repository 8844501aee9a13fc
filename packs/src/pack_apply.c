/* pack_apply.c - apply plans: which failing items get which fix, the one
 * POSIX sh program that does them over one exec, and its output's parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hlc/shell.h"
#include "pack_internal.h"

#define STDERR_MAX 2048 /* bytes of a command's stderr reported per item */

/* Output records, one line per planned item, printed as each step ends (a
 * session that dies mid-apply leaves the steps before it reported):
 *   =A <item> applied|unchanged|failed|skipped <exit> [<base64 of stderr>]
 *   =END
 * Functions (all run with stdin from /dev/null, so apt-get or systemctl
 * cannot swallow the rest of the script from the exec's stdin):
 *   ok   refuses a symlink at the path, a directory reached through a
 *        symlink, a missing directory, anything but a regular file;
 *   aw   atomic write of $W (the hub user's temp copy) to the path: mktemp in
 *        the same directory, dd with O_NOFOLLOW, SHA-256 of the copy checked
 *        against the expected hash (a full disk fails here and the old file
 *        stays whole), chmod/chown, then mv -T (rename(2)) over the target.
 *        Sets U=1 (unchanged) when the file already was exactly that. */
static const char prelude[] =
    "LC_ALL=C; export LC_ALL\n"
    "PATH=\"$PATH:/usr/sbin:/sbin:/usr/bin:/bin\"; export PATH\n"
    "S='%s'\n"
    "umask 077\n"
    "E=$(mktemp \"${TMPDIR:-/tmp}/hlc-apply-e.XXXXXX\") || { echo '=FATAL mktemp'; exit 0; }\n"
    "W=$(mktemp \"${TMPDIR:-/tmp}/hlc-apply-w.XXXXXX\") || { rm -f \"$E\"; exit 0; }\n"
    "R=$(mktemp \"${TMPDIR:-/tmp}/hlc-apply-r.XXXXXX\") || { rm -f \"$E\" \"$W\"; exit 0; }\n"
    "trap 'rm -f \"$E\" \"$W\" \"$R\"' EXIT\n"
    "rec() {\n"
    "  printf '=A %%s %%s %%s ' \"$1\" \"$2\" \"$3\"; head -c 2048 \"$E\" | base64 -w 0; echo\n"
    "}\n"
    "st() {\n"
    "  case $2 in\n"
    "  0) if [ $U = 1 ]; then : >\"$E\"; rec \"$1\" unchanged 0; else rec \"$1\" applied 0; "
    "fi; return 0;;\n"
    "  *) rec \"$1\" failed \"$2\"; return 1;;\n"
    "  esac\n"
    "}\n"
    "sk() { printf '%%s\\n' \"$2\" >\"$E\"; rec \"$1\" skipped -1; }\n"
    "ok() {\n"
    "  if [ -L \"$1\" ]; then echo \"$1 is a symbolic link: refused, never written through\" "
    ">\"$E\"; return 1; fi\n"
    "  d=${1%%/*}; [ -n \"$d\" ] || d=/\n"
    "  rp=$(cd -P \"$d\" 2>/dev/null && pwd -P) || { echo \"directory $d does not exist\" "
    ">\"$E\"; return 1; }\n"
    "  if [ \"$rp\" != \"$d\" ]; then echo \"directory $d is reached through a symbolic link "
    "($rp): refused\" >\"$E\"; return 1; fi\n"
    "  if [ -e \"$1\" ] && [ ! -f \"$1\" ]; then echo \"$1 is not a regular file: refused\" "
    ">\"$E\"; return 1; fi\n"
    "  return 0\n"
    "}\n"
    "aw() {\n"
    "  ok \"$1\" || return 1\n"
    "  m=$3; o=$4; g=$5; cm=-; co=-; cg=-\n"
    "  if [ -f \"$1\" ]; then\n"
    "    c=$(stat -c '%%a %%U %%G' \"$1\" 2>\"$E\") || return 1\n"
    "    cm=${c%%%% *}; c=${c#* }; co=${c%%%% *}; cg=${c#* }\n"
    "    [ \"$m\" = - ] && m=$cm; [ \"$o\" = - ] && o=$co; [ \"$g\" = - ] && g=$cg\n"
    "    h=$($S sha256sum \"$1\" 2>/dev/null) && h=${h%%%% *} || h=-\n"
    "    if [ \"$h\" = \"$2\" ] && [ \"$((0$m))\" = \"$((0$cm))\" ] && [ \"$o\" = \"$co\" ] && "
    "[ \"$g\" = \"$cg\" ]; then { U=1; return 0; }; fi\n"
    "  fi\n"
    "  [ \"$m\" = - ] && m=644\n"
    "  t=$($S mktemp \"$d/.hlc-apply.XXXXXX\" 2>\"$E\") || return $?\n"
    "  $S dd of=\"$t\" oflag=nofollow conv=fsync status=none <\"$W\" 2>\"$E\" || "
    "{ x=$?; $S rm -f \"$t\"; return $x; }\n"
    "  h=$($S sha256sum \"$t\" 2>>\"$E\") && h=${h%%%% *} || h=-\n"
    "  if [ \"$h\" != \"$2\" ]; then $S rm -f \"$t\"; echo \"the temporary copy did not "
    "verify (disk full?): $1 left as it was\" >>\"$E\"; return 1; fi\n"
    "  $S chmod \"$m\" \"$t\" 2>\"$E\" || { x=$?; $S rm -f \"$t\"; return $x; }\n"
    "  u=''\n"
    "  if [ \"$o\" != - ] && [ \"$g\" != - ]; then u=\"$o:$g\"; elif [ \"$o\" != - ]; then "
    "u=$o; elif [ \"$g\" != - ]; then u=\":$g\"; fi\n"
    "  if [ -n \"$u\" ]; then $S chown \"$u\" \"$t\" 2>\"$E\" || { x=$?; $S rm -f \"$t\"; "
    "return $x; }; fi\n"
    "  if [ -L \"$1\" ]; then $S rm -f \"$t\"; echo \"$1 became a symbolic link: refused\" "
    ">\"$E\"; return 1; fi\n"
    "  $S mv -fT \"$t\" \"$1\" 2>\"$E\" || { x=$?; $S rm -f \"$t\"; return $x; }\n"
    "  return 0\n"
    "}\n"
    "fw() {\n"
    "  printf '%%s' \"$6\" | base64 -d >\"$W\" 2>\"$E\" || { x=$?; echo \"could not stage the "
    "content (exit $x: disk full or a file size limit?): $1 left as it was\" >>\"$E\"; return $x; "
    "}\n"
    "  aw \"$1\" \"$2\" \"$3\" \"$4\" \"$5\"\n"
    "}\n"
    "fm() {\n"
    "  ok \"$1\" || return 1\n"
    "  [ -f \"$1\" ] || { echo \"$1 does not exist\" >\"$E\"; return 1; }\n"
    "  $S cat \"$1\" >\"$W\" 2>\"$E\" || return $?\n"
    "  h=$2; if [ \"$h\" = - ]; then h=$(sha256sum <\"$W\") && h=${h%%%% *} || return 1; fi\n"
    "  aw \"$1\" \"$h\" \"$3\" \"$4\" \"$5\"\n"
    "}\n"
    "fr() {\n"
    "  if [ -d \"$1\" ] && [ ! -L \"$1\" ]; then echo \"$1 is a directory: refused\" >\"$E\"; "
    "return 1; fi\n"
    "  [ -e \"$1\" ] || [ -L \"$1\" ] || { U=1; return 0; }\n"
    "  $S rm -f \"$1\" 2>\"$E\"\n"
    "}\n"
    "pi() {\n"
    "  v=$(dpkg-query -W -f '${db:Status-Abbrev}' \"$1\" 2>/dev/null)\n"
    "  [ \"$v\" = 'ii ' ] && { U=1; return 0; }\n"
    "  $S apt-get install -y --no-install-recommends \"$1\" >/dev/null 2>\"$E\"\n"
    "}\n"
    "pr() {\n"
    "  v=$(dpkg-query -W -f '${db:Status-Abbrev}' \"$1\" 2>/dev/null)\n"
    "  case $v in ii*|iU*|iF*|iH*|iW*|iT*) ;; *) { U=1; return 0; };; esac\n"
    "  $S apt-get remove -y \"$1\" >/dev/null 2>\"$E\"\n"
    "}\n"
    "sv() { $S systemctl \"$@\" >/dev/null 2>\"$E\"; }\n"
    "sy() {\n"
    "  printf '%%s' \"$3\" | base64 -d >\"$W\" 2>\"$E\" || return 1\n"
    "  aw \"$1\" \"$2\" 0644 - - || return $?\n"
    "  U=0\n"
    "  $S sysctl -p \"$1\" >/dev/null 2>\"$E\"\n"
    "}\n"
    "tz() { $S timedatectl set-timezone \"$1\" 2>\"$E\"; }\n"
    "le() {\n"
    "  ok \"$1\" || return 1\n"
    "  [ -f \"$1\" ] || { echo \"$1 does not exist\" >\"$E\"; return 1; }\n"
    "  $S grep -Fxq -e \"$2\" \"$1\" 2>/dev/null && { U=1; return 0; }\n"
    "  $S cat \"$1\" >\"$R\" 2>\"$E\" || return $?\n"
    "  HL=$2 HM=$3 awk '{ a[NR] = $0; if (ENVIRON[\"HM\"] != \"\" && $0 ~ ENVIRON[\"HM\"]) k = "
    "NR } END { for (i = 1; i <= NR; i++) print (i == k ? ENVIRON[\"HL\"] : a[i]); if (!k) "
    "print ENVIRON[\"HL\"] }' \"$R\" >\"$W\" 2>\"$E\" || return 1\n"
    "  h=$(sha256sum <\"$W\") && h=${h%%%% *} || return 1\n"
    "  aw \"$1\" \"$h\" - - -\n"
    "}\n"
    "hlc_main() {\n";

static const char epilogue[] = "  echo '=END'\n"
                               "}\n"
                               "hlc_main </dev/null\n"
                               "exit 0\n";

static const char *const step_names[] = {
    [HLC_STEP_WRITE_FILE] = "write_file",
    [HLC_STEP_FIX_META] = "set_mode_owner",
    [HLC_STEP_REMOVE_FILE] = "remove_file",
    [HLC_STEP_INSTALL] = "install",
    [HLC_STEP_REMOVE_PKG] = "remove",
    [HLC_STEP_ENABLE] = "enable",
    [HLC_STEP_DISABLE] = "disable",
    [HLC_STEP_START] = "start",
    [HLC_STEP_STOP] = "stop",
    [HLC_STEP_SYSCTL] = "set_sysctl",
    [HLC_STEP_TIMEZONE] = "set_timezone",
    [HLC_STEP_EDIT_LINE] = "edit_line",
    [HLC_STEP_REFUSE] = "refuse",
};

const char *
hlc_pack_step_name(enum hlc_pack_step_kind k)
{
    return (unsigned)k < sizeof(step_names) / sizeof(*step_names) ? step_names[k] : "?";
}

const char *
hlc_pack_outcome_name(enum hlc_pack_outcome o)
{
    static const char *const n[] = {"applied", "unchanged", "failed", "skipped"};
    return (unsigned)o < 4 ? n[o] : "?";
}

/* Run order: packages, files, sysctl, timezone, lines, services. */
static int
phase(enum hlc_pack_step_kind k)
{
    switch (k) {
    case HLC_STEP_INSTALL:
    case HLC_STEP_REMOVE_PKG:
        return 0;
    case HLC_STEP_WRITE_FILE:
    case HLC_STEP_FIX_META:
    case HLC_STEP_REMOVE_FILE:
    case HLC_STEP_REFUSE:
        return 1;
    case HLC_STEP_SYSCTL:
        return 2;
    case HLC_STEP_TIMEZONE:
        return 3;
    case HLC_STEP_EDIT_LINE:
        return 4;
    default:
        return 5;
    }
}

/* A unit that a package of that name plausibly ships: "nginx" from nginx,
 * "fail2ban.service" from fail2ban, "unattended-upgrades" from the same. */
static bool
unit_from_package(const char *unit, const char *pkg)
{
    size_t n = strlen(unit);
    if (n > 8 && strcmp(unit + n - 8, ".service") == 0)
        n -= 8;
    size_t pn = strlen(pkg);
    if (pn == n && strncmp(unit, pkg, n) == 0)
        return true;
    if (pn > n && strncmp(pkg, unit, n) == 0 && pkg[n] == '-')
        return true;
    return n > pn && strncmp(unit, pkg, pn) == 0 && unit[pn] == '-';
}

static char *
mode_text(int mode)
{
    return mode >= 0 ? hlc_xasprintf("%04o", (unsigned)mode & 07777u) : hlc_xstrdup("-");
}

/* The step and its description for one failing item. */
static void
step_for(const struct hlc_pack *p, const struct hlc_pack_item *it, const struct hlc_pack_result *r,
         const char *sysctl_dir, struct hlc_pack_plan_step *s)
{
    const char *t = it->target;
    s->depends_on = -1;
    switch (it->type) {
    case HLC_PACK_FILE: {
        char *m = mode_text(it->mode);
        const char *o = it->owner ? it->owner : "-";
        const char *g = it->group ? it->group : "-";
        if (r->mismatch & HLC_PACK_TYPE) {
            s->kind = HLC_STEP_REFUSE;
            s->description = hlc_xasprintf("leave %s alone: %s (not a regular file; fix it by "
                                           "hand)",
                                           t, r->actual ? r->actual : "not a file");
        } else if ((r->mismatch & HLC_PACK_MISSING) ||
                   ((r->mismatch & HLC_PACK_CONTENT) && it->value)) {
            s->kind = HLC_STEP_WRITE_FILE;
            s->description = hlc_xasprintf("write %s (%zu bytes, mode %s owner %s group %s) "
                                           "atomically: temp file in the same directory, then "
                                           "rename",
                                           t, it->value_len, m, o, g);
        } else {
            s->kind = HLC_STEP_FIX_META;
            s->description =
                hlc_xasprintf("set mode %s owner %s group %s on %s (content kept)", m, o, g, t);
        }
        free(m);
        break;
    }
    case HLC_PACK_FILE_ABSENT:
        s->kind = HLC_STEP_REMOVE_FILE;
        s->description = hlc_xasprintf("remove %s", t);
        break;
    case HLC_PACK_PKG:
        s->kind = HLC_STEP_INSTALL;
        s->description = hlc_xasprintf("apt-get install -y --no-install-recommends %s", t);
        break;
    case HLC_PACK_PKG_ABSENT:
        s->kind = HLC_STEP_REMOVE_PKG;
        s->description = hlc_xasprintf("apt-get remove -y %s", t);
        break;
    case HLC_PACK_SVC_ENABLED:
        s->kind = HLC_STEP_ENABLE;
        s->description = hlc_xasprintf("systemctl enable --now %s", t);
        break;
    case HLC_PACK_SVC_DISABLED:
        s->kind = HLC_STEP_DISABLE;
        s->description = hlc_xasprintf("systemctl disable %s", t);
        break;
    case HLC_PACK_SVC_RUNNING:
        s->kind = HLC_STEP_START;
        s->description = hlc_xasprintf("systemctl start %s", t);
        break;
    case HLC_PACK_SVC_STOPPED:
        s->kind = HLC_STEP_STOP;
        s->description = hlc_xasprintf("systemctl stop %s", t);
        break;
    case HLC_PACK_SYSCTL:
        s->kind = HLC_STEP_SYSCTL;
        s->description = hlc_xasprintf("set %s = %s in %s/90-homelabcmd-%s.conf, then sysctl -p "
                                       "on it",
                                       t, it->value, sysctl_dir, p->name);
        break;
    case HLC_PACK_TIMEZONE:
        s->kind = HLC_STEP_TIMEZONE;
        s->description = hlc_xasprintf("timedatectl set-timezone %s", it->value);
        break;
    case HLC_PACK_LINE:
        s->kind = HLC_STEP_EDIT_LINE;
        s->description = it->match
                             ? hlc_xasprintf("in %s replace the last line matching %s (or append) "
                                             "with: %s",
                                             t, it->match, it->value)
                             : hlc_xasprintf("append to %s: %s", t, it->value);
        break;
    }
}

static int
cmp_step(const void *a, const void *b)
{
    const struct hlc_pack_plan_step *x = a, *y = b;
    int px = phase(x->kind), py = phase(y->kind);
    if (px != py)
        return px - py;
    return x->item < y->item ? -1 : x->item > y->item;
}

int
hlc_pack_plan_build(const struct hlc_pack *p, const struct hlc_pack_results *res,
                    const char *sysctl_dir, struct hlc_pack_plan *plan)
{
    if (!p || !res || !plan || res->n != p->nitems)
        return HLC_EINVAL;
    if (!sysctl_dir)
        sysctl_dir = HLC_PACK_SYSCTL_DIR;
    if (!pack_valid_path(sysctl_dir))
        return HLC_EINVAL;
    memset(plan, 0, sizeof(*plan));
    plan->s = hlc_xcalloc(p->nitems ? p->nitems : 1, sizeof(*plan->s));
    bool any_sysctl = false;
    for (size_t i = 0; i < p->nitems; i++) {
        if (res->r[i].status != HLC_PACK_FAIL)
            continue;
        struct hlc_pack_plan_step *s = &plan->s[plan->n++];
        s->item = i;
        step_for(p, &p->items[i], &res->r[i], sysctl_dir, s);
        any_sysctl |= s->kind == HLC_STEP_SYSCTL;
    }
    qsort(plan->s, plan->n, sizeof(*plan->s), cmp_step);
    for (size_t k = 0; k < plan->n; k++) {
        struct hlc_pack_plan_step *s = &plan->s[k];
        const struct hlc_pack_item *it = &p->items[s->item];
        for (size_t j = 0; j < plan->n && s->depends_on < 0; j++) {
            const struct hlc_pack_plan_step *d = &plan->s[j];
            const struct hlc_pack_item *dit = &p->items[d->item];
            bool svc = phase(s->kind) == 5 && s->kind != HLC_STEP_DISABLE &&
                       s->kind != HLC_STEP_STOP && d->kind == HLC_STEP_INSTALL &&
                       unit_from_package(it->target, dit->target);
            bool line = s->kind == HLC_STEP_EDIT_LINE && d->kind == HLC_STEP_WRITE_FILE &&
                        strcmp(it->target, dit->target) == 0;
            if (svc || line)
                s->depends_on = (long)d->item;
        }
    }
    if (any_sysctl) {
        struct hlc_buf b;
        hlc_buf_init(&b, 64 * 1024);
        hlc_buf_appendf(&b, "# Written by HomelabCmd for pack %s; changes here are drift.\n",
                        p->name);
        for (size_t i = 0; i < p->nitems; i++)
            if (p->items[i].type == HLC_PACK_SYSCTL)
                hlc_buf_appendf(&b, "%s = %s\n", p->items[i].target, p->items[i].value);
        plan->sysctl_content = hlc_buf_steal(&b);
        plan->sysctl_path = hlc_xasprintf("%s/90-homelabcmd-%s.conf", sysctl_dir, p->name);
    }
    return 0;
}

void
hlc_pack_plan_release(struct hlc_pack_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++)
        free(plan->s[i].description);
    free(plan->s);
    free(plan->sysctl_path);
    free(plan->sysctl_content);
    memset(plan, 0, sizeof(*plan));
}

/* Appends " 'word'" (quoted); HLC_EINVAL when the quoting function refuses. */
static int
word(struct hlc_buf *b, const char *s)
{
    int rc = hlc_buf_append(b, " ", 1);
    return rc != 0 ? rc : hlc_shell_quote(b, s);
}

/* Appends " <base64 of n bytes>" (the alphabet needs no quoting). */
static int
b64word(struct hlc_buf *b, const void *data, size_t n)
{
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *enc = hlc_xmalloc(cap);
    sodium_bin2base64(enc, cap, data, n, sodium_base64_VARIANT_ORIGINAL);
    int rc = hlc_buf_appendf(b, " '%s'", enc);
    free(enc);
    return rc;
}

static bool
valid_for_apply(const struct hlc_pack_item *it)
{
    if (it->owner && !pack_valid_account(it->owner))
        return false;
    if (it->group && !pack_valid_account(it->group))
        return false;
    if ((it->type == HLC_PACK_FILE || it->type == HLC_PACK_FILE_ABSENT) && it->value &&
        !pack_valid_text(it->value, it->value_len))
        return false;
    return pack_item_valid(it);
}

/* One step's line of the script. */
static int
step_line(struct hlc_buf *b, const struct hlc_pack *p, const struct hlc_pack_plan *plan,
          const struct hlc_pack_plan_step *s)
{
    const struct hlc_pack_item *it = &p->items[s->item];
    size_t i = s->item;
    int rc = hlc_buf_appendf(b, "  : >\"$E\"; r=0; U=0; ");
    if (rc == 0 && s->depends_on >= 0) {
        const struct hlc_pack_item *d = &p->items[s->depends_on];
        char why[160];
        snprintf(why, sizeof(why), "skipped: %s %s did not succeed",
                 d->type == HLC_PACK_PKG ? "installing package" : "writing", d->target);
        rc = hlc_buf_appendf(b, "if [ \"${D%ld:-0}\" != 1 ]; then sk %zu", s->depends_on, i);
        if (rc == 0)
            rc = word(b, why);
        if (rc == 0)
            rc = hlc_buf_appendf(b, "; else ");
    }
    char *m = NULL;
    switch (s->kind) {
    case HLC_STEP_WRITE_FILE:
    case HLC_STEP_FIX_META: {
        bool write = s->kind == HLC_STEP_WRITE_FILE;
        m = mode_text(it->mode);
        char sha[65];
        if (write && !it->value)
            pack_sha256_hex("", 0, sha);
        const char *h = write && !it->value ? sha : it->sha256;
        rc = rc ? rc : hlc_buf_appendf(b, "%s", write ? "fw" : "fm");
        rc = rc ? rc : word(b, it->target);
        if (rc == 0)
            rc = hlc_buf_appendf(b, " %s", !write && !it->sha256[0] ? "-" : h);
        rc = rc ? rc : word(b, m);
        rc = rc ? rc : word(b, it->owner ? it->owner : "-");
        rc = rc ? rc : word(b, it->group ? it->group : "-");
        if (rc == 0 && write)
            rc = b64word(b, it->value ? it->value : "", it->value ? it->value_len : 0);
        break;
    }
    case HLC_STEP_REMOVE_FILE:
        rc = rc ? rc : hlc_buf_appendf(b, "fr");
        rc = rc ? rc : word(b, it->target);
        break;
    case HLC_STEP_INSTALL:
    case HLC_STEP_REMOVE_PKG:
        rc = rc ? rc : hlc_buf_appendf(b, "%s", s->kind == HLC_STEP_INSTALL ? "pi" : "pr");
        rc = rc ? rc : word(b, it->target);
        break;
    case HLC_STEP_ENABLE:
    case HLC_STEP_DISABLE:
    case HLC_STEP_START:
    case HLC_STEP_STOP: {
        static const char *const verb[] = {[HLC_STEP_ENABLE] = "enable --now",
                                           [HLC_STEP_DISABLE] = "disable",
                                           [HLC_STEP_START] = "start",
                                           [HLC_STEP_STOP] = "stop"};
        rc = rc ? rc : hlc_buf_appendf(b, "sv %s", verb[s->kind]);
        rc = rc ? rc : word(b, it->target);
        break;
    }
    case HLC_STEP_SYSCTL: {
        char sha[65];
        pack_sha256_hex(plan->sysctl_content, strlen(plan->sysctl_content), sha);
        rc = rc ? rc : hlc_buf_appendf(b, "sy");
        rc = rc ? rc : word(b, plan->sysctl_path);
        rc = rc ? rc : hlc_buf_appendf(b, " %s", sha);
        rc = rc ? rc : b64word(b, plan->sysctl_content, strlen(plan->sysctl_content));
        break;
    }
    case HLC_STEP_TIMEZONE:
        rc = rc ? rc : hlc_buf_appendf(b, "tz");
        rc = rc ? rc : word(b, it->value);
        break;
    case HLC_STEP_EDIT_LINE:
        rc = rc ? rc : hlc_buf_appendf(b, "le");
        rc = rc ? rc : word(b, it->target);
        rc = rc ? rc : word(b, it->value);
        rc = rc ? rc : word(b, it->match ? it->match : "");
        break;
    case HLC_STEP_REFUSE:
        rc = rc ? rc : hlc_buf_appendf(b, "printf '%%s\\n'");
        rc = rc ? rc : word(b, s->description);
        rc = rc ? rc : hlc_buf_appendf(b, " >\"$E\"; false");
        break;
    }
    free(m);
    rc = rc ? rc : hlc_buf_appendf(b, " || r=$?; st %zu $r && D%zu=1", i, i);
    if (rc == 0 && s->depends_on >= 0)
        rc = hlc_buf_appendf(b, "; fi");
    return rc ? rc : hlc_buf_append(b, "\n", 1);
}

int
hlc_pack_apply_script(const struct hlc_pack *p, const struct hlc_pack_plan *plan, bool sudo,
                      char **script)
{
    if (!p || !plan || !script || p->nitems > HLC_PACK_MAX_ITEMS)
        return HLC_EINVAL;
    *script = NULL;
    if (!pack_valid_name(p->name))
        return HLC_EINVAL;
    for (size_t k = 0; k < plan->n; k++) {
        if (plan->s[k].item >= p->nitems || !valid_for_apply(&p->items[plan->s[k].item]))
            return HLC_EINVAL;
        if (plan->s[k].kind == HLC_STEP_SYSCTL &&
            (!plan->sysctl_path || !plan->sysctl_content || !pack_valid_path(plan->sysctl_path)))
            return HLC_EINVAL;
        if (plan->s[k].depends_on >= (long)p->nitems)
            return HLC_EINVAL;
    }
    struct hlc_buf b;
    hlc_buf_init(&b, 8 * 1024 * 1024);
    int rc = hlc_buf_appendf(&b, prelude, sudo ? "sudo -n" : "");
    for (size_t k = 0; rc == 0 && k < plan->n; k++)
        rc = step_line(&b, p, plan, &plan->s[k]);
    return pack_script_end(&b, rc, epilogue, sizeof(epilogue) - 1, script);
}

/* Copies n bytes as valid UTF-8 without NUL or controls but \n and \t:
 * anything else becomes '?'. */
static char *
clean_text(const unsigned char *s, size_t n)
{
    char *o = hlc_xmalloc(n + 1);
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t len = s[i] >= 0x80 ? hlc_utf8_len(s + i, n - i) : 1;
        if (len == 0 || (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f) {
            o[w++] = '?';
            i++;
            continue;
        }
        memcpy(o + w, s + i, len);
        w += len;
        i += len;
    }
    o[w] = '\0';
    return o;
}

int
hlc_pack_apply_parse(const struct hlc_pack_plan *plan, const char *out, size_t len,
                     struct hlc_pack_apply_results *res)
{
    if (!plan || !res || (!out && len))
        return HLC_EINVAL;
    memset(res, 0, sizeof(*res));
    res->n = plan->n;
    res->r = hlc_xcalloc(plan->n ? plan->n : 1, sizeof(*res->r));
    bool *seen = hlc_xcalloc(plan->n ? plan->n : 1, sizeof(bool));
    size_t pos = 0;
    while (pos < len) {
        const char *line = out + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll == 4 && memcmp(line, "=END", 4) == 0 && nl) {
            res->complete = true;
            continue;
        }
        if (ll < 4 || ll > 4096 || memcmp(line, "=A ", 3) != 0 || !nl)
            continue;
        char buf[4100];
        memcpy(buf, line, ll);
        buf[ll] = '\0';
        char *f[5] = {0};
        size_t nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf + 3, " ", &save); t && nf < 5; t = strtok_r(NULL, " ", &save))
            f[nf++] = t;
        if (nf < 3)
            continue;
        int64_t item, code;
        if (hlc_parse_i64(f[0], 0, HLC_PACK_MAX_ITEMS, &item) != 0 ||
            hlc_parse_i64(f[2], -1, 255, &code) != 0)
            continue;
        enum hlc_pack_outcome oc;
        if (strcmp(f[1], "applied") == 0)
            oc = HLC_APPLY_APPLIED;
        else if (strcmp(f[1], "unchanged") == 0)
            oc = HLC_APPLY_UNCHANGED;
        else if (strcmp(f[1], "failed") == 0)
            oc = HLC_APPLY_FAILED;
        else if (strcmp(f[1], "skipped") == 0)
            oc = HLC_APPLY_SKIPPED;
        else
            continue;
        size_t k = 0;
        while (k < plan->n && plan->s[k].item != (size_t)item)
            k++;
        if (k == plan->n || seen[k])
            continue;
        seen[k] = true;
        struct hlc_pack_apply_item *r = &res->r[k];
        r->outcome = oc;
        r->exit_code = (int)code;
        unsigned char dec[STDERR_MAX + 4];
        size_t got = 0;
        if (nf >= 4 && sodium_base642bin(dec, sizeof(dec), f[3], strlen(f[3]), NULL, &got, NULL,
                                         sodium_base64_VARIANT_ORIGINAL) != 0)
            got = 0;
        while (got > 0 && (dec[got - 1] == '\n' || dec[got - 1] == ' '))
            got--;
        r->stderr_text = clean_text(dec, got);
    }
    for (size_t k = 0; k < plan->n; k++) {
        struct hlc_pack_apply_item *r = &res->r[k];
        if (!seen[k]) {
            r->outcome = HLC_APPLY_FAILED;
            r->exit_code = -1;
            r->stderr_text = hlc_xstrdup(
                res->complete ? "no outcome reported for this item"
                              : "no outcome: the apply stopped before this item reported (the "
                                "session ended or the script was cut off)");
        }
        switch (r->outcome) {
        case HLC_APPLY_APPLIED:
            res->applied++;
            break;
        case HLC_APPLY_UNCHANGED:
            res->unchanged++;
            break;
        case HLC_APPLY_FAILED:
            res->failed++;
            break;
        case HLC_APPLY_SKIPPED:
            res->skipped++;
            break;
        }
    }
    free(seen);
    return 0;
}

void
hlc_pack_apply_results_release(struct hlc_pack_apply_results *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++)
        free(res->r[i].stderr_text);
    free(res->r);
    memset(res, 0, sizeof(*res));
}
