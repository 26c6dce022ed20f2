/* cli.h — what every command of the tokenroll program shares: the option
 * parser, the one place that prints "Error: ..." and picks exit codes, file
 * helpers and the process's port. */
#ifndef TKR_CLI_H
#define TKR_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "tokenroll/certjson.h"
#include "tokenroll/port.h"

/* Exit codes: 1 for a failed operation, 2 for a usage mistake (as Python's
 * argparse does, which FLARE's CLI is built on). */
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* ---- options ---- */

enum { OPT_FLAG, OPT_VALUE, OPT_LIST, OPT_MULTI };

typedef struct {
    const char *name;   /* long name without dashes: "key" */
    char short_name;    /* 'k', or 0 */
    int kind;           /* OPT_FLAG, OPT_VALUE, OPT_LIST (values until next
                           option) or OPT_MULTI (one value, repeatable) */
    const char *alias;  /* second long name ("ca_path" for "ca-path"), or NULL */
} cli_opt_t;

#define CLI_MAX_OPTS 40
#define CLI_MAX_POS 8
#define CLI_MAX_MULTI 32   /* values of all OPT_MULTI options together */

typedef struct {
    const cli_opt_t *spec;
    int nspec;
    const char *value[CLI_MAX_OPTS];
    int seen[CLI_MAX_OPTS];
    char **list[CLI_MAX_OPTS];
    int nlist[CLI_MAX_OPTS];
    const char *pos[CLI_MAX_POS];
    int npos;
    const char *multi[CLI_MAX_MULTI];
    int multi_opt[CLI_MAX_MULTI];
    int nmulti;
    const char *usage;
} cli_args_t;

/* Parse argv[0..argc) (argv[0] is the first argument, not the program).
 * Prints the usage and returns CLI_EXIT_USAGE on a mistake, -1 when help
 * was asked for (usage printed to stdout), 0 otherwise. */
int cli_parse(cli_args_t *a, const cli_opt_t *spec, const char *usage,
              int argc, char **argv);
const char *cli_get(const cli_args_t *a, const char *name);
int cli_has(const cli_args_t *a, const char *name);
/* Values of a list option; returns their count (0 when absent). */
int cli_list(const cli_args_t *a, const char *name, char ***values);
/* Values of a repeatable option in the order given, up to max into out;
 * returns their count. */
int cli_multi(const cli_args_t *a, const char *name, const char **out, int max);

/* ---- errors ---- */

/* "Error: <msg>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a diagnostics record says, as one phrase for an error line:
 * "<name> at offset <n>: <msg, or tkr_strerror(rc)> (mbedTLS -0x<code>)",
 * each part only when d holds it. Written into buf, which is returned. */
