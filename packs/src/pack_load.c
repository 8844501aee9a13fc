/* pack_load.c - a pack's YAML text to a struct (libyaml's document API),
 * with hard bounds and file:line:column errors. */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "hlc/shell.h"
#include "pack_internal.h"

struct ld {
    const char *file;            /* for errors */
    yaml_document_t doc;         /* the parsed document */
    struct hlc_pack *p;          /* being filled */
    size_t cap;                  /* items allocated */
    struct hlc_pack_error *err;  /* where errors go */
};

static void __attribute__((format(printf, 5, 0)))
set_err(struct hlc_pack_error *err, const char *file, int line, int col, const char *fmt,
        va_list ap)
{
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = col;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

static int __attribute__((format(printf, 3, 4)))
fail(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(l->err, l->file, n ? (int)n->start_mark.line + 1 : 0,
            n ? (int)n->start_mark.column + 1 : 0, fmt, ap);
    va_end(ap);
    return HLC_EPARSE;
}

static int __attribute__((format(printf, 5, 6)))
fail_at(struct hlc_pack_error *err, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(err, file, line, col, fmt, ap);
    va_end(ap);
    return HLC_EPARSE;
}

static yaml_node_t *
node(struct ld *l, int i)
{
    return yaml_document_get_node(&l->doc, i);
}

static const char *
kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* A scalar's text, checked: no NUL, well-formed UTF-8, at most max bytes.
 * An empty plain scalar is YAML's null and refused. */
static int
get_str(struct ld *l, yaml_node_t *n, size_t max, const char *what, char **out, size_t *len)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(l, n, "%s: expected a string, found %s", what, kind_name(n));
    size_t nlen = n->data.scalar.length;
    const char *v = (const char *)n->data.scalar.value;
    if (nlen == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return fail(l, n, "%s: expected a string, found nothing (null)", what);
    if (nlen > max)
        return fail(l, n, "%s: %zu bytes, at most %zu allowed", what, nlen, max);
    if (memchr(v, '\0', nlen) || !pack_valid_text(v, nlen))
        return fail(l, n, "%s: expected UTF-8 text without control characters", what);
    *out = hlc_xstrndup(v, nlen);
    if (len)
        *len = nlen;
    return 0;
}

static int
get_bool(struct ld *l, yaml_node_t *n, const char *what, bool *out)
{
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *v = (const char *)n->data.scalar.value;
        if (strcmp(v, "true") == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, "false") == 0) {
            *out = false;
            return 0;
        }
    }
    return fail(l, n, "%s: expected true or false", what);
}

/* The key of a mapping pair, which must be a plain string from `allowed`
 * (NULL-terminated; NULL = any). *seen bits catch duplicates. */
static int
get_key(struct ld *l, yaml_node_pair_t *pr, const char *const *allowed, unsigned *seen,
        const char *where, const char **key, yaml_node_t **kn)
{
    *kn = node(l, pr->key);
    if (!*kn || (*kn)->type != YAML_SCALAR_NODE)
        return fail(l, *kn, "%s: keys must be strings", where);
    *key = (const char *)(*kn)->data.scalar.value;
    if (!allowed)
        return 0;
    for (unsigned i = 0; allowed[i]; i++) {
        if (strcmp(*key, allowed[i]) == 0) {
            if (*seen & (1u << i))
                return fail(l, *kn, "%s: duplicate key '%s'", where, *key);
            *seen |= 1u << i;
            return 0;
        }
    }
    char list[200] = "";
    size_t off = 0;
    for (unsigned i = 0; allowed[i] && off < sizeof(list); i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", allowed[i]);
    return fail(l, *kn, "%s: unknown key '%.60s' (expected one of: %s)", where, *key, list);
}

static struct hlc_pack_item *
add_item(struct ld *l, yaml_node_t *n, enum hlc_pack_type type, char *target, int *rc)
{
    struct hlc_pack *p = l->p;
    struct hlc_pack_item probe = {.type = type, .target = target};
    if (p->nitems >= HLC_PACK_MAX_ITEMS) {
        *rc = fail(l, n, "more than %d items in one pack", HLC_PACK_MAX_ITEMS);
        free(target);
        return NULL;
    }
    if (type != HLC_PACK_LINE) {
        char *k = pack_item_key(&probe);
        for (size_t i = 0; i < p->nitems; i++) {
            char *k2 = pack_item_key(&p->items[i]);
            bool same = strcmp(k, k2) == 0;
            free(k2);
            if (same) {
                *rc = fail(l, n, "'%.200s' is named twice (or both ways) in this pack", target);
                free(k);
                free(target);
                return NULL;
            }
        }
        free(k);
    }
    if (p->nitems == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        p->items = hlc_xrealloc(p->items, l->cap * sizeof(*p->items));
    }
    struct hlc_pack_item *it = &p->items[p->nitems++];
    memset(it, 0, sizeof(*it));
    it->type = type;
    it->target = target;
    it->mode = -1;
    it->origin = p->name;
    return it;
}

/* A list of names, each checked by valid(), each becoming an item. */
static int
name_list(struct ld *l, yaml_node_t *n, const char *what, bool (*valid)(const char *),
          const char *pattern, enum hlc_pack_type type)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(l, n, "%s: expected a list, found %s", what, kind_name(n));
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        yaml_node_t *e = node(l, *i);
        char *s = NULL;
        int rc = get_str(l, e, 256, what, &s, NULL);
        if (rc != 0)
            return rc;
        if (!valid(s)) {
            rc = fail(l, e, "%s: '%.100s' is not a valid name (expected %s)", what, s, pattern);
            free(s);
            return rc;
        }
        if (!add_item(l, e, type, s, &rc))
            return rc;
    }
    return 0;
}

