//! Unit tests of the UART slot against a tiny scripted UART: the terminal's writes are
//! checked against the script, the card's answers become readable after their character
//! times on a virtual clock advanced by the slot's `DelayNs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use core::cell::RefCell;
use core::convert::Infallible;
use std::collections::VecDeque;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write};

use super::*;
use crate::atr::Convention;
use crate::channel::CardChannel;
use crate::t0::T0Error;

const CLOCK: u32 = 4_000_000;
/// One etu at Fi 372, Di 1, 4 MHz: 93 µs.
const ETU_NS: u64 = 93_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// A character sent in the direct convention.
    Byte(u8),
    /// A character sent in the inverse convention (its logical value).
    Inverse(u8),
    Parity,
}

#[derive(Debug, Clone)]
enum Step {
    /// On RST going high: the card answers after `delay_etu`.
    OnReset { delay_etu: u64, reply: Vec<Item> },
    /// The terminal must write exactly `expect`; the card answers.
    OnWrite { expect: Vec<u8>, reply: Vec<Item> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pin {
    Rst(bool),
    Vcc(bool),
}

#[derive(Debug)]
struct State {
    now: u64,
    script: VecDeque<Step>,
    written: Vec<u8>,
    rx: VecDeque<(u64, Item)>,
    pins: Vec<(u64, Pin)>,
    all_written: Vec<u8>,
    /// The UART's convention (set by the convention hook) and the hook's calls.
    convention: Convention,
    convention_calls: Vec<Convention>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            now: 0,
            script: VecDeque::new(),
            written: Vec::new(),
            rx: VecDeque::new(),
            pins: Vec::new(),
            all_written: Vec::new(),
            convention: Convention::Direct,
            convention_calls: Vec::new(),
        }
    }
}

impl State {
    /// A character as this UART, in its current convention, decodes it (no parity check:
    /// a character in the other convention reads as its bits reversed and complemented).
    fn decode(&self, item: Item) -> Option<u8> {
        let (byte, sent) = match item {
            Item::Byte(b) => (b, Convention::Direct),
            Item::Inverse(b) => (b, Convention::Inverse),
            Item::Parity => return None,
        };
        Some(if sent == self.convention {
            byte
        } else {
            other_convention(byte)
        })
    }

    fn answer(&mut self, delay_etu: u64, reply: Vec<Item>) {
        let mut t = self.now + delay_etu * ETU_NS;
        for item in reply {
            t += 12 * ETU_NS;
            self.rx.push_back((t, item));
        }
    }
}

#[derive(Clone)]
struct Bus(Rc<RefCell<State>>);

struct Uart(Bus);
struct OutPin(Bus, bool);
struct Delay(Bus);

impl ErrorType for Uart {
    type Error = ErrorKind;
}

impl Read for Uart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let mut s = self.0.0.borrow_mut();
        let now = s.now;
        match s.rx.front() {
            Some(&(due, Item::Parity)) if due <= now => {
                s.rx.pop_front();
                Err(ErrorKind::InvalidData)
            }
            Some(&(due, item)) if due <= now && !buf.is_empty() => {
                s.rx.pop_front();
                buf[0] = s.decode(item).unwrap_or(0);
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        let s = self.0.0.borrow();
        Ok(s.rx.front().is_some_and(|&(due, _)| due <= s.now))
    }
}

impl Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let mut s = self.0.0.borrow_mut();
        s.written.extend_from_slice(buf);
        s.all_written.extend_from_slice(buf);
        s.now += 12 * ETU_NS * buf.len() as u64;
        if let Some(Step::OnWrite { expect, .. }) = s.script.front()
            && s.written.len() >= expect.len()
        {
            assert_eq!(&s.written, expect, "terminal sent");
            let Some(Step::OnWrite { reply, .. }) = s.script.pop_front() else {
                unreachable!()
            };
            s.written.clear();
            s.answer(4, reply);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl PinErrorType for OutPin {
    type Error = Infallible;
}

impl OutputPin for OutPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.set(true);
        Ok(())
    }
}

