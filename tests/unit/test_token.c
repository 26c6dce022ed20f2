/* test_token.c — enrollment tokens: the subject-type table, the mint-time
 * rules (lib/token.c and lib/policy/policy_mint.c), minting, reading and
 * verifying against the project's root CA.
 *
 * Independent source: tests/vectors/flare/ holds a CA and tokens made by
 * FLARE's own token service (README.md there); a token minted here from
 * the same CA, policy, jti and iat must be byte-identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/policy.h"
#include "tokenroll/signer.h"
#include "tokenroll/subject.h"
#include "tokenroll/token.h"

#define VEC "tests/vectors/"
#define IAT 1767225600

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_ca_t ca;
static tkr_signer_t signer; /* the CA's key, as token minting takes it */
static tkr_policy_t policy;
static tkr_jwt_t jwt;
static char scratch[2 * TKR_CERTJSON_MAX];
static char text[TKR_JWT_MAX + 1];
static char tok[TKR_JWT_MAX + 1];

static size_t read_token(const char *path, char *buf, size_t size)
{
    size_t n = read_file(path, buf, size);

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return n;
}

static void load_policy_file(tkr_policy_t *p, const char *path)
{
    static char yaml[16384];
    tkr_diag_t d;
    size_t n = read_file(path, yaml, sizeof(yaml));

    tkr_policy_free(p);
    assert_int_equal(tkr_policy_load_yaml(p, yaml, n, path, &d), 0);
}

static void load_policy_text(tkr_policy_t *p, const char *yaml)
{
    tkr_policy_free(p);
    assert_int_equal(tkr_policy_load_yaml(p, yaml, strlen(yaml), "inline", NULL), 0);
}

static int setup(void **state)
{
    static char json[TKR_CERTJSON_MAX];
    size_t n;

    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    tkr_ca_init(&ca);
    tkr_policy_init(&policy);
    tkr_jwt_init(&jwt);
    n = read_file(VEC "flare/cert.json", json, sizeof(json));
    assert_int_equal(tkr_certjson_parse(&ca, scratch, sizeof(scratch), json, n, &port, NULL), 0);
    n = read_file(VEC "keys/flare_rootCA.key", json, sizeof(json));
    tkr_signer_init(&signer);
    assert_int_equal(tkr_signer_load_mbedtls(&signer, (const uint8_t *)json, n + 1, &port), 0);
    assert_int_equal(tkr_signer_check_cert(&signer, &ca.cert, &port), 0);
    load_policy_file(&policy, VEC "flare/default_policy.yaml");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tkr_ca_free(&ca);
    tkr_signer_free(&signer);
    tkr_policy_free(&policy);
    tkr_jwt_free(&jwt);
    return 0;
}

/* Claims for subject under the policy's rules, jti and iat fixed. */
static int mint(tkr_mint_request_t *r, tkr_token_claims_t *c, const char *subject,
                const char *jti, size_t *len)
{
    tkr_diag_t d;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = tkr_policy_mint_claims(c, r, &policy, &d)) != 0 ||
        (rc = tkr_policy_mint_subject(&policy, r->type, subject, &d)) != 0)
        return rc;
    c->subject = subject;
    c->issuer = ca.cn;
    c->jti = jti;
    c->issued_at = IAT;
    return tkr_token_mint(tok, sizeof(tok), len, NULL, &signer, c, &port);
}

/* ---- the subject-type table ---- */

