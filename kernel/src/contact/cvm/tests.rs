//! Tests of the CVM evaluator: every CVM code and condition, the decision
//! table of the module docs, and a property test over arbitrary lists.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::contact::trail::Trail;
use crate::contact::transaction::TransactionType;
use crate::data::terminal_capabilities::TerminalCapabilities;
use crate::data::terminal_type::TerminalType;

use ActionResult::{Bypassed, Failed, PinPadNotWorking, PinTryLimitExceeded, Success};
use CvmRequest::{NeedOfflineEncipheredPin, NeedOfflinePlaintextPin, NeedOnlinePin};

const EUR: [u8; 2] = [0x09, 0x78];
const USD: [u8; 2] = [0x08, 0x40];

/// A goods purchase of 15.00 EUR at an attended POS (22) with an
/// `E0F8C8` terminal (plaintext PIN, online PIN, signature, enciphered
/// offline PIN, no CVM) and a card supporting cardholder verification.
fn ctx() -> CvmContext {
    CvmContext {
        aip: Aip([0x18, 0x00]),
        capabilities: TerminalCapabilities([0xE0, 0xF8, 0xC8]),
        terminal_type: TerminalType::from_byte(0x22).unwrap(),
        transaction_type: TransactionType::GOODS_AND_SERVICES,
        amount_authorised: 1500,
        amount_other: 0,
        transaction_currency: EUR,
        application_currency: Some(EUR),
    }
}

fn with_caps(byte2: u8) -> CvmContext {
    CvmContext {
        capabilities: TerminalCapabilities([0xE0, byte2, 0xC8]),
        ..ctx()
    }
}

fn list(x: u32, y: u32, rules: &[[u8; 2]]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&x.to_be_bytes());
    v.extend_from_slice(&y.to_be_bytes());
    for r in rules {
        v.extend_from_slice(r);
    }
    v
}

struct Run {
    outcome: CvmOutcome,
    requests: Vec<CvmRequest>,
    trail: Trail<64>,
}

/// Runs to the end, answering the requests with `replies` in order; a
/// request beyond the replies fails the test.
fn run_with(
    ctx: CvmContext,
    value: Option<&[u8]>,
    options: CvmOptions,
    replies: &[ActionResult],
) -> Run {
    let mut e = CvmEvaluator::new(ctx, value, options);
    let mut trail = Trail::<64>::new();
    let mut requests = Vec::new();
    for _ in 0..300 {
        match e.poll(&mut trail) {
            CvmStep::Done(outcome) => {
                assert_eq!(requests.len(), replies.len(), "unused replies");
                return Run {
                    outcome,
                    requests,
                    trail,
                };
            }
            CvmStep::Need(r) => {
                let reply = *replies
                    .get(requests.len())
                    .unwrap_or_else(|| panic!("unexpected request {r:?}"));
                requests.push(r);
                e.provide(reply, &mut trail).unwrap();
            }
        }
    }
    panic!("did not end");
}

fn run(ctx: CvmContext, rules: &[[u8; 2]], replies: &[ActionResult]) -> Run {
    let v = list(1000, 5000, rules);
    run_with(ctx, Some(&v), CvmOptions::DEFAULT, replies)
}

/// Byte 3 of the TVR, the TSI byte 1 and the CVM Results.
fn summary(r: &Run) -> (u8, u8, [u8; 3]) {
    (
        r.outcome.status.tvr.0[2],
        r.outcome.status.tsi.0[0],
        r.outcome.results.0,
    )
}

#[test]
fn aip_without_cardholder_verification_skips() {
    let c = CvmContext {
        aip: Aip([0x08, 0x00]),
        ..ctx()
    };
    let r = run(c, &[[0x01, 0x00]], &[]);
    assert_eq!(r.outcome.verification, Verification::NotPerformed);
    assert_eq!(r.outcome.results.0, [0x3F, 0x00, 0x00]);
    assert_eq!(r.outcome.status, StatusUpdate::NONE);
    assert!(r.requests.is_empty());
}

