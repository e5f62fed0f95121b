#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| synthflow_fuzz::webhook(data));
