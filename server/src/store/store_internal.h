/* store_internal.h - what the store*.c files share: pooled connections,
 * cached statements, transactions and column<->JSON mapping. */
#ifndef HLC_STORE_INTERNAL_H
#define HLC_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "store.h"

/* Statements are cached per connection, keyed by their static SQL string;
 * the set is fixed at build time (~100 today) and the cache grows to hold it.
 * Past this many something builds SQL at run time: refuse loudly. */
#define STORE_STMT_CACHE_MAX 1024
#define STORE_CFG_MEMO 16

/* A config row as last read, valid until the next config write. */
struct store_cfg_memo {
    char key[32];           /* config key */
    json_t *value;          /* parsed value, or NULL when no row */
    unsigned long long gen; /* cfg_generation it was read at, plus 1 (0: unread) */
};

struct store_conn {
    sqlite3 *db;                             /* one SQLite connection */
    const char **sql_key;                    /* cache keys: static SQL strings */
    sqlite3_stmt **stmt;                     /* prepared once, reset per use */
    int nstmt, cap;                          /* entries used, allocated */
    struct store_conn *next_free;            /* free-list link */
    sqlite3_int64 changes_at_acquire;        /* total_changes when handed out */
};

struct hlc_store {
    char *path;                 /* database file */
    struct store_conn *conns;   /* nconns connections */
    unsigned nconns;            /* pool size */
    struct store_conn *free;    /* connections not in use */
    pthread_mutex_t mu;         /* guards free */
    pthread_cond_t cv;          /* signalled when one is returned */
    _Atomic unsigned long long generation; /* bumped after any call that wrote */
    _Atomic unsigned long long alerts_generation; /* bumped after alert writes */
    /* bumped after each write to machines' rows or expected services */
    _Atomic unsigned long long machines_generation;
    /* Metric ingest's own connection: always the same one, so the pages it
     * rewrites on every batch stay in its cache instead of being re-read
     * by whichever pool connection comes next. */
    struct store_conn ingest;
    pthread_mutex_t ingest_mu;
    /* WAL checkpoints run on a thread of their own (never inside a commit a
     * request waits for): commits signal it past STORE_CKPT_PAGES. */
    struct store_conn ckpt;
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    bool ckpt_want, ckpt_stop, ckpt_started;
    _Atomic int ckpt_done;   /* frames the last checkpoint copied */
    /* Config rows are read on every poll and many requests and written
     * only when an operator saves settings: the parsed rows are kept until
     * the next config write. */
    pthread_mutex_t cfg_mu;                    /* guards cfg_memo */
    _Atomic unsigned long long cfg_generation; /* bumped after each config write */
    struct store_cfg_memo cfg_memo[STORE_CFG_MEMO];
};

/* Migrations: index i holds the SQL that upgrades user_version i to i+1. */
extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Takes a connection from the pool (blocks while all are busy). */
struct store_conn *store_acquire(struct hlc_store *s);
void store_release(struct hlc_store *s, struct store_conn *c);
/* Metric ingest's dedicated connection (one user at a time). */
struct store_conn *store_acquire_ingest(struct hlc_store *s);
void store_release_ingest(struct hlc_store *s, struct store_conn *c);
/* A cached prepared statement for a static SQL string (keyed by its address),
 * reset and unbound. NULL on a prepare error (logged). */
sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql);
/* Logs SQLite's message for a failed call and returns HLC_EDB. */
int store_fail(struct store_conn *c, const char *what);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store_conn *c);
int store_commit(struct store_conn *c);
void store_rollback(struct store_conn *c);
/* Steps a write statement to its end and resets it: 0, or HLC_EDB (logged
 * with `what`). */
int store_step_done(struct store_conn *c, sqlite3_stmt *st, const char *what);
/* As store_step_done, and HLC_ENOTFOUND when the statement changed no row. */
int store_step_changed(struct store_conn *c, sqlite3_stmt *st, const char *what);
/* Whether `sql` (one text parameter ?1 = a) finds a row: 1, 0, or HLC_EDB. */
int store_exists(struct store_conn *c, const char *sql, const char *a);
/* Runs SQL with no results (may hold several statements). */
int store_exec(struct store_conn *c, const char *sql);

