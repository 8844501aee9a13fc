/* pack.h - config packs: the YAML loader, `extends` layering, the check
 * script, its result parser and the unified diffs of mismatched files.
 *
 * A pack resolves to a flat list of items, each one thing on a machine with
 * what "compliant" means for it (a file's content/mode/owner, a package
 * installed or not, a unit enabled or running, a sysctl value, the timezone,
 * a line in a file). A check result names, per item, what differs
 * (`mismatch`), so an apply plan can be derived from the item and its result
 * alone. The loader, the script generator and the parser are pure functions
 * (no I/O, thread-safe); only hlc_pack_diff runs a program (GNU diff). */
#ifndef HLC_PACK_H
#define HLC_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlc/base.h"

/* Hard bounds of a pack file: anything past them is refused at load. */
#define HLC_PACK_MAX_FILE_BYTES (256 * 1024) /* the YAML text */
#define HLC_PACK_MAX_ITEMS 512               /* items after extends are flattened */
#define HLC_PACK_MAX_PATH 1024               /* an absolute path */
#define HLC_PACK_MAX_CONTENT (64 * 1024)     /* one file's expected content */
#define HLC_PACK_MAX_EXTENDS 8               /* names in one `extends` */
#define HLC_PACK_MAX_DEPTH 8                 /* extends chain length */
#define HLC_PACK_MAX_LINE 1024               /* a `lines` line or match */
#define HLC_PACK_MAX_DESC 512                /* description */
#define HLC_PACK_MAX_PACKS 64                /* packs in one registry */
#define HLC_PACK_MAX_EVENTS 100000           /* YAML events in one file */

/* What an item asks of a machine. */
enum hlc_pack_type {
    HLC_PACK_FILE,        /* file present (content/mode/owner/group as given) */
    HLC_PACK_FILE_ABSENT, /* no file at path */
    HLC_PACK_PKG,         /* package installed */
    HLC_PACK_PKG_ABSENT,  /* package not installed (config files may remain) */
    HLC_PACK_SVC_ENABLED, /* unit enabled at boot */
    HLC_PACK_SVC_DISABLED,
    HLC_PACK_SVC_RUNNING, /* unit active now */
    HLC_PACK_SVC_STOPPED,
    HLC_PACK_SYSCTL,      /* sysctl key = value */
    HLC_PACK_TIMEZONE,    /* system timezone */
    HLC_PACK_LINE,        /* a line present in a file (lineinfile) */
};

/* One item of a resolved pack. Strings are heap, owned by the pack. */
struct hlc_pack_item {
    enum hlc_pack_type type;
    char *target;        /* path, package, unit, sysctl key, "timezone" */
    char *value;         /* file content (UTF-8 text, no NUL), sysctl value, timezone,
                            line; NULL when not given */
    size_t value_len;    /* bytes in value */
    char *match;         /* HLC_PACK_LINE: ERE the line replaces, or NULL */
    int mode;            /* HLC_PACK_FILE: permission bits, -1 = not checked */
    char *owner;         /* HLC_PACK_FILE: user name, NULL = not checked */
    char *group;         /* HLC_PACK_FILE: group name, NULL = not checked */
    char sha256[65];     /* HLC_PACK_FILE with value: hex SHA-256 of value, else "" */
    const char *origin;  /* name of the pack that set it (points into the pack) */
};

/* A loaded pack: as written (items of its own) and, after resolve, with the
 * items of everything it extends flattened in (a later pack wins per key). */
struct hlc_pack {
    char *name;                 /* ^[a-z0-9][a-z0-9_-]{0,63}$ */
    char *description;          /* may be "" */
    char **extends;             /* names, as written */
    int *extends_line;          /* 1-based line of each name, for errors */
    int *extends_col;           /* 1-based column */
    size_t nextends;
    char *file;                 /* where it came from (for errors) */
    struct hlc_pack_item *items;
    size_t nitems;
    char **origins;             /* names items[].origin point at */
    size_t norigins;
};

/* A load or resolve error: where and what. */
struct hlc_pack_error {
    char file[256];     /* file name as given to the loader */
    int line;           /* 1-based; 0 = the file as a whole */
    int column;         /* 1-based; 0 = none */
    char message[256];  /* what was wrong and what was expected */
};

/* Parses one pack from YAML text (pure: nothing is read or run). `file` names
 * it in errors. 0 and *out (free with hlc_pack_free), or HLC_EPARSE /
 * HLC_ETOOBIG / HLC_EINVAL with *err filled and *out NULL. Items are not
 * resolved: extends names are only checked for syntax. Thread-safe. */
int hlc_pack_load(const char *file, const char *text, size_t len, struct hlc_pack **out,
                  struct hlc_pack_error *err);
void hlc_pack_free(struct hlc_pack *p);

/* Flattens `name`'s extends chain over `packs` (n of them) into a new pack
 * holding every item (parents first, a later pack's item replacing an
 * earlier one with the same key, e.g. a file path or a package name).
 * 0 and *out, HLC_ENOTFOUND (no such pack: err names it), HLC_EINVAL (a
 * cycle, an unknown parent, a chain deeper than HLC_PACK_MAX_DEPTH, or more
 * than HLC_PACK_MAX_ITEMS items; err points at the extends entry). */
