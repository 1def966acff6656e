//! Traits for contactless RF front-ends and the contactless slot (ISO/IEC 14443, EMV Book D).
//!
//! Two levels:
//!
//! * [`RfFrontend`]: what a raw RF front-end chip offers (ST25R3916 / PN5180 class, or a PN532
//!   in raw `InCommunicateThru` mode): field on/off, technology and bit-rate selection, and
//!   one frame out / one frame back with a timeout, using the frame formats of
//!   ISO/IEC 14443-3 §6.2.3 (Type A short, standard and bit-oriented anticollision frames)
//!   and §7.1 (Type B). The chip's error classes map to [`RfError`]: no answer, collision,
//!   transmission (CRC/parity/framing) error, transport failure.
//! * [`Contactless`]: the slot seen by the kernel side: one EMV polling cycle (EMV Book D
//!   polling, collision detection and activation, ISO/IEC 14443-3 §6.4/§7.4 and -4 §5) with a
//!   [`PollOutcome`], deactivation (ISO/IEC 14443-4 §8, S(DESELECT)) and field off.
//!   [`crate::iso14443::ContactlessReader`] implements it, and [`crate::channel::CardChannel`],
//!   over any [`RfFrontend`].
//!
//! CRC handling: a front-end that appends and checks CRC_A/CRC_B in hardware says so with
//! [`RfFrontend::crc_in_hardware`] and then supports [`Framing::StandardCrc`]; otherwise the
//! protocol layer appends and checks the CRC in software (ISO/IEC 14443-3 Annex B) and only uses
//! [`Framing::Standard`]. [`transceive_with_crc`] hides the difference.
//!
//! No I/O of its own, no clock, no heap.

use crate::iso14443::ats::OwnedAts;
use crate::iso14443::crc;
use crate::iso14443::type_a::{Atqa, Sak, Uid};
use crate::iso14443::type_b::{Atqb, AttribResponse};

/// Largest frame handled, CRC included: FSD = FSC = 256 bytes (ISO/IEC 14443-4 §5.1, FSDI 8,
/// the EMV Book D value). Longer frames are [`RfError::Overflow`].
pub const MAX_FRAME_WITH_CRC: usize = 256;

/// The RF technology (ISO/IEC 14443-2 modulation and ISO/IEC 14443-3 framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Technology {
    /// Type A: 100 % ASK, modified Miller / Manchester OOK, CRC_A (ISO/IEC 14443-2 §8.1,
    /// ISO/IEC 14443-3 §6).
    TypeA,
    /// Type B: 10 % ASK, NRZ-L / BPSK, CRC_B (ISO/IEC 14443-2 §9.1, ISO/IEC 14443-3 §7).
    TypeB,
}

/// Bit rate in both directions (ISO/IEC 14443-2 §8/§9: fc/128 … fc/16). EMV Book D uses
/// 106 kbit/s only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitRate {
    /// fc/128 ≈ 106 kbit/s (the only EMV bit rate).
    Kbps106,
    /// fc/64 ≈ 212 kbit/s.
    Kbps212,
    /// fc/32 ≈ 424 kbit/s.
    Kbps424,
    /// fc/16 ≈ 848 kbit/s.
    Kbps848,
}

/// How one frame is sent and received (ISO/IEC 14443-3 §6.2.3 for Type A, §7.1 for Type B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Type A short frame: the 7 low bits of `tx[0]`, no parity on CRC, no CRC (REQA `26`,
    /// WUPA `52`; ISO/IEC 14443-3 §6.2.3.1). The answer (ATQA) is a standard frame without CRC;
    /// a collision in it is reported as [`RfError::Collision`].
    ShortFrame,
    /// Type A bit-oriented anticollision frame with whole bytes (ANTICOLLISION with NVB `20`,
    /// ISO/IEC 14443-3 §6.2.3.3): no CRC either way; the chip reports a bit collision in the
    /// answer as [`RfError::Collision`].
    Anticollision,
    /// Standard frame sent and received as is: the caller has appended any CRC to `tx` and
    /// finds the received CRC at the end of `rx`.
    Standard,
    /// Standard frame with CRC_A / CRC_B appended by the chip on transmit, checked and stripped
    /// by the chip on receive (a wrong CRC is [`RfError::Integrity`]). Only used when
    /// [`RfFrontend::crc_in_hardware`] is `true`.
    StandardCrc,
}

