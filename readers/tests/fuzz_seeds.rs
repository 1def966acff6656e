//! Replays the committed `pn532_frame` fuzz seeds (`fuzz/seeds/pn532_frame`),
//! and every prefix of each, through the check the cargo-fuzz target runs
//! (`fuzz/common/pn532_frame.rs`, included here), so a regression fails an
//! ordinary `cargo test` on stable.

#![cfg(feature = "pn532")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

#[path = "../../fuzz/common/pn532_frame.rs"]
mod check;

#[test]
fn pn532_frame_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/pn532_frame");
    let mut n = 0;
    let mut decoded = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(file.unwrap().path()).unwrap();
        for cut in 0..=data.len() {
            check::pn532_frame(&data[..cut]);
        }
        decoded += usize::from(emv_readers::pn532::frame::decode(&data).is_ok());
        n += 1;
    }
    assert!(n >= 10);
    assert!(decoded >= 8, "{decoded} of {n} seeds decode");
}
