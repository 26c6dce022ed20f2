#!/usr/bin/env bash
# The JWT authenticator (the EPICS PVXS quick start, on tokenroll): the
# quick start's issuer (tests/e2e/idp.py, Flask + PyJWT), tokenroll cert info
# against openssl-made certificates and keychains, and the exchange of the
# issuer's tokens for certificates through tokenroll serve.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authnjwt_lib.sh"

# ---- the quick start's issuer ----

idp_http

# As the quick start: TOKEN=$(curl ...); echo ${TOKEN} > token_file
TOKEN=$(curl -s "$IDP/default/token?sub=softioc&password=secret")
echo ${TOKEN} > token_file
v=$(curl -sG --data-urlencode "token=$TOKEN" "$IDP/default/verify")
"$PY" - "$v" "$ISS" <<'PY' && pass "the issuer verifies its own token as the quick start shows" || fail "the issuer verifies its own token as the quick start shows" "$v"
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is True and d["claims"]["sub"] == "softioc"
assert d["claims"]["iss"] == sys.argv[2] and d["claims"]["aud"] == "default"
assert d["header"] == {"alg": "RS256", "kid": "demo-key-1", "typ": "JWT"}
assert set(d["claims"]) == {"aud", "exp", "iat", "iss", "jti", "nbf", "sub"}
PY
same "a wrong password is refused (403)" \
  "$(curl -s -o /dev/null -w '%{http_code}' "$IDP/default/token?sub=softioc&password=nope")" "403"
v=$(curl -sG --data-urlencode "token=${TOKEN}x" "$IDP/default/verify")
echo "$v" | grep -q '"valid":false' && pass "the issuer says valid:false for a bad signature" || fail "the issuer says valid:false for a bad signature" "$v"
curl -s "$IDP/.well-known/jwks.json" > jwks.json
"$PY" -c 'import json,sys; k=json.load(open("jwks.json"))["keys"]; assert len(k)==1 and k[0]["kid"]=="demo-key-1" and k[0]["alg"]=="RS256" and k[0]["kty"]=="RSA"' \
  && pass "the issuer publishes its key as a JWKS" || fail "the issuer publishes its key as a JWKS" "$(cat jwks.json)"

# ---- cert info on certificates and keychains made by openssl ----

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
  -subj "/CN=EPICS Root Certificate Authority/C=US/O=certs.epics.org/OU=EPICS Certificate Authority" \
  -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ent.key \
  -subj "/CN=softioc/O=localhost" -out ent.csr 2>/dev/null
openssl x509 -req -in ent.csr -CA ca.pem -CAkey ca.key -set_serial 3826361579604613180 \
  -days 1 -out ent.pem 2>/dev/null
openssl pkcs12 -export -inkey ent.key -in ent.pem -certfile ca.pem -passout pass: -out ent.p12
openssl pkcs12 -export -inkey ent.key -in ent.pem -passout pass:hunter2 -out locked.p12
openssl x509 -in ent.pem -outform DER -out ent.der

# What the details must say, from openssl and Python's cryptography.
want_id=$(cert_id ent.pem)
pvxs_date() { date -u -d "$(openssl x509 -in ent.pem -noout "-$1" | cut -d= -f2)" '+%a %b %d %H:%M:%S %Y UTC'; }
want="Certificate Details:
============================================
Certificate ID : $want_id
Entity Subject : CN=softioc, O=localhost
Issuer Subject : CN=EPICS Root Certificate Authority, C=US, O=certs.epics.org, OU=EPICS Certificate Authority
Valid From     : $(pvxs_date startdate)
Expires On     : $(pvxs_date enddate)
--------------------------------------------"
# A build without OpenSSL reads no PKCS#12 and says so.
KC=ent.p12
if [ "$NOSSL" = 1 ]; then
  expect_fail "cert info: no PKCS#12 without OpenSSL, said clearly" \
    "^Error: ent.p12: .*built without OpenSSL \(OPENSSL=0\): no PKCS#12" "$T" cert info ent.p12
  KC=ent.pem
fi
for f in $KC ent.pem ent.der; do
  same "cert info $f prints the Certificate Details block" "$("$T" cert info "$f" 2>&1)" "$want"
