//! Per-APDU cost of each contactless layer, one SELECT PPSE (20-byte C-APDU, 34-byte
//! R-APDU) at a time:
//!
//! 1. `isodep_engine`: the `emv-hal` ISO-DEP engine (ISO/IEC 14443-4 §7) alone, sans-IO,
//!    against an in-memory PICC that answers each I-block at once;
//! 2. `contactless_reader/in_memory`: `ContactlessReader` as `CardChannel` over an
//!    in-memory `RfFrontend` (the blocking loop, FWT bookkeeping, CRC in "hardware");
//! 3. `pn532_codec`: the PN532 host frame codec (UM0701-02 §6.2.1) alone, one
//!    InCommunicateThru command frame encoded and its answer decoded;
//! 4. `pn532_stack/{i2c,spi,hsu}`: the whole stack, `ContactlessReader<Pn532Frontend<…>>`
//!    over the behavioural PN532 model (`emv_test_cards::chips::pn532`) on each host
//!    interface, with a card that answers from a constant.
//!
//! The model answers instantly and time is virtual, so layer 4 measures the CPU cost of the
//! driver (frames, dialogue, register shadowing) plus the model, never bus time.
//!
//! Run with `cargo bench -p emv-readers --bench contactless_layers`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use embedded_hal::delay::DelayNs;
use emv_hal::channel::CardChannel;
use emv_hal::iso14443::{ContactlessReader, IsoDep, IsoDepEvent, IsoDepParams};
use emv_hal::rf::{BitRate, Contactless, Framing, PollOutcome, RfError, RfFrontend, Technology};
use emv_readers::pn532::frame;
use emv_readers::pn532::{
    BitOrder, HsuInterface, I2cInterface, Interface, Pn532, Pn532Frontend, SpiInterface,
};
use emv_test_cards::card::{Card, Reply};
use emv_test_cards::chips::pn532::{Picc, Pn532Model};

const SELECT_PPSE: [u8; 20] = [
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];

/// A short PPSE FCI and `90 00` (34 bytes).
const FCI: [u8; 34] = [
    0x6F, 0x1E, 0x84, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44, 0x46,
    0x30, 0x31, 0xA5, 0x0C, 0xBF, 0x0C, 0x09, 0x61, 0x07, 0x4F, 0x05, 0xF0, 0x00, 0x00, 0x09, 0x99,
    0x90, 0x00,
];

#[derive(Debug, Default, Clone)]
struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// An APDU card that answers every command with [`FCI`].
struct ConstantCard;

impl Card for ConstantCard {
    fn atr(&self) -> Vec<u8> {
        Vec::new()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn transmit(&mut self, _command: &[u8]) -> Reply {
        Reply::Response(FCI.to_vec())
    }
}

/// An in-memory Type A card behind a front-end with CRC in "hardware": just enough
/// ISO/IEC 14443-3 to be activated, then I-blocks answered with [`FCI`].
#[derive(Debug, Default)]
struct InMemoryField {
    active: bool,
}

impl RfFrontend for InMemoryField {
    type Error = ();

    fn set_field(&mut self, on: bool) -> Result<(), RfError<()>> {
        if !on {
            self.active = false;
        }
        Ok(())
    }

    fn configure(&mut self, _t: Technology, _b: BitRate) -> Result<(), RfError<()>> {
        Ok(())
    }

    fn crc_in_hardware(&self) -> bool {
        true
    }

