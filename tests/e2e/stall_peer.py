#!/usr/bin/env python3
"""Clients that stall against `tokenroll serve`, for its timeout tests.

usage: stall_peer.py PORT CA_PEM once          (one of each kind below)
       stall_peer.py PORT CA_PEM many N SECONDS (N kinds in turn, trickling)

Kinds of stalled connection:
  tcp       connects and sends nothing (not even a TLS ClientHello)
  head      completes TLS, sends half a request head, then nothing
  body      completes TLS, sends a whole head announcing 64 bytes of body
            and 10 of them, then nothing

"once" prints one line per kind, "KIND SECONDS", the time the service took
to close the connection (or "KIND open" when it had not after 20 s); it
prints "READY" once every connection is established, so that the caller
can use the service meanwhile.

"many" opens N connections (the kinds in turn), prints "READY N" once they
are all up, and keeps them for SECONDS; those of kind head send one more
header byte every second (a slowloris client, which a timeout alone does
not drop). It then prints "CLOSED n", how many the service had closed.
"""
import select
import socket
import ssl
import sys
import time

KINDS = ("tcp", "head", "body")


def connect(port, ctx, kind):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if kind == "tcp":
        return s
    t = ctx.wrap_socket(s, server_hostname="localhost")
    if kind == "head":
        t.sendall(b"POST /api/v1/enroll HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    else:
        t.sendall(b"POST /api/v1/enroll HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 64\r\n\r\n"
                  b"{\"token\":\"")
    return t


def closed(sock):
    """True when the peer has closed (EOF or reset), without blocking."""
    r, _, _ = select.select([sock], [], [], 0)
    if not r:
        return False
    try:
        sock.setblocking(False)
        data = sock.recv(4096)
        sock.setblocking(True)
        return data == b""
    except ssl.SSLWantReadError:
        sock.setblocking(True)
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


def once(port, ctx):
    socks = {k: connect(port, ctx, k) for k in KINDS}
    start = time.monotonic()
    print("READY", flush=True)
    done = {}
    while len(done) < len(KINDS) and time.monotonic() - start < 20:
        for k, s in socks.items():
            if k not in done and closed(s):
                done[k] = time.monotonic() - start
        time.sleep(0.05)
    for k in KINDS:
        print(k, "%.2f" % done[k] if k in done else "open", flush=True)


def many(port, ctx, n, seconds):
    socks = [(KINDS[i % 3], connect(port, ctx, KINDS[i % 3])) for i in range(n)]
    print("READY", len(socks), flush=True)
    end = time.monotonic() + seconds
    gone = set()
    while time.monotonic() < end:
        for i, (k, s) in enumerate(socks):
            if i in gone:
                continue
            if closed(s):
                gone.add(i)
            elif k == "head":
                try:
                    s.sendall(b"x")
                except (ConnectionError, ssl.SSLError, OSError):
                    gone.add(i)
        time.sleep(1)
    print("CLOSED", len(gone), flush=True)


def main():
    port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.create_default_context(cafile=ca)
    if mode == "once":
        once(port, ctx)
    else:
        many(port, ctx, int(sys.argv[4]), float(sys.argv[5]))


if __name__ == "__main__":
    main()
