/* cmd_token.c — `tokenroll token generate|batch|info` (local mode), with the
 * flags, environment variables and messages of FLARE's `nvflare token`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "cli_ca.h"
#include "cli_jwt.h"
#include "remote.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/policy.h"
#include "tokenroll/token.h"

/* Everything a mint needs, resolved once from flags and environment. */
typedef struct {
    const char *ca_path;
    tkr_policy_t policy;
    tkr_token_claims_t claims;
    tkr_mint_request_t req;      /* claims.roles points at req.role */
    const char *validity_from;  /* for messages: -v, the policy, the default */
} mint_setup_t;

/* ---- shared option handling ---- */

/* Remote mode: --cert-service, or NVFLARE_CERT_SERVICE_URL when no CA is
 * named for local mode. The service's URL, or NULL for local mode. */
static const char *remote_url(const cli_args_t *a)
{
    const char *url = cli_get(a, "cert-service");

    if (url == NULL && cli_get(a, "ca_path") == NULL && getenv("NVFLARE_CA_PATH") == NULL)
        url = getenv("NVFLARE_CERT_SERVICE_URL");
    return url;
}

static int pick_type(const cli_args_t *a, tkr_subject_type_t *type);

/* Tokens for names[0..n) minted by the certificate service (POST
 * /api/v1/token) with this command's type, validity and role. */
static int remote_mint(const cli_args_t *a, char *const *names, size_t n, char **tokens)
{
    const char *v = cli_get(a, "validity");
    tkr_subject_type_t type;
    cli_remote_t r;
    int64_t validity = 0;
    int rc;

    if ((rc = pick_type(a, &type)) != 0)
        return rc;
    if (v != NULL && (validity = tkr_policy_duration(v, strlen(v))) <= 0)
        return cli_usage_fail(a, "-v must be a duration like 30m, 24h, 7d or 2w, not %s", v);
    if (cli_get(a, "policy") != NULL || cli_has(a, "source-ips") || cli_get(a, "issued-at") ||
        cli_get(a, "jti") != NULL)
        return cli_usage_fail(a, "in remote mode the service's policy decides: -p, --source-ips, "
                                 "--jti and --issued-at are local-mode options");
    rc = cli_remote_open(&r, remote_url(a), cli_get(a, "api-key"), cli_get(a, "ca-cert"),
                         cli_get(a, "ca_path"));
    if (rc == 0)
        rc = cli_remote_tokens(&r, tkr_subject_type_name(type), cli_get(a, "role"), validity,
                               names, n, tokens);
    cli_remote_close(&r);
    return rc;
}

static int pick_type(const cli_args_t *a, tkr_subject_type_t *type)
{
    const char *t = cli_get(a, "type");
    int picks = (cli_has(a, "user") != 0) + (cli_has(a, "relay") != 0) + (t != NULL);

    if (picks > 1)
        return cli_usage_fail(a, "use only one of --user, --relay and -t TYPE");
    *type = TKR_SUBJECT_CLIENT;
    if (cli_has(a, "user"))
        *type = TKR_SUBJECT_ADMIN;
    else if (cli_has(a, "relay"))
        *type = TKR_SUBJECT_RELAY;
    else if (t != NULL && tkr_subject_type_parse(t, type) != 0)
        return cli_usage_fail(a, "-t must be client, admin (or user), relay, server or pattern, not %s", t);
    return 0;
}

static int load_policy(tkr_policy_t *p, const cli_args_t *a)
{
    const char *path = cli_get(a, "policy");
    tkr_diag_t err;
    size_t len;
    char *text;
    int rc;

    if (path == NULL)
        path = getenv("NVFLARE_ENROLLMENT_POLICY");
    if (path == NULL || path[0] == '\0')
        return tkr_policy_load_default(p) == 0 ? 0 : cli_fail("built-in policy failed to load");
    text = cli_read_file(path, 1u << 20, &len);
    if (text == NULL)
        return cli_fail("cannot read policy %s: %s", path, cli_io_error());
    memset(&err, 0, sizeof(err));
    rc = tkr_policy_load_yaml(p, text, len, path, &err);
    free(text);
    if (rc != 0)
        return cli_fail("%s:%d:%d: %s", err.file != NULL ? err.file : path, err.line, err.column,
                        err.msg[0] ? err.msg : tkr_strerror(rc));
    return 0;
}

