/* policy_env.c — a policy's ${NAME} references against an environment:
 * the check `policy check` runs, and the expansion a service runs when it
 * sends a notification (policy.h, "Environment references"). The model is
 * never changed: values are expanded into the caller's buffer or a
 * temporary one. */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tokenroll/error.h"
#include "tokenroll/policy.h"
#include "yaml_int.h"

int tkr_policy_url_ok(const char *s, size_t len, int refs)
{
    static const char *const schemes[] = {"https://", "http://"};
    size_t pos = 0, i, n, lit = len;
    tkr_envref_t ref;

    if (refs && tkr_envref_next(s, len, &pos, &ref) == 1)
        lit = ref.start;
    for (i = 0; i < 2; i++) {
        n = strlen(schemes[i]);
        if (lit < len ? memcmp(s, schemes[i], lit < n ? lit : n) == 0
                      : len >= n && memcmp(s, schemes[i], n) == 0)
            return 1;
    }
    return 0;
}

/* How a service uses the value at a key path. */
enum { USE_NONE, USE_TEXT, USE_URL, USE_RECIPIENT };

/* "[digits]" at *s; moves past it. */
static int index_at(const char **s)
{
    const char *p = *s;

    if (*p++ != '[' || *p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p++ != ']')
        return 0;
    *s = p;
    return 1;
}

static int use_of(const char *path)
{
    static const char smtp[] = "notifications.channels.email.smtp_config";
    static const char rules[] = "approval.rules";
    const size_t n = sizeof(smtp) - 1;
    const char *p;

    if (strcmp(path, "notifications.channels.webhook.url") == 0)
        return USE_URL;
    if (strncmp(path, smtp, n) == 0 && (path[n] == '\0' || path[n] == '.'))
        return USE_TEXT;
    p = path + sizeof(rules) - 1;
    if (strncmp(path, rules, sizeof(rules) - 1) == 0 && index_at(&p) &&
        strncmp(p, ".notify", 7) == 0 && (p += 7, index_at(&p)) && *p == '\0')
        return USE_RECIPIENT;
    return USE_NONE;
}

typedef struct {
    const tkr_envref_env_t *env;
    const char *file;
    tkr_policy_warn_fn warn;
    void *ctx;
    tkr_diag_t *err;
} env_t;

static void warn(const env_t *c, const tkr_yaml_node_t *n, const char *fmt, const char *path,
                 const char *text, size_t text_len)
{
    tkr_diag_t w;

    if (c->warn == NULL)
        return;
    memset(&w, 0, sizeof(w));
    tkr_yaml_bad(&w, c->file, n, 0, fmt, path, (int)text_len, text);
    c->warn(c->ctx, &w);
}

/* Valid once expanded, as the same text written literally. */
static int check_expanded(const env_t *c, const tkr_yaml_node_t *n, const char *path, int use)
{
    char *out, what[80];
    size_t len = 0;
    int rc;

    rc = tkr_envref_expand(NULL, 0, &len, n->str, n->len, c->env, NULL);
    if (rc != TKR_E_BUFFER_TOO_SMALL)
        return rc;
    if ((out = malloc(len + 1)) == NULL)
        return TKR_E_NO_MEMORY;
    rc = tkr_envref_expand(out, len + 1, &len, n->str, n->len, c->env, NULL);
    if (rc == 0 && use == USE_URL && !tkr_policy_url_ok(out, len, 0)) {
        tkr_yaml_show(what, sizeof(what), out, len, 60);
        rc = tkr_yaml_bad(c->err, c->file, n, 0, "%s: expands to %s, which is not an http:// "
                          "or https:// URL", path, what);
    } else if (rc == 0 && use == USE_RECIPIENT && len == 0) {
        rc = tkr_yaml_bad(c->err, c->file, n, 0, "%s: expands to an empty string (expected a "
                          "recipient)", path);
    }
    free(out);
    return rc;
}

static int env_str(void *ctx, const tkr_yaml_node_t *n, const char *path, int is_key)
{
    const env_t *c = ctx;
    char name[TKR_ENVREF_NAME_MAX + 1];
    size_t pos = 0;
    tkr_envref_t ref;
    int use, unset = 0;

    if (is_key || tkr_envref_next(n->str, n->len, &pos, &ref) != 1)
        return 0;
    use = use_of(path);
    if (use == USE_NONE) {
        warn(c, n, "%s: %.*s is not expanded here: the text is used as written (only the "
                   "notification settings are expanded)", path, n->str + ref.start,
             ref.end - ref.start);
        return 0;
    }
    pos = 0;
    while (tkr_envref_next(n->str, n->len, &pos, &ref) == 1) {
        memcpy(name, n->str + ref.name, ref.name_len);
        name[ref.name_len] = '\0';
        if (c->env == NULL || c->env->get == NULL || c->env->get(c->env->ctx, name) == NULL) {
            warn(c, n, "%s: %.*s is not set in the environment; the service cannot use this "
                       "value until it is", path, n->str + ref.start, ref.end - ref.start);
            unset = 1;
        }
    }
    return unset ? 0 : check_expanded(c, n, path, use);
}

int tkr_policy_check_env(const tkr_policy_t *p, const tkr_envref_env_t *env,
                         const char *file, tkr_policy_warn_fn warn_fn, void *ctx,
                         tkr_diag_t *err)
{
    env_t c;

    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (p == NULL)
        return TKR_E_INVALID_ARG;
    c.env = env;
    c.file = file;
    c.warn = warn_fn;
    c.ctx = ctx;
    c.err = err;
    return tkr_yaml_walk_strings(p->doc, env_str, &c);
}

int tkr_policy_webhook_url(const tkr_policy_t *p, const tkr_envref_env_t *env,
                           char *out, size_t out_size, size_t *out_len,
                           tkr_diag_t *err)
{
    static const char path[] = "notifications.channels.webhook.url";
    const tkr_yaml_node_t *n;
    char what[80];
    int rc;

    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (p == NULL || out_len == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    n = tkr_yaml_get(tkr_yaml_get(tkr_yaml_get(tkr_yaml_get(p->doc, "notifications"),
                                               "channels"), "webhook"), "url");
    if (n == NULL || n->kind != TKR_YAML_STR) {
        tkr_yaml_set_err(err, NULL, 0, 0, "%s: the policy has no webhook URL", path);
        return TKR_E_NOT_FOUND;
    }
    rc = tkr_envref_expand_node(out, out_size, out_len, n, env, NULL, path, err);
    if (rc != 0)
        return rc;
    if (!tkr_policy_url_ok(out, *out_len, 0)) {
        tkr_yaml_show(what, sizeof(what), out, *out_len, 60);
        return tkr_yaml_bad(err, NULL, n, 0, "%s: expands to %s, which is not an http:// or "
                            "https:// URL", path, what);
    }
    return 0;
}
