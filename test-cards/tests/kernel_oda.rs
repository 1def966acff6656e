//! The kernel's offline data authentication (`emv_kernel::oda`) end to end:
//!
//! - against the simulated cards of this crate: `baseline` (SDA),
//!   `visa-cvn18-dda` (DDA with INTERNAL AUTHENTICATE, DDOL `9F3704`) and
//!   `mc-cda` (CDA on GENERATE AC, AIP signed because `9F4A` = `82`), with
//!   the project test CA keys (`TestCa::shipped`), and the rejections a
//!   terminal must make (unknown CA, expired certificate, tampered record,
//!   wrong PAN, revoked certificate, wrong UN / CID / transaction data);
//! - against public Mastercard contactless traces whose chains are signed by
//!   the published Mastercard **test** CA keys (the APDUs and keys are
//!   copied here as hex).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use emv_hal::channel::CardChannel;
use emv_kernel::Tag;
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::data::tvr::Tvr;
use emv_kernel::oda::{
    Capk, CdaResponse, IccCertificate, IccPublicKey, IssuerCertificate, IssuerPublicKey, OdaError,
    OdaMethod, StaticCapkStore, begin_icc_public_key, begin_static_data, date_from_9a,
    recover_icc_public_key, recover_issuer_public_key, sda_tag_list_includes_aip,
    static_data_of_record, transaction_data_hash_code, verify_cda, verify_dda, verify_static_data,
};
use emv_kernel::wire::apdu::commands::{self, Occurrence};
use emv_kernel::wire::apdu::{CommandApdu, Encoding, ResponseApdu};
use emv_kernel::wire::tlv::{Mode, parse_one};
use emv_kernel::wire::walk::{MAX_DEPTH, Walk};
use emv_test_cards::card::SimChannel;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::issuer::AcInput;
use emv_test_cards::pki::{PROJECT_RID, TestCa};

const P: SoftwareCrypto = SoftwareCrypto;
/// A transaction month before the certificates' expiry (12/35).
const TODAY: (u16, u8) = (2026, 11);
/// The first month after it.
const AFTER_EXPIRY: (u16, u8) = (2036, 1);

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// The CA public keys of the four shipped project test CAs, owned.
struct Keys(Vec<emv_test_cards::pki::Capk>);

impl Keys {
    fn shipped() -> Self {
        Self(
            (1..=4)
                .map(|i| TestCa::shipped(i).unwrap().capk())
                .collect(),
        )
    }

    fn capks(&self) -> Vec<Capk<'_>> {
        self.0
            .iter()
            .map(|k| Capk {
                rid: k.rid,
                index: k.index,
                modulus: &k.modulus,
                exponent: &k.exponent,
                expiry: Some(k.expiry),
            })
            .collect()
    }
}

/// Checks the kernel's CAPK check sum against the card side's.
#[test]
fn capk_checksums_agree_with_the_card_side() {
    let keys = Keys::shipped();
    for k in &keys.0 {
        assert_eq!(
            emv_kernel::oda::capk_checksum(&P, k.rid, k.index, &k.modulus, &k.exponent),
            k.checksum
        );
    }
}

/// A hand-driven terminal: SELECT, GPO, READ RECORD per AFL, keeping every
/// primitive object and the ODA record data in AFL order.
struct Terminal {
    ch: SimChannel<EmvCard>,
    data: BTreeMap<u32, Vec<u8>>,
    oda_records: Vec<Vec<u8>>,
}

impl Terminal {
    fn start(profile: &str, aid: &str) -> Self {
        let mut t = Self {
            ch: SimChannel::new(EmvCard::from_profile(profile).unwrap()),
            data: BTreeMap::new(),
            oda_records: Vec::new(),
        };
        let (_, sw) = t.send(commands::select(&hex(aid), Occurrence::First));
        assert_eq!(sw, 0x9000);
        let (gpo, sw) = t.send(commands::get_processing_options(&[0x83, 0x00]));
        assert_eq!(sw, 0x9000);
        if gpo[0] == 0x80 {
            t.data.insert(0x82, gpo[2..4].to_vec());
            t.data.insert(0x94, gpo[4..].to_vec());
        }
        let afl = t.get(0x94);
        for e in afl.chunks(4) {
            let sfi = e[0] >> 3;
            for rec in e[1]..=e[2] {
                let (r, sw) = t.send(commands::read_record(sfi, rec).unwrap());
                assert_eq!(sw, 0x9000);
                if rec < e[1] + e[3] {
                    t.oda_records
                        .push(static_data_of_record(sfi, &r).unwrap().to_vec());
                }
            }
        }
        t
    }

    fn send(&mut self, c: CommandApdu<'_>) -> (Vec<u8>, u16) {
        let mut cmd = [0u8; 300];
        let n = c.emit(&mut cmd, Encoding::Short).unwrap();
        let mut resp = [0u8; 300];
        let n = self.ch.exchange(&cmd[..n], &mut resp).unwrap();
        let r = ResponseApdu::parse(&resp[..n]).unwrap();
        for node in Walk::<MAX_DEPTH>::new(r.data, Mode::Strict).flatten() {
            if !node.tlv.is_constructed() {
                self.data
                    .insert(node.tlv.tag().raw(), node.tlv.value().to_vec());
            }
        }
        (r.data.to_vec(), r.sw.value())
    }

