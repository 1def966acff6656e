//! The terminal side of T=1 as a sans-IO state machine (ISO/IEC 7816-3:2006 §11.4–§11.6,
//! EMV L1 / Book 1 §9.2.4).
//!
//! Inputs are `handle_*` calls, outputs are `#[must_use] poll_*` calls; the engine never reads
//! a clock or touches a UART. See the module documentation of [`crate::t1`] for the driving
//! loop.

use super::block::{Block, BlockError, BlockKind, MAX_INF, RCode, SBlock, edc_len};
use crate::atr::{Edc, EmvAtrParams, EmvTransmission};
use crate::channel::MAX_SHORT_RESPONSE;

/// IFSD before any S(IFS) exchange (ISO/IEC 7816-3 §11.4.2: 32 bytes).
pub const DEFAULT_IFSD: u8 = 32;
/// The IFSD an EMV terminal announces in its first block after the ATR \[M\]
/// (`00 C1 01 FE 3E`, emv-facts §5.3).
pub const EMV_IFSD: u8 = 254;
/// Smallest IFSC an EMV terminal accepts, from TA3 or an S(IFS request) (EMV L1 §8.3: TA3 in
/// `10`..`FE`) \[S; M for S(IFS request)\].
pub const EMV_MIN_IFSC: u8 = 0x10;
/// Largest information field size, IFSC or IFSD (ISO/IEC 7816-3 §11.4.2).
pub const MAX_IFS: u8 = 0xFE;
/// Consecutive error-recovery transmissions (R-blocks asking for a block, retransmissions,
/// repeated S(… request)s) before an EMV terminal deactivates: "a block is retransmitted at
/// most twice" \[M\].
pub const EMV_MAX_RETRIES: u8 = 2;
/// EMV tolerance on BWT, in etu per unit of D: the terminal waits BWT + D × 960 etu for the
/// first character of a block \[M\].
pub const EMV_BWT_TOLERANCE_ETU_PER_D: u32 = 960;
/// EMV tolerance on CWT: the terminal waits CWT + 4 etu between characters \[M\].
pub const EMV_CWT_TOLERANCE_ETU: u32 = 4;
/// S(RESYNCH request) attempts before deactivation, when terminal RESYNCH is enabled
/// (ISO/IEC 7816-3 §11.6.3.2 rule 6.4: three attempts) \[M\].
pub const ISO_RESYNCH_ATTEMPTS: u8 = 3;
/// Block guard time: minimum delay, in etu, between the leading edges of the last character
/// received and the first character the terminal sends (ISO/IEC 7816-3 §11.2). The driver
/// enforces it; the engine only names it.
pub const BGT_ETU: u32 = 22;
/// Largest command APDU the engine takes: a short case 4 APDU, 4 + 1 + 255 + 1 bytes.
/// Extended-length APDUs (up to 65 535 data bytes) are out of scope.
pub const MAX_COMMAND_LEN: usize = 261;
/// Largest response APDU the engine assembles: 256 data bytes and SW1 SW2. Extended-length
/// responses are out of scope.
pub const MAX_RESPONSE_LEN: usize = MAX_SHORT_RESPONSE;
/// Size of the receive buffer: any LEN, `FF` included, with a two-byte CRC.
const RX_CAPACITY: usize = 3 + 255 + 2;

/// What the terminal does when no character of a block arrives within BWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutPolicy {
    /// Treat the timeout as an invalid block: send an R-block (or repeat the S request),
    /// counted against `max_retries` (ISO/IEC 7816-3 §11.6.3.2 rule 7.1). The default.
    Recover,
    /// Fail at once with [`T1Error::BlockTimeout`] (deactivation) \[M: one reading of the
    /// EMV L1 timing rules; see the open items in emv-facts Appendix B\].
    Deactivate,
}

