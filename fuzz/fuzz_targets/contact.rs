//! A whole contact transaction, every R-APDU from the input (see
//! `emv_kernel::fuzzing::contact` for the layout and invariants).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = emv_kernel::fuzzing::contact(data);
});
