/* store_sqlite.c — the store's SQLite driver.
 *
 * WAL, so readers never wait for the writer; a busy timeout, so writers from
 * other threads or processes queue instead of failing; synchronous=NORMAL,
 * which in WAL mode loses nothing when the process dies (only a power cut
 * can roll back the last commits). Writers start with BEGIN IMMEDIATE: the
 * write lock is taken before the first read, so a token's use count cannot
 * be read by two writers at once.
 *
 * Each connection keeps its statements prepared: the store runs the same
 * few SQL texts over and over, and compiling one cost about as much as
 * running it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "tokenroll/error.h"

#define BUSY_TIMEOUT_MS 30000
/* More than the store's distinct statements; past it, statements are
 * compiled per call as before. */
#define STMT_CACHE 48

typedef struct {
    sqlite3 *db;
    struct {
        const char *sql;         /* the store's text (a literal), as given */
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    int ncache;
} sq_conn_t;

static int sq_connect(void **conn, const char *path, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    sq_conn_t *c;
    static const char *const pragmas[] = {
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON"};
    size_t i;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);

    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open SQLite database %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return TKR_E_IO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++)
        if (sqlite3_exec(db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, err_size, "SQLite database %s: %s", path, sqlite3_errmsg(db));
            sqlite3_close(db);
            return TKR_E_IO;
        }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        snprintf(err, err_size, "out of memory");
        sqlite3_close(db);
        return TKR_E_NO_MEMORY;
    }
    c->db = db;
    *conn = c;
    return 0;
}

static void sq_disconnect(void *conn)
{
    sq_conn_t *c = conn;
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < c->ncache; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

/* The statement for sql, from the cache or compiled (and kept when there
 * is room; *kept says so). The text is compared, not only its address. */
static sqlite3_stmt *statement(sq_conn_t *c, const char *sql, int *kept)
{
    sqlite3_stmt *st = NULL;
    int i;

    for (i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == sql || strcmp(c->cache[i].sql, sql) == 0) {
            *kept = 1;
            return c->cache[i].st;
        }
    *kept = c->ncache < STMT_CACHE;
    if (sqlite3_prepare_v3(c->db, sql, -1, *kept ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                           NULL) != SQLITE_OK)
        return NULL;
    if (*kept) {
        c->cache[c->ncache].sql = sql;
        c->cache[c->ncache].st = st;
        c->ncache++;
    }
    return st;
}

/* Done with st: a kept statement is reset, with its parameters unbound
 * (they point into the caller's strings), another one finalized. */
static void done(sqlite3_stmt *st, int kept)
{
    if (kept) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
}

static int sq_exec(void *conn, const char *sql, const char *const *params,
                   int n, db_row_fn fn, void *arg)
{
    sq_conn_t *c = conn;
    sqlite3_stmt *st;
    const char *cols[32];
    int i, rc, ncol, kept;

    if ((st = statement(c, sql, &kept)) == NULL)
        return TKR_E_IO;
    for (i = 0; i < n; i++) {
        char name[16];
        int at;
        snprintf(name, sizeof(name), "$%d", i + 1);
        at = sqlite3_bind_parameter_index(st, name);
        if (at == 0 || sqlite3_bind_text(st, at, params[i], -1, SQLITE_STATIC) != SQLITE_OK) {
            done(st, kept);
            return TKR_E_IO;
        }
    }
    ncol = sqlite3_column_count(st);
    if (ncol > (int)(sizeof(cols) / sizeof(cols[0]))) {
        done(st, kept);
        return TKR_E_IO;
    }
    rc = 0;
    while (rc == 0) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = (s & 0xff) == SQLITE_CONSTRAINT ? TKR_E_CONFLICT : TKR_E_IO;
            break;
        }
        for (i = 0; i < ncol; i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            cols[i] = v ? (const char *)v : "";
        }
        if (fn != NULL)
            rc = fn(arg, ncol, cols);
    }
    done(st, kept);
    return rc;
}

static const char *sq_last_error(void *conn)
{
    return sqlite3_errmsg(((sq_conn_t *)conn)->db);
}

const db_driver_t db_sqlite = {
    "SQLite", sq_connect, sq_disconnect, sq_exec, sq_last_error,
    "BEGIN IMMEDIATE", NULL, 0, 1,
};
