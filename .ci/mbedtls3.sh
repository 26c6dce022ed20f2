#!/usr/bin/env bash
# Build mbedTLS 3.6 LTS from Debian's source package into $1 (static libs
# and headers), once. The source comes from trixie's deb-src index, added as
# a deb822 file next to the machine's own Debian entry; the tarball is
# checked against the SHA-256 in the .dsc before it is unpacked.
set -euo pipefail

out=${1:?usage: mbedtls3.sh OUTDIR}
VERSION=3.6.6-0.1~deb13u1
SRC_LIST=/etc/apt/sources.list.d/tokenroll-trixie-src.sources

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# The URI of the machine's own Debian archive entry (deb822 or one-line).
debian_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && u && $0 !~ /security/ {print u; exit}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  if [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
    [ -n "$uri" ] && { echo "$uri"; return; }
  fi
  echo "http://deb.debian.org/debian"
}

if [ ! -f "$SRC_LIST" ]; then
  uri=$(debian_uri)
  echo "mbedtls3: adding trixie deb-src entry ($uri) in $SRC_LIST"
  $SUDO tee "$SRC_LIST" >/dev/null <<SRC
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -qq
fi

work=$(dirname "$out")/mbedtls-src
mkdir -p "$work"
cd "$work"
if ! ls mbedtls_*.dsc >/dev/null 2>&1; then
  apt-get source --download-only "mbedtls=$VERSION" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
  if ! ls mbedtls_*.dsc >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    apt-get source --download-only "mbedtls=$VERSION"
  fi
fi

dsc=$(ls mbedtls_*.dsc | head -n1)
# Every file the .dsc lists must have the SHA-256 it states.
awk '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && NF==3 {print $1 "  " $3}' "$dsc" > sha256.txt
[ -s sha256.txt ] || { echo "mbedtls3: no SHA-256 list in $dsc" >&2; exit 1; }
sha256sum --quiet -c sha256.txt
echo "mbedtls3: $(wc -l < sha256.txt) files match the SHA-256 sums in $dsc"

rm -rf src
dpkg-source --no-check -x "$dsc" src >/dev/null
cd - >/dev/null
rm -rf "$out"
mv "$work/src" "$out"
# Let callers swap the allocator (mbedtls_platform_set_calloc_free), so the
# benchmarks can count mbedTLS's peak heap; the default stays calloc/free.
sed -i 's|^//#define MBEDTLS_PLATFORM_MEMORY$|#define MBEDTLS_PLATFORM_MEMORY|' \
  "$out/include/mbedtls/mbedtls_config.h"
grep -q '^#define MBEDTLS_PLATFORM_MEMORY$' "$out/include/mbedtls/mbedtls_config.h" || \
  { echo "mbedtls3: cannot enable MBEDTLS_PLATFORM_MEMORY" >&2; exit 1; }
echo "mbedtls3: building static libraries"
make -s -C "$out/library" -j"$(nproc)" CFLAGS="-O2 -fPIC" static >/dev/null
touch "$out/.built"
echo "mbedtls3: $out ready ($(grep -m1 'define MBEDTLS_VERSION_STRING ' "$out/include/mbedtls/build_info.h" | awk '{print $3}'))"
