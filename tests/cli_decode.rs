//! End-to-end tests of `emv decode`: the real binary, its output, its exit
//! status. Expected trees are worked out by hand from the bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn emv(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emv"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn emv");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("emv runs")
}

fn json_of(args: &[&str]) -> Value {
    let out = emv(args, None);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Asserts a failure with exit status 2 and exactly one stderr line
/// containing `needle`, and no panic or backtrace.
fn assert_error(args: &[&str], stdin: Option<&str>, needle: &str) {
    let out = emv(args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
    assert!(out.stdout.is_empty());
}

#[test]
fn nested_templates_two_and_three_byte_tags_and_padding() {
    // 00 00 | 70 0F [ 9F02 06 000000001000 | DF8129 02 AABB ] 00 | 5A 02 4761 00
    let v = json_of(&[
        "decode",
        "--json",
        "0000 700F 9F0206000000001000 DF812902AABB 00 5A024761 00",
    ]);
    assert_eq!(
        v,
        json!([
            {"tag": "70", "name": "READ RECORD Response Message Template", "constructed": true, "length": 15,
             "value": "9F0206000000001000DF812902AABB",
             "children": [
                {"tag": "9F02", "name": "Amount, Authorised (Numeric)", "constructed": false, "length": 6, "value": "000000001000"},
                {"tag": "DF8129", "name": "Outcome Parameter Set", "constructed": false, "length": 2, "value": "AABB"}
             ]},
            {"tag": "5A", "name": "Application Primary Account Number (PAN)", "constructed": false, "length": 2, "value": "4761"}
        ])
    );
}

#[test]
fn long_form_lengths_81_and_82() {
    let value_200 = "AB".repeat(200);
    let v = json_of(&["decode", "--json", &format!("8C 81 C8 {value_200}")]);
    assert_eq!(v[0]["length"], 200);
    assert_eq!(v[0]["value"].as_str().unwrap().len(), 400);

    let inner = format!("9F4B 82 0100 {}", "01".repeat(256));
    let v = json_of(&["decode", "--json", &format!("77 82 0105 {inner}")]);
    assert_eq!(v[0]["tag"], "77");
    assert_eq!(v[0]["length"], 261);
    assert_eq!(v[0]["children"][0]["tag"], "9F4B");
    assert_eq!(v[0]["children"][0]["length"], 256);
}

#[test]
fn unknown_tags_decode_structurally() {
    let v = json_of(&["decode", "--json", "DF7F 01 00 BF7E 03 DF7D 00 00"]);
    assert_eq!(v[0]["name"], Value::Null);
    assert_eq!(v[1]["constructed"], true);
    assert_eq!(v[1]["children"][0]["tag"], "DF7D");
    assert_eq!(v[1]["children"][0]["name"], Value::Null);
}

#[test]
fn rapdu_json_and_text() {
    let v = json_of(&[
        "decode",
        "--rapdu",
        "--json",
        "770E8202390094081801020120020400 9000",
    ]);
    assert_eq!(v["sw"], "9000");
    assert_eq!(v["sw_meaning"], "Normal processing");
    assert_eq!(v["tlv"][0]["children"][1]["tag"], "94");
    assert_eq!(v["tlv"][0]["children"][1]["value"], "1801020120020400");

    let v = json_of(&["decode", "--rapdu", "--json", "6A82"]);
    assert_eq!(
        v,
        json!({"sw": "6A82", "sw_meaning": "File or application not found", "tlv": []})
    );

    let out = emv(
        &["decode", "--rapdu", "800E1C000801010010010100180304009000"],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("SW 9000: Normal processing\n80  "),
        "{text}"
    );
}

#[test]
fn bit_fields_are_explained_in_text() {
    let out = emv(&["decode", "95 05 8000048000 82 02 1980"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("95  Terminal Verification Results (5 bytes): 8000048000"),
        "{text}"
    );
    assert!(
        text.contains("Offline data authentication was not performed"),
        "{text}"
    );
    assert!(text.contains("Transaction exceeds floor limit"), "{text}");
    assert!(
        text.contains("82  Application Interchange Profile (2 bytes): 1980"),
        "{text}"
    );
}

#[test]
fn stdin_with_dash() {
    let out = emv(&["decode", "--json", "-"], Some("5A 02\n47 61\n"));
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["value"], "4761");
}

#[test]
fn capdu_dol_and_atr() {
    let v = json_of(&["decode", "--capdu", "--json", "80A8000002830000"]);
    assert_eq!(v["name"], "GET PROCESSING OPTIONS");
    assert_eq!(v["case"], 4);
    assert_eq!(v["le"], 256);
    assert_eq!(v["tlv"][0]["tag"], "83");

    let v = json_of(&["decode", "--capdu", "--json", "00B2011400"]);
    assert_eq!(v["name"], "READ RECORD");
    assert_eq!(v["parameters"], "record 1 of SFI 2");

    let v = json_of(&[
        "decode",
        "--dol",
        "--json",
        "9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704",
    ]);
    assert_eq!(v.as_array().unwrap().len(), 8);
    assert_eq!(
        v[0],
        json!({"tag": "9F02", "name": "Amount, Authorised (Numeric)", "length": 6})
    );
    assert_eq!(v[7]["tag"], "9F37");

    let v = json_of(&["decode", "--atr", "--json", "3B 60 00 00"]);
    assert_eq!(v["convention"], "direct");
    assert_eq!(v["emv"]["accepted"], true);
    assert_eq!(v["emv"]["protocol"], "T=0");
}

#[test]
fn malformed_input_is_one_line_and_exit_2() {
    assert_error(
        &["decode", "5A 01 00 9F 02 06 00"],
        None,
        "byte 3: tag 9F02 declares 6 value bytes but only 1 remain",
    );
    assert_error(&["decode", "9F"], None, "byte 0");
    assert_error(&["decode", "70 80 00 00"], None, "indefinite length");
    assert_error(&["decode", "9F 0G"], None, "input character 4");
    assert_error(&["decode", "--rapdu", "90"], None, "SW1 SW2");
    assert_error(&["decode", "--capdu", "00A4040007A0"], None, "byte 4");
    assert_error(&["decode", "--dol", "9F02"], None, "DOL byte 2");
    assert_error(&["decode", "--atr", "3B 60 00"], None, "offset 3");
    assert_error(&["decode", "-"], Some("   \n"), "no hex input");
}

#[test]
fn conflicting_modes_are_a_usage_error() {
    let out = emv(&["decode", "--rapdu", "--capdu", "9000"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
