//! The EMV card engine end to end: a hand-driven terminal (the kernel's
//! wire layer) against the shipped profiles, with the issuer host side
//! played by `emv_test_cards::issuer` and ODA checked with
//! `emv_test_cards::pki`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use emv_hal::channel::CardChannel;
use emv_kernel::Tag;
use emv_kernel::wire::apdu::commands::{self, Occurrence, PinFormat};
use emv_kernel::wire::apdu::{CommandApdu, Encoding, ResponseApdu};
use emv_kernel::wire::tlv::Mode;
use emv_kernel::wire::walk::{MAX_DEPTH, Walk};
use emv_test_cards::card::{Card, SimChannel};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::issuer::{AcInput, ArpcInput, SessionContext};
use emv_test_cards::pki::TestCa;
use emv_test_cards::pki::certificate::{
    IccCertificate, IssuerCertificate, RecoveredIccCertificate, RecoveredIssuerCertificate,
    verify_icc_certificate, verify_issuer_certificate,
};
use emv_test_cards::pki::signing::{
    verify_dynamic_data_cda, verify_dynamic_data_dda, verify_static_data,
};

const CDOL_DATA_VISA: &str = "000000001000 000000000000 0840 0000000000 0840 261128 00 11223344";

struct Terminal {
    ch: SimChannel<EmvCard>,
    /// Every primitive object the card sent, by tag.
    data: BTreeMap<Tag, Vec<u8>>,
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

impl Terminal {
    fn new(profile: &str) -> Self {
        Self::with_card(EmvCard::from_profile(profile).unwrap())
    }

    fn with_card(card: EmvCard) -> Self {
        Self {
            ch: SimChannel::new(card),
            data: BTreeMap::new(),
        }
    }

    fn send(&mut self, c: CommandApdu<'_>) -> (Vec<u8>, u16) {
        let mut cmd = [0u8; 300];
        let n = c.emit(&mut cmd, Encoding::Short).unwrap();
        self.raw(&cmd[..n])
    }

    fn raw(&mut self, cmd: &[u8]) -> (Vec<u8>, u16) {
        let mut resp = [0u8; 300];
        let n = self.ch.exchange(cmd, &mut resp).unwrap();
        let r = ResponseApdu::parse(&resp[..n]).unwrap();
        for node in Walk::<MAX_DEPTH>::new(r.data, Mode::Strict).flatten() {
            if !node.tlv.is_constructed() {
                self.data.insert(node.tlv.tag(), node.tlv.value().to_vec());
            }
        }
        (r.data.to_vec(), r.sw.value())
    }

    fn get(&self, tag: u32) -> Vec<u8> {
        self.data
            .get(&Tag::new(tag))
            .cloned()
            .unwrap_or_else(|| panic!("card sent no {tag:X}"))
    }

    /// SELECT, GPO (empty PDOL), READ RECORD per AFL. Returns the static
    /// data to authenticate.
    fn start(&mut self, aid: &str) -> Vec<u8> {
        self.data.clear();
        let aid = hex(aid);
        let (_, sw) = self.send(commands::select(&aid, Occurrence::First));
        assert_eq!(sw, 0x9000);
        let (gpo, sw) = self.send(commands::get_processing_options(&[0x83, 0x00]));
        assert_eq!(sw, 0x9000);
        let (aip, afl) = if gpo[0] == 0x80 {
            (gpo[2..4].to_vec(), gpo[4..].to_vec())
        } else {
            (self.get(0x82), self.get(0x94))
        };
        self.data.insert(Tag::new(0x82), aip.clone());
        let mut static_data = Vec::new();
        for e in afl.chunks(4) {
            for rec in e[1]..=e[2] {
                let (r, sw) = self.send(commands::read_record(e[0] >> 3, rec).unwrap());
                assert_eq!(sw, 0x9000, "SFI {} record {rec}", e[0] >> 3);
                assert_eq!(r[0], 0x70);
                if rec < e[1] + e[3] {
                    // SFI 1-10: the template's value.
                    let hdr = if r[1] == 0x81 {
                        3
                    } else if r[1] == 0x82 {
                        4
                    } else {
                        2
                    };
                    static_data.extend_from_slice(&r[hdr..]);
                }
            }
        }
        static_data
    }

