#!/usr/bin/env bash
# The device program cross-compiled for aarch64 Linux (make cross-aarch64:
# static, mbedTLS 3.6 built for it, no policy library, libyaml,
# libmicrohttpd or database), run under qemu-aarch64, enrolls against
# `tokenroll serve` on loopback.
. "$(dirname "$0")/lib.sh"
need qemu-aarch64 aarch64-linux-gnu-gcc openssl file
cd "$W"
DEV=$ROOT/build/aarch64/tokenroll-device
if ! out=$(make -C "$ROOT" --no-print-directory cross-aarch64 2>&1); then
  fail "make cross-aarch64" "$(printf '%s' "$out" | tail -5)"; exit 0
fi
file "$DEV" | grep -q "ARM aarch64.*statically linked" && pass "the device program is a static aarch64 executable" ||
  fail "static aarch64" "$(file "$DEV")"

provision_local arm_test || exit 1
start_serve serve.log --ca-path "$P" --db "sqlite:$W/svc.db" || exit 1
"$T" token generate -s arm-1 -c "$P" -o arm-1.token >/dev/null 2>&1
"$T" package -n arm-1 -e grpc://localhost:8002 --cert-service "https://localhost:$SERVE_PORT" \
  --token arm-1.token -c "$P" -o kit >/dev/null 2>&1 || { fail "package"; exit 1; }

out=$(qemu-aarch64 "$DEV" enroll --startup kit/startup 2>&1); rc=$?
same "the aarch64 device enrolls under qemu-aarch64 (exit 0)" "$rc" 0
echo "$out" | grep -q "Enrollment successful. Certificate saved to: kit/startup/client.crt" &&
  pass "it prints the documented success line" || fail "success line" "$out"
openssl verify -CAfile kit/startup/rootCA.pem kit/startup/client.crt >/dev/null 2>&1 &&
  pass "its certificate verifies against the root" || fail "verify"
[ "$(openssl x509 -in kit/startup/client.crt -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
  "$(openssl pkey -in kit/startup/client.key -pubout -outform DER | sha256sum)" ] &&
  pass "its key and certificate match" || fail "pair"
same "its key is mode 0600" "$(stat -c %a kit/startup/client.key)" 600
out=$(qemu-aarch64 "$DEV" enroll --startup kit/startup 2>&1); rc=$?
echo "$out" | grep -q "Already enrolled" && [ $rc = 0 ] && pass "a second run says already enrolled" ||
  fail "already" "$rc $out"
stop_serve "$SERVE_PID"
