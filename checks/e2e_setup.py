#!/usr/bin/env python3
"""End to end: an integrator's setup script, written against the live API, run unchanged on the mock.

    python3 checks/e2e_setup.py PATH_TO_SYNTHFLOW_MOCK

`setup_and_call` below is what an integrator's setup code does against https://api.synthflow.ai/v2
(Python standard library only): create an agent whose `external_webhook_url` is their server,
create a custom action, attach it to the agent, then make a call with the agent's id and no
webhook URL of its own. Nothing in it knows it talks to a mock.

The harness starts the built `synthflow-mock` on a free loopback port (`--port 0`, the port read
from its first line) and a receiver (http.server) on another, runs the script with the mock's
base URL, and waits for the post-call webhook. It exits non-zero unless the webhook of that call
arrives at the agent's URL within WEBHOOK_WAIT_S seconds. Loopback only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBHOOK_WAIT_S = 30
TOKEN = "e2e-test-token"


# --- the integrator's setup script (live API shapes; base URL and key are its only inputs) -------

def api(base: str, key: str, method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None


def setup_and_call(base: str, key: str, webhook_url: str) -> tuple[str, str, str]:
    agent = api(base, key, "POST", "/assistants", {
        "type": "outbound",
        "name": "E2E test-drive agent",
        "external_webhook_url": webhook_url,
        "agent": {
            "prompt": "You call leads back about a test drive.",
            "greeting_message": "Hi, this is Sam from Example Motors.",
            "llm": "gpt-4.1",
            "language": "en-US",
            "timezone": "Europe/Berlin",
        },
    })
    model_id = agent["response"]["model_id"]

    action = api(base, key, "POST", "/actions", {
        "CUSTOM_ACTION": {
            "http_mode": "POST",
            "url": "https://crm.example.com/leads/<lead_id>",
            "run_action_before_call_start": False,
            "name": "update_crm_lead",
            "description": "Stores the caller's answer in the CRM.",
            "headers": [{"key": "X-Source", "value": "synthflow"}],
            "custom_auth": {"is_needed": True, "location": "header", "key": "Bearer", "value": "crm-token"},
            "variables_during_the_call": [{"name": "answer", "description": "What the lead said", "type": "string"}],
            "json_body_stringified": "{\"answer\": \"<answer>\"}",
        }
    })
    action_id = action["response"]["action_id"]

    api(base, key, "POST", "/actions/attach", {"model_id": model_id, "actions": [action_id]})

    got = api(base, key, "GET", f"/assistants/{model_id}?include_actions=true")
    attached = got["response"]["assistants"][0].get("actions", [])
    if action_id not in attached:
        raise SystemExit(f"the action {action_id} is not attached to {model_id}: {attached}")

    call = api(base, key, "POST", "/calls", {
        "model_id": model_id,
        "phone": "+14155550100",
        "name": "Jordan Lee",
    })
    return model_id, action_id, call["response"]["call_id"]


# --- the harness -----------------------------------------------------------------------------

class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode(errors="replace")}
        with Receiver.lock:
            Receiver.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def start_mock(binary: str, *flags: str, env_extra: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Starts the mock on a free loopback port with `flags`; returns it and its root URL
    (http://127.0.0.1:PORT). The environment's SYNTHFLOW_* variables are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHFLOW_")}
    env["RUST_LOG"] = "warn"
    env.update(env_extra or {})
    proc = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--token", TOKEN, *flags],
        stdout=subprocess.PIPE, stderr=sys.stderr, env=env, text=True,
    )
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"on http://(127\.0\.0\.1:\d+)/v2/calls/", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, f"http://{m.group(1)}"
    proc.kill()
    raise SystemExit("e2e: the mock printed no address")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/synthflow/agent-hook"

    mock, root = start_mock(sys.argv[1], "--call-duration-ms", "300")
    base = root + "/v2"
    try:
        model_id, action_id, call_id = setup_and_call(base, TOKEN, hook)
        print(f"e2e_setup: agent {model_id}, action {action_id}, call {call_id}")

        listed = api(base, TOKEN, "GET", f"/calls?model_id={model_id}")
        ids = [c.get("call_id") for c in listed["response"]["calls"]]
        if call_id not in ids:
            print(f"e2e_setup: FAIL: GET /calls?model_id= does not list {call_id}: {ids}")
            return 1

        deadline = time.monotonic() + WEBHOOK_WAIT_S
        while time.monotonic() < deadline:
            with Receiver.lock:
                hits = [(p, b) for p, b in Receiver.received
                        if (b.get("call") or {}).get("call_id") == call_id or b.get("call_id") == call_id]
            if hits:
                path, body = hits[0]
                if path != "/synthflow/agent-hook":
                    print(f"e2e_setup: FAIL: the webhook went to {path}, not the agent's URL")
                    return 1
                got_model = (body.get("call") or {}).get("model_id")
                if got_model not in (None, model_id):
                    print(f"e2e_setup: FAIL: the webhook names model_id {got_model}, not {model_id}")
                    return 1
                print(f"e2e_setup: PASS: the post-call webhook of {call_id} arrived at the agent's URL")
                return 0
            time.sleep(0.1)
        print(f"e2e_setup: FAIL: no webhook for {call_id} at {hook} within {WEBHOOK_WAIT_S} s "
              f"(received: {[p for p, _ in Receiver.received]})")
        return 1
    finally:
        stop(mock)
        receiver.shutdown()


if __name__ == "__main__":
    sys.exit(main())
