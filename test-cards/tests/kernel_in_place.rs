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

use emv_kernel::contact::machine::{
    Event, OnlineResponse, Outcome, PinEntry, PinKind, TerminalParams, Transaction,
    TransactionInput,
};
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::oda::CapkStore;
use emv_kernel::selection::candidate::Candidate;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Cardholder, Host, HostAnswer, run, with_params};
use emv_test_cards::card::SimChannel;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::IssuerHost;
use emv_test_cards::profile::load::load_str;

/// mc-cda (CDA, CA index 01: 1984 bits) with offline enciphered PIN first.
const PROFILE: &str = r#"
extends = "mc-cda"
name = "in-place"
[app.main.records."2.1"]
"8E" = "000000000000000044031F03"
"#;

struct Person;

impl Cardholder for Person {
    fn choose(&mut self, _: &[Candidate]) -> usize {
        0
    }
    fn confirm(&mut self, _: &Candidate) -> bool {
        true
    }
    fn pin(&mut self, _: PinKind, _: Option<u8>) -> PinEntry {
        pin()
    }
}

fn pin() -> PinEntry {
    PinEntry::Digits {
        digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
        len: 4,
    }
}

/// The issuer host, recording its answer.
struct Recording(IssuerHost, Option<HostAnswer>);

impl Host for Recording {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        let r = self.0.authorise(request).unwrap();
        let a = HostAnswer::Response {
            arc: r.arc,
            issuer_authentication_data: r.issuer_authentication_data,
            scripts: r.scripts.concat(),
        };
        self.1 = Some(a.clone());
        a
    }
}

fn input(un: u8) -> TransactionInput {
    TransactionInput {
        amount: 25_000,
        amount_other: 0,
        transaction_type: 0,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0, 0],
        unpredictable_number: [0xCA, 0xFE, 0xBA, un],
        random_number: 50,
        sequence_counter: 1,
    }
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
    let HostAnswer::Response {
        arc,
        issuer_authentication_data,
        scripts,
    } = answer
    else {
        panic!("the recording went online");
    };
    let mut cmd = [0u8; 261];
    let mut request = [0u8; 512];
    let mut request_len = 0;
    let mut commands = Vec::new();
    let mut next = exchanges.iter();
    for _ in 0..200 {
        while let Some(event) = t.poll_event() {
            match event {
                Event::ChooseApplication => t.choose(0).unwrap(),
                Event::ConfirmApplication { .. } => t.confirm(true).unwrap(),
                Event::TryAgain => {}
                Event::NeedPin { .. } => t.handle_pin(pin()).unwrap(),
                Event::GoOnline => {
                    request_len = t.authorisation_request(&mut request).unwrap();
                    t.handle_online(OnlineResponse::Response {
                        arc: *arc,
                        issuer_authentication_data,
                        scripts,
                    })
                    .unwrap();
                }
                Event::Outcome(outcome) => {
                    return Seen {
                        commands,
                        outcome,
                        tvr: t.tvr().to_bytes(),
                        tsi: t.tsi().to_bytes(),
                        cvm_results: t.cvm_results().to_bytes(),
                        request: request[..request_len].to_vec(),
                        trail: t.trail().iter().map(|e| e.to_string()).collect(),
                    };
                }
            }
        }
        if let Some(n) = t.poll_transmit(&mut cmd).unwrap() {
            commands.push(cmd[..n].to_vec());
            let (c, r) = next.next().expect("the kernel sent more commands");
            if c.as_slice() != &cmd[..n] {
                // Left the recording: answer like a card that does not know
                // the command, and let the outcome tell.
                t.handle_response(&[0x6D, 0x00]).unwrap();
            } else {
                t.handle_response(r).unwrap();
            }
        }
    }
    panic!("no outcome");
}

fn record(config: &TerminalConfig, input: TransactionInput) -> (Exchanges, HostAnswer) {
    let loaded = load_str("in-place.toml", PROFILE, None).unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = Recording(IssuerHost::from_profile(&loaded).unwrap(), None);
    let report = run(config, input, &mut ch, &mut Person, &mut host).unwrap();
    assert_eq!(report.outcome, Outcome::OnlineApproved);
    (report.apdus, host.1.unwrap())
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