impl OutPin {
    fn set(&mut self, high: bool) {
        let mut s = self.0.0.borrow_mut();
        let now = s.now;
        let pin = if self.1 {
            Pin::Rst(high)
        } else {
            Pin::Vcc(high)
        };
        s.pins.push((now, pin));
        if pin == Pin::Rst(false) {
            s.rx.clear();
        }
        if pin == Pin::Rst(true)
            && let Some(Step::OnReset { .. }) = s.script.front()
        {
            let Some(Step::OnReset { delay_etu, reply }) = s.script.pop_front() else {
                unreachable!()
            };
            s.answer(delay_etu, reply);
        }
    }
}

impl DelayNs for Delay {
    fn delay_ns(&mut self, ns: u32) {
        self.0.0.borrow_mut().now += u64::from(ns);
    }
}

fn bytes(b: &[u8]) -> Vec<Item> {
    b.iter().map(|&b| Item::Byte(b)).collect()
}

fn slot(script: Vec<Step>) -> (Bus, UartContactSlot<Uart, OutPin, OutPin, Delay>) {
    let bus = Bus(Rc::new(RefCell::new(State {
        script: script.into(),
        ..State::default()
    })));
    let slot = UartContactSlot::new(
        Uart(bus.clone()),
        OutPin(bus.clone(), true),
        OutPin(bus.clone(), false),
        Delay(bus.clone()),
        SlotConfig::emv(CLOCK),
    );
    (bus, slot)
}

fn atr(reply: &[u8]) -> Step {
    Step::OnReset {
        delay_etu: 50,
        reply: bytes(reply),
    }
}

fn on_write(expect: &[u8], reply: &[u8]) -> Step {
    Step::OnWrite {
        expect: expect.to_vec(),
        reply: bytes(reply),
    }
}

const T0_ATR: [u8; 4] = [0x3B, 0x60, 0x00, 0x00];
const T1_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

#[test]
fn activation_sequence_and_reset_timing() {
    let (bus, mut s) = slot(vec![atr(&T0_ATR)]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    assert_eq!(s.protocol(), Some(EmvProtocol::T0));
    s.power_down().unwrap();
    let pins = bus.0.borrow().pins.clone();
    // RST low, then VCC on (CMDVCCN low), RST high after 40 000..45 000 clocks, then
    // deactivation: RST low before VCC off.
    let kinds: Vec<Pin> = pins.iter().map(|p| p.1).collect();
    assert_eq!(
        kinds,
        [
            Pin::Rst(false),
            Pin::Vcc(false),
            Pin::Rst(false),
            Pin::Rst(true),
            Pin::Rst(false),
            Pin::Vcc(true),
        ]
    );
    let vcc_on = pins[1].0;
    let rst_high = pins[3].0;
    let clocks = (rst_high - vcc_on) * u64::from(CLOCK) / 1_000_000_000;
    assert!((40_000..=45_000 + 2_000 * 4).contains(&clocks), "{clocks}");
    assert!(s.atr().is_none());
}

#[test]
fn mute_card_times_out_after_the_atr_start_limit() {
    let (bus, mut s) = slot(vec![]);
    let err = s.power_up().unwrap_err();
    assert!(matches!(
        err,
        SlotError::Mute {
            reset: ResetKind::Cold,
            clocks: 42_000
        }
    ));
    let state = bus.0.borrow();
    let rst_high = state.pins.iter().find(|p| p.1 == Pin::Rst(true)).unwrap().0;
    let waited_clocks = (state.now - rst_high) * u64::from(CLOCK) / 1_000_000_000;
    assert!(
        (42_000..42_000 + 13 * 372).contains(&waited_clocks),
        "{waited_clocks}"
    );
    // Deactivated: VCC off at the end.
    assert_eq!(state.pins.last().unwrap().1, Pin::Vcc(true));
}

#[test]
fn t1_ifsd_request_then_an_i_block_exchange() {
    let select = [
        0x00, 0xA4, 0x04, 0x00, 0x0E, 0x31, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44,
        0x44, 0x46, 0x30, 0x31, 0x00,
    ];
    let mut i_block = vec![0x00, 0x00, 0x14];
    i_block.extend_from_slice(&select);
    i_block.push(0xDD);
    let (bus, mut s) = slot(vec![
        atr(&T1_ATR),
        on_write(
            &[0x00, 0xC1, 0x01, 0xFE, 0x3E],
            &[0x00, 0xE1, 0x01, 0xFE, 0x1E],
        ),
        on_write(&i_block, &[0x00, 0x00, 0x02, 0x6A, 0x82, 0xEA]),
    ]);
    s.power_up().unwrap();
    assert_eq!(s.t1().unwrap().ifsd(), 254);
    let mut r = [0u8; 258];
    let n = s.exchange(&select, &mut r).unwrap();
    assert_eq!(&r[..n], &[0x6A, 0x82]);
    assert!(bus.0.borrow().script.is_empty());
}

#[test]
fn t1_mute_after_the_atr_fails_the_ifsd_negotiation() {
    let (bus, mut s) = slot(vec![atr(&T1_ATR)]);
    let err = s.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::Protocol {
                apdu: 0,
                fault: ProtocolFault::T1Ifsd(crate::t1::T1Error::RetriesExhausted { .. })
            }
        ),
        "{err:?}"
    );
    // The S(IFS request) went out three times (first + 2 retries).
    let written = bus.0.borrow().all_written.clone();
    assert_eq!(written, [0x00, 0xC1, 0x01, 0xFE, 0x3E].repeat(3));
}

