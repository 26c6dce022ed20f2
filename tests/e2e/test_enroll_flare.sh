#!/usr/bin/env bash
# The device's enrollment against FLARE's certificate service: the
# stand-in tests/e2e/flare_service.py answers as the draft's routes.py
# does (no request_id or Retry-After on 202, 409 before the token, 401 for
# the token, 403 for the policy, FLARE's certificate profile), with the
# CA FLARE's provision wrote (vectors/flare/cert.json). The kit's start.sh
# and `tokenroll enroll` over http on loopback and over https; the request
# bytes checked against what the service requires; openssl judges the
# certificate.
. "$(dirname "$0")/lib.sh"
need openssl curl py:flask py:jwt py:cryptography
cd "$W"

mkdir ca
cp "$V/cert.json" "$V/rootCA.pem" ca/
FLARE=$ROOT/tests/e2e/flare_service.py

# start_flare DIR [--tls CERT KEY]: the stand-in, its logs in DIR; sets
# FL_PORT once it listens.
start_flare() {
  local dir=$1 i pid; shift
  mkdir -p "$dir"
  "$PY" "$FLARE" ca/cert.json "$dir" "$@" >"$dir/out" 2>&1 &
  pid=$!
  on_exit "kill $pid 2>/dev/null"
  for i in $(seq 1 100); do
    FL_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$dir/out")
    [ -n "$FL_PORT" ] && return 0
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  fail "the FLARE stand-in starts" "$(tail -5 "$dir/out")"
  exit 1
}

start_flare fl
URL=http://127.0.0.1:$FL_PORT
requests() { wc -l < fl/requests.log 2>/dev/null || echo 0; }
last_status() { tail -n1 fl/statuses.log; }
# last_request PYTHON-EXPR: evaluate on the last request ({"content_type", "body"}, body parsed as b).
last_request() {
  tail -n1 fl/requests.log | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read()); b = json.loads(r["body"])
print(eval(sys.argv[1]))' "$1"
}

# Held: FLARE's own manual-approval policy. Refused: no rule but this
# one matches bad-*, and no match is a refusal too.
HOLD=$V/policies/manual_approval.yaml
cat > deny.yaml <<'YML'
approval:
  method: policy
  rules:
    - name: deny-bad
      match: {site_name_pattern: "bad-*"}
      action: reject
      message: "not on the allow list"
YML

# kit NAME DIR [token options...]: a generic kit for NAME whose token the
# FLARE CA signed, pointing at the stand-in.
kit() {
  local name=$1 dir=$2; shift 2
  "$T" token generate -s "$name" -c ca -o "$name.token" "$@" >/dev/null 2>&1 &&
    "$T" package -n "$name" -e grpc://localhost:8002 --cert-service "$URL" \
      --token "$name.token" -c ca -o "$dir" >/dev/null 2>&1
}

# pair_ok DIR [BASE]: key and certificate match, the certificate verifies
# against FLARE's root (the one in the vectors, not the kit's copy).
pair_ok() {
  local d=$1 b=${2:-client}
  [ -f "$d/$b.crt" ] && [ -f "$d/$b.key" ] &&
    [ "$(openssl x509 -in "$d/$b.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
      "$(openssl pkey -in "$d/$b.key" -pubout -outform DER | sha256sum)" ] &&
    openssl verify -CAfile "$V/rootCA.pem" "$d/$b.crt" >/dev/null 2>&1
}

# exts FILE: the certificate's extension names, one line.
exts() { openssl x509 -in "$1" -noout -text | sed -n '/X509v3 extensions:/,/Signature Algorithm/p' |
  grep -o 'X509v3 [A-Za-z ]*:' | tr '\n' ' '; }

enroll() { "$T" enroll --insecure-http "$@"; }

