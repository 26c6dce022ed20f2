/* certwrite.c — X.509 v3 certificate profile (host side; the device's key
 * pair and request are csr.c). */
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "compat.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/cidr.h"
#include "tokenroll/error.h"
#include "x509_int.h"

/* days since 1970-01-01 to y/m/d (H. Hinnant's civil_from_days) */
void tkr_time_x509(char out[15], int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400, z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int64_t v[6] = {y, m, d, secs / 3600, (secs / 60) % 60, secs % 60};
    int w[6] = {4, 2, 2, 2, 2, 2}, i, k, o = 0;

    for (i = 0; i < 6; i++)
        for (k = w[i] - 1; k >= 0; k--) {
            int64_t p = 1;
            int j;
            for (j = 0; j < k; j++)
                p *= 10;
            out[o++] = (char)('0' + (v[i] / p) % 10);
        }
    out[o] = '\0';
}

int64_t tkr_x509_epoch(const mbedtls_x509_time *t)
{
    int64_t y = t->year, m = t->mon, d = t->day;
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + t->hour * 3600 +
           t->min * 60 + t->sec;
}

/* The names go straight into mbedTLS's lists, as the request writer does:
 * no DN text, so no escaping rules that differ between mbedTLS versions
 * ("#", "+", "=" or "\\" in a name). */
static int add_names(mbedtls_asn1_named_data **names, const tkr_cert_spec_t *s,
                     tkr_diag_t *d)
{
    int rc;

    if ((rc = tkr_x509_add_name(names, MBEDTLS_OID_AT_CN,
                                MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), s->cn,
                                "subject", d)) != 0)
        return rc;
    if (s->org != NULL &&
        (rc = tkr_x509_add_name(names, MBEDTLS_OID_AT_ORGANIZATION,
                                MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION),
                                s->org, "subject", d)) != 0)
        return rc;
    if (s->role != NULL && (rc = tkr_x509_add_role(names, s->role)) != 0)
        return tkr_diag(d, rc, "subject", "mbedTLS could not store the role");
    return 0;
}

/* The issuer name is the CA's subject as it is encoded (string types
 * kept), so chain building compares like with like. src is in DER order,
 * and each store goes to the head of dst, which mbedTLS writes last. */
static int copy_names(mbedtls_asn1_named_data **dst,
                      const mbedtls_asn1_named_data *src)
{
    mbedtls_asn1_named_data *nd;

    for (; src != NULL; src = src->next) {
        nd = mbedtls_asn1_store_named_data(dst, (const char *)src->oid.p,
                                           src->oid.len, src->val.p,
                                           src->val.len);
        if (nd == NULL)
            return TKR_E_NO_MEMORY;
        nd->val.tag = src->val.tag;
    }
    return 0;
}

/* Prefix the len bytes at *p with a tag and length: TLV, backwards as
 * mbedTLS writes DER. Returns the new length or -1. */
