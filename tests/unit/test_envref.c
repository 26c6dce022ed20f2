/* test_envref.c — ${NAME} environment references (envref.h): the grammar,
 * one-pass expansion into a caller buffer with a size query, the lookup
 * the caller owns, and the use the certificate service will make of it on
 * FLARE's own configuration files (tests/vectors/flare/service/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "tokenroll/yaml.h"

typedef struct {
    const char *const *kv; /* name, value, ..., NULL */
    int calls;
    char last[160];
} table_t;

static const char *table_get(void *ctx, const char *name)
{
    table_t *t = ctx;
    size_t i;

    t->calls++;
    snprintf(t->last, sizeof(t->last), "%s", name);
    for (i = 0; t->kv[i] != NULL; i += 2)
        if (strcmp(t->kv[i], name) == 0)
            return t->kv[i + 1];
    return NULL;
}

static const char *const vars[] = {"HOST", "hooks.example.com", "A", "1", "B_2", "two",
                                   "_x", "under", "EMPTY", "", "LOOP", "${HOST}",
                                   "DOLLAR", "$", NULL};

/* s expands to want with vars. */
static void expands(const char *s, const char *want)
{
    table_t t = {vars, 0, ""};
    tkr_envref_env_t env = {table_get, &t};
    char out[256];
    size_t len = 0, need = 0;
    int rc;

    rc = tkr_envref_expand(NULL, 0, &need, s, strlen(s), &env, NULL);
    if (rc != TKR_E_BUFFER_TOO_SMALL)
        fail_msg("size query of \"%s\": %d", s, rc);
    rc = tkr_envref_expand(out, sizeof(out), &len, s, strlen(s), &env, NULL);
    if (rc != 0 || strcmp(out, want) != 0 || len != need || len != strlen(want))
        fail_msg("\"%s\": rc %d, got \"%s\" (%zu, query %zu), want \"%s\"", s, rc, out, len, need,
                 want);
}

/* s is malformed: the reference starts at byte `at`, why holds `what`. */
static void malformed(const char *s, size_t at, const char *what)
{
    tkr_envref_t ref;
    size_t pos = 0, len;
    char out[64];
    int rc;

    while ((rc = tkr_envref_next(s, strlen(s), &pos, &ref)) == 1)
        ;
    if (rc != TKR_E_POLICY || ref.start != at || strstr(ref.why, what) == NULL)
        fail_msg("\"%s\": rc %d at %zu (%s), want TKR_E_POLICY at %zu with \"%s\"", s, rc,
                 ref.start, rc == TKR_E_POLICY ? ref.why : "-", at, what);
    /* Expansion refuses it too, even with every variable set. */
    memset(&ref, 0, sizeof(ref));
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, s, strlen(s), NULL, &ref),
                     TKR_E_POLICY);
    assert_int_equal(ref.start, at);
}

static void test_expansion_replaces_each_reference_once(void **state)
{
    (void)state;
    expands("", "");
    expands("plain text", "plain text");
    expands("${HOST}", "hooks.example.com");
    expands("https://${HOST}/x", "https://hooks.example.com/x");
    expands("${A}${B_2}${_x}", "1twounder");
    expands("[${EMPTY}]", "[]");
    /* one pass: a value that holds a reference stays as it is */
    expands("${LOOP}", "${HOST}");
    expands("${DOLLAR}{HOST}", "${HOST}");
    /* '$' without '{' is text */
    expands("$", "$");
    expands("pa$$word", "pa$$word");
    expands("$HOST and $A", "$HOST and $A");
    expands("$${A}", "$1");
    expands("cost: 5$", "cost: 5$");
    expands("{HOST}", "{HOST}");
    expands("}${A}{", "}1{");
}

static void test_malformed_references_are_errors(void **state)
{
    (void)state;
    malformed("${", 0, "without a closing");
    malformed("x ${HOST", 2, "without a closing");
    malformed("${A} ${", 5, "without a closing");
    malformed("${}", 0, "name is empty");
    malformed("${1A}", 0, "not starting with a digit");
    malformed("${A-B}", 0, "letters, digits and '_'");
    malformed("${A B}", 0, "letters");
    malformed("${ A}", 0, "letters");
    malformed("${URL:-https://x}", 0, "no default values");
    malformed("${A${B}}", 0, "letters");
    malformed("${caf\xc3\xa9}", 0, "letters");
    malformed("${A\nB}", 0, "letters");
}

