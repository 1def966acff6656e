//! Replays the committed fuzz seeds (`fuzz/seeds/{tlv,dol,apdu}`) through the
//! same entry points the cargo-fuzz targets use, so a regression on any of
//! them fails an ordinary `cargo test` on stable.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut n = 0;
    for file in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = file.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        entry(&data);
        // Every prefix too: truncated card data must never panic either.
        for cut in 0..data.len() {
            entry(&data[..cut]);
        }
        n += 1;
    }
    n
}

#[test]
fn tlv_seeds() {
    assert!(replay("tlv", emv_kernel::fuzzing::tlv) >= 50);
}

#[test]
fn dol_seeds() {
    assert!(replay("dol", emv_kernel::fuzzing::dol) >= 10);
}

#[test]
fn apdu_seeds() {
    assert!(replay("apdu", emv_kernel::fuzzing::apdu) >= 100);
}
