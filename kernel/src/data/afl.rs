//! Application File Locator, tag `94` (EMV 4.4 Book 3 §10.2 and §5.4 of
//! Book 3 Annex A).
//!
//! A list of 4-byte entries, each naming the records the terminal reads:
//!
//! - byte 1: SFI in b8–b4 (1–30), b3–b1 zero;
//! - byte 2: first record number (not 0);
//! - byte 3: last record number (≥ first);
//! - byte 4: how many records, starting with the first, take part in
//!   offline data authentication (≤ last − first + 1).
//!
//! An AFL that breaks any rule means "terminate the transaction"; the errors
//! here name the offending entry.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::RangeInclusive;
use core::slice::ChunksExact;

use crate::wire::tag::Tag;

/// What is wrong with one AFL entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AflEntryError {
    /// The SFI is 0 or 31 (the book allows 1–30).
    InvalidSfi(u8),
    /// Byte 1 b3–b1 are not zero (the whole byte 1 is given).
    LowBitsSet(u8),
    /// The first record number is 0.
    FirstRecordZero,
    /// The last record number is below the first.
    LastBeforeFirst {
        /// First record number.
        first: u8,
        /// Last record number.
        last: u8,
    },
    /// More ODA records than records in the range.
    TooManyOdaRecords {
        /// The number of ODA records claimed.
        oda: u8,
        /// The number of records in the range.
        records: u16,
    },
}

impl fmt::Display for AflEntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidSfi(sfi) => write!(f, "SFI {sfi} is outside 1-30"),
            Self::LowBitsSet(b) => write!(f, "byte 1 is {b:02X}: bits b3-b1 must be zero"),
            Self::FirstRecordZero => f.write_str("first record number is 0"),
            Self::LastBeforeFirst { first, last } => {
                write!(f, "last record {last} is before first record {first}")
            }
            Self::TooManyOdaRecords { oda, records } => write!(
                f,
                "{oda} records for offline data authentication but only {records} in the range"
            ),
        }
    }
}

impl core::error::Error for AflEntryError {}

/// Why an AFL value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AflError {
    /// The value is empty (the AFL must name at least one entry).
    Empty,
    /// The length is not a multiple of 4.
    BadLength {
        /// The length received.
        len: usize,
    },
    /// Longer than the 252 bytes the data dictionary allows.
    TooLong {
        /// The length received.
        len: usize,
    },
    /// Entry `index` (0-based; the entry starts at byte `4 * index` of the
    /// value) breaks a rule.
    Entry {
        /// 0-based index of the entry.
        index: usize,
        /// What is wrong with it.
        error: AflEntryError,
    },
}

impl fmt::Display for AflError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("AFL is empty"),
            Self::BadLength { len } => write!(f, "AFL length {len} is not a multiple of 4"),
            Self::TooLong { len } => {
                write!(f, "AFL too long: {len} bytes, at most {}", Afl::MAX_LEN)
            }
            Self::Entry { index, error } => write!(f, "AFL entry {}: {error}", index + 1),
        }
    }
}

impl core::error::Error for AflError {}

/// One AFL entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AflEntry {
    /// Short File Identifier, 1–30.
    pub sfi: u8,
    /// First record number to read, ≥ 1.
    pub first_record: u8,
    /// Last record number to read, ≥ `first_record`.
    pub last_record: u8,
    /// How many records, from the first, take part in offline data
    /// authentication.
    pub oda_records: u8,
}

impl AflEntry {
    /// A checked entry.
    pub const fn new(
        sfi: u8,
        first_record: u8,
        last_record: u8,
        oda_records: u8,
    ) -> Result<Self, AflEntryError> {
        let e = Self {
            sfi,
            first_record,
            last_record,
            oda_records,
        };
        match e.check() {
            Ok(()) => Ok(e),
            Err(err) => Err(err),
        }
    }

    /// Decodes and checks one 4-byte entry.
    pub const fn from_bytes(bytes: [u8; 4]) -> Result<Self, AflEntryError> {
        let [b1, first, last, oda] = bytes;
        if b1 & 0x07 != 0 {
            return Err(AflEntryError::LowBitsSet(b1));
        }
        Self::new(b1 >> 3, first, last, oda)
    }

