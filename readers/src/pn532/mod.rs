//! NXP PN532 NFC controller driver (NXP UM0701-02 host interface), over embedded-hal I2C and
//! SpiDevice and an embedded-io UART.
//!
//! Three separate layers, as lora-phy separates board wiring, chip command set and radio
//! logic:
//!
//! * board wiring, [`interface`] (UM0701-02 §6.2.4 I2C, §6.2.5 SPI, §6.2.6 HSU):
//!   [`I2cInterface`] (address `0x24`, status byte `01` = ready), [`SpiInterface`] (`01`
//!   data write / `02` status read / `03` data read, LSB first: see [`BitOrder`]),
//!   [`HsuInterface`] (UART with the `55 55 00 …` wake-up);
//! * the chip's command set, [`chip`] (UM0701-02 §7.2–§7.3): [`Pn532`] runs the host
//!   dialogue (command → ACK → response, §6.2.2) with bounded retries and a
//!   [`DelayNs`](embedded_hal::delay::DelayNs) polling budget, and the commands
//!   GetFirmwareVersion, SAMConfiguration, SetParameters, RFConfiguration,
//!   ReadRegister/WriteRegister, InListPassiveTarget, InCommunicateThru, InDeselect,
//!   InRelease; the frames themselves are [`frame`] (UM0701-02 §6.2.1: normal and extended
//!   information frames, ACK, NACK, error frame);
//! * the protocol, in `emv-hal`: [`Pn532Frontend`] implements
//!   [`emv_hal::rf::RfFrontend`] with raw InCommunicateThru frames (ISO/IEC 14443-3 §6.2.3
//!   frame types set in the CIU), so
//!   `emv_hal::iso14443::ContactlessReader<Pn532Frontend<…>, D>` does EMV polling,
//!   anticollision, RATS and ISO-DEP (ISO/IEC 14443-4 §7: chaining, WTX, retransmission)
//!   itself, and offers `Contactless` and `CardChannel`.
//!
//! ```text
//! let chip = Pn532::new(I2cInterface::new(i2c), delay);
//! let mut frontend = Pn532Frontend::new(chip, true);   // CRC_A/CRC_B in the chip
//! frontend.init()?;        // SAM normal mode, firmware version, no auto-RATS, field off
//! let mut reader = ContactlessReader::new(frontend, delay2);
//! if let PollOutcome::Activated(_) = reader.poll()? {
//!     let n = reader.exchange(&select_ppse, &mut response)?;
//! }
//! ```
//!
//! # Errors and recovery
//!
//! Host-bus trouble is handled in [`chip`] (NACK for an unreadable response, re-sending
//! configuration commands, ACK to abort); an RF exchange is never written twice once the
//! chip may have run it ([`Resend::OnlyIfRejected`]): the failure goes up as an
//! [`emv_hal::rf::RfError`] class and ISO/IEC 14443-4 recovers, so the card never receives
//! a frame twice because of the bus. A chip that stops answering is
//! `RfError::Transport(Pn532Error::NoAck)`. Nothing loops without a bound: every wait is a
//! budget counted with the delay.
//!
//! # Limits (be honest)
//!
//! * **Not EMV Level 1 certifiable.** Every RF frame is a host command: the host round trip
//!   (tens of µs on SPI to ms on I2C/HSU) sits between frames, so the EMV Book D minimum and
//!   maximum PCD timings (frame delay times, SFGT, the polling guard times) are only as
//!   good as the bus and the MCU; the chip's RF timeout is coarse (100 µs × 2^n) and stops
//!   at 3.28 s, short of the 4.95 s of FWI 14 with WTX. The analog settings for Type B
//!   (10 % ASK) are \[M\] and were not checked on hardware. Fine for a development rig and
//!   for the integration tests in this repository; a certified reader uses an EMV L1 front
//!   end (ST25R3916, PN5180 class).
//! * The chip's own ISO-DEP (InDataExchange, automatic RATS) is deliberately not used: EMV
//!   Book D retransmission, WTX and chaining rules are applied by `emv-hal`.
//! * One target, 106 kbit/s only; no card emulation, no FeliCa/Jewel, no power-down.
//! * Responses are read with a fixed length on I2C and SPI (the frame length is not known in
//!   advance): up to 276 bytes per InCommunicateThru answer.
//! * Tested against the behavioural model `emv_test_cards::chips::pn532` (which follows
//!   UM0701-02), not yet against a chip.
//!
//! no_std, no allocator; bytes from the chip or the card never make it panic.

pub mod chip;
pub mod frame;
pub mod frontend;
pub mod interface;

use core::fmt;

pub use chip::{Config, FirmwareVersion, Modulation, Pn532, Resend, TargetA};
pub use frame::{Frame, FrameError, ResponseError};
pub use frontend::Pn532Frontend;
pub use interface::{BitOrder, HsuInterface, I2cInterface, Interface, SpiInterface};

/// Errors of the PN532 driver, by blame: the bus (`Bus`), the chip's dialogue (`NoAck`,
/// `Nack`, `Timeout`, `Frame`, `Response`, `SyntaxError`, `Status`, `InvalidResponse`) and
/// API misuse (`BufferTooSmall`, `Unsupported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pn532Error<E> {
    /// The bus failed (the HAL's own error).
    Bus(E),
    /// No ACK to a command, after all retries.
    NoAck,
    /// The chip answered every attempt with a NACK.
    Nack,
    /// The chip acknowledged but did not answer within the budget, after all retries.
    Timeout,
    /// The response could not be read (checksum, truncation) even after NACKs.
    Frame(FrameError),
    /// A well-formed frame that is not the response to the command.
    Response(ResponseError),
    /// The chip sent the syntax-error frame: it rejected the command.
    SyntaxError,
    /// The chip reported an error status (UM0701-02 Table "Error code list"; `01` time-out,
    /// `02` CRC, `03` parity, `27` wrong context, …).
    Status(u8),
    /// The response is too short or malformed for the command.
    InvalidResponse,
    /// A command too long for a frame, or a response longer than the caller's buffer.
    BufferTooSmall,
    /// A mode the driver does not support (bit rates other than 106 kbit/s).
    Unsupported,
}

impl<E: fmt::Debug> fmt::Display for Pn532Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::NoAck => f.write_str("no ACK from the PN532"),
            Self::Nack => f.write_str("the PN532 sent NACK to every attempt"),
            Self::Timeout => f.write_str("no response from the PN532 in time"),
            Self::Frame(e) => write!(f, "unreadable response frame: {e}"),
            Self::Response(e) => write!(f, "unexpected response: {e}"),
            Self::SyntaxError => f.write_str("the PN532 rejected the command (syntax error frame)"),
            Self::Status(s) => write!(f, "PN532 error status {s:02X}"),
            Self::InvalidResponse => f.write_str("malformed response"),
            Self::BufferTooSmall => f.write_str("buffer too small"),
            Self::Unsupported => f.write_str("unsupported mode"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Pn532Error<E> {}