#[test]
fn t0_case_2_with_6cxx_and_parity_repetition() {
    let mut record = vec![0xB2];
    record.extend((0..0x1C).map(|i| i as u8));
    record.extend_from_slice(&[0x90, 0x00]);
    let mut reply: Vec<Item> = vec![Item::Parity, Item::Parity];
    reply.extend(bytes(&record));
    let (_, mut s) = slot(vec![
        atr(&T0_ATR),
        on_write(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &[0x6C, 0x1C]),
        Step::OnWrite {
            expect: vec![0x00, 0xB2, 0x01, 0x0C, 0x1C],
            reply,
        },
    ]);
    s.power_up().unwrap();
    let mut r = [0u8; 258];
    let n = s.exchange(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &mut r).unwrap();
    assert_eq!(&r[..n], &record[1..]);
}

#[test]
fn t0_silent_card_times_out_after_wwt_and_is_deactivated() {
    let (bus, mut s) = slot(vec![atr(&T0_ATR)]);
    s.power_up().unwrap();
    let start = bus.0.borrow().now;
    let err = s
        .exchange(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &mut [0u8; 258])
        .unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::Protocol {
                apdu: 0,
                fault: ProtocolFault::T0 {
                    ins: 0xB2,
                    error: T0Error::Timeout { .. }
                }
            }
        ),
        "{err:?}"
    );
    let waited_etu = (bus.0.borrow().now - start) / ETU_NS;
    assert!(waited_etu >= 10_080, "{waited_etu}");
    assert!(s.atr().is_none());
    assert!(matches!(
        s.exchange(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &mut [0u8; 258]),
        Err(SlotError::NotActive)
    ));
}

#[test]
fn cold_atr_rejected_warm_atr_accepted() {
    // TC1 = 05 is refused (EMV L1 §8.3.3.3).
    let (bus, mut s) = slot(vec![atr(&[0x3B, 0x40, 0x05]), atr(&T0_ATR)]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    assert_eq!(s.active_params().unwrap().reset, ResetKind::Warm);
    // VCC stayed on across the warm reset: one VCC-on only.
    let pins = bus.0.borrow().pins.clone();
    assert_eq!(pins.iter().filter(|p| p.1 == Pin::Vcc(false)).count(), 1);
    assert_eq!(pins.iter().filter(|p| p.1 == Pin::Rst(true)).count(), 2);
}

#[test]
fn atr_rejected_twice_names_both_faults() {
    // Warm: specific mode at Di = 4 (TA1 = 13, TA2 = 00), and this slot has no rate control.
    let (_, mut s) = slot(vec![
        atr(&[0x3B, 0x40, 0x05]),
        atr(&[0x3B, 0xF0, 0x13, 0x00, 0x00, 0x10, 0x00]),
    ]);
    let err = s.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrRejected {
                cold: Some(AtrFault::Rejected(_)),
                warm: Some(AtrFault::UnsupportedRate { fi: 372, di: 4 }),
            }
        ),
        "{err:?}"
    );
    let text = std::format!("{err}");
    assert!(
        text.contains("TC1 = 05") && text.contains("Di = 4"),
        "{text}"
    );
}

