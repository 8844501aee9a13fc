/* pack_diff.c - unified diffs of mismatched files, made by GNU diff on the hub.
 *
 * Why GNU diff, and why on the hub: diffutils is Essential on Debian, so the
 * hub always has it (a well-kept implementation, never a hand-written
 * algorithm), while a target may be a BusyBox image without it; running it
 * on the hub costs the target nothing beyond sending the one file whose hash
 * differs (which it must send anyway for the diff to show the machine's
 * side), and the pack's content never has to be shipped to the target. The
 * two sides are written to files of mode 0600 in a fresh private directory
 * (mkdtemp, 0700), diff runs with no shell (posix_spawnp), a fixed
 * environment, bounded output and a timeout, and both files are removed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pack_internal.h"

#define DIFF_TIMEOUT_MS 5000

extern char **environ;

static int
write_file(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return HLC_EIO;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return HLC_EIO;
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? 0 : HLC_EIO;
}

/* Runs argv, collecting stdout up to max bytes. 0 with *status the exit
 * status, HLC_ETOOBIG (output past max: child killed), HLC_ETIMEOUT, HLC_EIO. */
static int
run(char *const argv[], struct hlc_buf *out, int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return HLC_EIO;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    static char *const envp[] = {"LC_ALL=C", "PATH=/usr/bin:/bin", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return HLC_EIO;
    }
    rc = 0;
    int64_t deadline = hlc_mono_ms() + DIFF_TIMEOUT_MS;
    char chunk[8192];
    for (;;) {
        int left = (int)(deadline - hlc_mono_ms());
        if (left <= 0) {
            rc = HLC_ETIMEOUT;
            break;
        }
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pf, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t n = read(fds[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (hlc_buf_append(out, chunk, (size_t)n) != 0) {
            rc = HLC_ETOOBIG;
            break;
        }
    }
    close(fds[0]);
    if (rc != 0)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return rc;
}

int
hlc_pack_diff(const char *path, const char *before, size_t before_len, const char *after,
              size_t after_len, size_t max_bytes, char **diff)
{
    if (!path || !after || !diff)
        return HLC_EINVAL;
    *diff = NULL;
    const char *tmp = getenv("TMPDIR");
    char dir[512], fa[560], fb[560];
    snprintf(dir, sizeof(dir), "%s/hlc-diff-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return HLC_EIO;
    snprintf(fa, sizeof(fa), "%s/machine", dir);
    snprintf(fb, sizeof(fb), "%s/pack", dir);
    int rc = write_file(fa, before ? before : "", before ? before_len : 0);
    if (rc == 0)
        rc = write_file(fb, after, after_len);
    struct hlc_buf out;
    hlc_buf_init(&out, max_bytes);
    int status = -1;
    if (rc == 0) {
        char *la = before ? hlc_xasprintf("%s (machine)", path) : hlc_xstrdup("/dev/null");
        char *lb = hlc_xasprintf("%s (pack)", path);
        char *argv[] = {"diff", "-u", "--label", la, "--label", lb, fa, fb, NULL};
        rc = run(argv, &out, &status);
        free(la);
        free(lb);
        if (rc == 0 && status != 0 && status != 1)
            rc = HLC_EIO;
    }
    unlink(fa);
    unlink(fb);
    rmdir(dir);
    if (rc == HLC_ETOOBIG) {
        hlc_buf_release(&out);
        *diff = hlc_xasprintf("(the diff of %s is longer than %zu bytes and is not shown)\n", path,
                              max_bytes);
        return HLC_ETOOBIG;
    }
    if (rc != 0) {
        hlc_buf_release(&out);
        return rc;
    }
    *diff = out.data ? hlc_buf_steal(&out) : hlc_xstrdup("");
    return 0;
}

void
hlc_pack_diff_results(const struct hlc_pack *p, struct hlc_pack_results *res)
{
    for (size_t i = 0; i < p->nitems && i < res->n; i++) {
        const struct hlc_pack_item *it = &p->items[i];
        struct hlc_pack_result *r = &res->r[i];
        if (it->type != HLC_PACK_FILE || !it->value || r->status != HLC_PACK_FAIL ||
            !(r->mismatch & (HLC_PACK_CONTENT | HLC_PACK_MISSING)))
            continue;
        free(r->diff);
        r->diff = NULL;
        if (r->binary) {
            r->diff = hlc_xasprintf("Binary file %s differs (not shown)\n", it->target);
        } else if (r->oversized) {
            r->diff = hlc_xasprintf("File %s is larger than %d KiB on the machine (not diffed)\n",
                                    it->target, HLC_PACK_MAX_CONTENT / 1024);
        } else if (!r->actual_missing && !r->actual_content) {
            r->diff = hlc_xasprintf("The content of %s was not fetched (this check's %d KiB "
                                    "budget for file content was used up)\n",
                                    it->target, HLC_PACK_MAX_CONTENT_TOTAL / 1024);
        } else {
            int rc = hlc_pack_diff(it->target, r->actual_missing ? NULL : r->actual_content,
                                   r->actual_len, it->value, it->value_len, 256 * 1024, &r->diff);
            if (rc != 0 && rc != HLC_ETOOBIG) {
                free(r->diff);
                r->diff = hlc_xasprintf("(no diff: GNU diff could not run on the hub: %s)\n",
                                        hlc_strerror(rc));
            }
        }
    }
}
