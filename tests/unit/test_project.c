/* test_project.c — FLARE's project.yml as `nvflare provision` reads it
 * (nvflare/lighter/provision.py, entity.py, format_check.py), every error
 * with its line and column. The first example is the token-command
 * document's Phase 1 project.yml. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/error.h"
#include "tokenroll/project.h"

static const char doc_project[] =
    "api_version: 3\n"
    "name: my_fl_project\n"
    "description: FL project with token-based enrollment\n"
    "\n"
    "participants:\n"
    "  - name: server.example.com\n"
    "    type: server\n"
    "    org: MyOrganization\n"
    "    fed_learn_port: 8002\n"
    "    admin_port: 8003\n"
    "\n"
    "  # Admin user for management\n"
    "  - name: admin@example.com\n"
    "    type: admin\n"
    "    org: MyOrganization\n"
    "    role: project_admin\n"
    "\n"
    "# Note: No client participants defined - they will enroll with tokens\n";

static const char server[] =
    "  - name: server1\n"
    "    type: server\n"
    "    org: nvidia\n"
    "    fed_learn_port: 8002\n"
    "    admin_port: 8003\n";

static void refused(const char *yaml, int rc, int line, int column, const char *what)
{
    tkr_project_t p;
    tkr_diag_t err;
    int got;

    tkr_project_init(&p);
    got = tkr_project_load(&p, yaml, strlen(yaml), "project.yml", &err);
    if (got != rc || err.line != line || err.column != column || strstr(err.msg, what) == NULL)
        fail_msg("got %d at %d:%d \"%s\"; want %d at %d:%d with \"%s\"\n--\n%s", got, err.line,
                 err.column, err.msg, rc, line, column, what, yaml);
    assert_string_equal(err.file, "project.yml");
    assert_null(p.arena);
    assert_int_equal(p.n_participants, 0);
}

/* head + one participant block */
static void refused_with(const char *participants, int line, int column, const char *what)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), "api_version: 3\nname: proj\nparticipants:\n%s", participants);
    refused(yaml, TKR_E_POLICY, line, column, what);
}

static void test_token_document_project_loads(void **state)
{
    tkr_project_t p;
    tkr_diag_t err;

    (void)state;
    tkr_project_init(&p);
    assert_int_equal(tkr_project_load(&p, doc_project, strlen(doc_project), "project.yml", &err), 0);
    assert_int_equal(p.api_version, 3);
    assert_string_equal(p.name, "my_fl_project");
    assert_string_equal(p.description, "FL project with token-based enrollment");
    assert_int_equal(p.n_participants, 2);
    assert_string_equal(p.participants[0].name, "server.example.com");
    assert_string_equal(p.participants[0].type, "server");
    assert_string_equal(p.participants[0].org, "MyOrganization");
    assert_int_equal(p.participants[0].fed_learn_port, 8002);
    assert_int_equal(p.participants[0].admin_port, 8003);
    assert_int_equal(p.participants[0].line, 6);
    assert_int_equal(p.participants[0].column, 5);
    assert_string_equal(p.participants[1].name, "admin@example.com");
    assert_string_equal(p.participants[1].role, "project_admin");
    assert_int_equal(p.participants[1].fed_learn_port, 0);
    assert_int_equal(p.n_builders, 0);
    tkr_project_free(&p);
    tkr_project_free(&p);
}