    /// Encodes the entry.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 4] {
        [
            self.sfi << 3,
            self.first_record,
            self.last_record,
            self.oda_records,
        ]
    }

    const fn check(&self) -> Result<(), AflEntryError> {
        if self.sfi == 0 || self.sfi > 30 {
            return Err(AflEntryError::InvalidSfi(self.sfi));
        }
        if self.first_record == 0 {
            return Err(AflEntryError::FirstRecordZero);
        }
        if self.last_record < self.first_record {
            return Err(AflEntryError::LastBeforeFirst {
                first: self.first_record,
                last: self.last_record,
            });
        }
        let records = self.record_count();
        if self.oda_records as u16 > records {
            return Err(AflEntryError::TooManyOdaRecords {
                oda: self.oda_records,
                records,
            });
        }
        Ok(())
    }

    /// Number of records in the range (0 if `last < first`).
    #[must_use]
    pub const fn record_count(&self) -> u16 {
        if self.last_record < self.first_record {
            0
        } else {
            (self.last_record - self.first_record) as u16 + 1
        }
    }

    /// The record numbers to read, first to last.
    #[must_use]
    pub fn records(&self) -> RangeInclusive<u8> {
        self.first_record..=self.last_record
    }

    /// The record numbers that take part in offline data authentication.
    pub fn oda_record_numbers(&self) -> impl Iterator<Item = u8> + 'static {
        self.records().take(usize::from(self.oda_records))
    }

    /// Whether record `record` of this entry takes part in offline data
    /// authentication.
    #[must_use]
    pub fn is_oda_record(&self, record: u8) -> bool {
        self.records().contains(&record)
            && u16::from(record - self.first_record) < u16::from(self.oda_records)
    }

    /// True for SFIs 1–10, whose records must be `70` templates and whose
    /// ODA input is the template's value only.
    #[must_use]
    pub const fn is_emv_sfi(&self) -> bool {
        self.sfi >= 1 && self.sfi <= 10
    }
}

impl fmt::Display for AflEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first_record == self.last_record {
            write!(f, "SFI {}, record {}", self.sfi, self.first_record)?;
        } else {
            write!(
                f,
                "SFI {}, records {}-{}",
                self.sfi, self.first_record, self.last_record
            )?;
        }
        write!(f, ", {} for offline data authentication", self.oda_records)
    }
}

/// An AFL (`94`) value, borrowed and fully checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Afl<'a> {
    raw: &'a [u8],
}

impl<'a> Afl<'a> {
    /// The element's tag, `94`.
    pub const TAG: Tag = Tag::new(0x94);
    /// Longest value allowed (Book 3 Annex A: var. up to 252).
    pub const MAX_LEN: usize = 252;

    /// Checks `value`: non-empty, a multiple of 4 bytes, at most 252, and
    /// every entry valid. The first bad entry is reported.
    pub fn parse(value: &'a [u8]) -> Result<Self, AflError> {
        let len = value.len();
        if len == 0 {
            return Err(AflError::Empty);
        }
        if !len.is_multiple_of(4) {
            return Err(AflError::BadLength { len });
        }
        if len > Self::MAX_LEN {
            return Err(AflError::TooLong { len });
        }
        for (index, chunk) in value.chunks_exact(4).enumerate() {
            if let Ok(bytes) = <[u8; 4]>::try_from(chunk) {
                AflEntry::from_bytes(bytes).map_err(|error| AflError::Entry { index, error })?;
            }
        }
        Ok(Self { raw: value })
    }

    /// The entries, in order.
    #[must_use]
    pub fn entries(&self) -> AflEntries<'a> {
        AflEntries {
            inner: self.raw.chunks_exact(4),
        }
    }

    /// Number of entries (at least 1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.raw.len() / 4
    }

    /// Always false: a parsed AFL has at least one entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The value bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
}

/// Iterator over the entries of an [`Afl`].
#[derive(Clone, Debug)]
pub struct AflEntries<'a> {
    inner: ChunksExact<'a, u8>,
}

