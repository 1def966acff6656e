//! ISO-DEP half-duplex block transmission protocol, PCD side: a sans-IO engine.
//!
//! Clauses: ISO/IEC 14443-4 §7 (block protocol: §7.1 blocks, §7.2 frame waiting time and
//! FWT, §7.3 S(WTX), §7.5 protocol operation: chaining §7.5.2, block numbering rules A/B,
//! PCD rules 1–7 §7.5.4, error handling §7.5.6), §8 (S(DESELECT)); EMV Contactless Book D
//! (error handling, retransmission limits, CID and NAD not used).
//!
//! The engine exchanges one APDU at a time. The caller (board code or
//! [`super::ContactlessReader`]) moves frames:
//!
//! 1. [`IsoDep::start`] with a C-APDU;
//! 2. loop: [`IsoDep::poll_transmit`] gives a frame (PCB … INF, without CRC) to send, then
//!    wait up to [`IsoDep::poll_timeout`] µs and report what happened with
//!    [`IsoDep::handle_received`] (a frame whose CRC was good, CRC removed),
//!    [`IsoDep::handle_timeout`] or [`IsoDep::handle_transmission_error`] (CRC/parity/collision);
//! 3. until [`IsoDep::poll_event`] gives [`IsoDepEvent::Complete`] (the R-APDU is in
//!    [`IsoDep::response`]) or [`IsoDepEvent::Failed`].
//!
//! Rules implemented (ISO/IEC 14443-4 §7.5.4; numbering as in the 2008 edition):
//!
//! * block numbers: the PCD's block number starts at 0 after activation (rule A) and toggles
//!   when an I-block or an R(ACK) with the current number is received (rule B);
//! * PCD chaining: each chained I-block (FSC respected) must be answered by R(ACK) with the
//!   current block number; an R(ACK) with the other number means the block was not received
//!   and the last I-block is sent again (rule 6);
//! * PICC chaining: each chained I-block is acknowledged with R(ACK) (rule 2);
//! * S(WTX): answered with the same WTXM (power bits cleared); the next wait is FWT × WTXM,
//!   capped at FWTmax (§7.3);
//! * errors: after a transmission error or a time-out the PCD sends R(NAK) (rule 4), or during
//!   PICC chaining R(ACK) again (rule 5), or S(DESELECT) again while deselecting;
//!   at most [`IsoDepParams::max_retries`] such retransmissions in a row (EMV Book D: 2 \[M\],
//!   [`EMV_MAX_RETRIES`]), then [`IsoDepError::Transmission`] or [`IsoDepError::Timeout`];
//! * protocol errors end the exchange without retry, as EMV Book D requires the PCD to report
//!   them \[M\]: an invalid PCB or block layout, an I-block with the wrong block number, an
//!   I-block while the PCD is still chaining, an R(ACK) with the current number when not
//!   chaining, any R(NAK), S(DESELECT) from the card, WTXM 0 or above 59, a CID or NAD the
//!   PCD did not use, a frame longer than FSD − 2, an R-APDU longer than
//!   [`MAX_RESPONSE_LEN`].
//!
//! A completed response is assembled only from I-blocks accepted with the expected block
//! number, so a duplicated or stale block never ends up in the R-APDU.
//!
//! No I/O, no clock, no heap: the engine never waits; it says how long to wait.

use super::ats::{AtsParams, FWT_MAX_US, fwt_us, normalize_fwi};
use super::block::{Block, BlockError, WTXM_MAX};
use super::type_b::Atqb;
use crate::channel::MAX_SHORT_RESPONSE;

/// Longest C-APDU accepted: a short case 4 APDU, 5 + 255 + 1 bytes.
pub const MAX_COMMAND_LEN: usize = 261;
/// Longest R-APDU assembled: 256 data bytes and SW1 SW2.
pub const MAX_RESPONSE_LEN: usize = MAX_SHORT_RESPONSE;
/// Largest frame without CRC: FSC/FSD 256 minus the two CRC bytes.
pub const MAX_FRAME_LEN: usize = 254;
/// Smallest FSC/FSD (ISO/IEC 14443-4 Table 1, FSCI 0).
pub const MIN_FRAME_SIZE: u16 = 16;
/// Largest FSC/FSD handled (FSCI 8).
pub const MAX_FRAME_SIZE: u16 = 256;
/// Retransmissions in a row before giving up, EMV Book D \[M\].
pub const EMV_MAX_RETRIES: u8 = 2;