    fn get(&self, tag: u32) -> Vec<u8> {
        self.data
            .get(&tag)
            .cloned()
            .unwrap_or_else(|| panic!("card sent no {tag:X}"))
    }

    fn opt(&self, tag: u32) -> &[u8] {
        self.data.get(&tag).map_or(&[], Vec::as_slice)
    }

    /// The static data to authenticate as parts: ODA records, then the AIP
    /// when 9F4A lists it.
    fn static_parts(&self) -> Vec<&[u8]> {
        let mut parts: Vec<&[u8]> = self.oda_records.iter().map(Vec::as_slice).collect();
        if sda_tag_list_includes_aip(self.opt(0x9F4A)).unwrap() {
            parts.push(self.data.get(&0x82).unwrap());
        }
        parts
    }

    fn issuer_certificate(&self) -> IssuerCertificate<'_> {
        IssuerCertificate {
            rid: PROJECT_RID,
            ca_index: self.get(0x8F)[0],
            certificate: self.opt(0x90),
            remainder: self.opt(0x92),
            exponent: self.opt(0x9F32),
        }
    }

    fn icc_certificate(&self) -> IccCertificate<'_> {
        IccCertificate {
            certificate: self.opt(0x9F46),
            remainder: self.opt(0x9F48),
            exponent: self.opt(0x9F47),
        }
    }

    fn issuer_key(
        &self,
        store: &StaticCapkStore<'_>,
        pan: &[u8],
        today: (u16, u8),
        out: &mut [u8; 248],
    ) -> Result<IssuerPublicKey, OdaError> {
        recover_issuer_public_key(&P, store, &self.issuer_certificate(), pan, today, out)
    }

    /// Issuer then ICC key with the shipped CAs.
    fn icc_key(&self, issuer_out: &mut [u8; 248], icc_out: &mut [u8; 248]) -> IccPublicKey {
        let keys = Keys::shipped();
        let capks = keys.capks();
        let store = StaticCapkStore {
            keys: &capks,
            revoked: &[],
        };
        let pan = self.get(0x5A);
        let issuer = self.issuer_key(&store, &pan, TODAY, issuer_out).unwrap();
        recover_icc_public_key(
            &P,
            issuer.public_key(issuer_out),
            &self.icc_certificate(),
            &self.static_parts(),
            &pan,
            TODAY,
            icc_out,
        )
        .unwrap()
    }
}

#[test]
fn baseline_sda_accepted_and_rejected() {
    let t = Terminal::start("baseline", "F0000009991010");
    let keys = Keys::shipped();
    let capks = keys.capks();
    let store = StaticCapkStore {
        keys: &capks,
        revoked: &[],
    };
    let pan = t.get(0x5A);
    let parts = t.static_parts();
    assert_eq!(parts.len(), 2, "records 1.1 and 2.1; no 9F4A");

    let mut out = [0u8; 248];
    let issuer = t.issuer_key(&store, &pan, TODAY, &mut out).unwrap();
    assert_eq!(issuer.expiry, (2035, 12));
    assert_eq!(issuer.serial, [0, 0, 1]);
    assert_eq!(issuer.modulus_len, 128, "1024-bit issuer key");
    assert_eq!(issuer.ca_index, 1);
    let key = issuer.public_key(&out);
    assert_eq!(
        verify_static_data(&P, key, &t.get(0x93), &parts),
        Ok([0xDA, 0xC0])
    );
    // Record by record, as a state machine would.
    let mut check = begin_static_data(&P, key, &t.get(0x93)).unwrap();
    for part in &parts {
        check.update(part);
    }
    assert_eq!(check.finish(), Ok([0xDA, 0xC0]));

    // Tampered record: every byte position of the first record.
    for at in 0..parts[0].len() {
        let mut tampered = parts[0].to_vec();
        tampered[at] ^= 0x01;
        assert_eq!(
            verify_static_data(&P, key, &t.get(0x93), &[&tampered, parts[1]]),
            Err(OdaError::Hash),
            "byte {at}"
        );
    }
    // Records out of order, a record left out.
    assert_eq!(
        verify_static_data(&P, key, &t.get(0x93), &[parts[1], parts[0]]),
        Err(OdaError::Hash)
    );
    assert_eq!(
        verify_static_data(&P, key, &t.get(0x93), &parts[..1]),
        Err(OdaError::Hash)
    );
    // Expired certificate (12/35): valid through December 2035.
    assert!(t.issuer_key(&store, &pan, (2035, 12), &mut out).is_ok());
    assert_eq!(
        t.issuer_key(&store, &pan, AFTER_EXPIRY, &mut out),
        Err(OdaError::Expired)
    );
    // Wrong PAN: the issuer identifier (first 6 digits) no longer matches.
    let mut wrong = pan.clone();
    wrong[2] ^= 0x10;
    assert_eq!(
        t.issuer_key(&store, &wrong, TODAY, &mut out),
        Err(OdaError::IssuerIdMismatch)
    );
    // Revoked issuer certificate serial.
    let revoked = [(PROJECT_RID, 1, [0, 0, 1])];
    let revoking = StaticCapkStore {
        keys: &capks,
        revoked: &revoked,
    };
    assert_eq!(
        t.issuer_key(&revoking, &pan, TODAY, &mut out),
        Err(OdaError::Revoked)
    );
    let other_serial = [(PROJECT_RID, 1, [0, 0, 2])];
    let not_revoking = StaticCapkStore {
        keys: &capks,
        revoked: &other_serial,
    };
    assert!(t.issuer_key(&not_revoking, &pan, TODAY, &mut out).is_ok());
    // An expired CA key.
    let mut expired_ca = capks.clone();
    expired_ca[0].expiry = Some((2026, 10));
    let store_expired = StaticCapkStore {
        keys: &expired_ca,
        revoked: &[],
    };
    assert_eq!(
        t.issuer_key(&store_expired, &pan, TODAY, &mut out),
        Err(OdaError::CapkExpired)
    );

    // TVR for an SDA failure.
    let mut tvr = Tvr::default();
    OdaError::Hash.set_tvr(OdaMethod::Sda, &mut tvr);
    assert_eq!(tvr.to_bytes(), [0x40, 0, 0, 0, 0]);
}

