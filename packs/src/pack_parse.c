/* pack_parse.c - the check script's output to per-item verdicts (pure). The
 * output comes from a machine and is treated as hostile: every field is
 * checked, records for the wrong item kind are ignored, and an item without a
 * sensible record is an error, never a guess. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pack_internal.h"

#define FIELD_MAX 4096 /* longest record we copy (base64 content is decoded in place) */

struct line {
    const char *s; /* start, not NUL-terminated */
    size_t n;      /* bytes */
};

static bool
next_line(const char **p, const char *end, struct line *l)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    l->s = *p;
    l->n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    *p = nl ? nl + 1 : end;
    return true;
}

/* Copies a bounded line into buf as a C string; false when too long or it
 * holds NUL or control bytes (not what the script prints). */
static bool
as_text(const struct line *l, char *buf, size_t size)
{
    if (l->n >= size || memchr(l->s, '\0', l->n))
        return false;
    memcpy(buf, l->s, l->n);
    buf[l->n] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 && c != '\t')
            return false;
    }
    return true;
}

static void
set(struct hlc_pack_result *r, enum hlc_pack_status st, unsigned mismatch, char *actual,
    const char *reason)
{
    r->status = st;
    r->mismatch = mismatch;
    free(r->actual);
    r->actual = actual;
    free(r->reason);
    r->reason = reason ? hlc_xstrdup(reason) : NULL;
}

static bool
word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '+' || c == '~' || c == ':'))
            return false;
    }
    return true;
}

static char *
file_expect(const struct hlc_pack_item *it)
{
    if (it->type == HLC_PACK_FILE_ABSENT)
        return hlc_xstrdup("absent");
    struct hlc_buf b;
    hlc_buf_init(&b, 1024);
    hlc_buf_appendf(&b, "present");
    if (it->value)
        hlc_buf_appendf(&b, ", sha256 %.12s, %zu bytes", it->sha256, it->value_len);
    if (it->mode >= 0)
        hlc_buf_appendf(&b, ", mode %04o", (unsigned)it->mode);
    if (it->owner)
        hlc_buf_appendf(&b, ", owner %s", it->owner);
    if (it->group)
        hlc_buf_appendf(&b, ", group %s", it->group);
    return hlc_buf_steal(&b);
}