/// The parameters of an activated ISO-DEP link (ISO/IEC 14443-4 §5.2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoDepParams {
    /// FSC: largest frame the card accepts, CRC included, clamped to 16…256.
    pub fsc: u16,
    /// FSD: largest frame the PCD accepts, CRC included, clamped to 16…256 (EMV: 256).
    pub fsd: u16,
    /// FWI 0–14 (15 is read as 4).
    pub fwi: u8,
    /// CID to send in every block, or `None` (EMV Book D: no CID).
    pub cid: Option<u8>,
    /// NAD to send in the first I-block of a chain, or `None` (EMV Book D: no NAD).
    pub nad: Option<u8>,
    /// Retransmissions in a row after errors before the exchange fails.
    pub max_retries: u8,
}

impl IsoDepParams {
    /// EMV defaults before any ATS/ATQB is known: FSC 32 (FSCI 2), FSD 256, FWI 4, no CID,
    /// no NAD, [`EMV_MAX_RETRIES`].
    pub const EMV_DEFAULT: Self = Self {
        fsc: 32,
        fsd: MAX_FRAME_SIZE,
        fwi: 4,
        cid: None,
        nad: None,
        max_retries: EMV_MAX_RETRIES,
    };

    /// EMV parameters from an ATS: FSC and FWI from the ATS, FSD 256, no CID/NAD.
    #[must_use]
    pub const fn from_ats(ats: &AtsParams) -> Self {
        Self {
            fsc: ats.fsc,
            fwi: ats.fwi,
            ..Self::EMV_DEFAULT
        }
    }

    /// EMV parameters from an ATQB: FSC and FWI from the protocol info, FSD 256, no CID/NAD.
    #[must_use]
    pub const fn from_atqb(atqb: &Atqb) -> Self {
        Self {
            fsc: atqb.fsc(),
            fwi: atqb.fwi(),
            ..Self::EMV_DEFAULT
        }
    }

    /// FWT in µs for [`Self::fwi`].
    #[must_use]
    pub const fn fwt_us(&self) -> u32 {
        fwt_us(self.fwi)
    }
}

/// What the card did wrong (ISO/IEC 14443-4 §7.5.6 "protocol error", EMV Book D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The frame is not a valid block.
    #[error("invalid block: {0}")]
    InvalidBlock(BlockError),
    /// A valid block that the protocol does not allow at this point.
    #[error("unexpected block (PCB {pcb:02X})")]
    UnexpectedBlock {
        /// Its PCB.
        pcb: u8,
    },
    /// An I-block whose block number is not the PCD's current one.
    #[error("I-block with block number {found}, expected {expected}")]
    WrongBlockNumber {
        /// The PCD's current block number.
        expected: u8,
        /// The number received.
        found: u8,
    },
    /// S(WTX) with WTXM 0 or above 59.
    #[error("S(WTX) with invalid WTXM {0}")]
    InvalidWtxm(u8),
    /// A CID that differs from the one the PCD uses (or any CID when the PCD uses none, or
    /// none when the PCD uses one).
    #[error("unexpected CID {found:?}, PCD uses {expected:?}")]
    WrongCid {
        /// The PCD's CID.
        expected: Option<u8>,
        /// The block's CID.
        found: Option<u8>,
    },
    /// A NAD although the PCD does not use NAD.
    #[error("unexpected NAD")]
    UnexpectedNad,
    /// A frame longer than FSD − 2.
    #[error("frame of {len} bytes exceeds FSD")]
    FrameTooLong {
        /// Its length without CRC.
        len: usize,
    },
    /// The chained response exceeds [`MAX_RESPONSE_LEN`].
    #[error("response longer than {MAX_RESPONSE_LEN} bytes")]
    ResponseTooLong,
}

