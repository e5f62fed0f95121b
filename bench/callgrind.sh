#!/usr/bin/env bash
# Instructions per request of the hot path, counted by callgrind (repeatable on a busy machine,
# unlike wall-clock figures). Difference of a long and a short run, so start-up cancels out.
#
#   bash bench/callgrind.sh [extra synthflow-mock flags...]
#
# Env: BIN (default target/release/synthflow-mock, built if missing), N (1000 requests),
# ID (the call to fetch), RUST_LOG (as the user would set it; default unset = info).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/synthflow-mock}
N=${N:-1000}
ID=${ID:-3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0}
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
[[ -x "$BIN" ]] || (cd "$ROOT" && cargo build --release -q -p synthflow-mock)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

count() { # $1 = number of requests -> total instructions of the whole process
    local n=$1 out="$WORK/cg.$1"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" --port 0 "${@:2}" \
        > "$WORK/stdout.$n" 2> "$WORK/stderr.$n" &
    local pid=$!
    local port=
    for _ in $(seq 1 300); do
        port=$(sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\)/v2.*#\1#p' "$WORK/stdout.$n")
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    [[ -n "$port" ]] || { echo "mock did not start" >&2; cat "$WORK/stderr.$n" >&2; exit 1; }
    : > "$WORK/urls.$n"
    for _ in $(seq 1 "$n"); do
        printf 'url = "http://127.0.0.1:%s/v2/calls/%s"\noutput = "/dev/null"\n' "$port" "$ID" >> "$WORK/urls.$n"
    done
    curl -s -H 'Authorization: Bearer bench' -K "$WORK/urls.$n"
    kill -TERM "$pid"; wait "$pid" || true
    sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -1
}
short=$(count 100 "$@")
long=$(count $((N + 100)) "$@")
echo "instructions per request: $(( (long - short) / N ))  (N=$N, RUST_LOG=${RUST_LOG:-<unset>}, flags: $*)"
