/* main.c — tokenroll: admin, service and device commands. */
#include <stdio.h>
#include <string.h>

#include <mbedtls/version.h>

#include "cli.h"

static const char usage[] =
    "usage: tokenroll <command> [options]\n"
    "\n"
    "commands:\n"
    "  jwt inspect|verify|sign   JOSE tool: look into, check and make JWTs\n"
    "  provision -p project.yml  create the root CA and startup kits (server, clients, admins)\n"
    "  token generate|batch|info mint and inspect enrollment tokens\n"
    "  package -n NAME -e URI    generic startup kit (no key, no certificate)\n"
    "  enroll [--startup DIR]    enroll this participant with its token (device)\n"
    "  enrollment list|info|approve|reject|enrolled  the service's requests (admin)\n"
    "  cert info|revoke|api-key  a certificate's or keychain's details; revoke one\n"
    "                            at the service; a new API key\n"
    "  authnjwt [-u USAGE] --token-file F --service URL  an identity provider's\n"
    "                            JWT exchanged for a certificate (PVXS keychain)\n"
    "  policy check|eval|yaml2json  validate a policy, decide a request, YAML -> JSON\n"
    "  serve                     the certificate service (HTTPS; SQLite or PostgreSQL)\n"
    "  version                   print the version\n"
    "\n"
    "Run 'tokenroll <command> --help' for a command's options.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"jwt", cmd_jwt},
    {"policy", cmd_policy},
    {"token", cmd_token},
    {"provision", cmd_provision},
    {"package", cmd_package},
    {"enroll", cmd_enroll},
    {"enrollment", cmd_enrollment},
    {"cert", cmd_cert},
    {"authnjwt", cmd_authnjwt},
    {"serve", cmd_serve},
};

static int run(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("tokenroll 0.1.0 (mbedTLS %s)\n", MBEDTLS_VERSION_STRING);
        return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "Error: unknown command '%s'\n%s", argv[1], usage);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc, out;

    cli_guard_std_fds();
    rc = run(argc, argv);
    /* Output lost on a full disk or a closed stdout is a failure too. */
    out = cli_finish_stdout();
    return rc != 0 ? rc : out;
}
