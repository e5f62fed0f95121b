#!/usr/bin/env bash
# Bounded soak of synthflow-mock on loopback: SOAK_SECONDS (default 60) of full load with wrk
# (CONNECTIONS keep-alive connections, default 32) over a mix of requests: a fixture (200), an
# unknown id (400), no Authorization (401) and no route (404), each with its expected status. Samples
# the server's resident memory every second. Passes when wrk saw no socket error and no unexpected
# status, the server is still alive and answers, and memory at the end is within MAX_GROWTH_PCT
# (default 5) of memory after the first tenth of the run (the warm-up: allocator pools, buffers).
# Exit 0 on pass, 1 on fail. Env: SOAK_SECONDS, CONNECTIONS, THREADS (2), MAX_GROWTH_PCT, RUST_LOG.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOAK_SECONDS="${SOAK_SECONDS:-60}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
MAX_GROWTH_PCT="${MAX_GROWTH_PCT:-5}"
ID="06e3b7f1-4a2c-4d98-b5f0-e8c1d3a9b754"
work="$(mktemp -d)"
pid=""
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$pid" ] && stop_pid "$pid"
  rm -rf "$work"
}
trap cleanup EXIT

ensure_wrk
build_mock
port=$(free_port 18600)
"$MOCK_BIN" --port "$port" >/dev/null 2>"$work/mock.err" & pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done

# A wrk script: rotate through four requests, count any status other than the one expected.
cat >"$work/mix.lua" <<LUA
local reqs = {
  { path = "/v2/calls/$ID", auth = true, want = 200 },
  { path = "/v2/calls/no-such-call", auth = true, want = 400 },
  { path = "/v2/calls/$ID", auth = false, want = 401 },
  { path = "/v2/nothing-here", auth = true, want = 404 },
}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; unexpected = 0; wanted = {} end
function request()
  n = n + 1
  local r = reqs[(n - 1) % #reqs + 1]
  table.insert(wanted, r.want)
  local headers = {}
  if r.auth then headers["Authorization"] = "Bearer $TOKEN" end
  return wrk.format("GET", r.path, headers)
end
function response(status, headers, body)
  local want = table.remove(wanted, 1)
  if status ~= want then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("unexpected") end
  io.write(string.format("Unexpected statuses: %d\n", total))
end
LUA

echo "== soak: ${SOAK_SECONDS}s, $CONNECTIONS connections, pid $pid on 127.0.0.1:$port" >&2
( while kill -0 "$pid" 2>/dev/null; do echo "$(date +%s) $(rss_kb "$pid" VmRSS)"; sleep 1; done ) >"$work/rss" &
sampler=$!
wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SOAK_SECONDS}s" --latency -s "$work/mix.lua" \
  "http://127.0.0.1:$port" >"$work/wrk.out" || true
kill "$sampler" 2>/dev/null || true
sampler=""

cat "$work/wrk.out"
read -r rps p50 p99 _ < <(parse_wrk <"$work/wrk.out")
socket_errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$work/wrk.out")
socket_errors=${socket_errors:-0}
unexpected=$(awk '/Unexpected statuses:/ { print $3 }' "$work/wrk.out")
alive=yes
kill -0 "$pid" 2>/dev/null || alive=no
final=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/v2/calls/$ID" || true)
samples=$(wc -l <"$work/rss")
skip=$(( samples / 10 > 0 ? samples / 10 : 1 ))
early=$(awk -v k="$skip" 'NR == k { print $2 }' "$work/rss")
late=$(tail -1 "$work/rss" | awk '{ print $2 }')
peak=$(awk 'max < $2 { max = $2 } END { print max }' "$work/rss")
growth=$(awk -v a="$early" -v b="$late" 'BEGIN { printf "%.2f", (a > 0) ? (b - a) * 100 / a : 0 }')

echo
echo "soak: ${SOAK_SECONDS}s, $rps req/s, p50 $p50 ms, p99 $p99 ms"
echo "soak: socket errors $socket_errors, unexpected statuses ${unexpected:-?}, alive $alive, final GET $final"
echo "soak: RSS after warm-up ${early} kB, at end ${late} kB, peak ${peak} kB, growth ${growth}% (limit ${MAX_GROWTH_PCT}%), $samples samples"
if [ "$socket_errors" = 0 ] && [ "${unexpected:-1}" = 0 ] && [ "$alive" = yes ] && [ "$final" = 200 ] \
   && awk -v g="$growth" -v m="$MAX_GROWTH_PCT" 'BEGIN { exit !(g < m) }'; then
  echo "soak: PASS"
else
  echo "soak: FAIL"
  exit 1
fi
