//! A behavioural model of a contact smart card behind a UART interface chip (TDA8035 class),
//! for testing contact slot drivers against behaviour rather than call lists.
//!
//! [`UartCard`] holds the model; its handles implement the bus traits a slot driver uses:
//!
//! * [`ModelUart`]: `embedded_io::{Read, Write, ReadReady}` on the card's I/O line. A
//!   character received with a parity error reads as `ErrorKind::InvalidData`.
//! * [`ModelPin`]: `embedded_hal::digital::OutputPin` for RST and for VCC (CMDVCCN,
//!   active low by default, as on the TDA8035).
//! * [`ModelPresence`]: `embedded_hal::digital::InputPin`, high while a card is inserted.
//! * [`ModelDelay`]: `embedded_hal::delay::DelayNs` — the model's virtual clock. Time
//!   advances only when the driver waits (and when it flushes the UART, which blocks until
//!   the characters are on the line); a card character becomes readable once the clock has
//!   passed the end of its transmission.
//!
//! The card side follows ISO/IEC 7816-3 byte by byte: activation (VCC on, RST released →
//! ATR after a configurable number of clock cycles; a later RST pulse is a warm reset with
//! an optional different ATR), PPS (§9) for cards in negotiable mode, T=0 (§10: procedure
//! bytes, `61xx` and `6Cxx` as a real card uses them, NULL bytes while working) and T=1
//! (§11: blocks with LRC, chaining both ways with the card's IFSC and the terminal's IFSD,
//! S(IFS), S(WTX), the card-side error recovery rules). Behind the protocol sits any
//! [`Card`] — normally the project's [`crate::engine::EmvCard`]; every APDU the card
//! executes is recorded in [`UartCard::log`].
//!
//! Line faults ([`LineFault`]) are injected by position (the n-th character or block the
//! card sends, the n-th block it receives, the n-th command): parity errors (T=0: the
//! interface signals the error and the card repeats the character; T=1: the character is
//! lost to a parity error), corrupted characters (T=1: bad LRC), lost blocks either way,
//! garbage on the line, WTX requests (T=0: NULL bytes), and a card that stops answering.
//! [`CardConfig`] adds the mute card, the slow ATR and small IFSC/response chaining.
//!
//! Conventions (ISO/IEC 7816-3 §8.1): with [`CardConfig::convention`] set to
//! [`Convention::Inverse`] the card sends and receives in the inverse convention (line level
//! inverted, most significant bit first; its ATR should start with TS = `3F`, see
//! [`inverse_atr`]). The terminal's UART has a convention of its own, set through
//! [`ModelUart::set_convention`] (what a board's
//! [`emv_hal::slot::ConventionControl`] hook does); it starts direct. A character sent in
//! one convention and received in the other reads as its bits reversed and complemented
//! (TS `3F` as `03`), or — with [`CardConfig::uart_checks_parity`], since such a character
//! always has odd parity — as a parity error. Each card character is decoded with the
//! convention the UART had when the character ended, so a terminal that switches too late
//! sees the damage. Terminal characters in the wrong convention reach the card garbled and
//! are recorded in [`UartCard::violations`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::rc::Rc;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType as PinErrorType, InputPin, OutputPin};
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write};
use emv_hal::atr::{Atr, Convention, TS_INVERSE};
use emv_hal::slot::{LineParams, other_convention};
use emv_hal::t1::{Block, BlockKind, RCode, SBlock};

use crate::card::{Card, Reply};

/// A fault on the line, placed by position. Counters start at 0 when the model is made and
/// survive resets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// The card's `byte`-th character (counting every character the card sends after the
    /// ATR) arrives with a parity error `times` times. T=0: the interface signals each
    /// error and the card repeats the character; T=1: the character is lost (`times` is
    /// ignored) and the block must be recovered.
    Parity {
        /// Character index.
        byte: u64,
        /// Repetitions with an error before the good one.
        times: u8,
    },
    /// The card's `byte`-th character arrives with one bit flipped and good parity (T=1: bad
    /// LRC; in T=0 this would go unnoticed, so only use it with T=1).
    Corrupt {
        /// Character index.
        byte: u64,
    },
    /// The card's `block`-th T=1 block is lost on the line.
    LoseCardBlock {
        /// Block index.
        block: u64,
    },
    /// The `block`-th T=1 block from the terminal never reaches the card.
    LoseTerminalBlock {
        /// Block index.
        block: u64,
    },
    /// The terminal's `byte`-th character (after the ATR) reaches the card corrupted
    /// (T=1: the card sees a bad LRC and asks for the block again).
    CorruptToCard {
        /// Character index.
        byte: u64,
    },
    /// Garbage characters on the line before the card's `frame`-th answer (T=1: block;
    /// T=0: first procedure byte after a header).
    Garbage {
        /// Frame index.
        frame: u64,
        /// The characters.
        bytes: Vec<u8>,
    },
    /// The card needs more time for its `command`-th command (0-based): T=1 asks S(WTX)
    /// with `multiplier` and answers after 1.5 × BWT; T=0 sends NULL bytes for
    /// `multiplier` work waiting times.
    Wtx {
        /// Command index.
        command: u64,
        /// BWT multiplier (T=1) or number of WWT periods (T=0).
        multiplier: u8,
    },
    /// From its `frame`-th answer on, the card says nothing.
    MuteFrom {
        /// Frame index.
        frame: u64,
    },
}

