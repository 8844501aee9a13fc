/* alert_rules.c - what a mute rule from outside may say: the one reader of
 * POST /api/v1/alert-mutes bodies (the fuzzer reaches it alone). */
#include <string.h>

#include "alerts.h"
#include "hlc/base.h"
#include "store.h"
#include "validate.h"

#define MUTE_MAX_MINUTES (366 * 24 * 60) /* a snooze longer than a year is a mute */
#define MUTE_REASON_MAX 200
#define ALERT_TYPE_MAX 32

static bool
valid_alert_type(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= ALERT_TYPE_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

bool
hlc_alerts_mute_parse(json_t *b, int64_t now, struct hlc_alert_mute *m, struct hlc_verr *e)
{
    static const char *const keys[] = {"server_id", "alert_type", "until", "duration_minutes",
                                       "reason", NULL};
    memset(m, 0, sizeof(*m));
    if (!json_is_object(b))
        return hlc_v_fail(e, "body", "the body must be a JSON object");
    if (!hlc_v_known_keys(b, keys, e) ||
        !hlc_v_string(b, "server_id", false, true, 63, hlc_valid_slug, "a machine id", e) ||
        !hlc_v_string(b, "alert_type", false, true, ALERT_TYPE_MAX, valid_alert_type,
                      "an alert type (a-z and _)", e) ||
        !hlc_v_string(b, "until", false, true, 40, NULL, NULL, e) ||
        !hlc_v_int(b, "duration_minutes", false, true, 1, MUTE_MAX_MINUTES, e) ||
        !hlc_v_string(b, "reason", false, true, MUTE_REASON_MAX, hlc_valid_printable,
                      "printable text", e))
        return false;
    m->server_id = json_string_value(json_object_get(b, "server_id"));
    m->alert_type = json_string_value(json_object_get(b, "alert_type"));
    m->reason = json_string_value(json_object_get(b, "reason"));
    const char *until = json_string_value(json_object_get(b, "until"));
    json_t *dur = json_object_get(b, "duration_minutes");
    if (until && json_is_integer(dur))
        return hlc_v_fail(e, "until", "give either until or duration_minutes, not both");
    if (json_is_integer(dur))
        m->until = now + json_integer_value(dur) * 60;
    if (until) {
        if (hlc_time_parse(until, &m->until) != 0)
            return hlc_v_fail(e, "until", "until must be a time like 2026-01-31T18:00:00Z");
        if (m->until <= now)
            return hlc_v_fail(e, "until", "until must be in the future");
        if (m->until > now + MUTE_MAX_MINUTES * 60LL)
            return hlc_v_fail(e, "until", "until must be within a year (leave it out to mute "
                                          "until the rule is removed)");
    }
    return true;
}
