#![no_main]
// See day2top::invariants::binary_frame for what must hold.
libfuzzer_sys::fuzz_target!(|data: &[u8]| day2top::invariants::binary_frame(data));
