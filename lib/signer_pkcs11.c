/* signer_pkcs11.c — the CA signer on a PKCS#11 token (host builds).
 *
 * The module is loaded by the caller (port/posix does the dlopen) and
 * handed over as its function table, so nothing here calls the OS. The
 * PKCS#11 types are p11-kit's copy of the OASIS header. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include <p11-kit/pkcs11.h>

#include "jwt_int.h"
#include "tokenroll/error.h"
#include "tokenroll/pkcs11.h"

#define SPKI_MAX 600

typedef struct {
    CK_FUNCTION_LIST *fl;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key;
} p11_signer_t;

const char *tkr_p11_rv_name(unsigned long rv, char buf[24])
{
    static const struct { CK_RV rv; const char *name; } names[] = {
        {CKR_OK, "CKR_OK"},
        {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
        {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
        {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
        {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
        {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
        {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
        {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
        {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
        {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
        {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
        {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
        {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
        {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
        {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
        {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
        {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
        {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
        {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].rv == rv)
            return names[i].name;
    /* "CKR_0x" and up to 16 hex digits */
    {
        static const char hex[] = "0123456789abcdef";
        int shift, o = 6, started = 0;
        memcpy(buf, "CKR_0x", 6);
        for (shift = 60; shift >= 0; shift -= 4) {
            unsigned d = (unsigned)(rv >> shift) & 15u;
            if (d != 0 || started || shift == 0) {
                buf[o++] = hex[d];
                started = 1;
            }
        }
        buf[o] = '\0';
    }
    return buf;
}

/* A blank-padded CK_UTF8CHAR field equals s (RFC 7512 §2.3: compared
 * after the padding is removed). */
static int field_is(const CK_UTF8CHAR *f, size_t size, const char *s)
{
    size_t n = size, k = strlen(s);

    while (n > 0 && f[n - 1] == ' ')
        n--;
    return n == k && memcmp(f, s, n) == 0;
}

static int token_matches(CK_FUNCTION_LIST *fl, CK_SLOT_ID slot,
                         const tkr_p11_uri_t *u)
{
    CK_TOKEN_INFO ti;
    CK_SLOT_INFO si;

    if ((u->has & TKR_P11_SLOT_ID) && u->slot_id != slot)
        return 0;
    if (u->has & (TKR_P11_SLOT_DESC | TKR_P11_SLOT_MANUF)) {
        if (fl->C_GetSlotInfo(slot, &si) != CKR_OK)
            return 0;
        if (((u->has & TKR_P11_SLOT_DESC) &&
             !field_is(si.slotDescription, sizeof(si.slotDescription), u->slot_description)) ||
            ((u->has & TKR_P11_SLOT_MANUF) &&
             !field_is(si.manufacturerID, sizeof(si.manufacturerID), u->slot_manufacturer)))
            return 0;
    }
    /* An empty slot's blank token (SoftHSM keeps one free) holds no key. */
    if (fl->C_GetTokenInfo(slot, &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED))
        return 0;
    return (!(u->has & TKR_P11_TOKEN) || field_is(ti.label, sizeof(ti.label), u->token)) &&
           (!(u->has & TKR_P11_MANUFACTURER) ||
            field_is(ti.manufacturerID, sizeof(ti.manufacturerID), u->manufacturer)) &&
           (!(u->has & TKR_P11_SERIAL) ||
            field_is(ti.serialNumber, sizeof(ti.serialNumber), u->serial)) &&
           (!(u->has & TKR_P11_MODEL) || field_is(ti.model, sizeof(ti.model), u->model));
}

static int library_matches(CK_FUNCTION_LIST *fl, const tkr_p11_uri_t *u)
{
    CK_INFO info;

    if (!(u->has & (TKR_P11_LIB_MANUF | TKR_P11_LIB_DESC | TKR_P11_LIB_VERSION)))
        return 1;
    if (fl->C_GetInfo(&info) != CKR_OK)
        return 0;
    return (!(u->has & TKR_P11_LIB_MANUF) ||
            field_is(info.manufacturerID, sizeof(info.manufacturerID), u->lib_manufacturer)) &&
           (!(u->has & TKR_P11_LIB_DESC) ||
            field_is(info.libraryDescription, sizeof(info.libraryDescription),
                     u->lib_description)) &&
           (!(u->has & TKR_P11_LIB_VERSION) ||
            (info.libraryVersion.major == u->lib_major &&
             (!u->lib_has_minor || info.libraryVersion.minor == u->lib_minor)));
}