static void test_subject_type_names_round_trip(void **state)
{
    static const char *const names[] = {"client", "admin", "relay", "server", "pattern"};
    tkr_subject_type_t t;
    unsigned i;
    (void)state;

    for (i = 0; i < 5; i++) {
        assert_string_equal(tkr_subject_type_name((tkr_subject_type_t)i), names[i]);
        assert_int_equal(tkr_subject_type_parse(names[i], &t), 0);
        assert_int_equal(t, (tkr_subject_type_t)i);
    }
    assert_null(tkr_subject_type_name((tkr_subject_type_t)5));
    assert_null(tkr_subject_type_name((tkr_subject_type_t)-1));
    /* FLARE's --user is an admin token */
    assert_int_equal(tkr_subject_type_parse("user", &t), 0);
    assert_int_equal(t, TKR_SUBJECT_ADMIN);
    /* exact and case-sensitive */
    assert_int_equal(tkr_subject_type_parse("Client", &t), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_subject_type_parse("client ", &t), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_subject_type_parse("", &t), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_subject_type_parse("overseer", &t), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_subject_type_parse(NULL, &t), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_subject_type_parse("client", NULL), TKR_E_INVALID_ARG);
}

static void test_participant_types_are_the_four_canonical_names(void **state)
{
    static const char *const names[] = {"client", "admin", "relay", "server"};
    tkr_subject_type_t t;
    unsigned i;
    (void)state;

    for (i = 0; i < 4; i++) {
        assert_int_equal(tkr_participant_type_parse(names[i], &t), 0);
        assert_int_equal(t, (tkr_subject_type_t)i);
    }
    t = TKR_SUBJECT_SERVER;
    assert_int_equal(tkr_participant_type_parse("pattern", &t), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_participant_type_parse("user", &t), TKR_E_NOT_FOUND);
    assert_int_equal(t, TKR_SUBJECT_SERVER); /* untouched on failure */
    assert_int_equal(tkr_participant_type_parse(NULL, &t), TKR_E_INVALID_ARG);
}

/* ---- mint-time checks ---- */

static void test_subject_check(void **state)
{
    char s[TKR_SUBJECT_MAX + 2];
    tkr_diag_t d;
    (void)state;

    assert_int_equal(tkr_token_subject_check("site-1", TKR_SUBJECT_CLIENT, NULL), 0);
    assert_int_equal(tkr_token_subject_check("hospital-[0-9]*", TKR_SUBJECT_PATTERN, NULL), 0);
    /* a client name is a name, not a pattern: '[' is just a character */
    assert_int_equal(tkr_token_subject_check("hosp-[", TKR_SUBJECT_CLIENT, NULL), 0);

    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_subject_check("hosp-[", TKR_SUBJECT_PATTERN, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "sub");
    assert_non_null(strstr(d.msg, "is not a valid glob pattern: a '[' is not closed"));

    memset(s, 'a', sizeof(s));
    s[TKR_SUBJECT_MAX] = '\0';
    assert_int_equal(tkr_token_subject_check(s, TKR_SUBJECT_CLIENT, NULL), 0);
    s[TKR_SUBJECT_MAX] = 'a';
    s[TKR_SUBJECT_MAX + 1] = '\0';
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_subject_check(s, TKR_SUBJECT_CLIENT, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.msg, "must be 1..255 characters");
    assert_int_equal(tkr_token_subject_check("", TKR_SUBJECT_CLIENT, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_token_subject_check(NULL, TKR_SUBJECT_CLIENT, NULL), TKR_E_INVALID_ARG);

    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_subject_check("site\n1", TKR_SUBJECT_CLIENT, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.msg, "contains a control character");
    assert_int_equal(tkr_token_subject_check("site\x7f", TKR_SUBJECT_CLIENT, NULL),
                     TKR_E_INVALID_ARG);
    /* UTF-8 names are fine */
    assert_int_equal(tkr_token_subject_check("h\xc3\xb4pital", TKR_SUBJECT_CLIENT, NULL), 0);
}

static void test_source_ips_check_names_the_entry(void **state)
{
    static const char *const good[] = {"10.0.0.0/8", "2001:db8::/32", "192.168.1.7"};
    const char *bad[13];
    tkr_diag_t d;
    size_t i;
    (void)state;

    assert_int_equal(tkr_token_source_ips_check(good, 3, NULL), 0);
    assert_int_equal(tkr_token_source_ips_check(NULL, 0, NULL), 0);
    assert_int_equal(tkr_token_source_ips_check(NULL, 1, NULL), TKR_E_INVALID_ARG);
    for (i = 0; i < 13; i++)
        bad[i] = "10.0.0.0/8";
    bad[1] = "10.0.0.0/33";
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_source_ips_check(bad, 13, &d), TKR_E_POLICY);
    assert_string_equal(d.name, "source_ips[1]");
    assert_string_equal(d.msg, "is not a CIDR");
    bad[1] = "10.0.0.0/8";
    bad[12] = "010.0.0.0/8"; /* leading zeros are ambiguous: refused */
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_source_ips_check(bad, 13, &d), TKR_E_POLICY);
    assert_string_equal(d.name, "source_ips[12]");
    bad[12] = NULL;
    assert_int_equal(tkr_token_source_ips_check(bad, 13, NULL), TKR_E_POLICY);
}

