//! EMV dates in format n 6, `YYMMDD` (Application Effective Date `5F25`,
//! Application Expiration Date `5F24`, Transaction Date `9A`; Book 3
//! Annex A), as compared by Processing Restrictions (Book 3 §10.4.3).
//!
//! **\[M\]** The two-digit year rule: `YY` below [`TWO_DIGIT_YEAR_PIVOT`]
//! (50) is `20YY`, otherwise `19YY` (Book 4 annex, not confirmed in the
//! licensed text). A date must be BCD, month 01–12 and the day must exist in
//! that month (leap years counted); anything else is a [`DateError`].

use core::fmt;

/// **\[M\]** Years `00`–`49` are 2000–2049, `50`–`99` are 1950–1999.
pub const TWO_DIGIT_YEAR_PIVOT: u8 = 50;

/// Why three bytes are not a valid date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not exactly 3 bytes.
    WrongLength {
        /// The length received.
        len: usize,
    },
    /// A nibble above 9.
    NotBcd,
    /// Month outside 01–12.
    Month(u8),
    /// Day 00 or past the end of the month.
    Day(u8),
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::WrongLength { len } => write!(f, "a date is 3 bytes, got {len}"),
            Self::NotBcd => f.write_str("date is not BCD"),
            Self::Month(m) => write!(f, "invalid month {m}"),
            Self::Day(d) => write!(f, "invalid day {d}"),
        }
    }
}

impl core::error::Error for DateError {}

/// A valid calendar date; ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmvDate {
    year: u16,
    month: u8,
    day: u8,
}

/// Decodes one BCD byte to 0–99.
fn bcd(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then_some(hi * 10 + lo)
}

/// Days in `month` (1–12) of `year`; 0 for another month.
const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

impl EmvDate {
    /// A date from its parts, checked.
    pub const fn new(year: u16, month: u8, day: u8) -> Result<Self, DateError> {
        if month < 1 || month > 12 {
            return Err(DateError::Month(month));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(DateError::Day(day));
        }
        Ok(Self { year, month, day })
    }

    /// Decodes `YYMMDD` (n 6, BCD) with the two-digit year rule.
    pub fn from_bcd(bytes: [u8; 3]) -> Result<Self, DateError> {
        let [y, m, d] = bytes;
        let (Some(yy), Some(mm), Some(dd)) = (bcd(y), bcd(m), bcd(d)) else {
            return Err(DateError::NotBcd);
        };
        let century: u16 = if yy < TWO_DIGIT_YEAR_PIVOT {
            2000
        } else {
            1900
        };
        Self::new(century + u16::from(yy), mm, dd)
    }

    /// Decodes a 3-byte value.
    pub fn from_bytes(value: &[u8]) -> Result<Self, DateError> {
        <[u8; 3]>::try_from(value)
            .map_err(|_| DateError::WrongLength { len: value.len() })
            .and_then(Self::from_bcd)
    }

    /// The four-digit year.
    #[must_use]
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    #[must_use]
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    #[must_use]
    pub const fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for EmvDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
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

    #[test]
    fn two_digit_year_rule() {
        assert_eq!(EmvDate::from_bcd([0x49, 0x12, 0x31]).unwrap().year(), 2049);
        assert_eq!(EmvDate::from_bcd([0x50, 0x01, 0x01]).unwrap().year(), 1950);
        assert_eq!(EmvDate::from_bcd([0x00, 0x01, 0x01]).unwrap().year(), 2000);
        assert_eq!(EmvDate::from_bcd([0x99, 0x12, 0x31]).unwrap().year(), 1999);
        // 1999-12-31 is before 2000-01-01 although 99 > 00.
        assert!(
            EmvDate::from_bcd([0x99, 0x12, 0x31]).unwrap()
                < EmvDate::from_bcd([0x00, 0x01, 0x01]).unwrap()
        );
    }

    #[test]
    fn order_is_chronological() {
        let a = EmvDate::from_bcd([0x25, 0x06, 0x30]).unwrap();
        let b = EmvDate::from_bcd([0x25, 0x07, 0x01]).unwrap();
        let c = EmvDate::from_bcd([0x26, 0x01, 0x01]).unwrap();
        assert!(a < b && b < c);
        assert_eq!(format!("{a}"), "2025-06-30");
        assert_eq!((a.month(), a.day()), (6, 30));
    }

    #[test]
    fn invalid_dates() {
        assert_eq!(
            EmvDate::from_bcd([0x2A, 0x01, 0x01]),
            Err(DateError::NotBcd)
        );
        assert_eq!(
            EmvDate::from_bcd([0x25, 0x13, 0x01]),
            Err(DateError::Month(13))
        );
        assert_eq!(
            EmvDate::from_bcd([0x25, 0x00, 0x01]),
            Err(DateError::Month(0))
        );
        assert_eq!(
            EmvDate::from_bcd([0x25, 0x04, 0x31]),
            Err(DateError::Day(31))
        );
        assert_eq!(
            EmvDate::from_bcd([0x25, 0x04, 0x00]),
            Err(DateError::Day(0))
        );
        assert_eq!(
            EmvDate::from_bytes(&[0x25, 0x04]),
            Err(DateError::WrongLength { len: 2 })
        );
        assert_eq!(format!("{}", DateError::Day(31)), "invalid day 31");
    }

    #[test]
    fn leap_years() {
        assert!(EmvDate::from_bcd([0x24, 0x02, 0x29]).is_ok());
        assert_eq!(
            EmvDate::from_bcd([0x25, 0x02, 0x29]),
            Err(DateError::Day(29))
        );
        // 2000 is a leap year (divisible by 400).
        assert!(EmvDate::from_bcd([0x00, 0x02, 0x29]).is_ok());
        assert_eq!(EmvDate::new(1900, 2, 29), Err(DateError::Day(29)));
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..5)) {
            if let Ok(d) = EmvDate::from_bytes(&bytes) {
                prop_assert!((1950..=2049).contains(&d.year()));
                prop_assert!((1..=12).contains(&d.month()));
                prop_assert!((1..=31).contains(&d.day()));
            }
        }
    }
}
