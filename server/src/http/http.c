/* http.c - libmicrohttpd front: request accumulation, routing, auth, replies, access log. */
#include "http.h"
#include "validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "guard.h"
#include "hub.h"
#include "jsonr.h"
#include "static_files.h"

/* A slow route's request waiting for, or running on, a worker. */
struct slow_job {
    struct hlc_req *r;
    hlc_handler_fn fn;
    struct slow_job *next;
};

/* A request with a wrong key, held before its answer (the key throttle). */
struct hold {
    struct hlc_req *r;
    int64_t due_ms; /* monotonic: resume then */
    struct hold *next;
};

/* Workers for HLC_ROUTE_SLOW handlers, started as needed up to SLOW_MAX. */
#define SLOW_MAX 16
/* A connection's buffer for the request line, the headers and its I/O.
 * libmicrohttpd zeroes it for every request, so its size is paid on every
 * request (64 KiB cost the health route 2-3 us of its ~29): 16 KiB takes
 * some 15 KiB of headers, past which a request gets 431. */
#define CONN_POOL_BYTES (16 * 1024)
/* The body cap of a public route: an enrollment is a few hundred bytes. */
#define PUBLIC_BODY_MAX (8 * 1024)

struct hlc_http {
    struct MHD_Daemon *daemon; /* running daemon */
    struct hlc_hub *hub;       /* passed to every request */
    struct hlc_http_cfg cfg;   /* as started */
    atomic_int inflight;       /* requests begun and not yet completed */
    pthread_mutex_t mu;        /* guards the fields below */
    pthread_cond_t cv;         /* a job queued, or stopping */
    struct slow_job *head, *tail; /* queued jobs, oldest first */
    pthread_t workers[SLOW_MAX];
    int nworkers;              /* started */
    int idle;                  /* waiting for a job */
    int queued;                /* jobs not yet taken by a worker */
    bool stopping;             /* workers finish the queue and exit */
    int lfd;                   /* listening socket */
    pthread_t acceptor;        /* accepts and hands connections over */
    atomic_bool closing;       /* the acceptor is to stop */
    struct hlc_guard *guard;   /* connection counts, deadlines, key throttle */
    pthread_t reaper;          /* enforces deadlines, releases holds */
    pthread_cond_t reaper_cv;  /* wakes the reaper to stop (under mu) */
    bool reaper_stop;          /* under mu */
    struct hold *holds;        /* under mu */
    atomic_uint_fast64_t refused; /* connections turned away at accept */
};

static int
queue(struct hlc_req *r, int status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    r->status = status;
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->slow == HLC_REQ_ON_WORKER) {
        /* libmicrohttpd takes it when the connection resumes. */
        if (r->held)
            MHD_destroy_response(r->held);
        r->held = resp;
        return MHD_YES;
    }
    int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void *
slow_main(void *arg)
{
    struct hlc_http *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->head && !h->stopping) {
            h->idle++;
            pthread_cond_wait(&h->cv, &h->mu);
            h->idle--;
        }
        struct slow_job *j = h->head;
        if (!j)
            break; /* stopping and nothing left */
        h->head = j->next;
        if (!h->head)
            h->tail = NULL;
        h->queued--;
        pthread_mutex_unlock(&h->mu);
        struct hlc_req *r = j->r;
        hlc_handler_fn fn = j->fn;
        free(j);
        fn(r);
        r->slow = HLC_REQ_WORKER_DONE;
        /* From here on the request belongs to libmicrohttpd again. */
        MHD_resume_connection(r->conn);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Hands r to a worker and suspends its connection; the reply goes out when
 * the worker is done (on_request, resumed). Runs the handler here when no
 * worker can be had. */
