/* apply.c - applying config packs: the dry-run plan and the work of an
 * apply_pack action (check, plan, one apply exec, check again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "hlc/base.h"
#include "hlc/poller.h"
#include "hub.h"
#include "packs.h"
#include "packs_internal.h"
#include "remote.h"
#include "store.h"

#define APPLY_OUT_CAP (512 * 1024) /* the apply script's output: records, no content */
#define OUTCOME_CAP (60 * 1024)    /* the outcome JSON must fit the action's stdout */
#define DIFF_CAP 4096              /* bytes of one item's diff in the outcome */
#define PREV_CAP 8192              /* bytes of a replaced file's old content in the outcome */
#define ERR_CAP 8192               /* the action's stderr: failed items' messages */

/* Where the sysctl drop-in goes on the machines: HOMELABCMD_SYSCTL_DIR
 * (for test machines that share the hub's filesystem), else /etc/sysctl.d. */
static const char *
sysctl_dir(void)
{
    const char *d = getenv("HOMELABCMD_SYSCTL_DIR");
    return d && d[0] ? d : NULL;
}

/* At most cap bytes of s, cut on a UTF-8 boundary, marked when cut. */
static json_t *
cut_text(const char *s, size_t n, size_t cap)
{
    if (!s)
        return json_null();
    if (n <= cap)
        return json_stringn(s, n);
    size_t k = cap;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    char *t = hlc_xasprintf("%.*s\n[... cut at %zu of %zu bytes]\n", (int)k, s, k, n);
    json_t *j = json_string(t);
    free(t);
    return j ? j : json_null();
}

/* One plan step as the API shows it. */
static json_t *
step_json(const struct hlc_pack *p, const struct hlc_pack_results *res,
          const struct hlc_pack_plan_step *s)
{
    const struct hlc_pack_item *it = &p->items[s->item];
    const struct hlc_pack_result *r = &res->r[s->item];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "kind", hlc_pack_kind(it->type),
                          "check", hlc_pack_want(it->type), "target", it->target, "step",
                          hlc_pack_step_name(s->kind), "description", json_string(s->description),
                          "mismatch", packs_mismatch_json(r->mismatch), "diff",
                          cut_text(r->diff, r->diff ? strlen(r->diff) : 0, DIFF_CAP));
    json_object_set_new(o, "depends_on",
                        s->depends_on >= 0 ? json_string(p->items[s->depends_on].target)
                                           : json_null());
    return o;
}

int
hlc_packs_apply_plan(struct hlc_hub *hub, const char *id, const struct hlc_pack *p, json_t **out)
{
    *out = NULL;
    json_t *check = NULL;
    struct hlc_pack_results res;
    memset(&res, 0, sizeof(res));
    int rc = hlc_packs_check_keep(hub, id, p, &check, &res);
    if (rc != 0)
        return rc;
    struct hlc_pack_plan plan;
    rc = hlc_pack_plan_build(p, &res, sysctl_dir(), &plan);
    if (rc == 0) {
        json_t *steps = json_array();
        for (size_t k = 0; k < plan.n; k++)
            json_array_append_new(steps, step_json(p, &res, &plan.s[k]));
        *out = json_pack("{s:s, s:s, s:b, s:O, s:O, s:O, s:I, s:I, s:o}", "server_id", id, "pack",
                         p->name, "dry_run", 1, "compliant", json_object_get(check, "compliant"),
                         "checked_at", json_object_get(check, "checked_at"), "counts",
                         json_object_get(check, "counts"), "changes", (json_int_t)plan.n, "errors",
                         (json_int_t)res.error, "plan", steps);
        hlc_pack_plan_release(&plan);
    }
    json_decref(check);
    hlc_pack_results_release(&res);
    return rc;
}

/* Sets res to what an exec that printed `out` and exited `code` returns. */
static void
fake_exec(struct hlc_exec_result *res, char *out, char *err, int code, int64_t ms)
{
    res->exit_code = code;
    res->out = out;
    res->out_len = out ? strlen(out) : 0;
    res->err = err;
    res->err_len = err ? strlen(err) : 0;
    res->duration_ms = ms;
}

static char *
dump_bounded(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s && strlen(s) > OUTCOME_CAP) {
        /* Too long for the action's stdout: drop diffs and old contents. */
        free(s);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "items"), i, v)
        {
            json_object_set_new(v, "diff", json_null());
            json_object_set_new(v, "previous", json_null());
        }
        json_object_set_new(o, "cut", json_true());
        s = json_dumps(o, JSON_COMPACT);
    }
    return s;
}