static void test_mint_claims_apply_the_policy(void **state)
{
    static const char *const ips[] = {"10.0.0.0/8"};
    static const char *const bad_ips[] = {"10.0.0.0/8", "nope"};
    tkr_mint_request_t r;
    tkr_token_claims_t c;
    tkr_diag_t d;
    (void)state;

    /* a client: no roles claim, the policy's validity and max_uses */
    memset(&r, 0, sizeof(r));
    memset(&c, 0, sizeof(c));
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), 0);
    assert_int_equal(c.type, TKR_SUBJECT_CLIENT);
    assert_null(c.roles);
    assert_null(c.source_ips);
    assert_true(c.validity == 7 * 86400);
    assert_true(c.max_uses == 1);
    assert_ptr_equal(c.policy, policy.json);
    assert_int_equal(c.policy_len, policy.json_len);

    /* an explicit validity and source_ips */
    r.validity = 3600;
    r.source_ips = ips;
    r.n_source_ips = 1;
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), 0);
    assert_true(c.validity == 3600);
    assert_ptr_equal(c.source_ips, ips);
    assert_int_equal(c.n_source_ips, 1);
    r.source_ips = bad_ips;
    r.n_source_ips = 2;
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, &d), TKR_E_POLICY);
    assert_string_equal(d.name, "source_ips[1]");
    r.source_ips = NULL;
    r.n_source_ips = 0;
    r.validity = -1;
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "validity");
    r.validity = 0;

    /* a role is for admin tokens only */
    r.role = "lead";
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "role");

    /* admin: the requested role must be allowed; none means default_role */
    r.type = TKR_SUBJECT_ADMIN;
    r.role = "member";
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), 0);
    assert_int_equal(c.n_roles, 1);
    assert_string_equal(c.roles[0], "member");
    r.role = "king";
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, &d), TKR_E_POLICY);
    assert_string_equal(d.name, "role");
    r.role = NULL;
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), 0);
    assert_string_equal(r.role, "lead");
    assert_ptr_equal(c.roles, &r.role);

    /* another policy's roles and token section */
    load_policy_text(&policy, "token: {validity: 2h, max_uses: 3}\n"
                              "user: {allowed_roles: [researcher, org_admin],"
                              " default_role: researcher}\n");
    r.role = NULL;
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), 0);
    assert_string_equal(c.roles[0], "researcher");
    assert_true(c.validity == 7200);
    assert_true(c.max_uses == 3);
    r.role = "lead";
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), TKR_E_POLICY);

    r.type = (tkr_subject_type_t)9;
    assert_int_equal(tkr_policy_mint_claims(&c, &r, &policy, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_policy_mint_claims(NULL, &r, &policy, NULL), TKR_E_INVALID_ARG);
}

