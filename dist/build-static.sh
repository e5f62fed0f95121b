#!/usr/bin/env bash
# Builds `synthflow-mock` and `synthflow-check` as fully static Linux executables (glibc, crt-static),
# release profile, checks that they are static, and prints their absolute paths as its last two
# lines (mock first, then check). Everything else it prints goes to stderr.
#
#   bash dist/build-static.sh            # target dir: $CARGO_TARGET_DIR, else ./target
#   bash dist/build-static.sh --check DIR   # no build: check DIR's executables, print their paths
#
# The Dockerfile's build stage runs this same script: one recipe for the binary and the image.
# An explicit --target keeps crt-static off build scripts and proc-macros (they run on the host and
# are linked dynamically as usual); only the two executables are static.
#
# glibc's static getaddrinfo warns at link time that it needs the shared NSS libraries at run time.
# The mock binds IP addresses (--host 0.0.0.0, 127.0.0.1, ::) and never resolves names, and
# synthflow-check resolves a host name only if its --base-url has one (use an IP literal, e.g.
# http://127.0.0.1:8080/v2, in an empty root such as FROM scratch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'build-static: %s\n' "$*" >&2; }

# The target and RUSTFLAGS of a static build, in one place (CI sources the same file).
source dist/static-env.sh || exit 2
host=$CARGO_BUILD_TARGET

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
/*) ;;
*) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

profile=release
if [ "${1:-}" = --check ]; then
    # `--check DIR`: no build; check and print executables already built with dist/static-env.sh
    # (CI: the test build's own binaries, built static, instead of a second build).
    [ -n "${2:-}" ] || {
        log "usage: build-static.sh [--check DIR]"
        exit 2
    }
    profile=prebuilt
    out=$(cd "$2" && pwd)
    log "checking prebuilt executables in $out"
else
    log "target $host, crt-static, release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
    start=$(date +%s)
    # --locked: the image and CI build exactly the versions in Cargo.lock.
    cargo build --locked --release --target "$host" \
        -p synthflow-mock --bin synthflow-mock --features synthflow-mock/online \
        -p contract-tests --bin synthflow-check >&2
    log "cargo build took $(($(date +%s) - start)) s"
    out="$CARGO_TARGET_DIR/$host/release"
fi
status=0
for bin in synthflow-mock synthflow-check; do
    path="$out/$bin"
    if [ ! -x "$path" ]; then
        log "FAIL: $path missing"
        status=1
        continue
    fi
    # Static means: no program interpreter (PT_INTERP) and no needed shared libraries (DT_NEEDED).
    # Read the ELF with readelf when present, else with python3 (both are in the rust image).
    if command -v readelf >/dev/null 2>&1; then
        interp=$(readelf -lW "$path" | grep -c 'INTERP' || true)
        needed=$(readelf -dW "$path" | grep -c '(NEEDED)' || true)
    else
        read -r interp needed < <(python3 - "$path" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF"
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
interp = needed = 0
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    if p_type == 3:  # PT_INTERP
        interp += 1
    if p_type == 2:  # PT_DYNAMIC: count DT_NEEDED (tag 1)
        for off in range(p_offset, p_offset + p_filesz, 16):
            tag, _ = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            needed += tag == 1
print(interp, needed)
PY
)
    fi
    if [ "$interp" != 0 ] || [ "$needed" != 0 ]; then
        log "FAIL: $bin is not static (PT_INTERP: $interp, DT_NEEDED: $needed)"
        status=1
        continue
    fi
    size=$(wc -c <"$path")
    log "ok: $bin static, $size bytes ($(((size + 524288) / 1048576)) MiB)"
    if command -v file >/dev/null 2>&1; then
        log "    file: $(file -b "$path")"
    fi
    if command -v ldd >/dev/null 2>&1; then
        log "    ldd: $(ldd "$path" 2>&1 | tr '\n' ' ')"
    fi
done
[ "$status" = 0 ] || exit "$status"

# The release assets, named as `cargo binstall` looks for them (mock-server/Cargo.toml,
# [package.metadata.binstall]): target/dist/<bin>-<target>.
if [ "$profile" = release ]; then
    mkdir -p "$CARGO_TARGET_DIR/dist"
    for bin in synthflow-mock synthflow-check; do
        cp "$out/$bin" "$CARGO_TARGET_DIR/dist/$bin-$host.tmp"
        mv "$CARGO_TARGET_DIR/dist/$bin-$host.tmp" "$CARGO_TARGET_DIR/dist/$bin-$host"
    done
    log "release assets in $CARGO_TARGET_DIR/dist/"
fi

echo "$out/synthflow-mock"
echo "$out/synthflow-check"
