#!/usr/bin/python3
"""Independent JOSE peer for the end-to-end tests (PyJWT + cryptography).

  jose.py sign ALG KEY.pem CLAIMS_JSON [KID]   print a compact JWS
  jose.py verify ALG PUB.pem TOKEN             print the claims, exit 1 if invalid
  jose.py rawsig TOKEN OUT.sig OUT.input       split: signature as openssl
                                               wants it (DER for ECDSA) + signing input
  jose.py forge KIND PUB.pem                   print a known-bad token of KIND
  jose.py jwks KID=PUB.pem[:ALG] ...           print a JWK set of those public keys
"""
import base64, json, sys
import jwt
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    cmd = sys.argv[1]
    if cmd == "sign":
        alg, key, claims = sys.argv[2], open(sys.argv[3]).read(), json.loads(sys.argv[4])
        headers = {"kid": sys.argv[5]} if len(sys.argv) > 5 else None
        print(jwt.encode(claims, key, algorithm=alg, headers=headers))
    elif cmd == "verify":
        alg, key, tok = sys.argv[2], open(sys.argv[3]).read(), sys.argv[4]
        try:
            claims = jwt.decode(tok, key, algorithms=[alg],
                                options={"verify_aud": False})
        except Exception as e:  # noqa: BLE001 - report any rejection
            print("invalid:", e)
            sys.exit(1)
        print(json.dumps(claims, separators=(",", ":")))
    elif cmd == "rawsig":
        tok = sys.argv[2]
        h, p, s = tok.split(".")
        sig = b64d(s)
        alg = json.loads(b64d(h))["alg"]
        if alg.startswith("ES"):
            n = len(sig) // 2
            sig = encode_dss_signature(int.from_bytes(sig[:n], "big"),
                                       int.from_bytes(sig[n:], "big"))
        open(sys.argv[3], "wb").write(sig)
        open(sys.argv[4], "wb").write((h + "." + p).encode())
    elif cmd == "forge":
        kind, pub = sys.argv[2], open(sys.argv[3]).read()
        claims = b64e(b'{"sub":"x","exp":4000000000}')
        if kind == "none":
            print(b64e(b'{"alg":"none","typ":"JWT"}') + "." + claims + ".")
        elif kind == "hs256-pubkey":
            # CVE-2015-9235 style: HMAC keyed with the public key text.
            import hmac, hashlib
            h = b64e(b'{"alg":"HS256","typ":"JWT"}')
            mac = hmac.new(pub.encode(), (h + "." + claims).encode(), hashlib.sha256).digest()
            print(h + "." + claims + "." + b64e(mac))
        else:
            sys.exit("unknown forge kind " + kind)
    elif cmd == "jwks":
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        keys = []
        for spec in sys.argv[2:]:
            kid, rest = spec.split("=", 1)
            path, _, alg = rest.partition(":")
            pub = load_pem_public_key(open(path, "rb").read())
            if isinstance(pub, rsa.RSAPublicKey):
                n = pub.public_numbers()
                jwk = {"kty": "RSA", "n": b64e(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                       "e": b64e(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big"))}
            else:
                n = pub.public_numbers()
                size = (pub.curve.key_size + 7) // 8
                jwk = {"kty": "EC", "crv": {"secp256r1": "P-256", "secp384r1": "P-384"}[pub.curve.name],
                       "x": b64e(n.x.to_bytes(size, "big")), "y": b64e(n.y.to_bytes(size, "big"))}
            jwk["kid"] = kid
            jwk["use"] = "sig"
            if alg:
                jwk["alg"] = alg
            keys.append(jwk)
        print(json.dumps({"keys": keys}))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
