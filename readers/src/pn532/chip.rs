//! The PN532 command set (NXP UM0701-02 §7) over any [`Interface`]: the host-controller
//! dialogue (command frame → ACK → response frame, §6.2.2) with bounded retries, and the
//! commands an EMV reader needs.
//!
//! Dialogue and recovery (UM0701-02 §6.2.2 "dialog structure", §6.2.1.3 ACK/NACK):
//!
//! 1. write the command frame; poll for the ACK within [`Config::ack_timeout_us`];
//! 2. a NACK (the chip saw a bad checksum and ran nothing) → write the command again, at
//!    most [`Config::retries`] more times;
//! 3. the header of an information frame in place of the ACK (the ACK was lost, the
//!    response is ready) → a NACK asks for the response again in full;
//! 4. poll for the response within the command's budget; an unreadable response (bad
//!    LCS/DCS, truncated) is asked again with a NACK (the chip sends its last response
//!    again without running the command again), at most [`Config::retries`] times;
//! 5. no ACK, an unreadable ACK followed by no response, or no response in time → an ACK
//!    frame aborts the command (UM0701-02 §6.2.1.3) and, for configuration commands
//!    ([`Resend::Always`]), the command is written again within the same attempt budget.
//!    RF exchanges ([`Resend::OnlyIfRejected`]) are not written again once the chip may
//!    have run them: the error goes up and ISO/IEC 14443-4 recovers (R(NAK) and
//!    retransmission), so the card never sees a frame twice because of the host bus.
//!
//! Whether the chip itself NACKs a command frame with a bad checksum or stays silent is
//! \[M\]: the driver handles both.
//!
//! Time is a polling budget counted with a [`DelayNs`]: the driver never reads a clock.

use embedded_hal::delay::DelayNs;

use super::Pn532Error;
use super::frame::{self, Frame, MAX_FRAME_LEN};
use super::interface::Interface;

/// GetFirmwareVersion (UM0701-02 §7.2.2).
pub const GET_FIRMWARE_VERSION: u8 = 0x02;
/// ReadRegister (§7.2.4).
pub const READ_REGISTER: u8 = 0x06;
/// WriteRegister (§7.2.5).
pub const WRITE_REGISTER: u8 = 0x08;
/// SetParameters (§7.2.9).
pub const SET_PARAMETERS: u8 = 0x12;
/// SAMConfiguration (§7.2.10).
pub const SAM_CONFIGURATION: u8 = 0x14;
/// RFConfiguration (§7.3.1).
pub const RF_CONFIGURATION: u8 = 0x32;
/// InDataExchange (§7.3.8): not used by this driver (the chip's own ISO-DEP).
pub const IN_DATA_EXCHANGE: u8 = 0x40;
/// InCommunicateThru (§7.3.9): one raw frame out, one back.
pub const IN_COMMUNICATE_THRU: u8 = 0x42;
/// InDeselect (§7.3.10).
pub const IN_DESELECT: u8 = 0x44;
/// InListPassiveTarget (§7.3.5).
pub const IN_LIST_PASSIVE_TARGET: u8 = 0x4A;
/// InRelease (§7.3.11).
pub const IN_RELEASE: u8 = 0x52;

/// SetParameters flag: NAD used (b0).
pub const PARAM_NAD_USED: u8 = 0x01;
/// SetParameters flag: DID used (b1).
pub const PARAM_DID_USED: u8 = 0x02;
/// SetParameters flag: the chip answers ATR_REQ itself (b2, fAutomaticATR_RES).
pub const PARAM_AUTO_ATR_RES: u8 = 0x04;
/// SetParameters flag: the chip sends RATS itself after InListPassiveTarget (b4,
/// fAutomaticRATS).
pub const PARAM_AUTO_RATS: u8 = 0x10;
/// SetParameters flag: ISO/IEC 14443-4 PICC emulation (b5).
pub const PARAM_ISO14443_4_PICC: u8 = 0x20;
/// SetParameters flag: no preamble/postamble in frames (b6).
pub const PARAM_REMOVE_PRE_POST_AMBLE: u8 = 0x40;

