#!/usr/bin/env bash
# tokenroll serve -c: FLARE's own certificate service configuration files,
# read unchanged (tests/vectors/flare/service/), flags overriding them; the
# root CA generated in data_dir at first start; ${NAME} references; plain
# HTTP only when asked, with a warning; the audit log.
. "$(dirname "$0")/lib.sh"
need curl openssl
cd "$W"
CFG="$V/service/cert_service_config.yaml"
MIN="$V/service/cert_service_minimal.yaml"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
  -subj "/CN=x" -out dev.csr 2>/dev/null

# http(s) METHOD URL [BODYFILE] [curl args]: sets CODE and RESP.
call() {
  local m=$1 url=$2 data=${3:-}; shift 3 2>/dev/null || shift $#
  if [ -n "$data" ]; then
    CODE=$(curl -s -o resp.json -w '%{http_code}' -X "$m" "$url" --data-binary "@$data" "$@")
  else
    CODE=$(curl -s -o resp.json -w '%{http_code}' -X "$m" "$url" "$@")
  fi
  RESP=$(cat resp.json)
}
jget() { "$PY" -c 'import json,sys; d=json.load(open("resp.json")); print(eval("d"+sys.argv[1]))' "$1" 2>/dev/null; }

# ---- the full example configuration, as FLARE ships it ----
start_serve serve1.log -c "$CFG" --data-dir "$W/data" --audit-log "$W/audit.log" --insecure-http || exit 1
pid=$SERVE_PID
grep -q "Warning: serving plain HTTP" serve1.log && pass "plain HTTP only with a warning" || fail "plain HTTP only with a warning" "$(cat serve1.log)"
[ -s data/rootCA.pem ] && [ -s data/rootCA.key ] && pass "first start generates the root CA in data_dir" || fail "first start generates the root CA in data_dir" "$(ls -la data)"
same "rootCA.key is mode 0600" "$(stat -c %a data/rootCA.key 2>/dev/null)" "600"
openssl x509 -in data/rootCA.pem -noout -subject | grep -q "CN = My FL Project" && pass "root CN is project_name" || fail "root CN is project_name" "$(openssl x509 -in data/rootCA.pem -noout -subject)"
[ -s data/enrollment.db ] && pass "storage sqlite defaults to data_dir/enrollment.db" || fail "storage sqlite defaults to data_dir/enrollment.db"
URL="http://127.0.0.1:$SERVE_PORT"
printf '{"name":"hospital-1"}' > mint.json
call POST "$URL/api/v1/token" mint.json -H "Authorization: Bearer your-api-key-here"
[ "$CODE" = 200 ] && pass "api_key from the file opens the admin routes" || fail "api_key from the file opens the admin routes" "$CODE $RESP"
tok=$(jget '["token"]')
"$PY" -c 'import json,sys; print(json.dumps({"token":sys.argv[1],"csr":open("dev.csr").read(),"metadata":{"name":"hospital-1","type":"client","org":None,"role":None}}))' "$tok" > req.json
call POST "$URL/api/v1/enroll" req.json
[ "$CODE" = 200 ] && pass "enrollment over plain HTTP" || fail "enrollment over plain HTTP" "$CODE $RESP"
jget '["certificate"]' > h1.crt
check "the certificate chains to the generated root" openssl verify -CAfile data/rootCA.pem h1.crt
"$PY" - audit.log <<'PY' && pass "audit log: one JSON line per decision" || fail "audit log: one JSON line per decision" "$(cat audit.log)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["event"] for l in lines] == ["token", "enroll"], lines
assert lines[1]["decision"] == "approve" and lines[1]["name"] == "hospital-1" and lines[1]["serial"], lines
assert not any("eyJ" in json.dumps(l) for l in lines)
PY
stop_serve "$pid"
fp1=$(openssl x509 -in data/rootCA.pem -noout -fingerprint)
start_serve serve2.log -c "$MIN" --data-dir "$W/data" --insecure-http || exit 1
same "a restart reuses the root CA" "$(openssl x509 -in data/rootCA.pem -noout -fingerprint)" "$fp1"
call GET "http://127.0.0.1:$SERVE_PORT/api/v1/enrolled" "" -H "Authorization: Bearer your-api-key-here"
printf '%s' "$RESP" | grep -q '"hospital-1"' && pass "the minimal configuration serves the same store" || fail "the minimal configuration serves the same store" "$CODE $RESP"
stop_serve "$SERVE_PID"

