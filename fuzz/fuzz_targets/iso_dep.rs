//! One APDU exchange through the iso_dep engine, every card byte from the input
//! (see `emv_hal::fuzzing::iso_dep` for the layout and invariants).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = emv_hal::fuzzing::iso_dep(data);
});
