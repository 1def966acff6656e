//! The PC/SC back-end: card readers through the platform's PC/SC resource manager
//! (pcsc-lite's `pcscd` on Linux, WinSCard on Windows, the PCSC framework on macOS),
//! using the `pcsc` crate.
//!
//! # What is what
//!
//! * [`PcscReaders`] wraps a resource-manager context (`SCardEstablishContext`, PC/SC
//!   Workgroup specification Part 5 §3.1): it lists the readers with their state and the
//!   ATR of the card in each (`SCardListReaders`, `SCardGetStatusChange`), waits for a card
//!   to be inserted or removed, and connects. When `pcscd` is restarted, a context keeps
//!   answering `SCARD_E_NO_SERVICE` forever (bluetech/pcsc-rust#21); [`PcscReaders`]
//!   re-establishes it transparently and retries the operation once.
//! * [`PcscCard`] is a connected card (`SCardConnect`, Part 5 §3.1.4) with T=0 or T=1
//!   (ISO/IEC 7816-3 §10 and §11), shared or exclusive. It implements
//!   [`CardChannel`](emv_hal::channel::CardChannel) — one `SCardTransmit` per exchange —
//!   and offers power up (cold reset), warm reset and power down through
//!   `SCardReconnect`/`SCardDisconnect` dispositions.
//! * [`PcscError`] says who is to blame ([`Blame`]) and what to do.
//!
//! # T=0 procedure bytes: `61xx` and `6Cxx`
//!
//! A PC/SC reader maps the C-APDU to T=0 TPDUs or T=1 blocks itself (ISO/IEC 7816-3
//! §12), but pcsc-lite hands the T=0 status words `61xx` (response bytes still available,
//! ISO/IEC 7816-4 §5.1.3) and `6Cxx` (wrong Le) to the application unchanged. This
//! back-end **does not hide them**: [`PcscCard::transmit`] returns exactly what the reader
//! returned. The terminal transport layer of EMV Book 1 §11.1.3 — GET RESPONSE after
//! `61xx`, the command again with Le = `xx` after `6Cxx` — is the caller's job;
//! `emv_terminal::driver::run` does it for every [`CardChannel`](emv_hal::channel::CardChannel).
//!
//! # Buffers
//!
//! Every exchange receives into a [`::pcsc::MAX_BUFFER_SIZE_EXTENDED`] buffer, so
//! `SCARD_E_INSUFFICIENT_BUFFER` (which pcsc-lite reports *after* the command ran) never
//! happens at the PC/SC level; a response larger than the caller's buffer is
//! [`PcscError::ResponseTooLong`].
//!
//! # Traps avoided
//!
//! * `SCardListReaders` answers `SCARD_E_NO_READERS_AVAILABLE` on some pcsc-lite versions
//!   and an empty list on others: both are "no readers".
//! * `ShareMode::Direct` has no active protocol and the `pcsc` crate panics when
//!   transmitting on it; [`Sharing`] does not offer it.
//! * A card removed in the middle of a command can surface as an empty response or as
//!   `SCARD_E_NOT_TRANSACTED` before `pcscd` notices the removal (vsmartcard's vpcd does
//!   this); the back-end then asks the reader for its state, giving `pcscd` up to
//!   [`REMOVAL_SETTLE`] to notice, and reports [`PcscError::CardRemoved`] if the card is
//!   gone.

mod card;
mod context;
mod error;

use std::fmt;
use std::time::Duration;

pub use card::{PcscCard, PcscTransaction, ResetKind};
pub use context::PcscReaders;
pub use error::{Blame, PcscError};

/// What happens to the card when a connection ends (`SCARD_LEAVE_CARD`,
/// `SCARD_RESET_CARD`, `SCARD_UNPOWER_CARD`, `SCARD_EJECT_CARD`), for
/// [`PcscCard::disconnect`].
pub use ::pcsc::Disposition;

/// The ISO/IEC 7816-3 transmission protocols a card may be connected with.
pub use emv_hal::atr::EmvProtocol as Protocol;

/// How long, after an ambiguous exchange failure, the back-end waits for the reader to
/// report the card's removal before calling the card mute (pcscd polls presence about
/// every 400 ms).
pub const REMOVAL_SETTLE: Duration = Duration::from_millis(1200);

/// Longest single `SCardGetStatusChange` wait; longer waits are done in slices so a
/// restarted pcscd is noticed.
pub(crate) const WAIT_SLICE: Duration = Duration::from_millis(500);

