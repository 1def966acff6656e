//! `emv transact` end to end: the binary, its outputs and exit codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

fn emv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emv"))
        .args(args)
        .output()
        .expect("emv runs")
}

#[test]
fn default_card_approves_offline() {
    let out = emv(&["transact", "--amount", "10.00"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("outcome: approved (ApprovedOffline)"),
        "{text}"
    );
    assert!(text.contains("GENERATE APPLICATION CRYPTOGRAM"), "{text}");
    assert!(text.contains("- byte 1 bit 2: SDA selected"), "{text}");
    // Exchanges grouped by phase, in the order of the books, responses
    // decoded.
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(
        headings,
        [
            "== Application Selection (Book 1 §12) ==",
            "== Initiate Application Processing (Book 3 §10.1) ==",
            "== Read Application Data (Book 3 §10.2) ==",
            "== Cardholder Verification (Book 3 §10.5) ==",
            "== Terminal Risk Management (Book 3 §10.6) ==",
            "== Card Action Analysis (Book 3 §10.8) ==",
        ],
        "{text}"
    );
    assert!(
        text.contains("5A  Application Primary Account Number (PAN) (8 bytes): 499999******0015"),
        "{text}"
    );
    assert!(
        text.contains("80  Response Message Template Format 1 (18 bytes): 40"),
        "{text}"
    );
    // The PAN is masked unless asked.
    assert!(text.contains("499999******0015"), "{text}");
    assert!(!text.contains("4999990000000015"), "{text}");
    // The plaintext PIN block of VERIFY never appears, in text or JSON.
    assert!(text.contains("0020008008FFFFFFFFFFFFFFFF"), "{text}");
    assert!(!text.contains("241234"), "{text}");
    let json = String::from_utf8(emv(&["transact", "--amount", "10.00", "--json"]).stdout).unwrap();
    assert!(json.contains("0020008008FFFFFFFFFFFFFFFF") && !json.contains("241234"));
    let shown =
        String::from_utf8(emv(&["transact", "--amount", "10.00", "--show-pan"]).stdout).unwrap();
    assert!(shown.contains("4999990000000015"));
}

#[test]
fn json_for_every_shipped_card() {
    for (card, amount, expected) in [
        ("baseline", "100.00", "online_approved"),
        ("visa-cvn18-dda", "10.00", "approved"),
        ("mc-cda", "100.00", "online_approved"),
        ("pse-three-apps", "10.00", "online_approved"), // debit app: no ODA → TAC online
        // Expired: TAC online matches "expired application"; the issuer
        // simulator does not check expiry, so it approves.
        ("expired", "10.00", "online_approved"),
        ("unknown-ca", "10.00", "online_approved"),
        ("blocked-pin", "10.00", "online_approved"),
        ("visa-cvn10-sda", "10.00", "approved"),
    ] {
        let out = emv(&["transact", "--card", card, "--amount", amount, "--json"]);
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{card}: {e}"));
        assert_eq!(v["outcome"], expected, "{card}: {v:#}");
        for key in [
            "aid",
            "tvr",
            "tsi",
            "cvm_results",
            "cid",
            "cryptogram",
            "apdus",
            "trail",
        ] {
            assert!(v.get(key).is_some(), "{card}: {key}");
        }
        assert_eq!(v["tvr"].as_str().unwrap().len(), 10);
        let code = out.status.code().unwrap();
        assert_eq!(
            code,
            if expected.contains("approved") { 0 } else { 3 },
            "{card}"
        );
    }
}

#[test]
fn declines_and_errors_have_their_exit_codes() {
    assert_eq!(
        emv(&["transact", "--amount", "100.00", "--online", "decline"])
            .status
            .code(),
        Some(3)
    );
    let out = emv(&[
        "transact", "--amount", "100.00", "--online", "unable", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "declined");
    for bad in [
        ["--amount", "1x", "--card", "baseline"],
        ["--amount", "1.00", "--card", "nope"],
        ["--amount", "1.00", "--un", "12"],
    ] {
        let mut args = vec!["transact"];
        args.extend(bad);
        let out = emv(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "{bad:?}"
        );
    }
}

#[test]
fn replays_a_public_contact_trace() {
    // A Visa test card recorded by binaryfoo/emv-bertlv (vectors/traces):
    // no ODA, online PIN, the recorded EXTERNAL AUTHENTICATE answered 6700.
    let out = emv(&[
        "transact",
        "--replay",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/vectors/traces/binaryfoo/contact-visa-in.txt"
        ),
        "--amount",
        "10.00",
        "--date",
        "170601",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "online_approved", "{v:#}");
    assert_eq!(v["aid"], "A0000000031010");
    // ODA not performed (AIP 1C00), online PIN entered, floor limit 0
    // exceeded, issuer authentication failed.
    assert_eq!(v["tvr"], "8000048040", "{v:#}");
    assert_eq!(v["cvm_results"], "420300");
    let missing = emv(&[
        "transact",
        "--replay",
        "/nonexistent.txt",
        "--amount",
        "1.00",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.txt"));
}

#[test]
fn cardholder_choice_and_random_number() {
    // The PSE lists debit (priority 1), credit (2), prepaid (3).
    for (choice, aid) in [
        ("1", "F0000009991020"),
        ("2", "F0000009991010"),
        ("3", "F0000009991030"),
    ] {
        let out = emv(&[
            "transact",
            "--card",
            "pse-three-apps",
            "--amount",
            "10.00",
            "--choose",
            choice,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["aid"], aid, "choice {choice}: {v:#}");
    }
    // 5.00 is below the 10.00 threshold: selected when the random number
    // is at most the 25 % target.
    for (random, selected) in [("25", true), ("26", false)] {
        let out = emv(&["transact", "--amount", "5.00", "--random", random, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let tvr = hex::decode(v["tvr"].as_str().unwrap()).unwrap();
        assert_eq!(tvr[3] & 0x10 != 0, selected, "random {random}: {v:#}");
    }
    for bad in [["--random", "0"], ["--random", "100"], ["--choose", "0"]] {
        let mut args = vec!["transact", "--amount", "1.00"];
        args.extend(bad);
        assert_eq!(emv(&args).status.code(), Some(2), "{bad:?}");
    }
}
