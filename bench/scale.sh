#!/usr/bin/env bash
# Scale benchmark of the fixture factory, the validator and the mock (release build).
#
#   bench/scale.sh [COUNT]            # COUNT defaults to 100000
#
# Measures, on a tree generated into $SCALE_DIR (default /tmp/synthflow-scale, never in the repo):
#   1. generate COUNT fixtures: seconds, files/s, bytes on disk;
#   2. validate them: seconds, files/s;
#   3. serve them: time from spawn to the first 200 of /healthz, first with an empty fixture cache
#      (every file checked), then with the cache warm (unchanged files not checked again), beside
#      the floor: bench/ceiling's `readall`, one open+read per file on every core, in the same run;
#      resident memory (VmRSS and peak VmHWM from /proc) against the bytes on disk;
#   4. throughput with wrk: random ids among COUNT versus always one id, same Lua script, same
#      connections, every response checked to be 200.
# Writes a markdown summary to bench/results/scale-COUNT.md (and prints it).
#
# The mock runs in its default configuration (RUST_LOG unset: a log line per request, stderr to a
# file). Knobs: SCALE_DIR, WRK_DURATION (5s), WRK_CONNECTIONS (32), WRK_THREADS (1), WRK_ROUNDS
# (7: pairs of one-id and random-id runs, back to back), SEED (1).
# All traffic is on 127.0.0.1. wrk is installed with apt-get when missing.
set -euo pipefail

