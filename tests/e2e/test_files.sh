#!/usr/bin/env bash
# Files, paths and bad input: every command that writes, pointed at devices,
# links, FIFOs, over-long paths, a closed or full stdout; package's token,
# endpoint and names; interrupted provisioning; validity bounds; escaping of
# hostile claims; CSV quoting. Runs under the ASan build too (make check-asan).
. "$(dirname "$0")/lib.sh"
cd "$W"
unset NVFLARE_CA_PATH NVFLARE_ENROLLMENT_POLICY NVFLARE_CERT_SERVICE_URL NVFLARE_API_KEY
A=$(head -c 2500 /dev/zero | tr '\0' a)

# A CA (EC: fast) made by openssl, valid 30 days, and an RSA signing key.
mkdir ca && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca/rootCA.key 2>/dev/null
openssl req -x509 -new -key ca/rootCA.key -subj "/CN=files-ca" -days 30 -out ca/rootCA.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
tok=$("$T" token generate -s site-1 -c ca)
echo "$tok" > tok.jwt
SERVER='  - name: s.example.com\n    type: server\n    org: o\n    fed_learn_port: 8002\n    admin_port: 8003\n'
printf "api_version: 3\nname: p\nparticipants:\n$SERVER" > p.yml

# --- every writing command, -o at a device, a link, a FIFO, a long path
check_outputs file "token generate" "$T" token generate -s site-1 -c ca -o @OUT@
check_outputs file "token batch" "$T" token batch -n 3 -c ca -o @OUT@
check_outputs dir "package -o" "$T" package -n site-1 -e grpc://h:1 -o @OUT@
check_outputs dir "provision -w" "$T" provision -p p.yml --key-type ec -w @OUT@
check "token generate -o - is standard output" bash -c '"$0" token generate -s site-1 -c ca -o - | grep -q "^eyJ"' "$T"
# A link of our own made like /dev/stdout: a broken build must not be able
# to replace the machine's /dev/stdout while testing this.
ln -s /proc/self/fd/1 stdout-link
check "token generate -o a /dev/stdout-like link writes through it to the pipe" bash -c '"$0" token generate -s site-1 -c ca -o stdout-link | grep -q "^eyJ"' "$T"
[ -L stdout-link ] && pass "the link is still a link" || fail "the link is still a link"
expect_fail "-o a /dev/stdout-like link when stdout is a regular file is refused" "symbolic link: refusing.*-o - for standard output" \
  bash -c '"$0" token batch -n 2 -c ca -o stdout-link > "$1"' "$T" "$W/redir.txt"
[ -L stdout-link ] && pass "... and the link is kept" || fail "... and the link is kept"
check "token batch -o - is standard output" bash -c '"$0" token batch -n 2 -c ca -o - | grep -c "^client-00[12]: eyJ" | grep -q 2' "$T"

