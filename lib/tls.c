/* tls.c — mbedTLS client as a tkr_transport_t over another transport.
 *
 * mbedTLS reads and writes through two callbacks (the "bio"); here they call
 * the lower transport with what is left of the current call's deadline, so
 * a handshake or a record never waits longer than the caller allowed. A
 * failure below is remembered (lower_rc) and handed back as itself, so the
 * caller tells a dead network (retry) from a bad certificate (stop). */
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include "compat.h"
#include "tokenroll/error.h"
#include "tokenroll/tls.h"

/* Any negative mbedTLS code other than WANT_READ/WRITE: mbedTLS passes it
 * up unchanged and lower_rc says what really happened. */
#define BIO_FAILED MBEDTLS_ERR_SSL_INTERNAL_ERROR

static void begin(tkr_tls_t *tls, uint32_t timeout_ms)
{
    uint64_t now = tls->port != NULL && tls->port->mono_ms != NULL
                       ? tls->port->mono_ms(tls->port->ctx) : 0;
    tls->deadline_ms = now + timeout_ms;
    tls->lower_rc = 0;
}

/* Milliseconds left of the call in progress; 0 when it is over. Without a
 * monotonic clock each lower call gets the whole timeout. */
static uint32_t left(const tkr_tls_t *tls)
{
    uint64_t now;

    if (tls->port == NULL || tls->port->mono_ms == NULL)
        return (uint32_t)tls->deadline_ms;
    now = tls->port->mono_ms(tls->port->ctx);
    return now >= tls->deadline_ms ? 0 : (uint32_t)(tls->deadline_ms - now);
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tkr_tls_t *tls = ctx;
    uint32_t ms = left(tls);
    int n;

    if (ms == 0) {
        tls->lower_rc = TKR_E_TIMEOUT;
        return BIO_FAILED;
    }
    n = tls->lower->send(tls->lower->ctx, buf, len, ms);
    if (n < 0) {
        tls->lower_rc = n;
        return BIO_FAILED;
    }
    return n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tkr_tls_t *tls = ctx;
    uint32_t ms = left(tls);
    int n;

    if (ms == 0) {
        tls->lower_rc = TKR_E_TIMEOUT;
        return BIO_FAILED;
    }
    n = tls->lower->recv(tls->lower->ctx, buf, len, ms);
    if (n < 0) {
        tls->lower_rc = n;
        return BIO_FAILED;
    }
    return n; /* 0: the peer closed, which mbedTLS reports as CONN_EOF */
}

/* The caller sees the lower transport's own code when it failed, else
 * TKR_E_TLS with the mbedTLS code kept for messages. */
static int map(tkr_tls_t *tls, int rc)
{
    if (tls->lower_rc != 0)
        return tls->lower_rc;
    tls->mbedtls_rc = rc;
    return TKR_E_TLS;
}

void tkr_tls_init(tkr_tls_t *tls)
{
    memset(tls, 0, sizeof(*tls));
    mbedtls_ssl_init(&tls->ssl);
    mbedtls_ssl_config_init(&tls->conf);
    mbedtls_x509_crt_init(&tls->ca);
}

static int mfl_code(uint16_t len, unsigned char *code)
{
    switch (len) {
    case 512:  *code = MBEDTLS_SSL_MAX_FRAG_LEN_512;  return 0;
    case 1024: *code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; return 0;
    case 2048: *code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; return 0;
    case 4096: *code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; return 0;
    default:   return TKR_E_INVALID_ARG;
    }
}

int tkr_tls_setup(tkr_tls_t *tls, const tkr_transport_t *lower,
                  const char *ca_pem, uint16_t max_frag_len,
                  const tkr_port_t *port)
{
    int rc;

    if (tls == NULL || lower == NULL || lower->send == NULL ||
        lower->recv == NULL || lower->connect == NULL || ca_pem == NULL)
        return TKR_E_INVALID_ARG;
    tls->lower = lower;
    tls->port = port;
    if (tkr_compat_psa_init() != 0)
        return TKR_E_CRYPTO;
    /* +1: mbedTLS wants the NUL counted for PEM input. A PEM that holds no
     * usable certificate is an error. A bundle in which some certificates
     * do not parse (rc > 0 counts them; a system's roots often have a few
     * mbedTLS refuses) trusts the ones that did: an unparsed root trusts
     * nothing. */
    rc = mbedtls_x509_crt_parse(&tls->ca, (const unsigned char *)ca_pem,
                                strlen(ca_pem) + 1);
    if (rc < 0 || tls->ca.raw.len == 0) {
        tls->mbedtls_rc = rc;
        return TKR_E_CERT;
    }
    rc = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT,
                                     MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        goto crypto;
    tkr_compat_ssl_min_tls12(&tls->conf);
    mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
    mbedtls_ssl_conf_rng(&tls->conf, tkr_port_rng, (void *)port);
    if (max_frag_len != 0) {
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
        unsigned char code = 0;
        if (mfl_code(max_frag_len, &code) != 0)
            return TKR_E_INVALID_ARG;
        /* mbedTLS refuses a length above the smaller of its record
         * buffers (MBEDTLS_SSL_IN/OUT_CONTENT_LEN): the caller's error. */
        if (mbedtls_ssl_conf_max_frag_len(&tls->conf, code) != 0)
            return TKR_E_INVALID_ARG;
        tkr_compat_ssl_max_tls12(&tls->conf);
#else
        (void)mfl_code;
        return TKR_E_UNSUPPORTED;
#endif
    }
    if ((rc = mbedtls_ssl_setup(&tls->ssl, &tls->conf)) != 0)
        goto crypto;
    mbedtls_ssl_set_bio(&tls->ssl, tls, bio_send, bio_recv, NULL);
    return 0;
crypto:
    tls->mbedtls_rc = rc;
    return TKR_E_CRYPTO;
}

