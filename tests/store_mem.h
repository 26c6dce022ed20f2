/* store_mem.h — an in-memory tokenroll/store.h for unit tests and fuzzing:
 * the same rules as the SQL store (cli/store.c), one thread, no
 * persistence. Header-only (static functions): each test or harness is its
 * own program. */
#ifndef TKR_TEST_STORE_MEM_H
#define TKR_TEST_STORE_MEM_H

#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/store.h"

#define MEM_MAX 64

typedef struct {
    struct {
        char jti[TKR_STORE_SHORT_MAX];
        int64_t uses, max;
    } tok[MEM_MAX];
    size_t ntok;
    tkr_store_entity_t *ent[MEM_MAX];
    size_t nent;
    tkr_store_pending_t *pend[MEM_MAX];
    size_t npend;
    size_t audits;
} mem_store_t;

static int mem_spend(mem_store_t *m, const tkr_store_use_t *u, int commit)
{
    size_t i;

    if (u == NULL)
        return 0;
    for (i = 0; i < m->ntok; i++)
        if (strcmp(m->tok[i].jti, u->jti) == 0) {
            if (m->tok[i].uses >= m->tok[i].max)
                return TKR_E_SPENT;
            if (commit)
                m->tok[i].uses++;
            return 0;
        }
    if (u->max_uses < 1)
        return TKR_E_SPENT;
    if (m->ntok == MEM_MAX)
        return TKR_E_IO;
    if (commit) {
        snprintf(m->tok[m->ntok].jti, TKR_STORE_SHORT_MAX, "%s", u->jti);
        m->tok[m->ntok].uses = 1;
        m->tok[m->ntok++].max = u->max_uses;
    }
    return 0;
}

static int mem_find_ent(const mem_store_t *m, const char *name, const char *type)
{
    size_t i;
    for (i = 0; i < m->nent; i++)
        if (strcmp(m->ent[i]->name, name) == 0 && strcmp(m->ent[i]->type, type) == 0)
            return (int)i;
    return -1;
}

/* A certificate by serial (enrolled ones one per name and type, unless
 * any_name: the JWT authenticator's). */
static int mem_put_ent(mem_store_t *m, const tkr_store_entity_t *e, const char *jti,
                       int any_name)
{
    tkr_store_entity_t *n;
    size_t i;

    if (!any_name && mem_find_ent(m, e->name, e->type) >= 0)
        return TKR_E_CONFLICT;
    for (i = 0; i < m->nent; i++)
        if (strcmp(m->ent[i]->serial, e->serial) == 0)
            return TKR_E_CONFLICT;
    if (m->nent == MEM_MAX || (n = malloc(sizeof(*e))) == NULL)
        return TKR_E_IO;
    *n = *e;
    snprintf(n->jti, sizeof(n->jti), "%s", jti);
    snprintf(n->status, sizeof(n->status), "%s", TKR_CERT_VALID);
    n->revoked_at = 0;
    n->reason[0] = '\0';
    m->ent[m->nent++] = n;
    return 0;
}

static int mem_add_ent(mem_store_t *m, const tkr_store_entity_t *e, const char *jti)
{
    return mem_put_ent(m, e, jti, 0);
}

/* 1 when name and type have a request with status (NULL: any status). */
static int mem_has_pend(const mem_store_t *m, const char *name, const char *type,
                        const char *status)
{
    size_t i;
    for (i = 0; i < m->npend; i++)
        if (strcmp(m->pend[i]->name, name) == 0 && strcmp(m->pend[i]->type, type) == 0 &&
            (status == NULL || strcmp(m->pend[i]->status, status) == 0))
            return 1;
    return 0;
}

static int mem_enroll(void *ctx, const tkr_store_use_t *use, const tkr_store_entity_t *e)
{
    mem_store_t *m = ctx;
    int rc = mem_spend(m, use, 0);

    if (rc == 0 && (mem_find_ent(m, e->name, e->type) >= 0 ||
                    (use != NULL && use->unread && mem_has_pend(m, e->name, e->type, NULL))))
        rc = TKR_E_CONFLICT;
    if (rc == 0)
        rc = mem_add_ent(m, e, use ? use->jti : "");
    if (rc == 0) {
        mem_spend(m, use, 1);
        if (use != NULL && use->audit != NULL)
            m->audits++;
    }
    return rc;
}

static int mem_pending_add(void *ctx, const tkr_store_use_t *use, const tkr_store_pending_t *p)
{
    mem_store_t *m = ctx;
    int rc = mem_spend(m, use, 0);

    if (rc == 0 && mem_has_pend(m, p->name, p->type, TKR_PENDING_WAITING))
        rc = TKR_E_CONFLICT;
    if (rc == 0 && (m->npend == MEM_MAX || (m->pend[m->npend] = malloc(sizeof(*p))) == NULL))
        rc = TKR_E_IO;
    if (rc != 0)
        return rc;
    *m->pend[m->npend] = *p;
    snprintf(m->pend[m->npend]->status, TKR_STORE_SHORT_MAX, "%s", TKR_PENDING_WAITING);
    m->pend[m->npend++]->cert[0] = '\0';
    mem_spend(m, use, 1);
    if (use != NULL && use->audit != NULL)
        m->audits++;
    return 0;
}