static int
load_file_entry(struct ld *l, yaml_node_t *n)
{
    static const char *const keys[] = {"path", "content", "absent", "mode", "owner", "group",
                                       NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail(l, n, "files: each entry must be a mapping with a path");
    char *path = NULL, *content = NULL, *owner = NULL, *group = NULL;
    size_t clen = 0;
    bool absent = false;
    int mode = -1, rc = 0;
    unsigned seen = 0;
    yaml_node_t *abs_node = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k;
        yaml_node_t *kn, *v = node(l, pr->value);
        if ((rc = get_key(l, pr, keys, &seen, "files", &k, &kn)) != 0)
            goto out;
        if (strcmp(k, "path") == 0) {
            if ((rc = get_str(l, v, HLC_PACK_MAX_PATH, "files.path", &path, NULL)) != 0)
                goto out;
            if (!pack_valid_path(path)) {
                rc = fail(l, v,
                          "files.path: '%.100s' must be absolute, of [A-Za-z0-9._@+,=:~/-], "
                          "with no empty, '.' or '..' part",
                          path);
                goto out;
            }
        } else if (strcmp(k, "content") == 0) {
            if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
                v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
                content = hlc_xstrdup(""); /* an empty file, written "" */
            } else if ((rc = get_str(l, v, HLC_PACK_MAX_CONTENT, "files.content", &content,
                                     &clen)) != 0) {
                goto out;
            }
        } else if (strcmp(k, "absent") == 0) {
            if ((rc = get_bool(l, v, "files.absent", &absent)) != 0)
                goto out;
            abs_node = v;
        } else if (strcmp(k, "mode") == 0) {
            const char *t = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
            size_t tl = strlen(t);
            bool ok = tl >= 3 && tl <= 4;
            for (size_t i = 0; ok && i < tl; i++)
                ok = t[i] >= '0' && t[i] <= '7';
            if (!ok) {
                rc = fail(l, v, "files.mode: expected octal permissions such as \"0644\"");
                goto out;
            }
            mode = (int)strtol(t, NULL, 8);
        } else {
            char **dst = strcmp(k, "owner") == 0 ? &owner : &group;
            if ((rc = get_str(l, v, 32, k, dst, NULL)) != 0)
                goto out;
            if (!pack_valid_account(*dst)) {
                rc = fail(l, v, "files.%s: '%.40s' is not a user/group name ([a-z_][a-z0-9_-]*)",
                          k, *dst);
                goto out;
            }
        }
    }
    if (!path) {
        rc = fail(l, n, "files: an entry needs a path");
        goto out;
    }
    if (absent && (content || mode >= 0 || owner || group)) {
        rc = fail(l, abs_node, "files: an absent file takes no content, mode, owner or group");
        goto out;
    }
    struct hlc_pack_item *it =
        add_item(l, n, absent ? HLC_PACK_FILE_ABSENT : HLC_PACK_FILE, path, &rc);
    path = NULL;
    if (!it)
        goto out;
    it->value = content;
    it->value_len = clen;
    if (content)
        pack_sha256_hex(content, clen, it->sha256);
    it->mode = mode;
    it->owner = owner;
    it->group = group;
    content = owner = group = NULL;