/// RFConfiguration item: RF field (§7.3.1, CfgItem 1).
pub const CFG_RF_FIELD: u8 = 0x01;
/// RFConfiguration item: various timings (CfgItem 2).
pub const CFG_TIMINGS: u8 = 0x02;
/// RFConfiguration item: MaxRtyCOM (CfgItem 4).
pub const CFG_MAX_RETRY_COM: u8 = 0x04;
/// RFConfiguration item: MaxRetries (CfgItem 5).
pub const CFG_MAX_RETRIES: u8 = 0x05;

/// The largest timeout code of RFConfiguration "various timings": 3.28 s.
pub const MAX_TIMEOUT_CODE: u8 = 0x10;

/// The InCommunicateThru / InDataExchange timeout the chip uses for a code of RFConfiguration
/// "various timings": `00` none, `n` = 100 µs × 2^(n−1), up to `10` = 3.28 s
/// \[S: libnfc `pn53x_int_to_timeout`; M: UM0701-02 §7.3.1 table\].
#[must_use]
pub const fn timeout_code_us(code: u8) -> u32 {
    match code {
        0 => 0,
        c if c > MAX_TIMEOUT_CODE => 100 << (MAX_TIMEOUT_CODE - 1),
        c => 100 << (c - 1),
    }
}

/// The smallest timeout code whose timeout is at least `us` (capped at
/// [`MAX_TIMEOUT_CODE`], 3.28 s; EMV's largest FWT, 4.95 s, does not fit: see the module
/// docs of [`super`]).
#[must_use]
pub const fn timeout_code(us: u32) -> u8 {
    let mut code = 1;
    while code < MAX_TIMEOUT_CODE && timeout_code_us(code) < us {
        code += 1;
    }
    code
}

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long to poll for the ACK of a command (UM0701-02: the ACK comes within a few ms).
    pub ack_timeout_us: u32,
    /// How long to poll for the response of commands without an RF exchange.
    pub response_timeout_us: u32,
    /// Added to the RF timeout of InCommunicateThru/InListPassiveTarget for the chip's own
    /// processing and the host transfer.
    pub response_margin_us: u32,
    /// The polling step (one status read per step).
    pub poll_interval_us: u32,
    /// How many times a command is re-sent (NACK, no ACK, no response), and how many NACKs
    /// ask a response again.
    pub retries: u8,
}

impl Config {
    /// Defaults: 30 ms for the ACK, 100 ms for a response, 50 ms margin, 500 µs polling, 2
    /// retries.
    pub const DEFAULT: Self = Self {
        ack_timeout_us: 30_000,
        response_timeout_us: 100_000,
        response_margin_us: 50_000,
        poll_interval_us: 500,
        retries: 2,
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The answer to GetFirmwareVersion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareVersion {
    /// IC: `32` for the PN532.
    pub ic: u8,
    /// Firmware version.
    pub version: u8,
    /// Firmware revision.
    pub revision: u8,
    /// Supported functions: b0 ISO/IEC 14443 Type A, b1 Type B, b2 ISO 18092.
    pub support: u8,
}

/// Baud rate and modulation of InListPassiveTarget (BrTy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modulation {
    /// `00`: 106 kbit/s Type A.
    TypeA106,
    /// `03`: 106 kbit/s Type B (InitiatorData: AFI).
    TypeB106,
}

impl Modulation {
    /// The BrTy byte.
    #[must_use]
    pub const fn brty(self) -> u8 {
        match self {
            Self::TypeA106 => 0x00,
            Self::TypeB106 => 0x03,
        }
    }
}

/// A Type A target in the answer to InListPassiveTarget (UM0701-02 §7.3.5):
/// `Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1 [ATS]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetA<'a> {
    /// The logical target number the chip assigned.
    pub tg: u8,
    /// SENS_RES (ATQA) as the chip reports it (most significant byte first).
    pub sens_res: [u8; 2],
    /// SEL_RES (SAK).
    pub sel_res: u8,
    /// The UID (NFCID1).
    pub uid: &'a [u8],
    /// The ATS, when the chip sent RATS itself (SetParameters fAutomaticRATS).
    pub ats: Option<&'a [u8]>,
}

