/* assign.c - pack removal with cleanup (see assign.h). */
#include "assign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/shell.h"
#include "hub.h"
#include "remote.h"

#define CLEANUP_TIMEOUT_MS (10 * 60 * 1000) /* apt-get remove may be slow */
#define CLEANUP_MAX_OUTPUT (64 * 1024)

static bool
kept(json_t *keep, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(keep, i, v)
    {
        if (strcmp(json_string_value(v) ?: "", name) == 0)
            return true;
    }
    return false;
}

static bool
hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 64;
}

int
hlc_assign_cleanup_script(const struct hlc_pack *p, json_t *keep, char **script)
{
    *script = NULL;
    struct hlc_buf b;
    hlc_buf_init(&b, 4 * 1024 * 1024);
    int rc = hlc_buf_appendf(&b, "S=; [ \"$(id -u)\" = 0 ] || S='sudo -n'\n"
                                 "export LC_ALL=C DEBIAN_FRONTEND=noninteractive\n");
    for (size_t i = 0; rc == 0 && i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        if (it->type == HLC_PACK_FILE && it->sha256[0]) {
            if (!hex64(it->sha256) || it->target[0] != '/') {
                rc = HLC_EINVAL;
                break;
            }
            rc = hlc_buf_appendf(&b, "f=");
            if (rc == 0)
                rc = hlc_shell_quote(&b, it->target);
            if (rc == 0)
                rc = hlc_buf_appendf(
                    &b,
                    "\nif [ -L \"$f\" ]; then echo 'F%zu not_regular';"
                    " elif [ ! -e \"$f\" ]; then echo 'F%zu missing';"
                    " elif [ ! -f \"$f\" ]; then echo 'F%zu not_regular';"
                    " else h=$(sha256sum < \"$f\" 2>/dev/null | cut -d' ' -f1);"
                    " if [ \"$h\" != '%s' ]; then echo 'F%zu changed';"
                    " elif { rm -f -- \"$f\" 2>/dev/null ||"
                    " { [ -n \"$S\" ] && $S rm -f -- \"$f\" 2>/dev/null; }; } && [ ! -e \"$f\" ];"
                    " then echo 'F%zu removed';"
                    " else echo 'F%zu failed'; fi; fi\n",
                    i, i, i, it->sha256, i, i, i);
        } else if (it->type == HLC_PACK_PKG && !kept(keep, it->target)) {
            rc = hlc_buf_appendf(&b, "p=");
            if (rc == 0)
                rc = hlc_shell_quote(&b, it->target);
            if (rc == 0)
                rc = hlc_buf_appendf(
                    &b,
                    "\ncase \"$(dpkg-query -W -f='${db:Status-Abbrev}' \"$p\" 2>/dev/null)\" in"
                    " ii*) i=1;; *) i=0;; esac\n"
                    "if [ \"$i\" = 0 ]; then echo 'P%zu not_installed';"
                    " elif $S apt-get remove -y \"$p\" >/dev/null 2>&1; then echo 'P%zu removed';"
                    " else echo 'P%zu failed'; fi\n",
                    i, i, i);
        }
    }
    if (rc != 0) {
        hlc_buf_release(&b);
        return rc == HLC_EINVAL ? rc : HLC_EINVAL;
    }
    *script = hlc_buf_steal(&b);
    return *script ? 0 : HLC_ENOMEM;
}

/* The outcome the output gives item i of kind k ('F' or 'P'), or NULL. */
static const char *
outcome_of(const char *out, size_t len, char k, size_t i, char *buf, size_t cap)
{
    char want[32];
    int wl = snprintf(want, sizeof(want), "%c%zu ", k, i);
    const char *p = out, *end = out + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll > (size_t)wl && memcmp(p, want, (size_t)wl) == 0 && ll - (size_t)wl < cap) {
            static const char *const known[] = {"removed", "changed", "missing", "not_regular",
                                                "failed", "not_installed", NULL};
            memcpy(buf, p + wl, ll - (size_t)wl);
            buf[ll - (size_t)wl] = '\0';
            for (int j = 0; known[j]; j++)
                if (strcmp(buf, known[j]) == 0)
                    return known[j];
        }
        p = le + 1;
    }
    return NULL;
}

json_t *
hlc_assign_cleanup_parse(const struct hlc_pack *p, json_t *keep, const char *out, size_t len)
{
    json_t *files = json_array(), *pkgs = json_array();
    int removed = 0, left = 0;
    char buf[32];
    for (size_t i = 0; i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        if (it->type == HLC_PACK_FILE && it->sha256[0]) {
            const char *o = outcome_of(out, len, 'F', i, buf, sizeof(buf)) ?: "unknown";
            removed += strcmp(o, "removed") == 0;
            left += strcmp(o, "changed") == 0 || strcmp(o, "not_regular") == 0 ||
                    strcmp(o, "failed") == 0 || strcmp(o, "unknown") == 0;
            json_array_append_new(files, json_pack("{s:s, s:s}", "path", it->target, "outcome", o));
        } else if (it->type == HLC_PACK_PKG) {
            const char *o = kept(keep, it->target)
                                ? "kept"
                                : outcome_of(out, len, 'P', i, buf, sizeof(buf)) ?: "unknown";
            removed += strcmp(o, "removed") == 0;
            left += strcmp(o, "failed") == 0 || strcmp(o, "unknown") == 0;
            json_array_append_new(pkgs, json_pack("{s:s, s:s}", "name", it->target, "outcome", o));
        }
    }
    return json_pack("{s:o, s:o, s:i, s:i}", "files", files, "packages", pkgs, "removed", removed,
                     "left", left);
}

int
hlc_assign_cleanup(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, json_t *keep,
                   json_t **out)
{
    *out = NULL;
    char *script = NULL;
    int rc = hlc_assign_cleanup_script(p, keep, &script);
    if (rc != 0)
        return rc;
    struct hlc_exec_result ex;
    memset(&ex, 0, sizeof(ex));
    rc = hlc_remote_exec(hub, id, "sh -s", script, strlen(script), CLEANUP_TIMEOUT_MS,
                         CLEANUP_MAX_OUTPUT, &ex);
    free(script);
    if (rc == 0)
        *out = hlc_assign_cleanup_parse(p, keep, ex.out ? ex.out : "", ex.out_len);
    hlc_exec_result_release(&ex);
    return rc;
}