# ---- the stand-in is strict: what it would refuse, it refuses ----
good=$("$PY" -c 'import json; print(json.dumps({"token": "x", "csr": "y", "metadata": {"name": "n", "type": "client", "org": None, "role": None}}))')
post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data "$1" "$URL/api/v1/enroll"; }
same "stand-in: a body that is not a CSR gets 400" "$(post "$good")" 400
same "stand-in: metadata without org and role gets 400" \
  "$(post '{"token":"x","csr":"y","metadata":{"name":"n","type":"client"}}')" 400
same "stand-in: an unknown member gets 400" \
  "$(post '{"token":"x","csr":"y","metadata":{"name":"n","type":"client","org":null,"role":null},"extra":1}')" 400
same "stand-in: JSON without Content-Type: application/json gets 400" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data "$good" "$URL/api/v1/enroll")" 400
: > fl/requests.log

# ---- a generic kit and its start.sh, over http on loopback ----
kit site-1 kit1 || fail "kit for site-1"
S=kit1/startup
out=$(PATH="$(dirname "$T"):$PATH" bash $S/start.sh --insecure-http 2>&1); rc=$?
same "start.sh enrolls against FLARE's service (exit 0)" "$rc" 0
same "the service answered 200" "$(last_status)" 200
echo "$out" | grep -q "^Enrollment successful. Certificate saved to: .*kit1/startup/client.crt$" &&
  pass "the documented success line" || fail "success line" "$out"
pair_ok $S && pass "client.key matches client.crt, which openssl verifies against FLARE's rootCA.pem" ||
  fail "pair" "$(ls -l $S)"
same "client.key is mode 0600" "$(stat -c %a $S/client.key)" 600
cmp -s $S/rootCA.pem "$V/rootCA.pem" && pass "rootCA.pem is FLARE's root (the service's ca_cert)" || fail "rootCA.pem"
same "the certificate's subject is CN=site-1" \
  "$(openssl x509 -in $S/client.crt -noout -subject -nameopt RFC2253)" "subject=CN=site-1"
same "FLARE's profile: SKI, AKI and SAN only, as flare_signed_site-1.crt" "$(exts $S/client.crt)" \
  "$(exts "$V/flare_signed_site-1.crt")"
[ ! -e $S/pending.key ] && [ ! -e $S/enrollment.commit ] && pass "no pending key or commit blob left" ||
  fail "leftovers" "$(ls $S)"
echo "$out" | grep -q "eyJ" && fail "the token is never printed" "$out" || pass "the token is never printed"

# ---- the request: what FLARE's service reads, and how it reads it ----
same "one request" "$(requests)" 1
same "Content-Type is application/json" "$(last_request 'r["content_type"]')" "application/json"
same "members are token, csr, metadata" "$(last_request 'sorted(b)')" "['csr', 'metadata', 'token']"
same "metadata is name, type, org, role" "$(last_request 'sorted(b["metadata"])')" "['name', 'org', 'role', 'type']"
same "metadata: name and type set, org and role null as FLARE's client sends them" \
  "$(last_request '[b["metadata"][k] for k in ("name", "type", "org", "role")]')" "['site-1', 'client', None, None]"
same "the token sent is the kit's, whole" "$(last_request 'b["token"]')" "$(cat site-1.token)"
last_request 'b["csr"]' > sent.csr
openssl req -in sent.csr -noout -verify >/dev/null 2>&1 && pass "the CSR is a PEM request openssl verifies" || fail "CSR verify"
same "the CSR names CN=site-1, OU=client" "$(openssl req -in sent.csr -noout -subject -nameopt RFC2253)" "subject=OU=client,CN=site-1"
same "the CSR holds the stored key" "$(openssl req -in sent.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
  "$(openssl pkey -in $S/client.key -pubout -outform DER | sha256sum)"

# ---- a second run: already enrolled, nothing sent ----
out=$(enroll --startup $S 2>&1); rc=$?
same "second run exits 0" "$rc" 0
echo "$out" | grep -q "Already enrolled" && pass "second run says already enrolled" || fail "already" "$out"
same "second run sends no request" "$(requests)" 1

