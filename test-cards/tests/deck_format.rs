//! Deck format: errors name file, line and field; failing cases get a
//! readable diff; runs are reproducible; the smoke deck passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use emv_test_cards::deck::{
    HtmlOptions, failure_text, html_report, json_lines, junit_xml, load_deck_str, run_decks,
    summary, without_timing,
};

fn smoke() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("decks/smoke.toml")
}

#[test]
fn smoke_runs() {
    let results = run_decks(&[smoke()], 4, None).unwrap();
    for r in &results {
        if !r.passed {
            println!("{}", failure_text(r));
        }
    }
    let (p, f) = summary(&results);
    println!("{p} passed, {f} failed");
    assert_eq!(f, 0);
}

/// A small valid deck; tests change one line of it.
const BASE: &str = r#"[deck]
id = "T"

[terminal.uk]
extends = "default"
[terminal.uk.terminal]
country_code = "0826"

[[case]]
id = "A.1"
ref = "lab-1"
terminal = "uk"
card = "baseline"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
outcome = "approved_offline"
tvr = "0200000000"

[[case]]
id = "A.2"
card = "baseline"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
tvr = "0200000000"
"#;

fn error_of(text: &str) -> String {
    load_deck_str("deck.toml", text, None)
        .unwrap_err()
        .to_string()
}

fn assert_starts(text: &str, prefix: &str) {
    let e = error_of(text);
    assert!(
        e.starts_with(prefix),
        "{e}\n  does not start with\n{prefix}"
    );
}

#[test]
fn the_base_deck_loads() {
    let deck = load_deck_str("deck.toml", BASE, None).unwrap();
    assert_eq!(deck.cases.len(), 2);
    assert_eq!(deck.cases[0].terminal.terminal.country_code, [0x08, 0x26]);
}

#[test]
fn unknown_key() {
    let text = BASE.replace(
        "outcome = \"approved_offline\"",
        "outcom = \"approved_offline\"",
    );
    assert_starts(
        &text,
        "deck.toml:17: field case[A.1].transaction[1].expect.outcom: unknown field `outcom`",
    );
}

#[test]
fn bad_hex() {
    let text = BASE.replace(
        "tvr = \"0200000000\"\n\n[[case]]",
        "tvr = \"02000000ZZ\"\n\n[[case]]",
    );
    assert_starts(
        &text,
        "deck.toml:18: field case[A.1].transaction[1].expect.tvr: tvr: \"02000000ZZ\" is not hex",
    );
}

#[test]
fn unknown_terminal_name() {
    let text = BASE.replace("terminal = \"uk\"", "terminal = \"fr\"");
    assert_starts(
        &text,
        "deck.toml:12: field case[A.1].terminal: unknown terminal setting \"fr\"",
    );
}

#[test]
fn duplicate_id() {
    let text = BASE.replace("id = \"A.2\"", "id = \"A.1\"");
    assert_starts(
        &text,
        "deck.toml:21: field case[A.1].id: duplicate case id \"A.1\" (first used at line 10)",
    );
}

#[test]
fn bad_mask() {
    // The mask ignores a bit the value sets.
    let text = BASE.replace(
        "tvr = \"0200000000\"\n\n[[case]]",
        "tvr = \"0200000000\"\ntvr_mask = \"00FFFFFFFF\"\n\n[[case]]",
    );
    assert_starts(
        &text,
        "deck.toml:19: field case[A.1].transaction[1].expect.tvr_mask: tvr 0200000000 sets bits that mask 00FFFFFFFF does not compare",
    );
    // Too short.
    let text = BASE.replace(
        "tvr = \"0200000000\"\n\n[[case]]",
        "tvr = \"0200000000\"\ntvr_mask = \"FFFF\"\n\n[[case]]",
    );
    assert_starts(
        &text,
        "deck.toml:19: field case[A.1].transaction[1].expect.tvr_mask: tvr_mask: \"FFFF\" is 2 bytes, expected 5",
    );
}

#[test]
fn errors_of_the_terminal_loader_point_into_the_deck() {
    let text = BASE.replace("country_code = \"0826\"", "country_code = \"826\"");
    assert_starts(
        &text,
        "deck.toml:7: field terminal.uk.terminal.country_code: ",
    );
    let text = BASE.replace("country_code = \"0826\"", "contry_code = \"0826\"");
    assert_starts(
        &text,
        "deck.toml:7: field terminal.uk.terminal.contry_code: ",
    );
}