impl<'a> TargetA<'a> {
    /// Parses the response data of InListPassiveTarget(106 A): `NbTg` then the first
    /// target. `None` when no target was found or the data is malformed.
    #[must_use]
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&nb, rest) = data.split_first()?;
        if nb == 0 {
            return None;
        }
        let (&tg, rest) = rest.split_first()?;
        let (&[s0, s1, sel_res, uid_len], rest) = rest.split_first_chunk::<4>()?;
        let uid = rest.get(..usize::from(uid_len))?;
        let rest = rest.get(usize::from(uid_len)..)?;
        let ats = match rest.first() {
            Some(&tl) if usize::from(tl) <= rest.len() && tl > 0 => rest.get(..usize::from(tl)),
            _ => None,
        };
        Some(Self {
            tg,
            sens_res: [s0, s1],
            sel_res,
            uid,
            ats,
        })
    }
}

/// What came back in place of the ACK.
enum AckState {
    /// The ACK.
    Ack,
    /// A NACK: the chip rejected the frame (bad checksum on its side), nothing executed.
    Nack,
    /// The header of an information frame: the ACK was lost and the response is already
    /// there (read cut at the ACK's length); a NACK asks it again in full.
    ResponseFirst,
    /// Unreadable bytes: maybe an ACK, maybe a NACK.
    Garbled,
    /// Nothing within [`Config::ack_timeout_us`].
    Missing,
}

/// Whether a command may be written again when the chip may already have executed it
/// (UM0701-02 §6.2.2 lets the host re-send a command it got no ACK for; this driver is
/// stricter for RF exchanges, because a second execution repeats the RF frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Configuration and queries: running twice is harmless, so the command is written
    /// again after a NACK, a missing ACK or a missing response.
    Always,
    /// RF exchanges (InCommunicateThru): written again only after a NACK (the chip
    /// certainly did not run it). Otherwise the failure is reported
    /// ([`Pn532Error::NoAck`], [`Pn532Error::Timeout`]) and the RF protocol recovers with
    /// its own rules (ISO/IEC 14443-4 §7.5.4: R(NAK), retransmission), so a card never
    /// receives one frame twice because of the host bus.
    OnlyIfRejected,
}

/// The PN532: its command set over an [`Interface`], timing with a [`DelayNs`].
#[derive(Debug)]
pub struct Pn532<I, D> {
    interface: I,
    delay: D,
    config: Config,
}

impl<I: Interface, D: DelayNs> Pn532<I, D> {
    /// The chip on `interface`, with the default [`Config`].
    pub const fn new(interface: I, delay: D) -> Self {
        Self::with_config(interface, delay, Config::DEFAULT)
    }

    /// The chip with other settings.
    pub const fn with_config(interface: I, delay: D, config: Config) -> Self {
        Self {
            interface,
            delay,
            config,
        }
    }

    /// The interface (for the board's own use).
    pub const fn interface(&mut self) -> &mut I {
        &mut self.interface
    }

    /// The settings.
    pub const fn config(&self) -> Config {
        self.config
    }

    /// Gives back the interface and the delay.
    pub fn release(self) -> (I, D) {
        (self.interface, self.delay)
    }

    /// Wakes the chip up (the HSU wake-up sequence; nothing on I2C/SPI). Send
    /// SAMConfiguration next.
    ///
    /// # Errors
    /// [`Pn532Error::Bus`].
    pub fn wake_up(&mut self) -> Result<(), Pn532Error<I::Error>> {
        self.interface.wake_up().map_err(Pn532Error::Bus)?;
        self.delay.delay_ms(2);
        Ok(())
    }

    /// Polls for a ready frame and reads it into `buf`, within `budget_us`.
    fn receive(&mut self, buf: &mut [u8], budget_us: u32) -> Result<Option<usize>, I::Error> {
        let step = self.config.poll_interval_us.max(1);
        let mut waited = 0u32;
        loop {
            if self.interface.ready()?
                && let Some(n) = self.interface.read_frame(buf, &mut self.delay)?
            {
                return Ok(Some(n.min(buf.len())));
            }
            if waited >= budget_us {
                return Ok(None);
            }
            self.delay.delay_us(step);
            waited = waited.saturating_add(step);
        }
    }

