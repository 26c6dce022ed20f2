#!/usr/bin/env bash
# tokenroll authnjwt's keychain: a password from the file PVXS reads it from
# (EPICS_PVA_TLS_KEYCHAIN_PWD_FILE, for servers and IOCs
# EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE), opened by openssl pkcs12 and Python's
# cryptography; an unreadable password file stops it before the service is
# asked; and a build without OpenSSL (make OPENSSL=0, build/nossl), which
# cannot write PKCS#12, stops just as cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authnjwt_lib.sh"

idp_http
curl -s "$IDP/default/token?sub=softioc&password=secret" > token_file
make_service_ca
DB="$W/keychain.db"
EPICS_AUTH_JWT_REQUEST_FORMAT='#token#' EPICS_AUTH_JWT_REQUEST_METHOD=GET \
  EPICS_AUTH_JWT_RESPONSE_FORMAT='{ *, "valid": "#response#" }' EPICS_AUTH_JWT_TRUSTED_URI="$IDP/default/verify" \
  start_serve serve.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB" || exit 1
SVC="https://localhost:$SERVE_PORT"
asked() { grep -c "^GET token=" idp/requests.log 2>/dev/null || echo 0; }
authnjwt() { "${BIN:-$T}" authnjwt --token-file token_file --service "$SVC" --ca-cert "$CA" "$@"; }
# nothing_done NAME HOME_DIR CERTS ASKED: no keychain, not even its folder,
# under HOME_DIR; the service issued nothing and did not ask the issuer.
nothing_done() {
  if [ -z "$(ls -A "$2")" ] && [ "$(certs "$DB")" = "$3" ] && [ "$(asked)" = "$4" ]; then
    pass "$1"
  else
    fail "$1" "files: $(find "$2" | head -5 | tr '\n' ' ')" "certificates $3 -> $(certs "$DB"), issuer asked $4 -> $(asked)"
  fi
}

if [ "$NOSSL" = 0 ]; then
  # ---- a server's keychain under the password PVXS will read ----
  printf 'correct horse battery\n' > server.pwd
  out=$(EPICS_PVAS_TLS_KEYCHAIN="$W/server.p12" EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE=server.pwd authnjwt -u server 2>&1)
  printf '%s\n' "$out" | grep -qx "Keychain file created   : $W/server.p12" &&
    pass "authnjwt -u server with EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE" ||
    fail "authnjwt -u server with EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE" "$out"
  same "the keychain is mode 0600" "$(stat -c %a server.p12 2>&1)" "600"
  k=$(openssl pkcs12 -in server.p12 -passin file:server.pwd -nodes 2>/dev/null)
  [ "$(printf '%s' "$k" | grep -c 'BEGIN CERTIFICATE')" = 2 ] && printf '%s' "$k" | grep -q 'BEGIN PRIVATE KEY' &&
    pass "openssl pkcs12 -passin file: reads the key, the certificate and the CA" ||
    fail "openssl pkcs12 -passin file: reads the key, the certificate and the CA" "$(printf '%s' "$k" | head -c 300)"
  keychain_cert server.p12 file:server.pwd > server.pem
  same "the keychain's key is the certificate's" \
    "$(openssl pkcs12 -in server.p12 -passin file:server.pwd -nodes -nocerts 2>/dev/null | openssl pkey -pubout)" \
    "$(openssl x509 -in server.pem -noout -pubkey 2>&1)"
  expect_fail "the empty password does not open it" "[Mm]ac verify|invalid password|error" \
    openssl pkcs12 -in server.p12 -passin pass: -nodes
  expect_fail "nor does the password with its line end" "[Mm]ac verify|invalid password|error" \
    openssl pkcs12 -in server.p12 -passin "pass:correct horse battery
" -nodes
  "$PY" - <<'PY' && pass "Python's cryptography opens it with the password" || fail "Python's cryptography opens it with the password"
