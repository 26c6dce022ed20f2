#!/usr/bin/env bash
# The CA signer (signer.h): every backend mints the same RS256 bytes and
# FLARE's vectors, certificates from every backend pass openssl verify with
# one profile, a CA key in an HSM (SoftHSM2) from provision to batch, and
# the key errors: one line, exit 1, nothing written.
. "$(dirname "$0")/lib.sh"
need openssl py:jwt py:cryptography
cd "$W"

KEYS="$ROOT/tests/vectors/keys"
JTI=00000000-0000-4000-8000-000000000001
IAT=1767225600
FIXED=(--jti $JTI --issued-at $IAT -p "$V/default_policy.yaml")

# The OpenSSL backend is in every build but OPENSSL=0's (build/nossl).
backends="mbedtls openssl"
case "${TKR_BUILD:-}" in
  */nossl*) backends="mbedtls"
    expect_fail "a build without OpenSSL says so" "built without OpenSSL" \
      "$T" token generate -s x -c "$V" --signer openssl ;;
esac

# one_line NAME EXPECTED_PATTERN OUTPUT_FILE CMD...: exit 1, exactly one
# line on stderr starting "Error: " and matching, and OUTPUT_FILE not made.
one_line() {
  local name=$1 pat=$2 out=$3; shift 3
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 1 ]; then fail "$name" "exit $rc (want 1): $err"
  elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "$name" "not one line: $err"
  elif ! printf '%s' "$err" | grep -Eq -- "^Error: .*$pat"; then fail "$name" "lacks /$pat/: $err"
  elif [ -e "$out" ]; then fail "$name" "$out was written"
  else pass "$name"; fi
}

# --- tokens: every backend, FLARE's bytes
for b in $backends; do
  out=$("$T" token generate -s site-1 -c "$V" "${FIXED[@]}" --signer $b)
  same "fixed_site-1.jwt byte for byte, --signer $b" "$out" "$(cat "$V/fixed_site-1.jwt")"
  out=$("$T" token generate -s admin@example.com --user -c "$V" -p "$V/default_policy.yaml" \
        --jti 00000000-0000-4000-8000-000000000002 --issued-at $IAT --signer $b)
  same "fixed_admin.jwt byte for byte, --signer $b" "$out" "$(cat "$V/fixed_admin.jwt")"
  # --ca-key FILE and TOKENROLL_CA_KEY name the same key from outside
  out=$("$T" token generate -s site-1 -c "$V" "${FIXED[@]}" --signer $b --ca-key "$KEYS/flare_rootCA.key")
  same "--ca-key FILE gives the same bytes, --signer $b" "$out" "$(cat "$V/fixed_site-1.jwt")"
  openssl pkey -in "$KEYS/flare_rootCA.key" -outform DER -out flare_rootCA.der 2>/dev/null
  out=$("$T" token generate -s site-1 -c "$V" "${FIXED[@]}" --signer $b --ca-key flare_rootCA.der)
  same "--ca-key DER gives the same bytes, --signer $b" "$out" "$(cat "$V/fixed_site-1.jwt")"
  out=$(TOKENROLL_CA_KEY="$KEYS/flare_rootCA.key" "$T" token generate -s site-1 -c "$V" "${FIXED[@]}" --signer $b)
  same "TOKENROLL_CA_KEY gives the same bytes, --signer $b" "$out" "$(cat "$V/fixed_site-1.jwt")"
  # a batch: every worker's tokens verify under the CA
  "$T" token batch -n 40 -c "$V" --signer $b -o batch-$b.csv 2>/dev/null
  n=0; bad=0
  while IFS=, read -r name tok; do
    [ "$name" = name ] && continue
    n=$((n + 1))
    "$T" token info -t "$tok" --verify -c "$V" >/dev/null 2>&1 || bad=$((bad + 1))
  done < batch-$b.csv
  same "batch of 40 with --signer $b: all verify" "$n/$bad" "40/0"
done
out=$("$T" token generate -s site-1 -c "$V" "${FIXED[@]}")
same "the default backend gives the same bytes" "$out" "$(cat "$V/fixed_site-1.jwt")"

