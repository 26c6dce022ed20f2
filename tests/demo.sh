#!/usr/bin/env bash
# make demo: the tokenroll flow on this machine, in a temporary folder.
set -euo pipefail
B=${1:-build}
T="$(cd "$(dirname "$0")/.." && pwd)/$B/tokenroll"
d=$(mktemp -d "${TMPDIR:-/tmp}/tokenroll-demo.XXXXXX")
trap 'rm -rf "$d"' EXIT
cd "$d"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

echo "tokenroll demo in $d"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out key.pub
say "tokenroll jwt sign --key key.pem --kid demo '{\"sub\":\"site-1\",\"exp\":...}'"
tok=$("$T" jwt sign --key key.pem --kid demo "{\"sub\":\"site-1\",\"iat\":$(date +%s),\"exp\":$(( $(date +%s) + 3600 ))}")
echo "$tok"
run "$T" jwt inspect "$tok"
run "$T" jwt verify "$tok" --key key.pub --sub site-1 --require exp,iat
echo
echo "demo finished: token signed with a throwaway P-256 key and verified."