/// Why an exchange failed or could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IsoDepError {
    /// Card: transmission errors persisted after the retransmissions (EMV "transmission
    /// error").
    #[error("transmission error after retransmissions")]
    Transmission,
    /// Card: no answer within FWT after the retransmissions (EMV "time-out error").
    #[error("time-out error: no answer after retransmissions")]
    Timeout,
    /// Card: protocol violation (EMV "protocol error").
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// API misuse: an exchange or a DESELECT is in progress.
    #[error("an exchange is in progress")]
    Busy,
    /// API misuse: the link failed or was deselected; the card must be reactivated.
    #[error("the ISO-DEP link is not active")]
    NotActive,
    /// API misuse: empty C-APDU.
    #[error("empty command")]
    EmptyCommand,
    /// API misuse: C-APDU longer than [`MAX_COMMAND_LEN`].
    #[error("command longer than {MAX_COMMAND_LEN} bytes")]
    CommandTooLong,
    /// API misuse: the buffer given to [`IsoDep::poll_transmit`] is shorter than the frame.
    #[error("transmit buffer too small")]
    BufferTooSmall,
}

/// What the engine reports through [`IsoDep::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsoDepEvent {
    /// The R-APDU is complete: [`IsoDep::response`] holds `len` bytes.
    Complete {
        /// Length of the R-APDU.
        len: usize,
    },
    /// The card acknowledged S(DESELECT); the link is closed.
    Deselected,
    /// The exchange (or DESELECT) failed; the link is no longer usable (EMV Book D: the
    /// caller deactivates the card, RF reset).
    Failed(IsoDepError),
}

/// The engine's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Ready for [`IsoDep::start`].
    Idle,
    /// Sending the C-APDU (possibly chained) and waiting for the first response block.
    Sending,
    /// Receiving a chained response: the last block sent was R(ACK).
    Receiving,
    /// S(DESELECT) sent.
    Deselecting,
    /// Failed or deselected: no more exchanges.
    Closed,
}

/// The PCD side of ISO-DEP (ISO/IEC 14443-4 §7), sans-IO.
#[derive(Clone)]
pub struct IsoDep {
    params: IsoDepParams,
    mode: Mode,
    block_number: u8,
    command: [u8; MAX_COMMAND_LEN],
    command_len: usize,
    /// Offset of the chunk carried by the current (last sent) I-block.
    chunk_start: usize,
    chunk_len: usize,
    /// The current I-block has the chaining bit set.
    chaining: bool,
    response: [u8; MAX_RESPONSE_LEN],
    response_len: usize,
    tx: [u8; MAX_FRAME_LEN],
    tx_len: usize,
    tx_pending: bool,
    awaiting: bool,
    retries: u8,
    wtxm: Option<u8>,
    event: Option<IsoDepEvent>,
}

impl core::fmt::Debug for IsoDep {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IsoDep")
            .field("params", &self.params)
            .field("mode", &self.mode)
            .field("block_number", &self.block_number)
            .field("retries", &self.retries)
            .field("awaiting", &self.awaiting)
            .finish_non_exhaustive()
    }
}

impl IsoDep {
    /// A fresh link after activation (block number 0, rule A). FSC/FSD are clamped to 16…256,
    /// FWI 15 is read as 4.
    #[must_use]
    pub fn new(params: IsoDepParams) -> Self {
        let params = IsoDepParams {
            fsc: params.fsc.clamp(MIN_FRAME_SIZE, MAX_FRAME_SIZE),
            fsd: params.fsd.clamp(MIN_FRAME_SIZE, MAX_FRAME_SIZE),
            fwi: normalize_fwi(params.fwi),
            cid: params.cid.map(|c| c & 0x0F),
            ..params
        };
        Self {
            params,
            mode: Mode::Idle,
            block_number: 0,
            command: [0; MAX_COMMAND_LEN],
            command_len: 0,
            chunk_start: 0,
            chunk_len: 0,
            chaining: false,
            response: [0; MAX_RESPONSE_LEN],
            response_len: 0,
            tx: [0; MAX_FRAME_LEN],
            tx_len: 0,
            tx_pending: false,
            awaiting: false,
            retries: 0,
            wtxm: None,
            event: None,
        }
    }

    /// The link parameters in use.
    #[must_use]
    pub const fn params(&self) -> &IsoDepParams {
        &self.params
    }

    /// The PCD's current block number (0 or 1).
    #[must_use]
    pub const fn block_number(&self) -> u8 {
        self.block_number
    }

    /// Whether an exchange or DESELECT is in progress.
    #[must_use]
    pub const fn is_busy(&self) -> bool {
        matches!(
            self.mode,
            Mode::Sending | Mode::Receiving | Mode::Deselecting
        )
    }