#[test]
fn missing_empty_or_invalid_list_is_icc_data_missing() {
    let empty = list(0, 0, &[]);
    let odd = [0u8; 11];
    let short = [0u8; 5];
    for value in [None, Some(&empty[..]), Some(&odd[..]), Some(&short[..])] {
        let r = run_with(ctx(), value, CvmOptions::DEFAULT, &[]);
        assert_eq!(r.outcome.verification, Verification::NotPerformed);
        assert_eq!(r.outcome.results.0, [0x3F, 0x00, 0x00]);
        // [M] ICC data missing; TSI not set.
        assert_eq!(r.outcome.status.tvr.0, [0x20, 0, 0, 0, 0]);
        assert_eq!(r.outcome.status.tsi.0, [0, 0]);
        assert!(r.trail.contains_detail(Detail::Tvr(Tvr::ICC_DATA_MISSING)));
    }
}

#[test]
fn no_cvm_required() {
    let r = run(ctx(), &[[0x1F, 0x00]], &[]);
    assert_eq!(r.outcome.verification, Verification::Successful);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x00, 0x02]));
    assert!(!r.outcome.signature_required);
}

#[test]
fn signature() {
    let r = run(ctx(), &[[0x1E, 0x03]], &[]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1E, 0x03, 0x00]));
    assert!(r.outcome.signature_required);
    assert!(r.requests.is_empty());
}

#[test]
fn fail_cvm() {
    let r = run(ctx(), &[[0x00, 0x00], [0x1F, 0x00]], &[]);
    assert_eq!(r.outcome.verification, Verification::Failed);
    assert_eq!(summary(&r), (0x80, 0x40, [0x00, 0x00, 0x01]));
    // With b7 the next rule applies.
    let r = run(ctx(), &[[0x40, 0x00], [0x1F, 0x00]], &[]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x00, 0x02]));
}

#[test]
fn fail_cvm_under_condition_03_follows_the_option() {
    let v = list(0, 0, &[[0x00, 0x03], [0x1F, 0x00]]);
    let r = run_with(ctx(), Some(&v), CvmOptions::DEFAULT, &[]);
    assert_eq!(r.outcome.results.0, [0x00, 0x03, 0x01]);
    let off = CvmOptions {
        fail_cvm_supported: false,
        ..CvmOptions::DEFAULT
    };
    let r = run_with(ctx(), Some(&v), off, &[]);
    assert_eq!(r.outcome.results.0, [0x1F, 0x00, 0x02]);
}

const TYPICAL: [[u8; 2]; 4] = [[0x41, 0x03], [0x42, 0x03], [0x1E, 0x03], [0x1F, 0x03]];

#[test]
fn offline_plaintext_pin_success() {
    let r = run(ctx(), &TYPICAL, &[Success]);
    assert_eq!(r.requests, [NeedOfflinePlaintextPin]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x41, 0x03, 0x02]));
    assert!(!r.outcome.online_pin);
}

#[test]
fn bypass_then_online_pin() {
    let r = run(ctx(), &TYPICAL, &[Bypassed, Success]);
    assert_eq!(r.requests, [NeedOfflinePlaintextPin, NeedOnlinePin]);
    // PIN not entered (08) and online PIN entered (04).
    assert_eq!(summary(&r), (0x0C, 0x40, [0x42, 0x03, 0x00]));
    assert!(r.outcome.online_pin);
    assert_eq!(r.outcome.verification, Verification::Successful);
}

#[test]
fn pin_try_limit_then_online_pin() {
    let r = run(ctx(), &TYPICAL, &[PinTryLimitExceeded, Success]);
    assert_eq!(summary(&r), (0x24, 0x40, [0x42, 0x03, 0x00]));
    assert!(
        r.trail
            .contains_detail(Detail::Tvr(Tvr::PIN_TRY_LIMIT_EXCEEDED))
    );
}

#[test]
fn pin_pad_broken_falls_to_signature() {
    let r = run(ctx(), &TYPICAL, &[PinPadNotWorking, PinPadNotWorking]);
    assert_eq!(summary(&r), (0x10, 0x40, [0x1E, 0x03, 0x00]));
    assert!(r.outcome.signature_required);
    assert!(!r.outcome.online_pin);
}

#[test]
fn wrong_pin_without_b7_fails() {
    let r = run(ctx(), &[[0x01, 0x00], [0x1F, 0x00]], &[Failed]);
    assert_eq!(r.outcome.verification, Verification::Failed);
    assert_eq!(summary(&r), (0x80, 0x40, [0x01, 0x00, 0x01]));
}

