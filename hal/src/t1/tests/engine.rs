//! Engine scenarios: the emv-facts frames in context, chaining both ways, WTX, IFS, error
//! recovery, timeouts, RESYNCH, configuration and API misuse.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::super::*;
use super::sim::*;
use crate::atr::{Atr, Edc};

const BWT: u32 = 15_371;
const CWT: u32 = 13;

fn config(ifsc: u8) -> T1Config {
    T1Config::emv(ifsc, BWT, CWT, 1)
}

fn engine(ifsc: u8) -> T1 {
    T1::new(config(ifsc)).unwrap()
}

fn tx(t1: &mut T1) -> Vec<u8> {
    let mut buf = [0u8; MAX_BLOCK_LEN];
    let n = t1.poll_transmit(&mut buf).expect("a block to send");
    buf[..n].to_vec()
}

fn block(kind: BlockKind<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_BLOCK_LEN];
    let n = Block { nad: 0, kind }.encode(Edc::Lrc, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn i_block(ns: bool, more: bool, inf: &[u8]) -> Vec<u8> {
    block(BlockKind::I { ns, more, inf })
}

fn r_block(nr: bool, code: RCode) -> Vec<u8> {
    block(BlockKind::R { nr, code })
}

const SELECT_PSE: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];

#[test]
fn ifsd_negotiation_frames() {
    let mut t1 = engine(32);
    assert_eq!(t1.ifsd(), DEFAULT_IFSD);
    assert_eq!(t1.poll_timeout(), None);
    t1.start_ifsd_negotiation().unwrap();
    assert_eq!(t1.start(&[0; 4]), Err(StartError::Busy));
    assert_eq!(tx(&mut t1), [0x00, 0xC1, 0x01, 0xFE, 0x3E]);
    assert_eq!(t1.poll_timeout(), Some(BWT + 960));
    t1.handle_received(&[0x00, 0xE1, 0x01, 0xFE, 0x1E]);
    assert_eq!(t1.poll_event(), Some(T1Event::IfsdNegotiated { ifsd: 254 }));
    assert_eq!(t1.ifsd(), 254);
    assert!(t1.is_idle());
    assert_eq!(t1.poll_timeout(), None);
}

#[test]
fn ifs_response_with_another_size_is_retried_then_fails() {
    let mut t1 = engine(32);
    t1.start_ifsd_negotiation().unwrap();
    for _ in 0..=EMV_MAX_RETRIES {
        assert_eq!(tx(&mut t1), [0x00, 0xC1, 0x01, 0xFE, 0x3E]);
        t1.handle_received(&block(BlockKind::S(SBlock::IfsResponse(0x20))));
    }
    assert_eq!(
        t1.poll_event(),
        Some(T1Event::Error(T1Error::RetriesExhausted {
            last: Fault::Unexpected { pcb: 0xE1 }
        }))
    );
    assert!(t1.is_dead());
    assert_eq!(t1.start_ifsd_negotiation(), Err(StartError::Deactivated));
}

#[test]
fn select_pse_and_chained_response_acknowledged_with_r1() {
    let mut t1 = engine(254);
    t1.start(SELECT_PSE).unwrap();
    let mut want = vec![0x00, 0x00, 0x14];
    want.extend_from_slice(SELECT_PSE);
    want.push(0xDD);
    assert_eq!(tx(&mut t1), want);
    // The card answers in two pieces; the first is acknowledged with R(N(R)=1) = 00 90 00 90.
    t1.handle_received(&i_block(false, true, &[0x6F, 0x1A]));
    assert_eq!(t1.poll_event(), None);
    assert_eq!(t1.response(), None);
    assert_eq!(tx(&mut t1), [0x00, 0x90, 0x00, 0x90]);
    t1.handle_received(&i_block(true, false, &[0x84, 0x90, 0x00]));
    assert_eq!(t1.poll_event(), Some(T1Event::Complete { len: 5 }));
    assert_eq!(t1.response(), Some(&[0x6F, 0x1A, 0x84, 0x90, 0x00][..]));
    // Two I-blocks from the card, one from the terminal.
    assert_eq!(t1.sequence_numbers(), (true, false));
}