# ---- 409: the service has the name enrolled, the device has no certificate ----
"$T" token generate -s site-1 -c ca -o again.token >/dev/null 2>&1
mkdir -p lost/startup && cp "$V/rootCA.pem" lost/startup/
out=$(enroll --startup lost/startup --service "$URL" --token-file again.token 2>&1); rc=$?
same "409 already enrolled: exit 1 (not a verdict, nothing to wait for)" "$rc" 1
same "the service answered 409" "$(last_status)" 409
echo "$out" | grep -q "^Error: enrollment refused by the certificate service (HTTP 409): site-1 is already enrolled$" &&
  pass "409: the service's message is shown" || fail "409 message" "$out"
[ -z "$(ls lost/startup | grep -v '^rootCA.pem$')" ] && pass "409: nothing stored, no pending key kept" ||
  fail "409 leftovers" "$(ls lost/startup)"

# FLARE's TokenService minted this token for site-1 (expired since
# January; the device's clock pinned inside it): the name comes first.
mkdir -p lost2/startup && cp "$V/rootCA.pem" lost2/startup/
out=$(enroll --startup lost2/startup --service "$URL" --token-file "$V/fixed_site-1.jwt" --now 1767225700 2>&1); rc=$?
same "FLARE's own token for an enrolled name: 409 before the token's expiry (exit 1)" "$rc $(last_status)" "1 409"

# ---- org and an RSA-2048 key, as FLARE's client makes them ----
kit site-4 kit4 || fail "kit for site-4"
out=$(enroll --startup kit4/startup --org "Hospital A" --key-type rsa 2>&1); rc=$?
same "an RSA-2048 key with an org enrolls (exit 0)" "$rc" 0
same "metadata org is sent" "$(last_request 'b["metadata"]["org"]')" "Hospital A"
same "the certificate's subject is CN, O as FLARE's is" \
  "$(openssl x509 -in kit4/startup/client.crt -noout -subject -nameopt RFC2253)" \
  "$(openssl x509 -in "$V/flare_signed_site-1.crt" -noout -subject -nameopt RFC2253 | sed 's/site-1/site-4/')"
openssl pkey -in kit4/startup/client.key -noout -text 2>/dev/null | grep -q "Private-Key: (2048 bit" &&
  pair_ok kit4/startup && pass "RSA-2048 pair matches and verifies" || fail "rsa pair"

# ---- a server and an admin with a role ----
"$T" token generate -s fl-server -t server -c ca -o server.token >/dev/null 2>&1
mkdir -p srv/startup && cp "$V/rootCA.pem" srv/startup/
out=$(enroll --startup srv/startup --service "$URL" --token-file server.token 2>&1); rc=$?
same "a server enrolls (exit 0)" "$rc" 0
pair_ok srv/startup server && [ ! -e srv/startup/client.crt ] && pass "server.crt and server.key, as FLARE's client names them" ||
  fail "server files" "$(ls srv/startup)"
"$T" token generate -s admin@example.com --user -r lead -c ca -o admin.token >/dev/null 2>&1
mkdir -p adm/startup && cp "$V/rootCA.pem" adm/startup/
out=$(enroll --startup adm/startup --service "$URL" --token-file admin.token --type admin --role lead 2>&1); rc=$?
same "an admin with role lead enrolls (exit 0)" "$rc" 0
same "metadata of the admin: type admin, role lead" \
  "$(last_request '[b["metadata"][k] for k in ("name", "type", "org", "role")]')" "['admin@example.com', 'admin', None, 'lead']"
pair_ok adm/startup && pass "the admin's pair verifies" || fail "admin pair" "$out"

# ---- pending (202, no request_id, no Retry-After), approved while waiting ----
kit site-2 kit2 -p "$HOLD" || fail "kit for site-2"
start=$(date +%s)
enroll --startup kit2/startup --wait 30 >wait.out 2>&1 &
dev=$!
for i in $(seq 1 150); do [ "$(last_status)" = 202 ] && break; sleep 0.1; done
same "the service holds site-2 (202)" "$(last_status)" 202
# The same request again, on the wire: what the device is reading.
tail -n1 fl/requests.log | "$PY" -c 'import json,sys; sys.stdout.write(json.loads(sys.stdin.read())["body"])' > held.json
curl -s -D held.h -o held.b -H 'Content-Type: application/json' --data @held.json "$URL/api/v1/enroll"
"$PY" -c 'import json,sys; d=json.load(open("held.b")); assert d == {"status": "pending", "message": "Enrollment pending admin approval"}, d' &&
  pass "202 body is {status, message}: no request_id" || fail "202 body" "$(cat held.b)"
