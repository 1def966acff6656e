//! T=0 character protocol (ISO/IEC 7816-3 §10, EMV Book 1 §9.2.2, EMV L1 Annex A).
//!
//! A sans-IO engine that runs one C-APDU over T=0: it maps the APDU onto TPDUs, interprets
//! the card's procedure bytes and status words, and issues the GET RESPONSE and re-sent
//! headers EMV asks the terminal transport layer (TTL) for. It does no I/O, reads no clock
//! and needs no heap; a UART driver feeds it the bytes it reads and writes the bytes it is
//! given, byte by byte or in chunks of any size.
//!
//! Clauses implemented:
//!
//! * ISO/IEC 7816-3:2006 §10.3.2 (the header `CLA INS P1 P2 P3`; `CLA = FF` and `INS = 6X/9X`
//!   are invalid), §10.3.3 (procedure bytes: NULL `60`, ACK `INS` — all remaining data —,
//!   ACK `INS ⊕ FF` — one data byte —, SW1 `6X`/`9X` followed by SW2), §12.2 (mapping of the
//!   short APDU cases 1–4 onto TPDUs: case 1 `P3 = 00`, case 2 `P3 = Le`, case 3/4 `P3 = Lc`,
//!   case 4 without Le) — in [`T0::start`], [`T0::handle_received`], [`T0::poll_transmit`];
//! * EMV Book 1 §9.2.2.3 / §9.3.1 (Table 25, procedure byte handling; `61xx` → GET RESPONSE
//!   `00 C0 00 00 xx`; `6Cxx` → the same header again with `P3 = xx`) \[S: openemv/emv-utils
//!   `emv_ttl.c`\];
//! * EMV L1 Contact Interface Specification Annex A1–A7, the transport examples: every trace
//!   quoted in `emv-facts.md` §5.2 and the emv-utils TPDU tests is a unit test of this
//!   module. Annex A7 (case 4 answered with a warning `62xx`, `63xx` or `9xxx` other than
//!   `9000` and no data → GET RESPONSE with `Le = 00`, the R-APDU carries the data of the
//!   GET RESPONSE and the **warning** status) is [`T0Config::get_response_on_warning`]
//!   \[S: emv-utils `emv_ttl_pcsc_test.c`, "Annex A7, first/second example": the
//!   resulting status word is the warning\];
//! * the work waiting time of ISO/IEC 7816-3 §10.2 with the EMV tolerance, as an etu budget
//!   the driver arms per byte ([`T0::poll_timeout`]) — see [`WWT_FACTOR`] and
//!   [`EMV_WWT_TOLERANCE_FACTOR`] for their confidence.
//!
//! # How a driver runs it
//!
//! ```
//! use emv_hal::t0::{T0, T0Config, T0Event};
//!
//! let select = [0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00];
//! let mut response = [0u8; 258];
//! let mut t0 = T0::start(T0Config::default(), &select, &mut response)?;
//! let mut tx = [0u8; 32];
//! // The card's side of this example: ACK, then (after the two data bytes) SW 90 00.
//! let card: [&[u8]; 2] = [&[0xA4], &[0x90, 0x00]];
//! let mut card = card.iter();
//! let event = loop {
//!     while let Some(n) = t0.poll_transmit(&mut tx) {
//!         let _to_uart = &tx[..n]; // write these to the card
//!     }
//!     if let Some(event) = t0.poll_event() {
//!         break event;
//!     }
//!     // Wait up to `t0.poll_timeout()` etu for the next byte(s).
//!     match card.next() {
//!         Some(bytes) => t0.handle_received(bytes),
//!         None => t0.handle_timeout(),
//!     }
//! };
//! assert_eq!(event, T0Event::Complete { len: 2 });
//! assert_eq!(t0.response(), Some(&[0x90, 0x00][..]));
//! # Ok::<(), emv_hal::t0::T0Error>(())
//! ```
//!
//! The driver re-arms its timer after every byte sent or received; a NULL byte is a
//! received byte, so it restarts the work waiting time by itself. Half-duplex interfaces
//! that echo the transmitted bytes on the I/O line must drop the echo before calling
//! [`T0::handle_received`]: a byte arriving while the engine still has bytes to send is a
//! protocol error ([`T0Error::ByteWhileTransmitting`]).
//!
//! # Choices where the sources leave room
//!
//! * A `61xx` or `6Cxx` answer to a case 1 or case 3 TPDU (or `6Cxx` to the case 4 TPDU,
//!   which carries no Le) cannot be acted upon; it is returned to the caller as the status
//!   word, like any other (ISO/IEC 7816-3 §12.2 lists `61xx`/`6Cxx` for cases 2 and 4 only).
//! * ACK (`INS` or `INS ⊕ FF`) when no data byte remains in the current TPDU is accepted and
//!   ignored ("transmit all remaining data bytes, **if any**", §10.3.3); such bytes count,
//!   with NULL bytes, against [`T0Config::max_idle_procedure_bytes`].
//! * After an ACK the whole announced run of data bytes is read as data. A card may still
//!   end a transfer early with a status word if it drives the transfer one byte at a time
//!   (`INS ⊕ FF`); the bytes received so far are kept.
//! * Bytes that arrive after SW2 in the same [`T0::handle_received`] call, before the
//!   outcome is polled, turn the exchange into [`T0Error::TrailingByte`] (the card sent more
//!   than it announced); bytes handed in after the outcome has been polled are ignored.
//! * Loops are bounded: at most [`T0Config::max_tpdus`] TPDUs per exchange (a card answering
//!   `61xx` or `6Cxx` forever), at most [`T0Config::max_idle_procedure_bytes`] NULL/idle
//!   procedure bytes, at most [`T0Config::max_response_data`] data bytes.

