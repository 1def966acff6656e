//! Unit tests of the T=0 engine: the EMV L1 Annex A traces (as quoted in `emv-facts.md`
//! §5.2 and in openemv/emv-utils `tests/emv_ttl_tpdu_test.c` / `emv_ttl_pcsc_test.c`),
//! procedure byte variants, every error, and property tests against a model card.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

const SELECT_PSE: [u8; 20] = [
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];
const PSE_NAME: [u8; 14] = [
    0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44, 0x46, 0x30, 0x31,
];
/// FCI of the PSE (0x26 = 38 bytes), emv-utils `test_tpdu_case_4_normal_data`.
const PSE_FCI: [u8; 38] = [
    0x6F, 0x24, 0x84, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44, 0x46,
    0x30, 0x31, 0xA5, 0x12, 0x88, 0x01, 0x01, 0x5F, 0x2D, 0x08, 0x65, 0x6E, 0x65, 0x73, 0x66, 0x72,
    0x64, 0x65, 0x9F, 0x11, 0x01, 0x01,
];
/// Record 1 of SFI 1 (0x1C = 28 bytes), emv-utils `test_tpdu_case_2_normal_data`.
const RECORD: [u8; 28] = [
    0x70, 0x1A, 0x61, 0x18, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10, 0x50, 0x0A, 0x56,
    0x49, 0x53, 0x41, 0x20, 0x44, 0x45, 0x42, 0x49, 0x54, 0x87, 0x01, 0x01,
];
const READ_RECORD: [u8; 5] = [0x00, 0xB2, 0x01, 0x0C, 0x00];
const EXTERNAL_AUTH: [u8; 9] = [0x00, 0x82, 0x00, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Drains everything the engine wants to send, `chunk` bytes at a time.
fn drain(t0: &mut T0<'_>, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    while let Some(n) = t0.poll_transmit(&mut buf) {
        assert!(n > 0 && n <= chunk);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn feed(t0: &mut T0<'_>, bytes: &[u8], chunk: usize) {
    for part in bytes.chunks(chunk.max(1)) {
        t0.handle_received(part);
    }
}

/// Runs a scripted exchange: each step is (bytes the terminal must send, card's answer).
/// Returns the outcome and the number of TPDUs issued.
fn run_script_with(
    config: T0Config,
    c_apdu: &[u8],
    script: &[(&[u8], &[u8])],
    tx_chunk: usize,
    rx_chunk: usize,
) -> (Result<Vec<u8>, T0Error>, u16) {
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(config, c_apdu, &mut buf).unwrap();
    for (step, (tx, rx)) in script.iter().enumerate() {
        assert_eq!(t0.poll_event(), None, "finished early, before step {step}");
        assert_eq!(
            drain(&mut t0, tx_chunk),
            *tx,
            "terminal bytes at step {step}"
        );
        assert_eq!(t0.poll_timeout(), Some(config.waiting_time_etu));
        feed(&mut t0, rx, rx_chunk);
    }
    assert_eq!(drain(&mut t0, tx_chunk), Vec::<u8>::new());
    let tpdus = t0.tpdu_count();
    let event = t0.poll_event().expect("exchange finished");
    assert_eq!(t0.poll_event(), None, "outcome reported once");
    assert_eq!(t0.poll_timeout(), None);
    let result = match event {
        T0Event::Complete { len } => {
            let r = t0.response().unwrap().to_vec();
            assert_eq!(r.len(), len);
            Ok(r)
        }
        T0Event::Failed(e) => {
            assert_eq!(t0.response(), None);
            Err(e)
        }
    };
    (result, tpdus)
}

/// Runs a script with every combination of small chunk sizes and checks they all agree.
fn run_script(c_apdu: &[u8], script: &[(&[u8], &[u8])]) -> Result<Vec<u8>, T0Error> {
    run_script_cfg(T0Config::default(), c_apdu, script)
}

fn run_script_cfg(
    config: T0Config,
    c_apdu: &[u8],
    script: &[(&[u8], &[u8])],
) -> Result<Vec<u8>, T0Error> {
    let (first, _) = run_script_with(config, c_apdu, script, 258, 258);
    for tx_chunk in [1, 2, 3, 7] {
        for rx_chunk in [1, 2, 3, 5] {
            let (r, _) = run_script_with(config, c_apdu, script, tx_chunk, rx_chunk);
            assert_eq!(r, first, "tx chunk {tx_chunk}, rx chunk {rx_chunk}");
        }
    }
    first
}

// ---------------------------------------------------------------------------------------
// EMV L1 Annex A traces (emv-utils tests/emv_ttl_tpdu_test.c, emv-facts.md §5.2)
// ---------------------------------------------------------------------------------------

#[test]
fn annex_a1_case_1_normal_and_error() {
    let cmd = [0x12, 0x34, 0x56, 0x78];
    let r = run_script(&cmd, &[(&[0x12, 0x34, 0x56, 0x78, 0x00], &[0x90, 0x00])]);
    assert_eq!(r, Ok(vec![0x90, 0x00]));
    let r = run_script(&cmd, &[(&[0x12, 0x34, 0x56, 0x78, 0x00], &[0x6A, 0x81])]);
    assert_eq!(r, Ok(vec![0x6A, 0x81]));
}

#[test]
fn annex_a2_case_2_with_6c() {
    // 00 B2 01 0C 00 -> 6C 1C; 00 B2 01 0C 1C -> B2 + 28 bytes + 90 00.
    let answer = cat(&[&[0xB2], &RECORD, &[0x90, 0x00]]);
    let r = run_script(
        &READ_RECORD,
        &[
            (&READ_RECORD, &[0x6C, 0x1C]),
            (&[0x00, 0xB2, 0x01, 0x0C, 0x1C], &answer),
        ],
    );
    assert_eq!(r, Ok(cat(&[&RECORD, &[0x90, 0x00]])));
}

#[test]
fn annex_a2_case_2_errors() {
    // Early: the card refuses at once.
    let r = run_script(&READ_RECORD, &[(&READ_RECORD, &[0x6A, 0x81])]);
    assert_eq!(r, Ok(vec![0x6A, 0x81]));
    // Late: after 6C 1C, the re-sent header fails.
    let r = run_script(
        &READ_RECORD,
        &[
            (&READ_RECORD, &[0x6C, 0x1C]),
            (&[0x00, 0xB2, 0x01, 0x0C, 0x1C], &[0x65, 0x81]),
        ],
    );
    assert_eq!(r, Ok(vec![0x65, 0x81]));
}

#[test]
fn annex_a3_case_3() {
    // 00 82 00 00 04 -> 82; DE AD BE EF -> 90 00.
    let header = &EXTERNAL_AUTH[..5];
    let data = &EXTERNAL_AUTH[5..];
    let r = run_script(&EXTERNAL_AUTH, &[(header, &[0x82]), (data, &[0x90, 0x00])]);
    assert_eq!(r, Ok(vec![0x90, 0x00]));
    // Early error: no data sent.
    let r = run_script(&EXTERNAL_AUTH, &[(header, &[0x6A, 0x81])]);
    assert_eq!(r, Ok(vec![0x6A, 0x81]));
    // Late error.
    let r = run_script(&EXTERNAL_AUTH, &[(header, &[0x82]), (data, &[0x65, 0x81])]);
    assert_eq!(r, Ok(vec![0x65, 0x81]));
}

#[test]
fn annex_a4_case_4_with_61() {
    // 00 A4 04 00 0E -> A4; 14 bytes -> 61 26; 00 C0 00 00 26 -> C0 + 38 bytes + 90 00.
    let answer = cat(&[&[0xC0], &PSE_FCI, &[0x90, 0x00]]);
    let (r, tpdus) = run_script_with(
        T0Config::default(),
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x61, 0x26]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x26], &answer),
        ],
        258,
        258,
    );
    assert_eq!(r, Ok(cat(&[&PSE_FCI, &[0x90, 0x00]])));
    assert_eq!(tpdus, 2);
}

