//! The issuer host simulator against the card engine: online
//! authorisations verify the ARQC with keys the host derives itself, and
//! the card accepts the host's ARPC and scripts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_test_cards::card::{Card, Reply};
use emv_test_cards::engine::{EmvCard, tlv_bytes};
use emv_test_cards::host::{IssuerHost, Policy, ScriptCommand};
use emv_test_cards::profile::load::load_builtin;

fn send(card: &mut EmvCard, cmd: &[u8]) -> Vec<u8> {
    match card.transmit(cmd) {
        Reply::Response(r) => r,
        other => panic!("{other:?}"),
    }
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// Terminal data of the CDOL1 shared by the Visa-style profiles.
const CDOL1: &str = "000000001000 000000000000 0840 0000000000 0840 261128 00 11223344";

struct Online {
    card: EmvCard,
    host: IssuerHost,
    request: Vec<u8>,
}

/// SELECT, GPO, 1st GENERATE AC asking ARQC; builds the authorisation
/// request the way a terminal does.
fn go_online(profile: &str, aid: &str, pan: &str, aip: &str, cdol1: &str) -> Online {
    let loaded = load_builtin(profile).unwrap();
    let mut card = EmvCard::build(&loaded).unwrap();
    let host = IssuerHost::from_profile(&loaded).unwrap();
    card.power_on();
    let aid_bytes = hex(aid);
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, aid_bytes.len() as u8];
    select.extend_from_slice(&aid_bytes);
    select.push(0);
    assert!(send(&mut card, &select).ends_with(&[0x90, 0]));
    assert!(send(&mut card, &hex("80A8000002830000")).ends_with(&[0x90, 0]));
    let data = hex(cdol1);
    let mut genac = vec![0x80, 0xAE, 0x80, 0x00, data.len() as u8];
    genac.extend_from_slice(&data);
    genac.push(0);
    let r = send(&mut card, &genac);
    let (cid, atc, arqc, iad): (u8, [u8; 2], [u8; 8], Vec<u8>) = if r[0] == 0x80 {
        (
            r[2],
            [r[3], r[4]],
            <[u8; 8]>::try_from(&r[5..13]).unwrap(),
            r[13..r.len() - 2].to_vec(),
        )
    } else {
        // 77: 9F27 01 cid 9F36 02 atc 9F26 08 ac 9F10 L iad
        let v = &r[2..r.len() - 2];
        (
            v[3],
            [v[7], v[8]],
            <[u8; 8]>::try_from(&v[12..20]).unwrap(),
            v[23..].to_vec(),
        )
    };
    assert_eq!(cid, 0x80);
    let d = &data;
    let request = [
        tlv_bytes(0x9F26, &arqc),
        tlv_bytes(0x9F27, &[cid]),
        tlv_bytes(0x9F36, &atc),
        tlv_bytes(0x9F10, &iad),
        tlv_bytes(0x82, &hex(aip)),
        tlv_bytes(0x9F02, &d[0..6]),
        tlv_bytes(0x9F03, &d[6..12]),
        tlv_bytes(0x9F1A, &d[12..14]),
        tlv_bytes(0x95, &d[14..19]),
        tlv_bytes(0x5F2A, &d[19..21]),
        tlv_bytes(0x9A, &d[21..24]),
        tlv_bytes(0x9C, &d[24..25]),
        tlv_bytes(0x9F37, &d[25..29]),
        tlv_bytes(0x5A, &hex(pan)),
        tlv_bytes(0x5F34, &[0]),
        tlv_bytes(0x4F, &aid_bytes),
    ]
    .concat();
    Online {
        card,
        host,
        request,
    }
}

#[test]
fn approves_a_valid_arqc_and_the_card_accepts_the_arpc() {
    let mut o = go_online(
        "baseline",
        "F0000009991010",
        "4999990000000015",
        "5C00",
        CDOL1,
    );
    let r = o.host.authorise(&o.request).unwrap();
    assert!(r.arqc_valid);
    assert_eq!(&r.arc, b"00");
    assert_eq!(
        r.issuer_authentication_data.len(),
        10,
        "method 1: ARPC ‖ ARC"
    );
    let mut ea = vec![
        0x00,
        0x82,
        0x00,
        0x00,
        r.issuer_authentication_data.len() as u8,
    ];
    ea.extend_from_slice(&r.issuer_authentication_data);
    assert_eq!(send(&mut o.card, &ea), [0x90, 0x00]);
    let mut cdol2 = b"00".to_vec();
    cdol2.extend_from_slice(&hex(CDOL1));
    let mut genac2 = vec![0x80, 0xAE, 0x40, 0x00, cdol2.len() as u8];
    genac2.extend_from_slice(&cdol2);
    genac2.push(0);
    assert_eq!(send(&mut o.card, &genac2)[2], 0x40, "TC");
}