/// Parameters of a T=1 session (ISO/IEC 7816-3 §11.4), usually from the ATR (TA3, TB3, TC3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct T1Config {
    /// Initial IFSC (TA3; ISO default 32). EMV: 16..=254.
    pub ifsc: u8,
    /// The IFSD the terminal announces with [`T1::start_ifsd_negotiation`] (EMV: 254 \[M\]).
    pub ifsd: u8,
    /// Block waiting time in etu, 11 + 2^BWI × 960 × Fd/f (ISO/IEC 7816-3 §11.4.3).
    pub bwt_etu: u32,
    /// Character waiting time in etu, 11 + 2^CWI (ISO/IEC 7816-3 §11.4.3).
    pub cwt_etu: u32,
    /// Added to BWT (after any WTX multiplication); EMV: D × 960 \[M\].
    pub bwt_tolerance_etu: u32,
    /// Added to CWT; EMV: 4 \[M\].
    pub cwt_tolerance_etu: u32,
    /// Error detection code (TC3 b1). EMV: LRC.
    pub edc: Edc,
    /// Consecutive error-recovery transmissions allowed before giving up (EMV: 2 \[M\]).
    pub max_retries: u8,
    /// Smallest IFSC accepted from an S(IFS request) and in this config (EMV: 16 \[M\];
    /// ISO: 1).
    pub min_ifsc: u8,
    /// NAD of the blocks the terminal sends (EMV: `00` \[M\]). Blocks from the card must
    /// carry the same address with source and destination swapped.
    pub nad: u8,
    /// What a BWT timeout does.
    pub on_block_timeout: TimeoutPolicy,
    /// Send S(RESYNCH request) when retries are exhausted, before failing (ISO/IEC 7816-3
    /// §11.6.3.2 rule 6). EMV terminals do not \[M\]: default off.
    pub resynch: bool,
}

impl T1Config {
    /// An EMV configuration (LRC, NAD 0, IFSD 254, two retries, no RESYNCH, EMV tolerances
    /// for the given D) from raw waiting times.
    #[must_use]
    pub const fn emv(ifsc: u8, bwt_etu: u32, cwt_etu: u32, di: u8) -> Self {
        Self {
            ifsc,
            ifsd: EMV_IFSD,
            bwt_etu,
            cwt_etu,
            bwt_tolerance_etu: EMV_BWT_TOLERANCE_ETU_PER_D.saturating_mul(di as u32),
            cwt_tolerance_etu: EMV_CWT_TOLERANCE_ETU,
            edc: Edc::Lrc,
            max_retries: EMV_MAX_RETRIES,
            min_ifsc: EMV_MIN_IFSC,
            nad: 0,
            on_block_timeout: TimeoutPolicy::Recover,
            resynch: false,
        }
    }

    /// The EMV configuration for a card whose ATR passed the EMV checks: IFSC from TA3,
    /// BWT/CWT from TB3 and Fi/Di (EMV L1 §8.3, ISO/IEC 7816-3 §11.4.3). `None` for T=0.
    #[must_use]
    pub fn from_emv_params(params: &EmvAtrParams) -> Option<Self> {
        match params.transmission {
            EmvTransmission::T1 { ifsc, edc, .. } => {
                let mut config =
                    Self::emv(ifsc, params.t1_bwt_etu()?, params.t1_cwt_etu()?, params.di);
                config.edc = edc;
                Some(config)
            }
            EmvTransmission::T0 { .. } => None,
        }
    }

    /// Check the ranges: IFSC in `min_ifsc..=254`, `min_ifsc` ≥ 1, IFSD in 1..=254, non-zero
    /// waiting times.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.min_ifsc == 0 || self.min_ifsc > MAX_IFS {
            return Err(ConfigError::MinIfsc {
                min_ifsc: self.min_ifsc,
            });
        }
        if self.ifsc < self.min_ifsc || self.ifsc > MAX_IFS {
            return Err(ConfigError::Ifsc {
                ifsc: self.ifsc,
                min: self.min_ifsc,
            });
        }
        if self.ifsd == 0 || self.ifsd > MAX_IFS {
            return Err(ConfigError::Ifsd { ifsd: self.ifsd });
        }
        if self.bwt_etu == 0 || self.cwt_etu == 0 {
            return Err(ConfigError::ZeroWaitingTime);
        }
        Ok(())
    }
}

