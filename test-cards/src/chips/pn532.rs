//! A behavioural model of the NXP PN532 (UM0701-02) with a contactless card in its field, for
//! testing drivers against behaviour rather than call lists (the lora-phy `sx126x` emulator
//! pattern).
//!
//! [`Pn532Model`] implements the three host interfaces the real chip has:
//!
//! * `embedded_hal::i2c::I2c` at address `0x24`: a write carries one frame; every read starts
//!   with the status byte (`01` ready, `00` busy, or an address NACK while busy with
//!   [`ChipFaults::busy_nack`]); a read longer than the status byte takes the ready frame
//!   (padded with `00`).
//! * `embedded_hal::spi::SpiDevice`: first byte `01` data write, `02` status read, `03` data
//!   read. The chip is LSB-first on the wire: with [`SpiWire::MsbFirst`] the model sees what
//!   an MSB-first peripheral clocks out (bytes bit-reversed), with [`SpiWire::LsbFirst`]
//!   bytes pass as they are.
//! * `embedded_io::{Read, Write, ReadReady}` (HSU): a byte stream; the wake-up preamble
//!   `55 55 00 …` is skipped like any byte before a start code.
//!
//! Host frames are parsed byte by byte (UM0701-02 §6.2.1): a frame with a bad LCS or DCS is
//! ignored, so the host sees no ACK and writes the command again (UM0701-02 §6.2.1.4: NACK
//! goes from the host to the chip only; [`ChipFaults::nack_bad_frames`] makes the model
//! answer NACK instead, to exercise that driver path); a host ACK
//! aborts (drops pending frames); a host NACK makes the chip send its last response again
//! (without executing anything); a valid command is acknowledged (ACK), then executed, and
//! its response queued; a wrong TFI, an unknown command or malformed parameters give the
//! syntax-error frame. A new command drops whatever was pending.
//!
//! Commands: GetFirmwareVersion (`32 01 06 07`), ReadRegister/WriteRegister (a register
//! file), SetParameters, SAMConfiguration, RFConfiguration (field, timings, retries,
//! analog items), InListPassiveTarget (106 A and B; RATS only with fAutomaticRATS),
//! InCommunicateThru (one raw frame through the CIU: CIU_TxMode/RxMode b7 CRC and b1–b0
//! framing, CIU_BitFraming TxLastBits), InDeselect, InRelease. RF commands before
//! SAMConfiguration fail (status `27`).
//!
//! Behind the chip, a [`Picc`]: Type A (WUPA/REQA, anticollision cascade levels 1–2,
//! SELECT, HLTA, RATS/ATS; ISO/IEC 14443-3 §6, -4 §5) or Type B (WUPB/ATQB, ATTRIB;
//! ISO/IEC 14443-3 §7), then the ISO/IEC 14443-4 §7.5.4 PICC rules (block numbering,
//! chaining both ways, R(ACK)/R(NAK) answers, S(WTX), S(DESELECT)) delivering APDUs to any
//! [`Card`]. The EMV card engine knows only the contact PSE, so [`Picc::emv_type_a`] /
//! [`Picc::emv_type_b`] add the PPSE in the PICC layer: SELECT `2PAY.SYS.DDF01` is answered
//! with an FCI listing the card's applications (EMV Contactless Book B §3.3), everything
//! else goes to the engine.
//!
//! Fault knobs: [`ChipFaults`] (mute chip, lost ACKs or responses, corrupted responses,
//! byte-level corruption either way, busy polls, NACK instead of silence for bad frames) and
//! [`CardFaults`] (mute card, frames lost either way over the air, corrupted answers, WTX
//! requests). Chaining is a property of the card ([`Picc::with_fsci`],
//! [`Picc::with_chunk`]).
//!
//! Time is not simulated: the chip answers as soon as it is polled (after
//! [`ChipFaults::busy_polls`]), and RF time-outs are immediate.

use std::cell::{Ref, RefCell, RefMut};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

use emv_hal::iso14443::block::Block;
use emv_hal::iso14443::crc;
use emv_hal::rf::Technology;

use crate::card::{Card, Reply};
use crate::engine::{EmvCard, tlv_bytes};

/// The PPSE's DF name (EMV Contactless Book B §3.3.2).
pub const PPSE_NAME: &[u8] = b"2PAY.SYS.DDF01";

/// One Directory Entry of the PPSE FCI (EMV Contactless Book B Table 3-3: tag `61` with
/// ADF Name `4F`, Application Label `50`, Application Priority Indicator `87`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpseEntry {
    /// The AID (ADF Name, tag `4F`).
    pub aid: Vec<u8>,
    /// The Application Label (tag `50`), if any.
    pub label: Option<String>,
    /// The Application Priority Indicator (tag `87`), if any.
    pub priority: Option<u8>,
}

/// The answer to SELECT PPSE: the FCI (`6F` with `84` the DF name and `A5` holding the FCI
/// Issuer Discretionary Data `BF0C` with one `61` per entry) and `90 00`.
#[must_use]
pub fn ppse_response(entries: &[PpseEntry]) -> Vec<u8> {
    let mut directory = Vec::new();
    for e in entries {
        let mut entry = tlv_bytes(0x4F, &e.aid);
        if let Some(label) = &e.label {
            entry.extend(tlv_bytes(0x50, label.as_bytes()));
        }
        if let Some(p) = e.priority {
            entry.extend(tlv_bytes(0x87, &[p]));
        }
        directory.extend(tlv_bytes(0x61, &entry));
    }
    let mut fci = tlv_bytes(0x84, PPSE_NAME);
    fci.extend(tlv_bytes(0xA5, &tlv_bytes(0xBF0C, &directory)));
    let mut r = tlv_bytes(0x6F, &fci);
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

/// The firmware version the model reports: PN532 (`32`), version 1.6, supports Type A, Type B
/// and ISO 18092 (`07`).
pub const FIRMWARE: [u8; 4] = [0x32, 0x01, 0x06, 0x07];
/// The I2C address.
pub const I2C_ADDRESS: u8 = 0x24;
/// ACK frame.
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// NACK frame.
pub const NACK: [u8; 6] = [0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00];
/// Syntax-error frame.
pub const ERROR_FRAME: [u8; 8] = [0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00];

const REG_TX_MODE: u16 = 0x6302;
const REG_RX_MODE: u16 = 0x6303;
const REG_BIT_FRAMING: u16 = 0x633D;
const STATUS_TIMEOUT: u8 = 0x01;
const STATUS_CRC: u8 = 0x02;
const STATUS_CONTEXT: u8 = 0x27;
const PARAM_AUTO_RATS: u8 = 0x10;

/// How the board's SPI peripheral shifts bits (the PN532 is LSB-first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpiWire {
    /// The peripheral shifts LSB first: bytes pass unchanged.
    #[default]
    LsbFirst,
    /// The peripheral shifts MSB first: the chip sees every byte bit-reversed.
    MsbFirst,
}