    fn await_ack(&mut self) -> Result<AckState, I::Error> {
        let mut buf = [0u8; frame::ACK.len()];
        let Some(n) = self.receive(&mut buf, self.config.ack_timeout_us)? else {
            return Ok(AckState::Missing);
        };
        let bytes = buf.get(..n).unwrap_or(&[]);
        Ok(match frame::decode(bytes) {
            Ok((Frame::Ack, _)) => AckState::Ack,
            Ok((Frame::Nack, _)) => AckState::Nack,
            // A longer frame with a valid length checksum: a response, not an ACK.
            Err(frame::FrameError::Truncated)
                if frame::wire_len(bytes).is_some_and(|total| total > bytes.len()) =>
            {
                AckState::ResponseFirst
            }
            _ => AckState::Garbled,
        })
    }

    /// Awaits and checks the response to `command`; `nack_first` asks the chip to send it
    /// again first. `Ok(None)`: nothing came in time.
    fn await_response(
        &mut self,
        command: u8,
        response: &mut [u8],
        budget_us: u32,
        nack_first: bool,
    ) -> Result<Option<usize>, Pn532Error<I::Error>> {
        let mut rx = [0u8; MAX_FRAME_LEN];
        let want = frame::frame_len(response.len().saturating_add(1)).min(MAX_FRAME_LEN);
        let mut nacks = 0u8;
        if nack_first {
            self.send_nack()?;
        }
        loop {
            let received = self
                .receive(rx.get_mut(..want).unwrap_or(&mut []), budget_us)
                .map_err(Pn532Error::Bus)?;
            let Some(n) = received else {
                return Ok(None);
            };
            let error = match frame::decode(rx.get(..n).unwrap_or(&[])) {
                Ok((Frame::Information { tfi, pd }, _)) => {
                    let data =
                        frame::response_data(command, tfi, pd).map_err(Pn532Error::Response)?;
                    let dst = response
                        .get_mut(..data.len())
                        .ok_or(Pn532Error::BufferTooSmall)?;
                    dst.copy_from_slice(data);
                    return Ok(Some(data.len()));
                }
                Ok((Frame::SyntaxError, _)) => return Err(Pn532Error::SyntaxError),
                Ok((Frame::Ack | Frame::Nack, _)) => frame::FrameError::BadLength,
                // A good header announcing more than the caller can take: asking again
                // would not help.
                Err(frame::FrameError::Truncated)
                    if want < MAX_FRAME_LEN
                        && rx
                            .get(..n)
                            .and_then(frame::wire_len)
                            .is_some_and(|total| total > want) =>
                {
                    return Err(Pn532Error::BufferTooSmall);
                }
                Err(e) => e,
            };
            if nacks >= self.config.retries {
                return Err(Pn532Error::Frame(error));
            }
            nacks += 1;
            self.send_nack()?;
        }
    }

    fn send_nack(&mut self) -> Result<(), Pn532Error<I::Error>> {
        self.interface.discard_input().map_err(Pn532Error::Bus)?;
        self.interface
            .write_frame(&frame::NACK)
            .map_err(Pn532Error::Bus)
    }

