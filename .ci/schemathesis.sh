#!/usr/bin/env bash
# Fuzz synthflow-mock against the vendor's OpenAPI document with schemathesis, every check.
#
#   .ci/schemathesis.sh [PATH_TO_SYNTHFLOW_MOCK]
#
# The mock binary is $1, else $SYNTHFLOW_MOCK_BIN, else built here (cargo build -p synthflow-mock).
# It is started on 127.0.0.1 with a free port (its defaults: embedded fixtures, any Bearer token,
# 400 for an unknown id) and stopped on exit. All traffic stays on loopback.
#
# The document (spec/synthflow-get-call.openapi.yaml) is used unchanged. Its two known gaps are
# accounted for in spec/schemathesis/ (schemathesis.toml and hooks.py), and only those:
#   (a) no 401 declared        -> hooks.py adds a 401 response in memory;
#   (b) any string is an id    -> positive_data_acceptance also expects the documented 400;
# plus the erratum the contract checks apply (src/contract/schema.rs ERRATA): collected_variables
# may be null, as the document's own description says -> hooks.py makes it ["object","null"].
# Half the positive cases use the mock's real fixture ids (`synthflow-mock list`) so that 200
# bodies are checked for conformance too; SYNTHFLOW_ST_FIXTURE_IDS=0 turns that off.
#
# Environment knobs:
#   SCHEMATHESIS_MAX_EXAMPLES (200)   test cases per phase
#   SCHEMATHESIS_SEED                 reproduce a run (the seed is printed at the end of each run)
#   SCHEMATHESIS_TIMEOUT (600)        hard bound on the schemathesis run, seconds
#   SCHEMATHESIS_REPORT_DIR           keep JUnit + HAR reports there (default: discarded)
#   SYNTHFLOW_ST_FIXTURE_IDS (1)      0: random ids only (200 bodies then go unchecked)
#   PYTHON (python3)                  interpreter schemathesis is installed into / run with
#   SYNTHFLOW_ST_SUITE (calls)        agents: the vendor's whole document (spec/synthflow-openapi.json)
#                                     on ^/(assistants|actions) instead, with spec/schemathesis/agents.toml
#                                     and agents_hooks.py (errata: src/contract/agents.rs)
#
# Exit status: schemathesis's (non-zero when it found a failure), or non-zero on a setup error.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
TOKEN=test-token

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPEC="$ROOT/spec/synthflow-get-call.openapi.yaml"
ST_DIR="$ROOT/spec/schemathesis"
SUITE=${SYNTHFLOW_ST_SUITE:-calls}
HOOKS="$ST_DIR/hooks.py"
FILTER=()
if [[ "$SUITE" == agents ]]; then
    SPEC="$ROOT/spec/synthflow-openapi.json"
    HOOKS="$ST_DIR/agents_hooks.py"
    # Anchored: the memory_stores paths also contain /assistants/, and the mock has no memory stores.
    FILTER=(--include-path-regex '^/(assistants|actions)')
elif [[ "$SUITE" != calls ]]; then
    printf 'schemathesis.sh: SYNTHFLOW_ST_SUITE must be calls or agents, not %s\n' "$SUITE" >&2
    exit 2
fi
# A virtual environment of its own (not the machine's Python), kept in target/ between runs.
if [[ -z "${PYTHON:-}" ]]; then
    VENV="$ROOT/target/ci-venv"
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -m venv "$VENV"
    fi
    PYTHON="$VENV/bin/python"
fi
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-200}
RUN_TIMEOUT=${SCHEMATHESIS_TIMEOUT:-600}

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }

# --- schemathesis, pinned -------------------------------------------------------------------
installed=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
if [[ "$installed" != "$SCHEMATHESIS_VERSION" ]]; then
    log "installing schemathesis==$SCHEMATHESIS_VERSION (found: ${installed:-none})"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the mock binary ------------------------------------------------------------------------
BIN=${1:-${SYNTHFLOW_MOCK_BIN:-}}
if [[ -z "$BIN" ]]; then
    log "building synthflow-mock"
    (cd "$ROOT" && cargo build --quiet -p synthflow-mock)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/synthflow-mock"
fi
[[ -x "$BIN" ]] || { log "no executable mock at $BIN"; exit 2; }

# The mock reads these; its documented defaults are what the vendor's document is checked against.
MOCK_ENV=(env -u SYNTHFLOW_MOCK_FIXTURES -u SYNTHFLOW_MOCK_ALLOW_OUT_OF_SPEC -u SYNTHFLOW_MOCK_HOST
    -u SYNTHFLOW_MOCK_PORT -u SYNTHFLOW_MOCK_TOKENS -u SYNTHFLOW_MOCK_UNKNOWN_ID_STATUS)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/synthflow-schemathesis.XXXXXX")
