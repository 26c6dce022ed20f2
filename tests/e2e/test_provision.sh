#!/usr/bin/env bash
# tokenroll provision: the workspace FLARE's provisioning lays out, checked
# with openssl (chain, extensions, modes), re-runs, EC keys, FLARE's CA.
. "$(dirname "$0")/lib.sh"
need openssl
cd "$W"

# the token-command document's project.yml, plus builders to be ignored
cp "$ROOT/tests/vectors/project/token_doc.yml" project.yml
cat >> project.yml <<'YML'
builders:
  - path: nvflare.lighter.impl.workspace.WorkspaceBuilder
  - path: nvflare.lighter.impl.static_file.StaticFileBuilder
    args:
      config_folder: config
YML
out=$("$T" provision -p project.yml -w ws 2>&1)
[ $? -eq 0 ] && pass "provision the document's project.yml" || fail "provision the document's project.yml" "$out"
echo "$out" | grep -q "2 builder(s) in project.yml ignored" && pass "builders are reported as ignored" || fail "builders are reported as ignored" "$out"
P=ws/my_fl_project
S=$P/prod_00/server.example.com/startup
A=$P/prod_00/admin@example.com/startup
for f in $P/state/cert.json $S/rootCA.pem $S/server.crt $S/server.key $A/rootCA.pem $A/client.crt $A/client.key; do
  [ -s "$f" ] && pass "wrote ${f#ws/}" || fail "wrote ${f#ws/}"
done
for f in $P/state/cert.json $S/server.key $A/client.key; do
  same "${f#ws/} is mode 0600" "$(stat -c %a "$f")" "600"
done
same "certificates are mode 0644" "$(stat -c %a $S/server.crt)" "644"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={"root_cert","root_pri_key"} and "BEGIN CERTIFICATE" in d["root_cert"] and "PRIVATE KEY" in d["root_pri_key"]' $P/state/cert.json \
  && pass "cert.json holds root_cert and root_pri_key PEM" || fail "cert.json holds root_cert and root_pri_key PEM"

check "openssl verifies the server certificate against rootCA.pem" openssl verify -CAfile $S/rootCA.pem -purpose sslserver $S/server.crt
check "openssl verifies the admin certificate against rootCA.pem" openssl verify -CAfile $A/rootCA.pem -purpose sslclient $A/client.crt
check "the server key matches its certificate" bash -c "[ \"\$(openssl x509 -in $S/server.crt -pubkey -noout)\" = \"\$(openssl pkey -in $S/server.key -pubout)\" ]"