/// Failure of one [`RfFrontend::transceive`] or of the slot operations built on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RfError<E> {
    /// No answer within the timeout (ISO/IEC 14443-4 §7.5.6 "time-out error"; for the
    /// polling loop, "no card").
    #[error("no answer within the timeout")]
    Timeout,
    /// More than one card answered: a bit collision was detected (ISO/IEC 14443-3 §6.2.4).
    #[error("collision: more than one card answered")]
    Collision,
    /// A transmission error: wrong CRC, parity error, wrong framing or residual bits
    /// (EMV Book D "transmission error").
    #[error("transmission error (CRC, parity or framing)")]
    Integrity,
    /// The received frame does not fit the receive buffer, or a frame to send does not fit
    /// [`MAX_FRAME_WITH_CRC`].
    #[error("frame too long for the buffer")]
    Overflow,
    /// The front-end itself failed (bus error, chip not responding…).
    #[error("front-end error: {0:?}")]
    Transport(E),
}

/// A raw ISO/IEC 14443 RF front-end: field control, mode selection and frame exchange.
///
/// Implemented by board/chip drivers in `emv-readers`; driven by
/// [`crate::iso14443::ContactlessReader`]. Implementations report every answer as received:
/// they do not retry, and they do not interpret ISO-DEP blocks.
pub trait RfFrontend {
    /// The chip driver's own error (bus, pins…), kept generic.
    type Error: core::fmt::Debug;

    /// Switches the 13.56 MHz field on or off (ISO/IEC 14443-2 §6; EMV Book D "RF reset" is
    /// field off for at least 5.1 ms).
    ///
    /// # Errors
    /// [`RfError::Transport`] if the chip cannot be driven.
    fn set_field(&mut self, on: bool) -> Result<(), RfError<Self::Error>>;

    /// Selects the technology and bit rate for the following frames (ISO/IEC 14443-2 §8–§9).
    ///
    /// # Errors
    /// [`RfError::Transport`] if the chip cannot be driven or does not support the mode.
    fn configure(
        &mut self,
        technology: Technology,
        bit_rate: BitRate,
    ) -> Result<(), RfError<Self::Error>>;

    /// Whether the chip appends and checks CRC_A/CRC_B itself, i.e. supports
    /// [`Framing::StandardCrc`]. Defaults to `false` (CRC in software).
    fn crc_in_hardware(&self) -> bool {
        false
    }

    /// Sends `tx` with `framing` and waits up to `timeout_us` microseconds (counted from the
    /// end of the transmission) for one answer frame, written to `rx`. Returns the number of
    /// received bytes (whole bytes; with [`Framing::StandardCrc`] without the CRC).
    ///
    /// # Errors
    /// [`RfError::Timeout`] for no answer, [`RfError::Collision`], [`RfError::Integrity`] for a
    /// CRC/parity/framing error, [`RfError::Overflow`] if the answer is longer than `rx`,
    /// [`RfError::Transport`] if the chip failed.
    fn transceive(
        &mut self,
        tx: &[u8],
        framing: Framing,
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, RfError<Self::Error>>;
}

impl<T: RfFrontend + ?Sized> RfFrontend for &mut T {
    type Error = T::Error;

    fn set_field(&mut self, on: bool) -> Result<(), RfError<Self::Error>> {
        (**self).set_field(on)
    }

    fn configure(
        &mut self,
        technology: Technology,
        bit_rate: BitRate,
    ) -> Result<(), RfError<Self::Error>> {
        (**self).configure(technology, bit_rate)
    }

    fn crc_in_hardware(&self) -> bool {
        (**self).crc_in_hardware()
    }

