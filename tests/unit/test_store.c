/* test_store.c — the service store's rules, on the database named by
 * TKR_TEST_DB (default: a fresh SQLite file per test). tests/e2e/
 * test_store_pg.sh runs this same binary against a PostgreSQL server it
 * starts, so both implementations pass one suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "tokenroll/error.h"

static char db_url[512];
static char tmpdir[256];

/* An empty database for each test: a new SQLite file, or the PostgreSQL
 * database with every table dropped. */
static int setup(void **state)
{
    const char *env = getenv("TKR_TEST_DB");
    static int n;

    (void)state;
    if (env != NULL && strncmp(env, "postgres", 8) == 0) {
        static const char *const drops[] = {
            "DROP TABLE IF EXISTS tokens", "DROP TABLE IF EXISTS enrolled",
            "DROP TABLE IF EXISTS pending", "DROP TABLE IF EXISTS audit",
            "DROP TABLE IF EXISTS notices", "DROP TABLE IF EXISTS certs",
            "DROP TABLE IF EXISTS schema_version"};
        char err[256];
        void *c;
        size_t i;
        snprintf(db_url, sizeof(db_url), "%s", env);
        assert_int_equal(db_postgres.connect(&c, env, err, sizeof(err)), 0);
        for (i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
            assert_int_equal(db_postgres.exec(c, drops[i], NULL, 0, NULL, NULL), 0);
        db_postgres.disconnect(c);
        return 0;
    }
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/tkr-store.XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(db_url, sizeof(db_url), "sqlite:%s/t%d.db", tmpdir, ++n);
    return 0;
}

static void open_store(tkr_store_t *s)
{
    char err[256] = "";
    int rc = cli_store_open(s, db_url, 4, err, sizeof(err));
    if (rc != 0)
        fail_msg("open %s: %s", db_url, err);
}

static void entity(tkr_store_entity_t *e, const char *name, const char *serial)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->type, sizeof(e->type), "client");
    snprintf(e->org, sizeof(e->org), "org-a");
    snprintf(e->serial, sizeof(e->serial), "%s", serial);
    snprintf(e->fingerprint, sizeof(e->fingerprint), "%064d", 7);
    snprintf(e->key_fp, sizeof(e->key_fp), "%064d", 5);
    snprintf(e->cert, sizeof(e->cert), "-----BEGIN CERTIFICATE-----\n%s\n", name);
    e->not_after = 2000000000;
    e->created = 1700000000;
}

static void pending(tkr_store_pending_t *p, const char *id, const char *name,
                    const char *jti, int64_t created, int64_t expires)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->request_id, sizeof(p->request_id), "%s", id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->type, sizeof(p->type), "client");
    snprintf(p->jti, sizeof(p->jti), "%s", jti);
    snprintf(p->source_ip, sizeof(p->source_ip), "127.0.0.1");
    snprintf(p->key_fp, sizeof(p->key_fp), "%064d", 3);
    snprintf(p->rule, sizeof(p->rule), "manual");
    snprintf(p->csr, sizeof(p->csr), "-----BEGIN CERTIFICATE REQUEST-----\n");
    snprintf(p->notify, sizeof(p->notify), "{\"urls\":[\"https://hooks.example/in?k=%s\"]}", id);
    p->created = created;
    p->expires = expires;
}

static int64_t uses(tkr_store_t *s, const char *jti)
{
    int64_t u = -1;
    assert_int_equal(s->ops->token_uses(s->ctx, jti, &u), 0);
    return u;
}

static int count_entity(void *arg, const tkr_store_entity_t *e)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

static int count_pending(void *arg, const tkr_store_pending_t *p)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

static int enrolled_count(tkr_store_t *s)
{
    int n = 0;
    assert_int_equal(s->ops->enrolled_list(s->ctx, count_entity, &n), 0);
    return n;
}

static void test_enroll_records_entity_and_spends_one_use(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e, got;
    tkr_store_use_t use = {"jti-1", 1, NULL, 0};

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "0a01");
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), 0);
    assert_int_equal(uses(&s, "jti-1"), 1);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-1", "client", &got), 0);
    assert_string_equal(got.serial, "0a01");
    assert_string_equal(got.org, "org-a");
    assert_string_equal(got.cert, e.cert);
    assert_true(got.not_after == 2000000000);
    /* what a device's retry is matched on: its key and its token */
    assert_string_equal(got.key_fp, e.key_fp);
    assert_string_equal(got.jti, "jti-1");
    assert_string_equal(got.status, TKR_CERT_VALID);
    assert_true(got.revoked_at == 0);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-1", "server", &got), TKR_E_NOT_FOUND);
    memset(&got, 0, sizeof(got));
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "0a01", &got), 0);
    assert_string_equal(got.name, "site-1");
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "0a02", &got), TKR_E_NOT_FOUND);
    cli_store_close(&s);
}

