//! Card profiles: every shipped profile loads; overlays merge; bad files
//! give errors naming file, line and field.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_test_cards::profile::builtin;
use emv_test_cards::profile::load::{load_builtin, load_str};

#[test]
fn every_shipped_profile_loads() {
    let names = builtin::names();
    assert!(names.len() >= 8);
    for name in names {
        let loaded = load_builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.profile.name, name);
        assert!(!loaded.profile.app.is_empty());
    }
}

#[test]
fn overlays_state_differences_only() {
    let blocked = load_builtin("blocked-pin").unwrap();
    assert_eq!(blocked.profile.pin.tries_left, Some(0));
    assert_eq!(blocked.profile.pin.value, "1234", "inherited from baseline");
    assert_eq!(blocked.sources.len(), 2);
    assert_eq!(blocked.sources[0].name, "builtin:baseline");

    let expired = load_builtin("expired").unwrap();
    let rec = &expired.profile.app["main"].records["2.1"];
    assert_eq!(rec["5F24"].as_str(), Some("200131"));
    assert_eq!(
        rec["5A"].as_str(),
        Some("4999990000000015"),
        "other tags kept"
    );
    assert_eq!(rec["oda"].as_bool(), Some(true));

    let pse = load_builtin("pse-three-apps").unwrap();
    assert_eq!(pse.profile.app.len(), 3);
    assert!(pse.profile.app["debit"].confirmation_required);
}

fn error_of(text: &str) -> String {
    load_str("card.toml", text, None).unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_field() {
    // Unknown field in an overlay: the overlay's line.
    let e = error_of("extends = \"baseline\"\nname = \"x\"\n[pin]\nvalu = \"1\"\n");
    assert!(
        e.starts_with("card.toml:4: field pin.valu: unknown field `valu`"),
        "{e}"
    );

    // Wrong type: the line that set it.
    let e = error_of("extends = \"baseline\"\nname = \"x\"\n\n[pin]\ntry_limit = 300\n");
    assert!(e.starts_with("card.toml:5: field pin.try_limit:"), "{e}");
    assert!(e.contains("300"), "{e}");

    // Bad enum value deep in an application.
    let e =
        error_of("extends = \"baseline\"\nname = \"x\"\n[app.main.crypto]\ncvn = \"visa-99\"\n");
    assert!(
        e.starts_with("card.toml:4: field app.main.crypto.cvn:"),
        "{e}"
    );

    // Syntax error.
    let e = error_of("name = \"x\"\n[pin\n");
    assert!(e.starts_with("card.toml:2:"), "{e}");

    // Missing base.
    let e = error_of("extends = \"nope\"\nname = \"x\"\n");
    assert!(
        e.starts_with("card.toml:1: field extends: no profile \"nope\""),
        "{e}"
    );

    // Missing required field in a complete profile.
    let e = error_of("name = \"x\"\nseed = \"s\"\n[pin]\nvalue = \"1234\"\n");
    assert!(e.contains("missing field `app`"), "{e}");
}

#[test]
fn extends_cycles_are_rejected() {
    let dir = std::env::temp_dir().join(format!("emv-profile-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.toml"), "extends = \"b\"\nname = \"a\"\n").unwrap();
    std::fs::write(dir.join("b.toml"), "extends = \"a\"\nname = \"b\"\n").unwrap();
    let e = emv_test_cards::profile::load_file(&dir.join("a.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("extends cycle"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn faults_declared_in_a_profile_apply() {
    use emv_test_cards::card::{Card, Reply};
    use emv_test_cards::engine::EmvCard;
    let dir = std::env::temp_dir().join(format!("emv-profile-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("faulty.toml");
    std::fs::write(
        &path,
        "extends = \"baseline\"\nname = \"faulty\"\n\n[[faults]]\nins = \"B2\"\np1 = \"01\"\noccurrence = 1\naction = \"status\"\nsw = \"6A83\"\n",
    )
    .unwrap();
    let mut card = EmvCard::with_profile_faults(path.to_str().unwrap()).unwrap();
    card.power_on();
    let send = |card: &mut emv_test_cards::faults::FaultyCard<EmvCard>, h: &str| match card
        .transmit(&hex::decode(h).unwrap())
    {
        Reply::Response(r) => r,
        other => panic!("{other:?}"),
    };
    assert!(send(&mut card, "00A4040007F000000999101000").ends_with(&[0x90, 0x00]));
    assert!(send(&mut card, "80A8000002830000").ends_with(&[0x90, 0x00]));
    assert_eq!(
        send(&mut card, "00B2010C00"),
        [0x6A, 0x83],
        "the fault fires on the first READ RECORD 1"
    );
    assert!(
        send(&mut card, "00B2010C00").ends_with(&[0x90, 0x00]),
        "occurrence 1 only"
    );

    std::fs::write(&path, "extends = \"baseline\"\nname = \"faulty\"\n\n[[faults]]\nins = \"B2\"\naction = \"explode\"\n").unwrap();
    let e = EmvCard::with_profile_faults(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("faulty.toml:4: field faults: rule 1:"), "{e}");
    assert!(e.contains("explode"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
