#!/usr/bin/env bash
# Stalled clients against `tokenroll serve`: a connection that sends nothing
# (no TLS handshake), half a request head, or a head and part of its body
# is dropped once it has been idle for --timeout seconds, while the service
# goes on answering others; the default (30 s) still holds one open; and
# hundreds of stalled and trickling (slowloris) connections do not keep a
# device from enrolling.
. "$(dirname "$0")/lib.sh"
need curl openssl
cd "$W"

provision_local stalls || exit 1
CA=$(ls "$P"/prod_00/localhost/startup/rootCA.pem)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
  -subj /CN=x -out dev.csr 2>/dev/null

expect_fail "serve --timeout refuses 0" "--timeout must be 1..3600" "$T" serve --ca-path "$P" --timeout 0
expect_fail "serve --timeout refuses words" "--timeout must be 1..3600" "$T" serve --ca-path "$P" --timeout soon

# enroll NAME: one enrollment with curl; prints "CODE SECONDS".
enroll() {
  local tok
  "$T" token generate -s "$1" -c "$P" -o "$1.jwt" >/dev/null 2>&1 || { echo "mint-failed"; return; }
  "$PY" - "$1.jwt" dev.csr "$1" > "$1.json" <<'PY'
import json, sys
print(json.dumps({"token": open(sys.argv[1]).read().strip(), "csr": open(sys.argv[2]).read(),
                  "metadata": {"name": sys.argv[3], "type": "client"}}))
PY
  curl -s -o "$1.out" -w '%{http_code} %{time_total}' --max-time 20 --cacert "$CA" \
    -H 'Content-Type: application/json' --data-binary "@$1.json" \
    "https://localhost:$SERVE_PORT/api/v1/enroll"
}

start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" --timeout 2 || exit 1

# ---- one stalled connection of each kind, a normal client meanwhile ----
"$PY" "$ROOT/tests/e2e/stall_peer.py" "$SERVE_PORT" "$CA" once > once.out 2>&1 &
probe=$!
for _ in $(seq 100); do grep -q READY once.out && break; sleep 0.05; done
r=$(enroll site-1)
code=${r%% *}; secs=${r#* }
awk -v c="$code" -v s="$secs" 'BEGIN { exit !(c == 200 && s < 1.5) }' &&
  pass "an enrollment is answered while three connections stall ($secs s)" ||
  fail "an enrollment is answered while three connections stall" "$r $(cat site-1.out 2>/dev/null)"
wait "$probe"
for kind in tcp head body; do
  t=$(sed -n "s/^$kind //p" once.out)
  what=$(case $kind in tcp) echo "no TLS handshake";; head) echo "half a request head";;
    body) echo "a head and part of its body";; esac)
  awk -v t="$t" 'BEGIN { exit !(t != "open" && t >= 1.5 && t < 6) }' &&
    pass "a connection with $what is dropped after the 2 s timeout ($t s)" ||
    fail "a connection with $what is dropped after the 2 s timeout" "$(cat once.out)"
done
r=$(enroll site-2)
same "the service answers after dropping them" "${r%% *}" 200

# ---- slowloris: 300 stalled or trickling connections, then a device ----
"$PY" "$ROOT/tests/e2e/stall_peer.py" "$SERVE_PORT" "$CA" many 300 5 > many.out 2>&1 &
probe=$!
for _ in $(seq 400); do grep -q READY many.out && break; sleep 0.05; done
same "300 stalled connections are up" "$(sed -n 's/^READY //p' many.out)" 300
r=$(enroll site-3)
code=${r%% *}; secs=${r#* }
awk -v c="$code" -v s="$secs" 'BEGIN { exit !(c == 200 && s < 3) }' &&
  pass "a device enrolls among 300 stalled and trickling connections ($secs s)" ||
  fail "a device enrolls among 300 stalled and trickling connections" "$r $(cat site-3.out 2>/dev/null)"
check "its certificate verifies" bash -c "'$PY' -c 'import json,sys; print(json.load(open(\"site-3.out\"))[\"certificate\"])' > site-3.crt && openssl verify -CAfile '$CA' site-3.crt"
wait "$probe"
closed=$(sed -n 's/^CLOSED //p' many.out)
# The 200 that sent nothing more were dropped by the timeout; the 100
# trickling ones are kept alive by their bytes.
[ -n "$closed" ] && [ "$closed" -ge 200 ] && [ "$closed" -lt 300 ] &&
  pass "the silent ones were dropped, the trickling ones not ($closed of 300 closed)" ||
  fail "the silent ones were dropped, the trickling ones not" "$(cat many.out)"
get=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://localhost:$SERVE_PORT/health")
same "healthy afterwards" "$get" 200
stop_serve "$SERVE_PID" && pass "serve stops cleanly" || fail "serve stops cleanly" "$(tail -5 serve.log)"

# ---- the default timeout is 30 s: a silent connection is still open at 3 s ----
start_serve serve2.log --ca-path "$P" --db "sqlite:$W/svc2.db" || exit 1
"$PY" - "$SERVE_PORT" <<'PY' && pass "without --timeout a silent connection is kept past 3 s (default 30 s)" || fail "default timeout"
import select, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(3)
r, _, _ = select.select([s], [], [], 0)
sys.exit(1 if r and s.recv(1) == b"" else 0)
PY
stop_serve "$SERVE_PID"
