#!/usr/bin/env python3
"""A test proxy in front of a real registry (Debian's docker-registry).

It adds what the registry cannot be configured to do on its own in a test:
  --token-auth     Docker's token flow: 401 with a Bearer challenge, a /token
                   endpoint granting what was asked to the one user (Basic auth)
                   and nothing to anonymous callers, tokens bound to scopes.
  --break-blobs N  the first GET of each blob is cut after N bytes, so clients
                   must resume with Range.
  --delay-ms M     a slow link: M ms of pause per 64 KiB served.
  --corrupt-blobs  one byte of every blob over 100 kB (the layers) is flipped.
  --fail-first N   the first N manifest GETs get a 503.
  --redirect-blobs P  blob GETs are redirected (307) to 127.0.0.1:P.
Every request is logged to stderr as `METHOD PATH range=...` for assertions.
"""
import argparse
import base64
import http.client
import http.server
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--listen", type=int, required=True)
ap.add_argument("--upstream", required=True, help="host:port of the registry")
ap.add_argument("--token-auth", action="store_true")
ap.add_argument("--user", default="alice:s3cret")
ap.add_argument("--break-blobs", type=int, default=0)
ap.add_argument("--corrupt-blobs", action="store_true", help="flip a byte of every blob over 100 kB")
ap.add_argument("--fail-first", type=int, default=0, help="answer the first N manifest GETs with 503")
ap.add_argument("--redirect-blobs", type=int, default=0, help="answer blob GETs with a 307 to this port")
ap.add_argument("--delay-ms", type=float, default=0, help="pause per 64 KiB of every body served")
args = ap.parse_args()

tokens = {}
broken = set()
failures = [0]
lock = threading.Lock()
NAME = r"(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"


def needed_scope(method, path):
    m = re.match(r"^/v2/" + NAME + r"/(manifests|blobs|tags|referrers)/", path)
    if not m:
        return None
    action = "pull" if method in ("GET", "HEAD") else "push"
    return m.group("name"), action


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_any(self):
        log(f"{self.command} {self.path} range={self.headers.get('Range')}")
        body = self.read_body()
        if self.path.startswith("/token"):
            return self.token()
        if args.token_auth and not self.authorized():
            return self.challenge()
        if args.redirect_blobs and self.command == "GET" and "/blobs/sha256:" in self.path:
            return self.reply(307, b"", [("Location", f"http://127.0.0.1:{args.redirect_blobs}{self.path}")])
        if self.command == "GET" and "/manifests/" in self.path:
            with lock:
                fail = failures[0] < args.fail_first
                failures[0] += 1
            if fail:
                log("answered 503")
                return self.reply(503, b"busy")
        self.forward(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_any

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization")
        user = None
        if auth:
            if not auth.startswith("Basic "):
                return self.reply(401)
            creds = base64.b64decode(auth[6:]).decode()
            if creds != args.user:
                return self.reply(401, b'{"details":"incorrect username or password"}')
            user = creds.split(":")[0]
        granted = set(q.get("scope", [])) if user else set()
        tok = secrets.token_hex(16)
        with lock:
            tokens[tok] = (granted, time.time() + 300)
        log(f"token for {user or 'anonymous'}: {sorted(granted)}")
        self.reply(200, json.dumps({"token": tok, "expires_in": 300}).encode(),
                   [("Content-Type", "application/json")])

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with lock:
            granted, expiry = tokens.get(auth[7:], (set(), 0))
        if expiry < time.time():
            return False
        need = needed_scope(self.command, self.path)
        if need is None:
            return True
        name, action = need
        for s in granted:
            parts = s.split(":")
            if len(parts) == 3 and parts[0] == "repository" and parts[1] == name \
                    and action in parts[2].split(","):
                return True
        return False

    def challenge(self):
        host = f"127.0.0.1:{args.listen}"
        header = f'Bearer realm="http://{host}/token",service="strata-test"'
        need = needed_scope(self.command, self.path)
        if need:
            name, action = need
            scope = f"{name}:pull,push" if action == "push" else f"{name}:pull"
            header += f',scope="repository:{scope}"'
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        self.reply(401, body, [("WWW-Authenticate", header), ("Content-Type", "application/json")])

    def forward(self, body):
        conn = http.client.HTTPConnection(args.upstream, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("authorization", "transfer-encoding", "connection", "content-length"):
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        cut = 0
        if (args.break_blobs and self.command == "GET" and "/blobs/sha256:" in self.path
                and not self.headers.get("Range") and resp.status == 200):
            with lock:
                if self.path not in broken:
                    broken.add(self.path)
                    cut = args.break_blobs
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.end_headers()
        sent = 0
        while self.command != "HEAD":
            chunk = resp.read(64 * 1024)
            if not chunk:
                break
            big = int(resp.getheader("Content-Length") or 0) > 100000
            if args.corrupt_blobs and big and "/blobs/sha256:" in self.path and sent == 0 and len(chunk) > 100:
                chunk = chunk[:50] + bytes([chunk[50] ^ 0xFF]) + chunk[51:]
            if cut and sent + len(chunk) >= cut:
                self.wfile.write(chunk[: cut - sent])
                self.wfile.flush()
                log(f"cut {self.path} after {cut} bytes")
                self.close_connection = True
                conn.close()
                return
            self.wfile.write(chunk)
            sent += len(chunk)
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
        conn.close()


http.server.ThreadingHTTPServer.daemon_threads = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", args.listen), Handler)
log(f"listening on {args.listen}")
server.serve_forever()