#[cfg(test)]
mod tests;

use core::fmt;

use crate::atr::DEFAULT_WI;

/// The NULL procedure byte: the card needs more time (ISO/IEC 7816-3 §10.3.3).
pub const NULL: u8 = 0x60;

/// INS of GET RESPONSE (ISO/IEC 7816-4 §7.6.1; EMV Book 1 §9.3.1.3).
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// CLA of the GET RESPONSE commands the engine issues. EMV gives GET RESPONSE as
/// `00 C0 00 00 xx` whatever the class of the command it completes (EMV Book 1 §9.3.1;
/// `emv-facts.md` §1.1 and §5.2 \[S\]); ISO/IEC 7816-4 would let it follow the command's
/// class (logical channel, secure messaging). Configurable in
/// [`T0Config::get_response_cla`].
pub const GET_RESPONSE_CLA: u8 = 0x00;

/// WWT = `WWT_FACTOR` × WI × Di etu (ISO/IEC 7816-3 §10.2: WWT = 960 × WI × Fi / f seconds,
/// and one etu is Fi / (Di × f) seconds). **\[M\]**: from general domain knowledge, not
/// confirmed against the licensed text (`emv-facts.md` §5.2 "Timing").
pub const WWT_FACTOR: u32 = 960;

/// EMV lets the terminal accept a character up to WWT + `EMV_WWT_TOLERANCE_FACTOR` × D etu
/// after the previous one (EMV L1 §9.2.2.1). **\[M\]**: unconfirmed value
/// (`emv-facts.md` §5.2 "Timing").
pub const EMV_WWT_TOLERANCE_FACTOR: u32 = 480;

/// Minimum delay between the leading edge of the last character received from the card and
/// the first character the terminal sends, in etu (ISO/IEC 7816-3 §10.2, "16 etu between
/// characters in opposite directions"). Applied by the driver, not by this engine.
/// **\[M\]**: unconfirmed value.
pub const MIN_TURNAROUND_ETU: u32 = 16;

/// Default for [`T0Config::max_tpdus`]. Not a spec value: an engineering bound. The Annex A
/// examples need at most 4 TPDUs per APDU.
pub const DEFAULT_MAX_TPDUS: u16 = 64;

/// Default for [`T0Config::max_idle_procedure_bytes`]. Not a spec value (ISO/IEC 7816-3 and,
/// as far as known \[M\], EMV put no limit on NULL bytes): an engineering bound of a few
/// minutes of card processing at usual speeds.
pub const DEFAULT_MAX_IDLE_PROCEDURE_BYTES: u32 = 4096;

/// Largest response data of a short APDU (Le = `00` means 256).
pub const MAX_RESPONSE_DATA: u16 = 256;

/// Work waiting time in etu for a waiting time integer `wi` and a baud rate adjustment
/// integer `d` (the value Di, not its code): `960 × WI × D` ([`WWT_FACTOR`], \[M\]).
#[must_use]
pub const fn work_waiting_time_etu(wi: u8, d: u8) -> u32 {
    WWT_FACTOR * (wi as u32) * (d as u32)
}

/// The EMV tolerance on top of [`work_waiting_time_etu`]: `WWT + 480 × D`
/// ([`EMV_WWT_TOLERANCE_FACTOR`], \[M\]).
#[must_use]
pub const fn emv_work_waiting_time_etu(wi: u8, d: u8) -> u32 {
    work_waiting_time_etu(wi, d) + EMV_WWT_TOLERANCE_FACTOR * (d as u32)
}

