/* store.c — the service store's rules in SQL, once for both databases.
 *
 * A token use is one row per jti in `tokens`; spending is a single
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE uses < max_uses RETURNING,
 * which grants a use or returns no row, atomically in both databases. It
 * runs in the same transaction as the row it pays for (enrolled or
 * pending), so a crash leaves both or neither. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tokenroll/error.h"

#define POOL_MAX 64
#define SCHEMA_VERSION 4

typedef struct {
    const db_driver_t *drv;
    void *conn[POOL_MAX];
    int idle[POOL_MAX];
    int nidle, nconn;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t writer;      /* held from begin() to finish() */
} sql_store_t;

/* Each step of the schema, in order; a database at version v has run every
 * step whose version is <= v. Plain SQL that SQLite and PostgreSQL read
 * alike (TEXT, BIGINT, partial unique index). */
static const struct {
    int version;
    const char *sql;
} migrations[] = {
    {1, "CREATE TABLE tokens (jti TEXT PRIMARY KEY, uses BIGINT NOT NULL, "
        "max_uses BIGINT NOT NULL, first_used BIGINT NOT NULL)"},
    {1, "CREATE TABLE enrolled (name TEXT NOT NULL, type TEXT NOT NULL, "
        "org TEXT NOT NULL, role TEXT NOT NULL, serial TEXT NOT NULL UNIQUE, "
        "fingerprint TEXT NOT NULL, not_after BIGINT NOT NULL, "
        "created BIGINT NOT NULL, cert TEXT NOT NULL, jti TEXT NOT NULL, "
        "PRIMARY KEY (name, type))"},
    {1, "CREATE TABLE pending (request_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "type TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL, "
        "jti TEXT NOT NULL, source_ip TEXT NOT NULL, key_fp TEXT NOT NULL, "
        "status TEXT NOT NULL, rule TEXT NOT NULL, created BIGINT NOT NULL, "
        "expires BIGINT NOT NULL, csr TEXT NOT NULL, cert TEXT NOT NULL)"},
    /* One waiting request per name and type. */
    {1, "CREATE UNIQUE INDEX pending_waiting ON pending (name, type) "
        "WHERE status = 'pending'"},
    {1, "CREATE INDEX pending_by_name ON pending (name, type, created)"},
    {1, "CREATE TABLE audit (t BIGINT NOT NULL, line TEXT NOT NULL)"},
    /* 2: webhook notifications, kept until delivered. */
    {2, "CREATE TABLE notices (id TEXT PRIMARY KEY, url TEXT NOT NULL, "
        "body TEXT NOT NULL, attempts BIGINT NOT NULL, next_at BIGINT NOT NULL, "
        "created BIGINT NOT NULL)"},
    {2, "CREATE INDEX notices_due ON notices (next_at)"},
    /* 3: certificates of the JWT authenticator: by serial, several per name. */
    {3, "CREATE TABLE certs (name TEXT NOT NULL, type TEXT NOT NULL, "
        "org TEXT NOT NULL, role TEXT NOT NULL, serial TEXT PRIMARY KEY, "
        "fingerprint TEXT NOT NULL, not_after BIGINT NOT NULL, "
        "created BIGINT NOT NULL, cert TEXT NOT NULL, status TEXT NOT NULL)"},
    {3, "CREATE INDEX certs_by_name ON certs (name, created)"},
    /* 4: the key of each certificate (a device that lost its answer asks
     * again with the same key and token), and revocations. Both tables
     * carry the same columns, so that one SELECT list reads either. */
    {4, "ALTER TABLE enrolled ADD COLUMN key_fp TEXT NOT NULL DEFAULT ''"},
    {4, "ALTER TABLE enrolled ADD COLUMN status TEXT NOT NULL DEFAULT 'VALID'"},
    {4, "ALTER TABLE enrolled ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0"},
    {4, "ALTER TABLE enrolled ADD COLUMN reason TEXT NOT NULL DEFAULT ''"},
    {4, "ALTER TABLE certs ADD COLUMN key_fp TEXT NOT NULL DEFAULT ''"},
    {4, "ALTER TABLE certs ADD COLUMN jti TEXT NOT NULL DEFAULT ''"},
    {4, "ALTER TABLE certs ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0"},
    {4, "ALTER TABLE certs ADD COLUMN reason TEXT NOT NULL DEFAULT ''"},
    /* ... and where a pending request's notices go, for a later reject. */
    {4, "ALTER TABLE pending ADD COLUMN notify TEXT NOT NULL DEFAULT ''"},
};

