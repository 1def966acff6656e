//! Kernel CPU time for one full contact transaction, without the simulated
//! card's own work: CDA under the project's 1984-bit test CA, offline
//! enciphered PIN, online authorisation and two GENERATE ACs.
//!
//! The transaction (`emv_test_cards::reference`) is recorded once against
//! the card engine; the benches
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
use emv_kernel::contact::machine::{Outcome, Transaction};
use emv_kernel::crypto::SoftwareCrypto;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Host, HostAnswer, run, with_params};
use emv_test_cards::card::SimChannel;
use emv_test_cards::reference::{self, EntersPin};
use emv_test_cards::replay::ReplayCard;
use emv_test_cards::trace::{Exchange, Trace};

/// Replays the recorded answer.
struct Replayed(HostAnswer);

impl Host for Replayed {
    fn authorise(&mut self, _: &[u8]) -> HostAnswer {
        self.0.clone()
    }
}

fn bench(c: &mut Criterion) {
    let config = TerminalConfig::builtin_default().unwrap();
    let input = reference::input([0xCA, 0xFE, 0xBA, 0xBE]);
    // Record.
    let recording = reference::record(&config, input).unwrap();
    let exchanges = recording.report.apdus;
    let answer = recording.answer;
    let trace = Trace {
        exchanges: exchanges
            .iter()
            .map(|(c, r)| Exchange {
                command: c.clone(),
                response: Some(r.clone()),
                line: 0,
            })
            .collect(),
    };

    // The replay gives the same outcome.
    let mut replay = SimChannel::new(ReplayCard::strict(trace.clone()));
    let again = run(
        &config,
        input,
        &mut replay,
        &mut EntersPin,
        &mut Replayed(answer.clone()),
    )
    .unwrap();
    assert_eq!(again.outcome, Outcome::OnlineApproved);
    assert!(replay.card().unmatched().is_empty());

    // The kernel alone: the state machine driven by a minimal loop that
    // hands it the recorded responses in order (no APDU log, no report).
    with_params(&config, |params| {
        c.bench_function("kernel/contact_transaction_cda1984_encpin_online", |b| {
            b.iter(|| {
                let mut t = Transaction::new(params, input, &SoftwareCrypto, &config);
                let mut request = [0u8; 512];
                let (outcome, _) =
                    reference::drive(&mut t, &exchanges, &answer, &mut request, |_| {}).unwrap();
                assert_eq!(outcome, Outcome::OnlineApproved);
                t
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
                    &mut EntersPin,
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
