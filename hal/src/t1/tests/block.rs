//! Block codec: the emv-facts frames, every PCB, every decode error, parse/emit round trips.

extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::super::*;
use crate::atr::Edc;

fn enc(block: Block<'_>, edc: Edc) -> Vec<u8> {
    let mut buf = [0u8; MAX_BLOCK_LEN];
    let n = block.encode(edc, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn s(nad: u8, s: SBlock) -> Block<'static> {
    Block {
        nad,
        kind: BlockKind::S(s),
    }
}

const SELECT_PSE: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];

#[test]
fn emv_facts_frames_encode() {
    let i = Block {
        nad: 0,
        kind: BlockKind::I {
            ns: false,
            more: false,
            inf: SELECT_PSE,
        },
    };
    let mut want = vec![0x00, 0x00, 0x14];
    want.extend_from_slice(SELECT_PSE);
    want.push(0xDD);
    assert_eq!(enc(i, Edc::Lrc), want);
    let r = Block {
        nad: 0,
        kind: BlockKind::R {
            nr: true,
            code: RCode::Ok,
        },
    };
    assert_eq!(enc(r, Edc::Lrc), [0x00, 0x90, 0x00, 0x90]);
    assert_eq!(
        enc(s(0, SBlock::WtxRequest(2)), Edc::Lrc),
        [0x00, 0xC3, 0x01, 0x02, 0xC0]
    );
    assert_eq!(
        enc(s(0, SBlock::WtxResponse(2)), Edc::Lrc),
        [0x00, 0xE3, 0x01, 0x02, 0xE0]
    );
    assert_eq!(
        enc(s(0, SBlock::IfsRequest(0xFE)), Edc::Lrc),
        [0x00, 0xC1, 0x01, 0xFE, 0x3E]
    );
    assert_eq!(
        enc(s(0, SBlock::IfsResponse(0xFE)), Edc::Lrc),
        [0x00, 0xE1, 0x01, 0xFE, 0x1E]
    );
}

#[test]
fn emv_facts_frames_decode() {
    let mut i = vec![0x00, 0x00, 0x14];
    i.extend_from_slice(SELECT_PSE);
    i.push(0xDD);
    let b = Block::decode(&i, Edc::Lrc, 254).unwrap();
    assert_eq!(
        b.kind,
        BlockKind::I {
            ns: false,
            more: false,
            inf: SELECT_PSE
        }
    );
    assert_eq!(
        Block::decode(&[0x00, 0x90, 0x00, 0x90], Edc::Lrc, 254)
            .unwrap()
            .kind,
        BlockKind::R {
            nr: true,
            code: RCode::Ok
        }
    );
    for (bytes, want) in [
        ([0x00, 0xC3, 0x01, 0x02, 0xC0], SBlock::WtxRequest(2)),
        ([0x00, 0xE3, 0x01, 0x02, 0xE0], SBlock::WtxResponse(2)),
        ([0x00, 0xC1, 0x01, 0xFE, 0x3E], SBlock::IfsRequest(0xFE)),
        ([0x00, 0xE1, 0x01, 0xFE, 0x1E], SBlock::IfsResponse(0xFE)),
    ] {
        assert_eq!(
            Block::decode(&bytes, Edc::Lrc, 254).unwrap(),
            s(0, want),
            "{bytes:02X?}"
        );
    }
}

#[test]
fn every_pcb_is_classified() {
    // The complete list of valid PCBs (ISO/IEC 7816-3 §11.3.2.2), everything else unknown.
    let mut valid = vec![0x00, 0x20, 0x40, 0x60];
    valid.extend([0x80, 0x81, 0x82, 0x90, 0x91, 0x92]);
    valid.extend([0xC0, 0xC1, 0xC2, 0xC3, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4]);
    for pcb in 0..=255u8 {
        let inf_len: u8 = match pcb {
            0xC1 | 0xC3 | 0xE1 | 0xE3 => 1,
            p if p & 0x80 == 0 => 1,
            _ => 0,
        };
        let mut bytes = vec![0x00, pcb, inf_len];
        bytes.extend(std::iter::repeat_n(0x20, usize::from(inf_len)));
        let l = lrc(&bytes);
        bytes.push(l);
        let r = Block::decode(&bytes, Edc::Lrc, 254);
        if valid.contains(&pcb) {
            let b = r.unwrap_or_else(|e| panic!("{pcb:02X}: {e}"));
            assert_eq!(b.pcb(), pcb);
            assert_eq!(enc(b, Edc::Lrc), bytes);
        } else {
            assert_eq!(r, Err(BlockError::UnknownPcb { pcb }), "{pcb:02X}");
        }
    }
}

