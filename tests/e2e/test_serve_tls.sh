#!/usr/bin/env bash
# tokenroll serve's TLS handshake signatures, checked by OpenSSL as the peer:
# for RSA-2048 and RSA-4096 server keys every RSA scheme a client may ask
# for (RSA-PSS with the rsaEncryption key in TLS 1.3 and 1.2, PKCS#1 v1.5
# with SHA-256/384/512 in TLS 1.2), for P-256 and P-384 keys ECDSA in both
# versions; the schemes the key cannot make are refused, and a key that does
# not match its certificate stops the start. OpenSSL verifies each
# signature: a wrong padding, salt or encoding fails the handshake.
. "$(dirname "$0")/lib.sh"
need openssl curl
cd "$W"

# tls_get CAFILE ARGS...: GET /health over one fresh connection; prints
# s_client's report and the response.
tls_get() {
  local ca=$1; shift
  printf 'GET /health HTTP/1.0\r\nHost: server.example.com\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -servername server.example.com \
      -CAfile "$ca" -verify_return_error -ign_eof "$@" 2>&1
}

# signs LABEL CAFILE TYPE DIGEST ARGS...: the handshake completes, the
# server's signature is of TYPE over DIGEST and verifies, and the request
# gets its 200.
signs() {
  local label=$1 ca=$2 type=$3 digest=$4 out; shift 4
  out=$(tls_get "$ca" "$@")
  if printf '%s' "$out" | grep -qx "Peer signature type: $type" &&
     printf '%s' "$out" | grep -qx "Peer signing digest: $digest" &&
     printf '%s' "$out" | grep -q "Verify return code: 0 (ok)" &&
     printf '%s' "$out" | grep -q "^HTTP/1.[01] 200"; then
    pass "$label"
  else
    fail "$label" "$(printf '%s' "$out" | grep -E 'signature|digest|Verify|alert|error|HTTP/' | head -8)"
  fi
}

# refuses LABEL CAFILE ARGS...: no handshake (the server has no scheme in
# common with the client), and no response.
refuses() {
  local label=$1 ca=$2 out; shift 2
  out=$(tls_get "$ca" "$@")
  if printf '%s' "$out" | grep -q "^HTTP/" || printf '%s' "$out" | grep -q "^Peer signature type"; then
    fail "$label" "$(printf '%s' "$out" | grep -E 'signature|Cipher|HTTP/' | head -5)"
  else
    pass "$label"
  fi
}

# The CA the service issues from: an RSA workspace (its server kit, RSA-2048,
# is the default TLS key) and a P-256 one.
for kt in rsa ec; do
  "$T" provision -p "$ROOT/tests/vectors/project/token_doc.yml" -w "ws-$kt" --key-type "$kt" \
    >/dev/null 2>&1 || fail "provision --key-type $kt"
done
KR=$W/ws-rsa/my_fl_project/prod_00/server.example.com/startup
KE=$W/ws-ec/my_fl_project/prod_00/server.example.com/startup

# self_signed NAME OPENSSL-NEWKEY-ARGS...: NAME.key and NAME.crt for
# server.example.com.
self_signed() {
  local n=$1; shift
  openssl req -x509 -newkey "$@" -nodes -keyout "$n.key" -out "$n.crt" -days 2 \
    -subj /CN=server.example.com -addext subjectAltName=DNS:server.example.com 2>/dev/null ||
    fail "openssl makes the $n key and certificate"
}
self_signed rsa4096 rsa:4096
self_signed p384 ec -pkeyopt ec_paramgen_curve:P-384