# ---- ${NAME} references, TLS from the file, mistakes ----
"$T" provision -p "$ROOT/tests/vectors/project/token_doc.yml" -w ws >/dev/null 2>&1
K=ws/my_fl_project/prod_00/server.example.com/startup
cat > env.yaml <<YML
api_key: \${TKR_TEST_API_KEY}
data_dir: $W/envdata
project_name: "Env Project"
server:
  host: 127.0.0.1
  port: 8443
  tls:
    cert: $W/$K/server.crt
    key: \${TKR_TEST_TLS_KEY}
storage:
  type: sqlite
  path: $W/envdata/other.db
pending:
  timeout: 3600
  cleanup_interval: 60
audit:
  enabled: false
  log_file: /nonexistent/audit.log
YML
expect_fail "an unset \${NAME} names the variable, line and column" "env.yaml:1:10: api_key: .*TKR_TEST_API_KEY.* not set" \
  env -u TKR_TEST_API_KEY "$T" serve -c env.yaml
export TKR_TEST_API_KEY=from-env TKR_TEST_TLS_KEY="$W/$K/server.key"
start_serve serve3.log -c env.yaml || exit 1
CA=$K/rootCA.pem
call GET "https://server.example.com:$SERVE_PORT/api/v1/pending" "" --cacert "$CA" \
  --resolve "server.example.com:$SERVE_PORT:127.0.0.1" -H "Authorization: Bearer from-env"
[ "$CODE" = 200 ] && pass "TLS from server.tls, api_key from \${TKR_TEST_API_KEY}" || fail "TLS from server.tls, api_key from \${TKR_TEST_API_KEY}" "$CODE $RESP"
[ -s envdata/other.db ] && pass "storage.path is used" || fail "storage.path is used"
grep -q "listening on https" serve3.log && ! grep -q Warning serve3.log && pass "HTTPS without a warning" || fail "HTTPS without a warning" "$(cat serve3.log)"
stop_serve "$SERVE_PID"
sed 's/^  tls:/  tlz:/' env.yaml > typo.yaml
expect_fail "an unknown key is an error with its line" "typo.yaml:7:3: unknown key 'server.tlz'" "$T" serve -c typo.yaml
printf 'server:\n  port: eighty\n' > badport.yaml
expect_fail "a non-numeric port is an error" "badport.yaml:2:9: server.port must be an integer" "$T" serve -c badport.yaml --data-dir "$W/d2"
printf 'data_dir: %s/d3\n' "$W" > notls.yaml
expect_fail "no TLS and no --insecure-http is refused" "no TLS certificate.*--insecure-http" "$T" serve -c notls.yaml
expect_fail "a missing configuration file" "cannot read configuration nope.yaml" "$T" serve -c nope.yaml

# ---- the CA key through the signer options ----
P=ws/my_fl_project
for sg in mbedtls openssl; do
  # An unresolvable address stops serve right after it loaded its signers.
  if "$T" serve --ca-path "$P" --signer "$sg" --listen 256.256.256.256:1 2>&1 | grep -q "built without OpenSSL"; then
    echo "SKIP: --signer $sg (built with OPENSSL=0)"; continue
  fi
  start_serve "serve-$sg.log" --ca-path "$P" --api-key k --signer "$sg" || continue
  printf '{"name":"via-%s"}' "$sg" > mint.json
  call POST "https://server.example.com:$SERVE_PORT/api/v1/token" mint.json --cacert "$CA" \
    --resolve "server.example.com:$SERVE_PORT:127.0.0.1" -H "Authorization: Bearer k"
  tok=$(jget '["token"]')
  "$PY" -c 'import json,sys; print(json.dumps({"token":sys.argv[1],"csr":open("dev.csr").read(),"metadata":{"name":sys.argv[2]}}))' "$tok" "via-$sg" > req.json
  call POST "https://server.example.com:$SERVE_PORT/api/v1/enroll" req.json --cacert "$CA" \
    --resolve "server.example.com:$SERVE_PORT:127.0.0.1"
  jget '["certificate"]' > "via-$sg.crt"
  check "--signer $sg: the service's certificate verifies" openssl verify -CAfile "$CA" "via-$sg.crt"
  stop_serve "$SERVE_PID"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null
expect_fail "a --ca-key that is not the root's key is refused at start" "does not belong to the root certificate" \
  "$T" serve --ca-path "$P" --ca-key other.key --listen 127.0.0.1:1
