/* config.c - configuration sections, their defaults and their checks. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "hlc/base.h"
#include "store.h"
#include "validate.h"

enum spec_kind { K_INT, K_NUM, K_BOOL, K_STR, K_ACTIONS };

struct spec {
    const char *key;     /* field name */
    enum spec_kind kind; /* its type */
    double min, max;     /* range for numbers, max length for strings */
    const char *def;     /* default, as JSON text */
};

struct section {
    const char *name;         /* config key */
    const struct spec *specs; /* its fields, NULL-key terminated */
};

static const struct spec thresholds[] = {
    {"disk_warning_percent", K_NUM, 1, 100, "80"},
    {"disk_critical_percent", K_NUM, 1, 100, "90"},
    {"memory_warning_percent", K_NUM, 1, 100, "85"},
    {"memory_critical_percent", K_NUM, 1, 100, "95"},
    {"cpu_warning_percent", K_NUM, 1, 100, "90"},
    {"cpu_critical_percent", K_NUM, 1, 100, "98"},
    {"cpu_sustained_samples", K_INT, 1, 60, "3"},
    {"server_offline_seconds", K_INT, 30, 86400, "180"},
    {"gpu_temperature_warning_c", K_NUM, 20, 150, "80"},
    {"gpu_temperature_critical_c", K_NUM, 20, 150, "90"},
    {NULL, 0, 0, 0, NULL},
};
static const struct spec costs[] = {
    {"electricity_rate_kwh", K_NUM, 0, 100, "0.24"},
    {"currency", K_STR, 1, 8, "\"GBP\""},
    {NULL, 0, 0, 0, NULL},
};
static const struct spec notifications[] = {
    {"notify_on_critical", K_BOOL, 0, 0, "true"},
    {"notify_on_high", K_BOOL, 0, 0, "true"},
    {"notify_on_medium", K_BOOL, 0, 0, "false"},
    {"notify_on_low", K_BOOL, 0, 0, "false"},
    {"notify_on_remediation", K_BOOL, 0, 0, "true"},
    {NULL, 0, 0, 0, NULL},
};
static const struct spec remediation[] = {
    {"auto_approve_enabled", K_BOOL, 0, 0, "false"},
    {"auto_approve_actions", K_ACTIONS, 0, 0, "[\"restart_service\",\"clear_logs\"]"},
    {"require_approval_actions", K_ACTIONS, 0, 0, "[\"apply_updates\",\"custom\"]"},
    /* executor: run-time limits of a remediation command (apply_updates: long) */
    {"command_timeout_seconds", K_INT, 1, 3600, "60"},
    {"updates_timeout_seconds", K_INT, 60, 86400, "3600"},
    {NULL, 0, 0, 0, NULL},
};
static const struct spec agent[] = {
    {"heartbeat_interval_seconds", K_INT, 5, 3600, "60"},
    {"command_timeout_seconds", K_INT, 1, 3600, "300"},
    /* enroll: heartbeats signed with the admin key (v1 agents) still taken */
    {"allow_admin_key_heartbeats", K_BOOL, 0, 0, "true"},
    {NULL, 0, 0, 0, NULL},
};
static const struct spec polling[] = {
    {"poll_interval_seconds", K_INT, 10, 86400, "60"},
    {"ssh_timeout_seconds", K_INT, 1, 120, "10"},
    {"updates_check_hours", K_INT, 1, 168, "6"},
    {NULL, 0, 0, 0, NULL},
};

/* tailscale: "" for api_url / socket = HOMELABCMD_TAILSCALE_API_URL /
 * HOMELABCMD_TAILSCALE_SOCKET, else the documented defaults. */
static const struct spec tailscale[] = {
    {"api_url", K_STR, 0, 2048, "\"\""},
    {"socket", K_STR, 0, 107, "\"\""},
    {"tailnet", K_STR, 0, 128, "\"-\""},
    {"sync_interval_seconds", K_INT, 10, 86400, "900"},
    {"request_timeout_seconds", K_INT, 1, 120, "30"},
    {"default_connectivity", K_STR, 0, 16, "\"direct\""},
    {NULL, 0, 0, 0, NULL},
};