static void test_names_up_to_the_limit(void **state)
{
    char s[TKR_ENVREF_NAME_MAX + 16], want[TKR_ENVREF_NAME_MAX + 1];
    static const char *kv[] = {NULL, "v", NULL};
    table_t t = {kv, 0, ""};
    tkr_envref_env_t env = {table_get, &t};
    char out[16];
    size_t len;

    (void)state;
    memset(want, 'N', TKR_ENVREF_NAME_MAX);
    want[TKR_ENVREF_NAME_MAX] = '\0';
    snprintf(s, sizeof(s), "${%s}", want);
    kv[0] = want;
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, s, strlen(s), &env, NULL), 0);
    assert_string_equal(out, "v");
    assert_string_equal(t.last, want); /* the lookup sees the whole name, terminated */
    snprintf(s, sizeof(s), "${%sN}", want);
    malformed(s, 0, "too long");
}

static void test_unset_variables_and_the_caller_lookup(void **state)
{
    static const char s[] = "a ${HOST} b ${NOPE} c ${A}";
    table_t t = {vars, 0, ""};
    tkr_envref_env_t env = {table_get, &t};
    tkr_envref_t bad;
    char out[64];
    size_t len = 99;

    (void)state;
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, s, strlen(s), &env, &bad),
                     TKR_E_NOT_FOUND);
    assert_int_equal(bad.start, 12);
    assert_int_equal(bad.end, 19);
    assert_int_equal(bad.name_len, 4);
    assert_memory_equal(s + bad.name, "NOPE", 4);
    assert_int_equal(len, 0);
    /* no environment: nothing is set; text without references still expands */
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, s, strlen(s), NULL, &bad),
                     TKR_E_NOT_FOUND);
    assert_int_equal(bad.start, 2);
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, "no refs", 7, NULL, NULL), 0);
    assert_string_equal(out, "no refs");
    /* the lookup runs only on references */
    t.calls = 0;
    assert_int_equal(tkr_envref_expand(out, sizeof(out), &len, "${A}$A${B_2}", 12, &env, NULL), 0);
    assert_int_equal(t.calls, 2);
    assert_string_equal(out, "1$Atwo");
}

