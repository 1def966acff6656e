//! One APDU exchange through the t1 engine, every card byte from the input
//! (see `emv_hal::fuzzing::t1` for the layout and invariants).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = emv_hal::fuzzing::t1(data);
});