static void
on_file(const struct hlc_pack_item *it, struct hlc_pack_result *r, char *rest)
{
    char *sp = strchr(rest, ' ');
    if (sp)
        *sp++ = '\0';
    bool absent_wanted = it->type == HLC_PACK_FILE_ABSENT;
    if (strcmp(rest, "missing") == 0) {
        if (absent_wanted) {
            set(r, HLC_PACK_PASS, 0, hlc_xstrdup("absent"), NULL);
        } else {
            set(r, HLC_PACK_FAIL, HLC_PACK_MISSING, hlc_xstrdup("missing"), NULL);
            r->actual_missing = true;
        }
        return;
    }
    static const struct {
        const char *word, *text;
    } kinds[] = {{"symlink", "a symbolic link"}, {"dir", "a directory"},
                 {"other", "not a regular file"}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
        if (strcmp(rest, kinds[k].word) == 0) {
            set(r, HLC_PACK_FAIL, absent_wanted ? HLC_PACK_PRESENT : HLC_PACK_TYPE,
                hlc_xstrdup(kinds[k].text), NULL);
            return;
        }
    }
    char mode_s[16], owner[40], group[40], sha[80];
    long long size = -1;
    int64_t mode = -1;
    if (strcmp(rest, "file") != 0 || !sp ||
        sscanf(sp, "%15s %39s %39s %lld %79s", mode_s, owner, group, &size, sha) != 5 ||
        size < 0 || !word_ok(owner, 32) || !word_ok(group, 32) ||
        strspn(mode_s, "01234567") != strlen(mode_s) || strlen(mode_s) > 5 ||
        hlc_parse_i64(mode_s, 0, 77777, &mode) != 0 ||
        !(strcmp(sha, "-") == 0 ||
          (strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64))) {
        set(r, HLC_PACK_ERROR, 0, NULL, "the machine's answer about this file was malformed");
        return;
    }
    mode = strtol(mode_s, NULL, 8);
    if (absent_wanted) {
        set(r, HLC_PACK_FAIL, HLC_PACK_PRESENT, hlc_xasprintf("present, %lld bytes", size), NULL);
        return;
    }
    if (it->value && strcmp(sha, "-") == 0) {
        set(r, HLC_PACK_ERROR, 0, NULL, "the file exists but could not be read (permission?)");
        return;
    }
    unsigned mm = 0;
    if (it->value && strcmp(sha, it->sha256) != 0)
        mm |= HLC_PACK_CONTENT;
    if (it->mode >= 0 && mode != it->mode)
        mm |= HLC_PACK_MODE;
    if (it->owner && strcmp(owner, it->owner) != 0)
        mm |= HLC_PACK_OWNER;
    if (it->group && strcmp(group, it->group) != 0)
        mm |= HLC_PACK_GROUP;
    struct hlc_buf b;
    hlc_buf_init(&b, 1024);
    hlc_buf_appendf(&b, "present");
    if (it->value)
        hlc_buf_appendf(&b, ", sha256 %.12s, %lld bytes", sha, size);
    if (it->mode >= 0)
        hlc_buf_appendf(&b, ", mode %04o", (unsigned)mode);
    if (it->owner)
        hlc_buf_appendf(&b, ", owner %s", owner);
    if (it->group)
        hlc_buf_appendf(&b, ", group %s", group);
    set(r, mm ? HLC_PACK_FAIL : HLC_PACK_PASS, mm, hlc_buf_steal(&b), NULL);
}

