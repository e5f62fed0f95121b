#!/usr/bin/env bash
# Runs every cargo-fuzz target for a time budget each (FUZZ_SECONDS, default 60), starting from the
# seed corpus in fuzz/corpus/<target>/ (read-only) and growing a working corpus under
# target/fuzz-corpus/<target>/ so the repository's corpus stays small. A crash leaves its input in
# fuzz/artifacts/<target>/ and fails the script: copy it into fuzz/corpus/<target>/ with the fix,
# and mock-server/tests/fuzz_corpus.rs replays it on every `cargo test`.
#
# Needs cargo-fuzz (installed here if missing) and a nightly toolchain; without nightly it tries
# the stable one with RUSTC_BOOTSTRAP=1, and skips with a reason if neither builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${FUZZ_SECONDS:-60}"
targets=("${@:-fixture request}")
read -r -a targets <<< "${targets[*]}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(rustup run nightly cargo fuzz)
else
  echo "(no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1)"
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

for t in "${targets[@]}"; do
  echo "== building fuzz target $t"
  if ! "${fuzz[@]}" build --fuzz-dir fuzz "$t"; then
    echo "SKIPPED: fuzz target $t does not build with this toolchain" >&2
    exit 0
  fi
done
for t in "${targets[@]}"; do
  work="target/fuzz-corpus/$t"
  mkdir -p "$work"
  echo "== fuzzing $t for ${seconds}s (seeds: fuzz/corpus/$t, working corpus: $work)"
  "${fuzz[@]}" run --fuzz-dir fuzz "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1
done
echo "fuzz: no crash in ${#targets[@]} target(s), ${seconds}s each"
