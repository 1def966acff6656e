//! Errors of the PC/SC back-end, by blame: the service (pcscd), the reader, the card,
//! the caller, or the PC/SC transport itself.
//!
//! The mapping from PC/SC return codes (PC/SC Workgroup specification Part 5,
//! "ICC Resource Manager Definition", §3 return codes `SCARD_E_*`/`SCARD_W_*`) is done
//! in one place, [`PcscError::from_pcsc`], so every operation reports the same
//! situation the same way.

use std::fmt;
use std::time::Duration;

use super::ProtocolPreference;

/// Who is at fault for a [`PcscError`]: decides what the user is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The PC/SC resource manager (pcscd) is not running or went away: start it.
    Service,
    /// The reader: missing, unplugged, unknown name.
    Reader,
    /// The card: absent, removed, mute, speaking the wrong protocol, in use elsewhere.
    Card,
    /// The calling application: a timeout it chose, a buffer too small.
    Caller,
    /// Anything else the PC/SC layer reported; the original code is kept.
    Transport,
}

/// Why a PC/SC operation failed. Never constructed by a panic path: every PC/SC
/// return code maps to one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcscError {
    /// The PC/SC resource manager is not running (`SCARD_E_NO_SERVICE`) or stopped
    /// (`SCARD_E_SERVICE_STOPPED`) and re-establishing the context failed too.
    #[error(
        "the PC/SC service (pcscd) is not running: start it with `bash scripts/pcscd.sh start` \
         (or `systemctl start pcscd.socket`, or `pcscd --foreground &` as root)"
    )]
    NoService,
    /// No reader by that name; `available` lists the readers that exist.
    #[error("reader {name:?} not found; {}", ReaderList(available))]
    ReaderNotFound {
        /// The name asked for.
        name: String,
        /// The readers pcscd knows (possibly none).
        available: Vec<String>,
    },
    /// The reader disappeared while in use (unplugged, driver gone:
    /// `SCARD_E_READER_UNAVAILABLE`).
    #[error("reader {reader:?} is no longer available (unplugged?)")]
    ReaderUnavailable {
        /// The reader.
        reader: String,
    },
    /// No card in the reader (`SCARD_E_NO_SMARTCARD`) when connecting.
    #[error("no card in reader {reader:?}: insert one")]
    NoCard {
        /// The reader.
        reader: String,
    },
    /// The card was removed while connected, possibly during an exchange
    /// (`SCARD_W_REMOVED_CARD`, or a failed exchange after which the reader reports no
    /// card). The command in flight may or may not have run.
    #[error("card removed from reader {reader:?} during the session")]
    CardRemoved {
        /// The reader.
        reader: String,
    },
    /// The card is present but does not answer: no valid ATR (`SCARD_W_UNRESPONSIVE_CARD`,
    /// reader state MUTE) or no status word to a command.
    #[error("card in reader {reader:?} is mute (unresponsive): {detail}")]
    CardMute {
        /// The reader.
        reader: String,
        /// What was observed.
        detail: String,
    },
    /// The card was powered down (by [`PcscCard::power_down`](super::PcscCard::power_down)
    /// or `SCARD_W_UNPOWERED_CARD`); power it up first.
    #[error("card in reader {reader:?} is not powered: power it up first")]
    CardUnpowered {
        /// The reader.
        reader: String,
    },
    /// Another application reset the card (`SCARD_W_RESET_CARD`): the session state on
    /// the card (selected application, transaction) is lost.
    #[error("card in reader {reader:?} was reset by another application; restart the session")]
    CardReset {
        /// The reader.
        reader: String,
    },
    /// The card does not offer the protocol asked for (`SCARD_E_PROTO_MISMATCH`).
    #[error(
        "protocol mismatch in reader {reader:?}: asked for {requested}, the card (ATR {}) offers \
         something else",
        Hex(atr)
    )]
    ProtocolMismatch {
        /// The reader.
        reader: String,
        /// The protocols asked for.
        requested: ProtocolPreference,
        /// The card's ATR as the reader saw it (empty if unknown).
        atr: Vec<u8>,
    },
    /// The card's ATR breaks the EMV Level 1 rules (EMV Book 1 §8.3) after the cold reset
    /// and after the one warm reset that follows (§8.2): the terminal must not go on.
    #[error(
        "card in reader {reader:?} rejected by the EMV ATR rules: cold reset ATR {}: {cold}; \
         warm reset ATR {}: {warm}",
        Hex(cold_atr),
        Hex(warm_atr)
    )]
    AtrRejected {
        /// The reader.
        reader: String,
        /// The ATR of the cold reset.
        cold_atr: Vec<u8>,
        /// Why it was rejected.
        cold: String,
        /// The ATR of the warm reset.
        warm_atr: Vec<u8>,
        /// Why it was rejected.
        warm: String,
    },
    /// The card is in exclusive use by another application (`SCARD_E_SHARING_VIOLATION`).
    #[error("card in reader {reader:?} is in use by another application (sharing violation)")]
    CardInUse {
        /// The reader.
        reader: String,
    },
    /// A wait for a reader state change ended without the change.
    #[error("timed out after {waited:?} waiting for {what} in reader {reader:?}")]
    Timeout {
        /// The reader.
        reader: String,
        /// What was waited for ("card insertion", "card removal").
        what: &'static str,
        /// How long.
        waited: Duration,
    },
    /// The response does not fit the caller's buffer. **The command has already run on
    /// the card**; do not resend non-idempotent commands (GENERATE AC) to size a retry.
    #[error("response of {len} bytes does not fit a {capacity}-byte buffer (the command has run)")]
    ResponseTooLong {
        /// Response length.
        len: usize,
        /// Buffer length.
        capacity: usize,
    },
    /// The name given cannot be a reader name (contains a NUL byte).
    #[error("invalid reader name {name:?}: contains a NUL byte")]
    InvalidReaderName {
        /// The name.
        name: String,
    },
    /// Any other PC/SC failure, with the original code.
    #[error("PC/SC error during {operation}{}: {source} ({code:#010X})", OnReader(reader.as_deref()), code = *source as u32)]
    Transport {
        /// The operation (`"SCardTransmit"`, …).
        operation: &'static str,
        /// The reader, when the operation concerns one.
        reader: Option<String>,
        /// The PC/SC error.
        #[source]
        source: ::pcsc::Error,
    },
}

