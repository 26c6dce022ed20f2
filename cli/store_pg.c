/* store_pg.c — the store's PostgreSQL driver (libpq).
 *
 * Every parameter goes as text and the server infers its type from the
 * statement, so store.c's SQL serves SQLite and PostgreSQL alike. Read
 * committed isolation is enough: a token's use count is changed by one
 * INSERT ... ON CONFLICT DO UPDATE, which locks the row, and PostgreSQL
 * re-checks its WHERE against the committed value. */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "tokenroll/error.h"

/* SQLSTATE unique_violation */
#define PG_UNIQUE_VIOLATION "23505"

static int pg_connect(void **conn, const char *uri, char *err, size_t err_size)
{
    PGconn *c = PQconnectdb(uri);
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
    *conn = c;
    return 0;
}

static void pg_disconnect(void *conn)
{
    PQfinish(conn);
}

static int pg_exec(void *conn, const char *sql, const char *const *params,
                   int n, db_row_fn fn, void *arg)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
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
    return PQerrorMessage(conn);
}

const db_driver_t db_postgres = {
    "PostgreSQL", pg_connect, pg_disconnect, pg_exec, pg_last_error,
    "BEGIN", "SELECT pg_advisory_xact_lock(7303823)",
};