done
case "$want_id" in 47530d89:*|*:3826361579604613180) pass "the identifier ends with the decimal serial" ;; *) fail "the identifier ends with the decimal serial" "$want_id" ;; esac
j=$("$T" cert info $KC --json 2>&1)
"$PY" - "$j" "$want_id" <<'PY' && pass "cert info --json" || fail "cert info --json" "$j"
import json, sys
d = json.loads(sys.argv[1])["certificate"]
assert d["id"] == sys.argv[2]
assert d["subject"] == "CN=softioc, O=localhost"
assert d["issuer"].startswith("CN=EPICS Root Certificate Authority")
assert d["not_before"].endswith("+00:00") and d["not_after"] > d["not_before"]
PY
[ "$NOSSL" = 1 ] && locked="built without OpenSSL" || locked="password"
expect_fail "cert info: a keychain with a password is refused clearly" \
  "^Error: locked.p12: .*PKCS#12.*$locked" "$T" cert info locked.p12
expect_fail "cert info: a file that is no certificate" "^Error: token_file: not a certificate" \
  "$T" cert info token_file
expect_fail "cert info: a missing file" "^Error: cannot read nothing-here" "$T" cert info nothing-here
expect_fail "cert info: FILE is required" "FILE is required" "$T" cert info

# ---- the certificate service: a CA whose server kit is for localhost ----

make_service_ca

