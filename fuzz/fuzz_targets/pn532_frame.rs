//! PN532 host frame decoding, re-encoding and `wire_len` (see
//! `../common/pn532_frame.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/pn532_frame.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::pn532_frame(data));
