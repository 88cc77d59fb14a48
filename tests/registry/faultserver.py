#!/usr/bin/env python3
"""faultserver.py — a scripted registry (HTTP/1.1, 127.0.0.1) with one fault per run.

    faultserver.py --fault FAULT --image BUSYBOX.tar --log LOG --logsrv-log LOG2 --port-file F
                   [--auth USER:PASS] [--big MIB] [--rate BYTES_PER_S] [--blob-delay S]

It serves, for any repository name, a small valid image built here from a docker-archive (its
layers gzip'ed, a Docker schema 2 manifest): tag "latest" (= "a"), tag "b" (the same layers
plus one more: two images sharing layers), and accepts pushes (in memory). --big adds a layer of
MIB random bytes (for stalls, resets and kill -9 mid-download); --rate throttles blob bodies.
A "log server" on 127.0.0.2 (another host for the client) records every request it gets and
whether it carried an Authorization header; it serves the same blobs.

The port file receives "PORT LOGSERVER_PORT"; info.json next to it lists the digests
(manifest, config, layers, b_manifest, extra_layer, big_layer). Every request is one line in LOG:
    METHOD PATH auth=yes|no range=RANGE|-
and one "METHOD PATH auth=yes|no" line in LOG2 for the log server.

Faults (one per run): none, wrong-layer-digest, wrong-config-digest, wrong-manifest-digest,
diffid-mismatch, short-body, long-body, infinite-chunked, stall, reset-at-half, 500-once,
500-always, huge-manifest, huge-error-body, deep-index, too-many-layers, ambiguous-manifest,
mediatype-mismatch, bad-digests (tags bd0..bd7), foreign-redirect, foreign-realm, foreign-urls,
500-mid-upload, wrong-digest-201.
"""
import argparse
import base64
import copy
import gzip
import hashlib
import io
import json
import os
import socket
import struct
import sys
import tarfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

A = None
LOCK = threading.Lock()
BLOBS = {}       # digest -> bytes (what is served)
MANIFESTS = {}   # tag or digest -> (media type, body, header digest)
UPLOADS = {}     # uuid -> bytearray
COUNTS = {}      # fault bookkeeping
INFO = {}
LOGSRV_PORT = 0


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def log(path, line):
    with LOCK:
        with open(path, "a") as f:
            f.write(line + "\n")


def gz(data):
    return gzip.compress(data, compresslevel=1, mtime=0)


def tar_of(files):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def read_archive(path):
    with tarfile.open(path) as t:
        m = json.load(t.extractfile("manifest.json"))[0]
        config = json.load(t.extractfile(m["Config"]))
        layers = [t.extractfile(l).read() for l in m["Layers"]]
    return config, layers


def build_image(config, raw_layers, extra=()):
    """config dict + uncompressed layers -> (manifest dict, config bytes, [(digest, blob)])."""
    config = copy.deepcopy(config)
    layers = []
    diff_ids = []
    for raw in list(raw_layers) + list(extra):
        blob = raw if raw[:2] == b"\x1f\x8b" else gz(raw)
        layers.append((sha(blob), blob))
        diff_ids.append(sha(gzip.decompress(blob) if raw[:2] == b"\x1f\x8b" else raw))
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    hist = config.get("history", [])
    while len([h for h in hist if not h.get("empty_layer")]) < len(diff_ids):
        hist.append({"created": "2024-01-01T00:00:00Z", "created_by": "faultserver layer"})
    config["history"] = hist
    return config, layers


def manifest_of(config_bytes, layers):
    return {"schemaVersion": 2, "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "size": len(config_bytes), "digest": sha(config_bytes)},
            "layers": [{"mediaType": MT_LAYER, "size": len(b), "digest": d} for d, b in layers]}


def jbytes(o):
    return json.dumps(o, indent=3).encode()


def add_manifest(tag, mt, body, header_digest=None):
    d = sha(body)
    MANIFESTS[tag] = (mt, body, header_digest or d)
    MANIFESTS[d] = (mt, body, d)
    return d