#[test]
fn annex_a4_case_4_errors() {
    // Early: refused after the header.
    let r = run_script(&SELECT_PSE, &[(&SELECT_PSE[..5], &[0x6A, 0x81])]);
    assert_eq!(r, Ok(vec![0x6A, 0x81]));
    // Early, second exchange: refused after the data.
    let r = run_script(
        &SELECT_PSE,
        &[(&SELECT_PSE[..5], &[0xA4]), (&PSE_NAME, &[0x6A, 0x82])],
    );
    assert_eq!(r, Ok(vec![0x6A, 0x82]));
    // Late: GET RESPONSE fails.
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x61, 0x26]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x26], &[0x65, 0x81]),
        ],
    );
    assert_eq!(r, Ok(vec![0x65, 0x81]));
}

#[test]
fn annex_a5_case_2_with_6c_then_61_chain() {
    // emv-utils' A5 trace lets the card cut a transfer short after an ACK, which a byte
    // level T=0 cannot express; here the card sends the first 13 bytes one at a time
    // (INS xor FF = 3F) and then 61 0F, which is the same exchange in ISO/IEC 7816-3 terms.
    let first13: Vec<u8> = RECORD[..13].iter().flat_map(|&b| [0x3F, b]).collect();
    let rest = cat(&[&[0xC0], &RECORD[13..], &[0x90, 0x00]]);
    let r = run_script(
        &READ_RECORD,
        &[
            (&READ_RECORD, &[0x6C, 0x1C]),
            (&[0x00, 0xB2, 0x01, 0x0C, 0x1C], &[0x61, 0x1C]),
            (
                &[0x00, 0xC0, 0x00, 0x00, 0x1C],
                &cat(&[&first13, &[0x61, 0x0F]]),
            ),
            (&[0x00, 0xC0, 0x00, 0x00, 0x0F], &rest),
        ],
    );
    assert_eq!(r, Ok(cat(&[&RECORD, &[0x90, 0x00]])));
}

#[test]
fn annex_a6_case_4_with_several_61() {
    // GET RESPONSE 26 delivers 18 bytes (one at a time: 3F) and 61 14, then GET RESPONSE 14
    // the last 20. (emv-utils' A6 trace delivers 15 + 23 bytes although 61 14 announces
    // 20; the split is made consistent here.)
    let first18: Vec<u8> = PSE_FCI[..18].iter().flat_map(|&b| [0x3F, b]).collect();
    let rest = cat(&[&[0xC0], &PSE_FCI[18..], &[0x90, 0x00]]);
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x61, 0x26]),
            (
                &[0x00, 0xC0, 0x00, 0x00, 0x26],
                &cat(&[&first18, &[0x61, 0x14]]),
            ),
            (&[0x00, 0xC0, 0x00, 0x00, 0x14], &rest),
        ],
    );
    assert_eq!(r, Ok(cat(&[&PSE_FCI, &[0x90, 0x00]])));
}

#[test]
fn annex_a7_case_4_warning_get_response_00_then_6c() {
    // SELECT -> 62 86 (emv-utils) / 62 83 (emv-facts); 00 C0 00 00 00 -> 6C 26;
    // 00 C0 00 00 26 -> C0 + FCI + 90 00. The R-APDU is FCI + the warning.
    for warning in [[0x62, 0x86], [0x62, 0x83]] {
        let answer = cat(&[&[0xC0], &PSE_FCI, &[0x90, 0x00]]);
        let (r, tpdus) = run_script_with(
            T0Config::default(),
            &SELECT_PSE,
            &[
                (&SELECT_PSE[..5], &[0xA4]),
                (&PSE_NAME, &warning),
                (&[0x00, 0xC0, 0x00, 0x00, 0x00], &[0x6C, 0x26]),
                (&[0x00, 0xC0, 0x00, 0x00, 0x26], &answer),
            ],
            258,
            258,
        );
        assert_eq!(r, Ok(cat(&[&PSE_FCI, &warning])));
        assert_eq!(tpdus, 3);
    }
}

#[test]
fn annex_a7_emv_facts_example_6283_6c1a() {
    // emv-facts §5.2: SELECT -> 6283; 00C0000000 -> 6C1A; 00C000001A -> FCI + 9000.
    let fci: Vec<u8> = (0..0x1A).collect();
    let answer = cat(&[&[0xC0], &fci, &[0x90, 0x00]]);
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x62, 0x83]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x00], &[0x6C, 0x1A]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x1A], &answer),
        ],
    );
    assert_eq!(r, Ok(cat(&[&fci, &[0x62, 0x83]])));
}

#[test]
fn annex_a7_second_example_61_then_warning() {
    // SELECT -> 61 26; GET RESPONSE -> C0 + FCI + 62 86: the warning comes with the data.
    let answer = cat(&[&[0xC0], &PSE_FCI, &[0x62, 0x86]]);
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x61, 0x26]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x26], &answer),
        ],
    );
    assert_eq!(r, Ok(cat(&[&PSE_FCI, &[0x62, 0x86]])));
}

#[test]
fn annex_a7_warnings_that_trigger() {
    for sw in [
        [0x62, 0x00],
        [0x63, 0xC1],
        [0x91, 0x00],
        [0x90, 0x01],
        [0x9F, 0xFF],
    ] {
        let answer = cat(&[&[0xC0], &[0xAB], &[0x90, 0x00]]);
        let r = run_script(
            &SELECT_PSE,
            &[
                (&SELECT_PSE[..5], &[0xA4]),
                (&PSE_NAME, &sw),
                (&[0x00, 0xC0, 0x00, 0x00, 0x00], &[0x6C, 0x01]),
                (&[0x00, 0xC0, 0x00, 0x00, 0x01], &answer),
            ],
        );
        assert_eq!(r, Ok(vec![0xAB, sw[0], sw[1]]), "{sw:02X?}");
    }
    // 9000 and errors do not trigger it.
    for sw in [[0x90, 0x00], [0x6A, 0x82], [0x64, 0x00], [0x69, 0x85]] {
        let r = run_script(
            &SELECT_PSE,
            &[(&SELECT_PSE[..5], &[0xA4]), (&PSE_NAME, &sw)],
        );
        assert_eq!(r, Ok(sw.to_vec()), "{sw:02X?}");
    }
}

