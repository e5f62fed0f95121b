#!/usr/bin/env bash
# Side-by-side benchmark of GET /v2/calls/{id} on loopback, one fixture, the same 200 body:
#   synthflow-mock (defaults: one info log line per request, stderr to a file), synthflow-mock with
#   RUST_LOG=warn, the bare hyper ceiling (bench/ceiling), Stoplight Prism, Mockoon CLI and
#   WireMock (standalone jar from the `wiremock` npm package, on the machine's Java).
# A round starts every server (time to its first 200 with bench/ceiling's first200, a check of the
# body, a warm-up run), then loads them in turn, SLICE seconds of wrk (keep-alive, CONNECTIONS
# connections) at a time and the order rotated every slice, until each has had DURATION counted
# seconds; then it reads each one's peak RSS (VmHWM, with children) and stops them. Why slices: this
# VM's speed drifts by 10-40% within seconds, and servers loaded one after the other for 10 s each
# were compared at different moments (single rounds of one server ranged over a third); in slices
# the drift falls on every server alike. Idle servers stay up meanwhile (they sleep).
# ROUNDS rounds, the servers started in a rotated order each round; the table gives each figure's
# median over the rounds (p50 and p99: the medians of each server's slices), the req/s of every
# round below it, and each server's req/s over the ceiling's in the same round (their median: the
# figure issue 14 asks for). Beside it, from CPU time: each server's CPU per request (utime+stime
# from /proc) over wrk's own (bash's `time`), a ratio the machine's speed cancels out of, and the
# req/s ratio to the ceiling that it predicts with wrk on the same cores.
# Prints a table with ratios to synthflow-mock and writes it as markdown to bench/results/latest.md.
#
# Env: ROUNDS (3), DURATION (counted seconds, 10), SLICE (seconds, 2), WARMUP (seconds, 3), CONNECTIONS (32), THREADS (2),
#      SERVERS (space-separated subset of: mock mock-quiet mock-lean ceiling prism mockoon wiremock),
#      mock-lean = RUST_LOG=warn and --header-read-timeout 0 (no slow-client defence, like the ceiling);
#      mock-alt = the build at MOCK_ALT_BIN in the default configuration (another variant, same run).
#      WEBHOOKS (1 when SERVERS is not set, else 0): then bench/webhooks.sh runs after the table for
#      the servers it knows (mock, wiremock) and its rows (POST /v2/calls, webhook deliveries, a
#      receiver that never answers) are appended to bench/results/latest.md.
# Tools it needs are installed into bench/.cache (npm packages) or by apt-get (wrk); a server whose
# tool cannot be installed or started is skipped with the reason printed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
SLICE="${SLICE:-2}"
# The POST /v2/calls and webhook rows: on for the whole peers' table, off when SERVERS is chosen.
if [ -z "${SERVERS:-}" ]; then WEBHOOKS="${WEBHOOKS:-1}"; else WEBHOOKS="${WEBHOOKS:-0}"; fi
SERVERS="${SERVERS:-mock mock-quiet mock-lean ceiling prism mockoon wiremock}"
ID="06e3b7f1-4a2c-4d98-b5f0-e8c1d3a9b754"
FIXTURE="$root/fixtures/handmade/calls/$ID.json"
PATH_="/v2/calls/$ID"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ensure_wrk
build_mock
build_ceiling

npm_dir="$cache/npm"
npm_install() { # package → 0 when installed
  [ -d "$npm_dir/node_modules/$1" ] && return 0
  command -v npm >/dev/null 2>&1 || { echo "npm not found" >"$work/why"; return 1; }
  echo "== installing $1 (npm, into bench/.cache)" >&2
  if ! npm install --prefix "$npm_dir" --no-audit --no-fund "$1" >"$cache/npm-$(basename "$1").log" 2>&1; then
    echo "npm install $1 failed (bench/.cache/npm-$(basename "$1").log)" >"$work/why"; return 1
  fi
}

