#!/usr/bin/env bash
# The JWT authenticator's transport to the identity provider: the quick
# start's issuer (tests/e2e/idp.py) over https with a certificate made here
# under a test root, in trusted-URI and in JWKS URL mode, through tokenroll
# serve and tokenroll authnjwt; a wrong root, a certificate for another
# host, a missing root and plain http to another host are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authnjwt_lib.sh"

# ---- the identity provider's certificates ----

# root NAME: a self-signed CA in NAME.pem / NAME.key.
root() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -out "$1.pem" -days 2 -subj "/CN=$1/O=Test Identity Provider" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
# leaf NAME ROOT SAN: a TLS server certificate for SAN under ROOT.
leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -subj "/CN=${3#*:}" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
root idp-root
root other-root
leaf idp-tls idp-root "DNS:localhost,IP:127.0.0.1"
leaf elsewhere-tls idp-root "DNS:elsewhere.example"
check "openssl: the issuer's certificate is under the test root, for localhost" \
  openssl verify -CAfile idp-root.pem -verify_hostname localhost idp-tls.pem
expect_fail "openssl: the other certificate does not name localhost" "hostname mismatch|verification failed" \
  openssl verify -CAfile idp-root.pem -verify_hostname localhost elsewhere-tls.pem

# ---- the issuer over https ----

P1=$(free_port)
start_idp idp "$P1" IDP_TLS_CERT="$W/idp-tls.pem" IDP_TLS_KEY="$W/idp-tls.key" || exit 1
IDP="https://localhost:$P1"
ISS="$IDP/default"
same "curl reaches the issuer over https, trusting the test root" \
  "$(curl -s --cacert idp-root.pem "$IDP/healthz")" '{"status":"ok"}'
expect_fail "curl refuses the issuer under another root" "SSL certificate problem" \
  curl -sSf --cacert other-root.pem "$IDP/healthz"
TOKEN=$(curl -s --cacert idp-root.pem "$IDP/default/token?sub=softioc&password=secret")
echo "$TOKEN" > token_file
same "the token's issuer is the https one" "$("$PY" -c 'import jwt,sys; print(jwt.decode(sys.argv[1], options={"verify_signature": False})["iss"])' "$TOKEN")" "$ISS"

make_service_ca
SEED=(EPICS_AUTH_JWT_REQUEST_FORMAT='#token#' EPICS_AUTH_JWT_REQUEST_METHOD=GET
      EPICS_AUTH_JWT_RESPONSE_FORMAT='{ *, "valid": "#response#" }')
verifies() { grep -c "^GET token=" "$W/$1/requests.log" 2>/dev/null || echo 0; }
# serve_with LOG DB [VAR=VALUE...] -- ARGS...: start_serve with that
# environment (the EPICS_AUTH_JWT_* settings), unset again afterwards.
serve_with() {
  local log=$1 db=$2 envs=() e rc; shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  for e in "${envs[@]}"; do export "${e?}"; done
  start_serve "$log" --ca-path ws/EPICS_Root_CA --db "sqlite:$db" "$@"; rc=$?
  for e in "${envs[@]}"; do unset "${e%%=*}"; done
  return $rc
}

# Trusted-URI mode over https, the seed's settings, verified against the root.
DB1="$W/trusted.db"
serve_with serve-trusted.log "$DB1" "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="$ISS/verify" -- \
  --jwt-verify-ca idp-root.pem || exit 1
mkdir -p softioc
out=$(HOME="$W/softioc" XDG_CONFIG_HOME= "$T" authnjwt -u server --token-file token_file \
  --service "https://localhost:$SERVE_PORT" --ca-cert "$CA" 2>&1)
P12="$W/softioc/.config/pva/1.3/server.p12"
if [ "$NOSSL" = 1 ]; then
  accepted "https trusted URI: the token is exchanged (curl)" "$TOKEN" "$DB1"
