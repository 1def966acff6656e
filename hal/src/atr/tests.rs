//! Tests of ATR parsing (ISO/IEC 7816-3 §8), EMV acceptance (EMV L1 §8.3) and `explain`.
//!
//! Vector sources: `emv-facts.md` §5.1 / Appendix A.2 (basic T=0 and T=1 ATRs, TCK `92` [V]);
//! openemv/emv-utils `tests/emv_atr_parse_test.c` (the "complex" and "non-EMV" ATRs, used as
//! data only); public ATR lists (pcsc-tools style `smartcard_list` entries) for the real-world
//! ATRs. Every TCK below was recomputed by hand / with an independent script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

const BASIC_T0: &[u8] = &[0x3B, 0x60, 0x00, 0x00];
const BASIC_T1: &[u8] = &[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0x7C, 0x41, 0x92];
/// emv-utils "complex ATR for T=0": specific mode, TC2, T=15 global bytes, TCK present.
const COMPLEX_T0: &[u8] = &[
    0x3B, 0xF4, 0x13, 0x00, 0xFF, 0xD0, 0x00, 0x0A, 0x3F, 0x03, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0xDC,
];
/// emv-utils "complex ATR for T=1": specific mode T=1, TA3/TB3/TC3.
const COMPLEX_T1: &[u8] = &[
    0x3B, 0xF4, 0x13, 0x00, 0xFF, 0x91, 0x01, 0x71, 0x7C, 0x41, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0xE6,
];
/// emv-utils "non-EMV ATR": TB3 = 75 (BWI 7).
const NON_EMV: &[u8] = &[
    0x3B, 0xDA, 0x18, 0xFF, 0x81, 0xB1, 0xFE, 0x75, 0x1F, 0x03, 0x00, 0x31, 0xF5, 0x73, 0xC7, 0x8A,
    0x40, 0x00, 0x90, 0x00, 0xB0,
];
/// Brazilian e-CPF card (public ATR lists): T=0, TB1 = TC1 = 00, 8 historical bytes.
const E_CPF: &[u8] = &[
    0x3B, 0x68, 0x00, 0x00, 0x00, 0x73, 0xC8, 0x40, 0x12, 0x00, 0x90, 0x00,
];
/// "Barclaycard Platinum VISA" (public ATR lists): T=0, 14 historical bytes.
const BARCLAYCARD: &[u8] = &[
    0x3B, 0x6E, 0x00, 0x00, 0x80, 0x31, 0x80, 0x66, 0xB0, 0x84, 0x12, 0x01, 0x6E, 0x01, 0x83, 0x00,
    0x90, 0x00,
];
/// NXP JCOP10 (public ATR lists): T=1, IFSC 254, BWI 4, CWI 5, historical "JCOP10V22".
const JCOP10: &[u8] = &[
    0x3B, 0xE9, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x4A, 0x43, 0x4F, 0x50, 0x31, 0x30, 0x56, 0x32,
    0x32, 0xA3,
];
/// NXP JCOP41 v2.2.1 (public ATR lists): negotiable mode with TA1 = 18.
const JCOP41: &[u8] = &[
    0x3B, 0xFA, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x4A, 0x43, 0x4F, 0x50, 0x34, 0x31, 0x56,
    0x32, 0x32, 0x31, 0x9D,
];
/// Yubikey Neo (public ATR lists): negotiable mode with TA1 = 13, TB3 = 15.
const YUBIKEY_NEO: &[u8] = &[
    0x3B, 0xFA, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x59, 0x75, 0x62, 0x69, 0x6B, 0x65, 0x79,
    0x4E, 0x45, 0x4F, 0xA6,
];
/// NXP J3R180 (public ATR lists): T=1 without TB3, T=15 class byte TA4.
const J3R180: &[u8] = &[
    0x3B, 0xD5, 0x18, 0xFF, 0x81, 0x91, 0xFE, 0x1F, 0xC3, 0x80, 0x73, 0xC8, 0x21, 0x10, 0x0A,
];
/// PC/SC pseudo-ATR of a contactless card without historical bytes (also the vsmartcard /
/// JavaCardOS default): TD1 T=0, TD2 T=1, TCK 01.
const PCSC_PSEUDO: &[u8] = &[0x3B, 0x80, 0x80, 0x01, 0x01];

const ALL_VALID: &[&[u8]] = &[
    BASIC_T0,
    BASIC_T1,
    COMPLEX_T0,
    COMPLEX_T1,
    NON_EMV,
    E_CPF,
    BARCLAYCARD,
    JCOP10,
    JCOP41,
    YUBIKEY_NEO,
    J3R180,
    PCSC_PSEUDO,
];

fn parse(bytes: &[u8]) -> Atr<'_> {
    match Atr::parse(bytes) {
        Ok(atr) => atr,
        Err(e) => panic!("{bytes:02X?} failed to parse: {e}"),
    }
}

/// `body` (TS..last historical byte) followed by its TCK.
fn with_tck(body: &[u8]) -> Vec<u8> {
    let tck = body.iter().skip(1).fold(0u8, |a, b| a ^ b);
    let mut v = body.to_vec();
    v.push(tck);
    v
}

/// A copy of `atr` with byte `at` replaced and TCK (last byte) fixed up.
fn patched(atr: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut v = atr.to_vec();
    let last = v.len() - 1;
    v[last] ^= v[at] ^ value;
    v[at] = value;
    v
}

fn explained(atr: &Atr<'_>) -> String {
    let mut s = String::new();
    explain(atr, &mut s).unwrap();
    s
}

fn emv(bytes: &[u8]) -> Result<EmvAtrParams, EmvRejection> {
    parse(bytes).emv_check()
}

fn emv_with(bytes: &[u8], options: EmvCheckOptions) -> Result<EmvAtrParams, EmvRejection> {
    parse(bytes).emv_check_with(&options)
}

// ---------------------------------------------------------------------------------------
// ISO parsing of known ATRs

#[test]
fn basic_t0_structure_and_defaults() {
    let atr = parse(BASIC_T0);
    assert_eq!(atr.convention(), Convention::Direct);
    assert_eq!(atr.ts(), 0x3B);
    assert_eq!(atr.t0(), 0x60);
    assert_eq!(atr.y1(), 0x6);
    assert_eq!(atr.k(), 0);
    assert_eq!(atr.group_count(), 1);
    assert_eq!(atr.ta(1), None);
    assert_eq!(atr.tb(1), Some(0x00));
    assert_eq!(atr.tc(1), Some(0x00));
    assert_eq!(atr.td(1), None);
    assert_eq!(atr.ta(2), None);
    assert_eq!(atr.ta(0), None);
    assert_eq!(atr.historical_bytes(), &[] as &[u8]);
    assert_eq!(atr.tck(), None);
    assert_eq!(atr.raw(), BASIC_T0);
    assert_eq!(atr.offered_protocols(), ProtocolSet::EMPTY.with(0));
    assert_eq!(atr.first_protocol(), 0);
    assert_eq!(atr.fi(), Some(372));
    assert_eq!(atr.di(), Some(1));
    assert_eq!(atr.fmax_khz(), Some(5_000));
    assert_eq!(atr.extra_guard_time(), 0);
    assert_eq!(atr.mode(), Mode::Negotiable);
    assert_eq!(atr.wi(), 10);
    assert_eq!(atr.ifsc(), 32);
    assert_eq!(atr.bwi(), 4);
    assert_eq!(atr.cwi(), 13);
    assert_eq!(atr.edc(), Edc::Lrc);
}