int hlc_pack_resolve(struct hlc_pack *const *packs, size_t n, const char *name,
                     struct hlc_pack **out, struct hlc_pack_error *err);

/* The check: `sh -s` is run with this script on stdin. Every value taken
 * from the pack is validated again here and single-quoted by
 * hlc_shell_quote. 0 and *script (heap, NUL-terminated), or HLC_EINVAL. */
int hlc_pack_check_script(const struct hlc_pack *p, char **script);
/* The exec line that runs the script. */
#define HLC_PACK_CHECK_COMMAND "sh -s"

/* Limits of what the target may send back. */
#define HLC_PACK_MAX_OUTPUT (2 * 1024 * 1024) /* whole output (exec cap) */
#define HLC_PACK_MAX_CONTENT_TOTAL (1024 * 1024) /* file content bytes in one check */

enum hlc_pack_status { HLC_PACK_PASS, HLC_PACK_FAIL, HLC_PACK_ERROR };

/* What differs, as bits (HLC_PACK_FAIL only), so an apply knows the fix. */
enum hlc_pack_mismatch {
    HLC_PACK_MISSING = 1 << 0, /* should exist and does not */
    HLC_PACK_PRESENT = 1 << 1, /* should not exist and does */
    HLC_PACK_CONTENT = 1 << 2,
    HLC_PACK_MODE = 1 << 3,
    HLC_PACK_OWNER = 1 << 4,
    HLC_PACK_GROUP = 1 << 5,
    HLC_PACK_TYPE = 1 << 6,    /* not a regular file */
    HLC_PACK_STATE = 1 << 7,   /* package/unit/sysctl/timezone/line value */
};

/* The verdict for one item (same index as the pack's items). */
struct hlc_pack_result {
    enum hlc_pack_status status;
    unsigned mismatch;     /* enum hlc_pack_mismatch bits */
    char *expected;        /* human-readable, heap */
    char *actual;          /* human-readable, heap; NULL for error */
    char *reason;          /* HLC_PACK_ERROR: why, heap */
    /* HLC_PACK_FILE with content mismatched: the machine's content as sent
     * (heap, actual_len bytes) when it could be fetched, for the diff. */
    char *actual_content;
    size_t actual_len;
    bool actual_missing;   /* the file does not exist (diff from empty) */
    bool binary;           /* either side is not text: no diff */
    bool oversized;        /* too big to fetch: no diff */
    char *diff;            /* unified diff, filled by hlc_pack_diff_results */
};

struct hlc_pack_results {
    struct hlc_pack_result *r; /* one per item */
    size_t n;
    size_t pass, fail, error;  /* counts */
};

/* Parses the script's output for pack p (pure; never reads past len; any
 * byte sequence is accepted). Items the output says nothing sensible about
 * become HLC_PACK_ERROR with a reason (truncated, malformed, binary). Fills
 * out (release with hlc_pack_results_release). 0, or HLC_EINVAL on bad
 * arguments. Thread-safe. */
int hlc_pack_parse(const struct hlc_pack *p, const char *out, size_t len, bool truncated,
                   struct hlc_pack_results *res);
void hlc_pack_results_release(struct hlc_pack_results *res);

/* A unified diff of `before` (the machine's file) to `after` (the pack's
 * content), labelled with path, from GNU diff run on the hub (see pack_diff.c
 * for why). `before` NULL = the file does not exist. 0 and *diff (heap;
 * "" when equal), HLC_EIO (diff could not run), HLC_ETOOBIG (diff longer than
 * max_bytes: *diff holds a note instead). Thread-safe; blocks while diff runs. */
int hlc_pack_diff(const char *path, const char *before, size_t before_len, const char *after,
                  size_t after_len, size_t max_bytes, char **diff);
/* Fills res->r[i].diff for every file item whose content differs: the diff,
 * or a one-line note for binary, oversized or unfetched files. */
void hlc_pack_diff_results(const struct hlc_pack *p, struct hlc_pack_results *res);

/* A pack name: ^[a-z0-9][a-z0-9_-]{0,63}$. */
bool hlc_pack_valid_name(const char *s);

/* Item kind for the API: "file", "package", "service", "setting". */
const char *hlc_pack_kind(enum hlc_pack_type t);
/* What the item asks, as the API shows it, e.g. "running", "installed". */
const char *hlc_pack_want(enum hlc_pack_type t);

/* The packs that ship with the project (the .yaml files in packs/, built in). */
struct hlc_pack_builtin {
    const char *file;   /* "base.yaml" */
    const char *text;   /* the YAML, NUL-terminated (no NUL inside: the loader refuses it) */
};
extern const struct hlc_pack_builtin hlc_pack_builtins[];
extern const size_t hlc_pack_nbuiltins;

