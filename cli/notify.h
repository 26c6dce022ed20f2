/* notify.h — the service's notification sender: delivers the webhook
 * notices the service queues in its store (tokenroll/store.h notice_*)
 * from one background thread, over the library's HTTP client, so an
 * enrollment's answer never waits for a webhook. A notice stays in the
 * store until a 2xx answer; failures are retried with exponential backoff
 * (5 s doubling to an hour), and a notice taken by one sender is leased
 * for a minute so that other nodes sharing the database leave it alone. */
#ifndef TKR_CLI_NOTIFY_H
#define TKR_CLI_NOTIFY_H

#include <pthread.h>

#include "tokenroll/store.h"

typedef struct {
    tkr_store_t *store;
    char *ca_pem;          /* roots for https:// webhooks */
    int allow_http;        /* http:// webhooks (tests on loopback) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, running;
} cli_notifier_t;

/* Start the sender over store. ca_file: PEM roots for https:// webhooks
 * (NULL: the system's bundle, /etc/ssl/certs/ca-certificates.crt).
 * Prints the error and returns CLI_EXIT_FAIL when the roots cannot be
 * read. */
int cli_notifier_start(cli_notifier_t *n, tkr_store_t *store, const char *ca_file,
                       int allow_http);

/* Ask the sender to check the queue now (after a notice was queued). */
void cli_notifier_poke(cli_notifier_t *n);

/* Stop the thread (a delivery in progress finishes first); what is left
 * stays queued for the next start. */
void cli_notifier_stop(cli_notifier_t *n);

#endif
