/* packs.c - the pack registry and compliance checks over SSH. */
#include "packs.h"
#include "packs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drift.h"
#include "hlc/base.h"
#include "hub.h"
#include "remote.h"
#include "store.h"

#define CHECK_TIMEOUT_MS 30000
#define MAX_DIR_ENTRIES 1024
#define RESCAN_MS 1000

struct entry {
    struct hlc_pack *p; /* as loaded (not flattened) */
    bool builtin;       /* shipped with the hub */
    char *file;         /* file name, no directory */
};

struct hlc_packs {
    pthread_mutex_t mu;        /* guards everything below */
    char *dir;                 /* DATA_DIR/packs */
    struct entry *e;           /* builtins first, then the operator's packs */
    size_t n;
    json_t *errors;            /* [{file, line, column, message}] of refused files */
    char *signature;           /* names, sizes, mtimes of the folder's pack files */
    int64_t scanned_ms;        /* monotonic time of the last look at the folder */
};

static struct hlc_packs *
packs_of(struct hlc_hub *hub)
{
    return hub->packs;
}

static bool
is_pack_file(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return false;
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted pack file names in dir (at most MAX_DIR_ENTRIES looked at). */
static char **
list_files(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0, seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) && seen++ < MAX_DIR_ENTRIES) {
        if (!is_pack_file(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            names = hlc_xrealloc(names, cap * sizeof(char *));
        }
        names[(*n)++] = hlc_xstrdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof(char *), cmp_str);
    return names;
}

static char *
signature(const char *dir, char **names, size_t n)
{
    struct hlc_buf b;
    hlc_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        char *path = hlc_xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0)
            hlc_buf_appendf(&b, "%s %lld %lld.%09ld\n", names[i], (long long)st.st_size,
                            (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        free(path);
    }
    return b.data ? hlc_buf_steal(&b) : hlc_xstrdup("");
}

static void
add_error(json_t *errors, const struct hlc_pack_error *e)
{
    json_array_append_new(errors, json_pack("{s:s, s:i, s:i, s:s}", "file", e->file, "line",
                                            e->line, "column", e->column, "message", e->message));
}

static void
simple_error(json_t *errors, const char *file, const char *msg)
{
    struct hlc_pack_error e = {0};
    snprintf(e.file, sizeof(e.file), "%s", file);
    snprintf(e.message, sizeof(e.message), "%s", msg);
    add_error(errors, &e);
}

/* Reads one operator file, bounded; NULL with an error added. */
static char *
read_pack_file(const char *dir, const char *name, size_t *len, json_t *errors)
{
    char *path = hlc_xasprintf("%s/%s", dir, name);
    char *text = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        simple_error(errors, name, "could not read the file (not a regular file, or permission)");
        goto out;
    }
    if (st.st_size > HLC_PACK_MAX_FILE_BYTES) {
        char msg[96];
        snprintf(msg, sizeof(msg), "file is %lld bytes, at most %d allowed", (long long)st.st_size,
                 HLC_PACK_MAX_FILE_BYTES);
        simple_error(errors, name, msg);
        goto out;
    }
    text = hlc_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    text[got] = '\0';
    *len = got;
out:
    if (fd >= 0)
        close(fd);
    return text;
}

static void
free_entries(struct entry *e, size_t n, size_t from)
{
    for (size_t i = from; i < n; i++) {
        hlc_pack_free(e[i].p);
        free(e[i].file);
    }
}