/// Faults of the chip and of the host bus.
#[derive(Debug, Clone, Default)]
pub struct ChipFaults {
    /// The chip ignores everything and never becomes ready.
    pub mute: bool,
    /// The next N frames the chip would send to the host (ACK or response) are lost.
    pub drop_frames_to_host: u32,
    /// The next N response frames (not ACKs) are lost: the chip acknowledges, runs the
    /// command, and never becomes ready with the answer (a chip time-out as the host sees it).
    pub drop_responses: u32,
    /// The next N response frames go out with a wrong DCS (a NACK gets a good copy).
    pub corrupt_responses: u32,
    /// Status polls answered "busy" before each frame becomes ready.
    pub busy_polls: u32,
    /// Answer a host frame with a bad checksum with a NACK frame instead of ignoring it (not
    /// what UM0701-02 describes; some drivers expect it, so the model can do it).
    pub nack_bad_frames: bool,
    /// I2C: NACK the address while busy, instead of a `00` status byte.
    pub busy_nack: bool,
    /// XOR masks for bytes sent chip → host, by their running index (all transports,
    /// status bytes included).
    pub to_host_xor: BTreeMap<u64, u8>,
    /// XOR masks for bytes sent host → chip, by their running index (SPI opcodes included).
    pub to_chip_xor: BTreeMap<u64, u8>,
}

/// Faults of the card in the field.
#[derive(Debug, Clone, Default)]
pub struct CardFaults {
    /// The card never answers.
    pub mute: bool,
    /// The card's next N answers are lost (the chip reports a time-out).
    pub lose_answers: u32,
    /// The next N frames the reader sends are lost on the way to the card: the card does
    /// not see them, the chip reports a time-out.
    pub lose_commands: u32,
    /// The card's next N answers arrive with a wrong CRC.
    pub corrupt_answers: u32,
    /// S(WTX) requests before the answer to each APDU.
    pub wtx_per_apdu: u8,
}

/// Counters of what happened on the host interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelStats {
    /// Commands executed.
    pub commands: u32,
    /// Host frames dropped for a bad LCS or DCS (answered with NACK under
    /// [`ChipFaults::nack_bad_frames`]).
    pub rejected_frames: u32,
    /// Responses sent again after a host NACK.
    pub responses_repeated: u32,
    /// Syntax-error frames sent.
    pub error_frames: u32,
    /// Host ACKs (aborts) received.
    pub aborts: u32,
}

/// The bus error of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelBusError {
    /// I2C: the address was not acknowledged (wrong address, or busy with
    /// [`ChipFaults::busy_nack`]).
    #[error("I2C address not acknowledged")]
    AddressNack,
}

impl embedded_hal::i2c::Error for ModelBusError {
    fn kind(&self) -> embedded_hal::i2c::ErrorKind {
        embedded_hal::i2c::ErrorKind::NoAcknowledge(embedded_hal::i2c::NoAcknowledgeSource::Address)
    }
}

impl embedded_hal::spi::Error for ModelBusError {
    fn kind(&self) -> embedded_hal::spi::ErrorKind {
        embedded_hal::spi::ErrorKind::Other
    }
}

impl embedded_io::Error for ModelBusError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

// ---------------------------------------------------------------------------------------
// The card in the field.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PiccState {
    Idle,
    Ready(u8),
    Active,
    Halt,
    Protocol,
    Gone,
}

/// The ISO/IEC 14443-4 PICC side (block rules of ISO/IEC 14443-4 §7.5.4), no CID/NAD.
#[derive(Debug, Default)]
struct IsoDepPicc {
    bn: u8,
    last: Vec<u8>,
    command: Vec<u8>,
    response: Vec<u8>,
    sent: usize,
    wtx_left: u8,
}

/// A contactless card: ISO/IEC 14443-3 Type A or B activation, ISO/IEC 14443-4, and an APDU
/// [`Card`] behind.
pub struct Picc {
    technology: Technology,
    uid: Vec<u8>,
    sak: u8,
    ats: Vec<u8>,
    chunk: usize,
    state: PiccState,
    iso: IsoDepPicc,
    card: Box<dyn Card>,
    ppse: Option<Vec<u8>>,
    /// Fault knobs.
    pub faults: CardFaults,
    /// Every APDU delivered to the card, with its response.
    pub apdus: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether the card received S(DESELECT).
    pub deselected: bool,
}