/* Column kinds for mapping rows to API JSON. */
enum store_col_kind {
    COL_TEXT, /* TEXT, null allowed */
    COL_INT,  /* INTEGER */
    COL_REAL, /* REAL */
    COL_BOOL, /* INTEGER 0/1 as JSON true/false */
    COL_TIME, /* INTEGER epoch seconds as ISO 8601 text */
    COL_JSON, /* TEXT holding JSON */
};

struct store_col {
    const char *name;         /* column and JSON key */
    enum store_col_kind kind; /* how it maps */
};

/* Inserts outbox rows inside the caller's transaction (store_alerts.c). */
int store_outbox_put(struct store_conn *c, const struct hlc_outbox_row *rows, size_t n,
                     int64_t now);

/* Inserts a validated machine (as hlc_store_machine_insert) inside the
 * caller's transaction: 0, HLC_EEXISTS (server_id taken), HLC_EDB. */
int store_machine_insert_in(struct store_conn *c, json_t *m);
/* Releases c after a call that may have written machines' rows: the
 * machines generation moves (store_machines.c). */
void store_machines_release(struct hlc_store *s, struct store_conn *c);

/* Adds a sample's filesystems (HLC_HAVE_FS, at most HLC_SAMPLE_MAX_FS of
 * them) to their history and hourly sums inside the caller's transaction
 * (store_series.c): 0 or HLC_EDB. */
struct hlc_sample;
int store_fs_history_put(struct store_conn *c, const char *id, int64_t ts,
                         const struct hlc_sample *smp);
/* The same for its temperature sensors (HLC_HAVE_TEMPS, at most
 * HLC_SAMPLE_MAX_TEMPS; a zone listed twice is stored once, the first
 * reading kept; a zone without a name or a finite reading skipped). */
int store_temp_history_put(struct store_conn *c, const char *id, int64_t ts,
                           const struct hlc_sample *smp);

/* Builds a JSON object from the current row using `cols` (the statement's
 * result columns in the same order). */
json_t *store_row_json(sqlite3_stmt *st, const struct store_col *cols, int ncols);
/* Binds v to parameter i, or NULL when it is not finite (NaN = none). */
void store_bind_real(sqlite3_stmt *st, int i, double v);
/* Hands a read's result over: *out = v (which it takes) when rc is 0, else
 * v is freed and *out left as it was. Returns rc. */
int store_result(int rc, json_t *v, json_t **out);
/* A read of one row by key: *out = the one row of `list` (which it takes),
 * HLC_ENOTFOUND when there is none; a failed read's rc passes through. */
int store_single_row(int rc, json_t *list, json_t **out);
/* 0 when machine id exists, HLC_ENOTFOUND, or HLC_EDB (logged). */
int store_machine_exists(struct store_conn *c, const char *id);
/* Binds obj[col.name] for each col to parameters first..first+ncols-1
 * (missing or null keys bind NULL). */
int store_bind_json(sqlite3_stmt *st, int first, json_t *obj, const struct store_col *cols,
                    int ncols);
/* Steps st to the end, each row as store_row_json into a new array in *out;
 * resets st. 0, or HLC_EDB (logged with `what`; *out untouched). */
int store_collect_rows(struct store_conn *c, sqlite3_stmt *st, const struct store_col *cols,
                       int ncols, json_t **out, const char *what);
/* Steps st to the end, calling row(st, acc) for each row; resets st. st may
 * be NULL (a failed prepare, already logged): HLC_EDB. 0, or HLC_EDB (logged
 * with `what`). */
int store_each_row(struct store_conn *c, sqlite3_stmt *st, void (*row)(sqlite3_stmt *, json_t *),
                   json_t *acc, const char *what);
/* The one row `sql` (one text parameter ?1 = key) finds, as store_row_json
 * into *out (set only on success), on a pooled connection of its own. 0,
 * HLC_ENOTFOUND when there is none, or HLC_EDB (logged with `what`). */
int store_get_row(struct hlc_store *s, const char *sql, const char *key,
                  const struct store_col *cols, int ncols, json_t **out, const char *what);

#endif
