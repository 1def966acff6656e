//! Kernel CPU time for one full contact transaction, without the simulated
//! card's own work: CDA under the project's 1984-bit test CA, offline
//! enciphered PIN, online authorisation and two GENERATE ACs.
//!
//! The transaction is recorded once against the card engine; the benches
//! then replay the recorded responses while the kernel does all of its
//! work: selection, records, certificate recovery and checks, PIN
//! encipherment, CDA verification, the decision phases.
//!
//! - `kernel/…`: the state machine alone, fed the responses in order by a
//!   minimal loop — what firmware pays.
//! - `driver/…`: the blocking driver of `emv-terminal` over a strict replay
//!   card (a lookup, no cryptography), with its host-side bookkeeping: the
//!   parameters built from the configuration, the APDU log, the report.
//!
//! `cargo bench -p emv-test-cards --bench kernel_transaction`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use emv_kernel::contact::machine::{
    Event, OnlineResponse, Outcome, PinEntry, PinKind, Transaction, TransactionInput,
};
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::selection::candidate::Candidate;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Cardholder, Host, HostAnswer, run, with_params};
use emv_test_cards::card::SimChannel;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::IssuerHost;
use emv_test_cards::profile::load::load_str;
use emv_test_cards::replay::ReplayCard;
use emv_test_cards::trace::{Exchange, Trace};

/// mc-cda (CDA, CA index 01: 1984 bits) with offline enciphered PIN first.
const PROFILE: &str = r#"
extends = "mc-cda"
name = "bench"
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
    fn pin(&mut self, kind: PinKind, _: Option<u8>) -> PinEntry {
        assert_eq!(kind, PinKind::OfflineEnciphered);
        PinEntry::Digits {
            digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
            len: 4,
        }
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

/// Replays the recorded answer.
struct Replayed(HostAnswer);

impl Host for Replayed {
    fn authorise(&mut self, _: &[u8]) -> HostAnswer {
        self.0.clone()
    }
}

fn bench(c: &mut Criterion) {
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_str("bench.toml", PROFILE, None).unwrap();
    let input = TransactionInput {
        amount: 25_000,
        amount_other: 0,
        transaction_type: 0,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0, 0],
        unpredictable_number: [0xCA, 0xFE, 0xBA, 0xBE],
        random_number: 50,
        sequence_counter: 1,
    };
    // Record.
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = Recording(IssuerHost::from_profile(&loaded).unwrap(), None);
    let report = run(&config, input, &mut ch, &mut Person, &mut host).unwrap();
    assert_eq!(
        report.outcome,
        Outcome::OnlineApproved,
        "trail {:#?}",
        report.trail
    );
    assert_eq!(report.cvm_results[0] & 0x3F, 0x04, "offline enciphered PIN");
    assert_eq!(report.tvr[0] & 0x04, 0, "CDA verified");
    let genacs = report
        .apdus
        .iter()
        .filter(|(c, _)| c.get(1) == Some(&0xAE))
        .count();
    assert_eq!(genacs, 2);
    let trace = Trace {
        exchanges: report
            .apdus
            .iter()
            .map(|(c, r)| Exchange {
                command: c.clone(),
                response: Some(r.clone()),
                line: 0,
            })
            .collect(),
    };
    let answer = host.1.unwrap();

    // The replay gives the same outcome.
    let mut replay = SimChannel::new(ReplayCard::strict(trace.clone()));
    let again = run(
        &config,
        input,
        &mut replay,
        &mut Person,
        &mut Replayed(answer.clone()),
    )
    .unwrap();
    assert_eq!(again.outcome, Outcome::OnlineApproved);
    assert!(replay.card().unmatched().is_empty());

    // The kernel alone: the state machine driven by a minimal loop that
    // hands it the recorded responses in order (no APDU log, no report).
    let HostAnswer::Response {
        arc,
        issuer_authentication_data,
        scripts,
    } = &answer
    else {
        panic!("the recording went online");
    };
    let exchanges = &trace.exchanges;
    with_params(&config, |params| {
        c.bench_function("kernel/contact_transaction_cda1984_encpin_online", |b| {
            b.iter(|| {
                let mut t = Transaction::new(params, input, &SoftwareCrypto, &config);
                let mut cmd = [0u8; 261];
                let mut request = [0u8; 512];
                let mut next = exchanges.iter();
                loop {
                    while let Some(event) = t.poll_event() {
                        match event {
                            Event::ChooseApplication => t.choose(0).unwrap(),
                            Event::ConfirmApplication { .. } => t.confirm(true).unwrap(),
                            Event::TryAgain => {}
                            Event::NeedPin { kind, tries_left } => {
                                t.handle_pin(Person.pin(kind, tries_left)).unwrap();
                            }
                            Event::GoOnline => {
                                t.authorisation_request(&mut request).unwrap();
                                t.handle_online(OnlineResponse::Response {
                                    arc: *arc,
                                    issuer_authentication_data,
                                    scripts,
                                })
                                .unwrap();
                            }
                            Event::Outcome(outcome) => {
                                assert_eq!(outcome, Outcome::OnlineApproved);
                                return t;
                            }
                        }
                    }
                    if let Some(n) = t.poll_transmit(&mut cmd).unwrap() {
                        let e = next.next().unwrap();
                        assert_eq!(&cmd[..n], e.command.as_slice());
                        t.handle_response(e.response.as_deref().unwrap()).unwrap();
                    }
                }
            });
        });
    });

    // The blocking driver around it: parameters from the configuration,
    // the APDU log with the 61xx/6Cxx transport layer, the report.
    c.bench_function("driver/contact_transaction_cda1984_encpin_online", |b| {
        b.iter_batched(
            || SimChannel::new(ReplayCard::strict(trace.clone())),
            |mut ch| {
                let r = run(
                    &config,
                    input,
                    &mut ch,
                    &mut Person,
                    &mut Replayed(answer.clone()),
                )
                .unwrap();
                assert_eq!(r.outcome, Outcome::OnlineApproved);
                r
            },
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
