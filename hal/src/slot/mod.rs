//! Contact card slots: the [`ContactSlot`] trait (power, reset, presence) and
//! [`UartContactSlot`], a slot over a UART and a few GPIOs for terminals built around an
//! interface chip of the NXP TDA8035 class (the chip generates VCC, CLK and the
//! activation/deactivation sequences; the microcontroller drives RST and CMDVCC and talks to
//! the card's I/O line through its UART).
//!
//! Clauses implemented:
//!
//! * ISO/IEC 7816-3:2006 §6.2.2 and EMV L1 Contact Interface Specification §6.1.2
//!   (activation: RST low, VCC, CLK, I/O in reception), §6.2.2 cold reset (RST held low
//!   40 000–45 000 clock cycles, ATR to start within 40 000 clock cycles of RST high),
//!   §6.2.3 warm reset, §6.4 / EMV L1 §6.1.5 deactivation (RST low, then VCC off) —
//!   [`UartContactSlot::power_up`], [`UartContactSlot::warm_reset`],
//!   [`UartContactSlot::power_down`];
//! * ISO/IEC 7816-3 §8.1–§8.2 and EMV L1 §8.2 ATR timing: at most the initial waiting time
//!   (9 600 etu, with the EMV terminal tolerance 10 080 etu) between two ATR characters and
//!   at most 19 200 etu (tolerance 20 160 etu) for the whole ATR — [`SlotConfig`];
//! * EMV L1 §8.3 ATR acceptance ([`crate::atr::Atr::emv_check_with`]) and the EMV rule
//!   "reject the cold ATR → one warm reset → reject the warm ATR → deactivate"
//!   ([`crate::atr::RejectAction`]);
//! * ISO/IEC 7816-3 §8.1 and EMV L1 §8.1 (EMV Book 1 §8.1) conventions: TS `3B` direct,
//!   `3F` inverse; terminals accept both. An inverse TS read by a direct UART shows as `03`
//!   (or as a parity error); with a [`ConventionControl`] hook
//!   ([`UartContactSlot::with_convention_control`]) the slot switches the UART to inverse
//!   and reads the rest of the ATR and the session in it, and switches back to direct
//!   before the next reset and on deactivation. Without one, `03` is
//!   [`AtrFault::InverseConvention`];
//! * ISO/IEC 7816-3 §9 PPS, only if [`SlotConfig::pps`] asks for it (EMV terminals do not
//!   send PPS);
//! * ISO/IEC 7816-3 §10 / EMV L1 §9.2.2 T=0 over [`crate::t0::T0`] with the work waiting
//!   time of the ATR (WI, D), character repetition on parity errors (§7.3, EMV L1 §9.2.2.4
//!   \[M: the repetition limit\]);
//! * ISO/IEC 7816-3 §11 / EMV L1 §9.2.4 T=1 over [`crate::t1::T1`]: S(IFS request) with
//!   IFSD 254 right after the ATR, BWT/CWT from TB3, block guard time before sending.
//!
//! Timing figures not confirmed against the licensed texts are marked \[M\] on their
//! constants (see `emv-facts.md` §5). All waiting is done by polling
//! `embedded_io::ReadReady` between `DelayNs` steps of [`SlotConfig::poll_interval_etu`]
//! etu; elapsed time is the sum of those steps, so the slot needs no clock.

mod uart;

#[cfg(test)]
mod tests;

use core::fmt;

use crate::atr::{AtrError, Convention, EmvProtocol, EmvRejection, ResetKind};
use crate::pps::PpsError;
use crate::t0::T0Error;
use crate::t1::{StartError, T1Error};

pub use uart::{
    ConventionControl, LineParams, NoPresencePin, RateControl, UartContactSlot, other_convention,
};

