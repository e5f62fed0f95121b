#!/usr/bin/env bash
# Writes mock-server/link-order.txt: the functions a start on the embedded fixtures and a round of
# ordinary requests run, by symbol, as callgrind saw them. The release build links them side by
# side at the start of `.text` (mock-server/build.rs, with the toolchain's own lld), so that a
# start maps the few hundred kilobytes of code it runs instead of 64 KB windows all over the 10 MB
# `.text` (docs/performance.md, "The embedded set's resident memory").
#
#   bash bench/link-order.sh          # builds the release binary if missing; seconds under valgrind
#   bash bench/link-order.sh --check  # how many of the list's functions the release binary has
#
# Two runs differ by a few functions of the shutdown (which tasks are still alive at SIGTERM).
# A list that has gone stale (functions renamed or gone since) still links: the names it no longer
# finds are skipped, and what it still names is still placed first. Run it again after changes to
# the start or the request path; the diff of the list is the review of what changed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/synthflow-mock}
OUT=$ROOT/mock-server/link-order.txt
source "$ROOT/bench/lib.sh"
if [[ "${1:-}" == --check ]]; then
    [[ -x "$BIN" ]] || { echo "link-order.sh: no $BIN (cargo build --release -p synthflow-mock)" >&2; exit 1; }
    listed=$(wc -l <"$OUT")
    found=$(nm "$BIN" | awk '{ print $NF }' | LC_ALL=C sort -u | LC_ALL=C comm -12 - "$OUT" | wc -l)
    echo "link-order.sh: $found of the $listed functions listed are in $BIN"
    # Where they are: side by side when the binary was linked with the list.
    addrs=$(nm "$BIN" | awk '$2 ~ /^[tT]$/ { print $3, $1 }' | LC_ALL=C sort -k1,1 \
        | LC_ALL=C join -o 1.2 - "$OUT" | sort)
    low=$(head -1 <<<"$addrs")
    high=$(tail -1 <<<"$addrs")
    echo "link-order.sh: they lie within $(((16#$high - 16#$low) / 1024)) kB of code"
    # Fewer than nine in ten: the list has gone stale (or the binary was linked without it).
    [[ $((found * 10)) -ge $((listed * 9)) ]]
    exit
fi
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
[[ -x "$BIN" ]] || (cd "$ROOT" && cargo build --release -q -p synthflow-mock)
WORK=$(mktemp -d)
PID=
cleanup() { [[ -z "$PID" ]] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no --dump-instr=no \
    --callgrind-out-file="$WORK/cg.out" "$BIN" serve --port 0 >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
port=$(wait_for_port "$WORK/stdout" 600)
[[ -n "$port" ]] || { echo "link-order.sh: the mock did not start" >&2; cat "$WORK/stderr" >&2; exit 1; }
base=http://127.0.0.1:$port
auth=(-H 'Authorization: Bearer link-order')
first=$(ls "$ROOT"/fixtures/calls/*.json | head -1)
id=$(basename "$first" .json)
model=$(grep -o '"model_id": *"[^"]*"' "$first" | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
# What people do first: health, a call (many times: the path the benches measure), the list,
# an unknown id, no token.
curl -fsS -o /dev/null "$base/healthz"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "${auth[@]}" "$base/v2/calls/$id"; done
curl -fsS -o /dev/null "${auth[@]}" "$base/v2/calls?model_id=$model"
curl -sS -o /dev/null "${auth[@]}" "$base/v2/calls/no-such-call"
curl -sS -o /dev/null "$base/v2/calls/$id"
kill -TERM "$PID"
wait "$PID" || true
PID=
# The functions that ran (`fn=` lines; `cfn=` are callees, which appear as `fn=` too), Rust
# symbols only, sorted (the order within the group hardly matters; sorted, the list's diff shows
# what changed and nothing else).
awk -F= '/^fn=/ { name = $2; sub(/^\([0-9]+\) /, "", name); sub(/\047[0-9]+$/, "", name); if (!(name in seen)) { seen[name] = 1; print name } }' "$WORK/cg.out" \
    | grep -E '^_(ZN|R)' | LC_ALL=C sort >"$OUT.tmp" || true
n=$(wc -l <"$OUT.tmp")
[[ $n -gt 100 ]] || { echo "link-order.sh: only $n functions found; not replacing $OUT" >&2; exit 1; }
mv "$OUT.tmp" "$OUT"
echo "link-order.sh: $n functions in $OUT"
