#!/usr/bin/env bash
# size_table.sh OBJ... — the flash/RAM cost of the device objects, their
# stack budget, and a guard that none of them reaches for the OS.
#
# Prints text/data/bss per object (arm-none-eabi-size, before the linker's
# --gc-sections, so an upper bound) and a TOTAL row; then the static size of
# the context types an integrator must place in RAM; then the largest stack
# frames from the -fstack-usage files beside the objects and the line
# "max stack frame: N bytes (FUNCTION)", failing when N is above
# STACK_LIMIT (1024) or a frame is unbounded (alloca, VLA): large scratch
# comes from the caller, where its size is documented. Finally it fails
# (naming object and symbol) when an object references a file, stdio,
# formatting, socket, clock, raw-entropy or heap function. Those services
# belong to the port, and the heap to mbedTLS alone (its peak is what
# `make bench` reports), so such a reference is a layering bug, not a size
# question.
#
# Frames are per function: a call chain adds the frames along it, and
# mbedTLS's own frames (not listed) come on top.
#
# Environment: XSIZE, XNM, XCC override the tools; PROBE_FLAGS the flags of
# the sizeof probe (default: the ones `make cross-m4` uses); STACK_LIMIT.
set -euo pipefail

XSIZE=${XSIZE:-arm-none-eabi-size}
XNM=${XNM:-arm-none-eabi-nm}
XCC=${XCC:-arm-none-eabi-gcc}

[ $# -gt 0 ] || { echo "usage: $0 OBJ..." >&2; exit 2; }
for obj in "$@"; do
  [ -f "$obj" ] || { echo "size_table: no such object: $obj" >&2; exit 2; }
done

STACK_LIMIT=${STACK_LIMIT:-1024}
# The printf family: newlib's formatter is tens of KB of flash and wants a
# heap; device code logs preformatted text (tkr_port_log_str).
FORBIDDEN=(fopen fread fwrite fclose fprintf printf puts
           snprintf vsnprintf sprintf vsprintf
           socket connect send recv
           time clock_gettime gettimeofday getrandom
           open read write
           malloc calloc realloc free)

# ---- size table ----
echo "Cortex-M4 device objects (-Os, thumb; sizes before --gc-sections)"
"$XSIZE" -B "$@" | awk '
  NR == 1 { next }
  {
    text += $1; data += $2; bss += $3
    rows[NR] = sprintf("%-46s %8d %8d %8d", $6, $1, $2, $3)
    n = NR
  }
  END {
    printf "%-46s %8s %8s %8s\n", "object", "text", "data", "bss"
    for (i = 2; i <= n; i++) print rows[i]
    printf "%-46s %8d %8d %8d\n", "TOTAL", text, data, bss
  }'

# ---- context sizes (optional: needs the cross compiler and headers) ----
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PROBE_FLAGS=${PROBE_FLAGS:-"-std=c11 -mcpu=cortex-m4 -mthumb -Os -fdata-sections \
  -I$root/lib/include -I$root/lib -I$root/port/baremetal -I$root/build/m4/inc \
  -I$root/build/mbedtls-3.6/include -DMBEDTLS_CONFIG_FILE=\"tkr_mbedtls_device.h\""}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each array is sized by a type, so the symbol size nm reports is sizeof.
cat > "$tmp/probe.c" <<'PROBE'
#include "tokenroll/jwt.h"
#include "tokenroll/jwks.h"
#include "tokenroll/enroll.h"
#include "tkr_port_baremetal.h"
char sizeof_tkr_jwt_t[sizeof(tkr_jwt_t)];
char sizeof_tkr_jwks_t[sizeof(tkr_jwks_t)];
char sizeof_tkr_port_t[sizeof(tkr_port_t)];
char sizeof_tkr_baremetal_t[sizeof(tkr_baremetal_t)];
char sizeof_tkr_tls_t[sizeof(tkr_tls_t)];
char sizeof_tkr_enroll_t[sizeof(tkr_enroll_t)];
PROBE
echo
# shellcheck disable=SC2086 # PROBE_FLAGS is a list of flags
if "$XCC" $PROBE_FLAGS -c "$tmp/probe.c" -o "$tmp/probe.o" 2>"$tmp/probe.err"; then
  echo "context sizes (static or caller stack; tkr_jwt_t belongs in static RAM)"
  while read -r _ size _ sym; do
    case "$sym" in
      sizeof_*) printf "  sizeof(%s) = %d bytes\n" "${sym#sizeof_}" "$((16#$size))" ;;
    esac
  done < <("$XNM" -S "$tmp/probe.o")
else
  echo "context sizes: probe did not compile, skipped:"
  sed 's/^/  /' "$tmp/probe.err" | head -5
fi

# ---- stack frames (-fstack-usage) ----
echo
su_files=()
for obj in "$@"; do
  su="${obj%.o}.su"
  [ -f "$su" ] || { echo "size_table: no stack usage file $su (compile with -fstack-usage)" >&2; exit 2; }
  su_files+=("$su")
done
# Lines are "file:line:col:function<TAB>bytes<TAB>qualifiers".
frames=$(cat "${su_files[@]}" | awk -F'\t' '{ n = split($1, p, ":"); printf "%d\t%s\t%s\n", $2, p[n], $3 }' | sort -t"$(printf '\t')" -k1,1nr)
echo "largest stack frames (bytes per call; limit $STACK_LIMIT)"
# awk reads to the end (head would close the pipe early, and pipefail
# would report the writer's SIGPIPE as a failure).
printf '%s\n' "$frames" | awk -F'\t' 'NR <= 8 { printf "  %6d  %-32s %s\n", $1, $2, $3 }'
max=$(printf '%s\n' "$frames" | awk -F'\t' 'NR == 1 { print $1 }')
maxfn=$(printf '%s\n' "$frames" | awk -F'\t' 'NR == 1 { print $2 }')
echo "max stack frame: $max bytes ($maxfn)"
stack_bad=0
if [ "$max" -gt "$STACK_LIMIT" ]; then
  echo "STACK: $maxfn takes $max bytes, above the $STACK_LIMIT-byte budget: take the scratch from the caller" >&2
  stack_bad=1
fi
unbounded=$(printf '%s\n' "$frames" | awk -F'\t' '$3 ~ /dynamic/ && $3 !~ /bounded/ { print $2 }')
if [ -n "$unbounded" ]; then
  echo "STACK: unbounded frames (alloca or VLA): $unbounded" >&2
  stack_bad=1
fi

# ---- forbidden symbols ----
echo
bad=$stack_bad
for obj in "$@"; do
  while read -r sym; do
    for f in "${FORBIDDEN[@]}"; do
      if [ "$sym" = "$f" ]; then
        echo "FORBIDDEN: $obj references $sym" >&2
        bad=1
      fi
    done
  done < <("$XNM" -u "$obj" | awk '{print $NF}')
done
if [ $bad -ne 0 ]; then
  [ $stack_bad -eq $bad ] && [ $stack_bad -ne 0 ] && exit 1
  echo "device objects call the OS or the heap directly: route it through the port" >&2
  exit 1
fi
echo "no device object references ${#FORBIDDEN[@]} forbidden OS/heap symbols (checked $# objects)"
