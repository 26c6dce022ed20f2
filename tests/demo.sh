#!/usr/bin/env bash
# make demo: the whole flow on this machine, in a temporary folder:
# provision a root CA, start the certificate service on 127.0.0.1 (SQLite),
# mint a token, build a generic startup kit, enroll the device from the kit
# with its start.sh, show and verify its certificate; then a request held
# for approval and approved by the admin while the device waits; stop the
# service.
set -euo pipefail
B=${1:-build}
T="$(cd "$(dirname "$0")/.." && pwd)/$B/tokenroll"
d=$(mktemp -d "${TMPDIR:-/tmp}/tokenroll-demo.XXXXXX")
svc=
trap '[ -n "$svc" ] && kill "$svc" 2>/dev/null; rm -rf "$d"' EXIT
cd "$d"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

echo "tokenroll demo in $d"
cat > project.yml <<'YML'
api_version: 3
name: demo_project
description: token-based enrollment demo
participants:
  - name: localhost
    type: server
    org: Demo
    fed_learn_port: 8002
    admin_port: 8003
  - name: admin@example.com
    type: admin
    org: Demo
    role: project_admin
YML
run cat project.yml
run "$T" provision -p project.yml -w workspace
export NVFLARE_CA_PATH="$d/workspace/demo_project"
say "export NVFLARE_CA_PATH=$NVFLARE_CA_PATH"
run "$T" token generate -s hospital-1 -o hospital-1.token
run "$T" token info -t hospital-1.token
run "$T" jwt verify hospital-1.token --key workspace/demo_project/prod_00/localhost/startup/rootCA.pem \
    --iss demo_project --sub hospital-1 --require jti,iat,exp
run "$T" policy eval default --name hospital-1 --type client

# The certificate service, on loopback, with a fresh admin API key.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export NVFLARE_CERT_SERVICE_URL=https://localhost:$port
export NVFLARE_API_KEY=$("$T" cert api-key)
say "$T serve --ca-path \$NVFLARE_CA_PATH --db sqlite:service.db --listen 127.0.0.1:$port --api-key \$NVFLARE_API_KEY &"
"$T" serve --ca-path "$NVFLARE_CA_PATH" --db "sqlite:$d/service.db" --listen "127.0.0.1:$port" \
    --api-key "$NVFLARE_API_KEY" >service.log 2>&1 &
svc=$!
for _ in $(seq 50); do grep -q "listening on" service.log && break; sleep 0.1; done
cat service.log

run "$T" package -n hospital-1 -e grpc://localhost:8002 --token hospital-1.token \
    -c "$NVFLARE_CA_PATH" --cert-service "$NVFLARE_CERT_SERVICE_URL" -o hospital-1-kit
run ls -l hospital-1-kit/startup
run cat hospital-1-kit/startup/start.sh

# On the device: its start.sh enrolls it.
say "PATH=$(dirname "$T"):\$PATH hospital-1-kit/startup/start.sh"
PATH="$(dirname "$T"):$PATH" hospital-1-kit/startup/start.sh
run ls -l hospital-1-kit/startup
run openssl x509 -in hospital-1-kit/startup/client.crt -noout -subject -issuer -dates -fingerprint -sha256
run openssl verify -CAfile hospital-1-kit/startup/rootCA.pem hospital-1-kit/startup/client.crt
say "PATH=$(dirname "$T"):\$PATH hospital-1-kit/startup/start.sh    # again: nothing to do"
PATH="$(dirname "$T"):$PATH" hospital-1-kit/startup/start.sh

# A site whose policy holds every request for an administrator.
cat > manual.yaml <<'YML'
approval:
  method: manual
  rules:
    - name: review-everyone
      match: {}
      action: pending
      message: "an administrator reviews every new site"
YML
run cat manual.yaml
run "$T" token generate -s hospital-2 -p manual.yaml -o hospital-2.token
run "$T" package -n hospital-2 -e grpc://localhost:8002 --token hospital-2.token \
    -c "$NVFLARE_CA_PATH" --cert-service "$NVFLARE_CERT_SERVICE_URL" -o hospital-2-kit
say "PATH=$(dirname "$T"):\$PATH hospital-2-kit/startup/start.sh --wait 8 &"
PATH="$(dirname "$T"):$PATH" hospital-2-kit/startup/start.sh --wait 8 &
device=$!
for _ in $(seq 50); do "$T" enrollment list 2>/dev/null | grep -q '^hospital-2 ' && break; sleep 0.2; done
run "$T" enrollment list
run "$T" enrollment approve hospital-2
say "wait for the device"
wait "$device"
run openssl verify -CAfile hospital-2-kit/startup/rootCA.pem hospital-2-kit/startup/client.crt
run "$T" enrollment enrolled

say "stop the service"
kill "$svc"; wait "$svc" 2>/dev/null || true; svc=
echo
echo "demo finished: CA provisioned, service started, token minted, kit built, device enrolled"
echo "and verified, a held request approved while its device waited, service stopped."