#[test]
fn unknown_ca_card_has_no_capk() {
    let t = Terminal::start("unknown-ca", "F0000009991010");
    let keys = Keys::shipped();
    let capks = keys.capks();
    let store = StaticCapkStore {
        keys: &capks,
        revoked: &[],
    };
    let pan = t.get(0x5A);
    let e = t
        .issuer_key(&store, &pan, TODAY, &mut [0u8; 248])
        .unwrap_err();
    assert_eq!(
        e,
        OdaError::CapkMissing {
            rid: PROJECT_RID,
            index: 0x77
        }
    );
    let mut tvr = Tvr::default();
    e.set_tvr(OdaMethod::Sda, &mut tvr);
    assert_eq!(tvr.to_bytes(), [0x40, 0, 0, 0, 0], "SDA failed only");
}

#[test]
fn dda_card_accepted_and_rejected() {
    let mut t = Terminal::start("visa-cvn18-dda", "F0000009991010");
    let mut issuer_out = [0u8; 248];
    let mut icc_out = [0u8; 248];
    let icc = t.icc_key(&mut issuer_out, &mut icc_out);
    assert_eq!(icc.modulus_len, 128, "1024-bit ICC key");
    assert_eq!(icc.serial, [0, 0, 2]);
    assert_eq!(icc.expiry, (2035, 12));
    assert_eq!(&icc.pan[..8], &t.get(0x5A)[..]);
    assert_eq!(&icc.pan[8..], &[0xFF, 0xFF]);
    assert_eq!(t.get(0x9F49), hex("9F3704"));

    // INTERNAL AUTHENTICATE with the DDOL data (the UN), format 1 response.
    let un = hex("DEADBEEF");
    let (r, sw) = t.send(commands::internal_authenticate(&un));
    assert_eq!(sw, 0x9000);
    let (tlv, _) = parse_one(&r, Mode::Strict).unwrap().unwrap();
    assert_eq!(tlv.tag(), Tag::new(0x80));
    let sdad = tlv.value().to_vec();
    let icc_key = icc.public_key(&icc_out);
    let idn = verify_dda(&P, icc_key, &sdad, &un).unwrap();
    assert!((2..=8).contains(&idn.as_bytes().len()));
    // Another UN, a flipped signature bit, the issuer key instead.
    assert_eq!(
        verify_dda(&P, icc_key, &sdad, &hex("DEADBEEE")),
        Err(OdaError::Hash)
    );
    let mut bad = sdad.clone();
    bad[10] ^= 0x01;
    assert!(verify_dda(&P, icc_key, &bad, &un).is_err());
    assert!(matches!(
        verify_dda(&P, icc_key, &sdad[1..], &un),
        Err(OdaError::CertificateLength { .. })
    ));

    // ICC certificate: tampered record, wrong PAN, expired.
    let keys = Keys::shipped();
    let capks = keys.capks();
    let store = StaticCapkStore {
        keys: &capks,
        revoked: &[],
    };
    let pan = t.get(0x5A);
    let issuer = t.issuer_key(&store, &pan, TODAY, &mut issuer_out).unwrap();
    let issuer_key = issuer.public_key(&issuer_out);
    let parts = t.static_parts();
    let mut tampered = parts[1].to_vec();
    tampered[4] ^= 0x80;
    let mut out = [0u8; 248];
    assert_eq!(
        recover_icc_public_key(
            &P,
            issuer_key,
            &t.icc_certificate(),
            &[parts[0], &tampered],
            &pan,
            TODAY,
            &mut out
        ),
        Err(OdaError::Hash)
    );
    let mut wrong_pan = pan.clone();
    wrong_pan[7] ^= 0x01;
    assert_eq!(
        recover_icc_public_key(
            &P,
            issuer_key,
            &t.icc_certificate(),
            &parts,
            &wrong_pan,
            TODAY,
            &mut out
        ),
        Err(OdaError::PanMismatch)
    );
    assert_eq!(
        recover_icc_public_key(
            &P,
            issuer_key,
            &t.icc_certificate(),
            &parts,
            &pan,
            AFTER_EXPIRY,
            &mut out
        ),
        Err(OdaError::Expired)
    );
    // Missing ICC certificate: ICC data missing and DDA failed.
    let e = recover_icc_public_key(
        &P,
        issuer_key,
        &IccCertificate {
            certificate: &[],
            ..t.icc_certificate()
        },
        &parts,
        &pan,
        TODAY,
        &mut out,
    )
    .unwrap_err();
    assert_eq!(e, OdaError::MissingData(Tag::new(0x9F46)));
    let mut tvr = Tvr::default();
    e.set_tvr(OdaMethod::Dda, &mut tvr);
    assert_eq!(tvr.to_bytes(), [0x28, 0, 0, 0, 0]);
}

