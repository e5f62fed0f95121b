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
"$MOCK_BIN" --port "$port" >/dev/null 2>/dev/null & pid=$!  # its per-request log lines: discarded
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done

# A wrk script: rotate through four requests with different expected statuses. Responses on a
# thread's many connections interleave, so each status is counted, not matched to its request:
# any status outside the four, or counts far from even, is a failure.
cat >"$work/mix.lua" <<LUA
local reqs = {
  wrk.format("GET", "/v2/calls/$ID", { ["Authorization"] = "Bearer $TOKEN" }),
  wrk.format("GET", "/v2/calls/no-such-call", { ["Authorization"] = "Bearer $TOKEN" }),
  wrk.format("GET", "/v2/calls/$ID", {}),
  wrk.format("GET", "/v2/nothing-here", { ["Authorization"] = "Bearer $TOKEN" }),
}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; c200 = 0; c400 = 0; c401 = 0; c404 = 0; other = 0 end
function request()
  n = n + 1
  return reqs[(n - 1) % #reqs + 1]
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 400 then c400 = c400 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 404 then c404 = c404 + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local t = { c200 = 0, c400 = 0, c401 = 0, c404 = 0, other = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  local total = t.c200 + t.c400 + t.c401 + t.c404
  local uneven = 0
  for _, k in ipairs({ "c200", "c400", "c401", "c404" }) do
    -- each in-flight request at the end can leave one kind short
    if math.abs(t[k] - total / 4) > $CONNECTIONS + 4 then uneven = uneven + 1 end
  end
  io.write(string.format("Statuses: 200=%d 400=%d 401=%d 404=%d other=%d\n", t.c200, t.c400, t.c401, t.c404, t.other))
  io.write(string.format("Unexpected statuses: %d\n", t.other + uneven))
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