/* The JWT authenticator's certificates: by serial, several per name, no
 * token spent, found by the status lookup, not listed as enrolled. */
static void test_cert_add_keeps_several_per_name_by_serial(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e, got;

    (void)state;
    open_store(&s);
    entity(&e, "softioc", "1a");
    snprintf(e.type, sizeof(e.type), "jwt-server");
    assert_int_equal(s.ops->cert_add(s.ctx, &e, NULL), 0);
    entity(&e, "softioc", "1b");
    snprintf(e.type, sizeof(e.type), "jwt-server");
    assert_int_equal(s.ops->cert_add(s.ctx, &e, NULL), 0);
    assert_int_equal(s.ops->cert_add(s.ctx, &e, NULL), TKR_E_CONFLICT);
    memset(&got, 0, sizeof(got));
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "1b", &got), 0);
    assert_string_equal(got.name, "softioc");
    assert_string_equal(got.type, "jwt-server");
    assert_string_equal(got.cert, e.cert);
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "1a", &got), 0);
    assert_int_equal(enrolled_count(&s), 0);
    /* an enrollment of the same name is not in the way */
    entity(&e, "softioc", "1c");
    assert_int_equal(s.ops->enroll(s.ctx, NULL, &e), 0);
    assert_int_equal(enrolled_count(&s), 1);
    cli_store_close(&s);
}

static void test_spent_token_records_nothing(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    tkr_store_use_t use = {"jti-1", 1, NULL, 0};

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "01");
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), 0);
    entity(&e, "site-2", "02");
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), TKR_E_SPENT);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-2", "client", &e), TKR_E_NOT_FOUND);
    assert_int_equal(uses(&s, "jti-1"), 1);
    assert_int_equal(enrolled_count(&s), 1);
    cli_store_close(&s);
}

static void test_max_uses_three_grants_exactly_three(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    tkr_store_use_t use = {"jti-3", 3, NULL, 0};
    char name[32], serial[32];
    int i, ok = 0;

    (void)state;
    open_store(&s);
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "site-%d", i);
        snprintf(serial, sizeof(serial), "%02x", i + 1);
        entity(&e, name, serial);
        ok += s.ops->enroll(s.ctx, &use, &e) == 0;
    }
    assert_int_equal(ok, 3);
    assert_int_equal(uses(&s, "jti-3"), 3);
    assert_int_equal(enrolled_count(&s), 3);
    cli_store_close(&s);
}

static void test_enrolled_name_conflicts_without_spending(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    tkr_store_use_t a = {"jti-a", 1, NULL, 0}, b = {"jti-b", 1, NULL, 0};

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "01");
    assert_int_equal(s.ops->enroll(s.ctx, &a, &e), 0);
    entity(&e, "site-1", "02");
    assert_int_equal(s.ops->enroll(s.ctx, &b, &e), TKR_E_CONFLICT);
    assert_int_equal(uses(&s, "jti-b"), 0);
    /* The same name as another type is another entity. */
    snprintf(e.type, sizeof(e.type), "server");
    assert_int_equal(s.ops->enroll(s.ctx, &b, &e), 0);
    cli_store_close(&s);
}

static void test_pending_add_get_and_one_waiting_per_name(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p, got;
    tkr_store_use_t use = {"jti-p", 2, NULL, 0};

    (void)state;
    open_store(&s);
    pending(&p, "req-1", "site-9", "jti-p", 100, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(uses(&s, "jti-p"), 1);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &got), 0);
    assert_string_equal(got.request_id, "req-1");
    assert_string_equal(got.status, TKR_PENDING_WAITING);
    assert_string_equal(got.key_fp, p.key_fp);
    assert_string_equal(got.cert, "");
    assert_string_equal(got.notify, p.notify);
    assert_true(got.expires == 1000);
    pending(&p, "req-2", "site-9", "jti-p", 101, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), TKR_E_CONFLICT);
    assert_int_equal(uses(&s, "jti-p"), 1);
    assert_int_equal(s.ops->pending_get(s.ctx, "nobody", "client", &got), TKR_E_NOT_FOUND);
    cli_store_close(&s);
}

