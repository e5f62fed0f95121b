#!/usr/bin/env bash
# Proves the static executables run in an empty root, the stand-in for the image's `FROM scratch`
# stage (no Docker daemon and no registry are reachable where this runs):
#
#   1. builds them with dist/build-static.sh (the same script the Dockerfile's build stage runs;
#      `test-static.sh --check DIR` passes --check DIR on: no build, DIR's executables, as CI
#      does with its static test build);
#   2. makes an empty folder holding only /synthflow-mock (no /etc, no /lib, no /dev, no /proc) and
#      `chroot`s into it: `synthflow-mock --host 127.0.0.1 --port <free port>`;
#   3. from outside: GET /healthz is 200, GET /v2/calls/<id> is 200 and the body is the fixture
#      file byte for byte; the image's default `--host 0.0.0.0` is served too;
#   4. `synthflow-mock healthcheck` (the image's HEALTHCHECK) inside the chroot: 0 on the live
#      port, 1 on a closed one;
#   5. `synthflow-check` in its own empty root: --help, then the contract suite against the mock.
#
# Needs root (chroot) or unprivileged user namespaces (then it runs `unshare -r chroot`).
# HTTP from outside uses curl when present, else python3's urllib (nothing to install).
# Last line: `test-static: PASS ...` or `test-static: FAIL: ...`; exit status 0 only on PASS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FIXTURE_ID=3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0
FIXTURE_FILE="fixtures/handmade/calls/$FIXTURE_ID.json"

say() { printf 'test-static: %s\n' "$*"; }
fail() {
    say "FAIL: $*"
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/synthflow-static.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# An array, not a function: a background `"${in_root[@]}" ... &` then gives $! = the process that
# becomes the server (chroot and unshare exec), so the trap's kill reaches it.
if [ "$(id -u)" = 0 ]; then
    in_root=(chroot)
elif unshare -r true 2>/dev/null; then
    in_root=(unshare -r chroot)
else
    fail "needs root for chroot (or unprivileged user namespaces for unshare -r)"
fi

# http_get URL OUTFILE [HEADER]: prints the status code (000 when the connection failed).
if command -v curl >/dev/null 2>&1; then
    http_get() {
        curl -sS -o "$2" -w '%{http_code}' --max-time 5 ${3:+-H "$3"} "$1" 2>/dev/null || true
    }
else
    http_get() {
        python3 - "$@" <<'PY'
import sys, urllib.error, urllib.request
url, out = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url)
if len(sys.argv) > 3:
    name, _, value = sys.argv[3].partition(":")
    req.add_header(name.strip(), value.strip())
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception:
    status, body = 0, b""
open(out, "wb").write(body)
print(f"{status:03d}")
PY
    }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_healthy PORT LOG: up to 15 s for GET /healthz to answer 200.
wait_healthy() {
    local i code
    for i in $(seq 1 150); do
        code=$(http_get "http://127.0.0.1:$1/healthz" "$work/healthz.body")
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    echo "--- server log:" && cat "$2"
    return 1
}

say "building (dist/build-static.sh)"
start=$(date +%s)
mapfile -t built < <(bash dist/build-static.sh "$@" | tail -n 2)
[ "${#built[@]}" = 2 ] || fail "dist/build-static.sh did not print the two paths"
mock_bin=${built[0]}
check_bin=${built[1]}
say "built in $(($(date +%s) - start)) s: $mock_bin ($(wc -c <"$mock_bin") bytes), $check_bin ($(wc -c <"$check_bin") bytes)"

# One empty root per executable, each holding that file only.
mock_root="$work/root-mock"
check_root="$work/root-check"
mkdir -p "$mock_root" "$check_root"
cp "$mock_bin" "$mock_root/synthflow-mock"
cp "$check_bin" "$check_root/synthflow-check"
[ "$(find "$mock_root" -mindepth 1 | wc -l)" = 1 ] || fail "the mock's root holds more than the binary"
[ "$(find "$check_root" -mindepth 1 | wc -l)" = 1 ] || fail "the check's root holds more than the binary"

# --- the mock on 127.0.0.1 in the empty root
port=$(free_port)
say "chroot $mock_root /synthflow-mock --host 127.0.0.1 --port $port"
"${in_root[@]}" "$mock_root" /synthflow-mock --host 127.0.0.1 --port "$port" >"$work/mock.log" 2>&1 &
pids+=($!)
wait_healthy "$port" "$work/mock.log" || fail "GET /healthz never answered 200 on 127.0.0.1:$port"
say "ok: GET /healthz 200: $(cat "$work/healthz.body")"

code=$(http_get "http://127.0.0.1:$port/v2/calls/$FIXTURE_ID" "$work/call.body" "Authorization: Bearer t")
[ "$code" = 200 ] || fail "GET /v2/calls/$FIXTURE_ID: status $code, expected 200"
cmp -s "$work/call.body" "$FIXTURE_FILE" || fail "GET /v2/calls/$FIXTURE_ID: body differs from $FIXTURE_FILE"
say "ok: GET /v2/calls/$FIXTURE_ID 200, body equals $FIXTURE_FILE"

code=$(http_get "http://127.0.0.1:$port/v2/calls/$FIXTURE_ID" "$work/noauth.body")
[ "$code" = 401 ] || fail "GET without Authorization: status $code, expected 401"
say "ok: GET without Authorization 401"

# --- the image's default: --host 0.0.0.0 (the CMD of the Dockerfile)
port_any=$(free_port)
say "chroot $mock_root /synthflow-mock --host 0.0.0.0 --port $port_any"
"${in_root[@]}" "$mock_root" /synthflow-mock --host 0.0.0.0 --port "$port_any" >"$work/mock-any.log" 2>&1 &
pids+=($!)
wait_healthy "$port_any" "$work/mock-any.log" || fail "--host 0.0.0.0: GET /healthz never answered 200"
say "ok: --host 0.0.0.0 serves (GET /healthz 200 via 127.0.0.1:$port_any)"

# --- the HEALTHCHECK command, inside the empty root (no shell, no curl there)
"${in_root[@]}" "$mock_root" /synthflow-mock healthcheck --port "$port" ||
    fail "synthflow-mock healthcheck --port $port: exit $?, expected 0 (server is up)"
closed=$(free_port)
set +e
"${in_root[@]}" "$mock_root" /synthflow-mock healthcheck --port "$closed" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "synthflow-mock healthcheck --port $closed (nothing listening): exit $rc, expected 1"
say "ok: healthcheck exit 0 on the live port, 1 on a closed one"

# --- synthflow-check in its own empty root: --help, then the suite against the mock
"${in_root[@]}" "$check_root" /synthflow-check --help >"$work/check-help.txt" 2>&1 ||
    fail "synthflow-check --help in the empty root: $(cat "$work/check-help.txt")"
say "ok: synthflow-check --help in an empty root"
if ! SYNTHFLOW_API_KEY=t "${in_root[@]}" "$check_root" /synthflow-check \
    --base-url "http://127.0.0.1:$port/v2" --call-id "$FIXTURE_ID" --name static-mock \
    >"$work/check.txt" 2>&1; then
    cat "$work/check.txt"
    fail "synthflow-check against the static mock"
fi
say "ok: synthflow-check against the static mock: $(tail -n 1 "$work/check.txt")"

say "PASS (static mock, its healthcheck and synthflow-check in empty roots)"