out:
    free(path);
    free(content);
    free(owner);
    free(group);
    return rc;
}

static int
load_files(struct ld *l, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(l, n, "files: expected a list, found %s", kind_name(n));
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        int rc = load_file_entry(l, node(l, *i));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
load_group(struct ld *l, yaml_node_t *n, const char *where, const char *const *keys,
           const enum hlc_pack_type *types, bool (*valid)(const char *), const char *pattern)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(l, n, "%s: expected a mapping, found %s", where, kind_name(n));
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k;
        yaml_node_t *kn;
        int rc = get_key(l, pr, keys, &seen, where, &k, &kn);
        if (rc != 0)
            return rc;
        unsigned i = 0;
        while (strcmp(keys[i], k) != 0)
            i++;
        char what[64];
        snprintf(what, sizeof(what), "%s.%s", where, k);
        if ((rc = name_list(l, node(l, pr->value), what, valid, pattern, types[i])) != 0)
            return rc;
    }
    return 0;
}

static bool
valid_unit(const char *s)
{
    return hlc_shell_valid_unit(s);
}

static int
load_line(struct ld *l, yaml_node_t *n)
{
    static const char *const keys[] = {"path", "line", "match", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail(l, n, "settings.lines: each entry must be a mapping {path, line, match}");
    char *path = NULL, *line = NULL, *match = NULL;
    unsigned seen = 0;
    int rc = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k;
        yaml_node_t *kn, *v = node(l, pr->value);
        if ((rc = get_key(l, pr, keys, &seen, "settings.lines", &k, &kn)) != 0)
            goto out;
        char **dst = k[0] == 'p' ? &path : k[0] == 'l' ? &line : &match;
        if ((rc = get_str(l, v, k[0] == 'p' ? HLC_PACK_MAX_PATH : HLC_PACK_MAX_LINE, k, dst,
                          NULL)) != 0)
            goto out;
        if (k[0] == 'p' && !pack_valid_path(path)) {
            rc = fail(l, v, "settings.lines.path: '%.100s' must be an absolute path", path);
            goto out;
        }
        if (k[0] != 'p' && !pack_valid_text_line(*dst)) {
            rc = fail(l, v, "settings.lines.%s: expected one line of text", k);
            goto out;
        }
        if (k[0] == 'm') {
            regex_t re;
            if (regcomp(&re, match, REG_EXTENDED | REG_NOSUB) != 0) {
                rc = fail(l, v, "settings.lines.match: not a valid extended regular expression");
                goto out;
            }
            regfree(&re);
        }
    }
    if (!path || !line) {
        rc = fail(l, n, "settings.lines: an entry needs path and line");
        goto out;
    }
    struct hlc_pack_item *it = add_item(l, n, HLC_PACK_LINE, path, &rc);
    path = NULL;
    if (!it)
        goto out;
    it->value = line;
    it->value_len = strlen(line);
    it->match = match;
    line = match = NULL;
out:
    free(path);
    free(line);
    free(match);
    return rc;
}

