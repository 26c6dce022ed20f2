/* cmd_jwt.c — `tokenroll jwt inspect|verify|sign`: a JOSE tool for operators
 * and tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>

#include "cli.h"
#include "cli_jwt.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwks.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

/* One token per process: static, since tkr_jwt_t is ~25 KiB. */
static tkr_jwt_t jwt;
static tkr_jwks_t jwks;
static char *jwks_text;      /* the set's JSON: jwks points into it */

int cli_jwt_load(tkr_jwt_t *out, const char *arg, const char *what)
{
    char *tok = cli_read_token(arg, what), why[400];
    tkr_diag_t d;
    int rc;

    if (tok == NULL)
        return CLI_EXIT_FAIL;
    tkr_jwt_init(out);
    tkr_diag_clear(&d);
    rc = tkr_jwt_parse(out, tok, strlen(tok), &d);
    free(tok);
    if (rc == TKR_E_TOO_LARGE)
        return cli_fail("%s is too large (the limit is %d bytes)", what, TKR_JWT_MAX);
    /* The part and the offset (in the token, surrounding whitespace
     * stripped): enough to find the damage without echoing the token. */
    if (rc != 0)
        return cli_fail("%s is not a valid JWT: %s: %s", what, tkr_strerror(rc),
                        cli_diag_text(why, sizeof(why), rc, &d));
    return 0;
}

/* JSON text keeps its own line breaks (the indentation); a string's
 * are already escaped by the writer. */
static void put_escaped(FILE *f, const char *s, int keep_newlines)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;

    for (; *p != '\0'; p++) {
        unsigned cp;
        if (*p == '\n' && keep_newlines)
            continue;
        if (*p < 0x20 || *p == 0x7f)
            cp = *p;
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            cp = p[1]; /* C1 controls, U+0080..U+009F in UTF-8 */
        else
            continue;
        fwrite(run, 1, (size_t)(p - run), f);
        fprintf(f, "\\u%04x", cp);
        if (cp >= 0x80)
            p++;
        run = p + 1;
    }
    fwrite(run, 1, (size_t)(p - run), f);
}

void cli_put_text(FILE *f, const char *s)
{
    put_escaped(f, s, 0);
}

int cli_emit_json(FILE *f, unsigned flags, void (*fill)(tkr_jsonw_t *w, const void *arg),
                  const void *arg, const char *end)
{
    size_t size = 4 * TKR_JWT_MAX;
    tkr_jsonw_t w;
    char *buf;
    int rc;

    for (;;) {
        if ((buf = malloc(size)) == NULL)
            return cli_fail("out of memory");
        tkr_jsonw_init(&w, buf, size, flags);
        fill(&w, arg);
        if ((rc = tkr_jsonw_finish(&w, NULL)) == 0 || size >= (64u << 20))
            break;
        free(buf);
        size *= 4;
    }
    if (rc == 0) {
        put_escaped(f, buf, 1);
        fputs(end, f);
    }
    free(buf);
    return rc == 0 ? 0 : cli_fail("the token's JSON does not fit in %zu bytes", size);
}

typedef struct {
    const tkr_json_t *doc;
    int t;
} json_value_t;

static void fill_value(tkr_jsonw_t *w, const void *arg)
{
    const json_value_t *v = arg;

    tkr_jsonw_value(w, v->doc, v->t);
}

/* Print a JSON value: strings unquoted when `bare`, everything else as
 * compact JSON. */
void cli_print_json(FILE *f, const tkr_json_t *doc, int t, int bare, unsigned flags)
{
    static char buf[TKR_JWT_PAYLOAD_MAX + 1];
    json_value_t v = {doc, t};

    if (bare && tkr_json_type(doc, t) == TKR_JSON_STRING &&
        tkr_json_get_str(doc, buf, sizeof(buf), NULL, t) == 0) {
        cli_put_text(f, buf);
        return;
    }
    cli_emit_json(f, flags, fill_value, &v, "");
}

static int is_date_claim(const tkr_json_t *doc, int key)
{
    return tkr_json_str_eq(doc, key, "exp") || tkr_json_str_eq(doc, key, "nbf") ||
           tkr_json_str_eq(doc, key, "iat");
}

static void print_members(const tkr_json_t *doc)
{
    int i, n = tkr_json_count(doc, 0);

    for (i = 0; i < n; i++) {
        int k = tkr_json_child(doc, 0, i);
        int64_t v;
        fputs("  ", stdout);
        cli_print_json(stdout, doc, k, 1, 0);
        fputs(": ", stdout);
        cli_print_json(stdout, doc, k + 1, 1, 0);
        if (is_date_claim(doc, k) && tkr_json_get_i64(doc, &v, k + 1) == 0) {
            char iso[32];
            cli_iso_time(iso, v);
            printf(" (%s)", iso);
        }
        putchar('\n');
    }
}