    /// Recovers the issuer certificate with the project test CA named by `8F`.
    fn issuer_certificate(&self) -> RecoveredIssuerCertificate {
        let ca = TestCa::shipped(self.get(0x8F)[0]).unwrap();
        let remainder = self.data.get(&Tag::new(0x92)).cloned().unwrap_or_default();
        let cert = IssuerCertificate {
            certificate: self.get(0x90),
            remainder,
            exponent: self.get(0x9F32),
        };
        verify_issuer_certificate(ca.key(), &cert).unwrap()
    }

    /// Recovers the whole chain down to the ICC certificate.
    fn icc_certificate(&self, static_data: &[u8]) -> RecoveredIccCertificate {
        let issuer = self.issuer_certificate();
        let remainder = self
            .data
            .get(&Tag::new(0x9F48))
            .cloned()
            .unwrap_or_default();
        let cert = IccCertificate {
            certificate: self.get(0x9F46),
            remainder,
            exponent: self.get(0x9F47),
        };
        verify_icc_certificate(&issuer.public_key, &cert, static_data).unwrap()
    }

    fn genac(&mut self, p1: u8, data: &[u8]) -> (Vec<u8>, u16) {
        self.send(commands::generate_ac(p1, data))
    }

    fn ac_input(&self, cdol_data: &[u8], atc: [u8; 2], iad: &[u8]) -> AcInput {
        let d = cdol_data;
        AcInput {
            amount_authorised: d[0..6].try_into().unwrap(),
            amount_other: d[6..12].try_into().unwrap(),
            terminal_country_code: d[12..14].try_into().unwrap(),
            tvr: d[14..19].try_into().unwrap(),
            transaction_currency_code: d[19..21].try_into().unwrap(),
            transaction_date: d[21..24].try_into().unwrap(),
            transaction_type: d[24],
            unpredictable_number: d[25..29].try_into().unwrap(),
            aip: self.get(0x82).try_into().unwrap(),
            atc,
            iad: iad.to_vec(),
        }
    }
}

/// (CID, ATC, AC, IAD) of a format-1 GENERATE AC response.
fn format1(r: &[u8]) -> (u8, [u8; 2], [u8; 8], Vec<u8>) {
    assert_eq!(r[0], 0x80);
    (
        r[2],
        r[3..5].try_into().unwrap(),
        r[5..13].try_into().unwrap(),
        r[13..].to_vec(),
    )
}

#[test]
fn baseline_sda_offline_approval_with_pin() {
    let mut t = Terminal::new("baseline");
    let static_data = t.start("F0000009991010");
    // SDA: issuer certificate from test CA 01, signed static data.
    let issuer = t.issuer_certificate();
    let issuer_key = issuer.public_key.clone();
    assert_eq!(
        verify_static_data(&issuer_key, &t.get(0x93), &static_data).unwrap(),
        [0xDA, 0xC0]
    );
    // A tampered record breaks SDA.
    let mut tampered = static_data.clone();
    tampered[5] ^= 1;
    assert!(verify_static_data(&issuer_key, &t.get(0x93), &tampered).is_err());

    // Counters: ATC incremented by GPO, last online ATC, PIN tries.
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F36)).unwrap()),
        (hex("9F36020011"), 0x9000)
    );
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F13)).unwrap()),
        (hex("9F1302000F"), 0x9000)
    );
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F17)).unwrap()),
        (hex("9F170103"), 0x9000)
    );
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F4F)).unwrap()).1,
        0x9000
    );
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F7F)).unwrap()).1,
        0x6A88
    );

    // Offline PIN: wrong, then right.
    let (_, sw) = t.send(commands::verify(
        PinFormat::Plaintext,
        &hex("244321FFFFFFFFFF"),
    ));
    assert_eq!(sw, 0x63C2);
    let (_, sw) = t.send(commands::verify(
        PinFormat::Plaintext,
        &hex("241234FFFFFFFFFF"),
    ));
    assert_eq!(sw, 0x9000);
    assert_eq!(t.ch.card().pin().tries_left, 3);
    // Malformed PIN blocks.
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("141234FFFFFFFFFF")
        ))
        .1,
        0x6A80
    );
    assert_eq!(
        t.send(commands::verify(PinFormat::Plaintext, &hex("241234FF")))
            .1,
        0x6700
    );

    // 1st GENERATE AC asking TC: the card approves offline.
    let cdol = hex(CDOL_DATA_VISA);
    let (r, sw) = t.genac(0x40, &cdol);
    assert_eq!(sw, 0x9000);
    let (cid, atc, ac, iad) = format1(&r);
    assert_eq!(cid, 0x40);
    assert_eq!(atc, [0x00, 0x11]);
    assert_eq!(&iad[..3], &[0x06, 0x01, 0x0A], "Visa IAD, DKI 01, CVN 10");
    // CVR: TC in 1st GENAC, 2nd not requested, offline PIN performed.
    assert_eq!(iad[3], 0x03);
    assert_eq!(iad[4], 0b1001_0100);
    // The issuer recomputes the same TC.
    let card = t.ch.card();
    let crypto = &card.apps()[0].crypto;
    let input = t.ac_input(&cdol, atc, &iad);
    assert!(
        crypto
            .cvn()
            .verify_application_cryptogram(crypto.keys(), &input, &ac)
            .unwrap()
    );
    // The transaction is over: a 2nd GENERATE AC is refused.
    assert_eq!(t.genac(0x40, &hex("3030")).1, 0x6985);
}

