//! Terminal Type, tag `9F35` (EMV 4.4 Book 4 Annex A1, Table 25).
//!
//! One byte, format n2: the tens digit is who has operational control of the
//! terminal, the units digit its environment. Valid codes are 11–16, 21–26
//! and 34–36 (a cardholder-controlled terminal is always unattended).

use core::fmt;

use crate::wire::tag::Tag;

/// Who operates the terminal (tens digit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationalControl {
    /// `1x`: financial institution.
    FinancialInstitution,
    /// `2x`: merchant.
    Merchant,
    /// `3x`: cardholder.
    Cardholder,
}

impl OperationalControl {
    /// The tens digit (1, 2 or 3).
    #[must_use]
    pub const fn digit(self) -> u8 {
        match self {
            Self::FinancialInstitution => 1,
            Self::Merchant => 2,
            Self::Cardholder => 3,
        }
    }

    /// The operational control for tens digit `digit`.
    #[must_use]
    pub const fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            1 => Some(Self::FinancialInstitution),
            2 => Some(Self::Merchant),
            3 => Some(Self::Cardholder),
            _ => None,
        }
    }

    /// Plain-words name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::FinancialInstitution => "financial institution",
            Self::Merchant => "merchant",
            Self::Cardholder => "cardholder",
        }
    }
}

/// Where and how the terminal works (units digit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `x1`: attended, online only.
    AttendedOnlineOnly,
    /// `x2`: attended, offline with online capability.
    AttendedOfflineWithOnline,
    /// `x3`: attended, offline only.
    AttendedOfflineOnly,
    /// `x4`: unattended, online only.
    UnattendedOnlineOnly,
    /// `x5`: unattended, offline with online capability.
    UnattendedOfflineWithOnline,
    /// `x6`: unattended, offline only.
    UnattendedOfflineOnly,
}

impl Environment {
    /// The units digit (1 to 6).
    #[must_use]
    pub const fn digit(self) -> u8 {
        match self {
            Self::AttendedOnlineOnly => 1,
            Self::AttendedOfflineWithOnline => 2,
            Self::AttendedOfflineOnly => 3,
            Self::UnattendedOnlineOnly => 4,
            Self::UnattendedOfflineWithOnline => 5,
            Self::UnattendedOfflineOnly => 6,
        }
    }

    /// The environment for units digit `digit`.
    #[must_use]
    pub const fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            1 => Some(Self::AttendedOnlineOnly),
            2 => Some(Self::AttendedOfflineWithOnline),
            3 => Some(Self::AttendedOfflineOnly),
            4 => Some(Self::UnattendedOnlineOnly),
            5 => Some(Self::UnattendedOfflineWithOnline),
            6 => Some(Self::UnattendedOfflineOnly),
            _ => None,
        }
    }

    /// True for the attended environments (`x1`–`x3`).
    #[must_use]
    pub const fn is_attended(self) -> bool {
        self.digit() <= 3
    }

    /// True for the online-only environments (`x1`, `x4`).
    #[must_use]
    pub const fn is_online_only(self) -> bool {
        matches!(self, Self::AttendedOnlineOnly | Self::UnattendedOnlineOnly)
    }

    /// True for the offline-only environments (`x3`, `x6`).
    #[must_use]
    pub const fn is_offline_only(self) -> bool {
        matches!(
            self,
            Self::AttendedOfflineOnly | Self::UnattendedOfflineOnly
        )
    }

    /// Plain-words name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AttendedOnlineOnly => "attended, online only",
            Self::AttendedOfflineWithOnline => "attended, offline with online capability",
            Self::AttendedOfflineOnly => "attended, offline only",
            Self::UnattendedOnlineOnly => "unattended, online only",
            Self::UnattendedOfflineWithOnline => "unattended, offline with online capability",
            Self::UnattendedOfflineOnly => "unattended, offline only",
        }
    }
}

/// Why a Terminal Type value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminalTypeError {
    /// The value is not exactly one byte long.
    WrongLength {
        /// The length received.
        len: usize,
    },
    /// The byte is not one of the valid codes 11–16, 21–26, 34–36 (shown in
    /// hexadecimal: `0x22` is code 22).
    InvalidCode(u8),
}

impl fmt::Display for TerminalTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::WrongLength { len } => write!(f, "expected 1 byte, got {len}"),
            Self::InvalidCode(b) => write!(
                f,
                "invalid terminal type {b:02X} (valid: 11-16, 21-26, 34-36)"
            ),
        }
    }
}

impl core::error::Error for TerminalTypeError {}

/// Terminal Type (`9F35`): operational control and environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TerminalType {
    control: OperationalControl,
    environment: Environment,
}

impl TerminalType {
    /// The element's tag, `9F35`.
    pub const TAG: Tag = Tag::new(0x9F35);

    /// The terminal type for `control` and `environment`; fails for the
    /// combinations the book does not define (cardholder-controlled and
    /// attended, codes 31–33).
    pub const fn new(
        control: OperationalControl,
        environment: Environment,
    ) -> Result<Self, TerminalTypeError> {
        let t = Self {
            control,
            environment,
        };
        if matches!(control, OperationalControl::Cardholder) && environment.is_attended() {
            Err(TerminalTypeError::InvalidCode(t.to_byte()))
        } else {
            Ok(t)
        }
    }