/* ---- apply (pack_apply.c) ------------------------------------------------
 * An apply touches only the items a check found failing: the plan is built
 * from the pack and that check's results alone (pure), the script does every
 * step in one `sh -s` exec and reports one record per planned item, and the
 * parser turns that output into per-item outcomes. Files are written to a
 * temporary file in the same directory, verified by SHA-256, given their mode
 * and owner and renamed over the target; a symlink at the target or in its
 * directory is refused, never written through. */

/* What an apply does to one failing item. */
enum hlc_pack_step_kind {
    HLC_STEP_WRITE_FILE,  /* atomic write of the pack's content (+ mode/owner) */
    HLC_STEP_FIX_META,    /* chmod/chown only: the content already matches */
    HLC_STEP_REMOVE_FILE, /* rm the file (a symlink itself, never its target) */
    HLC_STEP_INSTALL,     /* apt-get install -y --no-install-recommends */
    HLC_STEP_REMOVE_PKG,  /* apt-get remove -y */
    HLC_STEP_ENABLE,      /* systemctl enable --now */
    HLC_STEP_DISABLE,     /* systemctl disable */
    HLC_STEP_START,       /* systemctl start */
    HLC_STEP_STOP,        /* systemctl stop */
    HLC_STEP_SYSCTL,      /* the pack's sysctl drop-in + sysctl -p on it */
    HLC_STEP_TIMEZONE,    /* timedatectl set-timezone */
    HLC_STEP_EDIT_LINE,   /* lineinfile: replace the last match or append, atomically */
    HLC_STEP_REFUSE,      /* not touched (reason says why): reported failed */
};

/* One planned step. */
struct hlc_pack_plan_step {
    size_t item;                  /* index into the pack's items */
    enum hlc_pack_step_kind kind; /* what is done */
    char *description;            /* what will be done, for people (heap) */
    long depends_on;              /* item index this needs to succeed first, or -1 */
};

struct hlc_pack_plan {
    struct hlc_pack_plan_step *s; /* in the order they run */
    size_t n;
    char *sysctl_path;    /* the drop-in written when any sysctl fails, or NULL */
    char *sysctl_content; /* its content (every sysctl item of the pack) */
};

/* The drop-in sysctl items go to: <dir>/90-homelabcmd-<pack>.conf */
#define HLC_PACK_SYSCTL_DIR "/etc/sysctl.d"

/* Builds the plan for pack p from a check's results (res->n == p->nitems):
 * one step per HLC_PACK_FAIL item, none for passing or errored items. Steps
 * run packages first, then files, sysctl, timezone, lines, services last; a
 * unit whose name matches a package being installed, and a line in a file
 * being written, depend on that step. 0 (fill plan; release with
 * hlc_pack_plan_release), HLC_EINVAL (bad arguments). sysctl_dir: where
 * the drop-in goes, NULL = HLC_PACK_SYSCTL_DIR. Pure, thread-safe. */
int hlc_pack_plan_build(const struct hlc_pack *p, const struct hlc_pack_results *res,
                        const char *sysctl_dir, struct hlc_pack_plan *plan);
void hlc_pack_plan_release(struct hlc_pack_plan *plan);
/* The API name of a step kind: "write_file", "install", ... */
const char *hlc_pack_step_name(enum hlc_pack_step_kind k);

/* The apply script for plan (from hlc_pack_plan_build on p) to run as
 * HLC_PACK_CHECK_COMMAND. sudo: prefix every command that changes the
 * machine with `sudo -n` (an SSH user that is not root). Every value is
 * validated again and single-quoted. 0 and *script (heap), HLC_EINVAL. */
int hlc_pack_apply_script(const struct hlc_pack *p, const struct hlc_pack_plan *plan, bool sudo,
                          char **script);

enum hlc_pack_outcome {
    HLC_APPLY_APPLIED,   /* changed the machine, command exited 0 */
    HLC_APPLY_UNCHANGED, /* already as wanted when the step ran */
    HLC_APPLY_FAILED,    /* the command failed, was refused, or never reported */
    HLC_APPLY_SKIPPED,   /* not run: what it depends on failed */
};

/* The outcome of one planned step (same index as the plan's steps). */
struct hlc_pack_apply_item {
    enum hlc_pack_outcome outcome;
    int exit_code;     /* the command's exit status, -1 when it did not report */
    char *stderr_text; /* its stderr (at most 2 KiB, valid UTF-8) or the reason (heap) */
};

struct hlc_pack_apply_results {
    struct hlc_pack_apply_item *r; /* one per plan step */
    size_t n;
    size_t applied, unchanged, failed, skipped;
    bool complete; /* the script reached its end (=END seen) */
};

/* Parses the apply script's output (pure; any bytes accepted; never reads
 * past len). A step with no record is failed with a reason (the session
 * ended before it reported). 0, HLC_EINVAL. Release with
 * hlc_pack_apply_results_release. Thread-safe. */
int hlc_pack_apply_parse(const struct hlc_pack_plan *plan, const char *out, size_t len,
                         struct hlc_pack_apply_results *res);
void hlc_pack_apply_results_release(struct hlc_pack_apply_results *res);
const char *hlc_pack_outcome_name(enum hlc_pack_outcome o);

#endif
