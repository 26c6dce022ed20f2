/* loadgen.c — enrollment load on `tokenroll serve` through libcurl's multi
 * interface (an independent HTTPS client).
 *
 * Every device has its own pre-minted token and its own P-256 key and CSR
 * (made here before the clock starts); every request opens a fresh TLS
 * connection with no session reuse, as devices at boot do. Prints one line:
 *
 *   <label>: N requests, OK ok, E errors, R/s, p50 X ms, p99 Y ms, max Z ms,
 *            client CPU C ms/request, cores idle I%
 *
 * The client's own CPU is printed because it shares the cores with the
 * server: with one thread it is what bounds the floor's rate.
 *
 * usage: loadgen LABEL URL CACERT RESOLVE TOKENS.csv [N] [PARALLEL]
 *   RESOLVE is curl's host:port:address; TOKENS.csv is `token batch` output
 *   (name,token with a header). Exit 1 when the run could not be made;
 *   errors (non-200 answers, transport failures) are counted, not fatal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include "tkr_port_posix.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/json.h"

typedef struct {
    char *body;
    double start, ms;
    long status;
} dev_t_;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The enrollment body of one device: its token, a fresh P-256 CSR. */
static char *device_body(const char *name, const char *token, const tkr_port_t *port)
{
    static char csr[2048];
    mbedtls_pk_context key;
    mbedtls_x509write_csr w;
    tkr_jsonw_t jw;
    size_t cap = strlen(token) + 4096, len;
    char *out = malloc(cap);

    mbedtls_pk_init(&key);
    mbedtls_x509write_csr_init(&w);
    if (out == NULL || tkr_key_generate(&key, TKR_KEY_EC_P256, port, NULL) != 0)
        goto fail;
    mbedtls_x509write_csr_set_key(&w, &key);
    mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
    if (mbedtls_x509write_csr_set_subject_name(&w, "CN=device") != 0 ||
        mbedtls_x509write_csr_pem(&w, (unsigned char *)csr, sizeof(csr), tkr_port_rng,
                                  (void *)port) != 0)
        goto fail;
    tkr_jsonw_init(&jw, out, cap, 0);
    tkr_jsonw_obj_begin(&jw);
    tkr_jsonw_key(&jw, "token");
    tkr_jsonw_str(&jw, token);
    tkr_jsonw_key(&jw, "csr");
    tkr_jsonw_str(&jw, csr);
    tkr_jsonw_key(&jw, "metadata");
    tkr_jsonw_obj_begin(&jw);
    tkr_jsonw_key(&jw, "name");
    tkr_jsonw_str(&jw, name);
    tkr_jsonw_key(&jw, "type");
    tkr_jsonw_str(&jw, "client");
    tkr_jsonw_key(&jw, "org");
    tkr_jsonw_null(&jw);
    tkr_jsonw_key(&jw, "role");
    tkr_jsonw_null(&jw);
    tkr_jsonw_obj_end(&jw);
    tkr_jsonw_obj_end(&jw);
    if (tkr_jsonw_finish(&jw, &len) != 0)
        goto fail;
    mbedtls_x509write_csr_free(&w);
    mbedtls_pk_free(&key);
    return out;
fail:
    mbedtls_x509write_csr_free(&w);
    mbedtls_pk_free(&key);
    free(out);
    return NULL;
}

static CURL *easy(const char *url, const char *cacert, struct curl_slist *resolve,
                  struct curl_slist *hdrs, dev_t_ *d)
{
    CURL *e = curl_easy_init();

    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
    /* A device at boot: new connection, new TLS handshake, no resumption. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, d);
    d->start = now_ms();
    return e;
}

/* The machine's idle and total jiffies so far (/proc/stat's first line;
 * iowait counts as idle): how much of the cores a run left unused. */
static void cpu_jiffies(double *idle, double *total)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int i;

    *idle = *total = 0;
    if (f == NULL)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) == 8) {
        for (i = 0; i < 8; i++)
            *total += (double)v[i];
        *idle = (double)(v[3] + v[4]);
    }
    fclose(f);
}

