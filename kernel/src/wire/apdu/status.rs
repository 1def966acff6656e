//! Status words (ISO/IEC 7816-4 §5.1.3 Tables 5 and 6; EMV Book 3 §6.3.5
//! and the per-command status words of §6.5; EMV Book 1 §11.1.3 for the
//! `61xx`/`6Cxx` procedure of the transport layer).

use core::fmt;

/// The two status bytes SW1 SW2 ending every R-APDU.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusWord(u16);

/// Broad class of a status word (ISO/IEC 7816-4 Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    /// `9000`, and `61xx` (more data available).
    Success,
    /// `62xx`, `63xx`: processed with a warning; the card state may have
    /// changed (`63xx`).
    Warning,
    /// `64xx`–`6Fxx`: execution or checking error.
    Error,
    /// Anything else (`9xxx` other than `9000`: proprietary).
    Proprietary,
}

impl StatusWord {
    /// `9000`: normal processing.
    pub const SUCCESS: Self = Self(0x9000);
    /// `6283`: selected file invalidated (EMV: application blocked, Book 1 §12.3.2).
    pub const SELECTED_FILE_INVALIDATED: Self = Self(0x6283);
    /// `6700`: wrong length.
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `6983`: authentication method blocked (EMV: PIN try limit exceeded).
    pub const AUTHENTICATION_METHOD_BLOCKED: Self = Self(0x6983);
    /// `6984`: referenced data invalidated.
    pub const REFERENCED_DATA_INVALIDATED: Self = Self(0x6984);
    /// `6985`: conditions of use not satisfied (EMV: GPO rejects the
    /// transaction; return to application selection, Book 3 §10.1).
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    /// `6A81`: function not supported (EMV: card blocked, Book 1 §12.3.2).
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    /// `6A82`: file or application not found.
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    /// `6A83`: record not found.
    pub const RECORD_NOT_FOUND: Self = Self(0x6A83);
    /// `6A88`: referenced data (data object) not found.
    pub const DATA_NOT_FOUND: Self = Self(0x6A88);
    /// `6D00`: instruction not supported.
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E00`: class not supported.
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);

    /// The status word `sw` (`0x9000`).
    #[must_use]
    pub const fn new(sw: u16) -> Self {
        Self(sw)
    }

    /// The status word from its two bytes.
    #[must_use]
    pub const fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self(u16::from_be_bytes([sw1, sw2]))
    }

    /// The value as a number (`0x9000`).
    #[must_use]
    pub const fn value(self) -> u16 {
        self.0
    }

    /// SW1.
    #[must_use]
    pub const fn sw1(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    /// SW2.
    #[must_use]
    pub const fn sw2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    /// SW1 SW2 as bytes.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// True for `9000` only.
    #[must_use]
    pub const fn is_success(self) -> bool {
        self.0 == 0x9000
    }

    /// True for `62xx` and `63xx`, which EMV treats like `9000` for SELECT
    /// and READ RECORD in some cases (Book 1 §12.3.2 for `6283`).
    #[must_use]
    pub const fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }

    /// The class of this status word.
    #[must_use]
    pub const fn class(self) -> StatusClass {
        match self.sw1() {
            0x90 if self.sw2() == 0x00 => StatusClass::Success,
            0x61 => StatusClass::Success,
            0x62 | 0x63 => StatusClass::Warning,
            0x64..=0x6F => StatusClass::Error,
            _ => StatusClass::Proprietary,
        }
    }

    /// For `61xx`: the number of response bytes still available, which the
    /// transport layer fetches with GET RESPONSE (EMV Book 1 §11.1.3).
    /// `6100` means 256.
    #[must_use]
    pub const fn bytes_available(self) -> Option<usize> {
        if self.sw1() == 0x61 {
            Some(if self.sw2() == 0 {
                256
            } else {
                self.sw2() as usize
            })
        } else {
            None
        }
    }

    /// For `6Cxx`: the exact Le with which to resend the command (EMV Book 1
    /// §11.1.3). `6C00` means 256.
    #[must_use]
    pub const fn correct_le(self) -> Option<usize> {
        if self.sw1() == 0x6C {
            Some(if self.sw2() == 0 {
                256
            } else {
                self.sw2() as usize
            })
        } else {
            None
        }
    }

    /// For `63Cx`: the value of the counter, for VERIFY the PIN tries left
    /// (EMV Book 3 §6.5.12).
    #[must_use]
    pub const fn counter(self) -> Option<u8> {
        if self.sw1() == 0x63 && self.sw2() & 0xF0 == 0xC0 {
            Some(self.sw2() & 0x0F)
        } else {
            None
        }
    }

    /// What the status word means, per ISO/IEC 7816-4 and EMV. Families with
    /// a variable byte (`61xx`, `63Cx`, `6Cxx`) give the family's meaning;
    /// `Display` adds the number.
    #[must_use]
    pub const fn meaning(self) -> &'static str {
        match self.0 {
            0x9000 => "Normal processing",
            0x6200 => "Warning: no information given, state unchanged",
            0x6281 => "Warning: part of returned data may be corrupted",
            0x6282 => "Warning: end of file or record reached before reading Ne bytes",
            0x6283 => "Warning: selected file invalidated (application blocked)",
            0x6284 => "Warning: FCI not formatted according to ISO/IEC 7816-4",
            0x6285 => "Warning: selected file in termination state",
            0x6300 => "Warning: state changed, no information given (authentication failed)",
            0x6381 => "Warning: file filled up by the last write",
            0x6400 => "Execution error: state of non-volatile memory unchanged",
            0x6500 => "Execution error: state of non-volatile memory changed",
            0x6581 => "Execution error: memory failure",
            0x6700 => "Wrong length",
            0x6800 => "Functions in CLA not supported",
            0x6881 => "Logical channel not supported",
            0x6882 => "Secure messaging not supported",
            0x6883 => "Last command of the chain expected",
            0x6884 => "Command chaining not supported",
            0x6900 => "Command not allowed",
            0x6981 => "Command incompatible with file structure",
            0x6982 => "Security status not satisfied",
            0x6983 => "Authentication method blocked (PIN try limit exceeded)",
            0x6984 => "Referenced data invalidated",
            0x6985 => "Conditions of use not satisfied",
            0x6986 => "Command not allowed: no current EF",
            0x6987 => "Expected secure messaging data objects missing",
            0x6988 => "Incorrect secure messaging data objects",
            0x6A00 => "Wrong parameters P1-P2",
            0x6A80 => "Incorrect parameters in the command data field",
            0x6A81 => "Function not supported (card blocked)",
            0x6A82 => "File or application not found",
            0x6A83 => "Record not found",
            0x6A84 => "Not enough memory space in the file",
            0x6A85 => "Nc inconsistent with TLV structure",
            0x6A86 => "Incorrect parameters P1-P2",
            0x6A87 => "Nc inconsistent with parameters P1-P2",
            0x6A88 => "Referenced data or reference data not found",
            0x6A89 => "File already exists",
            0x6A8A => "DF name already exists",
            0x6B00 => "Wrong parameters P1-P2",
            0x6D00 => "Instruction code not supported or invalid",
            0x6E00 => "Class not supported",
            0x6F00 => "No precise diagnosis",
            _ => match self.sw1() {
                0x61 => "Response bytes still available (GET RESPONSE)",
                0x62 => "Warning: state of non-volatile memory unchanged",
                0x63 if self.sw2() & 0xF0 == 0xC0 => {
                    "Verification failed: counter gives tries left"
                }
                0x63 => "Warning: state of non-volatile memory changed",
                0x64 => "Execution error: state of non-volatile memory unchanged",
                0x65 => "Execution error: state of non-volatile memory changed",
                0x66 => "Security-related issue",
                0x67 => "Wrong length",
                0x68 => "Functions in CLA not supported",
                0x69 => "Command not allowed",
                0x6A => "Wrong parameters P1-P2",
                0x6C => "Wrong Le field: resend with the exact length",
                0x6D => "Instruction code not supported or invalid",
                0x6E => "Class not supported",
                0x6F => "No precise diagnosis",
                0x90..=0x9F => "Proprietary status",
                _ => "Unknown status word",
            },
        }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

impl fmt::Display for StatusWord {
    /// `6A82: File or application not found`; with the count for
    /// `61xx`, `63Cx` and `6Cxx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}: {}", self.0, self.meaning())?;
        if let Some(n) = self.bytes_available() {
            write!(f, " ({n} bytes)")?;
        } else if let Some(n) = self.correct_le() {
            write!(f, " (Le = {n})")?;
        } else if let Some(n) = self.counter() {
            write!(f, " ({n} tries left)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

    #[test]
    fn families() {
        assert_eq!(StatusWord::new(0x6110).bytes_available(), Some(16));
        assert_eq!(StatusWord::new(0x6100).bytes_available(), Some(256));
        assert_eq!(StatusWord::new(0x6C1A).correct_le(), Some(26));
        assert_eq!(StatusWord::new(0x63C2).counter(), Some(2));
        assert_eq!(StatusWord::new(0x6300).counter(), None);
        assert_eq!(StatusWord::new(0x9000).correct_le(), None);
    }

    #[test]
    fn classes() {
        assert_eq!(StatusWord::SUCCESS.class(), StatusClass::Success);
        assert_eq!(StatusWord::new(0x6110).class(), StatusClass::Success);
        assert_eq!(StatusWord::new(0x6283).class(), StatusClass::Warning);
        assert_eq!(StatusWord::new(0x6A82).class(), StatusClass::Error);
        assert_eq!(StatusWord::new(0x9001).class(), StatusClass::Proprietary);
        assert!(StatusWord::new(0x63C1).is_warning());
        assert!(!StatusWord::new(0x6985).is_warning());
    }

    #[test]
    fn display() {
        assert_eq!(
            format!("{}", StatusWord::new(0x6A82)),
            "6A82: File or application not found"
        );
        assert_eq!(
            format!("{}", StatusWord::new(0x63C1)),
            "63C1: Verification failed: counter gives tries left (1 tries left)"
        );
        assert_eq!(
            format!("{}", StatusWord::new(0x6C10)),
            "6C10: Wrong Le field: resend with the exact length (Le = 16)"
        );
        assert_eq!(format!("{:?}", StatusWord::new(0x9000)), "StatusWord(9000)");
        assert_eq!(
            StatusWord::from_bytes(0x69, 0x85),
            StatusWord::CONDITIONS_NOT_SATISFIED
        );
        assert_eq!(
            StatusWord::CONDITIONS_NOT_SATISFIED.to_bytes(),
            [0x69, 0x85]
        );
    }
}
