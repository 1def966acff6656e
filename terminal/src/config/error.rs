//! Configuration errors: every one names the file, the line and the field
//! at fault (`docs/terminal-config.md`, "Errors").

use std::fmt;

/// A terminal configuration that could not be loaded: where, and what was
/// wrong.
///
/// Displays as `FILE:LINE: field FIELD: MESSAGE`, e.g.
/// `shop.toml:12: field capk[F000000999:01].checksum: CAPK F000000999/01: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", location(.file, .line, .field))]
pub struct ConfigError {
    /// The file at fault: its path, or `builtin:NAME` for a compiled-in
    /// configuration.
    pub file: String,
    /// The 1-based line that set the offending value (or the table header
    /// for a missing field), when known.
    pub line: Option<usize>,
    /// The field as a dotted path, array entries named by their key:
    /// `terminal.country_code`, `aid[F0000009991010].floor_limit`,
    /// `capk[A000000003:94].checksum`, `exception_file.pans[2]`. Empty for
    /// whole-file problems.
    pub field: String,
    /// What was wrong.
    pub kind: ConfigErrorKind,
}

/// The `FILE:LINE: field FIELD: ` prefix of a [`ConfigError`].
fn location<'a>(file: &'a str, line: &Option<usize>, field: &'a str) -> Location<'a> {
    Location {
        file,
        line: *line,
        field,
    }
}

/// `FILE:LINE: field FIELD: ` prefix of a [`ConfigError`].
struct Location<'a> {
    file: &'a str,
    line: Option<usize>,
    field: &'a str,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        f.write_str(": ")
    }
}

/// What was wrong with a configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// The text is not valid TOML.
    #[error("TOML syntax: {0}")]
    Syntax(String),
    /// A key the format does not define (often a typo).
    #[error("unknown field, expected one of: {}", .expected.join(", "))]
    UnknownField {
        /// The keys allowed at this place.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    #[error("missing field")]
    MissingField,
    /// The value has the wrong TOML type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the field takes.
        expected: &'static str,
        /// The TOML type given.
        found: &'static str,
    },
    /// Not a string of hexadecimal digit pairs.
    #[error("not hex: {0}")]
    InvalidHex(String),
    /// Not a string of decimal digits, or the wrong number of them.
    #[error("{0}")]
    InvalidDigits(String),
    /// Characters outside the data element's character set.
    #[error("{0}")]
    InvalidText(String),
    /// The value has the wrong length.
    #[error("wrong length: {actual} bytes, expected {expected}")]
    WrongLength {
        /// The lengths allowed, e.g. `5 bytes` or `5 to 16 bytes`.
        expected: String,
        /// The length given.
        actual: usize,
    },
    /// Terminal Type (`9F35`) is not a code of EMV Book 4 Annex A1.
    #[error("invalid terminal type {0:02X} (valid: 11-16, 21-26, 34-36; EMV Book 4 Annex A1)")]
    InvalidTerminalType(u8),
    /// A bit the data element reserves for future use is set.
    #[error("{element}: RFU bit set: {bit}")]
    RfuBitSet {
        /// The element's name.
        element: &'static str,
        /// The bit, e.g. `byte 1 bit 5`.
        bit: String,
    },
    /// An amount that is not a decimal with the currency's exponent, or too
    /// large.
    #[error("{0}")]
    InvalidAmount(String),
    /// A number or setting outside its allowed range, or settings that
    /// contradict each other.
    #[error("{0}")]
    OutOfRange(String),
    /// A malformed Data Object List.
    #[error("invalid DOL: {0}")]
    InvalidDol(String),
    /// A malformed or impossible date.
    #[error("invalid date: {0}")]
    InvalidDate(String),
    /// A CA public key whose check sum does not match its data (EMV Book 2
    /// §11.2).
    #[error(
        "CAPK {}/{index:02X}: checksum {} does not match SHA-1(RID || index || modulus || exponent) = {}",
        hex::encode_upper(.rid), hex::encode_upper(.given), hex::encode_upper(.computed)
    )]
    ChecksumMismatch {
        /// The key's RID.
        rid: [u8; 5],
        /// The key's index.
        index: u8,
        /// The check sum the file gives.
        given: [u8; 20],
        /// The check sum of the key data.
        computed: [u8; 20],
    },
    /// A CA public key modulus the terminal must not accept.
    #[error("CAPK {}/{index:02X}: invalid modulus: {reason}", hex::encode_upper(.rid))]
    InvalidModulus {
        /// The key's RID.
        rid: [u8; 5],
        /// The key's index.
        index: u8,
        /// Why it was rejected.
        reason: String,
    },
    /// A CA public key exponent other than 3 and 65537.
    #[error(
        "CAPK {}/{index:02X}: exponent {exponent} not allowed (only 03 and 010001)",
        hex::encode_upper(.rid)
    )]
    UnsupportedExponent {
        /// The key's RID.
        rid: [u8; 5],
        /// The key's index.
        index: u8,
        /// The exponent given, hex.
        exponent: String,
    },
    /// The same entry twice (AID, CAPK, revoked certificate, exception file
    /// PAN).
    #[error("duplicate {0}")]
    Duplicate(String),
    /// `remove = true` for an entry the base configuration does not have.
    #[error("remove = true, but no base configuration has this entry")]
    NothingToRemove,
    /// An `extends` chain that cannot be resolved.
    #[error("{0}")]
    Extends(String),
}
