#!/usr/bin/env bash
# Issue 12, attack 5 (memory a connection flood takes is never given back), as a bench on loopback,
# bounded in time: for each allocator setting, start the mock on the default config, measure
# throughput (wrk, DURATION s, default 10) and resident memory, open FLOOD (default 5000)
# connections that each send one request and stay open until all are answered, close them, wait
# one trim period (+2 s), measure memory again, then throughput again. Prints one markdown row per
# setting. Passes (exit 0) when, on the default setting, RSS after the flood is within 2x of
# before and throughput after is not lower than before by more than NOISE_PCT (default 10).
# Env: MOCK_BIN (default: a release build), FLOOD, DURATION, NOISE_PCT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLOOD="${FLOOD:-5000}"
DURATION="${DURATION:-10}"
NOISE_PCT="${NOISE_PCT:-10}"
ID="06e3b7f1-4a2c-4d98-b5f0-e8c1d3a9b754"
pid=""
trap '[ -n "$pid" ] && stop_pid "$pid"' EXIT
ulimit -n $((FLOOD * 2 + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

ensure_wrk
[ -n "${MOCK_BIN:-}" ] || build_mock

cat >"$cache/flood-get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

rps() { # port
  wrk -t2 -c32 -d"${DURATION}s" --latency -s "$cache/flood-get.lua" "http://127.0.0.1:$1/v2/calls/$ID" | parse_wrk | awk '{print $1}'
}

flood() { # port
  timeout 120 python3 - "$1" "$FLOOD" "$ID" "$TOKEN" <<'PY'
import socket, sys
port, n, cid, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = f"GET /v2/calls/{cid} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    socks.append(s)
ok = sum(1 for s in socks if s.recv(65536).startswith(b"HTTP/1.1 200"))
for s in socks:
    s.close()
print(f"flood: {n} connections, {ok} answered 200", file=sys.stderr)
PY
}

echo "| setting | rps before | RSS before (kB) | RSS peak (kB) | RSS after (kB) | rps after |"
echo "|---|---|---|---|---|---|"
status=0
for setting in "system allocator, no trim:--memory-trim-secs 0" "system allocator + malloc_trim every 10 s (default):"; do
  name="${setting%%:*}"; args="${setting#*:}"
  port=$(free_port 18800)
  # shellcheck disable=SC2086
  "$MOCK_BIN" --port "$port" $args >/dev/null 2>&1 & pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
  before_rps=$(rps "$port")
  sleep 11
  before=$(rss_kb "$pid" VmRSS)
  flood "$port"
  peak=$(rss_kb "$pid" VmHWM)
  sleep 12
  after=$(rss_kb "$pid" VmRSS)
  after_rps=$(rps "$port")
  echo "| $name | $before_rps | $before | $peak | $after | $after_rps |"
  if [ -z "$args" ]; then
    [ "$after" -le $((before * 2)) ] || { echo "FAIL: RSS after $after kB > 2x $before kB" >&2; status=1; }
    awk -v a="$after_rps" -v b="$before_rps" -v n="$NOISE_PCT" 'BEGIN { exit !(a >= b * (1 - n / 100)) }' \
      || { echo "FAIL: throughput after $after_rps < before $before_rps" >&2; status=1; }
  fi
  stop_pid "$pid"; pid=""
done
exit "$status"
