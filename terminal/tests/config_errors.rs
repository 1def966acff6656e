#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every configuration error names the file, the line and the field.

use emv_terminal::config::{ConfigError, ConfigErrorKind, TerminalConfig, builtin};

/// Loads `text` (as `shop.toml`) on top of the built-in default: line 1 is
/// `extends`, `text` starts on line 2.
fn overlay(text: &str) -> Result<TerminalConfig, ConfigError> {
    TerminalConfig::load_str("shop.toml", &format!("extends = \"default\"\n{text}"), None)
}

fn overlay_err(text: &str) -> ConfigError {
    overlay(text).unwrap_err()
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn assert_at(err: &ConfigError, file: &str, line: usize, field: &str) {
    assert_eq!(err.file, file, "{err}");
    assert_eq!(err.line, Some(line), "{err}");
    assert_eq!(err.field, field, "{err}");
}

const DEFAULT_F1_CHECKSUM: &str = "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BB";

#[test]
fn wrong_capk_checksum_is_rejected_with_file_line_and_key() {
    let text = builtin::text("default").unwrap();
    let bad = text.replace(
        DEFAULT_F1_CHECKSUM,
        "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BC",
    );
    let err = TerminalConfig::load_str("bad.toml", &bad, None).unwrap_err();
    assert_at(
        &err,
        "bad.toml",
        line_of(&bad, "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BC"),
        "capk[A000000004:F1].checksum",
    );
    match &err.kind {
        ConfigErrorKind::ChecksumMismatch {
            rid,
            index,
            given,
            computed,
        } => {
            assert_eq!(rid, &[0xA0, 0, 0, 0, 4]);
            assert_eq!(*index, 0xF1);
            assert_eq!(
                hex::encode_upper(given),
                "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BC"
            );
            assert_eq!(hex::encode_upper(computed), DEFAULT_F1_CHECKSUM);
        }
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "bad.toml:{}: field capk[A000000004:F1].checksum: CAPK A000000004/F1: checksum D8E6",
            err.line.unwrap()
        )),
        "{shown}"
    );
}

#[test]
fn tampered_modulus_fails_the_checksum() {
    let text = builtin::text("default").unwrap();
    // Flip one digit inside the Visa 92 modulus (still odd, same length).
    let bad = text.replacen("996AF56F5691", "996AF56F5692", 1);
    let err = TerminalConfig::load_str("bad.toml", &bad, None).unwrap_err();
    assert!(matches!(
        err.kind,
        ConfigErrorKind::ChecksumMismatch { index: 0x92, .. }
    ));
    assert_eq!(err.field, "capk[A000000003:92].checksum");
    assert_eq!(
        err.line,
        Some(line_of(&bad, "429C954A3859CEF91295F663C963E582ED6EB253"))
    );
}

#[test]
fn overlay_capk_checksum_mismatch_names_the_overlay() {
    // Project key 04's data under index 05: its checksum no longer matches.
    let default = TerminalConfig::builtin_default().unwrap();
    let key = default.capk([0xF0, 0, 0, 9, 0x99], 4).unwrap();
    let err = overlay_err(&format!(
        "[[capk]]\nrid = \"F000000999\"\nindex = \"05\"\nmodulus = \"{}\"\nexponent = \"03\"\nchecksum = \"{}\"\n",
        hex::encode_upper(&key.modulus),
        hex::encode_upper(key.checksum)
    ));
    assert_at(&err, "shop.toml", 7, "capk[F000000999:05].checksum");
    assert!(err.to_string().contains("CAPK F000000999/05"), "{err}");
}

#[test]
fn bad_hex() {
    let err = overlay_err("[terminal]\ncapabilities = \"E0F8CZ\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.capabilities");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidHex(_)), "{err}");

    let err = overlay_err("[[aid]]\naid = \"F0000009991010\"\ntac_online = \"DC4004F80G\"\n");
    assert_at(&err, "shop.toml", 4, "aid[F0000009991010].tac_online");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidHex(_)));

    let err = overlay_err("[[aid]]\naid = \"F000000999101\"\n");
    assert_at(&err, "shop.toml", 3, "aid[F000000999101].aid");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidHex(_)), "{err}");
}