static int mem_pending_get(void *ctx, const char *name, const char *type, tkr_store_pending_t *p)
{
    mem_store_t *m = ctx;
    size_t i = m->npend;

    while (i-- > 0)
        if (strcmp(m->pend[i]->name, name) == 0 && strcmp(m->pend[i]->type, type) == 0) {
            *p = *m->pend[i];
            return 0;
        }
    return TKR_E_NOT_FOUND;
}

static int mem_pending_list(void *ctx, int64_t now, tkr_store_pending_fn fn, void *arg)
{
    mem_store_t *m = ctx;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < m->npend; i++)
        if (strcmp(m->pend[i]->status, TKR_PENDING_WAITING) == 0 && m->pend[i]->expires > now)
            rc = fn(arg, m->pend[i]);
    return rc;
}

static int mem_pending_decide(void *ctx, const char *id, const tkr_store_entity_t *e)
{
    mem_store_t *m = ctx;
    size_t i;
    int rc;

    for (i = 0; i < m->npend; i++) {
        tkr_store_pending_t *p = m->pend[i];
        if (strcmp(p->request_id, id) != 0 || strcmp(p->status, TKR_PENDING_WAITING) != 0)
            continue;
        if (e != NULL && (rc = mem_add_ent(m, e, p->jti)) != 0)
            return rc;
        snprintf(p->status, sizeof(p->status), "%s",
                 e ? TKR_PENDING_APPROVED : TKR_PENDING_REJECTED);
        if (e != NULL)
            snprintf(p->cert, sizeof(p->cert), "%s", e->cert);
        return 0;
    }
    return TKR_E_NOT_FOUND;
}

static int mem_pending_expire(void *ctx, int64_t now, int64_t *n)
{
    mem_store_t *m = ctx;
    size_t i;

    *n = 0;
    for (i = 0; i < m->npend; i++)
        if (strcmp(m->pend[i]->status, TKR_PENDING_WAITING) == 0 && m->pend[i]->expires <= now) {
            snprintf(m->pend[i]->status, TKR_STORE_SHORT_MAX, "%s", TKR_PENDING_EXPIRED);
            (*n)++;
        }
    return 0;
}

static int mem_enrolled_get(void *ctx, const char *name, const char *type, tkr_store_entity_t *e)
{
    mem_store_t *m = ctx;
    int i = mem_find_ent(m, name, type);

    if (i < 0)
        return TKR_E_NOT_FOUND;
    *e = *m->ent[i];
    return 0;
}

static int mem_enrolled_list(void *ctx, tkr_store_entity_fn fn, void *arg)
{
    mem_store_t *m = ctx;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < m->nent; i++)
        rc = fn(arg, m->ent[i]);
    return rc;
}

static int mem_enrolled_by_serial(void *ctx, const char *serial, tkr_store_entity_t *e)
{
    mem_store_t *m = ctx;
    size_t i;

    for (i = 0; i < m->nent; i++)
        if (strcmp(m->ent[i]->serial, serial) == 0) {
            *e = *m->ent[i];
            return 0;
        }
    return TKR_E_NOT_FOUND;
}

static int mem_token_uses(void *ctx, const char *jti, int64_t *uses)
{
    mem_store_t *m = ctx;
    size_t i;

    *uses = 0;
    for (i = 0; i < m->ntok; i++)
        if (strcmp(m->tok[i].jti, jti) == 0)
            *uses = m->tok[i].uses;
    return 0;
}

static int mem_audit(void *ctx, int64_t t, const char *line)
{
    (void)t;
    (void)line;
    ((mem_store_t *)ctx)->audits++;
    return 0;
}

/* Kept with the enrolled, without their one-per-name rule. */
static int mem_cert_add(void *ctx, const tkr_store_entity_t *e, const char *audit)
{
    mem_store_t *m = ctx;
    int rc = mem_put_ent(m, e, "", 1);

    if (rc == 0 && audit != NULL)
        m->audits++;
    return rc;
}

static int mem_revoke(void *ctx, const char *serial, int64_t t, const char *reason,
                      const char *audit, tkr_store_entity_t *e)
{
    mem_store_t *m = ctx;
    size_t i;

    for (i = 0; i < m->nent; i++) {
        tkr_store_entity_t *x = m->ent[i];
        if (strcmp(x->serial, serial) != 0)
            continue;
        if (strcmp(x->status, TKR_CERT_REVOKED) == 0) {
            *e = *x;
            return TKR_E_CONFLICT;
        }
        snprintf(x->status, sizeof(x->status), "%s", TKR_CERT_REVOKED);
        snprintf(x->reason, sizeof(x->reason), "%s", reason);
        x->revoked_at = t;
        if (audit != NULL)
            m->audits++;
        *e = *x;
        return 0;
    }
    return TKR_E_NOT_FOUND;
}

static const tkr_store_ops_t mem_store_ops = {
    mem_enroll, mem_pending_add, mem_pending_get, mem_pending_list,
    mem_pending_decide, mem_pending_expire, mem_enrolled_get, mem_enrolled_list,
    mem_enrolled_by_serial, mem_token_uses, mem_audit,
    NULL, NULL, NULL, NULL, /* no notification queue: the service queues none */
    mem_cert_add, mem_revoke,
    NULL, /* no name_get: the service asks pending_get and enrolled_get */
};

static void mem_store_reset(mem_store_t *m)
{
    size_t i;

    for (i = 0; i < m->nent; i++)
        free(m->ent[i]);
    for (i = 0; i < m->npend; i++)
        free(m->pend[i]);
    memset(m, 0, sizeof(*m));
}

#endif
