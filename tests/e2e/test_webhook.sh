#!/usr/bin/env bash
# Webhook notifications from `tokenroll serve`: a pending and a rejected
# enrollment each reach a small HTTPS receiver as a JSON POST (the URL,
# with a query string, written as ${NAME} in the policy), and so does an
# administrator's reject of a pending request, with its reason; the
# device's answer does not wait for them, and a notice whose receiver is
# down stays in the store and is delivered once the receiver is back.
. "$(dirname "$0")/lib.sh"
need openssl sqlite3
cd "$W"

provision_local hooks || exit 1

# The receiver's own CA and certificate (localhost), trusted by serve only
# through --webhook-ca.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hca.key -out hca.crt \
  -days 2 -subj /CN=hook-ca -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hook.key -out hook.csr \
  -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' > ext
openssl x509 -req -in hook.csr -CA hca.crt -CAkey hca.key -CAcreateserial -days 2 -extfile ext \
  -out hook.crt 2>/dev/null

receiver() {
  "$PY" "$ROOT/tests/e2e/http_peer.py" --cert hook.crt --key hook.key --record "$W/received.jsonl" >recv.out 2>&1 &
  RECV=$!
  on_exit "kill $RECV 2>/dev/null"
  for _ in $(seq 50); do grep -q '^PORT' recv.out 2>/dev/null && break; sleep 0.1; done
  RPORT=$(sed -n 's/^PORT //p' recv.out)
}
receiver

cat > hooks.yaml <<'YML'
approval:
  method: policy
  rules:
    - name: no-bad-sites
      match:
        site_name_pattern: "bad-*"
      action: reject
      message: "bad sites are not welcome"
      notify:
        - security@example.com
    - name: review
      match: {}
      action: pending
      message: "waiting for review"
      notify:
        - admin@example.com
notifications:
  enabled: true
  channels:
    email:
      enabled: true
      smtp_config: "${SMTP_CONFIG_PATH}"
    webhook:
      enabled: true
      url: "${HOOK_URL}"
YML

export HOOK_URL="https://localhost:$RPORT/webhook?key=k$$&via=tokenroll"
KEY=admin-$$
start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" --webhook-ca "$W/hca.crt" -p hooks.yaml \
  --api-key "$KEY" || exit 1
URL=https://localhost:$SERVE_PORT
kit() {
  "$T" token generate -s "$1" -p hooks.yaml -c "$P" -o "$1.token" >/dev/null 2>&1 &&
    "$T" package -n "$1" -e grpc://localhost:8002 --cert-service "$URL" --token "$1.token" \
      -c "$P" -o "$1" >/dev/null 2>&1
}
kit site-1 && kit bad-1 || fail "kits"

grep -q "e-mail notifications, which tokenroll does not send" serve.log &&
  pass "serve says at start that e-mail is not sent" || fail "e-mail warning" "$(cat serve.log)"

out=$("$T" enroll --startup site-1/startup --wait 0 2>&1); rc=$?
same "pending enrollment (exit 2)" "$rc" 2
out=$("$T" enroll --startup bad-1/startup --wait 0 2>&1); rc=$?
same "rejected enrollment (exit 3)" "$rc" 3

for _ in $(seq 50); do [ -f received.jsonl ] && [ "$(wc -l < received.jsonl)" -ge 2 ] && break; sleep 0.1; done
"$PY" - "$W/received.jsonl" "key=k$$&via=tokenroll" <<'PY' && pass "the receiver got one JSON POST per event, with the policy's names, at the URL with its query" || fail "webhook bodies" "$(cat received.jsonl 2>/dev/null)"
import json, sys
ev = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    ev[d["event"]] = d
    assert d["_query"] == sys.argv[2], d
p, r = ev["pending"], ev["rejected"]
assert p["name"] == "site-1" and p["entity_type"] == "client" and p["rule"] == "review", p
assert p["request_id"] and p["message"] == "waiting for review", p
assert p["notify"] == ["admin@example.com"] and p["source_ip"] == "127.0.0.1", p
assert r["name"] == "bad-1" and r["rule"] == "no-bad-sites" and r["request_id"] is None, r
assert r["notify"] == ["security@example.com"], r
PY
same "nothing left in the queue once delivered" "$(sqlite3 svc.db 'SELECT COUNT(*) FROM notices')" 0

# An administrator rejects the pending request: the same receivers hear it,
# with the reason.
rid=$(sqlite3 svc.db "SELECT request_id FROM pending WHERE name = 'site-1'")
out=$("$T" enrollment reject site-1 --reason "not one of ours" --cert-service "$URL" --api-key "$KEY" \
  -c "$P" 2>&1)
same "enrollment reject --reason" "$out" "site-1: rejected"
for _ in $(seq 50); do [ "$(wc -l < received.jsonl)" -ge 3 ] && break; sleep 0.1; done
"$PY" - "$W/received.jsonl" "$rid" "key=k$$&via=tokenroll" <<'PY' && pass "the admin's reject reached the receiver with its reason" || fail "admin reject notice" "$(cat received.jsonl)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 3, lines
d = lines[2]
assert d["event"] == "rejected" and d["name"] == "site-1" and d["request_id"] == sys.argv[2], d
assert d["rule"] == "admin" and d["message"] == "not one of ours", d
assert d["notify"] == ["admin@example.com"], d
assert d["_query"] == sys.argv[3], d
PY
same "the admin's reject is audited with its reason" \
  "$(sqlite3 svc.db "SELECT COUNT(*) FROM audit WHERE line LIKE '%\"event\":\"reject\"%\"reason\":\"not one of ours\"%'")" 1
out=$("$T" enroll --startup site-1/startup --wait 0 2>&1); rc=$?
same "the device's retry after the admin's reject (exit 3)" "$rc" 3

# The receiver down: the notice waits in the store, then arrives.
kill "$RECV"; wait "$RECV" 2>/dev/null
kit bad-2 || fail "kit bad-2"
start=$(date +%s.%N)
"$T" enroll --startup bad-2/startup --wait 0 >/dev/null 2>&1
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a < 3) }' &&
  pass "the device's answer does not wait for an unreachable webhook" || fail "answer delayed"
for _ in $(seq 30); do grep -q "notification .* failed" serve.log && break; sleep 0.1; done
same "the undelivered notice stays in the store" "$(sqlite3 svc.db 'SELECT COUNT(*) FROM notices')" 1
"$PY" "$ROOT/tests/e2e/http_peer.py" --cert hook.crt --key hook.key --record "$W/received.jsonl" \
  --port "$RPORT" >recv2.out 2>&1 &
RECV=$!
on_exit "kill $RECV 2>/dev/null"
for _ in $(seq 120); do grep -q '"bad-2"' received.jsonl 2>/dev/null && break; sleep 0.1; done
grep -q '"name": *"bad-2"' received.jsonl && pass "delivered after the receiver came back (retried with backoff)" ||
  fail "redelivery" "$(tail -5 serve.log)"
same "the queue is empty again" "$(sqlite3 svc.db 'SELECT COUNT(*) FROM notices')" 0
stop_serve "$SERVE_PID"