/* Loads the operator's packs; called with mu held. */
static void
load_user(struct hlc_packs *ps, char **names, size_t nnames)
{
    size_t nb = hlc_pack_nbuiltins;
    free_entries(ps->e, ps->n, nb);
    ps->n = nb;
    json_decref(ps->errors);
    ps->errors = json_array();
    for (size_t i = 0; i < nnames; i++) {
        if (ps->n >= nb + HLC_PACK_MAX_PACKS) {
            simple_error(ps->errors, names[i], "too many operator packs (at most 64): not loaded");
            continue;
        }
        size_t len = 0;
        char *text = read_pack_file(ps->dir, names[i], &len, ps->errors);
        if (!text)
            continue;
        struct hlc_pack *p = NULL;
        struct hlc_pack_error err;
        int rc = hlc_pack_load(names[i], text, len, &p, &err);
        free(text);
        if (rc != 0) {
            add_error(ps->errors, &err);
            continue;
        }
        bool taken = false;
        for (size_t k = 0; k < ps->n && !taken; k++)
            taken = strcmp(ps->e[k].p->name, p->name) == 0;
        if (taken) {
            char msg[160];
            snprintf(msg, sizeof(msg), "the name '%s' is already used by another pack", p->name);
            simple_error(ps->errors, names[i], msg);
            hlc_pack_free(p);
            continue;
        }
        ps->e[ps->n++] = (struct entry){.p = p, .file = hlc_xstrdup(names[i])};
    }
    /* A pack whose extends do not resolve is refused too, and then so is
     * every pack that extends it: repeat until nothing changes. */
    for (bool changed = true; changed;) {
        changed = false;
        struct hlc_pack *all[HLC_PACK_MAX_PACKS + 16];
        for (size_t k = 0; k < ps->n; k++)
            all[k] = ps->e[k].p;
        for (size_t k = nb; k < ps->n; k++) {
            struct hlc_pack *flat = NULL;
            struct hlc_pack_error err;
            if (hlc_pack_resolve(all, ps->n, ps->e[k].p->name, &flat, &err) == 0) {
                hlc_pack_free(flat);
                continue;
            }
            add_error(ps->errors, &err);
            free_entries(ps->e, k + 1, k);
            memmove(&ps->e[k], &ps->e[k + 1], (ps->n - k - 1) * sizeof(*ps->e));
            ps->n--;
            changed = true;
            break;
        }
    }
}

/* Re-reads the folder when forced or when it changed; mu held. */
static void
refresh(struct hlc_packs *ps, bool force)
{
    int64_t now = hlc_mono_ms();
    if (!force && ps->signature && now - ps->scanned_ms < RESCAN_MS)
        return;
    ps->scanned_ms = now;
    size_t nnames = 0;
    char **names = list_files(ps->dir, &nnames);
    char *sig = signature(ps->dir, names, nnames);
    if (force || !ps->signature || strcmp(sig, ps->signature) != 0) {
        load_user(ps, names, nnames);
        free(ps->signature);
        ps->signature = sig;
        sig = NULL;
        if (json_array_size(ps->errors) > 0)
            hlc_log(HLC_LOG_WARN, "packs: %zu pack file(s) in %s refused (see GET /api/v1/packs)",
                    json_array_size(ps->errors), ps->dir);
    }
    free(sig);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
}

int
hlc_packs_start(struct hlc_hub *hub)
{
    struct hlc_packs *ps = hlc_xcalloc(1, sizeof(*ps));
    pthread_mutex_init(&ps->mu, NULL);
    ps->dir = hlc_xasprintf("%s/packs", hub->set.data_dir);
    ps->e = hlc_xcalloc(hlc_pack_nbuiltins + HLC_PACK_MAX_PACKS, sizeof(*ps->e));
    for (size_t i = 0; i < hlc_pack_nbuiltins; i++) {
        const struct hlc_pack_builtin *b = &hlc_pack_builtins[i];
        struct hlc_pack_error err;
        if (hlc_pack_load(b->file, b->text, strlen(b->text), &ps->e[ps->n].p, &err) != 0) {
            /* A shipped pack is tested (tests/unit/test_packs.c); never expected. */
            hlc_log(HLC_LOG_ERROR, "packs: built-in %s:%d:%d: %s", err.file, err.line, err.column,
                    err.message);
            continue;
        }
        ps->e[ps->n].builtin = true;
        ps->e[ps->n++].file = hlc_xstrdup(b->file);
    }
    ps->errors = json_array();
    hub->packs = ps;
    hlc_packs_apply_init(hub);
    pthread_mutex_lock(&ps->mu);
    refresh(ps, true);
    pthread_mutex_unlock(&ps->mu);
    return 0;
}

void
hlc_packs_stop(struct hlc_hub *hub)
{
    struct hlc_packs *ps = packs_of(hub);
    if (!ps)
        return;
    free_entries(ps->e, ps->n, 0);
    free(ps->e);
    json_decref(ps->errors);
    free(ps->signature);
    free(ps->dir);
    pthread_mutex_destroy(&ps->mu);
    free(ps);
    hub->packs = NULL;
}

void
hlc_packs_reload(struct hlc_hub *hub)
{
    struct hlc_packs *ps = packs_of(hub);
    pthread_mutex_lock(&ps->mu);
    refresh(ps, true);
    pthread_mutex_unlock(&ps->mu);
}

