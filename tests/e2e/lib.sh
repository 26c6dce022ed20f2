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