#[test]
fn wtx_extends_the_next_block_only() {
    let mut t1 = engine(254);
    t1.start(&[0x00, 0xB2, 0x01, 0x0C, 0x00]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&[0x00, 0xC3, 0x01, 0x02, 0xC0]);
    assert_eq!(
        t1.poll_timeout(),
        None,
        "nothing awaited before the response is sent"
    );
    assert_eq!(tx(&mut t1), [0x00, 0xE3, 0x01, 0x02, 0xE0]);
    assert_eq!(t1.poll_timeout(), Some(2 * BWT + 960));
    let reply = i_block(false, false, &[0x90, 0x00]);
    t1.handle_received(&reply[..1]);
    assert_eq!(t1.poll_timeout(), Some(CWT + 4));
    t1.handle_received(&reply[1..]);
    assert_eq!(t1.poll_event(), Some(T1Event::Complete { len: 2 }));
    // The next exchange waits the plain BWT again.
    t1.start(&[0x00, 0xB2, 0x02, 0x0C, 0x00]).unwrap();
    let _ = tx(&mut t1);
    assert_eq!(t1.poll_timeout(), Some(BWT + 960));
}

#[test]
fn wtx_multiplier_zero_is_invalid() {
    let mut t1 = engine(254);
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&block(BlockKind::S(SBlock::WtxRequest(0))));
    assert_eq!(tx(&mut t1), r_block(false, RCode::Other));
}

#[test]
fn wtx_mid_exchange_with_simulated_card() {
    let mut card = fixed_len_card(16, 100);
    card.script = vec![
        vec![SBlock::WtxRequest(3)],
        vec![SBlock::WtxRequest(1), SBlock::WtxRequest(2)],
    ];
    let mut t1 = engine(16);
    let mut line = Line::perfect();
    t1.start_ifsd_negotiation().unwrap();
    assert_eq!(line.run(&mut t1, &mut card, 10), Outcome::Ifsd(254));
    for tag in 0..3 {
        let cmd = command(40, tag);
        t1.start(&cmd).unwrap();
        let out = line.run(&mut t1, &mut card, 50);
        assert_eq!(out, Outcome::Response(response_for(&cmd, 100)));
    }
    assert!(
        line.sent
            .iter()
            .any(|b| b[..] == [0x00, 0xE3, 0x01, 0x03, 0xE1])
    );
    assert_eq!(line.timeouts, 0);
}

#[test]
fn chaining_both_ways_with_ifsc_16() {
    let mut card = fixed_len_card(16, 256);
    let mut t1 = engine(16);
    let mut line = Line::perfect();
    t1.start_ifsd_negotiation().unwrap();
    assert_eq!(line.run(&mut t1, &mut card, 10), Outcome::Ifsd(254));
    let cmd = command(261, 7);
    t1.start(&cmd).unwrap();
    let out = line.run(&mut t1, &mut card, 100);
    assert_eq!(out, Outcome::Response(response_for(&cmd, 256)));
    assert_eq!(card.commands, vec![cmd.clone()]);
    // 261 bytes in 16-byte pieces: 17 I-blocks, every one but the last with M = 1.
    let i_blocks: Vec<_> = line.sent.iter().filter(|b| b[1] & 0x80 == 0).collect();
    assert_eq!(i_blocks.len(), 17);
    for (k, b) in i_blocks.iter().enumerate() {
        let ns = k % 2 == 1;
        assert_eq!(b[1] & 0x40 != 0, ns, "N(S) alternates");
        assert_eq!(b[1] & 0x20 != 0, k < 16, "M set on all but the last");
        assert!(usize::from(b[2]) <= 16);
    }
    // 258 response bytes in 254-byte pieces: one R-block acknowledges the first.
    let r_blocks: Vec<_> = line.sent.iter().filter(|b| b[1] & 0xC0 == 0x80).collect();
    assert_eq!(r_blocks, vec![&vec![0x00, 0x90, 0x00, 0x90]]);
}