/* packs: the drift schedule (a machine may override the interval) and the
 * severity of config_drift / config_noncompliant alerts. */
static const struct spec packs[] = {
    {"drift_interval_hours", K_INT, 1, 8760, "24"},
    {"drift_severity", K_STR, 1, 16, "\"medium\""},
    {NULL, 0, 0, 0, NULL},
};

static const struct section sections[] = {
    {"thresholds", thresholds},       {"costs", costs},   {"notifications", notifications},
    {"remediation", remediation},     {"agent", agent},   {"polling", polling},
    {"tailscale", tailscale},         {"packs", packs},
    {NULL, NULL},
};

static const char *const action_types[] = {
    "restart_service", "start_service",   "stop_service",      "clear_logs", "apply_updates",
    "container_start", "container_stop",  "container_restart", "custom",     "apply_pack", NULL};

static atomic_uint version;

unsigned
hlc_config_version(void)
{
    return atomic_load(&version);
}

static const struct section *
find_section(const char *name)
{
    for (const struct section *s = sections; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* The setting key of sec, or NULL when it has none. */
static const struct spec *
find_spec(const struct section *sec, const char *key)
{
    for (const struct spec *sp = sec->specs; sp->key; sp++)
        if (strcmp(sp->key, key) == 0)
            return sp;
    return NULL;
}

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]) - 1)

/* Each section's defaults, parsed once and never changed after. */
static json_t *section_defaults[NSECTIONS];
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void
parse_defaults(void)
{
    for (size_t i = 0; i < NSECTIONS; i++) {
        json_t *o = json_object();
        for (const struct spec *sp = sections[i].specs; sp->key; sp++)
            json_object_set_new(o, sp->key, json_loads(sp->def, JSON_DECODE_ANY, NULL));
        section_defaults[i] = o;
    }
}

/* The section's defaults, shared: read only. */
static const json_t *
shared_defaults(const struct section *sec)
{
    pthread_once(&defaults_once, parse_defaults);
    return section_defaults[sec - sections];
}

/* A fresh copy of the section's defaults, the caller's to change. */
static json_t *
defaults(const struct section *sec)
{
    return json_deep_copy(shared_defaults(sec));
}

static json_t *
merged(struct hlc_store *s, const struct section *sec)
{
    json_t *o = defaults(sec), *stored = NULL;
    if (hlc_store_config_get(s, sec->name, &stored) == 0) {
        /* Only known keys are taken, so an old database's leftovers never leak out. */
        for (const struct spec *sp = sec->specs; sp->key; sp++) {
            json_t *v = json_object_get(stored, sp->key);
            if (v)
                json_object_set(o, sp->key, v);
        }
        json_decref(stored);
    }
    return o;
}

int
hlc_config_section(struct hlc_store *s, const char *section, json_t **out)
{
    const struct section *sec = find_section(section);
    if (!sec)
        return HLC_ENOTFOUND;
    *out = merged(s, sec);
    return 0;
}

int
hlc_config_all(struct hlc_store *s, json_t **out)
{
    json_t *o = json_object();
    for (const struct section *sec = sections; sec->name; sec++)
        json_object_set_new(o, sec->name, merged(s, sec));
    *out = o;
    return 0;
}