#[test]
fn basic_t1_structure() {
    let atr = parse(BASIC_T1);
    assert_eq!(atr.group_count(), 3);
    assert_eq!(atr.tb(1), Some(0x00));
    assert_eq!(atr.tc(1), Some(0xFF));
    assert_eq!(atr.td(1), Some(0x81));
    assert_eq!(
        atr.group(2),
        Some(InterfaceGroup {
            td: Some(0x31),
            ..Default::default()
        })
    );
    assert_eq!(atr.ta(3), Some(0x7C));
    assert_eq!(atr.tb(3), Some(0x41));
    assert_eq!(atr.tc(3), None);
    assert_eq!(atr.group(4), None);
    assert_eq!(atr.tck(), Some(0x92));
    assert_eq!(atr.group_protocol(3), Some(1));
    assert_eq!(atr.group_protocol(1), None);
    assert_eq!(atr.offered_protocols(), ProtocolSet::EMPTY.with(1));
    assert_eq!(atr.first_protocol(), 1);
    assert_eq!(atr.extra_guard_time(), 255);
    assert_eq!(atr.ifsc(), 124);
    assert_eq!(atr.bwi(), 4);
    assert_eq!(atr.cwi(), 1);
    assert_eq!(atr.edc(), Edc::Lrc);
    assert_eq!(atr.specific_byte(InterfaceKind::B, 1), Some((3, 0x41)));
    let groups: Vec<_> = atr.groups().map(|(i, g)| (i, g.td)).collect();
    assert_eq!(groups, vec![(1, Some(0x81)), (2, Some(0x31)), (3, None)]);
}

#[test]
fn complex_t0_specific_mode_with_t15_and_tck() {
    let atr = parse(COMPLEX_T0);
    assert_eq!(atr.fi(), Some(372));
    assert_eq!(atr.di(), Some(4));
    assert_eq!(
        atr.mode(),
        Mode::Specific(SpecificMode {
            protocol: 0,
            can_change_mode: true,
            implicit_parameters: false,
        })
    );
    assert_eq!(atr.wi(), 10);
    assert_eq!(atr.indicated_protocols(), ProtocolSet::from_bits(0x8001));
    assert_eq!(atr.offered_protocols(), ProtocolSet::EMPTY.with(0));
    assert_eq!(atr.specific_byte(InterfaceKind::A, 15), Some((3, 0x03)));
    // T=0 and T=15 indicated: ISO/IEC 7816-3 §8.2.5 requires TCK.
    assert_eq!(atr.tck(), Some(0xDC));
    assert_eq!(atr.historical_bytes(), &[0xDE, 0xAD, 0xBE, 0xEF]);
    let without_tck = &COMPLEX_T0[..COMPLEX_T0.len() - 1];
    assert_eq!(
        Atr::parse(without_tck),
        Err(AtrError::Truncated {
            offset: 15,
            element: AtrElement::Tck,
            missing: 1
        })
    );
}

#[test]
fn first_ta_for_t1_after_global_bytes() {
    // TD1 = 80 (T=0), TD2 = 9F (TA3, TD3; T=15), TA3 = 03, TD3 = 11 (TA4; T=1), TA4 = 40,
    // TB4 and TC4 absent; TC3 for T=1 is taken from the first TC after a T=1 TD only.
    let bytes = with_tck(&[0x3B, 0x80, 0x80, 0x9F, 0x03, 0x11, 0x40]);
    assert_eq!(bytes.last(), Some(&0xCD));
    let atr = parse(&bytes);
    assert_eq!(atr.ifsc(), 64);
    assert_eq!(atr.specific_byte(InterfaceKind::A, 1), Some((4, 0x40)));
    assert_eq!(atr.specific_byte(InterfaceKind::A, 15), Some((3, 0x03)));
    assert_eq!(atr.group_protocol(4), Some(1));
    assert_eq!(atr.bwi(), 4);
    assert_eq!(atr.cwi(), 13);
    assert_eq!(atr.offered_protocols(), ProtocolSet::from_bits(0b11));
    // EMV: first protocol T=0, TD2 = T=15: accepted, T=1 offered but not used.
    let params = atr.emv_check().unwrap();
    assert_eq!(params.protocol(), EmvProtocol::T0);
    assert_eq!(params.other_protocols, ProtocolSet::EMPTY.with(1));
    assert!(
        explained(&atr).ends_with("EMV: accepted, T=0, Fi=372 Di=1, N=0, WI=10; ignored: T=1\n")
    );
}

#[test]
fn t1_crc_and_specific_mode_flags() {
    // TA2 = 81: unable to change mode, T=1; TC3 = 01: CRC.
    let bytes = with_tck(&[0x3B, 0x90, 0x11, 0x91, 0x81, 0x51, 0xFE, 0x01]);
    let atr = parse(&bytes);
    assert_eq!(
        atr.mode(),
        Mode::Specific(SpecificMode {
            protocol: 1,
            can_change_mode: false,
            implicit_parameters: false,
        })
    );
    assert_eq!(atr.tc(3), Some(0x01));
    assert_eq!(atr.edc(), Edc::Crc);
    assert_eq!(atr.ifsc(), 0xFE);
    // EMV: TB3 is missing before TC3 is looked at.
    assert_eq!(atr.emv_check(), Err(EmvRejection::Tb3Missing));
}

#[test]
fn real_world_t0_cards() {
    let atr = parse(E_CPF);
    assert_eq!(atr.k(), 8);
    assert_eq!(atr.historical_bytes(), &E_CPF[4..]);
    assert_eq!(atr.tck(), None);
    let p = atr.emv_check().unwrap();
    assert_eq!(p.transmission, EmvTransmission::T0 { wi: 10 });
    assert_eq!(
        (p.fi, p.di, p.extra_guard_time, p.specific_mode),
        (372, 1, 0, false)
    );
    assert_eq!(p.other_protocols, ProtocolSet::EMPTY);

    let atr = parse(BARCLAYCARD);
    assert_eq!(atr.k(), 14);
    assert_eq!(atr.historical_bytes().first(), Some(&0x80));
    assert_eq!(atr.historical_bytes().last(), Some(&0x00));
    assert_eq!(atr.emv_check().unwrap().protocol(), EmvProtocol::T0);
    assert!(explained(&atr).contains(
        "historical bytes (14): 80 31 80 66 B0 84 12 01 6E 01 83 00 90 00; category 80: COMPACT-TLV\n"
    ));
}