#[test]
fn last_rule_failing_with_b7_names_it() {
    // [M] CVM Results name the last failed rule, b7 kept.
    let r = run(ctx(), &[[0x41, 0x00]], &[Failed]);
    assert_eq!(summary(&r), (0x80, 0x40, [0x41, 0x00, 0x01]));
}

#[test]
fn online_pin_try_limit_is_just_a_failure() {
    let r = run(ctx(), &[[0x02, 0x03]], &[PinTryLimitExceeded]);
    assert_eq!(summary(&r), (0x80, 0x40, [0x02, 0x03, 0x01]));
}

#[test]
fn online_pin_bypassed() {
    let r = run(ctx(), &[[0x42, 0x00], [0x1E, 0x00]], &[Bypassed]);
    assert_eq!(summary(&r), (0x08, 0x40, [0x1E, 0x00, 0x00]));
}

#[test]
fn combined_plaintext_pin_and_signature() {
    let r = run(ctx(), &[[0x03, 0x03]], &[Success]);
    assert_eq!(r.requests, [NeedOfflinePlaintextPin]);
    // [M] COMBINED_CVM_RESULT = unknown.
    assert_eq!(summary(&r), (0x00, 0x40, [0x03, 0x03, 0x00]));
    assert!(r.outcome.signature_required);
    // PIN part failed: no signature.
    let r = run(ctx(), &[[0x03, 0x03]], &[Failed]);
    assert_eq!(summary(&r), (0x80, 0x40, [0x03, 0x03, 0x01]));
    assert!(!r.outcome.signature_required);
}

#[test]
fn enciphered_offline_pin() {
    let r = run(ctx(), &[[0x44, 0x03], [0x1F, 0x03]], &[Success]);
    assert_eq!(r.requests, [NeedOfflineEncipheredPin]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x44, 0x03, 0x02]));
    let r = run(ctx(), &[[0x05, 0x00]], &[Success]);
    assert_eq!(r.requests, [NeedOfflineEncipheredPin]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x05, 0x00, 0x00]));
    assert!(r.outcome.signature_required);
}

#[test]
fn unrecognised_cvm() {
    // Payment-system code 20, always, no b7.
    let r = run(ctx(), &[[0x20, 0x00], [0x1F, 0x00]], &[]);
    assert_eq!(summary(&r), (0xC0, 0x40, [0x20, 0x00, 0x01]));
    // With b7: unrecognised is set, the next rule succeeds.
    let r = run(ctx(), &[[0x60, 0x00], [0x1F, 0x00]], &[]);
    assert_eq!(summary(&r), (0x40, 0x40, [0x1F, 0x00, 0x02]));
    // Issuer code 31 and RFU 10 likewise; 3F is valid only in results.
    for code in [0x31, 0x10, 0x3F] {
        let r = run(ctx(), &[[code, 0x00]], &[]);
        assert_eq!(summary(&r), (0xC0, 0x40, [code, 0x00, 0x01]), "{code:02X}");
    }
}

#[test]
fn unrecognised_under_condition_03_is_skipped() {
    let r = run(ctx(), &[[0x20, 0x03], [0x1F, 0x03]], &[]);
    // [M] no "unrecognised CVM" bit.
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x03, 0x02]));
}

#[test]
fn biometric_never_supported() {
    let r = run(ctx(), &[[0x46, 0x00], [0x1F, 0x00]], &[]);
    // Recognised, not supported, not PIN: no TVR bit of its own.
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x00, 0x02]));
    let r = run(ctx(), &[[0x07, 0x03], [0x1E, 0x03]], &[]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1E, 0x03, 0x00]));
}

#[test]
fn unsupported_pin_sets_pin_pad_bit() {
    // Terminal: signature and no CVM only (28).
    let c = with_caps(0x28);
    let r = run(c, &[[0x41, 0x00], [0x1E, 0x00]], &[]);
    assert_eq!(summary(&r), (0x10, 0x40, [0x1E, 0x00, 0x00]));
    let r = run(c, &[[0x01, 0x00]], &[]);
    assert_eq!(summary(&r), (0x90, 0x40, [0x01, 0x00, 0x01]));
    // Under condition 03 the same rule is only skipped.
    let r = run(c, &[[0x01, 0x03], [0x1F, 0x03]], &[]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x03, 0x02]));
    // Unsupported signature: failed, no PIN pad bit.
    let r = run(with_caps(0x08), &[[0x1E, 0x00]], &[]);
    assert_eq!(summary(&r), (0x80, 0x40, [0x1E, 0x00, 0x01]));
}