static int
defer(struct hlc_http *h, struct hlc_req *r, hlc_handler_fn fn)
{
    struct slow_job *j = hlc_xcalloc(1, sizeof(*j));
    j->r = r;
    j->fn = fn;
    pthread_mutex_lock(&h->mu);
    /* A new worker when the idle ones are all spoken for. */
    if (!h->stopping && h->queued >= h->idle && h->nworkers < SLOW_MAX &&
        pthread_create(&h->workers[h->nworkers], NULL, slow_main, h) == 0)
        h->nworkers++;
    if (h->stopping || h->nworkers == 0) {
        pthread_mutex_unlock(&h->mu);
        free(j);
        return fn(r);
    }
    r->slow = HLC_REQ_ON_WORKER;
    MHD_suspend_connection(r->conn);
    if (h->tail)
        h->tail->next = j;
    else
        h->head = j;
    h->tail = j;
    h->queued++;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return MHD_YES;
}

int
hlc_reply_text(struct hlc_req *r, int status, const char *content_type, const char *data,
               size_t len, bool must_free)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp && content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    return queue(r, status, resp);
}

int
hlc_reply_empty(struct hlc_req *r, int status)
{
    return hlc_reply_text(r, status, NULL, "", 0, false);
}

int
hlc_reply_json(struct hlc_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    if (!text)
        return hlc_reply_error(r, 500, "INTERNAL", "could not encode the response", NULL);
    return hlc_reply_text(r, status, "application/json", text, strlen(text), true);
}

int
hlc_reply_error(struct hlc_req *r, int status, const char *code, const char *message,
                const char *field)
{
    json_t *detail = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (field)
        json_object_set_new(detail, "field", json_string(field));
    json_t *outer = json_pack("{s:o}", "detail", detail); /* steals detail */
    char *text = json_dumps(outer, JSON_COMPACT);
    json_decref(outer);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp) {
        MHD_add_response_header(resp, "Content-Type", "application/json");
        if (status == 401)
            MHD_add_response_header(resp, "WWW-Authenticate", "X-API-Key");
    }
    return queue(r, status, resp);
}

int
hlc_reply_verr(struct hlc_req *r, const struct hlc_verr *e)
{
    return hlc_reply_error(r, 422, "VALIDATION_ERROR", e->message, e->field);
}

int
hlc_reply_err(struct hlc_req *r, int err, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", what ? what : "request", hlc_strerror(err));
    switch (err) {
    case HLC_ENOTFOUND:
        return hlc_reply_error(r, 404, "NOT_FOUND", msg, NULL);
    case HLC_EEXISTS:
        return hlc_reply_error(r, 409, "CONFLICT", msg, NULL);
    case HLC_ESTATE:
        return hlc_reply_error(r, 409, "ILLEGAL_STATE", msg, NULL);
    case HLC_ETOOBIG:
        return hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", msg, NULL);
    case HLC_EINVAL:
    case HLC_EPARSE:
    case HLC_ERANGE:
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", msg, NULL);
    case HLC_ETIMEOUT:
        return hlc_reply_error(r, 504, "TIMEOUT", msg, NULL);
    case HLC_EBUSY:
        return hlc_reply_error(r, 503, "BUSY", msg, NULL);
    default:
        return hlc_reply_error(r, 500, "INTERNAL", msg, NULL);
    }
}

json_t *
hlc_req_json(struct hlc_req *r, int *mhd_ret)
{
    if (r->body_toobig) {
        *mhd_ret = hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", "request body is too large", NULL);
        return NULL;
    }
    if (r->body.len == 0) {
        *mhd_ret = hlc_reply_error(r, 400, "BAD_REQUEST", "a JSON body is required", NULL);
        return NULL;
    }
    struct jsonr_error jerr;
    /* Depth and duplicate keys are bounded: nesting stops at 2048 and
     * duplicates are refused so a field cannot be said twice. */
    json_t *j = jsonr_parse(r->body.data, r->body.len, &jerr);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        *mhd_ret = hlc_reply_error(r, 400, "BAD_REQUEST", msg, NULL);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *mhd_ret = hlc_reply_error(r, 422, "VALIDATION_ERROR", "the body must be a JSON object",
                                   NULL);
        return NULL;
    }
    return j;
}