#[test]
fn real_world_t1_card_jcop10() {
    let atr = parse(JCOP10);
    assert_eq!(atr.tck(), Some(0xA3));
    assert_eq!(atr.historical_bytes(), b"JCOP10V22");
    let p = atr.emv_check().unwrap();
    assert_eq!(
        p.transmission,
        EmvTransmission::T1 {
            ifsc: 254,
            bwi: 4,
            cwi: 5,
            edc: Edc::Lrc
        }
    );
    assert_eq!(p.guard_time_etu(), 12);
    let text = explained(&atr);
    assert!(text.contains(
        "historical bytes (9): 4A 43 4F 50 31 30 56 32 32 \"JCOP10V22\"; category 4A: proprietary\n"
    ));
    assert!(text.contains("TA3 = FE: IFSC = 254 (T=1)\nTB3 = 45: BWI = 4, CWI = 5 (T=1)\n"));
    assert!(text.ends_with(
        "TCK = A3: correct\nEMV: accepted, T=1, Fi=372 Di=1, N=0, IFSC=254, BWI=4, CWI=5, LRC\n"
    ));
}

#[test]
fn negotiable_mode_uses_default_fi_di() {
    let atr = parse(JCOP41);
    assert_eq!(atr.mode(), Mode::Negotiable);
    assert_eq!(atr.fi(), Some(372));
    assert_eq!(atr.di(), Some(12));
    let p = atr.emv_check().unwrap();
    assert_eq!((p.fi, p.di, p.specific_mode), (372, 1, false));

    // TA1 = 13 is the lowest DI code (3) the default negotiable-mode rule accepts.
    let p = emv(YUBIKEY_NEO).unwrap();
    assert_eq!((p.fi, p.di), (372, 1));
    assert_eq!(
        p.transmission,
        EmvTransmission::T1 {
            ifsc: 254,
            bwi: 1,
            cwi: 5,
            edc: Edc::Lrc
        }
    );
}

#[test]
fn pcsc_pseudo_atr() {
    let atr = parse(PCSC_PSEUDO);
    assert_eq!(atr.td(1), Some(0x80));
    assert_eq!(atr.td(2), Some(0x01));
    assert_eq!(atr.group_count(), 2);
    assert_eq!(atr.tck(), Some(0x01));
    assert_eq!(atr.offered_protocols(), ProtocolSet::from_bits(0b11));
    assert_eq!(atr.first_protocol(), 0);
    assert_eq!(atr.ifsc(), 32);
    // TD1 = T=0 followed by TD2 = T=1: EMV wants T=15 there.
    assert_eq!(atr.emv_check(), Err(EmvRejection::Td2AfterT0 { td2: 0x01 }));
}

#[test]
fn emv_utils_vectors() {
    let p = emv(COMPLEX_T0).unwrap();
    assert_eq!(p.transmission, EmvTransmission::T0 { wi: 10 });
    assert_eq!(
        (p.fi, p.di, p.extra_guard_time, p.specific_mode),
        (372, 4, 0xFF, true)
    );
    assert_eq!(p.guard_time_etu(), 12);
    assert_eq!(p.t0_wwt_etu(), Some(960 * 4 * 10));
    assert_eq!(p.t1_cwt_etu(), None);

    let p = emv(COMPLEX_T1).unwrap();
    assert_eq!(
        p.transmission,
        EmvTransmission::T1 {
            ifsc: 124,
            bwi: 4,
            cwi: 1,
            edc: Edc::Lrc
        }
    );
    assert_eq!(
        (p.fi, p.di, p.extra_guard_time, p.specific_mode),
        (372, 4, 0xFF, true)
    );
    assert_eq!(p.guard_time_etu(), 11);
    assert_eq!(p.t1_cwt_etu(), Some(13));
    assert_eq!(p.t1_bwt_etu(), Some(11 + 16 * 960 * 4));
    assert_eq!(p.t0_wwt_etu(), None);

    let atr = parse(NON_EMV);
    assert_eq!(atr.ta(4), Some(0x03));
    assert_eq!(atr.group_protocol(4), Some(15));
    assert_eq!(atr.historical_bytes().len(), 10);
    assert_eq!(atr.emv_check(), Err(EmvRejection::Tb3Bwi { tb3: 0x75 }));
}

#[test]
fn j3r180_lacks_tb3() {
    let atr = parse(J3R180);
    assert_eq!(atr.ta(3), Some(0xFE));
    assert_eq!(atr.tb(3), None);
    assert_eq!(atr.td(3), Some(0x1F));
    assert_eq!(atr.ta(4), Some(0xC3));
    assert_eq!(atr.emv_check(), Err(EmvRejection::Tb3Missing));
    let text = explained(&atr);
    assert!(text.contains(
        "TA4 = C3: class indicator Y = 03 (classes A, B), clock stop: no preference (T=15)\n"
    ));
    assert!(text.ends_with(
        "EMV: rejected: TB3 absent: EMV requires TB3 (BWI, CWI) for T=1 (EMV L1 §8.3.3.10)\n"
    ));
}

#[test]
fn basic_t1_is_emv_accepted() {
    // Hand check: TB1 = 00, TC1 = FF, TD1 = 81 (T=1), TD2 = 31 (T=1), TA3 = 7C in 10..FE,
    // TB3 = 41 (BWI 4 <= 4, CWI 1 <= 5; N = FF counts as -1), no TC3.
    let p = emv(BASIC_T1).unwrap();
    assert_eq!(p.protocol(), EmvProtocol::T1);
    assert_eq!(
        p.transmission,
        EmvTransmission::T1 {
            ifsc: 124,
            bwi: 4,
            cwi: 1,
            edc: Edc::Lrc
        }
    );
    assert_eq!((p.fi, p.di, p.extra_guard_time), (372, 1, 0xFF));
    assert_eq!(p.t1_bwt_etu(), Some(11 + 16 * 960));
    let p0 = emv(BASIC_T0).unwrap();
    assert_eq!(p0.t0_wwt_etu(), Some(9_600));
    assert_eq!(p0.guard_time_etu(), 12);
}

// ---------------------------------------------------------------------------------------
// explain

#[test]
fn explain_basic_t0() {
    assert_eq!(
        explained(&parse(BASIC_T0)),
        "TS = 3B: direct convention\n\
         T0 = 60: TA1 absent, TB1 present, TC1 present, TD1 absent; 0 historical bytes\n\
         TB1 = 00: VPP not connected\n\
         TC1 = 00: extra guard time N = 0 (guard time 12 etu)\n\
         historical bytes: none\n\
         TCK: absent (only T=0 indicated)\n\
         EMV: accepted, T=0, Fi=372 Di=1, N=0, WI=10\n"
    );
}