#[test]
fn no_rule_applies() {
    // Plaintext PIN only terminal; every rule needs something else under 03.
    let r = run(with_caps(0x80), &[[0x1E, 0x03], [0x1F, 0x03]], &[]);
    assert_eq!(r.outcome.verification, Verification::Failed);
    assert_eq!(summary(&r), (0x80, 0x40, [0x3F, 0x00, 0x01]));
}

#[test]
fn conditions_not_understood_are_skipped() {
    for cond in [0x0A, 0x7F, 0x80, 0xFF] {
        let r = run(ctx(), &[[0x1F, cond], [0x1E, 0x03]], &[]);
        assert_eq!(summary(&r), (0x00, 0x40, [0x1E, 0x03, 0x00]), "{cond:02X}");
    }
}

#[test]
fn amount_conditions_x_1000_y_5000() {
    let rules = [[0x41, 0x06], [0x42, 0x07], [0x1F, 0x00]];
    let at = |amount, currency| CvmContext {
        amount_authorised: amount,
        transaction_currency: currency,
        ..ctx()
    };
    assert_eq!(
        run(at(500, EUR), &rules, &[Success]).requests,
        [NeedOfflinePlaintextPin]
    );
    assert_eq!(
        run(at(1500, EUR), &rules, &[Success]).requests,
        [NeedOnlinePin]
    );
    // Exactly X: neither under nor over.
    let r = run(at(1000, EUR), &rules, &[]);
    assert_eq!(r.outcome.results.0, [0x1F, 0x00, 0x02]);
    // Another currency: neither.
    let r = run(at(500, USD), &rules, &[]);
    assert_eq!(r.outcome.results.0, [0x1F, 0x00, 0x02]);
    // Y: under Y 08, over Y 09.
    let rules = [[0x1E, 0x09], [0x1F, 0x08]];
    assert_eq!(
        run(at(5001, EUR), &rules, &[]).outcome.results.0,
        [0x1E, 0x09, 0x00]
    );
    assert_eq!(
        run(at(4999, EUR), &rules, &[]).outcome.results.0,
        [0x1F, 0x08, 0x02]
    );
    // 5000: neither, nothing applies.
    assert_eq!(
        run(at(5000, EUR), &rules, &[]).outcome.results.0,
        [0x3F, 0x00, 0x01]
    );
}

#[test]
fn transaction_kind_conditions() {
    let atm_cash = CvmContext {
        terminal_type: TerminalType::from_byte(0x14).unwrap(),
        transaction_type: TransactionType::CASH,
        ..ctx()
    };
    let teller_cash = CvmContext {
        terminal_type: TerminalType::from_byte(0x11).unwrap(),
        transaction_type: TransactionType::CASH,
        ..ctx()
    };
    let cashback = CvmContext {
        transaction_type: TransactionType::CASHBACK,
        amount_other: 500,
        ..ctx()
    };
    // 01 unattended cash → online PIN; else no CVM.
    let rules = [[0x02, 0x01], [0x1F, 0x00]];
    assert_eq!(run(atm_cash, &rules, &[Success]).requests, [NeedOnlinePin]);
    assert_eq!(
        run(ctx(), &rules, &[]).outcome.results.0,
        [0x1F, 0x00, 0x02]
    );
    assert_eq!(
        run(teller_cash, &rules, &[]).outcome.results.0,
        [0x1F, 0x00, 0x02]
    );
    // 04 manual cash → plaintext PIN.
    let rules = [[0x01, 0x04], [0x1F, 0x00]];
    assert_eq!(
        run(teller_cash, &rules, &[Success]).requests,
        [NeedOfflinePlaintextPin]
    );
    assert_eq!(
        run(atm_cash, &rules, &[]).outcome.results.0,
        [0x1F, 0x00, 0x02]
    );
    // 05 purchase with cashback → signature.
    let rules = [[0x1E, 0x05], [0x1F, 0x00]];
    assert_eq!(
        run(cashback, &rules, &[]).outcome.results.0,
        [0x1E, 0x05, 0x00]
    );
    assert_eq!(
        run(ctx(), &rules, &[]).outcome.results.0,
        [0x1F, 0x00, 0x02]
    );
    // 02 neither cash nor cashback → signature for goods only.
    let rules = [[0x1E, 0x02], [0x1F, 0x00]];
    assert_eq!(
        run(ctx(), &rules, &[]).outcome.results.0,
        [0x1E, 0x02, 0x00]
    );
    for c in [atm_cash, teller_cash, cashback] {
        assert_eq!(run(c, &rules, &[]).outcome.results.0, [0x1F, 0x00, 0x02]);
    }
}

