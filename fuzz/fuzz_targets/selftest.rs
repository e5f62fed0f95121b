//! Not a real target: `fuzz/selftest.sh` uses it to show that `run.sh` fails when a target does
//! not build (`FUZZ_SELFTEST_BROKEN_BUILD` set at build time) and when a run crashes
//! (`FUZZ_SELFTEST_CRASH` set at run time). `run.sh` runs it only when asked by name.
#![no_main]

const _: () = assert!(
    option_env!("FUZZ_SELFTEST_BROKEN_BUILD").is_none(),
    "deliberately broken build (fuzz/selftest.sh)"
);

libfuzzer_sys::fuzz_target!(|data: &[u8]| synthflow_fuzz::selftest(data));