#[test]
fn annex_a7_get_response_fails_keeps_warning_without_data() {
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x62, 0x83]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x00], &[0x6A, 0x88]),
        ],
    );
    assert_eq!(r, Ok(vec![0x62, 0x83]));
}

#[test]
fn annex_a7_switched_off_returns_the_warning_alone() {
    let config = T0Config {
        get_response_on_warning: false,
        ..T0Config::default()
    };
    let r = run_script_cfg(
        config,
        &SELECT_PSE,
        &[(&SELECT_PSE[..5], &[0xA4]), (&PSE_NAME, &[0x62, 0x83])],
    );
    assert_eq!(r, Ok(vec![0x62, 0x83]));
}

#[test]
fn warnings_are_not_acted_upon_outside_case_4() {
    // Case 2 and case 3 warnings are final.
    let r = run_script(&READ_RECORD, &[(&READ_RECORD, &[0x62, 0x82])]);
    assert_eq!(r, Ok(vec![0x62, 0x82]));
    let r = run_script(
        &EXTERNAL_AUTH,
        &[
            (&EXTERNAL_AUTH[..5], &[0x82]),
            (&EXTERNAL_AUTH[5..], &[0x63, 0x00]),
        ],
    );
    assert_eq!(r, Ok(vec![0x63, 0x00]));
}

// ---------------------------------------------------------------------------------------
// Procedure bytes
// ---------------------------------------------------------------------------------------

#[test]
fn single_byte_mode_sends_one_byte_per_ins_xor_ff() {
    // INS 82 -> INS xor FF = 7D. Each 7D releases exactly one data byte.
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &EXTERNAL_AUTH, &mut buf).unwrap();
    assert_eq!(drain(&mut t0, 258), EXTERNAL_AUTH[..5]);
    for &b in &EXTERNAL_AUTH[5..] {
        t0.handle_received(&[0x7D]);
        assert_eq!(drain(&mut t0, 258), [b]);
    }
    t0.handle_received(&[0x90, 0x00]);
    assert_eq!(t0.poll_event(), Some(T0Event::Complete { len: 2 }));
}

#[test]
fn single_byte_then_ack_sends_the_rest() {
    let r = run_script(
        &EXTERNAL_AUTH,
        &[
            (&EXTERNAL_AUTH[..5], &[0x7D]),
            (&[0xDE], &[0x60, 0x7D]),
            (&[0xAD], &[0x82]),
            (&[0xBE, 0xEF], &[0x60, 0x60, 0x90, 0x00]),
        ],
    );
    assert_eq!(r, Ok(vec![0x90, 0x00]));
}

#[test]
fn single_byte_mode_receiving() {
    // Case 2, Le = 03, the card sends each byte after B2 xor FF = 4D, NULLs in between.
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x03];
    let r = run_script(
        &cmd,
        &[(
            &cmd,
            &[0x4D, 0x11, 0x60, 0x4D, 0x22, 0xB2, 0x33, 0x60, 0x90, 0x00],
        )],
    );
    assert_eq!(r, Ok(vec![0x11, 0x22, 0x33, 0x90, 0x00]));
}

#[test]
fn single_byte_mode_ended_early_by_status() {
    // The card gives 2 of 3 bytes one at a time, then a status: the data so far is kept.
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x03];
    let r = run_script(&cmd, &[(&cmd, &[0x4D, 0x11, 0x4D, 0x22, 0x62, 0x82])]);
    assert_eq!(r, Ok(vec![0x11, 0x22, 0x62, 0x82]));
}

#[test]
fn null_bytes_anywhere_a_procedure_byte_may_come() {
    let answer = cat(&[&[0x60, 0x60, 0xC0], &PSE_FCI, &[0x60, 0x90, 0x00]]);
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0x60, 0xA4]),
            (&PSE_NAME, &[0x60, 0x60, 0x60, 0x61, 0x26]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x26], &answer),
        ],
    );
    assert_eq!(r, Ok(cat(&[&PSE_FCI, &[0x90, 0x00]])));
}

#[test]
fn null_between_sw1_and_sw2_is_sw2() {
    // After SW1 the next byte is SW2 whatever its value (here 60).
    let r = run_script(&READ_RECORD, &[(&READ_RECORD, &[0x6A, 0x60])]);
    assert_eq!(r, Ok(vec![0x6A, 0x60]));
}

#[test]
fn data_bytes_that_look_like_procedure_bytes_are_data() {
    // After ACK, 60 / 61 / 90 / INS are data.
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x04];
    let r = run_script(&cmd, &[(&cmd, &[0xB2, 0x60, 0x61, 0x90, 0xB2, 0x90, 0x00])]);
    assert_eq!(r, Ok(vec![0x60, 0x61, 0x90, 0xB2, 0x90, 0x00]));
}

#[test]
fn idle_ack_with_nothing_to_transfer_is_tolerated() {
    // Case 1: ACK has nothing to transfer; case 3: ACK after all data.
    let cmd = [0x80, 0xCA, 0x9F, 0x36];
    let r = run_script(
        &cmd,
        &[(&[0x80, 0xCA, 0x9F, 0x36, 0x00], &[0xCA, 0x35, 0x90, 0x00])],
    );
    assert_eq!(r, Ok(vec![0x90, 0x00]));
    let r = run_script(
        &EXTERNAL_AUTH,
        &[
            (&EXTERNAL_AUTH[..5], &[0x82]),
            (&EXTERNAL_AUTH[5..], &[0x82, 0x90, 0x00]),
        ],
    );
    assert_eq!(r, Ok(vec![0x90, 0x00]));
}

#[test]
fn case_2_le_00_receives_256_bytes() {
    let data: Vec<u8> = (0..=255).collect();
    let answer = cat(&[&[0xB2], &data, &[0x90, 0x00]]);
    let r = run_script(&READ_RECORD, &[(&READ_RECORD, &answer)]);
    assert_eq!(r, Ok(cat(&[&data, &[0x90, 0x00]])));
}

#[test]
fn case_2_answered_with_61() {
    let r = run_script(
        &READ_RECORD,
        &[
            (&READ_RECORD, &[0x61, 0x02]),
            (
                &[0x00, 0xC0, 0x00, 0x00, 0x02],
                &[0xC0, 0xAA, 0xBB, 0x90, 0x00],
            ),
        ],
    );
    assert_eq!(r, Ok(vec![0xAA, 0xBB, 0x90, 0x00]));
}