    /// Whether the link can still carry exchanges (not failed, not deselected).
    #[must_use]
    pub const fn is_active(&self) -> bool {
        !matches!(self.mode, Mode::Closed)
    }

    /// Starts exchanging `command` (a complete C-APDU); the first I-block is then ready in
    /// [`Self::poll_transmit`].
    ///
    /// # Errors
    /// [`IsoDepError::Busy`], [`IsoDepError::NotActive`], [`IsoDepError::EmptyCommand`],
    /// [`IsoDepError::CommandTooLong`].
    pub fn start(&mut self, command: &[u8]) -> Result<(), IsoDepError> {
        match self.mode {
            Mode::Idle => {}
            Mode::Closed => return Err(IsoDepError::NotActive),
            Mode::Sending | Mode::Receiving | Mode::Deselecting => return Err(IsoDepError::Busy),
        }
        if command.is_empty() {
            return Err(IsoDepError::EmptyCommand);
        }
        self.command
            .get_mut(..command.len())
            .ok_or(IsoDepError::CommandTooLong)?
            .copy_from_slice(command);
        self.command_len = command.len();
        self.chunk_start = 0;
        self.response_len = 0;
        self.retries = 0;
        self.wtxm = None;
        self.event = None;
        self.mode = Mode::Sending;
        self.queue_i_block();
        Ok(())
    }

    /// Starts deactivation with S(DESELECT) (ISO/IEC 14443-4 §8); allowed when idle and after
    /// a failure. The card's S(DESELECT) answer gives [`IsoDepEvent::Deselected`].
    ///
    /// # Errors
    /// [`IsoDepError::Busy`] during an exchange.
    pub fn deselect(&mut self) -> Result<(), IsoDepError> {
        if self.is_busy() {
            return Err(IsoDepError::Busy);
        }
        self.retries = 0;
        self.wtxm = None;
        self.event = None;
        self.mode = Mode::Deselecting;
        self.queue(Block::Deselect {
            cid: self.params.cid,
        });
        Ok(())
    }