/// A [`T1Config`] the engine refuses (configuration error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// IFSC outside `min..=254`.
    #[error("IFSC {ifsc} outside {min}..=254")]
    Ifsc {
        /// The configured IFSC.
        ifsc: u8,
        /// The configured minimum.
        min: u8,
    },
    /// `min_ifsc` is 0 or above 254.
    #[error("minimum IFSC {min_ifsc} outside 1..=254")]
    MinIfsc {
        /// The configured minimum.
        min_ifsc: u8,
    },
    /// IFSD outside 1..=254.
    #[error("IFSD {ifsd} outside 1..=254")]
    Ifsd {
        /// The configured IFSD.
        ifsd: u8,
    },
    /// BWT or CWT is zero.
    #[error("BWT and CWT must be non-zero")]
    ZeroWaitingTime,
}

/// Why [`T1::start`] or [`T1::start_ifsd_negotiation`] refused (API misuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An exchange or negotiation is in progress.
    #[error("an exchange is in progress")]
    Busy,
    /// The engine failed earlier; the card must be deactivated and a new engine made.
    #[error("the T=1 session ended; deactivate and reactivate the card")]
    Deactivated,
    /// An empty command.
    #[error("empty command APDU")]
    EmptyCommand,
    /// A command longer than a short APDU.
    #[error("command of {len} bytes exceeds {max}")]
    CommandTooLong {
        /// Its length.
        len: usize,
        /// [`MAX_COMMAND_LEN`].
        max: usize,
    },
}

/// Why a received block (or the lack of one) was not accepted: the cause of an error
/// recovery step (ISO/IEC 7816-3 §11.6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// The bytes are not a valid block.
    #[error("invalid block: {0}")]
    Invalid(BlockError),
    /// The driver reported a parity error in the block.
    #[error("parity error")]
    Parity,
    /// More characters arrived than the block's LEN announces.
    #[error("characters after the end of the block")]
    TrailingBytes,
    /// CWT elapsed inside a block.
    #[error("character waiting time exceeded after {received} byte(s)")]
    CharacterTimeout {
        /// Bytes of the block received.
        received: usize,
    },
    /// BWT (× WTX) elapsed before the first character of a block.
    #[error("block waiting time exceeded")]
    BlockTimeout,
    /// A NAD other than the expected one.
    #[error("unexpected NAD {nad:02X}")]
    Nad {
        /// The NAD received.
        nad: u8,
    },
    /// A valid block that the protocol does not allow at this point (wrong kind or sequence
    /// number).
    #[error("unexpected block with PCB {pcb:02X}")]
    Unexpected {
        /// Its PCB.
        pcb: u8,
    },
    /// The card asked for the last I-block again (R-block with N(R) = our N(S)).
    #[error("the card asked for a retransmission")]
    RetransmitRequest,
    /// An S(IFS request) with a size outside `min_ifsc..=254`.
    #[error("S(IFS request) with invalid size {value}")]
    BadIfs {
        /// The size requested.
        value: u8,
    },
    /// An S(WTX request) with multiplier 0 \[M\].
    #[error("S(WTX request) with multiplier 0")]
    BadWtx,
    /// A chained I-block (M = 1) without data \[M: refused so that a chain always makes
    /// progress\].
    #[error("chained I-block without data")]
    EmptyChainedBlock,
}

impl Fault {
    /// The R-block error code reporting this fault (ISO/IEC 7816-3 §11.3.2.2): 1 for EDC and
    /// parity errors, 2 otherwise.
    #[must_use]
    pub const fn r_code(&self) -> RCode {
        match self {
            Self::Parity | Self::Invalid(BlockError::BadEdc { .. }) => RCode::EdcOrParity,
            _ => RCode::Other,
        }
    }
}