/// Cold reset: the least number of clock cycles RST stays low after the clock starts
/// (ISO/IEC 7816-3 §6.2.2; EMV L1 §6.1.3.1: 40 000 to 45 000).
pub const RESET_LOW_CLOCKS_MIN: u32 = 40_000;
/// Cold reset: the most clock cycles RST stays low (EMV L1 §6.1.3.1).
pub const RESET_LOW_CLOCKS_MAX: u32 = 45_000;
/// The slot holds RST low this long: inside the EMV window with margin either side.
pub const DEFAULT_RESET_LOW_CLOCKS: u32 = 42_000;
/// The card starts its ATR at most this many clock cycles after RST goes high
/// (ISO/IEC 7816-3 §6.2.2; EMV L1 §6.1.3.1).
pub const ATR_START_CLOCKS: u32 = 40_000;
/// What an EMV terminal tolerates before declaring the card mute: 42 000 clock cycles
/// \[M: tolerance value unconfirmed\].
pub const EMV_ATR_START_TOLERANCE_CLOCKS: u32 = 42_000;
/// Initial waiting time between two characters of the ATR, in etu (ISO/IEC 7816-3 §8.1:
/// WI = 10, 960 × 10).
pub const INITIAL_WAITING_TIME_ETU: u32 = 9_600;
/// What an EMV terminal tolerates between two ATR characters: 9 600 + 480 etu \[M\].
pub const EMV_ATR_CHARACTER_TOLERANCE_ETU: u32 = 10_080;
/// The longest ATR, leading edge of TS to the end of the last character, in etu
/// (EMV L1 §8.2: 19 200 etu).
pub const ATR_MAX_DURATION_ETU: u32 = 19_200;
/// What an EMV terminal tolerates for the whole ATR: 20 160 etu \[M\].
pub const EMV_ATR_DURATION_TOLERANCE_ETU: u32 = 20_160;
/// Consecutive repetitions of one character after parity errors that an EMV terminal
/// accepts before giving up (T=0 character repetition, ISO/IEC 7816-3 §7.3; EMV L1
/// §9.2.2.4 allows the card to repeat a character at most 4 times \[M\]).
pub const EMV_MAX_CHARACTER_REPETITIONS: u8 = 4;
/// The size of the ATR buffer: the ISO maximum of 33 bytes.
pub const MAX_ATR_LEN: usize = 33;
/// Fi and Di used during the ATR (ISO/IEC 7816-3 §8.1: Fd = 372, Dd = 1).
pub const INITIAL_FI: u16 = 372;

/// A contact card slot: card presence, activation with cold reset, warm reset, deactivation
/// (ISO/IEC 7816-3 §6, EMV L1 §6). Implemented by [`UartContactSlot`]; PC/SC readers and
/// other interface chips can implement it too.
///
/// After a successful [`ContactSlot::power_up`] or [`ContactSlot::warm_reset`] the slot has
/// an accepted ATR and a transmission protocol; APDUs then go through the
/// [`crate::channel::CardChannel`] the slot also implements.
pub trait ContactSlot {
    /// The slot's error.
    type Error: fmt::Debug;

    /// Whether a card is in the slot (a presence switch; `true` if the slot has none).
    ///
    /// # Errors
    /// The presence input could not be read.
    fn card_present(&mut self) -> Result<bool, Self::Error>;

    /// Activates the card and performs a cold reset; if the ATR is not acceptable to EMV,
    /// performs one warm reset (EMV L1 §8.3). Returns the accepted ATR.
    ///
    /// # Errors
    /// No card, a mute card, an ATR rejected twice, a timing violation, a failed PPS or
    /// T=1 IFSD negotiation, or a transport failure. The card is deactivated on error.
    fn power_up(&mut self) -> Result<&[u8], Self::Error>;

    /// Warm reset of an active card (RST low, then high, VCC kept). Returns the new,
    /// accepted ATR.
    ///
    /// # Errors
    /// As [`ContactSlot::power_up`]; the card is deactivated on error.
    fn warm_reset(&mut self) -> Result<&[u8], Self::Error>;

    /// Deactivates the card (RST low, VCC off; the interface chip stops CLK and I/O).
    ///
    /// # Errors
    /// A pin could not be driven.
    fn power_down(&mut self) -> Result<(), Self::Error>;

    /// The ATR accepted at the last reset, `None` while the card is not active.
    fn atr(&self) -> Option<&[u8]>;
}

/// Whether the slot sends a PPS after the ATR (ISO/IEC 7816-3 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PpsPolicy {
    /// Never (EMV: the terminal does not initiate PPS; a negotiable-mode card runs at
    /// Fd/Dd). The default.
    #[default]
    Never,
    /// For a card in negotiable mode whose TA1 is not `11`: request the first protocol
    /// with PPS1 = TA1 ([`crate::pps::PpsRequest::for_atr`]); needs a [`RateControl`].
    Negotiable,
}