#[test]
fn get_response_6c_resends_get_response() {
    let r = run_script(
        &SELECT_PSE,
        &[
            (&SELECT_PSE[..5], &[0xA4]),
            (&PSE_NAME, &[0x61, 0x05]),
            (&[0x00, 0xC0, 0x00, 0x00, 0x05], &[0x6C, 0x02]),
            (
                &[0x00, 0xC0, 0x00, 0x00, 0x02],
                &[0xC0, 0x01, 0x02, 0x90, 0x00],
            ),
        ],
    );
    assert_eq!(r, Ok(vec![0x01, 0x02, 0x90, 0x00]));
}

#[test]
fn resend_after_6c_discards_data_of_that_tpdu() {
    // The card sends one byte in single-byte mode, then says 6C 02: the re-sent header's
    // data replaces it.
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x03];
    let r = run_script(
        &cmd,
        &[
            (&cmd, &[0x4D, 0xEE, 0x6C, 0x02]),
            (
                &[0x00, 0xB2, 0x01, 0x0C, 0x02],
                &[0xB2, 0x01, 0x02, 0x90, 0x00],
            ),
        ],
    );
    assert_eq!(r, Ok(vec![0x01, 0x02, 0x90, 0x00]));
}

#[test]
fn sixty_one_and_6c_after_case_1_and_3_are_returned() {
    let cmd = [0x12, 0x34, 0x56, 0x78];
    let r = run_script(&cmd, &[(&[0x12, 0x34, 0x56, 0x78, 0x00], &[0x61, 0x10])]);
    assert_eq!(r, Ok(vec![0x61, 0x10]));
    let r = run_script(&cmd, &[(&[0x12, 0x34, 0x56, 0x78, 0x00], &[0x6C, 0x10])]);
    assert_eq!(r, Ok(vec![0x6C, 0x10]));
    let r = run_script(
        &EXTERNAL_AUTH,
        &[
            (&EXTERNAL_AUTH[..5], &[0x82]),
            (&EXTERNAL_AUTH[5..], &[0x61, 0x04]),
        ],
    );
    assert_eq!(r, Ok(vec![0x61, 0x04]));
    // 6Cxx to the case 4 TPDU (it has no Le to correct) is returned too.
    let r = run_script(
        &SELECT_PSE,
        &[(&SELECT_PSE[..5], &[0xA4]), (&PSE_NAME, &[0x6C, 0x10])],
    );
    assert_eq!(r, Ok(vec![0x6C, 0x10]));
}

#[test]
fn get_response_cla_is_configurable() {
    let config = T0Config {
        get_response_cla: 0x80,
        ..T0Config::default()
    };
    let r = run_script_cfg(
        config,
        &READ_RECORD,
        &[
            (&READ_RECORD, &[0x61, 0x01]),
            (&[0x80, 0xC0, 0x00, 0x00, 0x01], &[0xC0, 0x42, 0x90, 0x00]),
        ],
    );
    assert_eq!(r, Ok(vec![0x42, 0x90, 0x00]));
}

#[test]
fn command_with_case_4_le_not_sent() {
    // C-APDU 80 A8 00 00 02 83 00 00 (GPO): the TPDU is 80 A8 00 00 02 83 00, Le dropped.
    let gpo = [0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00];
    assert_eq!(
        ApduCase::classify(&gpo),
        Ok(ApduCase::Case4 { lc: 2, le: 0 })
    );
    let r = run_script(
        &gpo,
        &[
            (&gpo[..5], &[0xA8]),
            (&gpo[5..7], &[0x61, 0x02]),
            (
                &[0x00, 0xC0, 0x00, 0x00, 0x02],
                &[0xC0, 0x80, 0x00, 0x90, 0x00],
            ),
        ],
    );
    assert_eq!(r, Ok(vec![0x80, 0x00, 0x90, 0x00]));
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[test]
fn classify_every_case_and_rejection() {
    assert_eq!(ApduCase::classify(&[0, 0xA4, 0, 0]), Ok(ApduCase::Case1));
    assert_eq!(
        ApduCase::classify(&[0, 0xB2, 1, 0xC, 0]),
        Ok(ApduCase::Case2 { le: 0 })
    );
    assert_eq!(
        ApduCase::classify(&[0, 0x82, 0, 0, 1, 9]),
        Ok(ApduCase::Case3 { lc: 1 })
    );
    assert_eq!(
        ApduCase::classify(&[0, 0x82, 0, 0, 1, 9, 7]),
        Ok(ApduCase::Case4 { lc: 1, le: 7 })
    );
    for len in 0..4 {
        assert_eq!(
            ApduCase::classify(&[0, 0xA4, 0, 0][..len]),
            Err(T0Error::CommandTooShort { len })
        );
    }
    assert_eq!(
        ApduCase::classify(&[0, 0xA4, 0, 0, 0, 0, 1, 0xAA]),
        Err(T0Error::ExtendedLength { len: 8 })
    );
    assert_eq!(
        ApduCase::classify(&[0, 0xA4, 0, 0, 0, 0, 0]),
        Err(T0Error::ExtendedLength { len: 7 })
    );
    assert_eq!(
        ApduCase::classify(&[0, 0xA4, 0, 0, 3, 1]),
        Err(T0Error::LengthMismatch { len: 6, lc: 3 })
    );
    assert_eq!(
        ApduCase::classify(&[0, 0xA4, 0, 0, 1, 1, 2, 3]),
        Err(T0Error::LengthMismatch { len: 8, lc: 1 })
    );
    assert_eq!(
        ApduCase::classify(&[0xFF, 0xA4, 0, 0]),
        Err(T0Error::InvalidCla)
    );
    for ins in [0x60, 0x61, 0x6F, 0x90, 0x9F] {
        assert_eq!(
            ApduCase::classify(&[0, ins, 0, 0]),
            Err(T0Error::InvalidIns { ins })
        );
    }
    // Lc = 255 case 4.
    let mut long = vec![0x00, 0xDA, 0x00, 0x00, 0xFF];
    long.extend(core::iter::repeat_n(0x11, 255));
    long.push(0x00);
    assert_eq!(
        ApduCase::classify(&long),
        Ok(ApduCase::Case4 { lc: 255, le: 0 })
    );
    assert_eq!(ApduCase::Case4 { lc: 255, le: 0 }.p3(), 255);
    assert_eq!(ApduCase::Case2 { le: 0x1C }.p3(), 0x1C);
    assert_eq!(ApduCase::Case1.p3(), 0);
    assert_eq!(ApduCase::Case2 { le: 9 }.lc(), 0);
}

#[test]
fn start_rejects_small_buffer_and_bad_command() {
    let mut one = [0u8; 1];
    assert_eq!(
        T0::start(T0Config::default(), &READ_RECORD, &mut one).err(),
        Some(T0Error::ResponseBufferTooSmall { len: 1 })
    );
    let mut buf = [0u8; 258];
    assert_eq!(
        T0::start(T0Config::default(), &[0, 0x60, 0, 0], &mut buf).err(),
        Some(T0Error::InvalidIns { ins: 0x60 })
    );
}

#[test]
fn case_3_long_data_with_lc_255() {
    let mut cmd = vec![0x00, 0xDA, 0x00, 0x00, 0xFF];
    cmd.extend((0..255u32).map(|i| i as u8));
    let r = run_script(&cmd, &[(&cmd[..5], &[0xDA]), (&cmd[5..], &[0x90, 0x00])]);
    assert_eq!(r, Ok(vec![0x90, 0x00]));
}

fn failing(c_apdu: &[u8], steps: &[(&[u8], &[u8])]) -> T0Error {
    run_script(c_apdu, steps).unwrap_err()
}

#[test]
fn invalid_procedure_byte_after_header() {
    for byte in [0x00, 0x12, 0x3F, 0x5A, 0x70, 0x80, 0xA0, 0xFF] {
        assert_eq!(
            failing(&READ_RECORD, &[(&READ_RECORD, &[byte])]),
            T0Error::UnexpectedProcedureByte {
                byte,
                ins: 0xB2,
                stage: Stage::AfterHeader
            }
        );
    }
}

#[test]
fn invalid_procedure_byte_after_data() {
    assert_eq!(
        failing(
            &EXTERNAL_AUTH,
            &[(&EXTERNAL_AUTH[..5], &[0x7D]), (&[0xDE], &[0x42])]
        ),
        T0Error::UnexpectedProcedureByte {
            byte: 0x42,
            ins: 0x82,
            stage: Stage::AfterData { bytes: 1 }
        }
    );
    // In a GET RESPONSE, the INS is C0.
    assert_eq!(
        failing(
            &READ_RECORD,
            &[
                (&READ_RECORD, &[0x61, 0x01]),
                (&[0, 0xC0, 0, 0, 1], &[0xB2])
            ]
        ),
        T0Error::UnexpectedProcedureByte {
            byte: 0xB2,
            ins: 0xC0,
            stage: Stage::AfterHeader
        }
    );
}

#[test]
fn more_data_than_announced() {
    // Le = 2, the card sends 3 data bytes: the third is read as a procedure byte.
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x02];
    assert_eq!(
        failing(&cmd, &[(&cmd, &[0xB2, 0x01, 0x02, 0x03, 0x90, 0x00])]),
        T0Error::UnexpectedProcedureByte {
            byte: 0x03,
            ins: 0xB2,
            stage: Stage::AfterData { bytes: 2 }
        }
    );
    // Bytes after SW2 in the same delivery.
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &cmd, &mut buf).unwrap();
    let _ = drain(&mut t0, 258);
    t0.handle_received(&[0xB2, 0x01, 0x02, 0x90, 0x00, 0x90]);
    assert_eq!(
        t0.poll_event(),
        Some(T0Event::Failed(T0Error::TrailingByte { byte: 0x90 }))
    );
    // After the outcome was polled, bytes are ignored.
    t0.handle_received(&[0x90]);
    t0.handle_timeout();
    assert_eq!(t0.poll_event(), None);
}