/// Why an exchange ended without a response (errors by blame: the card or the line, except
/// [`T1Error::TransmitBufferTooSmall`], which is API misuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum T1Error {
    /// Error recovery failed `max_retries` times in a row (EMV: deactivate \[M\]).
    #[error("T=1 error recovery failed, last fault: {last}")]
    RetriesExhausted {
        /// The fault that used up the last retry.
        last: Fault,
    },
    /// No block within BWT, with [`TimeoutPolicy::Deactivate`].
    #[error("block waiting time exceeded")]
    BlockTimeout,
    /// The card sent S(ABORT request) (EMV: deactivate \[M\]).
    #[error("the card aborted the exchange")]
    CardAbort,
    /// The card sent S(VPP error response).
    #[error("the card reported a VPP error")]
    VppError,
    /// The card chained more than [`MAX_RESPONSE_LEN`] bytes.
    #[error("response longer than {max} bytes", max = MAX_RESPONSE_LEN)]
    ResponseTooLong,
    /// RESYNCH succeeded: sequence numbers and IFSC/IFSD are back to their initial values,
    /// the exchange in progress is lost. The session continues (negotiate IFSD again).
    #[error("T=1 resynchronised; the exchange in progress was lost")]
    Resynchronised,
    /// RESYNCH failed [`ISO_RESYNCH_ATTEMPTS`] times.
    #[error("T=1 resynchronisation failed")]
    ResynchFailed,
    /// The buffer given to [`T1::poll_transmit`] cannot hold the block.
    #[error("transmit buffer of {available} bytes, block needs {needed}")]
    TransmitBufferTooSmall {
        /// Bytes the block needs ([`super::MAX_BLOCK_LEN`] always suffices).
        needed: usize,
        /// Bytes given.
        available: usize,
    },
}

impl T1Error {
    /// Whether the terminal must deactivate the card. Only [`T1Error::Resynchronised`] leaves
    /// the session usable.
    #[must_use]
    pub const fn requires_deactivation(&self) -> bool {
        !matches!(self, Self::Resynchronised)
    }
}

/// What the engine reports (poll with [`T1::poll_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum T1Event {
    /// The card answered S(IFS request) with the same IFSD (ISO/IEC 7816-3 §11.6.2.2).
    IfsdNegotiated {
        /// The IFSD now in force.
        ifsd: u8,
    },
    /// The whole response APDU arrived (last I-block, M = 0, valid EDC); read it with
    /// [`T1::response`].
    Complete {
        /// Its length.
        len: usize,
    },
    /// The exchange failed.
    Error(T1Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No exchange in progress.
    Idle,
    /// S(IFS request) sent, S(IFS response) awaited.
    Ifs,
    /// The terminal's I-block `offset..offset + len` of the command, N(S) = `ns`, is
    /// outstanding.
    Send {
        offset: usize,
        len: usize,
        more: bool,
    },
    /// A chained I-block from the card was acknowledged; the next one is awaited.
    Receive,
    /// S(RESYNCH request) sent.
    Resynch,
    /// Failed; deactivation required.
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    /// The I-block of the current [`Phase::Send`].
    I,
    /// R-block with N(R) = the expected N(S).
    R(RCode),
    S(SBlock),
}

/// A decoded block whose INF stays in the receive buffer.
#[derive(Debug, Clone, Copy)]
enum Rx {
    I { ns: bool, more: bool, len: usize },
    R { nr: bool },
    S(SBlock),
}

/// The terminal side of a T=1 session (ISO/IEC 7816-3 §11, EMV L1 §9.2.4), sans-IO.
///
/// Holds the command, the response being assembled and the block being received in fixed
/// buffers (about 800 bytes in all); no allocation.
#[derive(Debug, Clone)]
pub struct T1 {
    config: T1Config,
    phase: Phase,
    pending: Option<Tx>,
    awaiting: bool,
    /// N(S) of the terminal's next (or outstanding) I-block.
    ns: bool,
    /// N(S) expected in the card's next I-block.
    nr: bool,
    ifsc: u8,
    ifsd: u8,
    retries: u8,
    wtx: u8,
    event: Option<T1Event>,
    cmd: [u8; MAX_COMMAND_LEN],
    cmd_len: usize,
    resp: [u8; MAX_RESPONSE_LEN],
    resp_len: usize,
    complete: bool,
    rx: [u8; RX_CAPACITY],
    rx_len: usize,
    rx_parity: bool,
}