# --- an EC CA (ES256 is randomised: verify instead of comparing)
mkdir -p ecca && cp "$KEYS/ec_ca.pem" ecca/rootCA.pem && cp "$KEYS/ec_ca.key" ecca/rootCA.key
for b in $backends; do
  tok=$("$T" token generate -s site-1 -c ecca --signer $b)
  check "ES256 token from --signer $b verifies with PyJWT" "$PY" -c '
import jwt, sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
assert jwt.get_unverified_header(sys.argv[1])["alg"] == "ES256"
jwt.decode(sys.argv[1], cert.public_key(), algorithms=["ES256"], options={"verify_exp": False})' "$tok" ecca/rootCA.pem
done

# --- certificates: every backend, RSA and EC, one profile
cp "$ROOT/tests/vectors/project/token_doc.yml" project.yml
profile() { # the fields a backend must not change
  openssl x509 -in "$1" -noout -ext basicConstraints,keyUsage,extendedKeyUsage,subjectAltName \
    -nameopt compat -subject -issuer 2>/dev/null
  openssl x509 -in "$1" -noout -text | grep -m1 "Signature Algorithm"
}
for kt in rsa ec; do
  ref=""
  for b in $backends; do
    ws=ws-$kt-$b
    "$T" provision -p project.yml -w $ws --key-type $kt --signer $b >/dev/null 2>&1
    S=$ws/my_fl_project/prod_00/server.example.com/startup
    A=$ws/my_fl_project/prod_00/admin@example.com/startup
    check "$kt CA, --signer $b: openssl verifies the server certificate" \
      openssl verify -CAfile $S/rootCA.pem -purpose sslserver $S/server.crt
    check "$kt CA, --signer $b: openssl verifies the admin certificate" \
      openssl verify -CAfile $A/rootCA.pem -purpose sslclient $A/client.crt
    p=$(profile $S/server.crt)
    if [ -z "$ref" ]; then ref=$p
    else same "$kt CA: --signer $b writes the same profile" "$p" "$ref"; fi
  done
  case $kt in
    rsa) echo "$ref" | grep -q "sha256WithRSAEncryption" && pass "RSA CA signs sha256WithRSAEncryption" || fail "RSA CA signs sha256WithRSAEncryption" "$ref" ;;
    ec) echo "$ref" | grep -q "ecdsa-with-SHA256" && pass "P-256 CA signs ecdsa-with-SHA256" || fail "P-256 CA signs ecdsa-with-SHA256" "$ref" ;;
  esac
done

# --- provision --ca-key FILE: the key stays outside the workspace
check "provision --ca-key FILE" "$T" provision -p project.yml -w file-ws --ca-key "$KEYS/p384.pem"
F=file-ws/my_fl_project
"$PY" -c 'import json,sys; assert set(json.load(open(sys.argv[1])))=={"root_cert"}' $F/state/cert.json \
  && pass "cert.json holds root_cert only (key file)" || fail "cert.json holds root_cert only (key file)"
openssl x509 -in $F/prod_00/server.example.com/startup/rootCA.pem -noout -text | grep -q "ecdsa-with-SHA384" \
  && pass "a P-384 root signs ecdsa-with-SHA384" || fail "a P-384 root signs ecdsa-with-SHA384"
check "token generate on it with --ca-key FILE" "$T" token generate -s site-1 -c $F --ca-key "$KEYS/p384.pem" -o tokf
check "the ES384 token verifies" "$T" token info -t tokf --verify -c $F
expect_fail "--key-type with --ca-key is a usage error" "key's own type" \
  "$T" provision -p project.yml -w file-ws2 --ca-key "$KEYS/p384.pem" --key-type ec
[ ! -e file-ws2 ] && pass "nothing written for it" || fail "nothing written for it"

