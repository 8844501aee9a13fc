/* ollama_parse.c - the pure parsers of Ollama's /api/version, /api/tags and
 * /api/ps answers, with hard bounds on size, count and field lengths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/shell.h"
#include "ollama.h"
#include "validate.h"

/* A byte count: absent or null is -1; a negative or non-integer is an error. */
static bool
take_size(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = -1;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* Loads an answer as a JSON object. 0, HLC_ETOOBIG, HLC_EPARSE. */
static int
load(const char *text, size_t len, json_t **out)
{
    *out = NULL;
    if (len > HLC_OLLAMA_MAX_BODY)
        return HLC_ETOOBIG;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return HLC_EPARSE;
    }
    *out = root;
    return 0;
}

int
hlc_ollama_parse_version(const char *text, size_t len, char out[static 64])
{
    json_t *root = NULL;
    out[0] = '\0';
    int rc = load(text, len, &root);
    if (rc)
        return rc;
    if (!hlc_json_take_text(root, "version", out, 64) || !out[0]) {
        out[0] = '\0';
        rc = HLC_EPARSE;
    }
    json_decref(root);
    return rc;
}

static bool
take_model(json_t *m, struct hlc_ollama_model *o)
{
    memset(o, 0, sizeof(*o));
    if (!json_is_object(m))
        return false;
    json_t *d = json_object_get(m, "details");
    if (d && !json_is_null(d) && !json_is_object(d))
        return false;
    if (!hlc_json_take_text(m, "name", o->name, sizeof(o->name)) ||
        (!o->name[0] && !hlc_json_take_text(m, "model", o->name, sizeof(o->name))) || !o->name[0] ||
        !take_size(m, "size", &o->size) || !take_size(m, "size_vram", &o->size_vram) ||
        !hlc_json_take_text(m, "expires_at", o->expires_at, sizeof(o->expires_at)) ||
        !hlc_json_take_text(m, "modified_at", o->modified_at, sizeof(o->modified_at)))
        return false;
    if (json_is_object(d) &&
        (!hlc_json_take_text(d, "family", o->family, sizeof(o->family)) ||
         !hlc_json_take_text(d, "parameter_size", o->parameter_size, sizeof(o->parameter_size)) ||
         !hlc_json_take_text(d, "quantization_level", o->quantization, sizeof(o->quantization))))
        return false;
    return true;
}

int
hlc_ollama_parse_models(const char *text, size_t len, struct hlc_ollama_model **out, size_t *n,
                        size_t *skipped)
{
    json_t *root = NULL;
    struct hlc_ollama_model *arr = NULL;
    size_t got = 0, skip = 0;
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    int rc = load(text, len, &root);
    if (rc)
        return rc;
    json_t *models = json_object_get(root, "models");
    if (json_is_null(models)) { /* an Ollama with nothing pulled may say null */
        rc = 0;
        goto out;
    }
    if (!json_is_array(models)) {
        rc = HLC_EPARSE;
        goto out;
    }
    size_t total = json_array_size(models);
    if (total > HLC_OLLAMA_MAX_MODELS) {
        rc = HLC_ETOOBIG;
        goto out;
    }
    if (total)
        arr = hlc_xcalloc(total, sizeof(*arr));
    for (size_t i = 0; i < total; i++) {
        if (take_model(json_array_get(models, i), &arr[got]))
            got++;
        else
            skip++;
    }
out:
    json_decref(root);
    if (rc || got == 0) {
        free(arr);
        arr = NULL;
        got = 0;
    }
    if (rc == 0 && skipped)
        *skipped = skip;
    *out = arr;
    *n = got;
    return rc;
}

/* A text field, or null when empty. */
static json_t *
str_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *
size_or_null(int64_t v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

json_t *
hlc_ollama_models_json(const struct hlc_ollama_model *m, size_t n, bool loaded)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct hlc_ollama_model *x = &m[i];
        json_t *o;
        if (loaded)
            o = json_pack("{s:s, s:o, s:o, s:o}", "name", x->name, "size", size_or_null(x->size),
                          "size_vram", size_or_null(x->size_vram), "expires_at",
                          str_or_null(x->expires_at));
        else
            o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "name", x->name, "size",
                          size_or_null(x->size), "family", str_or_null(x->family), "parameter_size",
                          str_or_null(x->parameter_size), "quantization",
                          str_or_null(x->quantization), "modified_at", str_or_null(x->modified_at));
        if (o)
            json_array_append_new(arr, o);
    }
    return arr;
}

const char *const hlc_ollama_paths[HLC_OLLAMA_NCALLS] = {"/api/version", "/api/tags", "/api/ps"};
static const char *const call_names[HLC_OLLAMA_NCALLS] = {"version", "tags", "ps"};
static const char header[] = "HLC-OLLAMA ";

/* "HLC-OLLAMA <call> <rc>" (the line without its newline): the call's index
 * and rc, or -1. */
static int
header_of(const char *line, size_t n, int *rc)
{
    size_t hl = sizeof(header) - 1;
    if (n <= hl || n > 64 || memcmp(line, header, hl) != 0)
        return -1;
    char buf[65];
    memcpy(buf, line + hl, n - hl);
    buf[n - hl] = '\0';
    char *sp = strchr(buf, ' ');
    int64_t v;
    if (!sp)
        return -1;
    *sp = '\0';
    if (hlc_parse_i64(sp + 1, 0, 255, &v) != 0)
        return -1;
    for (int i = 0; i < HLC_OLLAMA_NCALLS; i++)
        if (strcmp(buf, call_names[i]) == 0) {
            *rc = (int)v;
            return i;
        }
    return -1;
}

int
hlc_ollama_split(const char *out, size_t len, struct hlc_ollama_parts *p)
{
    memset(p, 0, sizeof(*p));
    const char *end = out + len, *q = out;
    int cur = -1;
    bool any = false;
    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *stop = nl ? nl : end;
        int rc = 0, k = header_of(q, (size_t)(stop - q), &rc);
        if (k >= 0) {
            any = true;
            cur = p->seen[k] ? -1 : k; /* a repeat keeps the first answer */
            if (cur >= 0) {
                p->seen[k] = true;
                p->rc[k] = rc;
                p->body[k] = nl ? nl + 1 : end;
            }
        } else if (cur >= 0) {
            p->len[cur] = (size_t)((nl ? nl + 1 : end) - p->body[cur]);
        }
        q = nl ? nl + 1 : end;
    }
    return any ? 0 : HLC_EPARSE;
}

int
hlc_ollama_remote_script(struct hlc_buf *b, int port)
{
    char url[64];
    if (port < 1 || port > 65535)
        return HLC_EINVAL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    int rc = hlc_buf_appendf(b, "u=");
    if (rc == 0)
        rc = hlc_shell_quote(b, url);
    if (rc == 0)
        rc = hlc_buf_appendf(
            b,
            "\nfor p in version tags ps; do\n"
            "  if command -v curl >/dev/null 2>&1; then\n"
            "    o=$(curl -sf -m 3 --max-filesize %d \"$u/api/$p\" 2>/dev/null); r=$?\n"
            "  elif command -v wget >/dev/null 2>&1; then\n"
            "    o=$(wget -q -T 3 -O - \"$u/api/$p\" 2>/dev/null); r=$?\n"
            "  else o=''; r=127; fi\n"
            "  echo \"HLC-OLLAMA $p $r\"; printf '%%s\\n' \"$o\"\n"
            "  [ $r = 0 ] || break\n"
            "done\n",
            HLC_OLLAMA_MAX_BODY);
    return rc;
}