/// Parameters of the T=0 engine. [`T0Config::default`] is [`T0Config::EMV_DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct T0Config {
    /// Longest wait for the next character from the card, in etu, returned by
    /// [`T0::poll_timeout`]. See [`emv_work_waiting_time_etu`].
    pub waiting_time_etu: u32,
    /// EMV L1 Annex A7: when a case 4 command is answered with a warning (`62xx`, `63xx`,
    /// `9xxx` other than `9000`) and no data, issue GET RESPONSE with `Le = 00` and return
    /// the data with the warning status. `true` by default (EMV); `false` returns the
    /// warning alone, as plain ISO/IEC 7816-3 does.
    pub get_response_on_warning: bool,
    /// CLA of the GET RESPONSE commands: [`GET_RESPONSE_CLA`] (`00`) by default.
    pub get_response_cla: u8,
    /// Most TPDUs (headers sent) in one exchange, the first included. Beyond it the exchange
    /// fails with [`T0Error::TooManyTpdus`].
    pub max_tpdus: u16,
    /// Most NULL bytes (and ACKs with nothing left to transfer) in one exchange. Beyond it
    /// the exchange fails with [`T0Error::TooManyIdleProcedureBytes`].
    pub max_idle_procedure_bytes: u32,
    /// Most response data bytes accepted (excluding SW1 SW2), at most the response buffer
    /// length minus 2. [`MAX_RESPONSE_DATA`] by default.
    pub max_response_data: u16,
}

impl T0Config {
    /// EMV defaults: WI = 10, D = 1 (WWT + tolerance = 10 080 etu \[M\]), Annex A7 on,
    /// GET RESPONSE with CLA `00`, engineering bounds [`DEFAULT_MAX_TPDUS`] and
    /// [`DEFAULT_MAX_IDLE_PROCEDURE_BYTES`].
    pub const EMV_DEFAULT: Self = Self::emv(DEFAULT_WI, 1);

    /// EMV settings for the WI of the ATR (TC2, default 10) and the Di in use (1 unless a
    /// specific mode TA1 or a PPS selected another). `wi = 0` (RFU) is read as the default
    /// 10 and `d = 0` as 1, so the engine never gets a zero waiting time.
    #[must_use]
    pub const fn emv(wi: u8, d: u8) -> Self {
        let wi = if wi == 0 { DEFAULT_WI } else { wi };
        let d = if d == 0 { 1 } else { d };
        Self {
            waiting_time_etu: emv_work_waiting_time_etu(wi, d),
            get_response_on_warning: true,
            get_response_cla: GET_RESPONSE_CLA,
            max_tpdus: DEFAULT_MAX_TPDUS,
            max_idle_procedure_bytes: DEFAULT_MAX_IDLE_PROCEDURE_BYTES,
            max_response_data: MAX_RESPONSE_DATA,
        }
    }
}

impl Default for T0Config {
    fn default() -> Self {
        Self::EMV_DEFAULT
    }
}

/// The short APDU case of a C-APDU (ISO/IEC 7816-3 §12.1.3, EMV Book 1 Annex A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApduCase {
    /// `CLA INS P1 P2`: no data either way.
    Case1,
    /// `CLA INS P1 P2 Le`: data from the card (`Le = 00` means 256).
    Case2 {
        /// Le as sent (`00` = 256).
        le: u8,
    },
    /// `CLA INS P1 P2 Lc data`: data to the card.
    Case3 {
        /// Lc (1..=255).
        lc: u8,
    },
    /// `CLA INS P1 P2 Lc data Le`: data both ways; T=0 does not send Le.
    Case4 {
        /// Lc (1..=255).
        lc: u8,
        /// Le (`00` = 256); not transmitted in T=0.
        le: u8,
    },
}

impl ApduCase {
    /// The case of a short C-APDU, checking the command is something T=0 can send.
    ///
    /// # Errors
    ///
    /// [`T0Error::CommandTooShort`], [`T0Error::ExtendedLength`],
    /// [`T0Error::LengthMismatch`], [`T0Error::InvalidCla`] (`FF`, reserved for PPS),
    /// [`T0Error::InvalidIns`] (`6X`, `9X`: they would read as procedure bytes).
    pub fn classify(c_apdu: &[u8]) -> Result<Self, T0Error> {
        let len = c_apdu.len();
        let (Some(&cla), Some(&ins)) = (c_apdu.first(), c_apdu.get(1)) else {
            return Err(T0Error::CommandTooShort { len });
        };
        if len < 4 {
            return Err(T0Error::CommandTooShort { len });
        }
        if cla == 0xFF {
            return Err(T0Error::InvalidCla);
        }
        if matches!(ins & 0xF0, 0x60 | 0x90) {
            return Err(T0Error::InvalidIns { ins });
        }
        let Some(&c5) = c_apdu.get(4) else {
            return Ok(Self::Case1);
        };
        if len == 5 {
            return Ok(Self::Case2 { le: c5 });
        }
        if c5 == 0 {
            return Err(T0Error::ExtendedLength { len });
        }
        let lc = usize::from(c5);
        if len == 5 + lc {
            Ok(Self::Case3 { lc: c5 })
        } else if len == 6 + lc {
            let le = c_apdu.last().copied().unwrap_or(0);
            Ok(Self::Case4 { lc: c5, le })
        } else {
            Err(T0Error::LengthMismatch { len, lc: c5 })
        }
    }

