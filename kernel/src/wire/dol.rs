//! Data Object Lists (EMV Book 3 §5.4).
//!
//! A DOL (PDOL `9F38`, CDOL1 `8C`, CDOL2 `8D`, DDOL `9F49`, TDOL `97`, UDOL
//! `9F69`…) is a list of tag and length pairs with no values: the card tells
//! the terminal which data to send and how long each element must be. The
//! terminal answers with DOL-related data: the values, concatenated, each
//! fitted to its length (§5.4):
//!
//! - a constructed tag, or an element the terminal does not have: zeros;
//! - a value longer than the entry: format `n` keeps the **rightmost** bytes,
//!   every other format the leftmost;
//! - a value shorter than the entry: format `n` is padded with leading `00`,
//!   `cn` with trailing `FF`, every other format with trailing `00`.
//!
//! [`build`] does that into a caller-owned buffer; [`split`] does the reverse,
//! cutting DOL-related data back into its elements (what a card, a trace
//! viewer or a host does with CDOL1 data).

use core::fmt;

use super::tlv::{Mode, TlvErrorKind, read_header};
use crate::Tag;
use crate::data::Format;
use crate::data::dictionary;

/// One DOL entry: which element, how many bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DolEntry {
    /// The requested element.
    pub tag: Tag,
    /// The number of bytes the terminal must supply.
    pub length: usize,
    /// Offset of the entry in the DOL.
    pub offset: usize,
}

/// What was wrong with a DOL or its related data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DolErrorKind {
    /// An entry's tag or length is malformed.
    Malformed(TlvErrorKind),
    /// The related data ends inside an element.
    DataTooShort {
        /// The element that is cut.
        tag: Tag,
        /// Bytes the DOL asks for.
        needed: usize,
        /// Bytes left in the data.
        available: usize,
    },
    /// The related data is longer than the DOL describes.
    TrailingData {
        /// Bytes left over.
        extra: usize,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes the related data needs.
        needed: usize,
    },
}

/// A DOL error with the offset it concerns: in the DOL for
/// [`DolErrorKind::Malformed`], in the related data otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DolError {
    /// Byte offset.
    pub offset: usize,
    /// What was wrong.
    pub kind: DolErrorKind,
}

impl fmt::Display for DolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DolErrorKind::Malformed(kind) => write!(f, "DOL byte {}: {kind}", self.offset),
            DolErrorKind::DataTooShort {
                tag,
                needed,
                available,
            } => write!(
                f,
                "data byte {}: element {tag} needs {needed} bytes but only {available} remain",
                self.offset
            ),
            DolErrorKind::TrailingData { extra } => write!(
                f,
                "data byte {}: {extra} bytes beyond what the DOL describes",
                self.offset
            ),
            DolErrorKind::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for DolError {}

/// Iterator over the entries of a DOL.
#[derive(Clone, Debug)]
pub struct DolIter<'a> {
    dol: &'a [u8],
    pos: usize,
    done: bool,
}

/// Iterates over the entries of `dol`. Yields one `Err` on a malformed entry
/// and stops.
#[must_use]
pub const fn entries(dol: &[u8]) -> DolIter<'_> {
    DolIter {
        dol,
        pos: 0,
        done: false,
    }
}

impl Iterator for DolIter<'_> {
    type Item = Result<DolEntry, DolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.dol.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        match read_header(rest, Mode::Strict) {
            Ok((tag, length, used)) => {
                let entry = DolEntry {
                    tag,
                    length,
                    offset: self.pos,
                };
                self.pos += used;
                Some(Ok(entry))
            }
            Err((at, kind)) => {
                self.done = true;
                Some(Err(DolError {
                    offset: self.pos + at,
                    kind: DolErrorKind::Malformed(kind),
                }))
            }
        }
    }
}

impl core::iter::FusedIterator for DolIter<'_> {}

/// The length of the related data `dol` asks for.
pub fn related_data_len(dol: &[u8]) -> Result<usize, DolError> {
    entries(dol).try_fold(0usize, |sum, e| e.map(|e| sum + e.length))
}

/// Where [`build`] takes element values and formats from.
pub trait DataSource {
    /// The value of `tag`, or `None` when the terminal does not have it.
    fn value(&self, tag: Tag) -> Option<&[u8]>;

    /// The format of `tag`, which decides padding and truncation. The default
    /// asks the [data dictionary](crate::data::dictionary); unknown tags are
    /// treated as binary.
    fn format(&self, tag: Tag) -> Format {
        dictionary::lookup(tag).map_or(Format::B, |e| e.format)
    }
}