#[test]
fn unknown_fields() {
    let err = overlay_err("[terminal]\ncontry_code = \"0840\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.contry_code");
    match err.kind {
        ConfigErrorKind::UnknownField { expected } => assert!(expected.contains(&"country_code")),
        other => panic!("{other:?}"),
    }

    let err = overlay_err("\n[[aid]]\naid = \"F0000009991020\"\nflor_limit = \"10.00\"\n");
    assert_at(&err, "shop.toml", 5, "aid[F0000009991020].flor_limit");

    let err = overlay_err("[[capk]]\nrid = \"F000000999\"\nindex = \"01\"\nexpires = 2049-12-31\n");
    assert_at(&err, "shop.toml", 5, "capk[F000000999:01].expires");

    let err = overlay_err("[termnial]\n");
    assert_at(&err, "shop.toml", 2, "termnial");
    assert!(err.to_string().contains("unknown field"), "{err}");

    let err = overlay_err("[aid.random_selection]\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::WrongType { .. }),
        "{err}"
    );
}

#[test]
fn wrong_lengths() {
    // n3 in two bytes: four digits.
    let err = overlay_err("[terminal]\ncountry_code = \"084000\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.country_code");
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidDigits(_)),
        "{err}"
    );
    assert!(err.to_string().contains("expected 4 digits"), "{err}");

    let err = overlay_err("[terminal]\ncountry_code = \"840\"\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidDigits(_)),
        "{err}"
    );

    let err = overlay_err("[terminal]\ncapabilities = \"E0F8C800\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.capabilities");
    assert_eq!(
        err.kind,
        ConfigErrorKind::WrongLength {
            expected: "3 bytes".into(),
            actual: 4
        }
    );

    let err = overlay_err("[terminal]\nterminal_identification = \"TERM001\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.terminal_identification");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidText(_)), "{err}");

    let err = overlay_err("[terminal]\nmerchant_identifier = \"SHORT\"\n");
    assert!(err.to_string().contains("expected 15"), "{err}");

    let err = overlay_err("[[aid]]\naid = \"F0000009991010\"\ntac_default = \"DC4000A8\"\n");
    assert_at(&err, "shop.toml", 4, "aid[F0000009991010].tac_default");
    assert_eq!(
        err.kind,
        ConfigErrorKind::WrongLength {
            expected: "5 bytes".into(),
            actual: 4
        }
    );

    let err = overlay_err("[[aid]]\naid = \"F0000009991010\"\napplication_version = \"8C\"\n");
    assert_at(
        &err,
        "shop.toml",
        4,
        "aid[F0000009991010].application_version",
    );

    let err = overlay_err("[[aid]]\naid = \"F00000\"\n");
    assert_at(&err, "shop.toml", 3, "aid[F00000].aid");
    assert_eq!(
        err.kind,
        ConfigErrorKind::WrongLength {
            expected: "5 to 16 bytes".into(),
            actual: 3
        }
    );

    let err = overlay_err("[[revoked]]\nrid = \"F000000999\"\nindex = \"01\"\nserial = \"0001\"\n");
    assert_at(&err, "shop.toml", 5, "revoked[F000000999:01:0001].serial");
}

#[test]
fn text_character_sets() {
    let err = overlay_err("[terminal]\nterminal_identification = \"TERM 001\"\n");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidText(_)), "{err}");
    let err = overlay_err("[terminal]\nmerchant_name_location = \"Caf\u{e9}\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.merchant_name_location");
    let ok = overlay("[terminal]\nmerchant_name_location = \"Shop #1, Main St. (US)\"\n").unwrap();
    assert_eq!(
        ok.terminal.merchant_name_location.as_deref(),
        Some("Shop #1, Main St. (US)")
    );
}

