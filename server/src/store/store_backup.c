/* store_backup.c - consistent copies of the database file: an online backup
 * while the hub runs, the integrity check, and restore into a stopped hub's
 * data directory. These work on files by path, beside (not through) an open
 * hlc_store, because the backup runs in another process than the hub. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlc/base.h"

/* Opens `path` with `flags`; waits up to 10 s on the hub's write locks. */
static int
open_db(const char *path, int flags, sqlite3 **out)
{
    *out = NULL;
    int rc = sqlite3_open_v2(path, out, flags, NULL);
    if (rc != SQLITE_OK) {
        hlc_log(HLC_LOG_ERROR, "store: cannot open %s: %s", path,
                *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
        sqlite3_close(*out);
        *out = NULL;
        return HLC_EDB;
    }
    sqlite3_busy_timeout(*out, 10000);
    return 0;
}

/* Runs the integrity check on an open connection: 0, or HLC_EDB with the
 * first problem SQLite names copied to why. */
static int
check_db(sqlite3 *db, char *why, size_t whylen)
{
    sqlite3_stmt *st = NULL;
    int rc = HLC_EDB;
    snprintf(why, whylen, "%s", "the integrity check did not run");
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        goto out;
    }
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        goto out;
    }
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (res && strcmp(res, "ok") == 0) {
        why[0] = '\0';
        rc = 0;
    } else {
        snprintf(why, whylen, "%s", res ? res : "no answer");
    }
out:
    sqlite3_finalize(st);
    return rc;
}

/* The schema level of an open connection, or -1. */
static int
schema_of(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int
hlc_store_check_file(const char *path, int *schema, char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    if (access(path, R_OK) != 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return HLC_ENOTFOUND;
    }
    int rc = open_db(path, SQLITE_OPEN_READONLY, &db);
    if (rc != 0) {
        snprintf(why, whylen, "%s cannot be opened as a database", path);
        return rc;
    }
    rc = check_db(db, why, whylen);
    if (schema)
        *schema = schema_of(db);
    sqlite3_close(db);
    return rc;
}

/* fsync of the directory holding `path`, so a rename into it is durable. */
static int
sync_dir_of(const char *path)
{
    char *copy = hlc_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return HLC_EIO;
    int rc = fsync(fd) == 0 ? 0 : HLC_EIO;
    close(fd);
    return rc;
}

/* Copies the whole database `from` into a new file `tmp` (a single-file
 * database in rollback-journal mode, so the copy is one self-contained file),
 * fsyncs it and checks it. The source is read in one step: under WAL that is
 * one read transaction, a consistent snapshot, and the hub's writers go on. */
static int
copy_to_tmp(sqlite3 *from, const char *tmp, char *why, size_t whylen)
{
    sqlite3 *to = NULL;
    sqlite3_backup *b = NULL;
    /* Created 0600 before SQLite opens it: the copy holds sealed secrets and
     * the hub's settings, readable by the hub's user alone. */
    int cfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (cfd < 0) {
        snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
        return HLC_EIO;
    }
    close(cfd);
    int rc = open_db(tmp, SQLITE_OPEN_READWRITE, &to);
    if (rc != 0) {
        snprintf(why, whylen, "cannot create %s", tmp);
        goto out;
    }
    b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        snprintf(why, whylen, "backup: %s", sqlite3_errmsg(to));
        rc = HLC_EDB;
        goto out;
    }
    int step;
    do {
        step = sqlite3_backup_step(b, -1);
        if (step == SQLITE_BUSY || step == SQLITE_LOCKED)
            sqlite3_sleep(50);
    } while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    b = NULL;
    if (step != SQLITE_DONE) {
        snprintf(why, whylen, "backup: %s", sqlite3_errstr(step));
        rc = HLC_EDB;
        goto out;
    }
    /* The copy takes the source's journal mode (WAL): make it one file. */
    char *err = NULL;
    if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, &err) != SQLITE_OK) {
        snprintf(why, whylen, "backup: %s", err ? err : "journal mode");
        sqlite3_free(err);
        rc = HLC_EDB;
        goto out;
    }
    rc = check_db(to, why, whylen);
out:
    if (to)
        sqlite3_close(to);
    if (rc == 0) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            snprintf(why, whylen, "cannot sync %s: %s", tmp, strerror(errno));
            rc = HLC_EIO;
        }
        if (fd >= 0)
            close(fd);
    }
    return rc;
}

/* Puts tmp in place of dest by rename and syncs the directory. */
static int
commit_tmp(const char *tmp, const char *dest, char *why, size_t whylen)
{
    if (rename(tmp, dest) != 0) {
        snprintf(why, whylen, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
        return HLC_EIO;
    }
    if (sync_dir_of(dest) != 0) {
        snprintf(why, whylen, "cannot sync the directory of %s", dest);
        return HLC_EIO;
    }
    return 0;
}

/* Copies the database `src` (opened with `flags`) to dest through a
 * temporary file beside dest: checked, synced, renamed over it. With
 * drop_wal, dest's old -wal/-shm go first: left beside the new file, SQLite
 * would replay the old file's log into it. On failure dest is untouched. */
static int
copy_db(const char *src, int flags, const char *dest, bool drop_wal, char *why, size_t whylen)
{
    sqlite3 *from = NULL;
    char *tmp = hlc_xasprintf("%s.tmp-%ld", dest, (long)getpid());
    char *wal = hlc_xasprintf("%s-wal", dest);
    char *shm = hlc_xasprintf("%s-shm", dest);
    int rc = open_db(src, flags, &from);
    if (rc != 0) {
        snprintf(why, whylen, "cannot open %s", src);
        goto out;
    }
    unlink(tmp);
    rc = copy_to_tmp(from, tmp, why, whylen);
    if (rc == 0 && drop_wal &&
        ((unlink(wal) != 0 && errno != ENOENT) || (unlink(shm) != 0 && errno != ENOENT))) {
        snprintf(why, whylen, "cannot remove %s-wal/-shm: %s", dest, strerror(errno));
        rc = HLC_EIO;
    }
    if (rc == 0)
        rc = commit_tmp(tmp, dest, why, whylen);
out:
    if (rc != 0)
        unlink(tmp);
    sqlite3_close(from);
    free(tmp);
    free(wal);
    free(shm);
    return rc;
}

int
hlc_store_backup_file(const char *db_path, const char *dest, char *why, size_t whylen)
{
    why[0] = '\0';
    if (access(db_path, R_OK) != 0) {
        snprintf(why, whylen, "%s: %s", db_path, strerror(errno));
        return HLC_ENOTFOUND;
    }
    /* Read-write (never written): a WAL reader must be able to take the
     * shared-memory locks, which a read-only open can fail to do. */
    return copy_db(db_path, SQLITE_OPEN_READWRITE, dest, false, why, whylen);
}

int
hlc_store_restore_file(const char *src, const char *db_path, char *why, size_t whylen)
{
    int schema = -1;
    int rc = hlc_store_check_file(src, &schema, why, whylen);
    if (rc != 0)
        return rc;
    if (schema > store_nmigrations) {
        snprintf(why, whylen, "%s has schema %d, newer than this build (%d)", src, schema,
                 store_nmigrations);
        return HLC_ERANGE;
    }
    return copy_db(src, SQLITE_OPEN_READONLY, db_path, true, why, whylen);
}