#[test]
fn subsequent_bypass_option() {
    let rules = [[0x41, 0x03], [0x44, 0x03], [0x42, 0x03], [0x1E, 0x03]];
    let v = list(0, 0, &rules);
    let opts = CvmOptions {
        subsequent_pin_bypass: true,
        ..CvmOptions::DEFAULT
    };
    let r = run_with(ctx(), Some(&v), opts, &[Bypassed]);
    assert_eq!(r.requests, [NeedOfflinePlaintextPin]);
    assert_eq!(summary(&r), (0x08, 0x40, [0x1E, 0x03, 0x00]));
    // Without the option the cardholder is asked each time.
    let r = run_with(
        ctx(),
        Some(&v),
        CvmOptions::DEFAULT,
        &[Bypassed, Bypassed, Bypassed],
    );
    assert_eq!(
        r.requests,
        [
            NeedOfflinePlaintextPin,
            NeedOfflineEncipheredPin,
            NeedOnlinePin
        ]
    );
    assert_eq!(summary(&r), (0x08, 0x40, [0x1E, 0x03, 0x00]));
}

#[test]
fn rfu_b8_of_the_rule_is_ignored() {
    let r = run(ctx(), &[[0x9F, 0x00]], &[]);
    assert_eq!(summary(&r), (0x00, 0x40, [0x1F, 0x00, 0x02]));
}

#[test]
fn results_byte1_keeps_b7() {
    // [M] RESULTS_KEEP_APPLY_NEXT_BIT.
    let r = run(ctx(), &[[0x5E, 0x03]], &[]);
    assert_eq!(r.outcome.results.0, [0x5E, 0x03, 0x00]);
}

#[test]
fn polling_is_idempotent_and_provide_needs_a_request() {
    let v = list(0, 0, &TYPICAL);
    let mut e = CvmEvaluator::new(ctx(), Some(&v), CvmOptions::DEFAULT);
    let mut t = Trail::<64>::new();
    assert_eq!(e.provide(Success, &mut t), Err(CvmError::NoPendingRequest));
    assert_eq!(e.pending(), None);
    assert_eq!(e.poll(&mut t), CvmStep::Need(NeedOfflinePlaintextPin));
    let n = t.len();
    assert_eq!(e.poll(&mut t), CvmStep::Need(NeedOfflinePlaintextPin));
    assert_eq!(t.len(), n, "a second poll records nothing");
    assert_eq!(e.pending(), Some(NeedOfflinePlaintextPin));
    e.provide(Success, &mut t).unwrap();
    assert_eq!(e.pending(), None);
    let CvmStep::Done(o) = e.poll(&mut t) else {
        panic!("not done")
    };
    assert_eq!(e.poll(&mut t), CvmStep::Done(o));
    assert_eq!(e.provide(Success, &mut t), Err(CvmError::NoPendingRequest));
}

#[test]
fn run_helper_drives_to_the_end() {
    let v = list(0, 0, &TYPICAL);
    let mut asked = Vec::new();
    let o = CvmEvaluator::run(
        ctx(),
        Some(&v),
        CvmOptions::DEFAULT,
        |r| {
            asked.push(r);
            PinPadNotWorking
        },
        &mut NoTrailForTests,
    );
    assert_eq!(asked, [NeedOfflinePlaintextPin, NeedOnlinePin]);
    assert_eq!(o.results.0, [0x1E, 0x03, 0x00]);
}

/// A sink counting entries, to check `run` accepts any sink.
struct NoTrailForTests;
impl TrailSink for NoTrailForTests {
    fn record(&mut self, _entry: TrailEntry) {}
}

