# Shared by bench/compare.sh and bench/soak.sh: tools, builds, process helpers. Loopback only.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/bench/.cache"
mkdir -p "$cache"
TOKEN="bench-token-not-a-secret"

# The load generator: wrk (Debian package), installed with apt-get when missing and allowed.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing wrk (apt-get)" >&2
    { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; } >"$cache/apt-wrk.log" 2>&1 || true
  fi
  command -v wrk >/dev/null 2>&1 || { echo "cannot install wrk (see $cache/apt-wrk.log)" >&2; return 1; }
}

build_mock() {
  echo "== building synthflow-mock (release)" >&2
  (cd "$root" && cargo build --release -q -p synthflow-mock) >&2
  MOCK_BIN="$root/target/release/synthflow-mock"
}

build_ceiling() {
  echo "== building the hyper ceiling (release)" >&2
  cargo build --release -q --manifest-path "$root/bench/ceiling/Cargo.toml" --target-dir "$root/target" >&2
  CEILING_BIN="$root/target/release/ceiling"
  FIRST200_BIN="$root/target/release/first200"
}

# The port a starting mock prints on its stdout (`... http://127.0.0.1:PORT/...`), read from the
# file $1, waiting up to $2 tenths of a second (300); prints nothing if it never came.
wait_for_port() {
  local file=$1 tries=${2:-300} port=
  for _ in $(seq 1 "$tries"); do
    port=$(sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$file" 2>/dev/null)
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  echo "$port"
}

# A port nothing listens on, from a fixed range so runs are repeatable.
free_port() {
  local p
  for p in $(seq "${1:-18080}" 18999); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

# Peak and current resident memory of a pid, in kB (VmHWM / VmRSS), summed over its children.
rss_kb() { # pid field
  local total=0 p v
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    v=$(awk -v f="$2:" '$1==f {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wrk --latency output → "rps p50_ms p99_ms errors"
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %d\n", rps, p50, p99, err }'
}
