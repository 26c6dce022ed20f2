#!/usr/bin/env bash
# The device's enrollment end to end against `tokenroll serve` on
# 127.0.0.1: a generic kit from `package`, its start.sh, the files and
# modes it leaves, openssl as the judge of the certificate; already
# enrolled without traffic; pending then approved while the device waits;
# rejected; an expired token and a wrong root refused; a service that is
# down; and the admin side over the API (remote token generation, the
# enrollment commands).
. "$(dirname "$0")/lib.sh"
need openssl curl
cd "$W"

cat > project.yml <<'YML'
api_version: 3
name: enroll_test
participants:
  - name: localhost
    type: server
    org: TestOrg
    fed_learn_port: 8002
    admin_port: 8003
  - name: admin@example.com
    type: admin
    org: TestOrg
    role: project_admin
YML
"$T" provision -p project.yml -w ws >/dev/null 2>&1 || { fail "provision"; exit 1; }
P=$W/ws/enroll_test
CA=$(ls -d "$P"/prod_*/localhost/startup | tail -1)/rootCA.pem
KEY=api-key-$$
export NVFLARE_CA_PATH=$P

cat > hold.yaml <<'YML'
approval:
  method: manual
  rules:
    - name: hold-everything
      match: {}
      action: pending
      message: "waiting for review"
YML
cat > rules.yaml <<'YML'
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

start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" --api-key "$KEY" || exit 1
URL=https://localhost:$SERVE_PORT
requests() { grep -c "/api/v1/enroll" serve.log; }

# kit NAME DIR [token options...]: a generic kit with a token for NAME.
kit() {
  local name=$1 dir=$2; shift 2
  "$T" token generate -s "$name" -o "$name.token" "$@" >/dev/null 2>&1 &&
    "$T" package -n "$name" -e grpc://localhost:8002 --cert-service "$URL" \
      --token "$name.token" -c "$P" -o "$dir" >/dev/null 2>&1
}

# pair_ok DIR: the key and certificate belong together and chain to root.
pair_ok() {
  local d=$1
  [ -f "$d/client.crt" ] && [ -f "$d/client.key" ] &&
    [ "$(openssl x509 -in "$d/client.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
      "$(openssl pkey -in "$d/client.key" -pubout -outform DER | sha256sum)" ] &&
    openssl verify -CAfile "$d/rootCA.pem" "$d/client.crt" >/dev/null 2>&1
}

# ---- package + token -> enrolled, with start.sh ----
kit site-1 kit1 || fail "kit for site-1"
S=kit1/startup
out=$(PATH="$(dirname "$T"):$PATH" bash $S/start.sh 2>&1); rc=$?
same "start.sh enrolls (exit 0)" "$rc" 0
echo "$out" | grep -q "Enrollment successful. Certificate saved to: .*kit1/startup/client.crt" &&
  pass "the documented success line names the certificate" || fail "success line" "$out"
pair_ok $S && pass "client.key and client.crt match and chain to rootCA.pem" || fail "pair" "$(ls -l $S)"
same "client.key is mode 0600" "$(stat -c %a $S/client.key)" 600
same "certificate subject is CN=site-1" "$(openssl x509 -in $S/client.crt -noout -subject -nameopt RFC2253)" "subject=CN=site-1"
openssl x509 -in $S/client.crt -noout -ext extendedKeyUsage 2>/dev/null | grep -q "TLS Web Client Authentication" &&
  pass "certificate is for client authentication" || fail "clientAuth EKU"
[ ! -e $S/pending.key ] && [ ! -e $S/enrollment.commit ] && pass "no pending key or commit blob left" ||
  fail "leftovers" "$(ls $S)"
echo "$out" | grep -q "eyJ" && fail "the token is never printed" "$out" || pass "the token is never printed"
grep -q "BEGIN" <<<"$out" && fail "no key material in the output" || pass "no key material in the output"

# ---- a second run: already enrolled, nothing sent ----
n=$(requests)
out=$(PATH="$(dirname "$T"):$PATH" "$T" enroll --startup $S 2>&1); rc=$?
same "second run exits 0" "$rc" 0
echo "$out" | grep -q "Already enrolled" && pass "second run says already enrolled" || fail "already" "$out"
same "second run sends no request" "$(requests)" "$n"
out=$("$T" enroll --startup $S --json 2>/dev/null)
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="already_enrolled" and d["name"]=="site-1", d' &&
  pass "--json reports already_enrolled" || fail "--json" "$out"

# ---- a small TLS maximum fragment (RFC 6066) against serve ----
kit site-mfl kitm || fail "kit for site-mfl"
out=$("$T" enroll --startup kitm/startup --max-frag-len 4096 2>&1); rc=$?
same "enrolls with a 4096-byte maximum fragment (exit 0)" "$rc" 0
pair_ok kitm/startup && pass "the small-fragment enrollment stored a matching pair" || fail "mfl pair" "$out"

# ---- pending, approved while the device waits ----
kit site-2 kit2 -p hold.yaml || fail "kit for site-2"
"$T" enroll --startup kit2/startup --wait 12 >wait.out 2>&1 &
dev=$!
for i in $(seq 1 50); do
  "$T" enrollment list --cert-service "$URL" --api-key "$KEY" 2>/dev/null | grep -q "^site-2 " && break
  sleep 0.2
done
"$T" enrollment list --cert-service "$URL" --api-key "$KEY" | grep -q "^site-2 .*hold-everything" &&
  pass "enrollment list shows the held request and its rule" || fail "enrollment list"
"$T" enrollment info site-2 --cert-service "$URL" --api-key "$KEY" | grep -q "^status *pending" &&
  pass "enrollment info shows it pending" || fail "enrollment info"