static void test_approve_keeps_certificate_and_enrolls_once(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p, got;
    tkr_store_entity_t e, en;
    tkr_store_use_t use = {"jti-p", 1, NULL, 0};

    (void)state;
    open_store(&s);
    pending(&p, "req-1", "site-9", "jti-p", 100, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    entity(&e, "site-9", "99");
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", &e), 0);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &got), 0);
    assert_string_equal(got.status, TKR_PENDING_APPROVED);
    assert_string_equal(got.cert, e.cert);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-9", "client", &en), 0);
    assert_string_equal(en.serial, "99");
    assert_string_equal(en.jti, "jti-p");
    assert_string_equal(en.key_fp, e.key_fp);
    /* A second decision (another admin, another node) finds nothing. */
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", NULL), TKR_E_NOT_FOUND);
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", &e), TKR_E_NOT_FOUND);
    assert_int_equal(enrolled_count(&s), 1);
    assert_int_equal(uses(&s, "jti-p"), 1);
    cli_store_close(&s);
}

static void test_reject_enrolls_nothing_and_frees_the_name(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p, got;
    tkr_store_use_t use = {"jti-p", 2, NULL, 0};

    (void)state;
    open_store(&s);
    pending(&p, "req-1", "site-9", "jti-p", 100, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", NULL), 0);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &got), 0);
    assert_string_equal(got.status, TKR_PENDING_REJECTED);
    assert_int_equal(enrolled_count(&s), 0);
    /* No longer waiting: a new request for the name may wait. */
    pending(&p, "req-2", "site-9", "jti-p", 200, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &got), 0);
    assert_string_equal(got.request_id, "req-2");
    cli_store_close(&s);
}

/* name_get answers what pending_get and enrolled_get answer, in one read:
 * nothing, the request only, and both (the latest request, the enrolled
 * row) after an approval; a name of another type stays apart. */
static void test_name_get_is_pending_get_and_enrolled_get(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p, got, want;
    tkr_store_entity_t e, en, want_e;
    tkr_store_use_t use = {"jti-p", 3, NULL, 0};
    unsigned has = 99;

    (void)state;
    open_store(&s);
    assert_non_null(s.ops->name_get);
    assert_int_equal(s.ops->name_get(s.ctx, "site-9", "client", &got, &en, &has), 0);
    assert_int_equal(has, 0);
    pending(&p, "req-1", "site-9", "jti-p", 100, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", NULL), 0);
    pending(&p, "req-2", "site-9", "jti-p", 200, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(s.ops->name_get(s.ctx, "site-9", "client", &got, &en, &has), 0);
    assert_int_equal(has, TKR_STORE_HAS_PENDING);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &want), 0);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_string_equal(got.request_id, "req-2");
    entity(&e, "site-9", "99");
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-2", &e), 0);
    assert_int_equal(s.ops->name_get(s.ctx, "site-9", "client", &got, &en, &has), 0);
    assert_int_equal(has, TKR_STORE_HAS_PENDING | TKR_STORE_HAS_ENROLLED);
    assert_int_equal(s.ops->pending_get(s.ctx, "site-9", "client", &want), 0);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-9", "client", &want_e), 0);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_memory_equal(&en, &want_e, sizeof(en));
    assert_string_equal(got.status, TKR_PENDING_APPROVED);
    assert_string_equal(en.serial, "99");
    assert_int_equal(s.ops->name_get(s.ctx, "site-9", "server", &got, &en, &has), 0);
    assert_int_equal(has, 0);
    /* Enrolled without a request. */
    entity(&e, "site-1", "0a01");
    assert_int_equal(s.ops->enroll(s.ctx, NULL, &e), 0);
    assert_int_equal(s.ops->name_get(s.ctx, "site-1", "client", &got, &en, &has), 0);
    assert_int_equal(has, TKR_STORE_HAS_ENROLLED);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-1", "client", &want_e), 0);
    assert_memory_equal(&en, &want_e, sizeof(en));
    cli_store_close(&s);
}

static void test_pending_list_and_expiry(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p, got;
    tkr_store_use_t use = {"jti-p", 5, NULL, 0};
    int64_t n = -1;
    int count = 0;

    (void)state;
    open_store(&s);
    pending(&p, "req-1", "a", "jti-p", 100, 500);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    pending(&p, "req-2", "b", "jti-p", 110, 5000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    assert_int_equal(s.ops->pending_list(s.ctx, 200, count_pending, &count), 0);
    assert_int_equal(count, 2);
    count = 0;
    assert_int_equal(s.ops->pending_list(s.ctx, 600, count_pending, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(s.ops->pending_expire(s.ctx, 600, &n), 0);
    assert_true(n == 1);
    assert_int_equal(s.ops->pending_get(s.ctx, "a", "client", &got), 0);
    assert_string_equal(got.status, TKR_PENDING_EXPIRED);
    /* An expired request cannot be approved. */
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", NULL), TKR_E_NOT_FOUND);
    cli_store_close(&s);
}

static int row_text(void *arg, int ncol, const char *const *col)
{
    char *out = arg;
    size_t n = strlen(out);
    assert_int_equal(ncol, 1);
    snprintf(out + n, 512 - n, "%s;", col[0]);
    return 0;
}

/* The audit table's lines in order, each followed by ';'. */
static void audit_lines(char out[512])
{
    const db_driver_t *drv = strncmp(db_url, "postgres", 8) == 0 ? &db_postgres : &db_sqlite;
    const char *target = drv == &db_sqlite ? db_url + 7 : db_url;
    char err[256];
    void *c;

    out[0] = '\0';
    assert_int_equal(drv->connect(&c, target, err, sizeof(err)), 0);
    assert_int_equal(drv->exec(c, "SELECT line FROM audit ORDER BY t", NULL, 0, row_text, out), 0);
    drv->disconnect(c);
}

/* An enrollment that has not read the name's history (unread) is refused
 * while the name has any request in pending, waiting or decided, and
 * spends nothing, writes no audit line; another name, and the same name
 * once the history is read (unread 0), enroll. */
static void test_unread_enroll_refused_for_a_name_with_history(void **state)
{
    tkr_store_t s;
    tkr_store_pending_t p;
    tkr_store_entity_t e;
    tkr_store_use_t use = {"jti-p", 1, NULL, 0};
    tkr_store_use_t blind = {"jti-e", 3, "approve site-9", 1};
    char lines[512];

    (void)state;
    open_store(&s);
    pending(&p, "req-1", "site-9", "jti-p", 100, 1000);
    assert_int_equal(s.ops->pending_add(s.ctx, &use, &p), 0);
    entity(&e, "site-9", "91");
    assert_int_equal(s.ops->enroll(s.ctx, &blind, &e), TKR_E_CONFLICT);
    assert_int_equal(s.ops->pending_decide(s.ctx, "req-1", NULL), 0);
    assert_int_equal(s.ops->enroll(s.ctx, &blind, &e), TKR_E_CONFLICT);
    assert_int_equal(uses(&s, "jti-e"), 0);
    assert_int_equal(enrolled_count(&s), 0);
    audit_lines(lines);
    assert_string_equal(lines, "");
    /* The same name under another type has no history. */
    snprintf(e.type, sizeof(e.type), "server");
    assert_int_equal(s.ops->enroll(s.ctx, &blind, &e), 0);
    entity(&e, "site-8", "81");
    assert_int_equal(s.ops->enroll(s.ctx, &blind, &e), 0);
    blind.unread = 0;
    entity(&e, "site-9", "92");
    assert_int_equal(s.ops->enroll(s.ctx, &blind, &e), 0);
    assert_int_equal(uses(&s, "jti-e"), 3);
    assert_int_equal(enrolled_count(&s), 3);
    audit_lines(lines);
    assert_string_equal(lines, "approve site-9;approve site-9;approve site-9;");
    cli_store_close(&s);
}

static void test_audit_appends(void **state)
{
    tkr_store_t s;
    char lines[512];

    (void)state;
    open_store(&s);
    assert_int_equal(s.ops->audit(s.ctx, 1, "{\"decision\":\"approve\"}"), 0);
    assert_int_equal(s.ops->audit(s.ctx, 2, "{\"decision\":\"reject\"}"), 0);
    audit_lines(lines);
    assert_string_equal(lines, "{\"decision\":\"approve\"};{\"decision\":\"reject\"};");
    cli_store_close(&s);
}

/* A use's audit line is written with what it pays for, and not at all
 * when the use is refused. */
static void test_audit_line_with_the_use(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    tkr_store_pending_t p;
    tkr_store_use_t use = {"jti-1", 1, "enrolled site-1", 0};
    tkr_store_use_t two = {"jti-2", 1, "pending site-2", 0};
    char lines[512];

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "01");
    e.created = 10;
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), 0);
    entity(&e, "site-1b", "02");
    e.created = 11;
    use.audit = "never";
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), TKR_E_SPENT);
    memset(&p, 0, sizeof(p));
    snprintf(p.request_id, sizeof(p.request_id), "req-2");
    snprintf(p.name, sizeof(p.name), "site-2");
    snprintf(p.type, sizeof(p.type), "client");
    p.created = 12;
    p.expires = 100;
    assert_int_equal(s.ops->pending_add(s.ctx, &two, &p), 0);
    audit_lines(lines);
    assert_string_equal(lines, "enrolled site-1;pending site-2;");
    cli_store_close(&s);
}

