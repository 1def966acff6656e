//! BER-TLV tags as used by EMV (EMV Book 3 Annex B1; ISO/IEC 8825-1 §8.1.2).
//!
//! A tag is one to four bytes long. The first byte carries the class (b8–b7) and
//! the primitive/constructed flag (b6); when its low five bits are all set
//! (`1F`) further bytes follow, each with b8 set except the last. EMV itself
//! uses tags of at most three bytes (Kernel 2 uses `DF81xx`, `FF81xx`); the
//! lenient parser accepts four.

use core::fmt;

/// Longest tag the strict (EMV) parser accepts, in bytes.
pub const MAX_TAG_LEN_STRICT: usize = 3;
/// Longest tag that fits a [`Tag`] at all, in bytes.
pub const MAX_TAG_LEN: usize = 4;

/// A BER-TLV tag, stored as its encoded bytes read as a big-endian number
/// (`9F02` is `Tag::new(0x9F02)`).
///
/// The constructor does not validate the encoding; [`Tag::is_well_formed`]
/// does, and the parser only ever produces well-formed tags.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(u32);

/// Tag class, from b8–b7 of the first tag byte (ISO/IEC 8825-1 Table 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagClass {
    /// `00`: universal class.
    Universal,
    /// `01`: application class (EMV's `5x`, `6x`, `7x` tags).
    Application,
    /// `10`: context-specific class (EMV's `8x`, `9x`, `Ax`, `Bx` tags).
    ContextSpecific,
    /// `11`: private class (EMV's `Cx`–`Fx` tags, `DF81xx` kernel tags).
    Private,
}

impl Tag {
    /// The tag whose encoded bytes, read big-endian, are `raw` (`0x9F02`).
    #[must_use]
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The encoded bytes read as a big-endian number.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// Number of bytes in the encoding (1 to 4; `Tag::new(0)` counts as 1).
    #[must_use]
    pub const fn len(self) -> usize {
        if self.0 > 0xFF_FFFF {
            4
        } else if self.0 > 0xFFFF {
            3
        } else if self.0 > 0xFF {
            2
        } else {
            1
        }
    }

    /// Always false: a tag has at least one byte. Present for API symmetry.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        false
    }

    /// The encoded bytes, left-aligned in a 4-byte array; use with [`Tag::len`]
    /// or call [`Tag::write`].
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 4] {
        let len = self.len();
        (self.0 << (8 * (4 - len))).to_be_bytes()
    }

    /// Copies the encoding into the front of `out` and returns the number of
    /// bytes written, or `None` when `out` is too short.
    pub fn write(self, out: &mut [u8]) -> Option<usize> {
        let len = self.len();
        let bytes = self.to_bytes();
        out.get_mut(..len)?.copy_from_slice(bytes.get(..len)?);
        Some(len)
    }

    /// The first byte of the encoding.
    #[must_use]
    pub const fn first_byte(self) -> u8 {
        self.to_bytes()[0]
    }

    /// Byte `i` (0-based) of the encoding; 0 past the end.
    const fn byte(self, i: usize) -> u8 {
        let len = self.len();
        if i >= len {
            return 0;
        }
        (self.0 >> (8 * (len - 1 - i))) as u8
    }

    /// True when b6 of the first byte is set: the value is itself a TLV stream.
    #[must_use]
    pub const fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// The tag class (b8–b7 of the first byte).
    #[must_use]
    pub const fn class(self) -> TagClass {
        match self.first_byte() >> 6 {
            0 => TagClass::Universal,
            1 => TagClass::Application,
            2 => TagClass::ContextSpecific,
            _ => TagClass::Private,
        }
    }

    /// True when the bytes form one valid BER tag: a first byte whose low five
    /// bits are `1F` exactly when more bytes follow, each following byte with
    /// b8 set except the last, and a first following byte that is not `80`
    /// (ISO/IEC 8825-1 §8.1.2.4.2 c).
    #[must_use]
    pub const fn is_well_formed(self) -> bool {
        let len = self.len();
        let multi = self.byte(0) & 0x1F == 0x1F;
        if len == 1 {
            return !multi;
        }
        if !multi || self.byte(1) == 0x80 {
            return false;
        }
        let mut i = 1;
        while i < len {
            let more = self.byte(i) & 0x80 != 0;
            if more != (i + 1 < len) {
                return false;
            }
            i += 1;
        }
        true
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

impl fmt::Display for Tag {
    /// Upper-case hex of the encoded bytes: `9F02`, `DF8129`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.len() * 2;
        write!(f, "{:0width$X}", self.0)
    }
}

impl From<u32> for Tag {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_bytes() {
        assert_eq!(Tag::new(0x5A).len(), 1);
        assert_eq!(Tag::new(0x9F02).len(), 2);
        assert_eq!(Tag::new(0xDF8129).len(), 3);
        assert_eq!(Tag::new(0x9F02).to_bytes(), [0x9F, 0x02, 0, 0]);
        assert_eq!(Tag::new(0xDF8129).to_bytes(), [0xDF, 0x81, 0x29, 0]);
    }

    #[test]
    fn display_is_upper_hex_of_encoding() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{}", Tag::new(0x5A)), "5A");
        assert_eq!(format!("{}", Tag::new(0x9F02)), "9F02");
        assert_eq!(format!("{}", Tag::new(0x0A)), "0A");
        assert_eq!(format!("{}", Tag::new(0xFF8101)), "FF8101");
    }

    #[test]
    fn class_and_constructed() {
        assert!(Tag::new(0x70).is_constructed());
        assert!(Tag::new(0xFF8105).is_constructed());
        assert!(!Tag::new(0x9F02).is_constructed());
        assert_eq!(Tag::new(0x5A).class(), TagClass::Application);
        assert_eq!(Tag::new(0x9F02).class(), TagClass::ContextSpecific);
        assert_eq!(Tag::new(0xDF8129).class(), TagClass::Private);
        assert_eq!(Tag::new(0x02).class(), TagClass::Universal);
    }

    #[test]
    fn well_formedness() {
        assert!(Tag::new(0x5A).is_well_formed());
        assert!(Tag::new(0x9F02).is_well_formed());
        assert!(Tag::new(0xDF8129).is_well_formed());
        assert!(
            !Tag::new(0x1F).is_well_formed(),
            "1F alone announces more bytes"
        );
        assert!(!Tag::new(0x5A02).is_well_formed(), "5A is a one-byte tag");
        assert!(!Tag::new(0x9F80).is_well_formed(), "last byte has b8 set");
        assert!(!Tag::new(0x9F0281).is_well_formed(), "02 ends the tag");
        assert!(
            !Tag::new(0x9F8001).is_well_formed(),
            "first subsequent byte 80"
        );
    }
}