impl std::fmt::Debug for Picc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picc")
            .field("technology", &self.technology)
            .field("state", &self.state)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Picc {
    /// A Type A card with UID `01 02 03 04`, SAK `20`, ATS `05 78 80 70 00` (FSC 256, FWI 7),
    /// answering in frames of up to 253 INF bytes.
    pub fn type_a(card: impl Card + 'static) -> Self {
        Self::new(Technology::TypeA, card)
    }

    /// A Type B card with PUPI `DE AD BE EF`, FSC 256, FWI 7.
    pub fn type_b(card: impl Card + 'static) -> Self {
        let mut p = Self::new(Technology::TypeB, card);
        p.uid = vec![0xDE, 0xAD, 0xBE, 0xEF];
        p
    }

    fn new(technology: Technology, mut card: impl Card + 'static) -> Self {
        card.power_off();
        Self {
            technology,
            uid: vec![0x01, 0x02, 0x03, 0x04],
            sak: 0x20,
            ats: vec![0x05, 0x78, 0x80, 0x70, 0x00],
            chunk: 253,
            state: PiccState::Idle,
            iso: IsoDepPicc::default(),
            card: Box::new(card),
            ppse: None,
            faults: CardFaults::default(),
            apdus: Vec::new(),
            deselected: false,
        }
    }

    /// A Type A card around the project's EMV card engine, with a PPSE listing the card's
    /// applications (the engine itself knows only the contact PSE).
    pub fn emv_type_a(card: EmvCard) -> Self {
        let entries = ppse_entries(&card);
        Self::type_a(card).with_ppse(&entries)
    }

    /// A Type B card around the EMV card engine, with a PPSE as [`Self::emv_type_a`].
    pub fn emv_type_b(card: EmvCard) -> Self {
        let entries = ppse_entries(&card);
        Self::type_b(card).with_ppse(&entries)
    }

    /// Answers SELECT `2PAY.SYS.DDF01` (P2 `00`) in the PICC layer with a PPSE FCI listing
    /// `entries`; other commands still go to the card. SELECT next (P2 `02`) of the PPSE
    /// gets `6A 82`.
    #[must_use]
    pub fn with_ppse(mut self, entries: &[PpseEntry]) -> Self {
        self.ppse = Some(ppse_response(entries));
        self
    }

    /// Another UID (4 or 7 bytes for Type A; the PUPI, 4 bytes, for Type B).
    #[must_use]
    pub fn with_uid(mut self, uid: &[u8]) -> Self {
        self.uid = uid.to_vec();
        self
    }

    /// Another FSCI in the ATS (Type A): the frame size the reader must chain commands to.
    #[must_use]
    pub fn with_fsci(mut self, fsci: u8) -> Self {
        if let Some(t0) = self.ats.get_mut(1) {
            *t0 = (*t0 & 0xF0) | (fsci & 0x0F);
        }
        self
    }

    /// The largest INF the card puts in one I-block of its answers (chaining above).
    #[must_use]
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.clamp(1, 253);
        self
    }

    /// Another SAK (Type A; `20` = ISO/IEC 14443-4).
    #[must_use]
    pub fn with_sak(mut self, sak: u8) -> Self {
        self.sak = sak;
        self
    }

    /// The technology.
    pub fn technology(&self) -> Technology {
        self.technology
    }

    fn power(&mut self, on: bool) {
        self.state = PiccState::Idle;
        self.iso = IsoDepPicc::default();
        if on {
            self.card.power_on();
        } else {
            self.card.power_off();
        }
    }

    fn uid_cln(&self, level: u8) -> Option<[u8; 4]> {
        let u = &self.uid;
        let bytes: Vec<u8> = match (u.len(), level) {
            (4, 1) => u.clone(),
            (7, 1) => [&[0x88][..], u.get(..3)?].concat(),
            (7, 2) => u.get(3..7)?.to_vec(),
            _ => return None,
        };
        bytes.try_into().ok()
    }

    fn atqa(&self) -> [u8; 2] {
        [if self.uid.len() == 7 { 0x44 } else { 0x04 }, 0x00]
    }

    fn atqb(&self) -> Vec<u8> {
        let mut a = vec![0x50];
        a.extend_from_slice(&self.uid);
        a.extend_from_slice(&[0, 0, 0, 0, 0x00, 0x81, 0x70]);
        a
    }

    /// One frame over the air (CRC included where the PCD sends one; `short` = 7-bit frame)
    /// → the answer on the air (CRC included where the PICC sends one), before faults.
    fn receive(&mut self, technology: Technology, short: bool, air: &[u8]) -> Option<Vec<u8>> {
        if technology != self.technology || self.state == PiccState::Gone {
            return None;
        }
        match technology {
            Technology::TypeA => self.receive_a(short, air),
            Technology::TypeB => self.receive_b(air),
        }
    }

    fn with_crc(&self, mut answer: Vec<u8>) -> Vec<u8> {
        let c = crc::crc(self.technology, &answer);
        answer.extend_from_slice(&c);
        answer
    }

    fn receive_a(&mut self, short: bool, air: &[u8]) -> Option<Vec<u8>> {
        if short {
            let wake = air == [0x52] && matches!(self.state, PiccState::Idle | PiccState::Halt);
            let req = air == [0x26] && self.state == PiccState::Idle;
            if wake || req {
                self.state = PiccState::Ready(1);
                return Some(self.atqa().to_vec());
            }
            return None;
        }
        // ANTICOLLISION (no CRC).
        if let (PiccState::Ready(level), [sel, 0x20]) = (self.state, air)
            && *sel == 0x91 + 2 * level
        {
            let c = self.uid_cln(level)?;
            let mut a = c.to_vec();
            a.push(c.iter().fold(0, |x, y| x ^ y));
            return Some(a);
        }
        let frame = crc::check(Technology::TypeA, air)?.to_vec();
        match (self.state, frame.as_slice()) {
            (PiccState::Ready(level), [sel, 0x70, rest @ ..]) if *sel == 0x91 + 2 * level => {
                let c = self.uid_cln(level)?;
                if rest.get(..4) != Some(&c[..]) {
                    return None;
                }
                if c.first() == Some(&0x88) {
                    self.state = PiccState::Ready(level + 1);
                    Some(self.with_crc(vec![0x04]))
                } else {
                    self.state = PiccState::Active;
                    Some(self.with_crc(vec![self.sak]))
                }
            }
            (PiccState::Ready(_) | PiccState::Active, [0x50, 0x00]) => {
                self.state = PiccState::Halt;
                None
            }
            (PiccState::Active, [0xE0, _]) if self.sak & 0x20 != 0 => {
                self.state = PiccState::Protocol;
                self.iso = IsoDepPicc {
                    bn: 1,
                    ..IsoDepPicc::default()
                };
                Some(self.with_crc(self.ats.clone()))
            }
            (PiccState::Protocol, _) => {
                let answer = self.iso_receive(&frame)?;
                Some(self.with_crc(answer))
            }
            _ => None,
        }
    }

    fn receive_b(&mut self, air: &[u8]) -> Option<Vec<u8>> {
        let frame = crc::check(Technology::TypeB, air)?.to_vec();
        match (self.state, frame.as_slice()) {
            (PiccState::Idle | PiccState::Ready(_) | PiccState::Halt, [0x05, 0x00, 0x08])
            | (PiccState::Idle | PiccState::Ready(_), [0x05, 0x00, 0x00]) => {
                self.state = PiccState::Ready(0);
                Some(self.with_crc(self.atqb()))
            }
            (PiccState::Ready(_), [0x1D, rest @ ..]) if rest.get(..4) == Some(&self.uid[..]) => {
                self.state = PiccState::Protocol;
                self.iso = IsoDepPicc {
                    bn: 1,
                    ..IsoDepPicc::default()
                };
                Some(self.with_crc(vec![0x00]))
            }
            (PiccState::Protocol, _) => {
                let answer = self.iso_receive(&frame)?;
                Some(self.with_crc(answer))
            }
            _ => None,
        }
    }

    fn next_chunk(&mut self) -> Vec<u8> {
        let iso = &mut self.iso;
        let end = (iso.sent + self.chunk).min(iso.response.len());
        let chaining = end < iso.response.len();
        let mut f = vec![0x02 | iso.bn | if chaining { 0x10 } else { 0 }];
        f.extend_from_slice(iso.response.get(iso.sent..end).unwrap_or(&[]));
        iso.sent = end;
        f
    }

    /// The PPSE's answer, when `command` is SELECT PPSE and this card has one.
    fn ppse_answer(&self, command: &[u8]) -> Option<Vec<u8>> {
        let ppse = self.ppse.as_ref()?;
        let (&[cla, ins, p1, p2, lc], rest) = command.split_first_chunk::<5>()?;
        let name = rest.get(..usize::from(lc))?;
        if cla != 0x00 || ins != 0xA4 || p1 != 0x04 || name != PPSE_NAME {
            return None;
        }
        match p2 {
            0x00 => Some(ppse.clone()),
            _ => Some(vec![0x6A, 0x82]),
        }
    }

    fn run_apdu(&mut self) -> Option<Vec<u8>> {
        let command = std::mem::take(&mut self.iso.command);
        let response = match self.ppse_answer(&command) {
            Some(r) => r,
            None => match self.card.transmit(&command) {
                Reply::Response(r) | Reply::Delayed(_, r) => r,
                Reply::Removed => {
                    self.state = PiccState::Gone;
                    return None;
                }
            },
        };
        self.apdus.push((command, response.clone()));
        self.iso.response = response;
        self.iso.sent = 0;
        if self.faults.wtx_per_apdu > 0 {
            self.iso.wtx_left = self.faults.wtx_per_apdu - 1;
            return Some(vec![0xF2, 0x01]);
        }
        Some(self.next_chunk())
    }

    /// ISO/IEC 14443-4 PICC rules: a block without CRC → the answer without CRC.
    fn iso_receive(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let block = Block::parse(frame).ok()?;
        if block.cid().is_some() {
            return None;
        }
        let answer = match block {
            Block::I {
                block_number,
                chaining,
                inf,
                ..
            } => {
                // Rule D: the PICC's block number follows the PCD's I-block.
                self.iso.bn = block_number;
                self.iso.command.extend_from_slice(inf);
                if chaining {
                    vec![0xA2 | self.iso.bn]
                } else {
                    self.run_apdu()?
                }
            }
            Block::Wtx { .. } if self.iso.wtx_left > 0 => {
                self.iso.wtx_left -= 1;
                vec![0xF2, 0x01]
            }
            Block::Wtx { .. } => self.next_chunk(),
            Block::RAck { block_number, .. } | Block::RNak { block_number, .. }
                if block_number == self.iso.bn =>
            {
                // Rule 9 (and rule 11 for an R(ACK) of our last block): send it again.
                self.iso.last.clone()
            }
            Block::RNak { .. } => vec![0xA2 | self.iso.bn],
            Block::RAck { .. } if self.iso.sent < self.iso.response.len() => {
                self.iso.bn ^= 1;
                self.next_chunk()
            }
            Block::Deselect { .. } => {
                self.deselected = true;
                self.state = PiccState::Halt;
                return Some(vec![0xC2]);
            }
            _ => return None,
        };
        self.iso.last.clone_from(&answer);
        Some(answer)
    }
}

