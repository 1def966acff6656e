//! [`UartContactSlot`]: activation, ATR, PPS and T=0/T=1 over an `embedded-io` UART, two
//! `embedded-hal` output pins (RST, VCC/CMDVCC), an optional presence input and `DelayNs`.
//! See the [module documentation](super) for the clauses.

use core::convert::Infallible;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{self, InputPin, OutputPin};
use embedded_io::{Error as _, ErrorKind, ErrorType, Read, ReadReady, Write};

use super::{
    ActiveParams, AtrFault, INITIAL_FI, MAX_ATR_LEN, PinRole, PpsPolicy, ProtocolFault,
    RESET_LOW_CLOCKS_MAX, RESET_LOW_CLOCKS_MIN, SlotConfig, SlotError,
};
use crate::atr::{
    Atr, AtrError, Convention, EmvAtrParams, EmvProtocol, EmvTransmission, ResetKind, TS_DIRECT,
    TS_INVERSE,
};
use crate::channel::CardChannel;
use crate::pps::{self, PpsRequest};
use crate::t0::{T0, T0Config, T0Event};
use crate::t1::{MAX_BLOCK_LEN, T1, T1Config, T1Event};

/// The line parameters the UART must use: Fi/Di (baud rate = f × Di / Fi) and the character
/// guard time in etu (12 + N; stop bits / guard time of a smart-card mode USART).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineParams {
    /// Fi (clock rate conversion integer).
    pub fi: u16,
    /// Di (baud rate adjustment integer).
    pub di: u8,
    /// Character guard time the terminal must respect when sending, in etu.
    pub guard_time_etu: u16,
}

/// Reconfigures the UART for new line parameters (after a specific-mode ATR with TA1 other
/// than `11`, or a PPS). Without one the slot only runs cards at Fd = 372, Dd = 1.
pub type RateControl<U> = fn(&mut U, LineParams) -> Result<(), <U as ErrorType>::Error>;

/// Switches the UART between the direct and the inverse convention (ISO/IEC 7816-3 §8.1,
/// EMV L1 §8.1): for [`Convention::Inverse`] the UART must receive and send with the line
/// level inverted, most significant bit first, parity computed on the inverted levels
/// (STM32 USART: `DATAINV` + `MSBFIRST`; the "convention" bit of smart-card UARTs); for
/// [`Convention::Direct`] it goes back to normal levels, LSB first.
///
/// Set with [`UartContactSlot::with_convention_control`]. The slot calls it with
/// [`Convention::Inverse`] as soon as TS shows an inverse-convention card (before T0 is
/// complete on the line: the hook must return within a few etu), and with
/// [`Convention::Direct`] before every reset that follows an inverse-convention ATR and on
/// deactivation, so that each ATR starts in the direct convention.
pub type ConventionControl<U> = fn(&mut U, Convention) -> Result<(), <U as ErrorType>::Error>;

/// `byte` as a receiver in the other convention delivers it: the bits reversed and
/// complemented (ISO/IEC 7816-3 §8.1). The mapping is its own inverse.
#[must_use]
pub const fn other_convention(byte: u8) -> u8 {
    !byte.reverse_bits()
}

/// What TS as read by a UART in `uart` convention says about the card's convention:
/// `3B`/`3F` are TS read in the right convention, `03` (direct UART) and `23` (inverse
/// UART) are TS read in the wrong one. `None` for anything else.
const fn ts_convention(uart: Convention, read: u8) -> Option<Convention> {
    match (uart, read) {
        (Convention::Direct, TS_DIRECT) | (Convention::Inverse, 0x23) => Some(Convention::Direct),
        (Convention::Inverse, TS_INVERSE) | (Convention::Direct, 0x03) => Some(Convention::Inverse),
        _ => None,
    }
}

/// The presence input of a slot without a presence switch: always "card present".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoPresencePin;

impl digital::ErrorType for NoPresencePin {
    type Error = Infallible;
}

impl InputPin for NoPresencePin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(true)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(false)
    }
}

/// Most stale characters dropped before sending: a whole T=1 block and some.
const MAX_DRAIN: usize = MAX_BLOCK_LEN + 16;

/// One thing the line delivered while the slot waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rx {
    Byte(u8),
    /// A character with a parity error (the UART reported `ErrorKind::InvalidData`).
    Parity,
    Timeout,
}

/// The UART and the delay, with a small receive buffer: the part of the slot that moves
/// bytes and counts time.
struct Io<U, D> {
    uart: U,
    delay: D,
    config: SlotConfig,
    fi: u16,
    di: u8,
    buf: [u8; 32],
    pos: usize,
    len: usize,
}