#[test]
fn errors_of_the_card_loader_point_into_the_deck() {
    let text = BASE.replace(
        "id = \"A.2\"\ncard = \"baseline\"",
        "id = \"A.2\"\n[case.card]\nextends = \"baseline\"\n[case.card.pin]\nvalu = \"1234\"",
    );
    assert_starts(
        &text,
        "deck.toml:25: field case[A.2].card.pin.valu: unknown field `valu`",
    );
    let text = BASE.replace("card = \"baseline\"\n[[case.transaction]]\namount = \"10.00\"\n[case.transaction.expect]\ntvr", "card = \"nosuchcard\"\n[[case.transaction]]\namount = \"10.00\"\n[case.transaction.expect]\ntvr");
    assert_starts(
        &text,
        "deck.toml:22: field case[A.2].card: unknown card \"nosuchcard\"",
    );
}

#[test]
fn other_input_errors() {
    let text = BASE.replace(
        "amount = \"10.00\"\n[case.transaction.expect]\noutcome",
        "amount = 10\n[case.transaction.expect]\noutcome",
    );
    assert_starts(
        &text,
        "deck.toml:15: field case[A.1].transaction[1].amount: amounts are decimal strings",
    );
    let text = BASE.replace("outcome = \"approved_offline\"", "outcome = \"aproved\"");
    assert_starts(
        &text,
        "deck.toml:17: field case[A.1].transaction[1].expect.outcome: unknown outcome \"aproved\"",
    );
    let text = BASE.replace(
        "[deck]\nid = \"T\"",
        "[deck]\nid = \"T\"\n[[case.transaction.script]]",
    );
    assert!(
        error_of(&text).starts_with("deck.toml:"),
        "{}",
        error_of(&text)
    );
}

/// One passing and one deliberately failing case.
const PASS_FAIL: &str = r#"[deck]
id = "PF"

[[case]]
id = "PASS"
card = "baseline"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
outcome = "approved_offline"
tvr = "0200000000"
cvm_results = "410302"

[[case]]
id = "FAIL"
ref = "lab-7"
objective = "deliberately wrong: expects floor limit exceeded and signature"
card = "baseline"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
outcome = "online_approved"
tvr = "0200008000"
tsi = "F800"
cvm_results = "1E0300"
genac = ["80", "40"]
apdus = ["00A4", "80AE 80"]
forbid = ["0020"]
"#;

fn write_deck(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deck-format-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_failing_case_shows_a_readable_diff() {
    let path = write_deck("pass-fail", PASS_FAIL);
    let results = run_decks(&[&path], 2, None).unwrap();
    assert_eq!(summary(&results), (1, 1));
    assert!(results[0].passed);
    let fail = &results[1];
    assert!(!fail.passed);
    let text = failure_text(fail);
    println!("{text}");
    for needle in [
        "FAIL FAIL (ref lab-7): deliberately wrong",
        "outcome: expected online_approved, actual approved_offline",
        "tvr: expected 0200008000, actual 0200000000",
        "byte 4 bit 8: Transaction exceeds floor limit: expected set, actual clear",
        "tsi: expected F800, actual E800",
        "byte 1 bit 5: Issuer authentication was performed: expected set, actual clear",
        "cvm_results: expected 1E0300, actual 410302",
        "genac: expected [80, 40], actual [40]",
        "apdus: expected [00A4, 80AE80]",
        "forbid: expected no `0020`",
        "[Cardholder Verification] C: 0020",
        "trace:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let junit = junit_xml(&results);
    assert!(junit.contains("<testsuite name=\"PF\""), "{junit}");
    assert!(
        junit.contains("<testcase classname=\"PF\" name=\"PASS\""),
        "{junit}"
    );
    assert!(
        junit.contains(
            "<failure message=\"outcome: expected online_approved, actual approved_offline\""
        ),
        "{junit}"
    );
    let lines = json_lines(&results).unwrap();
    assert_eq!(lines.lines().count(), 2);
    let v: serde_json::Value = serde_json::from_str(lines.lines().nth(1).unwrap()).unwrap();
    assert_eq!(v["id"], "FAIL");
    assert_eq!(v["ref"], "lab-7");
    assert_eq!(v["passed"], false);
    assert_eq!(v["transactions"][0]["actual"]["tvr"], "0200000000");
}

#[test]
fn runs_are_reproducible_whatever_the_jobs() {
    let pf = write_deck("repro", PASS_FAIL);
    let paths = [smoke(), pf];
    let one = run_decks(&paths, 1, None).unwrap();
    let four = run_decks(&paths, 4, None).unwrap();
    let a = json_lines(&without_timing(&one)).unwrap();
    let b = json_lines(&without_timing(&four)).unwrap();
    assert_eq!(a, b);
    // Deck order, not completion order.
    let ids: Vec<&str> = four.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"SMOKE.CVM.001"));
    assert_eq!(ids.last(), Some(&"FAIL"));
}

