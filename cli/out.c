/* out.c — the one way the tokenroll program writes a file or standard
 * output, and the temporary folders that kits are built in.
 *
 * The rules (README "Output files"):
 *  - "-" is standard output;
 *  - a new file, or an existing regular file with --force, is written to a
 *    temporary file beside it, fsync'd and renamed over it;
 *  - an existing regular file without --force is refused, and the loaded
 *    root CA's own files are refused even with --force;
 *  - a character device or a FIFO (/dev/stdout, a pipe) is opened as it is
 *    and written to: no temporary file, no rename, nothing replaced;
 *  - a symbolic link is refused: renaming over it would replace the link,
 *    and following it would write where the name does not say; except a
 *    link to a character device or FIFO (/dev/stdout), written through;
 *  - anything else (a directory, a block device, a socket) is refused.
 * Every message names the path and the reason (errno's text). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- names in messages ---- */

/* A path as shown in a message: very long ones are cut in the middle so
 * the one-line error stays readable. Several may be in use at once. */
const char *cli_show(const char *path)
{
    static char ring[4][160];
    static int next;
    size_t n = strlen(path);
    char *o;

    if (n < sizeof(ring[0]))
        return path;
    o = ring[next++ % 4];
    snprintf(o, sizeof(ring[0]), "%.60s...(%zu characters)...%.60s", path, n, path + n - 60);
    return o;
}

/* ---- the root CA's files: never an output ---- */

static struct { dev_t dev; ino_t ino; } ca_files[8];
static size_t n_ca_files;

void cli_protect_ca_files(const char *dir)
{
    static const char *const names[] = {"state/cert.json", "cert.json", "rootCA.pem",
                                        "rootCA.key"};
    char path[4096];
    struct stat st;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (n_ca_files == sizeof(ca_files) / sizeof(ca_files[0]))
            return;
        if (cli_join(path, sizeof(path), dir, names[i]) == 0 && stat(path, &st) == 0) {
            ca_files[n_ca_files].dev = st.st_dev;
            ca_files[n_ca_files].ino = st.st_ino;
            n_ca_files++;
        }
    }
}

