#!/usr/bin/env bash
# tokenroll jwt against independent peers: openssl verifies what we sign,
# PyJWT verifies what we sign and signs what we verify, for every algorithm.
. "$(dirname "$0")/lib.sh"
need openssl py:jwt py:cryptography
cd "$W"
J="$ROOT/tests/e2e/jose.py"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out other.pem 2>/dev/null
for k in rsa p256 p384 other; do openssl pkey -in $k.pem -pubout -out $k.pub 2>/dev/null; done
openssl pkey -in rsa.pem -traditional -out rsa_pkcs1.pem 2>/dev/null

claims='{"sub":"device-7","iss":"https://idp.example","aud":"tokenroll","iat":1700000000,"exp":4000000000,"name":"Zoë 😀"}'

for pair in RS256:rsa PS256:rsa ES256:p256 ES384:p384; do
  alg=${pair%%:*}; key=${pair##*:}
  tok=$("$T" jwt sign --key $key.pem --alg $alg --kid k-$alg "$claims")
  [ -n "$tok" ] && pass "$alg: sign produces a token" || fail "$alg: sign produces a token"

  # openssl over the signing input
  "$PY" "$J" rawsig "$tok" sig.bin input.txt
  dg=-sha256; [ $alg = ES384 ] && dg=-sha384
  extra=(); [ $alg = PS256 ] && extra=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32)
  check "$alg: openssl dgst -verify accepts our signature" \
    openssl dgst $dg "${extra[@]}" -verify $key.pub -signature sig.bin input.txt

  # PyJWT verifies ours; claims survive byte for byte
  out=$("$PY" "$J" verify $alg $key.pub "$tok")
  same "$alg: PyJWT verifies our token and reads the claims" "$out" "$("$PY" -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]),separators=(",",":")))' "$claims")"

  # we verify PyJWT's
  ptok=$("$PY" "$J" sign $alg $key.pem "$claims" kid-py)
  check "$alg: tokenroll verifies PyJWT's token" "$T" jwt verify "$ptok" --key $key.pub --alg $alg --aud tokenroll --iss https://idp.example
  check "$alg: algorithm follows from the key when --alg is absent" \
    bash -c "[ $alg = PS256 ] || '$T' jwt verify '$ptok' --key $key.pub --aud tokenroll"
  expect_fail "$alg: a token from another key is rejected" "signature|not the pinned|key type" \
    "$T" jwt verify "$ptok" --key other.pub --alg ES384 --aud tokenroll
done

tok=$("$T" jwt sign --key rsa_pkcs1.pem '{"sub":"a"}')
check "PKCS#1 private key signs" "$T" jwt verify "$tok" --key rsa.pub
check "verify accepts the private key file as key" "$T" jwt verify "$tok" --key rsa.pem

# header order and bytes equal PyJWT's for the same claims (RS256 is deterministic)
ours=$("$T" jwt sign --key rsa.pem --kid k1 '{"sub":"a","n":1}')
theirs=$("$PY" "$J" sign RS256 rsa.pem '{"sub":"a","n":1}' k1)
same "RS256: byte-identical to PyJWT for the same key, kid and claims" "$ours" "$theirs"

# inspect
out=$("$T" jwt inspect "$ours")
echo "$out" | grep -q '^  kid: k1$' && pass "inspect shows the header" || fail "inspect shows the header" "$out"
out=$("$T" jwt inspect --json "$ours")
"$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["claims"]=={"sub":"a","n":1} and d["header"]["alg"]=="RS256"' <<<"$out" \
  && pass "inspect --json is JSON with header and claims" || fail "inspect --json is JSON with header and claims" "$out"
echo "  $ours  " > tok.txt
check "inspect reads a token file and strips whitespace" "$T" jwt inspect tok.txt
out=$("$T" jwt inspect "$V/fixed_site-1.jwt")
echo "$out" | grep -q 'exp: 1767830400 (2026-01-08T00:00:00+00:00)' && pass "inspect shows dates readable" || fail "inspect shows dates readable" "$out"