static void notice(tkr_store_notice_t *n, const char *id, const char *url, int64_t created)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", id);
    snprintf(n->url, sizeof(n->url), "%s", url);
    snprintf(n->body, sizeof(n->body), "{\"event\":\"pending\",\"name\":\"%s\"}", id);
    n->created = created;
}

/* The webhook queue: oldest due first, a taken notice is leased (no one
 * else takes it before the lease ends), a retry waits until its time, a
 * delivered one is gone. */
static void test_notices_queue_lease_retry_done(void **state)
{
    tkr_store_t s;
    tkr_store_notice_t n, got;

    (void)state;
    open_store(&s);
    notice(&n, "n-2", "https://hooks.example/b", 200);
    assert_int_equal(s.ops->notice_add(s.ctx, &n), 0);
    notice(&n, "n-1", "https://hooks.example/a", 100);
    assert_int_equal(s.ops->notice_add(s.ctx, &n), 0);
    assert_int_equal(s.ops->notice_add(s.ctx, &n), TKR_E_CONFLICT);
    /* Nothing is due before it was queued. */
    assert_int_equal(s.ops->notice_take(s.ctx, 99, 159, &got), TKR_E_NOT_FOUND);
    assert_int_equal(s.ops->notice_take(s.ctx, 300, 360, &got), 0);
    assert_string_equal(got.id, "n-1");
    assert_string_equal(got.url, "https://hooks.example/a");
    assert_string_equal(got.body, "{\"event\":\"pending\",\"name\":\"n-1\"}");
    assert_int_equal(got.attempts, 0);
    assert_int_equal(s.ops->notice_take(s.ctx, 300, 360, &got), 0);
    assert_string_equal(got.id, "n-2");
    /* Both leased until 360. */
    assert_int_equal(s.ops->notice_take(s.ctx, 359, 419, &got), TKR_E_NOT_FOUND);
    assert_int_equal(s.ops->notice_retry(s.ctx, "n-1", 1, 500), 0);
    assert_int_equal(s.ops->notice_done(s.ctx, "n-2"), 0);
    assert_int_equal(s.ops->notice_take(s.ctx, 499, 559, &got), TKR_E_NOT_FOUND);
    assert_int_equal(s.ops->notice_take(s.ctx, 500, 560, &got), 0);
    assert_string_equal(got.id, "n-1");
    assert_int_equal(got.attempts, 1);
    assert_int_equal(s.ops->notice_done(s.ctx, "n-1"), 0);
    assert_int_equal(s.ops->notice_take(s.ctx, 10000, 10060, &got), TKR_E_NOT_FOUND);
    cli_store_close(&s);
}