#[test]
fn explain_basic_t1() {
    assert_eq!(
        explained(&parse(BASIC_T1)),
        "TS = 3B: direct convention\n\
         T0 = E0: TA1 absent, TB1 present, TC1 present, TD1 present; 0 historical bytes\n\
         TB1 = 00: VPP not connected\n\
         TC1 = FF: extra guard time N = 255 (minimum: 12 etu for T=0, 11 etu for T=1)\n\
         TD1 = 81: TD2 present; protocol T=1\n\
         TD2 = 31: TA3, TB3 present; protocol T=1\n\
         TA3 = 7C: IFSC = 124 (T=1)\n\
         TB3 = 41: BWI = 4, CWI = 1 (T=1)\n\
         historical bytes: none\n\
         TCK = 92: correct\n\
         EMV: accepted, T=1, Fi=372 Di=1, N=255, IFSC=124, BWI=4, CWI=1, LRC\n"
    );
}

#[test]
fn explain_complex_t0() {
    assert_eq!(
        explained(&parse(COMPLEX_T0)),
        "TS = 3B: direct convention\n\
         T0 = F4: TA1 present, TB1 present, TC1 present, TD1 present; 4 historical bytes\n\
         TA1 = 13: Fi = 372, Di = 4, fmax = 5 MHz\n\
         TB1 = 00: VPP not connected\n\
         TC1 = FF: extra guard time N = 255 (minimum: 12 etu for T=0, 11 etu for T=1)\n\
         TD1 = D0: TA2, TC2, TD2 present; protocol T=0\n\
         TA2 = 00: specific mode, protocol T=0, mode change capable, Fi/Di from TA1\n\
         TC2 = 0A: WI = 10 (T=0 waiting time integer)\n\
         TD2 = 3F: TA3, TB3 present; protocol T=15 (global interface bytes)\n\
         TA3 = 03: class indicator Y = 03 (classes A, B), clock stop: not supported (T=15)\n\
         TB3 = 00: SPU not used (T=15)\n\
         historical bytes (4): DE AD BE EF; category DE: proprietary\n\
         TCK = DC: correct\n\
         EMV: accepted, T=0, Fi=372 Di=4, N=255, WI=10\n"
    );
}

#[test]
fn explain_rejected_and_odd_bytes() {
    assert_eq!(
        explained(&parse(&[0x3B, 0x80, 0x40, 0x0B])),
        "TS = 3B: direct convention\n\
         T0 = 80: TA1 absent, TB1 absent, TC1 absent, TD1 present; 0 historical bytes\n\
         TD1 = 40: TC2 present; protocol T=0\n\
         TC2 = 0B: WI = 11 (T=0 waiting time integer)\n\
         historical bytes: none\n\
         TCK: absent (only T=0 indicated)\n\
         EMV: rejected: TC2 = 0B: EMV requires 0A for T=0 (EMV L1 §8.3.3.7)\n"
    );
    // RFU Fi/Di, fmax 7.5 MHz, TB1 VPP parameters, RFU IFSC, TD with no further bytes.
    let text = explained(&parse(&[0x3B, 0x10, 0x7F]));
    assert!(text.contains("TA1 = 7F: Fi RFU (FI = 7), Di RFU (DI = F)\n"));
    let text = explained(&parse(&[0x3B, 0x10, 0xA1]));
    assert!(text.contains("TA1 = A1: Fi = 768, Di = 1, fmax = 7.5 MHz\n"));
    let text = explained(&parse(&[0x3B, 0x20, 0x25]));
    assert!(text.contains(
        "TB1 = 25: VPP parameters PI1 = 5, II = 1 (deprecated since ISO/IEC 7816-3:2006)\n"
    ));
    assert!(
        text.ends_with(
            "EMV: rejected: TB1 = 25: EMV requires 00 in a cold ATR (EMV L1 §8.3.3.2)\n"
        )
    );
    let text = explained(&parse(&with_tck(&[0x3B, 0x80, 0x81, 0x11, 0xFF])));
    assert!(text.contains("TD1 = 81: TD2 present; protocol T=1\nTD2 = 11: TA3 present; protocol T=1\nTA3 = FF: IFSC RFU value (T=1)\n"));
    let text = explained(&parse(PCSC_PSEUDO));
    assert!(text.contains("TD2 = 01: no further interface bytes; protocol T=1\nhistorical bytes: none\nTCK = 01: correct\n"));
}

#[test]
fn explain_with_warm_options() {
    let atr = parse(&[0x3B, 0x20, 0x25]);
    let mut s = String::new();
    explain_with(&atr, &EmvCheckOptions::WARM, &mut s).unwrap();
    assert!(s.ends_with("EMV: accepted, T=0, Fi=372 Di=1, N=0, WI=10\n"));
}

#[test]
fn inverse_convention() {
    let bytes = [0x3F, 0x60, 0x00, 0x00];
    let atr = parse(&bytes);
    assert_eq!(atr.convention(), Convention::Inverse);
    assert_eq!(atr.ts(), 0x3F);
    assert!(explained(&atr).starts_with("TS = 3F: inverse convention\nT0 = 60: "));
    assert_eq!(atr.emv_check().unwrap().protocol(), EmvProtocol::T0);
    let mut t1 = BASIC_T1.to_vec();
    t1[0] = 0x3F;
    assert_eq!(parse(&t1).convention(), Convention::Inverse);
    assert_eq!(Convention::from_ts(0x3B), Some(Convention::Direct));
    assert_eq!(Convention::from_ts(0x03), None);
    assert_eq!(Convention::Inverse.ts(), TS_INVERSE);
}

// ---------------------------------------------------------------------------------------
// EMV rejection rules, one crafted ATR each

#[test]
fn reject_ta1_specific_mode_out_of_range() {
    for (ta1, di) in [(0x11, 1), (0x12, 2), (0x13, 4)] {
        let p = emv(&patched(COMPLEX_T0, 2, ta1)).unwrap();
        assert_eq!((p.fi, p.di), (372, di));
    }
    for ta1 in [0x10, 0x14, 0x23, 0x01, 0x94] {
        assert_eq!(
            emv(&patched(COMPLEX_T0, 2, ta1)),
            Err(EmvRejection::Ta1SpecificMode { ta1 })
        );
    }
    assert_eq!(
        emv(&patched(COMPLEX_T1, 2, 0x23)),
        Err(EmvRejection::Ta1SpecificMode { ta1: 0x23 })
    );
}