/// Whether other applications may use the card while it is connected
/// (`SCARD_SHARE_SHARED` / `SCARD_SHARE_EXCLUSIVE`, PC/SC Part 5 §3.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sharing {
    /// Other applications may connect too; wrap multi-command sequences in
    /// [`PcscCard::transaction`].
    #[default]
    Shared,
    /// No other application may connect while this connection lasts.
    Exclusive,
}

impl Sharing {
    pub(crate) const fn to_pcsc(self) -> ::pcsc::ShareMode {
        match self {
            Self::Shared => ::pcsc::ShareMode::Shared,
            Self::Exclusive => ::pcsc::ShareMode::Exclusive,
        }
    }
}

/// The protocols acceptable when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolPreference {
    /// T=0 only.
    T0,
    /// T=1 only.
    T1,
    /// Whichever the card and reader agree on (the first one the ATR offers, for an EMV
    /// card).
    #[default]
    Any,
}

impl ProtocolPreference {
    pub(crate) const fn to_pcsc(self) -> ::pcsc::Protocols {
        match self {
            Self::T0 => ::pcsc::Protocols::T0,
            Self::T1 => ::pcsc::Protocols::T1,
            Self::Any => ::pcsc::Protocols::T0.union(::pcsc::Protocols::T1),
        }
    }
}

impl fmt::Display for ProtocolPreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::T0 => "T=0",
            Self::T1 => "T=1",
            Self::Any => "T=0 or T=1",
        })
    }
}

/// How to connect to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConnectOptions {
    /// Shared or exclusive access.
    pub sharing: Sharing,
    /// Acceptable protocols.
    pub protocols: ProtocolPreference,
}

/// What a reader's slot holds, from its `SCardGetStatusChange` event state (PC/SC Part 5
/// §3.1.3, `SCARD_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardState {
    /// No card (`SCARD_STATE_EMPTY`).
    Absent,
    /// A card, not connected by any application (`SCARD_STATE_PRESENT`).
    Present,
    /// A card, connected by at least one application in shared mode (`SCARD_STATE_INUSE`).
    InUse,
    /// A card, connected by an application in exclusive mode (`SCARD_STATE_EXCLUSIVE`).
    Exclusive,
    /// A card that did not answer the reset (`SCARD_STATE_MUTE`).
    Mute,
    /// The reader cannot report its state (`SCARD_STATE_UNAVAILABLE`, e.g. its driver is
    /// busy or gone).
    Unavailable,
    /// Anything else (`SCARD_STATE_UNKNOWN` or no flag set).
    Unknown,
}

impl CardState {
    /// Classifies a PC/SC event state. Flags are checked from the most specific.
    #[must_use]
    pub fn from_pcsc(state: ::pcsc::State) -> Self {
        use ::pcsc::State as S;
        if state.contains(S::UNKNOWN) {
            Self::Unknown
        } else if state.contains(S::UNAVAILABLE) {
            Self::Unavailable
        } else if state.contains(S::EMPTY) {
            Self::Absent
        } else if state.contains(S::MUTE) {
            Self::Mute
        } else if state.contains(S::EXCLUSIVE) {
            Self::Exclusive
        } else if state.contains(S::INUSE) {
            Self::InUse
        } else if state.contains(S::PRESENT) {
            Self::Present
        } else {
            Self::Unknown
        }
    }

    /// Whether a card sits in the slot (answering or not).
    #[must_use]
    pub const fn has_card(self) -> bool {
        matches!(
            self,
            Self::Present | Self::InUse | Self::Exclusive | Self::Mute
        )
    }

    /// Whether a responsive card sits in the slot (it may still be in exclusive use).
    #[must_use]
    pub const fn has_responsive_card(self) -> bool {
        matches!(self, Self::Present | Self::InUse | Self::Exclusive)
    }

    /// A short name: `absent`, `present`, `in use`, `exclusive`, `mute`, `unavailable`,
    /// `unknown`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Present => "present",
            Self::InUse => "in use",
            Self::Exclusive => "exclusive",
            Self::Mute => "mute",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for CardState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reader as [`PcscReaders::list`] sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReaderInfo {
    /// The reader's name as PC/SC reports it (pcsc-lite: `"<friendly name> <index> <slot>"`,
    /// e.g. `"Virtual PCD 00 00"`).
    pub name: String,
    /// What the slot holds.
    pub state: CardState,
    /// The ATR of the card in the slot (empty when there is none or it is mute).
    pub atr: Vec<u8>,
}
