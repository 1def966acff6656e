#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! No text makes the configuration loader panic: arbitrary TOML-ish text,
//! structured nonsense built from the format's own keys and values, and
//! mutations of the built-in default.

use emv_terminal::config::{ConfigError, TerminalConfig, builtin};
use proptest::prelude::*;

/// Loads `text` and renders the error, if any: neither may panic, and
/// every error names a file.
fn load(text: &str) {
    if let Err(e) = TerminalConfig::load_str("p.toml", text, None) {
        check_error(&e);
    }
}

fn check_error(e: &ConfigError) {
    assert!(!e.file.is_empty(), "{e:?}");
    assert!(!e.to_string().is_empty());
    if let Some(line) = e.line {
        assert!(line >= 1);
    }
}

const HEADERS: &[&str] = &[
    "[terminal]",
    "[[aid]]",
    "[[capk]]",
    "[[revoked]]",
    "[exception_file]",
    "[aid.random_selection]",
    "[[aid.contactless]]",
    "[terminal.x]",
    "[capk]",
];

const KEYS: &[&str] = &[
    "extends",
    "description",
    "country_code",
    "currency_code",
    "currency_exponent",
    "terminal_type",
    "capabilities",
    "additional_capabilities",
    "merchant_category_code",
    "merchant_identifier",
    "terminal_identification",
    "ifd_serial_number",
    "merchant_name_location",
    "acquirer_identifier",
    "pos_entry_mode",
    "aid",
    "name",
    "partial_selection",
    "application_version",
    "floor_limit",
    "tac_denial",
    "tac_online",
    "tac_default",
    "random_selection",
    "default_ddol",
    "default_tdol",
    "velocity_checking",
    "contactless",
    "rid",
    "index",
    "modulus",
    "exponent",
    "checksum",
    "expiry",
    "serial",
    "pans",
    "remove",
    "random_selection.threshold",
    "unknown",
];

const VALUES: &[&str] = &[
    "\"default\"",
    "\"0840\"",
    "\"02\"",
    "\"22\"",
    "\"E0F8C8\"",
    "\"6000F0A001\"",
    "\"F0000009991010\"",
    "\"F000000999\"",
    "\"01\"",
    "\"03\"",
    "\"010001\"",
    "\"50.00\"",
    "\"10\"",
    "\"-1\"",
    "\"99999999999999999999999.99\"",
    "\"0010000000\"",
    "\"9F3704\"",
    "\"9F\"",
    "\"zz\"",
    "\"\"",
    "\"4999990000000015-01\"",
    "true",
    "false",
    "0",
    "99",
    "-5",
    "9223372036854775807",
    "1.5",
    "nan",
    "2049-12-31",
    "2049-12-31T10:00:00Z",
    "\"2049-02-29\"",
    "[]",
    "[\"4999990000000015\", 1]",
    "{ threshold = \"10.00\", target_percent = 25, max_target_percent = 50 }",
    "{ target_percent = 200 }",
    "{ transaction_limit = \"1.00\" }",
    "{}",
];

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(HEADERS).prop_map(str::to_string),
        (prop::sample::select(KEYS), prop::sample::select(VALUES))
            .prop_map(|(k, v)| format!("{k} = {v}")),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "[\\[\\]{}=\"'.,#a-z_0-9A-F \\n\\t-]{0,300}") {
        load(&text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,200}") {
        load(&text);
    }

    #[test]
    fn structured_nonsense_never_panics(
        extends in any::<bool>(),
        lines in prop::collection::vec(line(), 0..30),
    ) {
        let mut text = if extends { "extends = \"default\"\n".to_string() } else { String::new() };
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        load(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_default_never_panics(
        cut in 0usize..20_000,
        at in 0usize..20_000,
        insert in "[ -~\\n]{0,12}",
    ) {
        let text = builtin::text("default").unwrap();
        let cut = text.len().min(cut);
        let mut t: String = text.chars().take(cut).collect();
        let at = t.len().min(at);
        let at = (0..=at).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
        t.insert_str(at, &insert);
        load(&t);
    }

    #[test]
    fn byte_edits_of_the_default_never_panic(
        edits in prop::collection::vec((0usize..20_000, 0x20u8..0x7F), 1..4),
    ) {
        let mut bytes = builtin::text("default").unwrap().as_bytes().to_vec();
        for (at, b) in edits {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        // The default text is ASCII, so this stays UTF-8.
        load(&String::from_utf8(bytes).unwrap());
    }
}