#[test]
fn ta1_negotiable_mode() {
    // Default: accept and keep Fi = 372, Di = 1 (EMV 4.3 Book 1 §8.3.3.1 reading).
    for ta1 in [0x11, 0x12, 0x03, 0x13, 0x96] {
        let p = emv(&[0x3B, 0x10, ta1]).unwrap();
        assert_eq!(
            (p.fi, p.di, p.specific_mode),
            (372, 1, false),
            "TA1 {ta1:02X}"
        );
    }
    // The emv-utils reading, as an option.
    let strict = EmvCheckOptions {
        negotiable_ta1: NegotiableTa1Policy::FiNonZeroDiAtLeast3,
        ..EmvCheckOptions::COLD
    };
    for ta1 in [0x11, 0x12, 0x03] {
        assert_eq!(
            emv_with(&[0x3B, 0x10, ta1], strict),
            Err(EmvRejection::Ta1NegotiableMode { ta1 })
        );
    }
    assert!(emv_with(&[0x3B, 0x10, 0x13], strict).is_ok());
    assert!(emv_with(&[0x3B, 0x10, 0x96], strict).is_ok());
}

#[test]
fn reject_tb1_in_cold_atr_only() {
    assert_eq!(
        emv(&[0x3B, 0x20, 0x25]),
        Err(EmvRejection::Tb1NotZero { tb1: 0x25 })
    );
    assert!(emv_with(&[0x3B, 0x20, 0x25], EmvCheckOptions::WARM).is_ok());
    let off = EmvCheckOptions {
        cold_tb1_must_be_zero: false,
        ..EmvCheckOptions::COLD
    };
    assert!(emv_with(&[0x3B, 0x20, 0x25], off).is_ok());
    assert!(emv(&[0x3B, 0x20, 0x00]).is_ok());
    // TB1 absent is fine.
    assert!(emv(&[0x3B, 0x00]).is_ok());
}

#[test]
fn reject_tc1_other_than_00_or_ff() {
    assert_eq!(
        emv(&[0x3B, 0x40, 0x01]),
        Err(EmvRejection::Tc1Value { tc1: 0x01 })
    );
    assert_eq!(
        emv(&[0x3B, 0x40, 0xFE]),
        Err(EmvRejection::Tc1Value { tc1: 0xFE })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T1, 4, 0x01)),
        Err(EmvRejection::Tc1Value { tc1: 0x01 })
    );
    assert_eq!(emv(&[0x3B, 0x40, 0xFF]).unwrap().extra_guard_time, 0xFF);
    let any = EmvCheckOptions {
        tc1: Tc1Policy::Any,
        ..EmvCheckOptions::COLD
    };
    let p = emv_with(&[0x3B, 0x40, 0x05], any).unwrap();
    assert_eq!(p.extra_guard_time, 5);
    assert_eq!(p.guard_time_etu(), 17);
}

#[test]
fn reject_td1_protocol() {
    // T=2 and T=15 in TD1; both need a TCK.
    assert_eq!(
        emv(&[0x3B, 0x80, 0x02, 0x82]),
        Err(EmvRejection::Td1Protocol { td1: 0x02 })
    );
    assert_eq!(
        emv(&[0x3B, 0x80, 0x0F, 0x8F]),
        Err(EmvRejection::Td1Protocol { td1: 0x0F })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T0, 5, 0xD2)),
        Err(EmvRejection::Td1Protocol { td1: 0xD2 })
    );
}

#[test]
fn reject_ta2_protocol_and_implicit() {
    assert_eq!(
        emv(&patched(COMPLEX_T0, 6, 0x01)),
        Err(EmvRejection::Ta2Protocol {
            ta2: 0x01,
            first: 0
        })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T1, 6, 0x00)),
        Err(EmvRejection::Ta2Protocol {
            ta2: 0x00,
            first: 1
        })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T0, 6, 0x10)),
        Err(EmvRejection::Ta2Implicit { ta2: 0x10 })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T1, 6, 0x11)),
        Err(EmvRejection::Ta2Implicit { ta2: 0x11 })
    );
    // b8 (mode change) is not an EMV criterion.
    assert!(emv(&patched(COMPLEX_T0, 6, 0x80)).is_ok());
}

#[test]
fn reject_tb2() {
    // TB1 = 00, TD1 = 20 (TB2; T=0), TB2 = 32.
    let bytes = [0x3B, 0xA0, 0x00, 0x20, 0x32];
    assert_eq!(emv(&bytes), Err(EmvRejection::Tb2Present { tb2: 0x32 }));
    let off = EmvCheckOptions {
        reject_tb2: false,
        ..EmvCheckOptions::COLD
    };
    assert!(emv_with(&bytes, off).is_ok());
}

#[test]
fn reject_tc2() {
    let t1_with_tc2 = with_tck(&[0x3B, 0x80, 0xC1, 0x0A, 0x31, 0xFE, 0x45]);
    assert_eq!(
        emv(&t1_with_tc2),
        Err(EmvRejection::Tc2NotT0 {
            tc2: 0x0A,
            first: 1
        })
    );
    assert_eq!(
        emv(&[0x3B, 0x80, 0x40, 0x0B]),
        Err(EmvRejection::Tc2Value { tc2: 0x0B })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T0, 7, 0x00)),
        Err(EmvRejection::Tc2Value { tc2: 0x00 })
    );
    assert_eq!(
        emv(&[0x3B, 0x80, 0x40, 0x0A]).unwrap().transmission,
        EmvTransmission::T0 { wi: 10 }
    );
}

#[test]
fn reject_td2() {
    assert_eq!(
        emv(&patched(COMPLEX_T0, 8, 0x31)),
        Err(EmvRejection::Td2AfterT0 { td2: 0x31 })
    );
    // With TD2 = 30 only T=0 is indicated, so the trailing TCK is already an ISO error.
    assert_eq!(
        Atr::parse(&patched(COMPLEX_T0, 8, 0x30)),
        Err(AtrError::TrailingBytes {
            offset: 15,
            count: 1
        })
    );
    // TD1 = 80 (TD2; T=0), TD2 = 00 (T=0): no TCK.
    assert_eq!(
        emv(&[0x3B, 0x80, 0x80, 0x00]),
        Err(EmvRejection::Td2AfterT0 { td2: 0x00 })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T1, 7, 0x70)),
        Err(EmvRejection::Td2AfterT1 { td2: 0x70 })
    );
    let t1_td2_t0 = with_tck(&[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x30, 0x7C, 0x41]);
    assert_eq!(emv(&t1_td2_t0), Err(EmvRejection::Td2AfterT1 { td2: 0x30 }));
    assert_eq!(
        emv(&[0x3B, 0x80, 0x01, 0x81]),
        Err(EmvRejection::Td2Missing)
    );
    // T=0 without TD2 is fine.
    assert!(emv(&[0x3B, 0x80, 0x00]).is_ok());
}