[ -f kit2/startup/pending.key ] && [ "$(stat -c %a kit2/startup/pending.key)" = 600 ] &&
  pass "the pending request's key is kept, mode 0600" || fail "pending key"
same "enrollment approve" "$("$T" enrollment approve site-2 --cert-service "$URL" --api-key "$KEY")" "site-2: approved"
wait $dev; rc=$?
same "the waiting device is enrolled after approval (exit 0)" "$rc" 0
grep -q "Enrollment pending approval: waiting for review" wait.out &&
  pass "the device shows the service's pending message" || fail "pending message" "$(cat wait.out)"
pair_ok kit2/startup && pass "approved certificate holds the pending key" || fail "approved pair"
"$T" enrollment enrolled --cert-service "$URL" --api-key "$KEY" | grep -q "^site-2 " &&
  pass "enrollment enrolled lists the device" || fail "enrollment enrolled"

# ---- still pending at the deadline: exit 2 ----
kit site-3 kit3 -p hold.yaml || fail "kit for site-3"
out=$("$T" enroll --startup kit3/startup --wait 0 2>&1); rc=$?
same "still pending at the deadline exits 2" "$rc" 2
echo "$out" | grep -q "still pending approval.*request " && pass "pending error names the request" || fail "pending" "$out"

# ---- rejected: exit 3 with the reason ----
kit bad-1 kit4 -p rules.yaml || fail "kit for bad-1"
out=$("$T" enroll --startup kit4/startup --wait 5 2>&1); rc=$?
same "rejected by policy exits 3" "$rc" 3
echo "$out" | grep -q "bad sites are not welcome" && pass "the service's reason is shown" || fail "reason" "$out"
[ ! -e kit4/startup/client.crt ] && [ ! -e kit4/startup/pending.key ] &&
  pass "a rejected device keeps no key or certificate" || fail "rejected leftovers" "$(ls kit4/startup)"
same "enrollment reject" "$("$T" enrollment reject site-3 --reason "not ours" --cert-service "$URL" --api-key "$KEY")" "site-3: rejected"
out=$("$T" enroll --startup kit3/startup --wait 0 2>&1); rc=$?
same "a device whose request was rejected exits 3" "$rc" 3

# ---- an expired token: refused before any request ----
"$T" token generate -s site-5 -o site-5.token -v 1h --issued-at $(( $(date +%s) - 7200 )) >/dev/null 2>&1
"$T" package -n site-5 -e grpc://localhost:8002 --cert-service "$URL" --token site-5.token -c "$P" -o kit5 >/dev/null 2>&1
n=$(requests)
out=$("$T" enroll --startup kit5/startup 2>&1); rc=$?
same "an expired token exits 1" "$rc" 1
echo "$out" | grep -q "Error: the enrollment token has expired" && pass "expired token named" || fail "expired" "$out"
same "no request for an expired token" "$(requests)" "$n"
out=$("$T" enroll --startup kit5/startup --name site-6 --token "$W/site-1.token" 2>&1); rc=$?
echo "$out" | grep -q "for another participant than site-6" && [ $rc = 1 ] &&
  pass "a token for another name is refused before any request" || fail "other name" "$rc $out"

# ---- a wrong root: TLS fails, nothing stored ----
kit site-7 kit7 || fail "kit for site-7"
cp "$ROOT/tests/vectors/flare/rootCA.pem" kit7/startup/rootCA.pem
out=$("$T" enroll --startup kit7/startup --wait 3 2>&1); rc=$?
same "a wrong root exits 1" "$rc" 1
echo "$out" | grep -q "not signed by the given root CA" && pass "TLS failure explained" || fail "TLS" "$out"
[ -z "$(ls kit7/startup | grep -E '^(client\.(crt|key)|pending\.key|enrollment\.commit)$')" ] && pass "nothing stored after a TLS failure" ||
  fail "stored" "$(ls kit7/startup)"

# ---- remote token generation ----
tok=$("$T" token generate -s site-9 --cert-service "$URL" --api-key "$KEY" --ca-cert "$CA" 2>&1)
"$T" token info -t "$tok" 2>/dev/null | grep -q "subject: site-9" && pass "remote token generate mints for the subject" ||
  fail "remote generate" "$tok"
"$T" jwt verify "$tok" --key "$CA" --sub site-9 >/dev/null 2>&1 && pass "the remote token verifies against the root" ||
  fail "remote token verify"
"$T" token batch --names r-1 r-2 r-3 -o remote.csv --cert-service "$URL" --api-key "$KEY" --ca-cert "$CA" >/dev/null 2>&1
same "remote batch writes a CSV row per name" "$(cut -d, -f1 remote.csv | tr '\n' ' ')" "name r-1 r-2 r-3 "
same "remote batch file is mode 0600" "$(stat -c %a remote.csv)" 600
expect_fail "remote generate with a wrong key: 401 message" "authentication failed.*HTTP 401" \
  "$T" token generate -s x --cert-service "$URL" --api-key wrong --ca-cert "$CA"
expect_fail "enrollment list with a wrong key" "authentication failed" \
  "$T" enrollment list --cert-service "$URL" --api-key wrong
expect_fail "enrollment info for an unknown name" "HTTP 404.*no enrollment request for nobody" \
  "$T" enrollment info nobody --cert-service "$URL" --api-key "$KEY"
"$T" enrollment list --json --cert-service "$URL" --api-key "$KEY" | "$PY" -c 'import json,sys; json.load(sys.stdin)["pending"]' &&
  pass "enrollment list --json is the service's JSON" || fail "list --json"

stop_serve "$SERVE_PID"
