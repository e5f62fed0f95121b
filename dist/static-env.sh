# Sourced, not run: the environment of a fully static build (glibc crt-static), in one place.
# dist/build-static.sh sources it; .ci/run sources it for the whole run, so the test build's own
# `synthflow-mock` and `synthflow-check` are the static executables dist/test-static.sh runs in an
# empty root (one build instead of two).
#
# An explicit target (CARGO_BUILD_TARGET) keeps crt-static off build scripts and proc-macros: they
# run on the host and are linked dynamically as usual; with a target set, RUSTFLAGS apply to the
# target's artifacts only. Output then goes to target/<host triple>/<profile>/.
#
# getrandom_backend="linux_getrandom": getrandom 0.3/0.4 otherwise look up glibc's getrandom() with
# dlsym, which finds nothing in a static executable, and fall back to opening /dev/urandom: in an
# empty root (no /dev) every uuid v4 (the request_id of error bodies) then panics. This calls
# getrandom() directly (glibc >= 2.25, Linux >= 3.17). getrandom 0.2 uses the syscall already.
static_host=$(rustc -vV | sed -n 's/^host: //p')
case "$static_host" in
*-linux-gnu*) ;;
*)
    printf 'static-env: host %s is not a glibc Linux target; crt-static is only set up for *-linux-gnu\n' "$static_host" >&2
    return 2
    ;;
esac
export CARGO_BUILD_TARGET="$static_host"
case " ${RUSTFLAGS:-} " in
*" target-feature=+crt-static "*) ;;
*) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" ;;
esac
