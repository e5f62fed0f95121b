#!/usr/bin/env bash
# The integrator loop under load, on loopback, side by side with WireMock's webhooks:
#
#   1. POST /v2/calls throughput (wrk, keep-alive) while every made call ends at once
#      (--call-duration-ms 0) and its post-call webhook goes to a counting receiver
#      (bench/ceiling `receiver count`); then the webhook deliveries per second as the receiver
#      saw them (first to last delivery), and how many of the made calls' webhooks arrived.
#      WireMock (standalone jar from the `wiremock` npm package) does the same with a stub of
#      POST /v2/calls answering the same JSON and its built-in `webhook` serve-event listener
#      POSTing the same payload bytes (unsigned: WireMock cannot sign the vendor's way).
#   2. A receiver that never answers (`receiver silent`) must not slow the API: GET of a fixture
#      and POST /v2/calls throughput of the mock, with the counting receiver and with the silent
#      one, in the same run.
#
# Prints a markdown table and writes it to bench/results/webhooks.md.
# Env: DURATION (counted seconds, 10), WARMUP (seconds, 2), CONNECTIONS (32), THREADS (2),
#      SERVERS (subset of: mock wiremock).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SERVERS="${SERVERS:-mock wiremock}"
ID="06e3b7f1-4a2c-4d98-b5f0-e8c1d3a9b754"
SECRET="bench-webhook-secret-not-a-secret"
work="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT

ensure_wrk
build_mock
build_ceiling
RECEIVER_BIN="$root/target/release/receiver"

npm_dir="$cache/npm"
wiremock_jar() {
  command -v java >/dev/null 2>&1 || { echo "java not found" >&2; return 1; }
  if [ ! -d "$npm_dir/node_modules/wiremock" ]; then
    echo "== installing wiremock (npm, into bench/.cache)" >&2
    npm install --prefix "$npm_dir" --no-audit --no-fund wiremock >"$cache/npm-wiremock.log" 2>&1 || return 1
  fi
  find "$npm_dir/node_modules/wiremock" -name 'wiremock*standalone*.jar' | head -1
}

wait_http() { # url → 0 once it answers anything
  local i
  for i in $(seq 600); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

start_receiver() { # mode → sets RPORT, pid appended
  RPORT=$(free_port $((${RPORT:-18500} + 1)))
  "$RECEIVER_BIN" "$RPORT" "$1" >/dev/null 2>&1 &
  pids+=($!)
  RPID=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$RPORT") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# The request body of every POST, and wrk's script for it.
BODY='{"model_id":"bench-agent","phone":"+15550100","name":"Bench"}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

run_wrk() { # url [lua] → "rps p50 p99 errors"
  local url="$1" lua="${2:-}" args=()
  [ -n "$lua" ] && args=(-s "$lua")
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" "${args[@]}" -H "Authorization: Bearer $TOKEN" "$url" >"$work/wrk.warm" || true
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency "${args[@]}" -H "Authorization: Bearer $TOKEN" "$url" >"$work/wrk.out" || true
  parse_wrk <"$work/wrk.out"
}
# Requests sent in the warm-up and the counted run together (each POST made a call).
posts_sent() { awk '/requests in/ {n += $1} END {print n + 0}' "$work/wrk.warm" "$work/wrk.out"; }

# Waits until the receiver's count stops moving (3 s still, at most 60 s) → "count first_ns last_ns"
drain_stats() {
  local prev=-1 still=0 stats
  for _ in $(seq 600); do
    stats=$(curl -s --max-time 2 "http://127.0.0.1:$RPORT/stats" || echo "0 0 0")
    set -- $stats
    if [ "$1" = "$prev" ]; then still=$((still + 1)); else still=0; prev=$1; fi
    [ "$still" -ge 30 ] && break
    sleep 0.1
  done
  echo "$stats"
}
rate() { awk -v c="$1" -v a="$2" -v b="$3" 'BEGIN { if (c > 1 && b > a) printf "%.0f", (c - 1) / ((b - a) / 1e9); else print "-" }'; }

start_mock_with() { # webhook-url → sets MPORT, MPID
  MPORT=$(free_port $((${MPORT:-18400} + 1)))
  SYNTHFLOW_MOCK_WEBHOOK_SECRET="$SECRET" "$MOCK_BIN" --port "$MPORT" --call-duration-ms 0 \
    --webhook-url "$1" >/dev/null 2>"$work/mock.err" &
  MPID=$!
  pids+=($MPID)
  wait_http "http://127.0.0.1:$MPORT/healthz" || { echo "mock did not start: $(tail -c 300 "$work/mock.err")" >&2; exit 1; }
}

# One webhook payload as the mock sends it, so WireMock POSTs the same bytes.
capture_payload() {
  local port
  port=$(free_port 18700)
  python3 - "$port" "$work/payload.json" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        open(sys.argv[2], "wb").write(body)
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.timeout = 15
s.handle_request()
PY
  local py=$!
  sleep 0.5
  SYNTHFLOW_MOCK_WEBHOOK_SECRET="$SECRET" "$MOCK_BIN" webhook send --to "http://127.0.0.1:$port/hook" --call-id "$ID" >/dev/null 2>&1 || true
  wait "$py" 2>/dev/null || true
  [ -s "$work/payload.json" ] || { echo "could not capture a webhook payload" >&2; exit 1; }
}

results="$work/table.md"
{
  echo "| server | POST /v2/calls req/s | p99 ms | webhooks delivered | POSTs sent | deliveries/s |"
  echo "|---|---:|---:|---:|---:|---:|"
} >"$results"
echo "== machine: $(nproc) cores, load avg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
capture_payload

for s in $SERVERS; do
  start_receiver count || { echo "receiver did not start" >&2; exit 1; }
  case "$s" in
  mock)
    start_mock_with "http://127.0.0.1:$RPORT/hook"
    url="http://127.0.0.1:$MPORT/v2/calls"
    ;;
  wiremock)
    jar=$(wiremock_jar) || { echo "SKIPPED wiremock: cannot install it" >&2; stop_pid "$RPID"; continue; }
    [ -n "$jar" ] || { echo "SKIPPED wiremock: no standalone jar" >&2; stop_pid "$RPID"; continue; }
    MPORT=$(free_port 18450)
    mkdir -p "$work/wm/mappings"
    python3 - "$work/payload.json" "http://127.0.0.1:$RPORT/hook" >"$work/wm/mappings/call.json" <<'PY'
