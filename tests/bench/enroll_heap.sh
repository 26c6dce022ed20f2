#!/usr/bin/env bash
# enroll_heap.sh BUILD_PATH — one whole enrollment against `tokenroll serve`
# on loopback, measured by bench_device (mbedTLS's allocator hooks) and by
# valgrind DHAT (the whole process's peak heap). Called by run.sh.
set -uo pipefail
B=${1:?usage: enroll_heap.sh BUILD_PATH}
T=$B/tokenroll
d=$(mktemp -d "${TMPDIR:-/tmp}/tkr-bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
cd "$d"
cat > p.yml <<'YML'
api_version: 3
name: bench
participants:
  - name: localhost
    type: server
    org: Bench
    fed_learn_port: 8002
    admin_port: 8003
YML
"$T" provision -p p.yml -w ws >/dev/null 2>&1 || { echo "enroll_heap: provision failed"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$T" serve --ca-path ws/bench --db "sqlite:$d/s.db" --listen "127.0.0.1:$port" >serve.log 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "listening on" serve.log && break; sleep 0.1; done
"$T" token batch --names h-1 h-2 -o t.csv -c ws/bench >/dev/null 2>&1
kit() {
  "$T" package -n "$1" -e grpc://localhost:8002 -c ws/bench -o "$1" \
    --token "$(grep "^$1," t.csv | cut -d, -f2)" >/dev/null 2>&1
}
kit h-1 && kit h-2 || { echo "enroll_heap: package failed"; exit 1; }
"$B/bench/bench_device" enroll h-1/startup "https://localhost:$port" | grep "^peak" || exit 1
valgrind --tool=dhat --dhat-out-file=/dev/null "$B/bench/bench_device" enroll h-2/startup \
  "https://localhost:$port" 2>&1 |
  sed -n 's/.*At t-gmax: *\([0-9,]*\) bytes.*/peak process heap (DHAT), whole enrollment: \1 bytes/p'
