//! C-APDU and R-APDU parsing, and re-encoding of what parses.
#![no_main]

use emv_kernel::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzzing::apdu(data));