#[test]
fn r_codes_and_s_properties() {
    for (pcb, nr, code) in [
        (0x80, false, RCode::Ok),
        (0x81, false, RCode::EdcOrParity),
        (0x82, false, RCode::Other),
        (0x90, true, RCode::Ok),
        (0x91, true, RCode::EdcOrParity),
        (0x92, true, RCode::Other),
    ] {
        let bytes = [0, pcb, 0, pcb];
        let b = Block::decode(&bytes, Edc::Lrc, 254).unwrap();
        assert_eq!(b.kind, BlockKind::R { nr, code });
        assert_eq!(RCode::from_bits(code.bits()), Some(code));
    }
    assert_eq!(RCode::from_bits(3), None);
    assert!(SBlock::VppError.is_response());
    assert!(!SBlock::AbortRequest.is_response());
    assert_eq!(SBlock::AbortResponse.inf(), None);
    assert_eq!(SBlock::WtxRequest(9).inf(), Some(9));
}

#[test]
fn decode_errors() {
    fn d(b: &[u8]) -> Result<Block<'_>, BlockError> {
        Block::decode(b, Edc::Lrc, 254)
    }
    assert_eq!(d(&[]), Err(BlockError::TooShort { len: 0, min: 4 }));
    assert_eq!(d(&[0, 0, 0]), Err(BlockError::TooShort { len: 3, min: 4 }));
    assert_eq!(
        Block::decode(&[0, 0x90, 0, 0x90], Edc::Crc, 254),
        Err(BlockError::TooShort { len: 4, min: 5 })
    );
    assert_eq!(d(&[0, 0, 0xFF, 0xFF]), Err(BlockError::LenReserved));
    assert_eq!(
        d(&[0, 0, 2, 1, 3]),
        Err(BlockError::LengthMismatch {
            len: 2,
            expected: 6,
            found: 5
        })
    );
    assert_eq!(
        d(&[0, 0x90, 0, 0x91]),
        Err(BlockError::BadEdc {
            offset: 3,
            expected: 0x90,
            found: 0x91
        })
    );
    assert!(d(&[0, 0x90, 0, 0x91]).unwrap_err().is_edc());
    // LEN larger than IFSD for an I-block.
    let mut big = vec![0u8, 0x00, 33];
    big.extend([0u8; 33]);
    let l = lrc(&big);
    big.push(l);
    assert_eq!(
        Block::decode(&big, Edc::Lrc, 32),
        Err(BlockError::LenTooLarge { len: 33, max: 32 })
    );
    assert!(Block::decode(&big, Edc::Lrc, 33).is_ok());
    // R-block with INF, S-blocks with the wrong INF length.
    assert_eq!(
        d(&[0, 0x80, 1, 5, 0x84]),
        Err(BlockError::BadInfLength {
            pcb: 0x80,
            len: 1,
            expected: 0
        })
    );
    assert_eq!(
        d(&[0, 0xC3, 0, 0xC3]),
        Err(BlockError::BadInfLength {
            pcb: 0xC3,
            len: 0,
            expected: 1
        })
    );
    assert_eq!(
        d(&[0, 0xC2, 1, 0, 0xC3]),
        Err(BlockError::BadInfLength {
            pcb: 0xC2,
            len: 1,
            expected: 0
        })
    );
    assert!(!BlockError::LenReserved.is_edc());
}