COUNT=${1:-100000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${SCALE_DIR:-/tmp/synthflow-scale}
DURATION=${WRK_DURATION:-5s}
CONNS=${WRK_CONNECTIONS:-32}
THREADS=${WRK_THREADS:-1}
ROUNDS=${WRK_ROUNDS:-7}
SEED=${SEED:-1}
OUT="$ROOT/bench/results/scale-$COUNT.md"

log() { printf 'scale.sh: %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

log "building synthflow-mock and bench/ceiling's readall (release)"
(cd "$ROOT" && cargo build --quiet --release -p synthflow-mock)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/synthflow-mock"
cargo build --quiet --release --manifest-path "$ROOT/bench/ceiling/Cargo.toml" \
    --target-dir "${CARGO_TARGET_DIR:-$ROOT/target}" --bin readall
READALL="${CARGO_TARGET_DIR:-$ROOT/target}/release/readall"

MOCK_PID=
cleanup() {
    if [[ -n "$MOCK_PID" ]] && kill -0 "$MOCK_PID" 2>/dev/null; then
        kill "$MOCK_PID" 2>/dev/null || true
        wait "$MOCK_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# --- 1. generate ------------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"
log "generating $COUNT fixtures into $WORK"
t0=$(now)
"$BIN" generate --seed "$SEED" --count "$COUNT" --out "$WORK" 2>"$WORK/generate.log"
t1=$(now)
GEN_S=$(secs "$t0" "$t1")
FILES=$(find "$WORK/calls" -name '*.json' | wc -l)
BYTES=$(find "$WORK/calls" -name '*.json' -printf '%s\n' | awk '{ s += $1 } END { print s }')
DISK=$(du -sb "$WORK/calls" | cut -f1)

# --- 2. validate ------------------------------------------------------------------------------
log "validating"
t0=$(now)
"$BIN" validate "$WORK/calls" >"$WORK/validate.out" 2>"$WORK/validate.err"
t1=$(now)
VAL_S=$(secs "$t0" "$t1")
VAL_SUMMARY=$(tail -n 1 "$WORK/validate.err")

# --- 3. serve: ready time and memory -----------------------------------------------------------
# Polls with shell builtins only (no process per poll: on 2 cores, a curl every few ms slows the
# start-up it measures), then one curl for the first 200.
RUN=0
CACHE="$WORK/cache" # the fixture cache of these runs (SYNTHFLOW_MOCK_CACHE_DIR), emptied first
rm -rf "$CACHE"
start_mock() { # extra flags...; appends the seconds to ready to READY
    RUN=$((RUN + 1))
    local out="$WORK/serve-$RUN.out" line=
    t0=$(now)
    # As users run it: the default log (a line per request), stderr to a file.
    SYNTHFLOW_MOCK_CACHE_DIR="$CACHE" "$BIN" serve --fixtures "$WORK" --host 127.0.0.1 --port 0 "$@" >"$out" 2>"$WORK/serve.err" &
    MOCK_PID=$!
    while :; do
        [[ -f "$out" ]] && { read -r line <"$out" || true; }
        [[ "$line" == *serving* ]] && break
        kill -0 "$MOCK_PID" 2>/dev/null || { log "the mock exited"; cat "$WORK/serve.err" >&2; exit 1; }
        sleep 0.01
    done
    PORT=${line##*127.0.0.1:}
    PORT=${PORT%%/*}
    local tries=0
    until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
        tries=$((tries + 1))
        [[ $tries -lt 1000 ]] || { log "no 200 from /healthz on port $PORT"; exit 1; }
        sleep 0.01
    done
    t1=$(now)
    READY=$(secs "$t0" "$t1")
}
stop_mock() {
    kill "$MOCK_PID"
    wait "$MOCK_PID" 2>/dev/null || true
    MOCK_PID=
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
log "first start on $FILES fixtures, empty cache (every file checked)"
start_mock
COLD_S=$READY
stop_mock
log "start without the cache (--no-cache)"
start_mock --no-cache
NOCACHE_S=$READY
stop_mock
READY_RUNS=()
FLOOR_RUNS=()
for run in 1 2 3; do # interleaved with the floor, so that the machine's drift hits both alike
    log "plain parallel read of the same files ($run)"
    FLOOR_RUNS+=("$("$READALL" "$WORK/calls" | awk '{ print $3 }')")
    log "start on $FILES fixtures, cache warm ($run)"
    start_mock
    READY_RUNS+=("$READY")
    [[ $run == 3 ]] || stop_mock
done
READY_S=$(median "${READY_RUNS[@]}")
FLOOR_S=$(median "${FLOOR_RUNS[@]}")
READY_X=$(awk -v a="$READY_S" -v b="$FLOOR_S" 'BEGIN { printf "%.1f", a / b }')
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MOCK_PID/status")
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MOCK_PID/status")
RSS_X=$(awk -v r="$RSS_KB" -v b="$BYTES" 'BEGIN { printf "%.2f", r * 1024 / b }')
HWM_X=$(awk -v r="$HWM_KB" -v b="$BYTES" 'BEGIN { printf "%.2f", r * 1024 / b }')

# --- 4. throughput --------------------------------------------------------------------------------
find "$WORK/calls" -name '*.json' -printf '%f\n' | sed 's/\.json$//' >"$WORK/ids-all.txt"
# The one-id baseline is an id whose body is the set's mean size, so that both modes send the same
# bytes a request on average (the sizes are skewed: at 100k, median 1,244 bytes and mean 1,360, so
# a median-sized baseline sent 9% fewer body bytes a request than the random mode); both modes load
# the same id table in wrk (see random-ids.lua), so the client costs the same.
ONE_ID=$(find "$WORK/calls" -name '*.json' -printf '%s %f\n' | awk '
    { size[NR] = $1; name[NR] = $2; sum += $1 }
    END {
        mean = sum / NR
        for (i = 1; i <= NR; i++) {
            d = size[i] - mean; if (d < 0) d = -d
            if (best == "" || d < best) { best = d; pick = name[i] }
        }
        sub(/\.json$/, "", pick); print pick
    }')
ONE_INDEX=$(awk -v id="$ONE_ID" '$1 == id { print NR; exit }' "$WORK/ids-all.txt")
bench() { # $1: PICK (an index or "random"), $2: run; prints requests/s
    local out="$WORK/wrk-$1-$2.txt"
    PICK="$1" IDS_FILE="$WORK/ids-all.txt" wrk -t "$THREADS" -c "$CONNS" -d "$DURATION" \
        -s "$ROOT/bench/random-ids.lua" "http://127.0.0.1:$PORT" >"$out" 2>&1
    if grep -q 'Non-2xx' "$out"; then log "non-200 answers in $out"; cat "$out" >&2; exit 1; fi
    awk '/^Requests\/sec:/ { print $2 }' "$out"
}
ONES=()
ALLS=()
PAIRS=()
# Interleaved, one pair at a time: a pair's two runs are seconds apart, so a drift of the machine's
# speed (on this VM a 5-second run's rate moves by up to a third from one run to the next) hits both
# alike. The figure is the median of the pairs' ratios; the ratio of the two modes' medians is
# shown beside it.
for run in $(seq 1 "$ROUNDS"); do
    log "wrk run $run of $ROUNDS: one id"
    ONES+=("$(bench "$ONE_INDEX" "$run")")
    log "wrk run $run of $ROUNDS: random ids among $FILES"
    ALLS+=("$(bench random "$run")")
    PAIRS+=("$(awk -v a="${ALLS[-1]}" -v o="${ONES[-1]}" 'BEGIN { printf "%.3f", a / o }')")
done
ONE=$(median "${ONES[@]}")
ALL=$(median "${ALLS[@]}")
RATIO=$(awk -v r="$(median "${PAIRS[@]}")" 'BEGIN { printf "%.1f", 100 * r }')
OF_MEDIANS=$(awk -v a="$ALL" -v o="$ONE" 'BEGIN { printf "%.1f", 100 * a / o }')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$OUT")"
cat >"$OUT.tmp" <<EOF
# Scale run: $COUNT fixtures

\`bench/scale.sh $COUNT\` on $(nproc) cores ($(uname -m), $(date -u +%Y-%m-%d)), release build, wrk and the mock on
the same machine (wrk -t $THREADS -c $CONNS -d $DURATION, one Lua script that picks an id per request).

| what | figure |
|---|---|
| generate $COUNT fixtures | $GEN_S s, $(rate "$COUNT" "$GEN_S") files/s |
| bytes on disk | $BYTES bytes in $FILES files ($DISK bytes allocated) |
| validate them all | $VAL_S s, $(rate "$FILES" "$VAL_S") files/s ($VAL_SUMMARY) |
| plain parallel read of the same files (bench/ceiling readall, $(nproc) threads, one open+read each) | $FLOOR_S s (median of 3: ${FLOOR_RUNS[*]}) |
| start to ready (spawn → first 200 of /healthz), cache warm | $READY_S s = ${READY_X}x the plain read (median of 3: ${READY_RUNS[*]}) |
| first start, empty cache (every file checked, cache written) | $COLD_S s |
| start with \`--no-cache\` (every file checked, nothing written) | $NOCACHE_S s |
| resident memory when ready (VmRSS) | $((RSS_KB / 1024)) MiB = ${RSS_X}x the bytes on disk |
| peak resident memory during start-up (VmHWM) | $((HWM_KB / 1024)) MiB = ${HWM_X}x |
| throughput, one id (median of $ROUNDS runs: ${ONES[*]}) | $ONE req/s |
| throughput, random ids among $FILES (median of $ROUNDS runs: ${ALLS[*]}) | $ALL req/s |
| random ids ÷ one id, median of the $ROUNDS back-to-back pairs (${PAIRS[*]}) | $RATIO% (ratio of the medians: $OF_MEDIANS%) |

Load average at the end (other builds share the machine): $LOAD.
EOF
mv "$OUT.tmp" "$OUT"
cat "$OUT"
