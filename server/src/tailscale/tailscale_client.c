/* tailscale_client.c - the Tailscale API and LocalAPI over libcurl: bearer
 * API keys, OAuth client credentials with an in-memory token cache, bounded
 * answers, and errors that say what to do. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "tailscale_internal.h"

/* The one cached OAuth access token: for which client (a hash of base URL,
 * id and secret, so a changed credential is never served an old token) and
 * until when (monotonic ms). */
static struct {
    pthread_mutex_t mu;
    unsigned char who[32];
    char *token;
    int64_t until_ms;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

void
ts_token_forget(void)
{
    pthread_mutex_lock(&cache.mu);
    wipe_free(cache.token);
    cache.token = NULL;
    cache.until_ms = 0;
    pthread_mutex_unlock(&cache.mu);
}

static void
client_hash(const struct ts_api *a, unsigned char out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)a->base, strlen(a->base) + 1);
    crypto_generichash_update(&st, (const unsigned char *)a->client_id, strlen(a->client_id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)a->client_secret,
                              strlen(a->client_secret) + 1);
    crypto_generichash_final(&st, out, 32);
}

static size_t
collect(char *data, size_t size, size_t nmemb, void *ud)
{
    struct hlc_buf *b = ud;
    size_t n = size * nmemb;
    return hlc_buf_append(b, data, n) == 0 ? n : 0; /* past the cap: the transfer stops */
}

static void
set_err(struct hlc_ts_error *err, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_err(struct hlc_ts_error *err, long status, const char *code, const char *fmt, ...)
{
    err->http_status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* One request: GET (form NULL) or a form POST; unix_sock for the LocalAPI.
 * 0 with *status set (any status), or a transport error with *err set. */
static int
call(const char *url, const char *unix_sock, const char *bearer, const char *form,
     long timeout_ms, struct hlc_buf *body, long *status, const char *what,
     struct hlc_ts_error *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    int rc = 0;
    if (!h)
        abort();
    hlc_buf_reset(body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "HomelabCmd/1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HLC_TS_MAX_BODY);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip: a large tailnet is mostly text */
    if (unix_sock)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, unix_sock);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (bearer) {
        auth = hlc_xasprintf("Authorization: Bearer %s", bearer);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (form) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = HLC_ETIMEOUT;
        set_err(err, 0, "TAILSCALE_UNAVAILABLE",
                "%s did not answer within %ld s; try again, or check the hub's network", what,
                (timeout_ms + 999) / 1000);
    } else if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED) {
        rc = HLC_ETOOBIG;
        set_err(err, *status, "TAILSCALE_BAD_ANSWER",
                "%s answered with more than %u MiB; refused", what, HLC_TS_MAX_BODY >> 20);
    } else if (cc != CURLE_OK) {
        rc = HLC_EIO;
        set_err(err, 0, "TAILSCALE_UNAVAILABLE", "%s could not be reached: %s", what,
                curl_easy_strerror(cc));
    }
    curl_slist_free_all(hdrs);
    wipe_free(auth);
    curl_easy_cleanup(h);
    return rc;
}

/* A non-2xx status as an error. */
static int
status_error(long status, const char *what, struct hlc_ts_error *err)
{
    if ((status == 401 || status == 403) && strstr(what, "tailscaled")) {
        set_err(err, status, "TAILSCALE_REFUSED",
                "%s refused the hub (HTTP %ld): run the hub as root or as the operator "
                "tailscaled allows (tailscale set --operator=USER)",
                what, status);
        return HLC_EDENIED;
    }
    if (status == 401 || status == 403) {
        set_err(err, status, "TAILSCALE_REFUSED",
                "the Tailscale token was refused (HTTP %ld: expired or missing scope "
                "devices:core:read); store a new API key or OAuth client in Settings",
                status);
        return HLC_EDENIED;
    }
    set_err(err, status, "TAILSCALE_UNAVAILABLE", "%s answered HTTP %ld; try again later", what,
            status);
    return HLC_EIO;
}

static char *
form_escape(CURL *h, const char *s)
{
    char *e = curl_easy_escape(h, s, 0);
    if (!e)
        abort();
    char *copy = hlc_xstrdup(e);
    sodium_memzero(e, strlen(e));
    curl_free(e);
    return copy;
}

/* A fresh access token for the OAuth client (heap, wiped by the caller). */
static int
oauth_token(const struct ts_api *a, char **token, int64_t *ttl_s, struct hlc_ts_error *err)
{
    *token = NULL;
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    char *id = form_escape(h, a->client_id), *secret = form_escape(h, a->client_secret);
    curl_easy_cleanup(h);
    char *form = hlc_xasprintf("client_id=%s&client_secret=%s&grant_type=client_credentials"
                               "&scope=devices%%3Acore%%3Aread",
                               id, secret);
    char *url = hlc_xasprintf("%s/api/v2/oauth/token", a->base);
    struct hlc_buf body;
    hlc_buf_init(&body, 64 * 1024);
    long status = 0;
    json_t *doc = NULL;
    int rc = call(url, NULL, NULL, form, a->timeout_ms, &body, &status,
                  "the Tailscale OAuth token endpoint", err);
    if (rc == 0 && (status < 200 || status > 299)) {
        if (status == 400 || status == 401 || status == 403) {
            set_err(err, status, "TAILSCALE_REFUSED",
                    "the Tailscale OAuth client was refused (HTTP %ld: wrong client id or "
                    "secret, or it lacks scope devices:core:read)",
                    status);
            rc = HLC_EDENIED;
        } else {
            rc = status_error(status, "the Tailscale OAuth token endpoint", err);
        }
    }
    if (rc == 0) {
        doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
        json_t *t = json_object_get(doc, "access_token");
        json_t *ex = json_object_get(doc, "expires_in");
        if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 4096) {
            set_err(err, status, "TAILSCALE_BAD_ANSWER",
                    "the Tailscale OAuth token endpoint gave no access_token");
            rc = HLC_EPARSE;
        } else {
            *token = hlc_xstrdup(json_string_value(t));
            *ttl_s = json_is_integer(ex) ? json_integer_value(ex) : 3600;
            sodium_memzero((char *)json_string_value(t), json_string_length(t));
        }
    }
    json_decref(doc);
    if (body.data)
        sodium_memzero(body.data, body.len);
    hlc_buf_release(&body);
    wipe_free(form);
    wipe_free(id);
    wipe_free(secret);
    free(url);
    return rc;
}