# --- standard output closed or full, for every command that prints
check_stdout "token generate" "$T" token generate -s site-1 -c ca
check_stdout "token generate -o -" "$T" token generate -s site-1 -c ca -o -
check_stdout "token batch -o -" "$T" token batch -n 2 -c ca -o -
check_stdout "token info" "$T" token info -t tok.jwt
check_stdout "token info --json" "$T" token info -t tok.jwt --json
check_stdout "jwt inspect" "$T" jwt inspect tok.jwt
check_stdout "jwt inspect --json" "$T" jwt inspect tok.jwt --json
check_stdout "jwt verify" "$T" jwt verify tok.jwt --key ca/rootCA.pem
check_stdout "jwt verify --json" "$T" jwt verify tok.jwt --key ca/rootCA.pem --json
check_stdout "jwt sign" "$T" jwt sign --key ec.pem '{"sub":"x"}'
check_stdout "policy yaml2json" "$T" policy yaml2json p.yml
check_stdout "policy check" "$T" policy check default
fresh_pkg() { rm -rf "$W/kit"; "$T" package -n site-1 -e grpc://h:1 -o "$W/kit"; }
check_stdout "package" fresh_pkg
check_stdout "provision" "$T" provision -p p.yml --key-type ec -w ws-out
out=$("$T" token generate -s site-1 -c ca -o kept.jwt 2>&1 >&-); rc=$?
[ $rc -eq 0 ] && [ -s kept.jwt ] && ! grep -q . <(printf '%s' "$out" | grep -v "saved to") \
  && pass "stdout closed does not steal -o's file descriptor" || fail "stdout closed does not steal -o's file descriptor" "exit $rc: $out"

# --- existing files: --force, and never the CA's own files
echo OLD > old.jwt
expect_fail "an existing -o file needs --force" "old.jwt already exists: use --force" "$T" token generate -s site-1 -c ca -o old.jwt
same "the refused file is unchanged" "$(cat old.jwt)" "OLD"
check "--force replaces it" "$T" token generate -s site-1 -c ca -o old.jwt --force
grep -q '^eyJ' old.jwt && pass "--force wrote the token" || fail "--force wrote the token"
same "--force keeps mode 0600" "$(stat -c %a old.jwt)" "600"
cp ca/rootCA.pem ca.bak
expect_fail "never over the CA's rootCA.pem, even with --force" "root CA's own file" "$T" token generate -s site-1 -c ca -o ca/rootCA.pem --force
expect_fail "never over the CA's rootCA.key" "root CA's own file" "$T" token batch -n 2 -c ca -o ca/rootCA.key --force
cmp -s ca.bak ca/rootCA.pem && pass "the CA is unchanged" || fail "the CA is unchanged"
"$T" provision -p p.yml --key-type ec -w ws >/dev/null
expect_fail "never over state/cert.json" "root CA's own file" "$T" token generate -s site-1 -c ws/p -o ws/p/state/cert.json --force
"$PY" -c 'import json; json.load(open("ws/p/state/cert.json"))["root_pri_key"]' && pass "cert.json still holds the CA" || fail "cert.json still holds the CA"
expect_fail "-o into a missing folder names the path and errno" "cannot write $W/nodir/x.jwt: No such file or directory" \
  "$T" token generate -s site-1 -c ca -o "$W/nodir/x.jwt"
expect_fail "-o a directory" "cannot write ca: Is a directory" "$T" token generate -s site-1 -c ca -o ca
start=$(date +%s)
expect_fail "batch checks its output before signing 1,000,000 tokens" "cannot write $W/nodir/t.csv: No such file" \
  timeout 60 "$T" token batch -n 1000000 -c ca -o "$W/nodir/t.csv"
[ $(( $(date +%s) - start )) -lt 30 ] && pass "... and fails at once" || fail "... and fails at once"

# --- package: long arguments (stack overflow under ASan before), names, endpoints
expect_fail "package --org of 2,500 characters" "--org must be 1..64 characters" "$T" package -n x -e grpc://h:1 --org "$A" -o k1
expect_fail "package --role of 2,500 characters" "--role must be 1..64 characters" "$T" package -n x -t admin -e grpc://h:1 --role "$A" -o k2
expect_fail "package -n of 2,500 characters" "-n/--name must be 1..255 characters" "$T" package -n "$A" -e grpc://h:1 -o k3
expect_fail "package -n of 255 characters (a too long temporary name)" "File name too long" "$T" package -n "${A:0:255}" -e grpc://h:1
[ -z "$(ls -A | grep -E '^(k[123]|\.a+\.tmp)')" ] && pass "failed packages leave nothing" || fail "failed packages leave nothing" "$(ls -A)"
expect_fail "a name with a newline" "control or non-ASCII" "$T" package -n "$(printf 'a\nb')" -e grpc://h:1
expect_fail "a name with ESC" "control or non-ASCII" "$T" package -n "$(printf 'a\033[2Jb')" -e grpc://h:1
expect_fail "a name starting with '-'" "starts with '-'" "$T" package --name=-rf -e grpc://h:1
expect_fail "an org with a quote" "not allowed" "$T" package -n ok --org 'a"b' -e grpc://h:1
expect_fail "endpoint port with a space" "invalid endpoint" "$T" package -n a -e 'grpc://h: 1'
expect_fail "endpoint port with a plus" "invalid endpoint" "$T" package -n a -e 'grpc://h:+1'
expect_fail "endpoint admin port with a plus" "invalid endpoint" "$T" package -n a -e 'grpc://h:1:+2'
expect_fail "endpoint host starting with '-'" "invalid endpoint" "$T" package -n a -e 'grpc://-h:1'
expect_fail "endpoint host with a colon, not bracketed" "invalid endpoint" "$T" package -n a -e 'grpc://::1:8002'
expect_fail "endpoint host with ESC" "invalid endpoint" "$T" package -n a -e "$(printf 'grpc://h\033:1')"
expect_fail "--listening_port +1" "--listening_port must be 1..65535" "$T" package -n a -t relay -e grpc://h:1 --listening_port +1
expect_fail "-p is refused, not ignored" "-p/--project_file is not supported by package" "$T" package -n a -e grpc://h:1 -p p.yml
"$T" package --help | grep -q -- "-p, --project_file" && pass "package --help says what -p does" || fail "package --help says what -p does"
check "IPv6 endpoint" "$T" package -n s6 -e 'grpc://[::1]:8002' -o s6
"$PY" -c 'import json; d=json.load(open("s6/startup/fed_client.json")); assert d["overseer_agent"]["args"]["sp_end_point"]=="[::1]:8002:8002" and d["servers"][0]["identity"]=="::1", d' \
  && pass "an IPv6 endpoint keeps its brackets" || fail "an IPv6 endpoint keeps its brackets" "$(cat s6/startup/fed_client.json)"
grep -q 'grpc://\[::1\]:8002' s6/readme.txt && pass "readme shows the bracketed endpoint" || fail "readme shows the bracketed endpoint"

# --- package --token: one enrollment token for this participant
expect_fail "--token cert.json (the CA's key) is refused" "not one enrollment token" "$T" package -n site-1 -e grpc://h:1 --token ws/p/state/cert.json -o t1
"$T" token batch -n 2 -c ca -o two.csv 2>/dev/null
expect_fail "--token a whole tokens.csv is refused" "not one enrollment token" "$T" package -n client-001 -e grpc://h:1 --token two.csv -o t2
expect_fail "--token /etc/passwd is refused" "not one enrollment token" "$T" package -n site-1 -e grpc://h:1 --token /etc/passwd -o t3
expect_fail "a mistyped --token file name" "no such file" "$T" package -n site-1 -e grpc://h:1 --token tok.jtw -o t4
expect_fail "--token for another site" 'is for "site-1", not for "site-2"' "$T" package -n site-2 -e grpc://h:1 --token tok.jwt -o t5
expect_fail "--token of another type" "is a client token, but this is a relay kit" "$T" package -n site-1 -t relay -e grpc://h:1 --token tok.jwt -o t6
"$T" jwt sign --key ec.pem '{"jti":"j","sub":"x"}' > plain.jwt
expect_fail "--token a JWT that is no enrollment token" "not an enrollment token" "$T" package -n x -e grpc://h:1 --token plain.jwt -o t7
[ -z "$(ls -d t[1-7] 2>/dev/null)" ] && pass "refused tokens make no kit" || fail "refused tokens make no kit"
"$T" token generate -s 'hospital-*' -t pattern -c ca > pat.jwt
check "a pattern token fits a client kit whose name it matches" "$T" package -n hospital-3 -e grpc://h:1 --token pat.jwt -o t8
expect_fail "a pattern token does not fit a name it does not match" 'is for "hospital-\*"' "$T" package -n clinic-3 -e grpc://h:1 --token pat.jwt -o t9
"$T" token generate -s site-1 -c ca --issued-at 1000000000 -v 1d > old.jwt.txt
out=$("$T" package -n site-1 -e grpc://h:1 --token old.jwt.txt -o t10 2>&1); rc=$?
[ $rc -eq 0 ] && printf '%s' "$out" | grep -q "Warning: the token expired at 2001-09-10" \
  && pass "an expired token is packaged with a warning" || fail "an expired token is packaged with a warning" "exit $rc: $out"

# --- long paths: a temp name never truncated, a parent never deleted
p="$W/deep"
while [ ${#p} -lt 1299 ]; do n=$((1299 - ${#p} - 1)); [ $n -gt 200 ] && n=200; p="$p/$(head -c $n /dev/zero | tr '\0' d)"; done
mkdir -p "$p" && echo keep > "$p/marker"
check "package into a parent of exactly 1,299 characters" "$T" package -n x -e grpc://h:1 -o "$p/kit"
[ -f "$p/marker" ] && [ -f "$p/kit/startup/fed_client.json" ] && pass "the parent folder and its files are kept" || fail "the parent folder and its files are kept"
long_name=$(head -c 2000 /dev/zero | tr '\0' n)
printf "api_version: 3\nname: lp\nparticipants:\n$SERVER  - name: %s\n    type: client\n    org: o\n" "$long_name" > long.yml
existed=0; [ -e /startup ] && existed=1
expect_fail "provision with a 2,000-character participant name" "File name too long" "$T" provision -p long.yml --key-type ec -w wl
[ $existed = 1 ] || [ ! -e /startup ] && pass "nothing is created at the filesystem root" || fail "nothing is created at the filesystem root"
[ -z "$(ls -A wl/lp | grep -v '^state$')" ] && pass "the failed provision leaves no kit folder" || fail "the failed provision leaves no kit folder" "$(ls -A wl/lp)"

# --- interrupted provision: cleaned up; a dead run's leftovers refused
big=$(printf "api_version: 3\nname: big\nparticipants:\n$SERVER"; for i in $(seq 1 40); do printf '  - name: site-%d\n    type: client\n    org: o\n' $i; done)
printf '%s\n' "$big" > big.yml
for sig in INT TERM; do
  "$T" provision -p big.yml -w wsig-$sig >/dev/null 2>sig.err & pid=$!
  for _ in $(seq 1 100); do ls -A wsig-$sig/big 2>/dev/null | grep -q '^\.prod_00\.tmp\.' && break; sleep 0.05; done
  kill -$sig $pid; wait $pid; rc=$?
  left=$(ls -A wsig-$sig/big 2>/dev/null | grep -E '^\.?prod_')
  [ $rc -ne 0 ] && [ -z "$left" ] && grep -q "interrupted by signal" sig.err \
    && pass "SIG$sig during provision removes the unfinished kits" || fail "SIG$sig during provision removes the unfinished kits" "exit $rc, left: $left $(cat sig.err)"
done
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p ws/p/.prod_01.tmp.$dead/site-1/startup && echo KEY > ws/p/.prod_01.tmp.$dead/site-1/startup/client.key
expect_fail "a dead run's leftovers are refused, with how to remove them" "left by an interrupted run \(process $dead is gone\).*rm -rf" \
  "$T" provision -p p.yml --key-type ec -w ws
rm -rf ws/p/.prod_01.tmp.$dead
mkdir .kitx.tmp.$dead
expect_fail "package refuses a dead run's leftover beside its target" "left by an interrupted run" "$T" package -n kitx -e grpc://h:1
rm -rf .kitx.tmp.$dead

# --- validity: at most 10 years, and not past the CA's expiry
expect_fail "-v 99999999999w" "at most 10 years|-v must be a duration" "$T" token generate -s site-1 -c ws/p -v 99999999999w
expect_fail "-v 3660d (over 10 years)" "-v/--validity must be at most 10 years" "$T" token generate -s site-1 -c ws/p -v 3660d
expect_fail "-v past the CA's expiry" "-v/--validity would outlast the root CA" "$T" token generate -s site-1 -c ca -v 60d
expect_fail "batch -v past the CA's expiry" "would outlast the root CA" "$T" token batch -n 2 -c ca -v 60d -o never.csv
printf 'token:\n  validity: 5000d\n' > longpol.yaml
expect_fail "a policy's token.validity over 10 years" "the policy's token.validity must be at most 10 years" "$T" token generate -s site-1 -c ws/p -p longpol.yaml
check "-v 3650d with a 10-year CA" "$T" token generate -s site-1 -c ws/p -v 3000d

# --- a batch that fails prints one message, not one per worker
printf 'metadata:\n  description: "%s"\n' "$(head -c 15000 /dev/zero | tr '\0' d)" > hugepol.yaml
out=$("$T" token batch -n 64 -c ca -p hugepol.yaml -o huge.csv 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | grep -c '^Error: ')" = 1 ] && printf '%s' "$out" | grep -q "would exceed 16384 bytes" && [ ! -e huge.csv ] \
  && pass "a failing batch prints one Error line and writes nothing" || fail "a failing batch prints one Error line and writes nothing" "exit $rc: $(printf '%s' "$out" | head -c 400)"

# --- errors name their cause
expect_fail "-c at the workspace names the project folder to use" "it is a workspace; -c wants the project folder inside it, <workspace>/<project name>: -c ws/p" \
  "$T" token generate -s site-1 -c ws
expect_fail "token info -t nosuch.jwt" "cannot read token nosuch.jwt: no such file" "$T" token info -t nosuch.jwt
chmod 755 "$W"; mkdir -m 755 pub; cp tok.jwt pub/secret.jwt; chmod 000 pub/secret.jwt
if [ "$(id -u)" = 0 ]; then
  expect_fail "an unreadable token file" "cannot read token pub/secret.jwt: Permission denied" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$T" token info -t pub/secret.jwt
else
  expect_fail "an unreadable token file" "cannot read token pub/secret.jwt: Permission denied" "$T" token info -t pub/secret.jwt
fi

# --- hostile claims are escaped, JSON stays JSON
"$T" jwt sign --key ec.pem '{"jti":"\u001b]0;PWNED\u0007\u001b[2J","sub":"a\u009bb\u007f","subject_type":"client","iss":"x\u001b[31m"}' > evil.jwt
for cmd in "token info -t evil.jwt" "jwt inspect evil.jwt" "jwt inspect --json evil.jwt" "token info --json -t evil.jwt"; do
  out=$($T $cmd 2>&1)
  if printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'; then fail "$cmd prints no raw control character" "$(printf '%s' "$out" | od -c | head -5)"
  else pass "$cmd prints no raw control character"; fi
done
$T token info -t evil.jwt | grep -qF 'token_id: \u001b]0;PWNED\u0007\u001b[2J' && pass "token info shows them as \\u001b" || fail "token info shows them as \\u001b"
$T jwt inspect evil.jwt | grep -qF 'sub: a\u009bb\u007f' && pass "C1 and DEL are escaped too" || fail "C1 and DEL are escaped too"
$T jwt inspect --json evil.jwt | "$PY" -c 'import json,sys; c=json.load(sys.stdin)["claims"]; assert c["sub"]=="a\x9bb\x7f", c' \
  && pass "jwt inspect --json stays valid JSON with the same values" || fail "jwt inspect --json stays valid JSON with the same values"

# --- token info --json of any size (ten roles of 290 emoji: 34 KiB once escaped)
"$PY" -c 'import json; print(json.dumps({"jti":"j","sub":"s","subject_type":"admin","roles":["\U0001F600"*290]*10}, ensure_ascii=False, separators=(",",":")))' > big.json
"$T" jwt sign --key ec.pem big.json > big.jwt
out=$("$T" token info --json -t big.jwt); rc=$?
[ $rc -eq 0 ] && "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d["roles"])==10 and len(sys.argv[1])>32768' "$out" \
  && pass "token info --json prints a 34 KiB document" || fail "token info --json prints a 34 KiB document" "exit $rc, ${#out} bytes"

# --- CSV per RFC 4180
"$T" token batch --names 'x,y' 'q"z' plain -c ca -o q.csv 2>/dev/null
"$PY" - q.csv <<'PYEOF' && pass "batch CSV quotes names with commas and quotes (RFC 4180)" || fail "batch CSV quotes names with commas and quotes (RFC 4180)" "$(cat q.csv | cut -c1-60)"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["name", "token"], rows[0]
assert [r[0] for r in rows[1:]] == ["x,y", 'q"z', "plain"], rows
assert all(len(r) == 2 and r[1].startswith("eyJ") for r in rows[1:]), rows
PYEOF
grep -q '^plain,eyJ' q.csv && pass "plain fields stay unquoted" || fail "plain fields stay unquoted"
out=$("$T" token info -t "$(sed -n 4p q.csv | cut -d, -f2)" --json) \
  && "$PY" -c 'import json,sys; assert json.loads(sys.argv[1])["subject"]=="plain"' "$out" \
  && pass "the README's token info example (a CSV row's token) works" || fail "the README's token info example (a CSV row's token) works" "$out"
expect_fail "token info -t a whole tokens.csv says it is not one JWT" "not a valid JWT" "$T" token info -t q.csv

# --- small RSA keys, help texts
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem 2>/dev/null
expect_fail "jwt sign with RSA-1024 says the key is too small" "too small: 1024 bits, RS256 needs at least 2048" "$T" jwt sign --key rsa1024.pem '{"sub":"x"}'
"$T" jwt verify --help | grep -q -- "--json  *print" && pass "jwt verify --help describes --json" || fail "jwt verify --help describes --json"