MOCK_PID=
cleanup() {
    local rc=$?
    if [[ -n "$MOCK_PID" ]] && kill -0 "$MOCK_PID" 2>/dev/null; then
        kill "$MOCK_PID" 2>/dev/null || true
        wait "$MOCK_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s "$WORK/mock.err" ]]; then
        log "last lines of the mock's log:"
        tail -n 20 "$WORK/mock.err" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- run configuration: the committed config plus this build's fixture ids ----------------
"${MOCK_ENV[@]}" "$BIN" list | awk 'NR > 1 && NF { print $1 }' > "$WORK/fixture-ids.txt"
[[ -s "$WORK/fixture-ids.txt" ]] || { log "synthflow-mock list printed no ids"; exit 2; }
log "$(wc -l < "$WORK/fixture-ids.txt") fixture ids"
if [[ "$SUITE" == agents ]]; then
    cp "$ST_DIR/agents.toml" "$WORK/schemathesis.toml"
    ERRATUM=0
elif [[ "${SYNTHFLOW_ST_FIXTURE_IDS:-1}" == 0 ]]; then
    log "SYNTHFLOW_ST_FIXTURE_IDS=0: random ids only, the two accommodations only (no erratum): 200 bodies are not checked"
    ERRATUM=0
    grep -v '^"path.call_id"' "$ST_DIR/schemathesis.toml" > "$WORK/schemathesis.toml"
else
    cp "$ST_DIR/schemathesis.toml" "$WORK/schemathesis.toml"
    sed 's/.*/"&"/' "$WORK/fixture-ids.txt" > "$WORK/fixture-ids.dict"
    printf '\n[dictionaries.fixture-ids]\nfrom-file = "fixture-ids.dict"\n' >> "$WORK/schemathesis.toml"
    ERRATUM=1
fi

# --- start the mock on a free loopback port -------------------------------------------------
"${MOCK_ENV[@]}" RUST_LOG=warn "$BIN" serve --host 127.0.0.1 --port 0 > "$WORK/mock.out" 2> "$WORK/mock.err" &
MOCK_PID=$!
PORT=
for _ in $(seq 1 100); do
    PORT=$(sed -n 's#^synthflow-mock: serving .* on http://127\.0\.0\.1:\([0-9][0-9]*\)/v2/calls/.*#\1#p' "$WORK/mock.out")
    [[ -n "$PORT" ]] && break
    kill -0 "$MOCK_PID" 2>/dev/null || { log "the mock exited before serving"; exit 2; }
    sleep 0.1
done
[[ -n "$PORT" ]] || { log "the mock printed no port within 10 s"; exit 2; }
BASE_URL="http://127.0.0.1:$PORT/v2"
log "mock (pid $MOCK_PID) at $BASE_URL"

# --- schemathesis ---------------------------------------------------------------------------
ST=(schemathesis --config-file "$WORK/schemathesis.toml" run "$SPEC"
    --url "$BASE_URL"
    --checks all
    --header "Authorization: Bearer $TOKEN"
    --max-examples "$MAX_EXAMPLES"
    --request-timeout 10
    --generation-database none
    "${FILTER[@]}")
[[ -n "${SCHEMATHESIS_SEED:-}" ]] && ST+=(--seed "$SCHEMATHESIS_SEED")
if [[ -n "${SCHEMATHESIS_REPORT_DIR:-}" ]]; then
    mkdir -p "$SCHEMATHESIS_REPORT_DIR"
    ST+=(--report junit,har --report-dir "$(cd "$SCHEMATHESIS_REPORT_DIR" && pwd)")
fi
log "running (cwd $WORK): SCHEMATHESIS_HOOKS=$HOOKS SYNTHFLOW_ST_ERRATUM=$ERRATUM SYNTHFLOW_FIXTURE_IDS_FILE=$WORK/fixture-ids.txt $(printf '%q ' "${ST[@]}")"

set +e
(
    cd "$WORK"
    # Loopback only: never through a proxy.
    unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
    export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
    export SCHEMATHESIS_HOOKS="$HOOKS"
    export SYNTHFLOW_FIXTURE_IDS_FILE="$WORK/fixture-ids.txt" SYNTHFLOW_TEST_TOKEN="$TOKEN"
    export SYNTHFLOW_ST_ERRATUM="$ERRATUM"
    exec timeout --kill-after=10 "$RUN_TIMEOUT" "$PYTHON" -m schemathesis.cli "${ST[@]:1}"
)
rc=$?
set -e
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    log "schemathesis did not finish within ${RUN_TIMEOUT} s"
elif [[ $rc -ne 0 ]]; then
    log "schemathesis reported failures (exit $rc)"
else
    log "schemathesis: no failures"
fi
exit "$rc"
