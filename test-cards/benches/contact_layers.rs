//! Per-APDU cost of the contact protocol layers, without the card's own work: a READ RECORD
//! (case 2, 100 data bytes back) and a SELECT (case 4, 14 bytes out, 60 back).
//!
//! - `t0_engine/…`, `t1_engine/…`: the sans-IO engines of `emv-hal` alone, fed the card's
//!   bytes from memory (T=0: procedure bytes, `61xx`/GET RESPONSE for case 4; T=1: one
//!   I-block each way) — what firmware pays per APDU above the UART.
//! - `uart_slot_t0/…`, `uart_slot_t1/…`: `UartContactSlot` driving the UART card model of
//!   `emv-test-cards` (virtual clock, polling `read_ready` one etu at a time) with a card
//!   that answers from a table — the slot, the engines and the model together.
//!
//! `cargo bench -p emv-test-cards --bench contact_layers`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use emv_hal::atr::Edc;
use emv_hal::channel::CardChannel;
use emv_hal::slot::{ContactSlot, SlotConfig, UartContactSlot};
use emv_hal::t0::{T0, T0Config, T0Event};
use emv_hal::t1::{Block, BlockKind, MAX_BLOCK_LEN, T1, T1Config, T1Event};
use emv_test_cards::card::{Card, Reply};
use emv_test_cards::chips::uart_card::{CardConfig, T0_ATR, T1_ATR, UartCard};

const READ_RECORD: [u8; 5] = [0x00, 0xB2, 0x01, 0x0C, 0x00];
const SELECT: [u8; 20] = [
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];

fn answer(command: &[u8]) -> Vec<u8> {
    let n = if command.get(1) == Some(&0xB2) {
        100
    } else {
        60
    };
    let mut r: Vec<u8> = (0..n).map(|i| i as u8).collect();
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

/// A card that answers from a table: no cryptography, no TLV.
struct TableCard;

impl Card for TableCard {
    fn atr(&self) -> Vec<u8> {
        T1_ATR.to_vec()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn transmit(&mut self, command: &[u8]) -> Reply {
        Reply::Response(answer(command))
    }
}

/// The card's T=0 bytes for `command`, TPDU by TPDU.
fn t0_card_bytes(command: &[u8]) -> Vec<Vec<u8>> {
    let r = answer(command);
    let (data, sw) = r.split_at(r.len() - 2);
    if command.len() == 5 {
        // Case 2 with Le = 00: 6Cxx, then ACK + data + SW.
        let mut second = vec![command[1]];
        second.extend_from_slice(data);
        second.extend_from_slice(sw);
        vec![vec![0x6C, data.len() as u8], second]
    } else {
        // Case 4: ACK, (data sent), 61xx, GET RESPONSE: ACK + data + SW.
        let mut last = vec![0xC0];
        last.extend_from_slice(data);
        last.extend_from_slice(sw);
        vec![vec![command[1]], vec![0x61, data.len() as u8], last]
    }
}

fn t0_once(command: &[u8], card: &[Vec<u8>]) -> usize {
    let mut response = [0u8; 258];
    let mut t0 = T0::start(T0Config::EMV_DEFAULT, command, &mut response).unwrap();
    let mut tx = [0u8; 64];
    let mut card = card.iter();
    loop {
        while let Some(n) = t0.poll_transmit(&mut tx) {
            black_box(&tx[..n]);
        }
        if let Some(T0Event::Complete { len }) = t0.poll_event() {
            return len;
        }
        t0.handle_received(card.next().unwrap());
    }
}

fn t1_block(ns: bool, inf: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; MAX_BLOCK_LEN];
    let block = Block {
        nad: 0,
        kind: BlockKind::I {
            ns,
            more: false,
            inf,
        },
    };
    let n = block.encode(Edc::Lrc, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn engines(c: &mut Criterion) {
    let mut g = c.benchmark_group("t0_engine");
    for (name, command) in [("read_record", &READ_RECORD[..]), ("select", &SELECT[..])] {
        let card = t0_card_bytes(command);
        g.bench_function(name, |b| b.iter(|| t0_once(black_box(command), &card)));
    }
    g.finish();

    let mut g = c.benchmark_group("t1_engine");
    for (name, command) in [("read_record", &READ_RECORD[..]), ("select", &SELECT[..])] {
        let replies = [
            t1_block(false, &answer(command)),
            t1_block(true, &answer(command)),
        ];
        let config = T1Config::emv(254, 15_371, 43, 1);
        let mut t1 = T1::new(config).unwrap();
        let mut tx = [0u8; MAX_BLOCK_LEN];
        // IFSD 254 first, as after the ATR.
        t1.start_ifsd_negotiation().unwrap();
        t1.poll_transmit(&mut tx).unwrap();
        t1.handle_received(&[0x00, 0xE1, 0x01, 0xFE, 0x1E]);
        assert!(matches!(
            t1.poll_event(),
            Some(T1Event::IfsdNegotiated { ifsd: 254 })
        ));
        // One exchange per iteration; N(S) alternates as in a session.
        let mut k = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                let reply = &replies[k & 1];
                k += 1;
                t1.start(black_box(command)).unwrap();
                let n = t1.poll_transmit(&mut tx).unwrap();
                black_box(&tx[..n]);
                t1.handle_received(reply);
                assert!(matches!(t1.poll_event(), Some(T1Event::Complete { .. })));
                black_box(t1.response());
            });
        });
    }
    g.finish();
}

fn slots(c: &mut Criterion) {
    for (group, atr) in [("uart_slot_t0", &T0_ATR[..]), ("uart_slot_t1", &T1_ATR[..])] {
        let mut g = c.benchmark_group(group);
        let model = UartCard::new(
            TableCard,
            CardConfig {
                atr: Some(atr.to_vec()),
                processing_etu: 20,
                ..CardConfig::default()
            },
            4_000_000,
        );
        let mut slot = UartContactSlot::new(
            model.uart(),
            model.rst(),
            model.vcc(),
            model.delay(),
            SlotConfig::emv(4_000_000),
        );
        slot.power_up().unwrap();
        let mut response = [0u8; 258];
        for (name, command) in [("read_record", &READ_RECORD[..]), ("select", &SELECT[..])] {
            g.bench_function(name, |b| {
                b.iter(|| slot.exchange(black_box(command), &mut response).unwrap())
            });
        }
        g.finish();
    }
}

criterion_group!(benches, engines, slots);
criterion_main!(benches);
