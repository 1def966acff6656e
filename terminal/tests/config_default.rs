#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The built-in default configuration (`terminal/config/default.toml`).

use emv_kernel::Tag;
use emv_terminal::config::{AidMatch, Date, TerminalConfig, builtin, capk_checksum};

const PROJECT_RID: [u8; 5] = [0xF0, 0x00, 0x00, 0x09, 0x99];
const VISA_RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x03];
const MC_RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x04];

#[test]
fn default_loads() {
    let config = TerminalConfig::builtin_default().unwrap();
    assert_eq!(config.sources, ["builtin:default"]);
    assert!(builtin::names().contains(&"default"));
    assert_eq!(TerminalConfig::load("default").unwrap(), config);
}

#[test]
fn every_capk_checksum_verifies() {
    let config = TerminalConfig::builtin_default().unwrap();
    assert_eq!(config.capks.len(), 16);
    for key in &config.capks {
        assert_eq!(
            capk_checksum(key.rid, key.index, &key.modulus, &key.exponent),
            key.checksum,
            "{}/{:02X}",
            hex::encode_upper(key.rid),
            key.index
        );
        assert!(key.modulus.last().unwrap() & 1 == 1);
    }
}

#[test]
fn project_test_cas() {
    let config = TerminalConfig::builtin_default().unwrap();
    let expected = [
        (1, 1984, "03"),
        (2, 1984, "010001"),
        (3, 1408, "03"),
        (4, 1152, "03"),
    ];
    for (index, bits, exponent) in expected {
        let key = config.capk(PROJECT_RID, index).unwrap();
        assert_eq!(key.bits(), bits, "index {index}");
        assert_eq!(hex::encode_upper(&key.exponent), exponent);
        assert_eq!(key.expiry, Date::new(2049, 12, 31));
        assert_eq!(key.expiry_month(), Some((2049, 12)));
        assert!(!key.is_expired_on(Date::new(2049, 12, 31).unwrap()));
        assert!(key.is_expired_on(Date::new(2050, 1, 1).unwrap()));
    }
    assert!(config.capk(PROJECT_RID, 5).is_none());
    assert!(config.capk(PROJECT_RID, 0x77).is_none()); // the `unknown-ca` card profile
}

#[test]
fn scheme_test_keys_match_the_shared_vectors() {
    let config = TerminalConfig::builtin_default().unwrap();
    // (rid, index, bits, exponent, SHA-1) from emv-facts §4 / capk-test.json.
    let expected: [([u8; 5], u8, usize, &str, &str); 12] = [
        (
            VISA_RID,
            0x92,
            1408,
            "03",
            "429C954A3859CEF91295F663C963E582ED6EB253",
        ),
        (
            VISA_RID,
            0x94,
            1984,
            "03",
            "C4A3C43CCF87327D136B804160E47D43B60E6E0F",
        ),
        (
            VISA_RID,
            0x95,
            1152,
            "03",
            "EE1511CEC71020A9B90443B37B1D5F6E703030F6",
        ),
        (
            VISA_RID,
            0x99,
            1024,
            "03",
            "4ABFFD6B1C51212D05552E431C5B17007D2F5E6D",
        ),
        (
            MC_RID,
            0xEF,
            1984,
            "03",
            "21766EBB0EE122AFB65D7845B73DB46BAB65427A",
        ),
        (
            MC_RID,
            0xF1,
            1408,
            "03",
            "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BB",
        ),
        (
            MC_RID,
            0xF3,
            1152,
            "03",
            "A69AC7603DAF566E972DEDC2CB433E07E8B01A9A",
        ),
        (
            MC_RID,
            0xF4,
            1408,
            "03",
            "BF6B5B9C47134E494571732A4903C935874682B9",
        ),
        (
            MC_RID,
            0xF5,
            1984,
            "010001",
            "C2239804C8098170BE52D6D5D4159E81CE8466BF",
        ),
        (
            MC_RID,
            0xF8,
            1024,
            "03",
            "F06ECC6D2AAEBF259B7E755A38D9A9B24E2FF3DD",
        ),
        (
            MC_RID,
            0xFA,
            1152,
            "03",
            "5BED4068D96EA16D2D77E03D6036FC7A160EA99C",
        ),
        (
            MC_RID,
            0xFE,
            1024,
            "03",
            "9A295B05FB390EF7923F57618A9FDA2941FC34E0",
        ),
    ];
    for (rid, index, bits, exponent, sha1) in expected {
        let key = config.capk(rid, index).unwrap();
        assert_eq!(key.bits(), bits, "{index:02X}");
        assert_eq!(hex::encode_upper(&key.exponent), exponent);
        assert_eq!(hex::encode_upper(key.checksum), sha1);
        assert_eq!(key.expiry, None, "scheme test keys have no public expiry");
    }
}