import json, sys
payload = open(sys.argv[1]).read()
print(json.dumps({
  "request": {"method": "POST", "urlPath": "/v2/calls",
              "headers": {"Authorization": {"matches": "Bearer .+"}}},
  "response": {"status": 200, "headers": {"Content-Type": "application/json"},
               "body": json.dumps({"status": "success", "response": {"answer": "ok",
                        "call_id": "5cbd7a9d-452c-4e0e-b2d8-c62c545989f3"}, "eta": 0})},
  "serveEventListeners": [{"name": "webhook", "parameters": {
      "method": "POST", "url": sys.argv[2],
      "headers": {"Content-Type": "application/json"}, "body": payload}}]}))
PY
    java -jar "$jar" --port "$MPORT" --bind-address 127.0.0.1 --root-dir "$work/wm" --disable-banner \
      --no-request-journal >/dev/null 2>"$work/wiremock.err" &
    MPID=$!
    pids+=($MPID)
    wait_http "http://127.0.0.1:$MPORT/__admin/health" || { echo "SKIPPED wiremock: did not start" >&2; continue; }
    url="http://127.0.0.1:$MPORT/v2/calls"
    ;;
  *) echo "unknown server $s" >&2; exit 2 ;;
  esac
  echo "== $s: POST /v2/calls with webhooks to a counting receiver" >&2
  read -r rps _p50 p99 errors < <(run_wrk "$url" "$work/post.lua")
  sent=$(posts_sent)
  read -r count first last < <(drain_stats)
  per_s=$(rate "$count" "$first" "$last")
  echo "   $rps req/s (p99 $p99 ms, $errors errors), $count webhooks delivered, $per_s/s" >&2
  printf '| %s | %.0f | %s | %s | %s | %s |\n' "$s" "$rps" "$p99" "$count" "$sent" "$per_s" >>"$results"
  stop_pid "$MPID"
  stop_pid "$RPID"
done

echo "== mock: a silent receiver against a counting one (GET of a fixture, POST /v2/calls)" >&2
silent="$work/silent.md"
{
  echo ""
  echo "| synthflow-mock, receiver | GET req/s | GET p99 ms | POST req/s | POST p99 ms |"
  echo "|---|---:|---:|---:|---:|"
} >"$silent"
for mode in count silent; do
  start_receiver "$mode" || { echo "receiver did not start" >&2; exit 1; }
  start_mock_with "http://127.0.0.1:$RPORT/hook"
  read -r grps _ gp99 _ < <(run_wrk "http://127.0.0.1:$MPORT/v2/calls/$ID")
  read -r prps _ pp99 _ < <(run_wrk "http://127.0.0.1:$MPORT/v2/calls" "$work/post.lua")
  echo "   receiver $mode: GET $grps req/s (p99 $gp99 ms), POST $prps req/s (p99 $pp99 ms)" >&2
  printf '| %s | %.0f | %s | %.0f | %s |\n' "$mode" "$grps" "$gp99" "$prps" "$pp99" >>"$silent"
  stop_pid "$MPID"
  stop_pid "$RPID"
done

mkdir -p "$root/bench/results"
{
  echo "# bench/webhooks.sh, $(date -u +%Y-%m-%d), $(nproc) cores, DURATION=${DURATION}s, CONNECTIONS=$CONNECTIONS"
  echo ""
  cat "$results" "$silent"
} | tee "$root/bench/results/webhooks.md"