static void test_mint_subject_applies_site_name_pattern(void **state)
{
    tkr_diag_t d;
    (void)state;

    load_policy_text(&policy, "site: {name_pattern: \"hospital-*\"}\n");
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_CLIENT, "hospital-7", NULL), 0);
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_RELAY, "hospital-r", NULL), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_CLIENT, "clinic-1", &d),
                     TKR_E_POLICY);
    assert_string_equal(d.name, "sub");
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_SERVER, "clinic-1", NULL),
                     TKR_E_POLICY);
    /* users and patterns are not sites */
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_ADMIN, "a@b.c", NULL), 0);
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_PATTERN, "clinic-*", NULL), 0);
    /* the subject's own rules come first */
    tkr_diag_clear(&d);
    assert_int_equal(tkr_policy_mint_subject(&policy, TKR_SUBJECT_PATTERN, "x[", &d),
                     TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "sub");
    assert_int_equal(tkr_policy_mint_subject(NULL, TKR_SUBJECT_CLIENT, "x", NULL),
                     TKR_E_INVALID_ARG);
}

/* ---- minting: FLARE's bytes ---- */

static void test_mint_under_the_rules_matches_flare_bytes(void **state)
{
    static const struct {
        const char *file, *subject, *jti;
        tkr_subject_type_t type;
    } v[] = {
        {VEC "flare/fixed_site-1.jwt", "site-1", "00000000-0000-4000-8000-000000000001",
         TKR_SUBJECT_CLIENT},
        {VEC "flare/fixed_admin.jwt", "admin@example.com", "00000000-0000-4000-8000-000000000002",
         TKR_SUBJECT_ADMIN},
    };
    tkr_mint_request_t r;
    tkr_token_claims_t c;
    size_t i, n, len;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        n = read_token(v[i].file, text, sizeof(text));
        memset(&r, 0, sizeof(r));
        r.type = v[i].type;
        assert_int_equal(mint(&r, &c, v[i].subject, v[i].jti, &len), 0);
        assert_int_equal(len, n);
        assert_memory_equal(tok, text, n);
    }
    /* a short buffer says how long the token is; that plus the NUL fits */
    for (n = 200; n <= len; n += 300) {
        size_t need = 0;
        assert_int_equal(tkr_token_mint(tok, n, &need, NULL, &signer, &c, &port),
                         TKR_E_BUFFER_TOO_SMALL);
        assert_int_equal(need, len);
    }
    assert_int_equal(tkr_token_mint(tok, len, &n, NULL, &signer, &c, &port),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, len);
    assert_int_equal(tkr_token_mint(tok, len + 1, &n, NULL, &signer, &c, &port), 0);
    assert_memory_equal(tok, text, len);
    /* claims no verifier could hold are too large, whatever the buffer */
    {
        static char big[TKR_JWT_PAYLOAD_MAX + 16];
        memset(big, ' ', sizeof(big) - 1);
        big[0] = '"';
        big[sizeof(big) - 2] = '"';
        c.policy = big;
        c.policy_len = sizeof(big) - 1;
        assert_int_equal(tkr_token_mint(tok, 300, &n, NULL, &signer, &c, &port),
                         TKR_E_TOO_LARGE);
        assert_int_equal(tkr_token_mint(tok, sizeof(tok), &n, NULL, &signer, &c, &port),
                         TKR_E_TOO_LARGE);
    }
}

