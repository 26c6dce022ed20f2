#!/usr/bin/env bash
# tokenroll token generate|batch|info: FLARE compatibility (byte-identical
# tokens, identical info output), CAs from provision and from openssl,
# batches, and every bad-input case of the token-command document.
. "$(dirname "$0")/lib.sh"
need openssl py:jwt py:cryptography
cd "$W"
J="$ROOT/tests/e2e/jose.py"
unset NVFLARE_CA_PATH NVFLARE_ENROLLMENT_POLICY NVFLARE_CERT_SERVICE_URL NVFLARE_API_KEY

# --- FLARE vectors: same key, jti and iat give the same bytes
out=$("$T" token generate -s site-1 -c "$V" -p "$V/default_policy.yaml" \
      --jti 00000000-0000-4000-8000-000000000001 --issued-at 1767225600)
same "fixed_site-1.jwt is reproduced byte for byte" "$out" "$(cat "$V/fixed_site-1.jwt")"
out=$("$T" token generate -s site-1 -c "$V" --jti 00000000-0000-4000-8000-000000000001 --issued-at 1767225600)
same "the built-in default policy is the document's (same bytes without -p)" "$out" "$(cat "$V/fixed_site-1.jwt")"
out=$("$T" token generate -s admin@example.com --user -r lead -c "$V" -p "$V/default_policy.yaml" \
      --jti 00000000-0000-4000-8000-000000000002 --issued-at 1767225600)
same "fixed_admin.jwt is reproduced byte for byte" "$out" "$(cat "$V/fixed_admin.jwt")"
out=$("$T" token generate -s admin@example.com --user -c "$V" \
      --jti 00000000-0000-4000-8000-000000000002 --issued-at 1767225600)
same "user tokens default to the policy's default role (lead)" "$out" "$(cat "$V/fixed_admin.jwt")"

# --- token info prints what FLARE printed
out=$("$T" token info -t "$V/token_client_site-1.jwt" --json)
same "info --json equals FLARE's output" "$out" "$(cat "$V/token_info_site-1.json")"
"$T" token info -t "$V/token_client_site-1.jwt" > info.txt
if cmp -s info.txt "$V/token_info_site-1.txt"; then pass "info text equals FLARE's output"; else fail "info text equals FLARE's output" "$(diff info.txt "$V/token_info_site-1.txt")"; fi
out=$("$T" token info -t "$(cat "$V/token_admin.jwt")" --json)
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["roles"]==["lead"] and d["subject_type"]=="admin" and d["source_ips"] is None, d' <<<"$out" \
  && pass "info decodes an admin token's roles" || fail "info decodes an admin token's roles" "$out"
out=$("$T" token info -t "$V/token_relay_24h.jwt" --json)
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["subject_type"]=="relay" and d["expires_at"]=="2026-11-24T17:03:52+00:00", d' <<<"$out" \
  && pass "info decodes a relay token (24h)" || fail "info decodes a relay token (24h)" "$out"
out=$("$T" token info -t "$V/token_pattern.jwt")
echo "$out" | grep -q "subject: hospital-\*" && pass "info decodes a pattern token" || fail "info decodes a pattern token" "$out"
check "FLARE's token verifies against FLARE's CA (--verify, fixed clock)" \
  "$T" token info -t "$V/fixed_site-1.jwt" --verify -c "$V" --now 1767300000
expect_fail "info --verify reports an expired token" "token is not valid: token expired" \
  "$T" token info -t "$V/fixed_site-1.jwt" --verify -c "$V"

# --- provision -> generate -> info -> jwt verify with the CA's public key
cp "$ROOT/tests/vectors/project/token_doc.yml" project.yml
check "provision makes a workspace" "$T" provision -p project.yml -w ws
CA=ws/my_fl_project
tok=$("$T" token generate -s hospital-1 -c $CA)
check "a provisioned CA's token verifies with the CA certificate" \
  "$T" jwt verify "$tok" --key $CA/prod_00/server.example.com/startup/rootCA.pem --iss my_fl_project --sub hospital-1 --require jti,iat,exp
