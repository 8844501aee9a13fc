/* ollama.c - probes each machine's Ollama endpoint from the hub (after a
 * poll, or when asked), records what it answered and is the one place the
 * ollama_down alert is raised and resolved. */
#include "ollama.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "alerts.h"
#include "bus.h"
#include "hlc/base.h"
#include "hub.h"
#include "remote.h"
#include "store.h"

#define CALL_TIMEOUT_MS 3000
#define CONNECT_TIMEOUT_MS 1500
#define FAILS_BEFORE_ALERT 2 /* one lost answer is a blip, two in a row an outage */
#define SPACING_SLOTS 512    /* machines whose last probe time is remembered */

/* When each machine was last probed after a poll: polls come as often as
 * every few seconds, Ollama's state changes slowly. */
struct slot {
    char server_id[64];
    int64_t at_ms; /* monotonic */
};
struct hlc_ollama {
    pthread_mutex_t mu;
    struct slot slots[SPACING_SLOTS];
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *ud)
{
    struct hlc_buf *b = ud;
    size_t n = size * nmemb;
    return hlc_buf_append(b, data, n) == 0 ? n : 0; /* past the cap: the transfer stops */
}

/* GET base+path into body (capped). 0, or an error with `err` said. */
static int
fetch(const char *base, const char *path, struct hlc_buf *body, char *err, size_t errlen)
{
    char url[2100];
    char ebuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    int rc = 0;
    snprintf(url, sizeof(url), "%s%s", base, path);
    hlc_buf_reset(body);
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CALL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "HomelabCmd/1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HLC_OLLAMA_MAX_BODY);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "%s answered with more than %d KiB; refused", path,
                 HLC_OLLAMA_MAX_BODY / 1024);
        rc = HLC_ETOOBIG;
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s: %.150s", path, ebuf[0] ? ebuf : curl_easy_strerror(cc));
        rc = HLC_EIO;
    } else if (status < 200 || status > 299) {
        snprintf(err, errlen, "%s answered HTTP %ld", path, status);
        rc = HLC_EIO;
    }
    return rc;
}

/* The endpoint's base URL ("http://host:port", no trailing slash) from its
 * configuration and the machine's address; false when it has none. */