#[test]
fn online_authorisation_with_external_authenticate() {
    let mut t = Terminal::new("baseline");
    t.start("F0000009991010");
    let cdol = hex(CDOL_DATA_VISA);
    let (r, sw) = t.genac(0x80, &cdol);
    assert_eq!(sw, 0x9000);
    let (cid, atc, arqc, _) = format1(&r);
    assert_eq!(cid, 0x80);
    // Issuer: ARPC method 1 with ARC "00".
    let crypto = &t.ch.card().apps()[0].crypto;
    let session = SessionContext {
        atc,
        unpredictable_number: [0x11, 0x22, 0x33, 0x44],
    };
    let iad91 = crypto
        .cvn()
        .arpc(
            crypto.keys(),
            &session,
            &arqc,
            &ArpcInput::Method1 { arc: *b"00" },
        )
        .unwrap();
    assert_eq!(t.send(commands::external_authenticate(&iad91)).1, 0x9000);
    assert_eq!(
        t.send(commands::external_authenticate(&iad91)).1,
        0x6985,
        "only once"
    );
    let mut cdol2 = b"00".to_vec();
    cdol2.extend_from_slice(&cdol);
    let (r, sw) = t.genac(0x40, &cdol2);
    assert_eq!(sw, 0x9000);
    let (cid, _, _, iad) = format1(&r);
    assert_eq!(cid, 0x40);
    assert_eq!(iad[4] >> 4, 0b0110, "CVR: TC in 2nd, ARQC in 1st");
    assert_eq!(t.genac(0x40, &cdol2).1, 0x6985, "no 3rd GENERATE AC");

    // Next transaction: the last online ATC moved.
    t.ch.card_mut().power_on();
    t.start("F0000009991010");
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F13)).unwrap()).0,
        hex("9F13020011")
    );
}

#[test]
fn issuer_authentication_failure_declines_and_is_remembered() {
    let mut t = Terminal::new("baseline");
    t.start("F0000009991010");
    let cdol = hex(CDOL_DATA_VISA);
    t.genac(0x80, &cdol);
    assert_eq!(
        t.send(commands::external_authenticate(&hex(
            "00112233445566773030"
        )))
        .1,
        0x6300
    );
    let mut cdol2 = b"00".to_vec();
    cdol2.extend_from_slice(&cdol);
    let (r, _) = t.genac(0x40, &cdol2);
    let (cid, _, _, iad) = format1(&r);
    assert_eq!(cid, 0x00, "declined: issuer authentication failed");
    assert_ne!(iad[4] & 0x08, 0, "CVR: issuer authentication failed");
    // The next transaction asks to go online.
    t.ch.card_mut().power_on();
    t.start("F0000009991010");
    let (r, _) = t.genac(0x40, &cdol);
    assert_eq!(format1(&r).0, 0x80);
}

