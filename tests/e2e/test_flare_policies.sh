#!/usr/bin/env bash
# test_flare_policies.sh — FLARE's own example policies, unchanged
# (tests/vectors/flare/policies/), through the real binary: `policy check`
# accepts each, `policy eval` decides as the table written from their rules
# says (tests/vectors/policy/flare_decisions.tsv), `token generate`
# reproduces FLARE's three tokens byte for byte, ${NAME} environment
# references (set, unset, invalid once expanded, malformed, kept literal in
# the token), typos still refused, and no NUL in a policy string from
# either side (the fuzz regression seed).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FP="$V/policies"
ORACLE=("$PY" "$ROOT/tests/e2e/yaml_oracle.py")
JOSE=("$PY" "$ROOT/tests/e2e/jose.py")
# The variables FLARE's files reference: start from none of them set.
NOENV=(env -u SMTP_CONFIG_PATH -u SLACK_WEBHOOK_URL -u WEBHOOK_URL)
mkdir -p "$W/ca" && cp "$V/cert.json" "$W/ca/"
openssl x509 -in "$V/rootCA.pem" -pubkey -noout > "$W/ca/pub.pem"

# ---- policy check: every example, exit 0 ----

for f in "$FP"/*.yaml; do
  n=$(basename "$f")
  out=$("${NOENV[@]}" "$T" policy check "$f" 2>"$W/err"); rc=$?
  same "check accepts $n unchanged (exit 0)" "$rc" "0"
  case "$out" in
    *'"method": "'*) pass "check shows approval.method of $n" ;;
    *) fail "check shows approval.method of $n" "${out:0:300}" ;;
  esac
  if grep -qv '^Warning: ' "$W/err"; then fail "check of $n writes only warnings to stderr" "$(cat "$W/err")"
  else pass "check of $n writes only warnings to stderr"; fi
  same "claim of $n == PyYAML's json.dumps(yaml.safe_load())" \
    "OK $("$T" policy check "$f" --json-claim 2>/dev/null)" "$("${ORACLE[@]}" "$f")"
done
out=$("$T" policy check "$FP/manual_approval.yaml" 2>/dev/null)
case "$out" in *'"method": "manual"'*) pass "manual_approval: method manual shown" ;;
  *) fail "manual_approval: method manual shown" "${out:0:400}" ;; esac
case "$out" in *'"action": "pending"'*) pass "manual_approval: its rule says pending" ;;
  *) fail "manual_approval: its rule says pending" "${out:0:400}" ;; esac

# Unset references: one warning per value, with FILE:LINE:COLUMN.
"${NOENV[@]}" "$T" policy check "$FP/hospital_network.yaml" >/dev/null 2>"$W/err"
same "unset variables: a warning each, with file:line:column" "$(cat "$W/err")" \
"Warning: $FP/hospital_network.yaml:69:20: notifications.channels.email.smtp_config: \${SMTP_CONFIG_PATH} is not set in the environment; the service cannot use this value until it is
Warning: $FP/hospital_network.yaml:72:12: notifications.channels.webhook.url: \${SLACK_WEBHOOK_URL} is not set in the environment; the service cannot use this value until it is"

# Set and valid: no warning; set to something that is no URL: an error.
out=$(SMTP_CONFIG_PATH=/etc/flare/smtp.yaml SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B1/x \
  "$T" policy check "$FP/hospital_network.yaml" 2>&1 >/dev/null); rc=$?
same "set variables: no warning, exit 0" "$rc:$out" "0:"
expect_fail "a variable set to a non-URL fails like a literal one, at its position" \
  "^Error: $FP/ip_whitelist\\.yaml:83:12: notifications\\.channels\\.webhook\\.url: expands to \"ftp://x\", which is not an http:// or https:// URL" \
  env SMTP_CONFIG_PATH=/x WEBHOOK_URL=ftp://x "$T" policy check "$FP/ip_whitelist.yaml"
printf 'notifications:\n  channels:\n    webhook:\n      url: "ftp://h/x"\n' > "$W/lit.yaml"
expect_fail "the same URL written literally fails the same way" \
  "^Error: $W/lit\\.yaml:4:12: notifications\\.channels\\.webhook\\.url: \"ftp://h/x\" is not an http" \
  "$T" policy check "$W/lit.yaml"

# The claim a token carries: warnings without a position, exit 0.
out=$("${NOENV[@]}" "$T" policy check --token "$FP/fixed_ip_whitelist_dc-01.jwt" 2>&1 >/dev/null); rc=$?
same "check --token on FLARE's token: exit 0, the claim's references warned" "$rc:$(printf '%s\n' "$out" | head -1)" \
  "0:Warning: token policy claim: notifications.channels.email.smtp_config: \${SMTP_CONFIG_PATH} is not set in the environment; the service cannot use this value until it is"

# Malformed references: errors with FILE:LINE:COLUMN.
bad() { # bad NAME YAML PATTERN
  printf '%b' "$2" > "$W/$1.yaml"
  expect_fail "check refuses $1" "^Error: $W/$1\\.yaml:$3" "$T" policy check "$W/$1.yaml"
}
bad ref-unclosed 'notifications:\n  channels:\n    webhook:\n      url: "${SLACK_WEBHOOK_URL"\n' \
  '4:12: notifications\.channels\.webhook\.url: malformed environment reference "\$\{SLACK_WEBHOOK_URL": "\$\{" without a closing "\}"'
bad ref-empty 'notifications:\n  channels:\n    email:\n      smtp_config: "${}"\n' \
  '4:20: .*smtp_config: malformed environment reference "\$\{\}": the variable name is empty'
bad ref-name 'metadata:\n  description: "${9LIVES}"\n' '2:16: metadata\.description: malformed .*not starting with a digit'
bad ref-default 'approval:\n  rules:\n    - action: pending\n      notify: ["${ADMIN:-a@b.c}"]\n' \
  '4:16: approval\.rules\[0\]\.notify\[0\]: malformed .*no default values'
# A reference where nothing is expanded: text, with a warning.
printf 'site:\n  name_pattern: "${SITES}"\n' > "$W/noexp.yaml"
out=$(SITES='*' "$T" policy check "$W/noexp.yaml" 2>&1 >/dev/null); rc=$?
same "a reference outside the notification settings stays text (warning, exit 0)" "$rc:$out" \
  "0:Warning: $W/noexp.yaml:2:17: site.name_pattern: \${SITES} is not expanded here: the text is used as written (only the notification settings are expanded)"

# ---- typos and unknown keys stay errors ----

typo() { # typo NAME SED PATTERN
  sed "$2" "$FP/manual_approval.yaml" > "$W/$1.yaml"
  expect_fail "typo in FLARE's file: $1" "^Error: $W/$1\\.yaml:$3" "$T" policy check "$W/$1.yaml"
}
typo method-key 's/^  method: manual/  metod: manual/' '25:3: approval: unknown key "metod" \(expected method or rules\)'
typo method-value 's/^  method: manual/  method: manuel/' '25:11: approval\.method: unknown method "manuel" \(expected policy or manual\)'
typo section 's/^approval:/aproval:/' '24:1: policy: unknown key "aproval"'
typo smtp-key 's/smtp_config:/smtp_conf:/' '40:7: notifications\.channels\.email: unknown key "smtp_conf"'
typo action 's/action: pending/action: pend/' '30:15: .*unknown action "pend"'
typo validity 's/validity: 30d/validity: 30days/' '12:13: token\.validity: "30days" is not a duration'

# ---- decisions: the table written from each file's rules ----

n_rows=0
while IFS=$'\t' read -r pol name type ip role action rule msg; do
  case "$pol" in '#'*|'') continue ;; esac
  args=(--name "$name" --type "$type")
  [ "$ip" != "-" ] && args+=(--ip "$ip")
  [ "$role" != "-" ] && args+=(--role "$role")
  got=$("$T" policy eval "$FP/$pol.yaml" "${args[@]}" --json 2>&1)
  want="{\"action\":\"$action\",\"rule\":\"$rule\",\"message\":"
  if [ "$msg" = "*" ]; then ok=$([[ "$got" == "$want"* ]] && echo 1)
  elif [ "$msg" = "-" ]; then ok=$([ "$got" = "${want}null}" ] && echo 1)
  else ok=$([ "$got" = "${want}\"$msg\"}" ] && echo 1); fi
  label="$pol: $name ($type, ip $ip, role $role) -> $action $rule"
  if [ -n "$ok" ]; then pass "$label"; else fail "$label" "got: $got"; fi
  n_rows=$((n_rows + 1))
done < "$ROOT/tests/vectors/policy/flare_decisions.tsv"
[ "$n_rows" -ge 50 ] && pass "decision table: $n_rows rows" || fail "decision table: $n_rows rows"
same "eval --token uses the claim FLARE signed (manual approval: pending)" \
  "$("$T" policy eval --token "$FP/fixed_manual_approval_admin.jwt" --name researcher@lab.org --type admin --json)" \
  '{"action":"pending","rule":"require-approval","message":"Enrollment pending admin approval"}'

# ---- token generate: FLARE's three tokens, byte for byte ----

gen() { "$T" token generate -c "$W/ca" --issued-at 1767225600 "$@"; }
# Variables set to something else: the claim keeps the text as written.
export SMTP_CONFIG_PATH=/etc/smtp.yaml SLACK_WEBHOOK_URL=https://hooks.example.com/a WEBHOOK_URL=https://hooks.example.com/b
same "fixed_ip_whitelist_dc-01.jwt reproduced byte for byte" \
  "$(gen -s dc-01 -p "$FP/ip_whitelist.yaml" --jti 00000000-0000-4000-8000-000000000011)" \
  "$(cat "$FP/fixed_ip_whitelist_dc-01.jwt")"
same "fixed_hospital_network_hospital-7.jwt reproduced byte for byte" \
  "$(gen -s hospital-7 -p "$FP/hospital_network.yaml" --jti 00000000-0000-4000-8000-000000000012)" \
  "$(cat "$FP/fixed_hospital_network_hospital-7.jwt")"
same "fixed_manual_approval_admin.jwt reproduced byte for byte (--user -r researcher)" \
  "$(gen -s researcher@lab.org --user -r researcher -p "$FP/manual_approval.yaml" --jti 00000000-0000-4000-8000-000000000013)" \
  "$(cat "$FP/fixed_manual_approval_admin.jwt")"
unset SMTP_CONFIG_PATH SLACK_WEBHOOK_URL WEBHOOK_URL

# Fresh tokens from each file, checked by PyJWT with the CA's public key;
# each claim is PyYAML's reading of the file, ${...} as written.
for f in "$FP"/*.yaml; do
  n=$(basename "$f" .yaml)
  tok=$("$T" token generate -c "$W/ca" -s site-9 -p "$f")
  check "PyJWT verifies a token minted from $n.yaml" "${JOSE[@]}" verify RS256 "$W/ca/pub.pem" "$tok"
  printf '%s' "$tok" > "$W/$n.jwt"
  same "its policy claim == yaml.safe_load($n.yaml)" \
    "OK $("${ORACLE[@]}" --jwt-claim policy "$W/$n.jwt")" "$("${ORACLE[@]}" "$f")"
done
tok=$(WEBHOOK_URL=https://secret.example.com "$T" token generate -c "$W/ca" -s dc-9 -p "$FP/ip_whitelist.yaml")
claim=$("${JOSE[@]}" verify RS256 "$W/ca/pub.pem" "$tok")
case "$claim" in
  *'"url":"${WEBHOOK_URL}"'*) case "$claim" in *secret.example.com*) fail "token claim keeps \${WEBHOOK_URL} literal" "$claim" ;;
                               *) pass "token claim keeps \${WEBHOOK_URL} literal" ;; esac ;;
  *) fail "token claim keeps \${WEBHOOK_URL} literal" "${claim:0:400}" ;;
esac
expect_fail "a malformed reference stops token generate (nothing printed)" \
  "^Error: $W/ref-unclosed\\.yaml:4:12: " "$T" token generate -c "$W/ca" -s site-1 -p "$W/ref-unclosed.yaml"

# ---- NUL: never in a policy string, YAML or JSON ----

seed="$ROOT/fuzz/corpus/policy/regress-nul_roundtrip.yaml"
expect_fail "a YAML \"\\0\" in a policy string is an error at its position (fuzz seed)" \
  "^Error: $seed:13:23: notifications\\.channels\\.email\\.smtp_config\\.from_address: the string value holds a NUL character" \
  "$T" policy check "$seed"
"$T" token generate -c "$W/ca" -s site-1 -p "$seed" -o "$W/nul.jwt" >/dev/null 2>&1
same "token generate refuses it and writes nothing" "$?:$([ -e "$W/nul.jwt" ] && echo written)" "1:"
same "yaml2json keeps it, as PyYAML does" "OK $("$T" policy yaml2json "$seed")" "$("${ORACLE[@]}" "$seed")"
# The JSON side: a claim holding \u0000 (unsigned: check --token does not verify).
b64() { "$PY" -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).rstrip(b"=").decode())' "$1"; }
nul_tok="$(b64 '{"alg":"RS256","typ":"JWT"}').$(b64 '{"sub":"s","policy":{"metadata":{"description":"a\u0000b"}}}').AAAA"
expect_fail "a claim holding \\u0000 is refused too, with its member path" \
  '^Error: token policy claim: metadata\.description: the string holds \\u0000 \(NUL\)' \
  "$T" policy check --token "$nul_tok"