double
hlc_config_number(struct hlc_store *s, const char *section, const char *key, double fallback)
{
    /* One value: the stored one if the key is known, else its default,
     * without building the whole merged section. */
    const struct section *sec = find_section(section);
    if (!sec || !find_spec(sec, key))
        return fallback;
    double d;
    if (hlc_store_config_number(s, section, key, &d) == 0)
        return d;
    const json_t *v = json_object_get(shared_defaults(sec), key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

static bool
check_field(const struct spec *sp, json_t *obj, const char *section, struct hlc_verr *e)
{
    char field[64];
    snprintf(field, sizeof(field), "%s.%s", section, sp->key);
    json_t *v = json_object_get(obj, sp->key);
    bool ok = true;
    switch (sp->kind) {
    case K_INT:
        ok = hlc_v_int(obj, sp->key, false, false, (long long)sp->min, (long long)sp->max, e);
        break;
    case K_NUM:
        ok = hlc_v_number(obj, sp->key, false, sp->min, sp->max, e);
        break;
    case K_BOOL:
        ok = hlc_v_bool(obj, sp->key, false, e);
        break;
    case K_STR: /* min 0: "" is allowed (the setting falls back to its source) */
        ok = (sp->min == 0 && json_is_string(v) && json_string_length(v) == 0) ||
             hlc_v_string(obj, sp->key, false, false, (size_t)sp->max, NULL, NULL, e);
        break;
    case K_ACTIONS: {
        if (!json_is_array(v) || json_array_size(v) > 16) {
            ok = hlc_v_fail(e, sp->key, "%s must be an array of action types", sp->key);
            break;
        }
        size_t i;
        json_t *a;
        json_array_foreach(v, i, a)
        {
            bool known = false;
            for (const char *const *t = action_types; *t && json_is_string(a) && !known; t++)
                known = strcmp(*t, json_string_value(a)) == 0;
            if (!known) {
                ok = hlc_v_fail(e, sp->key, "%s[%zu] is not an action type", sp->key, i);
                break;
            }
        }
        break;
    }
    }
    if (!ok)
        hlc_v_set_field(e, field);
    return ok;
}

/* drift_severity is one of the alert severities. */
static bool
check_packs(json_t *m, struct hlc_verr *e)
{
    static const char *const sev[] = {"low", "medium", "high", "critical", NULL};
    const char *v = json_string_value(json_object_get(m, "drift_severity")) ?: "";
    for (int i = 0; sev[i]; i++)
        if (strcmp(v, sev[i]) == 0)
            return true;
    return hlc_v_fail(e, "packs.drift_severity",
                      "drift_severity must be 'low', 'medium', 'high' or 'critical'");
}

/* What a tailscale setting's text must look like (the client puts api_url
 * and tailnet in URLs and socket in a connect call). */
static bool
check_tailscale(json_t *m, struct hlc_verr *e)
{
    const char *url = json_string_value(json_object_get(m, "api_url")) ?: "";
    const char *sock = json_string_value(json_object_get(m, "socket")) ?: "";
    const char *tn = json_string_value(json_object_get(m, "tailnet")) ?: "";
    const char *conn = json_string_value(json_object_get(m, "default_connectivity")) ?: "";
    bool url_ok = !*url || strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    for (const char *p = url; url_ok && *p; p++)
        url_ok = (unsigned char)*p > 0x20 && *p != 0x7f;
    if (!url_ok)
        return hlc_v_fail(e, "tailscale.api_url", "api_url must be an http:// or https:// URL");
    bool sock_ok = !*sock || sock[0] == '/';
    for (const char *p = sock; sock_ok && *p; p++)
        sock_ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!sock_ok)
        return hlc_v_fail(e, "tailscale.socket", "socket must be an absolute path");
    bool tn_ok = *tn != '\0';
    for (const char *p = tn; tn_ok && *p; p++)
        tn_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("._@-", *p);
    if (!tn_ok)
        return hlc_v_fail(e, "tailscale.tailnet",
                          "tailnet must be '-' (the credential's own) or a tailnet name "
                          "(letters, digits, . _ @ -)");
    if (strcmp(conn, "direct") != 0 && strcmp(conn, "tailscale") != 0)
        return hlc_v_fail(e, "tailscale.default_connectivity",
                          "default_connectivity must be 'direct' or 'tailscale'");
    return true;
}

static bool
check_order(json_t *sec, const char *section, const char *lo, const char *hi,
            struct hlc_verr *e)
{
    double a = json_number_value(json_object_get(sec, lo));
    double b = json_number_value(json_object_get(sec, hi));
    if (a < b)
        return true;
    char field[64];
    snprintf(field, sizeof(field), "%s.%s", section, lo);
    return hlc_v_fail(e, field, "%s (%g) must be lower than %s (%g)", lo, a, hi, b);
}

/* ---- per-machine threshold overrides --------------------------------- */

/* The thresholds a machine may override, each warning before its critical
 * (server_offline_seconds is not one: the offline sweep is fleet-wide). */
static const char *const override_keys[] = {
    "disk_warning_percent", "disk_critical_percent",   "memory_warning_percent",
    "memory_critical_percent", "cpu_warning_percent",  "cpu_critical_percent",
    "cpu_sustained_samples", NULL,
};
static const char *const override_names[] = {"disk", "memory", "CPU"};

/* Each pair of `eff` (effective values) has warning < critical; on failure
 * the message says where each value came from (overrides `ov`). `who`
 * names the machine when a global change is what breaks its overrides. */
static bool
check_effective(json_t *eff, json_t *ov, const char *field_prefix, const char *who,
                struct hlc_verr *e)
{
    for (size_t i = 0; i < 3; i++) {
        const char *lo = override_keys[2 * i], *hi = override_keys[2 * i + 1];
        double a = json_number_value(json_object_get(eff, lo));
        double b = json_number_value(json_object_get(eff, hi));
        if (a < b)
            continue;
        bool own_lo = json_object_get(ov, lo) != NULL, own_hi = json_object_get(ov, hi) != NULL;
        char field[64];
        /* Name the field the caller can change: the override when the
         * machine's are being saved, the global value when those are. */
        bool name_lo = who ? !own_lo : own_lo || !own_hi;
        snprintf(field, sizeof(field), "%s%s", field_prefix, name_lo ? lo : hi);
        return hlc_v_fail(e, field, "%s%s warning (%g%%, %s) must be lower than %s critical "
                          "(%g%%, %s)", who ? who : "", override_names[i], a,
                          own_lo ? "this machine" : "global", override_names[i], b,
                          own_hi ? "this machine" : "global");
    }
    return true;
}

/* The effective values and their sources from the global thresholds and a
 * machine's overrides (both read only; new object). */
static json_t *
effective_of(json_t *global, json_t *overrides)
{
    json_t *eff = json_object(), *src = json_object();
    for (const char *const *k = override_keys; *k; k++) {
        json_t *o = json_object_get(overrides, *k);
        json_object_set(eff, *k, o ? o : json_object_get(global, *k));
        json_object_set_new(src, *k, json_string(o ? "server" : "global"));
    }
    return json_pack("{s:o, s:o}", "thresholds", eff, "source", src);
}

json_t *
hlc_config_thresholds_effective(struct hlc_store *s, json_t *overrides)
{
    json_t *global = merged(s, find_section("thresholds"));
    json_t *o = effective_of(global, overrides);
    json_decref(global);
    return o;
}

bool
hlc_config_thresholds_merge(json_t *global, json_t *current, json_t *patch, json_t **next,
                            struct hlc_verr *e)
{
    *next = NULL;
    const struct section *sec = find_section("thresholds");
    if (!json_is_object(patch))
        return hlc_v_fail(e, "body", "the body must be a JSON object");
    /* Only known keys with valid values are carried over: a row written by
     * another version (or by hand) never leaks into what is saved next. */
    json_t *ov = json_object();
    for (const char *const *k = override_keys; *k; k++) {
        json_t *c = json_object_get(current, *k);
        struct hlc_verr ignored;
        if (c && !json_is_null(c) && check_field(find_spec(sec, *k), current, "", &ignored))
            json_object_set(ov, *k, c);
    }
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach(patch, key, v)
    {
        bool allowed = false;
        for (const char *const *k = override_keys; *k && !allowed; k++)
            allowed = strcmp(*k, key) == 0;
        if (!allowed) {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", key);
            ok = hlc_v_fail(e, field, "'%.40s' is not a threshold a machine can override", key);
            break;
        }
        if (json_is_null(v)) {
            json_object_del(ov, key);
            continue;
        }
        if (!(ok = check_field(find_spec(sec, key), patch, "", e))) {
            hlc_v_set_field(e, key); /* the body is flat: no "thresholds." */
            break;
        }
        json_object_set(ov, key, v);
    }
    if (ok) {
        json_t *eff = effective_of(global, ov);
        ok = check_effective(json_object_get(eff, "thresholds"), ov, "", NULL, e);
        json_decref(eff);
    }
    if (ok)
        *next = ov;
    else
        json_decref(ov);
    return ok;
}

bool
hlc_config_thresholds_override(struct hlc_store *s, const char *server_id, json_t *patch,
                               struct hlc_verr *e, int *rc)
{
    json_t *cur = NULL, *next = NULL;
    if ((*rc = hlc_store_thresholds_override_get(s, server_id, &cur)) != 0)
        return true;
    json_t *global = merged(s, find_section("thresholds"));
    bool ok = hlc_config_thresholds_merge(global, cur, patch, &next, e);
    if (ok) {
        *rc = hlc_store_thresholds_override_set(s, server_id, next, hlc_now());
        atomic_fetch_add(&version, 1);
    }
    json_decref(next);
    json_decref(global);
    json_decref(cur);
    return ok;
}

/* A change of the global thresholds keeps every machine's overrides valid. */
static bool
check_overrides_against(struct hlc_store *s, json_t *global, struct hlc_verr *e)
{
    json_t *all = NULL;
    if (hlc_store_thresholds_overrides_all(s, &all) != 0)
        return true; /* the store logged it; the overrides stay as they were */
    const char *sid;
    json_t *ov;
    bool ok = true;
    json_object_foreach(all, sid, ov)
    {
        json_t *eff = json_deep_copy(global);
        json_object_update(eff, ov);
        char who[128];
        snprintf(who, sizeof(who), "on %.63s (it overrides some thresholds): ", sid);
        ok = check_effective(eff, ov, "thresholds.", who, e);
        json_decref(eff);
        if (!ok)
            break;
    }
    json_decref(all);
    return ok;
}

bool
hlc_config_update(struct hlc_store *s, json_t *patch, struct hlc_verr *e, int *rc)
{
    *rc = 0;
    json_t *writes = json_object();
    const char *name;
    json_t *part;
    bool ok = true;
    json_object_foreach(patch, name, part)
    {
        const struct section *sec = find_section(name);
        if (!sec) {
            ok = hlc_v_fail(e, name, "unknown configuration section '%.40s'", name);
            break;
        }
        if (!json_is_object(part)) {
            ok = hlc_v_fail(e, name, "%s must be an object", name);
            break;
        }
        const char *key;
        json_t *v;
        json_object_foreach(part, key, v)
        {
            const struct spec *sp = find_spec(sec, key);
            if (!sp) {
                char field[64];
                snprintf(field, sizeof(field), "%s.%.40s", name, key);
                ok = hlc_v_fail(e, field, "unknown setting '%s'", field);
                break;
            }
            if (!(ok = check_field(sp, part, name, e)))
                break;
        }
        if (!ok)
            break;
        json_t *m = merged(s, sec);
        json_object_update(m, part);
        if (strcmp(name, "thresholds") == 0)
            ok = check_order(m, name, "disk_warning_percent", "disk_critical_percent", e) &&
                 check_order(m, name, "memory_warning_percent", "memory_critical_percent", e) &&
                 check_order(m, name, "cpu_warning_percent", "cpu_critical_percent", e) &&
                 check_overrides_against(s, m, e);
        if (strcmp(name, "tailscale") == 0)
            ok = check_tailscale(m, e);
        if (strcmp(name, "packs") == 0)
            ok = check_packs(m, e);
        json_object_set_new(writes, name, m);
        if (!ok)
            break;
    }
    if (ok) {
        *rc = hlc_store_config_set_many(s, writes);
        atomic_fetch_add(&version, 1);
    }
    json_decref(writes);
    return ok;
}