# FLARE vectors: verify with the CA certificate at a fixed clock
check "FLARE token verifies with the root CA at a fixed clock" \
  "$T" jwt verify "$V/fixed_site-1.jwt" --key "$V/rootCA.pem" --now 1767300000 --iss example_project --sub site-1 --require exp,iat,jti
expect_fail "FLARE token is expired a week later" "expired at 2026-01-08" \
  "$T" jwt verify "$V/fixed_site-1.jwt" --key "$V/rootCA.pem" --now 1767830400
check "leeway keeps it valid at exp" \
  "$T" jwt verify "$V/fixed_site-1.jwt" --key "$V/rootCA.pem" --now 1767830400 --leeway 1

# attacks and bad input: one line, non-zero, no crash
none=$("$PY" "$J" forge none rsa.pub)
expect_fail "alg none is rejected" "not a valid JWT|not the pinned" "$T" jwt verify "$none" --key rsa.pub
hs=$("$PY" "$J" forge hs256-pubkey rsa.pub)
expect_fail "HS256 keyed with the RSA public key is rejected" 'header alg "HS256" is not the pinned RS256' "$T" jwt verify "$hs" --key rsa.pub
tampered=$(printf '%s' "$ours" | "$PY" -c 'import sys; t=sys.stdin.read(); h,p,s=t.split("."); print(h+"."+p[:-2]+("A" if p[-2]!="A" else "B")+p[-1]+"."+s)')
expect_fail "a tampered payload fails the signature" "signature verification failed|not a valid JWT" "$T" jwt verify "$tampered" --key rsa.pub
ptok=$("$PY" "$J" sign RS256 rsa.pem "$claims")
expect_fail "wrong issuer is named" 'issuer is not "someone-else"' "$T" jwt verify "$ptok" --key rsa.pub --aud tokenroll --iss someone-else
expect_fail "expected issuer but none in the token" 'required claim "iss" is missing' "$T" jwt verify "$ours" --key rsa.pub --iss x
expect_fail "audience expected but absent" 'required claim "aud" is missing' "$T" jwt verify "$ours" --key rsa.pub --aud x
expect_fail "audience not ours" 'audience does not include "other"' "$T" jwt verify "$ptok" --key rsa.pub --aud other
expect_fail "a token with aud is refused when no --aud is given" "pass --aud" "$T" jwt verify "$ptok" --key rsa.pub
expect_fail "--require names a missing claim" 'required claim "exp" is missing' "$T" jwt verify "$ours" --key rsa.pub --require exp
expect_fail "garbage token" "not a valid JWT" "$T" jwt verify "not.a.token" --key rsa.pub
# the error names the part and the offset in the token, never the token
printf 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.ab*cd\n' > stray.jwt
expect_fail "a stray character: the part and its offset" \
    "not a valid JWT: invalid base64url: signature at offset 39: not a base64url character" \
    "$T" jwt inspect stray.jwt
expect_fail "bad header JSON: the offset of its character in the token" \
    "malformed JSON: header at offset 20:" "$T" jwt inspect "eyJhbGciOiJFUzI1NiIsfQ.eyJzdWIiOiJ4In0.abcd"
expect_fail "a header alg that is no string is named" "header.alg: missing or not a string" \
    "$T" jwt inspect "eyJhbGciOjF9.eyJzdWIiOiJ4In0.abcd"
