/* fuzz_alert_rules.c - libFuzzer harness for the two readers of alert-rule
 * bodies from outside: a mute rule (POST /api/v1/alert-mutes) and a
 * machine's threshold overrides (PUT /api/v1/servers/{id}/thresholds). The
 * first byte picks the reader; the rest is the JSON body. Whatever comes in,
 * an accepted mute ends in the future within a year (or never) with bounded
 * strings, and accepted overrides are known keys, in range, with every
 * effective warning below its critical. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts.h"
#include "config.h"
#include "store.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000LL

static void
check_mute(json_t *body)
{
    struct hlc_alert_mute m;
    struct hlc_verr e;
    if (!hlc_alerts_mute_parse(body, NOW, &m, &e)) {
        if (!memchr(e.field, '\0', sizeof(e.field)) || !e.message[0])
            abort();
        return;
    }
    if (m.until != 0 && (m.until <= NOW || m.until > NOW + 366LL * 86400))
        abort();
    if ((m.server_id && !hlc_valid_slug(m.server_id)) || (m.reason && strlen(m.reason) > 200) ||
        (m.alert_type && (strlen(m.alert_type) > 32 || !*m.alert_type)))
        abort();
}

static void
check_overrides(json_t *patch, json_t *current)
{
    static const char *const pairs[][2] = {{"disk_warning_percent", "disk_critical_percent"},
                                           {"memory_warning_percent", "memory_critical_percent"},
                                           {"cpu_warning_percent", "cpu_critical_percent"}};
    json_t *global = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "disk_warning_percent", 80,
                               "disk_critical_percent", 90, "memory_warning_percent", 85,
                               "memory_critical_percent", 95, "cpu_warning_percent", 90,
                               "cpu_critical_percent", 98, "cpu_sustained_samples", 3);
    json_t *next = NULL;
    struct hlc_verr e;
    if (hlc_config_thresholds_merge(global, current, patch, &next, &e)) {
        const char *k;
        json_t *v;
        json_object_foreach(next, k, v)
        {
            double d = json_number_value(v);
            bool known = json_object_get(global, k) != NULL;
            if (!known || !json_is_number(v) || !isfinite(d) || d < 1 || d > 100)
                abort();
        }
        for (size_t i = 0; i < 3; i++) {
            json_t *w = json_object_get(next, pairs[i][0]), *c = json_object_get(next, pairs[i][1]);
            double wv = json_number_value(w ? w : json_object_get(global, pairs[i][0]));
            double cv = json_number_value(c ? c : json_object_get(global, pairs[i][1]));
            if (!(wv < cv))
                abort();
        }
    } else if (next) {
        abort();
    }
    json_decref(next);
    json_decref(global);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    json_t *body = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
    if (!body)
        return 0;
    if (data[0] & 1) {
        check_mute(body);
    } else {
        /* the second half of a JSON array is the machine's current overrides */
        json_t *cur = json_is_array(body) ? json_array_get(body, 1) : NULL;
        check_overrides(json_is_array(body) ? json_array_get(body, 0) : body, cur);
    }
    json_decref(body);
    return 0;
}