#[test]
fn card_risk_management_velocity_and_unable_to_go_online() {
    let mut t = Terminal::new("baseline");
    let cdol = hex(CDOL_DATA_VISA);
    // Lower consecutive offline limit 3: three TCs, then ARQC.
    for expected in [0x40, 0x40, 0x40, 0x80] {
        t.ch.card_mut().power_on();
        t.start("F0000009991010");
        let (r, _) = t.genac(0x40, &cdol);
        let (cid, _, _, iad) = format1(&r);
        assert_eq!(cid, expected);
        if expected == 0x80 {
            assert_ne!(iad[5] & 0x20, 0, "CVR: velocity exceeded");
        }
    }
    // Terminal unable to go online (ARC Z3): the card declines by default.
    let mut cdol2 = b"Z3".to_vec();
    cdol2.extend_from_slice(&cdol);
    assert_eq!(format1(&t.genac(0x40, &cdol2).0).0, 0x00);
    // A declining terminal gets AAC whatever it asks; asking AAC gives AAC.
    t.ch.card_mut().power_on();
    t.start("F0000009991010");
    assert_eq!(format1(&t.genac(0x00, &cdol).0).0, 0x00);
}

#[test]
fn tearing_between_generate_acs_is_remembered() {
    let mut t = Terminal::new("baseline");
    let cdol = hex(CDOL_DATA_VISA);
    t.start("F0000009991010");
    assert_eq!(format1(&t.genac(0x80, &cdol).0).0, 0x80);
    // Power lost before the 2nd GENERATE AC.
    t.ch.card_mut().power_off();
    t.ch.card_mut().power_on();
    t.start("F0000009991010");
    let (r, _) = t.genac(0x40, &cdol);
    let (cid, _, _, iad) = format1(&r);
    assert_eq!(
        cid, 0x80,
        "goes online after an incomplete online transaction"
    );
    assert_ne!(
        iad[5] & 0x80,
        0,
        "CVR: last online transaction not completed"
    );
}

#[test]
fn dda_card_internal_authenticate() {
    let mut t = Terminal::new("visa-cvn18-dda");
    let static_data = t.start("F0000009991010");
    let icc = t.icc_certificate(&static_data);
    assert!(icc.matches_pan(&t.get(0x5A)));
    assert_eq!(t.get(0x9F49), hex("9F3704"));
    let un = hex("DEADBEEF");
    let (r, sw) = t.send(commands::internal_authenticate(&un));
    assert_eq!(sw, 0x9000);
    assert_eq!(r[0], 0x80);
    let sdad = &r[if r[1] == 0x81 { 3 } else { 2 }..];
    let icc_key = icc.public_key.clone();
    verify_dynamic_data_dda(&icc_key, sdad, &un).unwrap();
    assert!(verify_dynamic_data_dda(&icc_key, sdad, &hex("DEADBEEE")).is_err());
    // Format 2 GENERATE AC with CVN 18.
    let (r, sw) = t.genac(0x40, &hex(CDOL_DATA_VISA));
    assert_eq!(sw, 0x9000);
    assert_eq!(r[0], 0x77);
    assert_eq!(t.get(0x9F10)[2], 0x12);
}