    /// Number of command data bytes (Lc, 0 for cases 1 and 2).
    #[must_use]
    pub const fn lc(self) -> u8 {
        match self {
            Self::Case1 | Self::Case2 { .. } => 0,
            Self::Case3 { lc } | Self::Case4 { lc, .. } => lc,
        }
    }

    /// P3 of the command's first TPDU: `00` (case 1), Le (case 2) or Lc (cases 3 and 4).
    #[must_use]
    pub const fn p3(self) -> u8 {
        match self {
            Self::Case1 => 0,
            Self::Case2 { le } => le,
            Self::Case3 { lc } | Self::Case4 { lc, .. } => lc,
        }
    }
}

/// Where in a TPDU an unexpected procedure byte arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Right after the header (no data byte of this TPDU transferred yet).
    AfterHeader,
    /// After `bytes` data bytes of this TPDU were transferred.
    AfterData {
        /// Data bytes transferred so far in this TPDU (either direction).
        bytes: u16,
    },
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AfterHeader => f.write_str("after the header"),
            Self::AfterData { bytes } => write!(f, "after {bytes} data byte(s)"),
        }
    }
}

/// What the engine was waiting for when the card fell silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Awaiting {
    /// A procedure byte (NULL, ACK or SW1).
    ProcedureByte,
    /// SW2, after SW1.
    Sw2 {
        /// The SW1 received.
        sw1: u8,
    },
    /// A data byte from the card.
    Data {
        /// Data bytes of this TPDU received so far.
        received: u16,
        /// Data bytes this TPDU announces (P3, `00` = 256).
        expected: u16,
    },
}

impl fmt::Display for Awaiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProcedureByte => f.write_str("a procedure byte"),
            Self::Sw2 { sw1 } => write!(f, "SW2 (SW1 = {sw1:02X})"),
            Self::Data { received, expected } => {
                write!(f, "data byte {} of {expected}", u32::from(*received) + 1)
            }
        }
    }
}

