/* tokenroll/pkcs11.h — CA keys held in a PKCS#11 token (an HSM), host
 * builds only.
 *
 * A key is named by an RFC 7512 URI, e.g.
 *   pkcs11:token=tokenroll-ca;object=ca?module-path=/usr/lib/softhsm/
 *   libsofthsm2.so&pin-source=file:/path/pin
 * tkr_p11_uri_parse splits it; the caller (who may touch the OS) loads the
 * module named by module-path and reads a pin-source file, then
 * tkr_p11_token_open initialises the module once for the process and finds
 * the token, and each thread that signs loads its own signer with
 * tkr_signer_load_pkcs11: its own session, logged in with the PIN (a second
 * login of the same application is not an error, CKR_USER_ALREADY_LOGGED_IN).
 * The private key never leaves the token: RSA signs with CKM_RSA_PKCS over
 * a DigestInfo, EC with CKM_ECDSA. */
#ifndef TOKENROLL_PKCS11_H
#define TOKENROLL_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "signer.h"

/* Bounds of decoded URI values (bytes, terminator excluded). Token fields
 * are what CK_TOKEN_INFO can hold; labels of objects are free text. */
#define TKR_P11_LABEL_MAX 128
#define TKR_P11_ID_MAX 64
#define TKR_P11_PIN_MAX 128
#define TKR_P11_URI_MAX 2048

/* Which attributes a URI gave (bits of tkr_p11_uri_t.has). */
#define TKR_P11_TOKEN        0x0001u
#define TKR_P11_MANUFACTURER 0x0002u
#define TKR_P11_SERIAL       0x0004u
#define TKR_P11_MODEL        0x0008u
#define TKR_P11_LIB_MANUF    0x0010u
#define TKR_P11_LIB_DESC     0x0020u
#define TKR_P11_LIB_VERSION  0x0040u
#define TKR_P11_OBJECT       0x0080u
#define TKR_P11_TYPE         0x0100u
#define TKR_P11_ID           0x0200u
#define TKR_P11_SLOT_ID      0x0400u
#define TKR_P11_SLOT_DESC    0x0800u
#define TKR_P11_SLOT_MANUF   0x1000u
#define TKR_P11_PIN_SOURCE   0x2000u
#define TKR_P11_PIN_VALUE    0x4000u
#define TKR_P11_MODULE_NAME  0x8000u
#define TKR_P11_MODULE_PATH  0x10000u

typedef struct {
    unsigned has;                          /* TKR_P11_* bits */
    char token[33], manufacturer[33];      /* CK_TOKEN_INFO sizes */
    char serial[17], model[17];
    char lib_manufacturer[33], lib_description[33];
    unsigned lib_major, lib_minor;         /* library-version M[.m] */
    int lib_has_minor;
    char slot_description[65], slot_manufacturer[33];
    unsigned long slot_id;
    char object[TKR_P11_LABEL_MAX + 1];
    char type[16];                         /* "private", "public", ... */
    uint8_t id[TKR_P11_ID_MAX];
    size_t id_len;
    char pin_source[TKR_PATH_MAX];
    char pin_value[TKR_P11_PIN_MAX + 1];
    char module_name[TKR_P11_LABEL_MAX + 1];
    char module_path[TKR_PATH_MAX];
} tkr_p11_uri_t;

/* Parse uri[0..len) (RFC 7512 §2.3): "pkcs11:" path attributes split by
 * ';', query attributes after '?' split by '&', values percent-decoded.
 * Strict: an unknown attribute (vendor ones included: RFC 7512 §2.4 lets
 * them match nothing), a repeated one, an empty name, a bad %XX, a
 * character outside the grammar, an over-long value, a NUL, or a slot-id
 * or library-version that is not a number are errors (TKR_E_INVALID_ARG);
 * diag (may be NULL) gets the reason and the attribute at fault as its
 * name. On failure *u is zeroed (no half-parsed PIN stays behind). */
int tkr_p11_uri_parse(tkr_p11_uri_t *u, const char *uri, size_t len,
                      tkr_diag_t *diag);

/* 1 when s starts with "pkcs11:" (case-insensitive scheme, RFC 3986). */
int tkr_p11_is_uri(const char *s);

/* A token found through a module: shared by the signers of every thread. */
typedef struct {
    void *fl;                         /* the module's CK_FUNCTION_LIST */
    unsigned long slot;
    int finalize;                     /* this open initialised the module */
    tkr_p11_uri_t uri;                /* the object part is used per signer */
    char pin[TKR_P11_PIN_MAX + 1];
    size_t pin_len;
    int has_pin;
    unsigned long rv;                 /* last CK_RV that failed, for messages */
} tkr_p11_token_t;

void tkr_p11_token_init(tkr_p11_token_t *t);
/* C_Finalize when this token initialised the module; wipes the PIN. Every
 * signer loaded from t must be freed first. */
void tkr_p11_token_close(tkr_p11_token_t *t);

/* fl is the module's CK_FUNCTION_LIST (from C_GetFunctionList; typed
 * void here so that this header needs no PKCS#11 header).
 * C_Initialize (CKF_OS_LOCKING_OK: the module may be called from several
 * threads) and find the one slot whose token matches uri. pin (may be
 * NULL: a token without login) is kept for the signers' logins.
 * TKR_E_CRYPTO when the module fails, TKR_E_NOT_FOUND when no token
 * matches, TKR_E_INVALID_ARG when several do; diag says which. */
int tkr_p11_token_open(tkr_p11_token_t *t, void *fl,
                       const tkr_p11_uri_t *uri, const char *pin,
                       size_t pin_len, tkr_diag_t *diag);

/* Load a signer over the token's key: its own session, a login, the
 * private key named by the URI's object/id, and its public half (RSA from
 * the key's modulus, EC from the public key object of the same id or
 * label). TKR_E_KEY for a wrong PIN, TKR_E_NOT_FOUND for no such key,
 * TKR_E_KEY_ALG for a key tokenroll cannot sign with; diag says which
 * (its name the URI attribute concerned: "pin", "object", ...). */
int tkr_signer_load_pkcs11(tkr_signer_t *s, tkr_p11_token_t *t,
                           tkr_diag_t *diag);

/* "CKR_PIN_INCORRECT" etc. for the common return values, else "CKR_0x..."
 * in buf. */
const char *tkr_p11_rv_name(unsigned long rv, char buf[24]);

#endif