#[test]
fn cda_card_signs_the_cryptogram() {
    let mut t = Terminal::new("mc-cda");
    let static_data_records = t.start("F0000009992010");
    let mut static_data = static_data_records.clone();
    static_data.extend_from_slice(&t.get(0x82)); // 9F4A = 82: AIP signed too
    assert_eq!(t.get(0x9F4A), vec![0x82]);
    let icc = t.icc_certificate(&static_data);
    // CDOL1: amounts, country, TVR, currency, date, type, UN, 9F35, 9F45, 9F4C, 9F34.
    let cdol = hex(
        "000000002500 000000000000 0840 0000000000 0840 261128 00 CAFEBABE 22 0000 0000000000000000 1F0302",
    );
    let (r, sw) = t.genac(0x40 | 0x10, &cdol);
    assert_eq!(sw, 0x9000);
    assert_eq!(r[0], 0x77);
    let cid = t.get(0x9F27);
    let sdad = t.get(0x9F4B);
    assert!(
        !t.data.contains_key(&Tag::new(0x9F26)),
        "the AC is inside the signature"
    );
    // Transaction data hash: PDOL data (none), CDOL1 data, response objects but 9F4B.
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(&cdol);
    h.update(hex(&format!("9F2701{:02X}", cid[0])));
    h.update([&hex("9F3602")[..], &t.get(0x9F36)].concat());
    let iad = t.get(0x9F10);
    h.update([&[0x9F, 0x10, iad.len() as u8][..], &iad].concat());
    let tdhc: [u8; 20] = h.finalize().into();
    let rec = verify_dynamic_data_cda(
        &icc.public_key.clone(),
        &sdad,
        [0xCA, 0xFE, 0xBA, 0xBE],
        &tdhc,
    )
    .unwrap();
    assert_eq!(rec.cid, cid[0]);
    // The AC in the signature is the one the issuer computes.
    let crypto = &t.ch.card().apps()[0].crypto;
    let input = t.ac_input(&cdol, t.get(0x9F36).try_into().unwrap(), &iad);
    assert!(
        crypto
            .cvn()
            .verify_application_cryptogram(crypto.keys(), &input, &rec.application_cryptogram)
            .unwrap()
    );
    assert_eq!(iad[1], 0x10, "Mastercard CVN 16");
}

#[test]
fn pse_directory_partial_selection_and_priorities() {
    let mut t = Terminal::new("pse-three-apps");
    let (fci, sw) = t.send(commands::select(b"1PAY.SYS.DDF01", Occurrence::First));
    assert_eq!(sw, 0x9000);
    assert_eq!(t.get(0x88), vec![1]);
    assert_eq!(t.get(0x84), b"1PAY.SYS.DDF01".to_vec());
    assert_eq!(fci[0], 0x6F);
    let mut entries = Vec::new();
    for rec in 1..=4 {
        let (r, sw) = t.send(commands::read_record(1, rec).unwrap());
        if rec == 4 {
            assert_eq!(sw, 0x6A83);
            break;
        }
        assert_eq!(sw, 0x9000);
        assert_eq!(&r[..1], &[0x70]);
        entries.push((t.get(0x4F), t.get(0x87)));
    }
    // Apps are kept in name order: debit (priority 1 + confirmation), loyalty (3), main (2).
    assert!(entries.contains(&(hex("F0000009991020"), vec![0x81])));
    assert!(entries.contains(&(hex("F0000009991030"), vec![0x03])));
    assert!(entries.contains(&(hex("F0000009991010"), vec![0x02])));
    assert_eq!(t.send(commands::read_record(2, 1).unwrap()).1, 0x6A82);
    // Partial AID selection walks the three applications, then 6A82.
    let partial = hex("F000000999");
    let mut seen = Vec::new();
    let (_, sw) = t.send(commands::select(&partial, Occurrence::First));
    assert_eq!(sw, 0x9000);
    seen.push(t.get(0x84));
    for _ in 0..2 {
        let (_, sw) = t.send(commands::select(&partial, Occurrence::Next));
        assert_eq!(sw, 0x9000);
        seen.push(t.get(0x84));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            hex("F0000009991010"),
            hex("F0000009991020"),
            hex("F0000009991030")
        ]
    );
    assert_eq!(
        t.send(commands::select(&partial, Occurrence::Next)).1,
        0x6A82
    );
}

