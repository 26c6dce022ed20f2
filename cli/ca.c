/* ca.c — the project's root CA for every command that signs or ships it,
 * with one set of messages for what can be wrong with it. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "tokenroll/error.h"

const char cli_ca_hint[] =
    "Set NVFLARE_CA_PATH or pass -c to point to the provisioned workspace,\n"
    "e.g. export NVFLARE_CA_PATH=/path/to/workspace/my_project";

int cli_load_ca_key(tkr_ca_t *ca, const char *dir, char *key, size_t key_size)
{
    size_t size = 2 * TKR_CERTJSON_MAX;
    char *buf = malloc(size);
    int rc;

    tkr_ca_init(ca);
    if (buf == NULL)
        return cli_fail("out of memory");
    /* The key's text is handed over, never parsed here: a signer does
     * that, in the backend that will use it. */
    ca->key_text = key;
    ca->key_text_size = key_size;
    rc = tkr_certjson_load(ca, buf, size, dir, cli_port());
    ca->key_text = NULL;
    free(buf);
    if (rc == TKR_E_NOT_FOUND && ca->what != NULL && strncmp(ca->what, "no state", 8) == 0)
        return cli_fail("Root CA not found in %s: no state/cert.json (written by "
                        "provisioning), cert.json or rootCA.pem + rootCA.key.\n%s",
                        dir, cli_ca_hint);
    if (rc != 0)
        return cli_fail("%s: %s", ca->source, ca->what ? ca->what : tkr_strerror(rc));
    return 0;
}

int cli_load_ca(tkr_ca_t *ca, const char *dir)
{
    char *key = malloc(TKR_CERTJSON_MAX);
    int rc;

    if (key == NULL) {
        tkr_ca_init(ca);
        return cli_fail("out of memory");
    }
    rc = cli_load_ca_key(ca, dir, key, TKR_CERTJSON_MAX);
    mbedtls_platform_zeroize(key, TKR_CERTJSON_MAX);
    free(key);
    return rc;
}