/// How the modelled card behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardConfig {
    /// The ATR after a cold reset (`None`: the card's own [`Card::atr`]).
    pub atr: Option<Vec<u8>>,
    /// The ATR after a warm reset (`None`: the cold one).
    pub warm_atr: Option<Vec<u8>>,
    /// Clock cycles from RST high to the start of TS (ISO/IEC 7816-3: 400..=40 000).
    pub atr_delay_clocks: u32,
    /// Extra etu between ATR characters.
    pub atr_gap_etu: u32,
    /// The card never answers the reset.
    pub mute: bool,
    /// Etu from the last command character to the card's answer.
    pub processing_etu: u32,
    /// Largest INF the card puts in one T=1 block (the terminal's IFSD also limits it).
    pub max_inf: u8,
    /// Whether the card accepts a PPS (negotiable-mode ATRs).
    pub accept_pps: bool,
    /// The UART receives the terminal's own characters (TX and RX on one I/O line).
    pub echo: bool,
    /// The convention the card uses for everything it sends and receives (ISO/IEC 7816-3
    /// §8.1). Direct by default. The ATR bytes are logical values: give an inverse card an
    /// ATR with TS = `3F` ([`inverse_atr`]).
    pub convention: Convention,
    /// The terminal's UART checks even parity: a character in the other convention than
    /// the UART's reads as a parity error (`ErrorKind::InvalidData`) instead of as its bits
    /// reversed and complemented. The card then sees the error signal on TS and repeats TS
    /// once, 2 etu later (ISO/IEC 7816-3 §7.3). `false` by default (the UART delivers such
    /// characters without a parity check, TS `3F` as `03`).
    pub uart_checks_parity: bool,
    /// The faults.
    pub faults: Vec<LineFault>,
}

impl Default for CardConfig {
    fn default() -> Self {
        Self {
            atr: None,
            warm_atr: None,
            atr_delay_clocks: 10_000,
            atr_gap_etu: 0,
            mute: false,
            processing_etu: 50,
            max_inf: 254,
            accept_pps: true,
            echo: false,
            convention: Convention::Direct,
            uart_checks_parity: false,
            faults: Vec::new(),
        }
    }
}

/// A basic EMV T=0 ATR: `3B 60 00 00` (TB1 = 00, TC1 = 00).
pub const T0_ATR: [u8; 4] = [0x3B, 0x60, 0x00, 0x00];
/// An EMV T=1 ATR with IFSC 254, BWI 4, CWI 5: `3B E0 00 FF 81 31 FE 45 14`.
pub const T1_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// A T=1 ATR like [`T1_ATR`] with IFSC `ifsc` (TA3) and TCK recomputed.
#[must_use]
pub fn t1_atr_with_ifsc(ifsc: u8) -> Vec<u8> {
    let mut atr = T1_ATR;
    atr[6] = ifsc;
    atr[8] = 0;
    let tck = atr.iter().skip(1).fold(0, |a, b| a ^ b);
    atr[8] = tck;
    atr.to_vec()
}

/// `atr` with TS set to `3F` (inverse convention; TCK does not cover TS).
#[must_use]
pub fn inverse_atr(atr: &[u8]) -> Vec<u8> {
    let mut atr = atr.to_vec();
    if let Some(ts) = atr.first_mut() {
        *ts = TS_INVERSE;
    }
    atr
}

/// What a character on the card→terminal line looks like to the UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Char {
    Good(u8),
    Parity,
}

#[derive(Debug)]
enum Proto {
    /// Unpowered, in reset, sending the ATR, or mute.
    Idle,
    /// ATR sent; the next character decides between PPS and the protocol.
    AfterAtr,
    Pps(Vec<u8>),
    T0(T0State),
    T1(T1State),
}

#[derive(Debug, Default)]
struct T0State {
    header: Vec<u8>,
    /// Data expected after an ACK: (header, Lc).
    data: Option<usize>,
    body: Vec<u8>,
    /// Response waiting for GET RESPONSE: data and SW.
    pending: Option<(Vec<u8>, [u8; 2])>,
    /// A case 2 answer waiting for the header to be re-sent with the right P3.
    resend: Option<([u8; 4], Vec<u8>, [u8; 2])>,
}

#[derive(Debug)]
struct T1State {
    rx: Vec<u8>,
    rx_last_ns: u64,
    ns: bool,
    nr: bool,
    ifsc: u8,
    ifsd: u8,
    command: Vec<u8>,
    /// Response being sent and how much of it went out.
    response: Vec<u8>,
    sent: usize,
    chaining: bool,
    last_i: Option<Vec<u8>>,
    /// A response held back until the terminal answers S(WTX request).
    wtx: Option<u8>,
}

struct Inner {
    card: Box<dyn Card>,
    config: CardConfig,
    clock_hz: u32,
    vcc_active_low: bool,
    now_ns: u64,
    vcc_on: bool,
    rst_high: bool,
    rst_low_since_ns: u64,
    resets_since_power: u32,
    inserted: bool,
    removed_by_card: bool,
    proto: Proto,
    /// Card characters: (time readable, character, convention it was sent in).
    tx: VecDeque<(u64, Char, Convention)>,
    /// The terminal UART's convention changes: (time, convention); direct before the first.
    term_conventions: Vec<(u64, Convention)>,
    card_line_free_ns: u64,
    term_line_free_ns: u64,
    /// Rate the terminal's UART uses, and rate the card uses.
    term_rate: (u16, u8),
    card_rate: (u16, u8),
    /// Character counters after the ATR.
    card_chars: u64,
    term_chars: u64,
    card_frames: u64,
    card_blocks: u64,
    term_blocks: u64,
    commands: u64,
    log: Vec<(Vec<u8>, Vec<u8>)>,
    violations: Vec<String>,
    delays: u64,
    atr_info: AtrInfo,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UartCard")
            .field("now_ns", &self.now_ns)
            .field("vcc_on", &self.vcc_on)
            .field("rst_high", &self.rst_high)
            .field("proto", &self.proto)
            .field("commands", &self.commands)
            .finish_non_exhaustive()
    }
}