/* The policy's verdict on the flags, in the words of the flags. */
static int mint_refused(const mint_setup_t *m, const cli_args_t *a, int rc,
                        const tkr_diag_t *d)
{
    const tkr_policy_t *p = &m->policy;

    if (strcmp(d->name, "role") == 0 && rc == TKR_E_INVALID_ARG)
        return cli_usage_fail(a, "-r/--role is for user tokens (--user)");
    if (strcmp(d->name, "role") == 0) {
        char list[512] = "";
        size_t i;
        for (i = 0; i < p->n_allowed_roles; i++) {
            strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
            strncat(list, p->allowed_roles[i], sizeof(list) - strlen(list) - 1);
        }
        return cli_fail("role \"%s\" is not allowed by the policy (allowed: %s)", m->req.role,
                        list);
    }
    return cli_fail("cannot mint: %s%s%s", d->name, d->name[0] ? " " : "",
                    d->msg[0] ? d->msg : tkr_strerror(rc));
}

static int read_flags(mint_setup_t *m, const cli_args_t *a)
{
    const char *v = cli_get(a, "validity"), *iat = cli_get(a, "issued-at");
    char **ips;
    int i, n;

    m->req.role = cli_get(a, "role");
    n = cli_list(a, "source-ips", &ips);
    for (i = 0; i < n; i++)
        if (tkr_token_source_ips_check((const char *const *)&ips[i], 1, NULL) != 0)
            return cli_fail("--source-ips: \"%s\" is not a CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)",
                            ips[i]);
    m->req.source_ips = (const char *const *)ips;
    m->req.n_source_ips = n > 0 ? (size_t)n : 0;
    if (v != NULL && (m->req.validity = tkr_policy_duration(v, strlen(v))) <= 0)
        return cli_usage_fail(a, "-v must be a duration like 30m, 24h, 7d or 2w, not %s", v);
    m->validity_from = v != NULL ? "-v/--validity"
                       : m->policy.validity > 0 ? "the policy's token.validity"
                                                : "the default validity";
    m->claims.issued_at = -1;
    if (iat != NULL && cli_parse_i64(iat, 0, INT64_MAX / 4, &m->claims.issued_at) != 0)
        return cli_usage_fail(a, "--issued-at must be seconds since the epoch, not %s", iat);
    return 0;
}

/* Resolve flags + environment + policy into m (zeroed, its policy
 * initialised by the caller). The CA itself is loaded by whoever signs
 * (each batch worker loads its own copy). */
static int setup(mint_setup_t *m, const cli_args_t *a)
{
    tkr_diag_t d;
    int rc;

    m->ca_path = cli_get(a, "ca_path");
    if (m->ca_path == NULL)
        m->ca_path = getenv("NVFLARE_CA_PATH");
    if (m->ca_path == NULL || m->ca_path[0] == '\0')
        return cli_fail("CA path is required.\n%s", cli_ca_hint);
    if ((rc = pick_type(a, &m->req.type)) != 0 || (rc = load_policy(&m->policy, a)) != 0 ||
        (rc = read_flags(m, a)) != 0)
        return rc;
    tkr_diag_clear(&d);
    if ((rc = tkr_policy_mint_claims(&m->claims, &m->req, &m->policy, &d)) != 0)
        return mint_refused(m, a, rc, &d);
    return 0;
}

/* The mint rules for one subject (length, characters, glob for pattern
 * tokens, the policy's site.name_pattern). */
static int check_subject(const tkr_policy_t *p, const char *s, tkr_subject_type_t type)
{
    tkr_diag_t d;
    int rc;

    tkr_diag_clear(&d);
    rc = tkr_policy_mint_subject(p, type, s, &d);
    if (rc == TKR_E_POLICY)
        return cli_fail("subject \"%s\" does not match the policy's site.name_pattern \"%s\"",
                        s, p->site_name_pattern);
    if (rc != 0)
        return cli_fail("subject %s", d.msg[0] ? d.msg : tkr_strerror(rc));
    return 0;
}

/* The token's lifetime against the signing CA (see cli_check_validity). */
static int check_mint_validity(const mint_setup_t *m, const tkr_ca_t *ca)
{
    int64_t start = m->claims.issued_at >= 0 ? m->claims.issued_at
                                             : tkr_port_time(cli_port());

    return cli_check_validity(ca, start, m->claims.validity,
                              m->validity_from);
}

static unsigned out_flags(const cli_args_t *a)
{
    return CLI_OUT_SECRET | (cli_has(a, "force") ? CLI_OUT_FORCE : 0u);
}

/* failed: NULL for one token; for a batch, the flag shared by the workers
 * under lock, so that only the first failure is reported (one message,
 * not one per thread). */