    fn transceive(
        &mut self,
        tx: &[u8],
        framing: Framing,
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, RfError<Self::Error>> {
        (**self).transceive(tx, framing, rx, timeout_us)
    }
}

/// Sends a standard frame `tx` (without CRC) and receives one answer (written to `rx` without
/// CRC), the CRC of `technology` (ISO/IEC 14443-3 Annex B) being handled by the chip when
/// [`RfFrontend::crc_in_hardware`] says so and in software otherwise.
///
/// # Errors
/// As [`RfFrontend::transceive`]; a software CRC mismatch or an answer shorter than the CRC is
/// [`RfError::Integrity`]; `tx` longer than [`MAX_FRAME_WITH_CRC`]` - 2` is
/// [`RfError::Overflow`].
pub fn transceive_with_crc<F: RfFrontend + ?Sized>(
    frontend: &mut F,
    technology: Technology,
    tx: &[u8],
    rx: &mut [u8],
    timeout_us: u32,
) -> Result<usize, RfError<F::Error>> {
    if frontend.crc_in_hardware() {
        return frontend.transceive(tx, Framing::StandardCrc, rx, timeout_us);
    }
    let mut out = [0u8; MAX_FRAME_WITH_CRC];
    let crc_at = tx.len();
    let end = crc_at.checked_add(2).ok_or(RfError::Overflow)?;
    out.get_mut(..crc_at)
        .ok_or(RfError::Overflow)?
        .copy_from_slice(tx);
    out.get_mut(crc_at..end)
        .ok_or(RfError::Overflow)?
        .copy_from_slice(&crc::crc(technology, tx));
    let mut answer = [0u8; MAX_FRAME_WITH_CRC];
    let n = frontend.transceive(
        out.get(..end).ok_or(RfError::Overflow)?,
        Framing::Standard,
        &mut answer,
        timeout_us,
    )?;
    let payload = crc::check(technology, answer.get(..n).ok_or(RfError::Overflow)?)
        .ok_or(RfError::Integrity)?;
    rx.get_mut(..payload.len())
        .ok_or(RfError::Overflow)?
        .copy_from_slice(payload);
    Ok(payload.len())
}

/// A Type A card after activation: ATQA, complete UID, final SAK and ATS (ISO/IEC 14443-3 §6.4,
/// ISO/IEC 14443-4 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivatedA {
    /// The ATQA of the last WUPA.
    pub atqa: Atqa,
    /// The complete UID (4, 7 or 10 bytes), cascade tags removed.
    pub uid: Uid,
    /// The SAK of the last cascade level.
    pub sak: Sak,
    /// The ATS answering RATS.
    pub ats: OwnedAts,
}

/// A Type B card after activation: ATQB and the answer to ATTRIB (ISO/IEC 14443-3 §7.9–§7.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivatedB {
    /// The ATQB of the last WUPB.
    pub atqb: Atqb,
    /// The first byte of the answer to ATTRIB (MBLI and CID).
    pub attrib: AttribResponse,
}

/// A card activated by the polling loop, ready for ISO-DEP (ISO/IEC 14443-4).
// No heap to box into: the ATS buffer is carried by value on purpose.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activated {
    /// A Type A card.
    TypeA(ActivatedA),
    /// A Type B card.
    TypeB(ActivatedB),
}

impl Activated {
    /// The technology of the card.
    #[must_use]
    pub const fn technology(&self) -> Technology {
        match self {
            Self::TypeA(_) => Technology::TypeA,
            Self::TypeB(_) => Technology::TypeB,
        }
    }

    /// The card's identifier: the UID (Type A) or the PUPI (Type B).
    #[must_use]
    pub fn identifier(&self) -> &[u8] {
        match self {
            Self::TypeA(a) => a.uid.as_bytes(),
            Self::TypeB(b) => b.atqb.pupi(),
        }
    }
}

/// The result of one polling cycle (EMV Book D polling; \[M\] for the exact sequence).
///
/// A collision is an outcome, not an error: EMV Book D reports it to Entry Point, which asks
/// the cardholder to present one card only.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// No card answered WUPA or WUPB.
    NoCard,
    /// More than one card (or a Type A and a Type B card) answered.
    Collision,
    /// Exactly one card answered and was activated.
    Activated(Activated),
}

/// A contactless slot (EMV Book D: polling, collision detection, activation, deactivation,
/// removal), as the kernel-side driver sees it.
pub trait Contactless {
    /// The slot's error: transport failures and card misbehaviour during activation.
    type Error: core::fmt::Debug;

    /// Runs one polling cycle: switches the field on if needed, polls Type A and Type B
    /// alternately with the guard times, detects collisions and activates a single card
    /// (anticollision, SELECT, RATS for Type A; ATTRIB for Type B).
    ///
    /// # Errors
    /// Transport failures, and activation failures of a card that answered polling.
    fn poll(&mut self) -> Result<PollOutcome, Self::Error>;

    /// Deactivates the activated card with S(DESELECT) (ISO/IEC 14443-4 §8). A card that does
    /// not answer is left to a field reset.
    ///
    /// # Errors
    /// Transport failures and a DESELECT the card never acknowledged.
    fn deactivate(&mut self) -> Result<(), Self::Error>;

    /// Switches the field off; any activated card is lost.
    ///
    /// # Errors
    /// Transport failures.
    fn field_off(&mut self) -> Result<(), Self::Error>;
}

impl<C: Contactless + ?Sized> Contactless for &mut C {
    type Error = C::Error;

    fn poll(&mut self) -> Result<PollOutcome, Self::Error> {
        (**self).poll()
    }

    fn deactivate(&mut self) -> Result<(), Self::Error> {
        (**self).deactivate()
    }

    fn field_off(&mut self) -> Result<(), Self::Error> {
        (**self).field_off()
    }
}