from cryptography.hazmat.primitives.serialization import pkcs12
key, cert, cas = pkcs12.load_key_and_certificates(open("server.p12", "rb").read(), b"correct horse battery")
assert key is not None and cert is not None and len(cas) == 1
assert cert.subject.rfc4514_string() == "O=localhost,CN=softioc", cert.subject.rfc4514_string()
PY
  expect_fail "tokenroll cert info says the keychain needs a password" "^Error: server.p12: .*password.*--password-file" \
    "$T" cert info server.p12
  out=$("$T" cert info server.p12 --password-file server.pwd 2>&1)
  serial=$(printf '%s\n' "$out" | sed -n 's/^Certificate ID : [0-9a-f]*:\([0-9]*\)$/\1/p')
  printf '%s\n' "$out" | grep -q "^Entity Subject : CN=softioc, O=localhost$" &&
    [ -n "$serial" ] && "$PY" -c "import sys; sys.exit(int(sys.argv[1], 16) != $serial)" "$(openssl x509 -in server.pem -noout -serial | sed 's/^serial=//')" &&
    pass "cert info --password-file opens the locked keychain (its certificate's serial, as openssl reads it)" ||
    fail "cert info --password-file opens the locked keychain (its certificate's serial, as openssl reads it)" "$out"
  printf 'wrong\n' > wrong.pwd
  expect_fail "cert info with a wrong password file: says so" "^Error: server.p12: .*the password does not open it" \
    "$T" cert info server.p12 --password-file wrong.pwd
  head -c 5000 /dev/zero | tr '\0' p > big.pwd
  expect_fail "cert info with a 5,000-byte password file: too large" "^Error: cannot read the password file big.pwd: file too large" \
    "$T" cert info server.p12 --password-file big.pwd
  expect_fail "cert info with a folder as the password file" "^Error: cannot read the password file $W: is a directory" \
    "$T" cert info server.p12 --password-file "$W"
  rm -f pw.fifo; mkfifo pw.fifo; (printf 'correct horse battery\n' > pw.fifo &)
  out=$(timeout 10 "$T" cert info server.p12 --password-file pw.fifo 2>&1)
  printf '%s\n' "$out" | grep -q "^Entity Subject : CN=softioc, O=localhost$" &&
    pass "cert info reads the password from a FIFO" || fail "cert info reads the password from a FIFO" "$out"
  expect_fail "cert info with a missing password file: names it" "^Error: cannot read the password file $W/none.pwd: no such file" \
    "$T" cert info server.p12 --password-file "$W/none.pwd"

  # ---- a client's: its own variable; the server's is not for clients ----
  printf 'client pass' > client.pwd
  EPICS_PVA_TLS_KEYCHAIN="$W/client.p12" EPICS_PVA_TLS_KEYCHAIN_PWD_FILE=client.pwd \
    EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE=server.pwd authnjwt >/dev/null 2>&1
  same "a client's keychain under EPICS_PVA_TLS_KEYCHAIN_PWD_FILE (no line end)" \
    "$(keychain_cert client.p12 file:client.pwd | openssl x509 -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=softioc"
  EPICS_PVA_TLS_KEYCHAIN="$W/client2.p12" EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE=server.pwd authnjwt >/dev/null 2>&1
  same "a client ignores the server's password file: empty password" \
    "$(keychain_cert client2.p12 | openssl x509 -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=softioc"
  : > empty.pwd
  EPICS_PVAS_TLS_KEYCHAIN="$W/ioc.p12" EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE=empty.pwd authnjwt -u ioc >/dev/null 2>&1
  same "an empty password file: the empty password" \
    "$(keychain_cert ioc.p12 | openssl x509 -noout -subject -nameopt RFC2253)" "subject=O=localhost,CN=softioc"

  # ---- a password file that cannot be read: stop before anything ----
  mkdir -p home
  n=$(certs "$DB") a=$(asked)
  expect_fail "an unreadable password file: one clear line" \
    "^Error: EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE $W/none.pwd: cannot read the keychain password" \
    env HOME="$W/home" XDG_CONFIG_HOME= EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE="$W/none.pwd" "$T" authnjwt -u server \
    --token-file token_file --service "$SVC" --ca-cert "$CA"
  nothing_done "... nothing written, nothing issued, the issuer not asked" home "$n" "$a"
fi

# ---- the build without OpenSSL: no PKCS#12, said before anything ----
BIN=
[ "$NOSSL" = 1 ] && BIN=$T
[ -z "$BIN" ] && [ -x "$ROOT/build/nossl/tokenroll" ] && BIN="$ROOT/build/nossl/tokenroll"
if [ -n "$BIN" ]; then
  mkdir -p nossl-home
  n=$(certs "$DB") a=$(asked)
  expect_fail "OPENSSL=0: authnjwt says it cannot write the keychain" \
    "^Error: cannot write the keychain: this tokenroll was built without OpenSSL \(OPENSSL=0\): no PKCS#12$" \
    env HOME="$W/nossl-home" XDG_CONFIG_HOME= "$BIN" authnjwt -u server --token-file token_file --service "$SVC" --ca-cert "$CA"
  nothing_done "OPENSSL=0: nothing written, nothing issued, the issuer not asked" nossl-home "$n" "$a"
  out=$(HOME="$W/nossl-home" "$BIN" authnjwt -u server --token-file token_file --service "$SVC" --ca-cert "$CA" 2>&1)
  same "OPENSSL=0: the error is one line" "$(printf '%s\n' "$out" | wc -l)" "1"
else
  echo "SKIP: no build without OpenSSL here (make OPENSSL=0 builds build/nossl/tokenroll)"
fi
stop_serve "$SERVE_PID"
check "the service's log names no token" bash -c "! grep -q 'eyJ' serve.log"
check "no sanitizer report in the service's log" bash -c "! grep -E 'Sanitizer|runtime error' serve.log"