#[test]
fn cda_card_accepted_and_rejected() {
    let mut t = Terminal::start("mc-cda", "F0000009992010");
    assert_eq!(t.get(0x9F4A), vec![0x82]);
    let parts = t.static_parts();
    assert_eq!(parts.last().unwrap(), &&t.get(0x82)[..], "AIP signed too");
    let mut issuer_out = [0u8; 248];
    let mut icc_out = [0u8; 248];
    let icc = t.icc_key(&mut issuer_out, &mut icc_out);
    assert_eq!(icc.modulus_len, 144, "1152-bit ICC key");
    assert_eq!(icc.exponent(), &[1, 0, 1]);
    // Leaving the AIP out of the static data fails the ICC certificate.
    {
        let keys = Keys::shipped();
        let capks = keys.capks();
        let store = StaticCapkStore {
            keys: &capks,
            revoked: &[],
        };
        let pan = t.get(0x5A);
        let mut out = [0u8; 248];
        let issuer = t.issuer_key(&store, &pan, TODAY, &mut out).unwrap();
        let mut check = begin_icc_public_key(
            &P,
            issuer.public_key(&out),
            &t.icc_certificate(),
            &mut [0; 248],
        )
        .unwrap();
        for part in &parts[..parts.len() - 1] {
            check.update(part);
        }
        assert_eq!(check.finish(&pan, TODAY), Err(OdaError::Hash));
    }

    // GENERATE AC, TC requested with CDA (P1 = 0x50).
    let cdol1 = hex(
        "000000002500 000000000000 0840 0000000000 0840 261128 00 CAFEBABE 22 0000 0000000000000000 1F0302",
    );
    let un = [0xCA, 0xFE, 0xBA, 0xBE];
    let (response, sw) = t.send(commands::generate_ac(0x50, &cdol1));
    assert_eq!(sw, 0x9000);
    let r = CdaResponse::parse(&response).unwrap();
    let tdhc = transaction_data_hash_code(&P, &[], &cdol1, None, &response).unwrap();
    let icc_key = icc.public_key(&icc_out);
    let cda = verify_cda(&P, icc_key, r.sdad, un, r.cid, &tdhc).unwrap();
    assert_eq!(cda.cid, r.cid);
    // The AC in the signature is the one the issuer computes.
    let crypto = &t.ch.card().apps()[0].crypto;
    let iad = t.get(0x9F10);
    let d = &cdol1;
    let input = AcInput {
        amount_authorised: d[0..6].try_into().unwrap(),
        amount_other: d[6..12].try_into().unwrap(),
        terminal_country_code: d[12..14].try_into().unwrap(),
        tvr: d[14..19].try_into().unwrap(),
        transaction_currency_code: d[19..21].try_into().unwrap(),
        transaction_date: d[21..24].try_into().unwrap(),
        transaction_type: d[24],
        unpredictable_number: un,
        aip: t.get(0x82).try_into().unwrap(),
        atc: r.atc,
        iad,
    };
    assert!(
        crypto
            .cvn()
            .verify_application_cryptogram(crypto.keys(), &input, &cda.ac)
            .unwrap()
    );

    // Rejections: the CID the terminal saw differs, another UN, other
    // CDOL1 data, a response object changed in transit.
    assert_eq!(
        verify_cda(&P, icc_key, r.sdad, un, r.cid ^ 0xC0, &tdhc),
        Err(OdaError::CidMismatch {
            signed: r.cid,
            returned: r.cid ^ 0xC0
        })
    );
    assert_eq!(
        verify_cda(&P, icc_key, r.sdad, [0xCA, 0xFE, 0xBA, 0xBF], r.cid, &tdhc),
        Err(OdaError::Hash)
    );
    let mut other_cdol1 = cdol1.clone();
    other_cdol1[5] = 0x01;
    let other = transaction_data_hash_code(&P, &[], &other_cdol1, None, &response).unwrap();
    assert_eq!(
        verify_cda(&P, icc_key, r.sdad, un, r.cid, &other),
        Err(OdaError::TransactionDataHash)
    );
    let atc_at = response
        .windows(3)
        .position(|w| w == [0x9F, 0x36, 0x02])
        .unwrap();
    let mut changed = response.clone();
    changed[atc_at + 4] ^= 0x01;
    let changed_tdhc = transaction_data_hash_code(&P, &[], &cdol1, None, &changed).unwrap();
    assert_eq!(
        verify_cda(&P, icc_key, r.sdad, un, r.cid, &changed_tdhc),
        Err(OdaError::TransactionDataHash)
    );
    let mut tvr = Tvr::default();
    OdaError::TransactionDataHash.set_tvr(OdaMethod::Cda, &mut tvr);
    assert_eq!(tvr.to_bytes(), [0x04, 0, 0, 0, 0]);
}

// ---------------------------------------------------------------------------
// Public traces.

