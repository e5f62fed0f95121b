#!/usr/bin/env bash
# Shows that fuzz/run.sh can fail: runs it on the `selftest` target three times, with a build
# that is broken on purpose (FUZZ_SELFTEST_BROKEN_BUILD, a const assertion in
# fuzz_targets/selftest.rs), with a crash on purpose (FUZZ_SELFTEST_CRASH), and clean; the first
# two must exit non-zero, the third zero with its figures line. Not part of .ci/run (it needs the
# fuzz build, minutes of compiling): run it after changing run.sh. Usage: bash fuzz/selftest.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work" fuzz/artifacts/selftest' EXIT
passed=0 failed=0

# expect ok|fail "what" VAR=value...: runs run.sh selftest with those variables.
expect() {
  local want=$1 what=$2 got
  shift 2
  if env FUZZ_WORK="$work" "$@" bash fuzz/run.sh selftest >"$work/out" 2>&1; then got=ok; else got=fail; fi
  if [[ $got == "$want" ]]; then
    echo "ok: $what ($(grep -E '^(FAILED|== selftest:)' "$work/out" | head -1))"
    passed=$((passed + 1))
  else
    echo "WRONG: $what: run.sh gave $got, expected $want"
    tail -30 "$work/out"
    failed=$((failed + 1))
  fi
}

expect fail "a target that does not build fails the run" FUZZ_SELFTEST_BROKEN_BUILD=1 FUZZ_SECONDS=2
expect fail "a crash fails the run" FUZZ_SELFTEST_CRASH=1 FUZZ_SECONDS=5
if ! grep -q '^FAILED: fuzz target selftest crashed' "$work/out"; then
  echo "WRONG: the crash was not reported as a crash"
  failed=$((failed + 1))
fi
expect ok "a clean run passes and prints its figures" FUZZ_SECONDS=3
if ! grep -Eq '^== selftest: [0-9]+ executions in [0-9]+s, coverage [0-9?]+ -> [0-9]+ edges' "$work/out"; then
  echo "WRONG: the clean run printed no figures line"
  failed=$((failed + 1))
fi
echo "fuzz selftest: $passed passed, $failed failed"
((failed == 0))