static void test_full_project_with_builders_and_flare_properties(void **state)
{
    static const char y[] =
        "api_version: 3\n"
        "name: example_project\n"
        "participants:\n"
        "  - name: server1\n"
        "    type: server\n"
        "    org: nvidia\n"
        "    fed_learn_port: 8002\n"
        "    admin_port: 8002\n"
        "    host_names: [server1.example.com, 10.0.0.5]\n"
        "    default_host: server1.example.com\n"
        "  - name: site-1\n"
        "    type: client\n"
        "    org: nvidia\n"
        "    listening_host: site1.example.com\n"
        "    components:\n"
        "      resource_manager: {path: x.GPUResourceManager, args: {num_of_gpus: 0}}\n"
        "  - name: relay_east\n"
        "    type: relay\n"
        "    org: nvidia\n"
        "    connect_to: {name: server1, port: 8002}\n"
        "  - name: lead@nvidia.com\n"
        "    type: admin\n"
        "    org: nvidia\n"
        "    role: lead\n"
        "builders:\n"
        "  - path: nvflare.lighter.impl.workspace.WorkspaceBuilder\n"
        "  - path: nvflare.lighter.impl.static_file.StaticFileBuilder\n"
        "    args:\n"
        "      config_folder: config\n";
    tkr_project_t p;
    tkr_diag_t err;

    (void)state;
    tkr_project_init(&p);
    assert_int_equal(tkr_project_load(&p, y, strlen(y), "project.yml", &err), 0);
    assert_int_equal(p.n_participants, 4);
    assert_null(p.description);
    assert_string_equal(p.participants[2].type, "relay");
    assert_string_equal(p.participants[3].role, "lead");
    assert_int_equal(p.n_builders, 2);
    tkr_project_free(&p);
}

static void test_missing_server_is_an_error(void **state)
{
    (void)state;
    /* The token document's generic-client project has no server: provision
     * would build no server kit, so it is refused here. */
    refused("api_version: 3\nname: generic_client\nparticipants:\n  - name: site\n    type: client\n"
            "    org: TBD\n",
            TKR_E_POLICY, 4, 3, "no server");
    refused("api_version: 3\nname: p\n", TKR_E_POLICY, 1, 1, "missing participants");
    refused_with("  []\n", 4, 3, "no server");
}

static void test_bad_ports_are_errors(void **state)
{
    (void)state;
    refused_with("  - {name: s1, type: server, org: o, fed_learn_port: 0, admin_port: 8003}\n", 4, 54,
                 "expected a port number 1..65535, found 0");
    refused_with("  - name: s1\n    type: server\n    org: o\n    fed_learn_port: 8002\n    admin_port: 70000\n",
                 8, 17, "found 70000");
    refused_with("  - name: s1\n    type: server\n    org: o\n    fed_learn_port: \"8002\"\n    admin_port: 8003\n",
                 7, 21, "found a string");
    refused_with("  - name: s1\n    type: server\n    org: o\n    fed_learn_port: 8002\n", 4, 5,
                 "a server needs admin_port");
    refused_with("  - name: c1\n    type: client\n    org: o\n    admin_port: 8003\n", 7, 17,
                 "only the server");
}

static void test_duplicate_names_are_errors(void **state)
{
    char p[1024];

    (void)state;
    snprintf(p, sizeof(p), "%s  - name: site-1\n    type: client\n    org: a\n"
                           "  - name: site-1\n    type: client\n    org: b\n", server);
    refused_with(p, 12, 11, "\"site-1\" is already defined at line 9, column 5");
    snprintf(p, sizeof(p), "%s  - name: server2\n    type: server\n    org: a\n    fed_learn_port: 1\n"
                           "    admin_port: 2\n", server);
    refused_with(p, 9, 5, "a second server");
}

static void test_unknown_keys_are_errors_with_position(void **state)
{
    char p[1024];

    (void)state;
    refused("api_version: 3\nname: p\nparticpants: []\n", TKR_E_POLICY, 3, 1,
            "unknown key \"particpants\"");
    snprintf(p, sizeof(p), "%s    fed_lern_port: 1\n", server);
    refused_with(p, 9, 5, "participants[0]: unknown key \"fed_lern_port\"");
    snprintf(p, sizeof(p), "%sbuilders:\n  - path: x.Y\n    arg: {}\n", server);
    refused_with(p, 11, 5, "builders[0]: unknown key \"arg\"");
    snprintf(p, sizeof(p), "%sbuilders:\n  - args: {}\n", server);
    refused_with(p, 10, 5, "missing path");
}