out=$("$T" token info -t "$tok" --json)
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["subject"]=="hospital-1" and d["issuer"]=="my_fl_project" and d["policy_project"]=="nvflare-default", d' <<<"$out" \
  && pass "info reads a freshly minted token" || fail "info reads a freshly minted token" "$out"
check "info --verify accepts it" "$T" token info -t "$tok" --verify -c $CA
"$PY" -c 'import json; print(json.load(open("'$CA'/state/cert.json"))["root_cert"], end="")' > root.pem
openssl x509 -in root.pem -pubkey -noout > root.pub
out=$("$PY" "$J" verify RS256 root.pub "$tok") && pass "PyJWT (FLARE's validator library) accepts our token" || fail "PyJWT (FLARE's validator library) accepts our token" "$out"
NVFLARE_CA_PATH=$CA "$T" token generate -s site-env > env.jwt && pass "NVFLARE_CA_PATH stands in for -c" || fail "NVFLARE_CA_PATH stands in for -c"

# --- options shape the claims
tok=$("$T" token generate -s relay-1 --relay -v 24h -c $CA --source-ips 10.0.0.0/8 2001:db8::/32)
out=$("$T" jwt inspect --json "$tok")
"$PY" -c 'import json,sys; c=json.load(sys.stdin)["claims"]; assert c["exp"]-c["iat"]==86400 and c["subject_type"]=="relay" and c["source_ips"]==["10.0.0.0/8","2001:db8::/32"] and c["max_uses"]==1 and list(c)==["jti","sub","iat","exp","iss","subject_type","policy","max_uses","source_ips"], c' <<<"$out" \
  && pass "-v, --relay and --source-ips land in the claims, in FLARE's order" || fail "-v, --relay and --source-ips land in the claims" "$out"
cat > policy.yaml <<'YML'
metadata:
  project: "my-federation"
  description: "Production enrollment policy"
  version: "1.0"
token:
  validity: 2d
  max_uses: 3
site:
  name_pattern: "hospital-*"
user:
  allowed_roles: [lead, member]
  default_role: member
approval:
  method: policy
  rules:
    - name: "all"
      match: {}
      action: approve
YML
tok=$(NVFLARE_ENROLLMENT_POLICY=policy.yaml "$T" token generate -s admin@x.org --user -c $CA)
out=$("$T" jwt inspect --json "$tok")
"$PY" -c 'import json,sys; c=json.load(sys.stdin)["claims"]; assert c["exp"]-c["iat"]==2*86400 and c["max_uses"]==3 and c["roles"]==["member"] and c["policy"]["metadata"]["project"]=="my-federation", c' <<<"$out" \
  && pass "the policy sets validity, max_uses and the default role" || fail "the policy sets validity, max_uses and the default role" "$out"
expect_fail "a site outside the policy's site.name_pattern" 'subject "clinic-1" does not match the policy.s site.name_pattern "hospital-\*"' \
  "$T" token generate -s clinic-1 -p policy.yaml -c $CA
check "a site inside site.name_pattern" "$T" token generate -s hospital-7 -p policy.yaml -c $CA
expect_fail "batch checks every name against site.name_pattern" 'subject "clinic-001" does not match' \
  "$T" token batch -n 2 --prefix clinic -p policy.yaml -c $CA -o never.csv
tok=$("$T" token generate -s 'hospital-*' -t pattern -c $CA)
[ -n "$tok" ] && pass "-t pattern takes a glob subject" || fail "-t pattern takes a glob subject"

"$T" token generate -s site-9 -c $CA -o tok.txt 2>/dev/null
[ "$(stat -c %a tok.txt)" = 600 ] && pass "-o writes mode 0600" || fail "-o writes mode 0600" "$(stat -c %a tok.txt)"
[ "$(tail -c 1 tok.txt | od -An -c | tr -d ' ')" != '\n' ] && pass "-o writes no trailing newline" || fail "-o writes no trailing newline"
check "the saved token verifies" "$T" jwt verify tok.txt --key root.pem --sub site-9