/// The model: a [`Card`] behind a UART interface, with a virtual clock. The handles
/// ([`UartCard::uart`], [`UartCard::rst`], …) share it.
#[derive(Debug, Clone)]
pub struct UartCard {
    inner: Rc<RefCell<Inner>>,
}

/// The UART handle (`embedded_io`).
#[derive(Debug, Clone)]
pub struct ModelUart {
    inner: Rc<RefCell<Inner>>,
}

/// Which line an output pin drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PinLine {
    Rst,
    Vcc,
}

/// An output pin handle: RST or VCC (`embedded_hal::digital::OutputPin`).
#[derive(Debug, Clone)]
pub struct ModelPin {
    inner: Rc<RefCell<Inner>>,
    line: PinLine,
}

/// The card presence input (`embedded_hal::digital::InputPin`), high while inserted.
#[derive(Debug, Clone)]
pub struct ModelPresence {
    inner: Rc<RefCell<Inner>>,
}

/// The virtual clock (`embedded_hal::delay::DelayNs`).
#[derive(Debug, Clone)]
pub struct ModelDelay {
    inner: Rc<RefCell<Inner>>,
}

const NS: u64 = 1_000_000_000;

impl UartCard {
    /// A card clocked at `clock_hz`, inserted and unpowered.
    pub fn new(card: impl Card + 'static, config: CardConfig, clock_hz: u32) -> Self {
        Self {
            inner: Rc::new(RefCell::new(Inner {
                card: Box::new(card),
                config,
                clock_hz: clock_hz.max(1),
                vcc_active_low: true,
                now_ns: 0,
                vcc_on: false,
                rst_high: false,
                rst_low_since_ns: 0,
                resets_since_power: 0,
                inserted: true,
                removed_by_card: false,
                proto: Proto::Idle,
                tx: VecDeque::new(),
                term_conventions: Vec::new(),
                card_line_free_ns: 0,
                term_line_free_ns: 0,
                term_rate: (372, 1),
                card_rate: (372, 1),
                card_chars: 0,
                term_chars: 0,
                card_frames: 0,
                card_blocks: 0,
                term_blocks: 0,
                commands: 0,
                log: Vec::new(),
                violations: Vec::new(),
                delays: 0,
                atr_info: AtrInfo::default(),
            })),
        }
    }

    /// The UART handle.
    pub fn uart(&self) -> ModelUart {
        ModelUart {
            inner: self.inner.clone(),
        }
    }

    /// The RST pin handle.
    pub fn rst(&self) -> ModelPin {
        ModelPin {
            inner: self.inner.clone(),
            line: PinLine::Rst,
        }
    }

    /// The VCC (CMDVCCN) pin handle.
    pub fn vcc(&self) -> ModelPin {
        ModelPin {
            inner: self.inner.clone(),
            line: PinLine::Vcc,
        }
    }

    /// The presence input handle.
    pub fn presence(&self) -> ModelPresence {
        ModelPresence {
            inner: self.inner.clone(),
        }
    }

    /// The virtual clock handle.
    pub fn delay(&self) -> ModelDelay {
        ModelDelay {
            inner: self.inner.clone(),
        }
    }

    /// Virtual time since the model was made, in ns.
    pub fn now_ns(&self) -> u64 {
        self.inner.borrow().now_ns
    }

    /// Number of `DelayNs` calls so far.
    pub fn delay_calls(&self) -> u64 {
        self.inner.borrow().delays
    }

    /// Every APDU the card executed, with its response (data and SW1 SW2).
    pub fn log(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.inner.borrow().log.clone()
    }

    /// Timing rules the terminal broke (reset too short, characters sent while the card
    /// was powered off…), in words.
    pub fn violations(&self) -> Vec<String> {
        self.inner.borrow().violations.clone()
    }

    /// Whether VCC is on.
    pub fn powered(&self) -> bool {
        self.inner.borrow().vcc_on
    }

    /// Pulls the card out (presence low, power gone).
    pub fn remove(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.inserted = false;
        inner.proto = Proto::Idle;
        inner.tx.clear();
    }

    /// Sets whether VCC is switched on by a low level (TDA8035 CMDVCCN, the default) or a
    /// high one.
    pub fn set_vcc_active_low(&self, active_low: bool) {
        self.inner.borrow_mut().vcc_active_low = active_low;
    }

    /// Replaces the fault list.
    pub fn set_faults(&self, faults: Vec<LineFault>) {
        self.inner.borrow_mut().config.faults = faults;
    }
}

impl ModelUart {
    /// Sets the terminal UART's line parameters (for
    /// [`emv_hal::slot::UartContactSlot::with_rate_control`]).
    ///
    /// # Errors
    /// Never.
    pub fn set_line(&mut self, params: LineParams) -> Result<(), ErrorKind> {
        self.inner.borrow_mut().term_rate = (params.fi, params.di.max(1));
        Ok(())
    }