/// Why a T=0 exchange could not start or failed.
///
/// By blame: the first six variants are API misuse (the C-APDU or the buffer, reported by
/// [`T0::start`]); [`T0Error::Timeout`] is a mute card; the rest are card misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum T0Error {
    /// The C-APDU is shorter than its 4-byte header.
    #[error("C-APDU of {len} byte(s) is too short: at least CLA INS P1 P2 (4 bytes) are needed")]
    CommandTooShort {
        /// C-APDU length.
        len: usize,
    },
    /// Byte 5 is `00` and more bytes follow: an extended-length APDU, which T=0 cannot carry.
    #[error("extended-length C-APDU ({len} bytes, byte 5 = 00): T=0 carries short APDUs only")]
    ExtendedLength {
        /// C-APDU length.
        len: usize,
    },
    /// The C-APDU length matches neither case 3 (`5 + Lc`) nor case 4 (`6 + Lc`).
    #[error(
        "C-APDU of {len} bytes does not match Lc = {lc:02X}: expected {case3} (case 3) or {case4} (case 4)",
        case3 = 5 + usize::from(*lc),
        case4 = 6 + usize::from(*lc)
    )]
    LengthMismatch {
        /// C-APDU length.
        len: usize,
        /// Byte 5, read as Lc.
        lc: u8,
    },
    /// `CLA = FF` is reserved for PPS (ISO/IEC 7816-3 §10.3.2).
    #[error("CLA FF is reserved for PPS and invalid in a T=0 header")]
    InvalidCla,
    /// `INS = 6X` or `9X` would be read as procedure bytes (ISO/IEC 7816-3 §10.3.2).
    #[error("INS {ins:02X} is invalid in T=0: 6X and 9X are reserved for procedure bytes")]
    InvalidIns {
        /// The INS byte.
        ins: u8,
    },
    /// The response buffer cannot even hold SW1 SW2.
    #[error("response buffer of {len} byte(s) is too small: SW1 SW2 need 2")]
    ResponseBufferTooSmall {
        /// Buffer length.
        len: usize,
    },
    /// The card sent a byte that is not a valid procedure byte here.
    #[error(
        "unexpected procedure byte {byte:02X} {stage} of INS {ins:02X}: expected 60, {ins:02X}, {ins_ff:02X}, 6X or 9X",
        ins_ff = *ins ^ 0xFF
    )]
    UnexpectedProcedureByte {
        /// The byte received.
        byte: u8,
        /// INS of the current TPDU header.
        ins: u8,
        /// Where in the TPDU.
        stage: Stage,
    },
    /// The card sent a byte while the terminal still had bytes to send (or the driver did
    /// not drain [`T0::poll_transmit`], or did not drop the line echo).
    #[error("card sent byte {byte:02X} while the terminal was still transmitting")]
    ByteWhileTransmitting {
        /// The byte received.
        byte: u8,
    },
    /// The card announced or sent more response data than fits.
    #[error("response data too long: more than {capacity} byte(s)")]
    ResponseTooLong {
        /// The data capacity: [`T0Config::max_response_data`] or the buffer length minus 2.
        capacity: usize,
    },
    /// A byte arrived after SW2.
    #[error("byte {byte:02X} received after SW1 SW2: the card sent more than it announced")]
    TrailingByte {
        /// The first extra byte.
        byte: u8,
    },
    /// `6Cxx` asked for the length the header already had: the card contradicts itself.
    #[error("card answered 6C{p3:02X} to a header whose P3 is already {p3:02X}")]
    WrongLengthRepeated {
        /// The P3 of the header and the SW2 of `6Cxx`.
        p3: u8,
    },
    /// More TPDUs than [`T0Config::max_tpdus`] (`61xx` or `6Cxx` without end).
    #[error("more than {limit} TPDUs for one APDU (card keeps answering 61xx/6Cxx)")]
    TooManyTpdus {
        /// The limit.
        limit: u16,
    },
    /// More NULL (or idle ACK) bytes than [`T0Config::max_idle_procedure_bytes`].
    #[error("more than {limit} NULL/idle procedure bytes in one exchange")]
    TooManyIdleProcedureBytes {
        /// The limit.
        limit: u32,
    },
    /// No byte from the card within the waiting time: the card is mute.
    #[error("timeout while waiting for {awaiting} (INS {ins:02X}): card mute")]
    Timeout {
        /// What the engine was waiting for.
        awaiting: Awaiting,
        /// INS of the current TPDU header.
        ins: u8,
    },
}

/// What [`T0::poll_event`] reports: the outcome of the exchange, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T0Event {
    /// The R-APDU (data, SW1, SW2) is in the first `len` bytes of the response buffer, also
    /// available as [`T0::response`].
    Complete {
        /// R-APDU length, at least 2.
        len: usize,
    },
    /// The exchange failed; the card should be deactivated or the APDU abandoned.
    Failed(T0Error),
}

/// Which TPDU is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tpdu {
    /// The command itself (possibly re-sent with a corrected P3 after `6Cxx`).
    Command,
    /// A GET RESPONSE issued by the engine.
    GetResponse,
}

/// What the engine is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    /// Header bytes from `pos` on.
    Header { pos: u8 },
    /// Command data bytes `pos..end`.
    Data { pos: u16, end: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Transmit(Tx),
    AwaitProcedure,
    ReceiveData { remaining: u16 },
    AwaitSw2 { sw1: u8 },
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Running,
    Ready(Result<usize, T0Error>),
    Reported(Result<usize, T0Error>),
}

/// One APDU exchange over T=0, sans-IO. See the [module documentation](self).
///
/// The engine borrows the C-APDU and the caller's response buffer for the duration of the
/// exchange; create one per APDU with [`T0::start`].
#[derive(Debug)]
pub struct T0<'a> {
    config: T0Config,
    command: &'a [u8],
    case: ApduCase,
    response: &'a mut [u8],
    /// Response data bytes stored so far.
    resp_len: usize,
    /// Capacity for response data.
    capacity: usize,
    header: [u8; 5],
    tpdu: Tpdu,
    /// Data bytes the current TPDU transfers (P3, `00` = 256 for incoming data).
    xfer_total: u16,
    /// Data bytes of the current TPDU transferred so far.
    xfer_done: u16,
    /// `resp_len` when the current TPDU started.
    tpdu_data_start: usize,
    state: State,
    tpdus: u16,
    idle: u32,
    warning: Option<[u8; 2]>,
    outcome: Outcome,
}

