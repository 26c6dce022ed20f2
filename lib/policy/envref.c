/* envref.c — ${NAME} references: find, expand (envref.h). */
#include <string.h>

#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "yaml_int.h"

static int name_char(char c, int first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static const char *name_problem(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return "the variable name is empty";
    for (i = 0; i < len; i++)
        if (!name_char(s[i], i == 0))
            return "a variable name is letters, digits and '_', not starting with a digit "
                   "(no default values or other shell forms)";
    if (len > TKR_ENVREF_NAME_MAX)
        return "the variable name is too long";
    return NULL;
}

int tkr_envref_next(const char *s, size_t len, size_t *pos, tkr_envref_t *ref)
{
    size_t i, j;

    if ((s == NULL && len != 0) || pos == NULL || ref == NULL)
        return TKR_E_INVALID_ARG;
    for (i = *pos; i + 1 < len; i++) {
        if (s[i] != '$' || s[i + 1] != '{')
            continue;
        for (j = i + 2; j < len && s[j] != '}'; j++)
            ;
        ref->start = i;
        ref->end = j < len ? j + 1 : len;
        ref->name = i + 2;
        ref->name_len = j - (i + 2);
        ref->why = j == len ? "\"${\" without a closing \"}\"" : name_problem(s + i + 2, j - (i + 2));
        if (ref->why != NULL)
            return TKR_E_POLICY;
        *pos = ref->end;
        return 1;
    }
    *pos = len;
    return 0;
}

/* Copy into out while it fits; count always. */
static void put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
    if (out != NULL && len > 0 && *n + len < size)
        memcpy(out + *n, s, len);
    *n += len;
}

int tkr_envref_expand(char *out, size_t out_size, size_t *out_len,
                      const char *s, size_t len, const tkr_envref_env_t *env,
                      tkr_envref_t *bad)
{
    char name[TKR_ENVREF_NAME_MAX + 1];
    const char *val;
    size_t pos = 0, last = 0, n = 0;
    tkr_envref_t ref;
    int rc;

    if (out_len == NULL || (s == NULL && len != 0))
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    /* Syntax first: a malformed reference anywhere is the error, whatever
     * the environment holds. */
    while ((rc = tkr_envref_next(s, len, &pos, &ref)) == 1)
        ;
    if (rc != 0) {
        if (bad != NULL)
            *bad = ref;
        return rc;
    }
    pos = 0;
    while (tkr_envref_next(s, len, &pos, &ref) == 1) {
        memcpy(name, s + ref.name, ref.name_len);
        name[ref.name_len] = '\0';
        val = env != NULL && env->get != NULL ? env->get(env->ctx, name) : NULL;
        if (val == NULL) {
            if (bad != NULL)
                *bad = ref;
            return TKR_E_NOT_FOUND;
        }
        put(out, out_size, &n, s + last, ref.start - last);
        put(out, out_size, &n, val, strlen(val));
        last = ref.end;
    }
    put(out, out_size, &n, s + last, len - last);
    *out_len = n;
    if (out == NULL || n >= out_size)
        return TKR_E_BUFFER_TOO_SMALL;
    out[n] = '\0';
    return 0;
}

int tkr_envref_expand_node(char *out, size_t out_size, size_t *out_len,
                           const tkr_yaml_node_t *n, const tkr_envref_env_t *env,
                           const char *file, const char *path, tkr_diag_t *err)
{
    tkr_envref_t bad;
    char what[80];
    int rc;

    if (n == NULL || n->kind != TKR_YAML_STR || out_len == NULL)
        return TKR_E_INVALID_ARG;
    rc = tkr_envref_expand(out, out_size, out_len, n->str, n->len, env, &bad);
    if (rc == TKR_E_POLICY) {
        tkr_yaml_show(what, sizeof(what), n->str + bad.start, bad.end - bad.start, 60);
        tkr_yaml_bad(err, file, n, 0, "%s: malformed environment reference %s: %s", path ? path : "value",
                     what, bad.why);
    } else if (rc == TKR_E_NOT_FOUND) {
        tkr_yaml_bad(err, file, n, 0, "%s: ${%.*s} is not set in the environment",
                     path ? path : "value", (int)bad.name_len, n->str + bad.name);
    }
    return rc;
}
