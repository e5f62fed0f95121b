#!/usr/bin/env bash
# Runs cargo-fuzz targets for a time budget each (FUZZ_SECONDS, default 60) and fails (exit 1)
# when a target does not build, crashes, or did not run for its budget. Usage:
#   bash fuzz/run.sh                 every real target (not `selftest`)
#   bash fuzz/run.sh request prefer  these targets
# Inputs: the named seeds fuzz/seeds/<target>/ and the minimized corpus fuzz/corpus/<target>/ (both
# read-only); new inputs go to a working corpus, fuzz/target/corpus/<target>/ (FUZZ_WORK to move
# it), so the repository's corpus changes only when you minimize into it (docs/fuzzing.md). A
# crash leaves its input in fuzz/artifacts/<target>/: fix the bug, copy the input into
# fuzz/seeds/<target>/, and `cargo test` replays it from then on.
# After each run it prints one line: executions, coverage (edges), features, corpus size, time.
#
# Needs cargo-fuzz (installed if missing) and nightly features: a nightly toolchain if there is
# one (unless FUZZ_TOOLCHAIN=stable), else the stable one with RUSTC_BOOTSTRAP=1 (which lets
# stable accept -Z flags). The fuzz crate builds with its lock file as committed (checked with
# --locked before the build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${FUZZ_SECONDS:-60}"
work_root="${FUZZ_WORK:-fuzz/target/corpus}"
all=(fixture request make_call prefer scenario webhook)
if (($#)); then targets=("$@"); else targets=("${all[@]}"); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# FUZZ_TOOLCHAIN=stable forces the second (to reuse a build made that way: the two toolchains do
# not share build artifacts).
if [[ ${FUZZ_TOOLCHAIN:-} != stable ]] && rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(rustup run nightly cargo fuzz)
else
  echo "(stable toolchain with RUSTC_BOOTSTRAP=1: no nightly, or FUZZ_TOOLCHAIN=stable)"
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

# `cargo fuzz` has no --locked: check the lock first, so the build below cannot change it.
if ! cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null; then
  echo "FAILED: fuzz/Cargo.lock is not up to date (cd fuzz && cargo metadata, then commit it)" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  echo "== building fuzz target $t"
  if ! "${fuzz[@]}" build --fuzz-dir fuzz "$t"; then
    echo "FAILED: fuzz target $t does not build" >&2
    exit 1
  fi
done

summary=()
for t in "${targets[@]}"; do
  work="$work_root/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  inputs=("$work")
  for d in "fuzz/seeds/$t" "fuzz/corpus/$t"; do
    [[ -d $d ]] && inputs+=("$d")
  done
  log="$work_root/$t.log"
  echo "== fuzzing $t for ${seconds}s (inputs: ${inputs[*]}; log: $log)"
  start=$(date +%s)
  set +e
  "${fuzz[@]}" run --fuzz-dir fuzz "$t" "${inputs[@]}" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 2>&1 | tee "$log" | {
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^(==|stat::|SUMMARY|Done)|panicked|Test unit written|FAILED'; true; }
  status=${PIPESTATUS[0]} # of `cargo fuzz run`; the filter's own status is left out above
  set -e
  elapsed=$(($(date +%s) - start))
  if ((status != 0)); then
    echo "FAILED: fuzz target $t crashed or failed (exit $status); input in fuzz/artifacts/$t/, log $log" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  inited=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p' || true)
  files=$(find "$work" -type f | wc -l)
  kb=$(du -sk "$work" | cut -f1)
  if [[ -z $execs || $execs -eq 0 || -z $cov ]]; then
    echo "FAILED: fuzz target $t ran no input (see $log)" >&2
    exit 1
  fi
  if ((elapsed < seconds)); then
    echo "FAILED: fuzz target $t stopped after ${elapsed}s, before its budget of ${seconds}s (see $log)" >&2
    exit 1
  fi
  line="$t: ${execs} executions in ${elapsed}s, coverage ${inited:-?} -> ${cov} edges (${ft} features), working corpus ${files} files / ${kb} kB"
  echo "== $line"
  summary+=("$line")
done
echo "== fuzz summary (no crash, ${seconds}s budget each)"
printf '%s\n' "${summary[@]}"