/* This process's CPU time (user and system), in ms. */
static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv)
{
    static tkr_posix_t posix = {TKR_LOG_ERROR, -1};
    tkr_port_t port;
    const char *label, *url, *cacert, *res, *tokens;
    struct curl_slist *resolve = NULL, *hdrs = NULL;
    dev_t_ *dev;
    double *lat, t0, t1, c0, c1, i0, i1, j0, j1;
    long n = 1000, par = 64, i, next = 0, done = 0, ok = 0, nlat = 0;
    char line[8192];
    FILE *f;
    CURLM *m;

    if (argc < 6) {
        fprintf(stderr, "usage: loadgen LABEL URL CACERT RESOLVE TOKENS.csv [N] [PARALLEL]\n");
        return 1;
    }
    label = argv[1];
    url = argv[2];
    cacert = argv[3];
    res = argv[4];
    tokens = argv[5];
    if (argc > 6)
        n = atol(argv[6]);
    if (argc > 7)
        par = atol(argv[7]);
    tkr_port_posix_init(&port, &posix);
    dev = calloc((size_t)n, sizeof(*dev));
    lat = calloc((size_t)n, sizeof(*lat));
    if (dev == NULL || lat == NULL || (f = fopen(tokens, "r")) == NULL) {
        fprintf(stderr, "loadgen: cannot read %s\n", tokens);
        return 1;
    }
    /* name,token per line after the header */
    for (i = 0; i < n && fgets(line, sizeof(line), f) != NULL;) {
        char *comma = strchr(line, ',');
        if (comma == NULL || strncmp(line, "name,", 5) == 0)
            continue;
        *comma = '\0';
        comma[1 + strcspn(comma + 1, "\r\n")] = '\0';
        if ((dev[i].body = device_body(line, comma + 1, &port)) == NULL) {
            fprintf(stderr, "loadgen: cannot make device %ld\n", i);
            return 1;
        }
        i++;
    }
    fclose(f);
    if (i < n) {
        fprintf(stderr, "loadgen: %s holds %ld tokens, %ld wanted\n", tokens, i, n);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    resolve = curl_slist_append(NULL, res);
    hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    m = curl_multi_init();
    t0 = now_ms();
    c0 = cpu_ms();
    cpu_jiffies(&i0, &j0);
    while (done < n) {
        CURLMsg *msg;
        int running, left;
        while (next < n && next - done < par) {
            CURL *e = easy(url, cacert, resolve, hdrs, &dev[next]);
            if (e == NULL || curl_multi_add_handle(m, e) != CURLM_OK) {
                fprintf(stderr, "loadgen: libcurl setup failed\n");
                return 1;
            }
            next++;
        }
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            dev_t_ *d;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
            d->ms = now_ms() - d->start;
            d->status = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &d->status);
            if (d->status == 200)
                ok++;
            lat[nlat++] = d->ms;
            curl_multi_remove_handle(m, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
            done++;
        }
        /* Wait only with every slot busy: a slot left empty while
         * curl_multi_poll sleeps is load the server never sees. */
        if (done < n && !(next < n && next - done < par))
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    t1 = now_ms();
    c1 = cpu_ms();
    cpu_jiffies(&i1, &j1);
    qsort(lat, (size_t)nlat, sizeof(*lat), cmp);
    printf("%s: %ld requests, %ld ok, %ld errors, %.0f/s, p50 %.0f ms, p99 %.0f ms, max %.0f ms, "
           "client CPU %.2f ms/request, cores idle %.0f%%\n",
           label, n, ok, n - ok, (double)n * 1e3 / (t1 - t0), lat[nlat / 2],
           lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1], lat[nlat - 1],
           (c1 - c0) / (double)n, j1 > j0 ? 100.0 * (i1 - i0) / (j1 - j0) : 0.0);
    curl_multi_cleanup(m);
    curl_slist_free_all(resolve);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    for (i = 0; i < n; i++)
        free(dev[i].body);
    free(dev);
    free(lat);
    return 0;
}