    fn transceive(
        &mut self,
        tx: &[u8],
        framing: Framing,
        rx: &mut [u8],
        _timeout_us: u32,
    ) -> Result<usize, RfError<()>> {
        let answer: &[u8] = match (framing, tx) {
            (Framing::ShortFrame, [0x52]) if !self.active => &[0x04, 0x00],
            (Framing::Anticollision, [0x93, 0x20]) => &[1, 2, 3, 4, 4],
            (Framing::StandardCrc, [0x93, 0x70, ..]) => &[0x20],
            (Framing::StandardCrc, [0xE0, _]) => {
                self.active = true;
                &[0x05, 0x78, 0x80, 0x70, 0x00]
            }
            (Framing::StandardCrc, [pcb @ (0x02 | 0x03), ..]) if self.active => {
                rx[0] = *pcb;
                rx[1..=FCI.len()].copy_from_slice(&FCI);
                return Ok(FCI.len() + 1);
            }
            _ => return Err(RfError::Timeout),
        };
        rx[..answer.len()].copy_from_slice(answer);
        Ok(answer.len())
    }
}

fn engine_exchange(engine: &mut IsoDep, tx: &mut [u8], rx: &mut [u8]) -> usize {
    engine.start(&SELECT_PPSE).unwrap();
    loop {
        if let Some(IsoDepEvent::Complete { len }) = engine.poll_event() {
            return len;
        }
        let n = engine.poll_transmit(tx).unwrap();
        // The in-memory PICC: the I-block back with the same block number.
        rx[0] = tx[0];
        rx[1..=FCI.len()].copy_from_slice(&FCI);
        let _ = n;
        engine.handle_received(&rx[..=FCI.len()]);
    }
}

fn stack<I: Interface + 'static>(interface: I) -> impl CardChannel {
    let mut frontend = Pn532Frontend::new(Pn532::new(interface, NoDelay), true);
    frontend.init().unwrap();
    let mut reader = ContactlessReader::new(frontend, NoDelay);
    assert!(matches!(reader.poll().unwrap(), PollOutcome::Activated(_)));
    reader
}

fn model() -> Pn532Model {
    Pn532Model::with_card(Picc::type_a(ConstantCard))
}

fn bench(c: &mut Criterion) {
    let mut response = [0u8; 300];

    let mut engine = IsoDep::new(IsoDepParams::EMV_DEFAULT);
    let (mut tx, mut rx) = ([0u8; 256], [0u8; 256]);
    c.bench_function("isodep_engine/select_ppse", |b| {
        b.iter(|| black_box(engine_exchange(&mut engine, &mut tx, &mut rx)));
    });

    let mut reader = ContactlessReader::new(InMemoryField::default(), NoDelay);
    assert!(matches!(reader.poll().unwrap(), PollOutcome::Activated(_)));
    c.bench_function("contactless_reader/in_memory/select_ppse", |b| {
        b.iter(|| {
            black_box(
                reader
                    .exchange(black_box(&SELECT_PPSE), &mut response)
                    .unwrap(),
            )
        });
    });

    let mut command = vec![0x42, 0x02];
    command.extend_from_slice(&SELECT_PPSE);
    let mut answer = vec![0x43, 0x00, 0x02];
    answer.extend_from_slice(&FCI);
    let mut answer_frame = [0u8; frame::MAX_FRAME_LEN];
    let m = frame::encode(frame::TFI_CHIP, &answer, &mut answer_frame).unwrap();
    c.bench_function("pn532_codec/in_communicate_thru", |b| {
        let mut out = [0u8; frame::MAX_FRAME_LEN];
        b.iter(|| {
            let n = frame::encode_command(black_box(&command), &mut out).unwrap();
            let (f, _) = frame::decode(black_box(&answer_frame[..m])).unwrap();
            black_box((n, f));
        });
    });

    let mut i2c = stack(I2cInterface::new(model()));
    c.bench_function("pn532_stack/i2c/select_ppse", |b| {
        b.iter(|| {
            black_box(
                i2c.exchange(black_box(&SELECT_PPSE), &mut response)
                    .unwrap(),
            )
        });
    });
    let mut spi = stack(SpiInterface::new(model(), BitOrder::LsbFirst));
    c.bench_function("pn532_stack/spi/select_ppse", |b| {
        b.iter(|| {
            black_box(
                spi.exchange(black_box(&SELECT_PPSE), &mut response)
                    .unwrap(),
            )
        });
    });
    let mut hsu = stack(HsuInterface::new(model()));
    c.bench_function("pn532_stack/hsu/select_ppse", |b| {
        b.iter(|| {
            black_box(
                hsu.exchange(black_box(&SELECT_PPSE), &mut response)
                    .unwrap(),
            )
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
