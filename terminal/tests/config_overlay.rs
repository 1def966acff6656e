#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Overlays: `extends` chains (files next to each other, then built-in
//! configurations) and the deep merge.

use std::path::PathBuf;

use emv_terminal::config::{ConfigErrorKind, TerminalConfig, capk_checksum};

const PROJECT_RID: [u8; 5] = [0xF0, 0x00, 0x00, 0x09, 0x99];

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "emv-terminal-overlay-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn overlay_on_the_builtin_default_merges_deeply() {
    let base = TerminalConfig::builtin_default().unwrap();
    let key = base.capk(PROJECT_RID, 4).unwrap();
    let checksum = capk_checksum(PROJECT_RID, 0x44, &key.modulus, &key.exponent);
    let text = format!(
        r#"extends = "default"
description = "shop"

[terminal]
terminal_identification = "SHOP0042"

[[aid]]
aid = "F0000009991010"
floor_limit = "25.00"
random_selection = {{ target_percent = 10 }}

[[aid]]
aid = "f0000009991030"
remove = true

[[capk]]
rid = "F000000999"
index = "44"
modulus = "{}"
exponent = "03"
checksum = "{}"
expiry = 2030-01-31

[[revoked]]
rid = "F000000999"
index = "01"
serial = "000042"

[exception_file]
pans = ["4999990000000015"]
"#,
        hex::encode_upper(&key.modulus),
        hex::encode_upper(checksum)
    );
    let c = TerminalConfig::load_str("shop.toml", &text, None).unwrap();
    assert_eq!(c.sources, ["shop.toml", "builtin:default"]);
    assert_eq!(c.description, "shop");

    // [terminal]: one key replaced, the others kept.
    assert_eq!(
        c.terminal.terminal_identification.as_deref(),
        Some("SHOP0042")
    );
    assert_eq!(c.terminal, {
        let mut t = base.terminal.clone();
        t.terminal_identification = Some("SHOP0042".into());
        t
    });

    // [[aid]]: merged by AID, key by key, into nested tables too.
    let credit = c.aid(&h("F0000009991010")).unwrap();
    assert_eq!(credit.floor_limit, 2500);
    let rs = credit.random_selection.unwrap();
    assert_eq!(
        (rs.threshold, rs.target_percent, rs.max_target_percent),
        (1000, 10, 50)
    );
    assert_eq!(credit.tac_online, base.aids[0].tac_online);
    assert_eq!(credit.name, base.aids[0].name);
    // Removed (matched case-insensitively), others untouched and in order.
    assert_eq!(c.aids.len(), base.aids.len() - 1);
    assert!(c.aids.iter().all(|a| a.aid != h("F0000009991030")));
    assert_eq!(c.aids[1], base.aids[1]);

    // [[capk]] appended, [[revoked]] and the exception file set.
    assert_eq!(c.capks.len(), base.capks.len() + 1);
    assert_eq!(
        c.capk(PROJECT_RID, 0x44).unwrap().expiry_month(),
        Some((2030, 1))
    );
    assert!(c.is_revoked(PROJECT_RID, 1, [0, 0, 0x42]));
    assert_eq!(c.exception_file.len(), 1);
}

#[test]
fn capk_overlay_updates_one_field() {
    let c = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[capk]]\nrid = \"A000000004\"\nindex = \"F1\"\nexpiry = \"2031-12-31\"\n",
        None,
    )
    .unwrap();
    let base = TerminalConfig::builtin_default().unwrap();
    let key = c.capk([0xA0, 0, 0, 0, 4], 0xF1).unwrap();
    assert_eq!(key.expiry_month(), Some((2031, 12)));
    assert_eq!(
        key.modulus,
        base.capk([0xA0, 0, 0, 0, 4], 0xF1).unwrap().modulus
    );
    assert_eq!(c.capks.len(), base.capks.len());

    // Removing a key.
    let c = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[capk]]\nrid = \"A000000004\"\nindex = \"F1\"\nremove = true\n",
        None,
    )
    .unwrap();
    assert!(c.capk([0xA0, 0, 0, 0, 4], 0xF1).is_none());
    assert_eq!(c.capks.len(), base.capks.len() - 1);
}

#[test]
fn plain_arrays_replace() {
    let dir = temp_dir("arrays");
    write(
        &dir,
        "base.toml",
        "extends = \"default\"\n[exception_file]\npans = [\"4999990000000015\", \"4999990000000023\"]\n",
    );
    let top = write(
        &dir,
        "top.toml",
        "extends = \"base\"\n[exception_file]\npans = [\"4999990000000031\"]\n",
    );
    let c = TerminalConfig::load_file(&top).unwrap();
    assert_eq!(c.exception_file.len(), 1);
    assert_eq!(c.exception_file.entries[0].pan.digits(), "4999990000000031");
    assert_eq!(c.sources.len(), 3);
    assert!(c.sources[0].ends_with("top.toml"));
    assert!(c.sources[1].ends_with("base.toml"));
    assert_eq!(c.sources[2], "builtin:default");
}

