#!/usr/bin/env bash
# Install the Debian packages tokenroll builds and tests with, when missing.
# Fast when everything is there (one dpkg-query), so every make target that
# needs them can run it first. --quiet: say nothing when nothing is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libmbedtls-dev libjsmn-dev libyaml-dev libcmocka-dev
  libmicrohttpd-dev libgnutls28-dev libsqlite3-dev libpq-dev
  clang libclang-rt-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user qemu-system-arm
  dpkg-dev bzip2 xz-utils ca-certificates
  openssl libssl-dev libp11-kit-dev softhsm2 opensc
  curl libcurl4-openssl-dev python3 python3-jwt python3-yaml python3-flask python3-cryptography
  sqlite3 postgresql
)

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1

missing=()
while read -r name status; do
  [ "$status" = "installed" ] || missing+=("$name")
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null || true)
# dpkg-query prints nothing for packages it has never heard of.
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || \
    { [[ " ${missing[*]-} " == *" $p "* ]] || missing+=("$p"); }
done

if [ ${#missing[@]} -eq 0 ]; then
  [ $quiet -eq 1 ] || echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