#[test]
fn bytes_after_polled_completion_are_ignored() {
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &READ_RECORD, &mut buf).unwrap();
    let _ = drain(&mut t0, 258);
    t0.handle_received(&[0x6A, 0x82]);
    assert!(t0.is_finished());
    assert_eq!(t0.poll_event(), Some(T0Event::Complete { len: 2 }));
    t0.handle_received(&[0x01, 0x02]);
    assert_eq!(t0.poll_event(), None);
    assert_eq!(t0.response(), Some(&[0x6A, 0x82][..]));
}

#[test]
fn sixty_one_chain_longer_than_256_is_refused() {
    // 61 00 -> 256 bytes, then 61 01: 257 > 256, refused before sending GET RESPONSE.
    let data: Vec<u8> = (0..=255).collect();
    let answer = cat(&[&[0xC0], &data, &[0x61, 0x01]]);
    assert_eq!(
        failing(
            &SELECT_PSE,
            &[
                (&SELECT_PSE[..5], &[0xA4]),
                (&PSE_NAME, &[0x61, 0x00]),
                (&[0x00, 0xC0, 0x00, 0x00, 0x00], &answer),
            ]
        ),
        T0Error::ResponseTooLong { capacity: 256 }
    );
    // 61 80 then 61 81: the second announcement overflows.
    let half: Vec<u8> = (0..0x80).collect();
    assert_eq!(
        failing(
            &READ_RECORD,
            &[
                (&READ_RECORD, &[0x61, 0x80]),
                (
                    &[0, 0xC0, 0, 0, 0x80],
                    &cat(&[&[0xC0], &half, &[0x61, 0x81]])
                ),
            ]
        ),
        T0Error::ResponseTooLong { capacity: 256 }
    );
}

#[test]
fn small_buffer_limits_the_response() {
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x04];
    let mut buf = [0u8; 5];
    let mut t0 = T0::start(T0Config::default(), &cmd, &mut buf).unwrap();
    let _ = drain(&mut t0, 258);
    t0.handle_received(&[0xB2, 1, 2, 3, 4]);
    assert_eq!(
        t0.poll_event(),
        Some(T0Event::Failed(T0Error::ResponseTooLong { capacity: 3 }))
    );
    // A 61xx beyond the capacity fails before the GET RESPONSE.
    let mut buf = [0u8; 5];
    let mut t0 = T0::start(T0Config::default(), &cmd, &mut buf).unwrap();
    let _ = drain(&mut t0, 258);
    t0.handle_received(&[0x61, 0x04]);
    assert_eq!(
        t0.poll_event(),
        Some(T0Event::Failed(T0Error::ResponseTooLong { capacity: 3 }))
    );
    assert_eq!(drain(&mut t0, 258), Vec::<u8>::new());
    // The limit from the config applies too.
    let config = T0Config {
        max_response_data: 1,
        ..T0Config::default()
    };
    assert_eq!(
        run_script_cfg(config, &cmd, &[(&cmd, &[0x6C, 0x02])]),
        Err(T0Error::ResponseTooLong { capacity: 1 })
    );
}

#[test]
fn sixty_one_forever_is_bounded() {
    // The card answers every GET RESPONSE with 61 00 and no data.
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &READ_RECORD, &mut buf).unwrap();
    let mut rounds = 0;
    let event = loop {
        let _ = drain(&mut t0, 258);
        if let Some(e) = t0.poll_event() {
            break e;
        }
        t0.handle_received(&[0x61, 0x00]);
        rounds += 1;
        assert!(rounds <= 1000);
    };
    assert_eq!(
        event,
        T0Event::Failed(T0Error::TooManyTpdus {
            limit: DEFAULT_MAX_TPDUS
        })
    );
    assert_eq!(rounds, usize::from(DEFAULT_MAX_TPDUS));
}

