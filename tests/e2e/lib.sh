# tests/e2e/lib.sh — shared by every end-to-end script (source it).
# Gives: $T (tokenroll binary), $W (fresh temporary workspace, removed at
# exit), $V (FLARE vectors), check/expect_fail/pass/fail helpers, free_port.
set -u
T=${TOKENROLL:?run through tests/run.sh or set TOKENROLL}
ROOT=${TKR_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
V="$ROOT/tests/vectors/flare"
W=$(mktemp -d "${TMPDIR:-/tmp}/tkr-e2e.XXXXXX")
PY=/usr/bin/python3
_cleanup_hooks=()
_cleanup() { local h; for h in "${_cleanup_hooks[@]-}"; do [ -n "$h" ] && eval "$h"; done; rm -rf "$W"; }
trap _cleanup EXIT
on_exit() { _cleanup_hooks+=("$1"); }

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; return 0; }

# check NAME CMD...: the command must exit 0.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "exit $?: $(printf '%s' "$out" | head -c 600)"; fi
}

# expect_fail NAME PATTERN CMD...: must exit non-zero, with PATTERN (grep -E)
# in its output, and without a crash (exit >= 128 means a signal).
expect_fail() {
  local name=$1 pat=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then fail "$name" "succeeded but should fail: $(printf '%s' "$out" | head -c 300)"
  elif [ $rc -ge 128 ]; then fail "$name" "crashed (exit $rc): $out"
  elif ! printf '%s' "$out" | grep -Eq -- "$pat"; then fail "$name" "exit $rc, output lacks /$pat/: $(printf '%s' "$out" | head -c 400)"
  else pass "$name"; fi
}

# same NAME A B: two strings must be equal.
same() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got:      $(printf '%s' "$2" | head -c 300)" "expected: $(printf '%s' "$3" | head -c 300)"; fi
}