static void test_buffer_rules(void **state)
{
    table_t t = {vars, 0, ""};
    tkr_envref_env_t env = {table_get, &t};
    char out[32];
    size_t len;

    (void)state;
    /* "https://hooks.example.com" is 25 bytes: 26 with the NUL */
    memset(out, 'Z', sizeof(out));
    assert_int_equal(tkr_envref_expand(out, 25, &len, "https://${HOST}", 15, &env, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, 25);
    assert_int_equal(out[24], 'Z');
    assert_int_equal(tkr_envref_expand(out, 26, &len, "https://${HOST}", 15, &env, NULL), 0);
    assert_string_equal(out, "https://hooks.example.com");
    assert_int_equal(tkr_envref_expand(out, 0, &len, "", 0, &env, NULL), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(tkr_envref_expand(out, 1, &len, NULL, 0, &env, NULL), 0);
    assert_string_equal(out, "");
    assert_int_equal(tkr_envref_expand(out, 1, NULL, "", 0, &env, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_envref_expand(out, 1, &len, NULL, 3, &env, NULL), TKR_E_INVALID_ARG);
}

/* ---- FLARE's certificate service configuration ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    assert_non_null(f);
    buf = calloc(1, 65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

/* The files load as they are, and no string in them holds NUL or a
 * malformed reference. */
static void test_flare_service_configuration_loads(void **state)
{
    static const char *const files[] = {"tests/vectors/flare/service/cert_service_config.yaml",
                                        "tests/vectors/flare/service/cert_service_minimal.yaml"};
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    const tkr_yaml_node_t *n;
    size_t i, len;
    char *text;

    (void)state;
    for (i = 0; i < 2; i++) {
        text = read_file(files[i], &len);
        tkr_yaml_init(&doc);
        if (tkr_yaml_load(&doc, text, len, files[i], &err) != 0)
            fail_msg("%s: %d:%d: %s", files[i], err.line, err.column, err.msg);
        assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL | TKR_YAML_ENVREFS,
                                                files[i], &err), 0);
        n = tkr_yaml_get(doc.root, "api_key");
        assert_non_null(n);
        assert_string_equal(n->str, "your-api-key-here");
        n = tkr_yaml_get(tkr_yaml_get(doc.root, "server"), "port");
        assert_non_null(n);
        assert_int_equal(n->kind, TKR_YAML_INT);
        assert_true(n->i == 8443);
        tkr_yaml_free(&doc);
        free(text);
    }
}

/* The file's own Kubernetes example, uncommented: api_key: ${NVFLARE_API_KEY}
 * (a plain scalar) is expanded where it is used, with the message at its
 * position when the variable is not set. */
static void test_service_configuration_reference_expanded_where_used(void **state)
{
    static const char k8s[] =
        "api_key: ${NVFLARE_API_KEY}  # From Kubernetes Secret\n"
        "data_dir: /data\n"
        "project_name: \"K8s FL Cluster\"\n"
        "server:\n"
        "  host: 0.0.0.0\n"
        "  port: 8080  # Ingress handles TLS\n"
        "storage:\n"
        "  type: sqlite\n"
        "  path: ${DATA_DIR}/enrollment.db\n";
    static const char *const kv[] = {"NVFLARE_API_KEY", "k-123", NULL};
    table_t t = {kv, 0, ""};
    tkr_envref_env_t env = {table_get, &t};
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    const tkr_yaml_node_t *key, *path;
    char out[64];
    size_t len;

    (void)state;
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, k8s, strlen(k8s), "k8s.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL | TKR_YAML_ENVREFS,
                                            "k8s.yaml", &err), 0);
    key = tkr_yaml_get(doc.root, "api_key");
    assert_int_equal(key->kind, TKR_YAML_STR);
    assert_string_equal(key->str, "${NVFLARE_API_KEY}"); /* the tree keeps the text */
    assert_int_equal(tkr_envref_expand_node(out, sizeof(out), &len, key, &env, "k8s.yaml",
                                            "api_key", &err), 0);
    assert_string_equal(out, "k-123");
    path = tkr_yaml_get(tkr_yaml_get(doc.root, "storage"), "path");
    assert_int_equal(tkr_envref_expand_node(out, sizeof(out), &len, path, &env, "k8s.yaml",
                                            "storage.path", &err), TKR_E_NOT_FOUND);
    assert_string_equal(err.file, "k8s.yaml");
    assert_int_equal(err.line, 9);
    assert_int_equal(err.column, 9);
    assert_string_equal(err.msg, "storage.path: ${DATA_DIR} is not set in the environment");
    /* not a string: the caller's mistake */
    assert_int_equal(tkr_envref_expand_node(out, sizeof(out), &len,
                                            tkr_yaml_get(tkr_yaml_get(doc.root, "server"), "port"),
                                            &env, "k8s.yaml", "server.port", &err),
                     TKR_E_INVALID_ARG);
    tkr_yaml_free(&doc);

    /* A malformed reference: the loader's check names it with its place. */
    assert_int_equal(tkr_yaml_load(&doc, "server:\n  host: ${HOST\n", 22, "m.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_ENVREFS, "m.yaml", &err),
                     TKR_E_POLICY);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 9);
    assert_non_null(strstr(err.msg, "server.host: malformed environment reference \"${HOST\""));
    assert_int_equal(tkr_envref_expand_node(out, sizeof(out), &len,
                                            tkr_yaml_get(tkr_yaml_get(doc.root, "server"), "host"),
                                            &env, "m.yaml", "server.host", &err),
                     TKR_E_POLICY);
    assert_non_null(strstr(err.msg, "without a closing"));
    tkr_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion_replaces_each_reference_once),
        cmocka_unit_test(test_malformed_references_are_errors),
        cmocka_unit_test(test_names_up_to_the_limit),
        cmocka_unit_test(test_unset_variables_and_the_caller_lookup),
        cmocka_unit_test(test_buffer_rules),
        cmocka_unit_test(test_flare_service_configuration_loads),
        cmocka_unit_test(test_service_configuration_reference_expanded_where_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