const char *cli_diag_text(char *buf, size_t size, int rc, const tkr_diag_t *d);
/* "Error: <msg>" plus the usage line; returns CLI_EXIT_USAGE. */
int cli_usage_fail(const cli_args_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- files and input ---- */

/* Read a whole file into a heap buffer, NUL-terminated. NULL on failure with
 * errno-based reason available through cli_io_error(). max bounds the size. */
char *cli_read_file(const char *path, size_t max, size_t *len);
const char *cli_io_error(void);

/* A password file's first line, without its line end (as PVXS reads its
 * keychain password files). Heap, NULL on failure (the reason through
 * cli_io_error()); the caller zeroizes and frees it. */
char *cli_read_password_file(const char *path);

/* A token given as a string or as a file holding it; surrounding whitespace
 * is stripped. Returns a heap copy or NULL (message already printed). */
char *cli_read_token(const char *arg, const char *what);

/* ---- output (out.c) ---- */

#define CLI_OUT_SECRET 1u   /* mode 0600 */
#define CLI_OUT_FORCE 2u    /* an existing regular file may be replaced */

/* Write data to path: "-" is stdout, a new or (with CLI_OUT_FORCE) existing
 * regular file is replaced atomically, a character device or FIFO is
 * written in place; symbolic links, other files, existing files without
 * --force and the loaded CA's files are refused. 0, or the message is
 * printed and CLI_EXIT_FAIL returned. */
int cli_out_write(const char *path, const void *data, size_t len, unsigned flags);
/* The same checks without writing: run them before expensive work. */
int cli_out_check(const char *path, unsigned flags);
/* Record the CA files of dir so that no output replaces them. */
void cli_protect_ca_files(const char *dir);
/* A path for a message: cut in the middle when very long. */
const char *cli_show(const char *path);

/* Flush and close stdout; 0, or CLI_EXIT_FAIL with the message printed. */
int cli_finish_stdout(void);
/* Hold closed descriptors 0..2 so no file opened later takes their place. */
void cli_guard_std_fds(void);

/* SIGINT/SIGTERM/SIGHUP only set a flag; cli_interrupted() returns 0, or
 * prints the message and returns 128 + the signal: the caller cleans up. */
void cli_catch_signals(void);
int cli_interrupted(void);
/* Refuse dir/<prefix>[NN].tmp.<PID> left by a dead process. */
int cli_check_leftovers(const char *dir, const char *prefix);
/* Create the new folder dir/.<name>.tmp.<PID> (mode 0700) into out. */
int cli_make_tmpdir(char *out, size_t size, const char *dir, const char *name);
/* rc == 0 and not interrupted: make tmp 0755 and rename it to final. Else,
 * or when that fails, remove tmp. Returns the outcome. */
int cli_commit_tmpdir(const char *tmp, const char *final, int rc);

/* out = a/b; -1 (and an empty out) when it does not fit. */
int cli_join(char *out, size_t size, const char *a, const char *b);

/* mkdir -p; 0 or -1 with errno. */
int cli_mkdirs(const char *path, unsigned mode);
/* Remove a folder tree we created (failure cleanup); best effort. Does not
 * follow symbolic links; skips names too long to join. */
void cli_rmtree(const char *path);

/* ---- process ---- */

const tkr_port_t *cli_port(void);
/* Pin the wall clock (tests and replays): --now EPOCH. */
void cli_set_now(int64_t now);

/* ISO 8601 UTC as Python's datetime.isoformat(): 2026-01-01T00:00:00+00:00 */
void cli_iso_time(char out[32], int64_t t);
/* "Sat Mar 08 15:23:21 2025 UTC", as PVXS prints dates (cmd_cert.c). */
void cli_pvxs_time(char out[40], int64_t t);
/* Seconds since the epoch of an X.509 time (UTC). */
struct mbedtls_x509_time;
int64_t cli_x509_epoch(const struct mbedtls_x509_time *t);

/* Parse a decimal integer in [min, max]; 0 or -1. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A certificate's DER as PEM text. */
struct mbedtls_x509_crt;
int cli_cert_pem(char *out, size_t size, const struct mbedtls_x509_crt *crt);

/* ---- the root CA ---- */

/* The lifetime of what a CA signs: at most ten years, and not past the
 * CA's own expiry. 0, or the message printed and CLI_EXIT_FAIL. */
#define CLI_MAX_VALIDITY (3653LL * 86400)
int cli_check_validity(const tkr_ca_t *ca, int64_t start, int64_t validity,
                       const char *what);

/* How to point the commands at a CA (printed under CA errors). */
extern const char cli_ca_hint[];

/* Initialise ca and load its certificate from dir (state/cert.json,
 * cert.json, or rootCA.pem + rootCA.key); prints the error. The caller
 * frees ca. The key is not loaded: signing goes through cli_ca.h. */
int cli_load_ca(tkr_ca_t *ca, const char *dir);
/* The same, handing the key's text (if any) over in key[0..key_size),
 * NUL-terminated, ca->key_len long (0: the workspace holds no key). */
int cli_load_ca_key(tkr_ca_t *ca, const char *dir, char *key, size_t key_size);

/* ---- commands ---- */

int cmd_jwt(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_enrollment(int argc, char **argv);
int cmd_cert_api_key(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_authnjwt(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