#[test]
fn six_c_loops_are_bounded() {
    // Same length twice: immediate error.
    assert_eq!(
        failing(
            &READ_RECORD,
            &[
                (&READ_RECORD, &[0x6C, 0x10]),
                (&[0, 0xB2, 1, 0x0C, 0x10], &[0x6C, 0x10])
            ]
        ),
        T0Error::WrongLengthRepeated { p3: 0x10 }
    );
    // Alternating lengths: bounded by max_tpdus.
    let config = T0Config {
        max_tpdus: 3,
        ..T0Config::default()
    };
    assert_eq!(
        run_script_cfg(
            config,
            &READ_RECORD,
            &[
                (&READ_RECORD, &[0x6C, 0x10]),
                (&[0, 0xB2, 1, 0x0C, 0x10], &[0x6C, 0x11]),
                (&[0, 0xB2, 1, 0x0C, 0x11], &[0x6C, 0x10]),
            ]
        ),
        Err(T0Error::TooManyTpdus { limit: 3 })
    );
}

#[test]
fn null_bytes_limit_exact() {
    let config = T0Config {
        max_idle_procedure_bytes: 5,
        ..T0Config::default()
    };
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(config, &READ_RECORD, &mut buf).unwrap();
    let _ = drain(&mut t0, 258);
    t0.handle_received(&[0x60; 5]);
    assert_eq!(t0.poll_event(), None);
    assert_eq!(t0.poll_timeout(), Some(config.waiting_time_etu));
    t0.handle_received(&[0x60]);
    assert_eq!(
        t0.poll_event(),
        Some(T0Event::Failed(T0Error::TooManyIdleProcedureBytes {
            limit: 5
        }))
    );
}

#[test]
fn timeouts_name_what_was_awaited() {
    let cmd = [0x00, 0xB2, 0x01, 0x0C, 0x04];
    let cases: [(&[u8], Awaiting); 4] = [
        (&[], Awaiting::ProcedureByte),
        (&[0x60], Awaiting::ProcedureByte),
        (&[0x6A], Awaiting::Sw2 { sw1: 0x6A }),
        (
            &[0xB2, 1, 2],
            Awaiting::Data {
                received: 2,
                expected: 4,
            },
        ),
    ];
    for (bytes, awaiting) in cases {
        let mut buf = [0u8; 258];
        let mut t0 = T0::start(T0Config::default(), &cmd, &mut buf).unwrap();
        // No timeout is armed while the header is pending.
        assert_eq!(t0.poll_timeout(), None);
        t0.handle_timeout();
        assert_eq!(t0.poll_event(), None);
        let _ = drain(&mut t0, 258);
        t0.handle_received(bytes);
        assert_eq!(t0.poll_timeout(), Some(10_080));
        t0.handle_timeout();
        assert_eq!(
            t0.poll_event(),
            Some(T0Event::Failed(T0Error::Timeout {
                awaiting,
                ins: 0xB2
            }))
        );
        assert_eq!(t0.poll_timeout(), None);
    }
}

#[test]
fn byte_while_transmitting_is_an_error() {
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &EXTERNAL_AUTH, &mut buf).unwrap();
    let mut two = [0u8; 2];
    assert_eq!(t0.poll_transmit(&mut two), Some(2));
    t0.handle_received(&[0x90]);
    assert_eq!(
        t0.poll_event(),
        Some(T0Event::Failed(T0Error::ByteWhileTransmitting {
            byte: 0x90
        }))
    );
    assert_eq!(t0.poll_transmit(&mut two), None);
}

#[test]
fn poll_transmit_with_empty_buffer() {
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &READ_RECORD, &mut buf).unwrap();
    assert_eq!(t0.poll_transmit(&mut []), None);
    assert_eq!(drain(&mut t0, 4), READ_RECORD);
    assert_eq!(t0.current_header(), READ_RECORD);
    assert_eq!(t0.apdu_case(), ApduCase::Case2 { le: 0 });
}

#[test]
fn waiting_time_values() {
    assert_eq!(work_waiting_time_etu(10, 1), 9_600);
    assert_eq!(emv_work_waiting_time_etu(10, 1), 10_080);
    assert_eq!(emv_work_waiting_time_etu(10, 4), 40_320);
    assert_eq!(
        emv_work_waiting_time_etu(255, 64),
        960 * 255 * 64 + 480 * 64
    );
    assert_eq!(T0Config::default().waiting_time_etu, 10_080);
    assert_eq!(T0Config::emv(0, 0), T0Config::EMV_DEFAULT);
    assert_eq!(T0Config::emv(10, 2).waiting_time_etu, 20_160);
}