#[test]
fn blocked_pin_and_expired_profiles() {
    let mut t = Terminal::new("blocked-pin");
    t.start("F0000009991010");
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F17)).unwrap()).0,
        hex("9F170100")
    );
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("241234FFFFFFFFFF")
        ))
        .1,
        0x6983
    );
    let (r, _) = t.genac(0x40, &hex(CDOL_DATA_VISA));
    let (cid, _, _, iad) = format1(&r);
    assert_eq!(cid, 0x80, "PIN try limit exceeded: go online");
    assert_ne!(iad[5] & 0x40, 0, "CVR: PIN try limit exceeded");

    let mut t = Terminal::new("expired");
    t.start("F0000009991010");
    assert_eq!(t.get(0x5F24), hex("200131"));

    let mut t = Terminal::new("unknown-ca");
    t.start("F0000009991010");
    assert_eq!(t.get(0x8F), vec![0x77]);
    assert!(
        TestCa::shipped(0x77).is_err(),
        "no terminal carries this CA"
    );
}

#[test]
fn pin_try_counter_counts_down_and_persists() {
    let mut t = Terminal::new("baseline");
    t.start("F0000009991010");
    for expected in [0x63C2, 0x63C1, 0x63C0] {
        assert_eq!(
            t.send(commands::verify(
                PinFormat::Plaintext,
                &hex("249999FFFFFFFFFF")
            ))
            .1,
            expected
        );
    }
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("241234FFFFFFFFFF")
        ))
        .1,
        0x6983
    );
    t.ch.card_mut().power_off();
    t.ch.card_mut().power_on();
    t.start("F0000009991010");
    assert_eq!(
        t.send(commands::get_data(Tag::new(0x9F17)).unwrap()).0,
        hex("9F170100")
    );
}

/// Builds a script command `header` (CLA INS P1 P2) with its MAC, as the
/// issuer does for the transaction `(arqc, atc)`.
fn script(t: &Terminal, header: [u8; 4], plain: &[u8], (arqc, atc): ([u8; 8], [u8; 2])) -> Vec<u8> {
    let crypto = &t.ch.card().apps()[0].crypto;
    let mut cmd = header.to_vec();
    cmd.push((plain.len() + 8) as u8);
    cmd.extend_from_slice(plain);
    let mac = crypto
        .cvn()
        .script_mac(crypto.keys(), atc, &arqc, &cmd)
        .unwrap();
    cmd.extend_from_slice(&mac);
    cmd
}

fn online(t: &mut Terminal) -> ([u8; 8], [u8; 2]) {
    t.start("F0000009991010");
    let (r, _) = t.genac(0x80, &hex(CDOL_DATA_VISA));
    let (_, atc, arqc, _) = format1(&r);
    (arqc, atc)
}

