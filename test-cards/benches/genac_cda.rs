//! GENERATE AC with CDA on a 1984-bit ICC key, as the simulated card
//! processes it: risk management, the application cryptogram, the
//! transaction data hash and the 1984-bit RSA signature.
//!
//! `cargo bench -p emv-test-cards --bench genac_cda`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use emv_test_cards::card::{Card, Reply};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::profile::load::load_str;

const PROFILE: &str = r#"
extends = "mc-cda"
name = "mc-cda-1984"
[app.main.oda]
ca_index = 1
issuer_key_bits = 1984
icc_key_bits = 1984
"#;

const CDOL1: &str = "000000002500 000000000000 0840 0000000000 0840 261128 00 CAFEBABE 22 0000 0000000000000000 1F0302";

/// Sends a command and checks it succeeded, so a refused command can never
/// pass for a fast one.
fn send(card: &mut EmvCard, cmd: &[u8]) -> Vec<u8> {
    match card.transmit(cmd) {
        Reply::Response(r) => {
            assert_eq!(r[r.len() - 2..], [0x90, 0x00], "command {cmd:02X?} refused");
            r
        }
        other => panic!("{other:?}"),
    }
}

/// Keeps the 16-bit ATC from running out over millions of iterations.
fn reset_counters(card: &mut EmvCard) {
    let risk = &mut card.apps_mut()[0].risk;
    if risk.atc > 60_000 {
        risk.atc = 1;
    }
}

fn bench(c: &mut Criterion) {
    let loaded = load_str("bench", PROFILE, None).unwrap();
    let mut card = EmvCard::build(&loaded).unwrap();
    card.power_on();
    let select = hex::decode("00A4040007F000000999201000").unwrap();
    let gpo = hex::decode("80A8000002830000").unwrap();
    let cdol = hex::decode(CDOL1.replace(' ', "")).unwrap();
    let mut genac = vec![0x80, 0xAE, 0x50, 0x00, cdol.len() as u8];
    genac.extend_from_slice(&cdol);
    genac.push(0x00);
    // Sanity: the card signs (77 template with 9F4B).
    send(&mut card, &select);
    send(&mut card, &gpo);
    let r = send(&mut card, &genac);
    assert_eq!(r[0], 0x77);
    assert!(r.windows(2).any(|w| w == [0x9F, 0x4B]));

    let mut group = c.benchmark_group("card");
    group.bench_function("select_gpo", |b| {
        b.iter(|| {
            reset_counters(&mut card);
            send(&mut card, black_box(&select));
            send(&mut card, black_box(&gpo))
        });
    });
    group.bench_function("select_gpo_genac_cda_1984", |b| {
        b.iter(|| {
            reset_counters(&mut card);
            send(&mut card, black_box(&select));
            send(&mut card, black_box(&gpo));
            let r = send(&mut card, black_box(&genac));
            assert_eq!(r[0], 0x77);
            r
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
