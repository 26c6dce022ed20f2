#!/usr/bin/env bash
# lib.sh's need: a missing peer stops a script as a FAIL under CI=true and
# as a SKIP elsewhere; present peers let it run on.
. "$(dirname "$0")/lib.sh"

probe() {  # probe CI TOOL...: what a script that needs TOOL... prints
  CI=$1 TOKENROLL=$T bash -c '. "$0"; shift; need "$@"; echo "RAN ON"' \
    "$ROOT/tests/e2e/lib.sh" "$@" 2>&1
}

out=$(probe true no-such-tool-tkr)
case $out in
  "FAIL: "*"no-such-tool-tkr"*) pass "a missing tool is a FAIL under CI=true" ;;
  *) fail "a missing tool is a FAIL under CI=true" "got: $out" ;;
esac
out=$(probe true py:no_such_module_tkr)
case $out in
  "FAIL: "*"no_such_module_tkr"*) pass "a missing python3 module is a FAIL under CI=true" ;;
  *) fail "a missing python3 module is a FAIL under CI=true" "got: $out" ;;
esac
out=$(probe "" no-such-tool-tkr)
case $out in
  "SKIP: "*) pass "a missing tool is a SKIP outside CI, and the script stops" ;;
  *) fail "a missing tool is a SKIP outside CI, and the script stops" "got: $out" ;;
esac
out=$(probe true sh)
same "present tools let the script run on" "$out" "RAN ON"