else
  printf '%s\n' "$out" | grep -qx "Keychain file created   : $P12" &&
    same "https trusted URI: authnjwt -u server gets CN=softioc, O=localhost" \
      "$(keychain_cert "$P12" | openssl x509 -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=softioc" ||
    fail "https trusted URI: authnjwt -u server gets CN=softioc, O=localhost" "$out"
fi
same "the service asked the issuer once, over https" "$(verifies idp)" "1"
same "one certificate recorded" "$(certs "$DB1")" "1"
refused "https trusted URI: the issuer still says invalid for a bad signature" 401 \
  "verifier says the token is not valid" "${TOKEN%?????}AAAAA" "$DB1"
stop_serve "$SERVE_PID"

# A root the issuer's certificate is not under: the token never leaves.
DB2="$W/wrong-root.db"
before=$(verifies idp)
serve_with serve-wrong-root.log "$DB2" "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="$ISS/verify" -- \
  --jwt-verify-ca other-root.pem || exit 1
refused "https trusted URI under another root: 401, nothing issued" 401 \
  "verifier cannot be reached" "$TOKEN" "$DB2"
[ "$NOSSL" = 1 ] && why="cannot write the keychain: this tokenroll was built without OpenSSL" ||
  why="the certificate service refused the token \(HTTP 401\): invalid token: the verifier cannot be reached"
expect_fail "authnjwt: the refusal is one clear line, nothing written" "^Error: $why" \
  env EPICS_PVAS_TLS_KEYCHAIN="$W/wrong-root.p12" "$T" authnjwt -u server --token-file token_file \
  --service "https://localhost:$SERVE_PORT" --ca-cert "$CA"
[ ! -e "$W/wrong-root.p12" ] && pass "no keychain for the refused token" || fail "no keychain for the refused token"
same "the token was not sent to an untrusted peer" "$(verifies idp)" "$before"
grep -q "JWT authenticator: $ISS/verify: TLS: the server's certificate is not signed by the given root CA" serve-wrong-root.log &&
  pass "the service logs why: not signed by the given root" || fail "the service logs why: not signed by the given root" "$(cat serve-wrong-root.log)"
stop_serve "$SERVE_PID"

# A certificate under the right root, for another host name.
P2=$(free_port)
start_idp elsewhere "$P2" IDP_TLS_CERT="$W/elsewhere-tls.pem" IDP_TLS_KEY="$W/elsewhere-tls.key" || exit 1
T2=$(curl -s --cacert idp-root.pem --resolve "elsewhere.example:$P2:127.0.0.1" \
  "https://elsewhere.example:$P2/default/token?sub=softioc&password=secret")
DB3="$W/wrong-host.db"
serve_with serve-wrong-host.log "$DB3" "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="https://localhost:$P2/default/verify" -- \
  --jwt-verify-ca idp-root.pem || exit 1
refused "https trusted URI with a certificate for another host: 401, nothing issued" 401 \
  "verifier cannot be reached" "$T2" "$DB3"
same "the token was not sent to the misnamed peer" "$(verifies elsewhere)" "0"
grep -q "TLS: the server's certificate does not name the host" serve-wrong-host.log &&
  pass "the service logs why: the certificate does not name the host" ||
  fail "the service logs why: the certificate does not name the host" "$(cat serve-wrong-host.log)"
stop_serve "$SERVE_PID"

# Refused at start: https without a root, plain http to another host.
SERVE_ARGS=(--ca-path ws/EPICS_Root_CA --db "sqlite:$W/never.db" --listen "127.0.0.1:$(free_port)")
expect_fail "an https trusted URI without --jwt-verify-ca is refused at start" \
  "^Error: --jwt-trusted-uri $ISS/verify is https: give --jwt-verify-ca FILE" \
  env "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="$ISS/verify" "$T" serve "${SERVE_ARGS[@]}"