# --- server definitions: each prints nothing, starts the server on $1 in the background, sets PID
# Its log (a line per request) goes to a file, as a user's would: stderr to /dev/null costs nothing.
start_mock() { "$MOCK_BIN" --port "$1" >/dev/null 2>"$work/mock.err" & PID=$!; }
start_mock-quiet() { RUST_LOG=warn "$MOCK_BIN" --port "$1" >/dev/null 2>"$work/mock-quiet.err" & PID=$!; }
# No per-request log line and no header-read timeout: the same work as the ceiling does.
start_mock-lean() { RUST_LOG=warn "$MOCK_BIN" --port "$1" --header-read-timeout 0 >/dev/null 2>/dev/null & PID=$!; }
# Another build of the mock in its default configuration (MOCK_ALT_BIN), e.g. without a hand-made
# part, measured in the same run as `mock` (issue 29: "removing it costs at least 3 %").
start_mock-alt() {
  [ -x "${MOCK_ALT_BIN:-}" ] || { echo "MOCK_ALT_BIN is not an executable" >"$work/why"; return 1; }
  "$MOCK_ALT_BIN" --port "$1" >/dev/null 2>"$work/mock-alt.err" & PID=$!
}
start_ceiling() { "$CEILING_BIN" "$FIXTURE" "$1" >/dev/null 2>&1 & PID=$!; }

start_prism() {
  npm_install @stoplight/prism-cli || return 1
  node -e '
    const body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const spec = {openapi: "3.0.3", info: {title: "bench", version: "1"},
      components: {securitySchemes: {bearer: {type: "http", scheme: "bearer"}}},
      security: [{bearer: []}],
      paths: {"/v2/calls/{call_id}": {get: {operationId: "getCall",
        parameters: [{name: "call_id", in: "path", required: true, schema: {type: "string"}}],
        responses: {"200": {description: "ok", content: {"application/json": {example: body}}}}}}}};
    require("fs").writeFileSync(process.argv[2], JSON.stringify(spec));' "$FIXTURE" "$work/prism.json"
  "$npm_dir/node_modules/.bin/prism" mock -h 127.0.0.1 -p "$1" "$work/prism.json" >/dev/null 2>"$work/prism.err" & PID=$!
}

start_mockoon() {
  npm_install @mockoon/cli || return 1
  node -e '
    const fs = require("fs");
    const body = fs.readFileSync(process.argv[1], "utf8");
    const env = {uuid: "b0000000-0000-4000-8000-000000000001", lastMigration: 32, name: "bench",
      endpointPrefix: "", latency: 0, port: Number(process.argv[3]), hostname: "127.0.0.1",
      folders: [], rootChildren: [{type: "route", uuid: "b0000000-0000-4000-8000-000000000002"}],
      proxyMode: false, proxyHost: "", proxyRemovePrefix: false, tlsOptions: {enabled: false, type: "CERT", pfxPath: "", certPath: "", keyPath: "", caPath: "", passphrase: ""},
      cors: false, headers: [], proxyReqHeaders: [], proxyResHeaders: [], data: [], callbacks: [],
      routes: [{uuid: "b0000000-0000-4000-8000-000000000002", type: "http", documentation: "", method: "get",
        endpoint: "v2/calls/:call_id", streamingMode: null, streamingInterval: 0,
        responseMode: null,
        responses: [{uuid: "b0000000-0000-4000-8000-000000000003", body: body, latency: 0, statusCode: 200,
          label: "", headers: [{key: "Content-Type", value: "application/json"}], bodyType: "INLINE",
          filePath: "", databucketID: "", sendFileAsBody: false, disableTemplating: true,
          fallbackTo404: false, default: true, crudKey: "id", callbacks: [],
          rules: [{target: "header", modifier: "Authorization", value: "^Bearer .+", invert: false, operator: "regex"}],
          rulesOperator: "OR"},
         {uuid: "b0000000-0000-4000-8000-000000000004", body: "{\"detail\":\"unauthorized\"}", latency: 0, statusCode: 401,
          label: "", headers: [{key: "Content-Type", value: "application/json"}], bodyType: "INLINE",
          filePath: "", databucketID: "", sendFileAsBody: false, disableTemplating: true,
          fallbackTo404: false, default: false, crudKey: "id", callbacks: [], rules: [], rulesOperator: "OR"}]}]};
    fs.writeFileSync(process.argv[2], JSON.stringify(env));' "$FIXTURE" "$work/mockoon.json" "$1"
  "$npm_dir/node_modules/.bin/mockoon-cli" start --data "$work/mockoon.json" --port "$1" --hostname 127.0.0.1 --disable-log-to-file --disable-admin-api --repair >/dev/null 2>"$work/mockoon.err" & PID=$!
}