    /// Sends one command (`pd` = command code and parameters) and returns the response data
    /// after the response code, written to `response`. `timeout_us` is the budget for the
    /// response after the ACK. Configuration commands are written again freely
    /// ([`Resend::Always`]); see [`Self::command_with`].
    ///
    /// # Errors
    /// [`Pn532Error`]: `Bus`, `NoAck`, `Nack`, `Timeout` after the retries; `Frame` for a
    /// response unreadable after the NACKs; `Response` for a frame that does not answer the
    /// command; `SyntaxError`; `BufferTooSmall` for a command that does not fit a frame or a
    /// response longer than `response`.
    pub fn command(
        &mut self,
        pd: &[u8],
        response: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Pn532Error<I::Error>> {
        self.command_with(pd, response, timeout_us, Resend::Always)
    }

    /// [`Self::command`] with an explicit [`Resend`] policy.
    ///
    /// # Errors
    /// As [`Self::command`]; with [`Resend::OnlyIfRejected`], `NoAck` and `Timeout` come
    /// after the first attempt that may have reached the chip.
    pub fn command_with(
        &mut self,
        pd: &[u8],
        response: &mut [u8],
        timeout_us: u32,
        resend: Resend,
    ) -> Result<usize, Pn532Error<I::Error>> {
        let mut tx = [0u8; MAX_FRAME_LEN];
        let n = frame::encode_command(pd, &mut tx).map_err(|_| Pn532Error::BufferTooSmall)?;
        let tx = tx.get(..n).unwrap_or(&[]);
        let command = pd.first().copied().unwrap_or(0);
        let mut last = Pn532Error::NoAck;
        for _ in 0..=self.config.retries {
            self.interface.discard_input().map_err(Pn532Error::Bus)?;
            self.interface.write_frame(tx).map_err(Pn532Error::Bus)?;
            let nack_first = match self.await_ack().map_err(Pn532Error::Bus)? {
                AckState::Ack | AckState::Garbled => false,
                AckState::ResponseFirst => true,
                AckState::Nack => {
                    last = Pn532Error::Nack;
                    continue;
                }
                AckState::Missing => {
                    last = Pn532Error::NoAck;
                    if resend == Resend::OnlyIfRejected {
                        break;
                    }
                    continue;
                }
            };
            if let Some(len) = self.await_response(command, response, timeout_us, nack_first)? {
                return Ok(len);
            }
            last = Pn532Error::Timeout;
            // Abort whatever the chip is still doing (UM0701-02 §6.2.1.3).
            self.interface
                .write_frame(&frame::ACK)
                .map_err(Pn532Error::Bus)?;
            if resend == Resend::OnlyIfRejected {
                break;
            }
        }
        Err(last)
    }

    fn simple(&mut self, pd: &[u8]) -> Result<(), Pn532Error<I::Error>> {
        let mut buf = [0u8; 8];
        let budget = self.config.response_timeout_us;
        self.command(pd, &mut buf, budget).map(|_| ())
    }

    fn status(status: u8) -> Result<(), Pn532Error<I::Error>> {
        match status & 0x3F {
            0 => Ok(()),
            code => Err(Pn532Error::Status(code)),
        }
    }

    /// GetFirmwareVersion: `D4 02` → `D5 03 IC Ver Rev Support`.
    ///
    /// # Errors
    /// As [`Self::command`]; `InvalidResponse` for fewer than 4 bytes.
    pub fn get_firmware_version(&mut self) -> Result<FirmwareVersion, Pn532Error<I::Error>> {
        let mut buf = [0u8; 8];
        let budget = self.config.response_timeout_us;
        let n = self.command(&[GET_FIRMWARE_VERSION], &mut buf, budget)?;
        match buf.get(..n) {
            Some(&[ic, version, revision, support, ..]) => Ok(FirmwareVersion {
                ic,
                version,
                revision,
                support,
            }),
            _ => Err(Pn532Error::InvalidResponse),
        }
    }

    /// SAMConfiguration in normal mode (no SAM), timeout `14` (1 s, virtual-card mode only),
    /// IRQ pin used: `D4 14 01 14 01` (the verified frame of emv-facts §5.5).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn sam_configuration_normal(&mut self) -> Result<(), Pn532Error<I::Error>> {
        self.simple(&[SAM_CONFIGURATION, 0x01, 0x14, 0x01])
    }

    /// SetParameters with `flags` (`PARAM_*`). The EMV driver sends `00`: no automatic
    /// RATS and no automatic ATR_RES, so RATS and ISO-DEP are this stack's own.
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn set_parameters(&mut self, flags: u8) -> Result<(), Pn532Error<I::Error>> {
        self.simple(&[SET_PARAMETERS, flags])
    }

