//! The PN532 driver (`emv_readers::pn532`) against the behavioural chip model
//! (`emv_test_cards::chips::pn532`): frame codec vectors (emv-facts §5.5, UM0701-02 §6.2),
//! the driver over I2C, SPI (both bit orders) and HSU, the whole contactless stack
//! (`ContactlessReader<Pn532Frontend<…>>` as `CardChannel`, with the project's EMV card
//! engine behind the model's PICC), and fault recovery, by hand and over random fault
//! schedules.
//!
//! Time is virtual: the delay only counts nanoseconds, so a driver that would hang on real
//! hardware shows up as a huge virtual wait, which the tests bound.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use std::cell::Cell;
use std::rc::Rc;

use embedded_hal::delay::DelayNs;
use emv_hal::channel::CardChannel;
use emv_hal::iso14443::{ContactlessReader, IsoDepError, ReaderError};
use emv_hal::rf::{Activated, Contactless, PollOutcome};
use emv_readers::pn532::frame::{self, Frame, FrameError};
use emv_readers::pn532::{
    BitOrder, HsuInterface, I2cInterface, Interface, Pn532, Pn532Error, Pn532Frontend,
    SpiInterface, TargetA,
};
use emv_test_cards::card::{Card, Reply};
use emv_test_cards::chips::pn532::{ModelBusError, Picc, Pn532Model, SpiWire};
use emv_test_cards::engine::EmvCard;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Harness.

/// A delay that only counts virtual time.
#[derive(Debug, Clone, Default)]
struct Clock(Rc<Cell<u64>>);

impl Clock {
    fn ns(&self) -> u64 {
        self.0.get()
    }
}

impl DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get().saturating_add(u64::from(ns)));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bus {
    I2c,
    Spi,
    /// SPI through an MSB-first peripheral: the driver reverses every byte.
    SpiMsb,
    Hsu,
}

const BUSES: [Bus; 4] = [Bus::I2c, Bus::Spi, Bus::SpiMsb, Bus::Hsu];

type ChipError = Pn532Error<ModelBusError>;
type StationError = ReaderError<ChipError>;

/// The reader stack over one interface, behind one object-safe face.
trait Station {
    fn poll(&mut self) -> Result<PollOutcome, StationError>;
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, StationError>;
    fn deactivate(&mut self) -> Result<(), StationError>;
    fn rf_reset(&mut self) -> Result<(), StationError>;
}

impl<I: Interface<Error = ModelBusError>> Station
    for ContactlessReader<Pn532Frontend<I, Clock>, Clock>
{
    fn poll(&mut self) -> Result<PollOutcome, StationError> {
        Contactless::poll(self)
    }
    fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, StationError> {
        let mut r = [0u8; 300];
        let n = CardChannel::exchange(self, command, &mut r)?;
        Ok(r[..n].to_vec())
    }
    fn deactivate(&mut self) -> Result<(), StationError> {
        Contactless::deactivate(self)
    }
    fn rf_reset(&mut self) -> Result<(), StationError> {
        ContactlessReader::rf_reset(self)
    }
}

fn chip<I: Interface>(interface: I, clock: &Clock) -> Pn532<I, Clock> {
    Pn532::new(interface, clock.clone())
}

/// The driver's chip object over `bus` (for command-level tests).
fn with_chip<R>(
    bus: Bus,
    model: &Pn532Model,
    clock: &Clock,
    f: impl FnOnce(&mut dyn FnMut(&[u8], &mut [u8]) -> Result<usize, ChipError>) -> R,
) -> R {
    match bus {
        Bus::I2c => {
            let mut c = chip(I2cInterface::new(model.clone()), clock);
            f(&mut |pd, out| c.command(pd, out, 100_000))
        }
        Bus::Spi | Bus::SpiMsb => {
            let order = spi_order(bus, model);
            let mut c = chip(SpiInterface::new(model.clone(), order), clock);
            f(&mut |pd, out| c.command(pd, out, 100_000))
        }
        Bus::Hsu => {
            let mut c = chip(HsuInterface::new(model.clone()), clock);
            c.wake_up().unwrap();
            f(&mut |pd, out| c.command(pd, out, 100_000))
        }
    }
}

fn spi_order(bus: Bus, model: &Pn532Model) -> BitOrder {
    if bus == Bus::SpiMsb {
        model.set_spi_wire(SpiWire::MsbFirst);
        BitOrder::MsbFirstReversed
    } else {
        model.set_spi_wire(SpiWire::LsbFirst);
        BitOrder::LsbFirst
    }
}

