#!/usr/bin/env python3
"""Small webhook receivers for contract-tests/tests/receiver.rs: the integrator's side, written
the way an integrator would (Python standard library only).

    python3 receiver.py MODE SECRET

binds 127.0.0.1 on a free port and prints the port on the first line of stdout. Paths:
/hook (post-call webhook), /inbound (inbound-call webhook), /action (custom action). Modes:

  correct                a receiver that does everything right (exit 0 expected)
  accepts-bad-signature  never checks the signature
  null-cv-500            crashes (500) when collected_variables is null
  slow                   answers correctly, after 12 s
  always-2xx             answers 200 to everything, but only acts (GET {API}/calls/{id}) on a
                         valid signature: a 2xx refusal shown by the absence of side effects
  always-2xx-leaky       answers 200 to everything and acts on every delivery

The API base for side effects is SYNTHFLOW_API_BASE (e.g. http://127.0.0.1:PORT/v2). With
RECEIVER_LOG=FILE, each request to /action appends one JSON line to FILE: its method, path (query
included) and headers.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
SECRET = sys.argv[2].encode()
API_BASE = os.environ.get("SYNTHFLOW_API_BASE", "")
LOG = os.environ.get("RECEIVER_LOG", "")
# The docs print the WSGI name HTTP_SYNTHFLOW_SIGNATURE; real receivers try three spellings.
SIGNATURE_HEADERS = ("Synthflow-Signature", "X-Synthflow-Signature", "Http-Synthflow-Signature")
# Loopback only: no proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SEEN = {}
LOCK = threading.Lock()


def valid_signature(signed_over, header):
    if header is None:
        return False
    expected = base64.b64encode(hmac.new(SECRET, signed_over.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode())


def act(call_id):
    if API_BASE:
        url = API_BASE + "/calls/" + urllib.parse.quote(call_id, safe="")
        OPENER.open(url, timeout=5).read()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The slow receiver answers after the kit's time limit: the kit has hung up.
            pass

    def signature(self):
        for name in SIGNATURE_HEADERS:
            if self.headers.get(name) is not None:
                return self.headers.get(name)
        return None

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def handle_any(self):
        if MODE == "slow":
            time.sleep(12)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = self.path.split("?")[0]
        if path == "/hook":
            self.post_call(body)
        elif path == "/inbound":
            self.inbound(body)
        elif path == "/action":
            if LOG:
                line = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers.items())})
                with LOCK, open(LOG, "a") as f:
                    f.write(line + "\n")
            if not isinstance(body, dict):
                return self.reply(400, {"error": "expected a JSON object"})
            self.reply(200, {"status": "shipped", "echo_id": body.get("id")})
        else:
            self.reply(404, {"error": "no such path"})

    def post_call(self, body):
        call = body.get("call") if isinstance(body, dict) else None
        call_id = call.get("call_id") if isinstance(call, dict) else None
        signed = isinstance(call_id, str) and valid_signature(call_id, self.signature())
        if MODE in ("always-2xx", "always-2xx-leaky"):
            if signed or (MODE == "always-2xx-leaky" and isinstance(call_id, str)):
                act(call_id)
            return self.reply(200, {"ok": True})
        if not isinstance(call_id, str):
            return self.reply(400, {"error": "expected call.call_id"})
        if MODE != "accepts-bad-signature" and not signed:
            return self.reply(401, {"error": "bad signature"})
        if MODE == "null-cv-500" and "collected_variables" in body and body["collected_variables"] is None:
            # The bug under test: code that assumes a dict.
            return self.reply(500, {"error": "'NoneType' object has no attribute 'items'"})
        with LOCK:
            first = call_id not in SEEN
            SEEN[call_id] = True
        self.reply(200, {"ok": True, "duplicate": not first})

    def inbound(self, body):
        ci = body.get("call_inbound") if isinstance(body, dict) else None
        if not isinstance(ci, dict):
            return self.reply(400, {"error": "expected call_inbound"})
        from_number = ci.get("from_number") if isinstance(ci.get("from_number"), str) else ""
        if MODE != "accepts-bad-signature" and not valid_signature(from_number, self.signature()):
            return self.reply(401, {"error": "bad signature"})
        self.reply(200, {"call_inbound": {"override_model_id": "", "custom_variables": {"caller": from_number}}})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