#[test]
fn chaining_with_default_ifsd_and_byte_by_byte_delivery() {
    // Without the S(IFS) exchange the card sends at most 32 bytes per block.
    let mut card = fixed_len_card(32, 200);
    let mut t1 = engine(32);
    let mut line = Line::perfect();
    line.chunk = 1;
    for tag in 0..4 {
        let cmd = command(70 + usize::from(tag), tag);
        t1.start(&cmd).unwrap();
        assert_eq!(
            line.run(&mut t1, &mut card, 50),
            Outcome::Response(response_for(&cmd, 200))
        );
    }
    assert_eq!(card.commands.len(), 4);
}

#[test]
fn card_ifs_request_changes_ifsc() {
    let mut t1 = engine(32);
    t1.start(&command(40, 0)).unwrap();
    let first = tx(&mut t1);
    assert_eq!(first[2], 32);
    assert_eq!(first[1], 0x20);
    t1.handle_received(&block(BlockKind::S(SBlock::IfsRequest(0x10))));
    assert_eq!(tx(&mut t1), [0x00, 0xE1, 0x01, 0x10, 0xF0]);
    assert_eq!(t1.ifsc(), 16);
    t1.handle_received(&r_block(true, RCode::Ok));
    let second = tx(&mut t1);
    assert_eq!(
        (second[1], second[2]),
        (0x40, 8),
        "last 8 bytes, N(S)=1, M=0"
    );
    // An IFSC below 16 is refused (EMV) with an R-block.
    t1.handle_received(&block(BlockKind::S(SBlock::IfsRequest(0x0F))));
    assert_eq!(tx(&mut t1), r_block(false, RCode::Other));
    assert_eq!(t1.ifsc(), 16);
}

#[test]
fn card_ifs_request_in_simulation() {
    let mut card = fixed_len_card(64, 10);
    card.script = vec![vec![SBlock::IfsRequest(0x10)]];
    let mut t1 = engine(64);
    let mut line = Line::perfect();
    for tag in 0..2 {
        let cmd = command(60, tag);
        t1.start(&cmd).unwrap();
        assert_eq!(
            line.run(&mut t1, &mut card, 20),
            Outcome::Response(response_for(&cmd, 10))
        );
    }
    assert_eq!(t1.ifsc(), 16);
    assert!(line.sent.last().unwrap()[2] <= 16);
}

