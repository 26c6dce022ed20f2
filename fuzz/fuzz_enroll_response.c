/* fuzz_enroll_response.c — libFuzzer harness for what the device reads
 * from the certificate service: a whole HTTP response, through the HTTP
 * parser and then tkr_enroll_parse_answer, then the issued certificate
 * through tkr_enroll_check_cert against the flare root, as the device does.
 *
 * Invariants:
 *   - a 200 answer that parses has both PEMs NUL-terminated within
 *     TKR_ENROLL_PEM_MAX, and they are the JSON strings of the body;
 *   - any other status always parses (the status alone decides), and the
 *     message and request id kept for logs are printable ASCII and
 *     terminated within their arrays;
 *   - a certificate from a 200 answer goes through the device's whole
 *     check (parse, chain to FLARE's example root, key, name) without a
 *     fault, and never passes: the key it is checked against is an empty
 *     EC context that no certificate can hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"

#include "fuzz_check.h"

/* tests/vectors/flare/rootCA.pem: FLARE's example root, whose private key
 * the fuzzer does not have. */
static const char root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDPjCCAiagAwIBAgIUU9/BHbVVpfAY0xPKHqru/qwKrtYwDQYJKoZIhvcNAQEL\n"
    "BQAwGjEYMBYGA1UEAwwPZXhhbXBsZV9wcm9qZWN0MB4XDTI2MTEyMzE3MDM0M1oX\n"
    "DTI3MTExODE3MDM0M1owGjEYMBYGA1UEAwwPZXhhbXBsZV9wcm9qZWN0MIIBIjAN\n"
    "BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyhm+hbaNUJAG1Jtg2D5S/nKy/MkY\n"
    "OmmNgngtXrK6R9YTACmJrEPIHonFH/4Uf3pFdc/f4Wd1aXp07V6dR2ZgcOBsZ4Aa\n"
    "mZbrdaSL+qdCSOdM/kEm2XZWbH39dwtDEmV8NvuJxvUpy7hAe0tISxnrgNaqx9+I\n"
    "YMgJ48m2dfKuqXRntnFoiQ+y3bm208GRxpTPf8kHXAgGe6fsohdTBjUgY3cf/to3\n"
    "ted4o9JbWkL4GQlhahN7E+q3/5QYeZU+f7fItcopXAfgxi0QamGp7ZefQ0mnKMe0\n"
    "kBnT1blg1t90iX3rAKN7YKvH0gQRVFTtesDNNgqiK+agdKnN/P5LW6yWhwIDAQAB\n"
    "o3wwejAdBgNVHQ4EFgQUcobOYxCUk2RhMOvL8Pz2CaFqJPEwHwYDVR0jBBgwFoAU\n"
    "cobOYxCUk2RhMOvL8Pz2CaFqJPEwDwYDVR0TAQH/BAUwAwEB/zALBgNVHQ8EBAMC\n"
    "Af4wGgYDVR0RBBMwEYIPZXhhbXBsZV9wcm9qZWN0MA0GCSqGSIb3DQEBCwUAA4IB\n"
    "AQA8ok7NJNA8j6rACQn2NAHf2i6eCZR20oavRXzJKjgyQ29e851j+7Z99sZmm3s2\n"
    "0yIZOD7+jwwNePgMJ4He52pnFyBALgDNBDfkgCEpd0/1Jxu0ALOsIbgBmWbVyNHS\n"
    "ev54qPvtm9yBO5d38pbyFvVzEbLHcusXw2iM+DRPDTIBp2UXI8pPpSt5PTDRt1iA\n"
    "rWiqod58wJCSzEyodtKfeDxG2cHqdeVOJm7Yd9JNJ7/H3XlcR+jlK3Gu9y6g6ZbJ\n"
    "8eALiyu7qhQ5vTQIHK78Pjc2h/EZ7Sxl9V8L8yqVCfOfo2ZHhmi4xpgPCmonVNqT\n"
    "2TwAxwnBtt5XkB+x130S3+Mh\n"
    "-----END CERTIFICATE-----\n";

static int printable(const char *s, size_t size)
{
    size_t i;

    for (i = 0; i < size && s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return i < size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char cert[TKR_ENROLL_PEM_MAX], ca[TKR_ENROLL_PEM_MAX];
    static mbedtls_x509_crt root;
    static mbedtls_pk_context key;
    static int ready;
    tkr_json_tok_t tok[32];
    tkr_enroll_answer_t ans;
    tkr_http_response_t r;
    tkr_port_t port;
    uint8_t *buf;
    int done = 0, rc;

    if (!ready) {
        mbedtls_x509_crt_init(&root);
        CHECK(mbedtls_x509_crt_parse(&root, (const unsigned char *)root_pem,
                                     sizeof(root_pem)) == 0);
        mbedtls_pk_init(&key);
        CHECK(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
        ready = 1;
    }
    if (size > TKR_HTTP_RESPONSE_MAX)
        return 0;
    buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    memcpy(buf, data, size);
    rc = tkr_http_response_parse(&r, &done, buf, size, 1);
    if (rc != 0 || !done) {
        free(buf);
        return 0;
    }
    rc = tkr_enroll_parse_answer(&ans, cert, ca, tok, 32, r.status, r.body,
                                 r.body_len);
    if (r.status != 200) {
        CHECK(rc == 0);
        CHECK(printable(ans.message, sizeof(ans.message)));
        CHECK(printable(ans.request_id, sizeof(ans.request_id)));
    } else if (rc == 0) {
        CHECK(ans.certificate == cert && ans.ca_cert == ca);
        CHECK(memchr(cert, '\0', sizeof(cert)) != NULL);
        CHECK(memchr(ca, '\0', sizeof(ca)) != NULL);
        memset(&port, 0, sizeof(port));
        port.entropy = fixed_entropy;
        CHECK(tkr_enroll_check_cert(cert, &root, &key, "site-1", -1, &port) != 0);
    }
    free(buf);
    return 0;
}
