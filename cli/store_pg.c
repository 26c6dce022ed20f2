/* store_pg.c — the store's PostgreSQL driver (libpq).
 *
 * Every parameter goes as text and the server infers its type from the
 * statement, so store.c's SQL serves SQLite and PostgreSQL alike. Read
 * committed isolation is enough: a token's use count is changed by one
 * INSERT ... ON CONFLICT DO UPDATE, which locks the row, and PostgreSQL
 * re-checks its WHERE against the committed value.
 *
 * Each connection prepares a statement the first time it runs its text
 * and executes it by name afterwards: the server parses and plans each of
 * the store's few SQL texts once per connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "tokenroll/error.h"

/* SQLSTATE unique_violation */
#define PG_UNIQUE_VIOLATION "23505"
/* More than the store's distinct statements; past it, statements are sent
 * whole per call as before. */
#define STMT_CACHE 48

typedef struct {
    PGconn *pg;
    const char *sql[STMT_CACHE]; /* prepared as "s<index>" */
    int ncache;
} pg_conn_t;

static int pg_connect(void **conn, const char *uri, char *err, size_t err_size)
{
    PGconn *c = PQconnectdb(uri);
    pg_conn_t *pc;
    PGresult *r;

    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        const char *m = c ? PQerrorMessage(c) : "out of memory";
        size_t n = strcspn(m, "\n");
        snprintf(err, err_size, "cannot connect to PostgreSQL: %.*s", (int)n, m);
        PQfinish(c);
        return TKR_E_IO;
    }
    /* Quiet NOTICEs ("relation already exists") off stderr. */
    r = PQexec(c, "SET client_min_messages TO WARNING");
    PQclear(r);
    if ((pc = calloc(1, sizeof(*pc))) == NULL) {
        snprintf(err, err_size, "out of memory");
        PQfinish(c);
        return TKR_E_NO_MEMORY;
    }
    pc->pg = c;
    *conn = pc;
    return 0;
}

static void pg_disconnect(void *conn)
{
    pg_conn_t *pc = conn;

    if (pc == NULL)
        return;
    PQfinish(pc->pg);
    free(pc);
}

/* Run sql: by the name of its prepared statement, preparing it the first
 * time while there is room; sent whole when it cannot be prepared. */
static PGresult *run(pg_conn_t *pc, const char *sql, const char *const *params, int n)
{
    char name[16];
    PGresult *r;
    int i;

    for (i = 0; i < pc->ncache; i++)
        if (pc->sql[i] == sql || strcmp(pc->sql[i], sql) == 0)
            break;
    if (i == pc->ncache) {
        if (i == STMT_CACHE)
            return PQexecParams(pc->pg, sql, n, NULL, params, NULL, NULL, 0);
        snprintf(name, sizeof(name), "s%d", i);
        r = PQprepare(pc->pg, name, sql, n, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(r);
            return PQexecParams(pc->pg, sql, n, NULL, params, NULL, NULL, 0);
        }
        PQclear(r);
        pc->sql[pc->ncache++] = sql;
    }
    snprintf(name, sizeof(name), "s%d", i);
    return PQexecPrepared(pc->pg, name, n, params, NULL, NULL, 0);
}

static int pg_exec(void *conn, const char *sql, const char *const *params,
                   int n, db_row_fn fn, void *arg)
{
    PGresult *r = run(conn, sql, params, n);
    ExecStatusType st = PQresultStatus(r);
    const char *cols[32];
    int rc = 0, row, i, ncol;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        rc = state != NULL && strcmp(state, PG_UNIQUE_VIOLATION) == 0 ? TKR_E_CONFLICT
                                                                       : TKR_E_IO;
        PQclear(r);
        return rc;
    }
    ncol = PQnfields(r);
    if (ncol > (int)(sizeof(cols) / sizeof(cols[0]))) {
        PQclear(r);
        return TKR_E_IO;
    }
    for (row = 0; rc == 0 && row < PQntuples(r); row++) {
        for (i = 0; i < ncol; i++)
            cols[i] = PQgetvalue(r, row, i);
        if (fn != NULL)
            rc = fn(arg, ncol, cols);
    }
    PQclear(r);
    return rc;
}

static const char *pg_last_error(void *conn)
{
    return PQerrorMessage(((pg_conn_t *)conn)->pg);
}

const db_driver_t db_postgres = {
    "PostgreSQL", pg_connect, pg_disconnect, pg_exec, pg_last_error,
    "BEGIN", "SELECT pg_advisory_xact_lock(7303823)", 1, 0,
};