#[test]
fn lrc_error_gets_r_block_then_retransmission() {
    let mut t1 = engine(254);
    t1.start(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap();
    let _ = tx(&mut t1);
    let mut bad = i_block(false, false, &[1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00]);
    *bad.last_mut().unwrap() ^= 0x55;
    t1.handle_received(&bad);
    assert_eq!(t1.poll_event(), None);
    assert_eq!(tx(&mut t1), [0x00, 0x81, 0x00, 0x81]);
    assert_eq!(t1.retries(), 1);
    t1.handle_received(&i_block(
        false,
        false,
        &[1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00],
    ));
    assert_eq!(t1.poll_event(), Some(T1Event::Complete { len: 10 }));
    assert_eq!(t1.retries(), 0);
}

#[test]
fn card_r_block_asks_for_the_i_block_again() {
    let mut t1 = engine(254);
    t1.start(SELECT_PSE).unwrap();
    let first = tx(&mut t1);
    t1.handle_received(&r_block(false, RCode::EdcOrParity));
    assert_eq!(tx(&mut t1), first);
    t1.handle_received(&r_block(false, RCode::Ok));
    assert_eq!(tx(&mut t1), first);
    t1.handle_received(&r_block(false, RCode::Other));
    assert_eq!(
        t1.poll_event(),
        Some(T1Event::Error(T1Error::RetriesExhausted {
            last: Fault::RetransmitRequest
        }))
    );
    assert_eq!(t1.poll_transmit(&mut [0u8; MAX_BLOCK_LEN]), None);
}

#[test]
fn silent_card_times_out_after_retries() {
    let mut card = fixed_len_card(32, 0);
    card.silent = true;
    let mut t1 = engine(32);
    let mut line = Line::perfect();
    t1.start(&[0x00, 0xA4, 0x04, 0x00]).unwrap();
    let out = line.run(&mut t1, &mut card, 10);
    assert_eq!(
        out,
        Outcome::Error(T1Error::RetriesExhausted {
            last: Fault::BlockTimeout
        })
    );
    // The I-block, then two R(N(R)=0, other error) blocks.
    assert_eq!(line.sent.len(), 3);
    assert_eq!(line.sent[1], [0x00, 0x82, 0x00, 0x82]);
    assert_eq!(line.sent[2], [0x00, 0x82, 0x00, 0x82]);
    assert_eq!(line.timeouts, 3);
    assert!(t1.is_dead());
}

#[test]
fn timeout_policy_deactivate() {
    let mut t1 = T1::new(T1Config {
        on_block_timeout: TimeoutPolicy::Deactivate,
        ..config(32)
    })
    .unwrap();
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_timeout();
    assert_eq!(t1.poll_event(), Some(T1Event::Error(T1Error::BlockTimeout)));
}

#[test]
fn character_timeout_and_parity_error() {
    let mut t1 = engine(254);
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&[0x00, 0x00, 0x05, 0x90]);
    assert_eq!(t1.poll_timeout(), Some(CWT + 4));
    t1.handle_timeout();
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    // A parity error in a block: R-block with code 1, even though the EDC matches.
    t1.handle_received(&[0x00, 0x00]);
    t1.handle_parity_error();
    t1.handle_received(&[0x02, 0x90, 0x00, 0x92]);
    assert_eq!(tx(&mut t1), [0x00, 0x81, 0x00, 0x81]);
    t1.handle_received(&i_block(false, false, &[0x90, 0x00]));
    assert_eq!(t1.poll_event(), Some(T1Event::Complete { len: 2 }));
    // Parity error then silence: reported as parity.
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&[0x00]);
    t1.handle_parity_error();
    t1.handle_timeout();
    // N(R) = 1 now: the card's next I-block has N(S) = 1.
    assert_eq!(tx(&mut t1), [0x00, 0x91, 0x00, 0x91]);
}

#[test]
fn invalid_blocks_are_answered_with_r_blocks() {
    for bad in [
        vec![0x00, 0x00, 0xFF],                      // LEN FF: waits, then times out
        vec![0x00, 0x01, 0x00, 0x01],                // unknown PCB
        vec![0x05, 0x00, 0x00, 0x05],                // NAD not 00
        vec![0x00, 0xC0, 0x00, 0xC0],                // RESYNCH request from the card
        vec![0x00, 0xE2, 0x00, 0xE2],                // unsolicited ABORT response
        vec![0x00, 0x40, 0x02, 0x90, 0x00, 0xD2],    // I-block with the wrong N(S)
        vec![0x00, 0x90, 0x00, 0x90],                // R(N(R)=1) after the last I-block
        vec![0x00, 0x00, 0x02, 0x90, 0x00, 0x92, 0], // trailing byte
    ] {
        let mut t1 = engine(254);
        t1.start(&[0; 4]).unwrap();
        let _ = tx(&mut t1);
        t1.handle_received(&bad);
        if t1.poll_timeout().is_some() {
            t1.handle_timeout();
        }
        assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82], "{bad:02X?}");
        assert_eq!(t1.poll_event(), None);
    }
}