typedef struct {
    const tkr_jwt_t *jwt;
    int with_valid;
} jwt_doc_t;

static void fill_jwt_doc(tkr_jsonw_t *w, const void *arg)
{
    const jwt_doc_t *d = arg;

    tkr_jsonw_obj_begin(w);
    if (d->with_valid) {
        tkr_jsonw_key(w, "valid");
        tkr_jsonw_bool(w, 1);
    }
    tkr_jsonw_key(w, "header");
    tkr_jsonw_value(w, &d->jwt->hdr, 0);
    tkr_jsonw_key(w, "claims");
    tkr_jsonw_value(w, &d->jwt->doc, 0);
    tkr_jsonw_key(w, "signature_bytes");
    tkr_jsonw_i64(w, (int64_t)d->jwt->sig_len);
    tkr_jsonw_obj_end(w);
}

static int print_json_doc(const tkr_jwt_t *j, int with_valid)
{
    jwt_doc_t d = {j, with_valid};

    return cli_emit_json(stdout, TKR_JSONW_PRETTY, fill_jwt_doc, &d, "\n");
}

static const char inspect_usage[] =
    "usage: tokenroll jwt inspect TOKEN|FILE [--json]\n"
    "\n"
    "Show a token's header and claims WITHOUT verifying its signature.\n"
    "Control characters in claims are printed escaped (\\u001b), never raw.\n"
    "  --json    print {\"header\", \"claims\", \"signature_bytes\"} as JSON\n";

static int jwt_inspect(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"json", 0, OPT_FLAG, NULL}, {NULL, 0, 0, NULL}};
    cli_args_t a;
    int rc = cli_parse(&a, opts, inspect_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, "expected one TOKEN or FILE");
    if ((rc = cli_jwt_load(&jwt, a.pos[0], "token")) != 0)
        return rc;
    if (cli_has(&a, "json"))
        return print_json_doc(&jwt, 0);
    puts("Header");
    print_members(&jwt.hdr);
    puts("Claims");
    print_members(&jwt.doc);
    printf("Signature: %zu bytes (not verified)\n", jwt.sig_len);
    return 0;
}

/* ---- verify ---- */

static const char verify_usage[] =
    "usage: tokenroll jwt verify TOKEN|FILE (--key PEM | --jwks FILE) [--alg ALG]\n"
    "                            [--iss X] [--aud X] [--sub X] [--leeway SECONDS]\n"
    "                            [--require exp,iat,...] [--now EPOCH] [--json]\n"
    "\n"
    "Verify the signature and the registered claims. Exit 0 and print the claims\n"
    "when valid; exit 1 with one line naming the reason when not.\n"
    "  --key PEM       public key, certificate or private key (PEM or DER)\n"
    "  --jwks FILE     JSON Web Key Set; the key is chosen by the token's kid\n"
    "  --alg ALG       pin RS256, PS256, ES256 or ES384 (default: from the key:\n"
    "                  RSA -> RS256, P-256 -> ES256, P-384 -> ES384, or the JWK's alg)\n"
    "  --iss/--sub/--aud X   claims that must match exactly\n"
    "  --leeway N      seconds of clock skew allowed (default 0)\n"
    "  --require LIST  claims that must be present: exp,nbf,iat,iss,sub,aud,jti\n"
    "  --now EPOCH     check times against this instant instead of the clock\n"
    "  --json          print {\"valid\": true, \"header\", \"claims\",\n"
    "                  \"signature_bytes\"} when valid, {\"valid\": false, \"error\"}\n"
    "                  (and the one-line error on stderr) when not\n"
    "Control characters in claims are printed escaped (\\u001b), never raw.\n";

