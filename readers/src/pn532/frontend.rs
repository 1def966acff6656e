//! The PN532 as a raw ISO/IEC 14443 front-end ([`RfFrontend`]): every frame goes through
//! InCommunicateThru with the CIU set for the frame type, so polling, anticollision, RATS
//! and ISO-DEP are `emv-hal`'s, not the chip's firmware's.
//!
//! CIU registers written (PN532 data sheet §8.6.23, addresses \[S: libnfc
//! `pn53x-internal.h`\]):
//!
//! | register | address | use |
//! |---|---|---|
//! | CIU_TxMode | `6302` | b7 TxCRCEn, b6–b4 speed (`000` = 106 kbit/s), b1–b0 framing (`00` Type A, `11` Type B) |
//! | CIU_RxMode | `6303` | b7 RxCRCEn, same speed and framing bits |
//! | CIU_TxAuto | `6305` | b6 Force100ASK (Type A on, Type B off), b2–b0 RF auto/initial on |
//! | CIU_ManualRCV | `630D` | b4 ParityDisable (kept 0: parity on) |
//! | CIU_CWGsP / CIU_ModGsP | `6318` / `6319` | Type B 10 % ASK: `3F` / `12` \[S: public PN532 ST25TB reader sources; M\] |
//! | CIU_Control | `633C` | b4 Initiator |
//! | CIU_BitFraming | `633D` | b2–b0 TxLastBits: 7 for a short frame (WUPA), 0 otherwise |
//!
//! Registers are shadowed: only changed values are written, in one WriteRegister. The RF
//! timeout of each frame is programmed with RFConfiguration "various timings" (rounded up
//! to the chip's 100 µs × 2^n steps, at most 3.28 s), again only when it changes.
//!
//! Chip status codes map to [`RfError`] (UM0701-02 §7.1 "Error handling", error code
//! table): `01` → `Timeout`; `02` CRC, `03` parity, `04` bit count, `05` framing, `0B` RF
//! protocol → `Integrity`; `06` bit collision → `Collision`; `07`, `09`, `0E` buffer
//! overflows → `Overflow`; anything else → `Transport(Pn532Error::Status)`. The mapping of
//! `04`/`06` is \[M\].
//!
//! Host-bus failures during an exchange map so that ISO/IEC 14443-4 §7.5.4 can recover: a
//! response lost or unreadable after the chip's ACK is `Timeout` / `Integrity` (the frame
//! went out; the engine answers with R(NAK)); a missing ACK is checked with
//! GetFirmwareVersion: a chip that answers lost the frame (`Timeout`), a silent chip is
//! `Transport(NoAck)`. InCommunicateThru itself is never written twice once the chip may
//! have run it ([`super::Resend::OnlyIfRejected`]).

use embedded_hal::delay::DelayNs;
use emv_hal::rf::{BitRate, Framing, RfError, RfFrontend, Technology};

use super::Pn532Error;
use super::chip::{FirmwareVersion, Pn532, timeout_code, timeout_code_us};
use super::interface::Interface;

/// CIU_TxMode.
pub const REG_TX_MODE: u16 = 0x6302;
/// CIU_RxMode.
pub const REG_RX_MODE: u16 = 0x6303;
/// CIU_TxAuto.
pub const REG_TX_AUTO: u16 = 0x6305;
/// CIU_ManualRCV.
pub const REG_MANUAL_RCV: u16 = 0x630D;
/// CIU_TypeB.
pub const REG_TYPE_B: u16 = 0x630E;
/// CIU_CWGsP.
pub const REG_CW_GSP: u16 = 0x6318;
/// CIU_ModGsP.
pub const REG_MOD_GSP: u16 = 0x6319;
/// CIU_Control.
pub const REG_CONTROL: u16 = 0x633C;
/// CIU_BitFraming.
pub const REG_BIT_FRAMING: u16 = 0x633D;

/// TxMode/RxMode b7: CRC enabled.
pub const MODE_CRC_EN: u8 = 0x80;
/// TxMode/RxMode framing bits b1–b0.
pub const MODE_FRAMING_MASK: u8 = 0x03;
/// TxMode/RxMode framing: ISO/IEC 14443 Type B.
pub const MODE_FRAMING_TYPE_B: u8 = 0x03;
/// TxAuto b6: Force100ASK.
pub const TX_AUTO_FORCE_100_ASK: u8 = 0x40;
/// TxAuto b2–b0: InitialRFOn, Tx2RFAutoEn, Tx1RFAutoEn.
pub const TX_AUTO_RF_AUTO: u8 = 0x07;
/// Control b4: initiator.
pub const CONTROL_INITIATOR: u8 = 0x10;