#[test]
fn len_ff_and_overlong_blocks_are_assembled_then_refused() {
    let mut t1 = engine(254);
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    let mut ff = vec![0x00, 0x00, 0xFF];
    ff.extend([0u8; 256]);
    t1.handle_received(&ff);
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    // Before the S(IFS) exchange, IFSD is 32: a 33-byte INF is invalid.
    t1.handle_received(&i_block(false, false, &[0u8; 33]));
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    t1.handle_received(&i_block(false, false, &[0u8; 32]));
    assert_eq!(t1.poll_event(), Some(T1Event::Complete { len: 32 }));
}

#[test]
fn empty_chained_block_and_abort_and_vpp() {
    let mut t1 = engine(254);
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&i_block(false, true, &[]));
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    t1.handle_received(&block(BlockKind::S(SBlock::AbortRequest)));
    assert_eq!(t1.poll_event(), Some(T1Event::Error(T1Error::CardAbort)));
    assert!(t1.is_dead());

    let mut t1 = engine(254);
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_received(&block(BlockKind::S(SBlock::VppError)));
    assert_eq!(t1.poll_event(), Some(T1Event::Error(T1Error::VppError)));
}

#[test]
fn response_longer_than_258_bytes_fails() {
    let mut card = fixed_len_card(254, 257);
    let mut t1 = engine(254);
    let mut line = Line::perfect();
    t1.start_ifsd_negotiation().unwrap();
    assert_eq!(line.run(&mut t1, &mut card, 10), Outcome::Ifsd(254));
    t1.start(&[0; 5]).unwrap();
    assert_eq!(
        line.run(&mut t1, &mut card, 10),
        Outcome::Error(T1Error::ResponseTooLong)
    );
}

#[test]
fn resynch_option() {
    let mut t1 = T1::new(T1Config {
        resynch: true,
        ..config(32)
    })
    .unwrap();
    t1.start(&[0; 4]).unwrap();
    let _ = tx(&mut t1);
    t1.handle_timeout();
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    t1.handle_timeout();
    assert_eq!(tx(&mut t1), [0x00, 0x82, 0x00, 0x82]);
    t1.handle_timeout();
    assert_eq!(tx(&mut t1), [0x00, 0xC0, 0x00, 0xC0]);
    t1.handle_received(&[0x00, 0xE0, 0x00, 0xE0]);
    assert_eq!(
        t1.poll_event(),
        Some(T1Event::Error(T1Error::Resynchronised))
    );
    assert!(t1.is_idle());
    assert_eq!(t1.sequence_numbers(), (false, false));
    assert_eq!(t1.ifsd(), DEFAULT_IFSD);
    // RESYNCH never answered: three attempts, then failure.
    t1.start(&[0; 4]).unwrap();
    for _ in 0..3 {
        let _ = tx(&mut t1);
        t1.handle_timeout();
    }
    for _ in 0..ISO_RESYNCH_ATTEMPTS {
        assert_eq!(tx(&mut t1), [0x00, 0xC0, 0x00, 0xC0]);
        t1.handle_timeout();
    }
    assert_eq!(
        t1.poll_event(),
        Some(T1Event::Error(T1Error::ResynchFailed))
    );
}

#[test]
fn sequence_numbers_persist_across_apdus() {
    let mut card = fixed_len_card(32, 3);
    let mut t1 = engine(32);
    let mut line = Line::perfect();
    let mut expected = (false, false);
    for tag in 0..5 {
        assert_eq!(t1.sequence_numbers(), expected);
        let cmd = command(10, tag);
        t1.start(&cmd).unwrap();
        assert_eq!(
            line.run(&mut t1, &mut card, 10),
            Outcome::Response(response_for(&cmd, 3))
        );
        expected = (!expected.0, !expected.1);
    }
    let ns: Vec<bool> = line.sent.iter().map(|b| b[1] & 0x40 != 0).collect();
    assert_eq!(ns, [false, true, false, true, false]);
}

