/* api_layout.c - GET/PUT /api/v1/servers/{id}/layout: the dashboard's widget
 * grid per machine, {"widgets":[{"id","x","y","w","h","hidden"}]}. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hub.h"
#include "store.h"
#include "validate.h"

#define LAYOUT_COLS 12
#define LAYOUT_MAX_Y 1000
#define LAYOUT_MAX_H 50

/* The widgets the dashboard knows (www/src/layout.ts). */
static const char *const widget_ids[] = {"cpu",        "memory",  "load",   "disk",
                                         "services",   "containers", "network", "system",
                                         "cost",       "chart",   "alerts", "compliance",
                                         "ai",         "gpu",     NULL};
#define MAX_WIDGETS (sizeof(widget_ids) / sizeof(widget_ids[0]) - 1)

static int
layout_id_param(struct hlc_req *r, const char **id)
{
    *id = r->params[0];
    if (!hlc_valid_slug(*id))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    return 0;
}

static json_t *
layout_body(const char *id, json_t *widgets)
{
    return json_pack("{s:s, s:o, s:b}", "server_id", id, "widgets",
                     widgets ? widgets : json_array(), "saved", widgets != NULL);
}

int
hlc_api_layout_get(struct hlc_req *r)
{
    const char *id;
    int ret = layout_id_param(r, &id);
    if (ret)
        return ret;
    json_t *w = NULL;
    int rc = hlc_store_layout_get(r->hub->store, id, &w);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    if (rc)
        return hlc_reply_err(r, rc, "reading the layout");
    return hlc_reply_json(r, 200, layout_body(id, w));
}

/* One widget; field names in errors are widgets[i].key. */
static bool
check_widget(json_t *w, size_t i, bool *seen, struct hlc_verr *e)
{
    static const char *const keys[] = {"id", "x", "y", "w", "h", "hidden", NULL};
    char f[48];
    snprintf(f, sizeof(f), "widgets[%zu]", i);
    if (!json_is_object(w))
        return hlc_v_fail(e, f, "%s must be an object", f);
    bool ok = hlc_v_known_keys(w, keys, e) && hlc_v_enum(w, "id", true, widget_ids, e) &&
              hlc_v_int(w, "x", true, false, 0, LAYOUT_COLS - 1, e) &&
              hlc_v_int(w, "y", true, false, 0, LAYOUT_MAX_Y, e) &&
              hlc_v_int(w, "w", true, false, 1, LAYOUT_COLS, e) &&
              hlc_v_int(w, "h", true, false, 1, LAYOUT_MAX_H, e) &&
              hlc_v_bool(w, "hidden", false, e);
    if (ok) {
        json_int_t x = json_integer_value(json_object_get(w, "x"));
        json_int_t wd = json_integer_value(json_object_get(w, "w"));
        if (x + wd > LAYOUT_COLS)
            ok = hlc_v_fail(e, "w", "x + w must be at most %d columns", LAYOUT_COLS);
    }
    if (ok) {
        const char *id = json_string_value(json_object_get(w, "id"));
        for (size_t k = 0; widget_ids[k]; k++) {
            if (strcmp(widget_ids[k], id) != 0)
                continue;
            if (seen[k])
                ok = hlc_v_fail(e, "id", "widget %s appears twice", id);
            seen[k] = true;
        }
    }
    if (!ok) {
        char inner[128];
        snprintf(inner, sizeof(inner), "%s.%s", f, e->field);
        hlc_v_set_field(e, inner);
    }
    return ok;
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
    static const char *const keys[] = {"widgets", NULL};
    struct hlc_verr e;
    json_t *widgets = json_object_get(body, "widgets");
    bool ok = hlc_v_known_keys(body, keys, &e);
    if (ok && !json_is_array(widgets))
        ok = hlc_v_fail(&e, "widgets", "widgets must be an array");
    if (ok && json_array_size(widgets) > MAX_WIDGETS)
        ok = hlc_v_fail(&e, "widgets", "at most %zu widgets", MAX_WIDGETS);
    bool seen[MAX_WIDGETS] = {false};
    size_t i;
    json_t *w;
    if (ok) {
        json_array_foreach(widgets, i, w) {
            if (!(ok = check_widget(w, i, seen, &e)))
                break;
        }
    }
    if (!ok) {
        json_decref(body);
        return hlc_reply_verr(r, &e);
    }
    /* Store the normalised form: every field present, hidden defaulting to false. */
    json_t *norm = json_array();
    json_array_foreach(widgets, i, w) {
        json_t *h = json_object_get(w, "hidden");
        json_array_append_new(
            norm, json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "id",
                            json_string_value(json_object_get(w, "id")), "x",
                            json_integer_value(json_object_get(w, "x")), "y",
                            json_integer_value(json_object_get(w, "y")), "w",
                            json_integer_value(json_object_get(w, "w")), "h",
                            json_integer_value(json_object_get(w, "h")), "hidden",
                            h ? json_is_true(h) : false));
    }
    json_decref(body);
    int rc = hlc_store_layout_set(r->hub->store, id, norm);
    if (rc == HLC_ENOTFOUND) {
        json_decref(norm);
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine with that id", "server_id");
    }
    if (rc) {
        json_decref(norm);
        return hlc_reply_err(r, rc, "saving the layout");
    }
    return hlc_reply_json(r, 200, layout_body(id, norm));
}
