//! The reference contact deck (`test-cards/decks/*.toml`) runs in
//! `cargo test`: every case of every deck must pass, and a deliberately
//! broken expectation must produce a readable diff that names the bits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use emv_test_cards::deck::{
    deck_paths, default_jobs, diff_text, failure_text, load_deck_str, run_decks, run_loaded,
    summary,
};

fn decks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("decks")
}

#[test]
fn every_reference_deck_passes() {
    let results = run_decks(&[decks()], default_jobs(), None).unwrap();
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(failure_text)
        .collect();
    let (passed, failed) = summary(&results);
    println!("{passed} passed, {failed} failed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let reference = results
        .iter()
        .filter(|r| !r.deck.ends_with("smoke.toml"))
        .count();
    assert!(
        reference >= 100,
        "the reference deck has {reference} cases, fewer than 100"
    );
    // Every area has its file.
    for area in [
        "selection",
        "oda",
        "restrictions",
        "cvm",
        "risk",
        "action",
        "online",
        "faults",
    ] {
        assert!(
            results
                .iter()
                .any(|r| r.deck.ends_with(&format!("{area}.toml"))),
            "no {area}.toml in the results"
        );
    }
}

#[test]
fn a_directory_stands_for_its_sorted_toml_files() {
    let files = deck_paths(&[decks()]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"smoke.toml".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".toml")));
    let missing = deck_paths(&[decks().join("no-such-deck.toml")]).unwrap_err();
    assert!(
        missing.to_string().contains("no-such-deck.toml"),
        "{missing}"
    );
}

/// REF.TRM.001 of risk.toml with the floor limit bit forgotten in the
/// expected TVR and TSI, and the wrong CVM Results.
const BROKEN: &str = r#"
[deck]
id = "BROKEN"

[[case]]
id = "REF.TRM.001-broken"
objective = "Floor limit exceeded, expectations deliberately wrong"
card = "baseline"
[[case.transaction]]
amount = "100.00"
date = 2026-11-28
[case.transaction.expect]
outcome = "approved_offline"
tvr = "0200000000"
tsi = "E800"
cvm_results = "1F0302"
"#;

#[test]
fn a_broken_expectation_gives_a_readable_diff_with_bit_names() {
    let deck = load_deck_str("broken.toml", BROKEN, None).unwrap();
    let results = run_loaded(&[deck], 1, None, &|_, _| {}).unwrap();
    assert_eq!(summary(&results), (0, 1));
    let diff = diff_text(&results[0]);
    println!("{diff}");
    for needle in [
        "outcome: expected approved_offline, actual online_approved",
        "tvr: expected 0200000000, actual 0200008000",
        "byte 4 bit 8: Transaction exceeds floor limit: expected clear, actual set",
        "tsi: expected E800, actual F800",
        "byte 1 bit 5: Issuer authentication was performed: expected clear, actual set",
        "cvm_results: expected 1F0302, actual 410302",
    ] {
        assert!(diff.contains(needle), "missing {needle:?} in\n{diff}");
    }
    // The CVM Results difference is decoded on both sides.
    let cvm: Vec<&str> = diff
        .lines()
        .filter(|l| l.contains("expected method:"))
        .collect();
    assert_eq!(cvm.len(), 1, "{diff}");
    let full = failure_text(&results[0]);
    assert!(full.contains("trace:") && full.contains("80AE80"), "{full}");
}