static void test_claims_json_refuses_bad_claims(void **state)
{
    tkr_token_claims_t c;
    char out[4096], jti[TKR_UUID_LEN + 1];
    size_t len;
    (void)state;

    memset(&c, 0, sizeof(c));
    c.subject = "site-1";
    c.issuer = "example_project";
    c.policy = "{}";
    c.policy_len = 2;
    c.validity = 60;
    c.max_uses = 1;
    c.issued_at = 100;
    c.jti = "00000000-0000-4000-8000-00000000000a";
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, jti, &c, &port), 0);
    assert_string_equal(out, "{\"jti\":\"00000000-0000-4000-8000-00000000000a\",\"sub\":"
                             "\"site-1\",\"iat\":100,\"exp\":160,\"iss\":\"example_project\","
                             "\"subject_type\":\"client\",\"policy\":{},\"max_uses\":1}");
    assert_int_equal(len, strlen(out));
    assert_string_equal(jti, c.jti);
    {
        size_t full = len;
        assert_int_equal(tkr_token_claims_json(out, 40, &len, NULL, &c, &port),
                         TKR_E_BUFFER_TOO_SMALL);
        assert_int_equal(len, full); /* the length it needs */
        assert_int_equal(tkr_token_claims_json(out, full, &len, NULL, &c, &port),
                         TKR_E_BUFFER_TOO_SMALL); /* and one byte for the NUL */
        assert_int_equal(tkr_token_claims_json(out, full + 1, &len, NULL, &c, &port), 0);
    }

    c.jti = "not-a-uuid";
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, NULL, &c, &port),
                     TKR_E_INVALID_ARG);
    c.jti = NULL; /* a random v4 */
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, jti, &c, &port), 0);
    assert_true(tkr_uuid_valid(jti));
    assert_int_equal(jti[14], '4');
    c.validity = 0;
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, NULL, &c, &port),
                     TKR_E_INVALID_ARG);
    c.validity = INT64_MAX;
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, NULL, &c, &port),
                     TKR_E_INVALID_ARG); /* iat + validity overflows */
    c.validity = 60;
    c.max_uses = 0;
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, NULL, &c, &port),
                     TKR_E_INVALID_ARG);
    c.max_uses = 1;
    c.type = TKR_SUBJECT_PATTERN + 1;
    assert_int_equal(tkr_token_claims_json(out, sizeof(out), &len, NULL, &c, &port),
                     TKR_E_INVALID_ARG);
}

static void test_uuid_v4(void **state)
{
    char a[TKR_UUID_LEN + 1], b[TKR_UUID_LEN + 1];
    (void)state;

    assert_int_equal(tkr_uuid_v4(a, &port), 0);
    assert_int_equal(tkr_uuid_v4(b, &port), 0);
    assert_true(tkr_uuid_valid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');                /* version 4 */
    assert_non_null(strchr("89ab", a[19]));      /* variant 10 */
    assert_true(tkr_uuid_valid("00000000-0000-4000-8000-00000000000A"));
    assert_false(tkr_uuid_valid("00000000-0000-4000-8000-00000000000"));
    assert_false(tkr_uuid_valid("00000000-0000-4000-8000_000000000000"));
    assert_false(tkr_uuid_valid("g0000000-0000-4000-8000-000000000000"));
    assert_false(tkr_uuid_valid(NULL));
    assert_int_equal(tkr_uuid_v4(a, NULL), TKR_E_INVALID_ARG);
    {
        /* the port's promise: a missing hook is TKR_E_UNSUPPORTED */
        tkr_port_t bare;
        memset(&bare, 0, sizeof(bare));
        assert_int_equal(tkr_uuid_v4(a, &bare), TKR_E_UNSUPPORTED);
    }
}

/* ---- reading and verifying ---- */

static void test_read_flare_admin_token(void **state)
{
    tkr_token_info_t ti;
    size_t n;
    (void)state;

    n = read_token(VEC "flare/fixed_admin.jwt", text, sizeof(text));
    assert_int_equal(tkr_jwt_parse(&jwt, text, n, NULL), 0);
    assert_int_equal(tkr_token_read(&ti, &jwt), 0);
    assert_string_equal(ti.jti, "00000000-0000-4000-8000-000000000002");
    assert_string_equal(ti.subject, "admin@example.com");
    assert_string_equal(ti.issuer, "example_project");
    assert_true(ti.has_type);
    assert_int_equal(ti.type, TKR_SUBJECT_ADMIN);
    assert_true(ti.has_iat && ti.iat == IAT);
    assert_true(ti.has_exp && ti.exp == IAT + 7 * 86400);
    assert_true(ti.max_uses == 1);
    assert_true(ti.roles >= 0);
    assert_int_equal(tkr_json_count(&jwt.doc, ti.roles), 1);
    assert_true(tkr_json_str_eq(&jwt.doc, tkr_json_child(&jwt.doc, ti.roles, 0), "lead"));
    assert_int_equal(ti.source_ips, -1);
    assert_true(ti.policy >= 0);
    assert_true(tkr_json_str_eq(&jwt.doc, ti.policy_project, "nvflare-default"));
}

/* Sign claims (any JSON) with the CA key and parse the result. */
static void signed_claims(const char *claims)
{
    size_t len;

    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &len, &ca.key, TKR_JWT_RS256, NULL, claims,
                                  strlen(claims), &port),
                     0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, len, NULL), 0);
}