start_wiremock() {
  command -v java >/dev/null 2>&1 || { echo "java not found" >"$work/why"; return 1; }
  npm_install wiremock || return 1
  local jar
  jar=$(find "$npm_dir/node_modules/wiremock" -name 'wiremock*standalone*.jar' | head -1)
  [ -n "$jar" ] || { echo "no standalone jar in the wiremock npm package" >"$work/why"; return 1; }
  mkdir -p "$work/wm/mappings" "$work/wm/__files"
  cp "$FIXTURE" "$work/wm/__files/call.json"
  cat >"$work/wm/mappings/call.json" <<JSON
{"request": {"method": "GET", "urlPathPattern": "/v2/calls/[^/]+",
  "headers": {"Authorization": {"matches": "Bearer .+"}}},
 "response": {"status": 200, "bodyFileName": "call.json", "headers": {"Content-Type": "application/json"}}}
JSON
  java -jar "$jar" --port "$1" --bind-address 127.0.0.1 --root-dir "$work/wm" --disable-banner \
    --no-request-journal >/dev/null 2>"$work/wiremock.err" & PID=$!
}

# Same body check: byte-identical, or the same JSON value.
body_check() {
  curl -s --max-time 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1$PATH_" -o "$work/body" || true
  if cmp -s "$work/body" "$FIXTURE"; then echo "same bytes"
  elif node -e 'const f=require("fs");const a=JSON.parse(f.readFileSync(process.argv[1]));const b=JSON.parse(f.readFileSync(process.argv[2]));process.exit(require("util").isDeepStrictEqual(a,b)?0:1)' "$work/body" "$FIXTURE" 2>/dev/null; then echo "same JSON"
  else echo "DIFFERENT BODY"; fi
}

results="$work/results"
: >"$results"
port=18080
echo "== machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), load avg $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The median of a space-separated list, for the awk programs below (the mean of the middle two
# when the count is even).
AWK_MEDIAN='
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }'

# CPU time (user + system, in clock ticks) of a process and its threads.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
TICKS=$(getconf CLK_TCK)

# Per server of the round: its pid, port, url, and the sums over its slices.
declare -A PIDS URLS START BODY REQS SECS P50S P99S ERRS SCPU CCPU