#[test]
fn declines_a_wrong_arqc_and_by_policy() {
    let mut o = go_online(
        "baseline",
        "F0000009991010",
        "4999990000000015",
        "5C00",
        CDOL1,
    );
    let mut tampered = o.request.clone();
    tampered[3] ^= 0x01; // inside 9F26
    let r = o.host.authorise(&tampered).unwrap();
    assert!(!r.arqc_valid);
    assert_eq!(&r.arc, b"05");
    // A changed amount breaks the ARQC too.
    let mut other_amount = o.request.clone();
    let at = other_amount
        .windows(2)
        .position(|w| w == [0x9F, 0x02])
        .unwrap();
    other_amount[at + 8] ^= 0x10;
    assert!(!o.host.authorise(&other_amount).unwrap().arqc_valid);

    o.host.policy = Policy::Decline;
    let r = o.host.authorise(&o.request).unwrap();
    assert!(r.arqc_valid);
    assert_eq!(&r.arc, b"05");
    // The card still authenticates the issuer's (declining) answer.
    let mut ea = vec![0x00, 0x82, 0x00, 0x00, 10];
    ea.extend_from_slice(&r.issuer_authentication_data);
    assert_eq!(send(&mut o.card, &ea), [0x90, 0x00]);
    // Missing data and unknown AIDs are errors.
    assert!(o.host.authorise(&o.request[..20]).is_err());
    assert!(o.host.authorise(&[0x9F, 0x26]).is_err());
}

#[test]
fn method_2_arpc_for_cvn_18() {
    let mut o = go_online(
        "visa-cvn18-dda",
        "F0000009991010",
        "4999990000000015",
        "3C00",
        CDOL1,
    );
    let r = o.host.authorise(&o.request).unwrap();
    assert!(r.arqc_valid);
    assert_eq!(
        r.issuer_authentication_data.len(),
        8,
        "method 2: ARPC(4) ‖ CSU(4)"
    );
    let mut ea = vec![0x00, 0x82, 0x00, 0x00, 8];
    ea.extend_from_slice(&r.issuer_authentication_data);
    assert_eq!(send(&mut o.card, &ea), [0x90, 0x00]);
}

#[test]
fn mastercard_style_arpc_in_cdol2() {
    let cdol1 = "000000002500 000000000000 0840 0000000000 0840 261128 00 CAFEBABE 22 0000 0000000000000000 1F0302";
    let mut o = go_online(
        "mc-cda",
        "F0000009992010",
        "5999990000000012",
        "3900",
        cdol1,
    );
    let r = o.host.authorise(&o.request).unwrap();
    assert!(r.arqc_valid);
    // CDOL2: 91 0A, 8A 02, 95 05, 9F37 04, 9F4C 08.
    let mut cdol2 = r.issuer_authentication_data.clone();
    cdol2.extend_from_slice(&r.arc);
    cdol2.extend_from_slice(&hex("0000000000 CAFEBABE 0000000000000000"));
    let mut genac2 = vec![0x80, 0xAE, 0x40, 0x00, cdol2.len() as u8];
    genac2.extend_from_slice(&cdol2);
    genac2.push(0);
    let resp = send(&mut o.card, &genac2);
    assert_eq!(resp[..2], [0x77, resp[1]]);
    let cid_at = resp.windows(2).position(|w| w == [0x9F, 0x27]).unwrap();
    assert_eq!(resp[cid_at + 3], 0x40, "TC after a valid ARPC in CDOL2");
}

#[test]
fn scripts_carry_valid_macs() {
    let mut o = go_online(
        "baseline",
        "F0000009991010",
        "4999990000000015",
        "5C00",
        CDOL1,
    );
    o.host.scripts = vec![ScriptCommand {
        template: 0x72,
        header: [0x84, 0x1E, 0x00, 0x00],
        data: Vec::new(),
    }];
    let r = o.host.authorise(&o.request).unwrap();
    assert_eq!(r.scripts.len(), 1);
    let script = &r.scripts[0];
    assert_eq!(script[0], 0x72);
    // 72 L 9F18 04 00000001 86 L command
    let command = &script[script.iter().position(|&b| b == 0x86).unwrap() + 2..];
    assert_eq!(command.len(), 13);
    assert_eq!(
        send(&mut o.card, command),
        [0x90, 0x00],
        "APPLICATION BLOCK accepted"
    );
    assert!(o.card.apps()[0].blocked);
}
