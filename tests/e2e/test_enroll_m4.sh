#!/usr/bin/env bash
# The Cortex-M4 enrollment firmware (make cross-m4-online: the image of
# make cross-m4 plus its online mode and UART transport) enrolls over real TLS under
# qemu-system-arm -M mps2-an386. QEMU connects the board's UART0 to
# `tokenroll serve` on loopback (-chardev socket), so the UART's bytes are
# the TCP stream and TLS runs end to end in the firmware: mbedTLS on the
# M4, GnuTLS in serve. The startup kit `package` writes (rootCA.pem,
# enrollment.json, enrollment_token) is loaded into the board's memory;
# the firmware copies it into its flash store and enrolls from there.
# Against a P-256 and an RSA-2048 service; openssl judges the certificate
# the firmware stored; the firmware's heap and stack peaks must stay within
# the device goals (24 KB heap, 6 KB stack). First the UART stream itself:
# a large echo through QEMU's one-byte receive buffer must come back
# intact.
. "$(dirname "$0")/lib.sh"
need qemu-system-arm arm-none-eabi-gcc openssl
cd "$W"
FW=$ROOT/build/m4/enroll-fw-online.elf
HEAP_GOAL=24576
STACK_GOAL=6144
if ! out=$(make -C "$ROOT" --no-print-directory cross-m4-online 2>&1); then
  fail "make cross-m4-online" "$(printf '%s' "$out" | tail -5)"; exit 0
fi
arm-none-eabi-size -A "$FW" | awk '$1 == ".text" || $1 == ".ARM.exidx" || $1 == ".data" { f += $2 }
  END { printf "  online image: %d bytes of flash (the budgeted image plus the online mode and the UART)\n", f }'

