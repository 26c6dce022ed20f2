#!/usr/bin/python3
"""A stand-in for FLARE's own certificate service, for the tests.

  flare_service.py CERT_JSON LOG_DIR [--tls CERT KEY]

FLARE's token enrollment service exists only as a closed draft, so this
plays its part of the enrollment API as tests/vectors/flare/README.md
describes the draft's routes.py, and nothing more (Flask + PyJWT +
cryptography: Debian python3-flask, python3-jwt, python3-cryptography).

  POST /api/v1/enroll  {"token", "csr", "metadata": {"name", "type", "org", "role"}}
    400 {"error"}  not JSON (request.get_json: Content-Type must say JSON),
                   a member missing or unknown, token/csr/metadata.name not
                   a non-empty string, an invalid type or role, a CSR that
                   does not parse or is not self-signed
    409 {"error": "... already enrolled"}  checked BEFORE the token
    401 {"error"}  the token's RS256 signature (the CA's public key) or
                   expiry
    403 {"error"}  the token names someone else, or its policy rejects
    202 {"status": "pending", "message"}  the token's policy holds it for
                   manual approval (no request_id, no Retry-After)
    200 {"certificate", "ca_cert"}  approved, also a pending request an
                   admin approved since (signed from its first CSR)

The decision is the token's own `policy` claim: the first approval rule
whose match holds (site_name_pattern, an fnmatch glob; source_ips against
the peer's address; an empty match holds always), its action approve /
pending / reject and message; no rule matching rejects.

The certificate is FLARE's profile, as the draft's service issued
flare_signed_site-1.crt: subject CN=name then O=org (when given), issuer
the root's subject, one year from now, a random serial, SHA-256, and only
SubjectKeyIdentifier, AuthorityKeyIdentifier (key id) and a DNS SAN for
the name: no basicConstraints, keyUsage or extendedKeyUsage.

For the tests only:
  POST /test/approve/<name>, POST /test/reject/<name>   decide a pending
                   request (404 when there is none)
Every /api/v1/enroll request is appended to LOG_DIR/requests.log as one
JSON line {"content_type", "body"} (the raw body), and its answer's
status to LOG_DIR/statuses.log, so the tests can see what a client sent.
It prints "listening on HOST:PORT" once it accepts connections (port 0:
a free one, chosen by the system).
"""
import datetime
import fnmatch
import ipaddress
import json
import os
import sys
import threading

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

TYPES = ("client", "server", "relay", "admin")
# The roles FLARE's documents, the draft's built-in policy and the example
# policies name.
ROLES = ("project_admin", "org_admin", "lead", "member", "researcher",
         "clinician", "data_admin", "data_scientist")
REQUEST_KEYS = {"token", "csr", "metadata"}
METADATA_KEYS = {"name", "type", "org", "role"}

app = Flask(__name__)
lock = threading.Lock()
enrolled = {}   # name -> certificate PEM
pending = {}    # name -> {"status", "csr", "org", "message"}
ca = {}
log_dir = "."


def error(status, message):
    return jsonify({"error": message}), status


def log(name, line):
    with open(os.path.join(log_dir, name), "a", encoding="utf-8") as f:
        f.write(line + "\n")