static int parse_required(const char *list, unsigned *mask)
{
    const char *p = list;

    *mask = 0;
    while (p != NULL && *p != '\0') {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        unsigned bit = tkr_jwt_claim_bit(p, n);
        if (bit == 0)
            return -1;
        *mask |= bit;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* Load --key: a public key or certificate, else the public half of a
 * private key. */
int cli_load_key(mbedtls_pk_context *pk, const char *path, int want_private)
{
    size_t len;
    char *pem = cli_read_file(path, 1u << 20, &len);
    tkr_diag_t d;
    int rc;

    if (pem == NULL)
        return cli_fail("cannot read key %s: %s", path, cli_io_error());
    tkr_diag_clear(&d);
    /* mbedTLS recognises PEM only with the terminator counted. */
    if (want_private) {
        rc = tkr_key_parse_private(pk, (const uint8_t *)pem, len + 1, cli_port(), &d);
    } else {
        rc = tkr_key_parse_public(pk, (const uint8_t *)pem, len + 1, &d);
        if (rc != 0) {
            /* Reported: the public parser's code, the likelier intent. */
            mbedtls_pk_free(pk);
            mbedtls_pk_init(pk);
            rc = tkr_key_parse_private(pk, (const uint8_t *)pem, len + 1, cli_port(),
                                       NULL);
        }
    }
    free(pem);
    if (rc != 0)
        return cli_fail("%s is not a usable %s key (PEM or DER; encrypted keys are not "
                        "supported; mbedTLS -0x%04x)",
                        path, want_private ? "private" : "public", (unsigned)-d.mbedtls);
    return 0;
}

static int pick_jwks_key(mbedtls_pk_context *pk, tkr_jwt_alg_t *alg,
                         const char *path, int pinned)
{
    size_t len;
    char why[400];
    tkr_diag_t d;
    int rc;

    jwks_text = cli_read_file(path, 1u << 20, &len);
    if (jwks_text == NULL)
        return cli_fail("cannot read JWKS %s: %s", path, cli_io_error());
    tkr_jwks_init(&jwks);
    tkr_diag_clear(&d);
    rc = tkr_jwks_parse(&jwks, jwks_text, len, &d);
    if (rc != 0)
        return cli_fail("%s is not a JWK set: %s: %s", path, tkr_strerror(rc),
                        cli_diag_text(why, sizeof(why), rc, &d));
    tkr_diag_clear(&d);
    rc = pinned ? tkr_jwks_select(&jwks, pk, *alg, jwt.kid, &d)
                : tkr_jwks_select_any(&jwks, pk, alg, jwt.kid, &d);
    if (rc == TKR_E_NOT_FOUND && jwt.kid[0] != '\0')
        return cli_fail("token invalid: no key with kid \"%s\" in %s", jwt.kid, path);
    if (rc == TKR_E_NOT_FOUND)
        return cli_fail("token invalid: the token has no kid and %s does not hold exactly one usable key", path);
    if (rc != 0)
        return cli_fail("token invalid: key \"%s\" in %s: %s: %s", jwt.kid, path,
                        tkr_strerror(rc), cli_diag_text(why, sizeof(why), rc, &d));
    return 0;
}

/* The reason for a failed check, with the values that matter. */
static int explain(int rc, tkr_jwt_alg_t alg, const tkr_jwt_rules_t *r,
                   int64_t now, const tkr_diag_t *d)
{
    char a[32], b[32];
    int64_t v = 0;
    int t;

    switch (rc) {
    case TKR_E_JWT_ALG:
        return cli_fail("token invalid: header alg \"%s\" is not the pinned %s",
                        jwt.alg_name, tkr_jwt_alg_name(alg));
    case TKR_E_EXPIRED:
        t = tkr_jwt_claim(&jwt, "exp");
        tkr_json_get_i64(&jwt.doc, &v, t);
        cli_iso_time(a, v);
        cli_iso_time(b, now);
        return cli_fail("token invalid: token expired at %s (now %s, leeway %llds)",
                        a, b, (long long)r->leeway);
    case TKR_E_NOT_YET_VALID:
        t = tkr_jwt_claim(&jwt, "nbf");
        tkr_json_get_i64(&jwt.doc, &v, t);
        cli_iso_time(a, v);
        return cli_fail("token invalid: token not valid before %s (nbf)", a);
    case TKR_E_IAT_FUTURE:
        return cli_fail("token invalid: token issued in the future (iat); check the clocks");
    case TKR_E_AUD:
        if (r->aud == NULL)
            return cli_fail("token invalid: token has an audience (aud) and none is expected; pass --aud");
        return cli_fail("token invalid: audience does not include \"%s\"", r->aud);
    case TKR_E_ISS:
        return cli_fail("token invalid: issuer is not \"%s\"", r->iss);
    case TKR_E_SUB:
        return cli_fail("token invalid: subject is not \"%s\"", r->sub);
    case TKR_E_CLAIM_MISSING:
        return cli_fail("token invalid: required claim \"%s\" is missing", d->name);
    case TKR_E_CLAIM_TYPE:
        return cli_fail("token invalid: a registered claim has the wrong type (exp/nbf/iat must be integers; iss/sub/jti strings)");
    default:
        return cli_fail("token invalid: %s", tkr_strerror(rc));
    }
}

static int verify_run(const cli_args_t *a, mbedtls_pk_context *pk)
{
    tkr_jwt_rules_t rules = {0, NULL, NULL, NULL, 0};
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    const char *s;
    int64_t now, leeway = 0;
    tkr_diag_t d;
    int rc;

    if ((s = cli_get(a, "alg")) != NULL &&
        (alg = tkr_jwt_alg_from_name(s, strlen(s))) == TKR_JWT_ALG_UNKNOWN)
        return cli_usage_fail(a, "--alg must be RS256, PS256, ES256 or ES384, not %s", s);
    if ((s = cli_get(a, "leeway")) != NULL && cli_parse_i64(s, 0, 86400, &leeway) != 0)
        return cli_usage_fail(a, "--leeway must be 0..86400 seconds, not %s", s);
    if ((s = cli_get(a, "now")) != NULL) {
        if (cli_parse_i64(s, 0, INT64_MAX / 2, &now) != 0)
            return cli_usage_fail(a, "--now must be seconds since the epoch, not %s", s);
        cli_set_now(now);
    }
    if ((s = cli_get(a, "require")) != NULL && parse_required(s, &rules.required) != 0)
        return cli_usage_fail(a, "--require takes a comma list of exp,nbf,iat,iss,sub,aud,jti, not %s", s);
    rules.iss = cli_get(a, "iss");
    rules.sub = cli_get(a, "sub");
    rules.aud = cli_get(a, "aud");
    rules.leeway = leeway;

    if ((rc = cli_jwt_load(&jwt, a->pos[0], "token")) != 0)
        return rc;
    if (cli_get(a, "key") != NULL) {
        if ((rc = cli_load_key(pk, cli_get(a, "key"), 0)) != 0)
            return rc;
        if (alg == TKR_JWT_ALG_UNKNOWN && tkr_key_default_alg(pk, &alg) != 0)
            return cli_fail("the key in %s cannot sign JWTs (RSA, P-256 or P-384 needed)",
                            cli_get(a, "key"));
    } else if ((rc = pick_jwks_key(pk, &alg, cli_get(a, "jwks"),
                                   alg != TKR_JWT_ALG_UNKNOWN)) != 0) {
        return rc;
    }
    now = tkr_port_time(cli_port());
    tkr_diag_clear(&d);
    rc = tkr_jwt_verify(&jwt, alg, pk, &rules, now, &d);
    if (rc != 0) {
        if (cli_has(a, "json"))
            printf("{\n  \"valid\": false,\n  \"error\": \"%s\"\n}\n", tkr_strerror(rc));
        return explain(rc, alg, &rules, now, &d);
    }
    if (cli_has(a, "json"))
        return print_json_doc(&jwt, 1);
    cli_print_json(stdout, &jwt.doc, 0, 0, TKR_JSONW_PRETTY);
    putchar('\n');
    return 0;
}

static int jwt_verify(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"key", 'k', OPT_VALUE, NULL}, {"jwks", 0, OPT_VALUE, NULL},
        {"alg", 0, OPT_VALUE, NULL},   {"iss", 0, OPT_VALUE, NULL},
        {"aud", 0, OPT_VALUE, NULL},   {"sub", 0, OPT_VALUE, NULL},
        {"leeway", 0, OPT_VALUE, NULL}, {"require", 0, OPT_VALUE, NULL},
        {"now", 0, OPT_VALUE, NULL},   {"json", 0, OPT_FLAG, NULL},
        {NULL, 0, 0, NULL}};
    cli_args_t a;
    mbedtls_pk_context pk;
    int rc = cli_parse(&a, opts, verify_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, "expected one TOKEN or FILE");
    if ((cli_get(&a, "key") == NULL) == (cli_get(&a, "jwks") == NULL))
        return cli_usage_fail(&a, "give exactly one of --key PEM and --jwks FILE");
    mbedtls_pk_init(&pk);
    rc = verify_run(&a, &pk);
    mbedtls_pk_free(&pk);
    tkr_jwt_free(&jwt);
    tkr_jwks_free(&jwks);
    free(jwks_text);
    jwks_text = NULL;
    return rc;
}