static int tlv(unsigned char **p, unsigned char *start, int len, unsigned char tag)
{
    int w1, w2;

    if (len < 0 || (w1 = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0 ||
        (w2 = mbedtls_asn1_write_tag(p, start, tag)) < 0)
        return -1;
    return len + w1 + w2;
}

/* Wrap the content at *p as SEQUENCE and add it as a non-critical
 * extension. */
static int add_seq_ext(mbedtls_x509write_cert *crt, const char *oid,
                       size_t oid_len, unsigned char *p, unsigned char *start,
                       int len)
{
    len = tlv(&p, start, len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (len < 0 || mbedtls_x509write_crt_set_extension(crt, oid, oid_len, 0, p,
                                                       (size_t)len) != 0)
        return TKR_E_CRYPTO;
    return 0;
}

/* subjectAltName with one GeneralName chosen by the value's form:
 * iPAddress [7], rfc822Name [1] for an e-mail, else dNSName [2]. */
static int set_san(mbedtls_x509write_cert *crt, const char *san)
{
    unsigned char buf[300], *p = buf + sizeof(buf);
    uint8_t ip[16];
    size_t n, vlen;
    unsigned char tag;
    int len;

    /* An address as written: ::ffff:10.0.0.1 stays a 16-byte iPAddress. */
    if (tkr_ip_parse(ip, &n, san, strlen(san)) != 0)
        n = 0;
    vlen = n ? n : strlen(san);
    tag = n ? 0x87 : strchr(san, '@') ? 0x81 : 0x82;

    if (vlen > 200)
        return TKR_E_INVALID_ARG;
    p -= vlen;
    memcpy(p, n ? (const void *)ip : (const void *)san, vlen);
    /* tlv moves p: it must run before p is passed on (argument evaluation
     * order is unspecified). */
    len = tlv(&p, buf, (int)vlen, tag);
    return add_seq_ext(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                       MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), p, buf, len);
}

static int set_eku(mbedtls_x509write_cert *crt, unsigned usage)
{
    unsigned char buf[64], *p = buf + sizeof(buf);
    int len = 0, w = 0;

    if (usage & TKR_CERT_CLIENT)
        len += (w = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_CLIENT_AUTH,
                                           MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    if (w >= 0 && (usage & TKR_CERT_SERVER))
        len += (w = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                           MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    if (w < 0)
        return TKR_E_CRYPTO;
    return add_seq_ext(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                       MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), p, buf, len);
}

/* 16 random bytes, top bit clear: a positive 127-bit serial (RFC 5280
 * §4.1.2.2 allows up to 20 octets; CA/B asks for >= 64 random bits). */
static int set_serial(mbedtls_x509write_cert *crt, const tkr_port_t *port,
                      unsigned char s[16])
{
    if (tkr_port_rng((void *)port, s, 16) != 0)
        return TKR_E_ENTROPY;
    s[0] &= 0x7F;
    s[0] |= 0x01; /* never a short or zero serial */
    return tkr_compat_crt_set_serial(crt, s, 16) == 0 ? 0 : TKR_E_CRYPTO;
}

/* The key certified: the subject's, or the signer's own for a root. */
static mbedtls_pk_context *subject_key(const tkr_cert_spec_t *s)
{
    return s->subject_key != NULL ? s->subject_key : &s->signer->pub;
}

static int set_usage(mbedtls_x509write_cert *crt, const tkr_cert_spec_t *s)
{
    unsigned ku;

    if (s->usage & TKR_CERT_CA) {
        if (mbedtls_x509write_crt_set_basic_constraints(crt, 1, -1) != 0)
            return TKR_E_CRYPTO;
        ku = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN |
             MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    } else {
        /* CA:FALSE, marked critical (mbedTLS marks it critical only for a
         * CA): an empty BasicConstraints SEQUENCE, cA defaulting to FALSE
         * (RFC 5280 §4.2.1.9). */
        static const unsigned char not_ca[] = {0x30, 0x00};
        if (mbedtls_x509write_crt_set_extension(
                crt, MBEDTLS_OID_BASIC_CONSTRAINTS,
                MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS), 1, not_ca,
                sizeof(not_ca)) != 0)
            return TKR_E_CRYPTO;
        ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
        /* RSA key exchange needs keyEncipherment; ECDHE does not. */
        if (mbedtls_pk_get_type(subject_key(s)) == MBEDTLS_PK_RSA)
            ku |= MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
    }
    if (mbedtls_x509write_crt_set_key_usage(crt, ku) != 0)
        return TKR_E_CRYPTO;
    if ((s->usage & (TKR_CERT_SERVER | TKR_CERT_CLIENT)) != 0)
        return set_eku(crt, s->usage);
    return 0;
}

static int set_names_and_time(mbedtls_x509write_cert *crt,
                              const tkr_cert_spec_t *s, tkr_diag_t *d,
                              int64_t *not_after_out)
{
    char nb[15], na[15];
    int64_t not_after = s->not_after;
    int rc;

    if ((rc = add_names(&crt->TKR_PRIV(subject), s, d)) != 0)
        return rc;
    if (s->issuer != NULL && not_after > tkr_x509_epoch(&s->issuer->valid_to))
        not_after = tkr_x509_epoch(&s->issuer->valid_to);
    /* Self-signed: the issuer is the subject. */
    if (s->issuer == NULL)
        rc = add_names(&crt->TKR_PRIV(issuer), s, d);
    else if ((rc = copy_names(&crt->TKR_PRIV(issuer), &s->issuer->subject)) != 0)
        tkr_diag(d, rc, "issuer", "mbedTLS could not store the name");
    if (rc != 0)
        return rc;
    if (not_after <= s->not_before)
        return tkr_diag(d, TKR_E_INVALID_ARG, "not_after",
                        "not after not_before (or the issuer's expiry)");
    *not_after_out = not_after;
    tkr_time_x509(nb, s->not_before);
    tkr_time_x509(na, not_after);
    if ((rc = mbedtls_x509write_crt_set_validity(crt, nb, na)) != 0) {
        if (d != NULL)
            d->mbedtls = rc;
        return tkr_diag(d, TKR_E_INVALID_ARG, "not_before",
                        "a time X.509 cannot hold");
    }
    return 0;
}

int tkr_cert_profile(tkr_cert_spec_t *spec, tkr_subject_type_t type,
                     const char *role)
{
    if (spec == NULL)
        return TKR_E_INVALID_ARG;
    switch (type) {
    case TKR_SUBJECT_SERVER: spec->usage = TKR_CERT_SERVER; break;
    case TKR_SUBJECT_RELAY: spec->usage = TKR_CERT_SERVER | TKR_CERT_CLIENT; break;
    case TKR_SUBJECT_CLIENT:
    case TKR_SUBJECT_ADMIN: spec->usage = TKR_CERT_CLIENT; break;
    default: return TKR_E_INVALID_ARG;
    }
    spec->role = type == TKR_SUBJECT_ADMIN ? role : NULL;
    return 0;
}

/* ---- signing through the signer ----
 *
 * One route for every key type and backend: mbedTLS writes the whole
 * certificate with a stand-in issuer key (an RSA_ALT key that "signs" with
 * zero bytes), the TBSCertificate is cut out, its signature algorithm is
 * set to the CA key's, and the signer signs its digest. mbedTLS's RSA_ALT
 * hook alone would serve RSA keys only, and its EC keys cannot be backed by
 * an HSM or libcrypto; this way RSA and EC CAs share every line. */

/* A DER tag and definite length, forwards; the bytes written. */
static size_t put_header(uint8_t *p, uint8_t tag, size_t len)
{
    size_t n = 0;

    p[n++] = tag;
    if (len < 0x80) {
        p[n++] = (uint8_t)len;
    } else if (len < 0x100) {
        p[n++] = 0x81;
        p[n++] = (uint8_t)len;
    } else {
        p[n++] = 0x82;
        p[n++] = (uint8_t)(len >> 8);
        p[n++] = (uint8_t)len;
    }
    return n;
}

#define HDR_MAX 4 /* tag + 0x82 + two length bytes: content under 64 KiB */

static size_t header_len(size_t len)
{
    return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

/* AlgorithmIdentifier of the CA's signature (RFC 5754 §3, RFC 5758 §3.2:
 * NULL parameters for RSA, none for ECDSA). */
static int sig_alg_id(uint8_t out[32], size_t *len, const tkr_signer_t *sg)
{
    mbedtls_pk_type_t pk = sg->alg == TKR_JWT_RS256 ? MBEDTLS_PK_RSA : MBEDTLS_PK_ECDSA;
    const char *oid;
    size_t oid_len, n;

    if (mbedtls_oid_get_oid_by_sig_alg(pk, tkr_signer_md(sg), &oid, &oid_len) != 0 ||
        oid_len > 20)
        return TKR_E_CRYPTO;
    n = put_header(out, 0x30, 2 + oid_len + (pk == MBEDTLS_PK_RSA ? 2 : 0));
    n += put_header(out + n, MBEDTLS_ASN1_OID, oid_len);
    memcpy(out + n, oid, oid_len);
    n += oid_len;
    if (pk == MBEDTLS_PK_RSA) {
        out[n++] = MBEDTLS_ASN1_NULL;
        out[n++] = 0;
    }
    *len = n;
    return 0;
}

/* Where the TBSCertificate's signature AlgorithmIdentifier sits in a DER
 * certificate: the TBS content before it (version, serial) and after it. */
typedef struct {
    const uint8_t *head, *rest;
    size_t head_len, rest_len;
} tbs_parts_t;

static int split_tbs(tbs_parts_t *t, uint8_t *der, size_t len)
{
    unsigned char *p = der, *end = der + len, *tbs_end;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, end, &n, 0x30) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &n, 0x30) != 0)
        return TKR_E_CRYPTO;
    tbs_end = p + n;
    t->head = p;
    if (mbedtls_asn1_get_tag(&p, tbs_end, &n, 0xA0) != 0 || (p += n, 0) ||
        mbedtls_asn1_get_tag(&p, tbs_end, &n, MBEDTLS_ASN1_INTEGER) != 0)
        return TKR_E_CRYPTO;
    p += n;
    t->head_len = (size_t)(p - t->head);
    if (mbedtls_asn1_get_tag(&p, tbs_end, &n, 0x30) != 0)
        return TKR_E_CRYPTO;
    p += n;
    t->rest = p;
    t->rest_len = (size_t)(tbs_end - p);
    return 0;
}

