#!/usr/bin/env python3
"""A small HTTP(S) peer for the client's tests, on 127.0.0.1.

usage: http_peer.py [--cert CRT --key KEY] [--record FILE] [--port N]

Prints "PORT <n>" on stdout once listening. The path picks the answer:
  /cl          200, Content-Length body {"ok":true}
  /chunked     200, the same JSON in several chunks, with an extension and a
               trailer
  /close       200, body framed by the end of the stream (HTTP/1.0 style)
  /continue    100 Continue, then 200 with Content-Length
  /pending     202 with Retry-After: 2
  /big?n=N     200 with N bytes of body
  /slow        sends the head, then nothing for 5 s
  /echo        200 with the request as JSON: method, path, headers, body
  /webhook     204; the request (JSON body) is appended to --record; with a
               query (/webhook?...), the body gets it as member "_query"
Anything else is 404 {"error":"not found"}.
"""
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'{"ok":true}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    record = None

    def log_message(self, *args):
        pass

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self):
        path = self.path
        data = self.body()
        if path == "/cl":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY))
        elif path == "/chunked":
            self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for part in (BODY[:3], BODY[3:8], BODY[8:]):
                time.sleep(0.01)
                self.raw(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.raw(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif path == "/close":
            self.raw(b"HTTP/1.0 200 OK\r\n\r\n" + BODY)
            self.close_connection = True
        elif path == "/continue":
            self.raw(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
        elif path == "/pending":
            b = b'{"status":"pending","request_id":"r1","message":"wait"}'
            self.raw(b"HTTP/1.1 202 Accepted\r\nRetry-After: 2\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
        elif path.startswith("/big?n="):
            n = int(path[7:])
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + b"x" * n)
        elif path == "/slow":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            time.sleep(5)
        elif path == "/echo":
            b = json.dumps({"method": self.command, "path": path,
                            "headers": dict(self.headers.items()),
                            "body": data.decode("utf-8", "replace")}).encode()
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
        elif path.split("?")[0] == "/webhook" and Handler.record:
            if "?" in path:
                d = json.loads(data)
                d["_query"] = path.split("?", 1)[1]
                data = json.dumps(d).encode()
            with open(Handler.record, "ab") as f:
                f.write(data + b"\n")
            self.raw(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            b = b'{"error":"not found"}'
            self.raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
        self.close_connection = True

    do_GET = answer
    do_POST = answer


def main():
    args = sys.argv[1:]
    opts = dict(zip(args[::2], args[1::2]))
    Handler.record = opts.get("--record")
    srv = ThreadingHTTPServer(("127.0.0.1", int(opts.get("--port", 0))), Handler)
    srv.daemon_threads = True
    if "--cert" in opts:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts["--cert"], opts["--key"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