static json_t *
extends_json(const struct hlc_pack *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nextends; i++)
        json_array_append_new(a, json_string(p->extends[i]));
    return a;
}

json_t *
hlc_packs_list(struct hlc_hub *hub)
{
    struct hlc_packs *ps = packs_of(hub);
    json_t *list = json_array();
    pthread_mutex_lock(&ps->mu);
    refresh(ps, false);
    for (size_t i = 0; i < ps->n; i++) {
        const struct hlc_pack *p = ps->e[i].p;
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:o, s:s, s:s, s:I}", "name", p->name, "description",
                            p->description, "extends", extends_json(p), "source",
                            ps->e[i].builtin ? "builtin" : "user", "file", ps->e[i].file,
                            "own_items", (json_int_t)p->nitems));
    }
    json_t *out = json_pack("{s:o, s:O}", "packs", list, "errors", ps->errors);
    pthread_mutex_unlock(&ps->mu);
    return out;
}

int
hlc_packs_resolve(struct hlc_hub *hub, const char *name, struct hlc_pack **out,
                  const char **source)
{
    struct hlc_packs *ps = packs_of(hub);
    struct hlc_pack *all[HLC_PACK_MAX_PACKS + 16];
    pthread_mutex_lock(&ps->mu);
    refresh(ps, false);
    const char *src = NULL;
    for (size_t i = 0; i < ps->n; i++) {
        all[i] = ps->e[i].p;
        if (strcmp(ps->e[i].p->name, name) == 0)
            src = ps->e[i].builtin ? "builtin" : "user";
    }
    int rc = src ? hlc_pack_resolve(all, ps->n, name, out, NULL) : HLC_ENOTFOUND;
    pthread_mutex_unlock(&ps->mu);
    if (source)
        *source = src;
    return rc;
}

json_t *
hlc_packs_pack_json(const struct hlc_pack *p, const char *source)
{
    json_t *items = json_array();
    for (size_t i = 0; i < p->nitems; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "kind", hlc_pack_kind(it->type), "check",
                              hlc_pack_want(it->type), "target", it->target, "origin", it->origin);
        if (it->value)
            json_object_set_new(o, it->type == HLC_PACK_FILE ? "content" : "value",
                                json_stringn(it->value, it->value_len));
        if (it->sha256[0])
            json_object_set_new(o, "sha256", json_string(it->sha256));
        if (it->mode >= 0) {
            char m[8];
            snprintf(m, sizeof(m), "%04o", (unsigned)it->mode & 07777u);
            json_object_set_new(o, "mode", json_string(m));
        }
        if (it->owner)
            json_object_set_new(o, "owner", json_string(it->owner));
        if (it->group)
            json_object_set_new(o, "group", json_string(it->group));
        if (it->match)
            json_object_set_new(o, "match", json_string(it->match));
        json_array_append_new(items, o);
    }
    return json_pack("{s:s, s:s, s:o, s:s, s:o}", "name", p->name, "description", p->description,
                     "extends", extends_json(p), "source", source ? source : "builtin", "items",
                     items);
}

