/* ca.c — the project's root CA for every command that signs or ships it,
 * with one set of messages for what can be wrong with it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tokenroll/error.h"

const char cli_ca_hint[] =
    "Set NVFLARE_CA_PATH or pass -c to point to the provisioned workspace,\n"
    "e.g. export NVFLARE_CA_PATH=/path/to/workspace/my_project";

int cli_load_ca(tkr_ca_t *ca, const char *dir)
{
    size_t size = 2 * TKR_CERTJSON_MAX;
    char *buf = malloc(size);
    tkr_diag_t d;
    int rc;

    tkr_ca_init(ca);
    if (buf == NULL)
        return cli_fail("out of memory");
    tkr_diag_clear(&d);
    rc = tkr_certjson_load(ca, buf, size, dir, cli_port(), &d);
    free(buf);
    if (rc == TKR_E_NOT_FOUND && strcmp(d.name, "state/cert.json") == 0)
        return cli_fail("Root CA not found in %s: no state/cert.json (written by "
                        "provisioning), cert.json or rootCA.pem + rootCA.key.\n%s",
                        dir, cli_ca_hint);
    if (rc != 0)
        return cli_fail("%s: %s", ca->source, d.msg[0] ? d.msg : tkr_strerror(rc));
    return 0;
}
