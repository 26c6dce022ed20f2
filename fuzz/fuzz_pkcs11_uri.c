/* fuzz_pkcs11_uri.c — libFuzzer harness for the RFC 7512 URI parser.
 *
 * The input is the URI text. Invariants (abort on violation):
 *   - a failure names its reason and leaves the result zeroed (no
 *     half-parsed PIN behind);
 *   - a success leaves every text field NUL-terminated inside its array
 *     and the id within TKR_P11_ID_MAX;
 *   - re-encoding the parsed attributes (every byte outside the unreserved
 *     set as %XX, written here independently of the parser) and parsing
 *     that again gives the identical result: one meaning per URI.
 * The input is copied to an exact-size heap buffer so ASan sees overruns. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/pkcs11.h"

#include "fuzz_check.h"

static tkr_p11_uri_t a, b;
static char text[4 * TKR_P11_URI_MAX + 1024];

static void put(size_t *o, const char *s)
{
    size_t n = strlen(s);
    CHECK(*o + n < sizeof(text));
    memcpy(text + *o, s, n);
    *o += n;
}

static void put_value(size_t *o, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t c = v[i];
        CHECK(*o + 3 < sizeof(text));
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            text[(*o)++] = (char)c;
        } else {
            text[(*o)++] = '%';
            text[(*o)++] = hex[c >> 4];
            text[(*o)++] = hex[c & 15];
        }
    }
}

static void attr(size_t *o, int *first, char sep, const char *name, const char *v)
{
    if (!*first)
        text[(*o)++] = sep;
    *first = 0;
    put(o, name);
    put(o, "=");
    put_value(o, (const uint8_t *)v, strlen(v));
}

static void terminated(const char *f, size_t size)
{
    CHECK(memchr(f, 0, size) != NULL);
}

/* The URI a says, written out again. */
static size_t encode(const tkr_p11_uri_t *u)
{
    char num[48];
    size_t o = 0;
    int first = 1;

    put(&o, "pkcs11:");
#define P(bit, name, f) if (u->has & (bit)) attr(&o, &first, ';', name, u->f)
    P(TKR_P11_TOKEN, "token", token);
    P(TKR_P11_MANUFACTURER, "manufacturer", manufacturer);
    P(TKR_P11_SERIAL, "serial", serial);
    P(TKR_P11_MODEL, "model", model);
    P(TKR_P11_LIB_MANUF, "library-manufacturer", lib_manufacturer);
    P(TKR_P11_LIB_DESC, "library-description", lib_description);
    P(TKR_P11_OBJECT, "object", object);
    P(TKR_P11_TYPE, "type", type);
    P(TKR_P11_SLOT_DESC, "slot-description", slot_description);
    P(TKR_P11_SLOT_MANUF, "slot-manufacturer", slot_manufacturer);
    if (u->has & TKR_P11_LIB_VERSION) {
        if (u->lib_has_minor)
            snprintf(num, sizeof(num), "%u.%u", u->lib_major, u->lib_minor);
        else
            snprintf(num, sizeof(num), "%u", u->lib_major);
        attr(&o, &first, ';', "library-version", num);
    }
    if (u->has & TKR_P11_SLOT_ID) {
        snprintf(num, sizeof(num), "%lu", u->slot_id);
        attr(&o, &first, ';', "slot-id", num);
    }
    if (u->has & TKR_P11_ID) {
        if (!first)
            text[o++] = ';';
        first = 0;
        put(&o, "id=");
        put_value(&o, u->id, u->id_len);
    }
    if (u->has & (TKR_P11_PIN_SOURCE | TKR_P11_PIN_VALUE | TKR_P11_MODULE_NAME | TKR_P11_MODULE_PATH)) {
        text[o++] = '?';
        first = 1;
        P(TKR_P11_PIN_SOURCE, "pin-source", pin_source);
        P(TKR_P11_PIN_VALUE, "pin-value", pin_value);
        P(TKR_P11_MODULE_NAME, "module-name", module_name);
        P(TKR_P11_MODULE_PATH, "module-path", module_path);
    }
#undef P
    /* the query separator is '&', not ';' */
    {
        char *q = memchr(text, '?', o);
        size_t i;
        for (i = q ? (size_t)(q - text) : o; i < o; i++)
            if (text[i] == ';')
                text[i] = '&';
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    tkr_diag_t d;
    size_t n;
    int rc;

    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    tkr_diag_clear(&d);
    rc = tkr_p11_uri_parse(&a, in, size, &d);
    free(in);
    if (rc != 0) {
        static const tkr_p11_uri_t zero;
        CHECK(rc == TKR_E_INVALID_ARG);
        CHECK(d.msg[0] != '\0');
        CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
        return 0;
    }
    CHECK(d.msg[0] == '\0');
    terminated(a.token, sizeof(a.token));
    terminated(a.object, sizeof(a.object));
    terminated(a.pin_value, sizeof(a.pin_value));
    terminated(a.pin_source, sizeof(a.pin_source));
    terminated(a.module_path, sizeof(a.module_path));
    CHECK(a.id_len <= TKR_P11_ID_MAX);
    n = encode(&a);
    if (n > TKR_P11_URI_MAX)
        return 0; /* escaping grew it past the limit */
    rc = tkr_p11_uri_parse(&b, text, n, NULL);
    CHECK(rc == 0);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    return 0;
}
