#!/usr/bin/env bash
# tokenroll serve end to end: a provisioned workspace served over HTTPS on
# 127.0.0.1, curl (trusting rootCA.pem only) as the client, openssl-made
# CSRs, openssl verify on what comes back. The same suite runs on SQLite and
# on a PostgreSQL server started here. Every error path must leave the store
# unchanged.
. "$(dirname "$0")/lib.sh"
need curl sqlite3 psql openssl
cd "$W"

"$T" provision -p "$ROOT/tests/vectors/project/token_doc.yml" -w ws >/dev/null 2>&1 ||
  { fail "provision"; exit 1; }
P=$W/ws/my_fl_project
S=$P/prod_00/server.example.com/startup
CA=$S/rootCA.pem
KEY=secret-api-key-$$

# Device keys and CSRs, made by openssl (the subject must not matter).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
  -subj "/CN=not-the-name/O=not-the-org" -out dev.csr 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev2.key \
  -subj "/CN=x" -out dev2.csr 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -subj "/CN=x" -out rsa.csr 2>/dev/null
openssl req -in "$ROOT/tests/vectors/csr/rsa2048_other_key_sig.der" -inform DER -out other.csr 2>/dev/null
# A TLS certificate for localhost from the project's root, so that the
# admin commands (which resolve the name themselves) reach a second serve
# on the same store.
(umask 077; "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_pri_key"])' "$P/state/cert.json" > root.key)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout lh.key -subj /CN=localhost -out lh.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > lh.ext
openssl x509 -req -in lh.csr -CA "$CA" -CAkey root.key -CAcreateserial -days 2 -extfile lh.ext -out lh.crt 2>/dev/null ||
  fail "a localhost TLS certificate from the root"

cat > pending.yaml <<'YML'
approval:
  method: policy
  rules:
    - name: hold-everything
      match: {}
      action: pending
      message: "waiting for review"
YML
cat > rules.yaml <<'YML'
token:
  max_uses: 1
approval:
  method: policy
  rules:
    - name: no-bad-sites
      match:
        site_name_pattern: "bad-*"
      action: reject
      message: "bad sites are not welcome"
    - name: everyone-else
      action: approve
YML
cat > reuse.yaml <<'YML'
token:
  max_uses: 200
YML

# Token text: `token generate -o` writes exactly the token.
# A new file each time (-o refuses to replace one); called in $(...).
mint() { local f="$W/token.$BASHPID.$RANDOM"; "$T" token generate -c "$P" -o "$f" "$@" >/dev/null 2>&1 || return 1; cat "$f"; }