#[test]
fn terminal_data() {
    let t = TerminalConfig::builtin_default().unwrap().terminal;
    assert_eq!(t.country_code, [0x08, 0x40]);
    assert_eq!(t.currency_code, [0x08, 0x40]);
    assert_eq!(t.currency_exponent, 2);
    assert_eq!(t.terminal_type.to_byte(), 0x22);
    assert!(t.terminal_type.is_attended());
    assert!(t.terminal_type.has_online_capability());
    assert_eq!(t.capabilities.as_bytes(), &[0xE0, 0xF8, 0xC8]);
    assert_eq!(t.pos_entry_mode, Some(0x05));
    let elements = t.data_elements();
    assert_eq!(elements.len(), 13);
    let get = |tag: u32| {
        elements
            .iter()
            .find(|(t, _)| *t == Tag::new(tag))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get(0x9F35), [0x22]);
    assert_eq!(get(0x9F1C), b"TERM0001");
    assert_eq!(get(0x9F01), [0, 0, 0, 0x12, 0x34, 0x56]);
    assert_eq!(get(0x5F36), [0x02]);
}

#[test]
fn aids_of_the_simulated_cards() {
    let config = TerminalConfig::builtin_default().unwrap();
    for aid in [
        "F0000009991010",
        "F0000009991020",
        "F0000009991030",
        "F0000009992010",
    ] {
        let bytes = hex::decode(aid).unwrap();
        let (a, how) = config.find_aid(&bytes).unwrap();
        assert_eq!(how, AidMatch::Exact);
        assert_eq!(a.aid, bytes);
        assert_eq!(a.floor_limit, 5000);
        assert_eq!(a.tac_denial, [0x00, 0x10, 0x00, 0x00, 0x00]);
        assert_eq!(a.tac_online, [0xDC, 0x40, 0x04, 0xF8, 0x00]);
        assert_eq!(a.tac_default, [0xDC, 0x40, 0x00, 0xA8, 0x00]);
        let rs = a.random_selection.unwrap();
        assert_eq!(
            (rs.threshold, rs.target_percent, rs.max_target_percent),
            (1000, 25, 50)
        );
        assert_eq!(a.default_ddol.as_deref(), Some(&[0x9F, 0x37, 0x04][..]));
        assert_eq!(a.application_version, [0x00, 0x8C]);
        assert!(a.velocity_checking);
        assert_eq!(a.rid(), PROJECT_RID);
    }
    // Partial selection on the project RID.
    let (a, how) = config
        .find_aid(&hex::decode("F0000009993010").unwrap())
        .unwrap();
    assert_eq!(how, AidMatch::Partial);
    assert_eq!(a.aid, PROJECT_RID);
    assert_eq!(a.asi(), 0x01);
    // Scheme test cards: generic parameters, partial selection.
    let visa = config.aid(&hex::decode("A0000000031010").unwrap()).unwrap();
    assert!(visa.partial_selection);
    assert_eq!(visa.floor_limit, 0);
    assert!(
        config
            .aid(&hex::decode("A0000000651010").unwrap())
            .is_none()
    );
}

#[test]
fn no_revocations_and_empty_exception_file() {
    let config = TerminalConfig::builtin_default().unwrap();
    assert!(config.revoked.is_empty());
    assert!(config.exception_file.is_empty());
    assert!(!config.is_revoked(PROJECT_RID, 1, [0, 0, 1]));
}

/// The TOML blocks of `docs/terminal-config.md` that follow `heading`.
fn doc_block(heading: &str) -> String {
    let doc = include_str!("../../docs/terminal-config.md");
    let after = &doc[doc.find(heading).unwrap()..];
    let start = after.find("```toml\n").unwrap() + "```toml\n".len();
    let len = after[start..].find("```").unwrap();
    after[start..start + len].to_string()
}

#[test]
fn documented_examples_load() {
    let c = TerminalConfig::load_str("example.toml", &doc_block("## A complete example"), None)
        .unwrap();
    assert_eq!(c.terminal.country_code, [0x08, 0x26]);
    let visa = c.aid(&hex::decode("A000000003101001").unwrap()).unwrap();
    assert_eq!(visa.floor_limit, 3000);
    assert_eq!(visa.contactless.unwrap().transaction_limit, Some(10_000));
    let key = c.capk([0xA0, 0, 0, 0, 3], 0x92).unwrap();
    assert_eq!(key.bits(), 1408);
    assert!(c.is_revoked([0xA0, 0, 0, 0, 3], 0x92, [0, 0, 1]));
    assert_eq!(c.exception_file.len(), 2);

    let o = TerminalConfig::load_str("overlay.toml", &doc_block("## Overlays"), None).unwrap();
    assert_eq!(o.aids.len(), 6);
    assert_eq!(o.aids[0].floor_limit, 2500);
    assert_eq!(
        o.capk([0xA0, 0, 0, 0, 4], 0xF1).unwrap().expiry_month(),
        Some((2031, 12))
    );
}