#[test]
fn reject_ta3() {
    assert_eq!(
        emv(&patched(BASIC_T1, 6, 0x0F)),
        Err(EmvRejection::Ta3Ifsc { ta3: 0x0F })
    );
    assert_eq!(
        emv(&patched(BASIC_T1, 6, 0x00)),
        Err(EmvRejection::Ta3Ifsc { ta3: 0x00 })
    );
    assert_eq!(
        emv(&patched(BASIC_T1, 6, 0xFF)),
        Err(EmvRejection::Ta3Ifsc { ta3: 0xFF })
    );
    for (ta3, ifsc) in [(0x10, 16), (0xFE, 254)] {
        match emv(&patched(BASIC_T1, 6, ta3)).unwrap().transmission {
            EmvTransmission::T1 { ifsc: got, .. } => assert_eq!(got, ifsc),
            other => panic!("unexpected {other:?}"),
        }
    }
    // TA3 absent: IFSC 32.
    let no_ta3 = with_tck(&[0x3B, 0x80, 0x81, 0x21, 0x45]);
    assert_eq!(
        emv(&no_ta3).unwrap().transmission,
        EmvTransmission::T1 {
            ifsc: 32,
            bwi: 4,
            cwi: 5,
            edc: Edc::Lrc
        }
    );
}

#[test]
fn reject_tb3() {
    let no_tb3 = with_tck(&[0x3B, 0x80, 0x81, 0x11, 0xFE]);
    assert_eq!(emv(&no_tb3), Err(EmvRejection::Tb3Missing));
    assert_eq!(
        emv(&patched(BASIC_T1, 7, 0x55)),
        Err(EmvRejection::Tb3Bwi { tb3: 0x55 })
    );
    assert_eq!(
        emv(&patched(BASIC_T1, 7, 0x46)),
        Err(EmvRejection::Tb3Cwi { tb3: 0x46 })
    );
    assert_eq!(
        emv(&patched(BASIC_T1, 7, 0xF0)),
        Err(EmvRejection::Tb3Bwi { tb3: 0xF0 })
    );
    assert!(emv(&patched(BASIC_T1, 7, 0x45)).is_ok());
    assert!(emv(&patched(BASIC_T1, 7, 0x00)).is_ok());
}

#[test]
fn reject_tb3_cwi_shorter_than_guard_time() {
    // Only reachable when TC1 may take values other than 00/FF.
    let any = EmvCheckOptions {
        tc1: Tc1Policy::Any,
        ..EmvCheckOptions::COLD
    };
    let with_n = |n: u8, tb3: u8| with_tck(&[0x3B, 0xC0, n, 0x81, 0x31, 0xFE, tb3]);
    // N = 32, CWI = 5: 2^5 = 32 < 33.
    let rejected = emv_with(&with_n(0x20, 0x45), any);
    assert_eq!(
        rejected,
        Err(EmvRejection::Tb3CwiGuardTime {
            tb3: 0x45,
            tc1: 0x20
        })
    );
    assert_eq!(
        std::format!("{}", rejected.unwrap_err()),
        "TB3 = 45 with TC1 = 20: 2^CWI = 32 is less than N + 1 = 33 (EMV L1 §8.3.3.10)"
    );
    // N = 31, CWI = 5: 32 >= 32.
    assert!(emv_with(&with_n(0x1F, 0x45), any).is_ok());
    // N = 2, CWI = 1: 2 < 3.
    assert_eq!(
        emv_with(&with_n(0x02, 0x41), any),
        Err(EmvRejection::Tb3CwiGuardTime {
            tb3: 0x41,
            tc1: 0x02
        })
    );
    // N = 0 with CWI = 0 and N = 255 with CWI = 0 are accepted.
    assert!(emv_with(&with_n(0x00, 0x40), any).is_ok());
    assert!(emv_with(&with_n(0xFF, 0x40), any).is_ok());
    // Default TC1 policy rejects N = 32 first.
    assert_eq!(
        emv(&with_n(0x20, 0x45)),
        Err(EmvRejection::Tc1Value { tc1: 0x20 })
    );
}

#[test]
fn reject_tc3() {
    assert_eq!(
        emv(&patched(COMPLEX_T1, 10, 0x01)),
        Err(EmvRejection::Tc3Value { tc3: 0x01 })
    );
    assert_eq!(
        emv(&patched(COMPLEX_T1, 10, 0x80)),
        Err(EmvRejection::Tc3Value { tc3: 0x80 })
    );
}

#[test]
fn rejection_metadata() {
    let r = EmvRejection::Tc2Value { tc2: 0x0B };
    assert_eq!(
        std::format!("{r}"),
        "TC2 = 0B: EMV requires 0A for T=0 (EMV L1 §8.3.3.7)"
    );
    assert_eq!(r.clause(), "EMV L1 §8.3.3.7");
    assert_eq!(
        r.element(),
        AtrElement::Interface {
            kind: InterfaceKind::C,
            index: 2
        }
    );
    assert_eq!(std::format!("{}", r.element()), "TC2");
    assert_eq!(r.action(ResetKind::Cold), RejectAction::WarmReset);
    assert_eq!(r.action(ResetKind::Warm), RejectAction::Deactivate);
    let r = EmvRejection::Td1Protocol { td1: 0x82 };
    assert_eq!(
        std::format!("{r}"),
        "TD1 = 82: first protocol T=2 is neither T=0 nor T=1 (EMV L1 §8.3.3.4)"
    );
    assert_eq!(EmvRejection::Td2Missing.clause(), "EMV L1 §8.3.3.10");
    assert_eq!(
        std::format!("{}", EmvRejection::Td2Missing.element()),
        "TD2"
    );
    assert_eq!(
        std::format!("{}", EmvRejection::Tb3Bwi { tb3: 0x75 }),
        "TB3 = 75: BWI = 7 exceeds the EMV maximum of 4 (EMV L1 §8.3.3.10)"
    );
    assert_eq!(EmvRejection::Ta3Ifsc { ta3: 0 }.clause(), "EMV L1 §8.3.3.9");
    assert_eq!(
        EmvRejection::Tc3Value { tc3: 1 }.clause(),
        "EMV L1 §8.3.3.11"
    );
    assert_eq!(EmvCheckOptions::default(), EmvCheckOptions::COLD);
}

// ---------------------------------------------------------------------------------------
// Parse errors

#[test]
fn empty_and_bad_ts() {
    assert_eq!(Atr::parse(&[]), Err(AtrError::Empty));
    assert_eq!(AtrError::Empty.offset(), 0);
    // A raw inverse-convention TS read as direct shows as 03.
    assert_eq!(
        Atr::parse(&[0x03, 0x60, 0x00, 0x00]),
        Err(AtrError::InvalidTs { value: 0x03 })
    );
    assert_eq!(
        Atr::parse(&[0x00]),
        Err(AtrError::InvalidTs { value: 0x00 })
    );
    assert_eq!(
        std::format!("{}", AtrError::InvalidTs { value: 0x03 }),
        "invalid TS = 03 at offset 0: expected 3B (direct convention) or 3F (inverse convention)"
    );
}

