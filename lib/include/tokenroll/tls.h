/* tokenroll/tls.h — a TLS client as a transport over another transport.
 *
 * The server is always verified: its chain must lead to the caller's root
 * (the startup kit's rootCA.pem, never a system store) and its certificate
 * must name the host the transport connects to (SAN, else CN). TLS 1.2,
 * and 1.3 where the mbedTLS build has it (3.6 with PSA); nothing older.
 * The maximum fragment length (RFC 6066 §4) can be asked for, so a small
 * device can shrink its record buffers to match. mbedTLS cannot put a
 * handshake message split over several records back together, so the
 * fragment must hold the server's Certificate message: 2048 or 4096 bytes
 * for an RSA-2048 chain (512 works only with a small EC certificate).
 * mbedTLS negotiates it in TLS 1.2 only, so asking for it keeps the
 * connection at 1.2.
 *
 * The context lives with the caller (it is about 2 KB); mbedTLS allocates
 * the record buffers and the parsed root from its own heap. */
#ifndef TOKENROLL_TLS_H
#define TOKENROLL_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "port.h"
#include "transport.h"

typedef struct {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    const tkr_transport_t *lower;
    const tkr_port_t *port;
    uint64_t deadline_ms;  /* of the call in progress (port->mono_ms) */
    int lower_rc;          /* why the lower transport failed, for mapping */
    int connected;
    int mbedtls_rc;        /* last mbedTLS failure, for the log and messages */
    uint32_t verify_flags; /* MBEDTLS_X509_BADCERT_* when the peer failed */
} tkr_tls_t;

void tkr_tls_init(tkr_tls_t *tls);

/* Prepare a client over lower (unconnected), trusting ca_pem (PEM, one or
 * more certificates, NUL-terminated) alone. max_frag_len: 0 for the
 * default, else 512, 1024, 2048 or 4096, and at most the smaller of the
 * build's record buffers, e.g. 2048 with the device configuration
 * (TKR_E_INVALID_ARG otherwise;
 * TKR_E_UNSUPPORTED when the build lacks the extension). TKR_E_CERT when
 * ca_pem holds no certificate, TKR_E_CRYPTO otherwise. */
int tkr_tls_setup(tkr_tls_t *tls, const tkr_transport_t *lower,
                  const char *ca_pem, uint16_t max_frag_len,
                  const tkr_port_t *port);

/* Fill t with the TLS hooks over tls: t->connect opens the lower
 * transport to host:port and completes the handshake for that host name
 * within the timeout; send/recv carry application data; close sends
 * close_notify and closes the lower transport. Errors: those of the
 * lower transport, TKR_E_TLS for a failed handshake or record (the detail
 * in tls->mbedtls_rc and tls->verify_flags). */
void tkr_tls_transport(tkr_transport_t *t, tkr_tls_t *tls);

/* A fixed English phrase for why the last handshake failed ("certificate
 * not trusted", "host name mismatch", ...). */
const char *tkr_tls_problem(const tkr_tls_t *tls);

/* Release everything, the lower connection included. */
void tkr_tls_free(tkr_tls_t *tls);

#endif