static int mint_one(char *out, size_t size, size_t *len, tkr_signer_t *signer,
                    const char *issuer, tkr_token_claims_t *c, const char *subject,
                    pthread_mutex_t *lock, int *failed)
{
    char why[200];
    int rc, first = 1;

    c->subject = subject;
    c->issuer = issuer;
    rc = tkr_token_mint(out, size, len, NULL, signer, c, cli_port());
    if (rc == 0)
        return 0;
    if (rc == TKR_E_TOO_LARGE || rc == TKR_E_BUFFER_TOO_SMALL)
        snprintf(why, sizeof(why), "would exceed %d bytes (is the policy that large?)",
                 TKR_JWT_MAX);
    else
        snprintf(why, sizeof(why), "cannot be minted: %s", tkr_strerror(rc));
    if (failed != NULL) {
        pthread_mutex_lock(lock);
        first = !*failed;
        *failed = 1;
        pthread_mutex_unlock(lock);
    }
    if (first)
        cli_fail("the token for %s %s", subject, why);
    return CLI_EXIT_FAIL;
}

#define COMMON_OPTS                                                              \
    {"ca_path", 'c', OPT_VALUE, "ca-path"}, {"policy", 'p', OPT_VALUE, NULL},    \
    {"role", 'r', OPT_VALUE, NULL}, {"user", 0, OPT_FLAG, NULL},                 \
    {"relay", 0, OPT_FLAG, NULL}, {"type", 't', OPT_VALUE, NULL},                \
    {"validity", 'v', OPT_VALUE, NULL}, {"source-ips", 0, OPT_LIST, "source_ips"}, \
    {"issued-at", 0, OPT_VALUE, NULL}, {"output", 'o', OPT_VALUE, NULL},         \
    {"cert-service", 0, OPT_VALUE, NULL}, {"api-key", 0, OPT_VALUE, "api_key"},  \
    {"ca-cert", 0, OPT_VALUE, "ca_cert"}, {"force", 0, OPT_FLAG, NULL}, CLI_CA_KEY_OPTS

/* ---- generate ---- */

static const char generate_usage[] =
    "usage: tokenroll token generate -s SUBJECT [--user | --relay | -t TYPE]\n"
    "                                [-c CA_PATH] [-p POLICY] [-r ROLE] [-o OUTPUT]\n"
    "                                [-v VALIDITY] [--source-ips CIDR ...] [--force]\n"
    "                                [--jti UUID --issued-at EPOCH]\n"
    "                                [--cert-service URL] [--api-key KEY]\n"
    "                                [--ca-key FILE|URI] [--signer openssl|mbedtls]\n"
    "\n"
    "Generate a single enrollment token, signed by the project's root CA.\n"
    "  -s, --subject     site name, user e-mail, or a glob with -t pattern\n"
    "  --user            user (admin console) token; role from -r or the policy\n"
    "  --relay           relay node token\n"
    "  -t, --type        client (default), admin|user, relay, server, pattern\n"
    "  -c, --ca_path     provisioned workspace (or NVFLARE_CA_PATH)\n"
    "  -p, --policy      policy YAML (or NVFLARE_ENROLLMENT_POLICY; else built-in)\n"
    "  -r, --role        role for user tokens (default: the policy's default_role)\n"
    "  -o, --output      write the token to this file (mode 0600, no newline);\n"
    "                    '-' is standard output; an existing file is refused\n"
    "                    without --force (the CA's own files always); a device or\n"
    "                    FIFO is written in place; a symbolic link is refused\n"
    "                    unless it leads to one (/dev/stdout on a pipe)\n"
    "  --force           replace an existing regular file\n"
    "  -v, --validity    lifetime, e.g. 24h, 7d, 2w (default: policy, else 7d);\n"
    "                    at most 10 years and not past the root CA's expiry\n"
    "  --source-ips      CIDRs the enrollment must come from (enforced by the service)\n"
    "  --jti, --issued-at  fix the token id and issue time (reproducible output)\n"
    "  --ca-cert FILE    remote mode: root CA for TLS (default: -c's, else\n"
    "                    startup/rootCA.pem)\n"
    "  --cert-service, --api-key  remote mode (or NVFLARE_CERT_SERVICE_URL,\n"
    "                    NVFLARE_API_KEY)\n"
    CLI_CA_KEY_USAGE;

