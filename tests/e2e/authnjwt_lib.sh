# tests/e2e/authnjwt_lib.sh — what the JWT authenticator's scripts
# (test_authnjwt*.sh) share: the quick start's issuer (idp.py), a CA for the
# service, and the exchange as curl does it. Source it after lib.sh: it
# checks for the peers all of them use and moves to $W.
need openssl curl sqlite3 py:flask py:jwt py:cryptography
cd "$W" || exit 1

# The build without OpenSSL (make OPENSSL=0, build/nossl) writes no PKCS#12.
NOSSL=0
case "${TKR_BUILD:-}" in */nossl*) NOSSL=1 ;; esac

# start_idp DIR PORT [VAR=VALUE...]: idp.py on 127.0.0.1:PORT with its key
# and logs in $W/DIR (environment VAR=VALUE, e.g. IDP_TLS_CERT), killed at
# exit; returns once it accepts connections. Sets IDP_PID.
start_idp() {
  local dir=$1 port=$2 i; shift 2
  mkdir -p "$W/$dir"
  env "$@" "$PY" "$ROOT/tests/e2e/idp.py" "$port" "$W/$dir" >"$W/$dir/log" 2>&1 &
  IDP_PID=$!
  on_exit "kill $IDP_PID 2>/dev/null; wait $IDP_PID 2>/dev/null"
  for i in $(seq 100); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
      "$port" 2>/dev/null && return 0
    kill -0 "$IDP_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "the issuer $dir starts" "$(tail -5 "$W/$dir/log")"
  return 1
}

# idp_http [DIR]: the issuer over plain http on a free loopback port, as
# in the quick start; sets IDP_PORT, IDP (http://localhost:PORT) and ISS.
idp_http() {
  IDP_PORT=$(free_port)
  start_idp "${1:-idp}" "$IDP_PORT" || exit 1
  IDP="http://localhost:$IDP_PORT"
  ISS="$IDP/default"
}

# make_service_ca: a CA whose server kit is for localhost, for tokenroll
# serve (--ca-path ws/EPICS_Root_CA). Sets CA, its root certificate.
make_service_ca() {
  cat > "$W/project.yml" <<'YML'
api_version: 3
name: EPICS_Root_CA
participants:
  - name: localhost
    type: server
    org: epics
    fed_learn_port: 8002
    admin_port: 8003
YML
  "$T" provision -p "$W/project.yml" -w "$W/ws" >/dev/null 2>&1 || { fail "provision a CA for the service"; exit 1; }
  CA="$W/ws/EPICS_Root_CA/prod_00/localhost/startup/rootCA.pem"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/dev.key" \
    -subj "/CN=not-the-sub" -out "$W/dev.csr" 2>/dev/null
}

# post_jwt TOKEN [USAGE]: POST /api/v1/authn/jwt to the service on
# $SERVE_PORT as curl; sets CODE and RESP.
post_jwt() {
  "$PY" -c 'import json,sys; print(json.dumps({"jwt": sys.argv[1], "csr": open(sys.argv[3]).read(), "usage": sys.argv[2]}))' \
    "$1" "${2:-client}" "$W/dev.csr" > "$W/jwt_req.json"
  CODE=$(curl -s -o "$W/resp.json" -w '%{http_code}' --cacert "$CA" \
    "https://localhost:$SERVE_PORT/api/v1/authn/jwt" --data-binary @"$W/jwt_req.json" \
    -H 'Content-Type: application/json')
  RESP=$(cat "$W/resp.json")
}
certs() { sqlite3 "$1" "SELECT COUNT(*) FROM certs"; }
# refused NAME CODE PATTERN TOKEN DB: CODE with PATTERN in the error, and
# no certificate recorded.
refused() {
  local before; before=$(certs "$5")
  post_jwt "$4"
  if [ "$CODE" = "$2" ] && printf '%s' "$RESP" | grep -Eq -- "$3" && [ "$(certs "$5")" = "$before" ]; then
    pass "$1"
  else
    fail "$1" "got $CODE $RESP (certificates $before -> $(certs "$5"))" "expected $2 /$3/"
  fi
}
# accepted NAME TOKEN DB: 200 and one more certificate recorded.
accepted() {
  local before; before=$(certs "$3")
  post_jwt "$2"
  if [ "$CODE" = 200 ] && [ "$(certs "$3")" = $((before + 1)) ]; then
    pass "$1"
  else
    fail "$1" "got $CODE $RESP (certificates $before -> $(certs "$3"))" "expected 200"
  fi
}
keychain_cert() { openssl pkcs12 -in "$1" -passin "${2:-pass:}" -nokeys -clcerts 2>/dev/null | openssl x509; }
# resp_cert OUT: the certificate of the last post_jwt answer, as PEM.
resp_cert() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificate"].strip())' "$W/resp.json" > "$1"; }
# cert_id FILE: PVXS's certificate identifier, <first 8 hex of SHA-256 of
# the issuer's DER name>:<decimal serial>, as Python's cryptography sees it.
cert_id() {
  "$PY" - "$1" <<'PY'
import hashlib, sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
print(hashlib.sha256(c.issuer.public_bytes()).hexdigest()[:8] + ":" + str(c.serial_number))
PY
}