#[test]
fn truncated_at_every_length() {
    for full in ALL_VALID {
        assert!(Atr::parse(full).is_ok());
        for len in 0..full.len() {
            match Atr::parse(&full[..len]) {
                Err(AtrError::Empty) => assert_eq!(len, 0),
                Err(AtrError::Truncated {
                    offset, missing, ..
                }) => {
                    assert_eq!(offset, len, "{full:02X?} cut to {len}");
                    assert!(
                        missing >= 1 && missing <= full.len() - len,
                        "{full:02X?} cut to {len}: {missing}"
                    );
                }
                other => panic!("{full:02X?} cut to {len}: {other:?}"),
            }
        }
    }
}

#[test]
fn truncated_names_the_element() {
    let cases: &[(&[u8], AtrElement, usize)] = &[
        (&[0x3B], AtrElement::T0, 1),
        (
            &[0x3B, 0xE0],
            AtrElement::Interface {
                kind: InterfaceKind::B,
                index: 1,
            },
            3,
        ),
        (
            &[0x3B, 0xE0, 0x00],
            AtrElement::Interface {
                kind: InterfaceKind::C,
                index: 1,
            },
            2,
        ),
        (
            &[0x3B, 0xE0, 0x00, 0xFF, 0x81],
            AtrElement::Interface {
                kind: InterfaceKind::D,
                index: 2,
            },
            2,
        ),
        (
            &[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31],
            AtrElement::Interface {
                kind: InterfaceKind::A,
                index: 3,
            },
            3,
        ),
        (&BASIC_T1[..8], AtrElement::Tck, 1),
        (&E_CPF[..6], AtrElement::Historical { index: 3 }, 6),
        (&JCOP10[..8], AtrElement::Historical { index: 1 }, 10),
    ];
    for (bytes, element, missing) in cases {
        assert_eq!(
            Atr::parse(bytes),
            Err(AtrError::Truncated {
                offset: bytes.len(),
                element: *element,
                missing: *missing
            }),
            "{bytes:02X?}"
        );
    }
    let e = Atr::parse(&E_CPF[..6]).unwrap_err();
    assert_eq!(e.offset(), 6);
    assert_eq!(
        std::format!("{e}"),
        "truncated ATR: historical byte 3 missing at offset 6; expected at least 6 more byte(s)"
    );
}

#[test]
fn bad_tck() {
    let mut bytes = BASIC_T1.to_vec();
    bytes[8] = 0x93;
    let e = Atr::parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        AtrError::BadTck {
            offset: 8,
            expected: 0x92,
            found: 0x93
        }
    );
    assert_eq!(
        std::format!("{e}"),
        "bad TCK at offset 8: expected 92, found 93"
    );
    // A corrupted interface byte shows up as a TCK mismatch.
    let mut bytes = BASIC_T1.to_vec();
    bytes[6] = 0x7D;
    assert_eq!(
        Atr::parse(&bytes),
        Err(AtrError::BadTck {
            offset: 8,
            expected: 0x93,
            found: 0x92
        })
    );
    let mut bytes = JCOP10.to_vec();
    bytes[17] = 0x00;
    assert_eq!(
        Atr::parse(&bytes),
        Err(AtrError::BadTck {
            offset: 17,
            expected: 0xA3,
            found: 0x00
        })
    );
}

#[test]
fn trailing_bytes() {
    assert_eq!(
        Atr::parse(&[0x3B, 0x60, 0x00, 0x00, 0x00]),
        Err(AtrError::TrailingBytes {
            offset: 4,
            count: 1
        })
    );
    let mut bytes = BASIC_T1.to_vec();
    bytes.extend_from_slice(&[0x90, 0x00]);
    let e = Atr::parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        AtrError::TrailingBytes {
            offset: 9,
            count: 2
        }
    );
    assert_eq!(e.offset(), 9);
    assert_eq!(
        std::format!("{e}"),
        "2 trailing byte(s) at offset 9 after the end of the ATR"
    );
}

#[test]
fn group_limit() {
    // T0 = 80, TD1..TD7 = 81, TD8 = 01: exactly 8 groups.
    let mut body = vec![0x3B, 0x80];
    body.extend_from_slice(&[0x81; 7]);
    body.push(0x01);
    let ok = with_tck(&body);
    let atr = parse(&ok);
    assert_eq!(atr.group_count(), MAX_GROUPS);
    assert_eq!(atr.td(8), Some(0x01));
    assert_eq!(atr.td(7), Some(0x81));
    assert_eq!(atr.td(9), None);
    assert_eq!(atr.groups().count(), 8);

    // TD8 = 81 announces a ninth group.
    let mut body = vec![0x3B, 0x80];
    body.extend_from_slice(&[0x81; 9]);
    let e = Atr::parse(&body).unwrap_err();
    assert_eq!(
        e,
        AtrError::TooManyGroups {
            offset: 9,
            index: 8
        }
    );
    assert_eq!(
        std::format!("{e}"),
        "too many interface byte groups: TD8 at offset 9 announces group 9, at most 8 are supported"
    );
}

// ---------------------------------------------------------------------------------------
// Tables and small types

#[test]
fn fi_di_fmax_tables() {
    // ISO/IEC 7816-3 Tables 7 and 8, indexed by code; 0 marks RFU.
    let fi: [u16; 16] = [
        372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0,
    ];
    let fmax: [u32; 16] = [
        4_000, 5_000, 6_000, 8_000, 12_000, 16_000, 20_000, 0, 0, 5_000, 7_500, 10_000, 15_000,
        20_000, 0, 0,
    ];
    let di: [u8; 16] = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0];
    for code in 0u8..16 {
        let at = usize::from(code);
        assert_eq!(fi_from_code(code).unwrap_or(0), fi[at], "FI {code}");
        assert_eq!(fmax_khz_from_code(code).unwrap_or(0), fmax[at], "FI {code}");
        assert_eq!(di_from_code(code).unwrap_or(0), di[at], "DI {code}");
    }
    for rfu in [7, 8, 0xE, 0xF, 16] {
        assert_eq!((fi_from_code(rfu), fmax_khz_from_code(rfu)), (None, None));
    }
    for rfu in [0, 0xA, 0xB, 0xC, 0xD, 0xE, 0xF] {
        assert_eq!(di_from_code(rfu), None);
    }
    assert_eq!(di_from_code(0xFF), None);
    let atr = parse(&[0x3B, 0x10, 0x7A]);
    assert_eq!((atr.fi(), atr.di(), atr.fmax_khz()), (None, None, None));
    assert_eq!((atr.fi_code(), atr.di_code()), (7, 0xA));
}

#[test]
fn protocol_set() {
    let s = ProtocolSet::EMPTY.with(1).with(0).with(15);
    assert_eq!(s.bits(), 0x8003);
    assert_eq!(s.len(), 3);
    assert!(s.contains(15) && !s.contains(2) && !s.contains(16));
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1, 15]);
    assert_eq!(std::format!("{s}"), "T=0, T=1, T=15");
    assert_eq!(std::format!("{}", ProtocolSet::EMPTY), "none");
    assert!(s.without(0).without(1).without(15).is_empty());
}