static int generate_run(const cli_args_t *a, mint_setup_t *m, cli_ca_key_t *key,
                        tkr_signer_t *signer)
{
    static char tok[TKR_JWT_MAX + 1];
    const char *subject = cli_get(a, "subject"), *out = cli_get(a, "output");
    size_t len;
    int rc;

    if (subject == NULL)
        return cli_usage_fail(a, "the following arguments are required: -s/--subject");
    if (remote_url(a) != NULL) {
        char *remote = NULL;
        if ((rc = pick_type(a, &m->claims.type)) != 0 ||
            (rc = check_subject(&m->policy, subject, m->claims.type)) != 0 ||
            (out != NULL && (rc = cli_out_check(out, out_flags(a))) != 0) ||
            (rc = remote_mint(a, (char *const *)&subject, 1, &remote)) != 0) {
            free(remote);
            return rc;
        }
        len = strlen(remote);
        memcpy(tok, remote, len + 1);
        mbedtls_platform_zeroize(remote, len);
        free(remote);
        goto print;
    }
    if ((rc = setup(m, a)) != 0 || (rc = check_subject(&m->policy, subject, m->claims.type)) != 0)
        return rc;
    m->claims.jti = cli_get(a, "jti");
    if (m->claims.jti != NULL && !tkr_uuid_valid(m->claims.jti))
        return cli_usage_fail(a, "--jti must be a UUID like 00000000-0000-4000-8000-000000000001");
    if ((rc = cli_ca_key_open(key, a, m->ca_path)) != 0 ||
        (rc = check_mint_validity(m, &key->ca)) != 0 ||
        (out != NULL && (rc = cli_out_check(out, out_flags(a))) != 0) ||
        (rc = cli_ca_key_signer(key, signer)) != 0)
        return rc;
    cli_ca_key_forget(key); /* from here on only the signer holds the key */
    if ((rc = mint_one(tok, sizeof(tok), &len, signer, key->ca.cn, &m->claims, subject, NULL,
                       NULL)) != 0)
        return rc;
print:
    if (out == NULL) {
        puts(tok);
    } else {
        rc = cli_out_write(out, tok, len, out_flags(a));
        if (rc == 0 && strcmp(out, "-") != 0)
            fprintf(stderr, "Token for %s saved to %s\n", subject, out);
    }
    mbedtls_platform_zeroize(tok, sizeof(tok));
    return rc;
}

static int token_generate(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"subject", 's', OPT_VALUE, NULL}, {"jti", 0, OPT_VALUE, NULL}, COMMON_OPTS,
        {NULL, 0, 0, NULL}};
    cli_args_t a;
    mint_setup_t m;
    cli_ca_key_t key;
    tkr_signer_t signer;
    int rc = cli_parse(&a, opts, generate_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    memset(&m, 0, sizeof(m));
    tkr_policy_init(&m.policy);
    cli_ca_key_init(&key);
    tkr_signer_init(&signer);
    rc = generate_run(&a, &m, &key, &signer);
    tkr_signer_free(&signer);
    cli_ca_key_free(&key);
    tkr_policy_free(&m.policy);
    return rc;
}

/* ---- batch ---- */

typedef struct {
    mint_setup_t *m;
    cli_ca_key_t *key;
    char **names;
    char **tokens;
    size_t n;
    size_t next;             /* next index to mint (shared) */
    size_t done;
    int failed;
    pthread_mutex_t lock;
} batch_t;

static int claim_index(batch_t *b, size_t *i)
{
    int more;

    pthread_mutex_lock(&b->lock);
    more = !b->failed && b->next < b->n;
    if (more)
        *i = b->next++;
    pthread_mutex_unlock(&b->lock);
    return more;
}

/* Each worker signs through its own signer (signer.h: one context per
 * thread): its own RSA blinding state, EVP_PKEY or PKCS#11 session, so
 * the workers share no lock while they sign. */
typedef struct {
    batch_t *b;
    tkr_signer_t signer;
} worker_t;

static void *batch_worker(void *arg)
{
    worker_t *w = arg;
    batch_t *b = w->b;
    tkr_token_claims_t c = b->m->claims;
    char *tok = malloc(TKR_JWT_MAX + 1);
    size_t i, len;
    int rc = tok == NULL ? cli_fail("out of memory") : 0;

    while (rc == 0 && claim_index(b, &i)) {
        rc = mint_one(tok, TKR_JWT_MAX + 1, &len, &w->signer, b->key->ca.cn, &c, b->names[i],
                      &b->lock, &b->failed);
        if (rc == 0 && (b->tokens[i] = strdup(tok)) == NULL)
            rc = cli_fail("out of memory");
        pthread_mutex_lock(&b->lock);
        b->done++;
        pthread_mutex_unlock(&b->lock);
    }
    if (rc != 0) {
        pthread_mutex_lock(&b->lock);
        b->failed = 1;
        pthread_mutex_unlock(&b->lock);
    }
    if (tok != NULL) {
        mbedtls_platform_zeroize(tok, TKR_JWT_MAX + 1);
        free(tok);
    }
    return NULL;
}