/// A recorded transaction and the public test CA key that signed its chain.
struct PublicTrace {
    ca_index: u8,
    ca_modulus: &'static str,
    ca_exponent: &'static str,
    /// Transaction date, YYMMDD.
    date: &'static str,
    unpredictable_number: &'static str,
    /// (C-APDU, R-APDU with status word), hex.
    apdus: &'static [(&'static str, &'static str)],
}

/// What verified in a trace.
#[derive(Debug, PartialEq, Eq)]
struct TraceOutcome {
    pan: Vec<u8>,
    dac: Option<[u8; 2]>,
    cid: u8,
    ac: [u8; 8],
    idn: Vec<u8>,
}

/// Replays what a kernel does with the trace: AFL-driven static data, the
/// issuer and ICC keys, the SSAD if present, and CDA on the GENERATE AC.
fn verify_trace(trace: &PublicTrace) -> Result<TraceOutcome, OdaError> {
    let mut aid = Vec::new();
    let mut pdol_data = Vec::new();
    let mut aip = Vec::new();
    let mut afl = Vec::new();
    let mut records: BTreeMap<(u8, u8), Vec<u8>> = BTreeMap::new();
    let mut genac: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut data: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for (cmd, resp) in trace.apdus {
        let cmd = hex(cmd);
        let resp = hex(resp);
        let body = resp[..resp.len() - 2].to_vec();
        let cmd_data = if cmd.len() > 5 {
            cmd[5..5 + usize::from(cmd[4])].to_vec()
        } else {
            Vec::new()
        };
        for node in Walk::<MAX_DEPTH>::new(&body, Mode::Strict).flatten() {
            if !node.tlv.is_constructed() {
                data.insert(node.tlv.tag().raw(), node.tlv.value().to_vec());
            }
        }
        match cmd[1] {
            0xA4 if !cmd_data.starts_with(b"2PAY") => aid = cmd_data,
            0xA8 => {
                let (t83, _) = parse_one(&cmd_data, Mode::Strict).unwrap().unwrap();
                pdol_data = t83.value().to_vec();
                if body[0] == 0x80 {
                    aip = body[2..4].to_vec();
                    afl = body[4..].to_vec();
                } else {
                    aip = data[&0x82].clone();
                    afl = data[&0x94].clone();
                }
            }
            0xB2 => {
                records.insert((cmd[3] >> 3, cmd[2]), body);
            }
            0xAE => genac = Some((cmd_data, body)),
            _ => {}
        }
    }
    let mut static_data: Vec<Vec<u8>> = Vec::new();
    for e in afl.chunks(4) {
        for rec in e[1]..e[1] + e[3] {
            let record = &records[&(e[0] >> 3, rec)];
            static_data.push(static_data_of_record(e[0] >> 3, record)?.to_vec());
        }
    }
    if sda_tag_list_includes_aip(data.get(&0x9F4A).map_or(&[], Vec::as_slice))? {
        static_data.push(aip.clone());
    }
    let parts: Vec<&[u8]> = static_data.iter().map(Vec::as_slice).collect();
    let opt = |tag: u32| data.get(&tag).map_or(&[][..], Vec::as_slice);

    let modulus = hex(trace.ca_modulus);
    let exponent = hex(trace.ca_exponent);
    let rid: [u8; 5] = aid[..5].try_into().unwrap();
    let keys = [Capk {
        rid,
        index: trace.ca_index,
        modulus: &modulus,
        exponent: &exponent,
        expiry: None,
    }];
    let store = StaticCapkStore {
        keys: &keys,
        revoked: &[],
    };
    let today = date_from_9a(&hex(trace.date)).unwrap();
    let pan = opt(0x5A).to_vec();
    let mut issuer_out = [0u8; 248];
    let issuer = recover_issuer_public_key(
        &P,
        &store,
        &IssuerCertificate {
            rid,
            ca_index: opt(0x8F)[0],
            certificate: opt(0x90),
            remainder: opt(0x92),
            exponent: opt(0x9F32),
        },
        &pan,
        today,
        &mut issuer_out,
    )?;
    let issuer_key = issuer.public_key(&issuer_out);
    let dac = if opt(0x93).is_empty() {
        None
    } else {
        Some(verify_static_data(&P, issuer_key, opt(0x93), &parts)?)
    };
    let mut icc_out = [0u8; 248];
    let icc = recover_icc_public_key(
        &P,
        issuer_key,
        &IccCertificate {
            certificate: opt(0x9F46),
            remainder: opt(0x9F48),
            exponent: opt(0x9F47),
        },
        &parts,
        &pan,
        today,
        &mut icc_out,
    )?;
    let (cdol1, response) = genac.unwrap();
    let r = CdaResponse::parse(&response)?;
    let tdhc = transaction_data_hash_code(&P, &pdol_data, &cdol1, None, &response)?;
    let un: [u8; 4] = hex(trace.unpredictable_number).try_into().unwrap();
    let cda = verify_cda(&P, icc.public_key(&icc_out), r.sdad, un, r.cid, &tdhc)?;
    Ok(TraceOutcome {
        pan,
        dac,
        cid: cda.cid,
        ac: cda.ac,
        idn: cda.idn.as_bytes().to_vec(),
    })
}