#[test]
fn crc_check_value_and_frames() {
    assert_eq!(crc(b"123456789"), 0x6F91);
    assert_eq!(crc(&[]), 0xFFFF);
    let bytes = enc(s(0, SBlock::IfsRequest(0xFE)), Edc::Crc);
    assert_eq!(bytes.len(), 6);
    let v = crc(&bytes[..4]);
    assert_eq!(bytes[4..], v.to_be_bytes());
    assert_eq!(
        Block::decode(&bytes, Edc::Crc, 254).unwrap(),
        s(0, SBlock::IfsRequest(0xFE))
    );
    let mut bad = bytes.clone();
    bad[5] ^= 1;
    assert_eq!(
        Block::decode(&bad, Edc::Crc, 254),
        Err(BlockError::BadEdc {
            offset: 4,
            expected: v,
            found: v ^ 1
        })
    );
    assert_eq!(edc_len(Edc::Crc), 2);
    assert_eq!(edc_len(Edc::Lrc), 1);
}

#[test]
fn encode_errors() {
    let inf = [0u8; 255];
    let too_long = Block {
        nad: 0,
        kind: BlockKind::I {
            ns: false,
            more: false,
            inf: &inf,
        },
    };
    let mut buf = [0u8; 300];
    assert_eq!(
        too_long.encode(Edc::Lrc, &mut buf),
        Err(EncodeError::InfTooLong { len: 255 })
    );
    let ok = Block {
        nad: 0,
        kind: BlockKind::I {
            ns: true,
            more: true,
            inf: &inf[..254],
        },
    };
    assert_eq!(ok.encode(Edc::Crc, &mut buf), Ok(MAX_BLOCK_LEN));
    assert_eq!(
        ok.encode(Edc::Crc, &mut buf[..258]),
        Err(EncodeError::BufferTooSmall {
            needed: 259,
            available: 258
        })
    );
    assert_eq!(ok.encoded_len(Edc::Lrc), 258);
}

fn arb_sblock() -> impl Strategy<Value = SBlock> {
    prop_oneof![
        Just(SBlock::ResynchRequest),
        Just(SBlock::ResynchResponse),
        any::<u8>().prop_map(SBlock::IfsRequest),
        any::<u8>().prop_map(SBlock::IfsResponse),
        Just(SBlock::AbortRequest),
        Just(SBlock::AbortResponse),
        any::<u8>().prop_map(SBlock::WtxRequest),
        any::<u8>().prop_map(SBlock::WtxResponse),
        Just(SBlock::VppError),
    ]
}

proptest! {
    #[test]
    fn i_block_round_trip(
        nad in any::<u8>(), ns in any::<bool>(), more in any::<bool>(),
        inf in proptest::collection::vec(any::<u8>(), 0..=254),
        crc_edc in any::<bool>(),
    ) {
        let edc = if crc_edc { Edc::Crc } else { Edc::Lrc };
        let b = Block { nad, kind: BlockKind::I { ns, more, inf: &inf } };
        let bytes = enc(b, edc);
        prop_assert_eq!(bytes.len(), 3 + inf.len() + edc_len(edc));
        prop_assert_eq!(Block::decode(&bytes, edc, 254), Ok(b));
    }

    #[test]
    fn s_and_r_round_trip(nad in any::<u8>(), sb in arb_sblock(), nr in any::<bool>(), code in 0u8..3) {
        let b = s(nad, sb);
        let bytes = enc(b, Edc::Lrc);
        prop_assert_eq!(Block::decode(&bytes, Edc::Lrc, 254), Ok(b));
        let r = Block { nad, kind: BlockKind::R { nr, code: RCode::from_bits(code).unwrap() } };
        let bytes = enc(r, Edc::Crc);
        prop_assert_eq!(Block::decode(&bytes, Edc::Crc, 254), Ok(r));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), max in any::<u8>()) {
        for edc in [Edc::Lrc, Edc::Crc] {
            if let Ok(b) = Block::decode(&bytes, edc, max) {
                prop_assert_eq!(enc(b, edc), bytes.clone());
            }
        }
    }

    #[test]
    fn single_byte_corruption_is_detected(
        inf in proptest::collection::vec(any::<u8>(), 0..=64),
        pos in any::<prop::sample::Index>(), flip in 1u8..=255,
    ) {
        let b = Block { nad: 0, kind: BlockKind::I { ns: false, more: false, inf: &inf } };
        for edc in [Edc::Lrc, Edc::Crc] {
            let mut bytes = enc(b, edc);
            let i = pos.index(bytes.len());
            bytes[i] ^= flip;
            prop_assert!(Block::decode(&bytes, edc, 254).is_err());
        }
    }
}
