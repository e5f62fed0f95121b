#!/usr/bin/env python3
"""End to end: Synthflow calls the integrator, three ways, on the mock.

    python3 checks/e2e_calls_you.py PATH_TO_SYNTHFLOW_MOCK

A small receiver app (http.server, standard library only) has the integrator's three endpoints:
`/inbound` (the inbound-call webhook), `/action/<call_id>` (a custom action) and `/post-call`
(the post-call webhook). A setup script written against the live API (the one of
checks/e2e_setup.py, pointed at these endpoints) creates an agent with both webhook URLs, a
custom action, attaches it, and gives the agent a phone number. Then:

1. `POST /__admin/inbound-calls` to that number: the inbound endpoint must get the documented body
   (`{"event": "call_inbound", "call_inbound": {from_number, to_number}}`), signed; it answers
   `custom_variables`, which must appear in the call's final record (`prompt_variables`); the
   custom action must receive its filled template while the call is `in-progress`, and its answer
   must appear as `executed_actions.<name>.return_value` in the record; the post-call webhook must
   carry both.
2. A second mock whose inbound endpoint is silent: the delivery journal must show 4 inbound
   attempts, then the documented fallback: the default agent (`--inbound-default-agent`) takes the
   call; and with no default agent, the call is disconnected (`canceled`).

Exits non-zero on the first failed check. Loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import base64
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_setup  # noqa: E402 (the harness shared with the setup script's check)

TOKEN = e2e_setup.TOKEN
SECRET = "whsec-e2e-calls-you"
WAIT_S = 30


def api(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None


# --- the integrator's setup script (live API shapes) -------------------------------------------

def setup(base: str, app: str, number: str) -> tuple[str, str]:
    agent = api(base, "POST", "/assistants", {
        "type": "inbound",
        "name": "E2E front desk",
        "external_webhook_url": f"{app}/post-call",
        "inbound_call_webhook_url": f"{app}/inbound",
        "agent": {"prompt": "You answer the phone for Example Motors.", "llm": "gpt-4.1",
                  "language": "en-US"},
    })
    model_id = agent["response"]["model_id"]
    action = api(base, "POST", "/actions", {"CUSTOM_ACTION": {
        "http_mode": "POST",
        "url": f"{app}/action/<call_id>",
        "run_action_before_call_start": False,
        "name": "lookup_customer",
        "description": "Finds the caller in the CRM.",
        "headers": [{"key": "X-Source", "value": "synthflow"}],
        "json_body_stringified": json.dumps(
            {"call": "{call_id}", "caller": "{user_phone_number}", "dialled": "{to_phone_number}",
             "tier": "<tier>"}),
        "failure_timeout": 5,
    }})
    action_id = action["response"]["action_id"]
    api(base, "POST", "/actions/attach", {"model_id": model_id, "actions": [action_id]})
    api(base, "PUT", f"/assistants/{model_id}/phone_numbers", {"phone_numbers": [number]})
    return model_id, action_id


# --- the integrator's endpoints ------------------------------------------------------------------

class App(BaseHTTPRequestHandler):
    got: list[tuple[str, dict, dict, float]] = []
    lock = threading.Lock()
    silent_inbound = False

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode(errors="replace")}
        with App.lock:
            App.got.append((self.path, body, {k.lower(): v for k, v in self.headers.items()},
                            time.monotonic()))
        if self.path == "/inbound":
            if App.silent_inbound:
                time.sleep(2)
                return
            reply = {"call_inbound": {"override_model_id": "",
                                      "custom_variables": {"tier": "gold", "customer_id": "C-77"}}}
        elif self.path.startswith("/action/"):
            reply = {"customer": "Jordan Lee", "open_orders": 2}
        else:
            reply = {}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def start_mock(binary: str, *flags: str) -> tuple[subprocess.Popen, str]:
    return e2e_setup.start_mock(binary, "--admin", "loopback", "--call-duration-ms", "900", *flags,
                                env_extra={"SYNTHFLOW_WEBHOOK_SECRET": SECRET})


stop = e2e_setup.stop


def fail(msg: str) -> None:
    raise SystemExit(f"e2e_calls_you: FAIL: {msg}")


def wait_for(pred, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    fail(f"no {what} within {WAIT_S} s")


def received(prefix: str) -> list[tuple[str, dict, dict, float]]:
    with App.lock:
        return [g for g in App.got if g[0].startswith(prefix)]


def final_call(root: str, call_id: str) -> dict:
    """Polls GET /v2/calls/{id} until the call is final and settled (its lifecycle over)."""
    def settled():
        try:
            v = api(root + "/v2", "GET", f"/calls/{call_id}")
        except SystemExit:
            return None
        c = v["response"]["calls"][0]
        return c if c.get("status") not in ("pending", "ringing", "in-progress") \
            and "lookup_customer" in (c.get("executed_actions") or {}) or c.get("status") == "canceled" else None
    return wait_for(settled, f"final record of {call_id}")


def inbound_deliveries(root: str) -> list[dict]:
    with urllib.request.urlopen(f"{root}/__admin/webhooks", timeout=10) as r:
        return [d for d in json.loads(r.read())["deliveries"] if d["kind"] == "inbound"]


def first_run(binary: str, app: str) -> None:
    App.silent_inbound = False
    proc, root = start_mock(binary)
    try:
        number = "+14155550188"
        model_id, _ = setup(root + "/v2", app, number)
        t0 = time.monotonic()
        started = api(root, "POST", "/__admin/inbound-calls",
                      {"from_number": "+14155550123", "to_number": number})
        call_id = started["call_id"]
        print(f"e2e_calls_you: inbound call {call_id} to agent {model_id}")

        path, body, headers, _ = wait_for(lambda: received("/inbound"), "inbound webhook")[0]
        want = {"event": "call_inbound",
                "call_inbound": {"from_number": "+14155550123", "to_number": number}}
        if body != want:
            fail(f"inbound body {body} is not the documented {want}")
        sig = headers.get("synthflow-signature")
        expected = base64.b64encode(hmac.new(SECRET.encode(), b"+14155550123", hashlib.sha256).digest()).decode()
        if not sig or not hmac.compare_digest(sig, expected):
            fail(f"inbound signature {sig!r} is not HMAC-SHA256(secret, from_number)")

        _, action_body, action_headers, action_at = wait_for(lambda: received("/action/"), "custom action")[0]
        want_action = {"call": call_id, "caller": "+14155550123", "dialled": number, "tier": "gold"}
        if action_body != want_action:
            fail(f"custom action body {action_body} is not the filled template {want_action}")
        if action_headers.get("x-source") != "synthflow":
            fail(f"custom action headers {action_headers} lack X-Source")

        post = wait_for(lambda: received("/post-call"), "post-call webhook")[0]
        call = final_call(root, call_id)
        # The action ran while in-progress: after the call left pending and ringing (2 of 3 steps
        # of 900 ms), before the post-call webhook.
        if not (action_at - t0 >= 0.5 and action_at <= post[3]):
            fail(f"custom action at {action_at - t0:.2f} s, webhook at {post[3] - t0:.2f} s")
        if (call.get("prompt_variables") or {}).get("tier") != "gold":
            fail(f"custom_variables not in the record: {call.get('prompt_variables')}")
        ret = call["executed_actions"]["lookup_customer"]["return_value"]
        if ret != {"customer": "Jordan Lee", "open_orders": 2}:
            fail(f"return_value in the record is {ret}")
        payload = post[1]
        if payload["executed_actions"]["lookup_customer"]["return_value"] != ret:
            fail(f"the post-call payload's return_value is {payload['executed_actions']}")
        if (payload["lead"].get("prompt_variables") or {}).get("customer_id") != "C-77":
            fail(f"the post-call payload lacks the custom variables: {payload['lead']}")
        if payload["call"]["call_id"] != call_id:
            fail("the post-call payload names another call")
        print("e2e_calls_you: PASS: inbound body and signature, variables in record and payload, "
              "action filled while in-progress, its answer as return_value in record and payload")
    finally:
        stop(proc)


def silent_run(binary: str, app: str, default_agent: bool) -> None:
    App.silent_inbound = True
    flags = ["--inbound-timeout-ms", "300"]
    if default_agent:
        flags += ["--inbound-default-agent", "e2e-default-agent"]
    proc, root = start_mock(binary, *flags)
    try:
        number = "+14155550199"
        setup(root + "/v2", app, number)
        call_id = api(root, "POST", "/__admin/inbound-calls",
                      {"from_number": "+14155550124", "to_number": number})["call_id"]
        attempts = wait_for(lambda: (lambda d: d if len(d) >= 4 else None)(
            [d for d in inbound_deliveries(root) if d["call_id"] == call_id]), "4 inbound attempts")
        time.sleep(0.5)
        attempts = [d for d in inbound_deliveries(root) if d["call_id"] == call_id]
        if len(attempts) != 4:
            fail(f"{len(attempts)} inbound attempts, not the documented first + 3 more")
        def routed():
            try:
                return api(root + "/v2", "GET", f"/calls/{call_id}")["response"]["calls"][0]
            except SystemExit:
                return None
        call = wait_for(routed, f"the call {call_id} after the fallback")
        if default_agent and call.get("model_id") != "e2e-default-agent":
            fail(f"the default agent did not take the call: {call.get('model_id')}")
        if not default_agent and call.get("status") != "canceled":
            fail(f"with no default agent the call is {call.get('status')}, not disconnected")
        what = "the default agent took the call" if default_agent else "the call was disconnected"
        print(f"e2e_calls_you: PASS: silent inbound endpoint: 4 attempts, then {what}")
    finally:
        stop(proc)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        first_run(sys.argv[1], app)
        silent_run(sys.argv[1], app, default_agent=True)
        silent_run(sys.argv[1], app, default_agent=False)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