static void test_reopen_keeps_data_and_schema(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    tkr_store_use_t use = {"jti-1", 1, NULL, 0};

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "01");
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), 0);
    cli_store_close(&s);
    open_store(&s);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-1", "client", &e), 0);
    assert_int_equal(uses(&s, "jti-1"), 1);
    cli_store_close(&s);
}

static void test_newer_schema_is_refused(void **state)
{
    tkr_store_t s;
    char err[256] = "";

    (void)state;
    open_store(&s);
    {
        /* What a later tokenroll would leave behind. */
        const db_driver_t *drv = strncmp(db_url, "postgres", 8) == 0 ? &db_postgres : &db_sqlite;
        const char *target = drv == &db_sqlite ? db_url + 7 : db_url;
        void *c;
        assert_int_equal(drv->connect(&c, target, err, sizeof(err)), 0);
        assert_int_equal(drv->exec(c, "UPDATE schema_version SET version = 99", NULL, 0, NULL, NULL), 0);
        drv->disconnect(c);
    }
    cli_store_close(&s);
    assert_int_equal(cli_store_open(&s, db_url, 1, err, sizeof(err)), TKR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "version 99"));
}

static void test_unknown_url_is_refused(void **state)
{
    tkr_store_t s;
    char err[256] = "";

    (void)state;
    assert_int_equal(cli_store_open(&s, "mysql://x", 1, err, sizeof(err)), TKR_E_INVALID_ARG);
    assert_non_null(strstr(err, "mysql://x"));
    assert_int_equal(cli_store_open(&s, "sqlite:", 1, err, sizeof(err)), TKR_E_INVALID_ARG);
}

