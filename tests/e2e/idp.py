#!/usr/bin/python3
"""The JWT authenticator quick start's identity provider, for the tests.

  idp.py PORT [KEY_DIR]

Serves on 127.0.0.1:PORT (Flask + PyJWT, Debian python3-flask, python3-jwt)
the routes of the EPICS PVXS quick start's issuer:

  GET /default/token?sub=S&password=secret[&aud=A&iss=I&exp_secs=N&nbf_secs=N]
      a raw RS256 token (text/plain), header kid "demo-key-1"; 403 for
      another password, 400 without sub. nbf_secs (not in the quick start)
      moves nbf, for the "not yet valid" case.
  GET /default/verify?token=T[&expected_iss=I&expected_aud=A]
      {"claims":..,"header":..,"valid":true}, or {"error":..,"valid":false}
  GET /.well-known/jwks.json, GET /default/jwks
      the public keys as a JWK set; each fetch is appended to
      KEY_DIR/jwks.log, so the tests can count them
  GET /healthz

and, not in the quick start, for the tests of the service's JWKS cache:

  POST /admin/rotate  a new RSA key with kid demo-key-N (N = 2, 3, ...)
                      signs the tokens from now on; the set publishes it
                      next to the earlier ones. Answers {"kid": ...}.

and, for the refusal tests, verifiers that misbehave:

  GET /odd/verify     200 with an HTML page (does not match the format)
  GET /big/verify     200 with 2 MiB of JSON (over any response cap)
  GET /false/verify   200 {"error": "account disabled", "valid": false},
                      whatever the token
  GET /slow/verify    answers after 30 s

The issuer is ISSUER (default http://localhost:PORT/default). The RSA key is
KEY_DIR/idp.key when present, else generated and, with KEY_DIR, saved there.

With IDP_TLS_CERT and IDP_TLS_KEY (PEM files) it serves https with that
certificate, and the default issuer is https://localhost:PORT/default.
Every verify request is appended to KEY_DIR/requests.log (method, query,
Authorization header) so the tests can see what the service sent.
"""
import base64
import json
import os
import sys
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request

PORT = int(sys.argv[1])
KEY_DIR = sys.argv[2] if len(sys.argv) > 2 else None
TLS = (os.environ.get("IDP_TLS_CERT"), os.environ.get("IDP_TLS_KEY"))
TLS = TLS if TLS[0] and TLS[1] else None
ISSUER = os.environ.get("ISSUER", "%s://localhost:%d/default"
                        % ("https" if TLS else "http", PORT))
AUDIENCE = os.environ.get("DEFAULT_AUDIENCE", "default")
KID = "demo-key-1"


def load_key():
    if KEY_DIR:
        os.makedirs(KEY_DIR, exist_ok=True)
    path = os.path.join(KEY_DIR, "idp.key") if KEY_DIR else None
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if path:
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        with open(os.path.join(KEY_DIR, "idp.pub"), "wb") as f:
            f.write(key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


KEY = load_key()
# Every key published, oldest first; tokens are signed with the last one.
KEYS = [(KID, KEY)]
LOCK = threading.Lock()
app = Flask(__name__)


def b64u(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def log_request():
    if not KEY_DIR:
        return
    with open(os.path.join(KEY_DIR, "requests.log"), "a") as f:
        f.write("%s %s auth=%s\n" % (request.method,
                                     request.query_string.decode(),
                                     request.headers.get("Authorization", "")))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/default/token")
def token():
    sub = request.args.get("sub")
    if not sub:
        return jsonify(error="missing 'sub'"), 400
    if request.args.get("password") != "secret":
        return "Forbidden", 403
    now = int(time.time())
    exp_secs = int(request.args.get("exp_secs", "3600"))
    nbf_secs = int(request.args.get("nbf_secs", "0"))
    claims = {
        "sub": sub,
        "iss": request.args.get("iss", ISSUER),
        "aud": request.args.get("aud", AUDIENCE),
        "iat": now,
        "nbf": now + nbf_secs,
        "exp": now + exp_secs,
        "jti": str(uuid.uuid4()),
    }
    with LOCK:
        kid, key = KEYS[-1]
    tok = jwt.encode(claims, key, algorithm="RS256",
                     headers={"kid": kid, "typ": "JWT"})
    return Response(tok, mimetype="text/plain")


@app.get("/default/verify")
def verify():
    log_request()
    tok = request.args.get("token")
    if not tok:
        return jsonify(valid=False, error="missing 'token'"), 400
    aud = request.args.get("expected_aud")
    try:
        kid = jwt.get_unverified_header(tok).get("kid")
        with LOCK:
            key = dict(KEYS).get(kid, KEY)
        claims = jwt.decode(
            tok, key.public_key(), algorithms=["RS256"],
            issuer=request.args.get("expected_iss", ISSUER),
            audience=aud if aud else None,
            options={"require": ["exp", "iat", "nbf", "iss", "sub"],
                     "verify_aud": bool(aud)})
        return jsonify(valid=True, header=jwt.get_unverified_header(tok),
                       claims=claims)
    except Exception as e:  # noqa: BLE001 - any rejection is an answer
        return jsonify(valid=False, error=str(e))


@app.get("/.well-known/jwks.json")
@app.get("/default/jwks")
def jwks():
    if KEY_DIR:
        with open(os.path.join(KEY_DIR, "jwks.log"), "a") as f:
            f.write("%s\n" % request.path)
    with LOCK:
        keys = list(KEYS)
    out = []
    for kid, key in keys:
        nums = key.public_key().public_numbers()
        out.append({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": b64u(nums.n), "e": b64u(nums.e)})
    return jsonify(keys=out)


@app.post("/admin/rotate")
def rotate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with LOCK:
        kid = "demo-key-%d" % (len(KEYS) + 1)
        KEYS.append((kid, key))
    return jsonify(kid=kid)


@app.get("/odd/verify")
def odd():
    log_request()
    return Response("<html><body>token valid: true</body></html>",
                    mimetype="text/html")


@app.get("/big/verify")
def big():
    log_request()
    body = '{"pad":"' + "x" * (2 << 20) + '","valid":true}'
    return Response(body, mimetype="application/json")


@app.get("/false/verify")
def false():
    log_request()
    return jsonify(valid=False, error="account disabled")


@app.get("/slow/verify")
def slow():
    log_request()
    time.sleep(30)
    return jsonify(valid=True)


if __name__ == "__main__":
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host="127.0.0.1", port=PORT, threaded=True, ssl_context=TLS)