/// The RFConfiguration ATR_RES timeout code left at its default (102.4 ms).
const ATR_RES_TIMEOUT_CODE: u8 = 0x0B;

/// Shadow copies of the registers this front-end changes (`None`: not yet written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Shadow {
    tx_mode: Option<u8>,
    rx_mode: Option<u8>,
    bit_framing: Option<u8>,
    timeout_code: Option<u8>,
}

/// The PN532 as an ISO/IEC 14443 [`RfFrontend`]. Wrap it in
/// `emv_hal::iso14443::ContactlessReader` for EMV polling, activation and ISO-DEP.
#[derive(Debug)]
pub struct Pn532Frontend<I, D> {
    chip: Pn532<I, D>,
    technology: Technology,
    hardware_crc: bool,
    shadow: Shadow,
}

impl<I: Interface, D: DelayNs> Pn532Frontend<I, D> {
    /// A front-end over `chip`. With `hardware_crc` the CIU appends and checks CRC_A/CRC_B
    /// ([`Framing::StandardCrc`]); without, `emv-hal` does it in software.
    pub const fn new(chip: Pn532<I, D>, hardware_crc: bool) -> Self {
        Self {
            chip,
            technology: Technology::TypeA,
            hardware_crc,
            shadow: Shadow {
                tx_mode: None,
                rx_mode: None,
                bit_framing: None,
                timeout_code: None,
            },
        }
    }

    /// Brings the chip up for raw ISO/IEC 14443 work: wake-up (HSU), SAMConfiguration
    /// (normal mode), GetFirmwareVersion, SetParameters `00` (no automatic RATS/ATR_RES: our
    /// ISO-DEP), MaxRetries `00 01 00`, the CIU in initiator mode, RF field off. Returns the
    /// firmware version.
    ///
    /// # Errors
    /// [`Pn532Error`].
    pub fn init(&mut self) -> Result<FirmwareVersion, Pn532Error<I::Error>> {
        self.chip.wake_up()?;
        // SAMConfiguration first: after the HSU wake-up it is the command that keeps the
        // chip awake (UM0701-02 §7.2.10); on I2C and SPI the order does not matter.
        self.chip.sam_configuration_normal()?;
        let version = self.chip.get_firmware_version()?;
        self.chip.set_parameters(0x00)?;
        self.chip.rf_max_retries(0x00, 0x01, 0x00)?;
        self.chip
            .write_registers(&[(REG_CONTROL, CONTROL_INITIATOR)])?;
        self.chip.rf_field(false)?;
        self.shadow = Shadow::default();
        Ok(version)
    }

    /// The chip, for other commands. Registers changed behind the front-end's back are not
    /// tracked: call [`Self::forget_registers`] after writing CIU registers directly.
    pub const fn chip(&mut self) -> &mut Pn532<I, D> {
        &mut self.chip
    }

    /// Forgets the register shadow, so that the next frame writes every register again.
    pub fn forget_registers(&mut self) {
        self.shadow = Shadow::default();
    }

    /// Gives the chip back.
    pub fn release(self) -> Pn532<I, D> {
        self.chip
    }

    /// Writes TxMode, RxMode and BitFraming for one frame (only changed values) and the RF
    /// timeout code.
    fn prepare(
        &mut self,
        crc: bool,
        last_bits: u8,
        timeout_us: u32,
    ) -> Result<(), Pn532Error<I::Error>> {
        let framing = match self.technology {
            Technology::TypeA => 0x00,
            Technology::TypeB => MODE_FRAMING_TYPE_B,
        };
        let mode = framing | if crc { MODE_CRC_EN } else { 0 };
        let mut writes = [(0u16, 0u8); 3];
        let mut n = 0;
        for (reg, shadow, value) in [
            (REG_TX_MODE, &mut self.shadow.tx_mode, mode),
            (REG_RX_MODE, &mut self.shadow.rx_mode, mode),
            (
                REG_BIT_FRAMING,
                &mut self.shadow.bit_framing,
                last_bits & 0x07,
            ),
        ] {
            if *shadow != Some(value) {
                if let Some(slot) = writes.get_mut(n) {
                    *slot = (reg, value);
                    n += 1;
                }
                *shadow = Some(value);
            }
        }
        if n > 0 {
            let result = self.chip.write_registers(writes.get(..n).unwrap_or(&[]));
            if result.is_err() {
                self.shadow = Shadow::default();
            }
            result?;
        }
        let code = timeout_code(timeout_us);
        if self.shadow.timeout_code != Some(code) {
            self.shadow.timeout_code = None;
            self.chip.rf_timings(ATR_RES_TIMEOUT_CODE, code)?;
            self.shadow.timeout_code = Some(code);
        }
        Ok(())
    }
}