/* ---- connections ---- */

static void *acquire(sql_store_t *s)
{
    void *c;

    pthread_mutex_lock(&s->mu);
    while (s->nidle == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    c = s->conn[s->idle[--s->nidle]];
    pthread_mutex_unlock(&s->mu);
    return c;
}

static void release(sql_store_t *s, void *c)
{
    int i;

    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->nconn; i++)
        if (s->conn[i] == c)
            s->idle[s->nidle++] = i;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int run(sql_store_t *s, void *c, const char *sql)
{
    return s->drv->exec(c, sql, NULL, 0, NULL, NULL);
}

/* Open a write transaction; every begin() is closed by finish(), also
 * when it failed. */
static int begin(sql_store_t *s, void *c)
{
    if (s->drv->one_writer)
        pthread_mutex_lock(&s->writer);
    return run(s, c, s->drv->begin_sql);
}

/* Commit when rc is 0, else roll back; returns rc (or the commit's
 * failure). */
static int finish(sql_store_t *s, void *c, int rc)
{
    if (rc == 0) {
        rc = run(s, c, "COMMIT");
        if (rc != 0)
            run(s, c, "ROLLBACK");
    } else {
        run(s, c, "ROLLBACK");
    }
    if (s->drv->one_writer)
        pthread_mutex_unlock(&s->writer);
    return rc;
}

/* ---- rows ---- */

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static int row_int(void *arg, int ncol, const char *const *col)
{
    if (ncol < 1)
        return TKR_E_IO;
    *(int64_t *)arg = strtoll(col[0], NULL, 10);
    return 0;
}

static int row_found(void *arg, int ncol, const char *const *col)
{
    (void)ncol;
    (void)col;
    *(int *)arg = 1;
    return 0;
}

/* What both certificate tables hold (enrolled, certs); a write names the
 * first ten and the table's own. */
#define ENTITY_COLS_W \
    "name, type, org, role, serial, fingerprint, not_after, created, cert, key_fp"
#define ENTITY_COLS ENTITY_COLS_W ", jti, status, revoked_at, reason"
#define ENTITY_NCOL 14

static void entity_from(tkr_store_entity_t *e, const char *const *c)
{
    memset(e, 0, sizeof(*e));
    copy(e->name, sizeof(e->name), c[0]);
    copy(e->type, sizeof(e->type), c[1]);
    copy(e->org, sizeof(e->org), c[2]);
    copy(e->role, sizeof(e->role), c[3]);
    copy(e->serial, sizeof(e->serial), c[4]);
    copy(e->fingerprint, sizeof(e->fingerprint), c[5]);
    e->not_after = strtoll(c[6], NULL, 10);
    e->created = strtoll(c[7], NULL, 10);
    copy(e->cert, sizeof(e->cert), c[8]);
    copy(e->key_fp, sizeof(e->key_fp), c[9]);
    copy(e->jti, sizeof(e->jti), c[10]);
    copy(e->status, sizeof(e->status), c[11]);
    e->revoked_at = strtoll(c[12], NULL, 10);
    copy(e->reason, sizeof(e->reason), c[13]);
}

#define PENDING_COLS \
    "request_id, name, type, org, role, jti, source_ip, key_fp, status, " \
    "rule, created, expires, csr, cert, notify"

static void pending_from(tkr_store_pending_t *p, const char *const *c)
{
    memset(p, 0, sizeof(*p));
    copy(p->request_id, sizeof(p->request_id), c[0]);
    copy(p->name, sizeof(p->name), c[1]);
    copy(p->type, sizeof(p->type), c[2]);
    copy(p->org, sizeof(p->org), c[3]);
    copy(p->role, sizeof(p->role), c[4]);
    copy(p->jti, sizeof(p->jti), c[5]);
    copy(p->source_ip, sizeof(p->source_ip), c[6]);
    copy(p->key_fp, sizeof(p->key_fp), c[7]);
    copy(p->status, sizeof(p->status), c[8]);
    copy(p->rule, sizeof(p->rule), c[9]);
    p->created = strtoll(c[10], NULL, 10);
    p->expires = strtoll(c[11], NULL, 10);
    copy(p->csr, sizeof(p->csr), c[12]);
    copy(p->cert, sizeof(p->cert), c[13]);
    copy(p->notify, sizeof(p->notify), c[14]);
}

/* Row callbacks that fill one struct, or call the caller's per-row fn. */
typedef struct {
    tkr_store_entity_t *one;
    tkr_store_entity_fn fn;
    tkr_store_pending_t *pone;
    tkr_store_pending_fn pfn;
    void *arg;
    int found;
} rows_t;

static int row_entity(void *arg, int ncol, const char *const *col)
{
    rows_t *r = arg;
    tkr_store_entity_t *e = r->one;
    int rc;

    if (ncol != ENTITY_NCOL)
        return TKR_E_IO;
    r->found = 1;
    if (e != NULL) {
        entity_from(e, col);
        return 0;
    }
    if ((e = malloc(sizeof(*e))) == NULL)
        return TKR_E_IO;
    entity_from(e, col);
    rc = r->fn(r->arg, e);
    free(e);
    return rc;
}

static int row_pending(void *arg, int ncol, const char *const *col)
{
    rows_t *r = arg;
    tkr_store_pending_t *p = r->pone;
    int rc;

    if (ncol != 15)
        return TKR_E_IO;
    r->found = 1;
    if (p != NULL) {
        pending_from(p, col);
        return 0;
    }
    if ((p = malloc(sizeof(*p))) == NULL)
        return TKR_E_IO;
    pending_from(p, col);
    rc = r->pfn(r->arg, p);
    free(p);
    return rc;
}

static void i64_text(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

/* One audit line at time t, on connection c (inside a transaction or
 * on its own). */
static int add_audit(sql_store_t *s, void *c, int64_t t, const char *line)
{
    char tt[24];
    const char *p[2] = {tt, line};

    i64_text(tt, t);
    return s->drv->exec(c, "INSERT INTO audit (t, line) VALUES ($1, $2)", p, 2, NULL, NULL);
}

/* ---- operations ---- */

/* One use of a token, from ROW (its jti, max_uses and the time): the first
 * use inserts its row, a later one counts while uses < max_uses;
 * RETURNING gives no row when it is spent. The same rule alone (spend)
 * and inside PostgreSQL's one-statement enrollment. */
#define SPEND_SQL(ROW)                                                           \
    "INSERT INTO tokens (jti, uses, max_uses, first_used) " ROW " ON CONFLICT " \
    "(jti) DO UPDATE SET uses = tokens.uses + 1 WHERE tokens.uses < "           \
    "tokens.max_uses RETURNING uses"

/* One use of the token: TKR_E_SPENT when none is left. */
static int spend(sql_store_t *s, void *c, const tkr_store_use_t *use, int64_t now)
{
    char max[24], t[24];
    const char *p[3];
    int64_t uses = 0;
    int rc;

    if (use->max_uses < 1)
        return TKR_E_SPENT;
    i64_text(max, use->max_uses);
    i64_text(t, now);
    p[0] = use->jti;
    p[1] = max;
    p[2] = t;
    rc = s->drv->exec(c,
                      SPEND_SQL("VALUES ($1, 1, $2, $3)"),
                      p, 3, row_int, &uses);
    if (rc == 0 && uses == 0)
        rc = TKR_E_SPENT;
    return rc;
}

/* The ten parameters ($1..$10) of an entity row, in ENTITY_COLS_W's
 * order; na and cr hold the two numbers as text. */
static void entity_params(const char *p[10], char na[24], char cr[24],
                          const tkr_store_entity_t *e)
{
    i64_text(na, e->not_after);
    i64_text(cr, e->created);
    p[0] = e->name;
    p[1] = e->type;
    p[2] = e->org;
    p[3] = e->role;
    p[4] = e->serial;
    p[5] = e->fingerprint;
    p[6] = na;
    p[7] = cr;
    p[8] = e->cert;
    p[9] = e->key_fp;
}

/* e into table (enrolled or certs), with extra as its own last column
 * (enrolled: the token id; certs: the status). */
static int insert_entity_in(sql_store_t *s, void *c, const char *sql,
                            const tkr_store_entity_t *e, const char *extra)
{
    char na[24], cr[24];
    const char *p[11];

    entity_params(p, na, cr, e);
    p[10] = extra;
    return s->drv->exec(c, sql, p, 11, NULL, NULL);
}

static int insert_entity(sql_store_t *s, void *c, const tkr_store_entity_t *e,
                         const char *jti)
{
    return insert_entity_in(s, c,
                            "INSERT INTO enrolled (" ENTITY_COLS_W ", jti) VALUES "
                            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                            e, jti);
}

/* Any request in pending for the name ($1) and type ($2), whatever its
 * status: the history an unread enrollment must not pass. One text for
 * SQLite's check and PostgreSQL's one-statement enrollment. */
#define HISTORY_SQL "SELECT 1 FROM pending WHERE name = $1 AND type = $2"

/* TKR_E_CONFLICT when use->unread and the name has that history: the
 * caller has not seen it yet. */
static int check_unread(sql_store_t *s, void *c, const tkr_store_use_t *use,
                        const tkr_store_entity_t *e)
{
    const char *p[2] = {e->name, e->type};
    int found = 0, rc;

    if (!use->unread)
        return 0;
    rc = s->drv->exec(c, HISTORY_SQL " LIMIT 1", p, 2, row_found, &found);
    return rc == 0 && found ? TKR_E_CONFLICT : rc;
}

/* st_enroll's transaction as one statement, for a driver with write_ctes:
 * the use is spent unless the name has an unread history ($14 = '1' and
 * a request in pending: -1), then the entity and the audit line ($13; ""
 * is none) are inserted only from the row the spend returned. A statement
 * is atomic: a name already enrolled fails it whole (TKR_E_CONFLICT) and
 * spends nothing; a token without a use left inserts nothing and returns
 * 0 (TKR_E_SPENT). */
static int enroll_one_statement(sql_store_t *s, void *c, const tkr_store_use_t *use,
                                const tkr_store_entity_t *e)
{
    char na[24], cr[24], max[24];
    const char *p[14];
    int64_t uses = 0;
    int rc;

    if (use->max_uses < 1)
        return TKR_E_SPENT;
    entity_params(p, na, cr, e);
    i64_text(max, use->max_uses);
    p[10] = use->jti;
    p[11] = max;
    p[12] = use->audit != NULL ? use->audit : "";
    p[13] = use->unread ? "1" : "0";
    rc = s->drv->exec(c,
                      "WITH hist AS (SELECT EXISTS (" HISTORY_SQL " AND $14 = '1') AS h), "
                      "spent AS (" SPEND_SQL("SELECT $11, 1, $12::bigint, $8::bigint "
                                             "FROM hist WHERE NOT h") "), "
                      "ent AS (INSERT INTO enrolled (" ENTITY_COLS_W ", jti) SELECT $1, $2, "
                      "$3, $4, $5, $6, $7::bigint, $8::bigint, $9, $10, $11 FROM spent "
                      "RETURNING 1), "
                      "aud AS (INSERT INTO audit (t, line) SELECT $8::bigint, $13 FROM ent "
                      "WHERE $13 <> '') "
                      "SELECT COALESCE((SELECT uses FROM spent), "
                      "CASE WHEN (SELECT h FROM hist) THEN -1 ELSE 0 END)",
                      p, 14, row_int, &uses);
    if (rc == 0 && uses < 0)
        rc = TKR_E_CONFLICT;
    else if (rc == 0 && uses == 0)
        rc = TKR_E_SPENT;
    return rc;
}

static int st_enroll(void *ctx, const tkr_store_use_t *use,
                     const tkr_store_entity_t *e)
{
    sql_store_t *s = ctx;
    void *c = acquire(s);
    int rc;

    if (use != NULL && s->drv->write_ctes) {
        rc = enroll_one_statement(s, c, use, e);
        release(s, c);
        return rc;
    }
    rc = begin(s, c);

    if (rc == 0 && use != NULL)
        rc = check_unread(s, c, use, e);
    if (rc == 0 && use != NULL)
        rc = spend(s, c, use, e->created);
    if (rc == 0)
        rc = insert_entity(s, c, e, use != NULL ? use->jti : "");
    if (rc == 0 && use != NULL && use->audit != NULL)
        rc = add_audit(s, c, e->created, use->audit);
    rc = finish(s, c, rc);
    release(s, c);
    return rc;
}

static int st_pending_add(void *ctx, const tkr_store_use_t *use,
                          const tkr_store_pending_t *pd)
{
    sql_store_t *s = ctx;
    char cr[24], ex[24];
    const char *p[15];
    void *c = acquire(s);
    int rc = begin(s, c);

    if (rc == 0 && use != NULL)
        rc = spend(s, c, use, pd->created);
    i64_text(cr, pd->created);
    i64_text(ex, pd->expires);
    p[0] = pd->request_id;
    p[1] = pd->name;
    p[2] = pd->type;
    p[3] = pd->org;
    p[4] = pd->role;
    p[5] = pd->jti;
    p[6] = pd->source_ip;
    p[7] = pd->key_fp;
    p[8] = TKR_PENDING_WAITING;
    p[9] = pd->rule;
    p[10] = cr;
    p[11] = ex;
    p[12] = pd->csr;
    p[13] = "";
    p[14] = pd->notify;
    if (rc == 0)
        rc = s->drv->exec(c,
                          "INSERT INTO pending (" PENDING_COLS ") VALUES ($1, $2, "
                          "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                          p, 15, NULL, NULL);
    if (rc == 0 && use != NULL && use->audit != NULL)
        rc = add_audit(s, c, pd->created, use->audit);
    rc = finish(s, c, rc);
    release(s, c);
    return rc;
}

static int st_pending_get(void *ctx, const char *name, const char *type,
                          tkr_store_pending_t *pd)
{
    sql_store_t *s = ctx;
    rows_t r = {NULL, NULL, pd, NULL, NULL, 0};
    const char *p[2] = {name, type};
    void *c = acquire(s);
    int rc = s->drv->exec(c,
                          "SELECT " PENDING_COLS " FROM pending WHERE name = $1 "
                          "AND type = $2 ORDER BY created DESC, request_id LIMIT 1",
                          p, 2, row_pending, &r);

    release(s, c);
    if (rc == 0 && !r.found)
        rc = TKR_E_NOT_FOUND;
    return rc;
}

static int st_pending_list(void *ctx, int64_t now, tkr_store_pending_fn fn,
                           void *arg)
{
    sql_store_t *s = ctx;
    rows_t r = {NULL, NULL, NULL, fn, arg, 0};
    char t[24];
    const char *p[1] = {t};
    void *c = acquire(s);
    int rc;

    i64_text(t, now);
    rc = s->drv->exec(c,
                      "SELECT " PENDING_COLS " FROM pending WHERE status = 'pending' "
                      "AND expires > $1 ORDER BY created, request_id",
                      p, 1, row_pending, &r);
    release(s, c);
    return rc;
}

static int st_pending_decide(void *ctx, const char *request_id,
                             const tkr_store_entity_t *e)
{
    sql_store_t *s = ctx;
    const char *p[3];
    int found = 0;
    void *c = acquire(s);
    int rc = begin(s, c);

    p[0] = request_id;
    p[1] = e != NULL ? TKR_PENDING_APPROVED : TKR_PENDING_REJECTED;
    p[2] = e != NULL ? e->cert : "";
    /* RETURNING tells us the request was still waiting: deciding twice,
     * or on two nodes at once, finds nothing the second time. */
    if (rc == 0)
        rc = s->drv->exec(c,
                          "UPDATE pending SET status = $2, cert = $3 WHERE "
                          "request_id = $1 AND status = 'pending' RETURNING jti",
                          p, 3, row_found, &found);
    if (rc == 0 && !found)
        rc = TKR_E_NOT_FOUND;
    if (rc == 0 && e != NULL) {
        /* The enrolled row keeps the request's token id for audits. */
        const char *q[1] = {request_id};
        rows_t r = {NULL, NULL, NULL, NULL, NULL, 0};
        tkr_store_pending_t *pd = malloc(sizeof(*pd));
        if (pd == NULL) {
            rc = TKR_E_IO;
        } else {
            r.pone = pd;
            rc = s->drv->exec(c, "SELECT " PENDING_COLS " FROM pending WHERE request_id = $1",
                              q, 1, row_pending, &r);
            if (rc == 0)
                rc = insert_entity(s, c, e, pd->jti);
            free(pd);
        }
    }
    rc = finish(s, c, rc);
    release(s, c);
    return rc;
}

static int st_pending_expire(void *ctx, int64_t now, int64_t *n)
{
    sql_store_t *s = ctx;
    char t[24];
    const char *p[1] = {t};
    int64_t count = 0;
    void *c = acquire(s);
    int rc = begin(s, c);

    i64_text(t, now);
    if (rc == 0)
        rc = s->drv->exec(c, "SELECT COUNT(*) FROM pending WHERE status = 'pending' "
                             "AND expires <= $1", p, 1, row_int, &count);
    if (rc == 0)
        rc = s->drv->exec(c, "UPDATE pending SET status = 'expired' WHERE "
                             "status = 'pending' AND expires <= $1", p, 1, NULL, NULL);
    rc = finish(s, c, rc);
    release(s, c);
    if (rc == 0 && n != NULL)
        *n = count;
    return rc;
}

static int st_enrolled_get(void *ctx, const char *name, const char *type,
                           tkr_store_entity_t *e)
{
    sql_store_t *s = ctx;
    rows_t r = {e, NULL, NULL, NULL, NULL, 0};
    const char *p[2] = {name, type};
    void *c = acquire(s);
    int rc = s->drv->exec(c, "SELECT " ENTITY_COLS " FROM enrolled WHERE name = $1 "
                             "AND type = $2", p, 2, row_entity, &r);

    release(s, c);
    if (rc == 0 && !r.found)
        rc = TKR_E_NOT_FOUND;
    return rc;
}

/* The latest request and the enrolled row of a name, one statement: the
 * two lookups joined to a single row, each side empty when absent (a NULL
 * reads as "", and neither table has an empty request_id or name). */
typedef struct {
    tkr_store_pending_t *p;
    tkr_store_entity_t *e;
    unsigned has;
} name_row_t;

static int row_name(void *arg, int ncol, const char *const *col)
{
    name_row_t *r = arg;

    if (ncol != 1 + 15 + ENTITY_NCOL)
        return TKR_E_IO;
    if (col[1][0] != '\0') {
        pending_from(r->p, col + 1);
        r->has |= TKR_STORE_HAS_PENDING;
    }
    if (col[1 + 15][0] != '\0') {
        entity_from(r->e, col + 1 + 15);
        r->has |= TKR_STORE_HAS_ENROLLED;
    }
    return 0;
}

static int st_name_get(void *ctx, const char *name, const char *type,
                       tkr_store_pending_t *pd, tkr_store_entity_t *e, unsigned *has)
{
    sql_store_t *s = ctx;
    name_row_t r = {pd, e, 0};
    const char *p[2] = {name, type};
    void *c = acquire(s);
    int rc = s->drv->exec(c,
                          "SELECT * FROM (SELECT 1 AS one) o "
                          "LEFT JOIN (SELECT " PENDING_COLS " FROM pending WHERE name = $1 "
                          "AND type = $2 ORDER BY created DESC, request_id LIMIT 1) p ON TRUE "
                          "LEFT JOIN (SELECT " ENTITY_COLS " FROM enrolled WHERE name = $1 "
                          "AND type = $2) e ON TRUE",
                          p, 2, row_name, &r);

    release(s, c);
    *has = r.has;
    return rc;
}

static int st_enrolled_list(void *ctx, tkr_store_entity_fn fn, void *arg)
{
    sql_store_t *s = ctx;
    rows_t r = {NULL, fn, NULL, NULL, arg, 0};
    void *c = acquire(s);
    int rc = s->drv->exec(c, "SELECT " ENTITY_COLS " FROM enrolled ORDER BY created, name",
                          NULL, 0, row_entity, &r);

    release(s, c);
    return rc;
}

/* The certificate with this serial, enrolled or from the JWT
 * authenticator, on connection c. */
static int by_serial(sql_store_t *s, void *c, const char *serial, tkr_store_entity_t *e)
{
    rows_t r = {e, NULL, NULL, NULL, NULL, 0};
    const char *p[1] = {serial};
    int rc = s->drv->exec(c, "SELECT " ENTITY_COLS " FROM enrolled WHERE serial = $1", p, 1,
                          row_entity, &r);

    if (rc == 0 && !r.found)
        rc = s->drv->exec(c, "SELECT " ENTITY_COLS " FROM certs WHERE serial = $1", p, 1,
                          row_entity, &r);
    if (rc == 0 && !r.found)
        rc = TKR_E_NOT_FOUND;
    return rc;
}

static int st_enrolled_by_serial(void *ctx, const char *serial, tkr_store_entity_t *e)
{
    sql_store_t *s = ctx;
    void *c = acquire(s);
    int rc = by_serial(s, c, serial, e);

    release(s, c);
    return rc;
}

static int st_cert_add(void *ctx, const tkr_store_entity_t *e, const char *audit)
{
    sql_store_t *s = ctx;
    void *c = acquire(s);
    int rc = begin(s, c);

    if (rc == 0)
        rc = insert_entity_in(s, c,
                              "INSERT INTO certs (" ENTITY_COLS_W ", status) VALUES "
                              "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                              e, TKR_CERT_VALID);
    if (rc == 0 && audit != NULL)
        rc = add_audit(s, c, e->created, audit);
    rc = finish(s, c, rc);
    release(s, c);
    return rc;
}

/* Only a certificate not yet revoked changes (RETURNING tells which), so
 * revoking twice, or on two nodes at once, keeps the first revocation. */
static int st_revoke(void *ctx, const char *serial, int64_t t, const char *reason,
                     const char *audit, tkr_store_entity_t *e)
{
#define REVOKE_IN(table)                                                        \
    "UPDATE " table " SET status = 'REVOKED', revoked_at = $2, reason = $3 "    \
    "WHERE serial = $1 AND status <> 'REVOKED' RETURNING serial"
    static const char *const sql[] = {REVOKE_IN("enrolled"), REVOKE_IN("certs")};
#undef REVOKE_IN
    sql_store_t *s = ctx;
    char tt[24];
    const char *p[3] = {serial, tt, reason};
    int found = 0;
    size_t i;
    void *c = acquire(s);
    int rc = begin(s, c);

    i64_text(tt, t);
    for (i = 0; rc == 0 && !found && i < sizeof(sql) / sizeof(sql[0]); i++)
        rc = s->drv->exec(c, sql[i], p, 3, row_found, &found);
    if (rc == 0 && found && audit != NULL)
        rc = add_audit(s, c, t, audit);
    if (rc == 0)
        rc = by_serial(s, c, serial, e);
    rc = finish(s, c, rc);
    release(s, c);
    return rc == 0 && !found ? TKR_E_CONFLICT : rc;
}

static int st_token_uses(void *ctx, const char *jti, int64_t *uses)
{
    sql_store_t *s = ctx;
    const char *p[1] = {jti};
    void *c = acquire(s);
    int rc;

    *uses = 0;
    rc = s->drv->exec(c, "SELECT uses FROM tokens WHERE jti = $1", p, 1, row_int, uses);
    release(s, c);
    return rc;
}

static int st_audit(void *ctx, int64_t t, const char *line)
{
    sql_store_t *s = ctx;
    void *c = acquire(s);
    int rc = add_audit(s, c, t, line);

    release(s, c);
    return rc;
}

/* ---- notifications ---- */

static int st_notice_add(void *ctx, const tkr_store_notice_t *n)
{
    sql_store_t *s = ctx;
    char t[24];
    const char *p[4] = {n->id, n->url, n->body, t};
    void *c = acquire(s);
    int rc;

    i64_text(t, n->created);
    rc = s->drv->exec(c, "INSERT INTO notices (id, url, body, attempts, next_at, created) "
                         "VALUES ($1, $2, $3, 0, $4, $4)", p, 4, NULL, NULL);
    release(s, c);
    return rc;
}

static int row_notice(void *arg, int ncol, const char *const *col)
{
    tkr_store_notice_t *n = arg;

    if (ncol < 5)
        return TKR_E_IO;
    copy(n->id, sizeof(n->id), col[0]);
    copy(n->url, sizeof(n->url), col[1]);
    copy(n->body, sizeof(n->body), col[2]);
    n->attempts = strtoll(col[3], NULL, 10);
    n->created = strtoll(col[4], NULL, 10);
    return 0;
}

/* One statement takes the oldest due row and moves its next_at past the
 * lease: under PostgreSQL's READ COMMITTED a second node's UPDATE re-reads
 * the row, finds it no longer due and takes nothing; SQLite serializes
 * writers. */
static int st_notice_take(void *ctx, int64_t now, int64_t lease_until,
                          tkr_store_notice_t *n)
{
    sql_store_t *s = ctx;
    char a[24], b[24];
    const char *p[2] = {a, b};
    void *c = acquire(s);
    int rc;

    i64_text(a, now);
    i64_text(b, lease_until);
    n->id[0] = '\0';
    rc = s->drv->exec(c, "UPDATE notices SET next_at = $2 WHERE next_at <= $1 AND id = "
                         "(SELECT id FROM notices WHERE next_at <= $1 ORDER BY next_at, id "
                         "LIMIT 1) RETURNING id, url, body, attempts, created",
                      p, 2, row_notice, n);
    release(s, c);
    if (rc == 0 && n->id[0] == '\0')
        rc = TKR_E_NOT_FOUND;
    return rc;
}

static int st_notice_done(void *ctx, const char *id)
{
    sql_store_t *s = ctx;
    const char *p[1] = {id};
    void *c = acquire(s);
    int rc = s->drv->exec(c, "DELETE FROM notices WHERE id = $1", p, 1, NULL, NULL);

    release(s, c);
    return rc;
}

static int st_notice_retry(void *ctx, const char *id, int64_t attempts, int64_t next_at)
{
    sql_store_t *s = ctx;
    char a[24], b[24];
    const char *p[3] = {id, a, b};
    void *c = acquire(s);
    int rc;

    i64_text(a, attempts);
    i64_text(b, next_at);
    rc = s->drv->exec(c, "UPDATE notices SET attempts = $2, next_at = $3 WHERE id = $1",
                      p, 3, NULL, NULL);
    release(s, c);
    return rc;
}

static const tkr_store_ops_t sql_ops = {
    st_enroll, st_pending_add, st_pending_get, st_pending_list,
    st_pending_decide, st_pending_expire, st_enrolled_get, st_enrolled_list,
    st_enrolled_by_serial, st_token_uses, st_audit,
    st_notice_add, st_notice_take, st_notice_done, st_notice_retry, st_cert_add,
    st_revoke, st_name_get,
};


/* ---- opening ---- */

static int migrate(sql_store_t *s, void *c, char *err, size_t err_size)
{
    int64_t version = 0;
    char v[24];
    const char *p[1] = {v};
    size_t i;
    int rc = begin(s, c);

    if (rc == 0 && s->drv->migrate_lock_sql != NULL)
        rc = run(s, c, s->drv->migrate_lock_sql);
    if (rc == 0)
        rc = run(s, c, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
    if (rc == 0)
        rc = s->drv->exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                          NULL, 0, row_int, &version);
    if (rc == 0 && version > SCHEMA_VERSION) {
        snprintf(err, err_size, "%s database schema is version %lld, newer than this "
                 "tokenroll knows (%d)", s->drv->name, (long long)version, SCHEMA_VERSION);
        finish(s, c, TKR_E_UNSUPPORTED);
        return TKR_E_UNSUPPORTED;
    }
    for (i = 0; rc == 0 && i < sizeof(migrations) / sizeof(migrations[0]); i++)
        if (migrations[i].version > version)
            rc = run(s, c, migrations[i].sql);
    if (rc == 0 && version < SCHEMA_VERSION) {
        i64_text(v, SCHEMA_VERSION);
        rc = run(s, c, "DELETE FROM schema_version");
        if (rc == 0)
            rc = s->drv->exec(c, "INSERT INTO schema_version (version) VALUES ($1)",
                              p, 1, NULL, NULL);
    }
    if (rc != 0)
        snprintf(err, err_size, "%s database: creating the schema failed: %s",
                 s->drv->name, s->drv->last_error(c));
    return finish(s, c, rc);
}

void cli_store_close(tkr_store_t *st)
{
    sql_store_t *s;
    int i;

    if (st == NULL || st->ctx == NULL)
        return;
    s = st->ctx;
    for (i = 0; i < s->nconn; i++)
        s->drv->disconnect(s->conn[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->writer);
    pthread_cond_destroy(&s->cv);
    free(s);
    st->ctx = NULL;
    st->ops = NULL;
}

int cli_store_open(tkr_store_t *st, const char *url, int conns, char *err,
                   size_t err_size)
{
    sql_store_t *s;
    const char *target = url;
    size_t n = strlen(url);
    int rc = 0;

    st->ops = NULL;
    st->ctx = NULL;
    if (conns < 1)
        conns = 1;
    if (conns > POOL_MAX)
        conns = POOL_MAX;
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        snprintf(err, err_size, "out of memory");
        return TKR_E_NO_MEMORY;
    }
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        s->drv = &db_postgres;
    } else if (strncmp(url, "sqlite:", 7) == 0) {
        s->drv = &db_sqlite;
        target = url + 7;
    } else if (n > 3 && strcmp(url + n - 3, ".db") == 0) {
        s->drv = &db_sqlite;
    } else {
        snprintf(err, err_size, "unknown database '%s': use sqlite:PATH or "
                 "postgresql://USER@HOST/DB", url);
        free(s);
        return TKR_E_INVALID_ARG;
    }
    if (target[0] == '\0') {
        snprintf(err, err_size, "database '%s' names no file", url);
        free(s);
        return TKR_E_INVALID_ARG;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->writer, NULL);
    pthread_cond_init(&s->cv, NULL);
    st->ctx = s;
    st->ops = &sql_ops;
    /* The first connection creates the schema before the others open. */
    for (; s->nconn < conns && rc == 0; s->nconn++) {
        rc = s->drv->connect(&s->conn[s->nconn], target, err, err_size);
        if (rc != 0)
            break;
        s->idle[s->nidle++] = s->nconn;
        if (s->nconn == 0)
            rc = migrate(s, s->conn[0], err, err_size);
    }
    if (rc != 0)
        cli_store_close(st);
    return rc;
}
