#!/usr/bin/env bash
# Instructions per request of the hot path, counted by callgrind (repeatable on a busy machine,
# unlike wall-clock figures). Difference of a long and a short run, so start-up cancels out.
#
#   bash bench/callgrind.sh [extra synthflow-mock flags...]
#   CEILING=1 bash bench/callgrind.sh      # the same count for bench/ceiling (bare hyper)
#
# Env: BIN (default target/release/synthflow-mock, built if missing), N (1000 requests),
# ID (the call to fetch), RUST_LOG (as the user would set it; default unset = info; the mock's
# stderr goes to a file), KEEP (a folder to keep the two callgrind profiles in, for
# `callgrind_annotate --inclusive=yes KEEP/cg.1100`), CEILING=1 (profile bench/ceiling instead).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/synthflow-mock}
N=${N:-1000}
source "$ROOT/bench/lib.sh"
ID=${ID:-3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0}
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
if [[ -n "${CEILING:-}" ]]; then
    BIN=$ROOT/target/release/ceiling
    [[ -x "$BIN" ]] || cargo build --release -q --manifest-path "$ROOT/bench/ceiling/Cargo.toml" --target-dir "$ROOT/target"
else
    [[ -x "$BIN" ]] || (cd "$ROOT" && cargo build --release -q -p synthflow-mock)
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

launch_under_valgrind() { # out flags...
    local out=$1
    shift
    if [[ -n "${CEILING:-}" ]]; then
        exec valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$ROOT/fixtures/handmade/calls/$ID.json" 0
    else
        exec valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" --port 0 "$@"
    fi
}
count() { # $1 = number of requests -> total instructions of the whole process
    local n=$1 out="$WORK/cg.$1"
    (launch_under_valgrind "$out" "${@:2}") > "$WORK/stdout.$n" 2> "$WORK/stderr.$n" &
    local pid=$!
    local port
    port=$(wait_for_port "$WORK/stdout.$n")
    [[ -n "$port" ]] || { echo "mock did not start" >&2; cat "$WORK/stderr.$n" >&2; exit 1; }
    : > "$WORK/urls.$n"
    for _ in $(seq 1 "$n"); do
        printf 'url = "http://127.0.0.1:%s/v2/calls/%s"\noutput = "/dev/null"\n' "$port" "$ID" >> "$WORK/urls.$n"
    done
    curl -s -H 'Authorization: Bearer bench' -K "$WORK/urls.$n"
    kill -TERM "$pid"; wait "$pid" || true
    [[ -z "${KEEP:-}" ]] || { mkdir -p "$KEEP"; cp "$out" "$KEEP/cg.$n"; cp "$WORK/stderr.$n" "$KEEP/stderr.$n"; }
    sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -1
}
short=$(count 100 "$@")
long=$(count $((N + 100)) "$@")
echo "instructions per request: $(( (long - short) / N ))  (N=$N, ${CEILING:+ceiling, }RUST_LOG=${RUST_LOG:-<unset>}, flags: $*)"