    /// Switches the terminal UART's convention (for
    /// [`emv_hal::slot::UartContactSlot::with_convention_control`]): characters that end
    /// after now are decoded, and the terminal's characters encoded, in `convention`.
    ///
    /// # Errors
    /// Never.
    pub fn set_convention(&mut self, convention: Convention) -> Result<(), ErrorKind> {
        let mut inner = self.inner.borrow_mut();
        let now = inner.now_ns;
        inner.term_conventions.push((now, convention));
        Ok(())
    }

    /// The terminal UART's convention now.
    pub fn convention(&self) -> Convention {
        let inner = self.inner.borrow();
        inner.term_convention_at(inner.now_ns.saturating_add(1))
    }
}

impl Inner {
    /// The terminal UART's convention for a character that ends at `t`: the last switch
    /// strictly before `t`.
    fn term_convention_at(&self, t: u64) -> Convention {
        self.term_conventions
            .iter()
            .rev()
            .find(|&&(at, _)| at < t)
            .map_or(Convention::Direct, |&(_, c)| c)
    }

    fn etu_ns(&self, rate: (u16, u8)) -> u64 {
        (u64::from(rate.0) * NS).div_ceil(u64::from(rate.1.max(1)) * u64::from(self.clock_hz))
    }

    fn card_etu_ns(&self) -> u64 {
        self.etu_ns(self.card_rate)
    }

    fn clocks_ns(&self, clocks: u32) -> u64 {
        (u64::from(clocks) * NS).div_ceil(u64::from(self.clock_hz))
    }

    fn rates_match(&self) -> bool {
        self.term_rate == self.card_rate
    }

    /// Queues `c` to start no earlier than `earliest`; returns the time it is readable.
    fn emit_char(&mut self, earliest: u64, c: Char) -> u64 {
        let start = earliest.max(self.card_line_free_ns);
        let end = start + 12 * self.card_etu_ns();
        self.card_line_free_ns = end;
        let c = if self.rates_match() { c } else { Char::Parity };
        self.tx.push_back((end, c, self.config.convention));
        end
    }

    /// Sends the card's characters (after the ATR), applying the character faults.
    fn emit(&mut self, earliest: u64, bytes: &[u8]) -> u64 {
        let mut t = earliest;
        for &b in bytes {
            let index = self.card_chars;
            self.card_chars += 1;
            let mut byte = b;
            let mut parity = 0u8;
            let t1 = matches!(self.proto, Proto::T1(_));
            for f in &self.config.faults {
                match f {
                    LineFault::Parity { byte: n, times } if *n == index => {
                        parity = if t1 { 1 } else { *times };
                    }
                    LineFault::Corrupt { byte: n } if *n == index => byte ^= 0x01,
                    _ => {}
                }
            }
            if t1 && parity > 0 {
                t = self.emit_char(t, Char::Parity);
                continue;
            }
            for _ in 0..parity {
                // The receiver signals the error; the card repeats after 2 etu.
                t = self.emit_char(t, Char::Parity);
                t += 2 * self.card_etu_ns();
            }
            t = self.emit_char(t, Char::Good(byte));
        }
        t
    }

    /// The start of a new answer from the card: garbage and mute faults. `false` if the
    /// card says nothing.
    fn begin_frame(&mut self, earliest: u64) -> (bool, u64) {
        let frame = self.card_frames;
        self.card_frames += 1;
        let mut t = earliest;
        let faults = self.config.faults.clone();
        for f in &faults {
            match f {
                LineFault::MuteFrom { frame: n } if frame >= *n => return (false, t),
                LineFault::Garbage { frame: n, bytes } if *n == frame => {
                    for &b in bytes {
                        t = self.emit_char(t, Char::Good(b));
                    }
                }
                _ => {}
            }
        }
        (true, t)
    }

    fn wtx_for(&self, command: u64) -> Option<u8> {
        self.config.faults.iter().find_map(|f| match f {
            LineFault::Wtx {
                command: n,
                multiplier,
            } if *n == command && *multiplier > 0 => Some(*multiplier),
            _ => None,
        })
    }