static int
load_settings(struct ld *l, yaml_node_t *n)
{
    static const char *const keys[] = {"sysctl", "timezone", "lines", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail(l, n, "settings: expected a mapping, found %s", kind_name(n));
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k;
        yaml_node_t *kn, *v = node(l, pr->value);
        int rc = get_key(l, pr, keys, &seen, "settings", &k, &kn);
        if (rc != 0)
            return rc;
        if (strcmp(k, "timezone") == 0) {
            char *tz = NULL;
            if ((rc = get_str(l, v, 64, "settings.timezone", &tz, NULL)) != 0)
                return rc;
            if (!pack_valid_timezone(tz)) {
                rc = fail(l, v, "settings.timezone: '%.64s' is not a tz name like Europe/London",
                          tz);
                free(tz);
                return rc;
            }
            struct hlc_pack_item *it = add_item(l, v, HLC_PACK_TIMEZONE, hlc_xstrdup("timezone"), &rc);
            if (!it) {
                free(tz);
                return rc;
            }
            it->value = tz;
            it->value_len = strlen(tz);
        } else if (strcmp(k, "lines") == 0) {
            if (v->type != YAML_SEQUENCE_NODE)
                return fail(l, v, "settings.lines: expected a list, found %s", kind_name(v));
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++)
                if ((rc = load_line(l, node(l, *i))) != 0)
                    return rc;
        } else {
            if (v->type != YAML_MAPPING_NODE)
                return fail(l, v, "settings.sysctl: expected a mapping of key: value");
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++) {
                yaml_node_t *sk = node(l, q->key), *sv = node(l, q->value);
                char *key = NULL, *val = NULL;
                if ((rc = get_str(l, sk, 128, "settings.sysctl key", &key, NULL)) != 0)
                    return rc;
                if (!pack_valid_sysctl_key(key)) {
                    rc = fail(l, sk, "settings.sysctl: '%.100s' is not a sysctl key like "
                                     "vm.swappiness", key);
                    free(key);
                    return rc;
                }
                if ((rc = get_str(l, sv, 128, "settings.sysctl value", &val, NULL)) != 0) {
                    free(key);
                    return rc;
                }
                if (!pack_valid_sysctl_value(val)) {
                    rc = fail(l, sv, "settings.sysctl.%.100s: value must be of [A-Za-z0-9 ._:,/+-]",
                              key);
                    free(key);
                    free(val);
                    return rc;
                }
                struct hlc_pack_item *it = add_item(l, sk, HLC_PACK_SYSCTL, key, &rc);
                if (!it) {
                    free(val);
                    return rc;
                }
                it->value = val;
                it->value_len = strlen(val);
            }
        }
    }
    return 0;
}

static int
load_extends(struct ld *l, yaml_node_t *n)
{
    struct hlc_pack *p = l->p;
    yaml_node_t *one = n;
    yaml_node_item_t *start = NULL, *top = NULL;
    if (n->type == YAML_SEQUENCE_NODE) {
        start = n->data.sequence.items.start;
        top = n->data.sequence.items.top;
        if (top - start > HLC_PACK_MAX_EXTENDS)
            return fail(l, n, "extends: at most %d packs", HLC_PACK_MAX_EXTENDS);
    } else if (n->type != YAML_SCALAR_NODE) {
        return fail(l, n, "extends: expected a pack name or a list of them");
    }
    size_t cnt = start ? (size_t)(top - start) : 1;
    p->extends = hlc_xcalloc(cnt ? cnt : 1, sizeof(char *));
    p->extends_line = hlc_xcalloc(cnt ? cnt : 1, sizeof(int));
    p->extends_col = hlc_xcalloc(cnt ? cnt : 1, sizeof(int));
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e = start ? node(l, start[i]) : one;
        char *s = NULL;
        int rc = get_str(l, e, 64, "extends", &s, NULL);
        if (rc != 0)
            return rc;
        if (!pack_valid_name(s)) {
            rc = fail(l, e, "extends: '%.64s' is not a pack name ([a-z0-9][a-z0-9_-]*)", s);
            free(s);
            return rc;
        }
        for (size_t j = 0; j < p->nextends; j++)
            if (strcmp(p->extends[j], s) == 0) {
                free(s);
                return fail(l, e, "extends: '%s' is named twice", p->extends[j]);
            }
        if (p->name && strcmp(s, p->name) == 0) {
            free(s);
            return fail(l, e, "extends: a pack cannot extend itself");
        }
        p->extends[p->nextends] = s;
        p->extends_line[p->nextends] = (int)e->start_mark.line + 1;
        p->extends_col[p->nextends] = (int)e->start_mark.column + 1;
        p->nextends++;
    }
    return 0;
}