void tkr_p11_token_init(tkr_p11_token_t *t)
{
    if (t != NULL)
        memset(t, 0, sizeof(*t));
}

void tkr_p11_token_close(tkr_p11_token_t *t)
{
    if (t == NULL)
        return;
    if (t->fl != NULL && t->finalize)
        ((CK_FUNCTION_LIST *)t->fl)->C_Finalize(NULL);
    mbedtls_platform_zeroize(t, sizeof(*t));
}

static int token_open(tkr_p11_token_t *t, void *module,
                      const tkr_p11_uri_t *uri, const char *pin,
                      size_t pin_len, const char **what)
{
    CK_FUNCTION_LIST *fl = module;
    CK_C_INITIALIZE_ARGS args;
    CK_SLOT_ID slots[64];
    CK_ULONG n = sizeof(slots) / sizeof(slots[0]), i;
    int found = 0;
    CK_RV rv;

    if (t == NULL || fl == NULL || uri == NULL || pin_len > TKR_P11_PIN_MAX)
        return TKR_E_INVALID_ARG;
    memset(t, 0, sizeof(*t));
    memset(&args, 0, sizeof(args));
    /* The signers of a batch call the module from several threads. */
    args.flags = CKF_OS_LOCKING_OK;
    rv = fl->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        t->rv = rv;
        *what = "the PKCS#11 module failed to initialise";
        return TKR_E_CRYPTO;
    }
    t->fl = fl;
    t->finalize = rv == CKR_OK;
    if (!library_matches(fl, uri)) {
        *what = "the module does not match the URI's library attributes";
        tkr_p11_token_close(t);
        return TKR_E_NOT_FOUND;
    }
    rv = fl->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK) {
        *what = "the module cannot list its slots";
        tkr_p11_token_close(t);
        t->rv = rv;
        return TKR_E_CRYPTO;
    }
    for (i = 0; i < n; i++) {
        if (!token_matches(fl, slots[i], uri))
            continue;
        if (found++) {
            *what = "more than one token matches the URI (add token= or serial=)";
            tkr_p11_token_close(t);
            return TKR_E_INVALID_ARG;
        }
        t->slot = slots[i];
    }
    if (!found) {
        *what = "no token matches the URI";
        tkr_p11_token_close(t);
        return TKR_E_NOT_FOUND;
    }
    t->uri = *uri;
    mbedtls_platform_zeroize(t->uri.pin_value, sizeof(t->uri.pin_value));
    if (pin != NULL) {
        memcpy(t->pin, pin, pin_len);
        t->pin_len = pin_len;
        t->has_pin = 1;
    }
    return 0;
}

/* ---- one signer: one session ---- */

static void p11_free(void *p)
{
    p11_signer_t *k = p;

    if (k == NULL)
        return;
    k->fl->C_CloseSession(k->session);
    free(k);
}

/* DigestInfo prefixes (RFC 8017 §9.2, note 1) for the hashes we sign. */
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t di_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};

static int p11_sign(void *p, uint8_t *sig, size_t sig_size, size_t *sig_len,
                    tkr_jwt_alg_t alg, const uint8_t *hash, size_t hlen,
                    const tkr_port_t *port)
{
    p11_signer_t *k = p;
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    uint8_t data[sizeof(di_sha384) + 48];
    CK_ULONG n = sizeof(data), out = sig_size;

    (void)port;
    if (hlen > 48)
        return TKR_E_INVALID_ARG;
    if (alg == TKR_JWT_RS256) {
        /* CKM_RSA_PKCS pads what it is given: give it the DigestInfo. */
        const uint8_t *di = hlen == 48 ? di_sha384 : di_sha256;
        mech.mechanism = CKM_RSA_PKCS;
        memcpy(data, di, sizeof(di_sha256));
        memcpy(data + sizeof(di_sha256), hash, hlen);
        n = sizeof(di_sha256) + hlen;
    } else {
        memcpy(data, hash, hlen);
        n = hlen;
    }
    if (k->fl->C_SignInit(k->session, &mech, k->key) != CKR_OK ||
        k->fl->C_Sign(k->session, data, n, sig, &out) != CKR_OK)
        return TKR_E_CRYPTO;
    /* CKM_ECDSA gives r||s already, each of the curve's size. */
    if (alg != TKR_JWT_RS256 && out != 2 * tkr_jwt_ec_len(alg))
        return TKR_E_CRYPTO;
    *sig_len = out;
    return 0;
}

