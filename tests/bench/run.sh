#!/usr/bin/env bash
# Run every benchmark binary of one build: tests/bench/run.sh BUILD_DIR
#
# Each binary prints ratios against a baseline it measures in the same run,
# so the output of two builds (mbedTLS 2.28 in build/, 3.6 in build/m3/) can
# be read side by side. BENCH_SECONDS (default 0.5) is passed on as the time
# per measurement. Exit 1 when a benchmark fails (an operation failed, not
# a timing: nothing here asserts speed).
set -uo pipefail

B=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${BENCH_SECONDS:-0.5}

# The mbedTLS a build dir was compiled against, by the Makefile's layout:
# build/m3[/...] is the 3.6 tree in build/mbedtls-3.6, anything else the
# system's 2.28. The binaries print the version they were compiled with too.
mbedtls_version() {
  local hdr
  case "/$1/" in
    */m3/*) hdr="$root/build/mbedtls-3.6/include/mbedtls/build_info.h" ;;
    *)      hdr=/usr/include/mbedtls/version.h ;;
  esac
  sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)".*/\1/p' "$hdr" 2>/dev/null | head -n1
}

version=$(mbedtls_version "$B")
echo "=== benchmarks: $B (mbedTLS ${version:-unknown}) ==="

shopt -s nullglob
benches=("$root/$B"/bench/bench_*)
if [ ${#benches[@]} -eq 0 ]; then
  echo "run.sh: no benchmark binaries in $B/bench" >&2
  exit 1
fi

failed=0
for bin in "${benches[@]}"; do
  [ -x "$bin" ] || continue
  echo "--- $(basename "$bin")"
  start=$(date +%s.%N)
  if ! (cd "$root" && "$bin" "$seconds"); then
    echo "--- $(basename "$bin"): FAILED" >&2
    failed=1
  fi
  awk -v n="$(basename "$bin")" -v a="$start" -v b="$(date +%s.%N)" \
    'BEGIN { printf "--- %s: %.1f s\n", n, b - a }'
done
# Enrollment on a device: instructions for keygen + CSR + request body
# (callgrind, inside offline_steps only), and the peak heap of a whole
# enrollment against `tokenroll serve` on loopback, counted through
# mbedTLS's allocator hooks where the build has them; valgrind DHAT gives
# the whole process's peak either way.
if [ -x "$root/$B/bench/bench_device" ] && command -v valgrind >/dev/null; then
  echo "--- enrollment (valgrind)"
  out=$(cd "$root" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        --toggle-collect=offline_steps "$B/bench/bench_device" 2>&1) || failed=1
  printf '%s\n' "$out" | grep -E "^bench_device|^peak"
  printf '%s\n' "$out" | sed -n 's/.*Collected : \([0-9]*\).*/instructions, EC P-256 keygen + CSR + request body: \1/p'
  if "$root/$B/tokenroll" serve --help >/dev/null 2>&1; then
    bash "$here/enroll_heap.sh" "$root/$B" || failed=1
  else
    echo "whole enrollment: this build has no tokenroll serve to enroll against"
  fi
fi
exit $failed