static int tls_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    tkr_tls_t *tls = ctx;
    int rc;

    if (tls == NULL || host == NULL || tls->lower == NULL || tls->connected)
        return TKR_E_INVALID_ARG;
    begin(tls, timeout_ms);
    tls->mbedtls_rc = 0;
    tls->verify_flags = 0;
    if ((rc = mbedtls_ssl_session_reset(&tls->ssl)) != 0) {
        tls->mbedtls_rc = rc;
        return TKR_E_CRYPTO;
    }
    /* The name checked against the certificate (and sent as SNI). */
    if ((rc = mbedtls_ssl_set_hostname(&tls->ssl, host)) != 0) {
        tls->mbedtls_rc = rc;
        return TKR_E_INVALID_ARG;
    }
    rc = tls->lower->connect(tls->lower->ctx, host, port, timeout_ms);
    if (rc != 0)
        return rc;
    do
        rc = mbedtls_ssl_handshake(&tls->ssl);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (rc != 0) {
        tls->verify_flags = mbedtls_ssl_get_verify_result(&tls->ssl);
        if (tls->verify_flags == (uint32_t)-1)
            tls->verify_flags = 0;
        rc = map(tls, rc);
        if (tls->lower->close != NULL)
            tls->lower->close(tls->lower->ctx);
        return rc;
    }
    tls->connected = 1;
    return 0;
}

static int tls_send(void *ctx, const uint8_t *buf, size_t len,
                    uint32_t timeout_ms)
{
    tkr_tls_t *tls = ctx;
    int rc;

    if (tls == NULL || !tls->connected || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    begin(tls, timeout_ms);
    do
        rc = mbedtls_ssl_write(&tls->ssl, buf, len);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    return rc < 0 ? map(tls, rc) : rc;
}

static int tls_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    tkr_tls_t *tls = ctx;
    int rc;

    if (tls == NULL || !tls->connected || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    begin(tls, timeout_ms);
    do
        rc = mbedtls_ssl_read(&tls->ssl, buf, len);
    while (tkr_compat_ssl_read_again(rc));
    /* An orderly end, with or without close_notify: many servers skip it,
     * and the HTTP layer's framing tells a cut body from a whole one. */
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        (rc == MBEDTLS_ERR_SSL_CONN_EOF && tls->lower_rc == 0))
        return 0;
    return rc < 0 ? map(tls, rc) : rc;
}

static void tls_close(void *ctx)
{
    tkr_tls_t *tls = ctx;

    if (tls == NULL || tls->lower == NULL)
        return;
    if (tls->connected) {
        /* Best effort, bounded: the answer is already in. */
        begin(tls, 1000);
        (void)mbedtls_ssl_close_notify(&tls->ssl);
        tls->connected = 0;
    }
    if (tls->lower->close != NULL)
        tls->lower->close(tls->lower->ctx);
}

void tkr_tls_transport(tkr_transport_t *t, tkr_tls_t *tls)
{
    memset(t, 0, sizeof(*t));
    t->ctx = tls;
    t->send = tls_send;
    t->recv = tls_recv;
    t->connect = tls_connect;
    t->close = tls_close;
}

const char *tkr_tls_problem(const tkr_tls_t *tls)
{
#if TKR_DIAG_TEXT
    uint32_t f;

    if (tls == NULL)
        return "TLS failed";
    f = tls->verify_flags;
    if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        return "the server's certificate does not name the host";
    if (f & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING))
        return "the server's certificate is not signed by the given root CA";
    if (f & MBEDTLS_X509_BADCERT_EXPIRED)
        return "the server's certificate has expired";
    if (f & MBEDTLS_X509_BADCERT_FUTURE)
        return "the server's certificate is not valid yet";
    if (f != 0)
        return "the server's certificate is not acceptable";
    switch (tls->mbedtls_rc) {
    case 0:
        return "TLS failed";
    /* The names differ between 2.28 and 3.6; each exists in one. */
#if defined(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE)
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
#endif
#if defined(MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION)
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
#endif
#if defined(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION)
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
#endif
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        return "no TLS version or cipher suite in common with the server";
    case MBEDTLS_ERR_SSL_CONN_EOF:
        return "the server closed the connection during the TLS handshake";
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        return "the server's certificate did not verify";
    case MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE:
        /* mbedTLS does not reassemble a handshake message split over
         * records, which a small maximum fragment forces on a server. */
        return "a handshake message did not fit one record (maximum fragment length too small "
               "for the server's certificate?)";
    default:
        return "TLS handshake failed (not a TLS server?)";
    }
#else
    /* Without text: the certificate or the handshake, as a code. */
    return tkr_strerror(tls != NULL && tls->verify_flags != 0 ? TKR_E_CERT : TKR_E_TLS);
#endif
}

void tkr_tls_free(tkr_tls_t *tls)
{
    if (tls == NULL)
        return;
    tls_close(tls);
    mbedtls_ssl_free(&tls->ssl);
    mbedtls_ssl_config_free(&tls->conf);
    mbedtls_x509_crt_free(&tls->ca);
    tkr_tls_init(tls);
}
