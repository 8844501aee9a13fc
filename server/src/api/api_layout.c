/* api_layout.c - GET/PUT /api/v1/servers/{id}/layout: the dashboard's widget
 * grid per machine, one layout per breakpoint,
 * {"breakpoints":{"lg"|"md"|"sm":[{"id","x","y","w","h","hidden"}]}}; "widgets"
 * is the lg one (the form before breakpoints, still read and written). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define LAYOUT_COLS 12
#define LAYOUT_MAX_Y 1000
#define LAYOUT_MAX_H 50

/* The widgets the dashboard knows and the smallest box each one's content fits in
 * at every width of its breakpoint (www/src/layout.ts, WIDGETS and MIN_SIZE). */
static const char *const widget_ids[] = {"cpu",        "memory",     "load",   "disk", "services",
                                         "containers", "network",    "system", "cost", "chart",
                                         "alerts",     "compliance", "ai",     "gpu",  NULL};
static const struct {
    int w[3]; /* columns at lg (of 12), md (of 6), sm (of 1) */
    int h;    /* rows, the same at every width */
} widget_min[] = {
    {{3, 2, 1}, 3}, {{3, 2, 1}, 3}, {{3, 2, 1}, 3}, {{3, 2, 1}, 3}, {{4, 2, 1}, 4},
    {{4, 2, 1}, 4}, {{3, 2, 1}, 3}, {{3, 2, 1}, 6}, {{3, 3, 1}, 4}, {{6, 3, 1}, 7},
    {{4, 2, 1}, 3}, {{4, 2, 1}, 3}, {{4, 2, 1}, 5}, {{4, 2, 1}, 4},
};
#define MAX_WIDGETS (sizeof(widget_ids) / sizeof(widget_ids[0]) - 1)
_Static_assert(sizeof(widget_min) / sizeof(widget_min[0]) == MAX_WIDGETS,
               "one minimum size per widget");

/* The grid's breakpoints and their columns (www/src/layout.ts, BREAKPOINTS). */
static const char *const bp_names[] = {"lg", "md", "sm", NULL};
static const int bp_cols[] = {LAYOUT_COLS, 6, 1};

static size_t
widget_index(const char *id)
{
    size_t k = 0;
    while (widget_ids[k] && strcmp(widget_ids[k], id) != 0)
        k++;
    return k;
}

static int
layout_id_param(struct hlc_req *r, const char **id)
{
    *id = r->params[0];
    if (!hlc_valid_slug(*id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    return 0;
}

/* {"server_id","widgets":<lg or []>,"breakpoints":doc,"saved"}; takes doc. */
static json_t *
layout_body(const char *id, json_t *doc)
{
    json_t *lg = json_object_get(doc, "lg");
    return json_pack("{s:s, s:o, s:o, s:b}", "server_id", id, "widgets",
                     lg ? json_incref(lg) : json_array(), "breakpoints", doc, "saved",
                     json_object_size(doc) > 0);
}

int
hlc_api_layout_get(struct hlc_req *r)
{
    const char *id;
    int ret = layout_id_param(r, &id);
    if (ret)
        return ret;
    json_t *doc = NULL;
    int rc = hlc_store_layout_get(r->hub->store, id, &doc);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "reading the layout");
    return hlc_reply_json(r, 200, layout_body(id, doc));
}

/* One widget of breakpoint b's grid; f names it ("breakpoints.md[2]"), errors
 * name f.key. */
static bool
check_widget(json_t *w, const char *f, size_t b, bool *seen, struct hlc_verr *e)
{
    int cols = bp_cols[b];
    static const char *const keys[] = {"id", "x", "y", "w", "h", "hidden", NULL};
    if (!json_is_object(w))
        return hlc_v_fail(e, f, "%s must be an object", f);
    bool ok = hlc_v_known_keys(w, keys, e) && hlc_v_enum(w, "id", true, widget_ids, e) &&
              hlc_v_int(w, "x", true, false, 0, cols - 1, e) &&
              hlc_v_int(w, "y", true, false, 0, LAYOUT_MAX_Y, e) &&
              hlc_v_int(w, "w", true, false, 1, cols, e) &&
              hlc_v_int(w, "h", true, false, 1, LAYOUT_MAX_H, e) &&
              hlc_v_bool(w, "hidden", false, e);
    if (ok) {
        json_int_t x = json_integer_value(json_object_get(w, "x"));
        json_int_t wd = json_integer_value(json_object_get(w, "w"));
        json_int_t ht = json_integer_value(json_object_get(w, "h"));
        const char *id = json_string_value(json_object_get(w, "id"));
        size_t k = widget_index(id);
        if (x + wd > cols)
            ok = hlc_v_fail(e, "w", "x + w must be at most %d columns", cols);
        else if (wd < widget_min[k].w[b])
            ok = hlc_v_fail(e, "w", "%s needs at least %d of %d columns to fit its content", id,
                            widget_min[k].w[b], cols);
        else if (ht < widget_min[k].h)
            ok = hlc_v_fail(e, "h", "%s needs at least %d rows to fit its content", id,
                            widget_min[k].h);
        else if (seen[k])
            ok = hlc_v_fail(e, "id", "widget %s appears twice", id);
        seen[k] = true;
    }
    if (!ok) {
        char inner[2 * sizeof(e->field) + 2];
        snprintf(inner, sizeof(inner), "%s.%s", f, e->field);
        hlc_v_set_field(e, inner);
    }
    return ok;
}

static bool
visible(json_t *w)
{
    return !json_is_true(json_object_get(w, "hidden"));
}

static json_int_t
num(json_t *w, const char *key)
{
    return json_integer_value(json_object_get(w, key));
}

/* One breakpoint's widgets: bounded count, each widget valid, no two visible ones
 * sharing a cell, on breakpoint b (index of bp_names). name is the field
 * ("widgets" or "breakpoints.md"). */
static bool
check_list(json_t *list, const char *name, size_t b, struct hlc_verr *e)
{
    if (!json_is_array(list))
        return hlc_v_fail(e, name, "%s must be an array", name);
    if (json_array_size(list) > MAX_WIDGETS)
        return hlc_v_fail(e, name, "at most %zu widgets", MAX_WIDGETS);
    bool seen[MAX_WIDGETS] = {false};
    char f[sizeof(e->field)];
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        snprintf(f, sizeof(f), "%s[%zu]", name, i);
        if (!check_widget(w, f, b, seen, e))
            return false;
    }
    json_array_foreach(list, i, w) {
        for (size_t j = 0; j < i && visible(w); j++) {
            json_t *o = json_array_get(list, j);
            if (!visible(o) || num(w, "x") >= num(o, "x") + num(o, "w") ||
                num(o, "x") >= num(w, "x") + num(w, "w") ||
                num(w, "y") >= num(o, "y") + num(o, "h") ||
                num(o, "y") >= num(w, "y") + num(w, "h"))
                continue;
            snprintf(f, sizeof(f), "%s[%zu]", name, i);
            return hlc_v_fail(e, f, "%s overlaps %s", json_string_value(json_object_get(w, "id")),
                              json_string_value(json_object_get(o, "id")));
        }
    }
    return true;
}

