//! Replays the committed fuzz seeds of the `emv-hal` targets
//! (`fuzz/seeds/{atr,t0,t1,iso_dep}`), and every prefix of each, through the
//! entry points the cargo-fuzz targets use, so a regression fails an
//! ordinary `cargo test` on stable.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

/// Runs `entry` on every seed of `target` and every prefix of each; returns
/// the number of seeds and how many of them (whole) gave `Some`.
fn replay<T: std::fmt::Debug>(target: &str, entry: fn(&[u8]) -> Option<T>) -> (usize, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| f.unwrap().path())
        .collect();
    paths.sort();
    let mut some = 0;
    for path in &paths {
        let data = std::fs::read(path).unwrap();
        for cut in 0..data.len() {
            let _ = entry(&data[..cut]);
        }
        let whole = entry(&data);
        println!("{target} {}: {whole:?}", path.display());
        some += usize::from(whole.is_some());
    }
    (paths.len(), some)
}

#[test]
fn atr_seeds() {
    let (n, _) = replay("atr", |d| {
        emv_hal::fuzzing::atr(d);
        Some(())
    });
    assert!(n >= 5);
}

#[test]
fn t0_seeds() {
    let (n, complete) = replay("t0", emv_hal::fuzzing::t0);
    assert!(n >= 10);
    // The seeds with a full exchange (see fuzz/make_seeds.py) complete.
    assert!(complete >= 5, "{complete} complete");
}

#[test]
fn t1_seeds() {
    let (n, complete) = replay("t1", emv_hal::fuzzing::t1);
    assert!(n >= 10);
    assert!(complete >= 7, "{complete} complete");
}

#[test]
fn iso_dep_seeds() {
    let (n, complete) = replay("iso_dep", emv_hal::fuzzing::iso_dep);
    assert!(n >= 10);
    assert!(complete >= 7, "{complete} complete");
}