#[test]
fn error_messages() {
    use std::string::ToString;
    let e = T0Error::UnexpectedProcedureByte {
        byte: 0x12,
        ins: 0xA4,
        stage: Stage::AfterHeader,
    };
    assert_eq!(
        e.to_string(),
        "unexpected procedure byte 12 after the header of INS A4: expected 60, A4, 5B, 6X or 9X"
    );
    let e = T0Error::Timeout {
        awaiting: Awaiting::Sw2 { sw1: 0x90 },
        ins: 0xB2,
    };
    assert_eq!(
        e.to_string(),
        "timeout while waiting for SW2 (SW1 = 90) (INS B2): card mute"
    );
    let e = T0Error::Timeout {
        awaiting: Awaiting::Data {
            received: 2,
            expected: 4,
        },
        ins: 0xB2,
    };
    assert!(e.to_string().contains("data byte 3 of 4"));
    assert_eq!(
        T0Error::LengthMismatch { len: 6, lc: 3 }.to_string(),
        "C-APDU of 6 bytes does not match Lc = 03: expected 8 (case 3) or 9 (case 4)"
    );
    assert!(
        T0Error::UnexpectedProcedureByte {
            byte: 1,
            ins: 2,
            stage: Stage::AfterData { bytes: 7 }
        }
        .to_string()
        .contains("after 7 data byte(s)")
    );
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

/// A correct T=0 card (ISO/IEC 7816-3 §10, EMV L1 Annex A behaviour) whose free choices —
/// NULL bytes, ACK or one byte at a time, `6Cxx` or `61xx` for a wrong Le, splitting the
/// response over several `61xx` — come from the test's parameters.
struct ModelCard {
    case: ApduCase,
    cmd_header: [u8; 4],
    cmd_data: Vec<u8>,
    data: Vec<u8>,
    /// Status after the data (or alone).
    sw: [u8; 2],
    /// Case 4: answer the command with this warning first (EMV L1 Annex A7).
    warning: Option<[u8; 2]>,
    nulls: Vec<u8>,
    single: Vec<bool>,
    /// Largest block delivered before `61xx` for the rest.
    split: Option<usize>,
    use_61_for_wrong_le: bool,
    choice: usize,
    sent: usize,
    rx: Vec<u8>,
    /// Data bytes still expected from the terminal, with the header they belong to.
    expecting_data: usize,
    /// Data bytes the last ACK asked the terminal for, not yet received.
    rx_run: usize,
    got_data: Vec<u8>,
    ins: u8,
    out: VecDeque<u8>,
}

impl ModelCard {
    fn next_choice(&mut self) -> (u8, bool) {
        let n = self.nulls[self.choice % self.nulls.len()];
        let s = self.single[self.choice % self.single.len()];
        self.choice += 1;
        (n, s)
    }

    fn procedure(&mut self, byte: u8) {
        let (nulls, _) = self.next_choice();
        for _ in 0..nulls {
            self.out.push_back(NULL);
        }
        self.out.push_back(byte);
    }

    fn status(&mut self, sw: [u8; 2]) {
        self.procedure(sw[0]);
        self.out.push_back(sw[1]);
    }

    /// Sends `n` data bytes from `self.sent` (ACK or one at a time), then the end status.
    fn deliver(&mut self, n: usize, final_sw: [u8; 2]) {
        let block = self.split.map_or(n, |s| s.min(n));
        let partial = block < n;
        let mut i = 0;
        while i < block {
            let (_, single) = self.next_choice();
            if single || partial {
                self.procedure(self.ins ^ 0xFF);
                self.out.push_back(self.data[self.sent]);
                self.sent += 1;
                i += 1;
            } else {
                self.procedure(self.ins);
                for _ in i..block {
                    self.out.push_back(self.data[self.sent]);
                    self.sent += 1;
                }
                i = block;
            }
        }
        let left = self.data.len() - self.sent;
        if left > 0 {
            self.status([0x61, (left & 0xFF) as u8]);
        } else {
            self.status(final_sw);
        }
    }

    fn on_header(&mut self, h: [u8; 5]) {
        self.ins = h[1];
        let p3 = if h[4] == 0 { 256 } else { usize::from(h[4]) };
        if h[1] == INS_GET_RESPONSE && h[..4] == [0x00, 0xC0, 0x00, 0x00] {
            let left = self.data.len() - self.sent;
            if left == 0 {
                self.status([0x6A, 0x88]);
            } else if p3 != left {
                self.status([0x6C, (left & 0xFF) as u8]);
            } else {
                let sw = if self.warning.is_some() {
                    [0x90, 0x00]
                } else {
                    self.sw
                };
                self.deliver(left, sw);
            }
            return;
        }
        assert_eq!(h[..4], self.cmd_header, "unexpected header {h:02X?}");
        match self.case {
            ApduCase::Case1 => {
                assert_eq!(h[4], 0);
                self.status(self.sw);
            }
            ApduCase::Case2 { .. } => {
                if self.data.is_empty() {
                    self.status(self.sw);
                } else if p3 != self.data.len() {
                    let x = (self.data.len() & 0xFF) as u8;
                    if self.use_61_for_wrong_le {
                        self.status([0x61, x]);
                    } else {
                        self.status([0x6C, x]);
                    }
                } else {
                    self.deliver(p3, self.sw);
                }
            }
            ApduCase::Case3 { lc } | ApduCase::Case4 { lc, .. } => {
                assert_eq!(h[4], lc);
                self.expecting_data = usize::from(lc);
                self.ask_for_data();
            }
        }
    }

    fn ask_for_data(&mut self) {
        let (_, single) = self.next_choice();
        self.procedure(if single { self.ins ^ 0xFF } else { self.ins });
        self.rx_run = if single { 1 } else { self.expecting_data };
    }

    fn after_command_data(&mut self) {
        assert_eq!(self.got_data, self.cmd_data);
        match self.case {
            ApduCase::Case4 { .. } if !self.data.is_empty() => {
                if let Some(w) = self.warning {
                    self.status(w);
                } else {
                    self.status([0x61, (self.data.len() & 0xFF) as u8]);
                }
            }
            _ => self.status(self.sw),
        }
    }

    fn receive(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.rx_run > 0 {
                self.got_data.push(b);
                self.rx_run -= 1;
                self.expecting_data -= 1;
                if self.expecting_data == 0 {
                    self.after_command_data();
                } else if self.rx_run == 0 {
                    self.ask_for_data();
                }
                continue;
            }
            self.rx.push(b);
            if self.rx.len() == 5 {
                let h: [u8; 5] = self.rx[..].try_into().unwrap();
                self.rx.clear();
                self.on_header(h);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    c_apdu: Vec<u8>,
    data: Vec<u8>,
    sw: [u8; 2],
    warning: Option<[u8; 2]>,
    nulls: Vec<u8>,
    single: Vec<bool>,
    split: Option<usize>,
    use_61: bool,
    tx_chunk: usize,
    rx_chunks: Vec<usize>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let final_sw = prop_oneof![
        Just([0x90, 0x00]),
        Just([0x6A, 0x82]),
        Just([0x65, 0x81]),
        Just([0x62, 0x83]),
        Just([0x91, 0x00]),
    ];
    (
        0u8..4,
        prop::collection::vec(any::<u8>(), 1..=255),
        prop::collection::vec(any::<u8>(), 0..=256),
        any::<u8>(),
        final_sw,
        prop::option::of(prop_oneof![
            Just([0x62, 0x83]),
            Just([0x63, 0xC2]),
            Just([0x90, 0x01])
        ]),
        prop::collection::vec(0u8..3, 1..8),
        prop::collection::vec(any::<bool>(), 1..8),
        // Blocks of at least 8 bytes: 256 bytes take at most 32 GET RESPONSEs, within the
        // default TPDU bound (a card splitting finer is pathological and refused).
        prop::option::of(8usize..100),
        any::<bool>(),
        1usize..9,
        prop::collection::vec(1usize..50, 1..6),
    )
        .prop_map(
            |(case, cdata, data, le, sw, warning, nulls, single, split, use_61, tx, rx)| {
                let header = [0x00, 0xB2, 0x01, 0x0C];
                let mut c_apdu = header.to_vec();
                let (data, sw, warning) = match case {
                    0 => (Vec::new(), sw, None),
                    1 => {
                        c_apdu.push(le);
                        // Without data, the card answers with a plain status.
                        let sw = if data.is_empty() { [0x6A, 0x83] } else { sw };
                        (data, sw, None)
                    }
                    2 => {
                        c_apdu.push(cdata.len() as u8);
                        c_apdu.extend(&cdata);
                        (Vec::new(), sw, None)
                    }
                    _ => {
                        c_apdu.push(cdata.len() as u8);
                        c_apdu.extend(&cdata);
                        c_apdu.push(0x00);
                        // A case 4 command answered with a status alone must not look like
                        // an Annex A7 warning (the card would then have data to give).
                        if data.is_empty() {
                            let sw = if is_warning(sw[0], sw[1]) {
                                [0x6A, 0x82]
                            } else {
                                sw
                            };
                            (data, sw, None)
                        } else {
                            (data, sw, warning)
                        }
                    }
                };
                Scenario {
                    c_apdu,
                    data,
                    sw,
                    warning,
                    nulls,
                    single,
                    split,
                    use_61,
                    tx_chunk: tx,
                    rx_chunks: rx,
                }
            },
        )
}

fn model_card(s: &Scenario) -> ModelCard {
    let case = ApduCase::classify(&s.c_apdu).unwrap();
    ModelCard {
        case,
        cmd_header: s.c_apdu[..4].try_into().unwrap(),
        cmd_data: s
            .c_apdu
            .get(5..5 + usize::from(case.lc()))
            .unwrap_or(&[])
            .to_vec(),
        data: s.data.clone(),
        sw: s.sw,
        warning: s.warning,
        nulls: s.nulls.clone(),
        single: s.single.clone(),
        split: s.split,
        use_61_for_wrong_le: s.use_61,
        choice: 0,
        sent: 0,
        rx: Vec::new(),
        expecting_data: 0,
        rx_run: 0,
        got_data: Vec::new(),
        ins: 0,
        out: VecDeque::new(),
    }
}

/// Runs the engine against the model card; returns the outcome and the response bytes.
fn run_model(s: &Scenario) -> (T0Event, Vec<u8>) {
    let mut card = model_card(s);
    let mut buf = [0u8; 258];
    let mut t0 = T0::start(T0Config::default(), &s.c_apdu, &mut buf).unwrap();
    let mut tx = vec![0u8; s.tx_chunk];
    let mut k = 0;
    for _ in 0..100_000 {
        while let Some(n) = t0.poll_transmit(&mut tx) {
            card.receive(&tx[..n]);
        }
        if let Some(event) = t0.poll_event() {
            assert!(
                card.out.is_empty(),
                "card had more to say: {:02X?}",
                card.out
            );
            return (event, t0.response().unwrap_or(&[]).to_vec());
        }
        if card.out.is_empty() {
            t0.handle_timeout();
            continue;
        }
        let n = s.rx_chunks[k % s.rx_chunks.len()].min(card.out.len());
        k += 1;
        let chunk: Vec<u8> = card.out.drain(..n).collect();
        t0.handle_received(&chunk);
    }
    panic!("no outcome");
}

/// Arbitrary card behaviour, one step at a time.
#[derive(Debug, Clone)]
enum Action {
    Bytes(Vec<u8>),
    Timeout,
    Transmit(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => prop::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                2 => Just(0x60u8),
                2 => Just(0x61u8),
                2 => Just(0x6Cu8),
                2 => Just(0xB2u8),
                1 => Just(0x4Du8),
                2 => Just(0xC0u8),
                1 => Just(0x3Fu8),
                1 => Just(0x62u8),
                1 => Just(0x90u8),
                1 => Just(0x00u8),
            ],
            0..12
        )
        .prop_map(Action::Bytes),
        1 => Just(Action::Timeout),
        3 => (0usize..8).prop_map(Action::Transmit),
    ]
}

fn any_command() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0x00, 0xB2, 0x01, 0x0C]),
        Just(READ_RECORD.to_vec()),
        Just(vec![0x00, 0xB2, 0x01, 0x0C, 0x03]),
        Just(EXTERNAL_AUTH.to_vec()),
        Just(SELECT_PSE.to_vec()),
    ]
}

