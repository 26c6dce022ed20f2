#!/usr/bin/env bash
# The JWT authenticator (the EPICS PVXS quick start, on tokenroll): the
# quick start's issuer (tests/e2e/idp.py, Flask + PyJWT), tokenroll cert info
# against openssl-made certificates and keychains, and the exchange of the
# issuer's tokens for certificates through tokenroll serve.
. "$(dirname "$0")/lib.sh"
need openssl curl py:flask py:jwt py:cryptography
cd "$W"

# ---- the quick start's issuer ----

IDP_PORT=$(free_port)
mkdir -p idp
"$PY" "$ROOT/tests/e2e/idp.py" "$IDP_PORT" "$W/idp" >idp/log 2>&1 &
IDP_PID=$!
on_exit "kill $IDP_PID 2>/dev/null; wait $IDP_PID 2>/dev/null"
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$IDP_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
IDP="http://localhost:$IDP_PORT"
ISS="$IDP/default"

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
want_id=$("$PY" - <<'PY'
import hashlib
from cryptography import x509
c = x509.load_pem_x509_certificate(open("ent.pem", "rb").read())
print(hashlib.sha256(c.issuer.public_bytes()).hexdigest()[:8] + ":" + str(c.serial_number))
PY
)
pvxs_date() { date -u -d "$(openssl x509 -in ent.pem -noout "-$1" | cut -d= -f2)" '+%a %b %d %H:%M:%S %Y UTC'; }
want="Certificate Details:
============================================
Certificate ID : $want_id
Entity Subject : CN=softioc, O=localhost
Issuer Subject : CN=EPICS Root Certificate Authority, C=US, O=certs.epics.org, OU=EPICS Certificate Authority
Valid From     : $(pvxs_date startdate)
Expires On     : $(pvxs_date enddate)
--------------------------------------------"
for f in ent.p12 ent.pem ent.der; do
  same "cert info $f prints the Certificate Details block" "$("$T" cert info "$f" 2>&1)" "$want"
done
case "$want_id" in 47530d89:*|*:3826361579604613180) pass "the identifier ends with the decimal serial" ;; *) fail "the identifier ends with the decimal serial" "$want_id" ;; esac
j=$("$T" cert info ent.p12 --json 2>&1)
"$PY" - "$j" "$want_id" <<'PY' && pass "cert info --json" || fail "cert info --json" "$j"
import json, sys
d = json.loads(sys.argv[1])["certificate"]
assert d["id"] == sys.argv[2]
assert d["subject"] == "CN=softioc, O=localhost"
assert d["issuer"].startswith("CN=EPICS Root Certificate Authority")
assert d["not_before"].endswith("+00:00") and d["not_after"] > d["not_before"]
PY
expect_fail "cert info: a keychain with a password is refused clearly" \
  "^Error: locked.p12: .*PKCS#12.*password" "$T" cert info locked.p12
expect_fail "cert info: a file that is no certificate" "^Error: token_file: not a certificate" \
  "$T" cert info token_file
expect_fail "cert info: a missing file" "^Error: cannot read nothing-here" "$T" cert info nothing-here
expect_fail "cert info: FILE is required" "FILE is required" "$T" cert info