def setup():
    f = A.fault
    config, raw = read_archive(A.image)
    extra_a = []
    if A.big:
        # random bytes (incompressible): the blob is as big as asked
        extra_a.append(tar_of([("big.bin", os.urandom(A.big * 1024 * 1024))]))
    cfg_a, layers_a = build_image(config, raw, extra_a)
    cfg_b, layers_b = build_image(config, raw, extra_a + [tar_of([("extra.txt", b"image b\n")])])
    if f == "diffid-mismatch":
        cfg_a["rootfs"]["diff_ids"][0] = sha(b"not the layer")
    cb_a, cb_b = jbytes(cfg_a), jbytes(cfg_b)
    for d, b in layers_a + layers_b:
        BLOBS[d] = b
    BLOBS[sha(cb_a)] = cb_a
    BLOBS[sha(cb_b)] = cb_b
    man_a = manifest_of(cb_a, layers_a)
    man_b = manifest_of(cb_b, layers_b)
    INFO.update(config=sha(cb_a), layers=[d for d, _ in layers_a], b_config=sha(cb_b),
                extra_layer=layers_b[-1][0], big_layer=layers_a[-1][0] if A.big else "",
                arch=cfg_a.get("architecture", ""))
    if f == "foreign-urls":
        for l in man_a["layers"]:
            l["urls"] = ["http://127.0.0.2:%d/v2/foreign/blobs/%s" % (LOGSRV_PORT, l["digest"])]
    body_a = jbytes(man_a)
    if f == "wrong-layer-digest":
        d = man_a["layers"][0]["digest"]
        b = bytearray(BLOBS[d])
        b[len(b) // 2] ^= 0xFF
        BLOBS[d] = bytes(b)
    elif f == "wrong-config-digest":
        BLOBS[sha(cb_a)] = cb_a.replace(b'"linux"', b'"LINUX"', 1)
        assert BLOBS[sha(cb_a)] != cb_a
    elif f == "huge-manifest":
        m = dict(man_a)
        m["annotations"] = {"pad": "x" * (50 * 1024 * 1024)}
        body_a = json.dumps(m).encode()
    elif f == "too-many-layers":
        m = dict(man_a)
        m["layers"] = [{"mediaType": MT_LAYER, "size": 32, "digest": sha(struct.pack(">I", i))}
                       for i in range(10000)]
        body_a = jbytes(m)
    elif f == "ambiguous-manifest":
        m = dict(man_a)
        m["manifests"] = [{"mediaType": MT_MANIFEST, "size": len(body_a), "digest": sha(body_a),
                           "platform": {"architecture": INFO["arch"], "os": "linux"}}]
        body_a = jbytes(m)
    elif f == "mediatype-mismatch":
        m = dict(man_a)
        m["mediaType"] = MT_OCI_INDEX
        body_a = jbytes(m)
    INFO["manifest"] = add_manifest("latest", MT_MANIFEST, body_a,
                                    sha(b"wrong") if f == "wrong-manifest-digest" else None)
    MANIFESTS["a"] = MANIFESTS["latest"]
    INFO["b_manifest"] = add_manifest("b", MT_MANIFEST, jbytes(man_b))
    if f == "wrong-manifest-digest":
        # by digest: another body (one more space) under the real digest
        MANIFESTS[INFO["manifest"]] = (MT_MANIFEST, body_a + b" ", INFO["manifest"])
    if f == "deep-index":
        child_mt, child = MT_MANIFEST, body_a
        for _ in range(1000):
            idx = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                   "manifests": [{"mediaType": child_mt, "size": len(child), "digest": sha(child),
                                  "platform": {"architecture": INFO["arch"], "os": "linux"}}]}
            ib = jbytes(idx)
            MANIFESTS[sha(child)] = (child_mt, child, sha(child))
            child_mt, child = MT_OCI_INDEX, ib
        INFO["manifest"] = add_manifest("latest", child_mt, child)
    if f == "bad-digests":
        good = man_a["layers"][0]["digest"]
        bad = ["", "sha256:", "sha256:" + good[7:].upper(), "sha256:" + good[7:70],
               "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:../../../../../../tmp/berth-b3"]
        for i, d in enumerate(bad):
            m = copy.deepcopy(man_a)
            m["layers"][0]["digest"] = d
            add_manifest("bd%d" % i, MT_MANIFEST, jbytes(m))
        m = copy.deepcopy(man_a)
        m["layers"][0]["size"] = -1
        add_manifest("bd6", MT_MANIFEST, jbytes(m))
        m = copy.deepcopy(man_a)
        m["config"]["digest"] = "sha256:../../../../../../tmp/berth-b3"
        add_manifest("bd7", MT_MANIFEST, jbytes(m))


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, code, body=b"", headers=None, head=False):
        self.send_response(code)
        hs = {"Content-Length": str(len(body)), "Docker-Distribution-API-Version": "registry/2.0"}
        hs.update(headers or {})
        for k, v in hs.items():
            self.send_header(k, v)
        self.end_headers()
        if not head and body and self.command != "HEAD":
            self.wfile.write(body)

    def err(self, code, ecode, msg):
        self.send(code, json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode(),
                  {"Content-Type": "application/json"})

    def body_bytes(self, data, start=0):
        """Write data[start:], throttled by --rate, after --blob-delay."""
        if A.blob_delay:
            time.sleep(A.blob_delay)
        pos = start
        step = 65536
        t0 = time.time()
        while pos < len(data):
            self.wfile.write(data[pos:pos + step])
            pos += step
            if A.rate:
                ahead = (pos - start) / A.rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)

    def serve_blob(self, digest, head):
        data = BLOBS.get(digest)
        if data is None:
            return self.err(404, "BLOB_UNKNOWN", "blob unknown to registry")
        rng = self.headers.get("Range")
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0] or 0)
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if not head:
            self.body_bytes(data, start)