/* Processes sharing one database race for one max_uses: 1 token, each
 * enrolling its own names through its own connections: exactly one
 * enrollment may win. */
static void test_one_use_token_wins_once_across_processes(void **state)
{
    enum { PROCS = 4, TRIES = 8 };
    tkr_store_t s;
    pid_t pid[PROCS];
    int i, wins = 0;

    (void)state;
    open_store(&s); /* schema in place before the race */
    cli_store_close(&s);
    for (i = 0; i < PROCS; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            tkr_store_t c;
            tkr_store_entity_t e;
            tkr_store_use_t use = {"jti-race", 1, NULL, 0};
            char err[256], name[64], serial[32];
            int k, won = 0;
            if (cli_store_open(&c, db_url, 2, err, sizeof(err)) != 0)
                _exit(100);
            for (k = 0; k < TRIES; k++) {
                int rc;
                snprintf(name, sizeof(name), "site-%d-%d", i, k);
                snprintf(serial, sizeof(serial), "%02x%02x", i + 1, k + 1);
                entity(&e, name, serial);
                rc = c.ops->enroll(c.ctx, &use, &e);
                if (rc == 0)
                    won++;
                else if (rc != TKR_E_SPENT)
                    _exit(101);
            }
            cli_store_close(&c);
            _exit(won);
        }
    }
    for (i = 0; i < PROCS; i++) {
        int st = 0;
        assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
        assert_true(WIFEXITED(st));
        assert_true(WEXITSTATUS(st) < 100);
        wins += WEXITSTATUS(st);
    }
    assert_int_equal(wins, 1);
    open_store(&s);
    assert_int_equal(uses(&s, "jti-race"), 1);
    assert_int_equal(enrolled_count(&s), 1);
    cli_store_close(&s);
}

/* Threads of one process share the store's connections (as serve's
 * workers do) and race for one token's 50 uses, each also spending its
 * own one-use tokens, so that refused writers (rolled back) and winners
 * interleave: every write completes, no writer is left waiting, and the
 * counts hold. */
enum { RACE_THREADS = 4, RACE_TRIES = 25 };

typedef struct {
    tkr_store_t *s;
    int id, won, other;
} racer_t;

static void *racer(void *arg)
{
    racer_t *r = arg;
    tkr_store_use_t shared = {"jti-50", 50, NULL, 0};
    tkr_store_entity_t e;
    char name[64], serial[32], jti[32];
    int k;

    for (k = 0; k < RACE_TRIES; k++) {
        tkr_store_use_t own = {jti, 1, NULL, 0};
        int rc;
        snprintf(name, sizeof(name), "site-%d-%d", r->id, k);
        snprintf(serial, sizeof(serial), "%02x%02x", r->id + 1, k + 1);
        entity(&e, name, serial);
        rc = r->s->ops->enroll(r->s->ctx, &shared, &e);
        r->won += rc == 0;
        r->other += rc != 0 && rc != TKR_E_SPENT;
        /* a one-use token spent twice: the second is refused */
        snprintf(jti, sizeof(jti), "own-%d-%d", r->id, k);
        snprintf(name, sizeof(name), "own-%d-%d", r->id, k);
        snprintf(serial, sizeof(serial), "ff%02x%02x", r->id + 1, k + 1);
        entity(&e, name, serial);
        r->other += r->s->ops->enroll(r->s->ctx, &own, &e) != 0;
        snprintf(name, sizeof(name), "again-%d-%d", r->id, k);
        entity(&e, name, "01");
        r->other += r->s->ops->enroll(r->s->ctx, &own, &e) != TKR_E_SPENT;
    }
    return NULL;
}

static void test_threads_share_the_store_and_the_uses_hold(void **state)
{
    tkr_store_t s;
    pthread_t th[RACE_THREADS];
    racer_t r[RACE_THREADS];
    int i, won = 0, other = 0;

    (void)state;
    open_store(&s);
    for (i = 0; i < RACE_THREADS; i++) {
        r[i] = (racer_t){&s, i, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, racer, &r[i]), 0);
    }
    for (i = 0; i < RACE_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        won += r[i].won;
        other += r[i].other;
    }
    assert_int_equal(other, 0);
    assert_int_equal(won, 50);
    assert_int_equal(uses(&s, "jti-50"), 50);
    assert_int_equal(enrolled_count(&s), 50 + RACE_THREADS * RACE_TRIES);
    cli_store_close(&s);
}