/// Data count of a P3 announcing incoming data: `00` means 256.
const fn incoming_count(p3: u8) -> u16 {
    if p3 == 0 { 256 } else { p3 as u16 }
}

const fn is_status_byte(b: u8) -> bool {
    matches!(b & 0xF0, 0x60 | 0x90) && b != NULL
}

/// Warnings that trigger EMV L1 Annex A7: `62xx`, `63xx`, `9xxx` except `9000`.
const fn is_warning(sw1: u8, sw2: u8) -> bool {
    match sw1 {
        0x62 | 0x63 => true,
        0x90 => sw2 != 0x00,
        _ => sw1 & 0xF0 == 0x90,
    }
}

impl<'a> T0<'a> {
    /// Begins one exchange of `c_apdu` (a short C-APDU, cases 1–4) with the R-APDU to be
    /// written into `response`. The first TPDU header is ready in [`T0::poll_transmit`].
    ///
    /// `response` should hold 258 bytes for any short response; a smaller buffer limits the
    /// response data to `response.len() - 2` ([`T0Error::ResponseTooLong`] beyond).
    ///
    /// # Errors
    ///
    /// The errors of [`ApduCase::classify`] and [`T0Error::ResponseBufferTooSmall`].
    pub fn start(
        config: T0Config,
        c_apdu: &'a [u8],
        response: &'a mut [u8],
    ) -> Result<Self, T0Error> {
        let case = ApduCase::classify(c_apdu)?;
        let Some(capacity) = response.len().checked_sub(2) else {
            return Err(T0Error::ResponseBufferTooSmall {
                len: response.len(),
            });
        };
        let capacity = capacity.min(usize::from(config.max_response_data));
        let mut t0 = Self {
            config,
            command: c_apdu,
            case,
            response,
            resp_len: 0,
            capacity,
            header: [0; 5],
            tpdu: Tpdu::Command,
            xfer_total: 0,
            xfer_done: 0,
            tpdu_data_start: 0,
            state: State::Done,
            tpdus: 0,
            idle: 0,
            warning: None,
            outcome: Outcome::Running,
        };
        t0.begin_tpdu(Tpdu::Command, case.p3());
        Ok(t0)
    }

    /// The case of the C-APDU being exchanged.
    #[must_use]
    pub const fn apdu_case(&self) -> ApduCase {
        self.case
    }

    /// The header of the TPDU in progress (the last one sent or being sent).
    #[must_use]
    pub const fn current_header(&self) -> [u8; 5] {
        self.header
    }

    /// Number of TPDU headers issued so far, the first included.
    #[must_use]
    pub const fn tpdu_count(&self) -> u16 {
        self.tpdus
    }

    /// Whether the outcome is known (it may not have been polled yet).
    #[must_use]
    pub const fn is_finished(&self) -> bool {
        !matches!(self.outcome, Outcome::Running)
    }

    /// The complete R-APDU (data, SW1, SW2) once the exchange completed successfully.
    #[must_use]
    pub fn response(&self) -> Option<&[u8]> {
        match self.outcome {
            Outcome::Ready(Ok(len)) | Outcome::Reported(Ok(len)) => self.response.get(..len),
            _ => None,
        }
    }

    /// Copies the next bytes to send to the card into `out` and returns how many, or `None`
    /// if there is nothing to send now (or `out` is empty). Call until `None` before
    /// waiting for the card.
    #[must_use]
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> Option<usize> {
        let State::Transmit(tx) = self.state else {
            return None;
        };
        let (src, next) = match tx {
            Tx::Header { pos } => (
                self.header.get(usize::from(pos)..).unwrap_or(&[]),
                pos as usize,
            ),
            Tx::Data { pos, end } => (
                self.command_data()
                    .get(usize::from(pos)..usize::from(end))
                    .unwrap_or(&[]),
                pos as usize,
            ),
        };
        let n = out
            .iter_mut()
            .zip(src)
            .map(|(dst, &byte)| *dst = byte)
            .count();
        let exhausted = n == src.len();
        // n <= 256, so these conversions are lossless.
        let advanced = next.saturating_add(n);
        self.state = match tx {
            _ if exhausted => State::AwaitProcedure,
            Tx::Header { .. } => State::Transmit(Tx::Header {
                pos: u8::try_from(advanced).unwrap_or(u8::MAX),
            }),
            Tx::Data { end, .. } => State::Transmit(Tx::Data {
                pos: u16::try_from(advanced).unwrap_or(u16::MAX),
                end,
            }),
        };
        if let Tx::Data { .. } = tx {
            self.xfer_done = self
                .xfer_done
                .saturating_add(u16::try_from(n).unwrap_or(u16::MAX));
        }
        (n > 0).then_some(n)
    }