expect_fail "plain http to a host other than loopback is refused at start" \
  "^Error: --jwt-trusted-uri http://idp.example:8080/default/verify is plain http to another host: use https, or --jwt-allow-http" \
  env "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="http://idp.example:8080/default/verify" "$T" serve "${SERVE_ARGS[@]}"
expect_fail "a JWKS over plain http to another host is refused at start" \
  "^Error: --jwt-jwks http://idp.example/jwks.json is plain http to another host" \
  "$T" serve "${SERVE_ARGS[@]}" --jwt-jwks http://idp.example/jwks.json --jwt-issuer "$ISS"
[ ! -e "$W/never.db" ] && pass "nothing is created by a service refused at start" || fail "nothing is created by a service refused at start"
# --jwt-allow-http lets such a verifier be configured: the service starts,
# and a verifier that does not answer is a 401 like any other.
DB4="$W/allow-http.db"
serve_with serve-allow-http.log "$DB4" "${SEED[@]}" EPICS_AUTH_JWT_TRUSTED_URI="http://192.0.2.1:9/default/verify" -- \
  --jwt-allow-http --jwt-timeout 1 --jwt-issuer "$ISS" && pass "--jwt-allow-http: plain http to another host is accepted at start"
refused "--jwt-allow-http: an unreachable verifier is a 401" 401 "verifier cannot be reached" "$TOKEN" "$DB4"
stop_serve "$SERVE_PID"

# ---- JWKS URL mode over https ----

before=$(cat idp/jwks.log 2>/dev/null | wc -l)
DB5="$W/jwks.db"
start_serve serve-jwks.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB5" \
  --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-verify-ca idp-root.pem --jwt-issuer "$ISS" || exit 1
same "the key set was fetched over https at start" "$(wc -l < idp/jwks.log)" "$((before + 1))"
if [ "$NOSSL" = 1 ]; then
  accepted "https JWKS: the token is exchanged (curl)" "$TOKEN" "$DB5"
else
  EPICS_PVA_TLS_KEYCHAIN="$W/jwks.p12" "$T" authnjwt --token-file token_file \
    --service "https://localhost:$SERVE_PORT" --ca-cert "$CA" >/dev/null 2>&1
  same "https JWKS: authnjwt gets CN=softioc, O=localhost" \
    "$(keychain_cert "$W/jwks.p12" | openssl x509 -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=softioc"
fi
refused "https JWKS: a bad signature is refused" 401 "signature does not verify" "${TOKEN%?????}AAAAA" "$DB5"
stop_serve "$SERVE_PID"
expect_fail "an https JWKS under another root is refused at start" \
  "^Error: --jwt-jwks $IDP/.well-known/jwks.json: cannot read the key set" \
  "$T" serve "${SERVE_ARGS[@]}" --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-verify-ca other-root.pem --jwt-issuer "$ISS"
"$T" serve "${SERVE_ARGS[@]}" --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-verify-ca other-root.pem \
  --jwt-issuer "$ISS" 2>&1 | grep -q "TLS: the server's certificate is not signed by the given root CA" &&
  pass "an https JWKS under another root: the error says why" || fail "an https JWKS under another root: the error says why"
expect_fail "an https JWKS whose certificate is for another host is refused at start" \
  "^Error: --jwt-jwks https://localhost:$P2/default/jwks: cannot read the key set" \
  "$T" serve "${SERVE_ARGS[@]}" --jwt-jwks "https://localhost:$P2/default/jwks" --jwt-verify-ca idp-root.pem --jwt-issuer "$ISS"
expect_fail "an https JWKS without --jwt-verify-ca is refused at start" \
  "^Error: --jwt-jwks $IDP/.well-known/jwks.json is https: give --jwt-verify-ca FILE" \
  "$T" serve "${SERVE_ARGS[@]}" --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-issuer "$ISS"
check "no sanitizer report in the services' logs" bash -c "! grep -E 'Sanitizer|runtime error' serve-*.log"