    /// Runs one APDU on the card, recording it.
    fn execute(&mut self, apdu: &[u8]) -> Option<(Vec<u8>, u64)> {
        self.commands += 1;
        match self.card.transmit(apdu) {
            Reply::Response(r) => {
                self.log.push((apdu.to_vec(), r.clone()));
                Some((r, 0))
            }
            Reply::Delayed(d, r) => {
                self.log.push((apdu.to_vec(), r.clone()));
                Some((r, u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
            }
            Reply::Removed => {
                self.removed_by_card = true;
                self.inserted = false;
                None
            }
        }
    }

    fn on_rst(&mut self, high: bool) {
        if high == self.rst_high {
            return;
        }
        self.rst_high = high;
        if !high {
            self.rst_low_since_ns = self.now_ns;
            self.proto = Proto::Idle;
            self.tx.clear();
            return;
        }
        if !self.vcc_on || !self.inserted {
            return;
        }
        let low_ns = self.now_ns - self.rst_low_since_ns;
        let min_ns = self.clocks_ns(40_000);
        if low_ns < min_ns {
            self.violations.push(format!(
                "RST low for {low_ns} ns, less than 40 000 clock cycles ({min_ns} ns)"
            ));
        }
        let warm = self.resets_since_power > 0;
        self.resets_since_power += 1;
        if warm {
            self.card.reset();
        } else {
            self.card.power_on();
        }
        self.card_rate = (372, 1);
        self.card_line_free_ns = self.now_ns;
        if self.config.mute {
            return;
        }
        let atr = match (&self.config.warm_atr, &self.config.atr) {
            (Some(w), _) if warm => w.clone(),
            (_, Some(a)) => a.clone(),
            (_, None) => self.card.atr(),
        };
        let mut t = self.now_ns + self.clocks_ns(self.config.atr_delay_clocks);
        let gap = u64::from(self.config.atr_gap_etu) * self.card_etu_ns();
        // A UART checking parity in the other convention signals an error on TS: the card
        // repeats it (once), by then possibly read in the right convention.
        let ts_error = self.config.uart_checks_parity
            && self.term_convention_at(t + 12 * self.card_etu_ns()) != self.config.convention;
        for (i, &b) in atr.iter().enumerate() {
            t = self.emit_char(t, Char::Good(b)) + gap;
            if i == 0 && ts_error {
                t = self.emit_char(t + 2 * self.card_etu_ns(), Char::Good(b)) + gap;
            }
        }
        self.proto = Proto::AfterAtr;
        // The card starts the protocol on the first character that is not a PPS; in
        // specific mode the rate of TA1 applies right after the ATR.
        self.atr_info = atr_info(&atr);
        if let Some(rate) = self.atr_info.specific_rate {
            self.card_rate = rate;
        }
    }

    fn on_vcc(&mut self, on: bool) {
        if on == self.vcc_on {
            return;
        }
        self.vcc_on = on;
        self.proto = Proto::Idle;
        self.tx.clear();
        self.resets_since_power = 0;
        if on {
            if self.rst_high {
                self.violations
                    .push("VCC switched on with RST high".to_string());
            }
        } else {
            self.card.power_off();
        }
    }

    /// A character from the terminal, fully received at `at`.
    fn on_term_char(&mut self, at: u64, byte: u8) {
        if !self.vcc_on || !self.inserted {
            return;
        }
        let byte = if self.rates_match() {
            byte
        } else {
            byte ^ 0xFF
        };
        let sent = self.term_convention_at(at);
        let byte = if sent == self.config.convention {
            byte
        } else {
            self.violations.push(format!(
                "terminal character {byte:02X} sent in the {sent:?} convention to a card in the {:?} convention",
                self.config.convention
            ));
            other_convention(byte)
        };
        let index = self.term_chars;
        self.term_chars += 1;
        let byte = if self
            .config
            .faults
            .iter()
            .any(|f| matches!(f, LineFault::CorruptToCard { byte } if *byte == index))
        {
            byte ^ 0x01
        } else {
            byte
        };
        let proto = std::mem::replace(&mut self.proto, Proto::Idle);
        self.proto = match proto {
            Proto::Idle => Proto::Idle,
            Proto::AfterAtr => {
                let info = self.atr_info;
                if byte == 0xFF && info.negotiable && self.config.accept_pps {
                    Proto::Pps(vec![byte])
                } else {
                    let mut next = self.start_protocol(info);
                    self.feed(&mut next, at, byte);
                    next
                }
            }
            Proto::Pps(mut frame) => {
                frame.push(byte);
                let needed = frame
                    .get(1)
                    .map_or(3, |pps0| emv_hal::pps::frame_len(*pps0));
                if frame.len() < needed {
                    Proto::Pps(frame)
                } else {
                    self.answer_pps(at, &frame)
                }
            }
            mut p @ (Proto::T0(_) | Proto::T1(_)) => {
                self.feed(&mut p, at, byte);
                p
            }
        };
    }

    fn start_protocol(&mut self, info: AtrInfo) -> Proto {
        if info.t1 {
            Proto::T1(T1State {
                rx: Vec::new(),
                rx_last_ns: 0,
                ns: false,
                nr: false,
                ifsc: info.ifsc,
                ifsd: 32,
                command: Vec::new(),
                response: Vec::new(),
                sent: 0,
                chaining: false,
                last_i: None,
                wtx: None,
            })
        } else {
            Proto::T0(T0State::default())
        }
    }

    fn answer_pps(&mut self, at: u64, frame: &[u8]) -> Proto {
        let Ok(parsed) = emv_hal::pps::PpsFrame::parse(frame) else {
            // An invalid PPS request is not answered (ISO/IEC 7816-3 §9.1).
            return Proto::Idle;
        };
        let t = at + self.card_etu_ns() * u64::from(self.config.processing_etu);
        let mut t = t;
        for &b in frame {
            t = self.emit_char(t, Char::Good(b));
        }
        let _ = t;
        if let Some(pps1) = parsed.pps1 {
            let fi = emv_hal::atr::fi_from_code(pps1 >> 4).unwrap_or(372);
            let di = emv_hal::atr::di_from_code(pps1 & 0x0F).unwrap_or(1);
            // The new rate applies after the response.
            self.card_rate = (fi, di);
        }
        let mut info = self.atr_info;
        info.specific_rate = None;
        info.t1 = parsed.protocol == 1;
        self.start_protocol(info)
    }

    fn feed(&mut self, proto: &mut Proto, at: u64, byte: u8) {
        match proto {
            Proto::T0(s) => self.t0_byte(s, at, byte),
            Proto::T1(s) => self.t1_byte(s, at, byte),
            Proto::Idle | Proto::AfterAtr | Proto::Pps(_) => {}
        }
    }

    // ---- T=0 card side (ISO/IEC 7816-3 §10) ----

    fn t0_byte(&mut self, s: &mut T0State, at: u64, byte: u8) {
        if let Some(lc) = s.data {
            s.body.push(byte);
            if s.body.len() >= lc {
                s.data = None;
                let header = std::mem::take(&mut s.header);
                let body = std::mem::take(&mut s.body);
                let mut apdu: Vec<u8> = header.iter().take(5).copied().collect();
                apdu.extend_from_slice(&body);
                if matches!(header.get(1), Some(0xA4 | 0xA8 | 0xAE | 0x88)) {
                    apdu.push(0x00);
                }
                self.t0_run(s, at, &apdu, None);
            }
            return;
        }
        s.header.push(byte);
        if s.header.len() < 5 {
            return;
        }
        let header: [u8; 5] = s
            .header
            .get(..5)
            .and_then(|h| h.try_into().ok())
            .unwrap_or([0; 5]);
        let ins = header[1];
        let p3 = header[4];
        let etu = self.card_etu_ns();
        let start = at + etu * 4;
        if ins == 0xC0 && header[0] == 0x00 {
            s.header.clear();
            let (ok, t) = self.begin_frame(start);
            if !ok {
                return;
            }
            match s.pending.take() {
                Some((data, sw)) => {
                    let want = if p3 == 0 { 256 } else { usize::from(p3) };
                    if want == data.len() {
                        let mut out = vec![ins];
                        out.extend_from_slice(&data);
                        out.extend_from_slice(&sw);
                        self.emit(t, &out);
                    } else if want > data.len() || p3 == 0 {
                        let len = u8::try_from(data.len()).unwrap_or(0);
                        s.pending = Some((data, sw));
                        self.emit(t, &[0x6C, len]);
                    } else {
                        // Le shorter than the data: send what was asked, keep the rest
                        // announced with 61xx.
                        let mut out = vec![ins];
                        let (first, rest) = data.split_at(want.min(data.len()));
                        out.extend_from_slice(first);
                        let rest = rest.to_vec();
                        let len = u8::try_from(rest.len()).unwrap_or(0);
                        out.extend_from_slice(&[0x61, len]);
                        s.pending = Some((rest, sw));
                        self.emit(t, &out);
                    }
                }
                None => {
                    self.emit(t, &[0x6F, 0x00]);
                }
            }
            return;
        }
        if let Some((h4, data, sw)) = s.resend.take() {
            let want = if p3 == 0 { 256 } else { usize::from(p3) };
            if h4 == header[..4] && want == data.len() {
                s.header.clear();
                let (ok, t) = self.begin_frame(start);
                if ok {
                    let mut out = vec![ins];
                    out.extend_from_slice(&data);
                    out.extend_from_slice(&sw);
                    self.emit(t, &out);
                }
                return;
            }
        }
        let case2 = matches!(ins, 0xB2 | 0xCA | 0x84 | 0xB0 | 0xCB);
        if !case2 && p3 > 0 {
            // Data to the card: ACK, then the Lc bytes.
            let (ok, t) = self.begin_frame(start);
            if ok {
                self.emit(t, &[ins]);
                s.data = Some(usize::from(p3));
            } else {
                s.header.clear();
            }
            return;
        }
        s.header.clear();
        let mut apdu = header[..4].to_vec();
        if case2 {
            apdu.push(p3);
        }
        self.t0_run(s, at, &apdu, case2.then_some(p3));
    }

    /// Executes `apdu` and answers with procedure bytes as a T=0 card does.
    /// `le` is `Some` for a case 2 command (data from the card), `None` otherwise.
    fn t0_run(&mut self, s: &mut T0State, at: u64, apdu: &[u8], le: Option<u8>) {
        let etu = self.card_etu_ns();
        let command = self.commands;
        let Some((r, extra)) = self.execute(apdu) else {
            return;
        };
        let (ok, mut t) = self.begin_frame(at + etu * 4);
        if !ok {
            return;
        }
        // Working time: NULL bytes keep the terminal waiting (one per WWT/2).
        if let Some(periods) = self.wtx_for(command) {
            let half_wwt = 960 * 10 / 2 * etu;
            for _ in 0..u32::from(periods) * 2 + 1 {
                t = self.emit(t + half_wwt, &[0x60]);
            }
        }
        t += extra + u64::from(self.config.processing_etu) * etu;
        let split = r.len().saturating_sub(2);
        let (data, sw) = r.split_at(split);
        let sw: [u8; 2] = sw.try_into().unwrap_or([0x6F, 0x00]);
        if data.is_empty() {
            self.emit(t, &sw);
            return;
        }
        let len = u8::try_from(data.len() % 256).unwrap_or(0);
        let Some(le) = le else {
            let warning =
                matches!(sw[0], 0x62 | 0x63) || (sw[0] & 0xF0 == 0x90 && sw != [0x90, 0x00]);
            if warning {
                s.pending = Some((data.to_vec(), [0x90, 0x00]));
                self.emit(t, &sw);
            } else {
                s.pending = Some((data.to_vec(), sw));
                self.emit(t, &[0x61, len]);
            }
            return;
        };
        let want = if le == 0 { 256 } else { usize::from(le) };
        if want == data.len() {
            let mut out = vec![apdu.get(1).copied().unwrap_or(0)];
            out.extend_from_slice(data);
            out.extend_from_slice(&sw);
            self.emit(t, &out);
        } else {
            let h4: [u8; 4] = apdu
                .get(..4)
                .and_then(|h| h.try_into().ok())
                .unwrap_or([0; 4]);
            s.resend = Some((h4, data.to_vec(), sw));
            self.emit(t, &[0x6C, len]);
        }
    }

    // ---- T=1 card side (ISO/IEC 7816-3 §11) ----

    fn t1_byte(&mut self, s: &mut T1State, at: u64, byte: u8) {
        let etu = self.card_etu_ns();
        if !s.rx.is_empty() && at.saturating_sub(s.rx_last_ns) > 100 * etu {
            // A stale partial block: start again.
            s.rx.clear();
        }
        s.rx_last_ns = at;
        s.rx.push(byte);
        let Some(&len) = s.rx.get(2) else { return };
        if s.rx.len() < 4 + usize::from(len) {
            return;
        }
        let block = std::mem::take(&mut s.rx);
        let index = self.term_blocks;
        self.term_blocks += 1;
        if self
            .config
            .faults
            .iter()
            .any(|f| matches!(f, LineFault::LoseTerminalBlock { block } if *block == index))
        {
            return;
        }
        let t = at + etu * 22;
        let decoded = Block::decode(&block, emv_hal::atr::Edc::Lrc, s.ifsc);
        let Ok(decoded) = decoded else {
            let code = match decoded {
                Err(e) if e.is_edc() => RCode::EdcOrParity,
                _ => RCode::Other,
            };
            self.t1_send(s, t, BlockKind::R { nr: s.nr, code }, false);
            return;
        };
        match decoded.kind {
            BlockKind::S(SBlock::IfsRequest(v)) => {
                s.ifsd = v;
                self.t1_send(s, t, BlockKind::S(SBlock::IfsResponse(v)), false);
            }
            BlockKind::S(SBlock::WtxResponse(_)) if s.wtx.is_some() => {
                let m = s.wtx.take().unwrap_or(1);
                // Work for 1.5 BWT × (m - 1) + ..., inside m × BWT.
                let bwt = (11 + 16 * 960) * etu;
                let t = t + bwt * u64::from(m) * 3 / 4;
                self.t1_send_chunk(s, t);
            }
            _ if s.wtx.is_some() => {
                let m = s.wtx.unwrap_or(1);
                self.t1_send(s, t, BlockKind::S(SBlock::WtxRequest(m)), false);
            }
            BlockKind::S(SBlock::ResynchRequest) => {
                s.ns = false;
                s.nr = false;
                s.chaining = false;
                s.last_i = None;
                self.t1_send(s, t, BlockKind::S(SBlock::ResynchResponse), false);
            }
            BlockKind::S(_) => {}
            BlockKind::I { ns, more, inf } => {
                if ns != s.nr {
                    self.t1_retransmit(s, t);
                    return;
                }
                s.nr = !s.nr;
                if s.chaining {
                    // A new command aborts the response chain.
                    s.chaining = false;
                }
                s.command.extend_from_slice(inf);
                if more {
                    self.t1_send(
                        s,
                        t,
                        BlockKind::R {
                            nr: s.nr,
                            code: RCode::Ok,
                        },
                        false,
                    );
                    return;
                }
                let command = std::mem::take(&mut s.command);
                let index = self.commands;
                let Some((r, extra)) = self.execute(&command) else {
                    return;
                };
                s.response = r;
                s.sent = 0;
                s.chaining = true;
                let t = t + extra + u64::from(self.config.processing_etu) * etu;
                if let Some(m) = self.wtx_for(index) {
                    s.wtx = Some(m);
                    self.t1_send(s, t, BlockKind::S(SBlock::WtxRequest(m)), false);
                } else {
                    self.t1_send_chunk(s, t);
                }
            }
            BlockKind::R { nr, .. } => {
                if s.chaining && s.sent > 0 && nr == s.ns && s.sent < s.response.len() {
                    self.t1_send_chunk(s, t);
                } else if s.last_i.is_some() && nr != s.ns {
                    self.t1_retransmit(s, t);
                } else {
                    self.t1_send(
                        s,
                        t,
                        BlockKind::R {
                            nr: s.nr,
                            code: RCode::Ok,
                        },
                        false,
                    );
                }
            }
        }
    }

    fn t1_send_chunk(&mut self, s: &mut T1State, t: u64) {
        let max = usize::from(s.ifsd.min(self.config.max_inf).max(1));
        let rest = s.response.len() - s.sent;
        let n = rest.min(max);
        let more = rest > max;
        let inf = s
            .response
            .get(s.sent..s.sent + n)
            .unwrap_or_default()
            .to_vec();
        s.sent += n;
        if !more {
            s.chaining = false;
        }
        let ns = s.ns;
        s.ns = !s.ns;
        self.t1_send(
            s,
            t,
            BlockKind::I {
                ns,
                more,
                inf: &inf,
            },
            true,
        );
    }

    fn t1_retransmit(&mut self, s: &mut T1State, t: u64) {
        match s.last_i.clone() {
            Some(bytes) => self.t1_emit_block(t, &bytes),
            None => self.t1_send(
                s,
                t,
                BlockKind::R {
                    nr: s.nr,
                    code: RCode::Ok,
                },
                false,
            ),
        }
    }

    fn t1_send(&mut self, s: &mut T1State, t: u64, kind: BlockKind<'_>, is_i: bool) {
        let block = Block { nad: 0, kind };
        let mut buf = [0u8; emv_hal::t1::MAX_BLOCK_LEN];
        let Ok(n) = block.encode(emv_hal::atr::Edc::Lrc, &mut buf) else {
            return;
        };
        let bytes = buf.get(..n).unwrap_or_default().to_vec();
        if is_i {
            s.last_i = Some(bytes.clone());
        }
        self.t1_emit_block(t, &bytes);
    }

    fn t1_emit_block(&mut self, t: u64, bytes: &[u8]) {
        let index = self.card_blocks;
        self.card_blocks += 1;
        let (ok, t) = self.begin_frame(t);
        if !ok {
            return;
        }
        if self
            .config
            .faults
            .iter()
            .any(|f| matches!(f, LineFault::LoseCardBlock { block } if *block == index))
        {
            // Lost on the line: the characters still count.
            self.card_chars += bytes.len() as u64;
            return;
        }
        self.emit(t, bytes);
    }
}

/// What the card takes from its own ATR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct AtrInfo {
    t1: bool,
    ifsc: u8,
    negotiable: bool,
    specific_rate: Option<(u16, u8)>,
}

fn atr_info(atr: &[u8]) -> AtrInfo {
    let Ok(a) = Atr::parse(atr) else {
        return AtrInfo {
            t1: false,
            ifsc: 32,
            negotiable: true,
            specific_rate: None,
        };
    };
    let negotiable = a.ta(2).is_none();
    AtrInfo {
        t1: a.first_protocol() == 1,
        ifsc: a.ifsc(),
        negotiable,
        specific_rate: (!negotiable).then(|| (a.fi().unwrap_or(372), a.di().unwrap_or(1))),
    }
}

impl ErrorType for ModelUart {
    type Error = ErrorKind;
}

impl Read for ModelUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let mut inner = self.inner.borrow_mut();
        if buf.is_empty() {
            return Ok(0);
        }
        // Blocking read: wait for the next character if none is ready.
        let Some(&(due, _, _)) = inner.tx.front() else {
            return Err(ErrorKind::TimedOut);
        };
        if due > inner.now_ns {
            inner.now_ns = due;
        }
        let now = inner.now_ns;
        let mut n = 0;
        for slot in buf.iter_mut() {
            let front = inner.tx.front().map(|&(due, c, sent)| match c {
                Char::Good(b) => {
                    let uart = inner.term_convention_at(due);
                    if sent == uart {
                        (due, Char::Good(b))
                    } else if inner.config.uart_checks_parity {
                        // Reversed and complemented, the character has odd parity.
                        (due, Char::Parity)
                    } else {
                        (due, Char::Good(other_convention(b)))
                    }
                }
                Char::Parity => (due, Char::Parity),
            });
            match front {
                Some((due, Char::Good(b))) if due <= now => {
                    *slot = b;
                    n += 1;
                    inner.tx.pop_front();
                }
                Some((due, Char::Parity)) if due <= now => {
                    if n == 0 {
                        inner.tx.pop_front();
                        return Err(ErrorKind::InvalidData);
                    }
                    break;
                }
                _ => break,
            }
        }
        Ok(n)
    }
}

