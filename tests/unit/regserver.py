#!/usr/bin/env python3
"""regserver.py — a scripted registry for test_registry_client.c, on 127.0.0.1 only.

One process, four listeners, printed as one JSON line on stdout:
  open    no authentication
  bearer  Bearer tokens from its own /token (basic user:pass, or anonymous)
  basic   Basic user:pass
  foreign Bearer with a realm on another host ("localhost:<bearer port>") over plain http
The repository name picks misbehaviour for blob and manifest GETs (see blob_get). Every request
is logged; GET /_log returns the log and clears it.
"""
import hashlib
import json
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, PASSWORD = "user", "pass"
BASIC_OK = "Basic dXNlcjpwYXNz"  # user:pass

lock = threading.Lock()
log = []
blobs = {}  # digest -> bytes
repo_blobs = {}  # repo -> set(digest)
manifests = {}  # (repo, ref) -> (ctype, body)
uploads = {}  # uuid -> bytearray
counters = {}
tokens = set()
ports = {}


def count(key):
    with lock:
        counters[key] = counters.get(key, 0) + 1
        return counters[key]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "open"

    def log_message(self, *a):
        pass

    def record(self):
        with lock:
            log.append({"port": self.server.server_address[1], "method": self.command,
                        "path": self.path, "host": self.headers.get("Host", ""),
                        "auth": self.headers.get("Authorization", ""),
                        "range": self.headers.get("Range", ""),
                        "content_range": self.headers.get("Content-Range", "")})

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, body=b"", headers=None, ctype="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype and body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def err(self, code, ecode, msg, headers=None):
        self.send(code, json.dumps({"errors": [{"code": ecode, "message": msg}]}), headers)

    # ---- auth ----
    def authorized(self, scope):
        a = self.headers.get("Authorization", "")
        if self.mode == "open":
            return True
        if self.mode == "basic":
            if a == BASIC_OK:
                return True
            self.err(401, "UNAUTHORIZED", "authentication required",
                     {"WWW-Authenticate": 'Basic realm="Registry Realm"'})
            return False
        if a.startswith("Bearer ") and a[7:] in tokens:
            return True
        if self.mode == "foreign":
            realm = "http://localhost:%d/token" % ports["bearer"]
        else:
            realm = "http://127.0.0.1:%d/token" % ports["bearer"]
        chal = 'Bearer realm="%s",service="test \\"registry\\"",scope="%s"' % (realm, scope)
        self.err(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": chal})
        return False

    def token(self):
        if self.command == "POST":
            form = dict(p.split("=", 1) for p in self.body().decode().split("&") if "=" in p)
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != "refresh-" + USER:
                return self.send(401, json.dumps({"details": "bad refresh token"}))
            t = "r-" + uuid.uuid4().hex
            with lock:
                tokens.add(t)
            return self.send(200, json.dumps({"access_token": t, "expires_in": 300,
                                              "scope": form.get("scope", "")}))
        a = self.headers.get("Authorization", "")
        if a and a != BASIC_OK:
            self.send(401, json.dumps({"details": "incorrect username or password"}))
            return
        t = ("u-" if a else "a-") + uuid.uuid4().hex
        with lock:
            tokens.add(t)
        reply = {"access_token" if "offline_token" in self.path else "token": t,
                 "expires_in": 300}
        if "offline_token" in self.path and a:
            reply["refresh_token"] = "refresh-" + USER
        self.send(200, json.dumps(reply))

    # ---- dispatch ----
    def do_any(self):
        self.record()
        path = self.path
        if path.startswith("/_log"):
            with lock:
                out = json.dumps(log)
                log.clear()
            return self.send(200, out)
        if path.startswith("/token"):
            return self.token()
        if path.startswith("/_storage/"):
            return self.storage(path[len("/_storage/"):])
        if path == "/v2/" or path == "/v2":
            if not self.authorized(""):
                return
            return self.send(200, "{}")
        m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/(.*)$", path)
        if not m:
            return self.err(404, "NAME_UNKNOWN", "repository name not known to registry")
        repo, kind, rest = m.groups()
        push = self.command not in ("GET", "HEAD")
        scope = "repository:%s:%s" % (repo, "pull,push" if push else "pull")
        if not self.authorized(scope):
            return
        if kind == "manifests":
            return self.manifest(repo, rest)
        if kind == "tags":
            return self.tags(repo, rest)
        if rest.startswith("uploads"):
            return self.upload(repo, rest[len("uploads"):])
        return self.blob_get(repo, rest)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_any

    def manifest(self, repo, ref):
        if self.command == "PUT":
            b = self.body()
            d = sha(b)
            with lock:
                manifests[(repo, ref)] = (self.headers.get("Content-Type"), b)
                manifests[(repo, d)] = (self.headers.get("Content-Type"), b)
            hd = d if "wrongput" not in repo else sha(b"x")
            return self.send(201, b"", {"Docker-Content-Digest": hd, "Location": "/v2/%s/manifests/%s" % (repo, d)})
        if repo.startswith("nomirror") and self.mode == "open":
            return self.err(404, "MANIFEST_UNKNOWN", "manifest unknown")
        if repo.startswith("big"):
            return self.send(200, b"{" + b" " * (5 << 20) + b"}", ctype="application/vnd.oci.image.manifest.v1+json")
        with lock:
            mf = manifests.get((repo, ref))
        if mf is None:
            return self.err(404, "MANIFEST_UNKNOWN", "manifest unknown")
        ctype, b = mf
        d = sha(b) if "baddigest" not in repo else sha(b"other")
        self.send(200, b, {"Docker-Content-Digest": d}, ctype=ctype + "; charset=utf-8")

    def tags(self, repo, rest):
        if "last=b" in rest:
            return self.send(200, json.dumps({"name": repo, "tags": ["c"]}))
        self.send(200, json.dumps({"name": repo, "tags": ["a", "b"]}),
                  {"Link": '</v2/%s/tags/list?n=2&last=b>; rel="next"' % repo})

    def storage(self, digest):
        if "401" in self.path:
            return self.err(401, "UNAUTHORIZED", "who are you",
                            {"WWW-Authenticate": 'Basic realm="storage"'})
        with lock:
            b = blobs.get(digest.split("?")[0])
        if b is None:
            return self.send(404)
        self.send(200, b, ctype="application/octet-stream")

    def blob_get(self, repo, digest):
        with lock:
            b = blobs.get(digest)
        if b is None:
            return self.err(404, "BLOB_UNKNOWN", "blob unknown to registry")
        name = repo.split("/")[-1]
        rng = self.headers.get("Range", "")
        off = int(rng[6:-1]) if rng.startswith("bytes=") else 0
        if self.command == "HEAD":
            return self.send(200, b, {"Docker-Content-Digest": digest}, ctype="application/octet-stream")
        if name.startswith("redir"):
            host = "localhost:%d" % self.server.server_address[1]
            suffix = "?401" if name == "redir401" else "?sig=1"
            return self.send(307, b"", {"Location": "http://%s/_storage/%s%s" % (host, digest, suffix)})
        if name == "relredir":
            return self.send(302, b"", {"Location": "/_storage/%s" % digest})
        if name == "long":
            return self.send(200, b + b"X", ctype="application/octet-stream")
        if name == "short":
            return self.send(200, b[: len(b) // 2], ctype="application/octet-stream")
        if name == "flaky" and count("flaky" + digest) == 1:
            return self.err(500, "UNKNOWN", "try again")
        if name in ("reset", "reset200"):
            n = count(name + digest)
            if n == 1:
                self.send_response(200)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b[: len(b) // 3])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
                self.close_connection = True
                return
            if name == "reset" and off:
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (off, len(b) - 1, len(b)))
                self.send_header("Content-Length", str(len(b) - off))
                self.end_headers()
                self.wfile.write(b[off:])
                return
            return self.send(200, b, ctype="application/octet-stream")
        if name == "stall" and count("stall" + digest) == 1:
            self.send_response(200)
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.flush()
            time.sleep(4)
            self.close_connection = True
            return
        if name == "blobdigest":
            return self.send(200, b, {"Docker-Content-Digest": sha(b"other")}, ctype="application/octet-stream")
        if name == "bigerr":
            return self.send(500, b"E" * (1 << 20), ctype="text/plain")
        self.send(200, b, {"Docker-Content-Digest": digest}, ctype="application/octet-stream")

    def upload(self, repo, rest):
        q = ""
        if "?" in rest:
            rest, q = rest.split("?", 1)
        params = dict(p.split("=", 1) for p in q.split("&") if "=" in p)
        if self.command == "POST" and rest in ("", "/"):
            if "mount" in params:
                d = params["mount"].replace("%3A", ":")
                with lock:
                    ok = d in repo_blobs.get(params.get("from", ""), set())
                    if ok:
                        repo_blobs.setdefault(repo, set()).add(d)
                if ok:
                    return self.send(201, b"", {"Docker-Content-Digest": d, "Location": "/v2/%s/blobs/%s" % (repo, d)})
            u = uuid.uuid4().hex
            with lock:
                uploads[u] = bytearray()
            self.body()
            return self.send(202, b"", {"Location": "/v2/%s/blobs/uploads/%s?_state=s%s" % (repo, u, u[:4]),
                                        "Range": "0-0"})
        u = rest.strip("/")
        with lock:
            buf = uploads.get(u)
        if buf is None:
            return self.err(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if "_state" not in params:
            return self.err(400, "BLOB_UPLOAD_INVALID", "state lost")
        if self.command == "DELETE":
            with lock:
                uploads.pop(u, None)
            return self.send(204)
        b = self.body()
        if self.command == "PATCH":
            cr = self.headers.get("Content-Range", "")
            m = re.match(r"^(\d+)-(\d+)$", cr)
            if not m or int(m.group(1)) != len(buf) or int(m.group(2)) != len(buf) + len(b) - 1:
                return self.err(416, "BLOB_UPLOAD_INVALID", "bad range %s" % cr)
            buf.extend(b)
            return self.send(202, b"", {"Location": "/v2/%s/blobs/uploads/%s?_state=p%d" % (repo, u, len(buf)),
                                        "Range": "0-%d" % (len(buf) - 1)})
        if self.command == "PUT":
            if repo.endswith("put500") and count("put500") == 1:
                return self.err(500, "UNKNOWN", "disk on fire")
            buf.extend(b)
            d = params.get("digest", "").replace("%3A", ":")
            if sha(bytes(buf)) != d:
                return self.err(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
            with lock:
                blobs[d] = bytes(buf)
                repo_blobs.setdefault(repo, set()).add(d)
                uploads.pop(u, None)
            return self.send(201, b"", {"Docker-Content-Digest": d, "Location": "/v2/%s/blobs/%s" % (repo, d)})
        return self.err(405, "UNSUPPORTED", "unsupported")


def serve(mode):
    cls = type("H_" + mode, (Handler,), {"mode": mode})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), cls)
    srv.handle_error = lambda *a: None  # resets and TLS probes are expected
    srv.daemon_threads = True
    ports[mode] = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()


if __name__ == "__main__":
    for m in ("open", "bearer", "basic", "foreign"):
        serve(m)
    # seed blobs: given sizes on the command line are not needed; the tests upload what they use
    print(json.dumps(ports), flush=True)
    try:
        sys.stdin.read()  # exit when the test closes our stdin
    except KeyboardInterrupt:
        pass