/* out = SEQUENCE { TBS with the real algorithm, algorithm, BIT STRING
 * signature }, from mbedTLS's stand-in certificate in der. The TBS is
 * built in place, HDR_MAX bytes in, so the outer header fits before it
 * once the length is known: no third certificate-sized buffer. */
static int resign(uint8_t *out, size_t out_size, size_t *out_len,
                  uint8_t *der, size_t der_len, tkr_signer_t *sg,
                  const tkr_port_t *port)
{
    uint8_t alg[32], hash[48], sig[TKR_SIGNER_SIG_MAX];
    uint8_t ecdsa[TKR_SIGNER_ECDSA_DER_MAX];
    const uint8_t *sv = sig;
    size_t alg_len, tbs_len, sig_len, body, o, hl;
    mbedtls_md_type_t md = tkr_signer_md(sg);
    const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
    uint8_t *tbs = out + HDR_MAX;
    tbs_parts_t t;
    int rc;

    if ((rc = split_tbs(&t, der, der_len)) != 0 || (rc = sig_alg_id(alg, &alg_len, sg)) != 0)
        return rc;
    body = t.head_len + alg_len + t.rest_len;
    /* TBS, then the algorithm and the largest signature after it */
    if (out_size < 2 * HDR_MAX + body + alg_len + HDR_MAX + 1 + sizeof(sig))
        return TKR_E_BUFFER_TOO_SMALL;
    tbs_len = put_header(tbs, 0x30, body);
    memcpy(tbs + tbs_len, t.head, t.head_len);
    memcpy(tbs + tbs_len + t.head_len, alg, alg_len);
    memcpy(tbs + tbs_len + t.head_len + alg_len, t.rest, t.rest_len);
    tbs_len += body;
    if (mi == NULL || mbedtls_md(mi, tbs, tbs_len, hash) != 0)
        return TKR_E_CRYPTO;
    rc = tkr_signer_sign(sg, sig, sizeof(sig), &sig_len, md, hash,
                         mbedtls_md_get_size(mi), port);
    if (rc == 0 && sg->alg != TKR_JWT_RS256) {
        rc = tkr_signer_ecdsa_to_der(ecdsa, sizeof(ecdsa), &sig_len, sig, sig_len);
        sv = ecdsa;
    }
    if (rc != 0)
        return rc;
    o = HDR_MAX + tbs_len;
    memcpy(out + o, alg, alg_len);
    o += alg_len;
    o += put_header(out + o, MBEDTLS_ASN1_BIT_STRING, sig_len + 1);
    out[o++] = 0; /* no unused bits */
    memcpy(out + o, sv, sig_len);
    o += sig_len;
    body = o - HDR_MAX;
    hl = header_len(body);
    put_header(out + HDR_MAX - hl, 0x30, body);
    memmove(out, out + HDR_MAX - hl, hl + body);
    *out_len = hl + body;
    return 0;
}