impl ReadReady for ModelUart {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        let inner = self.inner.borrow();
        Ok(inner
            .tx
            .front()
            .is_some_and(|&(due, _, _)| due <= inner.now_ns))
    }
}

impl Write for ModelUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let mut inner = self.inner.borrow_mut();
        let etu = inner.etu_ns(inner.term_rate);
        for &b in buf {
            let start = inner.now_ns.max(inner.term_line_free_ns);
            let end = start + 12 * etu;
            inner.term_line_free_ns = end;
            if inner.config.echo && inner.vcc_on {
                // The echo sits in time order among the card's characters.
                let at = inner.tx.partition_point(|&(due, _, _)| due <= end);
                let convention = inner.term_convention_at(end);
                inner.tx.insert(at, (end, Char::Good(b), convention));
            }
            inner.on_term_char(end, b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        let mut inner = self.inner.borrow_mut();
        inner.now_ns = inner.now_ns.max(inner.term_line_free_ns);
        Ok(())
    }
}

impl PinErrorType for ModelPin {
    type Error = Infallible;
}

impl OutputPin for ModelPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        let mut inner = self.inner.borrow_mut();
        match self.line {
            PinLine::Rst => inner.on_rst(false),
            PinLine::Vcc => {
                let on = inner.vcc_active_low;
                inner.on_vcc(on);
            }
        }
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        let mut inner = self.inner.borrow_mut();
        match self.line {
            PinLine::Rst => inner.on_rst(true),
            PinLine::Vcc => {
                let on = !inner.vcc_active_low;
                inner.on_vcc(on);
            }
        }
        Ok(())
    }
}

impl PinErrorType for ModelPresence {
    type Error = Infallible;
}

impl InputPin for ModelPresence {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.inner.borrow().inserted)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.inner.borrow().inserted)
    }
}

impl DelayNs for ModelDelay {
    fn delay_ns(&mut self, ns: u32) {
        let mut inner = self.inner.borrow_mut();
        inner.now_ns += u64::from(ns);
        inner.delays += 1;
    }
}