json_t *
packs_mismatch_json(unsigned m)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HLC_PACK_MISSING, "missing"}, {HLC_PACK_PRESENT, "present"},
                 {HLC_PACK_CONTENT, "content"}, {HLC_PACK_MODE, "mode"},
                 {HLC_PACK_OWNER, "owner"},     {HLC_PACK_GROUP, "group"},
                 {HLC_PACK_TYPE, "type"},       {HLC_PACK_STATE, "state"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (m & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *
opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
items_json(const struct hlc_pack *p, const struct hlc_pack_results *res)
{
    static const char *const status[] = {"pass", "fail", "error"};
    json_t *a = json_array();
    for (size_t i = 0; i < res->n; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        const struct hlc_pack_result *r = &res->r[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "kind",
                         hlc_pack_kind(it->type), "check", hlc_pack_want(it->type), "target",
                         it->target, "status", status[r->status], "expected",
                         opt_string(r->expected), "actual", opt_string(r->actual), "diff",
                         opt_string(r->diff), "reason", opt_string(r->reason), "mismatch",
                         packs_mismatch_json(r->mismatch), "origin", it->origin ? it->origin : ""));
    }
    return a;
}

int
hlc_packs_check(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, json_t **out)
{
    return hlc_packs_check_keep(hub, id, p, out, NULL);
}

int
hlc_packs_check_keep(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, json_t **out,
                     struct hlc_pack_results *keep)
{
    *out = NULL;
    char *script = NULL;
    struct hlc_exec_result ex;
    memset(&ex, 0, sizeof(ex));
    struct hlc_pack_results res;
    memset(&res, 0, sizeof(res));
    int rc = hlc_pack_check_script(p, &script);
    if (rc != 0)
        goto out;
    rc = hlc_remote_exec(hub, id, HLC_PACK_CHECK_COMMAND, script, strlen(script), CHECK_TIMEOUT_MS,
                         HLC_PACK_MAX_OUTPUT, &ex);
    if (rc != 0)
        goto out;
    hlc_pack_parse(p, ex.out ? ex.out : "", ex.out_len, ex.out_truncated, &res);
    hlc_pack_diff_results(p, &res);
    int64_t now = hlc_now();
    json_t *items = items_json(p, &res);
    struct hlc_compliance_row row = {
        .server_id = id,
        .pack = p->name,
        .checked_at = now,
        .compliant = res.fail == 0 && res.error == 0,
        .npass = (int)res.pass,
        .nfail = (int)res.fail,
        .nerror = (int)res.error,
        .items = items,
    };
    rc = hlc_store_compliance_add(hub->store, &row);
    if (rc != 0) {
        json_decref(items);
        goto out;
    }
    hlc_drift_judge(hub, id, p, row.compliant, items);
    char iso[32];
    hlc_time_iso(now, iso);
    *out = json_pack("{s:s, s:s, s:b, s:s, s:{s:i, s:i, s:i}, s:I, s:o}", "server_id", id, "pack",
                     p->name, "compliant", row.compliant, "checked_at", iso, "counts", "pass",
                     row.npass, "fail", row.nfail, "error", row.nerror, "duration_ms",
                     (json_int_t)ex.duration_ms, "items", items);
out:
    free(script);
    hlc_exec_result_release(&ex);
    if (keep && rc == 0)
        *keep = res;
    else
        hlc_pack_results_release(&res);
    return rc;
}

int
hlc_packs_fleet(struct hlc_hub *hub, json_t **out)
{
    *out = NULL;
    json_t *machines = NULL, *rows = NULL;
    int rc = hlc_store_machine_list(hub->store, &machines);
    if (rc == 0)
        rc = hlc_store_compliance_fleet(hub->store, &rows);
    if (rc != 0) {
        json_decref(machines);
        return rc;
    }
    json_t *packs = hlc_packs_list(hub);
    json_t *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(packs, "packs"), i, v)
    {
        json_array_append(names, json_object_get(v, "name"));
    }
    json_decref(packs);
    json_t *servers = json_array();
    json_t *m;
    json_array_foreach(machines, i, m)
    {
        const char *sid = json_string_value(json_object_get(m, "server_id"));
        json_t *cells = json_object();
        size_t k;
        json_t *name;
        json_array_foreach(names, k, name)
        {
            json_object_set_new(cells, json_string_value(name),
                                json_pack("{s:s, s:n, s:i, s:i}", "status", "never_checked",
                                          "checked_at", "fail", 0, "error", 0));
        }
        size_t j;
        json_t *r;
        json_array_foreach(rows, j, r)
        {
            if (strcmp(json_string_value(json_object_get(r, "server_id")), sid) != 0)
                continue;
            const char *pack = json_string_value(json_object_get(r, "pack"));
            json_object_set_new(
                cells, pack,
                json_pack("{s:s, s:O, s:O, s:O}", "status",
                          json_is_true(json_object_get(r, "compliant")) ? "compliant"
                                                                        : "not_compliant",
                          "checked_at", json_object_get(r, "checked_at"), "fail",
                          json_object_get(r, "fail"), "error", json_object_get(r, "error")));
        }
        json_array_append_new(
            servers, json_pack("{s:s, s:O, s:O, s:o}", "server_id", sid, "display_name",
                               json_object_get(m, "display_name"), "status",
                               json_object_get(m, "status"), "packs", cells));
    }
    *out = json_pack("{s:o, s:o}", "packs", names, "servers", servers);
    json_decref(machines);
    json_decref(rows);
    return 0;
}