    /// The next frame to send (PCB … INF, no CRC), written to `buf`; `None` when nothing is to
    /// be sent. After it, the engine waits for one of the `handle_*` calls.
    ///
    /// `buf` should hold [`MAX_FRAME_LEN`] bytes; a shorter one that cannot hold the frame
    /// fails the exchange with [`IsoDepError::BufferTooSmall`].
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        if !self.tx_pending {
            return None;
        }
        self.tx_pending = false;
        let frame = self.tx.get(..self.tx_len).unwrap_or(&[]);
        if let Some(dst) = buf.get_mut(..frame.len()) {
            dst.copy_from_slice(frame);
            self.awaiting = true;
            Some(frame.len())
        } else {
            self.fail(IsoDepError::BufferTooSmall);
            None
        }
    }

    /// How long to wait for the answer to the frame just sent, in µs: FWT = 302.1 µs × 2^FWI,
    /// times WTXM after an S(WTX) response (capped at FWTmax), ISO/IEC 14443-4 §7.2–§7.3.
    /// `None` when not waiting. The caller adds its tolerance (EMV Book D ΔFWT).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u32> {
        if !self.awaiting {
            return None;
        }
        let fwt = self.params.fwt_us();
        Some(match self.wtxm {
            Some(m) => fwt.saturating_mul(u32::from(m)).min(FWT_MAX_US),
            None => fwt,
        })
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<IsoDepEvent> {
        self.event.take()
    }

    /// The R-APDU of the last completed exchange (empty before completion).
    #[must_use]
    pub fn response(&self) -> &[u8] {
        if self.mode == Mode::Idle {
            self.response.get(..self.response_len).unwrap_or(&[])
        } else {
            &[]
        }
    }

    /// A frame arrived with a good CRC (CRC removed). Ignored unless a frame was sent and is
    /// awaiting its answer.
    pub fn handle_received(&mut self, frame: &[u8]) {
        if !self.awaiting {
            return;
        }
        self.awaiting = false;
        self.wtxm = None;
        if let Err(e) = self.receive(frame) {
            self.fail(IsoDepError::Protocol(e));
        }
    }

    /// No answer within [`Self::poll_timeout`]. Ignored unless awaiting an answer.
    pub fn handle_timeout(&mut self) {
        self.recover(IsoDepError::Timeout);
    }

    /// The answer had a transmission error (CRC, parity, framing, collision). Ignored unless
    /// awaiting an answer.
    pub fn handle_transmission_error(&mut self) {
        self.recover(IsoDepError::Transmission);
    }

    fn fail(&mut self, error: IsoDepError) {
        self.mode = Mode::Closed;
        self.tx_pending = false;
        self.awaiting = false;
        self.wtxm = None;
        self.event = Some(IsoDepEvent::Failed(error));
    }

    fn queue(&mut self, block: Block<'_>) {
        match block.emit(&mut self.tx) {
            Ok(n) => {
                self.tx_len = n;
                self.tx_pending = true;
            }
            // Cannot happen: chunks are sized to fit `tx`.
            Err(_) => self.fail(IsoDepError::BufferTooSmall),
        }
    }

    /// Builds the I-block carrying the chunk at `chunk_start` with the current block number.
    fn queue_i_block(&mut self) {
        let nad = if self.chunk_start == 0 {
            self.params.nad
        } else {
            None
        };
        let header = 1 + usize::from(self.params.cid.is_some()) + usize::from(nad.is_some());
        let max_inf = usize::from(self.params.fsc)
            .saturating_sub(2 + header)
            .min(MAX_FRAME_LEN - header)
            .max(1);
        let remaining = self.command_len.saturating_sub(self.chunk_start);
        self.chunk_len = remaining.min(max_inf);
        self.chaining = remaining > max_inf;
        let end = self.chunk_start + self.chunk_len;
        let mut chunk = [0u8; MAX_FRAME_LEN];
        let len = self.chunk_len;
        if let (Some(dst), Some(src)) = (
            chunk.get_mut(..len),
            self.command.get(self.chunk_start..end),
        ) {
            dst.copy_from_slice(src);
        }
        let block = Block::I {
            block_number: self.block_number,
            chaining: self.chaining,
            cid: self.params.cid,
            nad,
            inf: chunk.get(..len).unwrap_or(&[]),
        };
        self.queue(block);
    }

    fn toggle(&mut self) {
        self.block_number ^= 1;
    }

    fn recover(&mut self, error: IsoDepError) {
        if !self.awaiting {
            return;
        }
        self.awaiting = false;
        self.wtxm = None;
        self.retries = self.retries.saturating_add(1);
        if self.retries > self.params.max_retries {
            self.fail(error);
            return;
        }
        let cid = self.params.cid;
        let block_number = self.block_number;
        match self.mode {
            // Rule 4: R(NAK) with the current block number.
            Mode::Sending => self.queue(Block::RNak { block_number, cid }),
            // Rule 5: during PICC chaining, R(ACK) again.
            Mode::Receiving => self.queue(Block::RAck { block_number, cid }),
            Mode::Deselecting => self.queue(Block::Deselect { cid }),
            Mode::Idle | Mode::Closed => {}
        }
    }

    fn receive(&mut self, frame: &[u8]) -> Result<(), ProtocolError> {
        if frame.len() > usize::from(self.params.fsd).saturating_sub(2) {
            return Err(ProtocolError::FrameTooLong { len: frame.len() });
        }
        let block = Block::parse(frame).map_err(ProtocolError::InvalidBlock)?;
        let pcb = block.pcb();
        if block.cid() != self.params.cid {
            return Err(ProtocolError::WrongCid {
                expected: self.params.cid,
                found: block.cid(),
            });
        }
        let unexpected = ProtocolError::UnexpectedBlock { pcb };
        match (self.mode, block) {
            (Mode::Sending | Mode::Receiving, Block::Wtx { inf, .. }) => {
                let wtxm = inf & 0x3F;
                if wtxm == 0 || wtxm > WTXM_MAX {
                    return Err(ProtocolError::InvalidWtxm(wtxm));
                }
                self.retries = 0;
                self.queue(Block::Wtx {
                    cid: self.params.cid,
                    inf: wtxm,
                });
                self.wtxm = Some(wtxm);
                Ok(())
            }
            (
                Mode::Sending | Mode::Receiving,
                Block::I {
                    block_number,
                    chaining,
                    nad,
                    inf,
                    ..
                },
            ) => {
                if self.mode == Mode::Sending && self.chaining {
                    // Rule: while the PCD chains, the card answers R(ACK) only.
                    return Err(unexpected);
                }
                if block_number != self.block_number {
                    return Err(ProtocolError::WrongBlockNumber {
                        expected: self.block_number,
                        found: block_number,
                    });
                }
                if nad.is_some() && self.params.nad.is_none() {
                    return Err(ProtocolError::UnexpectedNad);
                }
                let end = self.response_len + inf.len();
                self.response
                    .get_mut(self.response_len..end)
                    .ok_or(ProtocolError::ResponseTooLong)?
                    .copy_from_slice(inf);
                self.response_len = end;
                self.toggle();
                self.retries = 0;
                if chaining {
                    self.mode = Mode::Receiving;
                    self.queue(Block::RAck {
                        block_number: self.block_number,
                        cid: self.params.cid,
                    });
                } else {
                    self.mode = Mode::Idle;
                    self.event = Some(IsoDepEvent::Complete {
                        len: self.response_len,
                    });
                }
                Ok(())
            }
            (Mode::Sending, Block::RAck { block_number, .. }) => {
                if block_number == self.block_number {
                    if !self.chaining {
                        return Err(unexpected);
                    }
                    // Rule B, then the next chunk.
                    self.toggle();
                    self.retries = 0;
                    self.chunk_start += self.chunk_len;
                    self.queue_i_block();
                } else {
                    // Rule 6: the card did not receive the last I-block.
                    self.retries = self.retries.saturating_add(1);
                    if self.retries > self.params.max_retries {
                        self.fail(IsoDepError::Transmission);
                    } else {
                        self.queue_i_block();
                    }
                }
                Ok(())
            }
            (Mode::Deselecting, Block::Deselect { .. }) => {
                self.mode = Mode::Closed;
                self.event = Some(IsoDepEvent::Deselected);
                Ok(())
            }
            _ => Err(unexpected),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn engine(fsc: u16) -> IsoDep {
        IsoDep::new(IsoDepParams {
            fsc,
            ..IsoDepParams::EMV_DEFAULT
        })
    }

    fn tx(e: &mut IsoDep) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let n = e.poll_transmit(&mut buf).expect("a frame to send");
        buf[..n].to_vec()
    }

    fn apdu(len: usize) -> Vec<u8> {
        (0..len).map(|i| i as u8).collect()
    }

    #[test]
    fn single_exchange() {
        let mut e = engine(256);
        e.start(&[0x00, 0xA4, 0x04, 0x00]).unwrap();
        assert_eq!(tx(&mut e), [0x02, 0x00, 0xA4, 0x04, 0x00]);
        assert!(e.poll_transmit(&mut [0u8; 10]).is_none());
        assert_eq!(e.poll_timeout(), Some(4834));
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));
        assert_eq!(e.response(), &[0x90, 0x00]);
        assert_eq!(e.block_number(), 1);
        assert_eq!(e.poll_timeout(), None);
        // Second exchange uses block number 1.
        e.start(&[0x00, 0xB2, 0x01, 0x0C, 0x00]).unwrap();
        assert_eq!(tx(&mut e)[0], 0x03);
        e.handle_received(&[0x03, 0x6A, 0x82]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));
        assert_eq!(e.block_number(), 0);
    }

    /// FSC 16: at most 16 − 2 (CRC) − 1 (PCB) = 13 INF bytes per I-block.
    #[test]
    fn pcd_chaining_fsc16() {
        let mut e = engine(16);
        let cmd = apdu(30);
        e.start(&cmd).unwrap();
        let f1 = tx(&mut e);
        assert_eq!(f1[0], 0x12);
        assert_eq!(&f1[1..], &cmd[..13]);
        e.handle_received(&[0xA2]);
        let f2 = tx(&mut e);
        assert_eq!(f2[0], 0x13);
        assert_eq!(&f2[1..], &cmd[13..26]);
        e.handle_received(&[0xA3]);
        let f3 = tx(&mut e);
        assert_eq!(f3[0], 0x02);
        assert_eq!(&f3[1..], &cmd[26..]);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));
    }

    #[test]
    fn picc_chaining() {
        let mut e = engine(16);
        e.start(&[0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00])
            .unwrap();
        assert_eq!(tx(&mut e)[0], 0x02);
        e.handle_received(&[0x12, 1, 2, 3]);
        assert_eq!(tx(&mut e), [0xA3]);
        e.handle_received(&[0x13, 4, 5]);
        assert_eq!(tx(&mut e), [0xA2]);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 7 }));
        assert_eq!(e.response(), &[1, 2, 3, 4, 5, 0x90, 0x00]);
        assert_eq!(e.block_number(), 1);
    }

    #[test]
    fn wtx() {
        let mut e = engine(256);
        e.start(&[0x80, 0xAE, 0x80, 0x00, 0x00]).unwrap();
        let _ = tx(&mut e);
        // S(WTX) with power bits and WTXM 3: echoed without the power bits.
        e.handle_received(&[0xF2, 0x83]);
        assert_eq!(tx(&mut e), [0xF2, 0x03]);
        assert_eq!(e.poll_timeout(), Some(3 * 4834));
        // WTXM 59 with FWI 14 is capped at FWTmax.
        e.handle_received(&[0xF2, 59]);
        assert_eq!(tx(&mut e), [0xF2, 59]);
        assert_eq!(e.poll_timeout(), Some(59 * 4834));
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));

        let mut e = IsoDep::new(IsoDepParams {
            fwi: 14,
            ..IsoDepParams::EMV_DEFAULT
        });
        e.start(&[0x00]).unwrap();
        let _ = tx(&mut e);
        e.handle_received(&[0xF2, 2]);
        let _ = tx(&mut e);
        assert_eq!(e.poll_timeout(), Some(FWT_MAX_US));
        // After a time-out the temporary FWT is gone.
        e.handle_timeout();
        assert_eq!(tx(&mut e), [0xB2]);
        assert_eq!(e.poll_timeout(), Some(FWT_MAX_US));
    }

    #[test]
    fn invalid_wtxm_is_protocol_error() {
        for wtxm in [0u8, 60, 63] {
            let mut e = engine(256);
            e.start(&[0x00]).unwrap();
            let _ = tx(&mut e);
            e.handle_received(&[0xF2, wtxm]);
            assert_eq!(
                e.poll_event(),
                Some(IsoDepEvent::Failed(IsoDepError::Protocol(
                    ProtocolError::InvalidWtxm(wtxm)
                )))
            );
            assert_eq!(e.start(&[0x00]), Err(IsoDepError::NotActive));
        }
    }

    /// Lost answer: R(NAK) with the current number; the card re-sends its I-block.
    #[test]
    fn timeout_then_nak() {
        let mut e = engine(256);
        e.start(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap();
        let _ = tx(&mut e);
        e.handle_timeout();
        assert_eq!(tx(&mut e), [0xB2]);
        e.handle_transmission_error();
        assert_eq!(tx(&mut e), [0xB2]);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));
    }

    /// The card did not get the I-block: it answers R(NAK) with R(ACK) of the other number and
    /// the PCD re-sends the I-block (rule 6).
    #[test]
    fn rack_other_number_retransmits() {
        let mut e = engine(256);
        e.start(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap();
        let first = tx(&mut e);
        e.handle_timeout();
        assert_eq!(tx(&mut e), [0xB2]);
        e.handle_received(&[0xA3]);
        assert_eq!(tx(&mut e), first);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Complete { len: 2 }));
    }

    #[test]
    fn mute_card_times_out_after_retries() {
        let mut e = engine(256);
        e.start(&[0x00, 0xA4, 0x04, 0x00]).unwrap();
        let mut sent = Vec::new();
        while let Some(n) = e.poll_transmit(&mut [0u8; MAX_FRAME_LEN]) {
            sent.push(n);
            e.handle_timeout();
        }
        assert_eq!(sent.len(), 1 + usize::from(EMV_MAX_RETRIES));
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Timeout))
        );
    }

    #[test]
    fn crc_errors_then_transmission_error() {
        let mut e = engine(256);
        e.start(&[0x00]).unwrap();
        let _ = tx(&mut e);
        for _ in 0..EMV_MAX_RETRIES {
            e.handle_transmission_error();
            assert_eq!(tx(&mut e), [0xB2]);
        }
        e.handle_transmission_error();
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Transmission))
        );
    }

    #[test]
    fn protocol_errors() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (
                &[0x03, 0x90, 0x00],
                ProtocolError::WrongBlockNumber {
                    expected: 0,
                    found: 1,
                },
            ),
            (&[0xA2], ProtocolError::UnexpectedBlock { pcb: 0xA2 }),
            (&[0xB2], ProtocolError::UnexpectedBlock { pcb: 0xB2 }),
            (&[0xC2], ProtocolError::UnexpectedBlock { pcb: 0xC2 }),
            (
                &[0x22],
                ProtocolError::InvalidBlock(BlockError::InvalidPcb(0x22)),
            ),
            (
                &[0x0A, 0x00, 0x90, 0x00],
                ProtocolError::WrongCid {
                    expected: None,
                    found: Some(0),
                },
            ),
            (&[0x06, 0x00, 0x90, 0x00], ProtocolError::UnexpectedNad),
            (&[], ProtocolError::InvalidBlock(BlockError::Empty)),
        ];
        for (frame, error) in cases {
            let mut e = engine(256);
            e.start(&[0x00, 0xA4, 0x04, 0x00]).unwrap();
            let _ = tx(&mut e);
            e.handle_received(frame);
            assert_eq!(
                e.poll_event(),
                Some(IsoDepEvent::Failed(IsoDepError::Protocol(*error))),
                "{frame:02X?}"
            );
        }
        // An I-block while the PCD is chaining.
        let mut e = engine(16);
        e.start(&apdu(20)).unwrap();
        let _ = tx(&mut e);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Protocol(
                ProtocolError::UnexpectedBlock { pcb: 0x02 }
            )))
        );
        // Frame longer than FSD − 2.
        let mut e = IsoDep::new(IsoDepParams {
            fsd: 16,
            ..IsoDepParams::EMV_DEFAULT
        });
        e.start(&[0x00]).unwrap();
        let _ = tx(&mut e);
        e.handle_received(&[0x02; 15]);
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Protocol(
                ProtocolError::FrameTooLong { len: 15 }
            )))
        );
    }

    #[test]
    fn response_too_long() {
        let mut e = engine(256);
        e.start(&[0x00]).unwrap();
        let _ = tx(&mut e);
        let mut block = [0u8; 201];
        block[0] = 0x12;
        e.handle_received(&block);
        let _ = tx(&mut e);
        block[0] = 0x13;
        e.handle_received(&block);
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Protocol(
                ProtocolError::ResponseTooLong
            )))
        );
    }

    #[test]
    fn cid_in_use() {
        let mut e = IsoDep::new(IsoDepParams {
            cid: Some(1),
            ..IsoDepParams::EMV_DEFAULT
        });
        e.start(&[0x00, 0xA4]).unwrap();
        assert_eq!(tx(&mut e), [0x0A, 0x01, 0x00, 0xA4]);
        e.handle_received(&[0xFA, 0x41, 0x01]); // WTX, CID byte with power bits
        assert_eq!(tx(&mut e), [0xFA, 0x01, 0x01]);
        e.handle_received(&[0x02, 0x90, 0x00]);
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::Protocol(
                ProtocolError::WrongCid {
                    expected: Some(1),
                    found: None
                }
            )))
        );
    }

    #[test]
    fn deselect() {
        let mut e = engine(256);
        e.deselect().unwrap();
        assert_eq!(tx(&mut e), [0xC2]);
        e.handle_timeout();
        assert_eq!(tx(&mut e), [0xC2]);
        e.handle_received(&[0xC2]);
        assert_eq!(e.poll_event(), Some(IsoDepEvent::Deselected));
        assert!(!e.is_active());
        assert_eq!(e.start(&[0x00]), Err(IsoDepError::NotActive));
    }

    #[test]
    fn misuse() {
        let mut e = engine(256);
        assert_eq!(e.start(&[]), Err(IsoDepError::EmptyCommand));
        assert_eq!(
            e.start(&[0u8; MAX_COMMAND_LEN + 1]),
            Err(IsoDepError::CommandTooLong)
        );
        e.start(&[0x00]).unwrap();
        assert_eq!(e.start(&[0x00]), Err(IsoDepError::Busy));
        assert_eq!(e.deselect(), Err(IsoDepError::Busy));
        // Handlers without a pending frame are ignored.
        let mut idle = engine(256);
        idle.handle_received(&[0x02, 0x90, 0x00]);
        idle.handle_timeout();
        assert_eq!(idle.poll_event(), None);
        // Too small a transmit buffer.
        assert_eq!(e.poll_transmit(&mut [0u8; 1]), None);
        assert_eq!(
            e.poll_event(),
            Some(IsoDepEvent::Failed(IsoDepError::BufferTooSmall))
        );
    }
}