#[test]
fn public_trace_mock_msc_offline() {
    let o = verify_trace(&MSC_OFFLINE).unwrap();
    assert_eq!(o.pan, hex("5413339000001513"));
    assert_eq!(o.dac, Some([0xDA, 0xC0]));
    assert_eq!(o.cid, 0x40, "TC");
    assert_eq!(o.ac.to_vec(), hex("49C27A9F8E4BF538"));
    assert_eq!(o.idn, hex("AB803A04B0BCA313"));
}

#[test]
fn public_trace_mock_msc_offline_2() {
    let o = verify_trace(&MSC_OFFLINE_2).unwrap();
    assert_eq!(o.pan, hex("5413339000001513"));
    assert_eq!(o.dac, None, "no SSAD on this card");
    assert_eq!(o.cid, 0x80, "ARQC");
}

#[test]
fn public_trace_mock_msc_online() {
    let o = verify_trace(&MSC_ONLINE).unwrap();
    assert_eq!(o.pan, hex("5413330089601034"));
    assert_eq!(o.dac, Some([0xDA, 0xC0]));
    assert_eq!(o.cid, 0x80, "ARQC");
}

#[test]
fn public_trace_with_a_later_date_or_another_un_fails() {
    let later = PublicTrace {
        date: "250101",
        ..MSC_OFFLINE
    };
    assert_eq!(verify_trace(&later), Err(OdaError::Expired));
    let other_un = PublicTrace {
        unpredictable_number: "33BCA47E",
        ..MSC_OFFLINE
    };
    assert_eq!(verify_trace(&other_un), Err(OdaError::Hash));
    let wrong_ca = PublicTrace {
        ca_index: 0xF8,
        ..MSC_OFFLINE
    };
    assert!(matches!(
        verify_trace(&wrong_ca),
        Err(OdaError::CapkMissing { index: 0xF3, .. })
    ));
}

/// `mock-msc-offline.json`: Mastercard test CA `F3`, date 190819, UN 33BCA47D.
const MSC_OFFLINE: PublicTrace = PublicTrace {
    ca_index: 0xF3,
    ca_modulus: concat!(
        "98F0C770F23864C2E766DF02D1E833DFF4FFE92D696E1642F0A88C5694C6479D",
        "16DB1537BFE29E4FDC6E6E8AFD1B0EB7EA0124723C333179BF19E93F10658B2F",
        "776E829E87DAEDA9C94A8B3382199A350C077977C97AFF08FD11310AC950A72C",
        "3CA5002EF513FCCC286E646E3C5387535D509514B3B326E1234F9CB48C36DDD4",
        "4B416D23654034A66F403BA511C5EFA3",
    ),
    ca_exponent: "03",
    date: "190819",
    unpredictable_number: "33BCA47D",
    apdus: &[
        (
            "00A404000E325041592E5359532E444446303100",
            concat!(
                "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A000000004",
                "10108701019000",
            ),
        ),
        (
            "00A4040007A000000004101000",
            concat!(
                "6F3A8407A0000000041010A52F500A4D6173746572436172649F38069F5C089F",
                "4005BF0C179F5E095413339000001513019F5D030101009F4D020B0A9000",
            ),
        ),
        (
            "80A800000F830D00000000000000006000F0000100",
            "7716820259809410080101001001010118010200200102009000",
        ),
        (
            "00B2011400",
            concat!(
                "7081BC57125413339000001513D20122010000000000005A0854133390000015",
                "135F24032012315F25030601015F280202505F3401018C279F02069F03069F1A",
                "0295055F2A029A039C019F37049F35019F45029F4C089F34039F21039F7C148D",
                "12910A8A0295059F37049F4C089F02069F03068E0A00000000000000001F039F",
                "0702FF009F080200029F0D05F8406420009F0E0500108800009F0F05F86064F8",
                "009F420209789F51039F37049F5B0CDF6008DF6108DF6201DF63A09F4A018290",
                "00",
            ),
        ),
        (
            "00B2011C00",
            concat!(
                "7081C08F01F39F3201039224EFF4A554A084A829B0D6D5ACCC34B84C262B3243",
                "6ABDAC9899308D51E57C83DF6908C38990819021EC0FC6E1810DFEEA26545127",
                "494B40F5F12FA8670877C4B47516BBCD67EDF5F0652B437B4D3E4E83999E7B82",
                "45E2A18A7968E7C3E1C16B5609036E65E0F4AF2C4383AF19F1679DD59726C5D3",
                "15B21967F5A3E526E645724B61F4C8ABCE98BEB8DF1FD64237DBE356B1F96C73",
                "EBA3206AAA4C818518E58E17F0E4265A0A5D7E2196E983C6DA78FC5C73F64E6F",
                "3AFF5A9000",
            ),
        ),
        (
            "00B2021C00",
            concat!(
                "70819393819071E2614A46A3A653425C29A168FF718379C8B3F82DACDA4F781A",
                "07D57E239AF9713892F17DA70EF9DCD31051D9EB4E352EF0ACE7D820DFA75A4D",
                "0FB0237D01F361FC290EBAFF1DF1696899FAB7D9E478B7AC58212D04328E2E88",
                "76D1723D250E6186CAFC8338F8FDBA8E19ADF72A84E549892967A1549DD4ACB1",
                "33ACB2A791A68E1A2ABFF20FCB278F9314C03FE60CD59000",
            ),
        ),
        (
            "00B2012400",
            concat!(
                "70219F4701039F481AD529BCACA7F9ECEADE85990F1E04FEAE9FA033DF691268",
                "F9F2D59000",
            ),
        ),
        (
            "00B2022400",
            concat!(
                "7081949F4681904D05000EBF47E8F9F2A66D769CC1D3AA7E2A888A697ABBBB61",
                "1053557FDC98597AB433CFD325942F1269892B4F1009547AE0A5BDB85442CA10",
                "D2167FFDA67995F357770F370DB60035F32F3F01F353EC26DC83C36F32B18848",
                "363C64EAECDDE93E2770E66CBC14E530FDD7A036B88270366383E9C95EF44C9B",
                "640C93B6181F6DB4756B140BE65BE084E7C379F0060DFD9000",
            ),
        ),
        (
            "80AE5000420000000000010000000000000056000000000109781908190033BCA47D26000000000000000000001F0302000000000000000000000000000000000000000000000000",
            concat!(
                "7781AA9F2701409F360202E09F4B81804D0605626698777BCC72E20DBE5C631C",
                "1372FB8B3EAB4DC8B06EFB7FE253A527000B8D7887C300232BC4849ED7DEAF3C",
                "6B260464190EF085B9663A0437C1FEA159F7F7C03F80D8A5CE5A52C8AE0BD702",
                "A94E84FE5D06B2DFAF3DA0750F3D5E5B0FAEC66A83DBEEDF22BAAD53FFD220F3",
                "14A8C12A646C4BFDB296D71A0065B28F9F101A2210904203A400000000000000",
                "024355FFFF00000000000000FF9000",
            ),
        ),
    ],
};