#[test]
fn filters_select_by_id_or_ref() {
    let r = run_decks(&[smoke()], 2, Some("SMOKE.CVM.*")).unwrap();
    assert_eq!(r.len(), 4);
    let r = run_decks(&[smoke()], 2, Some("exception file")).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].id, "SMOKE.TRM.002");
}

#[test]
fn tearing_and_advice_are_expressible() {
    let text = r#"
[[case]]
id = "TORN"
[case.card]
extends = "baseline"
[[case.card.faults]]
ins = "AE"
action = "remove"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
outcome = "transport_error"
genac = ["40"]

[[case]]
id = "ADVICE"
[case.card]
extends = "baseline"
[[case.card.faults]]
ins = "AE"
action = "cid"
cid = "4A"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
outcome = "approved_offline"
advice = true
cid = "4A"
trail = ["advice required"]
"#;
    let path = write_deck("torn", text);
    let results = run_decks(&[&path], 2, None).unwrap();
    for r in &results {
        assert!(r.passed, "{}", failure_text(r));
    }
}

#[test]
fn the_html_report_escapes_card_data_and_masks_the_pan() {
    // The card's Application Label carries markup: card data is untrusted.
    let text = r#"
[[case]]
id = "HOSTILE"
objective = "a <i>case</i> & more"
[case.card]
extends = "baseline"
[case.card.app.main]
label = "<b>&X"
[[case.transaction]]
amount = "10.00"
[case.transaction.expect]
tvr = "0200008000"
"#;
    let path = write_deck("hostile", text);
    let results = run_decks(&[&path], 1, None).unwrap();
    let html = html_report(&results, &HtmlOptions::default());
    assert!(
        html.contains("&quot;&lt;b&gt;&amp;X&quot;"),
        "label not escaped"
    );
    assert!(!html.contains("<b>&X"));
    assert!(html.contains("a &lt;i&gt;case&lt;/i&gt; &amp; more"));
    assert!(!html.contains("4999990000000015"), "PAN not masked");
    assert!(html.contains("499999******0015"));
    // The failing bit is named in the TVR table and the difference list.
    assert!(html.contains("Transaction exceeds floor limit"));
    assert!(html.contains("expected set, actual clear"));
    assert!(html.contains("data-status=\"fail\""));
    let shown = html_report(
        &results,
        &HtmlOptions {
            show_pan: true,
            ..HtmlOptions::default()
        },
    );
    assert!(shown.contains("4999990000000015"));
    // The other reports of the failing case mask it too.
    for (name, report) in [
        ("JSON Lines", json_lines(&results).unwrap()),
        ("JUnit", junit_xml(&results)),
        ("failure text", failure_text(&results[0])),
    ] {
        assert!(
            !report.contains("4999990000000015"),
            "{name}: PAN not masked"
        );
        assert!(report.contains("499999******0015"), "{name}: no masked PAN");
        // The baseline card verifies the PIN offline in plaintext: the
        // VERIFY is in the trace, its PIN block is not.
        assert!(
            report.contains("0020008008FFFFFFFFFFFFFFFF"),
            "{name}: no VERIFY"
        );
        assert!(
            !report.contains("241234"),
            "{name}: plaintext PIN in the report"
        );
    }
}
