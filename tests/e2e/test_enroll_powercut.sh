#!/usr/bin/env bash
# Power cuts during the device's enrollment: `tokenroll enroll` killed with
# SIGKILL at a random moment, 60 times, against `tokenroll serve`.
#
# Each device's request is held for approval first and approved, so the
# run that is cut fetches an issued certificate and commits it; the service
# answers a retry with the same token and key with the same certificate,
# so every cut can be resumed. After each cut the startup folder must hold
# no certificate, or a certificate and a key that belong together, or the
# commit blob that the next run rolls forward; and the next run must
# complete with a matching pair that chains to the root.
. "$(dirname "$0")/lib.sh"
need openssl
cd "$W"
RUNS=${POWERCUT_RUNS:-60}

cat > hold.yaml <<'YML'
approval:
  method: manual
  rules:
    - name: hold
      match: {}
      action: pending
YML
provision_local powercut || exit 1
KEY=k-$$
start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" --api-key "$KEY" || exit 1
URL=https://localhost:$SERVE_PORT
"$T" package -n template -e grpc://localhost:8002 --cert-service "$URL" -c "$P" -o template >/dev/null 2>&1 ||
  { fail "package"; exit 1; }

# state DIR: "none", "pair" (matching), "commit" (blob present), or "BAD ...".
state() {
  local d=$1
  if [ -f "$d/enrollment.commit" ]; then echo commit; return; fi
  if [ ! -f "$d/client.crt" ]; then
    [ -f "$d/client.key" ] && [ -f "$d/pending.key" ] && ! cmp -s "$d/client.key" "$d/pending.key" &&
      { echo "BAD key without certificate"; return; }
    echo none; return
  fi
  [ -f "$d/client.key" ] || { echo "BAD certificate without key"; return; }
  [ "$(openssl x509 -in "$d/client.crt" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum)" = \
    "$(openssl pkey -in "$d/client.key" -pubout -outform DER 2>/dev/null | sha256sum)" ] ||
    { echo "BAD key and certificate do not match"; return; }
  echo pair
}

"$T" token batch -n "$RUNS" --prefix pc -o tokens.csv -p hold.yaml -c "$P" >/dev/null 2>&1 ||
  { fail "mint $RUNS tokens"; exit 1; }
bad=0; resumed=0; seen=""
for i in $(seq 1 "$RUNS"); do
  name=$(printf 'pc-%03d' "$i")
  d=dev-$i/startup
  mkdir -p "dev-$i" && cp -r template/startup "$d"
  grep "^$name," tokens.csv | cut -d, -f2 | tr -d '\n' > "$d/enrollment_token"
  "$T" enroll --startup "$d" --name "$name" --wait 0 >/dev/null 2>&1    # pending: key kept
  "$T" enrollment approve "$name" --cert-service "$URL" --api-key "$KEY" --ca-cert "$d/rootCA.pem" >/dev/null 2>&1
  # The cut: somewhere in a run that takes about 100 to 200 ms here.
  "$T" enroll --startup "$d" --name "$name" --wait 0 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 250)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  s=$(state "$d")
  case $s in BAD*) bad=$((bad + 1)); fail "run $i: after the cut: $s" "$(ls -l "$d")" ;; esac
  seen="$seen $s"
  [ "$s" = commit ] && resumed=$((resumed + 1))
  # Power back: the next run completes.
  if ! out=$("$T" enroll --startup "$d" --name "$name" --wait 5 2>&1); then
    bad=$((bad + 1)); fail "run $i: the next run completes" "$out"
  elif [ "$(state "$d")" != pair ] || ! openssl verify -CAfile "$d/rootCA.pem" "$d/client.crt" >/dev/null 2>&1; then
    bad=$((bad + 1)); fail "run $i: a matching pair after the next run" "$(ls -l "$d")"
  fi
done
[ "$bad" -eq 0 ] && pass "$RUNS power cuts: never a partial or mismatched pair, and the next run completes"
n_none=$(grep -o none <<<"$seen" | wc -l); n_pair=$(grep -o pair <<<"$seen" | wc -l)
echo "cut states: none=$n_none pair=$n_pair commit=$resumed"
# The cuts must have landed on both sides of the commit, or they tested nothing.
[ "$n_none" -gt 0 ] && [ "$n_pair" -gt 0 ] && pass "cuts fell before and after the commit" ||
  fail "cuts fell before and after the commit" "none=$n_none pair=$n_pair commit=$resumed"
stop_serve "$SERVE_PID"