static void progress(batch_t *b)
{
    size_t done;
    int width = 40, fill;

    pthread_mutex_lock(&b->lock);
    done = b->done;
    pthread_mutex_unlock(&b->lock);
    fill = (int)((size_t)width * done / (b->n ? b->n : 1));
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill,
            "########################################", width - fill, "", done, b->n);
}

static int run_workers(batch_t *b)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cores < 1 ? 1 : (size_t)cores, t, loaded;
    static worker_t w[64];
    pthread_t th[64];
    int tty = isatty(2), rc = 0;

    if (nthreads > 64)
        nthreads = 64;
    if (nthreads > b->n)
        nthreads = b->n;
    /* Every worker's signer is loaded here, one after the other (PKCS#11
     * logins included), and then the key's text is wiped: while the
     * workers sign, only the signers hold the key. */
    for (loaded = 0; rc == 0 && loaded < nthreads; loaded++) {
        w[loaded].b = b;
        rc = cli_ca_key_signer(b->key, &w[loaded].signer);
    }
    cli_ca_key_forget(b->key);
    if (rc != 0) {
        for (t = 0; t < loaded; t++)
            tkr_signer_free(&w[t].signer);
        return rc;
    }
    pthread_mutex_init(&b->lock, NULL);
    for (t = 0; t < nthreads; t++)
        if (pthread_create(&th[t], NULL, batch_worker, &w[t]) != 0)
            break;
    nthreads = t;
    while (tty) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        int finished;
        progress(b);
        pthread_mutex_lock(&b->lock);
        finished = b->done >= b->n || b->failed;
        pthread_mutex_unlock(&b->lock);
        if (finished)
            break;
        nanosleep(&ts, NULL);
    }
    for (t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    for (t = 0; t < loaded; t++)
        tkr_signer_free(&w[t].signer);
    if (tty) {
        progress(b);
        fputc('\n', stderr);
    }
    pthread_mutex_destroy(&b->lock);
    return b->failed || nthreads == 0 ? CLI_EXIT_FAIL : 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* One CSV field per RFC 4180: quoted when it holds a comma, a quote or a
 * line break, quotes doubled. Returns the bytes written (size is enough). */
static size_t csv_field(char *out, const char *s)
{
    size_t o = 0;

    if (strpbrk(s, ",\"\r\n") == NULL) {
        memcpy(out, s, strlen(s));
        return strlen(s);
    }
    out[o++] = '"';
    for (; *s != '\0'; s++) {
        if (*s == '"')
            out[o++] = '"';
        out[o++] = *s;
    }
    out[o++] = '"';
    return o;
}

static int write_batch(const char *path, const batch_t *b, unsigned flags)
{
    int csv = ends_with(path, ".csv");
    size_t i, size = 16, o = 0;
    char *buf;
    int rc;

    for (i = 0; i < b->n; i++)
        size += 2 * strlen(b->names[i]) + strlen(b->tokens[i]) + 8;
    if ((buf = malloc(size)) == NULL)
        return cli_fail("out of memory");
    if (csv)
        o += (size_t)snprintf(buf, size, "name,token\n");
    for (i = 0; i < b->n; i++) {
        if (csv) {
            o += csv_field(buf + o, b->names[i]);
            buf[o++] = ',';
            o += csv_field(buf + o, b->tokens[i]);
            buf[o++] = '\n';
        } else {
            o += (size_t)snprintf(buf + o, size - o, "%s: %s\n", b->names[i], b->tokens[i]);
        }
    }
    rc = cli_out_write(path, buf, o, flags);
    mbedtls_platform_zeroize(buf, size);
    free(buf);
    return rc;
}

/* <prefix>-NNN, zero-padded to max(3, digits of the count). */
static char **numbered_names(const char *prefix, size_t n)
{
    char **names = calloc(n, sizeof(char *));
    size_t i, width = 1, k;

    for (k = n; k >= 10; k /= 10)
        width++;
    if (width < 3)
        width = 3;
    for (i = 0; names != NULL && i < n; i++) {
        size_t len = strlen(prefix) + width + 2;
        if ((names[i] = malloc(len)) == NULL)
            return NULL;
        snprintf(names[i], len, "%s-%0*zu", prefix, (int)width, i + 1);
    }
    return names;
}

static const char batch_usage[] =
    "usage: tokenroll token batch (-n COUNT | --names NAME [NAME ...]) -o OUTPUT\n"
    "                             [-c CA_PATH] [-p POLICY] [--prefix PREFIX]\n"
    "                             [--user | --relay | -t TYPE] [-r ROLE] [-v VALIDITY]\n"
    "                             [--source-ips CIDR ...] [--issued-at EPOCH]\n"
    "                             [--cert-service URL] [--api-key KEY] [--force]\n"
    "\n"
    "Generate many tokens. OUTPUT ending in .csv gets \"name,token\" rows with a\n"
    "header (RFC 4180 quoting); any other name (or '-', standard output) gets\n"
    "\"name: token\" lines. Written with mode 0600; an existing file needs --force.\n"
    "  -n, --count   number of tokens, named PREFIX-001, PREFIX-002, ...\n"
    "  --names       explicit subject names\n"
    "  --prefix      prefix for -n (default: client)\n"
    "Other options as for 'tokenroll token generate'; each worker thread signs\n"
    "through its own signer (with --ca-key pkcs11:..., its own session).\n";

static int batch_run(const cli_args_t *a, batch_t *b, mint_setup_t *m, cli_ca_key_t *key,
                     char ***owned)
{
    const char *count = cli_get(a, "count"), *out = cli_get(a, "output");
    const char *prefix = cli_get(a, "prefix") ? cli_get(a, "prefix") : "client";
    char **names;
    int64_t n = 0;
    int rc, k;

    k = cli_list(a, "names", &names);
    if ((count == NULL) == (k == 0))
        return cli_usage_fail(a, "give exactly one of -n COUNT and --names NAME ...");
    if (out == NULL)
        return cli_usage_fail(a, "the following arguments are required: -o/--output");
    if (count != NULL && cli_parse_i64(count, 1, 1000000, &n) != 0)
        return cli_usage_fail(a, "-n must be 1..1000000, not %s", count);
    if (remote_url(a) != NULL)
        rc = pick_type(a, &m->claims.type);
    else
        rc = setup(m, a);
    if (rc != 0)
        return rc;
    if (count != NULL) {
        if ((names = numbered_names(prefix, (size_t)n)) == NULL)
            return cli_fail("out of memory");
        *owned = names;
    } else {
        n = k;
    }
    b->m = m;
    b->names = names;
    b->n = (size_t)n;
    for (k = 0; k < n; k++)
        if ((rc = check_subject(&m->policy, names[k], m->claims.type)) != 0)
            return rc;
    if ((b->tokens = calloc(b->n, sizeof(char *))) == NULL)
        return cli_fail("out of memory");
    if (remote_url(a) != NULL) {
        if ((rc = cli_out_check(out, out_flags(a))) != 0 ||
            (rc = remote_mint(a, names, b->n, b->tokens)) != 0 ||
            (rc = write_batch(out, b, out_flags(a))) != 0)
            return rc;
        if (strcmp(out, "-") != 0)
            fprintf(stderr, "Generated %zu tokens in %s\n", b->n, out);
        return 0;
    }
    /* One load up front gives one clear error instead of one per worker,
     * and the output is checked before anything is signed. */
    if ((rc = cli_ca_key_open(key, a, m->ca_path)) != 0 ||
        (rc = check_mint_validity(m, &key->ca)) != 0 ||
        (rc = cli_out_check(out, out_flags(a))) != 0)
        return rc;
    b->key = key;
    if ((rc = run_workers(b)) != 0 || (rc = write_batch(out, b, out_flags(a))) != 0)
        return rc;
    if (strcmp(out, "-") != 0)
        fprintf(stderr, "Generated %zu tokens in %s\n", b->n, out);
    return 0;
}

static int token_batch(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"count", 'n', OPT_VALUE, NULL}, {"names", 0, OPT_LIST, NULL},
        {"prefix", 0, OPT_VALUE, NULL}, COMMON_OPTS, {NULL, 0, 0, NULL}};
    cli_args_t a;
    mint_setup_t m;
    batch_t b;
    cli_ca_key_t key;
    char **owned = NULL;
    size_t i;
    int rc = cli_parse(&a, opts, batch_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    memset(&b, 0, sizeof(b));
    memset(&m, 0, sizeof(m));
    tkr_policy_init(&m.policy);
    cli_ca_key_init(&key);
    rc = batch_run(&a, &b, &m, &key, &owned);
    cli_ca_key_free(&key);
    for (i = 0; i < b.n; i++) {
        if (b.tokens != NULL && b.tokens[i] != NULL) {
            mbedtls_platform_zeroize(b.tokens[i], strlen(b.tokens[i]));
            free(b.tokens[i]);
        }
        if (owned != NULL)
            free(owned[i]);
    }
    free(b.tokens);
    free(owned);
    tkr_policy_free(&m.policy);
    return rc;
}

