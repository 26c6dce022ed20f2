/* util.c — errors, files, time and the port for the tokenroll program. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>

#include "cli.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"

static tkr_posix_t posix_ctx = {TKR_LOG_WARN, -1};
static tkr_port_t port;
static int port_ready;
static const char *io_error = "unknown error";

const tkr_port_t *cli_port(void)
{
    if (!port_ready) {
        tkr_port_posix_init(&port, &posix_ctx);
        port_ready = 1;
    }
    return &port;
}

void cli_set_now(int64_t now)
{
    posix_ctx.fixed_now = now;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

/* Append to buf[*o..size), truncating; buf stays NUL-terminated. */
static void append(char *buf, size_t size, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, size_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *o, size - *o, fmt, ap);
    va_end(ap);
    if (n > 0)
        *o = (size_t)n < size - *o ? *o + (size_t)n : size - 1;
}

const char *cli_diag_text(char *buf, size_t size, int rc, const tkr_diag_t *d)
{
    size_t o = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (d != NULL && d->name[0] != '\0')
        append(buf, size, &o, "%s", d->name);
    if (d != NULL && d->has_offset)
        append(buf, size, &o, "%sat offset %zu", o ? " " : "", d->offset);
    append(buf, size, &o, "%s%s", o ? ": " : "",
           d != NULL && d->msg[0] ? d->msg : tkr_strerror(rc));
    if (d != NULL && d->mbedtls != 0)
        append(buf, size, &o, " (mbedTLS -0x%04x)", (unsigned)-d->mbedtls);
    return buf;
}

int cli_usage_fail(const cli_args_t *a, const char *fmt, ...)
{
    va_list ap;
    const char *nl;

    fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (a != NULL && a->usage != NULL) {
        nl = strchr(a->usage, '\n');
        fprintf(stderr, "%.*s\n", nl ? (int)(nl - a->usage) : (int)strlen(a->usage),
                a->usage);
    }
    return CLI_EXIT_USAGE;
}

const char *cli_io_error(void)
{
    return io_error;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f;
    char *buf;
    size_t n = 0, cap = 4096;
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        io_error = "is a directory";
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        io_error = errno == ENOENT ? "no such file" : strerror(errno);
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > max) {
            io_error = "file too large";
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            if (ferror(f)) {
                io_error = strerror(errno);
                free(buf);
                buf = NULL;
            }
            break;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                io_error = "out of memory";
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (len != NULL)
            *len = n;
    }
    return buf;
}

char *cli_read_password_file(const char *path)
{
    char *pw = cli_read_file(path, 4096, NULL);

    if (pw != NULL)
        pw[strcspn(pw, "\r\n")] = '\0';
    return pw;
}

static char *strip(char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Three base64url parts: what a compact JWS looks like, as opposed to a
 * file name. */
static int looks_like_jws(const char *s)
{
    int dots = 0;

    for (; *s != '\0'; s++) {
        if (*s == '.')
            dots++;
        else if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
                   *s == '\n' || *s == '\r' || *s == ' ' || *s == '\t'))
            return 0;
    }
    return dots == 2;
}

char *cli_read_token(const char *arg, const char *what)
{
    char *buf, *s, *out;
    struct stat st;

    if (arg == NULL || arg[0] == '\0') {
        cli_fail("%s is empty", what);
        return NULL;
    }
    if (strcmp(arg, "-") == 0) {
        buf = cli_read_file("/dev/stdin", 1u << 20, NULL);
    } else if (stat(arg, &st) != 0 && !looks_like_jws(arg)) {
        /* Not a token: it was meant as a file, so say what is wrong with it. */
        cli_fail("cannot read %s %s: %s (and it is not a compact JWT)", what, cli_show(arg),
                 errno == ENOENT ? "no such file" : strerror(errno));
        return NULL;
    } else if (stat(arg, &st) == 0) {
        buf = cli_read_file(arg, 1u << 20, NULL);
        if (buf == NULL) {
            cli_fail("cannot read %s %s: %s", what, arg, cli_io_error());
            return NULL;
        }
    } else {
        buf = strdup(arg);
    }
    if (buf == NULL) {
        cli_fail("cannot read %s: %s", what, cli_io_error());
        return NULL;
    }
    s = strip(buf);
    out = strdup(s);
    free(buf);
    if (out != NULL && out[0] == '\0') {
        free(out);
        cli_fail("%s is empty", what);
        return NULL;
    }
    return out;
}

void cli_iso_time(char out[32], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
        snprintf(out, 32, "%lld", (long long)t);
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cli_mkdirs(const char *path, unsigned mode)
{
    char tmp[4096];
    size_t i, n = strlen(path);
    struct stat st;

    if (n == 0 || n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        tmp[i] = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return -1;
        if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
        if (i < n)
            tmp[i] = '/';
    }
    return 0;
}

void cli_rmtree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[4096];

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            struct stat st;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (cli_join(sub, sizeof(sub), path, e->d_name) != 0)
                continue;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                cli_rmtree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

int cli_cert_pem(char *out, size_t size, const struct mbedtls_x509_crt *crt)
{
    size_t olen;

    return mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                    "-----END CERTIFICATE-----\n", crt->raw.p,
                                    crt->raw.len, (unsigned char *)out, size, &olen);
}

int cli_join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s/%s", a, b);

    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