#[test]
fn issuer_scripts_with_secure_messaging() {
    // APPLICATION BLOCK, then the application answers 6283.
    let mut t = Terminal::new("baseline");
    let (arqc, atc) = online(&mut t);
    let block = script(&t, [0x84, 0x1E, 0, 0], &[], (arqc, atc));
    assert_eq!(t.raw(&block).1, 0x9000);
    t.ch.card_mut().power_on();
    assert_eq!(
        t.send(commands::select(&hex("F0000009991010"), Occurrence::First))
            .1,
        0x6283
    );
    // Blocked: never approves offline, but can go online...
    assert_eq!(
        t.send(commands::get_processing_options(&[0x83, 0x00])).1,
        0x9000
    );
    assert_eq!(
        format1(&t.genac(0x40, &hex(CDOL_DATA_VISA)).0).0,
        0x00,
        "AAC while blocked"
    );
    t.ch.card_mut().power_on();
    t.send(commands::select(&hex("F0000009991010"), Occurrence::First));
    t.send(commands::get_processing_options(&[0x83, 0x00]));
    let (r, _) = t.genac(0x80, &hex(CDOL_DATA_VISA));
    let (cid, atc, arqc, _) = format1(&r);
    assert_eq!(cid, 0x80);
    // ...where the issuer unblocks it; the 2nd GENERATE AC of this
    // transaction still declines, the next transaction works.
    assert_eq!(
        t.raw(&script(&t, [0x84, 0x18, 0, 0], &[], (arqc, atc))).1,
        0x9000
    );
    t.ch.card_mut().power_on();
    t.start("F0000009991010");

    // PIN CHANGE: the new PIN block enciphered under the SMC session key.
    let mut t = Terminal::new("baseline");
    let (arqc, atc) = online(&mut t);
    let block = {
        let crypto = &t.ch.card().apps()[0].crypto;
        let k = crypto.keys();
        let smc = emv_test_cards::issuer::IccKeys {
            ac: k.smc.clone(),
            smi: k.smc.clone(),
            smc: k.smc.clone(),
        };
        let key = crypto.cvn().script_mac_key(&smc, atc, &arqc);
        key.encrypt_block(&hex("244321FFFFFFFFFF").try_into().unwrap())
    };
    assert_eq!(
        t.raw(&script(&t, [0x84, 0x24, 0x00, 0x02], &block, (arqc, atc)))
            .1,
        0x9000
    );
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("241234FFFFFFFFFF")
        ))
        .1,
        0x63C2,
        "old PIN"
    );
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("244321FFFFFFFFFF")
        ))
        .1,
        0x9000,
        "new PIN"
    );
    // A garbage block is refused.
    let (arqc, atc) = online(&mut t);
    assert_eq!(
        t.raw(&script(
            &t,
            [0x84, 0x24, 0x00, 0x02],
            &[0u8; 8],
            (arqc, atc)
        ))
        .1,
        0x6A80
    );

    // A bad MAC: 6988, and the CVR says script failed.
    let mut t = Terminal::new("baseline");
    let (arqc, atc) = online(&mut t);
    let mut bad = script(&t, [0x84, 0x1E, 0, 0], &[], (arqc, atc));
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(t.raw(&bad).1, 0x6988);
    let mut cdol2 = b"00".to_vec();
    cdol2.extend_from_slice(&hex(CDOL_DATA_VISA));
    let (r, _) = t.genac(0x00, &cdol2);
    assert_ne!(format1(&r).3[6] & 0x08, 0, "CVR: issuer script failed");
    assert_eq!(
        format1(&r).3[6] >> 4,
        1,
        "CVR: one script command processed"
    );

    // CARD BLOCK: every SELECT answers 6A81.
    let mut t = Terminal::new("baseline");
    let (arqc, atc) = online(&mut t);
    assert_eq!(
        t.raw(&script(&t, [0x84, 0x16, 0, 0], &[], (arqc, atc))).1,
        0x9000
    );
    assert!(t.ch.card().is_blocked());
    assert_eq!(
        t.send(commands::select(&hex("F0000009991010"), Occurrence::First))
            .1,
        0x6A81
    );

    // PIN UNBLOCK on a blocked PIN.
    let mut t = Terminal::new("blocked-pin");
    let (arqc, atc) = online(&mut t);
    assert_eq!(
        t.raw(&script(&t, [0x84, 0x24, 0, 0], &[], (arqc, atc))).1,
        0x9000
    );
    assert_eq!(
        t.send(commands::verify(
            PinFormat::Plaintext,
            &hex("241234FFFFFFFFFF")
        ))
        .1,
        0x9000
    );

    // PUT DATA and UPDATE RECORD.
    let mut t = Terminal::new("baseline");
    let (arqc, atc) = online(&mut t);
    assert_eq!(
        t.raw(&script(&t, [0x04, 0xDA, 0x9F, 0x58], &[0x09], (arqc, atc)))
            .1,
        0x9000
    );
    let record = hex("70055F28020250");
    assert_eq!(
        t.raw(&script(&t, [0x04, 0xDC, 0x01, 0x0C], &record, (arqc, atc)))
            .1,
        0x9000
    );
    assert_eq!(t.send(commands::read_record(1, 1).unwrap()).0, record);
    assert_eq!(
        t.raw(&script(&t, [0x04, 0xDC, 0x09, 0x0C], &record, (arqc, atc)))
            .1,
        0x6A83
    );
    assert_eq!(
        t.raw(&script(
            &t,
            [0x04, 0xDC, 0x01, 0x0C],
            &hex("7701AA"),
            (arqc, atc)
        ))
        .1,
        0x6A80
    );
    // Without secure messaging: refused.
    assert_eq!(t.raw(&hex("801E000000")).1, 0x6982);
}

