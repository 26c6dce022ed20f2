#!/usr/bin/env bash
# The Cortex-M4 image's TLS offer against `tokenroll serve`: the firmware's
# mbedTLS (port/baremetal/tkr_mbedtls_device.h) offers TLS 1.2 only, ECDHE
# on P-256, the cipher suites its MBEDTLS_SSL_CIPHERSUITES lists, and
# SHA-256 signatures (no PSS, no SHA-384). openssl s_client makes exactly
# that offer here and must complete a verified handshake with the service
# (its root, its host name); an offer outside the service's priorities must
# not, so the check can tell the two apart.
. "$(dirname "$0")/lib.sh"
need openssl
cd "$W"

provision_local device_tls || exit 1
CA=$(ls -d "$P"/prod_*/localhost/startup | tail -1)/rootCA.pem

# The suites the device configuration lists, in OpenSSL's names.
hdr=$ROOT/port/baremetal/tkr_mbedtls_device.h
suites=$(sed -n '/#define MBEDTLS_SSL_CIPHERSUITES/,/^$/p' "$hdr" | grep -o 'MBEDTLS_TLS_[A-Z0-9_]*')
ossl=""
for s in $suites; do
  case $s in
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) n=ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) n=ECDHE-RSA-AES128-GCM-SHA256 ;;
    *) fail "device suite $s has an OpenSSL name in this test"; n="" ;;
  esac
  [ -n "$n" ] && ossl=${ossl:+$ossl:}$n
done
if [ -n "$ossl" ]; then pass "device suites read from tkr_mbedtls_device.h: $ossl"; else fail "device suites read"; fi
grep -q '^#define MBEDTLS_ECP_DP_SECP256R1_ENABLED' "$hdr" && ! grep -q '^#define MBEDTLS_SHA512_C' "$hdr" &&
  ! grep -q '^#define MBEDTLS_SSL_PROTO_TLS1_3' "$hdr" &&
  pass "device configuration: P-256, SHA-256 only, TLS 1.2 only" ||
  fail "device configuration: P-256, SHA-256 only, TLS 1.2 only"

start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" --api-key "k-$$" || exit 1

# hello CIPHERS: a TLS 1.2 handshake offering what the device offers.
hello() {
  openssl s_client -connect "127.0.0.1:$SERVE_PORT" -servername localhost -tls1_2 \
    -cipher "$1" -groups P-256 -sigalgs 'ECDSA+SHA256:RSA+SHA256' \
    -CAfile "$CA" -verify_hostname localhost -verify_return_error </dev/null 2>&1
}

out=$(hello "$ossl")
if printf '%s\n' "$out" | grep -q 'Verify return code: 0 (ok)' &&
   printf '%s\n' "$out" | grep -Eq 'Cipher is (ECDHE-(ECDSA|RSA)-AES128-GCM-SHA256)' &&
   printf '%s\n' "$out" | grep -Eq 'Server Temp Key: ECDH, (prime256v1|P-256)'; then
  pass "the device's offer completes a verified handshake (ECDHE P-256, AES-128-GCM)"
else
  fail "the device's offer completes a verified handshake" "$(printf '%s\n' "$out" | grep -E 'Cipher|Verify|Temp Key|error|alert' | head -5)"
fi

# A CBC suite is outside the service's priorities: no handshake.
out=$(hello ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256)
if printf '%s\n' "$out" | grep -Eq 'Cipher is (ECDHE|AES)'; then
  fail "an offer outside the service's priorities is refused" "$(printf '%s\n' "$out" | grep Cipher)"
else
  pass "an offer outside the service's priorities is refused"
fi

stop_serve "$SERVE_PID"