/// Parameters of a [`UartContactSlot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotConfig {
    /// Frequency of the card clock (CLK) in Hz; converts clock cycles and etu to time.
    pub clock_hz: u32,
    /// VCC is switched on by driving the VCC pin low (TDA8035 `CMDVCCN`). `true` by default.
    pub vcc_active_low: bool,
    /// Delay between VCC on and the start of the reset-low count, in µs: the interface
    /// chip's VCC ramp and clock start \[chip specific\].
    pub vcc_settle_us: u32,
    /// Clock cycles RST stays low during a cold or warm reset, in
    /// [`RESET_LOW_CLOCKS_MIN`]..=[`RESET_LOW_CLOCKS_MAX`] (clamped to that range).
    pub reset_low_clocks: u32,
    /// Clock cycles after RST high within which TS must start, else the card is mute.
    pub atr_start_clocks: u32,
    /// Longest silence between two ATR characters, in etu.
    pub atr_character_etu: u32,
    /// Longest ATR, first to last character, in etu.
    pub atr_duration_etu: u32,
    /// Polling step while waiting for a character, in etu of the current rate (≥ 1).
    pub poll_interval_etu: u32,
    /// Delay from the last character received to the first one sent, in etu (T=0: 16 etu
    /// between characters in opposite directions; T=1: block guard time 22 etu; a
    /// character lasts 12 etu, so 16 from its end covers both).
    pub turnaround_etu: u32,
    /// Repetitions of one T=0 character after parity errors before the exchange fails.
    pub max_character_repetitions: u8,
    /// Whether to send a PPS.
    pub pps: PpsPolicy,
    /// Warm-reset once when the cold ATR is not acceptable (EMV L1 §8.3). `true` by default.
    pub warm_reset_on_reject: bool,
    /// ATR acceptance options (the `reset` field is set by the slot).
    pub atr_check: crate::atr::EmvCheckOptions,
    /// IFSD announced in the S(IFS request) after a T=1 ATR (EMV: 254 \[M\]); 0 skips the
    /// negotiation.
    pub t1_ifsd: u8,
    /// The UART receives its own characters (TX and RX tied to the single I/O line of the
    /// interface chip): after each write the slot reads back and drops one character per
    /// character sent. `false` by default.
    pub echo: bool,
}

impl SlotConfig {
    /// EMV settings for a card clock of `clock_hz` Hz (TDA8035 with a 4 MHz card clock:
    /// `SlotConfig::emv(4_000_000)`).
    #[must_use]
    pub const fn emv(clock_hz: u32) -> Self {
        Self {
            clock_hz,
            vcc_active_low: true,
            vcc_settle_us: 500,
            reset_low_clocks: DEFAULT_RESET_LOW_CLOCKS,
            atr_start_clocks: EMV_ATR_START_TOLERANCE_CLOCKS,
            atr_character_etu: EMV_ATR_CHARACTER_TOLERANCE_ETU,
            atr_duration_etu: EMV_ATR_DURATION_TOLERANCE_ETU,
            poll_interval_etu: 1,
            turnaround_etu: 16,
            max_character_repetitions: EMV_MAX_CHARACTER_REPETITIONS,
            pps: PpsPolicy::Never,
            warm_reset_on_reject: true,
            atr_check: crate::atr::EmvCheckOptions::COLD,
            t1_ifsd: crate::t1::EMV_IFSD,
            echo: false,
        }
    }

    /// Nanoseconds of `clocks` card clock cycles (rounded up).
    #[must_use]
    pub const fn clocks_to_ns(&self, clocks: u32) -> u64 {
        let hz = if self.clock_hz == 0 {
            1
        } else {
            self.clock_hz as u64
        };
        (clocks as u64 * 1_000_000_000).div_ceil(hz)
    }

    /// Nanoseconds of `etu` elementary time units at Fi/Di (one etu is Fi / (Di × f)
    /// seconds, ISO/IEC 7816-3 §7.1; rounded up).
    #[must_use]
    pub const fn etu_to_ns(&self, etu: u32, fi: u16, di: u8) -> u64 {
        let hz = if self.clock_hz == 0 {
            1
        } else {
            self.clock_hz as u64
        };
        let di = if di == 0 { 1 } else { di as u64 };
        (etu as u64 * fi as u64 * 1_000_000_000).div_ceil(di * hz)
    }