#[test]
fn api_misuse_and_configuration() {
    let mut t1 = engine(32);
    assert_eq!(t1.start(&[]), Err(StartError::EmptyCommand));
    assert_eq!(
        t1.start(&[0; MAX_COMMAND_LEN + 1]),
        Err(StartError::CommandTooLong {
            len: 262,
            max: MAX_COMMAND_LEN
        })
    );
    assert_eq!(t1.poll_transmit(&mut [0u8; 8]), None, "nothing to send");
    // Spurious inputs while idle are ignored.
    t1.handle_received(&[0x00, 0x90, 0x00, 0x90]);
    t1.handle_timeout();
    t1.handle_parity_error();
    assert_eq!(t1.poll_event(), None);
    t1.start(&[0; 10]).unwrap();
    assert_eq!(t1.poll_transmit(&mut [0u8; 8]), None);
    assert_eq!(
        t1.poll_event(),
        Some(T1Event::Error(T1Error::TransmitBufferTooSmall {
            needed: 14,
            available: 8
        }))
    );
    assert!(
        T1Error::TransmitBufferTooSmall {
            needed: 1,
            available: 0
        }
        .requires_deactivation()
    );
    assert!(!T1Error::Resynchronised.requires_deactivation());

    assert_eq!(
        T1::new(config(15)).err(),
        Some(ConfigError::Ifsc { ifsc: 15, min: 16 })
    );
    assert_eq!(
        T1::new(config(255)).err(),
        Some(ConfigError::Ifsc { ifsc: 255, min: 16 })
    );
    assert!(
        T1::new(T1Config {
            min_ifsc: 1,
            ..config(1)
        })
        .is_ok()
    );
    assert_eq!(
        T1::new(T1Config {
            min_ifsc: 0,
            ..config(32)
        })
        .err(),
        Some(ConfigError::MinIfsc { min_ifsc: 0 })
    );
    assert_eq!(
        T1::new(T1Config {
            ifsd: 0,
            ..config(32)
        })
        .err(),
        Some(ConfigError::Ifsd { ifsd: 0 })
    );
    assert_eq!(
        T1::new(T1Config {
            bwt_etu: 0,
            ..config(32)
        })
        .err(),
        Some(ConfigError::ZeroWaitingTime)
    );
}

#[test]
fn config_from_emv_atr() {
    // emv-facts §5.1 basic T=1 ATR (TD2 = 31: TA3 = 7C, TB3 = 41).
    let atr = Atr::parse(&[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0x7C, 0x41, 0x92]).unwrap();
    let params = atr.emv_check().unwrap();
    let c = T1Config::from_emv_params(&params).unwrap();
    assert_eq!(c.ifsc, atr.ifsc());
    assert_eq!(c.bwt_etu, params.t1_bwt_etu().unwrap());
    assert_eq!(c.cwt_etu, params.t1_cwt_etu().unwrap());
    assert_eq!(c.bwt_tolerance_etu, 960 * u32::from(params.di));
    assert_eq!(c.cwt_tolerance_etu, EMV_CWT_TOLERANCE_ETU);
    assert_eq!((c.ifsd, c.edc, c.max_retries, c.nad), (254, Edc::Lrc, 2, 0));
    assert!(!c.resynch);
    assert!(T1::new(c).is_ok());
    let t0 = Atr::parse(&[0x3B, 0x60, 0x00, 0x00]).unwrap();
    assert_eq!(T1Config::from_emv_params(&t0.emv_check().unwrap()), None);
}

#[test]
fn crc_session() {
    let mut t1 = T1::new(T1Config {
        edc: Edc::Crc,
        ..config(32)
    })
    .unwrap();
    t1.start_ifsd_negotiation().unwrap();
    let req = tx(&mut t1);
    assert_eq!(req.len(), 6);
    let mut buf = [0u8; 8];
    let n = Block {
        nad: 0,
        kind: BlockKind::S(SBlock::IfsResponse(254)),
    }
    .encode(Edc::Crc, &mut buf)
    .unwrap();
    t1.handle_received(&buf[..n]);
    assert_eq!(t1.poll_event(), Some(T1Event::IfsdNegotiated { ifsd: 254 }));
}