/* ---- sign ---- */

static const char sign_usage[] =
    "usage: tokenroll jwt sign --key PEM [--alg ALG] [--kid K] CLAIMS_JSON|FILE|-\n"
    "\n"
    "Sign a JSON object of claims (used byte for byte) and print the compact token.\n"
    "  --key PEM    private key: RSA (PKCS#1/PKCS#8), EC P-256 or P-384\n"
    "  --alg ALG    RS256 (default for RSA), PS256, ES256 or ES384 (follows the curve)\n"
    "  --kid K      key id to put in the header\n";

static int read_claims(const char *arg, char **out, size_t *len)
{
    static tkr_json_tok_t tok[TKR_JWT_CLAIM_TOKENS];
    tkr_json_t doc;
    tkr_diag_t d;
    char *s;
    int rc;

    if (strcmp(arg, "-") == 0 || (arg[0] != '{' && arg[0] != ' ')) {
        s = cli_read_file(strcmp(arg, "-") == 0 ? "/dev/stdin" : arg, TKR_JWT_PAYLOAD_MAX, len);
        if (s == NULL)
            return cli_fail("cannot read claims %s: %s", arg, cli_io_error());
    } else {
        s = strdup(arg);
    }
    if (s == NULL)
        return cli_fail("out of memory");
    *len = strlen(s);
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' ||
                        s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        s[--*len] = '\0';
    tkr_diag_clear(&d);
    rc = tkr_json_parse(&doc, tok, TKR_JWT_CLAIM_TOKENS, s, *len, &d);
    if (rc == 0 && tkr_json_type(&doc, 0) != TKR_JSON_OBJECT)
        rc = TKR_E_TYPE;
    if (rc != 0) {
        free(s);
        return cli_fail("claims are not a JSON object: %s at byte %zu", tkr_strerror(rc),
                        d.offset);
    }
    *out = s;
    return 0;
}