# kit_blob OUT [NAME FILE]...: the firmware's kit format (fw_online.c):
# "TKRKIT1\0", then each name and content NUL-terminated, then "\0".
kit_blob() {
  local out=$1; shift
  { printf 'TKRKIT1\0'
    while [ $# -gt 0 ]; do printf '%s\0' "$1"; cat "$2"; printf '\0'; shift 2; done
    printf '\0'; } > "$out"
}

# run_fw KIT PORT: the firmware in QEMU with its UART connected to
# 127.0.0.1:PORT, semihosting as the console. Output in $FW_OUT, status in $FW_RC.
run_fw() {
  FW_OUT=$(timeout 100 qemu-system-arm -M mps2-an386 -icount shift=0 -nographic -monitor none \
    -chardev "socket,id=s0,host=127.0.0.1,port=$2" -serial chardev:s0 \
    -semihosting-config enable=on,target=native \
    -device "loader,file=$1,addr=0x00200000,force-raw=on" -kernel "$FW" 2>&1)
  FW_RC=$?
}

# The firmware's own lines, indented so they are not counted as checks.
show() { printf '%s\n' "$FW_OUT" | sed 's/^/  | /'; }

# figure LABEL: the number after "LABEL: " in the firmware's output.
figure() { printf '%s\n' "$FW_OUT" | sed -n "s/^$1: \([0-9]*\) bytes.*/\1/p" | tail -n1; }

# ---- the UART stream: 64 KB echoed through QEMU's one-byte RX buffer ----
ECHO_N=65536
cat > echo_peer.py <<'PY'
import os, socket, sys, threading
n = int(sys.argv[1])
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(60)
data = os.urandom(n)
threading.Thread(target=c.sendall, args=(data,), daemon=True).start()
got = bytearray()
while len(got) < n:
    b = c.recv(65536)
    if not b:
        break
    got += b
print("intact" if bytes(got) == data else "damaged: %d of %d bytes back" % (len(got), n), flush=True)
PY
"$PY" echo_peer.py $ECHO_N > echo.out 2>&1 &
peer=$!
for i in $(seq 1 50); do [ -s echo.out ] && break; sleep 0.1; done
printf '%s' $ECHO_N > echo.n
kit_blob echo.kit uart_echo echo.n
run_fw echo.kit "$(head -n1 echo.out)"
wait $peer
same "the UART stream carries $ECHO_N bytes each way intact (QEMU exit 0)" "$FW_RC $(sed -n 2p echo.out)" "0 intact"
[ "$FW_RC" = 0 ] || show

# ---- enrollment against serve, for a P-256 and an RSA-2048 service ----
for kt in ec rsa; do
  case $kt in ec) what="P-256" ;; rsa) what="RSA-2048" ;; esac
  mkdir "$kt" && cd "$W/$kt" || exit 1
  provision_local m4_test --key-type $kt || exit 1
  start_serve serve.log --ca-path "$P" --db "sqlite:$W/$kt/svc.db" || exit 1
  "$T" token generate -s m4-device -c "$P" -o m4.token >/dev/null 2>&1 || { fail "$what: token"; exit 1; }
  "$T" package -n m4-device -e grpc://localhost:8002 --cert-service "https://localhost:$SERVE_PORT" \
    --token m4.token -c "$P" -o kit >/dev/null 2>&1 || { fail "$what: package"; exit 1; }
  K=kit/startup
  case $kt in ec) want="ASN1 OID: prime256v1" ;; rsa) want="Public-Key: (2048 bit)" ;; esac
  crt=$(ls "$P"/prod_*/localhost/startup/server.crt | tail -n1)
  openssl x509 -in "$crt" -noout -text | grep -q "$want" &&
    pass "$what service: serve's TLS certificate holds a $what key" || fail "$what: serve's key type" "$crt"
  kit_blob m4.kit rootCA.pem "$K/rootCA.pem" enrollment.json "$K/enrollment.json" \
    enrollment_token "$K/enrollment_token"

  # The other workspace's root first: serve's certificate must not verify,
  # and the firmware must stop without sending the token.
  other=$W/ec/kit/startup/rootCA.pem
  if [ $kt = rsa ] && [ -f "$other" ]; then
    kit_blob wrong.kit rootCA.pem "$other" enrollment.json "$K/enrollment.json" \
      enrollment_token "$K/enrollment_token"
    run_fw wrong.kit "$SERVE_PORT"
    # The image carries codes, not sentences: MBEDTLS_X509_BADCERT_NOT_TRUSTED
    # (0x08) alone among the verification flags.
    [ "$FW_RC" = 1 ] && printf '%s\n' "$FW_OUT" | grep -q "^  verify flags: 0x00000008$" &&
      printf '%s\n' "$FW_OUT" | grep -q "^log: Enrollment failed: " &&
      pass "$what service: with another root CA the firmware refuses serve's certificate as not trusted (exit 1)" ||
      { fail "$what: wrong root" "exit $FW_RC"; show; }
    same "$what service: and serve saw no enrollment request" "$(grep -c '/api/v1/enroll' serve.log)" 0
  fi

  run_fw m4.kit "$SERVE_PORT"
  same "$what service: the M4 firmware enrolls over TLS through the UART (QEMU exit 0)" "$FW_RC" 0
  [ "$FW_RC" = 0 ] || show
  printf '%s\n' "$FW_OUT" | grep -q "^log: Enrollment successful. Certificate saved to: client.crt" &&
    pass "$what service: it logs the documented success line" || fail "$what: success line"
  printf '%s\n' "$FW_OUT" | grep -q "^PASS: the UART flagged no overrun either way" &&
    pass "$what service: the UART flagged no overrun either way" || fail "$what: UART overrun"
  printf '%s\n' "$FW_OUT" | grep -q "^PASS: a 4096-byte maximum fragment is refused as an argument" &&
    pass "$what service: a maximum fragment above the 2 KB out-buffer is refused as the caller's error" ||
    fail "$what: 4096-byte fragment"
  printf '%s\n' "$FW_OUT" | grep -q "^PASS: next boot: already enrolled from flash" &&
    pass "$what service: the next boot is already enrolled from flash, without a request" ||
    fail "$what: next boot"
  printf '%s\n' "$FW_OUT" | grep -q "^PASS: a second connect on the used serial stream fails" &&
    printf '%s\n' "$FW_OUT" | grep -q "^log: uart: the serial stream was one connection and it is closed" &&
    pass "$what service: a second connect on the used stream fails clearly" || fail "$what: second connect"
  same "$what service: serve saw exactly one enrollment request" "$(grep -c '/api/v1/enroll' serve.log)" 1
  printf '%s\n' "$FW_OUT" | sed -n '/^client.crt in flash:/,/^-----END CERTIFICATE-----/p' | sed 1d > client.crt
  openssl verify -CAfile "$K/rootCA.pem" client.crt >/dev/null 2>&1 &&
    pass "$what service: the certificate in flash verifies against the kit's root (openssl)" ||
    fail "$what: openssl verify" "$(openssl verify -CAfile "$K/rootCA.pem" client.crt 2>&1 | tail -2)"
  openssl x509 -in client.crt -noout -subject -nameopt RFC2253 | grep -q "CN=m4-device" &&
    pass "$what service: the certificate names m4-device" || fail "$what: subject" "$(openssl x509 -in client.crt -noout -subject 2>&1)"
  openssl x509 -in client.crt -noout -text | grep -q "prime256v1" &&
    pass "$what service: the device's key is P-256" || fail "$what: device key type"

  heap=$(figure "peak heap (mbedTLS pool high-water)")
  stack=$(figure "stack high-water")
  echo "  $what service: peak heap $heap bytes, stack $stack bytes, $(printf '%s\n' "$FW_OUT" | sed -n 's/^uart stream: //p')"
  printf '%s\n' "$FW_OUT" | sed -n 's/^kinsn \(.*\): \([0-9]*\)$/  \2 thousand instructions \1/p'
  # Figures of a run that stopped early say nothing about the goals.
  if [ "$FW_RC" != 0 ] && [ "$FW_RC" != 1 ] || ! printf '%s\n' "$FW_OUT" | grep -q "^PASS: client.crt read back"; then
    fail "$what: no heap and stack figures from a whole enrollment"
  else
    [ -n "$heap" ] && [ "$heap" -le $HEAP_GOAL ] && pass "$what service: peak heap $heap <= $HEAP_GOAL bytes" ||
      fail "$what: peak heap ${heap:-?} above $HEAP_GOAL bytes"
    [ -n "$stack" ] && [ "$stack" -le $STACK_GOAL ] && pass "$what service: stack $stack <= $STACK_GOAL bytes" ||
      fail "$what: stack ${stack:-?} above $STACK_GOAL bytes"
  fi
  stop_serve "$SERVE_PID"
  cd "$W" || exit 1
done