# --- CAs made with openssl: RSA PKCS#8 and EC
for kt in rsa ec; do
  mkdir -p ossl-$kt
  if [ $kt = rsa ]; then openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ossl-$kt/rootCA.key 2>/dev/null
  else openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ossl-$kt/rootCA.key 2>/dev/null; fi
  openssl req -x509 -new -key ossl-$kt/rootCA.key -subj "/CN=ossl-$kt-ca" -days 30 -out ossl-$kt/rootCA.pem 2>/dev/null
  tok=$("$T" token generate -s site-1 -c ossl-$kt)
  alg=$("$T" jwt inspect --json "$tok" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["header"]["alg"])')
  want=RS256; [ $kt = ec ] && want=ES256
  same "openssl $kt CA (rootCA.pem + PKCS#8 rootCA.key) signs $want" "$alg" "$want"
  check "openssl $kt CA token verifies with rootCA.pem" "$T" jwt verify "$tok" --key ossl-$kt/rootCA.pem --iss ossl-$kt-ca
done

# --- batch
"$T" token batch -n 1000 --prefix site -c $CA -o batch.csv 2>/dev/null
n=$(wc -l < batch.csv)
same "batch -n 1000 writes a header and 1000 rows" "$n" "1001"
same "batch names are zero-padded to the count's digits" "$(sed -n '2p;$p' batch.csv | cut -d, -f1 | tr '\n' ' ')" "site-0001 site-1000 "
uniq=$("$PY" - batch.csv <<'PYEOF'
import base64, csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
jtis = set()
for r in rows:
    p = r["token"].split(".")[1]
    c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    assert c["sub"] == r["name"], (c["sub"], r["name"])
    jtis.add(c["jti"])
print(len(jtis))
PYEOF
)
same "1000 tokens carry 1000 different jti" "$uniq" "1000"
[ "$(stat -c %a batch.csv)" = 600 ] && pass "batch output is mode 0600" || fail "batch output is mode 0600"
"$T" token batch -n 3 --prefix hospital -c $CA -o b3.csv 2>/dev/null
same "batch -n 3 pads to three digits as FLARE does" "$(cut -d, -f1 b3.csv | tr '\n' ' ')" "$(cut -d, -f1 "$V/batch_tokens.csv" | tr '\n' ' ')"
"$T" token batch --names site-a site-b -c $CA -o b.txt 2>/dev/null
same "batch .txt writes 'name: token' lines" "$(cut -d' ' -f1 b.txt | tr '\n' ' ')" "$(cut -d' ' -f1 "$V/batch_tokens.txt" | tr '\n' ' ')"
tok=$(sed -n 's/^site-b: //p' b.txt)
check "a batch token verifies" "$T" jwt verify "$tok" --key root.pem --sub site-b

# --- bad input: clear message, exit 1 (2 for usage), nothing written
expect_fail "no CA path" "^Error: CA path is required\.$" "$T" token generate -s x
out=$("$T" token generate -s x 2>&1); rc=$?
same "no CA path exits 1" "$rc" "1"
echo "$out" | grep -q "NVFLARE_CA_PATH" && pass "the CA path error gives the hint" || fail "the CA path error gives the hint" "$out"
expect_fail "CA folder without a CA" "Root CA not found in .*state/cert.json.*rootCA.pem" "$T" token generate -s x -c "$W/nowhere"
mkdir -p broken/state && echo '{"root_cert": "x"}' > broken/state/cert.json
expect_fail "cert.json with a broken root_cert" 'cert.json: the root certificate does not parse' "$T" token generate -s x -c broken
# root_cert alone is an HSM-held CA's workspace: the key must be named.
"$PY" -c 'import json,sys; print(json.dumps({"root_cert": open(sys.argv[1]).read()}))' "$V/rootCA.pem" \
  > broken/state/cert.json
expect_fail "cert.json without root_pri_key asks for --ca-key" \
  'cert.json holds the root certificate only .*--ca-key pkcs11:.*TOKENROLL_CA_KEY' "$T" token generate -s x -c broken