static int jwt_sign(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"key", 'k', OPT_VALUE, NULL}, {"alg", 0, OPT_VALUE, NULL},
        {"kid", 0, OPT_VALUE, NULL},   {NULL, 0, 0, NULL}};
    static char out[TKR_JWT_MAX + 1];
    cli_args_t a;
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    char *claims = NULL;
    size_t len = 0, out_len;
    const char *s;
    int rc = cli_parse(&a, opts, sign_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1 || cli_get(&a, "key") == NULL)
        return cli_usage_fail(&a, "need --key PEM and one CLAIMS_JSON, FILE or -");
    if ((s = cli_get(&a, "alg")) != NULL &&
        (alg = tkr_jwt_alg_from_name(s, strlen(s))) == TKR_JWT_ALG_UNKNOWN)
        return cli_usage_fail(&a, "--alg must be RS256, PS256, ES256 or ES384, not %s", s);
    if ((rc = read_claims(a.pos[0], &claims, &len)) != 0)
        return rc;
    mbedtls_pk_init(&pk);
    rc = cli_load_key(&pk, cli_get(&a, "key"), 1);
    if (rc == 0 && alg == TKR_JWT_ALG_UNKNOWN && tkr_key_default_alg(&pk, &alg) != 0)
        rc = cli_fail("the key in %s cannot sign JWTs (RSA, P-256 or P-384 needed)",
                      cli_get(&a, "key"));
    if (rc == 0) {
        int src = tkr_jwt_sign(out, sizeof(out), &out_len, &pk, alg, cli_get(&a, "kid"),
                               claims, len, cli_port());
        if (src == TKR_E_KEY_ALG && mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA &&
            mbedtls_pk_get_bitlen(&pk) < 2048)
            rc = cli_fail("the RSA key in %s is too small: %zu bits, %s needs at least 2048",
                          cli_get(&a, "key"), mbedtls_pk_get_bitlen(&pk), tkr_jwt_alg_name(alg));
        else if (src == TKR_E_KEY_ALG)
            rc = cli_fail("a %s key cannot sign %s", mbedtls_pk_get_name(&pk),
                          tkr_jwt_alg_name(alg));
        else if (src != 0)
            rc = cli_fail("signing failed: %s", tkr_strerror(src));
        else
            puts(out);
    }
    mbedtls_pk_free(&pk);
    free(claims);
    return rc;
}

static const char jwt_usage[] =
    "usage: tokenroll jwt {inspect,verify,sign} ...\n"
    "\n"
    "  inspect   show header and claims without verifying\n"
    "  verify    check signature and claims against a key or JWKS\n"
    "  sign      sign a JSON object of claims\n";

int cmd_jwt(int argc, char **argv)
{
    if (argc < 1) {
        fputs(jwt_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        fputs(jwt_usage, stdout);
        return 0;
    }
    if (strcmp(argv[0], "inspect") == 0)
        return jwt_inspect(argc - 1, argv + 1);
    if (strcmp(argv[0], "verify") == 0)
        return jwt_verify(argc - 1, argv + 1);
    if (strcmp(argv[0], "sign") == 0)
        return jwt_sign(argc - 1, argv + 1);
    fprintf(stderr, "Error: unknown jwt command '%s'\n%s", argv[0], jwt_usage);
    return CLI_EXIT_USAGE;
}