/// Maps a chip status code of InCommunicateThru to the RF error class.
#[must_use]
pub const fn map_status<E>(code: u8) -> RfError<Pn532Error<E>> {
    match code {
        0x01 => RfError::Timeout,
        0x02..=0x05 | 0x0B => RfError::Integrity,
        0x06 => RfError::Collision,
        0x07 | 0x09 | 0x0E => RfError::Overflow,
        other => RfError::Transport(Pn532Error::Status(other)),
    }
}

impl<I: Interface, D: DelayNs> RfFrontend for Pn532Frontend<I, D> {
    type Error = Pn532Error<I::Error>;

    fn set_field(&mut self, on: bool) -> Result<(), RfError<Self::Error>> {
        self.chip.rf_field(on).map_err(RfError::Transport)
    }

    fn configure(
        &mut self,
        technology: Technology,
        bit_rate: BitRate,
    ) -> Result<(), RfError<Self::Error>> {
        if bit_rate != BitRate::Kbps106 {
            return Err(RfError::Transport(Pn532Error::Unsupported));
        }
        if technology == self.technology && self.shadow.tx_mode.is_some() {
            return Ok(());
        }
        self.technology = technology;
        let writes: &[(u16, u8)] = match technology {
            Technology::TypeA => &[(REG_TX_AUTO, TX_AUTO_FORCE_100_ASK | TX_AUTO_RF_AUTO)],
            Technology::TypeB => &[
                (REG_TX_AUTO, TX_AUTO_RF_AUTO),
                (REG_CW_GSP, 0x3F),
                (REG_MOD_GSP, 0x12),
            ],
        };
        // Framing bits of TxMode/RxMode follow with the next frame.
        self.shadow.tx_mode = None;
        self.shadow.rx_mode = None;
        self.chip
            .write_registers(writes)
            .map_err(RfError::Transport)
    }

    fn crc_in_hardware(&self) -> bool {
        self.hardware_crc
    }

    fn transceive(
        &mut self,
        tx: &[u8],
        framing: Framing,
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, RfError<Self::Error>> {
        if tx.len() > emv_hal::rf::MAX_FRAME_WITH_CRC {
            return Err(RfError::Overflow);
        }
        let (crc, last_bits) = match framing {
            Framing::ShortFrame => (false, 7),
            Framing::Anticollision | Framing::Standard => (false, 0),
            Framing::StandardCrc => (true, 0),
        };
        self.prepare(crc, last_bits, timeout_us)
            .map_err(RfError::Transport)?;
        let budget = timeout_code_us(timeout_code(timeout_us))
            .saturating_add(self.chip.config().response_margin_us);
        let tx = if framing == Framing::ShortFrame {
            tx.get(..1).unwrap_or(&[])
        } else {
            tx
        };
        match self.chip.in_communicate_thru(tx, rx, budget) {
            Ok(n) => Ok(n),
            Err(Pn532Error::Status(code)) => Err(map_status(code)),
            Err(Pn532Error::BufferTooSmall) => Err(RfError::Overflow),
            // The chip ran the exchange (or may have): the answer was lost on the host bus
            // or is not readable. The ISO-DEP rules recover as from an RF error.
            Err(Pn532Error::Timeout) => Err(RfError::Timeout),
            Err(Pn532Error::Frame(_) | Pn532Error::Response(_) | Pn532Error::InvalidResponse) => {
                Err(RfError::Integrity)
            }
            // No ACK: the frame may not have reached the chip, or the chip is gone. Ask it
            // for its firmware version (harmless, re-sent freely): if it answers, the frame
            // was lost on the bus, which the RF protocol treats as no answer; if not, the
            // chip failed.
            Err(Pn532Error::NoAck) => match self.chip.get_firmware_version() {
                Ok(_) => Err(RfError::Timeout),
                Err(e) => Err(RfError::Transport(e)),
            },
            Err(e) => Err(RfError::Transport(e)),
        }
    }
}
