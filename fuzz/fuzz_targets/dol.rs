//! DOL: parse, build from a source, and split arbitrary bytes.
#![no_main]

use emv_kernel::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzzing::dol(data));