#[test]
fn errors_name_the_file_of_the_chain_that_set_the_value() {
    let dir = temp_dir("located");
    write(
        &dir,
        "base.toml",
        "extends = \"default\"\n\n[terminal]\nterminal_type = \"29\"\n",
    );
    let top = write(
        &dir,
        "top.toml",
        "extends = \"base\"\n[terminal]\npos_entry_mode = \"07\"\n",
    );
    let err = TerminalConfig::load_file(&top).unwrap_err();
    assert!(err.file.ends_with("base.toml"), "{err}");
    assert_eq!(err.line, Some(4));
    assert_eq!(err.field, "terminal.terminal_type");
    assert_eq!(err.kind, ConfigErrorKind::InvalidTerminalType(0x29));

    // The overlay replaces the bad value: loads.
    let fixed = write(
        &dir,
        "fixed.toml",
        "extends = \"base\"\n[terminal]\nterminal_type = \"25\"\n",
    );
    let c = TerminalConfig::load_file(&fixed).unwrap();
    assert_eq!(c.terminal.terminal_type.to_byte(), 0x25);
    assert!(TerminalConfig::load(fixed.to_str().unwrap()).is_ok());
}

#[test]
fn a_local_default_toml_may_extend_the_builtin_default() {
    let dir = temp_dir("local-default");
    write(
        &dir,
        "default.toml",
        "extends = \"default\"\n[terminal]\nmerchant_category_code = \"5411\"\n",
    );
    let top = write(&dir, "till.toml", "extends = \"default\"\n");
    let c = TerminalConfig::load_file(&top).unwrap();
    assert_eq!(c.terminal.merchant_category_code, Some([0x54, 0x11]));
    assert_eq!(c.sources.len(), 3);
    assert_eq!(c.sources[2], "builtin:default");
}

#[test]
fn chain_errors() {
    let dir = temp_dir("chains");
    let a = write(&dir, "a.toml", "extends = \"b\"\n");
    write(&dir, "b.toml", "# b\nextends = \"a\"\n");
    let err = TerminalConfig::load_file(&a).unwrap_err();
    assert!(err.file.ends_with("b.toml"), "{err}");
    assert_eq!(err.line, Some(2));
    assert_eq!(err.field, "extends");
    assert!(err.to_string().contains("cycle"), "{err}");

    let err = TerminalConfig::load_str("x.toml", "\nextends = \"no-such-base\"\n", Some(&dir))
        .unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("x.toml", Some(2)));
    assert!(matches!(err.kind, ConfigErrorKind::Extends(_)), "{err}");
    assert!(err.to_string().contains("default"), "{err}");

    let err = TerminalConfig::load_str("x.toml", "extends = 1\n", None).unwrap_err();
    assert_eq!(err.field, "extends");
    assert!(matches!(err.kind, ConfigErrorKind::WrongType { .. }));

    // Too long: c0 -> c1 -> ... -> c9.
    for i in 0..9 {
        write(
            &dir,
            &format!("c{i}.toml"),
            &format!("extends = \"c{}\"\n", i + 1),
        );
    }
    write(&dir, "c9.toml", "extends = \"default\"\n");
    let err = TerminalConfig::load_file(&dir.join("c0.toml")).unwrap_err();
    assert!(err.to_string().contains("longer than 8"), "{err}");
    // Eight files is fine.
    let ok = TerminalConfig::load_file(&dir.join("c3.toml")).unwrap();
    assert_eq!(ok.sources.len(), 8);
}

#[test]
fn remove_needs_a_base_entry() {
    let err = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n\n[[aid]]\naid = \"A0000000651010\"\nremove = true\n",
        None,
    )
    .unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("shop.toml", Some(3)));
    assert_eq!(err.field, "aid[A0000000651010]");
    assert_eq!(err.kind, ConfigErrorKind::NothingToRemove);

    let err = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[aid]]\naid = \"F0000009991010\"\nremove = true\nfloor_limit = \"1.00\"\n",
        None,
    )
    .unwrap_err();
    assert_eq!(err.line, Some(5));
    assert_eq!(err.field, "aid[F0000009991010].floor_limit");

    let err = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[aid]]\naid = \"F0000009991010\"\nremove = \"yes\"\n",
        None,
    )
    .unwrap_err();
    assert_eq!(err.field, "aid[F0000009991010].remove");

    // remove = false is a no-op marker.
    let c = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[aid]]\naid = \"F0000009991010\"\nremove = false\n",
        None,
    )
    .unwrap();
    assert_eq!(c, {
        let mut d = TerminalConfig::builtin_default().unwrap();
        d.sources = c.sources.clone();
        d
    });
}

#[test]
fn missing_field_in_an_overlay_entry_names_the_overlay() {
    let err = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[[capk]]\nrid = \"F000000999\"\nindex = \"09\"\n",
        None,
    )
    .unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("shop.toml", Some(2)));
    assert_eq!(err.field, "capk[F000000999:09].exponent");
    assert_eq!(err.kind, ConfigErrorKind::MissingField);
}