#[test]
fn invalid_terminal_type() {
    for (value, code) in [("27", 0x27), ("31", 0x31), ("40", 0x40), ("10", 0x10)] {
        let err = overlay_err(&format!("[terminal]\nterminal_type = \"{value}\"\n"));
        assert_at(&err, "shop.toml", 3, "terminal.terminal_type");
        assert_eq!(
            err.kind,
            ConfigErrorKind::InvalidTerminalType(code),
            "{value}"
        );
    }
    let err = overlay_err("[terminal]\nterminal_type = \"2A\"\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidDigits(_)),
        "{err}"
    );
    let err = overlay_err("[terminal]\nterminal_type = 22\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::WrongType { .. }),
        "{err}"
    );
    for ok in ["11", "16", "21", "26", "34", "36"] {
        overlay(&format!("[terminal]\nterminal_type = \"{ok}\"\n")).unwrap();
    }
}

#[test]
fn rfu_bits_are_rejected() {
    let err = overlay_err("[terminal]\ncapabilities = \"E1F8C8\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.capabilities");
    assert!(
        matches!(err.kind, ConfigErrorKind::RfuBitSet { .. }),
        "{err}"
    );
    let err = overlay_err("[terminal]\nadditional_capabilities = \"6000F8A001\"\n");
    assert!(err.to_string().contains("byte 3 bit 4"), "{err}");
}

#[test]
fn currency_exponent_is_one_digit() {
    let err = overlay_err("[terminal]\ncurrency_exponent = \"12\"\n");
    assert_at(&err, "shop.toml", 3, "terminal.currency_exponent");
}

#[test]
fn missing_fields_point_at_the_entry() {
    let err = overlay_err(
        "[[aid]]\naid = \"A0000000651010\"\napplication_version = \"008C\"\nfloor_limit = \"0\"\ntac_denial = \"0000000000\"\ntac_online = \"0000000000\"\n",
    );
    assert_at(&err, "shop.toml", 2, "aid[A0000000651010].tac_default");
    assert_eq!(err.kind, ConfigErrorKind::MissingField);

    let err = TerminalConfig::load_str("empty.toml", "", None).unwrap_err();
    assert_eq!(err.field, "terminal");
    assert_eq!(err.file, "empty.toml");
    assert_eq!(err.line, None);
    assert_eq!(err.kind, ConfigErrorKind::MissingField);
}

#[test]
fn wrong_types() {
    let err = overlay_err("[[aid]]\naid = \"F0000009991010\"\npartial_selection = \"yes\"\n");
    assert_at(
        &err,
        "shop.toml",
        4,
        "aid[F0000009991010].partial_selection",
    );
    assert_eq!(
        err.kind,
        ConfigErrorKind::WrongType {
            expected: "a boolean (true or false)",
            found: "a string"
        }
    );
    let err = overlay_err("[[capk]]\nrid = \"F000000999\"\nindex = 1\n");
    assert_at(&err, "shop.toml", 4, "capk[16].index");
    assert!(err.to_string().contains("two hex digits"), "{err}");
    let err = overlay_err("aid = \"F0000009991010\"\n");
    assert_at(&err, "shop.toml", 2, "aid");
    let err = overlay_err("description = 5\n");
    assert_at(&err, "shop.toml", 2, "description");
}

#[test]
fn amounts() {
    let aid = "[[aid]]\naid = \"F0000009991010\"\n";
    let err = overlay_err(&format!("{aid}floor_limit = 5000\n"));
    assert_at(&err, "shop.toml", 4, "aid[F0000009991010].floor_limit");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidAmount(_)));
    assert!(err.to_string().contains("\"50.00\""), "{err}");

    let err = overlay_err(&format!("{aid}floor_limit = \"50.001\"\n"));
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidAmount(_)),
        "{err}"
    );
    let err = overlay_err(&format!("{aid}floor_limit = \"-1\"\n"));
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidAmount(_)),
        "{err}"
    );
    let err = overlay_err(&format!("{aid}floor_limit = \"42949672.96\"\n"));
    assert!(
        err.to_string().contains("more than the element holds"),
        "{err}"
    );
    let max = overlay(&format!("{aid}floor_limit = \"42949672.95\"\n")).unwrap();
    assert_eq!(max.aids[0].floor_limit, u32::MAX);

    // Threshold at or above the floor limit.
    let base_line = line_of(builtin::text("default").unwrap(), "random_selection");
    let err = overlay_err(&format!("{aid}floor_limit = \"10.00\"\n"));
    assert_at(
        &err,
        "builtin:default",
        base_line,
        "aid[F0000009991010].random_selection.threshold",
    );
    assert!(matches!(err.kind, ConfigErrorKind::OutOfRange(_)), "{err}");

    let err = overlay_err(&format!(
        "{aid}random_selection = {{ target_percent = 60 }}\n"
    ));
    assert_at(
        &err,
        "builtin:default",
        base_line,
        "aid[F0000009991010].random_selection.max_target_percent",
    );
    let err = overlay_err(&format!(
        "{aid}random_selection = {{ target_percent = 100 }}\n"
    ));
    assert_at(
        &err,
        "shop.toml",
        4,
        "aid[F0000009991010].random_selection.target_percent",
    );

    // Exponent 0: whole units only.
    let err = overlay_err("[terminal]\ncurrency_exponent = \"00\"\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::InvalidAmount(_)),
        "{err}"
    );
    assert_eq!(err.file, "builtin:default");
}

