/* error.c — names for TKR_E_* codes, and the diagnostics record. */
#include <stddef.h>
#include <string.h>

#include "tokenroll/error.h"

static const char *const names[] = {
    "success",
    "invalid argument",
    "output buffer too small",
    "input too large",
    "invalid base64url",
    "malformed JSON",
    "JSON nested too deeply",
    "duplicate JSON key",
    "too many JSON values",
    "not found",
    "wrong JSON type",
    "number out of range",
    "not a compact JWS (header.payload.signature)",
    "invalid JOSE header",
    "algorithm not allowed",
    "critical header extension not supported",
    "signature has the wrong length",
    "signature verification failed",
    "token expired",
    "token not yet valid (nbf)",
    "token issued in the future (iat)",
    "required claim missing",
    "claim has the wrong type",
    "issuer mismatch",
    "subject mismatch",
    "audience mismatch",
    "invalid or unusable key",
    "key type does not match the algorithm",
    "private key does not match the certificate",
    "invalid certificate",
    "cryptographic operation failed",
    "entropy source failed",
    "storage I/O failed",
    "network error",
    "timed out",
    "not supported",
    "invalid UTF-8",
    "invalid policy",
    "YAML syntax error",
    "out of memory",
    "token already used",
    "already enrolled or pending",
    "malformed HTTP response",
    "TLS handshake failed",
    "refused by the service",
    "still pending approval",
    "does not match the expected format",
    "refused by the verifier",
};

_Static_assert(sizeof(names) / sizeof(names[0]) == (size_t)(1 - TKR_E_LAST),
               "every TKR_E_* code needs a name");

const char *tkr_strerror(int rc)
{
    if (rc > 0 || rc < TKR_E_LAST)
        return "unknown error";
    return names[-rc];
}

void tkr_diag_clear(tkr_diag_t *d)
{
    if (d != NULL)
        memset(d, 0, sizeof(*d));
}

static void copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        n = size - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

int tkr_diag(tkr_diag_t *d, int rc, const char *name, const char *msg)
{
    if (d == NULL)
        return rc;
    if (name != NULL)
        copy(d->name, sizeof(d->name), name);
    if (msg != NULL)
        copy(d->msg, sizeof(d->msg), msg);
    return rc;
}