    /// RFConfiguration item 1: the RF field on or off (Auto RFCA off).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn rf_field(&mut self, on: bool) -> Result<(), Pn532Error<I::Error>> {
        self.simple(&[RF_CONFIGURATION, CFG_RF_FIELD, u8::from(on)])
    }

    /// RFConfiguration item 2: the ATR_RES timeout and the InCommunicateThru/InDataExchange
    /// timeout, as codes ([`timeout_code`]).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn rf_timings(
        &mut self,
        atr_res: u8,
        communication: u8,
    ) -> Result<(), Pn532Error<I::Error>> {
        self.simple(&[RF_CONFIGURATION, CFG_TIMINGS, 0x00, atr_res, communication])
    }

    /// RFConfiguration item 5: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation (`FF` = forever).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn rf_max_retries(
        &mut self,
        atr: u8,
        psl: u8,
        passive_activation: u8,
    ) -> Result<(), Pn532Error<I::Error>> {
        self.simple(&[
            RF_CONFIGURATION,
            CFG_MAX_RETRIES,
            atr,
            psl,
            passive_activation,
        ])
    }

    /// WriteRegister: `(address, value)` pairs, at most 84 per command.
    ///
    /// # Errors
    /// As [`Self::command`]; `BufferTooSmall` for more than 84 pairs.
    pub fn write_registers(&mut self, writes: &[(u16, u8)]) -> Result<(), Pn532Error<I::Error>> {
        let mut pd = [0u8; frame::MAX_NORMAL_PD];
        let n = 1 + 3 * writes.len();
        let out = pd.get_mut(..n).ok_or(Pn532Error::BufferTooSmall)?;
        if let Some((first, rest)) = out.split_first_mut() {
            *first = WRITE_REGISTER;
            for (chunk, (addr, value)) in rest.chunks_exact_mut(3).zip(writes) {
                let [h, l] = addr.to_be_bytes();
                chunk.copy_from_slice(&[h, l, *value]);
            }
        }
        let mut buf = [0u8; 8];
        let budget = self.config.response_timeout_us;
        self.command(pd.get(..n).unwrap_or(&[]), &mut buf, budget)
            .map(|_| ())
    }

    /// ReadRegister: the values of `addresses` into `values` (same length, at most 84).
    ///
    /// # Errors
    /// As [`Self::command`]; `InvalidResponse` for a short answer.
    pub fn read_registers(
        &mut self,
        addresses: &[u16],
        values: &mut [u8],
    ) -> Result<(), Pn532Error<I::Error>> {
        let mut pd = [0u8; frame::MAX_NORMAL_PD];
        let n = 1 + 2 * addresses.len();
        let out = pd.get_mut(..n).ok_or(Pn532Error::BufferTooSmall)?;
        if let Some((first, rest)) = out.split_first_mut() {
            *first = READ_REGISTER;
            for (chunk, addr) in rest.chunks_exact_mut(2).zip(addresses) {
                chunk.copy_from_slice(&addr.to_be_bytes());
            }
        }
        let mut buf = [0u8; frame::MAX_NORMAL_PD];
        let budget = self.config.response_timeout_us;
        let got = self.command(pd.get(..n).unwrap_or(&[]), &mut buf, budget)?;
        let dst = values
            .get_mut(..addresses.len())
            .ok_or(Pn532Error::BufferTooSmall)?;
        dst.copy_from_slice(
            buf.get(..addresses.len())
                .filter(|_| got >= addresses.len())
                .ok_or(Pn532Error::InvalidResponse)?,
        );
        Ok(())
    }

    /// InListPassiveTarget for one target: `D4 4A 01 BrTy [InitiatorData]`. Returns the
    /// response data (`NbTg`, then the target) in `out`; parse a Type A answer with
    /// [`TargetA::parse`]. This is the chip's own activation, kept for diagnostics: the EMV
    /// path polls and activates with `emv-hal` over [`super::Pn532Frontend`].
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn in_list_passive_target(
        &mut self,
        modulation: Modulation,
        initiator_data: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Pn532Error<I::Error>> {
        let mut pd = [0u8; 16];
        let n = 3 + initiator_data.len();
        let dst = pd.get_mut(..n).ok_or(Pn532Error::BufferTooSmall)?;
        if let Some((head, data)) = dst.split_first_chunk_mut::<3>() {
            *head = [IN_LIST_PASSIVE_TARGET, 0x01, modulation.brty()];
            data.copy_from_slice(initiator_data);
        }
        let budget = self
            .config
            .response_timeout_us
            .saturating_add(self.config.response_margin_us);
        self.command(pd.get(..n).unwrap_or(&[]), out, budget)
    }

    /// InCommunicateThru: sends `data` as one raw frame with the current CIU settings (CRC,
    /// parity, last bits) and returns the card's answer in `out`. `timeout_us` is the host
    /// budget; the chip's own RF timeout is set with [`Self::rf_timings`].
    ///
    /// # Errors
    /// As [`Self::command`]; [`Pn532Error::Status`] with the chip's error code (`01` time-out,
    /// `02` CRC, `03` parity, … UM0701-02 Table "Error code list").
    pub fn in_communicate_thru(
        &mut self,
        data: &[u8],
        out: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Pn532Error<I::Error>> {
        let mut pd = [0u8; frame::MAX_EXTENDED_PD];
        let n = 1 + data.len();
        let dst = pd.get_mut(..n).ok_or(Pn532Error::BufferTooSmall)?;
        if let Some((first, rest)) = dst.split_first_mut() {
            *first = IN_COMMUNICATE_THRU;
            rest.copy_from_slice(data);
        }
        let mut rx = [0u8; frame::MAX_EXTENDED_PD];
        let got = self.command_with(
            pd.get(..n).unwrap_or(&[]),
            &mut rx,
            timeout_us,
            Resend::OnlyIfRejected,
        )?;
        let (&status, answer) = rx
            .get(..got)
            .and_then(<[u8]>::split_first)
            .ok_or(Pn532Error::InvalidResponse)?;
        Self::status(status)?;
        let dst = out
            .get_mut(..answer.len())
            .ok_or(Pn532Error::BufferTooSmall)?;
        dst.copy_from_slice(answer);
        Ok(answer.len())
    }

    /// InDeselect of target `tg` (`00` = all).
    ///
    /// # Errors
    /// As [`Self::command`]; [`Pn532Error::Status`].
    pub fn in_deselect(&mut self, tg: u8) -> Result<(), Pn532Error<I::Error>> {
        self.with_status(&[IN_DESELECT, tg])
    }

    /// InRelease of target `tg` (`00` = all).
    ///
    /// # Errors
    /// As [`Self::command`]; [`Pn532Error::Status`].
    pub fn in_release(&mut self, tg: u8) -> Result<(), Pn532Error<I::Error>> {
        self.with_status(&[IN_RELEASE, tg])
    }

    fn with_status(&mut self, pd: &[u8]) -> Result<(), Pn532Error<I::Error>> {
        let mut buf = [0u8; 8];
        let budget = self
            .config
            .response_timeout_us
            .saturating_add(self.config.response_margin_us);
        let n = self.command(pd, &mut buf, budget)?;
        match buf.get(..n) {
            Some(&[status, ..]) => Self::status(status),
            _ => Err(Pn532Error::InvalidResponse),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn timeout_codes() {
        assert_eq!(timeout_code_us(0), 0);
        assert_eq!(timeout_code_us(1), 100);
        assert_eq!(timeout_code_us(0x0B), 102_400);
        assert_eq!(timeout_code_us(0x10), 3_276_800);
        assert_eq!(timeout_code_us(0x20), 3_276_800);
        assert_eq!(timeout_code(0), 1);
        assert_eq!(timeout_code(100), 1);
        assert_eq!(timeout_code(101), 2);
        // FWI 7 (38.7 ms) + ΔFWT → 51.2 ms.
        assert_eq!(timeout_code(38_663 + 3_625), 0x0A);
        assert_eq!(timeout_code(5_000_000), MAX_TIMEOUT_CODE);
    }

    #[test]
    fn target_a_parsing() {
        let data = [1, 1, 0x00, 0x04, 0x20, 4, 1, 2, 3, 4, 3, 0x71, 0x80];
        let t = TargetA::parse(&data).unwrap();
        assert_eq!(t.sens_res, [0x00, 0x04]);
        assert_eq!(t.uid, &[1, 2, 3, 4]);
        assert_eq!(t.ats, Some(&[3, 0x71, 0x80][..]));
        assert_eq!(TargetA::parse(&data[..9]), None);
        assert_eq!(TargetA::parse(&[0]), None);
        assert_eq!(TargetA::parse(&data[..10]).unwrap().ats, None);
    }
}