rsa_checks() {
  local k=$1 ca=$2
  signs "$k: TLS 1.3 signs with RSA-PSS by default" "$ca" RSA-PSS SHA256 -tls1_3
  signs "$k: TLS 1.3 rsa_pss_rsae_sha384" "$ca" RSA-PSS SHA384 -tls1_3 -sigalgs rsa_pss_rsae_sha384
  signs "$k: TLS 1.3 rsa_pss_rsae_sha512" "$ca" RSA-PSS SHA512 -tls1_3 -sigalgs rsa_pss_rsae_sha512
  signs "$k: TLS 1.2 rsa_pkcs1_sha256" "$ca" RSA SHA256 -tls1_2 -sigalgs rsa_pkcs1_sha256
  signs "$k: TLS 1.2 rsa_pkcs1_sha384" "$ca" RSA SHA384 -tls1_2 -sigalgs rsa_pkcs1_sha384
  signs "$k: TLS 1.2 rsa_pkcs1_sha512" "$ca" RSA SHA512 -tls1_2 -sigalgs rsa_pkcs1_sha512
  signs "$k: TLS 1.2 rsa_pss_rsae_sha256" "$ca" RSA-PSS SHA256 -tls1_2 -sigalgs rsa_pss_rsae_sha256
  refuses "$k: no rsa_pss_pss scheme for an rsaEncryption key" "$ca" -tls1_3 -sigalgs rsa_pss_pss_sha256
  refuses "$k: no ECDSA scheme with an RSA key" "$ca" -tls1_2 -sigalgs ecdsa_secp256r1_sha256
}

ec_checks() {
  local k=$1 ca=$2 curve=$3 digest=$4
  signs "$k: TLS 1.3 ecdsa_${curve}_${digest,,}" "$ca" ECDSA "$digest" -tls1_3 -sigalgs "ecdsa_${curve}_${digest,,}"
  signs "$k: TLS 1.2 ECDSA+SHA256" "$ca" ECDSA SHA256 -tls1_2 -sigalgs ECDSA+SHA256
  signs "$k: TLS 1.2 ECDSA+SHA384" "$ca" ECDSA SHA384 -tls1_2 -sigalgs ECDSA+SHA384
  refuses "$k: no RSA scheme with an EC key" "$ca" -tls1_2 -sigalgs rsa_pkcs1_sha256:rsa_pss_rsae_sha256
}

if start_serve serve-rsa2048.log --ca-path "$W/ws-rsa/my_fl_project" --db "sqlite:$W/rsa.db"; then
  rsa_checks rsa2048 "$KR/rootCA.pem"
  # curl (libcurl's own OpenSSL handshake) in both versions.
  for v in 1.2 1.3; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KR/rootCA.pem" --tlsv$v --tls-max $v \
      --resolve "server.example.com:$SERVE_PORT:127.0.0.1" "https://server.example.com:$SERVE_PORT/health")
    same "rsa2048: curl over TLS $v gets 200" "$code" 200
  done
  stop_serve "$SERVE_PID"
fi
if start_serve serve-rsa4096.log --ca-path "$W/ws-rsa/my_fl_project" --db "sqlite:$W/rsa.db" \
    --cert rsa4096.crt --key rsa4096.key; then
  rsa_checks rsa4096 rsa4096.crt
  stop_serve "$SERVE_PID"
fi
if start_serve serve-p256.log --ca-path "$W/ws-ec/my_fl_project" --db "sqlite:$W/ec.db"; then
  ec_checks p256 "$KE/rootCA.pem" secp256r1 SHA256
  stop_serve "$SERVE_PID"
fi
if start_serve serve-p384.log --ca-path "$W/ws-ec/my_fl_project" --db "sqlite:$W/ec.db" \
    --cert p384.crt --key p384.key; then
  ec_checks p384 p384.crt secp384r1 SHA384
  stop_serve "$SERVE_PID"
fi

expect_fail "serve refuses a TLS key that does not match its certificate" "Error: .*(TLS|certificate|key)" \
  timeout 10 "$T" serve --ca-path "$W/ws-rsa/my_fl_project" --db "sqlite:$W/rsa.db" \
  --cert "$KR/server.crt" --key rsa4096.key --listen "127.0.0.1:$(free_port)"
openssl pkey -in "$KR/server.key" -aes-128-cbc -passout pass:secret -out enc.key 2>/dev/null ||
  fail "openssl encrypts a key"
expect_fail "serve refuses an encrypted TLS key without asking for a passphrase" \
  "Error: .*(TLS key is not an unencrypted PEM private key|TLS certificate/key unusable)" \
  timeout 10 setsid "$T" serve --ca-path "$W/ws-rsa/my_fl_project" --db "sqlite:$W/rsa.db" \
  --cert "$KR/server.crt" --key enc.key --listen "127.0.0.1:$(free_port)"