/* Revoking: enrolled and JWT-issued certificates alike, by serial, with
 * the audit line in the same step; a second revocation changes nothing. */
static void test_revoke_once_with_audit(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e, got;
    tkr_store_use_t use = {"jti-1", 1, NULL, 0};
    char lines[512];

    (void)state;
    open_store(&s);
    entity(&e, "site-1", "0a01");
    assert_int_equal(s.ops->enroll(s.ctx, &use, &e), 0);
    entity(&e, "softioc", "0b01");
    snprintf(e.type, sizeof(e.type), "jwt-server");
    assert_int_equal(s.ops->cert_add(s.ctx, &e, NULL), 0);

    memset(&got, 0, sizeof(got));
    assert_int_equal(s.ops->revoke(s.ctx, "0a01", 50, "key lost", "revoked 0a01", &got), 0);
    assert_string_equal(got.name, "site-1");
    assert_string_equal(got.status, TKR_CERT_REVOKED);
    assert_true(got.revoked_at == 50);
    assert_string_equal(got.reason, "key lost");
    /* again: the first revocation stands, no second line */
    memset(&got, 0, sizeof(got));
    assert_int_equal(s.ops->revoke(s.ctx, "0a01", 60, "other", "never", &got), TKR_E_CONFLICT);
    assert_true(got.revoked_at == 50);
    assert_string_equal(got.reason, "key lost");
    assert_int_equal(s.ops->enrolled_get(s.ctx, "site-1", "client", &got), 0);
    assert_string_equal(got.status, TKR_CERT_REVOKED);
    /* the JWT authenticator's */
    assert_int_equal(s.ops->revoke(s.ctx, "0b01", 70, "", "revoked 0b01", &got), 0);
    assert_string_equal(got.name, "softioc");
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "0b01", &got), 0);
    assert_string_equal(got.status, TKR_CERT_REVOKED);
    assert_string_equal(got.reason, "");
    assert_true(got.revoked_at == 70);
    /* unknown serial */
    assert_int_equal(s.ops->revoke(s.ctx, "0c01", 80, "", "never", &got), TKR_E_NOT_FOUND);
    audit_lines(lines);
    assert_string_equal(lines, "revoked 0a01;revoked 0b01;");
    cli_store_close(&s);
}

/* The JWT authenticator's audit line is written with its certificate, and
 * not at all when the certificate is not recorded. */
static void test_cert_add_audit_line_with_the_certificate(void **state)
{
    tkr_store_t s;
    tkr_store_entity_t e;
    char lines[512];

    (void)state;
    open_store(&s);
    entity(&e, "softioc", "1a");
    e.created = 5;
    assert_int_equal(s.ops->cert_add(s.ctx, &e, "issued 1a"), 0);
    e.created = 6;
    assert_int_equal(s.ops->cert_add(s.ctx, &e, "never"), TKR_E_CONFLICT);
    audit_lines(lines);
    assert_string_equal(lines, "issued 1a;");
    cli_store_close(&s);
}

/* A database a version-3 tokenroll left (its tables as it made them) is
 * migrated: its rows read back valid, with no key, and can be revoked. */
