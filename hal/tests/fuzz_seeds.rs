//! Replays the committed ATR fuzz seeds (`fuzz/seeds/atr`), and every prefix
//! of each, through the entry point the cargo-fuzz target uses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

#[test]
fn atr_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/atr");
    let mut n = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(file.unwrap().path()).unwrap();
        for cut in 0..=data.len() {
            emv_hal::fuzzing::atr(&data[..cut]);
        }
        n += 1;
    }
    assert!(n >= 5);
}
