/* notify.c — the webhook sender of `tokenroll serve` (notify.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "notify.h"
#include "remote.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"
#include "tokenroll/tls.h"

#define SYSTEM_ROOTS "/etc/ssl/certs/ca-certificates.crt"
#define LEASE_S 60
#define BACKOFF_MIN_S 5
#define BACKOFF_MAX_S 3600

/* Seconds before attempt number `attempts` + 1. */
static int64_t backoff(int64_t attempts)
{
    int64_t d = BACKOFF_MIN_S;

    while (attempts-- > 0 && d < BACKOFF_MAX_S)
        d *= 2;
    return d > BACKOFF_MAX_S ? BACKOFF_MAX_S : d;
}

/* POST the notice; 0 when the receiver answered 2xx. why gets the reason
 * otherwise. */
static int deliver(cli_notifier_t *n, const tkr_store_notice_t *nt, char *why, size_t size)
{
    static uint8_t buf[16384];
    static char target[TKR_HTTP_PATH_MAX];
    cli_client_t c;
    tkr_http_req_t req;
    tkr_http_response_t resp;
    tkr_http_url_t url;
    int rc = tkr_http_url_parse_target(&url, nt->url);

    if (rc != 0) {
        snprintf(why, size, rc == TKR_E_TOO_LARGE ? "URL too long (host or path and query)"
                                                  : "not an http(s) URL");
        return -1;
    }
    if (!url.tls && !n->allow_http) {
        snprintf(why, size, "http:// webhooks need --webhook-insecure-http");
        return -1;
    }
    cli_client_init(&c, cli_port(), n->ca_pem, n->allow_http, 10000);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = &url;
    /* The URL's path and query are the whole target: no prefix. */
    memcpy(target, url.path, sizeof(target));
    url.path[0] = '\0';
    req.path = target;
    req.body = (const uint8_t *)nt->body;
    req.body_len = strlen(nt->body);
    rc = tkr_http_request(&c.h, buf, sizeof(buf), &resp, &req);
    if (rc == TKR_E_TLS)
        snprintf(why, size, "TLS: %s", tkr_tls_problem(&c.tls));
    else if (rc != 0)
        snprintf(why, size, "%s", tkr_strerror(rc));
    else if (resp.status < 200 || resp.status > 299)
        snprintf(why, size, "HTTP %d", resp.status);
    cli_client_free(&c);
    return rc == 0 && resp.status >= 200 && resp.status <= 299 ? 0 : -1;
}

static void *sender(void *arg)
{
    cli_notifier_t *n = arg;
    tkr_store_notice_t *nt = malloc(sizeof(*nt));
    char why[256];

    if (nt == NULL)
        return NULL;
    for (;;) {
        int64_t now = tkr_port_time(cli_port());
        int rc;

        pthread_mutex_lock(&n->mu);
        if (n->stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        pthread_mutex_unlock(&n->mu);
        rc = n->store->ops->notice_take(n->store->ctx, now, now + LEASE_S, nt);
        if (rc == 0) {
            if (deliver(n, nt, why, sizeof(why)) == 0) {
                n->store->ops->notice_done(n->store->ctx, nt->id);
                fprintf(stderr, "notification %s delivered to %s\n", nt->id, nt->url);
            } else {
                int64_t wait = backoff(nt->attempts);
                n->store->ops->notice_retry(n->store->ctx, nt->id, nt->attempts + 1,
                                            now + wait);
                fprintf(stderr, "notification %s to %s failed (%s); retry in %lld s\n",
                        nt->id, nt->url, why, (long long)wait);
            }
            continue;
        }
        /* Nothing due: sleep a second, or until poked or stopped. */
        {
            struct timespec ts;
            pthread_mutex_lock(&n->mu);
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (!n->stop)
                pthread_cond_timedwait(&n->cv, &n->mu, &ts);
            pthread_mutex_unlock(&n->mu);
        }
    }
    free(nt);
    return NULL;
}

int cli_notifier_start(cli_notifier_t *n, tkr_store_t *store, const char *ca_file,
                       int allow_http)
{
    const char *f = ca_file != NULL ? ca_file : SYSTEM_ROOTS;

    memset(n, 0, sizeof(*n));
    n->store = store;
    n->allow_http = allow_http;
    if (store->ops->notice_take == NULL)
        return 0;
    n->ca_pem = cli_read_file(f, 4u << 20, NULL);
    if (n->ca_pem == NULL)
        return cli_fail("cannot read the webhook CA file %s: %s", f, cli_io_error());
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, sender, n) != 0) {
        free(n->ca_pem);
        n->ca_pem = NULL;
        return cli_fail("cannot start the notification sender: %s", strerror(errno));
    }
    n->running = 1;
    return 0;
}

void cli_notifier_poke(cli_notifier_t *n)
{
    if (!n->running)
        return;
    pthread_mutex_lock(&n->mu);
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void cli_notifier_stop(cli_notifier_t *n)
{
    if (n->running) {
        pthread_mutex_lock(&n->mu);
        n->stop = 1;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
        pthread_mutex_destroy(&n->mu);
        pthread_cond_destroy(&n->cv);
        n->running = 0;
    }
    free(n->ca_pem);
    n->ca_pem = NULL;
}