#[test]
fn misuse_gets_the_right_status_words() {
    let mut t = Terminal::new("baseline");
    let cdol = hex(CDOL_DATA_VISA);
    // Nothing selected yet.
    assert_eq!(
        t.send(commands::get_processing_options(&[0x83, 0x00])).1,
        0x6985
    );
    assert_eq!(t.send(commands::read_record(1, 1).unwrap()).1, 0x6985);
    assert_eq!(t.genac(0x40, &cdol).1, 0x6985);
    assert_eq!(
        t.send(commands::select(&hex("A0000000031010"), Occurrence::First))
            .1,
        0x6A82
    );
    assert_eq!(t.raw(&hex("00A4000007F0000009991010")).1, 0x6A86);
    assert_eq!(
        t.send(commands::select(b"1PAY.SYS.DDF01", Occurrence::First))
            .1,
        0x6A82,
        "no PSE"
    );
    assert_eq!(
        t.send(commands::select(&hex("F0000009991010"), Occurrence::First))
            .1,
        0x9000
    );
    assert_eq!(t.genac(0x40, &cdol).1, 0x6985, "GENERATE AC before GPO");
    assert_eq!(
        t.send(commands::get_processing_options(&[0x83, 0x01, 0x00]))
            .1,
        0x6700
    );
    assert_eq!(
        t.send(commands::get_processing_options(&[0x84, 0x00])).1,
        0x6A80
    );
    assert_eq!(t.raw(&hex("00A80000028300")).1, 0x6E00, "GPO needs CLA 80");
    assert_eq!(
        t.send(commands::get_processing_options(&[0x83, 0x00])).1,
        0x9000
    );
    assert_eq!(
        t.send(commands::get_processing_options(&[0x83, 0x00])).1,
        0x6985,
        "GPO twice"
    );
    assert_eq!(t.raw(&hex("00B2010400")).1, 0x6A82, "SFI 0");
    assert_eq!(t.raw(&hex("00B2010800")).1, 0x6A86, "P2 without 100");
    assert_eq!(t.send(commands::read_record(1, 9).unwrap()).1, 0x6A83);
    assert_eq!(t.send(commands::read_record(9, 1).unwrap()).1, 0x6A82);
    assert_eq!(t.genac(0x40, &cdol[..10]).1, 0x6700);
    assert_eq!(t.genac(0xC0, &cdol).1, 0x6A86, "RFU cryptogram type");
    assert_eq!(
        t.send(commands::external_authenticate(&[0; 10])).1,
        0x6985,
        "before an ARQC"
    );
    assert_eq!(
        t.send(commands::internal_authenticate(&[1, 2, 3, 4])).1,
        0x6985,
        "SDA card"
    );
    assert_eq!(t.send(commands::get_challenge()).1, 0x9000);
    assert_eq!(t.raw(&hex("0084010000")).1, 0x6A86);
    assert_eq!(t.raw(&hex("00FF000000")).1, 0x6D00);
    assert_eq!(t.raw(&hex("0020008204241234FF")).1, 0x6A86, "VERIFY P2");
    assert_eq!(
        t.send(commands::verify(PinFormat::Enciphered, &[0; 128])).1,
        0x6A80,
        "no ICC key"
    );
}

#[test]
fn state_persists_across_power_cycles() {
    let mut t = Terminal::new("baseline");
    for atc in 0x11..0x14u16 {
        t.ch.card_mut().power_off();
        t.ch.card_mut().power_on();
        t.start("F0000009991010");
        assert_eq!(
            t.send(commands::get_data(Tag::new(0x9F36)).unwrap()).0,
            [&hex("9F3602")[..], &atc.to_be_bytes()].concat()
        );
    }
    // An unpowered card does not answer.
    t.ch.card_mut().power_off();
    assert_eq!(
        t.ch.card_mut().transmit(&hex("00A4040000")),
        emv_test_cards::card::Reply::Removed
    );
}

#[test]
fn atr_passes_the_emv_rules() {
    let card = EmvCard::from_profile("baseline").unwrap();
    let atr = card.atr();
    let parsed = emv_hal::atr::Atr::parse(&atr).unwrap();
    assert!(parsed.emv_check().is_ok());
}