static void test_header_fields(void **state)
{
    char y[1024];

    (void)state;
    snprintf(y, sizeof(y), "api_version: 2\nname: p\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 1, 14, "api_version: expected 3, found 2");
    snprintf(y, sizeof(y), "api_version: \"3\"\nname: p\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 1, 14, "found a string");
    snprintf(y, sizeof(y), "name: p\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 1, 1, "missing api_version");
    snprintf(y, sizeof(y), "api_version: 3\nname: ../etc\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 2, 7, "not a safe directory name");
    snprintf(y, sizeof(y), "api_version: 3\nname: a/b\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 2, 7, "not a safe directory name");
    snprintf(y, sizeof(y), "api_version: 3\nparticipants:\n%s", server);
    refused(y, TKR_E_POLICY, 1, 1, "project: missing name");
    refused("- a\n", TKR_E_POLICY, 1, 1, "must be a mapping");
    refused("", TKR_E_POLICY, 1, 1, "empty");
    refused("api_version: 3\nname: [p\n", TKR_E_YAML, 3, 1, "expected ',' or ']'");
}

static void test_participant_names_roles_and_types(void **state)
{
    char p[1024];

    (void)state;
    snprintf(p, sizeof(p), "%s  - name: admin@example.com\n    type: admin\n    org: a\n", server);
    refused_with(p, 9, 5, "needs a role");
    snprintf(p, sizeof(p), "%s  - name: admin@example.com\n    type: admin\n    org: a\n    role: boss\n", server);
    refused_with(p, 12, 11, "unknown role \"boss\"");
    snprintf(p, sizeof(p), "%s  - name: site-1\n    type: client\n    org: a\n    role: lead\n", server);
    refused_with(p, 12, 11, "only admin participants have a role");
    snprintf(p, sizeof(p), "%s  - name: admin\n    type: admin\n    org: a\n    role: lead\n", server);
    refused_with(p, 9, 11, "not a valid admin name");
    snprintf(p, sizeof(p), "%s  - name: site 1\n    type: client\n    org: a\n", server);
    refused_with(p, 9, 11, "not a valid client name");
    snprintf(p, sizeof(p), "%s  - name: site-1\n    type: client\n    org: My Org\n", server);
    refused_with(p, 11, 10, "not a valid org");
    snprintf(p, sizeof(p), "%s  - name: site-1\n    type: worker\n    org: a\n", server);
    refused_with(p, 10, 11, "unknown type \"worker\"");
    snprintf(p, sizeof(p), "%s  - name: site-1\n    org: a\n", server);
    refused_with(p, 9, 5, "missing type");
    refused_with("  - name: -bad-.host\n    type: server\n    org: o\n    fed_learn_port: 1\n    admin_port: 2\n",
                 4, 11, "not a valid server name");
}

/* No string of the file holds NUL, not even where provision ignores the
 * value (a builder's args): one rule for every schema document. */
static void test_nul_is_refused_everywhere(void **state)
{
    char p[1024];

    (void)state;
    snprintf(p, sizeof(p), "%s  - name: \"site-1\\0x\"\n    type: client\n    org: a\n", server);
    refused_with(p, 9, 11, "participants[1].name: the string value holds a NUL character");
    snprintf(p, sizeof(p), "api_version: 3\nname: proj\nparticipants:\n%sbuilders:\n"
             "  - path: a.B\n    args: {x: [\"\\0\"]}\n", server);
    refused(p, TKR_E_POLICY, 11, 16, "builders[0].args.x[0]: the string value holds a NUL");
    snprintf(p, sizeof(p), "api_version: 3\nname: proj\ndescription: \"a\\x00\"\n"
             "participants:\n%s", server);
    refused(p, TKR_E_POLICY, 3, 14, "description: the string value holds a NUL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_document_project_loads),
        cmocka_unit_test(test_full_project_with_builders_and_flare_properties),
        cmocka_unit_test(test_missing_server_is_an_error),
        cmocka_unit_test(test_bad_ports_are_errors),
        cmocka_unit_test(test_duplicate_names_are_errors),
        cmocka_unit_test(test_unknown_keys_are_errors_with_position),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_participant_names_roles_and_types),
        cmocka_unit_test(test_nul_is_refused_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