fn check_event(t0: &T0<'_>, event: T0Event) {
    match event {
        T0Event::Complete { len } => {
            assert!((2..=258).contains(&len));
            assert_eq!(t0.response().map(<[u8]>::len), Some(len));
        }
        T0Event::Failed(_) => assert_eq!(t0.response(), None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Against a correct card, whatever its free choices and the chunking, the engine
    /// completes with exactly the card's R-APDU.
    #[test]
    fn correct_card_gives_exact_response(s in scenario()) {
        let (event, response) = run_model(&s);
        let mut expected = s.data.clone();
        expected.extend(s.warning.unwrap_or(s.sw));
        prop_assert_eq!(event, T0Event::Complete { len: expected.len() });
        prop_assert_eq!(response, expected);
    }

    /// Arbitrary card bytes, timeouts and transmit polls: no panic, one outcome at most,
    /// consistent response, and once everything is sent a timeout always ends it.
    #[test]
    fn arbitrary_card_never_panics(
        cmd in any_command(),
        actions in prop::collection::vec(action(), 0..40),
        small in any::<bool>(),
    ) {
        let config = if small {
            T0Config { max_tpdus: 3, max_idle_procedure_bytes: 4, ..T0Config::default() }
        } else {
            T0Config::default()
        };
        let mut buf = [0u8; 258];
        let mut t0 = T0::start(config, &cmd, &mut buf).unwrap();
        let mut events = 0;
        for a in &actions {
            match a {
                Action::Bytes(b) => t0.handle_received(b),
                Action::Timeout => t0.handle_timeout(),
                Action::Transmit(n) => {
                    let mut out = vec![0u8; *n];
                    if let Some(k) = t0.poll_transmit(&mut out) {
                        prop_assert!((1..=*n).contains(&k));
                    }
                }
            }
            if let Some(e) = t0.poll_event() {
                check_event(&t0, e);
                events += 1;
            }
        }
        let _ = drain(&mut t0, 258);
        t0.handle_timeout();
        if let Some(e) = t0.poll_event() {
            check_event(&t0, e);
            events += 1;
        }
        prop_assert_eq!(events, 1);
        prop_assert!(t0.is_finished());
        prop_assert_eq!(t0.poll_transmit(&mut [0u8; 8]), None);
        prop_assert_eq!(t0.poll_timeout(), None);
    }

    /// A card that never stops talking (a byte pattern repeated forever) ends the exchange
    /// within a bound fixed by the configuration.
    #[test]
    fn endless_card_is_bounded(
        cmd in any_command(),
        pattern in prop::collection::vec(
            prop_oneof![any::<u8>(), Just(0x60u8), Just(0x61u8), Just(0x6Cu8), Just(0xB2u8),
                        Just(0xC0u8), Just(0x4Du8), Just(0x3Fu8), Just(0x00u8)],
            1..16),
    ) {
        let config = T0Config { max_tpdus: 4, max_idle_procedure_bytes: 16, ..T0Config::default() };
        // Per TPDU at most 256 data bytes, one ACK per data byte and SW1 SW2; plus idle bytes.
        let bound = 16 + 1 + usize::from(config.max_tpdus) * (2 * 256 + 2);
        let mut buf = [0u8; 258];
        let mut t0 = T0::start(config, &cmd, &mut buf).unwrap();
        let mut fed = 0usize;
        let mut i = 0usize;
        let event = loop {
            let _ = drain(&mut t0, 258);
            if let Some(e) = t0.poll_event() {
                break e;
            }
            prop_assert!(fed <= bound, "not finished after {} bytes", fed);
            t0.handle_received(&[pattern[i % pattern.len()]]);
            i += 1;
            fed += 1;
        };
        check_event(&t0, event);
    }
}