/* ---- info ---- */

static tkr_jwt_t info_jwt;

static void put_str_list_py(const tkr_json_t *doc, int arr)
{
    int i, n = tkr_json_count(doc, arr);

    /* Python's repr of a list of str, as FLARE's text output shows it. */
    putchar('[');
    for (i = 0; i < n; i++) {
        printf("%s'", i ? ", " : "");
        cli_print_json(stdout, doc, tkr_json_child(doc, arr, i), 1, 0);
        putchar('\'');
    }
    putchar(']');
}

static void info_text(const tkr_token_info_t *ti)
{
    const tkr_json_t *doc = &info_jwt.doc;
    char iso[32];

    printf("\nToken Information:\n----------------------------------------\n");
    /* Claims of an unverified token: never raw to the terminal. */
    fputs("  token_id: ", stdout), cli_put_text(stdout, ti->jti);
    fputs("\n  subject: ", stdout), cli_put_text(stdout, ti->subject), putchar('\n');
    if (ti->has_type)
        printf("  subject_type: %s\n", tkr_subject_type_name(ti->type));
    if (ti->issuer[0] != '\0')
        fputs("  issuer: ", stdout), cli_put_text(stdout, ti->issuer), putchar('\n');
    if (ti->has_iat)
        cli_iso_time(iso, ti->iat), printf("  issued_at: %s\n", iso);
    if (ti->has_exp)
        cli_iso_time(iso, ti->exp), printf("  expires_at: %s\n", iso);
    if (ti->roles >= 0)
        fputs("  roles: ", stdout), put_str_list_py(doc, ti->roles), putchar('\n');
    if (ti->source_ips >= 0)
        fputs("  source_ips: ", stdout), put_str_list_py(doc, ti->source_ips), putchar('\n');
    if (ti->policy_project >= 0)
        fputs("  policy_project: ", stdout), cli_print_json(stdout, doc, ti->policy_project, 1, 0),
            putchar('\n');
    if (ti->policy_version >= 0)
        fputs("  policy_version: ", stdout), cli_print_json(stdout, doc, ti->policy_version, 1, 0),
            putchar('\n');
    printf("----------------------------------------\n");
}