class LogSrv(Base):
    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def note(self):
        log(A.logsrv_log, "%s %s auth=%s" % (self.command, self.path,
                                             "yes" if self.headers.get("Authorization") else "no"))

    def do_GET(self, head=False):
        self.note()
        p = urllib.parse.urlsplit(self.path).path
        if p == "/token":
            return self.send(200, json.dumps({"token": "logsrv-token"}).encode(),
                             {"Content-Type": "application/json"})
        if "/blobs/" in p:
            return self.serve_blob(p.rsplit("/", 1)[1], head)
        self.err(404, "NOT_FOUND", "nothing here")

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_POST(self):
        self.note()
        self.err(404, "NOT_FOUND", "nothing here")


class Reg(Base):
    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def note(self):
        log(A.log, "%s %s auth=%s range=%s" % (
            self.command, self.path, "yes" if self.headers.get("Authorization") else "no",
            self.headers.get("Range") or "-"))

    def authorized(self):
        f = A.fault
        auth = self.headers.get("Authorization", "")
        if f == "foreign-realm":
            if auth.startswith("Bearer "):
                return True
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                      {"Content-Type": "application/json",
                       "WWW-Authenticate": 'Bearer realm="http://127.0.0.2:%d/token",service="fault"'
                       % LOGSRV_PORT})
            return False
        if not A.auth:
            return True
        if auth == "Basic " + base64.b64encode(A.auth.encode()).decode():
            return True
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                  {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="fault"'})
        return False

    def parse(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.split("/")
        return u, parts

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        self.note()
        if self.headers.get("Content-Length"):
            self.rfile.read(int(self.headers["Content-Length"]))
        if not self.authorized():
            return
        f = A.fault
        u, parts = self.parse()
        if u.path in ("/v2", "/v2/"):
            return self.send(200, b"{}", {"Content-Type": "application/json"}, head)
        if len(parts) >= 5 and parts[-2] == "manifests":
            ref = parts[-1]
            if f == "huge-error-body":
                body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN",
                                               "message": "y" * (10 * 1024 * 1024)}]}).encode()
                return self.send(404, body, {"Content-Type": "application/json"}, head)
            m = MANIFESTS.get(ref)
            if m is None:
                return self.err(404, "MANIFEST_UNKNOWN", "manifest unknown")
            mt, body, hd = m
            return self.send(200, body, {"Content-Type": mt, "Docker-Content-Digest": hd}, head)
        if len(parts) >= 5 and parts[-2] == "blobs":
            digest = parts[-1]
            if digest not in BLOBS:
                return self.err(404, "BLOB_UNKNOWN", "blob unknown to registry")
            is_layer = digest in INFO["layers"] or digest == INFO["extra_layer"]
            target = INFO["big_layer"] or INFO["layers"][0]
            with LOCK:
                n = COUNTS.get(digest, 0)
                COUNTS[digest] = n + 1
            if head:
                return self.serve_blob(digest, True)
            if f in ("foreign-redirect",) and is_layer:
                return self.send(302, b"", {"Location": "http://127.0.0.2:%d/v2/redirected/blobs/%s"
                                            % (LOGSRV_PORT, digest)})
            if f == "500-always" and is_layer or f == "500-once" and is_layer and n == 0:
                return self.err(500, "UNKNOWN", "injected internal error")
            data = BLOBS[digest]
            if f == "short-body" and is_layer:
                half = data[:len(data) // 2]
                return self.send(200, half, {"Content-Type": "application/octet-stream"})
            if f == "long-body" and is_layer:
                return self.send(200, data + os.urandom(100), {"Content-Type": "application/octet-stream"})
            if f == "infinite-chunked" and is_layer:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                junk = b"\0" * 65536
                deadline = time.time() + 300
                while time.time() < deadline:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(junk), junk))
                return
            if f == "stall" and digest == target:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                time.sleep(600)
                self.close_connection = True
                return
            if f == "reset-at-half" and digest == target and n == 0:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            return self.serve_blob(digest, False)
        if len(parts) >= 4 and parts[-2] == "tags" and parts[-1] == "list":
            name = "/".join(parts[2:-2])
            tags = sorted(k for k in MANIFESTS if not k.startswith("sha256:"))
            return self.send(200, json.dumps({"name": name, "tags": tags}).encode(),
                             {"Content-Type": "application/json"}, head)
        self.err(404, "NAME_UNKNOWN", "not found")

    # ---- push ----
    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        self.note()
        self.read_body()
        if not self.authorized():
            return
        u, parts = self.parse()
        if parts[-2:] == ["uploads", ""] and parts[-3] == "blobs":
            name = "/".join(parts[2:-3])
            q = urllib.parse.parse_qs(u.query)
            if "mount" in q and q["mount"][0] in BLOBS:
                return self.send(201, b"", {"Location": "/v2/%s/blobs/%s" % (name, q["mount"][0]),
                                            "Docker-Content-Digest": q["mount"][0]})
            uid = str(uuid.uuid4())
            UPLOADS[uid] = bytearray()
            return self.send(202, b"", {"Location": "/v2/%s/blobs/uploads/%s" % (name, uid),
                                        "Range": "0-0", "Docker-Upload-UUID": uid})
        self.err(404, "NAME_UNKNOWN", "not found")

    def do_PATCH(self):
        self.note()
        data = self.read_body()
        if not self.authorized():
            return
        u, parts = self.parse()
        uid = parts[-1]
        if uid not in UPLOADS:
            return self.err(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
        with LOCK:
            n = COUNTS.get("patch:" + uid, 0)
            COUNTS["patch:" + uid] = n + 1
        if A.fault == "500-mid-upload" and n > 0:
            return self.err(500, "UNKNOWN", "injected failure mid-upload")
        UPLOADS[uid] += data
        name = "/".join(parts[2:-3])
        self.send(202, b"", {"Location": "/v2/%s/blobs/uploads/%s" % (name, uid),
                             "Range": "0-%d" % max(0, len(UPLOADS[uid]) - 1),
                             "Docker-Upload-UUID": uid})

    def do_PUT(self):
        self.note()
        data = self.read_body()
        if not self.authorized():
            return
        u, parts = self.parse()
        f = A.fault
        if len(parts) >= 5 and parts[-2] == "manifests":
            d = sha(data)
            MANIFESTS[parts[-1]] = (self.headers.get("Content-Type"), data, d)
            MANIFESTS[d] = MANIFESTS[parts[-1]]
            hd = sha(b"wrong") if f == "wrong-digest-201" else d
            return self.send(201, b"", {"Docker-Content-Digest": hd})
        uid = parts[-1]
        if uid not in UPLOADS:
            return self.err(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
        if f == "500-mid-upload":
            return self.err(500, "UNKNOWN", "injected failure mid-upload")
        blob = bytes(UPLOADS.pop(uid) + data)
        q = urllib.parse.parse_qs(u.query)
        want = q.get("digest", [""])[0]
        if sha(blob) != want:
            return self.err(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        BLOBS[want] = blob
        hd = sha(b"wrong") if f == "wrong-digest-201" else want
        name = "/".join(parts[2:-3])
        self.send(201, b"", {"Location": "/v2/%s/blobs/%s" % (name, want),
                             "Docker-Content-Digest": hd})

    def do_DELETE(self):
        self.note()
        u, parts = self.parse()
        UPLOADS.pop(parts[-1], None)
        self.send(204)


def main():
    global A, LOGSRV_PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--fault", default="none")
    ap.add_argument("--image", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--logsrv-log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--auth", default="")
    ap.add_argument("--big", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--blob-delay", type=float, default=0)
    A = ap.parse_args()
    logsrv = ThreadingHTTPServer(("127.0.0.2", 0), LogSrv)
    logsrv.daemon_threads = True
    LOGSRV_PORT = logsrv.server_address[1]
    setup()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Reg)
    srv.daemon_threads = True
    srv.request_queue_size = 64
    open(A.log, "a").close()
    open(A.logsrv_log, "a").close()
    d = os.path.dirname(os.path.abspath(A.port_file))
    with open(os.path.join(d, "info.json"), "w") as fi:
        json.dump(INFO, fi)
    tmp = A.port_file + ".tmp"
    with open(tmp, "w") as fp:
        fp.write("%d %d\n" % (srv.server_address[1], LOGSRV_PORT))
    os.rename(tmp, A.port_file)
    threading.Thread(target=logsrv.serve_forever, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