#[test]
fn element_names() {
    assert_eq!(std::format!("{}", AtrElement::Ts), "TS");
    assert_eq!(std::format!("{}", AtrElement::T0), "T0");
    assert_eq!(std::format!("{}", AtrElement::Tck), "TCK");
    assert_eq!(
        std::format!(
            "{}",
            AtrElement::Interface {
                kind: InterfaceKind::A,
                index: 3
            }
        ),
        "TA3"
    );
    assert_eq!(
        std::format!("{}", AtrElement::Historical { index: 2 }),
        "historical byte 2"
    );
}

// ---------------------------------------------------------------------------------------
// Properties

/// A well-formed ATR built from a random structure, with the interface bytes it contains
/// as `(kind, group, value)`.
fn build(
    ts: u8,
    y1_extra: u8,
    groups: &[(u8, [u8; 3], u8)],
    last_td: Option<u8>,
    hist: &[u8],
) -> (Vec<u8>, Vec<(InterfaceKind, usize, u8)>) {
    // groups[j] = (mask of A/B/C for group j+1, values, protocol nibble of TD(j+1)).
    let n = groups.len();
    let y_of = |j: usize| -> u8 {
        let (mask, _, _) = groups[j];
        let mut y = mask & 0x7;
        if j + 1 < n || (j + 1 == n && last_td.is_some()) {
            y |= 0x8;
        }
        y
    };
    let mut out = vec![ts];
    let mut expected = Vec::new();
    let first_y = if n == 0 { y1_extra & 0x7 } else { y_of(0) };
    out.push((first_y << 4) | u8::try_from(hist.len()).unwrap());
    if n == 0 {
        for (bit, kind, v) in [
            (1, InterfaceKind::A, 0x11),
            (2, InterfaceKind::B, 0x00),
            (4, InterfaceKind::C, 0x00),
        ] {
            if first_y & bit != 0 {
                out.push(v);
                expected.push((kind, 1, v));
            }
        }
    }
    let mut tck = false;
    for (j, &(mask, vals, t)) in groups.iter().enumerate() {
        let y = y_of(j);
        for (bit, kind, v) in [
            (1, InterfaceKind::A, vals[0]),
            (2, InterfaceKind::B, vals[1]),
            (4, InterfaceKind::C, vals[2]),
        ] {
            if mask & bit != 0 {
                out.push(v);
                expected.push((kind, j + 1, v));
            }
        }
        if y & 0x8 != 0 {
            let next_y = if j + 1 < n { y_of(j + 1) } else { 0 };
            let t = if j + 1 < n { t } else { last_td.unwrap_or(0) };
            let td = (next_y << 4) | (t & 0x0F);
            if td & 0x0F != 0 {
                tck = true;
            }
            out.push(td);
            expected.push((InterfaceKind::D, j + 1, td));
        }
    }
    out.extend_from_slice(hist);
    if tck {
        let x = out.iter().skip(1).fold(0u8, |a, b| a ^ b);
        out.push(x);
    }
    (out, expected)
}

fn group_strategy() -> impl Strategy<Value = (u8, [u8; 3], u8)> {
    // A non-empty mask keeps every announced group non-empty (a TD with Y = 0 ends the ATR).
    (1u8..8, any::<[u8; 3]>(), 0u8..16)
}

fn check_explain(atr: &Atr<'_>) {
    let text = explained(atr);
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        assert!(!line.is_empty());
        assert!(!line.starts_with(char::is_whitespace), "{line:?}");
    }
    assert!(text.lines().last().unwrap().starts_with("EMV: "));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(atr) = Atr::parse(&bytes) {
            check_explain(&atr);
            let _ = atr.emv_check();
            let _ = atr.emv_check_with(&EmvCheckOptions { tc1: Tc1Policy::Any, negotiable_ta1: NegotiableTa1Policy::AcceptAny, ..EmvCheckOptions::WARM });
        }
    }

    #[test]
    fn plausible_prefix_never_panics(
        ts in prop_oneof![Just(0x3Bu8), Just(0x3F)],
        rest in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut bytes = vec![ts];
        bytes.extend_from_slice(&rest);
        match Atr::parse(&bytes) {
            Ok(atr) => {
                prop_assert_eq!(atr.raw(), &bytes[..]);
                check_explain(&atr);
                if let Ok(p) = atr.emv_check() {
                    let _ = (p.guard_time_etu(), p.t0_wwt_etu(), p.t1_cwt_etu(), p.t1_bwt_etu());
                }
            }
            Err(e) => prop_assert!(e.offset() <= bytes.len()),
        }
    }

    #[test]
    fn well_formed_atrs_round_trip(
        ts in prop_oneof![Just(0x3Bu8), Just(0x3F)],
        y1_extra in 0u8..8,
        groups in proptest::collection::vec(group_strategy(), 0..=MAX_GROUPS),
        last_td in proptest::option::of(0u8..16),
        hist in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let (bytes, expected) = build(ts, y1_extra, &groups, last_td, &hist);
        let atr = Atr::parse(&bytes).map_err(|e| TestCaseError::fail(std::format!("{bytes:02X?}: {e}")))?;
        prop_assert_eq!(atr.raw(), &bytes[..]);
        prop_assert_eq!(atr.historical_bytes(), &hist[..]);
        for (kind, i, v) in &expected {
            prop_assert_eq!(atr.interface_byte(*kind, *i), Some(*v));
        }
        let present: usize = atr
            .groups()
            .map(|(_, g)| InterfaceKind::ALL.iter().filter(|k| g.get(**k).is_some()).count())
            .sum();
        prop_assert_eq!(present, expected.len());
        check_explain(&atr);
        // Lines: TS, T0, one per interface byte, historical, TCK, EMV.
        prop_assert_eq!(explained(&atr).lines().count(), 2 + expected.len() + 3);

        for len in 0..bytes.len() {
            match Atr::parse(&bytes[..len]) {
                Err(AtrError::Empty) => prop_assert_eq!(len, 0),
                Err(AtrError::Truncated { offset, .. }) => prop_assert_eq!(offset, len),
                other => prop_assert!(false, "cut to {}: {:?}", len, other),
            }
        }
        let mut longer = bytes.clone();
        longer.push(0x00);
        prop_assert_eq!(
            Atr::parse(&longer),
            Err(AtrError::TrailingBytes { offset: bytes.len(), count: 1 })
        );
        if let Some(tck) = atr.tck() {
            let mut bad = bytes.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x5A;
            prop_assert_eq!(
                Atr::parse(&bad),
                Err(AtrError::BadTck { offset: last, expected: tck, found: tck ^ 0x5A })
            );
        }
    }
}