/// `mock-msc-offline-2.json`: Mastercard test CA `F8`, date 190819, UN DC868126.
const MSC_OFFLINE_2: PublicTrace = PublicTrace {
    ca_index: 0xF8,
    ca_modulus: concat!(
        "A1F5E1C9BD8650BD43AB6EE56B891EF7459C0A24FA84F9127D1A6C79D4930F6D",
        "B1852E2510F18B61CD354DB83A356BD190B88AB8DF04284D02A4204A7B6CB7C5",
        "551977A9B36379CA3DE1A08E69F301C95CC1C20506959275F41723DD5D292529",
        "0579E5A95B0DF6323FC8E9273D6F849198C4996209166D9BFC973C361CC826E1",
    ),
    ca_exponent: "03",
    date: "190819",
    unpredictable_number: "DC868126",
    apdus: &[
        (
            "00A404000E325041592E5359532E444446303100",
            concat!(
                "6F3D840E325041592E5359532E4444463031A52BBF0C28610C4F07A000000004",
                "1010870101610C4F07A0000000043060870103610A4F05B01234567887010990",
                "00",
            ),
        ),
        (
            "00A4040007A000000004101000",
            concat!(
                "6F328407A0000000041010A527870101500A4D6173746572436172645F2D0665",
                "6E646566729F1101019F38089F02069F33039C019000",
            ),
        ),
        (
            "80A800000C830A0000000000100000080000",
            "770E82020180940818010201200103009000",
        ),
        (
            "00B2011C00",
            concat!(
                "7081FB00000000000000005F24810349123100000000000000005A8108541333",
                "900000151300000000000000008C810E95059F02069F34039F33039F37040000",
                "0000000000008E810A0000000000000000000000000000000000009F0D810500",
                "0000000000000000000000009F0E8105000000000000000000000000009F0F81",
                "05000000000000000000000000009F4A81018200000000000000009F078102FF",
                "FF0000000000000000009F428102099700000000000000009F44810101000000",
                "00000000005F25810310123100000000000000005F3481010100000000000000",
                "009F088102000200000000000000005F28810200560000000000000000009000",
            ),
        ),
        ("00B2021C00", "70009000"),
        ("00B2012400", "70038F01F89000"),
        (
            "00B2022400",
            concat!(
                "7081AB9F320103922249656AE43F494BFA143C075B1E08B7C349F2B590324D03",
                "088E4537C6D0D9A6108BF790818004A25FC9C69B0FC069A776CE3F268FC5BB41",
                "E59E41923ED3EDAE18D23D587C0D217DDDB15117A2582A321AAEA46C8BA94D65",
                "80E6BB544891A59EA2E40FF5A627760B7F2D28DFFC0E6828DE41701408FAE021",
                "A5C9F9C7C0DAC145D0A440EFA66DDFDA4E38D01FE812294EF2BE4E0573797CAF",
                "483A85111A37EA782FBAAF3CCC0D9000",
            ),
        ),
        (
            "00B2032400",
            concat!(
                "7081B09F4701039F4828744084A499FAF96FEFC6CC54F8CFAF51D432F1D2273C",
                "9B50D1B0D8F91EA17F1B373FFDC0E1E9F82F9F467E532330050B2684EF8A33DD",
                "E035C4C12D25ABF52FBC20C86913DA55395DE974A17B3D2269D7221802ED647F",
                "028550FD175A566D8AB0B174B24155F1C174F8B2CA8692349CF798C6C4B0D3E9",
                "CD8C28E643430E6760939C44E69D294DC3D2E9E2CDD6823E7D1B3E7C1819E3C4",
                "FAD18476CFC2512F87E75E8F2A8F2A460AC35B9000",
            ),
        ),
        (
            "80AE50001500000000010000000000103F0000000808DC86812600",
            concat!(
                "7781889F2701809F360200029F4B7C64E379E4A354CF97F2F73C66715745B7C7",
                "5D67B840C907CF661EEED4E089508018D709D4366A5F904698555EA50124290E",
                "89B4F734C6A36D4405CF6E08AD7A1FCB9D551025F40B6D055DEEE80870CC2E1F",
                "6272C76ECAE33CCD5FC2846DDDB3EBD8BC0909DD9EA58C28FE046E90BFF50734",
                "4F1A31302A4A4AE1DF20579000",
            ),
        ),
    ],
};