#[test]
fn capk_key_checks() {
    let capk = |modulus: &str, exponent: &str| {
        overlay_err(&format!(
            "[[capk]]\nrid = \"F000000999\"\nindex = \"10\"\nmodulus = \"{modulus}\"\nexponent = \"{exponent}\"\nchecksum = \"{}\"\n",
            "00".repeat(20)
        ))
    };
    let odd_1024 = format!("C1{}01", "00".repeat(126));

    let even = format!("C1{}", "00".repeat(127));
    let err = capk(&even, "03");
    assert_at(&err, "shop.toml", 5, "capk[F000000999:10].modulus");
    assert!(err.to_string().contains("even"), "{err}");

    let short = format!("C1{}01", "00".repeat(61)); // 63 bytes
    let err = capk(&short, "03");
    assert!(err.to_string().contains("63 bytes"), "{err}");
    let long = format!("C1{}01", "00".repeat(247)); // 249 bytes
    let err = capk(&long, "03");
    assert!(err.to_string().contains("249 bytes"), "{err}");
    let leading_zero = format!("00{}01", "C1".repeat(126));
    let err = capk(&leading_zero, "03");
    assert!(err.to_string().contains("leading zero"), "{err}");

    let err = capk(&odd_1024, "02");
    assert_at(&err, "shop.toml", 6, "capk[F000000999:10].exponent");
    assert!(matches!(
        err.kind,
        ConfigErrorKind::UnsupportedExponent { index: 0x10, .. }
    ));
    let err = capk(&odd_1024, "000003");
    assert!(
        matches!(err.kind, ConfigErrorKind::UnsupportedExponent { .. }),
        "{err}"
    );

    // A valid key with a wrong checksum gets as far as the checksum.
    let err = capk(&odd_1024, "010001");
    assert_at(&err, "shop.toml", 7, "capk[F000000999:10].checksum");
}

#[test]
fn capk_expiry_dates() {
    let key = "[[capk]]\nrid = \"F000000999\"\nindex = \"01\"\n";
    let ok = overlay(&format!("{key}expiry = \"2030-06-30\"\n")).unwrap();
    let k = ok.capk([0xF0, 0, 0, 9, 0x99], 1).unwrap();
    assert_eq!(k.expiry_month(), Some((2030, 6)));
    assert_eq!(k.expiry.unwrap().to_string(), "2030-06-30");

    // The TOML parser checks TOML dates; strings are checked here.
    let err = overlay_err(&format!("{key}expiry = 2049-02-30\n"));
    assert_eq!(err.line, Some(5));
    assert!(matches!(err.kind, ConfigErrorKind::Syntax(_)), "{err}");
    let err = overlay_err(&format!("{key}expiry = \"2049-02-30\"\n"));
    assert_at(&err, "shop.toml", 5, "capk[F000000999:01].expiry");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidDate(_)), "{err}");
    let ok = overlay(&format!("{key}expiry = \"2048-02-29\"\n")).unwrap();
    assert_eq!(ok.capks[0].expiry.unwrap().day, 29);
    let err = overlay_err(&format!("{key}expiry = \"2049-12\"\n"));
    assert!(matches!(err.kind, ConfigErrorKind::InvalidDate(_)), "{err}");
    let err = overlay_err(&format!("{key}expiry = 2049-12-31T00:00:00\n"));
    assert!(matches!(err.kind, ConfigErrorKind::InvalidDate(_)), "{err}");
    let err = overlay_err(&format!("{key}expiry = 1999-12-31\n"));
    assert!(matches!(err.kind, ConfigErrorKind::InvalidDate(_)), "{err}");
    let err = overlay_err(&format!("{key}expiry = 20491231\n"));
    assert!(
        matches!(err.kind, ConfigErrorKind::WrongType { .. }),
        "{err}"
    );
}

