//! Replays the committed fuzz seeds (`fuzz/seeds/{tlv,dol,apdu,contact}`) through the
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

#[test]
fn contact_seeds() {
    use emv_kernel::contact::machine::Outcome;
    let n = replay("contact", |data| {
        let _ = emv_kernel::fuzzing::contact(data);
    });
    assert!(n >= 10);
    // The whole seeds reach a variety of outcomes (see fuzz/make_seeds.py):
    // a complete transaction to a cryptogram, a blocked card, terminations.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/contact");
    let mut outcomes = Vec::new();
    for file in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(file.unwrap().path()).unwrap();
        outcomes.push(emv_kernel::fuzzing::contact(&data).expect("an outcome"));
    }
    for expected in [
        Outcome::DeclinedOffline,
        Outcome::CardBlocked,
        Outcome::NotAccepted,
    ] {
        assert!(outcomes.contains(&expected), "{expected:?} in {outcomes:?}");
    }
    assert!(outcomes.iter().any(|o| matches!(o, Outcome::Terminated(_))));
}
