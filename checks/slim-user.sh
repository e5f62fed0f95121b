#!/usr/bin/env bash
# A test-only user of the mock (`default-features = false`) compiles the server alone: at most 120
# packages, none of the tool crates (fake and rand are the call factory of POST /v2/calls, kept: see
# docs/rust.md); its tests get a fixture, count expectations with the journal off and past its size,
# make a call, and compile docs/rust.md's Rust blocks (its doctests). Run by .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/slim-user"
# No committed lock: resolved as a user's new crate would be.
pkgs=$(cargo tree -e normal,build,dev --prefix none | sed 's/ (\*)//' | sort -u)
n=$(printf '%s\n' "$pkgs" | wc -l)
echo "slim-user: $n packages (cargo tree -e normal,build,dev)"
if [ "$n" -gt 120 ]; then echo "FAIL: more than 120 packages"; exit 1; fi
forbidden=$(printf '%s\n' "$pkgs" | grep -E '^(clap|notify|tracing-subscriber|wiremock|reqwest|jsonschema) ' || true)
if [ -n "$forbidden" ]; then echo "FAIL: the slim build compiles: $forbidden"; exit 1; fi
# The workspace's target/ (shared dependencies are built once).
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target}" cargo test