    /// `clocks` card clock cycles expressed in etu at Fi/Di (rounded up).
    #[must_use]
    pub const fn clocks_to_etu(clocks: u32, fi: u16, di: u8) -> u32 {
        let fi = if fi == 0 { 1 } else { fi as u32 };
        (clocks.saturating_mul(if di == 0 { 1 } else { di as u32 })).div_ceil(fi)
    }
}

impl Default for SlotConfig {
    /// [`SlotConfig::emv`] at 4 MHz.
    fn default() -> Self {
        Self::emv(4_000_000)
    }
}

/// Which GPIO failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinRole {
    /// The card's RST line.
    Reset,
    /// VCC / CMDVCC.
    Vcc,
    /// The card presence input.
    Presence,
}

impl fmt::Display for PinRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reset => "RST",
            Self::Vcc => "VCC",
            Self::Presence => "presence",
        })
    }
}

/// Why an ATR was not acceptable (EMV L1 §8.3), cold or warm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AtrFault {
    /// Not a well-formed ATR (ISO/IEC 7816-3 §8.2).
    #[error("invalid ATR: {0}")]
    Invalid(AtrError),
    /// Well-formed but refused by the EMV rules.
    #[error("ATR refused: {0}")]
    Rejected(EmvRejection),
    /// TS read as `03`: an inverse-convention card (TS `3F`) seen by a UART in direct mode,
    /// and the slot has no [`ConventionControl`] to switch the UART.
    #[error(
        "TS = 03: inverse-convention card; enable it with UartContactSlot::with_convention_control (a hook that switches the UART to inverse convention)"
    )]
    InverseConvention,
    /// The ATR asks for a Fi/Di the slot cannot set (no [`RateControl`]).
    #[error("the ATR needs Fi = {fi}, Di = {di} and the slot has no rate control")]
    UnsupportedRate {
        /// Fi.
        fi: u16,
        /// Di.
        di: u8,
    },
}

/// Which protocol step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolFault {
    /// T=0 (ISO/IEC 7816-3 §10), with the INS of the TPDU in progress.
    T0 {
        /// INS of the current TPDU header.
        ins: u8,
        /// What went wrong.
        error: T0Error,
    },
    /// T=0 character repetition: a character arrived with a parity error more often than
    /// [`SlotConfig::max_character_repetitions`] allows.
    ParityRepetitions {
        /// INS of the current TPDU header.
        ins: u8,
        /// Consecutive parity errors seen.
        count: u8,
    },
    /// T=1 (ISO/IEC 7816-3 §11).
    T1(T1Error),
    /// T=1 IFSD negotiation right after the ATR.
    T1Ifsd(T1Error),
    /// The T=1 parameters of the ATR were refused by the engine.
    T1Config(crate::t1::ConfigError),
    /// A protocol engine stopped making progress (a bug, reported rather than looped on).
    Internal(&'static str),
}

impl fmt::Display for ProtocolFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::T0 { ins, error } => write!(f, "T=0, INS {ins:02X}: {error}"),
            Self::ParityRepetitions { ins, count } => write!(
                f,
                "T=0, INS {ins:02X}: {count} consecutive parity errors on one character"
            ),
            Self::T1(e) => write!(f, "T=1: {e}"),
            Self::T1Ifsd(e) => write!(f, "T=1 S(IFS) negotiation after the ATR: {e}"),
            Self::T1Config(e) => write!(f, "T=1 parameters: {e}"),
            Self::Internal(what) => write!(f, "internal: {what}"),
        }
    }
}