# need TOOL...: peers the script checks against (a command, or py:MODULE
# for a python3 module). When one is missing the script stops: as a FAIL
# under CI=true, where a check must not vanish, else as a SKIP line.
need() {
  local t missing=()
  for t in "$@"; do
    case $t in
      py:*) "$PY" -c "import ${t#py:}" >/dev/null 2>&1 || missing+=("python3 module ${t#py:}") ;;
      *) command -v "$t" >/dev/null 2>&1 || missing+=("$t") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${CI:-}" = true ]; then fail "$(basename "$0"): needs ${missing[*]}" "missing under CI=true"
  else echo "SKIP: $(basename "$0"): needs ${missing[*]}"; fi
  exit 0
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_postgres: Debian's PostgreSQL in a temporary folder, on 127.0.0.1
# and a free port, stopped at exit. Sets PG_URL. initdb refuses root, so
# as root the server runs as the postgres user. Tests run with fsync off
# (nothing here survives a power cut anyway); PG_FSYNC=on for benchmarks.
start_postgres() {
  local bin dir port as=()
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "${CI:-}" = "true" ]; then fail "PostgreSQL server (Debian postgresql) is required"; exit 1; fi
    echo "SKIP: PostgreSQL server not installed"; exit 0
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tkr-pg.XXXXXX")
  port=$(free_port)
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; as=(runuser -u postgres --); fi
  on_exit "${as[*]-} $bin/pg_ctl -D $dir/data -m immediate stop >/dev/null 2>&1; rm -rf $dir"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { fail "initdb" "$(tail -5 "$dir/initdb.log")"; exit 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${PG_FSYNC:-off} -c max_connections=200" start >/dev/null 2>&1 ||
    { fail "PostgreSQL start" "$(tail -5 "$dir/server.log")"; exit 1; }
  PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

# run_unit NAME BINARY [ENV=VALUE...]: run a cmocka binary, one PASS/FAIL
# line per test, each named "NAME: test". A binary that hangs (a lock
# never released) is stopped after 15 minutes and fails.
run_unit() {
  local name=$1 bin=$2 out; shift 2
  out=$(timeout 900 env "$@" "$bin" 2>&1)
  printf '%s\n' "$out" | sed -n "s/^\[       OK \] \(.*\)/PASS: $name: \1/p"
  printf '%s\n' "$out" | sed -n "s/^\[  FAILED  \] \([a-z_0-9]*\)$/FAIL: $name: \1/p" | sort -u
  printf '%s\n' "$out" | grep -q '^\[  PASSED  \]' || printf '%s\n' "$out" | grep -q '^\[  FAILED  \]' ||
    fail "$name ran to the end" "$(printf '%s' "$out" | tail -5)"
}

# provision_local NAME [OPTION...]: ./project.yml for a project NAME with
# one server, localhost (TestOrg, ports 8002 and 8003), provisioned into
# ./ws with the provision OPTIONs. Sets P to the project's folder; a FAIL
# and status 1 when provision fails.
provision_local() {
  local name=$1; shift
  printf 'api_version: 3\nname: %s\nparticipants:\n  - name: localhost\n    type: server\n    org: TestOrg\n    fed_learn_port: 8002\n    admin_port: 8003\n' \
    "$name" > project.yml
  "$T" provision -p project.yml -w ws "$@" >/dev/null 2>&1 || { fail "provision $name"; return 1; }
  P=$PWD/ws/$name
}

# start_serve LOG ARGS...: `tokenroll serve ARGS --listen 127.0.0.1:PORT` in
# the background on a free port; returns once it listens (or fails). Sets
# SERVE_PID and SERVE_PORT; the process is killed at exit.
start_serve() {
  local log=$1 i; shift
  SERVE_PORT=$(free_port)
  "$T" serve "$@" --listen "127.0.0.1:$SERVE_PORT" >"$log" 2>&1 &
  SERVE_PID=$!
  on_exit "kill -9 $SERVE_PID 2>/dev/null"
  for i in $(seq 1 100); do
    grep -q "listening on" "$log" 2>/dev/null && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "serve starts" "$(tail -5 "$log")"
  return 1
}

# stop_serve PID: SIGTERM, then wait for it; returns its exit status (a
# clean stop is 0, a sanitizer report at exit is not).
stop_serve() {
  kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null
}

# needs_root WHAT: 0 when running as root; otherwise a SKIP line (a FAIL
# under CI=true, where the checks must run) and 1.
needs_root() {
  [ "$(id -u)" = 0 ] && return 0
  if [ "${CI:-}" = true ]; then fail "$1" "needs root (mknod) under CI"; else echo "SKIP: $1 (needs root)"; fi
  return 1
}

# check_outputs KIND NAME CMD...: run a command that writes its output to
# the path given in place of the word @OUT@, with that path being in turn
#   a character device (/dev/null's and /dev/full's numbers, mknod),
#   a symbolic link to a regular file, a FIFO with a reader,
#   a path of 4,096 characters, an existing regular file,
# and with standard output closed (>&-) and full (>/dev/full) for '-o -'.
# KIND "file": a device or FIFO is written in place, a link and an existing
# file are refused. KIND "dir" (package, provision -w): every existing
# target is refused. Every case checks the exit code, the message and that
# nothing was replaced.
check_outputs() {
  local kind=$1 name=$2; shift 2
  local d="$W/out.$RANDOM$RANDOM" out rc
  mkdir -p "$d"
  _run_out() { local tgt=$1; shift; local a args=(); for a in "$@"; do args+=("${a//@OUT@/$tgt}"); done; "${args[@]}"; }
  if needs_root "$name: -o character device"; then
    mknod "$d/null" c 1 3 && mknod "$d/full" c 1 7
    out=$(_run_out "$d/null" "$@" 2>&1); rc=$?
    if [ $kind = file ]; then
      [ $rc -eq 0 ] && [ -c "$d/null" ] && pass "$name: -o a character device writes to it in place" \
        || fail "$name: -o a character device writes to it in place" "exit $rc, $(stat -c %F "$d/null" 2>&1): $(printf '%s' "$out" | head -c 300)"
      out=$(_run_out "$d/full" "$@" 2>&1); rc=$?
      [ $rc -eq 1 ] && [ -c "$d/full" ] && printf '%s' "$out" | grep -q "$d/full: No space left on device" \
        && pass "$name: -o /dev/full's device fails with the path and ENOSPC, device kept" \
        || fail "$name: -o /dev/full's device fails with the path and ENOSPC, device kept" "exit $rc, $(stat -c %F "$d/full" 2>&1): $(printf '%s' "$out" | head -c 300)"
    else
      [ $rc -eq 1 ] && [ -c "$d/null" ] && printf '%s' "$out" | grep -Eq "exists|Not a directory" \
        && pass "$name: an existing character device is refused and kept" \
        || fail "$name: an existing character device is refused and kept" "exit $rc: $(printf '%s' "$out" | head -c 300)"
    fi
  fi
  echo ORIGINAL > "$d/real"
  ln -s real "$d/link"
  out=$(_run_out "$d/link" "$@" 2>&1); rc=$?
  [ $rc -eq 1 ] && [ -L "$d/link" ] && [ "$(cat "$d/real")" = ORIGINAL ] && printf '%s' "$out" | grep -Eq "symbolic link|exists|Not a directory" \
    && pass "$name: a symbolic link target is refused, link and file kept" \
    || fail "$name: a symbolic link target is refused, link and file kept" "exit $rc: $(printf '%s' "$out" | head -c 300)"
  mkfifo "$d/fifo"
  if [ $kind = file ]; then
    # The reader gives up after a while: a command that replaced the FIFO
    # never opens it, and must not hang the test.
    timeout 10 cat "$d/fifo" > "$d/fifo.got" & local reader=$!
    out=$(_run_out "$d/fifo" "$@" 2>&1); rc=$?
    wait $reader 2>/dev/null
    [ $rc -eq 0 ] && [ -p "$d/fifo" ] && [ -s "$d/fifo.got" ] && pass "$name: -o a FIFO writes into the pipe, FIFO kept" \
      || fail "$name: -o a FIFO writes into the pipe, FIFO kept" "exit $rc: $(printf '%s' "$out" | head -c 300)"
    _run_out "$d/real" "$@" >/dev/null 2>&1; rc=$?
    [ $rc -eq 1 ] && [ "$(cat "$d/real")" = ORIGINAL ] && pass "$name: an existing file is not overwritten" \
      || fail "$name: an existing file is not overwritten" "exit $rc, now: $(head -c 100 "$d/real")"
  else
    out=$(_run_out "$d/fifo" "$@" 2>&1); rc=$?
    [ $rc -eq 1 ] && [ -p "$d/fifo" ] && pass "$name: an existing FIFO is refused and kept" \
      || fail "$name: an existing FIFO is refused and kept" "exit $rc: $(printf '%s' "$out" | head -c 300)"
  fi
  local long="$d/$(head -c 4000 /dev/zero | tr '\0' a)"
  long="$long$(head -c $((4096 - ${#long})) /dev/zero | tr '\0' b)"
  out=$(_run_out "$long" "$@" 2>&1); rc=$?
  [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "File name too long" && [ -z "$(ls -A "$d" | grep -v -e '^real$' -e '^link$' -e '^fifo' -e '^null$' -e '^full$')" ] \
    && pass "$name: a 4,096-character path fails cleanly (ENAMETOOLONG), nothing left" \
    || fail "$name: a 4,096-character path fails cleanly (ENAMETOOLONG), nothing left" "exit $rc: $(printf '%s' "$out" | head -c 300) $(ls -A "$d" | head -c 200)"
}

# check_stdout NAME CMD...: the command's standard output closed (>&-) and
# full (/dev/full) must give exit 1 and "Error: cannot write standard output".
check_stdout() {
  local name=$1; shift
  local out rc
  out=$("$@" 2>&1 >&-); rc=$?
  [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "cannot write standard output: Bad file descriptor" \
    && pass "$name: stdout closed is an error" || fail "$name: stdout closed is an error" "exit $rc: $(printf '%s' "$out" | head -c 300)"
  out=$("$@" 2>&1 >/dev/full); rc=$?
  [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "No space left on device" \
    && pass "$name: stdout full is an error" || fail "$name: stdout full is an error" "exit $rc: $(printf '%s' "$out" | head -c 300)"
}