fn ppse_entries(card: &EmvCard) -> Vec<PpseEntry> {
    card.apps()
        .iter()
        .map(|a| PpseEntry {
            aid: a.aid.clone(),
            label: (!a.label.is_empty()).then(|| a.label.clone()),
            priority: a.priority_indicator,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The chip.

#[derive(Debug)]
struct Outgoing {
    bytes: Vec<u8>,
    busy: u32,
}

#[derive(Debug)]
struct Chip {
    rx: Vec<u8>,
    out: VecDeque<Outgoing>,
    hsu_pos: usize,
    last_response: Option<Vec<u8>>,
    registers: HashMap<u16, u8>,
    field: bool,
    sam_mode: Option<u8>,
    parameters: u8,
    timeout_code: u8,
    max_retries: [u8; 3],
    card: Option<Picc>,
    listed: bool,
    faults: ChipFaults,
    spi_wire: SpiWire,
    to_host: u64,
    to_chip: u64,
    stats: ModelStats,
    commands: Vec<u8>,
    air: Vec<Vec<u8>>,
}

fn encode(pd: &[u8]) -> Vec<u8> {
    let len = pd.len() + 1;
    let mut f = vec![0x00, 0x00, 0xFF];
    if len <= 255 {
        let l = len as u8;
        f.extend_from_slice(&[l, l.wrapping_neg()]);
    } else {
        let [m, l] = (len as u16).to_be_bytes();
        f.extend_from_slice(&[0xFF, 0xFF, m, l, m.wrapping_add(l).wrapping_neg()]);
    }
    f.push(0xD5);
    f.extend_from_slice(pd);
    let sum = pd.iter().fold(0xD5u8, |a, b| a.wrapping_add(*b));
    f.push(sum.wrapping_neg());
    f.push(0x00);
    f
}

enum Parsed {
    Incomplete,
    Junk,
    BadChecksum,
    Ack,
    Nack,
    Information(u8, Vec<u8>),
}

fn parse(rx: &[u8]) -> Parsed {
    let Some(rest) = rx.strip_prefix(&[0x00, 0xFF]) else {
        return Parsed::Junk;
    };
    let (len, body) = match rest {
        [] | [_] => return Parsed::Incomplete,
        [0x00, 0xFF, ..] => return Parsed::Ack,
        [0xFF, 0x00, ..] => return Parsed::Nack,
        [0xFF, 0xFF, m, l, lcs, body @ ..] => {
            if m.wrapping_add(*l).wrapping_add(*lcs) != 0 {
                return Parsed::BadChecksum;
            }
            (usize::from(u16::from_be_bytes([*m, *l])), body)
        }
        [0xFF, 0xFF, ..] => return Parsed::Incomplete,
        [len, lcs, body @ ..] => {
            if len.wrapping_add(*lcs) != 0 {
                return Parsed::BadChecksum;
            }
            (usize::from(*len), body)
        }
    };
    let Some(frame) = body.get(..len + 1) else {
        return Parsed::Incomplete;
    };
    if len == 0 || frame.iter().fold(0u8, |a, b| a.wrapping_add(*b)) != 0 {
        return Parsed::BadChecksum;
    }
    match frame.split_first() {
        Some((tfi, data)) => Parsed::Information(*tfi, data.get(..len - 1).unwrap_or(&[]).to_vec()),
        None => Parsed::BadChecksum,
    }
}

impl Chip {
    fn new(card: Option<Picc>) -> Self {
        Self {
            rx: Vec::new(),
            out: VecDeque::new(),
            hsu_pos: 0,
            last_response: None,
            registers: HashMap::new(),
            field: false,
            sam_mode: None,
            parameters: 0x14,
            timeout_code: 0x0A,
            max_retries: [0xFF, 0x01, 0xFF],
            card,
            listed: false,
            faults: ChipFaults::default(),
            spi_wire: SpiWire::LsbFirst,
            to_host: 0,
            to_chip: 0,
            stats: ModelStats::default(),
            commands: Vec::new(),
            air: Vec::new(),
        }
    }

    /// Drops every frame not yet sent to the host (a new command, an abort, a NACK).
    fn clear_out(&mut self) {
        self.out.clear();
        self.hsu_pos = 0;
    }

    fn queue(&mut self, bytes: Vec<u8>) {
        if self.faults.drop_frames_to_host > 0 {
            self.faults.drop_frames_to_host -= 1;
            return;
        }
        self.out.push_back(Outgoing {
            bytes,
            busy: self.faults.busy_polls,
        });
    }

    /// A status poll: whether a frame is ready (counts down the busy polls).
    fn poll_ready(&mut self) -> bool {
        if self.faults.mute {
            return false;
        }
        match self.out.front_mut() {
            Some(o) if o.busy > 0 => {
                o.busy -= 1;
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    fn host_bound_byte(&mut self, b: u8) -> u8 {
        let i = self.to_host;
        self.to_host += 1;
        b ^ self.faults.to_host_xor.get(&i).copied().unwrap_or(0)
    }

    fn chip_bound_byte(&mut self, b: u8) -> u8 {
        let i = self.to_chip;
        self.to_chip += 1;
        b ^ self.faults.to_chip_xor.get(&i).copied().unwrap_or(0)
    }

    /// One byte of a host frame.
    fn feed(&mut self, b: u8) {
        if self.faults.mute {
            return;
        }
        self.rx.push(b);
        let Some(start) = self.rx.windows(2).position(|w| w == [0x00, 0xFF]) else {
            // Keep a possible first byte of a start code.
            if self.rx.len() > 1 {
                let last = self.rx.last().copied();
                self.rx.clear();
                self.rx.extend(last);
            }
            return;
        };
        if start > 0 {
            self.rx.drain(..start);
        }
        match parse(&self.rx) {
            Parsed::Incomplete => {}
            Parsed::Junk => self.rx.clear(),
            Parsed::BadChecksum => {
                self.rx.clear();
                self.stats.rejected_frames += 1;
                if self.faults.nack_bad_frames {
                    self.clear_out();
                    self.queue(NACK.to_vec());
                }
            }
            Parsed::Ack => {
                self.rx.clear();
                self.stats.aborts += 1;
                self.clear_out();
            }
            Parsed::Nack => {
                self.rx.clear();
                if let Some(r) = self.last_response.clone() {
                    self.stats.responses_repeated += 1;
                    self.clear_out();
                    self.queue(r);
                }
            }
            Parsed::Information(tfi, pd) => {
                self.rx.clear();
                self.clear_out();
                self.queue(ACK.to_vec());
                let response = if tfi == 0xD4 { self.execute(&pd) } else { None };
                let frame = match response {
                    Some(pd) => {
                        self.stats.commands += 1;
                        encode(&pd)
                    }
                    None => {
                        self.stats.error_frames += 1;
                        ERROR_FRAME.to_vec()
                    }
                };
                self.last_response = Some(frame.clone());
                if self.faults.drop_responses > 0 {
                    self.faults.drop_responses -= 1;
                    return;
                }
                let mut sent = frame;
                if self.faults.corrupt_responses > 0 && sent.len() > 2 {
                    self.faults.corrupt_responses -= 1;
                    let at = sent.len() - 2;
                    if let Some(dcs) = sent.get_mut(at) {
                        *dcs ^= 0x01;
                    }
                }
                self.queue(sent);
            }
        }
    }

    fn reg(&self, addr: u16) -> u8 {
        self.registers.get(&addr).copied().unwrap_or(0)
    }

    fn set_field(&mut self, on: bool) {
        if on != self.field
            && let Some(card) = self.card.as_mut()
        {
            card.power(on);
        }
        self.field = on;
        if !on {
            self.listed = false;
        }
    }

    /// Executes a command (`pd` after TFI); `None` → syntax-error frame.
    fn execute(&mut self, pd: &[u8]) -> Option<Vec<u8>> {
        let (&code, args) = pd.split_first()?;
        self.commands.push(code);
        let reply = |data: &[u8]| {
            let mut r = vec![code.wrapping_add(1)];
            r.extend_from_slice(data);
            Some(r)
        };
        match code {
            0x02 if args.is_empty() => reply(&FIRMWARE),
            0x06 if !args.is_empty() && args.len() % 2 == 0 => {
                let values: Vec<u8> = args
                    .chunks_exact(2)
                    .map(|c| {
                        self.reg(u16::from_be_bytes([
                            c.first().copied().unwrap_or(0),
                            c.get(1).copied().unwrap_or(0),
                        ]))
                    })
                    .collect();
                reply(&values)
            }
            0x08 if !args.is_empty() && args.len() % 3 == 0 => {
                for c in args.chunks_exact(3) {
                    if let [h, l, v] = c {
                        self.registers.insert(u16::from_be_bytes([*h, *l]), *v);
                    }
                }
                reply(&[])
            }
            0x12 if args.len() == 1 => {
                self.parameters = args.first().copied().unwrap_or(0);
                reply(&[])
            }
            0x14 if (1..=3).contains(&args.len()) => {
                let mode = args.first().copied().unwrap_or(0);
                if !(1..=4).contains(&mode) {
                    return None;
                }
                self.sam_mode = Some(mode);
                reply(&[])
            }
            0x32 => self.rf_configuration(args).and_then(|()| reply(&[])),
            0x4A => {
                let data = self.list_passive_target(args)?;
                reply(&data)
            }
            0x42 if !args.is_empty() => {
                let (status, data) = self.communicate_thru(args);
                let mut r = vec![status];
                r.extend_from_slice(&data);
                reply(&r)
            }
            0x44 | 0x52 if args.len() == 1 => {
                if self.listed
                    && let Some(card) = self.card.as_mut()
                    && card.state == PiccState::Protocol
                {
                    let deselect = card.with_crc(vec![0xC2]);
                    let _ = card.receive(card.technology, false, &deselect);
                }
                if code == 0x52 {
                    self.listed = false;
                }
                reply(&[0x00])
            }
            _ => None,
        }
    }

    fn rf_configuration(&mut self, args: &[u8]) -> Option<()> {
        match args {
            [0x01, on] => {
                if self.sam_mode.is_some() {
                    self.set_field(on & 0x01 != 0);
                }
            }
            [0x02, _, _, code] => self.timeout_code = *code,
            [0x04, _] => {}
            [0x05, a, b, c] => self.max_retries = [*a, *b, *c],
            [0x0A..=0x0D, ..] => {}
            _ => return None,
        }
        Some(())
    }

    /// One raw frame through the CIU, as InCommunicateThru does.
    fn communicate_thru(&mut self, data: &[u8]) -> (u8, Vec<u8>) {
        if self.sam_mode.is_none() {
            return (STATUS_CONTEXT, Vec::new());
        }
        if !self.field {
            return (STATUS_TIMEOUT, Vec::new());
        }
        let tx_mode = self.reg(REG_TX_MODE);
        let rx_mode = self.reg(REG_RX_MODE);
        let technology = if tx_mode & 0x03 == 0x03 {
            Technology::TypeB
        } else {
            Technology::TypeA
        };
        let short = technology == Technology::TypeA
            && self.reg(REG_BIT_FRAMING) & 0x07 == 7
            && data.len() == 1;
        let mut air = data.to_vec();
        if tx_mode & 0x80 != 0 && !short {
            air.extend_from_slice(&crc::crc(technology, data));
        }
        self.air.push(air.clone());
        let Some(card) = self.card.as_mut() else {
            return (STATUS_TIMEOUT, Vec::new());
        };
        if card.faults.mute {
            return (STATUS_TIMEOUT, Vec::new());
        }
        if card.faults.lose_commands > 0 {
            card.faults.lose_commands -= 1;
            return (STATUS_TIMEOUT, Vec::new());
        }
        let Some(mut answer) = card.receive(technology, short, &air) else {
            return (STATUS_TIMEOUT, Vec::new());
        };
        if card.faults.lose_answers > 0 {
            card.faults.lose_answers -= 1;
            return (STATUS_TIMEOUT, Vec::new());
        }
        if card.faults.corrupt_answers > 0 {
            card.faults.corrupt_answers -= 1;
            if let Some(b) = answer.last_mut() {
                *b ^= 0x40;
            }
            if rx_mode & 0x80 == 0 {
                return (0x00, answer);
            }
        }
        if rx_mode & 0x80 != 0 {
            match crc::check(technology, &answer) {
                Some(payload) => (0x00, payload.to_vec()),
                None => (STATUS_CRC, Vec::new()),
            }
        } else {
            (0x00, answer)
        }
    }

    /// InListPassiveTarget, one target, 106 kbit/s A or B; the chip's own activation.
    fn list_passive_target(&mut self, args: &[u8]) -> Option<Vec<u8>> {
        let (max_tg, brty, initiator) = match args {
            [m, b, rest @ ..] if (1..=2).contains(m) => (*m, *b, rest),
            _ => return None,
        };
        let _ = max_tg;
        if self.sam_mode.is_none() {
            return Some(vec![0x00]);
        }
        self.set_field(true);
        let auto_rats = self.parameters & PARAM_AUTO_RATS != 0;
        let Some(card) = self.card.as_mut() else {
            return Some(vec![0x00]);
        };
        if card.faults.mute {
            return Some(vec![0x00]);
        }
        let found = match brty {
            0x00 if initiator.is_empty() => activate_a(card, auto_rats),
            0x03 if initiator.len() <= 1 => activate_b(card),
            _ => return None,
        };
        match found {
            Some(target) => {
                self.listed = true;
                let mut r = vec![0x01, 0x01];
                r.extend_from_slice(&target);
                Some(r)
            }
            None => Some(vec![0x00]),
        }
    }
}

fn exchange(card: &mut Picc, short: bool, frame: &[u8], crc_on: bool) -> Option<Vec<u8>> {
    let air = if crc_on {
        card.with_crc(frame.to_vec())
    } else {
        frame.to_vec()
    };
    let answer = card.receive(card.technology, short, &air)?;
    if crc_on {
        crc::check(card.technology, &answer).map(<[u8]>::to_vec)
    } else {
        Some(answer)
    }
}

fn activate_a(card: &mut Picc, auto_rats: bool) -> Option<Vec<u8>> {
    if card.technology != Technology::TypeA {
        return None;
    }
    let atqa = exchange(card, true, &[0x52], false)?;
    let mut uid = Vec::new();
    let mut sak = 0;
    for level in 1..=3u8 {
        let sel = 0x91 + 2 * level;
        let cln = exchange(card, false, &[sel, 0x20], false)?;
        let mut select = vec![sel, 0x70];
        select.extend_from_slice(&cln);
        sak = *exchange(card, false, &select, true)?.first()?;
        let four = cln.get(..4)?;
        if four.first() == Some(&0x88) {
            uid.extend_from_slice(four.get(1..)?);
        } else {
            uid.extend_from_slice(four);
            break;
        }
    }
    let mut t = vec![
        *atqa.get(1)?,
        *atqa.first()?,
        sak,
        u8::try_from(uid.len()).ok()?,
    ];
    t.extend_from_slice(&uid);
    if auto_rats && sak & 0x20 != 0 {
        let ats = exchange(card, false, &[0xE0, 0x80], true)?;
        t.extend_from_slice(&ats);
    }
    Some(t)
}

fn activate_b(card: &mut Picc) -> Option<Vec<u8>> {
    if card.technology != Technology::TypeB {
        return None;
    }
    let atqb = exchange(card, false, &[0x05, 0x00, 0x08], true)?;
    let mut attrib = vec![0x1D];
    attrib.extend_from_slice(atqb.get(1..5)?);
    attrib.extend_from_slice(&[0x00, 0x08, 0x01, 0x00]);
    let answer = exchange(card, false, &attrib, true)?;
    let mut t = atqb;
    t.push(u8::try_from(answer.len()).ok()?);
    t.extend_from_slice(&answer);
    Some(t)
}

// ---------------------------------------------------------------------------------------
// The handle.

/// The PN532 model. Clones share one chip: give one to the driver as its bus, keep one to
/// set faults and look inside.
#[derive(Debug, Clone)]
pub struct Pn532Model(Rc<RefCell<Chip>>);

impl Default for Pn532Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Pn532Model {
    /// A chip with no card in the field.
    pub fn new() -> Self {
        Self(Rc::new(RefCell::new(Chip::new(None))))
    }

    /// A chip with `card` in the field.
    pub fn with_card(card: Picc) -> Self {
        Self(Rc::new(RefCell::new(Chip::new(Some(card)))))
    }

    /// Puts another card in the field (or removes it).
    pub fn set_card(&self, card: Option<Picc>) {
        let mut chip = self.0.borrow_mut();
        let field = chip.field;
        chip.card = card;
        if let Some(c) = chip.card.as_mut() {
            c.power(field);
        }
    }

    /// How the board's SPI peripheral shifts bits.
    pub fn set_spi_wire(&self, wire: SpiWire) {
        self.0.borrow_mut().spi_wire = wire;
    }

    /// The chip's fault knobs.
    pub fn faults(&self) -> RefMut<'_, ChipFaults> {
        RefMut::map(self.0.borrow_mut(), |c| &mut c.faults)
    }

    /// The card (faults, APDU log), if one is in the field.
    pub fn card(&self) -> Option<RefMut<'_, Picc>> {
        RefMut::filter_map(self.0.borrow_mut(), |c| c.card.as_mut()).ok()
    }

    /// Whether the RF field is on.
    pub fn field_on(&self) -> bool {
        self.0.borrow().field
    }

    /// A register value as last written (`None`: never written).
    pub fn register(&self, address: u16) -> Option<u8> {
        self.0.borrow().registers.get(&address).copied()
    }

    /// The SetParameters flags (reset value `14`: automatic ATR_RES and RATS).
    pub fn parameters(&self) -> u8 {
        self.0.borrow().parameters
    }

    /// The SAMConfiguration mode, once configured.
    pub fn sam_mode(&self) -> Option<u8> {
        self.0.borrow().sam_mode
    }

    /// The InCommunicateThru timeout code of RFConfiguration item 2.
    pub fn timeout_code(&self) -> u8 {
        self.0.borrow().timeout_code
    }

    /// MaxRetries of RFConfiguration item 5.
    pub fn max_retries(&self) -> [u8; 3] {
        self.0.borrow().max_retries
    }

    /// Codes of the commands executed, in order.
    pub fn commands(&self) -> Vec<u8> {
        self.0.borrow().commands.clone()
    }

    /// Every frame the chip sent over the air (CRC included as transmitted).
    pub fn air_frames(&self) -> Ref<'_, Vec<Vec<u8>>> {
        Ref::map(self.0.borrow(), |c| &c.air)
    }

    /// How many bytes the host has clocked or written into the chip so far: the index the
    /// next one gets in [`ChipFaults::to_chip_xor`].
    pub fn bytes_to_chip(&self) -> u64 {
        self.0.borrow().to_chip
    }

    /// How many bytes the chip has sent to the host so far (status bytes included): the
    /// index the next one gets in [`ChipFaults::to_host_xor`].
    pub fn bytes_to_host(&self) -> u64 {
        self.0.borrow().to_host
    }

    /// Counters.
    pub fn stats(&self) -> ModelStats {
        self.0.borrow().stats
    }
}

// --- I2C --------------------------------------------------------------------------------

impl embedded_hal::i2c::ErrorType for Pn532Model {
    type Error = ModelBusError;
}

impl embedded_hal::i2c::I2c for Pn532Model {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        use embedded_hal::i2c::Operation;
        let mut chip = self.0.borrow_mut();
        if address != I2C_ADDRESS {
            return Err(ModelBusError::AddressNack);
        }
        let mut ready: Option<bool> = None;
        let mut read_pos = 0usize;
        let mut wrote = false;
        for op in operations.iter_mut() {
            match op {
                Operation::Write(bytes) => {
                    if !wrote {
                        chip.rx.clear();
                        wrote = true;
                    }
                    for &b in bytes.iter() {
                        let b = chip.chip_bound_byte(b);
                        chip.feed(b);
                    }
                }
                Operation::Read(buf) => {
                    let is_ready = match ready {
                        Some(r) => r,
                        None => {
                            let r = chip.poll_ready();
                            if !r && chip.faults.busy_nack {
                                return Err(ModelBusError::AddressNack);
                            }
                            ready = Some(r);
                            r
                        }
                    };
                    for slot in buf.iter_mut() {
                        let b = if read_pos == 0 {
                            u8::from(is_ready)
                        } else if is_ready {
                            chip.out
                                .front()
                                .and_then(|o| o.bytes.get(read_pos - 1))
                                .copied()
                                .unwrap_or(0)
                        } else {
                            0
                        };
                        *slot = chip.host_bound_byte(b);
                        read_pos += 1;
                    }
                }
            }
        }
        if ready == Some(true) && read_pos > 1 {
            chip.out.pop_front();
        }
        Ok(())
    }
}

// --- SPI --------------------------------------------------------------------------------

#[derive(Default)]
struct SpiTransaction {
    opcode: Option<u8>,
    ready: Option<bool>,
    data_pos: usize,
}

impl Chip {
    fn wire(&self, b: u8) -> u8 {
        match self.spi_wire {
            SpiWire::LsbFirst => b,
            SpiWire::MsbFirst => b.reverse_bits(),
        }
    }

    /// One SPI byte clocked: `host` in, the chip's byte out.
    fn spi_clock(&mut self, t: &mut SpiTransaction, host: u8) -> u8 {
        let host = self.wire(host);
        let host = self.chip_bound_byte(host);
        let out = match t.opcode {
            None => {
                t.opcode = Some(host);
                if host == 0x01 {
                    self.rx.clear();
                }
                0
            }
            Some(0x01) => {
                self.feed(host);
                0
            }
            Some(0x02) => {
                let r = *t.ready.get_or_insert_with(|| self.poll_ready());
                let b = self.host_bound_byte(u8::from(r));
                return self.wire(b);
            }
            Some(0x03) => {
                let r = *t.ready.get_or_insert_with(|| self.poll_ready());
                let b = if r {
                    self.out
                        .front()
                        .and_then(|o| o.bytes.get(t.data_pos))
                        .copied()
                        .unwrap_or(0)
                } else {
                    0
                };
                t.data_pos += 1;
                let b = self.host_bound_byte(b);
                return self.wire(b);
            }
            Some(_) => 0,
        };
        self.wire(out)
    }
}

impl embedded_hal::spi::ErrorType for Pn532Model {
    type Error = ModelBusError;
}

impl embedded_hal::spi::SpiDevice<u8> for Pn532Model {
    fn transaction(
        &mut self,
        operations: &mut [embedded_hal::spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        use embedded_hal::spi::Operation;
        let mut chip = self.0.borrow_mut();
        let mut t = SpiTransaction::default();
        for op in operations.iter_mut() {
            match op {
                Operation::Write(bytes) => {
                    for &b in bytes.iter() {
                        let _ = chip.spi_clock(&mut t, b);
                    }
                }
                Operation::Read(buf) => {
                    for slot in buf.iter_mut() {
                        *slot = chip.spi_clock(&mut t, 0x00);
                    }
                }
                Operation::Transfer(read, write) => {
                    let n = read.len().max(write.len());
                    for i in 0..n {
                        let b = chip.spi_clock(&mut t, write.get(i).copied().unwrap_or(0));
                        if let Some(slot) = read.get_mut(i) {
                            *slot = b;
                        }
                    }
                }
                Operation::TransferInPlace(buf) => {
                    for slot in buf.iter_mut() {
                        *slot = chip.spi_clock(&mut t, *slot);
                    }
                }
                Operation::DelayNs(_) => {}
            }
        }
        if t.opcode == Some(0x03) && t.ready == Some(true) && t.data_pos > 0 {
            chip.out.pop_front();
        }
        Ok(())
    }
}

// --- HSU --------------------------------------------------------------------------------

impl embedded_io::ErrorType for Pn532Model {
    type Error = ModelBusError;
}

impl embedded_io::Write for Pn532Model {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut chip = self.0.borrow_mut();
        for &b in buf {
            let b = chip.chip_bound_byte(b);
            chip.feed(b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl embedded_io::ReadReady for Pn532Model {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        let mut chip = self.0.borrow_mut();
        if chip.hsu_pos > 0 {
            return Ok(!chip.out.is_empty());
        }
        Ok(chip.poll_ready())
    }
}

impl embedded_io::Read for Pn532Model {
    /// Returns the bytes of ready frames; `Ok(0)` when nothing is ready (check
    /// `read_ready` first: a real UART would block).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let mut chip = self.0.borrow_mut();
        let mut n = 0;
        while n < buf.len() {
            if chip.hsu_pos == 0 && chip.out.front().is_some_and(|o| o.busy > 0) {
                break;
            }
            let pos = chip.hsu_pos;
            let Some(b) = chip.out.front().and_then(|o| o.bytes.get(pos)).copied() else {
                break;
            };
            let b = chip.host_bound_byte(b);
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
            }
            n += 1;
            chip.hsu_pos += 1;
            if chip
                .out
                .front()
                .is_some_and(|o| chip.hsu_pos >= o.bytes.len())
            {
                chip.out.pop_front();
                chip.hsu_pos = 0;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::engine::EmvCard;
    use embedded_hal::i2c::I2c;

    fn frame(pd: &[u8]) -> Vec<u8> {
        let mut f = encode(pd);
        // Host frames carry TFI D4.
        let tfi_at = if pd.len() < 255 { 5 } else { 8 };
        f[tfi_at] = 0xD4;
        let dcs_at = f.len() - 2;
        f[dcs_at] = f[dcs_at].wrapping_add(1);
        f
    }

    fn read_i2c(m: &mut Pn532Model, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        m.read(I2C_ADDRESS, &mut buf).unwrap();
        buf
    }

    #[test]
    fn host_frames_verified_vectors() {
        assert_eq!(
            frame(&[0x02]),
            [0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00]
        );
        assert_eq!(
            encode(&[0x03, 0x32, 0x01, 0x06, 0x07]),
            [
                0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00
            ]
        );
    }

    #[test]
    fn i2c_ack_response_bad_checksum_error_frame_and_host_nack() {
        let mut m = Pn532Model::new();
        m.write(I2C_ADDRESS, &frame(&[0x02])).unwrap();
        assert_eq!(read_i2c(&mut m, 1), [0x01]);
        assert_eq!(read_i2c(&mut m, 7), [0x01, 0, 0, 0xFF, 0, 0xFF, 0]);
        let r = read_i2c(&mut m, 14);
        assert_eq!(&r[1..], &encode(&[0x03, 0x32, 0x01, 0x06, 0x07])[..]);
        assert_eq!(read_i2c(&mut m, 1), [0x00]);
        // Bad DCS → ignored (no ACK), or NACK when asked to.
        let mut bad = frame(&[0x02]);
        bad[7] ^= 0xFF;
        m.write(I2C_ADDRESS, &bad).unwrap();
        assert_eq!(read_i2c(&mut m, 7), [0x00; 7]);
        assert_eq!(m.stats().rejected_frames, 1);
        m.faults().nack_bad_frames = true;
        m.write(I2C_ADDRESS, &bad).unwrap();
        assert_eq!(read_i2c(&mut m, 7), [0x01, 0, 0, 0xFF, 0xFF, 0, 0]);
        m.faults().nack_bad_frames = false;
        // Unknown command → ACK then the error frame.
        m.write(I2C_ADDRESS, &frame(&[0x77])).unwrap();
        assert_eq!(&read_i2c(&mut m, 7)[1..], &ACK);
        assert_eq!(&read_i2c(&mut m, 9)[1..], &ERROR_FRAME);
        // Host NACK → the last response again.
        m.write(I2C_ADDRESS, &NACK).unwrap();
        assert_eq!(&read_i2c(&mut m, 9)[1..], &ERROR_FRAME);
        assert_eq!(m.stats().responses_repeated, 1);
        // Wrong address.
        assert_eq!(
            m.write(0x25, &frame(&[0x02])),
            Err(ModelBusError::AddressNack)
        );
    }

    #[test]
    fn type_a_activation_through_in_list_passive_target() {
        let card = EmvCard::from_profile("baseline").unwrap();
        let mut m = Pn532Model::with_card(Picc::type_a(card));
        for pd in [&[0x14, 0x01][..], &[0x12, 0x10], &[0x4A, 0x01, 0x00]] {
            m.write(I2C_ADDRESS, &frame(pd)).unwrap();
            assert_eq!(&read_i2c(&mut m, 7)[1..], &ACK);
        }
        let r = read_i2c(&mut m, 40);
        // D5 4B 01 01 00 04 20 04 01 02 03 04 + ATS 05 78 80 70 00.
        assert_eq!(
            &r[6..23],
            &[
                0xD5, 0x4B, 0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 1, 2, 3, 4, 0x05, 0x78, 0x80, 0x70,
                0x00
            ]
        );
        assert!(m.field_on());
    }
}