start_one() { # server → 0 when it is up and warmed
  local s=$1 t0 t1
  port=$(free_port $((port + 1)))
  rm -f "$work/why"
  echo "== $s on 127.0.0.1:$port" >&2
  # The last round's log (100+ MB at full speed) must not be truncated inside the timed start.
  rm -f "$work/$s.err"
  t0=$EPOCHREALTIME
  if ! "start_$s" "$port"; then
    echo "SKIPPED $s: $(cat "$work/why" 2>/dev/null || echo 'could not start')" >&2
    echo "$s skipped $(cat "$work/why" 2>/dev/null | tr ' ' '_')" >>"$results"
    skipped+=" $s "
    return 1
  fi
  if ! t1=$("$FIRST200_BIN" "127.0.0.1:$port" "$PATH_" "$TOKEN" 120000); then
    echo "SKIPPED $s: no 200 within 120 s (stderr: $(tail -c 300 "$work/$s.err" 2>/dev/null))" >&2
    echo "$s skipped no_200" >>"$results"
    skipped+=" $s "
    stop_pid "$PID"; return 1
  fi
  PIDS[$s]=$PID
  START[$s]=$(awk -v a="${t0/./}" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
  BODY[$s]=$(body_check "$port")
  URLS[$s]="http://127.0.0.1:$port$PATH_"
  REQS[$s]=0; SECS[$s]=0; P50S[$s]=""; P99S[$s]=""; ERRS[$s]=0; SCPU[$s]=0; CCPU[$s]=0
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" -H "Authorization: Bearer $TOKEN" "${URLS[$s]}" >/dev/null || true
}

# One counted slice of load on a server: adds its requests, seconds, p50/p99, errors, the
# server's CPU ticks and wrk's own CPU seconds (bash's `time`) to the server's sums.
slice_one() { # server
  local s=$1 c0 c1 rps p50 p99 errors n secs
  c0=$(cpu_ticks "${PIDS[$s]}")
  { TIMEFORMAT='%U %S'; time wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SLICE}s" --latency \
      -H "Authorization: Bearer $TOKEN" "${URLS[$s]}" >"$work/$s.wrk"; } 2>"$work/$s.time" || true
  c1=$(cpu_ticks "${PIDS[$s]}")
  read -r rps p50 p99 errors < <(parse_wrk <"$work/$s.wrk")
  read -r n secs < <(awk '/ requests in / { sub(/,$/, "", $4); v = $4; s = v + 0
    if (v ~ /ms$/) s /= 1000; else if (v ~ /m$/) s *= 60; print $1, s }' "$work/$s.wrk")
  REQS[$s]=$((REQS[$s] + ${n:-0}))
  SECS[$s]=$(awk -v a="${SECS[$s]}" -v b="${secs:-0}" 'BEGIN { print a + b }')
  P50S[$s]+=" $p50"; P99S[$s]+=" $p99"
  ERRS[$s]=$((ERRS[$s] + errors))
  SCPU[$s]=$((SCPU[$s] + c1 - c0))
  CCPU[$s]=$(tail -n 1 "$work/$s.time" | awk -v a="${CCPU[$s]}" '{ print a + $1 + $2 }')
}

# Ends a server's round: peak RSS, stop, one line of results.
finish_one() { # server
  local s=$1 peak_kb rps cpu p50 p99
  peak_kb=$(rss_kb "${PIDS[$s]}" VmHWM)
  stop_pid "${PIDS[$s]}"
  if [ "$s" = mock ]; then
    echo "   log: $(grep -c ' synthflow_mock::request: ' "$work/mock.err" || true) request lines written; $(grep -h 'log line(s) dropped' "$work/mock.err" | tail -1 || true)" >&2
  fi
  rps=$(awk -v n="${REQS[$s]}" -v t="${SECS[$s]}" 'BEGIN { printf "%.2f", (t > 0 ? n / t : 0) }')
  # The server's CPU per request over wrk's: the machine's speed moves both alike.
  cpu=$(awk -v s="${SCPU[$s]}" -v tk="$TICKS" -v c="${CCPU[$s]}" 'BEGIN { printf "%.3f", (c > 0 ? s / tk / c : 0) }')
  read -r p50 p99 < <(echo "${P50S[$s]}" "|" "${P99S[$s]}" | awk -F'|' "$AWK_MEDIAN"'
    { print median($1), median($2) }')
  echo "   $s: $rps req/s over ${SECS[$s]} s, p50 $p50 ms, p99 $p99 ms (medians of its slices), peak RSS $((peak_kb / 1024)) MB, first 200 after ${START[$s]} ms, ${ERRS[$s]} errors, CPU per request ${cpu}x wrk's, body: ${BODY[$s]}" >&2
  echo "$s ok $rps $p50 $p99 $peak_kb ${START[$s]} ${ERRS[$s]} ${BODY[$s]// /_} $cpu" >>"$results"
}

servers=($SERVERS)
skipped=" "
slices=$(( (DURATION + SLICE - 1) / SLICE ))
for ((round = 0; round < ROUNDS; round++)); do
  echo "== round $((round + 1)) of $ROUNDS" >&2
  up=()
  for ((k = 0; k < ${#servers[@]}; k++)); do
    s=${servers[(k + round) % ${#servers[@]}]}
    [[ "$skipped" == *" $s "* ]] && continue
    start_one "$s" && up+=("$s")
  done
  # The counted load in slices taken in turn, each server's order rotated every slice: a drift
  # of the machine's speed (10-40% within seconds on a shared VM) falls on every server alike.
  for ((j = 0; j < slices; j++)); do
    for ((k = 0; k < ${#up[@]}; k++)); do
      slice_one "${up[(k + j) % ${#up[@]}]}"
    done
  done
  for s in "${up[@]}"; do finish_one "$s"; done
done

# The table, with ratios to synthflow-mock (its default row).
mkdir -p "$root/bench/results"
out="$root/bench/results/latest.md"
awk -v dur="$DURATION" -v slice="$SLICE" -v warm="$WARMUP" -v conn="$CONNECTIONS" -v thr="$THREADS" -v rounds="$ROUNDS" \
    -v machine="$(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -sr)" \
    -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v date="$(date -u +%Y-%m-%dT%H:%MZ)" "$AWK_MEDIAN"'
  {
    if (!($1 in seen)) { seen[$1] = ++count; name[count] = $1 }
    i = seen[$1]
    if ($2 != "ok") { state[i] = "skipped"; why[i] = $3; next }
    state[i] = "ok"
    rps[i] = rps[i] " " $3; p50[i] = p50[i] " " $4; p99[i] = p99[i] " " $5; kb[i] = kb[i] " " $6; st[i] = st[i] " " $7
    err[i] += $8; cpu[i] = cpu[i] " " $10
    if (body[i] == "" || $9 != body[i]) body[i] = (body[i] == "" ? $9 : "DIFFERENT_BODY")
  }
  function r(a, b) { return (b > 0) ? sprintf("%.2fx", a / b) : "-" }
  END {
    for (i = 1; i <= count; i++) if (state[i] == "ok") {
      m_cpu[i] = median(cpu[i]); m_rps[i] = median(rps[i]); m_p50[i] = median(p50[i]); m_p99[i] = median(p99[i]); m_kb[i] = median(kb[i]); m_st[i] = median(st[i])
      if (name[i] == "mock") base = i
    }
    printf "Run %s on %s (load avg at end %s); wrk -t%s -c%s, %ss warm-up, %ss counted in %ss slices taken in turn, keep-alive; median of %s rounds, servers in rotated order.\n\n", date, machine, load, thr, conn, warm, dur, slice, rounds
    print "| server | req/s | p50 ms | p99 ms | peak RSS MB | first 200 ms | errors | body | CPU/request ÷ wrk'"'"'s | req/s vs mock | p99 vs mock | RSS vs mock | start vs mock |"
    print "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= count; i++) {
      if (state[i] != "ok") { printf "| %s | skipped: %s ||||||||||||\n", name[i], why[i]; continue }
      printf "| %s | %.0f | %.3f | %.3f | %.1f | %.1f | %d | %s | %.3f | %s | %s | %s | %s |\n", name[i], m_rps[i], m_p50[i], m_p99[i], m_kb[i] / 1024, m_st[i], err[i], body[i], m_cpu[i],
        base ? r(m_rps[i], m_rps[base]) : "-", base ? r(m_p99[i], m_p99[base]) : "-", base ? r(m_kb[i], m_kb[base]) : "-", base ? r(m_st[i], m_st[base]) : "-"
    }
    printf "\nreq/s of each round:"
    for (i = 1; i <= count; i++) if (state[i] == "ok") printf " %s:%s;", name[i], rps[i]
    printf "\n"
    # Against the ceiling round by round: the servers of a round ran within a minute of each
    # other, so a drift of the machine between rounds cancels out of the ratio of each round.
    for (i = 1; i <= count; i++) if (name[i] == "ceiling" && state[i] == "ok") c = i
    if (c) {
      n_c = split(rps[c], rc, " ")
      printf "\nreq/s ÷ the ceiling'"'"'s in the same round (median of the rounds):"
      for (i = 1; i <= count; i++) if (state[i] == "ok" && i != c) {
        n_i = split(rps[i], ri, " "); list = ""
        if (n_i != n_c) continue
        for (k = 1; k <= n_i; k++) list = list " " sprintf("%.3f", ri[k] / rc[k])
        printf " %s:%s (median %.3f);", name[i], list, median(list)
      }
      printf "\n"
      # Every round'"'"'s req/s added up: the mean'"'"'s ratio, which weighs each round alike.
      printf "\nreq/s of all the rounds ÷ the ceiling'"'"'s:"
      for (i = 1; i <= count; i++) if (state[i] == "ok" && i != c) {
        n_i = split(rps[i], ri, " ")
        if (n_i != n_c) continue
        si = 0; sc = 0
        for (k = 1; k <= n_i; k++) { si += ri[k]; sc += rc[k] }
        printf " %s: %.3f;", name[i], si / sc
      }
      printf "\n"
      # The same from CPU time alone: wrk shares the two cores, so a server whose request costs
      # s (in units of wrk'"'"'s cost of one) makes (1 + s_ceiling) / (1 + s) of the ceiling'"'"'s req/s.
      printf "\nreq/s ÷ the ceiling'"'"'s as CPU per request predicts it, (1 + ceiling'"'"'s) ÷ (1 + server'"'"'s), medians of the rounds:"
      for (i = 1; i <= count; i++) if (state[i] == "ok" && i != c && m_cpu[i] > 0)
        printf " %s: %.3f;", name[i], (1 + m_cpu[c]) / (1 + m_cpu[i])
      printf "\n"
    }
  }' "$results" | tr '_' ' ' >"$out.tmp"
mv "$out.tmp" "$out"

# The integrator loop's rows (POST /v2/calls, webhook deliveries, a silent receiver): the same
# peers' table, measured by bench/webhooks.sh for the servers of this run that it knows.
if [ "$WEBHOOKS" = 1 ]; then
  hook_servers=""
  for s in "${servers[@]}"; do
    case $s in mock | wiremock) [[ "$skipped" == *" $s "* ]] || hook_servers+=" $s" ;; esac
  done
  if [ -n "$hook_servers" ]; then
    echo "== POST /v2/calls and webhooks (bench/webhooks.sh, servers:$hook_servers)" >&2
    if SERVERS="${hook_servers# }" DURATION="$DURATION" CONNECTIONS="$CONNECTIONS" THREADS="$THREADS" \
        bash "$root/bench/webhooks.sh" >"$work/webhooks.out" 2>"$work/webhooks.err"; then
      { echo; echo "### POST /v2/calls and webhooks (bench/webhooks.sh)"; echo
        cat "$root/bench/results/webhooks.md"; } >>"$out"
    else
      echo "bench/webhooks.sh failed: $(tail -c 400 "$work/webhooks.err")" >&2
      printf '\n### POST /v2/calls and webhooks\n\nbench/webhooks.sh failed (see its stderr).\n' >>"$out"
    fi
  fi
fi

echo
cat "$out"
echo
echo "(written to bench/results/latest.md)"
