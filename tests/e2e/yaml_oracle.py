#!/usr/bin/python3
"""yaml_oracle.py - the reference side of the YAML -> JSON differential test.

For each FILE, prints one line: "OK <json>" where <json> is exactly what
FLARE's token service embeds as the policy claim,
    json.dumps(yaml.safe_load(open(FILE, "rb")), separators=(",", ":"))
or "ERR <exception type>" when PyYAML or json.dumps refuses the file (a
date, a syntax error, ...).

    yaml_oracle.py FILE...
    yaml_oracle.py --jwt-claim NAME TOKEN_FILE   the claim NAME of a JWT's
                                                 payload, re-serialized the same way

Uses the system's PyYAML (Debian python3-yaml): yaml.safe_load is the pure
Python SafeLoader, as FLARE calls it.
"""
import base64
import json
import sys

import yaml


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def one(path):
    try:
        with open(path, "rb") as f:
            return "OK " + dumps(yaml.safe_load(f))
    except Exception as e:  # the type is what the test compares
        return "ERR " + type(e).__name__


def jwt_claim(name, path):
    with open(path) as f:
        payload = f.read().strip().split(".")[1]
    payload += "=" * (-len(payload) % 4)
    claims = json.loads(base64.urlsafe_b64decode(payload))
    return dumps(claims[name])


def main(argv):
    if len(argv) == 3 and argv[0] == "--jwt-claim":
        print(jwt_claim(argv[1], argv[2]))
        return 0
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv:
        print(one(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
