//! The in-place ways to get a transaction — `Transaction::init` into a
//! `MaybeUninit` slot and `Transaction::reset` of a used one — behave
//! exactly as `Transaction::new`: the same commands, outcome, TVR, TSI, CVM
//! Results, authorisation request and decision trail over a recorded full
//! transaction (CDA under the 1984-bit test CA, offline enciphered PIN,
//! online approval, two GENERATE ACs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::mem::MaybeUninit;

use emv_kernel::contact::machine::{Event, Outcome, TerminalParams, Transaction, TransactionInput};
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::oda::CapkStore;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{HostAnswer, with_params};
use emv_test_cards::reference;

fn input(un: u8) -> TransactionInput {
    reference::input([0xCA, 0xFE, 0xBA, un])
}

/// The recorded exchanges: command, response.
type Exchanges = Vec<(Vec<u8>, Vec<u8>)>;

/// What a run leaves behind.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    commands: Vec<Vec<u8>>,
    outcome: Outcome,
    tvr: [u8; 5],
    tsi: [u8; 2],
    cvm_results: [u8; 3],
    request: Vec<u8>,
    trail: Vec<String>,
}

/// Drives `t` over the recorded responses (in order) to its outcome.
fn replay<P: emv_kernel::crypto::CryptoProvider, S: CapkStore>(
    t: &mut Transaction<'_, P, S>,
    exchanges: &[(Vec<u8>, Vec<u8>)],
    answer: &HostAnswer,
) -> Seen {
    let mut request = [0u8; 512];
    let mut commands = Vec::new();
    let (outcome, request_len) = reference::drive(t, exchanges, answer, &mut request, |c| {
        commands.push(c.to_vec())
    })
    .unwrap();
    Seen {
        commands,
        outcome,
        tvr: t.tvr().to_bytes(),
        tsi: t.tsi().to_bytes(),
        cvm_results: t.cvm_results().to_bytes(),
        request: request[..request_len].to_vec(),
        trail: t.trail().iter().map(|e| e.to_string()).collect(),
    }
}

fn record(config: &TerminalConfig, input: TransactionInput) -> (Exchanges, HostAnswer) {
    let r = reference::record(config, input).unwrap();
    (r.report.apdus, r.answer)
}

#[test]
fn init_and_reset_run_as_new_does() {
    let config = TerminalConfig::builtin_default().unwrap();
    let (first, first_answer) = record(&config, input(0xBE));
    let (second, second_answer) = record(&config, input(0x01));
    with_params(&config, |params: TerminalParams<'_>| {
        let mut by_value = Transaction::new(params, input(0xBE), &SoftwareCrypto, &config);
        let expected = replay(&mut by_value, &first, &first_answer);
        assert_eq!(expected.outcome, Outcome::OnlineApproved);
        assert_eq!(expected.commands.len(), first.len());
        assert!(by_value.candidates().is_empty(), "selection memory reused");

        let mut slot = MaybeUninit::uninit();
        let t = Transaction::init(&mut slot, params, input(0xBE), &SoftwareCrypto, &config);
        assert_eq!(replay(t, &first, &first_answer), expected);

        // The next transaction in the same place, after a finished one.
        let mut fresh = Transaction::new(params, input(0x01), &SoftwareCrypto, &config);
        let expected_second = replay(&mut fresh, &second, &second_answer);
        assert_eq!(expected_second.outcome, Outcome::OnlineApproved);
        t.reset(input(0x01));
        assert_eq!(replay(t, &second, &second_answer), expected_second);

        // And after one abandoned halfway (card data read, PIN asked for).
        t.reset(input(0xBE));
        let mut cmd = [0u8; 261];
        let mut next = first.iter();
        'half: for _ in 0..50 {
            while let Some(event) = t.poll_event() {
                match event {
                    Event::ChooseApplication => t.choose(0).unwrap(),
                    Event::ConfirmApplication { .. } => t.confirm(true).unwrap(),
                    Event::NeedPin { .. } => break 'half,
                    _ => {}
                }
            }
            if let Some(_n) = t.poll_transmit(&mut cmd).unwrap() {
                t.handle_response(&next.next().unwrap().1).unwrap();
            }
        }
        t.reset(input(0x01));
        assert_eq!(replay(t, &second, &second_answer), expected_second);
    });
}
