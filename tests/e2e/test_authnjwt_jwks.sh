#!/usr/bin/env bash
# The JWT authenticator's JWKS cache, end to end: the quick start's issuer
# (tests/e2e/idp.py) rotates its key; a token with a kid the service has not
# seen makes it fetch the set once, and a second unknown kid within the
# refetch interval (--jwt-jwks-refetch, 60 s by default) fetches nothing.
# The fetches are counted on the issuer's side (idp/jwks.log).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authnjwt_lib.sh"

idp_http
make_service_ca

fetches() { cat idp/jwks.log 2>/dev/null | wc -l; }
tok() { curl -s "$IDP/default/token?sub=${1:-softioc}&password=secret"; }
kid() { "$PY" -c 'import jwt,sys; print(jwt.get_unverified_header(sys.argv[1])["kid"])' "$1"; }
rotate() { curl -s -X POST "$IDP/admin/rotate" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["kid"])'; }
# wait_past T S: sleep until more than S whole seconds have passed since
# epoch T (the service counts whole seconds too).
wait_past() { while [ $(($(date +%s) - $1)) -le "$2" ]; do sleep 0.2; done; }

REFETCH=6
DB="$W/jwks.db"
start_serve serve-jwks.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB" \
  --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-issuer "$ISS" --jwt-jwks-refetch "$REFETCH" || exit 1
t0=$(date +%s)   # the set was fetched before this
same "the set is fetched once at start" "$(fetches)" "1"
T1=$(tok)
same "the first token carries the first key's kid" "$(kid "$T1")" "demo-key-1"
accepted "a known kid: accepted" "$T1" "$DB"
accepted "a known kid again: accepted" "$T1" "$DB"
same "a known kid fetches nothing" "$(fetches)" "1"

# The issuer rotates: its next tokens carry a kid the service has not seen.
same "the issuer rotates to a second key" "$(rotate)" "demo-key-2"
T2=$(tok)
same "the new token carries the new kid" "$(kid "$T2")" "demo-key-2"
wait_past "$t0" "$REFETCH"
tA=$(date +%s)   # the second fetch comes after this ...
accepted "an unknown kid after the interval: the set is fetched again, accepted" "$T2" "$DB"
tB=$(date +%s)   # ... and before this
same "exactly one fetch for it" "$(fetches)" "2"
accepted "the old kid is still in the set: accepted" "$T1" "$DB"
same "and fetches nothing" "$(fetches)" "2"

# A second rotation within the interval: refused, nothing fetched.
same "the issuer rotates to a third key" "$(rotate)" "demo-key-3"
T3=$(tok)
refused "a second unknown kid within the interval: 401" 401 "no configured key matches the token's kid" "$T3" "$DB"
refused "and again: 401" 401 "no configured key matches the token's kid" "$T3" "$DB"
same "no fetch within the interval" "$(fetches)" "2"
if [ $(($(date +%s) - tA)) -ge "$REFETCH" ]; then
  fail "the refusals above came within the interval" "this machine took $(($(date +%s) - tA)) s"
fi
wait_past "$tB" "$REFETCH"
accepted "the same kid once the interval is over: fetched, accepted" "$T3" "$DB"
same "one more fetch" "$(fetches)" "3"
grep -q eyJ serve-jwks.log && fail "the service's log names no token" "$(cat serve-jwks.log)" || pass "the service's log names no token"
stop_serve "$SERVE_PID"

# The default interval is a minute: a service started just now does not
# fetch for an unknown kid.
DB2="$W/default.db"
start_serve serve-default.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB2" \
  --jwt-jwks "$IDP/.well-known/jwks.json" --jwt-issuer "$ISS" || exit 1
n=$(fetches)
same "the issuer rotates to a fourth key" "$(rotate)" "demo-key-4"
refused "default interval: an unknown kid within the minute is refused" 401 "no configured key matches the token's kid" "$(tok)" "$DB2"
same "default interval: nothing fetched" "$(fetches)" "$n"
accepted "default interval: a kid of the set fetched at start is accepted" "$T3" "$DB2"
stop_serve "$SERVE_PID"

# A JWKS file is read again on an unknown kid, at the same pace.
curl -s "$IDP/.well-known/jwks.json" > set.json
DB3="$W/file.db"
start_serve serve-file.log --ca-path ws/EPICS_Root_CA --db "sqlite:$DB3" \
  --jwt-jwks "$W/set.json" --jwt-issuer "$ISS" --jwt-jwks-refetch 2 || exit 1
t2=$(date +%s)
same "the issuer rotates to a fifth key" "$(rotate)" "demo-key-5"
T5=$(tok)
curl -s "$IDP/.well-known/jwks.json" > set.json.new && mv set.json.new set.json
wait_past "$t2" 2
accepted "a JWKS file is read again for an unknown kid" "$T5" "$DB3"
stop_serve "$SERVE_PID"

for v in 0 -1 86401 abc; do
  expect_fail "--jwt-jwks-refetch $v is refused" "^Error: --jwt-jwks-refetch must be 1..86400 seconds, not $v" \
    "$T" serve --ca-path ws/EPICS_Root_CA --db "sqlite:$W/never.db" --listen "127.0.0.1:$(free_port)" \
    --jwt-jwks "$W/set.json" --jwt-issuer "$ISS" --jwt-jwks-refetch "$v"
done
check "no sanitizer report in the services' logs" bash -c "! grep -E 'Sanitizer|runtime error' serve-*.log"