impl T1 {
    /// A session right after the ATR: sequence numbers 0, IFSC from the config, IFSD 32 until
    /// [`T1::start_ifsd_negotiation`] succeeds (ISO/IEC 7816-3 §11.4.2, §11.6.1).
    ///
    /// # Errors
    /// [`ConfigError`] if the configuration is out of range.
    pub const fn new(config: T1Config) -> Result<Self, ConfigError> {
        if let Err(e) = config.validate() {
            return Err(e);
        }
        Ok(Self {
            config,
            phase: Phase::Idle,
            pending: None,
            awaiting: false,
            ns: false,
            nr: false,
            ifsc: config.ifsc,
            ifsd: DEFAULT_IFSD,
            retries: 0,
            wtx: 1,
            event: None,
            cmd: [0; MAX_COMMAND_LEN],
            cmd_len: 0,
            resp: [0; MAX_RESPONSE_LEN],
            resp_len: 0,
            complete: false,
            rx: [0; RX_CAPACITY],
            rx_len: 0,
            rx_parity: false,
        })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &T1Config {
        &self.config
    }

    /// The IFSC in force (TA3, or the last S(IFS request) from the card).
    #[must_use]
    pub const fn ifsc(&self) -> u8 {
        self.ifsc
    }

    /// The IFSD in force: 32 until the S(IFS) exchange succeeds.
    #[must_use]
    pub const fn ifsd(&self) -> u8 {
        self.ifsd
    }

    /// N(S) of the terminal's next I-block and the N(S) expected from the card
    /// (ISO/IEC 7816-3 §11.3.2.2; they persist across APDUs).
    #[must_use]
    pub const fn sequence_numbers(&self) -> (bool, bool) {
        (self.ns, self.nr)
    }

    /// Whether no exchange is in progress and the session is usable.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    /// Whether the session failed and the card must be deactivated.
    #[must_use]
    pub const fn is_dead(&self) -> bool {
        matches!(self.phase, Phase::Dead)
    }

    /// Consecutive error-recovery transmissions so far in the current step.
    #[must_use]
    pub const fn retries(&self) -> u8 {
        self.retries
    }

    /// Begin the S(IFS request) exchange announcing `config.ifsd` — an EMV terminal's first
    /// block after the ATR (`00 C1 01 FE 3E`) \[M\]. Completion is
    /// [`T1Event::IfsdNegotiated`].
    ///
    /// # Errors
    /// [`StartError::Busy`] or [`StartError::Deactivated`].
    pub fn start_ifsd_negotiation(&mut self) -> Result<(), StartError> {
        self.check_idle()?;
        self.phase = Phase::Ifs;
        self.retries = 0;
        self.pending = Some(Tx::S(SBlock::IfsRequest(self.config.ifsd)));
        Ok(())
    }

    /// Begin sending `c_apdu` (a short APDU, copied), chained in I-blocks of at most IFSC
    /// bytes (ISO/IEC 7816-3 §11.6.2.3). Completion is [`T1Event::Complete`].
    ///
    /// # Errors
    /// [`StartError`]: busy, deactivated, empty or too long.
    pub fn start(&mut self, c_apdu: &[u8]) -> Result<(), StartError> {
        self.check_idle()?;
        let len = c_apdu.len();
        if len == 0 {
            return Err(StartError::EmptyCommand);
        }
        let dst = self.cmd.get_mut(..len).ok_or(StartError::CommandTooLong {
            len,
            max: MAX_COMMAND_LEN,
        })?;
        dst.copy_from_slice(c_apdu);
        self.cmd_len = len;
        self.resp_len = 0;
        self.complete = false;
        self.retries = 0;
        self.phase = self.chunk_at(0);
        self.pending = Some(Tx::I);
        Ok(())
    }

    /// The response APDU of the last exchange, `Some` only once [`T1Event::Complete`] was
    /// produced and until the next [`T1::start`].
    #[must_use]
    pub fn response(&self) -> Option<&[u8]> {
        if self.complete {
            self.resp.get(..self.resp_len)
        } else {
            None
        }
    }

    /// The next block to send, encoded into `buf` (at least [`super::MAX_BLOCK_LEN`] bytes always
    /// suffice); returns its length. After a `Some`, the engine waits for the card: arm the
    /// timer with [`T1::poll_timeout`] once the last character is sent (and BGT respected
    /// before, see [`BGT_ETU`]).
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        let tx = self.pending?;
        let nad = self.config.nad;
        let kind = match tx {
            Tx::I => {
                let Phase::Send { offset, len, more } = self.phase else {
                    self.pending = None;
                    return None;
                };
                let inf = self
                    .cmd
                    .get(offset..offset.saturating_add(len))
                    .unwrap_or_default();
                BlockKind::I {
                    ns: self.ns,
                    more,
                    inf,
                }
            }
            Tx::R(code) => BlockKind::R { nr: self.nr, code },
            Tx::S(s) => BlockKind::S(s),
        };
        let block = Block { nad, kind };
        match block.encode(self.config.edc, buf) {
            Ok(n) => {
                self.pending = None;
                self.awaiting = true;
                self.rx_len = 0;
                self.rx_parity = false;
                Some(n)
            }
            Err(_) => {
                let needed = block.encoded_len(self.config.edc);
                self.fail(T1Error::TransmitBufferTooSmall {
                    needed,
                    available: buf.len(),
                });
                None
            }
        }
    }

