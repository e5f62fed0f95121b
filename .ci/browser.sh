#!/usr/bin/env bash
# The web console's browser test: headless Chromium (Debian's `chromium` package) driven by
# playwright-core (.ci/browser/, pinned by its package-lock.json), against target/debug/synthflow-mock
# (built by `cargo test --workspace` earlier in .ci/run; built here when missing).
#
#   bash .ci/browser.sh
#
# Installs chromium with apt-get when missing, runs `npm ci` in .ci/browser, starts two mocks on
# loopback (the embedded fixtures with --admin loopback, and CONSOLE_SCALE_COUNT generated calls,
# default 100000, 0 to skip; generated once into target/console-scale-COUNT) and runs
# .ci/browser/test.mjs. Screenshots go to
# .ci/browser/screenshots/ (ignored by git). Exits non-zero on failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# The mock: $1, else $SYNTHFLOW_MOCK_BIN, else target/debug/synthflow-mock (.ci/run passes the
# static test build's own, target/<host triple>/debug/synthflow-mock).
BIN="${1:-${SYNTHFLOW_MOCK_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/synthflow-mock}}"
COUNT=${CONSOLE_SCALE_COUNT:-100000}
log() { printf 'browser.sh: %s\n' "$*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y chromium >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
fi
[ -x "$BIN" ] || { log "no executable mock at $BIN (run cargo test --workspace or cargo build first)"; exit 2; }
(cd .ci/browser && npm ci --no-audit --no-fund --loglevel=error)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # url pid
    for _ in $(seq 1 600); do
        curl -fs "$1/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$2" 2>/dev/null || { log "the mock at $1 exited"; return 1; }
        sleep 0.2
    done
    log "the mock at $1 did not start"; return 1
}

PORT=$(free_port); HOOK_PORT=$(free_port)
TOKEN="console-test-$(date +%s)"
"$BIN" --host 127.0.0.1 --port "$PORT" --admin loopback --token "$TOKEN" \
    --webhook-url "http://127.0.0.1:$HOOK_PORT/hook" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT" "$!"

BIG_URL=
if [ "$COUNT" -gt 0 ]; then
    # Generated once per target dir (seeded: the same calls every time), kept for the next run.
    BIG_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/console-scale-$COUNT"
    t0=$(date +%s.%N)
    if [ ! -e "$BIG_DIR/.complete" ]; then
        log "generating $COUNT calls into $BIG_DIR"
        rm -rf "$BIG_DIR"
        "$BIN" generate --seed 1 --count "$COUNT" --out "$BIG_DIR" >"$WORK/generate.log" 2>&1
        touch "$BIG_DIR/.complete"
    fi
    BIG_PORT=$(free_port)
    "$BIN" --host 127.0.0.1 --port "$BIG_PORT" --admin loopback --fixtures "$BIG_DIR" \
        >"$WORK/big.log" 2>&1 &
    PIDS+=($!)
    wait_ready "http://127.0.0.1:$BIG_PORT" "$!"
    log "$COUNT calls (generated if needed) served after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
    BIG_URL="http://127.0.0.1:$BIG_PORT"
fi

MOCK_URL="http://127.0.0.1:$PORT" MOCK_TOKEN="$TOKEN" HOOK_PORT="$HOOK_PORT" BIG_URL="$BIG_URL" \
    SHOTS_DIR="$ROOT/.ci/browser/screenshots" \
    node .ci/browser/test.mjs || { log "failed; the mock's log:"; tail -20 "$WORK/mock.log" >&2; exit 1; }
