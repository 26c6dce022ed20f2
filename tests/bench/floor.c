/* floor.c — the TLS floor: the service's HTTP server (cli/http.c, the same
 * libmicrohttpd/GnuTLS stack, thread pool and limits, and the same
 * handshake signing, through libcrypto on OpenSSL builds) with a handler that
 * only answers 200 {}. No service built on this stack can answer faster on
 * this machine, so the enrollment rate is reported as a ratio to it.
 *
 * usage: floor CERT KEY PORT [THREADS] — runs until SIGTERM; prints
 * "listening" and, at exit, its CPU time (getrusage). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"

static int answer(void *arg, const tkr_service_req_t *req, tkr_service_resp_t *resp)
{
    (void)arg;
    (void)req;
    if ((resp->body = malloc(3)) == NULL)
        return -1;
    memcpy(resp->body, "{}", 3);
    resp->len = 2;
    resp->status = 200;
    resp->content_type = "application/json";
    return 0;
}

int main(int argc, char **argv)
{
    cli_http_cfg_t c;
    cli_http_t *h;
    struct rusage ru;
    char err[256];
    size_t n;
    sigset_t set;
    int sig;

    if (argc < 4) {
        fprintf(stderr, "usage: floor CERT KEY PORT [THREADS]\n");
        return 2;
    }
    memset(&c, 0, sizeof(c));
    c.host = "127.0.0.1";
    c.port = (uint16_t)atoi(argv[3]);
    c.cert_pem = cli_read_file(argv[1], 1 << 16, &n);
    c.key_pem = cli_read_file(argv[2], 1 << 16, &n);
    c.threads = argc > 4 ? (unsigned)atoi(argv[4]) : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    c.timeout_s = 30;
    c.body_max = 64 * 1024;
    c.handle = answer;
    if (c.cert_pem == NULL || c.key_pem == NULL)
        return cli_fail("cannot read the TLS certificate or key");
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (cli_http_start(&h, &c, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    fprintf(stderr, "floor: listening on %u\n", cli_http_port(h));
    sigwait(&set, &sig);
    cli_http_stop(h);
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "cpu: %.3f s\n", (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                                        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return 0;
}