root=$(openssl x509 -in $S/rootCA.pem -noout -text)
echo "$root" | grep -q "Subject: CN = my_fl_project" && pass "root CN is the project name" || fail "root CN is the project name" "$root"
echo "$root" | grep -A1 "Basic Constraints: critical" | grep -q "CA:TRUE" && pass "root is CA:TRUE, critical" || fail "root is CA:TRUE, critical"
echo "$root" | grep -A1 "Key Usage" | grep -q "Certificate Sign, CRL Sign" && pass "root has keyCertSign and cRLSign" || fail "root has keyCertSign and cRLSign" "$root"
echo "$root" | grep -q "Subject Key Identifier" && echo "$root" | grep -q "Authority Key Identifier" && pass "root has SKI and AKI" || fail "root has SKI and AKI"
echo "$root" | grep -q "Public-Key: (2048 bit)" && echo "$root" | grep -q "rsaEncryption" && pass "root key is RSA-2048 by default" || fail "root key is RSA-2048 by default"
days=$(( ( $(date -d "$(openssl x509 -in $S/rootCA.pem -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[ "$days" -ge 3648 ] && [ "$days" -le 3650 ] && pass "root is valid for 10 years" || fail "root is valid for 10 years" "$days days"

srv=$(openssl x509 -in $S/server.crt -noout -text)
echo "$srv" | grep -q "DNS:server.example.com" && pass "server SAN names its host" || fail "server SAN names its host" "$srv"
echo "$srv" | grep -A1 "Extended Key Usage" | grep -q "TLS Web Server Authentication" && pass "server has serverAuth" || fail "server has serverAuth"
echo "$srv" | grep -A1 "Basic Constraints" | grep -q "CA:FALSE" && pass "server is CA:FALSE" || fail "server is CA:FALSE"
echo "$srv" | grep -q "O = MyOrganization" && pass "server subject carries the org" || fail "server subject carries the org"
serial=$(openssl x509 -in $S/server.crt -noout -serial | cut -d= -f2)
[ ${#serial} -ge 16 ] && pass "serial has at least 64 bits" || fail "serial has at least 64 bits" "$serial"
adm=$(openssl x509 -in $A/client.crt -noout -subject -nameopt multiline)
echo "$adm" | grep -q "unstructuredName *= project_admin" && pass "admin role is in unstructuredName" || fail "admin role is in unstructuredName" "$adm"
openssl x509 -in $A/client.crt -noout -text | grep -A1 "Extended Key Usage" | grep -q "TLS Web Client Authentication" && pass "admin has clientAuth" || fail "admin has clientAuth"
openssl x509 -in $A/client.crt -noout -text | grep -q "email:admin@example.com" && pass "admin SAN is the e-mail" || fail "admin SAN is the e-mail"

# a second run: same root CA, next prod folder
sum=$(sha256sum $P/state/cert.json)
check "provision again" "$T" provision -p project.yml -w ws
[ -d $P/prod_01/server.example.com/startup ] && pass "the second run writes prod_01" || fail "the second run writes prod_01"
same "the second run keeps the root CA" "$(sha256sum $P/state/cert.json)" "$sum"
check "prod_01 certificates chain to the same root" openssl verify -CAfile $S/rootCA.pem $P/prod_01/server.example.com/startup/server.crt
ls -a $P | grep -q '\.tmp\.' && fail "no temporary folders are left behind" || pass "no temporary folders are left behind"

# EC keys; IP address as server name
sed -e 's/server.example.com/10.1.2.3/' -e 's/my_fl_project/ecproj/' project.yml > ec.yml
check "provision --key-type ec" "$T" provision -p ec.yml -w ws --key-type ec
openssl x509 -in ws/ecproj/prod_00/10.1.2.3/startup/rootCA.pem -noout -text | grep -q "prime256v1" && pass "EC root is P-256" || fail "EC root is P-256"
openssl x509 -in ws/ecproj/prod_00/10.1.2.3/startup/server.crt -noout -text | grep -q "IP Address:10.1.2.3" && pass "an IP server name gets an IP SAN" || fail "an IP server name gets an IP SAN"
check "EC chain verifies" openssl verify -CAfile ws/ecproj/prod_00/10.1.2.3/startup/rootCA.pem ws/ecproj/prod_00/10.1.2.3/startup/server.crt

# FLARE's own cert.json (PKCS#1 key, nothing else) is read unchanged
mkdir -p ws/example_project/state && cp "$V/cert.json" ws/example_project/state/cert.json
sed 's/my_fl_project/example_project/' project.yml > flare.yml
check "provision reuses FLARE's cert.json" "$T" provision -p flare.yml -w ws
cmp -s "$V/cert.json" ws/example_project/state/cert.json && pass "FLARE's cert.json is left unchanged" || fail "FLARE's cert.json is left unchanged"
check "kits chain to FLARE's root CA" openssl verify -CAfile "$V/rootCA.pem" ws/example_project/prod_00/server.example.com/startup/server.crt

# bad input
expect_fail "missing -p" "required: -p/--project_file" "$T" provision -w ws
expect_fail "missing project file" "cannot read nope.yml" "$T" provision -p nope.yml
printf 'api_version: 3\nname: x\nparticipants:\n  - name: s\n    type: server\n    org: o\n    fed_learn_port: 99999\n    admin_port: 8003\n' > badport.yml
expect_fail "a bad port names file:line:column" "badport.yml:7:[0-9]+: " "$T" provision -p badport.yml -w ws
printf 'api_version: 3\nname: x\nparticipants: [\n' > syntax.yml
expect_fail "a YAML syntax error names file:line:column" "syntax.yml:[0-9]+:[0-9]+: " "$T" provision -p syntax.yml -w ws
[ ! -e ws/x ] && pass "a failed provision writes nothing" || fail "a failed provision writes nothing"
expect_fail "bad --key-type" "--key-type must be rsa or ec" "$T" provision -p project.yml --key-type dsa
