#!/usr/bin/env bash
# Run every unit test binary (cmocka) and every end-to-end script, then
# print one closing line "N passed, N failed". Exit 1 when anything failed.
# Usage: tests/run.sh BUILD_DIR [FILTER]
set -u
B=${1:?usage: run.sh BUILD_DIR [FILTER]}
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export TOKENROLL="$root/$B/tokenroll"
export TKR_ROOT="$root"
export TKR_BUILD="$root/$B"
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$root/$B"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  (cd "$root" && "$t") >"$log" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or aborted
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    echo "--- $name: $f failed"; grep -E '^\[  (FAILED|ERROR)|^\[  ERROR|Failure|error:|failed' "$log" | head -40
  else
    echo "unit  $name: $p passed"
  fi
done

for s in "$here"/e2e/test_*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s" .sh)
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  (cd "$root" && bash "$s") >"$log" 2>&1
  rc=$?
  p=$(grep -c '^PASS: ' "$log")
  f=$(grep -c '^FAIL: ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "--- $name exited $rc"; tail -20 "$log"; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    echo "--- $name: $f failed"; grep -A3 '^FAIL: ' "$log" | head -60
  else
    echo "e2e   $name: $p passed"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