# One character in the middle of the signature changed (still base64url).
tamper() {
  local t=$1 i=$((${#1} - 20)) c
  c=${t:$i:1}; [ "$c" = A ] && c=B || c=A
  printf '%s' "${t:0:$i}$c${t:$((i + 1))}"
}

# body TOKEN CSRFILE NAME [TYPE] [ROLE]: the JSON FLARE's client posts.
body() {
  "$PY" - "$@" <<'PY'
import json, sys
a = sys.argv[1:] + [None, None]
print(json.dumps({"token": a[0], "csr": open(a[1]).read(),
                  "metadata": {"name": a[2], "type": a[3] or "client", "org": None, "role": a[4]}}))
PY
}

# post PATH BODYFILE [curl args]: sets CODE, RESP (body), HDRS.
post() {
  local path=$1 data=$2; shift 2
  CODE=$(curl -s -o resp.json -D hdrs.txt -w '%{http_code}' --cacert "$CA" \
    --resolve "server.example.com:$SERVE_PORT:127.0.0.1" \
    "https://server.example.com:$SERVE_PORT$path" --data-binary "@$data" \
    -H 'Content-Type: application/json' "$@")
  RESP=$(cat resp.json); HDRS=$(cat hdrs.txt)
}
get() {
  local path=$1; shift
  CODE=$(curl -s -o resp.json -w '%{http_code}' --cacert "$CA" \
    --resolve "server.example.com:$SERVE_PORT:127.0.0.1" \
    "https://server.example.com:$SERVE_PORT$path" "$@")
  RESP=$(cat resp.json)
}
jget() { "$PY" -c 'import json,sys; d=json.load(open("resp.json")); print(eval("d"+sys.argv[1]))' "$1" 2>/dev/null; }
enroll() { body "$@" > req.json; post /api/v1/enroll req.json; }

# expect_code NAME CODE PATTERN: the last answer's status and error text.
expect_code() {
  if [ "$CODE" = "$2" ] && printf '%s' "$RESP" | grep -Eq -- "$3"; then pass "$1"
  else fail "$1" "got $CODE $RESP" "expected $2 /$3/"; fi
}

suite() {
  local label=$1 db=$2 state before
  DBQ() { if [ "$label" = sqlite ]; then sqlite3 "${db#sqlite:}" "$1"; else psql -qtA "$db" -c "$1"; fi; }
  state() { DBQ "SELECT (SELECT COUNT(*) FROM tokens)||','||(SELECT COALESCE(SUM(uses),0) FROM tokens)||','||(SELECT COUNT(*) FROM enrolled)||','||(SELECT COUNT(*) FROM pending)||','||(SELECT COUNT(*) FROM pending WHERE status='pending')"; }
  unchanged() { same "$label: $1 leaves the store unchanged" "$(state)" "$before"; }

  start_serve "serve-$label.log" --ca-path "$P" --db "$db" --api-key "$KEY" || return
  port1=$SERVE_PORT; pid1=$SERVE_PID

  if [ "$label" = sqlite ]; then
    same "sqlite: the database is in WAL mode" "$(DBQ 'PRAGMA journal_mode')" "wal"
  fi
  same "$label: schema version 4" "$(DBQ 'SELECT version FROM schema_version')" "4"

  # ---- the happy path ----
  enroll "$(mint -s site-1)" dev.csr site-1
  expect_code "$label: a client enrolls (200)" 200 certificate
  jget '["certificate"]' > site-1.crt
  jget '["ca_cert"]' > ca_from_service.pem
  check "$label: openssl verifies the certificate against rootCA.pem" openssl verify -CAfile "$CA" site-1.crt
  same "$label: ca_cert is the root CA" "$(openssl x509 -in ca_from_service.pem -noout -fingerprint)" "$(openssl x509 -in "$CA" -noout -fingerprint)"
  txt=$(openssl x509 -in site-1.crt -noout -text)
  same "$label: subject is the token's name, not the CSR's" "$(openssl x509 -in site-1.crt -noout -subject)" "subject=CN = site-1"
  same "$label: the certified key is the CSR's" "$(openssl x509 -in site-1.crt -noout -pubkey)" "$(openssl pkey -in dev.key -pubout)"
  printf '%s' "$txt" | grep -A1 "Basic Constraints: critical" | grep -q "CA:FALSE" && pass "$label: CA:FALSE, critical" || fail "$label: CA:FALSE, critical" "$txt"
  printf '%s' "$txt" | grep -A1 "X509v3 Key Usage" | grep -qx " *Digital Signature" && pass "$label: keyUsage digitalSignature only (EC key)" || fail "$label: keyUsage digitalSignature only (EC key)" "$txt"
  printf '%s' "$txt" | grep -A1 "Extended Key Usage" | grep -qx " *TLS Web Client Authentication" && pass "$label: EKU clientAuth only for a client" || fail "$label: EKU clientAuth only for a client" "$txt"
  printf '%s' "$txt" | grep -A1 "Subject Alternative Name" | grep -q "DNS:site-1" && pass "$label: SAN DNS:site-1" || fail "$label: SAN DNS:site-1" "$txt"
  printf '%s' "$txt" | grep -q "Subject Key Identifier" && printf '%s' "$txt" | grep -q "Authority Key Identifier" && pass "$label: SKI and AKI" || fail "$label: SKI and AKI"
  serial=$(openssl x509 -in site-1.crt -noout -serial | cut -d= -f2)
  [ ${#serial} -eq 32 ] && pass "$label: 16-byte serial" || fail "$label: 16-byte serial" "$serial"
  nb=$(date -d "$(openssl x509 -in site-1.crt -noout -startdate | cut -d= -f2)" +%s)
  na=$(date -d "$(openssl x509 -in site-1.crt -noout -enddate | cut -d= -f2)" +%s)
  same "$label: valid 365 days from 5 minutes back" "$((na - nb))" "$((365 * 86400 + 300))"
  check "$label: the service's log names no token" bash -c "! grep -q 'eyJ' serve-$label.log"
  grep -q "POST /api/v1/enroll 200 site-1 " "serve-$label.log" && pass "$label: one log line per request" || fail "$label: one log line per request" "$(cat serve-$label.log)"

  enroll "$(mint -s srv-1 -t server)" rsa.csr srv-1 server
  expect_code "$label: a server enrolls with an RSA CSR" 200 certificate
  jget '["certificate"]' > srv-1.crt
  txt=$(openssl x509 -in srv-1.crt -noout -text)
  printf '%s' "$txt" | grep -A1 "Extended Key Usage" | grep -q "TLS Web Server Authentication, TLS Web Client Authentication\|TLS Web Client Authentication, TLS Web Server Authentication" \
    && pass "$label: EKU serverAuth + clientAuth for a server" || fail "$label: EKU serverAuth + clientAuth for a server" "$txt"
  printf '%s' "$txt" | grep -A1 "X509v3 Key Usage" | grep -q "Key Encipherment" && pass "$label: keyEncipherment for an RSA key" || fail "$label: keyEncipherment for an RSA key" "$txt"
  check "$label: openssl verifies the server certificate (sslserver)" openssl verify -CAfile "$CA" -purpose sslserver srv-1.crt

  enroll "$(mint -s admin@org.example --user -r member)" dev2.csr admin@org.example admin member
  expect_code "$label: a user enrolls with a role" 200 certificate
  jget '["certificate"]' > admin.crt
  openssl x509 -in admin.crt -noout -subject | grep -q "unstructuredName = member" && pass "$label: the role is in unstructuredName" || fail "$label: the role is in unstructuredName" "$(openssl x509 -in admin.crt -noout -subject)"

  # ---- error paths ----
  before=$(state)
  good=$(mint -s site-2)
  bad=$(tamper "$good")
  enroll "$bad" dev.csr site-2
  expect_code "$label: a bad signature is 401" 401 "signature"; unchanged "a bad signature"
  enroll "$(mint -s site-2 -v 1h --issued-at 1700000000)" dev.csr site-2
  expect_code "$label: an expired token is 401" 401 "expired"; unchanged "an expired token"
  enroll "$good" dev.csr site-3
  expect_code "$label: a wrong name is 403" 403 "for site-2, not site-3"; unchanged "a wrong name"
  enroll "$good" dev.csr site-2 server
  expect_code "$label: a wrong type is 403" 403 "client, not a server"; unchanged "a wrong type"
  enroll "$(mint -s site-2 --source-ips 10.0.0.0/8)" dev.csr site-2
  expect_code "$label: a source IP outside the token's list is 403" 403 "token-source-ips"; unchanged "a source IP outside the list"
  enroll "$(mint -s bad-site -p rules.yaml)" dev.csr bad-site
  expect_code "$label: rejected by a rule is 403" 403 "no-bad-sites.*not welcome"; unchanged "a rejecting rule"
  enroll "$good" other.csr site-2
  expect_code "$label: a CSR signed by another key is 400" 400 "proof of possession"; unchanged "a CSR signed by another key"
  head -c 70000 /dev/zero | tr '\0' a > big.json
  post /api/v1/enroll big.json
  expect_code "$label: a body over 64 KiB is 413" 413 "over 65536"; unchanged "a body too large"
  post /api/v1/enroll big.json -H "Transfer-Encoding: chunked"
  expect_code "$label: a chunked body over 64 KiB is 413 too" 413 "over 65536"; unchanged "a chunked body too large"
  printf '{"token": "x", "csr": ' > bad.json
  post /api/v1/enroll bad.json
  expect_code "$label: malformed JSON is 400" 400 "malformed JSON"; unchanged "malformed JSON"
  printf '{"name":"site-9"}' > mint.json
  post /api/v1/token mint.json -H "Authorization: Bearer wrong"
  expect_code "$label: a wrong API key is 401" 401 "API key"; unchanged "a wrong API key"
  post /api/v1/token mint.json
  expect_code "$label: no API key is 401" 401 "API key"
  enroll "$(mint -s site-1)" dev2.csr site-1
  expect_code "$label: an enrolled name is 409 (after the token passed)" 409 "already enrolled"
  enroll "$(tamper "$(mint -s site-1)")" dev.csr site-1
  expect_code "$label: a bad token never learns the name is enrolled" 401 "signature"

  # ---- power cut after an auto-approved enrollment: the device asks again ----
  tpc=$(mint -s site-pc)
  enroll "$tpc" dev.csr site-pc
  expect_code "$label: auto-approved enrollment" 200 certificate
  jget '["certificate"]' > site-pc.crt
  before=$(state)
  enroll "$tpc" dev.csr site-pc
  expect_code "$label: the same token and key again: 200" 200 certificate
  jget '["certificate"]' > site-pc-again.crt
  same "$label: ... with the certificate already issued" "$(openssl x509 -in site-pc-again.crt -noout -serial)" "$(openssl x509 -in site-pc.crt -noout -serial)"
  unchanged "the retry after an auto-approval (nothing spent, nothing signed)"
  enroll "$tpc" dev2.csr site-pc
  expect_code "$label: the same token with another key: 409" 409 "already enrolled"
  enroll "$(mint -s site-pc)" dev.csr site-pc
  expect_code "$label: another token with the same key: 409" 409 "already enrolled"
  unchanged "the refused retries"
  t1=$(mint -s 'pat-*' -t pattern)
  enroll "$t1" dev.csr pat-1
  expect_code "$label: a pattern token enrolls a matching name" 200 certificate
  enroll "$t1" dev.csr pat-2
  expect_code "$label: a max_uses 1 token is spent" 401 "already used"
  enroll "$(mint -s 'pat-*' -t pattern)" dev.csr other-1
  expect_code "$label: a pattern token refuses other names" 403 "pattern"

  # ---- pending, approve, reject ----
  tp=$(mint -s site-p -p pending.yaml)
  enroll "$tp" dev.csr site-p
  expect_code "$label: a pending rule answers 202" 202 '"status":"pending"'
  rid=$(jget '["request_id"]')
  printf '%s' "$HDRS" | grep -qi '^Retry-After: [0-9]' && pass "$label: 202 carries Retry-After" || fail "$label: 202 carries Retry-After" "$HDRS"
  enroll "$tp" dev.csr site-p
  same "$label: retrying while pending gives the same request" "$CODE $(jget '["request_id"]')" "202 $rid"
  enroll "$tp" dev2.csr site-p
  expect_code "$label: another key while pending is 409" 409 "already pending"
  get /api/v1/pending -H "Authorization: Bearer $KEY"
  same "$label: GET /pending lists it" "$(jget '["pending"][0]["name"]')" "site-p"
  get "/api/v1/pending/site-p?entity_type=client" -H "Authorization: Bearer $KEY"
  same "$label: GET /pending/<name> details it" "$(jget '["request_id"]')" "$rid"
  printf '{}' > empty.json
  post /api/v1/pending/site-p/approve empty.json -H "Authorization: Bearer $KEY"
  expect_code "$label: approve" 200 '"status":"approved"'
  post /api/v1/pending/site-p/approve empty.json -H "Authorization: Bearer $KEY"
  expect_code "$label: approving twice is 404" 404 "no pending request"
  enroll "$tp" dev.csr site-p
  expect_code "$label: the device's retry gets its certificate" 200 certificate
  jget '["certificate"]' > site-p.crt
  check "$label: the approved certificate verifies" openssl verify -CAfile "$CA" site-p.crt
  same "$label: it certifies the device's key" "$(openssl x509 -in site-p.crt -noout -pubkey)" "$(openssl pkey -in dev.key -pubout)"
  get /api/v1/enrolled -H "Authorization: Bearer $KEY"
  printf '%s' "$RESP" | grep -q '"name":"site-p"' && pass "$label: approved name is enrolled" || fail "$label: approved name is enrolled" "$RESP"
  tr=$(mint -s site-r -p pending.yaml)
  enroll "$tr" dev.csr site-r
  expect_code "$label: second pending request" 202 pending
  post /api/v1/pending/site-r/reject empty.json -H "Authorization: Bearer $KEY"
  expect_code "$label: reject" 200 '"status":"rejected"'
  enroll "$tr" dev.csr site-r
  expect_code "$label: after a reject the retry is 403" 403 "rejected"
  for n in b1 b2; do enroll "$(mint -s $n -p pending.yaml)" dev.csr $n; done
  printf '{"names":["b1","b2","nobody"]}' > batch.json
  post /api/v1/pending/approve_batch batch.json -H "Authorization: Bearer $KEY"
  same "$label: approve_batch decides each name" "$(jget '["results"][0]["status"]') $(jget '["results"][1]["status"]') $(jget '["results"][2]["error"]')" "approved approved no pending request"

  # ---- minting and public routes ----
  printf '{"name":"minted-1","entity_type":"client","valid_days":2}' > mint.json
  post /api/v1/token mint.json -H "Authorization: Bearer $KEY"
  expect_code "$label: POST /api/v1/token mints" 200 '"token"'
  printf '%s' "$(jget '["token"]')" > minted.jwt
  check "$label: the minted token verifies against the CA" "$T" token info -t minted.jwt --verify -c "$P"
  enroll "$(cat minted.jwt)" dev.csr minted-1
  expect_code "$label: a minted token enrolls" 200 certificate
  printf '{"names":["m-1","m-2"]}' > mint.json
  post /api/v1/token mint.json -H "Authorization: Bearer $KEY"
  same "$label: batch minting" "$(jget '["tokens"][1]["name"]')" "m-2"
  get /health
  expect_code "$label: /health" 200 healthy
  get /api/v1/ca-cert
  same "$label: /api/v1/ca-cert is rootCA.pem" "$(printf '%s' "$RESP" | openssl x509 -noout -fingerprint)" "$(openssl x509 -in "$CA" -noout -fingerprint)"
  get /api/v1/ca-info
  expect_code "$label: /api/v1/ca-info" 200 '"common_name":"my_fl_project"'
  iid=$(jget '["issuer_id"]')
  # PVXS's certificate id: SHA-256 of the issuer Name (DER), 8 hex
  # digits, ':' and the serial in decimal (Python's cryptography computes it)
  same "$label: issuer id is the SHA-256 prefix of the CA's Name" "$iid" \
    "$("$PY" -c 'import hashlib,sys; from cryptography import x509; c=x509.load_pem_x509_certificate(open(sys.argv[1],"rb").read()); print(hashlib.sha256(c.subject.public_bytes()).hexdigest()[:8])' "$CA")"
  dec=$("$PY" -c 'import sys; print(int(sys.argv[1], 16))' "$serial")
  get "/api/v1/cert/$iid:$dec"
  expect_code "$label: certificate status by id (decimal serial)" 200 '"status":"VALID".*"name":"site-1"'
  get "/api/v1/cert/00000000:$dec"
  expect_code "$label: certificate status for another issuer is 404" 404 "unknown issuer"
  get "/api/v1/cert/$iid:12345"
  expect_code "$label: unknown serial is 404" 404 "no certificate"
  get "/api/v1/cert/$iid:$serial"
  expect_code "$label: a hex serial is not an id: 400" 400 "decimal serial"

  # ---- revocation ----
  printf '{"reason":"key compromised"}' > revoke.json
  post "/api/v1/cert/$iid:$dec/revoke" revoke.json -H "Authorization: Bearer wrong"
  expect_code "$label: revoking with a wrong API key is 401" 401 "API key"
  post "/api/v1/cert/$iid:12345/revoke" revoke.json -H "Authorization: Bearer $KEY"
  expect_code "$label: revoking an unknown certificate is 404" 404 "no certificate"
  get "/api/v1/cert/$iid:$dec"
  expect_code "$label: still VALID after the refused revocations" 200 '"status":"VALID"'
  post "/api/v1/cert/$iid:$dec/revoke" revoke.json -H "Authorization: Bearer $KEY"
  expect_code "$label: revoke by certificate id (curl)" 200 '"status":"REVOKED".*"revocation_reason":"key compromised"'
  at=$(jget '["revoked_at"]')
  printf '{"reason":"second thoughts"}' > revoke2.json
  post "/api/v1/cert/$iid:$dec/revoke" revoke2.json -H "Authorization: Bearer $KEY"
  same "$label: revoking again is the same 200, the first revocation kept" \
    "$CODE $(jget '["revoked_at"]') $(jget '["revocation_reason"]')" "200 $at key compromised"
  get "/api/v1/cert/$iid:$dec"
  expect_code "$label: the status route answers REVOKED" 200 '"status":"REVOKED".*"name":"site-1"'
  get /api/v1/enrolled -H "Authorization: Bearer $KEY"
  same "$label: the enrolled list marks it revoked" \
    "$("$PY" -c 'import json; print([e["status"] for e in json.load(open("resp.json"))["enrolled"] if e["name"] in ("site-1", "srv-1")])')" "['REVOKED', 'VALID']"
  same "$label: one audit line for the revocation" \
    "$(DBQ "SELECT COUNT(*) FROM audit WHERE line LIKE '%\"event\":\"revoke\"%' AND line LIKE '%\"reason\":\"key compromised\"%'")" "1"
  # the command, on the power-cut certificate, through a second node
  start_serve "serve-$label-lh.log" --ca-path "$P" --cert lh.crt --key lh.key --db "$db" --api-key "$KEY" || return
  pid_lh=$SERVE_PID
  LH=https://localhost:$SERVE_PORT
  out=$("$T" enrollment enrolled --cert-service "$LH" --api-key "$KEY" --ca-cert "$CA" 2>&1)
  same "$label: enrollment enrolled shows each one's status" \
    "$(printf '%s\n' "$out" | awk '$1 == "NAME" || $1 == "site-1" || $1 == "srv-1" {print $1, $(NF-1)}' | tr '\n' ' ')" \
    "NAME STATUS site-1 REVOKED srv-1 VALID "
  pcid=$("$T" cert info site-pc.crt --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["certificate"]["id"])')
  out=$("$T" cert revoke "$pcid" --cert-service "$LH" --api-key wrong --ca-cert "$CA" 2>&1); rc=$?
  [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q "^Error: .*401\|^Error: .*API key" && pass "$label: cert revoke with a wrong key fails (401)" || fail "$label: cert revoke with a wrong key fails (401)" "$rc $out"
  out=$("$T" cert revoke "${pcid%%:*}:99999" --cert-service "$LH" --api-key "$KEY" --ca-cert "$CA" 2>&1); rc=$?
  [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q "^Error: .*404.*no certificate" && pass "$label: cert revoke of an unknown id fails (404)" || fail "$label: cert revoke of an unknown id fails (404)" "$rc $out"
  out=$(NVFLARE_CERT_SERVICE_URL="$LH" NVFLARE_API_KEY="$KEY" \
    "$T" cert revoke "$pcid" --ca-cert "$CA" --reason "device retired" 2>&1)
  printf '%s' "$out" | grep -q "^Certificate $pcid (site-pc) revoked at .*: device retired$" && pass "$label: cert revoke (the command)" || fail "$label: cert revoke (the command)" "$out"
  long=$(head -c 100000 /dev/zero | tr '\0' 1)
  out=$("$T" cert revoke "${pcid%%:*}:$long" --cert-service "$LH" --api-key "$KEY" --ca-cert "$CA" 2>&1); rc=$?
  [ "$rc" -eq 1 ] && [ "${#out}" -lt 400 ] && printf '%s' "$out" | grep -q '^Error: certificate id ".*(100009 characters).*" is not' && pass "$label: cert revoke of a 100,000-digit id: one short error line" || fail "$label: cert revoke of a 100,000-digit id: one short error line" "$rc ${out:0:300}"
  out=$("$T" cert revoke "$pcid" --cert-service "$LH" --api-key "$KEY" --ca-cert "$CA" --json 2>&1)
  same "$label: cert revoke again --json: REVOKED, first reason" "$(printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["revocation_reason"])')" "REVOKED device retired"
  out=$("$T" cert info site-pc.crt --service "$LH" --ca-cert "$CA" 2>&1)
  printf '%s' "$out" | grep -q "^Status        : REVOKED$" && printf '%s' "$out" | grep -q "^Revoked On    : " && pass "$label: cert info --service shows REVOKED" || fail "$label: cert info --service shows REVOKED" "$out"
  stop_serve "$pid_lh"; SERVE_PORT=$port1
  enroll "$tpc" dev.csr site-pc
  expect_code "$label: a revoked certificate is not handed out again" 403 "revoked"
  get /nope
  expect_code "$label: unknown route is 404 JSON" 404 '"error"'
  get /api/v1/enroll
  expect_code "$label: wrong method is 405" 405 '"error"'

  # ---- two processes, one database: one max_uses 1 token, 64 at once ----
  start_serve "serve-$label-2.log" --ca-path "$P" --db "$db" --api-key "$KEY" || return
  port2=$SERVE_PORT; pid2=$SERVE_PID
  race=$(mint -s 'race-*' -t pattern)
  : > race.cfg
  for i in $(seq 1 64); do
    body "$race" dev.csr "race-$i" > "race-$i.json"
    port=$([ $((i % 2)) -eq 0 ] && echo "$port2" || echo "$port1")
    [ "$i" -gt 1 ] && echo next >> race.cfg
    printf 'url = "https://server.example.com:%s/api/v1/enroll"\ndata-binary = "@race-%s.json"\noutput = "race-%s.out"\nwrite-out = "%%{http_code}\\n"\n-H "Content-Type: application/json"\nresolve = "server.example.com:%s:127.0.0.1"\ncacert = "%s"\nsilent\n' \
      "$port" "$i" "$i" "$port" "$CA" >> race.cfg
  done
  codes=$(curl --parallel --parallel-immediate --parallel-max 64 -K race.cfg)
  same "$label: 64 concurrent enrollments with one max_uses 1 token on two nodes: one certificate" \
    "$(printf '%s\n' "$codes" | grep -c '^200$') $(printf '%s\n' "$codes" | grep -c '^401$')" "1 63"
  same "$label: the store holds one enrollment for the race token" "$(DBQ "SELECT COUNT(*) FROM enrolled WHERE name LIKE 'race-%'")" "1"
  stop_serve "$pid2"

  # ---- kill -9 while 100 enrollments run; restart ----
  many=$(mint -s 'crash-*' -t pattern -p reuse.yaml)
  jti=$("$T" token info -t "$many" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token_id"])')
  : > crash.cfg
  for i in $(seq 1 100); do
    body "$many" dev.csr "crash-$i" > "crash-$i.json"
    [ "$i" -gt 1 ] && echo next >> crash.cfg
    printf 'url = "https://server.example.com:%s/api/v1/enroll"\ndata-binary = "@crash-%s.json"\noutput = "crash-%s.out"\nwrite-out = "crash-%s %%{http_code}\\n"\n-H "Content-Type: application/json"\nresolve = "server.example.com:%s:127.0.0.1"\ncacert = "%s"\nlimit-rate = "1k"\nsilent\n' \
      "$port1" "$i" "$i" "$i" "$port1" "$CA" >> crash.cfg
  done
  # Each request sends its body at 1 KB/s (limit-rate in each block of
  # crash.cfg: about 1.7 s a request), so the 100 take seconds whatever
  # the machine's speed, and the kill below lands while most are in flight.
  curl --parallel --parallel-max 16 -K crash.cfg > crash.codes &
  cpid=$!
  # Kill once a few have landed, while the rest are in flight.
  for i in $(seq 1 400); do
    [ "$(DBQ "SELECT COUNT(*) FROM enrolled WHERE name LIKE 'crash-%'")" -ge 5 ] && break
    sleep 0.02
  done
  # The 16 of a batch commit within milliseconds of each other: give
  # their answers time to leave (the next batch is 1.7 s away).
  sleep 0.3
  kill -9 "$pid1"; wait "$cpid" 2>/dev/null
  ok=$(grep -c ' 200$' crash.codes)
  [ "$ok" -gt 0 ] && [ "$ok" -lt 100 ] && pass "$label: killed mid-run ($ok of 100 answered 200)" || fail "$label: killed mid-run" "$ok answered 200"
  start_serve "serve-$label-3.log" --ca-path "$P" --db "$db" --api-key "$KEY" || return
  pid1=$SERVE_PID
  missing=0
  for n in $(awk '$2 == 200 {print $1}' crash.codes); do
    [ "$(DBQ "SELECT COUNT(*) FROM enrolled WHERE name = '$n'")" = 1 ] || missing=$((missing + 1))
  done
  same "$label: every 200 is in the store after the restart" "$missing" "0"
  same "$label: no use of the token without its certificate" \
    "$(DBQ "SELECT uses FROM tokens WHERE jti = '$jti'")" "$(DBQ "SELECT COUNT(*) FROM enrolled WHERE jti = '$jti'")"
  enroll "$many" dev.csr crash-after
  expect_code "$label: the restarted service enrolls" 200 certificate
  stop_serve "$pid1" && pass "$label: SIGTERM stops the service cleanly (exit 0)" || fail "$label: SIGTERM stops the service cleanly (exit 0)" "$(tail -5 "serve-$label-3.log")"
  check "$label: no sanitizer report in the service's logs" bash -c "! grep -E 'Sanitizer|runtime error' serve-$label*.log"
}

suite sqlite "sqlite:$W/service.db"
start_postgres
suite postgresql "$PG_URL"

# ---- a P-256 CA: ES256 tokens through the service's libcrypto verifier ----
"$T" provision -p "$ROOT/tests/vectors/project/token_doc.yml" -w ws-ec --key-type ec >/dev/null 2>&1 ||
  fail "provision --key-type ec"
P=$W/ws-ec/my_fl_project
CA=$P/prod_00/server.example.com/startup/rootCA.pem
start_serve serve-ec.log --ca-path "$P" --db "sqlite:$W/service-ec.db" && {
  good=$(mint -s ec-site-1)
  enroll "$(tamper "$good")" dev.csr ec-site-1
  expect_code "ec: a bad ES256 signature is 401" 401 "signature"
  enroll "$good" dev.csr ec-site-1
  expect_code "ec: a client enrolls under an ES256 token (200)" 200 certificate
  jget '["certificate"]' > ec-site-1.crt
  check "ec: openssl verifies the certificate against the P-256 root" openssl verify -CAfile "$CA" ec-site-1.crt
  # The handshake: ECDHE over X25519, AES-128-GCM first (the server's
  # order), AEAD suites only.
  tls() { echo | openssl s_client -connect "127.0.0.1:$SERVE_PORT" -servername server.example.com "$@" 2>&1; }
  out=$(tls -tls1_3)
  printf '%s' "$out" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" && printf '%s' "$out" | grep -q "Temp Key: X25519" &&
    pass "ec: TLS 1.3 with TLS_AES_128_GCM_SHA256 over X25519" || fail "ec: TLS 1.3 with TLS_AES_128_GCM_SHA256 over X25519" "$out"
  out=$(tls -tls1_2)
  printf '%s' "$out" | grep -q "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" &&
    pass "ec: TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256" || fail "ec: TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256" "$out"
  out=$(tls -tls1_2 -cipher 'AES128-SHA:ECDHE-ECDSA-AES128-SHA:DHE-RSA-AES128-GCM-SHA256')
  printf '%s' "$out" | grep -q "Cipher is (NONE)\|handshake failure\|no cipher" &&
    pass "ec: no static-RSA, CBC or DHE suite is accepted" || fail "ec: no static-RSA, CBC or DHE suite is accepted" "$out"
  stop_serve "$SERVE_PID"
}