impl Iterator for AflEntries<'_> {
    type Item = AflEntry;

    fn next(&mut self) -> Option<AflEntry> {
        // Entries were checked by `Afl::parse`; a failure here cannot happen
        // and would only end the iteration.
        let chunk = self.inner.next()?;
        let bytes = <[u8; 4]>::try_from(chunk).ok()?;
        AflEntry::from_bytes(bytes).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for AflEntries<'_> {}
impl FusedIterator for AflEntries<'_> {}

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
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn three_entries() {
        let v = hex::decode("080101001001030118010201").unwrap();
        let afl = Afl::parse(&v).unwrap();
        assert_eq!(afl.len(), 3);
        let e: Vec<AflEntry> = afl.entries().collect();
        assert_eq!(
            e,
            [
                AflEntry {
                    sfi: 1,
                    first_record: 1,
                    last_record: 1,
                    oda_records: 0
                },
                AflEntry {
                    sfi: 2,
                    first_record: 1,
                    last_record: 3,
                    oda_records: 1
                },
                AflEntry {
                    sfi: 3,
                    first_record: 1,
                    last_record: 2,
                    oda_records: 1
                },
            ]
        );
        assert_eq!(e[1].records().collect::<Vec<u8>>(), [1, 2, 3]);
        assert_eq!(e[1].oda_record_numbers().collect::<Vec<u8>>(), [1]);
        assert!(e[1].is_oda_record(1));
        assert!(!e[1].is_oda_record(2));
        assert!(!e[1].is_oda_record(0));
        assert!(!e[0].is_oda_record(1));
        assert_eq!(
            e[1].to_string(),
            "SFI 2, records 1-3, 1 for offline data authentication"
        );
        assert_eq!(
            e[0].to_string(),
            "SFI 1, record 1, 0 for offline data authentication"
        );
        let re: Vec<u8> = afl.entries().flat_map(AflEntry::to_bytes).collect();
        assert_eq!(re, v);
    }

    #[test]
    fn length_errors() {
        assert_eq!(Afl::parse(&[]), Err(AflError::Empty));
        assert_eq!(
            Afl::parse(&[0x08, 1, 1]),
            Err(AflError::BadLength { len: 3 })
        );
        let long: Vec<u8> = [0x08, 1, 1, 0].repeat(64);
        assert_eq!(Afl::parse(&long), Err(AflError::TooLong { len: 256 }));
        assert!(Afl::parse(&long[..252]).is_ok());
    }

    #[test]
    fn entry_errors_name_the_index() {
        let check = |v: &[u8], index: usize, error: AflEntryError| {
            assert_eq!(Afl::parse(v), Err(AflError::Entry { index, error }));
        };
        check(&[0x00, 1, 1, 0], 0, AflEntryError::InvalidSfi(0));
        check(
            &[0x08, 1, 1, 0, 0xF8, 1, 1, 0],
            1,
            AflEntryError::InvalidSfi(31),
        );
        check(&[0x09, 1, 1, 0], 0, AflEntryError::LowBitsSet(0x09));
        check(
            &[0x08, 1, 1, 0, 0x10, 0, 1, 0],
            1,
            AflEntryError::FirstRecordZero,
        );
        check(
            &[0x08, 3, 2, 0],
            0,
            AflEntryError::LastBeforeFirst { first: 3, last: 2 },
        );
        check(
            &[0x08, 1, 1, 0, 0x10, 1, 1, 0, 0x18, 1, 2, 3],
            2,
            AflEntryError::TooManyOdaRecords { oda: 3, records: 2 },
        );
        assert_eq!(
            format!(
                "{}",
                AflError::Entry {
                    index: 2,
                    error: AflEntryError::TooManyOdaRecords { oda: 3, records: 2 }
                }
            ),
            "AFL entry 3: 3 records for offline data authentication but only 2 in the range"
        );
    }

    #[test]
    fn sfi_bounds_and_record_255() {
        assert!(AflEntry::new(30, 1, 1, 1).is_ok());
        assert_eq!(
            AflEntry::new(31, 1, 1, 0),
            Err(AflEntryError::InvalidSfi(31))
        );
        let e = AflEntry::new(11, 1, 255, 255).unwrap();
        assert_eq!(e.record_count(), 255);
        assert!(!e.is_emv_sfi());
        assert_eq!(e.records().count(), 255);
        assert!(e.is_oda_record(255));
        assert_eq!(e.to_bytes(), [0x58, 1, 255, 255]);
        assert!(AflEntry::new(10, 1, 1, 0).unwrap().is_emv_sfi());
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(afl) = Afl::parse(&bytes) {
                prop_assert_eq!(afl.entries().count(), bytes.len() / 4);
                let re: Vec<u8> = afl.entries().flat_map(AflEntry::to_bytes).collect();
                prop_assert_eq!(&re[..], &bytes[..]);
                for e in afl.entries() {
                    prop_assert!(e.records().count() >= e.oda_record_numbers().count());
                }
            }
        }

        #[test]
        fn entry_round_trip(sfi in 1u8..=30, first in 1u8..=255, span in 0u8..=255, oda in any::<u8>()) {
            let last = first.saturating_add(span);
            if let Ok(e) = AflEntry::new(sfi, first, last, oda) {
                prop_assert_eq!(AflEntry::from_bytes(e.to_bytes()), Ok(e));
            }
        }
    }
}