static int
load_root(struct ld *l, yaml_node_t *root)
{
    static const char *const keys[] = {"name", "description", "extends", "files", "packages",
                                       "services", "settings", NULL};
    static const char *const pkg_keys[] = {"present", "absent", NULL};
    static const enum hlc_pack_type pkg_types[] = {HLC_PACK_PKG, HLC_PACK_PKG_ABSENT};
    static const char *const svc_keys[] = {"enabled", "disabled", "running", "stopped", NULL};
    static const enum hlc_pack_type svc_types[] = {HLC_PACK_SVC_ENABLED, HLC_PACK_SVC_DISABLED,
                                                   HLC_PACK_SVC_RUNNING, HLC_PACK_SVC_STOPPED};
    if (!root)
        return fail(l, NULL, "the file is empty (expected a mapping with at least name)");
    if (root->type != YAML_MAPPING_NODE)
        return fail(l, root, "expected a mapping at the top, found %s", kind_name(root));
    /* name first, wherever it is written, so items and errors can name it. */
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *kn = node(l, pr->key);
        if (kn && kn->type == YAML_SCALAR_NODE &&
            strcmp((const char *)kn->data.scalar.value, "name") == 0 && !l->p->name) {
            yaml_node_t *v = node(l, pr->value);
            int rc = get_str(l, v, 64, "name", &l->p->name, NULL);
            if (rc != 0)
                return rc;
            if (!pack_valid_name(l->p->name))
                return fail(l, v, "name: '%.64s' must match [a-z0-9][a-z0-9_-]{0,63}",
                            l->p->name);
        }
    }
    if (!l->p->name)
        return fail(l, root, "name: missing (every pack needs a name)");
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        const char *k;
        yaml_node_t *kn, *v = node(l, pr->value);
        int rc = get_key(l, pr, keys, &seen, "pack", &k, &kn);
        if (rc != 0)
            return rc;
        if (strcmp(k, "name") == 0)
            continue;
        if (strcmp(k, "description") == 0) {
            free(l->p->description);
            l->p->description = NULL;
            rc = get_str(l, v, HLC_PACK_MAX_DESC, "description", &l->p->description, NULL);
        } else if (strcmp(k, "extends") == 0) {
            rc = load_extends(l, v);
        } else if (strcmp(k, "files") == 0) {
            rc = load_files(l, v);
        } else if (strcmp(k, "packages") == 0) {
            rc = load_group(l, v, "packages", pkg_keys, pkg_types, pack_valid_package,
                            "Debian package names: [a-z0-9][a-z0-9+.-]+");
        } else if (strcmp(k, "services") == 0) {
            rc = load_group(l, v, "services", svc_keys, svc_types, valid_unit,
                            "systemd unit names: [A-Za-z0-9][A-Za-z0-9:_.@-]*");
        } else {
            rc = load_settings(l, v);
        }
        if (rc != 0)
            return rc;
    }
    if (!l->p->description)
        l->p->description = hlc_xstrdup("");
    return 0;
}

/* Events first: aliases are refused (a document of nested aliases expands
 * exponentially when walked) and the event count is bounded, before the
 * document loader builds anything. */
static int
prescan(const char *file, const char *text, size_t len, struct hlc_pack_error *err)
{
    yaml_parser_t ps;
    yaml_event_t ev;
    int rc = 0;
    size_t events = 0, docs = 0;
    if (!yaml_parser_initialize(&ps))
        return HLC_ENOMEM;
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&ps, &ev)) {
            int line = (int)ps.problem_mark.line + 1, col = (int)ps.problem_mark.column + 1;
            if (ps.error == YAML_READER_ERROR) { /* bad encoding: only an offset is known */
                line = 1;
                col = 1;
                for (size_t i = 0; i < ps.problem_offset && i < len; i++, col++)
                    if (text[i] == '\n') {
                        line++;
                        col = 0;
                    }
            }
            rc = fail_at(err, file, line, col,
                         "YAML syntax: %s%s%s", ps.problem ? ps.problem : "error",
                         ps.context ? " " : "", ps.context ? ps.context : "");
            break;
        }
        yaml_event_type_t t = ev.type;
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        yaml_event_delete(&ev);
        if (t == YAML_ALIAS_EVENT) {
            rc = fail_at(err, file, line, col, "YAML aliases (*name) are not allowed in packs");
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            rc = fail_at(err, file, line, col, "one YAML document per pack file");
            break;
        }
        if (++events > HLC_PACK_MAX_EVENTS) {
            rc = fail_at(err, file, line, col, "too many YAML nodes (at most %d)",
                         HLC_PACK_MAX_EVENTS);
            break;
        }
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&ps);
    return rc;
}