expect_fail "missing key file" "cannot read key nope.pem: no such file" "$T" jwt verify "$ours" --key nope.pem
echo "hello" > bad.pem
expect_fail "unusable key file" "bad.pem is not a usable public key" "$T" jwt verify "$ours" --key bad.pem
expect_fail "an unusable key file gives mbedTLS's code" "bad.pem is not a usable public key.*mbedTLS -0x[0-9a-f]{4}" "$T" jwt verify "$ours" --key bad.pem
expect_fail "no key at all" "exactly one of --key" "$T" jwt verify "$ours"
expect_fail "unknown --alg" "--alg must be" "$T" jwt verify "$ours" --key rsa.pub --alg HS256
expect_fail "RSA token against a pinned ES256 key" "not the pinned ES256" "$T" jwt verify "$ours" --key p256.pub --alg ES256
expect_fail "key type cannot do the pinned alg" "key type does not match" "$T" jwt verify "$ours" --key p256.pub --alg RS256
head -c 1048576 /dev/zero | tr '\0' 'A' > big.jwt
expect_fail "a 1 MiB token is refused by size" "too large" "$T" jwt verify big.jwt --key rsa.pub
: > empty.jwt
expect_fail "an empty token file" "token is empty" "$T" jwt inspect empty.jwt
expect_fail "claims that are not JSON" "claims are not a JSON object" "$T" jwt sign --key rsa.pem '{"a":1,}'
expect_fail "claims with a duplicate key" "duplicate JSON key" "$T" jwt sign --key rsa.pem '{"a":1,"a":2}'
expect_fail "P-256 key cannot sign ES384" "cannot sign ES384" "$T" jwt sign --key p256.pem --alg ES384 '{"a":1}'
expect_fail "unknown option" "unrecognized option --frobnicate" "$T" jwt verify "$ours" --frobnicate
echo '{"sub":"stdin"}' | "$T" jwt sign --key p256.pem - > stdin.jwt
check "sign reads claims from stdin" "$T" jwt verify stdin.jwt --key p256.pub --sub stdin

# JWKS: key chosen by the token's kid; the key's kty/alg binds the algorithm
"$PY" "$J" jwks r1=rsa.pub e1=p256.pub e3=p384.pub r2=rsa.pub:PS256 > set.json
for pair in RS256:rsa:r1 ES256:p256:e1 ES384:p384:e3 PS256:rsa:r2; do
  IFS=: read -r alg key kid <<<"$pair"
  ptok=$("$PY" "$J" sign $alg $key.pem '{"sub":"jwks"}' $kid)
  check "$alg: PyJWT token verifies through the JWKS (kid $kid)" "$T" jwt verify "$ptok" --jwks set.json --sub jwks
done
ptok=$("$PY" "$J" sign PS256 rsa.pem '{"sub":"jwks"}' r1)
expect_fail "a PS256 token under an RSA key without alg is held to RS256" 'header alg "PS256" is not the pinned RS256' "$T" jwt verify "$ptok" --jwks set.json
check "--alg PS256 opens the RSA family for that key" "$T" jwt verify "$ptok" --jwks set.json --alg PS256
ptok=$("$PY" "$J" sign RS256 rsa.pem '{"sub":"jwks"}' r2)
expect_fail "a key bound to PS256 refuses RS256" 'not the pinned PS256' "$T" jwt verify "$ptok" --jwks set.json
ptok=$("$PY" "$J" sign ES256 p256.pem '{"sub":"jwks"}' nosuch)
expect_fail "unknown kid" 'no key with kid "nosuch"' "$T" jwt verify "$ptok" --jwks set.json
ptok=$("$PY" "$J" sign ES256 p256.pem '{"sub":"jwks"}')
expect_fail "no kid and several keys" "has no kid and set.json does not hold exactly one usable key" "$T" jwt verify "$ptok" --jwks set.json
"$PY" "$J" jwks only=p256.pub > one.json
check "no kid and a single key" "$T" jwt verify "$ptok" --jwks one.json
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other256.pem 2>/dev/null
ptok=$("$PY" "$J" sign ES256 other256.pem '{"sub":"jwks"}' e1)
expect_fail "right kid, wrong key" "signature verification failed" "$T" jwt verify "$ptok" --jwks set.json
echo '{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","kid":"p"}]}' > priv.json
ptok=$("$PY" "$J" sign RS256 rsa.pem '{"sub":"jwks"}' p)
expect_fail "a JWKS with private members is refused" "invalid or unusable key" "$T" jwt verify "$ptok" --jwks priv.json
expect_fail "the refused JWKS key and member are named" "keys\[0\]\.d: private key material" "$T" jwt verify "$ptok" --jwks priv.json
echo '{"keys":[' > broken.json
expect_fail "a JWKS that is not JSON" "broken.json is not a JWK set" "$T" jwt verify "$ptok" --jwks broken.json