impl DataSource for [(Tag, &[u8])] {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        self.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }
}

impl<const N: usize> DataSource for [(Tag, &[u8]); N] {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        self.as_slice().value(tag)
    }
}

/// Writes one element fitted to `out` (whose length is the DOL entry's), per
/// Book 3 §5.4.
fn fit(value: Option<&[u8]>, format: Format, constructed: bool, out: &mut [u8]) {
    out.fill(0);
    let Some(value) = value.filter(|_| !constructed) else {
        return;
    };
    let want = out.len();
    if value.len() >= want {
        let src = if format == Format::N {
            value.get(value.len() - want..)
        } else {
            value.get(..want)
        };
        if let Some(src) = src {
            out.copy_from_slice(src);
        }
        return;
    }
    let pad = want - value.len();
    match format {
        Format::N => {
            if let Some(dst) = out.get_mut(pad..) {
                dst.copy_from_slice(value);
            }
        }
        _ => {
            let (dst, tail) = out.split_at_mut(value.len());
            dst.copy_from_slice(value);
            if format == Format::Cn {
                tail.fill(0xFF);
            }
        }
    }
}

/// Builds the DOL-related data for `dol` from `source` into `out` and returns
/// its length.
///
/// ```
/// use emv_kernel::Tag;
/// use emv_kernel::wire::dol;
///
/// // PDOL asking for Amount, Authorised (n, 6 bytes) and TTQ (b, 4 bytes).
/// let pdol = [0x9F, 0x02, 0x06, 0x9F, 0x66, 0x04];
/// let source = [(Tag::new(0x9F02), &[0x10, 0x00][..])];
/// let mut out = [0u8; 16];
/// let n = dol::build(&pdol, &source, &mut out).unwrap();
/// assert_eq!(&out[..n], &[0, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 0]);
/// ```
pub fn build<S: DataSource + ?Sized>(
    dol: &[u8],
    source: &S,
    out: &mut [u8],
) -> Result<usize, DolError> {
    let needed = related_data_len(dol)?;
    if needed > out.len() {
        return Err(DolError {
            offset: 0,
            kind: DolErrorKind::BufferTooSmall { needed },
        });
    }
    let mut pos = 0;
    for entry in entries(dol) {
        let entry = entry?;
        let Some(dst) = out.get_mut(pos..pos + entry.length) else {
            return Err(DolError {
                offset: pos,
                kind: DolErrorKind::BufferTooSmall { needed },
            });
        };
        fit(
            source.value(entry.tag),
            source.format(entry.tag),
            entry.tag.is_constructed(),
            dst,
        );
        pos += entry.length;
    }
    Ok(pos)
}

/// Iterator that cuts DOL-related data back into its elements; see [`split`].
#[derive(Clone, Debug)]
pub struct Split<'d, 'a> {
    entries: DolIter<'d>,
    data: &'a [u8],
    pos: usize,
    done: bool,
}

/// Cuts `data` into the elements `dol` describes: yields each entry with its
/// bytes, then an error if the data is longer or shorter than the DOL says.
#[must_use]
pub const fn split<'d, 'a>(dol: &'d [u8], data: &'a [u8]) -> Split<'d, 'a> {
    Split {
        entries: entries(dol),
        data,
        pos: 0,
        done: false,
    }
}

impl<'a> Iterator for Split<'_, 'a> {
    type Item = Result<(DolEntry, &'a [u8]), DolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let available = self.data.len().saturating_sub(self.pos);
        match self.entries.next() {
            None => {
                self.done = true;
                (available > 0).then_some(Err(DolError {
                    offset: self.pos,
                    kind: DolErrorKind::TrailingData { extra: available },
                }))
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(e))
            }
            Some(Ok(entry)) => match self.data.get(self.pos..self.pos + entry.length) {
                Some(value) => {
                    self.pos += entry.length;
                    Some(Ok((entry, value)))
                }
                None => {
                    self.done = true;
                    Some(Err(DolError {
                        offset: self.pos,
                        kind: DolErrorKind::DataTooShort {
                            tag: entry.tag,
                            needed: entry.length,
                            available,
                        },
                    }))
                }
            },
        }
    }
}

impl core::iter::FusedIterator for Split<'_, '_> {}

#[cfg(test)]
mod tests {
    use super::*;

    // A typical CDOL1 (Visa): 9F02 06 9F03 06 9F1A 02 95 05 5F2A 02 9A 03 9C 01 9F37 04
    const CDOL1: &[u8] = &[
        0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A, 0x02, 0x9A,
        0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04,
    ];