tok() { curl -s "$IDP/default/token?sub=${1:-softioc}&password=secret${2:-}"; }
# One character of the signature changed (still base64url).
tamper() { local t=$1 i=$((${#1} - 20)) c; c=${t:$i:1}; [ "$c" = A ] && c=B || c=A; printf '%s' "${t:0:$i}$c${t:$((i + 1))}"; }
# A token of the issuer's claims with another header: alg none, or HS256
# keyed with the issuer's public key text (the classic confusion).
forge() {
  "$PY" - "$1" "$2" "$W/idp/idp.pub" <<'PY'
import base64, hashlib, hmac, json, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h, p, s = sys.argv[2].split(".")
if sys.argv[1] == "none":
    print(b64(b'{"alg":"none","typ":"JWT"}') + "." + p + ".")
elif sys.argv[1] == "none-sig":
    print(b64(b'{"alg":"none","typ":"JWT"}') + "." + p + "." + s)
else:
    hd = b64(json.dumps({"alg": "HS256", "kid": "demo-key-1", "typ": "JWT"}).encode())
    mac = hmac.new(open(sys.argv[3], "rb").read(), (hd + "." + p).encode(), hashlib.sha256).digest()
    print(hd + "." + p + "." + b64(mac))
PY
}
pvxs() { date -u -d "@$1" '+%a %b %d %H:%M:%S %Y UTC'; }
claim() { "$PY" -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))[sys.argv[2]])' "$1" "$2"; }

# ---- the quick start, trusted-URI mode, with the seed's settings ----

export EPICS_AUTH_JWT_REQUEST_FORMAT='#token#'
export EPICS_AUTH_JWT_REQUEST_METHOD='GET'
export EPICS_AUTH_JWT_RESPONSE_FORMAT='{ *, "valid": "#response#" }'
export EPICS_AUTH_JWT_TRUSTED_URI="$IDP/default/verify"
DB1="$W/trusted.db"
start_serve serve-trusted.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB1" || exit 1
unset EPICS_AUTH_JWT_REQUEST_FORMAT EPICS_AUTH_JWT_REQUEST_METHOD EPICS_AUTH_JWT_RESPONSE_FORMAT EPICS_AUTH_JWT_TRUSTED_URI
SVC="https://localhost:$SERVE_PORT"
grep -q "JWT authenticator on (trusted URI)" serve-trusted.log && pass "serve reads the EPICS_AUTH_JWT_* settings" || fail "serve reads the EPICS_AUTH_JWT_* settings" "$(cat serve-trusted.log)"

# Terminal 2: the IOC's account
if [ "$NOSSL" = 0 ]; then
  mkdir -p softioc
  out=$(HOME="$W/softioc" XDG_CONFIG_HOME= "$T" authnjwt -u server --token-file token_file --service "$SVC" --ca-cert "$CA" 2>&1)
  KC="$W/softioc/.config/pva/1.3/server.p12"
  id=$(printf '%s\n' "$out" | sed -n 's/^Certificate identifier  : //p')
  same "authnjwt -u server prints the seed's two lines" "$(printf '%s\n' "$out" | sed 's/: .*/:/')" "Keychain file created   :
Certificate identifier  :"
  same "the keychain is where PVXS looks for a server's" "$(printf '%s\n' "$out" | sed -n 's/^Keychain file created   : //p')" "$KC"
  same "the keychain is mode 0600" "$(stat -c %a "$KC" 2>&1)" "600"
  k=$(openssl pkcs12 -in "$KC" -passin pass: -nodes 2>/dev/null)
  [ "$(printf '%s' "$k" | grep -c 'BEGIN CERTIFICATE')" = 2 ] && printf '%s' "$k" | grep -q 'BEGIN PRIVATE KEY' \
    && pass "openssl pkcs12 reads the key, the certificate and the CA" || fail "openssl pkcs12 reads the key, the certificate and the CA" "$k"
  keychain_cert "$KC" > softioc.pem
  same "the keychain's key is the certificate's" "$(openssl pkcs12 -in "$KC" -passin pass: -nodes -nocerts 2>/dev/null | openssl pkey -pubout)" "$(openssl x509 -in softioc.pem -noout -pubkey)"
  same "the printed identifier is the certificate's" "$id" "$(cert_id softioc.pem)"
else
  # No keychain without OpenSSL (test_authnjwt_keychain.sh checks that
  # authnjwt says so first): the same exchange as curl, the certificate PEM.
  post_jwt "$TOKEN" server
  same "the exchange as curl (no PKCS#12 in this build): 200" "$CODE" "200"
  resp_cert softioc.pem
  KC=softioc.pem
  id=$(cert_id softioc.pem)
fi
check "openssl verifies the certificate against the service's root" openssl verify -CAfile "$CA" softioc.pem
info=$("$T" cert info "$KC" 2>&1)
printf '%s\n' "$info" | grep -qx "Entity Subject : CN=softioc, O=localhost" && pass "cert info: CN=softioc, O=localhost" || fail "cert info: CN=softioc, O=localhost" "$info"
printf '%s\n' "$info" | grep -qx "Valid From     : $(pvxs "$(claim "$TOKEN" nbf)")" && pass "the certificate starts at the token's nbf" || fail "the certificate starts at the token's nbf" "$info"
printf '%s\n' "$info" | grep -qx "Expires On     : $(pvxs "$(claim "$TOKEN" exp)")" && pass "the certificate ends at the token's exp" || fail "the certificate ends at the token's exp" "$info"
txt=$(openssl x509 -in softioc.pem -noout -text)
printf '%s' "$txt" | grep -A1 "Extended Key Usage" | grep -qx " *TLS Web Server Authentication" && pass "server usage: serverAuth" || fail "server usage: serverAuth" "$txt"
printf '%s' "$txt" | grep -A1 "Basic Constraints: critical" | grep -q "CA:FALSE" && printf '%s' "$txt" | grep -q "Subject Key Identifier" && printf '%s' "$txt" | grep -q "Authority Key Identifier" \
  && pass "CA:FALSE, SKI and AKI as in the enrollment profile" || fail "CA:FALSE, SKI and AKI as in the enrollment profile" "$txt"
st=$("$T" cert info "$KC" --service "$SVC" --ca-cert "$CA" 2>&1)
printf '%s\n' "$st" | grep -qx "Status        : VALID" && printf '%s\n' "$st" | grep -qx "Certificate ID: $id" \
  && pass "cert info --service: the status block says VALID" || fail "cert info --service: the status block says VALID" "$st"
grep -q "^GET token=$TOKEN auth=Bearer $TOKEN$" idp/requests.log && pass "GET: the token in the query and in Authorization: Bearer" || fail "GET: the token in the query and in Authorization: Bearer" "$(head -c 300 idp/requests.log)"
check "the service's log names no token" bash -c "! grep -q 'eyJ' serve-trusted.log"

# Terminal 3: the client's account, the token from EPICS_AUTH_JWT_FILE
curl -s "$IDP/default/token?sub=client&password=secret" > client_token
if [ "$NOSSL" = 0 ]; then
  mkdir -p client
  out=$(HOME="$W/client" XDG_CONFIG_HOME="$W/client/xdg" EPICS_AUTH_JWT_FILE=client_token "$T" authnjwt --service "$SVC" --ca-cert "$CA" 2>&1)
  printf '%s\n' "$out" | grep -qx "Keychain file created   : $W/client/xdg/pva/1.3/client.p12" && pass "a client's keychain under XDG_CONFIG_HOME" || fail "a client's keychain under XDG_CONFIG_HOME" "$out"
  keychain_cert "$W/client/xdg/pva/1.3/client.p12" > client.pem
  out=$(EPICS_PVAS_TLS_KEYCHAIN="$W/ioc.p12" "$T" authnjwt -u ioc --token-file token_file --service "$SVC" --ca-cert "$CA" 2>&1)
  keychain_cert "$W/ioc.p12" > ioc.pem
  [ -s ioc.pem ] && pass "an IOC's keychain in EPICS_PVAS_TLS_KEYCHAIN" || fail "an IOC's keychain in EPICS_PVAS_TLS_KEYCHAIN" "$out"
  EPICS_PVA_TLS_KEYCHAIN="$W/env.p12" "$T" authnjwt --token-file token_file --service "$SVC" --ca-cert "$CA" >/dev/null 2>&1
  [ -s "$W/env.p12" ] && pass "a client's keychain in EPICS_PVA_TLS_KEYCHAIN" || fail "a client's keychain in EPICS_PVA_TLS_KEYCHAIN"
else
  post_jwt "$(cat client_token)" client && resp_cert client.pem
  post_jwt "$TOKEN" ioc && resp_cert ioc.pem
  post_jwt "$TOKEN" client
fi
same "client: CN=client, O=localhost" "$(openssl x509 -in client.pem -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=client"
openssl x509 -in client.pem -noout -text | grep -A1 "Extended Key Usage" | grep -qx " *TLS Web Client Authentication" && pass "client usage: clientAuth" || fail "client usage: clientAuth"
openssl x509 -in ioc.pem -noout -text | grep -A1 "Extended Key Usage" | grep -q "TLS Web Server Authentication, TLS Web Client Authentication" \
  && pass "ioc usage: both" || fail "ioc usage: both" "$(openssl x509 -in ioc.pem -noout -text 2>&1 | head -c 300)"
same "every certificate is recorded" "$(certs "$DB1")" "4"

# ---- refused, with 401/403 and nothing issued ----
refused "a bad signature (the issuer says invalid): 401" 401 "verifier says the token is not valid" "$(tamper "$TOKEN")" "$DB1"
refused "an expired token: 401" 401 "invalid token" "$(tok softioc '&exp_secs=-120')" "$DB1"
refused "a token not yet valid: 401" 401 "invalid token" "$(tok softioc '&nbf_secs=600')" "$DB1"
refused "another issuer: 401" 401 "invalid token" "$(tok softioc '&iss=http://elsewhere/default')" "$DB1"
refused "alg none: 401 before the issuer is asked" 401 "not (a )?signed" "$(forge none "$TOKEN")" "$DB1"
refused "HS256 keyed with the public key: 401" 401 "invalid token" "$(forge hs256 "$TOKEN")" "$DB1"
refused "not a JWT: 401" 401 "not a signed JWT" "not-a-token" "$DB1"
[ "$NOSSL" = 1 ] && why="cannot write the keychain: this tokenroll was built without OpenSSL" ||
  why="the certificate service refused the token \(HTTP 401\): invalid token"
expect_fail "authnjwt: a refused token is one clear line, nothing written" "^Error: $why" \
  env EPICS_PVA_TLS_KEYCHAIN="$W/refused.p12" "$T" authnjwt --token-file <(tamper "$TOKEN") --service "$SVC" --ca-cert "$CA"
[ ! -e "$W/refused.p12" ] && pass "nothing written for a refused token" || fail "nothing written for a refused token"
stop_serve "$SERVE_PID" && pass "SIGTERM stops the service cleanly (exit 0)" || fail "SIGTERM stops the service cleanly (exit 0)" "$(tail -5 serve-trusted.log)"

# Verifiers that misbehave, each behind a service of its own.
misbehave() {
  local name=$1 uri=$2 code=$3 pat=$4 db="$W/$1.db"; shift 4
  EPICS_AUTH_JWT_REQUEST_METHOD=GET EPICS_AUTH_JWT_RESPONSE_FORMAT='{ *, "valid": "#response#" }' \
    EPICS_AUTH_JWT_TRUSTED_URI="$uri" start_serve "serve-$name.log" --ca-path ws/EPICS_Root_CA --db "sqlite:$db" "$@" || return
  refused "the verifier $name: $code" "$code" "$pat" "$TOKEN" "$db"
  stop_serve "$SERVE_PID"
}
misbehave says-invalid "$IDP/false/verify" 401 "verifier says the token is not valid"
misbehave unreachable "http://127.0.0.1:$(free_port)/default/verify" 401 "cannot be reached"
misbehave odd-answer "$IDP/odd/verify" 401 "does not have the response format"
misbehave oversized "$IDP/big/verify" 401 "answer is too large"
misbehave too-slow "$IDP/slow/verify" 401 "cannot be reached" --jwt-timeout 2
expect_fail "serve: a response format without #response# is refused at start" \
  "^Error: the JWT response format .* no #response#" \
  env EPICS_AUTH_JWT_TRUSTED_URI="$IDP/default/verify" EPICS_AUTH_JWT_RESPONSE_FORMAT='{"valid":true}' \
  "$T" serve --ca-path ws/EPICS_Root_CA --db "sqlite:$W/bad.db" --listen "127.0.0.1:$(free_port)"

# ---- the same, verified here against the issuer's JWKS ----

DB2="$W/local.db"
start_serve serve-local.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB2" \
  --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-issuer "$ISS" || exit 1
if [ "$NOSSL" = 0 ]; then
  out=$(EPICS_PVAS_TLS_KEYCHAIN="$W/local.p12" "$T" authnjwt -u server --token-file token_file --service "https://localhost:$SERVE_PORT" --ca-cert "$CA" 2>&1)
  info=$("$T" cert info "$W/local.p12" 2>&1)
else
  post_jwt "$TOKEN" server && resp_cert local.pem
  out=$RESP info=$("$T" cert info local.pem 2>&1)
fi
printf '%s\n' "$info" | grep -qx "Entity Subject : CN=softioc, O=localhost" && pass "local JWKS mode: CN=softioc, O=localhost" || fail "local JWKS mode: CN=softioc, O=localhost" "$out $info"
refused "local: a bad signature: 401" 401 "signature does not verify" "$(tamper "$TOKEN")" "$DB2"
refused "local: an expired token: 401" 401 "expired" "$(tok softioc '&exp_secs=-120')" "$DB2"
refused "local: a token not yet valid: 401" 401 "not valid yet" "$(tok softioc '&nbf_secs=600')" "$DB2"
refused "local: another issuer: 403" 403 "iss is not the configured issuer" "$(tok softioc '&iss=http://elsewhere/default')" "$DB2"
refused "local: alg none: 401" 401 "not (a )?signed" "$(forge none "$TOKEN")" "$DB2"
refused "local: alg none with a signature: 401" 401 "not signed \(alg none\)" "$(forge none-sig "$TOKEN")" "$DB2"
refused "local: HS256 keyed with the public key: 401" 401 "alg" "$(forge hs256 "$TOKEN")" "$DB2"
stop_serve "$SERVE_PID"
start_serve serve-aud.log --ca-path ws/EPICS_Root_CA --db "sqlite:$W/aud.db" \
  --jwt-key "$W/idp/idp.pub" --jwt-issuer "$ISS" --jwt-audience pvacms || exit 1
refused "local: another audience: 403" 403 "aud" "$TOKEN" "$W/aud.db"
post_jwt "$(tok softioc '&aud=pvacms')" server
same "local, PEM key: the configured audience is accepted" "$CODE" "200"
stop_serve "$SERVE_PID"
check "no sanitizer report in the services' logs" bash -c "! grep -E 'Sanitizer|runtime error' serve-*.log"
