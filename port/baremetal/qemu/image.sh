#!/usr/bin/env bash
# image.sh ELF MAP — the enrollment firmware image: its flash and RAM
# (arm-none-eabi-size), tokenroll's own share of the flash (from the link
# map: sections kept from lib/ and port/ objects), then the offline flow
# under QEMU (mps2-an386, semihosting), which must end with status 0.
set -euo pipefail
elf=${1:?usage: image.sh ELF MAP}
map=${2:?usage: image.sh ELF MAP}
XSIZE=${XSIZE:-arm-none-eabi-size}

echo
echo "enrollment firmware image ($elf, --gc-sections)"
"$XSIZE" -A "$elf" | awk '
  $1 == ".text" || $1 == ".ARM.exidx" { flash += $2 }
  $1 == ".data" { flash += $2; ram += $2 }
  $1 == ".bss" { ram += $2 }
  END { printf "  flash %d bytes (%.1f KB), static RAM %d bytes (%.1f KB)\n", flash, flash/1024, ram, ram/1024 }'
# Input sections in the map: " .text.fn  0xADDR  0xSIZE  build/m4/lib/x.o",
# the name sometimes alone on its line with the numbers on the next.
awk '
  function hex(s,   i, c, v) {
    v = 0; s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
  }
  /^Discarded input sections/ { skip = 1 } /^Memory Configuration/ { skip = 1 }
  /^Linker script and memory map/ { skip = 0 }
  skip { next }
  {
    if ($1 ~ /^\.(text|rodata|data)/ && NF == 1) { pending = $1; next }
    sec = $1; addr = $2; size = $3; obj = $4
    if (pending != "" && $1 ~ /^0x/) { sec = pending; addr = $1; size = $2; obj = $3 }
    pending = ""
    if (sec !~ /^\.(text|rodata|data)/ || size !~ /^0x/ || obj == "") next
    n = hex(size)
    if (obj ~ /build\/m4\/(lib|port\/baremetal\/port_baremetal)/) own += n
    else if (obj ~ /build\/m4\/mbedtls/) mbed += n
    else other += n
  }
  END { printf "  tokenroll objects %d bytes (%.1f KB), mbedTLS %d bytes (%.1f KB), libc, test board and recorded vectors %d bytes\n",
        own, own/1024, mbed, mbed/1024, other }' "$map"
echo
echo "offline enrollment flow in QEMU (mps2-an386)"
if ! command -v qemu-system-arm >/dev/null; then
  echo "qemu-system-arm is missing (make deps)" >&2
  exit 1
fi
timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$elf" | sed 's/^/  /'
echo "  QEMU exit status 0"
