/* http.h - the hub's HTTP front: libmicrohttpd, routing, auth, JSON replies. */
#ifndef HLC_HTTP_H
#define HLC_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hlc/base.h"

struct hlc_hub;
struct MHD_Connection;

#define HLC_HTTP_MAX_PARAMS 6

/* One request as a handler sees it. Owned by the HTTP layer. */
struct hlc_req {
    struct MHD_Connection *conn;          /* libmicrohttpd's connection */
    struct hlc_hub *hub;                  /* the running hub */
    const char *method;                   /* "GET", "POST", ... */
    char *path;                           /* decoded path, no query string */
    const char *params[HLC_HTTP_MAX_PARAMS]; /* path segments matched by {} */
    int nparams;                          /* how many params */
    struct hlc_buf body;                  /* request body, capped */
    bool body_toobig;                     /* body went past the cap */
    int64_t start_ns;                     /* monotonic time the request began */
    int status;                           /* status sent, for the access log */
    char client_ip[48];                   /* peer address, for audit */
    int fd;                               /* the connection's socket (the guard's key) */
    const struct hlc_route *route;        /* found on the head; NULL if none */
    /* HLC_ROUTE_SLOW: the handler runs on a worker while the connection is
     * suspended; its reply (status in `status`) is held here until
     * libmicrohttpd resumes the connection. */
    enum { HLC_REQ_INLINE, HLC_REQ_ON_WORKER, HLC_REQ_WORKER_DONE } slow;
    struct MHD_Response *held;            /* the reply the worker made */
};

/* A route handler queues exactly one response through the reply helpers
 * below and returns what they return (libmicrohttpd's MHD_YES/MHD_NO). */
typedef int (*hlc_handler_fn)(struct hlc_req *r);

enum hlc_route_flags {
    HLC_ROUTE_PUBLIC = 1 << 0, /* no X-API-Key needed */
    /* May take seconds (SSH, a webhook): runs on a worker thread with the
     * connection suspended, so the HTTP thread goes on serving the other
     * connections it holds instead of waiting on a remote machine. */
    HLC_ROUTE_SLOW = 1 << 1,
    /* The key may also come as ?key= (EventSource cannot set headers). */
    HLC_ROUTE_KEY_IN_QUERY = 1 << 2,
    /* The admin key or an agent token: the early check (http.c, route_auth)
     * lets a request with `Authorization: Bearer <token>` (and no X-API-Key)
     * through, and the handler verifies the token against the store
     * (hlc_req_bearer). */
    HLC_ROUTE_AGENT = 1 << 3,
};

struct hlc_route {
    const char *method;     /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;    /* "/api/v1/servers/{}" - {} matches one segment */
    hlc_handler_fn handler; /* called with params filled in */
    unsigned flags;         /* enum hlc_route_flags */
};

/* Registered route tables, defined in routes.c. */
extern const struct hlc_route hlc_routes[];

struct hlc_http_cfg {
    const char *listen;           /* "0.0.0.0:8080", "[::1]:8080", "127.0.0.1:0" */
    unsigned threads;             /* libmicrohttpd thread pool size */
    size_t max_body;              /* request body cap in bytes */
    unsigned conn_timeout_s;      /* idle connection timeout */
    unsigned head_timeout_s;      /* a request head must be complete within */
    unsigned body_timeout_s;      /* and its body within this after the head */
    unsigned auth_fail_limit;     /* wrong keys a minute per address answered at once */
    unsigned per_ip_limit;        /* concurrent connections per client address */
    unsigned conn_limit;          /* concurrent connections in all (0: from the
                                   * descriptor limit; never above what it allows) */
    bool access_log;              /* one stderr line per request */
    const char *tls_cert_pem;     /* PEM certificate: serve HTTPS; NULL = plain HTTP */
    const char *tls_key_pem;      /* its PEM private key (both or neither) */
};

struct hlc_http;

/* Starts listening; on success *out is running and *port holds the bound
 * port. Returns 0 or HLC_EIO/HLC_EINVAL (the message is logged). */
int hlc_http_start(struct hlc_http **out, const struct hlc_http_cfg *cfg, struct hlc_hub *hub,
                   int *port);
/* Stops accepting, lets in-flight requests finish, frees. NULL is a no-op. */
void hlc_http_stop(struct hlc_http *h);
/* The connection cap for `wanted` (0 = as many as allowed): the descriptor
 * limit (raised to its hard limit, at most 65536, stored in *nofile) less a
 * reserve of 128 + 1/8 for the poller, the database and the rest. */
unsigned hlc_http_conn_cap(unsigned wanted, unsigned *nofile);
/* Connections refused at accept (limits) since start. */
uint64_t hlc_http_refused(struct hlc_http *h);

/* Replies. Each queues one response and returns MHD_YES/MHD_NO. */
int hlc_reply_json(struct hlc_req *r, int status, json_t *body); /* steals body */
int hlc_reply_error(struct hlc_req *r, int status, const char *code, const char *message,
                    const char *field);
/* Sends 422 VALIDATION_ERROR naming e->field (validate.h). */
struct hlc_verr;
int hlc_reply_verr(struct hlc_req *r, const struct hlc_verr *e);
int hlc_reply_text(struct hlc_req *r, int status, const char *content_type, const char *data,
                   size_t len, bool must_free);
int hlc_reply_empty(struct hlc_req *r, int status);
/* A store/library error code turned into the matching HTTP error. */
int hlc_reply_err(struct hlc_req *r, int err, const char *what);

/* Parses the body as a JSON object. On failure it has already replied
 * (400 malformed JSON, 413 too big, 422 not an object) and returns NULL with
 * *mhd_ret set; the caller returns *mhd_ret. */
json_t *hlc_req_json(struct hlc_req *r, int *mhd_ret);
/* Query-string value or NULL. */
const char *hlc_req_query(struct hlc_req *r, const char *name);
/* Request header value or NULL. */
const char *hlc_req_header(struct hlc_req *r, const char *name);
/* The token of an `Authorization: Bearer <token>` header, or NULL. */
const char *hlc_req_bearer(struct hlc_req *r);

#endif
