/* static_files.c - the dashboard's built files, precompressed when possible. */
#include "static_files.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "http.h"
#include "hub.h"

static const char builtin_page[] =
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width,initial-scale=1'>"
    "<title>HomelabCmd</title></head><body><h1>HomelabCmd hub</h1>"
    "<p>This hub watches and runs a homelab fleet: agentless SSH metrics, approved "
    "commands, alerts and costs.</p><p>The dashboard has not been built on this machine "
    "(run <code>./deploy/quickstart.sh</code>). The REST API is under <code>/api/v1</code>; "
    "every endpoint but <a href='/api/v1/system/health'>/api/v1/system/health</a> needs the "
    "<code>X-API-Key</code> header.</p></body></html>";

static const char *
mime_for(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".sh", "text/x-shellscript; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* The dashboard's Content-Security-Policy: scripts, styles and connections
 * to the hub only, no framing. index.html's inline scripts (its first-screen
 * preload) are allowed by their hashes, read from the built file once; with
 * no built file there is no inline script to allow, and nothing is cached,
 * so a dashboard built while the hub runs still gets its hashes. */
#define CSP_HEAD "default-src 'self'; script-src 'self'"
#define CSP_TAIL                                                                          \
    "; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
static pthread_mutex_t csp_mu = PTHREAD_MUTEX_INITIALIZER;
static char csp[1024];

static const char *
csp_for(const char *www_dir)
{
    static const char no_inline[] = CSP_HEAD CSP_TAIL;
    char *path = www_dir ? hlc_xasprintf("%s/index.html", www_dir) : NULL;
    pthread_mutex_lock(&csp_mu);
    const char *ret = csp;
    FILE *f = NULL;
    if (csp[0])
        goto out;
    f = path ? fopen(path, "re") : NULL;
    if (!f) {
        ret = no_inline;
        goto out;
    }
    static char html[256 * 1024];
    size_t n = fread(html, 1, sizeof(html) - 1, f);
    html[n] = '\0';
    char hashes[600] = "";
    size_t hl = 0;
    for (const char *p = html; (p = strstr(p, "<script")) != NULL;) {
        const char *gt = strchr(p, '>');
        const char *end = gt ? strstr(gt, "</script>") : NULL;
        if (!end)
            break;
        const char *src = strstr(p, "src=");
        if (!src || src > gt) { /* inline */
            unsigned char h[crypto_hash_sha256_BYTES];
            char b64[sodium_base64_ENCODED_LEN(sizeof(h), sodium_base64_VARIANT_ORIGINAL)];
            crypto_hash_sha256(h, (const unsigned char *)gt + 1, (size_t)(end - gt - 1));
            sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
            int w = snprintf(hashes + hl, sizeof(hashes) - hl, " 'sha256-%s'", b64);
            if (w < 0 || (size_t)w >= sizeof(hashes) - hl)
                break;
            hl += (size_t)w;
        }
        p = end + 9;
    }
    snprintf(csp, sizeof(csp), CSP_HEAD "%s" CSP_TAIL, hashes);
out:
    pthread_mutex_unlock(&csp_mu);
    if (f)
        fclose(f);
    free(path);
    return ret;
}

/* What every dashboard answer carries against framing, sniffing and leaks. */
static void
dashboard_headers(struct MHD_Response *resp, const char *www_dir)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp_for(www_dir));
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

/* Only plain relative paths: no "..", no hidden segments, no odd bytes. */
static bool
safe_rel(const char *rel)
{
    if (strlen(rel) > 512)
        return false;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        if (*p == '/' || *p == '\0') {
            if (p > seg && seg[0] == '.')
                return false;
            if (*p == '\0')
                break;
            seg = p + 1;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (c < 0x21 || c == '\\' || c == 0x7f)
            return false;
    }
    return true;
}

static int
open_regular(const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
send_file(struct hlc_req *r, const char *rel)
{
    const char *dir = r->hub->set.www_dir;
    struct stat sb;
    int fd = -1;
    bool gz = false;
    const char *ae = hlc_req_header(r, "Accept-Encoding");
    char *path = hlc_xasprintf("%s/%s", dir, rel);
    if (ae && strstr(ae, "gzip")) {
        char *gzpath = hlc_xasprintf("%s.gz", path);
        fd = open_regular(gzpath, &sb);
        free(gzpath);
        gz = fd >= 0;
    }
    if (fd < 0)
        fd = open_regular(path, &sb);
    free(path);
    if (fd < 0)
        return -1;
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_for(rel));
    MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    dashboard_headers(resp, dir);
    if (gz)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    /* Vite puts content hashes in asset names, so they never change. */
    MHD_add_response_header(resp, "Cache-Control", strncmp(rel, "assets/", 7) == 0
                                                       ? "public, max-age=31536000, immutable"
                                                       : "no-cache");
    r->status = 200;
    int ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

int
hlc_static_serve(struct hlc_req *r)
{
    const char *rel = r->path[0] == '/' ? r->path + 1 : r->path;
    if (*rel == '\0')
        rel = "index.html";
    if (!safe_rel(rel))
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such file", NULL);
    const char *last = strrchr(rel, '/');
    bool is_route = !strchr(last ? last : rel, '.') || strcmp(rel, "index.html") == 0;
    if (r->hub->set.www_dir) {
        int ret = send_file(r, rel);
        if (ret < 0 && is_route) /* client-side routes get the app */
            ret = send_file(r, "index.html");
        if (ret >= 0)
            return ret;
    }
    if (!is_route)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no such file", NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(builtin_page) - 1, (void *)builtin_page, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    dashboard_headers(resp, NULL);
    r->status = 200;
    int ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}