/// `mock-msc-online.json`: Mastercard test CA `FA`, date 200316, UN ABABABAB.
const MSC_ONLINE: PublicTrace = PublicTrace {
    ca_index: 0xFA,
    ca_modulus: concat!(
        "A90FCD55AA2D5D9963E35ED0F440177699832F49C6BAB15CDAE5794BE93F934D",
        "4462D5D12762E48C38BA83D8445DEAA74195A301A102B2F114EADA0D180EE5E7",
        "A5C73E0C4E11F67A43DDAB5D55683B1474CC0627F44B8D3088A492FFAADAD4F4",
        "2422D0E7013536C3C49AD3D0FAE96459B0F6B1B6056538A3D6D44640F94467B1",
        "08867DEC40FAAECD740C00E2B7A8852D",
    ),
    ca_exponent: "03",
    date: "200316",
    unpredictable_number: "ABABABAB",
    apdus: &[
        (
            "00A404000E325041592E5359532E444446303100",
            concat!(
                "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A000000004",
                "10108701019000",
            ),
        ),
        (
            "00A4040007A000000004101000",
            concat!(
                "6F3D8407A0000000041010A53250094D43204352454449545F2D08656E667265",
                "7364658701019F1101019F120A4D415354455243415244BF0C059F4D020B0A90",
                "00",
            ),
        ),
        (
            "80A8000002830000",
            "7716820259809410080101001001020118010200200102009000",
        ),
        ("00B2011400", "700E5A0854133300896010345F3401019000"),
        (
            "00B2021400",
            concat!(
                "70819357115413330089601034D2512201909750000F5F2002202F5F24032512",
                "315F25030401018C219F02069F03069F1A0295055F2A029A039C019F37049F35",
                "019F45029F4C089F34038D0C910A8A0295059F37049F4C088E0C000000000000",
                "000042031F039F0702FFC09F080200029F0D0500000000009F0E050000000000",
                "9F0F0500000000009F4A01825F280208269F420208269000",
            ),
        ),
        (
            "00B2011C00",
            concat!(
                "7081A08F01FA9F3201039204D3524107908190970FDC6A8B038CC7BFF1EE7716",
                "D4D6BBD0A1DC8DDAB66EE86F6B5639B583FDBB34E01A807D9D35B94D7F4382C6",
                "773BF7754372504194C740BDAA61DDAF23BA9F8F5444B16146CECABB38E89150",
                "DDEBD093DEE0EB8F23F4F5B96A5190692B818CF48E56C3B3A821ADC2AD245849",
                "76CED73593B6FD9F03C0D952B67B1298EA3470D57DC95F626C8002D62F26F5A6",
                "4EC1ED9000",
            ),
        ),
        (
            "00B2021C00",
            concat!(
                "7072937082465FAEEBF34F2AA29923378B47DB8C2F29CE64951319862F3C6B70",
                "D7B4152169E3D8C06F547B7E1C128F47DE2FC1ED5EE3C22EFB818D353E3D2AB9",
                "72527AE3CF2FE9AE2E80974E5E42E9D97BBFEC2678EB2189112255B378B0DC7C",
                "398A80913303B6FA106820963E1FCAE5C7B8012D9000",
            ),
        ),
        (
            "00B2012400",
            concat!(
                "70219F4701039F481A0000000000000006600000000000000000000000000000",
                "0000559000",
            ),
        ),
        (
            "00B2022400",
            concat!(
                "70739F46708D7E6CA72CAED69F665BF515E56B9DC30FBD6A1D20AA05C0479A00",
                "850B8F4175F2CDBDA187475674E7C9CE7ADD85896CE0B4A632F9AAE4881E9BEE",
                "59269BAFC027BD825390FA8B5D949AEA14313EB025DB34CC1D9AF9E980F261D8",
                "AA32C7BEDF2027BD77335555FD4C8504D8703EA4539000",
            ),
        ),
        (
            "80AE90002B00000000900000000000000000560000040001084020031600ABABABAB220000000000000000000002030000",
            concat!(
                "7781819F2701809F360200529F4B60762F1D0A5B81419A5481ECD0391DE135B9",
                "5C99931B05C68FD1B6B7720CBCE92AA1B5B90441A3E91E3B20DFEE7A25385DD1",
                "01B63779050598388CEA5E10E953A70F655BCB6308D396B8B4DA51F5DD6DCD63",
                "21E2783E3F8363ED657961F18E759C9F10120110A040002C0000000000000000",
                "000007FF9000",
            ),
        ),
    ],
};