static void json_opt_value(tkr_jsonw_t *w, const char *key, int t)
{
    tkr_jsonw_key(w, key);
    if (t >= 0)
        tkr_jsonw_value(w, &info_jwt.doc, t);
    else
        tkr_jsonw_null(w);
}

static void json_time(tkr_jsonw_t *w, const char *key, int has, int64_t t)
{
    char iso[32];

    tkr_jsonw_key(w, key);
    if (!has) {
        tkr_jsonw_null(w);
        return;
    }
    cli_iso_time(iso, t);
    tkr_jsonw_str(w, iso);
}

typedef struct {
    const tkr_token_info_t *ti;
    int verified;
    const char *verdict;
} info_doc_t;

/* The document FLARE prints: json.dumps(info, indent=2). */
static void fill_info(tkr_jsonw_t *w, const void *arg)
{
    const info_doc_t *d = arg;
    const tkr_token_info_t *ti = d->ti;
    int verified = d->verified;
    const char *verdict = d->verdict;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "token_id");
    tkr_jsonw_str(w, ti->jti);
    tkr_jsonw_key(w, "subject");
    tkr_jsonw_str(w, ti->subject);
    tkr_jsonw_key(w, "subject_type");
    tkr_jsonw_str(w, ti->has_type ? tkr_subject_type_name(ti->type) : NULL);
    tkr_jsonw_key(w, "issuer");
    tkr_jsonw_str(w, ti->issuer[0] ? ti->issuer : NULL);
    json_time(w, "issued_at", ti->has_iat, ti->iat);
    json_time(w, "expires_at", ti->has_exp, ti->exp);
    json_opt_value(w, "roles", ti->roles);
    json_opt_value(w, "source_ips", ti->source_ips);
    json_opt_value(w, "policy_project", ti->policy_project);
    json_opt_value(w, "policy_version", ti->policy_version);
    if (verified) {
        tkr_jsonw_key(w, "valid");
        tkr_jsonw_bool(w, verdict == NULL);
        if (verdict != NULL) {
            tkr_jsonw_key(w, "error");
            tkr_jsonw_str(w, verdict);
        }
    }
    tkr_jsonw_obj_end(w);
}

static int info_json(const tkr_token_info_t *ti, int verified, const char *verdict)
{
    info_doc_t d = {ti, verified, verdict};

    return cli_emit_json(stdout, TKR_JSONW_PRETTY | TKR_JSONW_ASCII, fill_info, &d, "\n");
}