#[test]
fn trail_explains_each_bit() {
    let r = run(ctx(), &TYPICAL, &[Bypassed, PinPadNotWorking]);
    let t = &r.trail;
    assert!(t.contains_detail(Detail::Tvr(Tvr::PIN_NOT_ENTERED)));
    assert!(t.contains_detail(Detail::Tvr(Tvr::PIN_PAD_NOT_PRESENT_OR_NOT_WORKING)));
    assert!(t.contains_detail(Detail::Tsi(Tsi::CARDHOLDER_VERIFICATION_PERFORMED)));
    assert!(t.contains_detail(Detail::Rule {
        index: 0,
        rule: [0x41, 0x03]
    }));
    assert!(t.contains_detail(Detail::CvmResults([0x1E, 0x03, 0x00])));
    assert!(t.iter().all(|e| e.phase == Phase::CardholderVerification));
}

#[test]
fn longest_list_of_failing_rules_ends() {
    let rules = [[0x40u8, 0x00]; 122];
    let r = run(ctx(), &rules, &[]);
    assert_eq!(summary(&r), (0x80, 0x40, [0x40, 0x00, 0x01]));
    // 123 rules do not fit the 252-byte list: invalid, treated as absent.
    let v = list(0, 0, &[[0x1F, 0x00]; 123]);
    let r = run_with(ctx(), Some(&v), CvmOptions::DEFAULT, &[]);
    assert_eq!(r.outcome.results.0, [0x3F, 0x00, 0x00]);
}

/// Appendix B item 2: the per-rule decision table of the module docs, one
/// rule at a time with nothing after it (no b7), on terminal `E0F8C8`
/// unless noted. Columns: rule, capability byte 2, TVR byte 3, CVM
/// Results, request made.
#[test]
fn decision_table() {
    type Row = ([u8; 2], u8, u8, [u8; 3], Option<CvmRequest>);
    let rows: [Row; 14] = [
        // Condition not understood: skipped, nothing applied.
        ([0x1F, 0x0A], 0xF8, 0x80, [0x3F, 0x00, 0x01], None),
        // 03 + unrecognised: skipped [M].
        ([0x25, 0x03], 0xF8, 0x80, [0x3F, 0x00, 0x01], None),
        // 03 + recognised but unsupported: skipped.
        ([0x1E, 0x03], 0x80, 0x80, [0x3F, 0x00, 0x01], None),
        // Condition not satisfied (unattended cash at a POS).
        ([0x1F, 0x01], 0xF8, 0x80, [0x3F, 0x00, 0x01], None),
        // Satisfied + unrecognised: unrecognised CVM.
        ([0x25, 0x00], 0xF8, 0xC0, [0x25, 0x00, 0x01], None),
        // Satisfied + unsupported PIN: PIN pad bit [M].
        ([0x02, 0x00], 0xB8, 0x90, [0x02, 0x00, 0x01], None),
        // Satisfied + unsupported non-PIN.
        ([0x1F, 0x00], 0xF0, 0x80, [0x1F, 0x00, 0x01], None),
        // Fail CVM.
        ([0x00, 0x00], 0xF8, 0x80, [0x00, 0x00, 0x01], None),
        // No CVM required.
        ([0x1F, 0x00], 0xF8, 0x00, [0x1F, 0x00, 0x02], None),
        // Signature.
        ([0x1E, 0x00], 0xF8, 0x00, [0x1E, 0x00, 0x00], None),
        // PIN CVMs, answered with Success.
        (
            [0x01, 0x00],
            0xF8,
            0x00,
            [0x01, 0x00, 0x02],
            Some(NeedOfflinePlaintextPin),
        ),
        (
            [0x03, 0x00],
            0xF8,
            0x00,
            [0x03, 0x00, 0x00],
            Some(NeedOfflinePlaintextPin),
        ),
        (
            [0x04, 0x00],
            0xF8,
            0x00,
            [0x04, 0x00, 0x02],
            Some(NeedOfflineEncipheredPin),
        ),
        (
            [0x02, 0x00],
            0xF8,
            0x04,
            [0x02, 0x00, 0x00],
            Some(NeedOnlinePin),
        ),
    ];
    for (rule, caps, tvr3, results, request) in rows {
        let replies: &[ActionResult] = if request.is_some() { &[Success] } else { &[] };
        let r = run(with_caps(caps), &[rule], replies);
        assert_eq!(
            r.requests,
            request.into_iter().collect::<Vec<_>>(),
            "{rule:02X?}"
        );
        assert_eq!(
            summary(&r),
            (tvr3, 0x40, results),
            "{rule:02X?} caps {caps:02X}"
        );
    }
}