static const tkr_signer_ops_t p11_ops = {"pkcs11", p11_sign, p11_free};

/* The objects of class cls matching the URI's object label and id (or,
 * when id is given, that id): up to 2 handles, to notice ambiguity. */
static CK_RV find(CK_FUNCTION_LIST *fl, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                  const char *label, const uint8_t *id, size_t id_len,
                  CK_OBJECT_HANDLE h[2], CK_ULONG *n)
{
    CK_ATTRIBUTE tmpl[3];
    CK_ULONG k = 0;
    CK_RV rv;

    tmpl[k].type = CKA_CLASS;
    tmpl[k].pValue = &cls;
    tmpl[k++].ulValueLen = sizeof(cls);
    if (label != NULL) {
        tmpl[k].type = CKA_LABEL;
        tmpl[k].pValue = (void *)label;
        tmpl[k++].ulValueLen = strlen(label);
    }
    if (id != NULL) {
        tmpl[k].type = CKA_ID;
        tmpl[k].pValue = (void *)id;
        tmpl[k++].ulValueLen = id_len;
    }
    *n = 0;
    if ((rv = fl->C_FindObjectsInit(s, tmpl, k)) != CKR_OK)
        return rv;
    rv = fl->C_FindObjects(s, h, 2, n);
    fl->C_FindObjectsFinal(s);
    return rv;
}

/* Prefix the len bytes at *p with a tag and length (DER, backwards). */
static int tlv(unsigned char **p, unsigned char *start, size_t len, unsigned char tag)
{
    int a = mbedtls_asn1_write_len(p, start, len), b;

    if (a < 0 || (b = mbedtls_asn1_write_tag(p, start, tag)) < 0)
        return -1;
    return (int)len + a + b;
}

/* SubjectPublicKeyInfo of an EC key (RFC 5480 §2): its CKA_EC_PARAMS (the
 * named-curve OID, DER) and CKA_EC_POINT (the point, DER OCTET STRING by
 * the standard, raw by some modules). */