grep -qi '^retry-after' held.h && fail "202 has no Retry-After" "$(cat held.h)" || pass "202 has no Retry-After"
[ -f kit2/startup/pending.key ] && same "the pending request's key is kept, mode 0600" "$(stat -c %a kit2/startup/pending.key)" 600 ||
  fail "pending key kept"
sleep 3
same "approve (test route)" "$(curl -s -X POST "$URL/test/approve/site-2")" '{"name":"site-2","status":"approved"}'
wait $dev; rc=$?
took=$(( $(date +%s) - start ))
same "the waiting device is enrolled after approval (exit 0)" "$rc" 0
grep -q "Enrollment pending approval: Enrollment pending admin approval" wait.out &&
  pass "the device shows the service's pending message" || fail "pending message" "$(cat wait.out)"
pair_ok kit2/startup && pass "the approved certificate holds the pending request's key" || fail "approved pair" "$(cat wait.out)"
[ ! -e kit2/startup/pending.key ] && pass "the pending key is gone once enrolled" || fail "pending key left"
# Without Retry-After the device backs off 2, 4, 8 s (+ up to a quarter):
# approved after ~3 s, it asks at ~2 s and ~6-7.5 s; more would be hammering.
[ "$took" -ge 5 ] && [ "$took" -le 15 ] && pass "backoff without Retry-After: enrolled ${took}s after starting" ||
  fail "backoff timing" "took ${took}s: $(cat wait.out)"
grep -c "Enrollment pending approval" wait.out | grep -qx 2 &&
  pass "two polls while pending (2 s, then 4 s backoff)" || fail "poll count" "$(cat wait.out)"

# ---- still pending at the deadline: exit 2, no request id to name ----
kit site-3 kit3 -p "$HOLD" || fail "kit for site-3"
out=$(enroll --startup kit3/startup --wait 0 2>&1); rc=$?
same "still pending at the deadline exits 2" "$rc" 2
echo "$out" | grep -q "^Error: enrollment of site-3 still pending approval after 0 s$" &&
  pass "pending error without a request id" || fail "pending" "$out"

# ---- 403: a policy rejection, and an admin's ----
kit bad-1 kit5 -p deny.yaml || fail "kit for bad-1"
out=$(enroll --startup kit5/startup --wait 5 2>&1); rc=$?
same "rejected by the token's policy exits 3" "$rc" 3
same "the service answered 403" "$(last_status)" 403
echo "$out" | grep -q "^Error: enrollment rejected by the certificate service (HTTP 403): .*not on the allow list" &&
  pass "403: the service's reason is shown" || fail "403 reason" "$out"
[ -z "$(ls kit5/startup | grep -E '^(client\.(crt|key)|pending\.key|enrollment\.commit)$')" ] &&
  pass "a rejected device keeps no key or certificate" || fail "rejected leftovers" "$(ls kit5/startup)"
curl -s -X POST "$URL/test/reject/site-3" >/dev/null
out=$(enroll --startup kit3/startup --wait 0 2>&1); rc=$?
same "a device whose pending request was rejected exits 3" "$rc" 3
echo "$out" | grep -q "(HTTP 403): enrollment request for site-3 was rejected" && pass "the admin's rejection is shown" ||
  fail "admin reject" "$out"