#[test]
fn dols() {
    let aid = "[[aid]]\naid = \"F0000009991010\"\n";
    let err = overlay_err(&format!("{aid}default_ddol = \"9F0206\"\n"));
    assert_at(&err, "shop.toml", 4, "aid[F0000009991010].default_ddol");
    assert!(err.to_string().contains("9F37"), "{err}");
    let err = overlay_err(&format!("{aid}default_tdol = \"9F02\"\n"));
    assert_at(&err, "shop.toml", 4, "aid[F0000009991010].default_tdol");
    assert!(matches!(err.kind, ConfigErrorKind::InvalidDol(_)), "{err}");
    let ok = overlay(&format!("{aid}default_tdol = \"9F0802\"\n")).unwrap();
    assert_eq!(
        ok.aids[0].default_tdol.as_deref(),
        Some(&[0x9F, 0x08, 0x02][..])
    );
}

#[test]
fn duplicates() {
    let entry = "[[aid]]\naid = \"A0000000651010\"\napplication_version = \"008C\"\nfloor_limit = \"0\"\ntac_denial = \"0000000000\"\ntac_online = \"0000000000\"\ntac_default = \"0000000000\"\n";
    let err = overlay_err(&format!("{entry}{entry}"));
    assert_at(&err, "shop.toml", 9, "aid[A0000000651010]");
    assert!(matches!(err.kind, ConfigErrorKind::Duplicate(_)), "{err}");

    // Same AID spelt in lower case is the same entry.
    let err = overlay_err(&format!(
        "{entry}{}",
        entry.replace("A0000000651010", "a0000000651010")
    ));
    assert!(matches!(err.kind, ConfigErrorKind::Duplicate(_)), "{err}");

    let pans = "[exception_file]\npans = [\"4999990000000015\", \"4999990000000023\", \"4999990000000015\"]\n";
    let err = overlay_err(pans);
    assert_at(&err, "shop.toml", 3, "exception_file.pans[2]");
}

#[test]
fn exception_file_entries() {
    let err = overlay_err(
        "[exception_file]\npans = [\n  \"4999990000000015\",\n  \"49999900000000X5\",\n]\n",
    );
    assert_at(&err, "shop.toml", 5, "exception_file.pans[1]");
    let err = overlay_err("[exception_file]\npans = [\"4999990000000015-1\"]\n");
    assert!(err.to_string().contains("PAN Sequence Number"), "{err}");
    let err = overlay_err("[exception_file]\npans = [4999990000000015]\n");
    assert!(
        matches!(err.kind, ConfigErrorKind::WrongType { .. }),
        "{err}"
    );
}

#[test]
fn syntax_errors_have_a_line() {
    let err = overlay_err("[terminal]\ncountry_code = 0840\"\n");
    assert_eq!(err.file, "shop.toml");
    assert_eq!(err.line, Some(3));
    assert_eq!(err.field, "");
    assert!(matches!(err.kind, ConfigErrorKind::Syntax(_)), "{err}");
    let err = overlay_err("[terminal]\n[terminal]\n");
    assert_eq!(err.line, Some(3), "{err}");
}

#[test]
fn io_errors_name_the_file() {
    let err = TerminalConfig::load_file(std::path::Path::new("/nonexistent/emv/terminal.toml"))
        .unwrap_err();
    assert_eq!(err.file, "/nonexistent/emv/terminal.toml");
    assert!(matches!(err.kind, ConfigErrorKind::Io(_)));
    let err = TerminalConfig::load("no-such-builtin").unwrap_err();
    assert!(matches!(err.kind, ConfigErrorKind::Extends(_)), "{err}");
}
