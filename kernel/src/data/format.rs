//! Data element formats (EMV Book 3 §4.3 "Data Element Format Conventions").

use core::fmt;

/// The format of a data element's value, as the data dictionary gives it.
///
/// The format decides how a value is padded or truncated when it is placed
/// in DOL-related data (EMV Book 3 §5.4) and how it is shown to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `a`: alphabetic (a–z, A–Z), one character per byte.
    A,
    /// `an`: alphanumeric, one character per byte.
    An,
    /// `ans`: alphanumeric and special characters (ISO/IEC 8859 common set).
    Ans,
    /// `b`: binary, bit fields or unsigned numbers, big-endian.
    B,
    /// `cn`: compressed numeric: BCD digits, left-justified, padded on the
    /// right with `F` nibbles.
    Cn,
    /// `n`: numeric: BCD digits, right-justified, padded on the left with
    /// `0` nibbles.
    N,
    /// `var.`: variable; templates and elements of mixed content.
    Var,
}

impl Format {
    /// The abbreviation used in the EMV books: `a`, `an`, `ans`, `b`, `cn`,
    /// `n`, `var`.
    #[must_use]
    pub const fn abbreviation(self) -> &'static str {
        match self {
            Self::A => "a",
            Self::An => "an",
            Self::Ans => "ans",
            Self::B => "b",
            Self::Cn => "cn",
            Self::N => "n",
            Self::Var => "var",
        }
    }

    /// True for formats whose value reads as text (`a`, `an`, `ans`).
    #[must_use]
    pub const fn is_text(self) -> bool {
        matches!(self, Self::A | Self::An | Self::Ans)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}