def sign(csr, name, org):
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if org:
        subject.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    root = ca["cert"]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(root.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca["key"], hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def issued(name, pem):
    enrolled[name] = pem
    pending.pop(name, None)
    return jsonify({"certificate": pem, "ca_cert": ca["pem"]}), 200


def decide(policy, name, peer):
    """The first rule whose match holds: (action, message)."""
    rules = ((policy or {}).get("approval") or {}).get("rules") or []
    for rule in rules:
        match = rule.get("match") or {}
        pattern = match.get("site_name_pattern")
        if pattern is not None and not fnmatch.fnmatchcase(name, pattern):
            continue
        nets = match.get("source_ips")
        if nets is not None and not any(ipaddress.ip_address(peer) in ipaddress.ip_network(n, strict=False)
                                        for n in nets):
            continue
        return rule.get("action", "reject"), rule.get("message") or ""
    return "reject", "no approval rule matches"


@app.post("/api/v1/enroll")
def enroll():
    raw = request.get_data(cache=True, as_text=True)
    log("requests.log", json.dumps({"content_type": request.content_type, "body": raw}))
    resp = answer()
    log("statuses.log", str(resp[1]))
    return resp


def answer():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "request body must be JSON (Content-Type: application/json)")
    if set(body) != REQUEST_KEYS:
        return error(400, "request must have exactly token, csr and metadata")
    md = body["metadata"]
    if not isinstance(md, dict) or set(md) != METADATA_KEYS:
        return error(400, "metadata must have exactly name, type, org and role")
    token, csr_pem, name = body["token"], body["csr"], md["name"]
    for k, v in (("token", token), ("csr", csr_pem), ("metadata.name", name)):
        if not isinstance(v, str) or not v:
            return error(400, "missing required field: " + k)
    if md["type"] not in TYPES:
        return error(400, "invalid type: %r" % (md["type"],))
    if md["role"] is not None and md["role"] not in ROLES:
        return error(400, "invalid role: %r" % (md["role"],))
    if md["org"] is not None and not isinstance(md["org"], str):
        return error(400, "invalid org")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as e:
        return error(400, "invalid CSR: %s" % e)
    if not csr.is_signature_valid:
        return error(400, "invalid CSR: bad signature")
    with lock:
        if name in enrolled:
            return error(409, "%s is already enrolled" % name)
        try:
            claims = jwt.decode(token, ca["public"], algorithms=["RS256"],
                                options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            return error(401, "Token has expired")
        except jwt.InvalidTokenError as e:
            return error(401, "Invalid token: %s" % e)
        sub = claims["sub"]
        if not (sub == name or (claims.get("subject_type") == "pattern" and fnmatch.fnmatchcase(name, sub))):
            return error(403, "token is not for %s" % name)
        held = pending.get(name)
        if held is not None:
            if held["status"] == "approved":
                return issued(name, sign(held["csr"], name, held["org"]))
            if held["status"] == "rejected":
                return error(403, "enrollment request for %s was rejected" % name)
            return jsonify({"status": "pending", "message": held["message"]}), 202
        action, message = decide(claims.get("policy"), name, request.remote_addr)
        if action == "approve":
            return issued(name, sign(csr, name, md["org"]))
        if action == "pending":
            message = message or "Enrollment request pending approval"
            pending[name] = {"status": "pending", "csr": csr, "org": md["org"], "message": message}
            return jsonify({"status": "pending", "message": message}), 202
        return error(403, "Enrollment rejected: " + message)


@app.post("/test/<verdict>/<name>")
def admin(verdict, name):
    with lock:
        held = pending.get(name)
        if verdict not in ("approve", "reject") or held is None or held["status"] != "pending":
            return error(404, "no pending request for %s" % name)
        held["status"] = "approved" if verdict == "approve" else "rejected"
    return jsonify({"name": name, "status": held["status"]}), 200


def main(argv):
    global log_dir
    if len(argv) not in (3, 6) or (len(argv) == 6 and argv[3] != "--tls"):
        sys.exit("usage: flare_service.py CERT_JSON LOG_DIR [--tls CERT KEY]")
    with open(argv[1], encoding="utf-8") as f:
        cj = json.load(f)
    ca["pem"] = cj["root_cert"]
    ca["cert"] = x509.load_pem_x509_certificate(cj["root_cert"].encode())
    ca["key"] = serialization.load_pem_private_key(cj["root_pri_key"].encode(), None)
    ca["public"] = ca["cert"].public_key()
    log_dir = argv[2]
    ssl_context = (argv[4], argv[5]) if len(argv) == 6 else None
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    print("listening on 127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
