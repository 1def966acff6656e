//! `[exception_file]`: the terminal exception file ("hot list") checked
//! during terminal risk management (EMV 4.4 Book 3 §10.6.1; a match sets
//! TVR byte 1 bit 5, "Card appears on terminal exception file").
//!
//! Entries are PANs (8–19 digits), optionally with a PAN Sequence Number:
//! `"4999990000000015"` lists the card whatever its PSN;
//! `"4999990000000015-01"` lists only the card with PSN (`5F34`) `01`.
//! PANs are not Luhn-checked (test PANs often fail it).

use std::fmt;

use super::error::{ConfigError, ConfigErrorKind};
use super::reader::Field;

/// Shortest PAN accepted, in digits (ISO/IEC 7812).
pub const MIN_PAN_DIGITS: usize = 8;
/// Longest PAN, in digits (tag `5A`, cn up to 19 digits).
pub const MAX_PAN_DIGITS: usize = 19;

pub(crate) const FIELDS: &[&str] = &["pans"];

/// A Primary Account Number as decimal digits. `Debug` masks all but the
/// first six and last four digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pan(String);

impl Pan {
    /// The PAN from 8–19 decimal digits.
    #[must_use]
    pub fn new(digits: &str) -> Option<Self> {
        let valid = (MIN_PAN_DIGITS..=MAX_PAN_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Self(digits.to_string()))
    }

    /// The PAN from the value of tag `5A` (cn: BCD, padded on the right
    /// with `F` nibbles).
    #[must_use]
    pub fn from_bcd(value: &[u8]) -> Option<Self> {
        let mut digits = String::new();
        let mut padding = false;
        for nibble in value.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
            match nibble {
                0..=9 if !padding => digits.push(char::from(b'0' + nibble)),
                0x0F => padding = true,
                _ => return None,
            }
        }
        Self::new(&digits)
    }

    /// The digits, unmasked. Handle with care.
    #[must_use]
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        let head = d.get(..6).unwrap_or("");
        let tail = d.get(d.len().saturating_sub(4)..).unwrap_or("");
        let masked = d.len().saturating_sub(10);
        write!(f, "Pan({head}{}{tail})", "*".repeat(masked))
    }
}

/// One exception file entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExceptionEntry {
    /// The card's PAN.
    pub pan: Pan,
    /// The PAN Sequence Number as the `5F34` byte (n2, BCD: `"01"` is
    /// `0x01`, `"12"` is `0x12`); `None` = any PSN.
    pub psn: Option<u8>,
}

/// The terminal exception file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExceptionFile {
    /// The listed cards.
    pub entries: Vec<ExceptionEntry>,
}

impl ExceptionFile {
    /// True when the card with `pan` and PSN `psn` (the `5F34` byte, `None`
    /// when the card has none) is listed.
    #[must_use]
    pub fn contains(&self, pan: &Pan, psn: Option<u8>) -> bool {
        self.entries
            .iter()
            .any(|e| &e.pan == pan && (e.psn.is_none() || e.psn == psn))
    }

    /// As [`ExceptionFile::contains`], with the PAN as the value of tag
    /// `5A`. A malformed value is never listed.
    #[must_use]
    pub fn contains_bcd(&self, pan_5a: &[u8], psn: Option<u8>) -> bool {
        Pan::from_bcd(pan_5a).is_some_and(|pan| self.contains(&pan, psn))
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the file lists no card.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn parse_entry(text: &str) -> Result<ExceptionEntry, String> {
    let (pan, psn) = match text.split_once('-') {
        Some((pan, psn)) => (pan, Some(psn)),
        None => (text, None),
    };
    let pan = Pan::new(pan).ok_or_else(|| {
        format!(
            "PAN must be {MIN_PAN_DIGITS}-{MAX_PAN_DIGITS} decimal digits, optionally followed by -PSN (e.g. \"4999990000000015-01\")"
        )
    })?;
    let psn = match psn {
        None => None,
        Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = p.as_bytes();
            let hi = digits.first().map_or(0, |d| d - b'0');
            let lo = digits.get(1).map_or(0, |d| d - b'0');
            Some((hi << 4) | lo)
        }
        Some(_) => return Err("PAN Sequence Number must be two decimal digits (n2)".into()),
    };
    Ok(ExceptionEntry { pan, psn })
}

/// Reads `[exception_file]`.
pub(crate) fn read(field: &Field<'_>) -> Result<ExceptionFile, ConfigError> {
    let table = field.table(FIELDS)?;
    let mut entries = Vec::new();
    if let Some(pans) = table.get("pans") {
        for f in pans.array()? {
            let entry =
                parse_entry(f.str()?).map_err(|m| f.error(ConfigErrorKind::OutOfRange(m)))?;
            if entries.contains(&entry) {
                return Err(f.error(ConfigErrorKind::Duplicate("exception file entry".into())));
            }
            entries.push(entry);
        }
    }
    Ok(ExceptionFile { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_masking_and_bcd() {
        let pan = Pan::new("4999990000000015").unwrap();
        assert_eq!(format!("{pan:?}"), "Pan(499999******0015)");
        assert_eq!(
            Pan::from_bcd(&[0x49, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x15]),
            Some(pan)
        );
        assert_eq!(
            Pan::from_bcd(&[0x49, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x12, 0x3F])
                .unwrap()
                .digits(),
            "49999900000000123"
        );
        assert!(Pan::from_bcd(&[0x49, 0xF9]).is_none());
        assert!(Pan::from_bcd(&[0x4A]).is_none());
    }

    #[test]
    fn entries() {
        let e = parse_entry("4999990000000015-12").unwrap();
        assert_eq!(e.psn, Some(0x12));
        assert!(parse_entry("4999990000000015-1").is_err());
        assert!(parse_entry("49999").is_err());
    }
}