static bool
base_url(json_t *ep, json_t *machine, char *out, size_t cap)
{
    const char *url = json_string_value(json_object_get(ep, "url"));
    if (url) {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            n--;
        return n > 0 && n < cap && snprintf(out, cap, "%.*s", (int)n, url) > 0;
    }
    const char *host = json_string_value(json_object_get(machine, "ip_address"));
    if (!host || !*host)
        host = json_string_value(json_object_get(machine, "hostname"));
    if (!host || !*host)
        return false;
    int port = (int)json_integer_value(json_object_get(ep, "port"));
    bool v6 = strchr(host, ':') != NULL;
    int w = snprintf(out, cap, "http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                     port > 0 ? port : HLC_OLLAMA_PORT);
    return w > 0 && (size_t)w < cap;
}

/* Where the three answers come from: fetched by the hub from `base`, or
 * printed by the machine's probe (`parts`, not NULL). */
struct source {
    const char *base;                     /* hub: the endpoint's base URL */
    const struct hlc_ollama_parts *parts; /* ssh: what the machine printed */
    const char *where;                    /* for messages: the base URL or the machine */
};

/* Answer i: 0 with its text and length (in body or in the parts), or an
 * error said. */
static int
get(const struct source *src, int i, struct hlc_buf *body, const char **text, size_t *len,
    char *err, size_t errlen)
{
    const char *path = hlc_ollama_paths[i];
    if (!src->parts) {
        int rc = fetch(src->base, path, body, err, errlen);
        *text = body->data ? body->data : "";
        *len = body->len;
        return rc;
    }
    const struct hlc_ollama_parts *p = src->parts;
    int rc = p->seen[i] ? p->rc[i] : -1;
    if (rc == 0) {
        *text = p->body[i];
        *len = p->len[i];
        return 0;
    }
    if (rc == 63)
        snprintf(err, errlen, "%s answered with more than %d KiB; refused", path,
                 HLC_OLLAMA_MAX_BODY / 1024);
    else if (rc == 127)
        snprintf(err, errlen, "%.63s has neither curl nor wget to ask Ollama", src->where);
    else if (rc < 0)
        snprintf(err, errlen, "the probe on %.63s printed nothing for %s", src->where, path);
    else
        snprintf(err, errlen, "%s on %.63s: nothing answered (curl/wget exit %d)", path, src->where,
                 rc);
    return HLC_EIO;
}

/* Asks the three questions; fills r (ok, version, models, loaded or error). */
static void
ask(const struct source *src, struct hlc_ollama_record *r, char version[static 64], char *err,
    size_t errlen)
{
    struct hlc_buf body;
    struct hlc_ollama_model *m = NULL;
    size_t n = 0, len = 0;
    const char *text = NULL;
    hlc_buf_init(&body, HLC_OLLAMA_MAX_BODY);
    int64_t t0 = hlc_mono_ns();
    int rc = get(src, HLC_OLLAMA_VERSION, &body, &text, &len, err, errlen);
    if (rc == 0) {
        r->response_ms = (double)(hlc_mono_ns() - t0) / 1e6;
        if (hlc_ollama_parse_version(text, len, version) != 0) {
            snprintf(err, errlen, "/api/version did not answer as Ollama does");
            rc = HLC_EPARSE;
        }
    }
    for (int i = HLC_OLLAMA_TAGS; i <= HLC_OLLAMA_PS && rc == 0; i++) {
        rc = get(src, i, &body, &text, &len, err, errlen);
        if (rc == 0) {
            rc = hlc_ollama_parse_models(text, len, &m, &n, NULL);
            if (rc == HLC_ETOOBIG)
                snprintf(err, errlen, "%s lists more than %d models; refused", hlc_ollama_paths[i],
                         HLC_OLLAMA_MAX_MODELS);
            else if (rc)
                snprintf(err, errlen, "%s did not answer as Ollama does", hlc_ollama_paths[i]);
        }
        if (rc == 0) {
            json_t **slot = i == HLC_OLLAMA_TAGS ? &r->models : &r->loaded;
            *slot = hlc_ollama_models_json(m, n, i == HLC_OLLAMA_PS);
        }
        free(m);
        m = NULL;
    }
    hlc_buf_release(&body);
    r->ok = rc == 0;
    r->version = version;
    r->error = err;
}

/* Runs the probe on machine server_id over its SSH session, then asks. */
static void
ask_remote(struct hlc_hub *hub, const char *server_id, int port, struct hlc_ollama_record *r,
           char version[static 64], char *err, size_t errlen)
{
    struct hlc_buf script;
    struct hlc_exec_result er;
    struct hlc_ollama_parts parts;
    memset(&er, 0, sizeof(er));
    hlc_buf_init(&script, 4096);
    int rc = hlc_ollama_remote_script(&script, port);
    if (rc == 0)
        rc = hlc_remote_exec(hub, server_id, "sh -s", script.data, script.len,
                             3 * (CALL_TIMEOUT_MS + 1000) + 5000,
                             HLC_OLLAMA_NCALLS * (HLC_OLLAMA_MAX_BODY + 64), &er);
    if (rc != 0)
        snprintf(err, errlen, "could not run the Ollama probe on %.63s: %s", server_id,
                 hlc_remote_reason(rc));
    else if (er.out_truncated)
        snprintf(err, errlen, "the Ollama probe on %.63s printed too much; refused", server_id);
    else if (hlc_ollama_split(er.out ? er.out : "", er.out_len, &parts) != 0)
        snprintf(err, errlen, "the Ollama probe on %.63s printed nothing readable", server_id);
    else {
        struct source src = {.parts = &parts, .where = server_id};
        ask(&src, r, version, err, errlen);
    }
    r->error = err;
    hlc_exec_result_release(&er);
    hlc_buf_release(&script);
}

static void
alert(struct hlc_hub *hub, const char *server_id, const char *base,
      const struct hlc_ollama_record *r)
{
    if (!r->alertable)
        return; /* a machine that never had Ollama has nothing to lose */
    char title[160], message[600];
    snprintf(title, sizeof(title), "Ollama on %.63s is not answering", server_id);
    if (r->ok)
        snprintf(message, sizeof(message), "Ollama at %.200s answers again.", base);
    else
        snprintf(message, sizeof(message),
                 "Ollama at %.200s did not answer %d probes in a row (%.250s). Is the ollama "
                 "service running?",
                 base, r->fails, r->error);
    if (r->ok || r->fails >= FAILS_BEFORE_ALERT)
        hlc_alerts_condition(hub, server_id, "ollama_down", "high", title, message, !r->ok);
}

int
hlc_ollama_probe(struct hlc_hub *hub, const char *server_id, json_t **out)
{
    json_t *ep = NULL, *machine = NULL;
    char base[2100], version[64] = "", err[256] = "";
    *out = NULL;
    int rc = hlc_store_machine_get(hub->store, server_id, &machine);
    if (rc == 0)
        rc = hlc_store_ollama_get(hub->store, server_id, &ep);
    if (rc)
        goto out;
    if (json_is_true(json_object_get(ep, "enabled"))) {
        struct hlc_ollama_record r = {.server_id = server_id, .response_ms = NAN};
        const char *via = json_string_value(json_object_get(ep, "via"));
        if (via && strcmp(via, "ssh") == 0) {
            int port = (int)json_integer_value(json_object_get(ep, "port"));
            snprintf(base, sizeof(base), "http://127.0.0.1:%d on %.63s", port, server_id);
            ask_remote(hub, server_id, port, &r, version, err, sizeof(err));
        } else if (base_url(ep, machine, base, sizeof(base))) {
            struct source src = {.base = base, .where = base};
            ask(&src, &r, version, err, sizeof(err));
        } else {
            snprintf(base, sizeof(base), "(no address)");
            snprintf(err, sizeof(err), "the machine has no address to probe");
            r.error = err;
        }
        r.now = hlc_now();
        rc = hlc_store_ollama_record(hub->store, &r);
        json_decref(r.models);
        json_decref(r.loaded);
        if (rc == 0)
            alert(hub, server_id, base, &r);
        else if (rc != HLC_EBUSY)
            goto out; /* HLC_EBUSY: disabled meanwhile, the row says so */
        json_decref(ep);
        ep = NULL;
        rc = hlc_store_ollama_get(hub->store, server_id, &ep);
    }
out:
    json_decref(machine);
    if (rc == 0)
        *out = ep;
    else
        json_decref(ep);
    return rc;
}

int
hlc_ollama_configure(struct hlc_hub *hub, const char *server_id, bool enabled, const char *url,
                     int port, const char *via, json_t **out)
{
    *out = NULL;
    int rc = hlc_store_ollama_configure(hub->store, server_id, enabled, url, port, via);
    if (rc)
        return rc;
    hlc_alerts_condition(hub, server_id, "ollama_down", "high", "",
                         enabled ? "The Ollama endpoint was reconfigured."
                                 : "Ollama monitoring was turned off for this machine.",
                         false);
    return hlc_ollama_probe(hub, server_id, out);
}

/* True when machine server_id was not probed after a poll in the last
 * HLC_OLLAMA_MIN_GAP_S seconds (and notes that it is now). */
static bool
due(struct hlc_ollama *o, const char *server_id)
{
    int64_t now = hlc_mono_ms();
    struct slot *hit = NULL, *oldest = &o->slots[0];
    bool go = true;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < SPACING_SLOTS && !hit; i++) {
        struct slot *s = &o->slots[i];
        if (strcmp(s->server_id, server_id) == 0)
            hit = s;
        else if (s->at_ms < oldest->at_ms)
            oldest = s;
    }
    if (hit && now - hit->at_ms < HLC_OLLAMA_MIN_GAP_S * 1000LL)
        go = false;
    if (!hit) {
        hit = oldest; /* forgetting the longest-ago one costs one early probe */
        snprintf(hit->server_id, sizeof(hit->server_id), "%s", server_id);
    }
    if (go)
        hit->at_ms = now;
    pthread_mutex_unlock(&o->mu);
    return go;
}

void
hlc_ollama_on_event(void *ud, const struct hlc_event *ev)
{
    struct hlc_hub *hub = ud;
    if (ev->kind != HLC_EV_SAMPLE_STORED || !ev->server_id || !hub->ollama ||
        strlen(ev->server_id) >= 64 || !due(hub->ollama, ev->server_id))
        return;
    json_t *ep = NULL;
    if (hlc_ollama_probe(hub, ev->server_id, &ep) != 0)
        hlc_log(HLC_LOG_DEBUG, "ollama: %s is gone", ev->server_id);
    json_decref(ep);
}

int
hlc_ollama_start(struct hlc_hub *hub)
{
    struct hlc_ollama *o = hlc_xcalloc(1, sizeof(*o));
    pthread_mutex_init(&o->mu, NULL);
    for (size_t i = 0; i < SPACING_SLOTS; i++)
        o->slots[i].at_ms = INT64_MIN;
    hub->ollama = o;
    return 0;
}

void
hlc_ollama_stop(struct hlc_hub *hub)
{
    struct hlc_ollama *o = hub->ollama;
    if (!o)
        return;
    hub->ollama = NULL;
    pthread_mutex_destroy(&o->mu);
    free(o);
}