    /// Bytes received from the card, in any chunking. The engine assembles one block by its
    /// LEN; bytes arriving while no block is awaited are discarded, and bytes following a
    /// complete block in the same chunk make that block invalid (ISO/IEC 7816-3 §11.6.3).
    pub fn handle_received(&mut self, bytes: &[u8]) {
        let edc = edc_len(self.config.edc);
        let mut rest = bytes.iter();
        while self.awaiting {
            let Some(&b) = rest.next() else { return };
            if self.rx_len == 0 {
                // The WTX extension covers the first character of this block only.
                self.wtx = 1;
            }
            if let Some(slot) = self.rx.get_mut(self.rx_len) {
                *slot = b;
                self.rx_len += 1;
            }
            let complete = match self.rx.get(2) {
                Some(&len) if self.rx_len >= 3 => self.rx_len >= 3 + usize::from(len) + edc,
                _ => false,
            };
            if complete {
                let trailing = rest.len() > 0;
                self.process_block(trailing);
            }
        }
    }

    /// The driver saw a parity error on a character of the block being received (it passes
    /// the character to [`T1::handle_received`] all the same). The block is answered with an
    /// R-block, code 1 (ISO/IEC 7816-3 §11.6.3.2).
    pub fn handle_parity_error(&mut self) {
        if self.awaiting {
            self.rx_parity = true;
        }
    }