/* The stored form of a valid list: every field present, hidden defaulting to false. */
static json_t *
normalise(json_t *list)
{
    json_t *norm = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        json_array_append_new(norm, json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "id",
                                              json_string_value(json_object_get(w, "id")), "x",
                                              num(w, "x"), "y", num(w, "y"), "w", num(w, "w"), "h",
                                              num(w, "h"), "hidden", !visible(w)));
    }
    return norm;
}

/* Builds the patch from a body {"widgets":[...]} (the lg layout, as before
 * breakpoints) and/or {"breakpoints":{"lg"|"md"|"sm": [...] or null}}: the new
 * lists normalised, null for a breakpoint to forget. NULL with e filled. */
static json_t *
layout_patch(json_t *body, struct hlc_verr *e)
{
    static const char *const keys[] = {"widgets", "breakpoints", NULL};
    if (!hlc_v_known_keys(body, keys, e))
        return NULL;
    json_t *widgets = json_object_get(body, "widgets");
    json_t *bps = json_object_get(body, "breakpoints");
    if (!widgets && !bps) {
        hlc_v_fail(e, "widgets", "widgets or breakpoints is required");
        return NULL;
    }
    if (bps && !json_is_object(bps)) {
        hlc_v_fail(e, "breakpoints", "breakpoints must be an object");
        return NULL;
    }
    if (bps && json_object_size(bps) == 0 && !widgets) {
        hlc_v_fail(e, "breakpoints", "name at least one of lg, md, sm");
        return NULL;
    }
    if (widgets && json_object_get(bps, "lg")) {
        hlc_v_fail(e, "widgets", "give the lg layout once: widgets or breakpoints.lg");
        return NULL;
    }
    json_t *patch = json_object();
    if (widgets) {
        if (!check_list(widgets, "widgets", 0, e))
            goto bad;
        json_object_set_new(patch, "lg", normalise(widgets));
    }
    const char *bp;
    json_t *v;
    json_object_foreach(bps, bp, v) {
        char f[sizeof(e->field)];
        snprintf(f, sizeof(f), "breakpoints.%.40s", bp);
        size_t b = 0;
        while (bp_names[b] && strcmp(bp_names[b], bp) != 0)
            b++;
        if (!bp_names[b]) {
            hlc_v_fail(e, f, "unknown breakpoint (lg, md or sm)");
            goto bad;
        }
        if (json_is_null(v)) {
            json_object_set_new(patch, bp, json_null());
            continue;
        }
        if (!check_list(v, f, b, e))
            goto bad;
        json_object_set_new(patch, bp, normalise(v));
    }
    return patch;
bad:
    json_decref(patch);
    return NULL;
}

int
hlc_api_layout_put(struct hlc_req *r)
{
    const char *id;
    int ret = layout_id_param(r, &id);
    if (ret)
        return ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    struct hlc_verr e;
    json_t *patch = layout_patch(body, &e);
    json_decref(body);
    if (!patch)
        return hlc_reply_verr(r, &e);
    json_t *doc = NULL;
    int rc = hlc_store_layout_merge(r->hub->store, id, patch, &doc);
    json_decref(patch);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "saving the layout");
    return hlc_reply_json(r, 200, layout_body(id, doc));
}
