#!/usr/bin/env bash
# Regenerate the CSR vectors (openssl is the independent maker). The
# outputs are committed; rerunning gives new keys, same properties.
set -euo pipefail
cd "$(dirname "$0")"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
csr() { openssl req -new -key "$1" -subj "/CN=$3/O=ignored-org" -out "$2" "${@:4}"; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$t/p256.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$t/p384.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$t/p521.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$t/rsa2048.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$t/rsa2048b.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$t/rsa1024.key"
openssl genpkey -algorithm ED25519 -out "$t/ed25519.key"
csr "$t/p256.key" p256.csr site-1
csr "$t/p384.key" p384.csr site-1 -sha384
csr "$t/rsa2048.key" rsa2048.csr site-1
csr "$t/p521.key" p521.csr site-1
csr "$t/rsa1024.key" rsa1024.csr site-1
csr "$t/ed25519.key" ed25519.csr site-1
csr "$t/p256.key" p256_sha1.csr site-1 -sha1
cp "$t/p256.key" p256.key
# The CRI of one RSA key with the signature of another (same length).
csr "$t/rsa2048b.key" "$t/b.csr" site-1
python3 - "$t" <<'PY'
import sys, subprocess
t = sys.argv[1]
der = lambda p: subprocess.run(["openssl", "req", "-in", p, "-outform", "DER"], capture_output=True, check=True).stdout
a, b = der("rsa2048.csr"), der(t + "/b.csr")
open("rsa2048_other_key_sig.der", "wb").write(a[:-256] + b[-256:])
# One byte of the subject changed after signing.
i = a.index(b"site-1")
open("rsa2048_tampered.der", "wb").write(a[:i] + b"site-2" + a[i + 6:])
PY
