/* fuzz_http_url.c — libFuzzer harness for the HTTP client's URL parser
 * (lib/http.c): service URLs (a prefix, no query) and whole targets (a
 * webhook's, query allowed).
 *
 * The input, up to its first NUL, is a URL. Invariants (abort on
 * violation):
 *   - a parsed URL has a host of letters, digits, '-', '.' (and ':' for an
 *     IPv6 literal), a port from 1, a path free of controls, spaces, DEL
 *     and '#';
 *   - a service path is "" or starts with '/', has no '?' and no trailing
 *     '/'; a target path starts with '/';
 *   - whatever parses as a service URL parses as a target too, with the same
 *     scheme, host and port, and a path that differs only by trailing '/'
 *     (or is "/" for an empty prefix);
 *   - a target rebuilt as text from its parts parses back to the same parts.
 * The text is a heap copy of the exact length so ASan sees any overread. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/http.h"

#include "fuzz_check.h"

static void common(const tkr_http_url_t *u)
{
    const char *c;

    CHECK(u->host[0] != '\0' && u->port != 0);
    for (c = u->host; *c != '\0'; c++)
        CHECK((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == ':');
    for (c = u->path; *c != '\0'; c++)
        CHECK((unsigned char)*c > ' ' && (unsigned char)*c < 0x7f && *c != '#');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1), text[1024];
    tkr_http_url_t svc, t, again;
    int rs, rt, rc;
    size_t pl;

    CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    rs = tkr_http_url_parse(&svc, s);
    rt = tkr_http_url_parse_target(&t, s);
    CHECK(rs == 0 || rs == TKR_E_INVALID_ARG || rs == TKR_E_TOO_LARGE);
    CHECK(rt == 0 || rt == TKR_E_INVALID_ARG || rt == TKR_E_TOO_LARGE);
    if (rs == 0) {
        common(&svc);
        pl = strlen(svc.path);
        CHECK(pl == 0 || svc.path[0] == '/');
        CHECK(pl == 0 || svc.path[pl - 1] != '/');
        CHECK(strchr(svc.path, '?') == NULL);
        if (rt == 0) {
            CHECK(t.tls == svc.tls && t.port == svc.port && strcmp(t.host, svc.host) == 0);
            CHECK(strncmp(t.path, svc.path, pl) == 0);
            CHECK(strspn(t.path + pl, "/") == strlen(t.path + pl));
        } else {
            /* only a longer kept form may not fit */
            CHECK(rt == TKR_E_TOO_LARGE);
        }
    }
    if (rt == 0) {
        common(&t);
        CHECK(t.path[0] == '/');
        rc = snprintf(text, sizeof(text), "%s://%s%s%s:%u%s", t.tls ? "https" : "http",
                      strchr(t.host, ':') ? "[" : "", t.host, strchr(t.host, ':') ? "]" : "",
                      (unsigned)t.port, t.path);
        CHECK(rc > 0 && (size_t)rc < sizeof(text));
        CHECK(tkr_http_url_parse_target(&again, text) == 0);
        CHECK(again.tls == t.tls && again.port == t.port && strcmp(again.host, t.host) == 0 &&
              strcmp(again.path, t.path) == 0);
    }
    free(s);
    return 0;
}
