#!/usr/bin/env bash
# The certificate service under load, beside the TLS floor of the same run.
#
#   tests/bench/serve.sh BUILD_DIR     (run by make bench-one)
#
# For an RSA-2048 and a P-256 server/CA key (provision --key-type), and for
# SQLite and PostgreSQL: 1,000 devices enroll over HTTPS, 64 at once, each
# with its own pre-minted token and P-256 CSR and a fresh TLS connection
# (loadgen.c, libcurl multi). The floor is an empty responder on the same
# HTTP server code and TLS stack with the same server key (floor.c), under
# the same load. Printed per run: enrollments/s and its ratio to the floor,
# p50/p99 latency, errors, and the service's CPU per enrollment (its own
# getrusage, printed when it stops), then the median of BENCH_ROUNDS (3)
# such runs. BENCH_DEVICES (1000) and BENCH_PARALLEL (64) change the load.
set -uo pipefail
B=${1:?usage: serve.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export TOKENROLL="$root/$B/tokenroll"
N=${BENCH_DEVICES:-1000}
PAR=${BENCH_PARALLEL:-64}
ROUNDS=${BENCH_ROUNDS:-3}
. "$root/tests/e2e/lib.sh"
LG="$root/$B/bench/loadgen"
FL="$root/$B/bench/floor"
cd "$W"
PG_FSYNC=on start_postgres
failed=0

# run LABEL PORT: the load against 127.0.0.1:PORT as server.example.com.
run() {
  "$LG" "$1" "https://server.example.com:$2/api/v1/enroll" "$CA" \
    "server.example.com:$2:127.0.0.1" tokens.csv "$N" "$PAR"
}
rate() { sed -n 's/.*errors, \([0-9]*\)\/s.*/\1/p'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# floor_run: the floor under the same load; sets fout (its line) and floor
# (answers/s). Each service run sits between two of them and is compared
# with their mean, as other work on the machine drifts during a run.
floor_run() {
  local port fpid fline fcpu i
  port=$(free_port)
  "$FL" "$K/server.crt" "$K/server.key" "$port" 2>floor.log &
  fpid=$!
  for i in $(seq 50); do grep -q listening floor.log && break; sleep 0.1; done
  fline=$(run "floor $kt" "$port")
  kill -TERM "$fpid"; wait "$fpid"
  fcpu=$(sed -n 's/^cpu: \(.*\) s/\1/p' floor.log)
  fout="$fline (server CPU $(awk -v c="$fcpu" -v n="$N" 'BEGIN{printf "%.2f", c*1000/n}') ms/answer)"
  floor=$(printf '%s' "$fline" | rate)
}
errors() { sed -n 's/.* \([0-9]*\) errors.*/\1/p'; }
# ccpu: the load generator's own CPU per request (ms) in a line. The
# machine's speed drifts by tens of per cent with its neighbours' load,
# and unevenly (OpenSSL's RSA signature slows less than a handshake's
# system calls and allocation); the generator, busy on the same cores with
# the same kind of work at the same moment, is the yardstick.
ccpu() { sed -n 's/.*client CPU \([0-9.]*\) ms.*/\1/p'; }

echo "load average before: $(load)"
for kt in rsa ec; do
  rm -rf ws tokens.csv; mkdir ws
  "$T" provision -p "$root/tests/vectors/project/token_doc.yml" -w ws --key-type "$kt" >/dev/null 2>&1 ||
    { echo "serve.sh: provision failed"; exit 1; }
  P=ws/my_fl_project
  K=$P/prod_00/server.example.com/startup
  CA=$K/rootCA.pem
  "$T" token batch -c "$P" -n "$N" --prefix dev -o tokens.csv >/dev/null 2>&1 ||
    { echo "serve.sh: token batch failed"; exit 1; }
  floor_run; prev=$floor; echo "$fout"
  for round in $(seq "$ROUNDS"); do
    for db in sqlite postgresql; do
      if [ "$db" = sqlite ]; then url="sqlite:$W/bench-$kt.db"; rm -f "$W/bench-$kt.db"*
      else # a fresh schema, whatever tables the service has grown since
        url=$PG_URL; psql -qtA "$PG_URL" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
      fi
      start_serve "serve-$kt-$db.log" --ca-path "$P" --db "$url" || { failed=1; continue; }
      line=$(run "service $kt $db" "$SERVE_PORT")
      stop_serve "$SERVE_PID"
      floor_run
      cpu=$(sed -n 's/.*cpu while serving: \([0-9.]*\) s.*/\1/p' "serve-$kt-$db.log")
      r=$(printf '%s' "$line" | rate)
      share=$(awk -v r="$r" -v a="$prev" -v b="$floor" 'BEGIN{printf "%.0f", 200*r/(a+b)}')
      ms=$(awk -v c="$cpu" -v n="$N" 'BEGIN{printf "%.2f", c*1000/n}')
      rel=$(printf '%s' "$line" | ccpu | awk -v m="$ms" '{printf "%.2f", m / $1}')
      echo "$line, $share% of the floor, service CPU $ms ms/enrollment ($rel x the generator's)"
      echo "$share $ms $rel" >> "runs-$kt-$db"
      [ "$(printf '%s' "$line" | errors)" = 0 ] || failed=1
      echo "$fout"
      prev=$floor
    done
  done
done
# The median of the rounds, per key and database: one run can meet a
# burst of other work on the machine. med COLUMN FILE.
med() { sort -n -k"$1,$1" "$2" | awk -v c="$1" '{a[NR]=$c} END{print a[int((NR+1)/2)]}'; }
for kt in rsa ec; do
  for db in sqlite postgresql; do
    [ -s "runs-$kt-$db" ] || continue
    echo "median of $ROUNDS, $kt $db: $(med 1 "runs-$kt-$db")% of the floor, service CPU $(med 2 "runs-$kt-$db") ms/enrollment ($(med 3 "runs-$kt-$db") x the generator's)"
  done
done
echo "load average after: $(load)"
exit $failed
