#!/usr/bin/env bash
# Runs README.md's quick start as a newcomer would, commands read from the README itself (so the
# README cannot drift from what is checked):
#
#   1. the first code block under "## Quick start": its first command (the mock, which holds the
#      terminal) in the background until /healthz answers, then
#   2. the next code block ("While the mock runs"), each command as written, in order: every one
#      must exit 0, and the curl's body must be the fixture file the README names, byte for byte;
#   3. Ctrl-C (SIGINT) to the mock: it must exit 0;
#   4. the first block's second command (the test suite), unless --skip-tests (CI runs that same
#      command itself: `bash checks/quick-start.sh --print-test-command`).
#
# Needs port 8080 free (the README's address). Last line: `quick-start: PASS` or `quick-start: FAIL: ...`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'quick-start: %s\n' "$*"; }
fail() {
    say "FAIL: $*"
    exit 1
}

# The commands of the Nth ``` block after "## Quick start" (comments and blank lines dropped).
block() {
    awk -v want="$1" '
        /^## / { inside = ($0 == "## Quick start") }
        inside && /^```/ { fence++; next }
        inside && fence == 2 * want - 1 { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }
    ' README.md | sed -e ':a' -e '/\\$/N; s/\\\n[ \t]*/ /; ta'
}

mapfile -t first < <(block 1)
mapfile -t second < <(block 2)
[ "${#first[@]}" = 2 ] || fail "the quick start's first block should hold two commands, found ${#first[@]}"
[ "${#second[@]}" -ge 1 ] || fail "no 'While the mock runs' block after the quick start"

if [ "${1:-}" = --print-test-command ]; then
    printf '%s\n' "${first[1]}"
    exit 0
fi

serve_cmd=${first[0]}
test_cmd=${first[1]}
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
    fail "port 8080 is taken: the README's quick start serves there"
fi

log=$(mktemp "${TMPDIR:-/tmp}/quick-start.XXXXXX")
body=$(mktemp "${TMPDIR:-/tmp}/quick-start-body.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$log" "$body" "$body.err"
}
trap cleanup EXIT

say "1. $serve_cmd"
start=$(date +%s)
# setsid: the mock gets Ctrl-C as a terminal would send it, to the process group.
setsid bash -c "exec $serve_cmd" >"$log" 2>&1 &
pid=$!
ready=
for _ in $(seq 3600); do
    if ! kill -0 "$pid" 2>/dev/null; then
        tail -20 "$log"
        fail "the mock exited before serving"
    fi
    if grep -q 'serving .* calls on http://127.0.0.1:8080' "$log" &&
        (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.5
done
[ -n "$ready" ] || fail "the mock did not serve on 127.0.0.1:8080 within 30 minutes"
say "   serving after $(($(date +%s) - start)) s: $(grep -m1 'serving' "$log" | sed 's/.*\(serving .*\)/\1/')"

fixture=$(grep -o 'fixtures/[A-Za-z0-9_/.-]*\.json' README.md | head -1)
[ -f "$fixture" ] || fail "the README's fixture file $fixture does not exist"
for cmd in "${second[@]}"; do
    say "2. $cmd"
    # stdout only: curl prints its progress meter on stderr when its output is not a terminal.
    if ! bash -c "$cmd" >"$body" 2>"$body.err"; then
        head -c 600 "$body" "$body.err"
        fail "exit status non-zero: $cmd"
    fi
    case "$cmd" in
    curl*)
        cmp -s "$body" "$fixture" || fail "the curl's body is not $fixture byte for byte"
        say "   body is $fixture, byte for byte"
        ;;
    *) say "   ok ($(wc -l <"$body") lines)" ;;
    esac
done

say "3. Ctrl-C"
kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || {
    tail -5 "$log"
    fail "the mock exited with $status on Ctrl-C"
}

if [ "${1:-}" = --skip-tests ]; then
    say "4. skipped: $test_cmd (--skip-tests)"
else
    say "4. $test_cmd"
    bash -c "$test_cmd" || fail "$test_cmd failed"
fi
say PASS