fn arb_ctx() -> impl Strategy<Value = CvmContext> {
    (
        any::<[u8; 2]>(),
        any::<[u8; 3]>(),
        prop::sample::select(
            &[
                0x11u8, 0x12, 0x13, 0x14, 0x15, 0x16, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x34,
                0x35, 0x36,
            ][..],
        ),
        prop::sample::select(&[0x00u8, 0x01, 0x09, 0x20, 0x30][..]),
        any::<u64>(),
        prop::sample::select(&[0u64, 1, 1000][..]),
        any::<bool>(),
        any::<Option<bool>>(),
    )
        .prop_map(|(aip, caps, tt, ty, amount, other, usd, app)| CvmContext {
            aip: Aip(aip),
            capabilities: TerminalCapabilities(caps),
            terminal_type: TerminalType::from_byte(tt).unwrap(),
            transaction_type: TransactionType(ty),
            amount_authorised: amount % 10_000,
            amount_other: other,
            transaction_currency: if usd { USD } else { EUR },
            application_currency: app.map(|u| if u { USD } else { EUR }),
        })
}

fn arb_reply() -> impl Strategy<Value = ActionResult> {
    prop::sample::select(
        &[
            Success,
            Failed,
            PinTryLimitExceeded,
            PinPadNotWorking,
            Bypassed,
        ][..],
    )
}

proptest! {
    #[test]
    fn never_panics_and_ends_consistently(
        c in arb_ctx(),
        value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..260)),
        small_rules in proptest::collection::vec((any::<u8>(), 0u8..12), 0..10),
        use_small in any::<bool>(),
        replies in proptest::collection::vec(arb_reply(), 0..130),
        bypass in any::<bool>(),
    ) {
        // Either fully arbitrary bytes or a well-formed list of rules with
        // mostly known conditions (to reach the deep branches).
        let built = list(1000, 5000, &small_rules.iter().map(|&(m, c)| [m, c]).collect::<Vec<_>>());
        let value = if use_small { Some(built) } else { value };
        let opts = CvmOptions { subsequent_pin_bypass: bypass, ..CvmOptions::DEFAULT };
        let mut e = CvmEvaluator::new(c, value.as_deref(), opts);
        let mut t = Trail::<16>::new();
        let mut asked = 0usize;
        let outcome = loop {
            match e.poll(&mut t) {
                CvmStep::Done(o) => break o,
                CvmStep::Need(_) => {
                    let reply = replies.get(asked).copied().unwrap_or(Failed);
                    asked += 1;
                    prop_assert!(asked <= 122, "more requests than rules");
                    prop_assert!(e.provide(reply, &mut t).is_ok());
                }
            }
        };
        let tvr = outcome.status.tvr.0;
        let tsi = outcome.status.tsi.0;
        // Only TVR byte 3 bits b8–b3 and byte 1 "ICC data missing".
        prop_assert_eq!(tvr[0] & !0x20, 0);
        prop_assert_eq!(tvr[1] | tvr[3] | tvr[4], 0);
        prop_assert_eq!(tvr[2] & 0x03, 0);
        prop_assert_eq!(tsi[0] & !0x40, 0);
        prop_assert_eq!(tsi[1], 0);
        let not_ok = outcome.status.tvr.contains(Tvr::CARDHOLDER_VERIFICATION_NOT_SUCCESSFUL);
        match outcome.verification {
            Verification::NotPerformed => {
                prop_assert_eq!(outcome.results.0, [0x3F, 0x00, 0x00]);
                prop_assert_eq!(tsi, [0, 0]);
                prop_assert_eq!(tvr[2], 0);
                prop_assert_eq!(asked, 0);
            }
            Verification::Successful => {
                prop_assert!(!not_ok);
                prop_assert!(matches!(outcome.results.0[2], 0x00 | 0x02));
                prop_assert_eq!(tsi[0], 0x40);
                prop_assert_eq!(tvr[0], 0);
            }
            Verification::Failed => {
                prop_assert!(not_ok);
                prop_assert_eq!(outcome.results.0[2], 0x01);
                prop_assert_eq!(tsi[0], 0x40);
                prop_assert!(!outcome.signature_required);
                prop_assert!(!outcome.online_pin);
            }
        }
        prop_assert_eq!(outcome.online_pin, outcome.status.tvr.contains(Tvr::ONLINE_CVM_CAPTURED));
        prop_assert_eq!(e.provide(Success, &mut t), Err(CvmError::NoPendingRequest));
    }
}