const char *
hlc_req_query(struct hlc_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
hlc_req_header(struct hlc_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
hlc_req_bearer(struct hlc_req *r)
{
    const char *a = hlc_req_header(r, "Authorization");
    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    a += 7;
    while (*a == ' ')
        a++;
    return *a ? a : NULL;
}

/* Matches `path` against `pattern`, filling params. Segments are compared
 * exactly; "{}" takes one non-empty segment. */
static bool
route_match(const char *pattern, const char *path, struct hlc_req *r)
{
    const char *pp = pattern;
    const char *sp = path;
    int n = 0;
    while (*pp && *sp) {
        if (pp[0] == '{' && pp[1] == '}') {
            const char *end = strchr(sp, '/');
            size_t len = end ? (size_t)(end - sp) : strlen(sp);
            if (len == 0 || n >= HLC_HTTP_MAX_PARAMS)
                return false;
            r->params[n++] = sp;
            pp += 2;
            sp += len;
            continue;
        }
        if (*pp != *sp)
            return false;
        pp++;
        sp++;
    }
    if (*pp || *sp)
        return false;
    r->nparams = n;
    return true;
}

/* Splits the matched params in place (turning the '/' after each into NUL). */
static void
route_terminate_params(struct hlc_req *r)
{
    for (int i = 0; i < r->nparams; i++) {
        char *p = (char *)r->params[i];
        char *end = strchr(p, '/');
        if (end)
            *end = '\0';
    }
}

/* The route for r's method and path (params filled), or NULL; *path_matched
 * says whether some method has that path. */
static const struct hlc_route *
route_find(struct hlc_req *r, bool *path_matched)
{
    *path_matched = false;
    for (const struct hlc_route *rt = hlc_routes; rt->method; rt++) {
        /* Matching only reads the path (params point into it), so no copy. */
        if (!route_match(rt->pattern, r->path, r))
            continue;
        *path_matched = true;
        if (strcmp(rt->method, r->method) == 0)
            return rt;
    }
    return NULL;
}

/* The answer to a request no route takes: 405, 404, or a dashboard file. */
static int
no_route(struct hlc_req *r, bool path_matched)
{
    if (path_matched)
        return hlc_reply_error(r, 405, "METHOD_NOT_ALLOWED", "method not allowed on this path",
                               NULL);
    if (strncmp(r->path, "/api/", 5) == 0)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such endpoint", NULL);
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return hlc_reply_error(r, 405, "METHOD_NOT_ALLOWED", "method not allowed", NULL);
    return hlc_static_serve(r);
}

enum auth { AUTH_OK, AUTH_MISSING, AUTH_BAD };

/* Who may call a route, decided on the headers alone and in this one place,
 * keyed on the route's flags. */
static enum auth
route_auth(struct hlc_req *r, const struct hlc_route *rt)
{
    if (rt->flags & HLC_ROUTE_PUBLIC)
        return AUTH_OK;
    const char *key = hlc_req_header(r, "X-API-Key");
    if (!key && (rt->flags & HLC_ROUTE_KEY_IN_QUERY))
        key = hlc_req_query(r, "key");
    /* HLC_ROUTE_AGENT routes: an agent's own token (and no X-API-Key) is the
     * handler's to check against the store. */
    if (!key && (rt->flags & HLC_ROUTE_AGENT) && hlc_req_bearer(r))
        return AUTH_OK;
    if (!key)
        return AUTH_MISSING;
    return strlen(key) <= 512 && hlc_hub_key_ok(r->hub, key) ? AUTH_OK : AUTH_BAD;
}

static const struct sockaddr *
peer_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? ci->client_addr : NULL;
}

static int
conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

/* Holds a wrong key's 429 for `ms` with the connection suspended: a guesser
 * waits, and the connection it holds meanwhile counts against its address. */
static int
hold_reply(struct hlc_http *h, struct hlc_req *r, int64_t ms)
{
    char secs[24];
    snprintf(secs, sizeof(secs), "%lld", (long long)((ms + 999) / 1000));
    r->slow = HLC_REQ_ON_WORKER; /* the reply is kept in r->held */
    hlc_reply_error(r, 429, "TOO_MANY_REQUESTS",
                    "too many requests with a wrong API key from this address", NULL);
    if (!r->held) {
        r->slow = HLC_REQ_INLINE;
        return MHD_NO;
    }
    MHD_add_response_header(r->held, "Retry-After", secs);
    struct hold *x = hlc_xcalloc(1, sizeof(*x));
    x->r = r;
    x->due_ms = hlc_mono_ms() + ms;
    hlc_guard_phase(h->guard, r->fd, HLC_GUARD_BUSY, 0);
    pthread_mutex_lock(&h->mu);
    MHD_suspend_connection(r->conn);
    x->next = h->holds;
    h->holds = x;
    pthread_mutex_unlock(&h->mu);
    return MHD_YES;
}

/* Everything decided on the request head, before any body is read: the
 * route, who may call it, and the body's cap. Returns true with *ret set
 * when it answered (the body, if any, is then never read: libmicrohttpd
 * closes the connection after an answer queued this early). */
static bool
on_head(struct hlc_http *h, struct hlc_req *r, int *ret)
{
    bool path_matched;
    const struct hlc_route *rt = route_find(r, &path_matched);
    if (!rt) {
        *ret = no_route(r, path_matched);
        return true;
    }
    r->route = rt;
    enum auth a = route_auth(r, rt);
    if (a != AUTH_OK) {
        int64_t hold = hlc_guard_key_failed(h->guard, peer_addr(r->conn), hlc_mono_ms());
        if (hold > 0)
            *ret = hold_reply(h, r, hold);
        else
            *ret = hlc_reply_error(r, 401, "UNAUTHORIZED",
                                   a == AUTH_MISSING ? "the X-API-Key header is missing"
                                                     : "the API key is not valid",
                                   NULL);
        return true;
    }
    /* Public routes take at most a small body (an agent's enrollment): little
     * unauthenticated is ever buffered. An agent token's heartbeat is held to
     * the same cap as the admin key's: the handler refuses a bad token. */
    size_t cap = (rt->flags & HLC_ROUTE_PUBLIC) ? PUBLIC_BODY_MAX : h->cfg.max_body;
    hlc_buf_init(&r->body, cap);
    /* A declared length past the cap is refused before reading it. */
    const char *cl = hlc_req_header(r, "Content-Length");
    int64_t len = 0;
    if (cl && hlc_parse_i64(cl, 0, INT64_MAX, &len) == 0 && (uint64_t)len > cap) {
        r->body_toobig = true;
        *ret = hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE", "request body is too large", NULL);
        return true;
    }
    return false;
}

/* The whole request is in: run its route. */
static int
dispatch(struct hlc_http *h, struct hlc_req *r)
{
    const struct hlc_route *rt = r->route;
    hlc_guard_phase(h->guard, r->fd, HLC_GUARD_BUSY, 0);
    route_terminate_params(r);
    if (rt->flags & HLC_ROUTE_SLOW)
        return defer(h, r, rt->handler);
    return rt->handler(r);
}

static void
peer_ip(struct MHD_Connection *c, char *out, size_t n)
{
    const struct sockaddr *sa = peer_addr(c);
    out[0] = '\0';
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct hlc_http *h = cls;
    (void)version;
    struct hlc_req *r = *con_cls;
    if (!r) {
        r = hlc_xcalloc(1, sizeof(*r));
        r->conn = conn;
        r->hub = h->hub;
        r->method = method;
        r->path = hlc_xstrdup(url);
        r->start_ns = hlc_mono_ns();
        r->fd = conn_fd(conn);
        hlc_buf_init(&r->body, 0);
        peer_ip(conn, r->client_ip, sizeof(r->client_ip));
        atomic_fetch_add(&h->inflight, 1);
        *con_cls = r;
        hlc_guard_phase(h->guard, r->fd, HLC_GUARD_BODY, r->start_ns / 1000000);
        int ret;
        if (on_head(h, r, &ret))
            return (enum MHD_Result)ret;
        return MHD_YES;
    }
    if (r->slow == HLC_REQ_WORKER_DONE) { /* resumed: the worker's reply, or none (close) */
        r->slow = HLC_REQ_INLINE;
        struct MHD_Response *resp = r->held;
        r->held = NULL;
        if (!resp)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (*upload_data_size) {
        if (!r->status && !r->body_toobig &&
            hlc_buf_append(&r->body, upload_data, *upload_data_size) != 0)
            r->body_toobig = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->status) /* already answered on the head */
        return MHD_YES;
    if (r->body_toobig)
        return (enum MHD_Result)hlc_reply_error(r, 413, "PAYLOAD_TOO_LARGE",
                                                "request body is too large", NULL);
    return (enum MHD_Result)dispatch(h, r);
}

/* Copies s into out (n bytes) with control characters, backslashes and
 * bytes past ASCII as \xNN, so a request cannot write lines or terminal
 * escapes into the log. */
static void
log_field(char *out, size_t n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < n; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct hlc_http *h = cls;
    (void)conn;
    struct hlc_req *r = *con_cls;
    if (!r)
        return;
    atomic_fetch_add(&h->hub->requests, 1);
    atomic_fetch_sub(&h->inflight, 1);
    hlc_guard_phase(h->guard, r->fd, HLC_GUARD_IDLE, hlc_mono_ms());
    if (h->cfg.access_log) {
        double ms = (double)(hlc_mono_ns() - r->start_ns) / 1e6;
        char method[64], path[1024];
        log_field(method, sizeof(method), r->method);
        log_field(path, sizeof(path), r->path);
        fprintf(stderr, "access %s %s %d %.2fms%s\n", method, path, r->status, ms,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    if (r->held) /* resumed but never asked for its reply (the daemon stopping) */
        MHD_destroy_response(r->held);
    hlc_buf_release(&r->body);
    free(r->path);
    free(r);
    *con_cls = NULL;
}

/* A connection libmicrohttpd closes: its place in the counts goes. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct hlc_http *h = cls;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        hlc_guard_release(h->guard, conn_fd(conn));
}

/* libmicrohttpd's printf-style log: the attribute tells clang the format is
 * checked at MHD's call sites (clang's -Wformat-nonliteral otherwise fails
 * the fuzz build). */
__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    hlc_log(HLC_LOG_WARN, "http: %s", msg);
}

/* Parses "host:port", "[v6]:port" or ":port" into a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[128];
    const char *port_s;
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return HLC_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port_s = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return HLC_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port_s = colon + 1;
    }
    int64_t port;
    if (hlc_parse_i64(port_s, 0, 65535, &port) != 0)
        return HLC_EINVAL;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (host[0] == '\0' || strcmp(host, "*") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*v4);
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*v6);
    } else if (strcmp(host, "localhost") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        v4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*v4);
    } else {
        return HLC_EINVAL;
    }
    return 0;
}

/* The listening socket, bound and listening: its fd, or -1 (errno set). */
static int
listen_on(const struct sockaddr_storage *ss, socklen_t sl)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss->ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* One thread accepts and hands each connection to one libmicrohttpd
 * worker. Left to libmicrohttpd, every worker polls the listening socket
 * and each new connection wakes several of them, all but one for nothing:
 * ~10 thread wake-ups per short request with 8 workers. */
static void *
accept_main(void *arg)
{
    struct hlc_http *h = arg;
    bool told = false;
    while (!atomic_load(&h->closing)) {
        struct sockaddr_storage a;
        socklen_t al = sizeof(a);
        int fd = accept4(h->lfd, (struct sockaddr *)&a, &al, SOCK_CLOEXEC);
        if (fd >= 0) {
            /* Counted and refused here, so no connection ever reaches
             * libmicrohttpd 0.9.75's own limit path: a connection handed over
             * with MHD_add_connection and refused there left every worker
             * waiting on a lock it held (issue #19). Its limits are set above
             * these and are never reached. */
            enum hlc_guard_verdict v =
                hlc_guard_admit(h->guard, fd, (struct sockaddr *)&a, hlc_mono_ms());
            if (v != HLC_GUARD_OK) {
                static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                           "Content-Length: 0\r\nRetry-After: 1\r\n"
                                           "Connection: close\r\n\r\n";
                (void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
                close(fd);
                atomic_fetch_add(&h->refused, 1);
                continue;
            }
            if (MHD_add_connection(h->daemon, fd, (struct sockaddr *)&a, al) != MHD_YES)
                hlc_guard_release(h->guard, fd); /* closed by libmicrohttpd */
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            if (!told)
                hlc_log(HLC_LOG_WARN, "http: accepting connections: %s", strerror(errno));
            told = true;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        } else if (errno == EINVAL || errno == EBADF) {
            break; /* shut down */
        }
    }
    return NULL;
}

static void
expire_one(int fd, void *ud)
{
    (void)ud;
    /* libmicrohttpd sees the end and closes it (the fd stays valid until its
     * close notification, which waits for the guard's lock held here). */
    shutdown(fd, SHUT_RDWR);
}

/* Resumes the held replies that are due (all of them with `all`). */
static void
release_holds(struct hlc_http *h, bool all)
{
    int64_t now = hlc_mono_ms();
    pthread_mutex_lock(&h->mu);
    for (struct hold **p = &h->holds; *p;) {
        struct hold *x = *p;
        if (!all && x->due_ms > now) {
            p = &x->next;
            continue;
        }
        *p = x->next;
        x->r->slow = HLC_REQ_WORKER_DONE;
        MHD_resume_connection(x->r->conn);
        free(x);
    }
    pthread_mutex_unlock(&h->mu);
}

/* Every 100 ms: closes connections past their deadline (slow heads and
 * bodies) and answers the held wrong keys that are due. */
static void *
reaper_main(void *arg)
{
    struct hlc_http *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        struct timespec until;
        hlc_abstime_in(100, &until);
        if (!h->reaper_stop)
            pthread_cond_timedwait(&h->reaper_cv, &h->mu, &until);
        bool stop = h->reaper_stop;
        pthread_mutex_unlock(&h->mu);
        if (stop)
            break;
        hlc_guard_expire(h->guard, hlc_mono_ms(), expire_one, NULL);
        release_holds(h, false);
    }
    return NULL;
}

unsigned
hlc_http_conn_cap(unsigned wanted, unsigned *nofile)
{
    struct rlimit rl;
    unsigned lim = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        /* The soft limit up to the hard one (systemd's default soft limit is
         * 1024 under a hard one of 524288), but no higher than needed. */
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
            rl.rlim_cur = want;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 65536 : (unsigned)rl.rlim_cur;
    }
    *nofile = lim;
    /* Kept for everything else: the poller's SSH sockets, the database and
     * its journal, log and event fds, libmicrohttpd's own. */
    unsigned reserve = 128 + lim / 8;
    unsigned cap = lim > reserve + 16 ? lim - reserve : 16;
    return wanted && wanted < cap ? wanted : cap;
}

uint64_t
hlc_http_refused(struct hlc_http *h)
{
    return h ? atomic_load(&h->refused) : 0;
}

int
hlc_http_start(struct hlc_http **out, const struct hlc_http_cfg *cfg, struct hlc_hub *hub,
               int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (parse_listen(cfg->listen, &ss, &sl) != 0) {
        hlc_log(HLC_LOG_ERROR, "listen address '%s' is not host:port", cfg->listen);
        return HLC_EINVAL;
    }
    int lfd = listen_on(&ss, sl);
    if (lfd < 0) {
        hlc_log(HLC_LOG_ERROR, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        return HLC_EIO;
    }
    struct hlc_http *h = hlc_xcalloc(1, sizeof(*h));
    h->hub = hub;
    h->cfg = *cfg;
    h->lfd = lfd;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_cond_init(&h->reaper_cv, NULL);
    unsigned nofile;
    unsigned cap = hlc_http_conn_cap(cfg->conn_limit, &nofile);
    struct hlc_guard_cfg gc = {
        .max_conns = cap,
        .per_addr = cfg->per_ip_limit < cap ? cfg->per_ip_limit : cap,
        .fd_slots = nofile,
        .head_ms = (int64_t)cfg->head_timeout_s * 1000,
        .body_ms = (int64_t)cfg->body_timeout_s * 1000,
        /* libmicrohttpd closes an idle kept-alive connection after
         * conn_timeout_s; a next head sent a line at a time gets head_ms more. */
        .idle_ms = ((int64_t)cfg->conn_timeout_s + cfg->head_timeout_s) * 1000,
        .fail_limit = cfg->auth_fail_limit ? cfg->auth_fail_limit : 10,
        .fail_window_ms = 60 * 1000,
        .delay_max_ms = 16 * 1000,
        .fail_addrs = 4096,
    };
    if (hlc_guard_new(&h->guard, &gc) != 0) {
        hlc_log(HLC_LOG_ERROR, "http: bad connection limits");
        close(lfd);
        pthread_cond_destroy(&h->reaper_cv);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        return HLC_EINVAL;
    }
    hlc_log(HLC_LOG_INFO,
            "http: at most %u connections (%u per address; descriptor limit %u), "
            "request head within %us, body within %us",
            gc.max_conns, gc.per_addr, nofile, cfg->head_timeout_s, cfg->body_timeout_s);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    /* HTTPS when a certificate is given: libmicrohttpd's GnuTLS does the
     * handshake on connections handed over by the acceptor too. */
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (cfg->tls_cert_pem && cfg->tls_key_pem)
        flags |= MHD_USE_TLS;
    else
        tls[0].option = MHD_OPTION_END;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 4),
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s,
        /* Never reached (the guard refuses first): see accept_main. The limit
         * is split across the pool's threads (fd modulo the pool size). */
        MHD_OPTION_CONNECTION_LIMIT, 2 * nofile + 64,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL_BYTES, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_ARRAY, tls,
        MHD_OPTION_END);
    bool reaper = h->daemon && pthread_create(&h->reaper, NULL, reaper_main, h) == 0;
    if (!reaper || pthread_create(&h->acceptor, NULL, accept_main, h) != 0) {
        hlc_log(HLC_LOG_ERROR, "cannot start the HTTP server on %s", cfg->listen);
        if (reaper) {
            pthread_mutex_lock(&h->mu);
            h->reaper_stop = true;
            pthread_cond_signal(&h->reaper_cv);
            pthread_mutex_unlock(&h->mu);
            pthread_join(h->reaper, NULL);
        }
        if (h->daemon)
            MHD_stop_daemon(h->daemon);
        hlc_guard_free(h->guard);
        pthread_cond_destroy(&h->reaper_cv);
        close(lfd);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        return HLC_EIO;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    *port = 0;
    if (getsockname(lfd, (struct sockaddr *)&bound, &bl) == 0)
        *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *out = h;
    return 0;
}

void
hlc_http_stop(struct hlc_http *h)
{
    if (!h)
        return;
    /* Stop accepting first; open connections finish. */
    atomic_store(&h->closing, true);
    shutdown(h->lfd, SHUT_RDWR); /* wakes the acceptor */
    pthread_join(h->acceptor, NULL);
    close(h->lfd);
    /* Held wrong keys get their answer now. */
    release_holds(h, true);
    /* In-flight requests get up to 10 s to finish before connections close. */
    int64_t deadline = hlc_mono_ms() + 10000;
    while (hlc_mono_ms() < deadline) {
        if (atomic_load(&h->inflight) == 0)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Slow requests still running finish and resume their connections
     * first: libmicrohttpd cannot stop with a connection suspended. */
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_broadcast(&h->cv);
    int n = h->nworkers;
    pthread_mutex_unlock(&h->mu);
    for (int i = 0; i < n; i++)
        pthread_join(h->workers[i], NULL);
    /* The reaper last: a flood's slow connections keep being closed while the
     * in-flight wait runs. Nothing can be held after release_holds (no
     * connection is accepted any more), but a request on its head may still
     * have been held since: answer it too. */
    pthread_mutex_lock(&h->mu);
    h->reaper_stop = true;
    pthread_cond_signal(&h->reaper_cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->reaper, NULL);
    release_holds(h, true);
    MHD_stop_daemon(h->daemon);
    hlc_guard_free(h->guard);
    pthread_cond_destroy(&h->reaper_cv);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}