static void test_read_refuses_claims_of_the_wrong_type(void **state)
{
    static const struct {
        const char *claims;
        int rc;
    } v[] = {
        {"{\"sub\":\"s\"}", TKR_E_CLAIM_MISSING},
        {"{\"jti\":\"j\"}", TKR_E_CLAIM_MISSING},
        {"{\"jti\":1,\"sub\":\"s\"}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"subject_type\":\"bogus\"}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"iat\":\"now\"}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"max_uses\":0}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"policy\":[]}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":\"lead\"}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"source_ips\":[1]}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":null,\"subject_type\":\"user\"}", 0},
    };
    tkr_token_info_t ti;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        signed_claims(v[i].claims);
        if (tkr_token_read(&ti, &jwt) != v[i].rc)
            fail_msg("%s: want %d", v[i].claims, v[i].rc);
    }
    /* the last one: null roles is no roles claim, "user" is admin */
    assert_int_equal(ti.roles, -1);
    assert_int_equal(ti.type, TKR_SUBJECT_ADMIN);
    assert_true(ti.max_uses == 1);
}

static void test_verify_against_the_ca(void **state)
{
    tkr_mint_request_t r;
    tkr_token_claims_t c;
    tkr_diag_t d;
    size_t len;
    (void)state;

    memset(&r, 0, sizeof(r));
    assert_int_equal(mint(&r, &c, "site-1", NULL, &len), 0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, len, NULL), 0);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT, NULL), 0);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT + 7 * 86400 - 1, NULL), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT + 7 * 86400, &d), TKR_E_EXPIRED);
    assert_string_equal(d.name, "exp");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT - 1, &d), TKR_E_IAT_FUTURE);
    assert_string_equal(d.name, "iat");

    /* a token FLARE's service minted with this CA */
    len = read_token(VEC "flare/fixed_site-1.jwt", text, sizeof(text));
    assert_int_equal(tkr_jwt_parse(&jwt, text, len, NULL), 0);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT, NULL), 0);
    /* one altered byte of the signature */
    text[len - 2] = text[len - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(tkr_jwt_parse(&jwt, text, len, NULL), 0);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT, NULL), TKR_E_SIGNATURE);

    /* signed by the CA key, but naming another issuer */
    c.issuer = "another_project";
    assert_int_equal(tkr_token_mint(tok, sizeof(tok), &len, NULL, &signer, &c, &port), 0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, len, NULL), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT, &d), TKR_E_ISS);
    assert_string_equal(d.name, "iss");

    /* no exp: a token that never expires is not an enrollment token */
    signed_claims("{\"jti\":\"j\",\"sub\":\"s\",\"iss\":\"example_project\"}");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_verify(&jwt, &ca, IAT, &d), TKR_E_CLAIM_MISSING);
    assert_string_equal(d.name, "exp");
    assert_int_equal(tkr_token_verify(NULL, &ca, IAT, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_token_verify(&jwt, NULL, IAT, NULL), TKR_E_INVALID_ARG);
}

