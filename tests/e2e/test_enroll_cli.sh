#!/usr/bin/env bash
# tokenroll enroll without a service to talk to: usage mistakes (exit 1,
# since 2 means pending), a kit without its root CA, the token checks that
# stop the device before any traffic, a service that is down (retries,
# exit 4, nothing stored), plain http:// refused, and --json.
. "$(dirname "$0")/lib.sh"
need openssl
cd "$W"

provision_local cli_test || exit 1
dead=$(free_port)
URL=https://localhost:$dead
kit() {
  local name=$1 dir=$2; shift 2
  "$T" token generate -s "$name" -c "$P" -o "$name.token" "$@" >/dev/null 2>&1 &&
    "$T" package -n "$name" -e grpc://localhost:8002 --cert-service "$URL" --token "$name.token" \
      -c "$P" -o "$dir" >/dev/null 2>&1
}
stored() { ls "$1" | grep -E '^(client\.(crt|key)|server\.(crt|key)|pending\.key|enrollment\.commit)$'; }
kit site-1 k1 || fail "kit"

# ---- usage: exit 1, one Error line ----
check_usage() {
  local name=$1 pat=$2; shift 2
  local out rc
  out=$("$T" enroll "$@" 2>&1); rc=$?
  if [ $rc = 1 ] && printf '%s' "$out" | grep -Eq -- "$pat"; then pass "$name"; else fail "$name" "exit $rc: $out"; fi
}
check_usage "bad --type" "--type must be client, server, relay or admin" --startup k1/startup --type pattern
check_usage "bad --key-type" "--key-type must be ec or rsa" --startup k1/startup --key-type dsa
check_usage "bad --wait" "--wait must be seconds" --startup k1/startup --wait -3
check_usage "--token and --token-file" "not both" --startup k1/startup --token a --token-file b
check_usage "unknown option" "unrecognized option --nope" --nope
check_usage "bad --max-frag-len" "must be 512, 1024, 2048 or 4096" --startup k1/startup --max-frag-len 3000

# ---- the kit's root CA is required ----
mkdir -p bare
check_usage "a kit without rootCA.pem" "rootCA.pem is missing" --startup bare

# ---- token checks before any traffic (the service is down: a request
# would end in exit 4, not in these messages) ----
"$T" token generate -s site-2 -c "$P" -o old.token -v 1h --issued-at $(( $(date +%s) - 7200 )) >/dev/null 2>&1
out=$("$T" enroll --startup k1/startup --token old.token 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "Error: the enrollment token has expired" &&
  echo "$out" | grep -q "clock is synchronized" && pass "expired token: exit 1, a hint, no request" ||
  fail "expired token" "exit $rc: $out"
out=$("$T" enroll --startup k1/startup --name other 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "for another participant than other" && pass "a token for another name" ||
  fail "other name" "exit $rc: $out"
out=$("$T" enroll --startup k1/startup --type server 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "the enrollment token is for a client" && pass "a token for another type" ||
  fail "other type" "exit $rc: $out"
out=$("$T" enroll --startup k1/startup --token x.y.z 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "does not decode" && pass "garbage token" || fail "garbage" "exit $rc: $out"
"$T" token generate -s 'hosp-*' -t pattern -c "$P" -o pat.token >/dev/null 2>&1
out=$("$T" enroll --startup k1/startup --token pat.token 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "pattern token needs the participant's name" && pass "pattern token without --name" ||
  fail "pattern no name" "exit $rc: $out"
out=$("$T" enroll --startup k1/startup --token pat.token --name clinic-1 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "pattern does not match clinic-1" && pass "pattern token that does not match" ||
  fail "pattern mismatch" "exit $rc: $out"
[ -z "$(stored k1/startup)" ] && pass "no key made for a refused token" || fail "stored" "$(ls k1/startup)"

# ---- the service is down: retried, exit 4, nothing stored ----
start=$(date +%s)
out=$("$T" enroll --startup k1/startup --wait 3 2>&1); rc=$?
same "service down exits 4" "$rc" 4
echo "$out" | grep -Eq "unreachable after ([2-9]|[1-9][0-9]) attempts" && pass "retried until the deadline" ||
  fail "retries" "$out"
[ $(( $(date +%s) - start )) -le 6 ] && pass "gave up at the deadline (--wait 3)" || fail "deadline"
[ -z "$(stored k1/startup)" ] && pass "nothing stored when the service is down" || fail "stored" "$(ls k1/startup)"
out=$("$T" enroll --startup k1/startup --wait 0 --json 2>/dev/null); rc=$?
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="unreachable" and d["attempts"]==1 and d["certificate"] is None, d' &&
  [ $rc = 4 ] && pass "--json reports unreachable" || fail "--json" "exit $rc: $out"

# ---- plain http:// is refused ----
out=$("$T" enroll --startup k1/startup --service "http://localhost:$dead" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "plain http:// is not allowed" && pass "plain http:// refused" ||
  fail "http" "exit $rc: $out"
out=$(NVFLARE_CERT_SERVICE_URL=ftp://x "$T" enroll --startup k1/startup 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no usable certificate service URL" && pass "unusable service URL named" ||
  fail "bad url" "exit $rc: $out"

# ---- the token from the environment wins over the kit's file ----
out=$(NVFLARE_ENROLLMENT_TOKEN="$(cat old.token)" "$T" enroll --startup k1/startup 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "has expired" && pass "NVFLARE_ENROLLMENT_TOKEN is read first" ||
  fail "env token" "exit $rc: $out"

# ---- cert api-key: 32 random bytes, base64url, new each time ----
k1=$("$T" cert api-key); k2=$("$T" cert api-key)
[[ "$k1" =~ ^[A-Za-z0-9_-]{43}$ ]] && pass "cert api-key prints 43 base64url characters (32 bytes)" || fail "api-key format" "$k1"
[ "$k1" != "$k2" ] && pass "cert api-key is new each time" || fail "api-key repeats"
"$PY" -c 'import base64,sys; assert len(base64.urlsafe_b64decode(sys.argv[1] + "=")) == 32' "$k1" &&
  pass "the key decodes to 32 bytes (python3 base64)" || fail "api-key decode"
expect_fail "cert api-key takes no arguments" "api-key takes no arguments" "$T" cert api-key x
