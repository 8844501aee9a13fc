/* pack_resolve.c - `extends` layering: a pack's parents flattened into one
 * item list, with cycle detection and bounded depth. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack_internal.h"

struct rs {
    struct hlc_pack *const *packs;
    size_t n;
    struct hlc_pack *out;
    size_t cap;
    const char *chain[HLC_PACK_MAX_DEPTH + 1]; /* names from the root down */
    struct hlc_pack_error *err;
};

static const struct hlc_pack *
find(const struct rs *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->packs[i] && strcmp(r->packs[i]->name, name) == 0)
            return r->packs[i];
    return NULL;
}

static void __attribute__((format(printf, 4, 5)))
err_at(struct rs *r, const struct hlc_pack *p, size_t ext, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    snprintf(r->err->file, sizeof(r->err->file), "%s", p->file ? p->file : "");
    r->err->line = p->extends_line ? p->extends_line[ext] : 0;
    r->err->column = p->extends_col ? p->extends_col[ext] : 0;
    vsnprintf(r->err->message, sizeof(r->err->message), fmt, ap);
    va_end(ap);
}

static const char *
origin_of(struct rs *r, const char *name)
{
    struct hlc_pack *o = r->out;
    for (size_t i = 0; i < o->norigins; i++)
        if (strcmp(o->origins[i], name) == 0)
            return o->origins[i];
    o->origins = hlc_xrealloc(o->origins, (o->norigins + 1) * sizeof(char *));
    o->origins[o->norigins] = hlc_xstrdup(name);
    return o->origins[o->norigins++];
}

static int
merge_item(struct rs *r, const struct hlc_pack_item *it)
{
    struct hlc_pack *o = r->out;
    char *k = pack_item_key(it);
    size_t i;
    for (i = 0; i < o->nitems; i++) {
        char *k2 = pack_item_key(&o->items[i]);
        bool same = strcmp(k, k2) == 0;
        free(k2);
        if (same)
            break;
    }
    free(k);
    if (i == o->nitems) {
        if (o->nitems >= HLC_PACK_MAX_ITEMS)
            return HLC_EINVAL;
        if (o->nitems == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 32;
            o->items = hlc_xrealloc(o->items, r->cap * sizeof(*o->items));
        }
        o->nitems++;
    } else {
        pack_item_release(&o->items[i]);
    }
    pack_item_copy(&o->items[i], it);
    o->items[i].origin = origin_of(r, it->origin ? it->origin : "");
    return 0;
}

static int
walk(struct rs *r, const struct hlc_pack *p, size_t depth)
{
    r->chain[depth] = p->name;
    for (size_t e = 0; e < p->nextends; e++) {
        const char *pn = p->extends[e];
        for (size_t d = 0; d <= depth; d++) {
            if (strcmp(r->chain[d], pn) == 0) {
                err_at(r, p, e, "extends: cycle: '%s' is already extended by '%s'", pn,
                       r->chain[d == 0 ? 0 : d - 1]);
                return HLC_EINVAL;
            }
        }
        const struct hlc_pack *parent = find(r, pn);
        if (!parent) {
            err_at(r, p, e, "extends: no pack named '%s'", pn);
            return HLC_EINVAL;
        }
        if (depth + 1 >= HLC_PACK_MAX_DEPTH) {
            err_at(r, p, e, "extends: '%s' is too deep (chains of at most %d packs)", pn,
                   HLC_PACK_MAX_DEPTH);
            return HLC_EINVAL;
        }
        int rc = walk(r, parent, depth + 1);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < p->nitems; i++) {
        if (merge_item(r, &p->items[i]) != 0) {
            snprintf(r->err->file, sizeof(r->err->file), "%s", p->file ? p->file : "");
            r->err->line = r->err->column = 0;
            snprintf(r->err->message, sizeof(r->err->message),
                     "more than %d items once extends are flattened", HLC_PACK_MAX_ITEMS);
            return HLC_EINVAL;
        }
    }
    return 0;
}

int
hlc_pack_resolve(struct hlc_pack *const *packs, size_t n, const char *name, struct hlc_pack **out,
                 struct hlc_pack_error *err)
{
    struct hlc_pack_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    if (!out || !name || (n && !packs))
        return HLC_EINVAL;
    *out = NULL;
    struct rs r = {.packs = packs, .n = n, .err = err};
    const struct hlc_pack *root = find(&r, name);
    if (!root) {
        snprintf(err->message, sizeof(err->message), "no pack named '%.200s'", name);
        return HLC_ENOTFOUND;
    }
    struct hlc_pack *o = hlc_xcalloc(1, sizeof(*o));
    o->name = hlc_xstrdup(root->name);
    o->description = hlc_xstrdup(root->description ? root->description : "");
    o->file = hlc_xstrdup(root->file ? root->file : "");
    o->nextends = root->nextends;
    o->extends = hlc_xcalloc(root->nextends + 1, sizeof(char *));
    for (size_t i = 0; i < root->nextends; i++)
        o->extends[i] = hlc_xstrdup(root->extends[i]);
    r.out = o;
    int rc = walk(&r, root, 0);
    if (rc != 0) {
        hlc_pack_free(o);
        return rc;
    }
    *out = o;
    return 0;
}