#[test]
fn inverse_convention_and_invalid_ts_are_atr_faults() {
    let (_, mut s) = slot(vec![atr(&[0x03]), atr(&[0x12])]);
    let err = s.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrRejected {
                cold: Some(AtrFault::InverseConvention),
                warm: Some(AtrFault::Invalid(crate::atr::AtrError::InvalidTs {
                    value: 0x12
                })),
            }
        ),
        "{err:?}"
    );
}

#[test]
fn exchange_before_power_up_is_api_misuse() {
    let (_, mut s) = slot(vec![]);
    assert!(matches!(
        s.exchange(&[0x00, 0xA4, 0x04, 0x00], &mut [0u8; 4]),
        Err(SlotError::NotActive)
    ));
}

#[test]
fn clock_and_etu_conversions() {
    let c = SlotConfig::emv(CLOCK);
    assert_eq!(c.clocks_to_ns(40_000), 10_000_000);
    assert_eq!(c.etu_to_ns(1, 372, 1), ETU_NS);
    assert_eq!(c.etu_to_ns(4, 372, 4), ETU_NS);
    assert_eq!(SlotConfig::clocks_to_etu(42_000, 372, 1), 113);
}

fn inverse(b: &[u8]) -> Vec<Item> {
    b.iter().map(|&b| Item::Inverse(b)).collect()
}

/// The board's convention hook for the scripted UART.
fn switch_convention(uart: &mut Uart, convention: Convention) -> Result<(), ErrorKind> {
    let mut s = uart.0.0.borrow_mut();
    s.convention = convention;
    s.convention_calls.push(convention);
    Ok(())
}

fn inverse_slot(script: Vec<Step>) -> (Bus, UartContactSlot<Uart, OutPin, OutPin, Delay>) {
    let (bus, s) = slot(script);
    (bus, s.with_convention_control(switch_convention))
}

const T0_ATR_INVERSE: [u8; 4] = [0x3F, 0x60, 0x00, 0x00];

#[test]
fn other_convention_is_reverse_complement() {
    assert_eq!(other_convention(0x3F), 0x03);
    assert_eq!(other_convention(0x03), 0x3F);
    assert_eq!(other_convention(0x3B), 0x23);
    for b in 0..=255u8 {
        assert_eq!(other_convention(other_convention(b)), b);
    }
}

#[test]
fn inverse_card_switches_the_uart_then_back_to_direct() {
    let (bus, mut s) = inverse_slot(vec![
        Step::OnReset {
            delay_etu: 50,
            reply: inverse(&T0_ATR_INVERSE),
        },
        Step::OnWrite {
            expect: vec![0x00, 0xB2, 0x01, 0x0C, 0x02],
            reply: inverse(&[0xB2, 0x70, 0x00, 0x90, 0x00]),
        },
        atr(&T0_ATR),
    ]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR_INVERSE[..]);
    assert_eq!(s.convention(), Some(Convention::Inverse));
    assert_eq!(s.active_params().unwrap().convention, Convention::Inverse);
    let mut r = [0u8; 258];
    let n = s.exchange(&[0x00, 0xB2, 0x01, 0x0C, 0x02], &mut r).unwrap();
    assert_eq!(&r[..n], &[0x70, 0x00, 0x90, 0x00]);
    assert_eq!(bus.0.borrow().convention_calls, [Convention::Inverse]);
    s.power_down().unwrap();
    assert_eq!(
        bus.0.borrow().convention_calls,
        [Convention::Inverse, Convention::Direct]
    );
    assert_eq!(bus.0.borrow().convention, Convention::Direct);
    // The next card is a direct one: no further switch.
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    assert_eq!(s.active_params().unwrap().convention, Convention::Direct);
    assert_eq!(
        bus.0.borrow().convention_calls,
        [Convention::Inverse, Convention::Direct]
    );
    assert!(bus.0.borrow().script.is_empty());
}

