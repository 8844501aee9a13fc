/* static_files.c - the dashboard's built files, precompressed when possible. */
#include "static_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "hub.h"

static const char builtin_page[] =
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width,initial-scale=1'>"
    "<title>HomelabCmd</title></head><body style='font-family:sans-serif;max-width:40em;"
    "margin:2em auto;padding:0 1em'><h1>HomelabCmd hub</h1>"
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
    return hlc_reply_text(r, 200, "text/html; charset=utf-8", builtin_page,
                          sizeof(builtin_page) - 1, false);
}
