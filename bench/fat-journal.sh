#!/usr/bin/env bash
# Issue 12, attack 1, as a bench: REQUESTS (default 3000) fat requests (a 60 kB query and 80
# headers of 4 kB: ~380 kB each) against `--admin loopback --journal-size 1000`, on loopback, bounded
# in time (TIMEOUT seconds, default 300). Prints the server's resident memory after the flood, the
# size of the largest journal page `GET /__admin/requests?limit=1000` answers, and RSS after
# `DELETE /__admin/requests` (+ one memory trim period). Passes (exit 0) when RSS < 40 MB and the
# answer < 10 MB. Env: MOCK_BIN (default: a release build), REQUESTS, TIMEOUT, EXTRA_ARGS.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REQUESTS="${REQUESTS:-3000}"
TIMEOUT="${TIMEOUT:-300}"
ID="06e3b7f1-4a2c-4d98-b5f0-e8c1d3a9b754"
pid=""
trap '[ -n "$pid" ] && stop_pid "$pid"' EXIT

[ -n "${MOCK_BIN:-}" ] || build_mock
port=$(free_port 18700)
# shellcheck disable=SC2086
"$MOCK_BIN" --port "$port" --admin loopback --journal-size 1000 ${EXTRA_ARGS:-} >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
echo "rss_start_kB=$(rss_kb "$pid" VmRSS)"

timeout "$TIMEOUT" python3 - "$port" "$REQUESTS" "$ID" "$TOKEN" <<'PY'
import socket, sys, threading
port, total, cid, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
head = (f"GET /v2/calls/{cid}?q={'x' * 60000} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        + "".join(f"X-Fat-{i}: {'v' * 4000}\r\n" for i in range(80)) + "\r\n").encode()
failed = []
def worker(n):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for _ in range(n):
        s.sendall(head)
        status = f.readline()
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        f.read(length)
        if b" 200 " not in status:
            failed.append(status)
    s.close()
threads = [threading.Thread(target=worker, args=(total // 4,)) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(f"sent={total // 4 * 4} non_200={len(failed)}")
PY

rss=$(rss_kb "$pid" VmRSS)
peak=$(rss_kb "$pid" VmHWM)
echo "rss_after_flood_anon_kB=$(rss_kb "$pid" RssAnon)"
page=$(curl -s "http://127.0.0.1:$port/__admin/requests?limit=1000" | wc -c)
first=$(curl -s "http://127.0.0.1:$port/__admin/requests" | wc -c)
curl -s -X DELETE "http://127.0.0.1:$port/__admin/requests" >/dev/null
sleep "${TRIM_WAIT:-11}"
after=$(rss_kb "$pid" VmRSS)
after_anon=$(rss_kb "$pid" RssAnon)
echo "rss_after_flood_kB=$rss rss_peak_kB=$peak"
echo "admin_answer_bytes(limit=1000)=$page admin_answer_bytes(default page)=$first"
echo "rss_after_delete_kB=$after (heap and stacks: RssAnon=$after_anon)"
ok=0
[ "$rss" -lt $((40 * 1024)) ] || { echo "FAIL: RSS $rss kB >= 40 MB"; ok=1; }
[ "$page" -lt $((10 * 1024 * 1024)) ] || { echo "FAIL: answer $page B >= 10 MB"; ok=1; }
[ "$ok" = 0 ] && echo "PASS"
exit "$ok"