#[test]
fn next_cold_reset_goes_back_to_direct_before_activation() {
    let (bus, mut s) = inverse_slot(vec![
        Step::OnReset {
            delay_etu: 50,
            reply: inverse(&T0_ATR_INVERSE),
        },
        atr(&T0_ATR),
    ]);
    s.power_up().unwrap();
    // power_up on an active card: deactivation, then a new activation.
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    let state = bus.0.borrow();
    assert_eq!(
        state.convention_calls,
        [Convention::Inverse, Convention::Direct]
    );
    // Direct again before the second RST high.
    assert_eq!(state.convention, Convention::Direct);
}

#[test]
fn warm_reset_after_an_inverse_cold_atr_starts_direct() {
    // Inverse cold ATR refused (TC1 = 05), direct warm ATR accepted.
    let (bus, mut s) = inverse_slot(vec![
        Step::OnReset {
            delay_etu: 50,
            reply: inverse(&[0x3F, 0x40, 0x05]),
        },
        atr(&T0_ATR),
    ]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    assert_eq!(s.active_params().unwrap().reset, ResetKind::Warm);
    assert_eq!(
        bus.0.borrow().convention_calls,
        [Convention::Inverse, Convention::Direct]
    );
}

#[test]
fn inverse_ts_with_a_parity_error_is_read_again_after_the_switch() {
    // A UART checking even parity sees the inverse TS as a parity error; the card repeats
    // TS after the error signal.
    let mut reply = vec![Item::Parity];
    reply.extend(inverse(&T0_ATR_INVERSE));
    let (bus, mut s) = inverse_slot(vec![Step::OnReset {
        delay_etu: 50,
        reply,
    }]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR_INVERSE[..]);
    assert_eq!(bus.0.borrow().convention_calls, [Convention::Inverse]);
}

#[test]
fn direct_ts_with_a_parity_error_switches_back() {
    // Noise on a direct TS: inverse, the repetition shows as a parity error again, back to
    // direct, the second repetition is read.
    let mut reply = vec![Item::Parity, Item::Parity];
    reply.extend(bytes(&T0_ATR));
    let (bus, mut s) = inverse_slot(vec![Step::OnReset {
        delay_etu: 50,
        reply,
    }]);
    assert_eq!(s.power_up().unwrap(), &T0_ATR[..]);
    assert_eq!(
        bus.0.borrow().convention_calls,
        [Convention::Inverse, Convention::Direct]
    );
}

#[test]
fn inverse_card_without_a_hook_is_a_clear_error() {
    let (bus, mut s) = slot(vec![
        Step::OnReset {
            delay_etu: 50,
            reply: inverse(&T0_ATR_INVERSE),
        },
        Step::OnReset {
            delay_etu: 50,
            reply: inverse(&T0_ATR_INVERSE),
        },
    ]);
    let err = s.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrRejected {
                cold: Some(AtrFault::InverseConvention),
                warm: Some(AtrFault::InverseConvention),
            }
        ),
        "{err:?}"
    );
    let text = std::format!("{err}");
    assert!(text.contains("with_convention_control"), "{text}");
    assert!(bus.0.borrow().convention_calls.is_empty());
}

#[test]
fn a_failing_convention_hook_is_a_uart_error_and_deactivates() {
    fn broken(_: &mut Uart, _: Convention) -> Result<(), ErrorKind> {
        Err(ErrorKind::Unsupported)
    }
    let (bus, s) = slot(vec![Step::OnReset {
        delay_etu: 50,
        reply: inverse(&T0_ATR_INVERSE),
    }]);
    let mut s = s.with_convention_control(broken);
    let err = s.power_up().unwrap_err();
    assert!(
        matches!(err, SlotError::Uart(ErrorKind::Unsupported)),
        "{err:?}"
    );
    assert_eq!(s.convention(), None);
    assert!(s.atr().is_none());
    assert_eq!(bus.0.borrow().pins.last().unwrap().1, Pin::Vcc(true));
}