int
hlc_pack_load(const char *file, const char *text, size_t len, struct hlc_pack **out,
              struct hlc_pack_error *err)
{
    struct hlc_pack_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    if (!out || (!text && len))
        return HLC_EINVAL;
    *out = NULL;
    if (len > HLC_PACK_MAX_FILE_BYTES) {
        fail_at(err, file, 0, 0, "file is %zu bytes, at most %d allowed", len,
                HLC_PACK_MAX_FILE_BYTES);
        return HLC_ETOOBIG;
    }
    if (memchr(text, '\0', len)) {
        const char *z = memchr(text, '\0', len);
        int line = 1;
        for (const char *q = text; q < z; q++)
            line += *q == '\n';
        return fail_at(err, file, line, 0, "NUL byte in the file (expected YAML text)");
    }
    int rc = prescan(file, text ? text : "", len, err);
    if (rc != 0)
        return rc;
    struct ld l = {.file = file, .err = err};
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return HLC_ENOMEM;
    yaml_parser_set_input_string(&ps, (const unsigned char *)(text ? text : ""), len);
    if (!yaml_parser_load(&ps, &l.doc)) {
        rc = fail_at(err, file, (int)ps.problem_mark.line + 1, (int)ps.problem_mark.column + 1,
                     "YAML syntax: %s", ps.problem ? ps.problem : "error");
        yaml_parser_delete(&ps);
        return rc;
    }
    yaml_parser_delete(&ps);
    l.p = hlc_xcalloc(1, sizeof(*l.p));
    l.p->file = hlc_xstrdup(file ? file : "");
    rc = load_root(&l, yaml_document_get_root_node(&l.doc));
    yaml_document_delete(&l.doc);
    if (rc != 0) {
        hlc_pack_free(l.p);
        return rc;
    }
    /* Items point at the pack's name as their origin. */
    for (size_t i = 0; i < l.p->nitems; i++)
        l.p->items[i].origin = l.p->name;
    *out = l.p;
    return 0;
}

void
pack_item_release(struct hlc_pack_item *it)
{
    free(it->target);
    free(it->value);
    free(it->match);
    free(it->owner);
    free(it->group);
    memset(it, 0, sizeof(*it));
}

void
pack_item_copy(struct hlc_pack_item *dst, const struct hlc_pack_item *src)
{
    *dst = *src;
    dst->target = src->target ? hlc_xstrdup(src->target) : NULL;
    dst->value = src->value ? hlc_xstrndup(src->value, src->value_len) : NULL;
    dst->match = src->match ? hlc_xstrdup(src->match) : NULL;
    dst->owner = src->owner ? hlc_xstrdup(src->owner) : NULL;
    dst->group = src->group ? hlc_xstrdup(src->group) : NULL;
}

char *
pack_item_key(const struct hlc_pack_item *it)
{
    switch (it->type) {
    case HLC_PACK_FILE:
    case HLC_PACK_FILE_ABSENT:
        return hlc_xasprintf("file:%s", it->target);
    case HLC_PACK_PKG:
    case HLC_PACK_PKG_ABSENT:
        return hlc_xasprintf("pkg:%s", it->target);
    case HLC_PACK_SVC_ENABLED:
    case HLC_PACK_SVC_DISABLED:
        return hlc_xasprintf("boot:%s", it->target);
    case HLC_PACK_SVC_RUNNING:
    case HLC_PACK_SVC_STOPPED:
        return hlc_xasprintf("run:%s", it->target);
    case HLC_PACK_SYSCTL:
        return hlc_xasprintf("sysctl:%s", it->target);
    case HLC_PACK_TIMEZONE:
        return hlc_xstrdup("timezone");
    case HLC_PACK_LINE:
        return hlc_xasprintf("line:%s\n%s", it->target, it->match ? it->match : it->value);
    }
    return hlc_xstrdup("?");
}

void
hlc_pack_free(struct hlc_pack *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nitems; i++)
        pack_item_release(&p->items[i]);
    free(p->items);
    for (size_t i = 0; i < p->nextends; i++)
        free(p->extends[i]);
    free(p->extends);
    free(p->extends_line);
    free(p->extends_col);
    for (size_t i = 0; i < p->norigins; i++)
        free(p->origins[i]);
    free(p->origins);
    free(p->name);
    free(p->description);
    free(p->file);
    free(p);
}