static int ec_spki(uint8_t buf[SPKI_MAX], const uint8_t **der, size_t *len,
                   const uint8_t *params, size_t params_len,
                   const uint8_t *point, size_t point_len)
{
    static const uint8_t ec_oid[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    unsigned char *p = buf + SPKI_MAX;
    int alg_len, key_len, total;

    if (point_len > 2 && point[0] == 0x04 && point[1] == point_len - 2 && point[2] == 0x04) {
        point += 2;
        point_len -= 2;
    }
    if (point_len + params_len + 32 > SPKI_MAX)
        return TKR_E_KEY;
    p -= point_len;
    memcpy(p, point, point_len);
    *--p = 0; /* no unused bits */
    if ((key_len = tlv(&p, buf, point_len + 1, MBEDTLS_ASN1_BIT_STRING)) < 0)
        return TKR_E_KEY;
    p -= params_len;
    memcpy(p, params, params_len);
    p -= sizeof(ec_oid);
    memcpy(p, ec_oid, sizeof(ec_oid));
    alg_len = tlv(&p, buf, params_len + sizeof(ec_oid),
                  MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (alg_len < 0 ||
        (total = tlv(&p, buf, (size_t)(alg_len + key_len),
                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
        return TKR_E_KEY;
    *der = p;
    *len = (size_t)total;
    return 0;
}

static int rsa_spki(uint8_t buf[SPKI_MAX], const uint8_t **der, size_t *len,
                    const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
    mbedtls_pk_context pk;
    int w = -1;

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) == 0 &&
        mbedtls_rsa_import_raw(mbedtls_pk_rsa(pk), n, n_len, NULL, 0, NULL, 0, NULL, 0,
                               e, e_len) == 0 &&
        mbedtls_rsa_complete(mbedtls_pk_rsa(pk)) == 0)
        w = mbedtls_pk_write_pubkey_der(&pk, buf, SPKI_MAX);
    mbedtls_pk_free(&pk);
    if (w <= 0)
        return TKR_E_KEY;
    *der = buf + SPKI_MAX - w;
    *len = (size_t)w;
    return 0;
}

/* The public key object paired with the private key k->key: the one of
 * the same CKA_ID, else of the same label. 0 and *h, or -1. */
static int public_object(p11_signer_t *k, CK_OBJECT_HANDLE *h)
{
    uint8_t id[TKR_P11_ID_MAX];
    char label[TKR_P11_LABEL_MAX + 1];
    CK_ATTRIBUTE it = {CKA_ID, id, sizeof(id)};
    CK_ATTRIBUTE lt = {CKA_LABEL, label, sizeof(label) - 1};
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = 0;

    if (k->fl->C_GetAttributeValue(k->session, k->key, &it, 1) == CKR_OK &&
        it.ulValueLen > 0 && it.ulValueLen != CK_UNAVAILABLE_INFORMATION)
        find(k->fl, k->session, CKO_PUBLIC_KEY, NULL, id, it.ulValueLen, found, &n);
    if (n != 1 && k->fl->C_GetAttributeValue(k->session, k->key, &lt, 1) == CKR_OK &&
        lt.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
        label[lt.ulValueLen] = '\0';
        find(k->fl, k->session, CKO_PUBLIC_KEY, label, NULL, 0, found, &n);
    }
    if (n != 1)
        return -1;
    *h = found[0];
    return 0;
}

/* The public half of the private key k->key, as SubjectPublicKeyInfo. */
static int public_spki(p11_signer_t *k, uint8_t buf[SPKI_MAX], const uint8_t **der,
                       size_t *len, const char **what)
{
    CK_KEY_TYPE type;
    uint8_t a[520], b[520];
    CK_ATTRIBUTE t = {CKA_KEY_TYPE, &type, sizeof(type)};
    CK_ATTRIBUTE r[2] = {{CKA_MODULUS, a, sizeof(a)}, {CKA_PUBLIC_EXPONENT, b, sizeof(b)}};
    CK_ATTRIBUTE e[2] = {{CKA_EC_PARAMS, a, sizeof(a)}, {CKA_EC_POINT, b, sizeof(b)}};
    CK_OBJECT_HANDLE pub;

    if (k->fl->C_GetAttributeValue(k->session, k->key, &t, 1) != CKR_OK) {
        *what = "the key's type cannot be read";
        return TKR_E_KEY;
    }
    if (type != CKK_RSA && type != CKK_EC) {
        *what = "the key is neither RSA nor EC";
        return TKR_E_KEY_ALG;
    }
    /* RSA private keys carry their modulus and exponent (PKCS#11 §2.1.3);
     * EC ones have no point, and some tokens hide RSA's too: then the
     * paired public key object has them. */
    if (type == CKK_RSA && k->fl->C_GetAttributeValue(k->session, k->key, r, 2) == CKR_OK)
        return rsa_spki(buf, der, len, a, r[0].ulValueLen, b, r[1].ulValueLen);
    if (public_object(k, &pub) != 0) {
        *what = "the key's public half is not readable and no public key object has its "
                "id or label";
        return TKR_E_NOT_FOUND;
    }
    if (type == CKK_RSA) {
        r[0].ulValueLen = sizeof(a);
        r[1].ulValueLen = sizeof(b);
        if (k->fl->C_GetAttributeValue(k->session, pub, r, 2) != CKR_OK) {
            *what = "the RSA public key cannot be read";
            return TKR_E_KEY;
        }
        return rsa_spki(buf, der, len, a, r[0].ulValueLen, b, r[1].ulValueLen);
    }
    if (k->fl->C_GetAttributeValue(k->session, pub, e, 2) != CKR_OK) {
        *what = "the EC public key cannot be read";
        return TKR_E_KEY;
    }
    return ec_spki(buf, der, len, a, e[0].ulValueLen, b, e[1].ulValueLen);
}

static int open_session(p11_signer_t *k, tkr_p11_token_t *t, const char **what)
{
    CK_RV rv = k->fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL,
                                    &k->session);

    if (rv != CKR_OK) {
        t->rv = rv;
        *what = "cannot open a session with the token";
        return TKR_E_CRYPTO;
    }
    if (!t->has_pin)
        return 0;
    rv = k->fl->C_Login(k->session, CKU_USER, (CK_UTF8CHAR *)t->pin, t->pin_len);
    /* Logins belong to the application, not the session: the second
     * thread's login finds the first one's. */
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return 0;
    t->rv = rv;
    *what = rv == CKR_PIN_INCORRECT ? "wrong PIN"
            : rv == CKR_PIN_LOCKED  ? "the PIN is locked"
                                    : "login failed";
    return TKR_E_KEY;
}

static int load_pkcs11(tkr_signer_t *s, tkr_p11_token_t *t,
                       const char **what, const char **name)
{
    const tkr_p11_uri_t *u;
    p11_signer_t *k;
    uint8_t buf[SPKI_MAX];
    const uint8_t *der;
    size_t len;
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 0;
    CK_RV rv;
    int rc;

    if (s == NULL || t == NULL || t->fl == NULL || s->ops != NULL)
        return TKR_E_INVALID_ARG;
    u = &t->uri;
    if ((u->has & TKR_P11_TYPE) && strcmp(u->type, "private") != 0) {
        *what = "type= must be private: the CA signs with its private key";
        *name = "type";
        return TKR_E_INVALID_ARG;
    }
    if ((k = calloc(1, sizeof(*k))) == NULL)
        return TKR_E_CRYPTO;
    k->fl = t->fl;
    *name = "pin";
    if ((rc = open_session(k, t, what)) != 0) {
        if (k->session != 0)
            k->fl->C_CloseSession(k->session);
        free(k);
        return rc;
    }
    *name = "object";
    rv = find(k->fl, k->session, CKO_PRIVATE_KEY,
              (u->has & TKR_P11_OBJECT) ? u->object : NULL,
              (u->has & TKR_P11_ID) ? u->id : NULL, u->id_len, h, &n);
    if (rv != CKR_OK || n != 1) {
        t->rv = rv;
        *what = rv != CKR_OK ? "cannot search the token"
                : n == 0    ? "no private key in the token matches the URI's object/id"
                            : "more than one private key matches the URI (add object= or id=)";
        rc = n == 0 ? TKR_E_NOT_FOUND : TKR_E_INVALID_ARG;
        goto fail;
    }
    k->key = h[0];
    if ((rc = public_spki(k, buf, &der, &len, what)) != 0)
        goto fail;
    if ((rc = tkr_signer_attach(s, &p11_ops, k, der, len)) != 0) {
        *what = "the key is not one tokenroll signs with (RSA >= 2048 bits, P-256, P-384)";
        goto fail;
    }
    return 0;
fail:
    p11_free(k);
    return rc;
}

int tkr_p11_token_open(tkr_p11_token_t *t, void *fl, const tkr_p11_uri_t *uri,
                       const char *pin, size_t pin_len, tkr_diag_t *diag)
{
    const char *what = NULL;
    int rc = token_open(t, fl, uri, pin, pin_len, &what);

    return rc == 0 || what == NULL ? rc : tkr_diag(diag, rc, "token", what);
}

int tkr_signer_load_pkcs11(tkr_signer_t *s, tkr_p11_token_t *t, tkr_diag_t *diag)
{
    const char *what = NULL, *name = NULL;
    int rc = load_pkcs11(s, t, &what, &name);

    return rc == 0 || what == NULL ? rc : tkr_diag(diag, rc, name, what);
}