echo 'not json' > broken/state/cert.json
expect_fail "cert.json that is not JSON" "cert.json: not a JSON object" "$T" token generate -s x -c broken
mkdir -p mismatch/state
"$PY" -c 'import json; a=json.load(open("'$V'/cert.json")); b=json.load(open("'$CA'/state/cert.json")); json.dump({"root_cert":a["root_cert"],"root_pri_key":b["root_pri_key"]}, open("mismatch/state/cert.json","w"))'
expect_fail "a key that is not the certificate's" "does not belong to the root certificate" "$T" token generate -s x -c mismatch
mkdir -p leaf && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf/rootCA.key 2>/dev/null
openssl req -x509 -new -key leaf/rootCA.key -subj "/CN=leaf" -days 3 -addext basicConstraints=critical,CA:FALSE -out leaf/rootCA.pem 2>/dev/null
expect_fail "a leaf certificate as root CA" "rootCA.pem: the root certificate is not a CA" "$T" token generate -s x -c leaf
openssl genpkey -algorithm ED25519 -out leaf/rootCA.key 2>/dev/null
openssl req -x509 -new -key leaf/rootCA.key -subj "/CN=ed" -days 3 -out leaf/rootCA.pem 2>/dev/null
expect_fail "an Ed25519 CA is named as unsupported" "root certificate does not parse|private key does not parse \(RSA or EC" "$T" token generate -s x -c leaf
printf 'token:\n  validity: 7x\n' > badpol.yaml
expect_fail "a policy error names file:line:column" "badpol.yaml:2:[0-9]+: .*" "$T" token generate -s x -c $CA -p badpol.yaml
expect_fail "missing policy file" "cannot read policy nope.yaml" "$T" token generate -s x -c $CA -p nope.yaml
expect_fail "bad validity" "-v must be a duration" "$T" token generate -s x -c $CA -v 3fortnights
expect_fail "bad validity unit" "-v must be a duration" "$T" token generate -s x -c $CA -v 3y
expect_fail "bad --jti" "--jti must be a UUID" "$T" token generate -s x -c $CA --jti 1234
expect_fail "role outside the policy" 'role "king" is not allowed by the policy \(allowed: lead, member, org_admin\)' "$T" token generate -s a@b.c --user -r king -c $CA
expect_fail "role for a client token" "-r/--role is for user tokens" "$T" token generate -s x -r lead -c $CA
expect_fail "--user with --relay" "use only one of --user, --relay" "$T" token generate -s x --user --relay -c $CA
expect_fail "bad CIDR" '"10.0.0.0/33" is not a CIDR' "$T" token generate -s x -c $CA --source-ips 10.0.0.0/33
expect_fail "bad pattern" "not a valid glob" "$T" token generate -s 'hosp-[' -t pattern -c $CA
expect_fail "missing subject" "required: -s/--subject" "$T" token generate -c $CA
expect_fail "remote mode: an unreachable service is named" "cannot connect to the certificate service at https://cs.invalid:8443" "$T" token generate -s x --cert-service https://cs.invalid:8443 --api-key k -c $CA
expect_fail "remote mode: no root CA for TLS" "no root CA to trust the certificate service" env -u NVFLARE_CA_PATH "$T" token generate -s x --cert-service https://cs.invalid:8443 --api-key k
expect_fail "remote mode: no API key" "API key is required" env -u NVFLARE_API_KEY "$T" token generate -s x --cert-service https://cs.invalid:8443 -c $CA
expect_fail "remote mode: local-only options refused" "local-mode options" "$T" token generate -s x --cert-service https://cs.invalid:8443 --api-key k -c $CA -p policy.yaml
expect_fail "batch without -o" "required: -o/--output" "$T" token batch -n 2 -c $CA
expect_fail "batch with -n and --names" "exactly one of -n COUNT and --names" "$T" token batch -n 2 --names a -c $CA -o x.csv
expect_fail "batch -n 0" "-n must be 1..1000000" "$T" token batch -n 0 -c $CA -o x.csv
[ ! -e x.csv ] && pass "failed batches write nothing" || fail "failed batches write nothing"
expect_fail "info on garbage (neither a file nor a JWT)" "garbage: no such file" "$T" token info -t garbage
expect_fail "info on a malformed JWT" "not a valid JWT" "$T" token info -t "a.b.c"
expect_fail "info on a file that is not a token" "not a valid JWT" "$T" token info -t project.yml
expect_fail "info --verify with another CA" "token is not valid: signature verification failed" "$T" token info -t "$V/fixed_site-1.jwt" --verify -c $CA --now 1767300000
expect_fail "unknown token command" "unknown token command" "$T" token frobnicate