static int is_ca_file(const struct stat *st)
{
    size_t i;

    for (i = 0; i < n_ca_files; i++)
        if (ca_files[i].dev == st->st_dev && ca_files[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* ---- writing ---- */

enum { TARGET_STDOUT, TARGET_REPLACE, TARGET_IN_PLACE };

static int classify(const char *path, unsigned flags, int *how)
{
    char parent[4096];
    struct stat st;
    char *slash;

    if (path == NULL || path[0] == '\0')
        return cli_fail("the output path is empty");
    if (strcmp(path, "-") == 0) {
        *how = TARGET_STDOUT;
        return 0;
    }
    if (strlen(path) >= sizeof(parent))
        return cli_fail("cannot write %s: %s", cli_show(path), strerror(ENAMETOOLONG));
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return cli_fail("cannot write %s: %s", cli_show(path), strerror(errno));
        /* A new file: its folder must exist (we never create it here). */
        strcpy(parent, path);
        slash = strrchr(parent, '/');
        if (slash == parent)
            slash[1] = '\0';
        else if (slash != NULL)
            *slash = '\0';
        else
            strcpy(parent, ".");
        if (stat(parent, &st) != 0)
            return cli_fail("cannot write %s: %s", cli_show(path), strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return cli_fail("cannot write %s: %s", cli_show(path), strerror(ENOTDIR));
        *how = TARGET_REPLACE;
        return 0;
    }
    if (S_ISLNK(st.st_mode)) {
        struct stat to;
        /* /dev/stdout and friends: a link to a pipe, terminal or device is
         * written through, which replaces nothing. */
        if (stat(path, &to) == 0 && (S_ISCHR(to.st_mode) || S_ISFIFO(to.st_mode))) {
            *how = TARGET_IN_PLACE;
            return 0;
        }
        return cli_fail("%s is a symbolic link: refusing to write through it (give the "
                        "file's real path, or -o - for standard output)", cli_show(path));
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        *how = TARGET_IN_PLACE;
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return cli_fail("cannot write %s: %s", cli_show(path), strerror(EISDIR));
    if (!S_ISREG(st.st_mode))
        return cli_fail("%s is not a regular file, a character device or a FIFO: refusing "
                        "to write it", cli_show(path));
    if (is_ca_file(&st))
        return cli_fail("%s is the root CA's own file: refusing to overwrite it",
                        cli_show(path));
    if (!(flags & CLI_OUT_FORCE))
        return cli_fail("%s already exists: use --force to overwrite it", cli_show(path));
    *how = TARGET_REPLACE;
    return 0;
}

int cli_out_check(const char *path, unsigned flags)
{
    int how;

    return classify(path, flags, &how);
}

int cli_out_write(const char *path, const void *data, size_t len, unsigned flags)
{
    const tkr_port_t *p = cli_port();
    int how, rc, fd, ok, e;
    FILE *f;

    if ((rc = cli_interrupted()) != 0)
        return rc;
    if ((rc = classify(path, flags, &how)) != 0)
        return rc;
    switch (how) {
    case TARGET_STDOUT:
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return cli_fail("cannot write standard output: %s", strerror(errno));
        return 0;
    case TARGET_IN_PLACE:
        /* No O_CREAT, no O_TRUNC: the device or pipe itself is written. */
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
            e = errno;
            if (fd >= 0)
                close(fd);
            return cli_fail("cannot write %s: %s", cli_show(path), strerror(e));
        }
        ok = fwrite(data, 1, len, f) == len && fflush(f) == 0;
        e = errno;
        if (fclose(f) != 0 && ok) {
            ok = 0;
            e = errno;
        }
        return ok ? 0 : cli_fail("cannot write %s: %s", cli_show(path), strerror(e));
    default:
        errno = 0;
        rc = p->store_write(p->ctx, path, data, len,
                            (flags & CLI_OUT_SECRET) ? TKR_STORE_SECRET : 0);
        if (rc != 0)
            return cli_fail("cannot write %s: %s", cli_show(path),
                            errno ? strerror(errno) : "I/O error");
        return 0;
    }
}

int cli_finish_stdout(void)
{
    int bad;

    errno = 0;
    bad = fflush(stdout) != 0 || ferror(stdout);
    if (fclose(stdout) != 0)
        bad = 1;
    if (!bad)
        return 0;
    fprintf(stderr, "Error: cannot write standard output: %s\n",
            errno ? strerror(errno) : "write error");
    return CLI_EXIT_FAIL;
}

void cli_guard_std_fds(void)
{
    int fd;

    /* A closed 0/1/2 would be handed to the next open(): the token meant
     * for standard output would land in a file. Hold them with /dev/null
     * opened read-only, so that writing there fails with EBADF, as it
     * would have on the closed descriptor, and is reported. */
    for (fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", O_RDONLY);
            if (n >= 0 && n != fd) {
                dup2(n, fd);
                close(n);
            }
        }
}

/* ---- interruption and temporary folders ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

void cli_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int cli_interrupted(void)
{
    if (got_signal == 0)
        return 0;
    fprintf(stderr, "Error: interrupted by signal %d; nothing was kept\n", (int)got_signal);
    return 128 + (int)got_signal;
}

/* Leftovers of a run that died in dir: folders named
 * <prefix>[NN].tmp.<PID> whose PID is no longer alive (cli_make_tmpdir's
 * names). Folders of live runs are left alone. */
int cli_check_leftovers(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = strlen(prefix);
    char found[4096];
    int rc = 0;

    if (d == NULL)
        return 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *rest = e->d_name + n, *tmp, *pid, *q;
        char *end;
        long v;
        if (strncmp(e->d_name, prefix, n) != 0 || (tmp = strstr(rest, ".tmp.")) == NULL)
            continue;
        for (q = rest; q < tmp && *q >= '0' && *q <= '9'; q++)
            ;
        pid = tmp + 5;
        if (q != tmp || *pid < '1' || *pid > '9')
            continue;
        errno = 0;
        v = strtol(pid, &end, 10);
        if (errno != 0 || *end != '\0' || (long)(pid_t)v != v)
            continue;
        if (kill((pid_t)v, 0) == 0 || errno != ESRCH)
            continue;
        if (cli_join(found, sizeof(found), dir, e->d_name) != 0)
            continue;
        rc = cli_fail("%s was left by an interrupted run (process %ld is gone) and may hold "
                      "private keys: remove it first (rm -rf '%s')",
                      cli_show(found), v, cli_show(found));
    }
    closedir(d);
    return rc;
}

int cli_commit_tmpdir(const char *tmp, const char *final, int rc)
{
    if (rc == 0)
        rc = cli_interrupted();
    if (rc == 0 && chmod(tmp, 0755) != 0)
        rc = cli_fail("cannot chmod %s: %s", cli_show(tmp), strerror(errno));
    if (rc == 0 && rename(tmp, final) != 0)
        rc = cli_fail("cannot rename %s to %s: %s", cli_show(tmp), cli_show(final),
                      strerror(errno));
    if (rc != 0)
        cli_rmtree(tmp);
    return rc;
}

int cli_make_tmpdir(char *out, size_t size, const char *dir, const char *name)
{
    char base[512];
    int n = snprintf(base, sizeof(base), ".%s.tmp.%ld", name, (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(base) || cli_join(out, size, dir, base) != 0)
        return cli_fail("cannot create a temporary folder in %s: %s", cli_show(dir),
                        strerror(ENAMETOOLONG));
    /* mkdir, not mkdir -p: the folder must be new, or it is not ours to
     * fill and to remove on failure. */
    if (mkdir(out, 0700) != 0)
        return cli_fail("cannot create %s: %s", cli_show(out), strerror(errno));
    return 0;
}