# ---- 401: the service's clock finds the token expired; a bad signature ----
"$T" token generate -s site-6 -c ca -o site-6.token -v 1h --issued-at $(( $(date +%s) - 7200 )) >/dev/null 2>&1
mkdir -p kit6/startup && cp "$V/rootCA.pem" kit6/startup/
# The device's clock (pinned) still has the token valid, so it is sent.
out=$(enroll --startup kit6/startup --service "$URL" --token-file site-6.token --now $(( $(date +%s) - 5400 )) 2>&1); rc=$?
same "a token the service finds expired: exit 1" "$rc" 1
same "the service answered 401" "$(last_status)" 401
echo "$out" | grep -q "^Error: enrollment refused by the certificate service (HTTP 401): Token has expired$" &&
  pass "401 expired: the service's message" || fail "401 expired" "$out"
[ -z "$(ls kit6/startup | grep -v '^rootCA.pem$')" ] && pass "401: nothing stored" || fail "401 leftovers" "$(ls kit6/startup)"
cat > other.yml <<'YML'
api_version: 3
name: other_project
participants:
  - name: localhost
    type: server
    org: Other
    fed_learn_port: 8002
    admin_port: 8003
YML
"$T" provision -p other.yml -w other >/dev/null 2>&1 || fail "provision another CA"
"$T" token generate -s site-7 -c other/other_project -o site-7.token >/dev/null 2>&1 || fail "token from another CA"
mkdir -p kit7/startup && cp "$V/rootCA.pem" kit7/startup/
out=$(enroll --startup kit7/startup --service "$URL" --token-file site-7.token 2>&1); rc=$?
same "a token another CA signed: exit 1" "$rc" 1
echo "$out" | grep -q "^Error: enrollment refused by the certificate service (HTTP 401): Invalid token: Signature verification failed$" &&
  pass "401 bad signature: the service's message" || fail "401 signature" "$out"

out=$(enroll --startup kit6/startup --service "$URL" --name hospital-7 --now 1767225700 \
  --token-file "$V/policies/fixed_hospital_network_hospital-7.jwt" 2>&1); rc=$?
same "a token FLARE's TokenService minted, expired by the service's clock: exit 1, 401" "$rc $(last_status)" "1 401"
echo "$out" | grep -q "(HTTP 401): Token has expired$" && pass "FLARE's expired token: the service's message" || fail "FLARE token 401" "$out"

# ---- 400: a role the service does not know ----
mkdir -p adm2/startup && cp "$V/rootCA.pem" adm2/startup/
out=$(enroll --startup adm2/startup --service "$URL" --token-file admin.token --type admin --role bogus 2>&1); rc=$?
same "an invalid role: 400, exit 1" "$rc $(last_status)" "1 400"
echo "$out" | grep -q "^Error: enrollment refused by the certificate service (HTTP 400): invalid role: 'bogus'$" &&
  pass "400: the service's message" || fail "400 message" "$out"
[ -z "$(ls adm2/startup | grep -v '^rootCA.pem$')" ] && pass "400: nothing stored" || fail "400 leftovers" "$(ls adm2/startup)"

# ---- https, the service's certificate from FLARE's CA ----
"$PY" -c 'import json; print(json.load(open("ca/cert.json"))["root_pri_key"], end="")' > ca/rootCA.key
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -subj /CN=localhost \
  -out tls.csr >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > tls.ext
openssl x509 -req -in tls.csr -CA ca/rootCA.pem -CAkey ca/rootCA.key -CAcreateserial -days 2 \
  -extfile tls.ext -out tls.crt >/dev/null 2>&1 || fail "TLS certificate for the stand-in"
start_flare fls --tls tls.crt tls.key
"$T" token generate -s site-8 -c ca -o site-8.token >/dev/null 2>&1
mkdir -p kit8/startup && cp "$V/rootCA.pem" kit8/startup/
out=$("$T" enroll --startup kit8/startup --service "https://localhost:$FL_PORT" --token-file site-8.token 2>&1); rc=$?
same "over https with FLARE's root as the trust anchor (exit 0)" "$rc" 0
same "the https service answered 200" "$(tail -n1 fls/statuses.log)" 200
pair_ok kit8/startup && pass "https: the pair verifies" || fail "https pair" "$out"