fn reader<I: Interface<Error = ModelBusError> + 'static>(
    interface: I,
    clock: &Clock,
    hw_crc: bool,
) -> Result<Box<dyn Station>, ChipError> {
    let mut frontend = Pn532Frontend::new(chip(interface, clock), hw_crc);
    let version = frontend.init()?;
    assert_eq!(version.ic, 0x32);
    Ok(Box::new(ContactlessReader::new(frontend, clock.clone())))
}

/// The whole stack over `bus`, initialised.
fn station(
    bus: Bus,
    model: &Pn532Model,
    clock: &Clock,
    hw_crc: bool,
) -> Result<Box<dyn Station>, ChipError> {
    match bus {
        Bus::I2c => reader(I2cInterface::new(model.clone()), clock, hw_crc),
        Bus::Spi | Bus::SpiMsb => {
            let order = spi_order(bus, model);
            reader(SpiInterface::new(model.clone(), order), clock, hw_crc)
        }
        Bus::Hsu => reader(HsuInterface::new(model.clone()), clock, hw_crc),
    }
}

fn baseline() -> EmvCard {
    EmvCard::from_profile("baseline").unwrap()
}

fn emv_model() -> Pn532Model {
    Pn532Model::with_card(Picc::emv_type_a(baseline()))
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

const SELECT_PPSE: &str = "00A404000E325041592E5359532E444446303100";
const GPO_NO_PDOL: &str = "80A8000002830000";
const READ_RECORD_1_1: &str = "00B2010C00";

fn select_aid(aid: &[u8]) -> Vec<u8> {
    let mut c = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
    c.extend_from_slice(aid);
    c.push(0x00);
    c
}

/// Every value of tag `want` in BER-TLV `data`, searching constructed objects.
fn find_tag(data: &[u8], want: u32, out: &mut Vec<Vec<u8>>) {
    let mut i = 0;
    while i < data.len() {
        let first = data[i];
        let mut tag = u32::from(first);
        i += 1;
        if first & 0x1F == 0x1F {
            while i < data.len() {
                let b = data[i];
                tag = (tag << 8) | u32::from(b);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let Some(&l) = data.get(i) else { return };
        i += 1;
        let len = match l {
            0x81 => {
                let Some(&n) = data.get(i) else { return };
                i += 1;
                usize::from(n)
            }
            n if n < 0x80 => usize::from(n),
            _ => return,
        };
        let Some(value) = data.get(i..i + len) else {
            return;
        };
        if tag == want {
            out.push(value.to_vec());
        }
        if first & 0x20 != 0 {
            find_tag(value, want, out);
        }
        i += len;
    }
}

/// One C-APDU and its R-APDU.
type Exchange = (Vec<u8>, Vec<u8>);

/// The EMV flow: SELECT PPSE, SELECT the first AID it lists, GPO, READ RECORD 1/1.
/// Returns every (command, response).
fn emv_flow(s: &mut dyn Station) -> Result<Vec<Exchange>, StationError> {
    let mut log = Vec::new();
    let ppse = s.exchange(&hex(SELECT_PPSE))?;
    assert_eq!(&ppse[ppse.len() - 2..], [0x90, 0x00]);
    let mut aids = Vec::new();
    find_tag(&ppse[..ppse.len() - 2], 0x4F, &mut aids);
    assert!(!aids.is_empty(), "PPSE without an AID: {ppse:02X?}");
    log.push((hex(SELECT_PPSE), ppse));
    for c in [select_aid(&aids[0]), hex(GPO_NO_PDOL), hex(READ_RECORD_1_1)] {
        let r = s.exchange(&c)?;
        log.push((c, r));
    }
    Ok(log)
}

/// The same commands straight into a fresh card engine (no RF, no chip).
fn reference(log: &[Exchange]) -> Vec<Vec<u8>> {
    // The Picc answers PPSE itself; the card engine behind it everything else.
    let mut card = baseline();
    card.power_on();
    log.iter()
        .map(|(c, _)| {
            if c == &hex(SELECT_PPSE) {
                emv_test_cards::chips::pn532::ppse_response(&[
                    emv_test_cards::chips::pn532::PpseEntry {
                        aid: card.apps()[0].aid.clone(),
                        label: Some(card.apps()[0].label.clone()),
                        priority: card.apps()[0].priority_indicator,
                    },
                ])
            } else {
                match card.transmit(c) {
                    Reply::Response(r) | Reply::Delayed(_, r) => r,
                    Reply::Removed => Vec::new(),
                }
            }
        })
        .collect()
}

fn activate(s: &mut dyn Station) -> Activated {
    match s.poll().unwrap() {
        PollOutcome::Activated(a) => a,
        other => panic!("no card activated: {other:?}"),
    }
}

/// The card's APDU log must hold each command once, in the order sent, with the
/// response the reader returned.
fn assert_card_log(model: &Pn532Model, log: &[Exchange]) {
    let card = model.card().unwrap();
    assert_eq!(
        card.apdus.len(),
        log.len(),
        "APDUs executed {:02X?}",
        card.apdus
    );
    for (seen, sent) in card.apdus.iter().zip(log) {
        assert_eq!(seen, sent);
    }
}

// ---------------------------------------------------------------------------------------
// Frame codec (UM0701-02 §6.2.1; emv-facts §5.5 verified frames).

fn encode(pd: &[u8]) -> Vec<u8> {
    let mut out = [0u8; frame::MAX_FRAME_LEN];
    let n = frame::encode_command(pd, &mut out).unwrap();
    out[..n].to_vec()
}

#[test]
fn codec_verified_vectors() {
    assert_eq!(encode(&[0x02]), hex("0000FF02FED4022A00"));
    assert_eq!(
        encode(&[0x14, 0x01, 0x14, 0x01]),
        hex("0000FF05FBD41401140102 00")
    );
    assert_eq!(encode(&[0x4A, 0x01, 0x00]), hex("0000FF04FCD44A0100E100"));
    let mut pd = vec![0x40, 0x01];
    pd.extend_from_slice(&hex(SELECT_PPSE));
    assert_eq!(
        encode(&pd),
        hex("0000FF17E9D44001 00A404000E325041592E5359532E444446303100 8F00")
    );
    assert_eq!(frame::ACK, hex("0000FF00FF00")[..]);
    assert_eq!(frame::NACK, hex("0000FFFF0000")[..]);
    assert_eq!(frame::ERROR_FRAME, hex("0000FF01FF7F8100")[..]);
    assert_eq!(frame::decode(&frame::ACK).unwrap().0, Frame::Ack);
    assert_eq!(frame::decode(&frame::NACK).unwrap().0, Frame::Nack);
    assert_eq!(
        frame::decode(&frame::ERROR_FRAME).unwrap().0,
        Frame::SyntaxError
    );
    // The firmware version answer of a PN532 v1.6.
    let answer = hex("0000FF06FAD50332010607E800");
    let (f, used) = frame::decode(&answer).unwrap();
    assert_eq!(
        f,
        Frame::Information {
            tfi: frame::TFI_CHIP,
            pd: &hex("0332010607")
        }
    );
    assert_eq!(used, answer.len() - 1);
    assert_eq!(frame::wire_len(&answer[..5]), Some(answer.len()));
    let Frame::Information { tfi, pd } = f else {
        unreachable!()
    };
    assert_eq!(
        frame::response_data(0x02, tfi, pd).unwrap(),
        hex("32010607")
    );
}

#[test]
fn codec_extended_frame_and_errors() {
    let pd: Vec<u8> = (0..frame::MAX_EXTENDED_PD).map(|i| i as u8).collect();
    let f = encode(&pd);
    assert_eq!(&f[..5], hex("0000FFFFFF"));
    assert_eq!(u16::from_be_bytes([f[5], f[6]]) as usize, pd.len() + 1);
    assert_eq!(f[5].wrapping_add(f[6]).wrapping_add(f[7]), 0);
    assert_eq!(
        frame::decode(&f).unwrap().0,
        Frame::Information {
            tfi: frame::TFI_HOST,
            pd: &pd
        }
    );
    let mut bad = encode(&[0x02]);
    bad[4] ^= 0x10;
    assert_eq!(frame::decode(&bad), Err(FrameError::BadLengthChecksum));
    let mut bad = encode(&[0x02]);
    bad[7] ^= 0x10;
    assert_eq!(frame::decode(&bad), Err(FrameError::BadDataChecksum));
    assert_eq!(frame::decode(&[0x55; 9]), Err(FrameError::NoStartCode));
    assert_eq!(
        frame::decode(&encode(&[0x02])[..6]),
        Err(FrameError::Truncated)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn codec_round_trip(pd in proptest::collection::vec(any::<u8>(), 1..=frame::MAX_EXTENDED_PD),
                        junk in proptest::collection::vec(1u8..=0xFE, 0..4)) {
        let f = encode(&pd);
        prop_assert_eq!(f.len(), frame::frame_len(pd.len()));
        let mut wire = junk.clone();
        wire.extend_from_slice(&f);
        let (decoded, used) = frame::decode(&wire).unwrap();
        prop_assert_eq!(decoded, Frame::Information { tfi: frame::TFI_HOST, pd: &pd });
        prop_assert_eq!(used, wire.len() - 1);
        prop_assert_eq!(frame::wire_len(&wire), Some(wire.len()));
    }

    #[test]
    fn codec_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = frame::decode(&bytes);
        let _ = frame::wire_len(&bytes);
    }
}

// ---------------------------------------------------------------------------------------
// The driver against the model, per interface.

#[test]
fn init_configures_the_chip_on_every_interface() {
    for bus in BUSES {
        let model = emv_model();
        let clock = Clock::default();
        let _station = station(bus, &model, &clock, true).unwrap();
        assert_eq!(model.sam_mode(), Some(0x01), "{bus:?}");
        assert_eq!(model.parameters(), 0x00, "{bus:?}: no automatic RATS");
        assert_eq!(model.max_retries(), [0x00, 0x01, 0x00], "{bus:?}");
        assert_eq!(model.register(0x633C), Some(0x10), "{bus:?}: initiator");
        assert!(!model.field_on(), "{bus:?}");
        assert_eq!(
            model.commands(),
            [0x14, 0x02, 0x12, 0x32, 0x08, 0x32],
            "{bus:?}"
        );
        assert_eq!(model.stats().rejected_frames, 0);
    }
}

#[test]
fn commands_registers_and_syntax_errors_on_every_interface() {
    for bus in BUSES {
        let model = emv_model();
        let clock = Clock::default();
        with_chip(bus, &model, &clock, |cmd| {
            let mut out = [0u8; 64];
            let n = cmd(&[0x02], &mut out).unwrap();
            assert_eq!(&out[..n], [0x32, 0x01, 0x06, 0x07], "{bus:?}");
            // WriteRegister then ReadRegister.
            cmd(&[0x08, 0x63, 0x05, 0x47, 0x63, 0x3D, 0x07], &mut out).unwrap();
            let n = cmd(&[0x06, 0x63, 0x05, 0x63, 0x3D], &mut out).unwrap();
            assert_eq!(&out[..n], [0x47, 0x07], "{bus:?}");
            // An unknown command: ACK, then the syntax-error frame.
            assert_eq!(
                cmd(&[0x77], &mut out),
                Err(Pn532Error::SyntaxError),
                "{bus:?}"
            );
            // A response longer than the caller's buffer.
            assert_eq!(
                cmd(&[0x02], &mut out[..2]),
                Err(Pn532Error::BufferTooSmall),
                "{bus:?}"
            );
        });
        assert_eq!(model.stats().error_frames, 1);
    }
}

#[test]
fn chip_side_activation_in_list_passive_target() {
    let model = emv_model();
    let clock = Clock::default();
    let mut c = chip(I2cInterface::new(model.clone()), &clock);
    c.sam_configuration_normal().unwrap();
    c.set_parameters(0x10).unwrap();
    let mut out = [0u8; 64];
    let n = c
        .in_list_passive_target(emv_readers::pn532::Modulation::TypeA106, &[], &mut out)
        .unwrap();
    let t = TargetA::parse(&out[..n]).unwrap();
    assert_eq!(t.uid, [1, 2, 3, 4]);
    assert_eq!(t.sel_res, 0x20);
    assert_eq!(t.ats, Some(&[0x05, 0x78, 0x80, 0x70, 0x00][..]));
    c.in_release(0).unwrap();
    // Without a card: no target.
    let empty = Pn532Model::new();
    let mut c = chip(I2cInterface::new(empty), &clock);
    c.sam_configuration_normal().unwrap();
    let n = c
        .in_list_passive_target(emv_readers::pn532::Modulation::TypeA106, &[], &mut out)
        .unwrap();
    assert_eq!(TargetA::parse(&out[..n]), None);
}

#[test]
fn spi_bit_order_mismatch_is_a_clear_error() {
    let model = emv_model();
    model.set_spi_wire(SpiWire::MsbFirst);
    let clock = Clock::default();
    let mut frontend = Pn532Frontend::new(
        chip(SpiInterface::new(model.clone(), BitOrder::LsbFirst), &clock),
        true,
    );
    assert!(matches!(
        frontend.init(),
        Err(Pn532Error::NoAck | Pn532Error::Nack)
    ));
}

// ---------------------------------------------------------------------------------------
// The whole stack: SELECT PPSE, SELECT AID, GPO, READ RECORD.

#[test]
fn emv_flow_over_every_interface() {
    for bus in BUSES {
        for hw_crc in [true, false] {
            let model = emv_model();
            let clock = Clock::default();
            let mut s = station(bus, &model, &clock, hw_crc).unwrap();
            let Activated::TypeA(a) = activate(s.as_mut()) else {
                panic!("type A expected")
            };
            assert_eq!(a.uid.as_bytes(), [1, 2, 3, 4]);
            let log = emv_flow(s.as_mut()).unwrap();
            let expected = reference(&log);
            for ((c, r), e) in log.iter().zip(&expected) {
                assert_eq!(r, e, "{bus:?} crc {hw_crc}: {c:02X?}");
                assert_eq!(&r[r.len() - 2..], [0x90, 0x00], "{bus:?}: {c:02X?}");
            }
            assert_card_log(&model, &log);
            s.deactivate().unwrap();
            assert!(model.card().unwrap().deselected);
            assert_eq!(model.stats().rejected_frames, 0);
            assert_eq!(model.stats().responses_repeated, 0);
        }
    }
}

#[test]
fn emv_flow_type_b() {
    for (bus, hw_crc) in [(Bus::I2c, true), (Bus::Spi, false), (Bus::Hsu, false)] {
        let model = Pn532Model::with_card(Picc::emv_type_b(baseline()));
        let clock = Clock::default();
        let mut s = station(bus, &model, &clock, hw_crc).unwrap();
        let Activated::TypeB(b) = activate(s.as_mut()) else {
            panic!("type B expected")
        };
        assert_eq!(b.atqb.pupi(), &[0xDE, 0xAD, 0xBE, 0xEF]);
        let log = emv_flow(s.as_mut()).unwrap();
        assert_eq!(
            log.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
            reference(&log),
            "{bus:?}"
        );
        assert_card_log(&model, &log);
        // Type B framing bits in the CIU.
        assert_eq!(model.register(0x6302).map(|m| m & 0x03), Some(0x03));
    }
}

#[test]
fn double_size_uid() {
    let uid = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    let model = Pn532Model::with_card(Picc::emv_type_a(baseline()).with_uid(&uid));
    let clock = Clock::default();
    let mut s = station(Bus::Spi, &model, &clock, false).unwrap();
    let Activated::TypeA(a) = activate(s.as_mut()) else {
        panic!("type A expected")
    };
    assert_eq!(a.uid.as_bytes(), uid);
    emv_flow(s.as_mut()).unwrap();
    // WUPA went out as a 7-bit short frame without CRC, then the cascade levels 1 and 2.
    let air = model.air_frames();
    assert_eq!(air[0], [0x52]);
    assert!(air.iter().any(|f| f.starts_with(&[0x93, 0x70, 0x88])));
    assert!(air.iter().any(|f| f.starts_with(&[0x95, 0x70, 0x33])));
}

#[test]
fn no_card_and_mute_card() {
    for bus in [Bus::I2c, Bus::Hsu] {
        let model = Pn532Model::new();
        let clock = Clock::default();
        let mut s = station(bus, &model, &clock, true).unwrap();
        assert_eq!(s.poll().unwrap(), PollOutcome::NoCard);
        let model = emv_model();
        model.card().unwrap().faults.mute = true;
        let mut s = station(bus, &model, &clock, true).unwrap();
        assert_eq!(s.poll().unwrap(), PollOutcome::NoCard);
    }
    // A card that goes mute after activation: an ISO-DEP time-out error, no hang.
    let model = emv_model();
    let clock = Clock::default();
    let mut s = station(Bus::Spi, &model, &clock, true).unwrap();
    activate(s.as_mut());
    model.card().unwrap().faults.mute = true;
    assert_eq!(
        s.exchange(&hex(SELECT_PPSE)),
        Err(ReaderError::IsoDep(IsoDepError::Timeout))
    );
    assert_eq!(
        s.exchange(&hex(SELECT_PPSE)),
        Err(ReaderError::NotActivated)
    );
}

#[test]
fn mute_chip_is_a_transport_error() {
    for bus in BUSES {
        let model = emv_model();
        model.faults().mute = true;
        let clock = Clock::default();
        assert!(
            matches!(station(bus, &model, &clock, true), Err(Pn532Error::NoAck)),
            "{bus:?}"
        );
        // Mute in the middle of a transaction.
        let model = emv_model();
        let mut s = station(bus, &model, &clock, true).unwrap();
        activate(s.as_mut());
        model.faults().mute = true;
        assert_eq!(
            s.exchange(&hex(SELECT_PPSE)),
            Err(ReaderError::Transport(Pn532Error::NoAck)),
            "{bus:?}"
        );
        // Bounded virtual time: well under a minute.
        assert!(clock.ns() < 60_000_000_000, "{bus:?}: {} ns", clock.ns());
    }
}

// ---------------------------------------------------------------------------------------
// Faults, one by one.

/// Runs the flow with `inject` applied after activation; the responses must be the
/// reference ones and the card must have seen each APDU once.
fn recovers(bus: Bus, model: &Pn532Model, inject: impl Fn(&Pn532Model)) {
    let clock = Clock::default();
    let mut s = station(bus, model, &clock, true).unwrap();
    activate(s.as_mut());
    inject(model);
    let log = emv_flow(s.as_mut()).unwrap_or_else(|e| panic!("{bus:?}: {e:?}"));
    let expected = reference(&log);
    for ((c, r), e) in log.iter().zip(&expected) {
        assert_eq!(r, e, "{bus:?}: {c:02X?}");
    }
    assert_card_log(model, &log);
}

#[test]
fn host_bus_corruption_to_the_chip_is_rejected_and_recovered() {
    for bus in BUSES {
        for nack in [false, true] {
            let model = emv_model();
            model.faults().nack_bad_frames = nack;
            recovers(bus, &model, |m| {
                // A byte in the middle of the next command frame (after the SPI opcode and
                // the start code).
                let base = m.bytes_to_chip();
                m.faults().to_chip_xor.insert(base + 7, 0x5A);
            });
            assert!(model.stats().rejected_frames >= 1, "{bus:?}");
        }
    }
    // A configuration command corrupted: silently ignored by the chip, written again.
    let model = emv_model();
    let clock = Clock::default();
    with_chip(Bus::I2c, &model, &clock, |cmd| {
        let base = model.bytes_to_chip();
        model.faults().to_chip_xor.insert(base + 6, 0x01);
        let mut out = [0u8; 8];
        assert_eq!(cmd(&[0x02], &mut out), Ok(4));
    });
    assert_eq!(model.stats().rejected_frames, 1);
    assert_eq!(model.commands(), [0x02]);
}

#[test]
fn corrupted_response_is_asked_again_with_nack() {
    for bus in BUSES {
        let model = emv_model();
        recovers(bus, &model, |m| m.faults().corrupt_responses = 2);
        assert!(model.stats().responses_repeated >= 2, "{bus:?}");
    }
}

#[test]
fn corrupted_bytes_to_the_host() {
    for bus in BUSES {
        for offset in [1u64, 3, 4, 9, 12, 20] {
            let model = emv_model();
            recovers(bus, &model, |m| {
                let base = m.bytes_to_host();
                m.faults().to_host_xor.insert(base + offset, 0xFF);
            });
        }
    }
}

#[test]
fn lost_ack_lost_response_and_busy_chip() {
    for bus in BUSES {
        // The ACK lost: the response is seen first and asked again.
        let model = emv_model();
        recovers(bus, &model, |m| m.faults().drop_frames_to_host = 1);
        assert!(model.stats().responses_repeated >= 1, "{bus:?}");
        // The response lost (chip time-out): abort, then ISO-DEP recovery.
        let model = emv_model();
        recovers(bus, &model, |m| m.faults().drop_responses = 1);
        assert!(model.stats().aborts >= 1, "{bus:?}");
        // ACK and response lost.
        let model = emv_model();
        recovers(bus, &model, |m| m.faults().drop_frames_to_host = 2);
        // A slow chip.
        let model = emv_model();
        recovers(bus, &model, |m| m.faults().busy_polls = 7);
    }
    let model = emv_model();
    recovers(Bus::I2c, &model, |m| {
        let mut f = m.faults();
        f.busy_polls = 3;
        f.busy_nack = true;
    });
}

#[test]
fn rf_faults_recover_through_iso_dep() {
    for bus in [Bus::I2c, Bus::Spi, Bus::Hsu] {
        let model = emv_model();
        recovers(bus, &model, |m| m.card().unwrap().faults.lose_answers = 1);
        let model = emv_model();
        recovers(bus, &model, |m| m.card().unwrap().faults.lose_commands = 1);
        let model = emv_model();
        recovers(bus, &model, |m| {
            m.card().unwrap().faults.corrupt_answers = 2
        });
        let model = emv_model();
        recovers(bus, &model, |m| m.card().unwrap().faults.wtx_per_apdu = 3);
    }
    // Three errors in a row exceed the EMV retries: a clear error, then a re-poll works.
    let model = emv_model();
    let clock = Clock::default();
    let mut s = station(Bus::I2c, &model, &clock, true).unwrap();
    activate(s.as_mut());
    model.card().unwrap().faults.lose_answers = 3;
    assert!(matches!(
        s.exchange(&hex(SELECT_PPSE)),
        Err(ReaderError::IsoDep(_))
    ));
    s.rf_reset().unwrap();
    activate(s.as_mut());
    emv_flow(s.as_mut()).unwrap();
}

#[test]
fn chaining_both_ways() {
    for bus in [Bus::I2c, Bus::Spi, Bus::Hsu] {
        // FSC 16 (commands chained by the reader), answers in chunks of 11 bytes.
        let model = Pn532Model::with_card(Picc::emv_type_a(baseline()).with_fsci(0).with_chunk(11));
        recovers(bus, &model, |_| {});
        let model = Pn532Model::with_card(Picc::emv_type_a(baseline()).with_fsci(0).with_chunk(11));
        recovers(bus, &model, |m| {
            let mut c = m.card().unwrap();
            c.faults.lose_answers = 1;
            c.faults.corrupt_answers = 1;
        });
    }
}

// ---------------------------------------------------------------------------------------
// Random fault schedules.

#[derive(Debug, Clone)]
enum Fault {
    ToChip(u64, u8),
    ToHost(u64, u8),
    DropToHost(u32),
    DropResponses(u32),
    CorruptResponses(u32),
    Busy(u32),
    LoseAnswers(u32),
    LoseCommands(u32),
    CorruptAnswers(u32),
    Wtx(u8),
    MuteCard,
    NackBadFrames,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        (0u64..80, 1u8..=255).prop_map(|(i, x)| Fault::ToChip(i, x)),
        (0u64..80, 1u8..=255).prop_map(|(i, x)| Fault::ToHost(i, x)),
        (1u32..3).prop_map(Fault::DropToHost),
        (1u32..3).prop_map(Fault::DropResponses),
        (1u32..4).prop_map(Fault::CorruptResponses),
        (0u32..20).prop_map(Fault::Busy),
        (1u32..3).prop_map(Fault::LoseAnswers),
        (1u32..3).prop_map(Fault::LoseCommands),
        (1u32..3).prop_map(Fault::CorruptAnswers),
        (1u8..4).prop_map(Fault::Wtx),
        Just(Fault::MuteCard),
        Just(Fault::NackBadFrames),
    ]
}

fn apply(model: &Pn532Model, f: &Fault) {
    match *f {
        Fault::ToChip(i, x) => {
            let base = model.bytes_to_chip();
            model.faults().to_chip_xor.insert(base + i, x);
        }
        Fault::ToHost(i, x) => {
            let base = model.bytes_to_host();
            model.faults().to_host_xor.insert(base + i, x);
        }
        Fault::DropToHost(n) => model.faults().drop_frames_to_host = n,
        Fault::DropResponses(n) => model.faults().drop_responses = n,
        Fault::CorruptResponses(n) => model.faults().corrupt_responses = n,
        Fault::Busy(n) => model.faults().busy_polls = n,
        Fault::LoseAnswers(n) => model.card().unwrap().faults.lose_answers = n,
        Fault::LoseCommands(n) => model.card().unwrap().faults.lose_commands = n,
        Fault::CorruptAnswers(n) => model.card().unwrap().faults.corrupt_answers = n,
        Fault::Wtx(n) => model.card().unwrap().faults.wtx_per_apdu = n,
        Fault::MuteCard => model.card().unwrap().faults.mute = true,
        Fault::NackBadFrames => model.faults().nack_bad_frames = true,
    }
}

fn clear(model: &Pn532Model) {
    *model.faults() = Default::default();
    model.card().unwrap().faults = Default::default();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Whatever the faults, every APDU the reader returns is the card's answer to that very
    /// command, the card never executes a command twice, nothing panics and virtual time
    /// stays bounded; once the faults stop, a re-poll and the whole flow succeed.
    #[test]
    fn random_fault_schedules_never_give_a_wrong_apdu(
        bus in prop::sample::select(BUSES.to_vec()),
        hw_crc in any::<bool>(),
        schedule in proptest::collection::vec(proptest::collection::vec(fault(), 0..3), 4..10),
    ) {
        let model = emv_model();
        let clock = Clock::default();
        let mut s = match station(bus, &model, &clock, hw_crc) {
            Ok(s) => s,
            Err(e) => panic!("{bus:?}: init failed without faults: {e:?}"),
        };
        let commands = [
            hex(SELECT_PPSE),
            select_aid(&baseline_aid()),
            hex(GPO_NO_PDOL),
            hex(READ_RECORD_1_1),
        ];
        let mut attempts = 0usize;
        let mut activated = false;
        for (step, faults) in schedule.iter().enumerate() {
            for f in faults {
                apply(&model, f);
            }
            if !activated {
                // EMV Book D: an RF reset before polling again after an error.
                let _ = s.rf_reset();
                match s.poll() {
                    Ok(PollOutcome::Activated(_)) => activated = true,
                    Ok(_) | Err(_) => continue,
                }
            }
            let command = &commands[step % commands.len()];
            attempts += 1;
            match s.exchange(command) {
                Ok(r) => {
                    // The last APDU the card ran is this one, with this answer.
                    let card = model.card().unwrap();
                    let last = card.apdus.last().cloned();
                    prop_assert_eq!(last, Some((command.clone(), r)));
                }
                // Any error is fine as long as it is reported (and the link dropped).
                Err(_) => activated = false,
            }
            // Never more executions than exchanges: no command ran twice.
            let card = model.card().unwrap();
            prop_assert!(card.apdus.len() <= attempts, "{:02X?}", card.apdus);
        }
        prop_assert!(clock.ns() < 600_000_000_000, "virtual time {} ns", clock.ns());
        // Faults off: recovery.
        clear(&model);
        s.rf_reset().unwrap();
        prop_assert!(matches!(s.poll(), Ok(PollOutcome::Activated(_))));
        let log = emv_flow(s.as_mut()).unwrap();
        let expected = reference(&log);
        for ((_, r), e) in log.iter().zip(&expected) {
            prop_assert_eq!(r, e);
        }
    }
}

fn baseline_aid() -> Vec<u8> {
    baseline().apps()[0].aid.clone()
}

// ---------------------------------------------------------------------------------------
// A chip that sends noise.

/// An I2C "chip" that answers every read with pseudo-random bytes (xorshift from a seed).
struct NoiseI2c(u64);

impl embedded_hal::i2c::ErrorType for NoiseI2c {
    type Error = core::convert::Infallible;
}

impl embedded_hal::i2c::I2c for NoiseI2c {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        for op in operations {
            if let embedded_hal::i2c::Operation::Read(buf) = op {
                for b in buf.iter_mut() {
                    self.0 ^= self.0 << 13;
                    self.0 ^= self.0 >> 7;
                    self.0 ^= self.0 << 17;
                    // Plenty of 00 and FF so that start codes and headers appear.
                    *b = match self.0 % 5 {
                        0 => 0x00,
                        1 => 0xFF,
                        2 => 0x01,
                        _ => (self.0 >> 24) as u8,
                    };
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Noise from the chip gives errors (or, by chance, answers), never a panic or a hang.
    #[test]
    fn chip_noise_never_panics(seed in 1u64..) {
        let clock = Clock::default();
        let mut frontend = Pn532Frontend::new(chip(I2cInterface::new(NoiseI2c(seed)), &clock), true);
        let _ = frontend.init();
        let mut reader = ContactlessReader::new(frontend, clock.clone());
        let _ = Contactless::poll(&mut reader);
        let mut r = [0u8; 300];
        let _ = CardChannel::exchange(&mut reader, &hex(SELECT_PPSE), &mut r);
        prop_assert!(clock.ns() < 600_000_000_000);
    }
}
