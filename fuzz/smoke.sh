#!/usr/bin/env bash
# Run every libFuzzer harness for a short while: the CI smoke test.
#
#   usage: fuzz/smoke.sh BIN_DIR SECONDS      (make fuzz-smoke FUZZ_SECONDS=30)
#
# For each executable BIN_DIR/fuzz_<name>: copy fuzz/corpus/<name>/ into a
# temporary directory (the fuzzer adds inputs there, never to the repo), run
# it for SECONDS with fuzz/<name>.dict when present, and print one line:
#
#   <name>  execs=<n>  exec/s=<n>  corpus=<files>  <result>
#
# result is "ok", "ok (known bugs tolerated: <ids>)" or "FAIL <kind>".
# Crash, leak, timeout and out-of-memory inputs are kept in
# BIN_DIR/artifacts/<name>/; their paths and the head of the sanitizer report
# are printed. Exit status: 0 when every harness passed, 1 when any failed,
# 2 on usage errors. Reads nothing from stdin.
set -u

bin_dir=${1:-}
secs=${2:-}
if [ -z "$bin_dir" ] || [ -z "$secs" ] || ! [ "$secs" -gt 0 ] 2>/dev/null; then
  echo "usage: $0 BIN_DIR SECONDS" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || { echo "smoke: no directory $1" >&2; exit 2; }

# Longest input per harness: a little over each parser's own limit so the
# "too large" paths are reached too (TKR_JWT_MAX and TKR_CERTJSON_MAX are
# 16384); JSON is kept smaller because the invariant walk is quadratic.
max_len_for() {
  case "$1" in
    b64url) echo 4096 ;;
    json) echo 16384 ;;
    jwt|jwks|certjson) echo 20000 ;;
    pkcs11_uri) echo 4096 ;;
    response_format) echo 1024 ;;  # the reference model stops at 512
    *) echo 16384 ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/tkr-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

stat_of() { sed -n "s/^stat::$1: *//p" "$2" | tail -n1; }

failed=0
ran=0
for bin in "$bin_dir"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=${bin##*/fuzz_}
  ran=$((ran + 1))
  corpus="$work/$name/corpus"
  log="$work/$name/log"
  art="$bin_dir/artifacts/$name"
  mkdir -p "$corpus"
  rm -rf "$art" && mkdir -p "$art"
  if [ -d "$here/corpus/$name" ]; then
    cp -R "$here/corpus/$name/." "$corpus/"
  fi
  dict=()
  [ -f "$here/$name.dict" ] && dict=("-dict=$here/$name.dict")

  "$bin" -max_total_time="$secs" -max_len="$(max_len_for "$name")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art/" ${dict[@]+"${dict[@]}"} "$corpus" </dev/null >"$log" 2>&1
  rc=$?

  execs=$(stat_of number_of_executed_units "$log")
  eps=$(stat_of average_exec_per_sec "$log")
  files=$(find "$corpus" -type f | wc -l | tr -d ' ')
  known=$(sed -n 's/^tkr-fuzz: known bug tolerated: \([^ ]*\).*/\1/p' "$log" |
          sort -u | paste -sd, -)
  # crash-*, leak-*, timeout-*, oom-*, slow-unit-* ... by file name prefix
  kinds=$(find "$art" -type f -exec basename {} \; | sed 's/-.*//' | sort -u | paste -sd, -)

  if [ "$rc" -eq 0 ] && [ -z "$kinds" ]; then
    result=ok
    [ -n "$known" ] && result="ok (known bugs tolerated: $known)"
    bad=0
  else
    result="FAIL ${kinds:-exit status $rc}"
    bad=1
    failed=1
  fi
  printf '%-10s execs=%-10s exec/s=%-7s corpus=%-5s %s\n' \
    "$name" "${execs:--}" "${eps:--}" "$files" "$result"

  if [ "$bad" -eq 1 ]; then
    find "$art" -type f | sort | while read -r f; do echo "    input: $f"; done
    # The head of the report: our invariant line, or the sanitizer's.
    pat='invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error:|ALARM: working on the last Unit'
    line=$(grep -n -m1 -E "$pat" "$log" | cut -d: -f1)
    if [ -n "$line" ]; then
      start=$((line > 2 ? line - 2 : 1))
      sed -n "${start},$((line + 25))p" "$log" | sed 's/^/    | /'
    else
      tail -n 20 "$log" | sed 's/^/    | /'
    fi
  fi
done

if [ "$ran" -eq 0 ]; then
  echo "smoke: no fuzz_* executables in $bin_dir (run make fuzz)" >&2
  exit 2
fi
exit "$failed"
