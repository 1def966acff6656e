//! BER-TLV: iterate, walk, find and explain arbitrary bytes in both modes.
#![no_main]

use emv_kernel::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzzing::tlv(data));