    /// Feeds bytes received from the card, in any chunking.
    pub fn handle_received(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match self.outcome {
                Outcome::Running => self.on_byte(byte),
                Outcome::Ready(Ok(_)) => {
                    self.outcome = Outcome::Ready(Err(T0Error::TrailingByte { byte }));
                    return;
                }
                Outcome::Ready(Err(_)) | Outcome::Reported(_) => return,
            }
        }
    }

    /// How long to wait for the next byte from the card, in etu, counted from the last
    /// byte sent or received. `None` while the engine has bytes to send or is finished.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u32> {
        match self.state {
            State::AwaitProcedure | State::ReceiveData { .. } | State::AwaitSw2 { .. } => {
                Some(self.config.waiting_time_etu)
            }
            State::Transmit(_) | State::Done => None,
        }
    }

    /// The waiting time from [`T0::poll_timeout`] expired: the exchange fails with
    /// [`T0Error::Timeout`]. Ignored when no timeout is armed.
    pub fn handle_timeout(&mut self) {
        let awaiting = match self.state {
            State::AwaitProcedure => Awaiting::ProcedureByte,
            State::AwaitSw2 { sw1 } => Awaiting::Sw2 { sw1 },
            State::ReceiveData { .. } => Awaiting::Data {
                received: self.xfer_done,
                expected: self.xfer_total,
            },
            State::Transmit(_) | State::Done => return,
        };
        let ins = self.ins();
        self.fail(T0Error::Timeout { awaiting, ins });
    }

    /// The outcome of the exchange, reported once.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<T0Event> {
        let Outcome::Ready(result) = self.outcome else {
            return None;
        };
        self.outcome = Outcome::Reported(result);
        Some(match result {
            Ok(len) => T0Event::Complete { len },
            Err(e) => T0Event::Failed(e),
        })
    }

    // ---- internals ----

    const fn ins(&self) -> u8 {
        self.header[1]
    }

    /// Command data (Lc bytes) of cases 3 and 4; empty otherwise.
    fn command_data(&self) -> &'a [u8] {
        let lc = usize::from(self.case.lc());
        self.command.get(5..5 + lc).unwrap_or(&[])
    }

    /// Whether the current TPDU carries data to the card.
    const fn outgoing(&self) -> bool {
        matches!(self.tpdu, Tpdu::Command)
            && matches!(self.case, ApduCase::Case3 { .. } | ApduCase::Case4 { .. })
    }

    fn fail(&mut self, error: T0Error) {
        self.state = State::Done;
        self.outcome = Outcome::Ready(Err(error));
    }

    fn begin_tpdu(&mut self, tpdu: Tpdu, p3: u8) {
        self.tpdus = self.tpdus.saturating_add(1);
        if self.tpdus > self.config.max_tpdus {
            self.fail(T0Error::TooManyTpdus {
                limit: self.config.max_tpdus,
            });
            return;
        }
        self.tpdu = tpdu;
        self.header = match tpdu {
            Tpdu::Command => {
                let mut h = [0u8; 5];
                for (dst, src) in h.iter_mut().zip(self.command) {
                    *dst = *src;
                }
                h[4] = p3;
                h
            }
            Tpdu::GetResponse => [self.config.get_response_cla, INS_GET_RESPONSE, 0, 0, p3],
        };
        self.xfer_total = match (tpdu, self.case) {
            (Tpdu::GetResponse, _) | (Tpdu::Command, ApduCase::Case2 { .. }) => incoming_count(p3),
            (Tpdu::Command, ApduCase::Case1) => 0,
            (Tpdu::Command, ApduCase::Case3 { lc } | ApduCase::Case4 { lc, .. }) => u16::from(lc),
        };
        self.xfer_done = 0;
        self.tpdu_data_start = self.resp_len;
        self.state = State::Transmit(Tx::Header { pos: 0 });
    }

    fn on_byte(&mut self, byte: u8) {
        match self.state {
            State::Transmit(_) => self.fail(T0Error::ByteWhileTransmitting { byte }),
            State::AwaitProcedure => self.on_procedure_byte(byte),
            State::ReceiveData { remaining } => self.on_data_byte(byte, remaining),
            State::AwaitSw2 { sw1 } => self.on_status(sw1, byte),
            // handle_received only calls on_byte while Running, and Done implies not Running.
            State::Done => {}
        }
    }

    fn idle_byte(&mut self) {
        self.idle = self.idle.saturating_add(1);
        if self.idle > self.config.max_idle_procedure_bytes {
            self.fail(T0Error::TooManyIdleProcedureBytes {
                limit: self.config.max_idle_procedure_bytes,
            });
        }
    }

    fn on_procedure_byte(&mut self, byte: u8) {
        let ins = self.ins();
        if byte == NULL {
            self.idle_byte();
        } else if byte == ins || byte == ins ^ 0xFF {
            let remaining = self.xfer_total.saturating_sub(self.xfer_done);
            if remaining == 0 {
                self.idle_byte();
                return;
            }
            let run = if byte == ins { remaining } else { 1 };
            self.state = if self.outgoing() {
                State::Transmit(Tx::Data {
                    pos: self.xfer_done,
                    end: self.xfer_done.saturating_add(run),
                })
            } else {
                State::ReceiveData { remaining: run }
            };
        } else if is_status_byte(byte) {
            self.state = State::AwaitSw2 { sw1: byte };
        } else {
            let stage = if self.xfer_done == 0 {
                Stage::AfterHeader
            } else {
                Stage::AfterData {
                    bytes: self.xfer_done,
                }
            };
            self.fail(T0Error::UnexpectedProcedureByte { byte, ins, stage });
        }
    }

    fn on_data_byte(&mut self, byte: u8, remaining: u16) {
        if self.resp_len >= self.capacity {
            self.fail(T0Error::ResponseTooLong {
                capacity: self.capacity,
            });
            return;
        }
        if let Some(slot) = self.response.get_mut(self.resp_len) {
            *slot = byte;
        }
        self.resp_len += 1;
        self.xfer_done = self.xfer_done.saturating_add(1);
        let remaining = remaining.saturating_sub(1);
        self.state = if remaining == 0 {
            State::AwaitProcedure
        } else {
            State::ReceiveData { remaining }
        };
    }

    /// Whether the current TPDU may be answered with `61xx` (cases 2 and 4, GET RESPONSE).
    const fn accepts_61(&self) -> bool {
        match self.tpdu {
            Tpdu::GetResponse => true,
            Tpdu::Command => matches!(self.case, ApduCase::Case2 { .. } | ApduCase::Case4 { .. }),
        }
    }

    /// Whether the current TPDU carries an Le that `6Cxx` can correct (case 2, GET RESPONSE).
    const fn accepts_6c(&self) -> bool {
        match self.tpdu {
            Tpdu::GetResponse => true,
            Tpdu::Command => matches!(self.case, ApduCase::Case2 { .. }),
        }
    }

    fn on_status(&mut self, sw1: u8, sw2: u8) {
        match sw1 {
            0x61 if self.accepts_61() => {
                if self
                    .resp_len
                    .saturating_add(usize::from(incoming_count(sw2)))
                    > self.capacity
                {
                    self.fail(T0Error::ResponseTooLong {
                        capacity: self.capacity,
                    });
                } else {
                    self.begin_tpdu(Tpdu::GetResponse, sw2);
                }
            }
            0x6C if self.accepts_6c() => {
                // The data of this TPDU, if any, is superseded by the re-sent one.
                self.resp_len = self.tpdu_data_start;
                if sw2 == self.header[4] {
                    self.fail(T0Error::WrongLengthRepeated { p3: sw2 });
                } else if self
                    .resp_len
                    .saturating_add(usize::from(incoming_count(sw2)))
                    > self.capacity
                {
                    self.fail(T0Error::ResponseTooLong {
                        capacity: self.capacity,
                    });
                } else {
                    self.begin_tpdu(self.tpdu, sw2);
                }
            }
            _ if self.config.get_response_on_warning
                && self.tpdu == Tpdu::Command
                && matches!(self.case, ApduCase::Case4 { .. })
                && self.warning.is_none()
                && self.resp_len == 0
                && is_warning(sw1, sw2) =>
            {
                // EMV L1 Annex A7: fetch the data with Le = 00, keep the warning status.
                self.warning = Some([sw1, sw2]);
                self.begin_tpdu(Tpdu::GetResponse, 0x00);
            }
            _ => self.finish(sw1, sw2),
        }
    }

    fn finish(&mut self, sw1: u8, sw2: u8) {
        let [sw1, sw2] = self.warning.unwrap_or([sw1, sw2]);
        let len = self.resp_len + 2;
        // capacity <= response.len() - 2, so both slots exist.
        if let Some([a, b]) = self.response.get_mut(self.resp_len..len) {
            *a = sw1;
            *b = sw2;
        }
        self.state = State::Done;
        self.outcome = Outcome::Ready(Ok(len));
    }
}
