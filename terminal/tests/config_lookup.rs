#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Lookups: AID by DF name (exact / partial per ASI), CA public keys,
//! revocation list, exception file.

use emv_terminal::config::{AidMatch, ExceptionFile, Pan, TerminalConfig};

const TERMINAL: &str = r#"
[terminal]
country_code = "0276"
currency_code = "0978"
currency_exponent = "02"
terminal_type = "22"
capabilities = "E0F8C8"
additional_capabilities = "6000F0A001"
"#;

fn aid(aid: &str, partial: bool) -> String {
    format!(
        "[[aid]]\naid = \"{aid}\"\npartial_selection = {partial}\napplication_version = \"0002\"\nfloor_limit = \"0\"\ntac_denial = \"0000000000\"\ntac_online = \"0000000000\"\ntac_default = \"0000000000\"\n"
    )
}

fn config(extra: &str) -> TerminalConfig {
    TerminalConfig::load_str("lookup.toml", &format!("{TERMINAL}{extra}"), None).unwrap()
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn exact_and_partial_selection() {
    let c = config(
        &[
            aid("A0000000031010", true),
            aid("A0000000032010", false),
            aid("A000000003", true),
            aid("A00000000310", true),
            aid("A0000000041010", false),
        ]
        .concat(),
    );

    // Exact matches, whatever the ASI.
    for a in ["A0000000031010", "A0000000032010", "A0000000041010"] {
        let (found, how) = c.find_aid(&h(a)).unwrap();
        assert_eq!(found.aid, h(a));
        assert_eq!(how, AidMatch::Exact);
    }
    // Partial: the longest terminal AID allowing it wins.
    let (found, how) = c.find_aid(&h("A000000003101001")).unwrap();
    assert_eq!(
        (found.aid.clone(), how),
        (h("A0000000031010"), AidMatch::Partial)
    );
    let (found, _) = c.find_aid(&h("A0000000031099")).unwrap();
    assert_eq!(found.aid, h("A00000000310"));
    // A000000003 2010 01: the exact-only 2010 entry does not match, the RID
    // entry (partial allowed) does.
    let (found, how) = c.find_aid(&h("A000000003201001")).unwrap();
    assert_eq!(
        (found.aid.clone(), how),
        (h("A000000003"), AidMatch::Partial)
    );
    // Exact only: a longer DF name does not match.
    assert!(c.aid(&h("A000000004101001")).is_none());
    // Shorter than every terminal AID, or another RID: nothing.
    assert!(c.aid(&h("A0000000")).is_none());
    assert!(c.aid(&h("A0000000051010")).is_none());
    assert!(c.aid(&[]).is_none());

    let visa = c.aid(&h("A0000000031010")).unwrap();
    assert_eq!(visa.asi(), 0x01);
    assert_eq!(visa.matches(&h("A0000000031010")), Some(AidMatch::Exact));
    assert_eq!(
        visa.matches(&h("A000000003101002")),
        Some(AidMatch::Partial)
    );
    assert_eq!(visa.matches(&h("A00000000310")), None);
    let mc = c.aid(&h("A0000000041010")).unwrap();
    assert_eq!(mc.asi(), 0x00);
    assert_eq!(mc.rid(), [0xA0, 0, 0, 0, 0x04]);
}

#[test]
fn partial_selection_defaults_to_exact() {
    let entry = aid("A0000000031010", false).replace("partial_selection = false\n", "");
    let c = config(&entry);
    assert!(!c.aids[0].partial_selection);
    assert!(c.aid(&h("A000000003101001")).is_none());
    assert!(c.aids[0].velocity_checking);
    assert_eq!(c.aids[0].name, "");
    assert!(c.aids[0].random_selection.is_none());
    assert!(c.aids[0].contactless.is_none());
}

#[test]
fn contactless_limits_are_parsed() {
    let entry = aid("A0000000031010", true)
        + "contactless = { transaction_limit = \"150.00\", cvm_required_limit = \"50.00\" }\n";
    let c = config(&entry);
    let cl = c.aids[0].contactless.unwrap();
    assert_eq!(cl.transaction_limit, Some(15_000));
    assert_eq!(cl.cvm_required_limit, Some(5_000));
    assert_eq!(cl.floor_limit, None);
}

#[test]
fn aid_data_elements() {
    let c = config(&aid("A0000000031010", true).replace("\"0\"", "\"123.45\""));
    let e = c.aids[0].data_elements();
    assert_eq!(e[0].1, [0x00, 0x02]);
    assert_eq!(e[1].1, 12_345u32.to_be_bytes());
}

#[test]
fn capk_lookup() {
    let c = TerminalConfig::builtin_default().unwrap();
    let key = c.capk([0xA0, 0, 0, 0, 0x04], 0xF5).unwrap();
    assert_eq!(key.exponent, [0x01, 0x00, 0x01]);
    assert_eq!(key.modulus.len(), 248);
    assert!(c.capk([0xA0, 0, 0, 0, 0x04], 0xF6).is_none());
    assert!(c.capk([0xA0, 0, 0, 0, 0x05], 0xF5).is_none());
}

#[test]
fn revocation_list() {
    let c = TerminalConfig::load_str(
        "crl.toml",
        "extends = \"default\"\n\
         [[revoked]]\nrid = \"F000000999\"\nindex = \"01\"\nserial = \"000001\"\n\
         [[revoked]]\nrid = \"a000000003\"\nindex = \"94\"\nserial = \"12ab34\"\n",
        None,
    )
    .unwrap();
    assert_eq!(c.revoked.len(), 2);
    let project = [0xF0, 0, 0, 9, 0x99];
    assert!(c.is_revoked(project, 0x01, [0, 0, 1]));
    assert!(!c.is_revoked(project, 0x01, [0, 0, 2]));
    assert!(!c.is_revoked(project, 0x02, [0, 0, 1]));
    assert!(!c.is_revoked([0xF0, 0, 0, 9, 0x98], 0x01, [0, 0, 1]));
    assert!(c.is_revoked([0xA0, 0, 0, 0, 3], 0x94, [0x12, 0xAB, 0x34]));
}

#[test]
fn exception_file() {
    let c = TerminalConfig::load_str(
        "hot.toml",
        "extends = \"default\"\n[exception_file]\npans = [\"4999990000000015\", \"4999990000000023-01\", \"5999990000000000012\"]\n",
        None,
    )
    .unwrap();
    let pan_15 = [0x49, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x15];
    let pan_23 = [0x49, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x23];
    // Listed without PSN: any PSN, or none.
    assert!(c.is_on_exception_file(&pan_15, None));
    assert!(c.is_on_exception_file(&pan_15, Some(0x00)));
    assert!(c.is_on_exception_file(&pan_15, Some(0x07)));
    // Listed with PSN 01: only that PSN.
    assert!(c.is_on_exception_file(&pan_23, Some(0x01)));
    assert!(!c.is_on_exception_file(&pan_23, Some(0x00)));
    assert!(!c.is_on_exception_file(&pan_23, None));
    // 19 digits, F-padded in 5A.
    let pan_19 = [0x59, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2F];
    assert!(c.is_on_exception_file(&pan_19, None));
    // Not listed, or malformed.
    assert!(!c.is_on_exception_file(&[0x49, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x31], None));
    assert!(!c.is_on_exception_file(&[0x49, 0x9A], None));
    assert!(!c.is_on_exception_file(&[], None));

    let pan = Pan::new("4999990000000015").unwrap();
    assert!(c.exception_file.contains(&pan, Some(0x12)));
    assert_eq!(c.exception_file.len(), 3);
    // PANs never show in full in Debug output.
    let debug = format!("{c:?}");
    assert!(!debug.contains("4999990000000015"), "{debug}");
    assert!(debug.contains("499999******0015"), "{debug}");
    assert!(ExceptionFile::default().is_empty());
}

/// Offline data authentication reads keys through the kernel's trait.
fn kernel_lookup<S: emv_kernel::oda::CapkStore>(
    store: &S,
    rid: [u8; 5],
    index: u8,
) -> Option<(usize, Option<(u16, u8)>)> {
    store.capk(rid, index).map(|k| (k.modulus.len(), k.expiry))
}

#[test]
fn kernel_capk_store() {
    use emv_kernel::oda::CapkStore;

    let c = TerminalConfig::load_str(
        "crl.toml",
        "extends = \"default\"\n[[revoked]]\nrid = \"F000000999\"\nindex = \"02\"\nserial = \"00000A\"\n",
        None,
    )
    .unwrap();
    let project = [0xF0, 0, 0, 9, 0x99];
    assert_eq!(kernel_lookup(&c, project, 1), Some((248, Some((2049, 12)))));
    assert_eq!(
        kernel_lookup(&c, [0xA0, 0, 0, 0, 3], 0x99),
        Some((128, None))
    );
    assert_eq!(kernel_lookup(&c, project, 9), None);
    let key = CapkStore::capk(&c, [0xA0, 0, 0, 0, 4], 0xF5).unwrap();
    assert_eq!(key.exponent, [0x01, 0x00, 0x01]);
    assert_eq!(key.rid, [0xA0, 0, 0, 0, 4]);
    assert!(!key.is_expired((2099, 12)));
    assert!(CapkStore::is_revoked(&c, project, 2, [0, 0, 0x0A]));
    assert!(!CapkStore::is_revoked(&c, project, 1, [0, 0, 0x0A]));
}
