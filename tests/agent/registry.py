#!/usr/bin/python3
# registry.py OCI_DIR USER PASSWORD: a minimal read-only image registry (Docker Registry HTTP API
# v2 over plain HTTP on 127.0.0.1) serving the images of an OCI layout directory under their
# ref.name, to USER:PASSWORD only (Basic auth). Prints its port, then serves until killed.
# Tests use it to pull with credentials from an image pull secret without any public registry.
import base64
import hmac
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

root, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
with open(os.path.join(root, "index.json")) as f:
    index = json.load(f)
# "localhost/pcc-test-agent:latest" -> served as NAME "pcc-test-agent", TAG "latest"
manifests = {}
for m in index["manifests"]:
    ref = m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
    name, _, tag = ref.rpartition(":")
    manifests[(name.split("/", 1)[-1], tag)] = m


def blob_path(digest):
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexpart):
        return None
    return os.path.join(root, "blobs", "sha256", hexpart)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code):
        body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
        headers = [("WWW-Authenticate", 'Basic realm="pcc-test"')] if status == 401 else []
        self.send(status, body, headers=headers)

    def do_GET(self):
        if not hmac.compare_digest(self.headers.get("Authorization", ""), want):
            return self.error(401, "UNAUTHORIZED")
        if self.path == "/v2/":
            return self.send(200, b"{}")
        m = re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", self.path)
        if m:
            entry = manifests.get((m.group(1), m.group(2)))
            if not entry and m.group(2).startswith("sha256:"):
                entry = next((e for e in manifests.values() if e["digest"] == m.group(2)), None)
            if not entry:
                return self.error(404, "MANIFEST_UNKNOWN")
            with open(blob_path(entry["digest"]), "rb") as f:
                body = f.read()
            return self.send(200, body, entry["mediaType"],
                             [("Docker-Content-Digest", entry["digest"])])
        m = re.fullmatch(r"/v2/(.+)/blobs/(sha256:[0-9a-f]+)", self.path)
        path = blob_path(m.group(2)) if m else None
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                return self.send(200, f.read(), "application/octet-stream",
                                 [("Docker-Content-Digest", m.group(2))])
        return self.error(404, "BLOB_UNKNOWN")

    do_HEAD = do_GET


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
# The port in one write, then stdout goes away: the reader may close its end once it has it.
os.write(1, b"%d\n" % server.server_address[1])
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
server.serve_forever()