    /// How long to wait, in etu, from the leading edge of the last character sent or received
    /// for the next character; `None` when no character is awaited. BWT × WTX + tolerance
    /// before the first character of a block, CWT + tolerance inside one (ISO/IEC 7816-3
    /// §11.4.3, EMV tolerances \[M\]). Query again after every `handle_*` and `poll_transmit`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u32> {
        if !self.awaiting {
            return None;
        }
        Some(if self.rx_len == 0 {
            self.config
                .bwt_etu
                .saturating_mul(u32::from(self.wtx.max(1)))
                .saturating_add(self.config.bwt_tolerance_etu)
        } else {
            self.config
                .cwt_etu
                .saturating_add(self.config.cwt_tolerance_etu)
        })
    }

    /// The time from [`T1::poll_timeout`] elapsed without a character. Ignored when no
    /// character is awaited.
    pub fn handle_timeout(&mut self) {
        if !self.awaiting {
            return;
        }
        self.awaiting = false;
        let fault = if self.rx_parity {
            Fault::Parity
        } else if self.rx_len > 0 {
            Fault::CharacterTimeout {
                received: self.rx_len,
            }
        } else {
            Fault::BlockTimeout
        };
        self.rx_len = 0;
        self.rx_parity = false;
        self.wtx = 1;
        if fault == Fault::BlockTimeout && self.config.on_block_timeout == TimeoutPolicy::Deactivate
        {
            self.fail(T1Error::BlockTimeout);
            return;
        }
        self.recover(fault);
    }

    /// The next event, if any. There is at most one, produced when an exchange ends; poll
    /// after every `handle_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<T1Event> {
        self.event.take()
    }

    fn check_idle(&self) -> Result<(), StartError> {
        match self.phase {
            Phase::Idle => Ok(()),
            Phase::Dead => Err(StartError::Deactivated),
            Phase::Ifs | Phase::Send { .. } | Phase::Receive | Phase::Resynch => {
                Err(StartError::Busy)
            }
        }
    }

    /// The I-block of the command starting at `offset`, at most IFSC bytes.
    fn chunk_at(&self, offset: usize) -> Phase {
        let remaining = self.cmd_len.saturating_sub(offset);
        let ifsc = usize::from(self.ifsc).clamp(1, MAX_INF);
        Phase::Send {
            offset,
            len: remaining.min(ifsc),
            more: remaining > ifsc,
        }
    }

    fn process_block(&mut self, trailing: bool) {
        self.awaiting = false;
        let len = core::mem::take(&mut self.rx_len);
        let parity = core::mem::take(&mut self.rx_parity);
        if parity {
            return self.recover(Fault::Parity);
        }
        if trailing {
            return self.recover(Fault::TrailingBytes);
        }
        let bytes = self.rx.get(..len).unwrap_or_default();
        let decoded = match Block::decode(bytes, self.config.edc, self.ifsd) {
            Ok(block) => {
                let nad = self.config.nad;
                let expected_nad = ((nad & 0x07) << 4) | ((nad >> 4) & 0x07) | (nad & 0x88);
                if block.nad != expected_nad {
                    Err(Fault::Nad { nad: block.nad })
                } else {
                    Ok(match block.kind {
                        BlockKind::I { ns, more, inf } => Rx::I {
                            ns,
                            more,
                            len: inf.len(),
                        },
                        BlockKind::R { nr, .. } => Rx::R { nr },
                        BlockKind::S(s) => Rx::S(s),
                    })
                }
            }
            Err(e) => Err(Fault::Invalid(e)),
        };
        match decoded {
            Ok(rx) => self.on_block(rx, bytes.get(1).copied().unwrap_or(0)),
            Err(fault) => self.recover(fault),
        }
    }

    fn on_block(&mut self, rx: Rx, pcb: u8) {
        let unexpected = Fault::Unexpected { pcb };
        // S requests from the card are answered in every phase (ISO/IEC 7816-3 §11.6.2.2).
        if let Rx::S(s) = rx {
            match s {
                SBlock::WtxRequest(0) => return self.recover(Fault::BadWtx),
                SBlock::WtxRequest(m) => {
                    self.wtx = m;
                    self.pending = Some(Tx::S(SBlock::WtxResponse(m)));
                    return;
                }
                SBlock::IfsRequest(v) => {
                    if v < self.config.min_ifsc || v > MAX_IFS {
                        return self.recover(Fault::BadIfs { value: v });
                    }
                    self.ifsc = v;
                    self.pending = Some(Tx::S(SBlock::IfsResponse(v)));
                    return;
                }
                SBlock::AbortRequest => return self.fail(T1Error::CardAbort),
                SBlock::VppError => return self.fail(T1Error::VppError),
                SBlock::ResynchRequest
                | SBlock::ResynchResponse
                | SBlock::IfsResponse(_)
                | SBlock::AbortResponse
                | SBlock::WtxResponse(_) => {}
            }
        }
        match (self.phase, rx) {
            (Phase::Ifs, Rx::S(SBlock::IfsResponse(v))) if v == self.config.ifsd => {
                self.ifsd = v;
                self.retries = 0;
                self.phase = Phase::Idle;
                self.event = Some(T1Event::IfsdNegotiated { ifsd: v });
            }
            (Phase::Resynch, Rx::S(SBlock::ResynchResponse)) => {
                self.ns = false;
                self.nr = false;
                self.ifsc = self.config.ifsc;
                self.ifsd = DEFAULT_IFSD;
                self.retries = 0;
                self.phase = Phase::Idle;
                self.event = Some(T1Event::Error(T1Error::Resynchronised));
            }
            (Phase::Send { .. }, Rx::R { nr }) if nr == self.ns => {
                self.recover(Fault::RetransmitRequest);
            }
            (
                Phase::Send {
                    offset,
                    len,
                    more: true,
                },
                Rx::R { .. },
            ) => {
                // Rule 2.2 / 5: R(N(R) = next) acknowledges the chained I-block.
                self.ns = !self.ns;
                self.retries = 0;
                self.phase = self.chunk_at(offset.saturating_add(len));
                self.pending = Some(Tx::I);
            }
            (Phase::Send { more: false, .. }, Rx::I { ns, more, len }) if ns == self.nr => {
                // The card's I-block acknowledges the terminal's last one.
                self.ns = !self.ns;
                self.resp_len = 0;
                self.accept_i(more, len);
            }
            (Phase::Receive, Rx::I { ns, more, len }) if ns == self.nr => {
                self.accept_i(more, len);
            }
            _ => self.recover(unexpected),
        }
    }

    /// An I-block with the expected N(S), INF at `rx[3..3 + len]`.
    fn accept_i(&mut self, more: bool, len: usize) {
        if more && len == 0 {
            return self.recover(Fault::EmptyChainedBlock);
        }
        let start = self.resp_len;
        let end = start.saturating_add(len);
        let (Some(dst), Some(src)) = (self.resp.get_mut(start..end), self.rx.get(3..3 + len))
        else {
            return self.fail(T1Error::ResponseTooLong);
        };
        dst.copy_from_slice(src);
        self.resp_len = end;
        self.nr = !self.nr;
        self.retries = 0;
        if more {
            self.phase = Phase::Receive;
            self.pending = Some(Tx::R(RCode::Ok));
        } else {
            self.phase = Phase::Idle;
            self.complete = true;
            self.event = Some(T1Event::Complete { len: end });
        }
    }

    /// ISO/IEC 7816-3 §11.6.3.2 rule 7: answer an invalid block, a timeout or a retransmission
    /// request, at most `max_retries` times in a row.
    fn recover(&mut self, fault: Fault) {
        let limit = if self.phase == Phase::Resynch {
            ISO_RESYNCH_ATTEMPTS.saturating_sub(1)
        } else {
            self.config.max_retries
        };
        if self.retries >= limit {
            return self.exhausted(fault);
        }
        self.retries += 1;
        self.pending = match self.phase {
            // Rule 7.3: the S(… request) is repeated.
            Phase::Ifs => Some(Tx::S(SBlock::IfsRequest(self.config.ifsd))),
            Phase::Resynch => Some(Tx::S(SBlock::ResynchRequest)),
            // Rule 7.2 (after an R-block) and 7.1 (after an I-block): R(N(R) = expected).
            Phase::Receive => Some(Tx::R(fault.r_code())),
            Phase::Send { .. } if fault == Fault::RetransmitRequest => Some(Tx::I),
            Phase::Send { .. } => Some(Tx::R(fault.r_code())),
            Phase::Idle | Phase::Dead => None,
        };
    }

    fn exhausted(&mut self, fault: Fault) {
        match self.phase {
            Phase::Resynch => self.fail(T1Error::ResynchFailed),
            Phase::Ifs | Phase::Send { .. } | Phase::Receive if self.config.resynch => {
                self.phase = Phase::Resynch;
                self.retries = 0;
                self.pending = Some(Tx::S(SBlock::ResynchRequest));
            }
            _ => self.fail(T1Error::RetriesExhausted { last: fault }),
        }
    }

    fn fail(&mut self, error: T1Error) {
        self.phase = if error.requires_deactivation() {
            Phase::Dead
        } else {
            Phase::Idle
        };
        self.pending = None;
        self.awaiting = false;
        self.complete = false;
        self.event = Some(T1Event::Error(error));
    }
}
