#!/usr/bin/env bash
# test_policy.sh — `tokenroll policy check|eval|yaml2json` end to end, and
# the differential test of the YAML -> JSON conversion against PyYAML
# (tests/e2e/yaml_oracle.py: json.dumps(yaml.safe_load(f),
# separators=(',', ':')), what FLARE's token service signs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need py:yaml

P="$ROOT/tests/vectors/policy"
ORACLE=("$PY" "$ROOT/tests/e2e/yaml_oracle.py")

# ---- the example policies and the built-in default ----

for f in "$P"/*.yaml; do
  check "check accepts $(basename "$f")" "$T" policy check "$f"
done
check "check accepts the built-in default" "$T" policy check default

claim=$("${ORACLE[@]}" --jwt-claim policy "$V/fixed_site-1.jwt")
same "built-in default claim == FLARE's fixed_site-1.jwt policy claim" \
  "$("$T" policy check default --json-claim)" "$claim"
same "default_policy.yaml claim == FLARE's claim" \
  "$("$T" policy check "$V/default_policy.yaml" --json-claim)" "$claim"
same "claim read back from the token == FLARE's claim" \
  "$("$T" policy check --token "$V/fixed_admin.jwt" --json-claim)" "$claim"
# Byte for byte inside the signed payload, not only after re-serializing.
payload=$("$PY" -c 'import base64,sys; p=open(sys.argv[1]).read().strip().split(".")[1]; print(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$V/fixed_site-1.jwt")
case "$payload" in
  *"\"policy\":$("$T" policy check default --json-claim),\"max_uses\""*) pass "default claim bytes appear verbatim in FLARE's payload" ;;
  *) fail "default claim bytes appear verbatim in FLARE's payload" "$payload" ;;
esac
same "policy from stdin" "$("$T" policy check - --json-claim < "$P/flare_custom.yaml")" \
  "$("$T" policy check "$P/flare_custom.yaml" --json-claim)"

# ---- differential: every YAML file against PyYAML ----
# Files where both succeed must give identical bytes; files PyYAML (or
# json.dumps) refuses must be refused here too, with a position.

files=("$P"/*.yaml "$P"/yaml11/*.yaml "$ROOT"/fuzz/corpus/policy/*)
mapfile -t expected < <("${ORACLE[@]}" "${files[@]}")
n_same=0 n_refused=0
for i in "${!files[@]}"; do
  f=${files[$i]} exp=${expected[$i]}
  name=${f#"$ROOT"/}
  got=$("$T" policy yaml2json "$f" 2>&1); rc=$?
  if [ "${exp:0:3}" = "OK " ]; then
    if [ $rc -eq 0 ] && [ "$got" = "${exp:3}" ]; then
      pass "yaml2json == PyYAML: $name"; n_same=$((n_same + 1))
    else
      fail "yaml2json == PyYAML: $name" "got:      ${got:0:300}" "expected: ${exp:3:300}"
    fi
  elif [ $rc -eq 1 ] && [[ "$got" =~ ^Error:\ .+:[0-9]+:[0-9]+:\  ]]; then
    pass "refused like PyYAML (${exp#ERR }): $name"; n_refused=$((n_refused + 1))
  else
    fail "refused like PyYAML (${exp#ERR }): $name" "exit $rc: ${got:0:300}"
  fi
done
echo "# differential: ${#files[@]} YAML files, $n_same byte-identical to PyYAML, $n_refused refused by both"

# The policy claim path gives the same bytes as the generic converter.
for f in "$P"/*.yaml "$P"/yaml11/policy_yaml11_features.yaml; do
  same "check --json-claim == yaml2json: $(basename "$f")" \
    "$("$T" policy check "$f" --json-claim)" "$("$T" policy yaml2json "$f")"
done

expect_fail "a date is an error with its line and column" \
  'date\.yaml:5:12: "2024-01-01" is a YAML 1\.1 timestamp' "$T" policy yaml2json "$P/yaml11/date.yaml"

# Deliberate differences: PyYAML keeps the last of repeated keys silently;
# a policy must not mean something other than what its author read.
printf 'token:\n  max_uses: 1\n  max_uses: 100\n' > "$W/dup.yaml"
same "PyYAML accepts a repeated key" "$("${ORACLE[@]}" "$W/dup.yaml")" 'OK {"token":{"max_uses":100}}'
expect_fail "tokenroll refuses a repeated key" 'dup\.yaml:3:3: duplicate key "max_uses"' \
  "$T" policy yaml2json "$W/dup.yaml"

# ---- check: errors as FILE:LINE:COLUMN: message, exit 1 ----

bad() { # bad NAME YAML PATTERN
  printf '%b' "$2" > "$W/$1.yaml"
  expect_fail "check refuses $1" "^Error: $W/$1\\.yaml:$3" "$T" policy check "$W/$1.yaml"
}
bad unknown-key 'metadata:\n  project: x\napprovals: {}\n' '3:1: policy: unknown key "approvals"'
bad wrong-type 'token:\n  max_uses: "1"\n' '2:13: token\.max_uses: expected an integer'
bad bad-duration 'token:\n  validity: 7days\n' '2:13: token\.validity: "7days" is not a duration'
bad bad-glob 'site:\n  name_pattern: "hospital-[0-9"\n' '2:17: site\.name_pattern: .* not a valid glob'
bad bad-cidr-v4 'approval:\n  rules:\n    - action: approve\n      match: {source_ips: [10.0.0.0/33]}\n' '4:28: .*source_ips\[0\]: "10\.0\.0\.0/33" is not a CIDR'
bad bad-cidr-v6 'approval:\n  rules:\n    - action: approve\n      match: {source_ips: ["2001:db8:::/48"]}\n' '4:28: .*is not a CIDR'
bad missing-action 'approval:\n  rules:\n    - name: r1\n      match: {}\n' '3:7: approval\.rules\[0\] \("r1"\): missing action'
bad unknown-action 'approval:\n  rules:\n    - name: r1\n      action: allow\n' '4:15: .*unknown action "allow" \(expected approve, pending or reject\)'
bad default-role 'user:\n  allowed_roles: [lead]\n  default_role: member\n' '3:17: user\.default_role: "member" is not one of user\.allowed_roles \(lead\)'
bad syntax 'token: {validity: 7d\n' '2:1: '
expect_fail "a missing file is an error" "^Error: cannot read $W/none\\.yaml" "$T" policy check "$W/none.yaml"
expect_fail "check without FILE is a usage error" "usage: tokenroll policy check" "$T" policy check

# ---- eval ----

ev() { "$T" policy eval "$@" --json; }
same "hospital on the hospital network: approve" \
  "$(ev "$P/hospital_network.yaml" --name hospital-3 --ip 10.2.3.4)" \
  '{"action":"approve","rule":"hospital-internal","message":null}'
same "hospital elsewhere: pending, with the rule's message" \
  "$(ev "$P/hospital_network.yaml" --name hospital-3 --ip 203.0.113.9)" \
  '{"action":"pending","rule":"hospital-external","message":"Enrollment from outside the hospital network needs approval"}'
same "test site: first matching rule rejects" \
  "$(ev "$P/hospital_network.yaml" --name hospital-9-test --ip 10.2.3.4)" \
  '{"action":"reject","rule":"block-test-sites","message":"Test sites cannot enroll in the production federation"}'
same "other names: default deny" \
  "$(ev "$P/hospital_network.yaml" --name lab-1 --ip 10.2.3.4)" \
  '{"action":"reject","rule":"default-deny","message":"No matching rule found"}'
same "allow-list: IPv6 data center" \
  "$(ev "$P/ip_allowlist.yaml" --name node-7 --ip 2001:db8:100:5::1)" \
  '{"action":"approve","rule":"datacenter","message":null}'
same "allow-list: IPv4-mapped CGNAT address" \
  "$(ev "$P/ip_allowlist.yaml" --name node-7 --ip ::ffff:100.100.1.1)" \
  '{"action":"approve","rule":"cloud-workers","message":null}'
same "allow-list: unknown address rejected" \
  "$(ev "$P/ip_allowlist.yaml" --name node-7 --ip 198.51.100.1)" \
  '{"action":"reject","rule":"reject-others","message":"The source address is not on the enrollment allow-list"}'
same "manual approval: pending" \
  "$(ev "$P/manual_approval.yaml" --name anything)" \
  '{"action":"pending","rule":"manual-review","message":"Your enrollment request is waiting for the project administrator"}'
same "user role outside allowed_roles: role-constraint" \
  "$(ev default --name a@example.com --type admin --role researcher)" \
  '{"action":"reject","rule":"role-constraint","message":"Role is not in the policy'"'"'s user.allowed_roles"}'
same "roles are ignored for clients" \
  "$(ev default --name site-1 --type client --role researcher)" \
  '{"action":"approve","rule":"auto-approve-all","message":null}'
same "token roles claim: a role it does not grant" \
  "$(ev default --name a@example.com --type admin --role member --token-roles lead)" \
  '{"action":"reject","rule":"token-roles","message":"Role is not granted by the token (roles claim)"}'
same "token source_ips claim: outside" \
  "$(ev default --name site-1 --ip 192.168.1.1 --token-source-ips 10.0.0.0/8 2001:db8::/32)" \
  '{"action":"reject","rule":"token-source-ips","message":"Source address is not in the token'"'"'s source_ips"}'
same "token source_ips claim: inside" \
  "$(ev default --name site-1 --ip 2001:db8::7 --token-source-ips 10.0.0.0/8 2001:db8::/32)" \
  '{"action":"approve","rule":"auto-approve-all","message":null}'
same "eval --token uses the token's policy and roles (lead)" \
  "$(ev --token "$V/fixed_admin.jwt" --name admin@example.com --type admin)" \
  '{"action":"approve","rule":"auto-approve-all","message":null}'
same "eval --token: a role the token does not grant" \
  "$(ev --token "$V/fixed_admin.jwt" --name admin@example.com --type admin --role member)" \
  '{"action":"reject","rule":"token-roles","message":"Role is not granted by the token (roles claim)"}'
out=$("$T" policy eval "$P/flare_custom.yaml" --name hospital-1 --ip 172.16.4.4); rc=$?
same "text output: action, rule and message; exit 0" "$rc:$out" \
  "0:action: approve
rule: internal-auto-approve"
out=$("$T" policy eval "$P/hospital_network.yaml" --name nobody); rc=$?
same "a reject still exits 0" "$rc:${out%%$'\n'*}" "0:action: reject"
expect_fail "eval needs --name" "--name is required" "$T" policy eval default
expect_fail "eval refuses an unknown --type" "--type must be" "$T" policy eval default --name x --type pattern
expect_fail "eval refuses a bad --ip" "not an IPv4 or IPv6 address" "$T" policy eval default --name x --ip 10.0.0.256
"$T" policy eval default --name x --type nope >/dev/null 2>&1
same "usage errors exit 2" "$?" "2"