static void test_admits_its_own_participant_only(void **state)
{
    tkr_token_info_t ti;
    tkr_diag_t d;
    (void)state;

    memset(&ti, 0, sizeof(ti));
    strcpy(ti.subject, "site-1");
    assert_int_equal(tkr_token_admits(&ti, "site-1", TKR_SUBJECT_CLIENT, NULL),
                     TKR_E_CLAIM_MISSING);
    ti.has_type = 1;
    ti.type = TKR_SUBJECT_CLIENT;
    assert_int_equal(tkr_token_admits(&ti, "site-1", TKR_SUBJECT_CLIENT, NULL), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_admits(&ti, "site-2", TKR_SUBJECT_CLIENT, &d), TKR_E_SUB);
    assert_string_equal(d.name, "sub");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_admits(&ti, "site-1", TKR_SUBJECT_RELAY, &d), TKR_E_SUB);
    assert_string_equal(d.name, "subject_type");
    /* a pattern token: clients whose name its glob matches */
    strcpy(ti.subject, "hospital-*");
    ti.type = TKR_SUBJECT_PATTERN;
    assert_int_equal(tkr_token_admits(&ti, "hospital-7", TKR_SUBJECT_CLIENT, NULL), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_token_admits(&ti, "clinic-7", TKR_SUBJECT_CLIENT, &d), TKR_E_SUB);
    assert_string_equal(d.name, "sub");
    assert_int_equal(tkr_token_admits(&ti, "hospital-7", TKR_SUBJECT_SERVER, NULL), TKR_E_SUB);
    /* the pattern itself is no participant, nor a literal name */
    assert_int_equal(tkr_token_admits(&ti, "hospital-*", TKR_SUBJECT_PATTERN, NULL),
                     TKR_E_INVALID_ARG);
    ti.type = TKR_SUBJECT_ADMIN;
    strcpy(ti.subject, "a@b.c");
    assert_int_equal(tkr_token_admits(&ti, "a@b.c", TKR_SUBJECT_ADMIN, NULL), 0);
    assert_int_equal(tkr_token_admits(&ti, "a@b.c", TKR_SUBJECT_CLIENT, NULL), TKR_E_SUB);
    assert_int_equal(tkr_token_admits(NULL, "a", TKR_SUBJECT_CLIENT, NULL), TKR_E_INVALID_ARG);
}

static void test_verify_refuses_another_ca(void **state)
{
    static char pem[8192], key[8192];
    tkr_ca_t ec;
    size_t cl, kl, n;
    (void)state;

    /* an EC CA pins ES256: FLARE's RS256 token is refused on its header */
    cl = read_file(VEC "keys/ec_ca.pem", pem, sizeof(pem));
    kl = read_file(VEC "keys/ec_ca.key", key, sizeof(key));
    tkr_ca_init(&ec);
    assert_int_equal(tkr_ca_load_pem(&ec, pem, cl + 1, key, kl + 1, &port, NULL), 0);
    n = read_token(VEC "flare/fixed_site-1.jwt", text, sizeof(text));
    assert_int_equal(tkr_jwt_parse(&jwt, text, n, NULL), 0);
    assert_int_equal(tkr_token_verify(&jwt, &ec, IAT, NULL), TKR_E_JWT_ALG);
    tkr_ca_free(&ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_type_names_round_trip),
        cmocka_unit_test(test_participant_types_are_the_four_canonical_names),
        cmocka_unit_test(test_subject_check),
        cmocka_unit_test(test_source_ips_check_names_the_entry),
        cmocka_unit_test_setup_teardown(test_mint_claims_apply_the_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mint_subject_applies_site_name_pattern, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mint_under_the_rules_matches_flare_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claims_json_refuses_bad_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uuid_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_flare_admin_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_refuses_claims_of_the_wrong_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_against_the_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_refuses_another_ca, setup, teardown),
        cmocka_unit_test(test_admits_its_own_participant_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