    #[test]
    fn entries_and_length() {
        let mut it = entries(CDOL1);
        assert_eq!(
            it.next(),
            Some(Ok(DolEntry {
                tag: Tag::new(0x9F02),
                length: 6,
                offset: 0
            }))
        );
        assert_eq!(entries(CDOL1).count(), 8);
        assert_eq!(related_data_len(CDOL1), Ok(29));
        assert_eq!(related_data_len(&[]), Ok(0));
    }

    #[test]
    fn malformed_dol() {
        assert_eq!(
            related_data_len(&[0x9F, 0x02, 0x06, 0x9F]),
            Err(DolError {
                offset: 3,
                kind: DolErrorKind::Malformed(TlvErrorKind::TruncatedTag)
            })
        );
        assert_eq!(
            related_data_len(&[0x9F, 0x02]),
            Err(DolError {
                offset: 2,
                kind: DolErrorKind::Malformed(TlvErrorKind::TruncatedLength {
                    tag: Tag::new(0x9F02)
                })
            })
        );
    }

    #[test]
    fn padding_and_truncation_per_format() {
        // n: left pad / keep rightmost; cn: right pad FF; b, an: right pad 00 / keep leftmost.
        let dol = [
            0x9F, 0x02, 0x08, // n, longer entry: left pad
            0x9A, 0x02, // n, shorter entry: keep rightmost
            0x5A, 0x0A, // cn, longer: pad FF
            0x9F, 0x37, 0x02, // b, shorter: keep leftmost
            0x50, 0x06, // ans, longer: pad 00
            0x9F, 0x7F, 0x02, // unknown to the source: zeros
            0x70, 0x03, // constructed: zeros even if present
        ];
        let source = [
            (Tag::new(0x9F02), &[0x00, 0x00, 0x00, 0x00, 0x10, 0x00][..]),
            (Tag::new(0x9A), &[0x26, 0x11, 0x28][..]),
            (
                Tag::new(0x5A),
                &[0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19][..],
            ),
            (Tag::new(0x9F37), &[0xDE, 0xAD, 0xBE, 0xEF][..]),
            (Tag::new(0x50), b"VISA".as_slice()),
            (Tag::new(0x70), &[1, 2, 3][..]),
        ];
        let mut out = [0xEEu8; 40];
        let n = build(&dol, &source, &mut out).unwrap();
        assert_eq!(n, 8 + 2 + 10 + 2 + 6 + 2 + 3);
        assert_eq!(
            &out[..n],
            &[
                0, 0, 0, 0, 0, 0, 0x10, 0x00, // 9F02
                0x11, 0x28, // 9A
                0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19, 0xFF, 0xFF, // 5A
                0xDE, 0xAD, // 9F37
                b'V', b'I', b'S', b'A', 0, 0, // 50
                0, 0, // 9F7F
                0, 0, 0, // 70
            ]
        );
    }

    #[test]
    fn buffer_too_small() {
        let mut out = [0u8; 10];
        assert_eq!(
            build(CDOL1, &[(Tag::new(0x9F02), &[1u8][..])], &mut out),
            Err(DolError {
                offset: 0,
                kind: DolErrorKind::BufferTooSmall { needed: 29 }
            })
        );
    }

    #[test]
    fn split_round_trip_and_errors() {
        let data: [u8; 29] = core::array::from_fn(|i| i as u8);
        let mut it = split(CDOL1, &data);
        let (e, v) = it.next().unwrap().unwrap();
        assert_eq!((e.tag, v), (Tag::new(0x9F02), &data[..6]));
        let last = split(CDOL1, &data).last().unwrap().unwrap();
        assert_eq!((last.0.tag, last.1), (Tag::new(0x9F37), &data[25..]));
        assert_eq!(split(CDOL1, &data).count(), 8);

        let short = split(CDOL1, &data[..27]).find_map(Result::err).unwrap();
        assert_eq!(
            short,
            DolError {
                offset: 25,
                kind: DolErrorKind::DataTooShort {
                    tag: Tag::new(0x9F37),
                    needed: 4,
                    available: 2
                }
            }
        );
        let mut long = [0u8; 31];
        long[..29].copy_from_slice(&data);
        let extra = split(CDOL1, &long).find_map(Result::err).unwrap();
        assert_eq!(
            extra,
            DolError {
                offset: 29,
                kind: DolErrorKind::TrailingData { extra: 2 }
            }
        );
    }
}