/* --verify: signature by the CA, then expiry. NULL when valid. */
static const char *info_verify(const char *ca_path, int *rc)
{
    static char why[200];
    tkr_ca_t ca;
    int v;

    *rc = cli_load_ca(&ca, ca_path);
    if (*rc != 0) {
        tkr_ca_free(&ca);
        return NULL;
    }
    v = tkr_token_verify(&info_jwt, &ca, tkr_port_time(cli_port()), NULL);
    tkr_ca_free(&ca);
    if (v == TKR_E_KEY_ALG) {
        *rc = cli_fail("the CA key cannot verify tokens");
        return NULL;
    }
    if (v == 0)
        return NULL;
    snprintf(why, sizeof(why), "%s", tkr_strerror(v));
    return why;
}

static const char info_usage[] =
    "usage: tokenroll token info -t TOKEN [--json] [--verify -c CA_PATH [--now EPOCH]]\n"
    "\n"
    "Display a token's information. Without --verify the signature is NOT checked.\n"
    "  -t, --token   token string or a file holding it\n"
    "  --json        JSON output\n"
    "  --verify      also check the signature with the CA from -c (or\n"
    "                NVFLARE_CA_PATH) and the expiry; exit 1 when invalid\n"
    "  --now EPOCH   check the expiry against this instant instead of the clock\n";

static int token_info(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"token", 't', OPT_VALUE, NULL}, {"json", 0, OPT_FLAG, NULL},
        {"verify", 0, OPT_FLAG, NULL}, {"ca_path", 'c', OPT_VALUE, "ca-path"},
        {"now", 0, OPT_VALUE, NULL}, {NULL, 0, 0, NULL}};
    cli_args_t a;
    tkr_token_info_t ti;
    const char *verdict = NULL, *ca = NULL, *now = NULL;
    int64_t t;
    int rc = cli_parse(&a, opts, info_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if ((now = cli_get(&a, "now")) != NULL) {
        if (cli_parse_i64(now, 0, INT64_MAX / 2, &t) != 0)
            return cli_usage_fail(&a, "--now must be seconds since the epoch, not %s", now);
        cli_set_now(t);
    }
    if (cli_get(&a, "token") == NULL)
        return cli_usage_fail(&a, "the following arguments are required: -t/--token");
    if (cli_has(&a, "verify")) {
        ca = cli_get(&a, "ca_path") ? cli_get(&a, "ca_path") : getenv("NVFLARE_CA_PATH");
        if (ca == NULL || ca[0] == '\0')
            return cli_fail("CA path is required.\n%s", cli_ca_hint);
    }
    if ((rc = cli_jwt_load(&info_jwt, cli_get(&a, "token"), "token")) != 0)
        return rc;
    if ((rc = tkr_token_read(&ti, &info_jwt)) != 0)
        return cli_fail("not an enrollment token: %s", tkr_strerror(rc));
    if (ca != NULL && (verdict = info_verify(ca, &rc)) == NULL && rc != 0)
        return rc;
    if (cli_has(&a, "json")) {
        if ((rc = info_json(&ti, ca != NULL, verdict)) != 0)
            return rc;
    } else {
        info_text(&ti);
        if (ca != NULL)
            printf("  verified: %s\n", verdict ? verdict : "valid (signed by the root CA, not expired)");
    }
    if (verdict != NULL)
        return cli_fail("token is not valid: %s", verdict);
    return 0;
}

static const char token_usage[] =
    "usage: tokenroll token {generate,batch,info} ...\n"
    "\n"
    "Commands for generating and inspecting enrollment tokens (JWT).\n"
    "\n"
    "Environment variables:\n"
    "  NVFLARE_CA_PATH: Default CA directory path\n"
    "  NVFLARE_ENROLLMENT_POLICY: Default policy file path\n"
    "\n"
    "  generate   Generate a single enrollment token\n"
    "  batch      Generate multiple enrollment tokens\n"
    "  info       Display token information\n";

int cmd_token(int argc, char **argv)
{
    if (argc < 1) {
        fputs(token_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        fputs(token_usage, stdout);
        return 0;
    }
    if (strcmp(argv[0], "generate") == 0)
        return token_generate(argc - 1, argv + 1);
    if (strcmp(argv[0], "batch") == 0)
        return token_batch(argc - 1, argv + 1);
    if (strcmp(argv[0], "info") == 0)
        return token_info(argc - 1, argv + 1);
    fprintf(stderr, "Error: unknown token command '%s'\n%s", argv[0], token_usage);
    return CLI_EXIT_USAGE;
}
