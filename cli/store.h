/* store.h — the service's store (tokenroll/store.h) on a SQL database:
 * SQLite (one file, WAL) or PostgreSQL (libpq, shared by several nodes).
 *
 * One implementation of the store's rules (store.c) runs on both through a
 * small driver: run one statement with text parameters, hand rows back as
 * text. The drivers (store_sqlite.c, store_pg.c) know nothing of tokens or
 * certificates. */
#ifndef TKR_CLI_STORE_H
#define TKR_CLI_STORE_H

#include <stddef.h>

#include "tokenroll/store.h"

/* Open the store named by url: "sqlite:PATH" (or a bare path ending in
 * ".db"), or "postgresql://..." / "postgres://..." (libpq's URI syntax).
 * conns is how many operations may run at once (one connection each).
 * The schema is created or migrated to the current version. On failure,
 * err holds a one-line reason naming the database. */
int cli_store_open(tkr_store_t *s, const char *url, int conns, char *err,
                   size_t err_size);
void cli_store_close(tkr_store_t *s);

/* ---- drivers (store.c's side) ---- */

/* Called once per result row with the columns as text ("" for NULL). */
typedef int (*db_row_fn)(void *arg, int ncol, const char *const *col);

typedef struct {
    const char *name;            /* "SQLite", "PostgreSQL" in messages */
    /* Open one connection; err gets the reason. */
    int (*connect)(void **conn, const char *target, char *err, size_t err_size);
    void (*disconnect)(void *conn);
    /* Run one statement with parameters $1..$n, all text. Returns 0,
     * TKR_E_CONFLICT on a uniqueness violation, TKR_E_IO otherwise (the
     * reason in the connection's last error). fn may be NULL. */
    int (*exec)(void *conn, const char *sql, const char *const *params,
                int n, db_row_fn fn, void *arg);
    const char *(*last_error)(void *conn);
    /* Opens a write transaction that serializes with other writers. */
    const char *begin_sql;
    /* Run first in the migration transaction (PostgreSQL: an advisory
     * lock, so two nodes starting together migrate once), or NULL. */
    const char *migrate_lock_sql;
    /* 1 when INSERTs may sit in a WITH (PostgreSQL): an enrollment's
     * writes then go as one statement, one round trip to the server,
     * instead of a transaction of five. */
    int write_ctes;
    /* 1 when the database admits one writer at a time (SQLite): this
     * process's writers then queue on a mutex and are woken as soon as
     * it is free, rather than in SQLite's busy handler, which sleeps a
     * millisecond or more between tries while the core idles. The busy
     * timeout still orders writers of other processes. */
    int one_writer;
} db_driver_t;

extern const db_driver_t db_sqlite;
extern const db_driver_t db_postgres;

#endif
