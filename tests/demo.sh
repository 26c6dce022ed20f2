#!/usr/bin/env bash
# make demo: the admin side of tokenroll on this machine, in a temporary
# folder: provision a root CA, mint an enrollment token, look into it and
# verify it, and build a generic startup kit for the site.
set -euo pipefail
B=${1:-build}
T="$(cd "$(dirname "$0")/.." && pwd)/$B/tokenroll"
d=$(mktemp -d "${TMPDIR:-/tmp}/tokenroll-demo.XXXXXX")
trap 'rm -rf "$d"' EXIT
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
run "$T" package -n hospital-1 -e grpc://localhost:8002 --token hospital-1.token \
    -c "$NVFLARE_CA_PATH" -o hospital-1-kit
run ls -l hospital-1-kit/startup
echo
echo "demo finished: root CA provisioned, token minted, verified against the CA, kit built."