/* The apply_pack action's work on machine sid (see hub->apply_pack). */
static int
apply_run(struct hlc_hub *hub, const char *sid, const char *name, int timeout_ms,
          struct hlc_exec_result *res)
{
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    int64_t t0 = hlc_mono_ms();
    struct hlc_pack *p = NULL;
    json_t *before = NULL, *after = NULL, *outcome = NULL;
    char *user = NULL, *script = NULL;
    struct hlc_pack_results cres;
    memset(&cres, 0, sizeof(cres));
    struct hlc_pack_plan plan;
    memset(&plan, 0, sizeof(plan));
    struct hlc_pack_apply_results ar;
    memset(&ar, 0, sizeof(ar));
    struct hlc_exec_result ex;
    memset(&ex, 0, sizeof(ex));
    int rc = hlc_packs_resolve(hub, name, &p, NULL);
    if (rc != 0) {
        fake_exec(res, NULL, hlc_xasprintf("pack %s: %s", name, hlc_strerror(rc)), 1, 0);
        return 0;
    }
    if ((rc = hlc_credentials_ssh_user_for(hub, sid, &user)) != 0)
        goto out;
    if ((rc = hlc_packs_check_keep(hub, sid, p, &before, &cres)) != 0)
        goto out;
    if ((rc = hlc_pack_plan_build(p, &cres, sysctl_dir(), &plan)) != 0)
        goto out;
    if (plan.n == 0) {
        outcome = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:[], s:O, s:O}", "pack", p->name,
                            "changes", 0, "applied", 0, "unchanged", 0, "failed", 0, "skipped", 0,
                            "items", "compliant", json_object_get(before, "compliant"), "counts",
                            json_object_get(before, "counts"));
        fake_exec(res, dump_bounded(outcome), NULL, 0, hlc_mono_ms() - t0);
        goto out;
    }
    bool sudo = !user || strcmp(user, "root") != 0;
    if ((rc = hlc_pack_apply_script(p, &plan, sudo, &script)) != 0)
        goto out;
    hlc_log(HLC_LOG_INFO, "packs: applying %s on %s: %zu item(s)", p->name, sid, plan.n);
    rc = hlc_remote_exec(hub, sid, HLC_PACK_CHECK_COMMAND, script, strlen(script), timeout_ms,
                         APPLY_OUT_CAP, &ex);
    if (rc != 0) {
        /* The session broke or timed out mid-apply: every file is old or new
         * (renames), and a fresh check tells which; the action fails. */
        goto out;
    }
    hlc_pack_apply_parse(&plan, ex.out ? ex.out : "", ex.out_len, &ar);
    /* The check again, stored, so the answer says where the machine stands. */
    int crc = hlc_packs_check(hub, sid, p, &after);
    json_t *items = json_array();
    struct hlc_buf eb;
    hlc_buf_init(&eb, ERR_CAP);
    for (size_t k = 0; k < plan.n; k++) {
        const struct hlc_pack_plan_step *s = &plan.s[k];
        const struct hlc_pack_result *cr = &cres.r[s->item];
        const struct hlc_pack_apply_item *a = &ar.r[k];
        json_t *o = step_json(p, &cres, s);
        json_object_set_new(o, "outcome", json_string(hlc_pack_outcome_name(a->outcome)));
        json_object_set_new(o, "exit_code",
                            a->exit_code >= 0 ? json_integer(a->exit_code) : json_null());
        json_object_set_new(o, "stderr", json_string(a->stderr_text ? a->stderr_text : ""));
        bool replaced = (s->kind == HLC_STEP_WRITE_FILE || s->kind == HLC_STEP_EDIT_LINE) &&
                        a->outcome == HLC_APPLY_APPLIED;
        bool keep = replaced && cr->actual_content && !cr->binary;
        json_object_set_new(o, "previous",
                            keep ? cut_text(cr->actual_content, cr->actual_len, PREV_CAP)
                                 : json_null());
        /* Kept by the hub too (bounded), for GET .../packs/{name}/previous. */
        if (keep && hlc_store_pack_previous_add(hub->store, sid, p->name, p->items[s->item].target,
                                                hlc_now(), cr->actual_content, cr->actual_len) != 0)
            hlc_log(HLC_LOG_WARN, "packs: could not keep the old %s of %s",
                    p->items[s->item].target, sid);
        json_array_append_new(items, o);
        if (a->outcome == HLC_APPLY_FAILED || a->outcome == HLC_APPLY_SKIPPED)
            hlc_buf_appendf(&eb, "%s %s: %s\n", hlc_pack_outcome_name(a->outcome),
                            p->items[s->item].target, a->stderr_text ? a->stderr_text : "");
    }
    outcome = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:b}", "pack", p->name, "changes",
                        (json_int_t)ar.applied, "applied", (json_int_t)ar.applied, "unchanged",
                        (json_int_t)ar.unchanged, "failed", (json_int_t)ar.failed, "skipped",
                        (json_int_t)ar.skipped, "items", items, "complete", ar.complete);
    json_object_set_new(outcome, "compliant",
                        crc == 0 ? json_incref(json_object_get(after, "compliant")) : json_null());
    json_object_set_new(outcome, "counts",
                        crc == 0 ? json_incref(json_object_get(after, "counts")) : json_null());
    if (crc != 0)
        json_object_set_new(outcome, "recheck_error", json_string(hlc_strerror(crc)));
    bool ok = ar.failed == 0 && ar.skipped == 0 && ar.complete;
    fake_exec(res, dump_bounded(outcome), eb.len ? hlc_buf_steal(&eb) : NULL, ok ? 0 : 1,
              hlc_mono_ms() - t0);
    hlc_buf_release(&eb);
out:
    hlc_exec_result_release(&ex);
    hlc_pack_apply_results_release(&ar);
    hlc_pack_plan_release(&plan);
    hlc_pack_results_release(&cres);
    json_decref(before);
    json_decref(after);
    json_decref(outcome);
    free(script);
    free(user);
    hlc_pack_free(p);
    if (rc != 0)
        res->duration_ms = hlc_mono_ms() - t0;
    return rc;
}

void
hlc_packs_apply_init(struct hlc_hub *hub)
{
    hub->apply_pack = apply_run;
}
