/* test_util.h — file and key helpers shared by the unit tests (each test
 * is its own program, so static inline keeps one copy per binary). */
#ifndef TKR_TEST_UTIL_H
#define TKR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>

#include "tokenroll/key.h"
#include "tokenroll/port.h"

/* A peer the test checks against (openssl, python3-jwt): probe is a shell
 * command that succeeds when it is there. Missing, the test skips, except
 * under CI=true, where it fails: a check must not vanish in CI. */
static inline void need_tool(const char *probe)
{
    char cmd[512];
    const char *ci = getenv("CI");

    snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", probe);
    if (system(cmd) == 0)
        return;
    if (ci != NULL && strcmp(ci, "true") == 0)
        fail_msg("needed for this test but missing: %s (CI=true)", probe);
    skip();
}

/* Whole file into buf (NUL-terminated); fails the test if it does not fit. */
static inline size_t read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    n = fread(buf, 1, size - 1, f);
    assert_true(feof(f));
    fclose(f);
    buf[n] = '\0';
    return n;
}

static inline void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A private key from a PEM file, initialised here. */
static inline void load_key_with(mbedtls_pk_context *pk, const char *path,
                                 const tkr_port_t *port)
{
    char pem[4096];
    size_t n = read_file(path, pem, sizeof(pem));

    mbedtls_pk_init(pk);
    assert_int_equal(tkr_key_parse_private(pk, (const uint8_t *)pem, n + 1, port, NULL), 0);
}

#endif