/* The bearer token to send: the API key, or a cached / new OAuth token. */
static int
bearer_for(const struct ts_api *a, bool fresh, char **out, struct hlc_ts_error *err)
{
    if (a->api_key) {
        *out = hlc_xstrdup(a->api_key);
        return 0;
    }
    unsigned char who[32];
    client_hash(a, who);
    pthread_mutex_lock(&cache.mu);
    if (!fresh && cache.token && cache.until_ms > hlc_mono_ms() &&
        sodium_memcmp(cache.who, who, 32) == 0) {
        *out = hlc_xstrdup(cache.token);
        pthread_mutex_unlock(&cache.mu);
        return 0;
    }
    pthread_mutex_unlock(&cache.mu);
    char *tok = NULL;
    int64_t ttl = 0;
    int rc = oauth_token(a, &tok, &ttl, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&cache.mu);
    wipe_free(cache.token);
    cache.token = hlc_xstrdup(tok);
    memcpy(cache.who, who, 32);
    /* Kept until a minute before it expires (an hour for Tailscale). */
    cache.until_ms = hlc_mono_ms() + (ttl > 120 ? ttl - 60 : ttl / 2) * 1000;
    pthread_mutex_unlock(&cache.mu);
    *out = tok;
    return 0;
}

int
ts_fetch_api(const struct ts_api *a, struct hlc_buf *body, struct hlc_ts_error *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    char *tn = form_escape(h, a->tailnet);
    curl_easy_cleanup(h);
    char *url = hlc_xasprintf("%s/api/v2/tailnet/%s/devices?fields=all", a->base, tn);
    free(tn);
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *bearer = NULL;
        long status = 0;
        if ((rc = bearer_for(a, attempt > 0, &bearer, err)) != 0)
            break;
        rc = call(url, NULL, bearer, NULL, a->timeout_ms, body, &status, "the Tailscale API",
                  err);
        wipe_free(bearer);
        if (rc != 0)
            break;
        if (status >= 200 && status <= 299)
            break;
        rc = status_error(status, "the Tailscale API", err);
        /* A cached OAuth token may have been revoked: one more try with a new one. */
        if (!(status == 401 && !a->api_key && attempt == 0))
            break;
    }
    free(url);
    return rc;
}

int
ts_fetch_local(const char *sock, long timeout_ms, struct hlc_buf *body, struct hlc_ts_error *err)
{
    long status = 0;
    /* The host part is ignored over a unix socket; tailscaled checks it is "local-tailscaled.sock". */
    int rc = call("http://local-tailscaled.sock/localapi/v0/status", sock, NULL, NULL, timeout_ms,
                  body, &status, "the local tailscaled", err);
    if (rc == 0 && (status < 200 || status > 299))
        rc = status_error(status, "the local tailscaled", err);
    return rc;
}
