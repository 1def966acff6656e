//! `emv decode`: explain TLV streams, R-APDUs, C-APDUs, DOLs and ATRs as
//! indented text or as JSON.
//!
//! Every function here returns `Err(DecodeError)` for malformed input; the
//! message names the byte offset and what was wrong, and the binary prints it
//! on one line and exits with status 2.

pub mod atr;
pub mod capdu;
pub mod dol;
pub mod rapdu;
pub mod tree;

use std::fmt;

/// A decode failure: what input was being read and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// An error with the given message.
    pub fn new(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

/// The printable ASCII rendering of `bytes`, or `None` when any byte is not
/// printable (so binary values are not shown as text).
pub fn printable(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty() && bytes.iter().all(|b| (0x20..0x7F).contains(b)))
        .then(|| bytes.iter().map(|&b| char::from(b)).collect())
}