static void
on_content(const struct hlc_pack_item *it, struct hlc_pack_result *r, const char *b64, size_t n)
{
    if (it->type != HLC_PACK_FILE || !(r->mismatch & HLC_PACK_CONTENT) || r->actual_content)
        return;
    if (n == 3 && memcmp(b64, "big", 3) == 0) {
        r->oversized = true;
        return;
    }
    if (n == 6 && memcmp(b64, "budget", 6) == 0)
        return; /* not fetched: the diff says so */
    size_t max = HLC_PACK_MAX_CONTENT;
    if (n > (max / 3 + 1) * 4) {
        r->oversized = true;
        return;
    }
    char *buf = hlc_xmalloc(max + 1);
    size_t got = 0;
    if (sodium_base642bin((unsigned char *)buf, max, b64, n, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(buf);
        return; /* malformed: treated as not fetched */
    }
    buf[got] = '\0';
    if (memchr(buf, '\0', got) || !pack_valid_text(buf, got))
        r->binary = true;
    r->actual_content = buf;
    r->actual_len = got;
}

static void
on_service(const struct hlc_pack_item *it, struct hlc_pack_result *r, const char *w)
{
    if (strcmp(w, "nosystemctl") == 0) {
        set(r, HLC_PACK_ERROR, 0, NULL,
            "no systemctl on this machine: services are checked on systemd machines only");
        return;
    }
    if (!word_ok(w, 40)) {
        set(r, HLC_PACK_ERROR, 0, NULL, "systemctl's answer was malformed");
        return;
    }
    bool ok;
    switch (it->type) {
    case HLC_PACK_SVC_ENABLED:
        ok = strcmp(w, "enabled") == 0 || strcmp(w, "enabled-runtime") == 0;
        break;
    case HLC_PACK_SVC_DISABLED:
        ok = strcmp(w, "disabled") == 0 || strcmp(w, "masked") == 0 ||
             strcmp(w, "not-found") == 0;
        break;
    case HLC_PACK_SVC_RUNNING:
        ok = strcmp(w, "active") == 0;
        break;
    default:
        ok = strcmp(w, "inactive") == 0 || strcmp(w, "failed") == 0 ||
             strcmp(w, "not-found") == 0;
        break;
    }
    set(r, ok ? HLC_PACK_PASS : HLC_PACK_FAIL, ok ? 0 : HLC_PACK_STATE, hlc_xstrdup(w), NULL);
}

/* Runs of blanks as one space, none at the ends (sysctl -n separates
 * multi-value keys with tabs). */
static void
squeeze(const char *in, char *out, size_t size)
{
    size_t o = 0;
    bool blank = false;
    for (const char *q = in; *q && o + 1 < size; q++) {
        if (*q == ' ' || *q == '\t') {
            blank = o > 0;
            continue;
        }
        if (blank && o + 2 < size)
            out[o++] = ' ';
        blank = false;
        out[o++] = *q;
    }
    out[o] = '\0';
}

static void
on_sysctl(const struct hlc_pack_item *it, struct hlc_pack_result *r, const char *rest)
{
    if (strcmp(rest, "missing") == 0) {
        set(r, HLC_PACK_ERROR, 0, NULL, "this kernel has no such sysctl key");
        return;
    }
    if (strncmp(rest, "ok ", 3) != 0 || strlen(rest + 3) > 256) {
        set(r, HLC_PACK_ERROR, 0, NULL, "sysctl's answer was malformed");
        return;
    }
    char want[300], got[300];
    squeeze(it->value, want, sizeof(want));
    squeeze(rest + 3, got, sizeof(got));
    bool ok = strcmp(want, got) == 0;
    set(r, ok ? HLC_PACK_PASS : HLC_PACK_FAIL, ok ? 0 : HLC_PACK_STATE, hlc_xstrdup(got), NULL);
}

static void
on_line(const struct hlc_pack_item *it, struct hlc_pack_result *r, const char *rest)
{
    (void)it;
    if (strcmp(rest, "1") == 0) {
        set(r, HLC_PACK_PASS, 0, hlc_xstrdup("present"), NULL);
    } else if (strcmp(rest, "missing") == 0) {
        set(r, HLC_PACK_FAIL, HLC_PACK_MISSING, hlc_xstrdup("the file does not exist"), NULL);
    } else if (strcmp(rest, "unreadable") == 0) {
        set(r, HLC_PACK_ERROR, 0, NULL, "the file could not be read (permission?)");
    } else if (rest[0] == '0' && (rest[1] == '\0' || rest[1] == ' ')) {
        const char *b64 = rest[1] ? rest + 2 : "";
        unsigned char buf[2100];
        size_t got = 0;
        char *actual = NULL;
        if (*b64 && strlen(b64) <= 2800 &&
            sodium_base642bin(buf, sizeof(buf) - 1, b64, strlen(b64), NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            pack_valid_text((const char *)buf, got)) {
            buf[got] = '\0';
            while (got > 0 && buf[got - 1] == '\n')
                buf[--got] = '\0';
            actual = hlc_xasprintf("line absent; lines matching: %s", (const char *)buf);
        } else {
            actual = hlc_xstrdup("line absent");
        }
        set(r, HLC_PACK_FAIL, HLC_PACK_STATE, actual, NULL);
    } else {
        set(r, HLC_PACK_ERROR, 0, NULL, "the machine's answer about this line was malformed");
    }
}

/* The =P block: dpkg-query's lines "<name>|<abbrev>|<version>". */
static void
on_package_line(const struct hlc_pack *p, struct hlc_pack_results *res, const char *text)
{
    const char *b1 = strchr(text, '|');
    const char *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
    if (!b1 || !b2 || b1 == text || (size_t)(b1 - text) > 128 || b2 - b1 - 1 < 2)
        return;
    char st = b1[2]; /* second letter of the abbreviation: the package state */
    bool installed = st == 'i' || st == 'W' || st == 't';
    const char *ver = b2 + 1;
    if (strlen(ver) > 128)
        return;
    for (size_t i = 0; i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        if ((it->type != HLC_PACK_PKG && it->type != HLC_PACK_PKG_ABSENT) ||
            strlen(it->target) != (size_t)(b1 - text) ||
            memcmp(it->target, text, (size_t)(b1 - text)) != 0)
            continue;
        struct hlc_pack_result *r = &res->r[i];
        /* Several lines for one name (multi-arch): installed if any is. */
        if (r->status == HLC_PACK_PASS && it->type == HLC_PACK_PKG)
            continue;
        if (r->status == HLC_PACK_FAIL && it->type == HLC_PACK_PKG_ABSENT)
            continue;
        char *actual = installed ? hlc_xasprintf("installed %s", ver)
                       : st == 'c' ? hlc_xstrdup("removed, config files remain")
                       : st == 'n' ? hlc_xstrdup("not installed")
                                   : hlc_xasprintf("half installed (%.3s)", b1 + 1);
        bool ok = (it->type == HLC_PACK_PKG) == installed;
        set(r, ok ? HLC_PACK_PASS : HLC_PACK_FAIL,
            ok ? 0 : (it->type == HLC_PACK_PKG ? HLC_PACK_MISSING : HLC_PACK_PRESENT), actual,
            NULL);
    }
}

static void
packages_done(const struct hlc_pack *p, struct hlc_pack_results *res, bool none, bool closed)
{
    for (size_t i = 0; i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        struct hlc_pack_result *r = &res->r[i];
        if (it->type != HLC_PACK_PKG && it->type != HLC_PACK_PKG_ABSENT)
            continue;
        if (none)
            set(r, HLC_PACK_ERROR, 0, NULL,
                "no dpkg-query on this machine: packages are checked on Debian-family "
                "(dpkg/apt) machines only for now");
        else if (!closed)
            set(r, HLC_PACK_ERROR, 0, NULL, "the package list was cut off");
        else if (r->actual == NULL) /* dpkg-query printed nothing: unknown to dpkg */
            set(r, it->type == HLC_PACK_PKG ? HLC_PACK_FAIL : HLC_PACK_PASS,
                it->type == HLC_PACK_PKG ? HLC_PACK_MISSING : 0, hlc_xstrdup("not installed"),
                NULL);
    }
}

static char *
expect_text(const struct hlc_pack_item *it)
{
    switch (it->type) {
    case HLC_PACK_FILE:
    case HLC_PACK_FILE_ABSENT:
        return file_expect(it);
    case HLC_PACK_PKG:
        return hlc_xstrdup("installed");
    case HLC_PACK_PKG_ABSENT:
        return hlc_xstrdup("not installed");
    case HLC_PACK_SVC_ENABLED:
    case HLC_PACK_SVC_DISABLED:
    case HLC_PACK_SVC_RUNNING:
    case HLC_PACK_SVC_STOPPED:
        return hlc_xstrdup(it->type == HLC_PACK_SVC_RUNNING   ? "active"
                           : it->type == HLC_PACK_SVC_STOPPED ? "inactive"
                                                              : hlc_pack_want(it->type));
    default:
        return hlc_xstrdup(it->value ? it->value : "");
    }
}

int
hlc_pack_parse(const struct hlc_pack *p, const char *out, size_t len, bool truncated,
               struct hlc_pack_results *res)
{
    if (!p || !res || (!out && len))
        return HLC_EINVAL;
    memset(res, 0, sizeof(*res));
    res->n = p->nitems;
    res->r = hlc_xcalloc(p->nitems ? p->nitems : 1, sizeof(*res->r));
    for (size_t i = 0; i < p->nitems; i++) {
        res->r[i].status = HLC_PACK_ERROR;
        res->r[i].expected = expect_text(&p->items[i]);
    }
    const char *cur = out ? out : "", *end = cur + len;
    struct line l;
    char buf[FIELD_MAX];
    bool in_pkg = false, pkg_none = false, pkg_closed = false, ended = false, seen_pkg = false;
    while (next_line(&cur, end, &l)) {
        if (in_pkg) {
            if (l.n == 3 && memcmp(l.s, "=P.", 3) == 0) {
                in_pkg = false;
                pkg_closed = true;
            } else if (as_text(&l, buf, 512)) {
                on_package_line(p, res, buf);
            }
            continue;
        }
        if (l.n < 2 || l.s[0] != '=')
            continue;
        if (l.n == 4 && memcmp(l.s, "=END", 4) == 0) {
            ended = true;
            break;
        }
        if (l.n == 2 && memcmp(l.s, "=P", 2) == 0) {
            in_pkg = seen_pkg = true;
            continue;
        }
        if (l.n == 7 && memcmp(l.s, "=P none", 7) == 0) {
            pkg_none = seen_pkg = true;
            continue;
        }
        char tag = l.s[1];
        if (l.n < 5 || l.s[2] != ' ')
            continue;
        /* "=X <index> <rest>": the index first, without copying a long line. */
        const char *q = l.s + 3, *lend = l.s + l.n;
        const char *sp = memchr(q, ' ', (size_t)(lend - q));
        size_t il = sp ? (size_t)(sp - q) : 0;
        char ib[12];
        int64_t idx;
        if (!sp || il == 0 || il >= sizeof(ib))
            continue;
        memcpy(ib, q, il);
        ib[il] = '\0';
        if (hlc_parse_i64(ib, 0, (int64_t)p->nitems - 1, &idx) != 0)
            continue;
        const struct hlc_pack_item *it = &p->items[idx];
        struct hlc_pack_result *r = &res->r[idx];
        const char *rest = sp + 1;
        size_t rn = (size_t)(lend - rest);
        if (tag == 'C') {
            on_content(it, r, rest, rn);
            continue;
        }
        struct line rl = {rest, rn};
        if (!as_text(&rl, buf, sizeof(buf))) {
            set(r, HLC_PACK_ERROR, 0, NULL, "the machine's answer was not text");
            continue;
        }
        bool is_file = it->type == HLC_PACK_FILE || it->type == HLC_PACK_FILE_ABSENT;
        bool is_svc = it->type >= HLC_PACK_SVC_ENABLED && it->type <= HLC_PACK_SVC_STOPPED;
        if (tag == 'F' && is_file)
            on_file(it, r, buf);
        else if (tag == 'S' && is_svc)
            on_service(it, r, buf);
        else if (tag == 'Y' && it->type == HLC_PACK_SYSCTL)
            on_sysctl(it, r, buf);
        else if (tag == 'T' && it->type == HLC_PACK_TIMEZONE) {
            bool valid = pack_valid_timezone(buf);
            bool ok = valid && strcmp(buf, it->value) == 0;
            if (!valid && strcmp(buf, "unknown") != 0)
                set(r, HLC_PACK_ERROR, 0, NULL, "the timezone answer was malformed");
            else
                set(r, ok ? HLC_PACK_PASS : HLC_PACK_FAIL, ok ? 0 : HLC_PACK_STATE,
                    hlc_xstrdup(buf), NULL);
        } else if (tag == 'L' && it->type == HLC_PACK_LINE)
            on_line(it, r, buf);
    }
    if (seen_pkg)
        packages_done(p, res, pkg_none, pkg_closed);
    const char *why = truncated || !ended ? "the machine's answer was cut off before this item"
                                          : "the machine's answer said nothing about this item";
    for (size_t i = 0; i < p->nitems; i++) {
        struct hlc_pack_result *r = &res->r[i];
        if (r->status == HLC_PACK_ERROR && !r->reason)
            set(r, HLC_PACK_ERROR, 0, NULL, why);
        if (r->status == HLC_PACK_PASS)
            res->pass++;
        else if (r->status == HLC_PACK_FAIL)
            res->fail++;
        else
            res->error++;
    }
    return 0;
}

void
hlc_pack_results_release(struct hlc_pack_results *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++) {
        free(res->r[i].expected);
        free(res->r[i].actual);
        free(res->r[i].reason);
        free(res->r[i].actual_content);
        free(res->r[i].diff);
    }
    free(res->r);
    memset(res, 0, sizeof(*res));
}