# --- a CA key in an HSM: SoftHSM2 in a throwaway configuration
need softhsm2-util pkcs11-tool
MOD=/usr/lib/softhsm/libsofthsm2.so
[ -f $MOD ] || need $MOD   # the module comes with softhsm2-util; a FAIL under CI=true
mkdir -p hsm/tokens
export SOFTHSM2_CONF=$W/hsm/softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/hsm/tokens" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label tokenroll-ca --pin 1234 --so-pin 123456 >/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out hsm/rsa.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out hsm/ec.pem 2>/dev/null
check "import an RSA-2048 key into the token" softhsm2-util --import hsm/rsa.pem --token tokenroll-ca --label ca --id 01 --pin 1234
check "import a P-256 key into the token" softhsm2-util --import hsm/ec.pem --token tokenroll-ca --label ca-ec --id 02 --pin 1234
printf '1234\n' > hsm/pin
RSA_URI="pkcs11:token=tokenroll-ca;object=ca?module-path=$MOD&pin-source=file:$W/hsm/pin"
EC_URI="pkcs11:token=tokenroll-ca;object=ca-ec;type=private?module-path=$MOD&pin-value=1234"

check "provision --ca-key pkcs11: (RSA)" "$T" provision -p project.yml -w hsm-ws --ca-key "$RSA_URI"
P=hsm-ws/my_fl_project
S=$P/prod_00/server.example.com/startup
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={"root_cert"}' $P/state/cert.json \
  && pass "cert.json holds root_cert only" || fail "cert.json holds root_cert only" "$(cat $P/state/cert.json)"
check "the root's key is the HSM's" bash -c "[ \"\$(openssl x509 -in $S/rootCA.pem -pubkey -noout)\" = \"\$(openssl pkey -in hsm/rsa.pem -pubout)\" ]"
check "HSM-signed server certificate passes openssl verify" openssl verify -CAfile $S/rootCA.pem -purpose sslserver $S/server.crt
same "HSM-signed certificate has the same profile" "$(profile $S/server.crt | grep -v -e Subject -e Issuer -e subject= -e issuer=)" \
  "$(profile ws-rsa-mbedtls/my_fl_project/prod_00/server.example.com/startup/server.crt | grep -v -e Subject -e Issuer -e subject= -e issuer=)"
one_line "later commands say --ca-key is needed" "holds the root certificate only.*--ca-key" tok0 \
  "$T" token generate -s site-1 -c $P -o tok0
check "token generate --ca-key pkcs11:" "$T" token generate -s site-1 -c $P --ca-key "$RSA_URI" -o tok1
check "token info --verify accepts the HSM's token" "$T" token info -t tok1 --verify -c $P
h=$("$T" token generate -s site-1 -c $P --ca-key "$RSA_URI" "${FIXED[@]}")
for b in $backends; do
  f=$("$T" token generate -s site-1 -c $P --ca-key hsm/rsa.pem --signer $b "${FIXED[@]}")
  same "RS256: the HSM and --signer $b give the same bytes" "$h" "$f"
done
check "package ships the HSM workspace's root (no key needed)" "$T" package -n site-1 -e grpc://server.example.com:8002 \
  --cert-service https://cs.example.com:8443 --token tok1 -c $P -o kit
cmp -s kit/startup/rootCA.pem $S/rootCA.pem && pass "the kit's rootCA.pem is the HSM root" || fail "the kit's rootCA.pem is the HSM root"
check "TOKENROLL_CA_KEY takes a URI too" env TOKENROLL_CA_KEY="$RSA_URI" "$T" token generate -s site-2 -c $P -o tok2
check "token batch --ca-key pkcs11: (a session per worker)" "$T" token batch -n 60 -c $P --ca-key "$RSA_URI" -o hsm.csv
n=0; bad=0
while IFS=, read -r name tok; do
  [ "$name" = name ] && continue
  n=$((n + 1))
  "$T" token info -t "$tok" --verify -c $P >/dev/null 2>&1 || bad=$((bad + 1))
done < hsm.csv
same "HSM batch of 60: all verify" "$n/$bad" "60/0"

check "provision --ca-key pkcs11: (P-256)" "$T" provision -p project.yml -w hsm-ec --ca-key "$EC_URI"
E=hsm-ec/my_fl_project
check "HSM P-256 server certificate passes openssl verify" \
  openssl verify -CAfile $E/prod_00/server.example.com/startup/rootCA.pem -purpose sslserver \
  $E/prod_00/server.example.com/startup/server.crt