/// Why a slot operation failed. By blame: [`SlotError::Uart`] and [`SlotError::Pin`] are
/// the board; [`SlotError::NotActive`], [`SlotError::Command`],
/// [`SlotError::CommandRejected`] are API misuse; the rest is the card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError<E: fmt::Debug> {
    /// The UART failed (kept generic, never erased).
    #[error("UART error: {0:?}")]
    Uart(E),
    /// A GPIO failed.
    #[error("{pin} pin error: {kind:?}")]
    Pin {
        /// Which pin.
        pin: PinRole,
        /// Its error kind.
        kind: embedded_hal::digital::ErrorKind,
    },
    /// The presence input says the slot is empty.
    #[error("no card in the slot")]
    NoCard,
    /// The card left the slot during an exchange.
    #[error("card removed")]
    CardRemoved,
    /// An APDU was sent before a successful power-up (or after a fatal error).
    #[error("the card is not active: power it up first")]
    NotActive,
    /// No TS within [`SlotConfig::atr_start_clocks`] of RST high (EMV L1 §6.1.3.1).
    #[error("mute card: no ATR within {clocks} clock cycles after RST high ({reset:?} reset)")]
    Mute {
        /// Which reset.
        reset: ResetKind,
        /// The limit, in clock cycles.
        clocks: u32,
    },
    /// Silence longer than [`SlotConfig::atr_character_etu`] inside the ATR.
    #[error(
        "ATR character timeout after {received} byte(s): no character within {etu} etu ({reset:?} reset)"
    )]
    AtrCharacterTimeout {
        /// Which reset.
        reset: ResetKind,
        /// ATR bytes received.
        received: usize,
        /// The limit.
        etu: u32,
    },
    /// The ATR lasted longer than [`SlotConfig::atr_duration_etu`].
    #[error("ATR longer than {etu} etu after {received} byte(s) ({reset:?} reset)")]
    AtrDuration {
        /// Which reset.
        reset: ResetKind,
        /// ATR bytes received.
        received: usize,
        /// The limit.
        etu: u32,
    },
    /// An ATR character kept arriving with parity errors.
    #[error("ATR byte {received}: {count} consecutive parity errors ({reset:?} reset)")]
    AtrParity {
        /// Which reset.
        reset: ResetKind,
        /// ATR bytes received before it.
        received: usize,
        /// Parity errors seen.
        count: u8,
    },
    /// More than [`MAX_ATR_LEN`] bytes without a complete ATR.
    #[error("ATR longer than {max} bytes", max = MAX_ATR_LEN)]
    AtrTooLong,
    /// The cold ATR was not acceptable, and neither was the warm one (EMV L1 §8.3: the card
    /// is deactivated). `cold` is `None` after an explicit warm reset, `warm` is `None` when
    /// no warm reset was configured.
    #[error(
        "ATR rejected: cold reset: {}; warm reset: {}",
        DisplayOpt(cold),
        DisplayOpt(warm)
    )]
    AtrRejected {
        /// Why the cold ATR was refused.
        cold: Option<AtrFault>,
        /// Why the warm ATR was refused.
        warm: Option<AtrFault>,
    },
    /// The PPS exchange failed (ISO/IEC 7816-3 §9.1: deactivate).
    #[error("PPS failed: {0}")]
    Pps(PpsError),
    /// No PPS response within the waiting time.
    #[error("PPS: no response within {etu} etu")]
    PpsTimeout {
        /// The limit.
        etu: u32,
    },
    /// The transmission protocol failed; the card was deactivated.
    #[error("protocol error in APDU #{apdu}: {fault}")]
    Protocol {
        /// Number of the APDU exchange since activation (0 = IFSD negotiation or first APDU).
        apdu: u32,
        /// What failed, and where.
        fault: ProtocolFault,
    },
    /// The command cannot be carried (API misuse): T=0 classification.
    #[error("command not transmissible over T=0: {0}")]
    Command(T0Error),
    /// The command cannot be carried (API misuse): T=1.
    #[error("command not transmissible over T=1: {0}")]
    CommandRejected(StartError),
    /// The caller's response buffer is too small.
    #[error("response of {needed} bytes does not fit a {available}-byte buffer")]
    ResponseBufferTooSmall {
        /// Response length.
        needed: usize,
        /// Buffer length.
        available: usize,
    },
}

struct DisplayOpt<'a>(&'a Option<AtrFault>);

impl fmt::Display for DisplayOpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(fault) => fault.fmt(f),
            None => f.write_str("not attempted"),
        }
    }
}

/// What an active slot runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActiveParams {
    /// The protocol.
    pub protocol: EmvProtocol,
    /// Fi in use.
    pub fi: u16,
    /// Di in use.
    pub di: u8,
    /// Character guard time in etu (12 + N, or the minimum for N = 255).
    pub guard_time_etu: u16,
    /// Which reset produced the accepted ATR.
    pub reset: ResetKind,
    /// The card's convention (TS), which the UART is set to.
    pub convention: Convention,
}
