#!/usr/bin/env python3
"""tokenserver.py — a Docker Registry v2 token server for the tests (127.0.0.1 only).

    tokenserver.py --key KEY.pem --cert CERT.pem --users USERS.json --log LOG --port-file FILE
                   [--issuer ISS] [--service SVC] [--expires 300] [--tls-cert C --tls-key K]

USERS.json: {"users": {"alice": {"password": "pw", "grant": {"test/*": ["pull", "push"]}}},
             "anonymous": {"public/*": ["pull"]}}
Patterns are fnmatch patterns on the repository name. A request's scopes are intersected with the
grants of the user (or of "anonymous" when no credentials come); wrong credentials get 401.

GET /token?service=…&scope=repository:NAME:ACTIONS (Basic auth or none) and POST /token (OAuth2
form: grant_type=password with username/password, or refresh_token) both answer
{"token", "access_token", "expires_in", "issued_at"}; POST with a password also returns a
refresh_token (Docker's identity token). Every issued token is one line in LOG:
    TOKEN <user|-> <scope …>
and every refused request one line "DENY <user> <why>", so a test can count tokens.

The JWT is RS256, signed with `openssl dgst -sha256 -sign KEY` (no Python crypto module needed);
its header carries the signing certificate in x5c, which the registry checks against its
rootcertbundle (the same certificate).
"""
import argparse
import base64
import fnmatch
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
REFRESH = {}  # refresh token -> user


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der(path):
    pem = open(path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


def sign(data):
    p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ARGS.key], input=data,
                       stdout=subprocess.PIPE, check=True)
    return p.stdout


def make_jwt(user, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256",
              "x5c": [base64.b64encode(cert_der(ARGS.cert)).decode()]}
    claims = {"iss": ARGS.issuer, "sub": user or "", "aud": ARGS.service, "exp": now + ARGS.expires,
              "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


def log(line):
    with LOCK:
        with open(ARGS.log, "a") as f:
            f.write(line + "\n")


def granted(user, scopes):
    db = json.load(open(ARGS.users))
    grants = db["users"][user]["grant"] if user else db.get("anonymous", {})
    access = []
    for sc in scopes:
        parts = sc.split(":")
        if len(parts) < 3 or parts[0] != "repository":
            continue
        name = ":".join(parts[1:-1])
        want = parts[-1].split(",")
        allowed = set()
        for pat, acts in grants.items():
            if fnmatch.fnmatchcase(name, pat):
                allowed.update(acts)
        acts = [a for a in want if a in allowed or ("*" in allowed)]
        access.append({"type": "repository", "name": name, "actions": acts})
    return access


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def check_user(self, user, password):
        db = json.load(open(ARGS.users))
        u = db["users"].get(user)
        return u is not None and u["password"] == password

    def issue(self, user, scopes, refresh=False):
        access = granted(user, scopes)
        tok = make_jwt(user, access)
        log("TOKEN %s %s" % (user or "-", " ".join(scopes)))
        out = {"token": tok, "access_token": tok, "expires_in": ARGS.expires,
               "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if refresh and user:
            rt = b64url(os.urandom(18))
            with LOCK:
                REFRESH[rt] = user
            out["refresh_token"] = rt
        self.reply(200, out)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/token":
            return self.reply(404, {"error": "not found"})
        q = urllib.parse.parse_qs(u.query)
        scopes = [s for v in q.get("scope", []) for s in v.split(" ") if s]
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return self.reply(400, {"error": "bad basic auth"})
            if not self.check_user(user, password):
                log("DENY %s bad-password" % user)
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                    "message": "invalid username or password"}]},
                                  {"WWW-Authenticate": 'Basic realm="token"'})
        elif auth:
            return self.reply(400, {"error": "unsupported authorization"})
        self.issue(user, scopes, refresh="offline_token=true" in u.query and user)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        g = form.get("grant_type", [""])[0]
        scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
        if g == "password":
            user = form.get("username", [""])[0]
            if not self.check_user(user, form.get("password", [""])[0]):
                log("DENY %s bad-password" % user)
                return self.reply(401, {"error": "invalid_grant"})
            return self.issue(user, scopes, refresh=True)
        if g == "refresh_token":
            with LOCK:
                user = REFRESH.get(form.get("refresh_token", [""])[0])
            if not user:
                log("DENY - bad-refresh-token")
                return self.reply(401, {"error": "invalid_grant"})
            return self.issue(user, scopes)
        self.reply(400, {"error": "unsupported_grant_type"})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--issuer", default="berth-test-issuer")
    ap.add_argument("--service", default="berth-test-registry")
    ap.add_argument("--expires", type=int, default=300)
    ap.add_argument("--tls-cert", help="serve https with this certificate (and --tls-key)")
    ap.add_argument("--tls-key")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    if ARGS.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    open(ARGS.log, "a").close()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