check "ES256 token from the HSM" "$T" token generate -s site-1 -c $E --ca-key "$EC_URI" -o tok3
check "token info --verify accepts it" "$T" token info -t tok3 --verify -c $E
check "a second provision run reuses the HSM root" "$T" provision -p project.yml -w hsm-ec --ca-key "$EC_URI"
[ -d $E/prod_01 ] && pass "prod_01 made with the HSM key" || fail "prod_01 made with the HSM key"

# --- errors: one line, exit 1, nothing written
# key_error NAME PATTERN KEY: token generate on the HSM workspace with --ca-key KEY
key_error() { one_line "$1" "$2" bad "$T" token generate -s x -c $P -o bad --ca-key "$3"; }
key_error "wrong PIN" "wrong PIN \(CKR_PIN_INCORRECT\)" "pkcs11:token=tokenroll-ca;object=ca?module-path=$MOD&pin-value=9999"
key_error "missing module" "cannot load the PKCS#11 module /nonexistent/p11.so" \
  "pkcs11:token=tokenroll-ca;object=ca?module-path=/nonexistent/p11.so&pin-value=1234"
key_error "unknown object" "no private key in the token matches" "pkcs11:token=tokenroll-ca;object=nope?module-path=$MOD&pin-value=1234"
key_error "unknown token" "no token matches the URI" "pkcs11:token=other;object=ca?module-path=$MOD&pin-value=1234"
key_error "HSM key that is not the certificate's" "does not belong to the root certificate" "$EC_URI"
for b in $backends; do
  one_line "key file that is not the certificate's (--signer $b)" "the CA key .* does not belong to the root certificate" bad6 \
    "$T" token generate -s x -c "$V" -o bad6 --signer $b --ca-key "$KEYS/rsa2048_a.pem"
  one_line "key file that does not parse (--signer $b)" "does not parse" bad6 \
    "$T" token generate -s x -c "$V" -o bad6 --signer $b --ca-key "$V/rootCA.pem"
  one_line "key too small to sign with (--signer $b)" "RSA \(2048 bits or more\)" bad6 \
    "$T" token generate -s x -c "$V" -o bad6 --signer $b --ca-key "$KEYS/rsa1024.pem"
done
key_error "malformed URI (unknown attribute)" "malformed PKCS#11 URI: unknown attribute" "pkcs11:tokn=tokenroll-ca?module-path=$MOD"
key_error "malformed URI (bad escape)" "malformed PKCS#11 URI: a %-escape" "pkcs11:token=a%zz?module-path=$MOD"
key_error "URI without module-path" "needs module-path" "pkcs11:token=tokenroll-ca;object=ca"
key_error "PIN file missing" "cannot read the PIN file" "pkcs11:object=ca?module-path=$MOD&pin-source=file:$W/nopin"
one_line "batch with a wrong PIN" "wrong PIN" bad8.csv \
  "$T" token batch -n 5 -c $P -o bad8.csv --ca-key "pkcs11:object=ca?module-path=$MOD&pin-value=0000"
one_line "provision with a wrong PIN" "wrong PIN" hsm-bad \
  "$T" provision -p project.yml -w hsm-bad --ca-key "pkcs11:object=ca?module-path=$MOD&pin-value=0000"
expect_fail "--signer with a pkcs11: key is a usage error" "signs in its token" \
  "$T" token generate -s x -c $P --signer openssl --ca-key "$RSA_URI"
expect_fail "--signer names a backend" "--signer must be openssl or mbedtls" \
  "$T" token generate -s x -c "$V" --signer gnutls

# An EC private key alone says nothing of its point: without its public
# key object the signer cannot be checked, and says so.
pkcs11-tool --module $MOD --token-label tokenroll-ca --login --pin 1234 \
  --delete-object --type pubkey --id 02 >/dev/null 2>&1
one_line "EC key without its public key object" "no public key object has its id or label" bad9 \
  "$T" token generate -s x -c $E -o bad9 --ca-key "$EC_URI"