static void test_version_3_database_is_migrated(void **state)
{
    static const char *const v3[] = {
        "CREATE TABLE schema_version (version BIGINT NOT NULL)",
        "INSERT INTO schema_version (version) VALUES (3)",
        "CREATE TABLE tokens (jti TEXT PRIMARY KEY, uses BIGINT NOT NULL, "
        "max_uses BIGINT NOT NULL, first_used BIGINT NOT NULL)",
        "CREATE TABLE enrolled (name TEXT NOT NULL, type TEXT NOT NULL, "
        "org TEXT NOT NULL, role TEXT NOT NULL, serial TEXT NOT NULL UNIQUE, "
        "fingerprint TEXT NOT NULL, not_after BIGINT NOT NULL, "
        "created BIGINT NOT NULL, cert TEXT NOT NULL, jti TEXT NOT NULL, "
        "PRIMARY KEY (name, type))",
        "CREATE TABLE certs (name TEXT NOT NULL, type TEXT NOT NULL, "
        "org TEXT NOT NULL, role TEXT NOT NULL, serial TEXT PRIMARY KEY, "
        "fingerprint TEXT NOT NULL, not_after BIGINT NOT NULL, "
        "created BIGINT NOT NULL, cert TEXT NOT NULL, status TEXT NOT NULL)",
        "CREATE TABLE pending (request_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "type TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL, "
        "jti TEXT NOT NULL, source_ip TEXT NOT NULL, key_fp TEXT NOT NULL, "
        "status TEXT NOT NULL, rule TEXT NOT NULL, created BIGINT NOT NULL, "
        "expires BIGINT NOT NULL, csr TEXT NOT NULL, cert TEXT NOT NULL)",
        "INSERT INTO pending VALUES ('req-old', 'old-2', 'client', '', '', 'jti-o', '', "
        "'ee', 'pending', 'hold', 1, 2000000000, 'CSR', '')",
        "INSERT INTO enrolled VALUES ('old-1', 'client', '', '', '0d01', 'ff', "
        "2000000000, 1, 'PEM', 'jti-old')",
        "INSERT INTO certs VALUES ('ioc', 'jwt-client', '', '', '0e01', 'ee', "
        "2000000000, 1, 'PEM', 'VALID')",
    };
    const db_driver_t *drv = strncmp(db_url, "postgres", 8) == 0 ? &db_postgres : &db_sqlite;
    const char *target = drv == &db_sqlite ? db_url + 7 : db_url;
    tkr_store_t s;
    tkr_store_entity_t got;
    tkr_store_pending_t pd;
    char err[256];
    void *c;
    size_t i;

    (void)state;
    assert_int_equal(drv->connect(&c, target, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(v3) / sizeof(v3[0]); i++)
        assert_int_equal(drv->exec(c, v3[i], NULL, 0, NULL, NULL), 0);
    drv->disconnect(c);
    open_store(&s);
    assert_int_equal(s.ops->enrolled_get(s.ctx, "old-1", "client", &got), 0);
    assert_string_equal(got.jti, "jti-old");
    assert_string_equal(got.key_fp, "");
    assert_string_equal(got.status, TKR_CERT_VALID);
    assert_int_equal(s.ops->enrolled_by_serial(s.ctx, "0e01", &got), 0);
    assert_string_equal(got.status, TKR_CERT_VALID);
    assert_int_equal(s.ops->revoke(s.ctx, "0e01", 9, "r", NULL, &got), 0);
    assert_string_equal(got.status, TKR_CERT_REVOKED);
    assert_int_equal(s.ops->pending_get(s.ctx, "old-2", "client", &pd), 0);
    assert_string_equal(pd.request_id, "req-old");
    assert_string_equal(pd.notify, "");
    cli_store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_enroll_records_entity_and_spends_one_use, setup),
        cmocka_unit_test_setup(test_spent_token_records_nothing, setup),
        cmocka_unit_test_setup(test_max_uses_three_grants_exactly_three, setup),
        cmocka_unit_test_setup(test_enrolled_name_conflicts_without_spending, setup),
        cmocka_unit_test_setup(test_pending_add_get_and_one_waiting_per_name, setup),
        cmocka_unit_test_setup(test_approve_keeps_certificate_and_enrolls_once, setup),
        cmocka_unit_test_setup(test_reject_enrolls_nothing_and_frees_the_name, setup),
        cmocka_unit_test_setup(test_pending_list_and_expiry, setup),
        cmocka_unit_test_setup(test_unread_enroll_refused_for_a_name_with_history, setup),
        cmocka_unit_test_setup(test_name_get_is_pending_get_and_enrolled_get, setup),
        cmocka_unit_test_setup(test_audit_appends, setup),
        cmocka_unit_test_setup(test_cert_add_keeps_several_per_name_by_serial, setup),
        cmocka_unit_test_setup(test_audit_line_with_the_use, setup),
        cmocka_unit_test_setup(test_notices_queue_lease_retry_done, setup),
        cmocka_unit_test_setup(test_reopen_keeps_data_and_schema, setup),
        cmocka_unit_test_setup(test_newer_schema_is_refused, setup),
        cmocka_unit_test_setup(test_unknown_url_is_refused, setup),
        cmocka_unit_test_setup(test_one_use_token_wins_once_across_processes, setup),
        cmocka_unit_test_setup(test_threads_share_the_store_and_the_uses_hold, setup),
        cmocka_unit_test_setup(test_revoke_once_with_audit, setup),
        cmocka_unit_test_setup(test_cert_add_audit_line_with_the_certificate, setup),
        cmocka_unit_test_setup(test_version_3_database_is_migrated, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (tmpdir[0] != '\0') {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            rc = rc ? rc : 1;
    }
    return rc;
}
