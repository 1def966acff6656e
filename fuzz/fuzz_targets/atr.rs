//! ATR parsing, EMV acceptance and explanation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| emv_hal::fuzzing::atr(data));