    /// Decodes the byte (BCD: `0x22` is code 22).
    pub const fn from_byte(byte: u8) -> Result<Self, TerminalTypeError> {
        let (Some(control), Some(environment)) = (
            OperationalControl::from_digit(byte >> 4),
            Environment::from_digit(byte & 0x0F),
        ) else {
            return Err(TerminalTypeError::InvalidCode(byte));
        };
        Self::new(control, environment)
    }

    /// Decodes a value, which must be exactly one byte long.
    pub fn from_bytes(value: &[u8]) -> Result<Self, TerminalTypeError> {
        match value {
            [b] => Self::from_byte(*b),
            _ => Err(TerminalTypeError::WrongLength { len: value.len() }),
        }
    }

    /// The encoded byte (BCD, e.g. `0x22`).
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        (self.control.digit() << 4) | self.environment.digit()
    }

    /// The code as a decimal number (22 for `0x22`).
    #[must_use]
    pub const fn code(self) -> u8 {
        self.control.digit() * 10 + self.environment.digit()
    }

    /// Who operates the terminal.
    #[must_use]
    pub const fn operational_control(self) -> OperationalControl {
        self.control
    }

    /// The terminal's environment.
    #[must_use]
    pub const fn environment(self) -> Environment {
        self.environment
    }

    /// Attended terminal (`x1`–`x3`).
    #[must_use]
    pub const fn is_attended(self) -> bool {
        self.environment.is_attended()
    }

    /// Unattended terminal (`x4`–`x6`).
    #[must_use]
    pub const fn is_unattended(self) -> bool {
        !self.environment.is_attended()
    }

    /// Offline-only terminal (`x3`, `x6`).
    #[must_use]
    pub const fn is_offline_only(self) -> bool {
        self.environment.is_offline_only()
    }

    /// Online-only terminal (`x1`, `x4`).
    #[must_use]
    pub const fn is_online_only(self) -> bool {
        self.environment.is_online_only()
    }

    /// The terminal can go online (online only, or offline with online
    /// capability).
    #[must_use]
    pub const fn has_online_capability(self) -> bool {
        !self.environment.is_offline_only()
    }
}

impl fmt::Display for TerminalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02X}: {}, {}",
            self.to_byte(),
            self.control.name(),
            self.environment.name()
        )
    }
}

impl TryFrom<u8> for TerminalType {
    type Error = TerminalTypeError;

    fn try_from(byte: u8) -> Result<Self, Self::Error> {
        Self::from_byte(byte)
    }
}

impl From<TerminalType> for u8 {
    fn from(t: TerminalType) -> Self {
        t.to_byte()
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use std::format;

    use super::*;
    use proptest::prelude::*;

    const VALID: [u8; 15] = [
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x34, 0x35, 0x36,
    ];

    #[test]
    fn merchant_attended_offline_with_online() {
        let t = TerminalType::from_bytes(&[0x22]).unwrap();
        assert_eq!(t.operational_control(), OperationalControl::Merchant);
        assert_eq!(t.environment(), Environment::AttendedOfflineWithOnline);
        assert!(t.is_attended());
        assert!(!t.is_unattended());
        assert!(!t.is_offline_only());
        assert!(!t.is_online_only());
        assert!(t.has_online_capability());
        assert_eq!(t.code(), 22);
        assert_eq!(t.to_byte(), 0x22);
        assert_eq!(
            format!("{t}"),
            "22: merchant, attended, offline with online capability"
        );
    }

    #[test]
    fn atm_and_cardholder_terminals() {
        let atm = TerminalType::from_byte(0x14).unwrap();
        assert_eq!(
            atm.operational_control(),
            OperationalControl::FinancialInstitution
        );
        assert!(atm.is_unattended());
        assert!(atm.is_online_only());
        let home = TerminalType::from_byte(0x36).unwrap();
        assert_eq!(home.operational_control(), OperationalControl::Cardholder);
        assert!(home.is_offline_only());
        assert!(!home.has_online_capability());
    }

    #[test]
    fn exactly_the_valid_codes_decode() {
        for b in 0..=u8::MAX {
            let ok = TerminalType::from_byte(b).is_ok();
            assert_eq!(ok, VALID.contains(&b), "{b:02X}");
        }
        for b in VALID {
            assert_eq!(TerminalType::from_byte(b).unwrap().to_byte(), b);
        }
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(
            TerminalType::from_byte(0x31),
            Err(TerminalTypeError::InvalidCode(0x31))
        );
        assert_eq!(
            TerminalType::from_byte(0x1A),
            Err(TerminalTypeError::InvalidCode(0x1A))
        );
        assert_eq!(
            TerminalType::from_bytes(&[]),
            Err(TerminalTypeError::WrongLength { len: 0 })
        );
        assert_eq!(
            TerminalType::from_bytes(&[0x22, 0x00]),
            Err(TerminalTypeError::WrongLength { len: 2 })
        );
        assert_eq!(
            TerminalType::new(
                OperationalControl::Cardholder,
                Environment::AttendedOnlineOnly
            ),
            Err(TerminalTypeError::InvalidCode(0x31))
        );
        assert_eq!(
            format!("{}", TerminalTypeError::InvalidCode(0x47)),
            "invalid terminal type 47 (valid: 11-16, 21-26, 34-36)"
        );
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..3)) {
            if let Ok(t) = TerminalType::from_bytes(&bytes) {
                prop_assert_eq!(bytes.len(), 1);
                prop_assert_eq!(&[t.to_byte()][..], &bytes[..]);
                prop_assert_eq!(t.is_attended(), !t.is_unattended());
            }
        }
    }
}