int tkr_cert_write_pem(char *out, size_t out_size, size_t *out_len,
                       const tkr_cert_spec_t *s, const tkr_port_t *port,
                       tkr_diag_t *diag)
{
    return tkr_cert_write_pem_info(out, out_size, out_len, s, port, diag, NULL);
}

int tkr_cert_write_pem_info(char *out, size_t out_size, size_t *out_len,
                            const tkr_cert_spec_t *s, const tkr_port_t *port,
                            tkr_diag_t *diag, tkr_cert_written_t *written)
{
    uint8_t der[TKR_CERT_DER_MAX], cert[TKR_CERT_DER_MAX], serial[16];
    int64_t not_after = 0;
    mbedtls_x509write_cert crt;
    mbedtls_pk_context stand_in;
    size_t stand_in_len = 8, len = 0, olen = 0;
    int rc, n;

    if (out == NULL || out_len == NULL || s == NULL || s->cn == NULL ||
        s->signer == NULL || s->signer->ops == NULL)
        return TKR_E_INVALID_ARG;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_pk_init(&stand_in);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, tkr_signer_md(s->signer));
    mbedtls_x509write_crt_set_subject_key(&crt, subject_key(s));
    /* The authority key identifier is taken from the issuer key: the CA's
     * public key here, the stand-in only for writing. */
    mbedtls_x509write_crt_set_issuer_key(&crt, &s->signer->pub);
    if ((rc = set_names_and_time(&crt, s, diag, &not_after)) != 0)
        goto out;
    if ((rc = set_serial(&crt, port, serial)) != 0) {
        tkr_diag(diag, rc, "serial", NULL);
        goto out;
    }
    if ((rc = set_usage(&crt, s)) != 0) {
        tkr_diag(diag, rc, "usage", NULL);
        goto out;
    }
    if (s->san != NULL && (rc = set_san(&crt, s->san)) != 0) {
        tkr_diag(diag, rc, "san", rc == TKR_E_INVALID_ARG ? "over 200 bytes" : NULL);
        goto out;
    }
    if (mbedtls_x509write_crt_set_subject_key_identifier(&crt) != 0 ||
        mbedtls_x509write_crt_set_authority_key_identifier(&crt) != 0) {
        rc = tkr_diag(diag, TKR_E_CRYPTO, "key identifier", NULL);
        goto out;
    }
    if (tkr_compat_pk_setup_placeholder(&stand_in, &stand_in_len) != 0) {
        rc = tkr_diag(diag, TKR_E_CRYPTO, "signature", NULL);
        goto out;
    }
    mbedtls_x509write_crt_set_issuer_key(&crt, &stand_in);
    n = mbedtls_x509write_crt_der(&crt, der, sizeof(der), tkr_port_rng, (void *)port);
    if (n < 0) {
        rc = tkr_x509_pem_result(n, out, out_len, diag);
        goto out;
    }
    rc = resign(cert, sizeof(cert), &len, der + sizeof(der) - n, (size_t)n,
                s->signer, port);
    if (rc != 0) {
        tkr_diag(diag, rc, "signature", NULL);
        goto out;
    }
    rc = tkr_x509_pem_result(
        mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                 "-----END CERTIFICATE-----\n", cert, len,
                                 (unsigned char *)out, out_size, &olen),
        out, out_len, diag);
    if (rc == 0 && written != NULL) {
        memcpy(written->serial, serial, sizeof(serial));
        written->not_after = not_after;
        if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), cert, len,
                       written->sha256) != 0)
            rc = tkr_diag(diag, TKR_E_CRYPTO, "fingerprint", NULL);
    }
out:
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&stand_in);
    return rc;
}
