/* api_agent_dist.c - what a machine needs to install the push agent, served
 * without an API key (nothing secret in either): GET /agent/install.sh (the
 * installer, deploy/agent-install.sh built into the hub, with the SHA-256 of
 * the binary written into it, so the script vouches for the binary it
 * downloads) and GET /agent/homelabcmd-agent (the agent binary for the hub's
 * own architecture, with X-HomelabCmd-Arch and X-Checksum-Sha256 headers). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "api.h"
#include "hub.h"

extern const char hlc_agent_install_sh[];
extern const unsigned long hlc_agent_install_sh_len;

/* The agent binary is at most this big (it is ~100 KB stripped). */
#define AGENT_MAX (64L << 20)

/* Where the hub writes the binary's checksum into the installer. */
#define SUM_MARK "@HLC_AGENT_SHA256@"

/* Opens the agent binary: the configured path, else homelabcmd-agent next to
 * this program, else the build tree's agent-lite/ beside server/. -1 if none. */
static int
open_agent(struct hlc_hub *hub, struct stat *sb)
{
    char cand[3][PATH_MAX + 64];
    int n = 0;
    if (hub->set.agent_bin) {
        snprintf(cand[n++], sizeof(cand[0]), "%s", hub->set.agent_bin);
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len > 0) {
            exe[len] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(cand[n++], sizeof(cand[0]), "%s/homelabcmd-agent", exe);
                snprintf(cand[n++], sizeof(cand[0]), "%s/../agent-lite/homelabcmd-agent", exe);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        int fd = open(cand[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fstat(fd, sb) == 0 && S_ISREG(sb->st_mode) && sb->st_size > 0 &&
            sb->st_size <= AGENT_MAX)
            return fd;
        close(fd);
    }
    return -1;
}

/* Reads the whole agent binary (*data heap, *len bytes) and its SHA-256 as
 * hex: the checksum is computed from the bytes that are sent. 0, or the
 * HTTP status of the failure (404 none, 500 unreadable). */
static int
read_agent(struct hlc_hub *hub, char **data, size_t *len,
           char hex[static 2 * crypto_hash_sha256_BYTES + 1])
{
    struct stat sb;
    *data = NULL;
    int fd = open_agent(hub, &sb);
    if (fd < 0)
        return 404;
    size_t n = (size_t)sb.st_size, off = 0;
    char *buf = malloc(n);
    while (buf && off < n) {
        ssize_t got = read(fd, buf + off, n - off);
        if (got <= 0)
            break;
        off += (size_t)got;
    }
    close(fd);
    if (!buf || off != n) {
        free(buf);
        return 500;
    }
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, (const unsigned char *)buf, n);
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, sum, sizeof(sum));
    *data = buf;
    *len = n;
    return 0;
}

int
hlc_api_agent_install_sh(struct hlc_req *r)
{
    char *bin = NULL, hex[2 * crypto_hash_sha256_BYTES + 1];
    size_t blen = 0;
    /* Without a binary to serve the mark stays, and the script refuses to
     * install anything it downloads. */
    if (read_agent(r->hub, &bin, &blen, hex) != 0)
        return hlc_reply_text(r, 200, "text/x-shellscript; charset=utf-8", hlc_agent_install_sh,
                              (size_t)hlc_agent_install_sh_len, false);
    free(bin);
    const char *mark = strstr(hlc_agent_install_sh, SUM_MARK);
    if (!mark)
        return hlc_reply_error(r, 500, "INTERNAL", "the built-in installer has no checksum mark",
                               NULL);
    size_t head = (size_t)(mark - hlc_agent_install_sh), ml = strlen(SUM_MARK), hl = strlen(hex);
    size_t tail = (size_t)hlc_agent_install_sh_len - head - ml;
    char *out = hlc_xmalloc(head + hl + tail);
    memcpy(out, hlc_agent_install_sh, head);
    memcpy(out + head, hex, hl);
    memcpy(out + head + hl, mark + ml, tail);
    return hlc_reply_text(r, 200, "text/x-shellscript; charset=utf-8", out, head + hl + tail,
                          true);
}

int
hlc_api_agent_binary(struct hlc_req *r)
{
    char *data = NULL, hex[2 * crypto_hash_sha256_BYTES + 1];
    size_t len = 0;
    int st = read_agent(r->hub, &data, &len, hex);
    if (st == 404)
        return hlc_reply_error(r, 404, "NOT_FOUND",
                               "this hub has no agent binary to serve: build homelabcmd-agent "
                               "or set HOMELABCMD_AGENT_BIN",
                               NULL);
    if (st)
        return hlc_reply_error(r, 500, "INTERNAL", "could not read the agent binary", NULL);
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.machine, sizeof(u.machine), "unknown");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Content-Disposition",
                            "attachment; filename=\"homelabcmd-agent\"");
    MHD_add_response_header(resp, "X-HomelabCmd-Arch", u.machine);
    MHD_add_response_header(resp, "X-Checksum-Sha256", hex);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    r->status = 200;
    int ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}