impl PcscError {
    /// Maps a PC/SC return code from `operation` on `reader` to the error by blame.
    /// `ProtoMismatch` maps to [`PcscError::ProtocolMismatch`] with no ATR;
    /// `UnknownReader` to [`PcscError::ReaderNotFound`] with no list (callers that can
    /// list the readers fill it in).
    #[must_use]
    pub fn from_pcsc(operation: &'static str, reader: Option<&str>, error: ::pcsc::Error) -> Self {
        use ::pcsc::Error as E;
        let name = || reader.unwrap_or_default().to_owned();
        match error {
            E::NoService | E::ServiceStopped => Self::NoService,
            E::UnknownReader => Self::ReaderNotFound {
                name: name(),
                available: Vec::new(),
            },
            E::ReaderUnavailable if reader.is_some() => Self::ReaderUnavailable { reader: name() },
            E::NoSmartcard if reader.is_some() => Self::NoCard { reader: name() },
            E::RemovedCard if reader.is_some() => Self::CardRemoved { reader: name() },
            E::UnresponsiveCard if reader.is_some() => Self::CardMute {
                reader: name(),
                detail: "no valid answer to reset (SCARD_W_UNRESPONSIVE_CARD)".into(),
            },
            E::UnpoweredCard if reader.is_some() => Self::CardUnpowered { reader: name() },
            E::ResetCard if reader.is_some() => Self::CardReset { reader: name() },
            E::ProtoMismatch if reader.is_some() => Self::ProtocolMismatch {
                reader: name(),
                requested: ProtocolPreference::Any,
                atr: Vec::new(),
            },
            E::SharingViolation if reader.is_some() => Self::CardInUse { reader: name() },
            source => Self::Transport {
                operation,
                reader: reader.map(str::to_owned),
                source,
            },
        }
    }

    /// Who is at fault.
    #[must_use]
    pub const fn blame(&self) -> Blame {
        match self {
            Self::NoService => Blame::Service,
            Self::ReaderNotFound { .. } | Self::ReaderUnavailable { .. } => Blame::Reader,
            Self::NoCard { .. }
            | Self::CardRemoved { .. }
            | Self::CardMute { .. }
            | Self::CardUnpowered { .. }
            | Self::CardReset { .. }
            | Self::ProtocolMismatch { .. }
            | Self::AtrRejected { .. }
            | Self::CardInUse { .. } => Blame::Card,
            Self::Timeout { .. }
            | Self::ResponseTooLong { .. }
            | Self::InvalidReaderName { .. } => Blame::Caller,
            Self::Transport { .. } => Blame::Transport,
        }
    }

    /// The underlying PC/SC error of a [`PcscError::Transport`].
    #[must_use]
    pub const fn pcsc_error(&self) -> Option<::pcsc::Error> {
        match self {
            Self::Transport { source, .. } => Some(*source),
            _ => None,
        }
    }
}

/// `readers: "a", "b"` or `no readers are connected`.
struct ReaderList<'a>(&'a [String]);

impl fmt::Display for ReaderList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no readers are connected");
        }
        f.write_str("readers: ")?;
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name:?}")?;
        }
        Ok(())
    }
}

/// ` on "reader"` or nothing.
struct OnReader<'a>(Option<&'a str>);

impl fmt::Display for OnReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(reader) => write!(f, " on {reader:?}"),
            None => Ok(()),
        }
    }
}

/// Upper-case hex without separators, `none` when empty.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("unknown");
        }
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}