impl<U, D> Io<U, D>
where
    U: Read + Write + ReadReady,
    D: DelayNs,
{
    fn delay_etu(&mut self, etu: u32) {
        let ns = self.config.etu_to_ns(etu, self.fi, self.di);
        self.delay_ns(ns);
    }

    fn delay_ns(&mut self, mut ns: u64) {
        while ns > 0 {
            let step = u32::try_from(ns).unwrap_or(u32::MAX);
            self.delay.delay_ns(step);
            ns -= u64::from(step);
        }
    }

    /// Waits up to `limit` etu for the next character. Returns it with the etu waited.
    fn next(&mut self, limit: u32) -> Result<(Rx, u32), SlotError<U::Error>> {
        let mut waited = 0u32;
        let step_max = self.config.poll_interval_etu.max(1);
        loop {
            if self.pos < self.len {
                let byte = self.buf.get(self.pos).copied().unwrap_or(0);
                self.pos += 1;
                return Ok((Rx::Byte(byte), waited));
            }
            let ready = match self.uart.read_ready() {
                Ok(ready) => ready,
                Err(e) if e.kind() == ErrorKind::InvalidData => return Ok((Rx::Parity, waited)),
                Err(e) => return Err(SlotError::Uart(e)),
            };
            if ready {
                match self.uart.read(&mut self.buf) {
                    Ok(n) => {
                        self.pos = 0;
                        self.len = n.min(self.buf.len());
                        if n > 0 {
                            continue;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::InvalidData => {
                        return Ok((Rx::Parity, waited));
                    }
                    Err(e) => return Err(SlotError::Uart(e)),
                }
            }
            if waited >= limit {
                return Ok((Rx::Timeout, waited));
            }
            let step = step_max.min(limit - waited);
            self.delay_etu(step);
            waited = waited.saturating_add(step);
        }
    }

    /// Discards whatever the card sent until the line has been quiet for `quiet` etu, or
    /// [`MAX_DRAIN`] characters were dropped (a babbling card must not hold the slot: the
    /// protocol engine then sees the rest and fails in a bounded number of steps).
    fn drain(&mut self, quiet: u32) -> Result<(), SlotError<U::Error>> {
        for _ in 0..MAX_DRAIN {
            if let (Rx::Timeout, _) = self.next(quiet)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Whether a character is waiting (buffered or in the UART).
    fn pending(&mut self) -> Result<bool, SlotError<U::Error>> {
        if self.pos < self.len {
            return Ok(true);
        }
        match self.uart.read_ready() {
            Ok(ready) => Ok(ready),
            Err(e) if e.kind() == ErrorKind::InvalidData => Ok(true),
            Err(e) => Err(SlotError::Uart(e)),
        }
    }

    /// Turnaround before sending, dropping stale characters first (they would collide with
    /// ours on the half-duplex I/O line): wait until `quiet` etu without a character.
    fn before_send(&mut self, quiet: u32) -> Result<(), SlotError<U::Error>> {
        self.delay_etu(self.config.turnaround_etu);
        if self.pending()? {
            self.drain(quiet)?;
        }
        Ok(())
    }

    /// Writes `bytes` and waits until they are on the line; with [`SlotConfig::echo`],
    /// reads back and drops the echo of each character.
    fn send(&mut self, bytes: &[u8]) -> Result<(), SlotError<U::Error>> {
        self.uart.write_all(bytes).map_err(SlotError::Uart)?;
        self.uart.flush().map_err(SlotError::Uart)?;
        if self.config.echo {
            for _ in bytes {
                // Each echo is due by the end of its character: allow one more character
                // time; a missing echo is not an error (the card's answer is read next).
                if let (Rx::Timeout, _) = self.next(12)? {
                    break;
                }
            }
        }
        Ok(())
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.len = 0;
    }

    /// Re-decodes the characters still buffered (the UART delivered them before it was
    /// switched to the other convention).
    fn recode_buffered(&mut self) {
        let (pos, len) = (self.pos, self.len);
        for byte in self.buf.get_mut(pos..len).unwrap_or_default() {
            *byte = other_convention(*byte);
        }
    }
}

/// What the slot runs after a successful activation. The T=1 engine is held inline (no
/// heap), hence the size difference between the variants.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Session {
    Off,
    T0 { wi: u8 },
    T1(T1),
}

/// A contact slot over a UART (ISO/IEC 7816-3 §6–§11, EMV L1 §6–§9), for an interface chip
/// of the TDA8035 class: `U` is the UART wired to the chip's I/O (`embedded_io` `Read` +
/// `Write` + `ReadReady`; a character with a parity error is reported as
/// `ErrorKind::InvalidData`, and in T=0 the UART or the chip signals the error so that the
/// card repeats the character), `RST` drives the card's reset line, `VCC` the chip's
/// CMDVCC(N) input, `D` waits, and `P` (optional) reads card presence.
///
/// Protocol choice per the accepted ATR: T=0 through [`T0`] with WWT from TC2/Di, T=1
/// through [`T1`] with IFSC/BWT/CWT from TA3/TB3 and an S(IFS request) with IFSD 254 right
/// after the ATR. Any protocol failure deactivates the card ([`SlotError::Protocol`]).
/// Inverse-convention cards need a [`ConventionControl`] hook
/// ([`UartContactSlot::with_convention_control`]); Fi/Di other than 372/1 need a
/// [`RateControl`] hook ([`UartContactSlot::with_rate_control`]).
///
/// ```
/// # use core::convert::Infallible;
/// # use emv_hal::slot::{ContactSlot, SlotConfig, SlotError, UartContactSlot};
/// # struct Uart; struct Pin; struct Delay;
/// # impl embedded_io::ErrorType for Uart { type Error = embedded_io::ErrorKind; }
/// # impl embedded_io::Read for Uart { fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> { Ok(0) } }
/// # impl embedded_io::ReadReady for Uart { fn read_ready(&mut self) -> Result<bool, Self::Error> { Ok(false) } }
/// # impl embedded_io::Write for Uart { fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> { Ok(b.len()) } fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) } }
/// # impl embedded_hal::digital::ErrorType for Pin { type Error = Infallible; }
/// # impl embedded_hal::digital::OutputPin for Pin { fn set_low(&mut self) -> Result<(), Infallible> { Ok(()) } fn set_high(&mut self) -> Result<(), Infallible> { Ok(()) } }
/// # impl embedded_hal::delay::DelayNs for Delay { fn delay_ns(&mut self, _: u32) {} }
/// let mut slot = UartContactSlot::new(Uart, Pin, Pin, Delay, SlotConfig::emv(4_000_000));
/// // This UART never answers: the card is mute.
/// assert!(matches!(slot.power_up(), Err(SlotError::Mute { .. })));
/// ```
pub struct UartContactSlot<U: ErrorType, RST, VCC, D, P = NoPresencePin> {
    io: Io<U, D>,
    rst: RST,
    vcc: VCC,
    presence: P,
    presence_active_high: bool,
    rate: Option<RateControl<U>>,
    convention_control: Option<ConventionControl<U>>,
    /// The UART's convention as far as the slot knows (`None`: unknown, e.g. after a
    /// failed switch; set to direct before the next reset).
    convention: Option<Convention>,
    atr: [u8; MAX_ATR_LEN],
    atr_len: usize,
    session: Session,
    params: Option<ActiveParams>,
    apdus: u32,
}

impl<U: ErrorType, RST, VCC, D, P> core::fmt::Debug for UartContactSlot<U, RST, VCC, D, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UartContactSlot")
            .field("config", &self.io.config)
            .field("atr", &self.atr())
            .field("params", &self.params)
            .field("apdus", &self.apdus)
            .finish_non_exhaustive()
    }
}

impl<U, RST, VCC, D> UartContactSlot<U, RST, VCC, D, NoPresencePin>
where
    U: Read + Write + ReadReady,
    RST: OutputPin,
    VCC: OutputPin,
    D: DelayNs,
{
    /// A slot without a presence switch. Nothing is driven until
    /// [`ContactSlot::power_up`](super::ContactSlot::power_up).
    pub fn new(uart: U, rst: RST, vcc: VCC, delay: D, config: SlotConfig) -> Self {
        Self {
            io: Io {
                uart,
                delay,
                config,
                fi: INITIAL_FI,
                di: 1,
                buf: [0; 32],
                pos: 0,
                len: 0,
            },
            rst,
            vcc,
            presence: NoPresencePin,
            presence_active_high: true,
            rate: None,
            convention_control: None,
            convention: Some(Convention::Direct),
            atr: [0; MAX_ATR_LEN],
            atr_len: 0,
            session: Session::Off,
            params: None,
            apdus: 0,
        }
    }

    /// The same slot with a card presence input; `active_high`: a high level means a card is
    /// in the slot.
    pub fn with_presence<P2: InputPin>(
        self,
        presence: P2,
        active_high: bool,
    ) -> UartContactSlot<U, RST, VCC, D, P2> {
        UartContactSlot {
            io: self.io,
            rst: self.rst,
            vcc: self.vcc,
            presence,
            presence_active_high: active_high,
            rate: self.rate,
            convention_control: self.convention_control,
            convention: self.convention,
            atr: self.atr,
            atr_len: self.atr_len,
            session: self.session,
            params: self.params,
            apdus: self.apdus,
        }
    }
}

impl<U, RST, VCC, D, P> UartContactSlot<U, RST, VCC, D, P>
where
    U: Read + Write + ReadReady,
    RST: OutputPin,
    VCC: OutputPin,
    D: DelayNs,
    P: InputPin,
{
    /// The same slot, able to change the UART's rate and guard time (needed for
    /// specific-mode ATRs with TA1 ≠ `11` and for PPS).
    #[must_use]
    pub fn with_rate_control(mut self, rate: RateControl<U>) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The same slot, able to read inverse-convention cards (ISO/IEC 7816-3 §8.1, EMV L1
    /// §8.1: terminals accept both conventions): `control` switches the UART between the
    /// conventions (see [`ConventionControl`]). The UART must be in the direct convention
    /// when the slot is made.
    ///
    /// TS of an inverse-convention card (`3F`) reaches a UART in direct mode as `03` (bits
    /// reversed and complemented), and with odd parity: a UART that checks even parity
    /// reports it as a parity error instead. Both are handled:
    ///
    /// * TS read as `03`: the slot calls `control(Inverse)`, records TS as `3F` and reads T0…
    ///   in the inverse convention with the same ATR timing limits (characters already
    ///   buffered by the slot are re-decoded in software);
    /// * TS read as a parity error (`ErrorKind::InvalidData`, the value is lost): the slot
    ///   switches to the other convention and waits for the card to repeat TS after the
    ///   error signal (ISO/IEC 7816-3 §7.3), so a card that repeats is read in the right
    ///   convention; each further parity error on TS switches again, up to
    ///   [`SlotConfig::max_character_repetitions`] ([`SlotError::AtrParity`]). A card that
    ///   does not repeat TS is not guessed at: its ATR then starts with T0 and is refused
    ///   (invalid TS), and the EMV warm reset follows.
    ///
    /// Without a convention control, TS = `03` is refused as
    /// [`AtrFault::InverseConvention`].
    #[must_use]
    pub fn with_convention_control(mut self, control: ConventionControl<U>) -> Self {
        self.convention_control = Some(control);
        self
    }

    /// The convention of the UART as the slot set it (`None` after a failed switch). While
    /// a card is active this is the convention of its ATR.
    #[must_use]
    pub const fn convention(&self) -> Option<Convention> {
        self.convention
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &SlotConfig {
        &self.io.config
    }

    /// Protocol and line parameters of the active card, `None` while inactive.
    #[must_use]
    pub const fn active_params(&self) -> Option<ActiveParams> {
        self.params
    }

    /// The T=1 session (IFSC, IFSD, sequence numbers), if T=1 is active.
    #[must_use]
    pub const fn t1(&self) -> Option<&T1> {
        match &self.session {
            Session::T1(t1) => Some(t1),
            Session::Off | Session::T0 { .. } => None,
        }
    }

    /// Number of APDUs exchanged since the last activation.
    #[must_use]
    pub const fn apdu_count(&self) -> u32 {
        self.apdus
    }

    /// The UART, e.g. to inspect a test model.
    pub fn uart_mut(&mut self) -> &mut U {
        &mut self.io.uart
    }

    /// Takes the parts back: UART, RST, VCC, delay, presence. The card is left as it is.
    pub fn release(self) -> (U, RST, VCC, D, P) {
        (
            self.io.uart,
            self.rst,
            self.vcc,
            self.io.delay,
            self.presence,
        )
    }

    fn pin<E: digital::Error>(pin: PinRole) -> impl Fn(E) -> SlotError<U::Error> {
        move |e| SlotError::Pin {
            pin,
            kind: e.kind(),
        }
    }

    fn set_rst(&mut self, high: bool) -> Result<(), SlotError<U::Error>> {
        let r = if high {
            self.rst.set_high()
        } else {
            self.rst.set_low()
        };
        r.map_err(Self::pin(PinRole::Reset))
    }

    fn set_vcc(&mut self, on: bool) -> Result<(), SlotError<U::Error>> {
        let high = on != self.io.config.vcc_active_low;
        let r = if high {
            self.vcc.set_high()
        } else {
            self.vcc.set_low()
        };
        r.map_err(Self::pin(PinRole::Vcc))
    }

    fn present(&mut self) -> Result<bool, SlotError<U::Error>> {
        let high = self
            .presence
            .is_high()
            .map_err(Self::pin(PinRole::Presence))?;
        Ok(high == self.presence_active_high)
    }

    fn set_line(
        &mut self,
        fi: u16,
        di: u8,
        guard_time_etu: u16,
    ) -> Result<(), SlotError<U::Error>> {
        if let Some(rate) = self.rate {
            rate(
                &mut self.io.uart,
                LineParams {
                    fi,
                    di,
                    guard_time_etu,
                },
            )
            .map_err(SlotError::Uart)?;
        }
        self.io.fi = fi;
        self.io.di = di;
        Ok(())
    }

    /// Switches the UART to `convention` through the hook (no-op without a hook or when the
    /// UART is known to be there already). A failed switch leaves the convention unknown.
    fn set_convention(&mut self, convention: Convention) -> Result<(), SlotError<U::Error>> {
        let Some(control) = self.convention_control else {
            return Ok(());
        };
        if self.convention == Some(convention) {
            return Ok(());
        }
        self.convention = None;
        control(&mut self.io.uart, convention).map_err(SlotError::Uart)?;
        self.convention = Some(convention);
        Ok(())
    }

    /// RST low, VCC off, session dropped, UART back to the direct convention; errors
    /// reported after all three were tried (pins first).
    fn deactivate(&mut self) -> Result<(), SlotError<U::Error>> {
        self.session = Session::Off;
        self.params = None;
        self.atr_len = 0;
        let rst = self.set_rst(false);
        let vcc = self.set_vcc(false);
        self.io.clear();
        self.io.fi = INITIAL_FI;
        self.io.di = 1;
        let convention = self.set_convention(Convention::Direct);
        rst.and(vcc).and(convention)
    }

    /// Deactivates (ignoring pin errors: the first error is the one to report) and returns
    /// `error`.
    fn fail<T>(&mut self, error: SlotError<U::Error>) -> Result<T, SlotError<U::Error>> {
        let _ = self.deactivate();
        Err(error)
    }

    /// Holds RST low for the reset time, releases it and reads the ATR into `self.atr`.
    fn reset_and_read_atr(&mut self, reset: ResetKind) -> Result<(), SlotError<U::Error>> {
        self.session = Session::Off;
        self.params = None;
        self.set_line(INITIAL_FI, 1, 12)?;
        // Every ATR starts in the direct convention: TS decides (ISO/IEC 7816-3 §8.1).
        self.set_convention(Convention::Direct)?;
        self.set_rst(false)?;
        let clocks = self
            .io
            .config
            .reset_low_clocks
            .clamp(RESET_LOW_CLOCKS_MIN, RESET_LOW_CLOCKS_MAX);
        let ns = self.io.config.clocks_to_ns(clocks);
        self.io.delay_ns(ns);
        // Whatever the line carried before the reset is not part of the ATR.
        self.io.clear();
        for _ in 0..MAX_DRAIN {
            if !self.io.pending()? {
                break;
            }
            let _ = self.io.next(0)?;
        }
        self.set_rst(true)?;
        self.read_atr(reset)
    }

    fn read_atr(&mut self, reset: ResetKind) -> Result<(), SlotError<U::Error>> {
        let cfg = self.io.config;
        // The limit is on the leading edge of TS; the UART delivers it a character time
        // (12 etu) later.
        let start_etu =
            SlotConfig::clocks_to_etu(cfg.atr_start_clocks, INITIAL_FI, 1).saturating_add(12);
        self.atr_len = 0;
        let mut total = 0u32;
        let mut parity = 0u8;
        loop {
            let received = self.atr_len;
            let limit = if received == 0 {
                start_etu
            } else {
                cfg.atr_character_etu
            };
            let (rx, waited) = self.io.next(limit)?;
            if received > 0 {
                total = total.saturating_add(waited);
                if total > cfg.atr_duration_etu {
                    return Err(SlotError::AtrDuration {
                        reset,
                        received,
                        etu: cfg.atr_duration_etu,
                    });
                }
            }
            let byte = match rx {
                Rx::Timeout if received == 0 => {
                    return Err(SlotError::Mute {
                        reset,
                        clocks: cfg.atr_start_clocks,
                    });
                }
                Rx::Timeout => {
                    return Err(SlotError::AtrCharacterTimeout {
                        reset,
                        received,
                        etu: cfg.atr_character_etu,
                    });
                }
                Rx::Parity => {
                    parity = parity.saturating_add(1);
                    if parity > cfg.max_character_repetitions {
                        return Err(SlotError::AtrParity {
                            reset,
                            received,
                            count: parity,
                        });
                    }
                    if received == 0 && self.convention_control.is_some() {
                        // TS with a parity error: what a UART checking even parity makes of
                        // a TS in the other convention. Switch and let the card repeat it.
                        let other = match self.convention {
                            Some(Convention::Inverse) => Convention::Direct,
                            Some(Convention::Direct) | None => Convention::Inverse,
                        };
                        self.set_convention(other)?;
                        self.io.recode_buffered();
                    }
                    continue;
                }
                Rx::Byte(b) if received == 0 => self.accept_ts(b)?,
                Rx::Byte(b) => b,
            };
            parity = 0;
            let Some(slot) = self.atr.get_mut(received) else {
                return Err(SlotError::AtrTooLong);
            };
            *slot = byte;
            self.atr_len = received + 1;
            // Each character takes 12 etu on the line (ISO/IEC 7816-3 §7.1).
            total = total.saturating_add(12);
            let bytes = self.atr.get(..self.atr_len).unwrap_or_default();
            match Atr::parse(bytes) {
                Err(AtrError::Truncated { .. }) => {}
                // Complete (valid or not): stop reading, evaluate.
                _ => return Ok(()),
            }
        }
    }

    /// TS as the UART read it: switches the UART to the card's convention if needed (and a
    /// hook is set) and returns TS decoded. Without a hook an inverse TS stays `03`.
    fn accept_ts(&mut self, read: u8) -> Result<u8, SlotError<U::Error>> {
        let uart = self.convention.unwrap_or(Convention::Direct);
        match ts_convention(uart, read) {
            Some(card) if self.convention_control.is_some() => {
                if card != uart {
                    self.set_convention(card)?;
                    self.io.recode_buffered();
                }
                Ok(card.ts())
            }
            _ => Ok(read),
        }
    }

    /// Whether the ATR in `self.atr` is acceptable, and with what parameters.
    fn evaluate(&self, reset: ResetKind) -> Result<EmvAtrParams, AtrFault> {
        let bytes = self.atr.get(..self.atr_len).unwrap_or_default();
        if bytes.first() == Some(&0x03) {
            return Err(AtrFault::InverseConvention);
        }
        let atr = Atr::parse(bytes).map_err(AtrFault::Invalid)?;
        let mut options = self.io.config.atr_check;
        options.reset = reset;
        let params = atr.emv_check_with(&options).map_err(AtrFault::Rejected)?;
        if (params.fi != INITIAL_FI || params.di != 1) && self.rate.is_none() {
            return Err(AtrFault::UnsupportedRate {
                fi: params.fi,
                di: params.di,
            });
        }
        Ok(params)
    }

    /// Cold reset (or warm reset), then the EMV acceptance and, after a rejected cold ATR,
    /// one warm reset. Returns the parameters and the reset whose ATR was accepted.
    fn activate(
        &mut self,
        first: ResetKind,
    ) -> Result<(EmvAtrParams, ResetKind), SlotError<U::Error>> {
        self.reset_and_read_atr(first)?;
        let fault = match self.evaluate(first) {
            Ok(params) => return Ok((params, first)),
            Err(fault) => fault,
        };
        if first == ResetKind::Warm {
            return Err(SlotError::AtrRejected {
                cold: None,
                warm: Some(fault),
            });
        }
        if !self.io.config.warm_reset_on_reject {
            return Err(SlotError::AtrRejected {
                cold: Some(fault),
                warm: None,
            });
        }
        self.reset_and_read_atr(ResetKind::Warm)?;
        match self.evaluate(ResetKind::Warm) {
            Ok(params) => Ok((params, ResetKind::Warm)),
            Err(warm) => Err(SlotError::AtrRejected {
                cold: Some(fault),
                warm: Some(warm),
            }),
        }
    }

    /// After an accepted ATR: line parameters, optional PPS, protocol session.
    fn start_session(
        &mut self,
        mut params: EmvAtrParams,
        reset: ResetKind,
    ) -> Result<(), SlotError<U::Error>> {
        self.apdus = 0;
        if self.io.config.pps == PpsPolicy::Negotiable && !params.specific_mode {
            self.pps(&mut params)?;
        }
        let guard = params.guard_time_etu();
        self.set_line(params.fi, params.di, guard)?;
        self.session = match params.transmission {
            EmvTransmission::T0 { wi } => Session::T0 { wi },
            EmvTransmission::T1 { .. } => {
                let config = T1Config::from_emv_params(&params).ok_or(SlotError::Protocol {
                    apdu: 0,
                    fault: ProtocolFault::Internal("T=1 parameters missing"),
                })?;
                let t1 = T1::new(config).map_err(|e| SlotError::Protocol {
                    apdu: 0,
                    fault: ProtocolFault::T1Config(e),
                })?;
                Session::T1(t1)
            }
        };
        self.params = Some(ActiveParams {
            protocol: params.protocol(),
            fi: params.fi,
            di: params.di,
            guard_time_etu: guard,
            reset,
            convention: self.convention.unwrap_or(Convention::Direct),
        });
        if let Session::T1(t1) = &mut self.session
            && self.io.config.t1_ifsd != 0
            && t1.start_ifsd_negotiation().is_ok()
        {
            match run_t1(&mut self.io, t1)? {
                T1Event::IfsdNegotiated { .. } => {}
                T1Event::Error(e) => {
                    return Err(SlotError::Protocol {
                        apdu: 0,
                        fault: ProtocolFault::T1Ifsd(e),
                    });
                }
                _ => {
                    return Err(SlotError::Protocol {
                        apdu: 0,
                        fault: ProtocolFault::Internal("unexpected T=1 event"),
                    });
                }
            }
        }
        Ok(())
    }

    /// ISO/IEC 7816-3 §9: PPS for a negotiable-mode card whose TA1 is not `11`.
    fn pps(&mut self, params: &mut EmvAtrParams) -> Result<(), SlotError<U::Error>> {
        let atr_bytes = self.atr;
        let Ok(atr) = Atr::parse(atr_bytes.get(..self.atr_len).unwrap_or_default()) else {
            return Ok(());
        };
        let Some(request) = PpsRequest::for_atr(&atr) else {
            return Ok(());
        };
        if self.rate.is_none() {
            return Ok(());
        }
        let mut frame = [0u8; pps::MAX_PPS_LEN];
        let n = request.encode(&mut frame).map_err(SlotError::Pps)?;
        self.io.before_send(self.io.config.atr_character_etu)?;
        self.io.send(frame.get(..n).unwrap_or_default())?;
        let mut answer = [0u8; pps::MAX_PPS_LEN];
        let mut len = 0usize;
        let limit = pps::PPS_RESPONSE_WAITING_TIME_ETU;
        loop {
            let (rx, _) = self.io.next(limit)?;
            let Rx::Byte(b) = rx else {
                return Err(SlotError::PpsTimeout { etu: limit });
            };
            if let Some(slot) = answer.get_mut(len) {
                *slot = b;
                len += 1;
            }
            let needed = answer.get(1).map_or(3, |pps0| pps::frame_len(*pps0));
            if len >= needed || len >= answer.len() {
                break;
            }
        }
        let accepted = request
            .check_response(answer.get(..len).unwrap_or_default())
            .map_err(SlotError::Pps)?;
        let fi = crate::atr::fi_from_code(accepted.fi_di >> 4).unwrap_or(INITIAL_FI);
        let di = crate::atr::di_from_code(accepted.fi_di & 0x0F).unwrap_or(1);
        params.fi = fi;
        params.di = di;
        Ok(())
    }

    fn power_up_from(&mut self, first: ResetKind) -> Result<&[u8], SlotError<U::Error>> {
        let outcome = self
            .activate(first)
            .and_then(|(params, reset)| self.start_session(params, reset));
        match outcome {
            Ok(()) => Ok(self.atr.get(..self.atr_len).unwrap_or_default()),
            Err(e) => self.fail(e),
        }
    }

    fn exchange_t0(
        &mut self,
        apdu: u32,
        wi: u8,
        command: &[u8],
        response: &mut [u8],
    ) -> Result<usize, SlotError<U::Error>> {
        let config = T0Config::emv(wi, self.io.di);
        let max_rep = self.io.config.max_character_repetitions;
        let mut t0 = T0::start(config, command, response).map_err(SlotError::Command)?;
        let mut tx = [0u8; 64];
        let mut parity = 0u8;
        loop {
            let mut sent = false;
            while let Some(n) = t0.poll_transmit(&mut tx) {
                if !sent {
                    self.io.before_send(config.waiting_time_etu.min(16))?;
                    sent = true;
                }
                self.io.send(tx.get(..n).unwrap_or_default())?;
            }
            let ins = t0.current_header()[1];
            if let Some(event) = t0.poll_event() {
                return match event {
                    T0Event::Complete { len } => Ok(len),
                    T0Event::Failed(error) => Err(SlotError::Protocol {
                        apdu,
                        fault: ProtocolFault::T0 { ins, error },
                    }),
                };
            }
            let Some(limit) = t0.poll_timeout() else {
                return Err(SlotError::Protocol {
                    apdu,
                    fault: ProtocolFault::Internal("T=0 engine stalled"),
                });
            };
            match self.io.next(limit)?.0 {
                Rx::Byte(b) => {
                    parity = 0;
                    t0.handle_received(&[b]);
                }
                Rx::Parity => {
                    // The UART/chip signalled the error; the card repeats the character.
                    parity = parity.saturating_add(1);
                    if parity > max_rep {
                        return Err(SlotError::Protocol {
                            apdu,
                            fault: ProtocolFault::ParityRepetitions { ins, count: parity },
                        });
                    }
                }
                Rx::Timeout => t0.handle_timeout(),
            }
        }
    }

    fn exchange_inner(
        &mut self,
        command: &[u8],
        response: &mut [u8],
    ) -> Result<usize, SlotError<U::Error>> {
        if !self.present()? {
            return Err(SlotError::CardRemoved);
        }
        let apdu = self.apdus;
        self.apdus = self.apdus.saturating_add(1);
        match &mut self.session {
            Session::Off => Err(SlotError::NotActive),
            Session::T0 { wi } => {
                let wi = *wi;
                self.exchange_t0(apdu, wi, command, response)
            }
            Session::T1(t1) => {
                t1.start(command).map_err(SlotError::CommandRejected)?;
                match run_t1(&mut self.io, t1)? {
                    T1Event::Complete { .. } => {
                        let data = t1.response().unwrap_or_default();
                        let available = response.len();
                        let out = response.get_mut(..data.len()).ok_or(
                            SlotError::ResponseBufferTooSmall {
                                needed: data.len(),
                                available,
                            },
                        )?;
                        out.copy_from_slice(data);
                        Ok(data.len())
                    }
                    T1Event::Error(e) => Err(SlotError::Protocol {
                        apdu,
                        fault: ProtocolFault::T1(e),
                    }),
                    _ => Err(SlotError::Protocol {
                        apdu,
                        fault: ProtocolFault::Internal("unexpected T=1 event"),
                    }),
                }
            }
        }
    }
}

/// Runs the T=1 engine until it reports an event.
fn run_t1<U, D>(io: &mut Io<U, D>, t1: &mut T1) -> Result<T1Event, SlotError<U::Error>>
where
    U: Read + Write + ReadReady,
    D: DelayNs,
{
    let mut block = [0u8; MAX_BLOCK_LEN];
    let quiet = t1
        .config()
        .cwt_etu
        .saturating_add(t1.config().cwt_tolerance_etu);
    loop {
        if let Some(n) = t1.poll_transmit(&mut block) {
            io.before_send(quiet)?;
            io.send(block.get(..n).unwrap_or_default())?;
        }
        if let Some(event) = t1.poll_event() {
            return Ok(event);
        }
        let Some(limit) = t1.poll_timeout() else {
            // Neither a block to send, an event nor a wait: cannot happen with a live
            // engine; report it rather than spin.
            return Err(SlotError::Protocol {
                apdu: 0,
                fault: ProtocolFault::Internal("T=1 engine stalled"),
            });
        };
        match io.next(limit)?.0 {
            Rx::Byte(b) => t1.handle_received(&[b]),
            Rx::Parity => {
                // A character arrived with a parity error: T=1 has no repetition, the
                // block is answered with R(parity error) (ISO/IEC 7816-3 §11.6.3).
                t1.handle_parity_error();
                t1.handle_received(&[0]);
            }
            Rx::Timeout => t1.handle_timeout(),
        }
    }
}

impl<U, RST, VCC, D, P> super::ContactSlot for UartContactSlot<U, RST, VCC, D, P>
where
    U: Read + Write + ReadReady,
    RST: OutputPin,
    VCC: OutputPin,
    D: DelayNs,
    P: InputPin,
{
    type Error = SlotError<U::Error>;

    fn card_present(&mut self) -> Result<bool, Self::Error> {
        self.present()
    }

    fn power_up(&mut self) -> Result<&[u8], Self::Error> {
        if self.params.is_some() || !matches!(self.session, Session::Off) {
            self.deactivate()?;
        }
        if !self.present()? {
            return Err(SlotError::NoCard);
        }
        // Activation (ISO/IEC 7816-3 §6.2.2): RST low, VCC on; the interface chip starts CLK
        // and puts I/O in reception mode.
        if let Err(e) = self.set_rst(false).and_then(|()| self.set_vcc(true)) {
            return self.fail(e);
        }
        let settle = u64::from(self.io.config.vcc_settle_us) * 1_000;
        self.io.delay_ns(settle);
        self.power_up_from(ResetKind::Cold)
    }

    fn warm_reset(&mut self) -> Result<&[u8], Self::Error> {
        if self.params.is_none() {
            return Err(SlotError::NotActive);
        }
        self.power_up_from(ResetKind::Warm)
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        self.deactivate()
    }

    fn atr(&self) -> Option<&[u8]> {
        if self.params.is_some() {
            self.atr.get(..self.atr_len)
        } else {
            None
        }
    }
}

impl<U: ErrorType, RST, VCC, D, P> UartContactSlot<U, RST, VCC, D, P> {
    /// The ATR accepted at the last reset, `None` while the card is not active.
    #[must_use]
    pub fn atr(&self) -> Option<&[u8]> {
        if self.params.is_some() {
            self.atr.get(..self.atr_len)
        } else {
            None
        }
    }

    /// The protocol in use, `None` while the card is not active.
    #[must_use]
    pub fn protocol(&self) -> Option<EmvProtocol> {
        self.params.map(|p| p.protocol)
    }
}

impl<U, RST, VCC, D, P> CardChannel for UartContactSlot<U, RST, VCC, D, P>
where
    U: Read + Write + ReadReady,
    RST: OutputPin,
    VCC: OutputPin,
    D: DelayNs,
    P: InputPin,
{
    type Error = SlotError<U::Error>;

    /// One APDU over the protocol chosen at activation. Errors other than API misuse
    /// ([`SlotError::Command`], [`SlotError::CommandRejected`],
    /// [`SlotError::ResponseBufferTooSmall`], [`SlotError::NotActive`]) deactivate the card.
    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, Self::Error> {
        match self.exchange_inner(command, response) {
            Ok(n) => Ok(n),
            Err(
                e @ (SlotError::Command(_)
                | SlotError::CommandRejected(_)
                | SlotError::ResponseBufferTooSmall { .. }
                | SlotError::NotActive),
            ) => Err(e),
            Err(e) => self.fail(e),
        }
    }
}
