/* error.c — names for TKR_E_* codes, and the diagnostics record. */
#include <stddef.h>
#include <string.h>

#include "tokenroll/error.h"

#if TKR_DIAG_TEXT
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
#else
/* The codes as text, four bytes each (NUL-padded): no pointer table. */
static const char codes[] =
    "0\0\0\0-1\0\0-2\0\0-3\0\0-4\0\0-5\0\0-6\0\0-7\0\0-8\0\0-9\0\0-10\0-11\0"
    "-12\0-13\0-14\0-15\0-16\0-17\0-18\0-19\0-20\0-21\0-22\0-23\0-24\0-25\0"
    "-26\0-27\0-28\0-29\0-30\0-31\0-32\0-33\0-34\0-35\0-36\0-37\0-38\0-39\0"
    "-40\0-41\0-42\0-43\0-44\0-45\0-46\0-47\0";

_Static_assert(sizeof(codes) == 4 * (size_t)(1 - TKR_E_LAST) + 1,
               "every TKR_E_* code needs its text");

const char *tkr_strerror(int rc)
{
    if (rc > 0 || rc < TKR_E_LAST)
        return "?";
    return codes + 4 * -rc;
}
#endif

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

/* Parenthesised: with TKR_DIAG_TEXT 0 the name is also a macro. */
int (tkr_diag)(tkr_diag_t *d, int rc, const char *name, const char *msg)
{
    if (d == NULL)
        return rc;
    if (name != NULL)
        copy(d->name, sizeof(d->name), name);
    if (msg != NULL)
        copy(d->msg, sizeof(d->msg), msg);
    return rc;
}
