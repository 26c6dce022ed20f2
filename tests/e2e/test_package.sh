#!/usr/bin/env bash
# tokenroll package: generic startup kits (no key, no certificate).
. "$(dirname "$0")/lib.sh"
need openssl
cd "$W"
J() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }

mkdir ca && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca/rootCA.key 2>/dev/null
openssl req -x509 -new -key ca/rootCA.key -subj "/CN=pkg-ca" -days 30 -out ca/rootCA.pem 2>/dev/null
"$T" token generate -s site-1 -c ca -o tok.txt 2>/dev/null

check "client kit" "$T" package -n site-1 -e grpc://server.example.com:8002 \
  --cert-service https://cs.example.com:8443 --token tok.txt -c ca
J site-1/startup/fed_client.json 'assert d["client"]["fqsn"]=="site-1" and d["servers"][0]["identity"]=="server.example.com" and d["servers"][0]["service"]["scheme"]=="grpc" and d["overseer_agent"]["args"]["sp_end_point"]=="server.example.com:8002:8002"' \
  && pass "fed_client.json in FLARE's layout" || fail "fed_client.json in FLARE's layout" "$(cat site-1/startup/fed_client.json)"
J site-1/startup/enrollment.json 'assert d=={"cert_service_url":"https://cs.example.com:8443"}' \
  && pass "enrollment.json names the service" || fail "enrollment.json names the service"
same "enrollment_token holds the token" "$(cat site-1/startup/enrollment_token)" "$(cat tok.txt)"
same "enrollment_token is mode 0600" "$(stat -c %a site-1/startup/enrollment_token)" "600"
cmp -s site-1/startup/rootCA.pem ca/rootCA.pem && pass "rootCA.pem comes from the CA path" || fail "rootCA.pem comes from the CA path"
[ -x site-1/startup/start.sh ] && pass "start.sh is executable" || fail "start.sh is executable"
for f in readme.txt local/authorization.json.default local/log_config.json.default local/privacy.json.sample local/resources.json.default; do
  [ -s site-1/$f ] && pass "kit has $f" || fail "kit has $f"
done
[ -d site-1/transfer ] && pass "kit has transfer/" || fail "kit has transfer/"
ls site-1/startup | grep -Eq '\.(key|crt)$' && fail "a generic kit holds no key or certificate" "$(ls site-1/startup)" || pass "a generic kit holds no key or certificate"

check "admin kit" "$T" package -n admin@example.com -e grpc://server:8002:8003 -t admin -o adm
J adm/startup/fed_admin.json 'assert d["admin"]["username"]=="admin@example.com" and d["overseer_agent"]["args"]["sp_end_point"]=="server:8002:8003"' \
  && pass "fed_admin.json names the user and the admin port" || fail "fed_admin.json names the user and the admin port"
grep -q "Role: lead" adm/readme.txt && pass "admin kit defaults to role lead" || fail "admin kit defaults to role lead"
check "relay kit" "$T" package -n relay-east -e grpc://server:8002 -t relay --listening_port 8010 -o relay
J relay/startup/fed_relay.json 'assert d["listening_host"]["port"]==8010 and d["listening_host"]["host"]=="localhost" and d["client"]["is_leaf"] is False' \
  && pass "fed_relay.json listens where asked" || fail "fed_relay.json listens where asked"
check "IPv6 endpoint" "$T" package -n s6 -e 'tcp://[2001:db8::1]:8002' -o s6
[ ! -e site-1/startup/enrollment.json.tmp ] && pass "no temporary files left" || fail "no temporary files left"
[ ! -e s6/startup/enrollment.json ] && pass "no enrollment.json without --cert-service" || fail "no enrollment.json without --cert-service"

expect_fail "endpoint without port" "expected scheme://host:port\[:admin_port\]" "$T" package -n a -e grpc://server
expect_fail "endpoint without scheme" "expected scheme://host:port" "$T" package -n a -e server:8002
expect_fail "endpoint with a bad port" "expected scheme://host:port" "$T" package -n a -e grpc://server:70000
expect_fail "unknown type" "-t must be client, relay, admin or server" "$T" package -n a -e grpc://s:1 -t overseer
expect_fail "existing output folder" "site-1 already exists" "$T" package -n site-1 -e grpc://s:1
expect_fail "missing name" "required: -n/--name" "$T" package -e grpc://s:1
expect_fail "name with a slash" "cannot be a folder name" "$T" package -n a/b -e grpc://s:1
expect_fail "CA path without a CA" "no state/cert.json" "$T" package -n z -e grpc://s:1 -c "$W/none"
[ ! -e z ] && pass "a failed package leaves nothing" || fail "a failed package leaves nothing"
