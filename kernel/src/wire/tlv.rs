//! BER-TLV decoding as EMV uses it (EMV Book 3 Annex B; ISO/IEC 8825-1 §8.1).
//!
//! A TLV stream is a sequence of data objects, each a tag ([`Tag`]), a
//! definite length and a value. Constructed objects (tag byte 1 b6 set) hold
//! another TLV stream as their value. Between, before and after objects,
//! `00` bytes may appear as padding and are skipped (Book 3 Annex B: "before,
//! between, or after TLV-coded data objects, '00' bytes without any meaning
//! may occur"). `FF` is **not** padding in EMV: Kernel 2 uses constructed
//! `FF81xx` tags.
//!
//! [`TlvIter`] walks one level of a stream without copying; [`Tlv::children`]
//! descends into a constructed object; [`crate::wire::walk::Walk`] walks a
//! whole tree depth first with a depth limit.
//!
//! Three [`Mode`]s:
//! - [`Mode::Strict`] is EMV as written: tags of at most 3 bytes, length
//!   fields of at most 3 bytes (`82 xx xx`). Like BER (ISO/IEC 8825-1
//!   §8.1.3.5 note) it accepts a long-form length where the short form would
//!   do (`81 05`): cards send it (the Kernel 2 mock traces do) and EMV does
//!   not forbid it.
//! - [`Mode::Canonical`] is Strict plus minimally encoded lengths: what this
//!   project's own encoders produce, for checking them.
//! - [`Mode::Lenient`] also accepts 4-byte tags and 4-byte length fields
//!   (`83 xx xx xx`), as some test tools send.
//!
//! Every mode rejects indefinite lengths (`80`), which EMV forbids, and values
//! that overrun their enclosing buffer.

use core::fmt;

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take;
use nom::error::{ErrorKind, ParseError};
use nom::number::complete::be_u8;

use super::tag::{MAX_TAG_LEN, MAX_TAG_LEN_STRICT, Tag};

/// How strictly to read a TLV stream; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// EMV Book 3 Annex B as written.
    #[default]
    Strict,
    /// Strict, and lengths must be minimally encoded.
    Canonical,
    /// Also accept encodings that BER allows but EMV does not use: 4-byte
    /// tags and 4-byte length fields.
    Lenient,
}

impl Mode {
    const fn max_tag_len(self) -> usize {
        match self {
            Self::Strict | Self::Canonical => MAX_TAG_LEN_STRICT,
            Self::Lenient => MAX_TAG_LEN,
        }
    }

    /// Total length-field bytes allowed (first byte included).
    const fn max_length_field(self) -> usize {
        match self {
            Self::Strict | Self::Canonical => 3,
            Self::Lenient => 4,
        }
    }
}

/// What was wrong with a TLV stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlvErrorKind {
    /// The tag announces more bytes (`1F` low bits, or b8 set on a following
    /// byte) than the buffer holds.
    TruncatedTag,
    /// The tag is longer than the mode allows.
    TagTooLong {
        /// Longest tag allowed, in bytes.
        max: usize,
    },
    /// The first following tag byte is `80`, which ISO/IEC 8825-1
    /// §8.1.2.4.2 c forbids.
    MalformedTag,
    /// The buffer ends inside the length field.
    TruncatedLength {
        /// The tag whose length is cut.
        tag: Tag,
    },
    /// Length byte `80`: indefinite length, which EMV does not allow.
    IndefiniteLength {
        /// The tag with the indefinite length.
        tag: Tag,
    },
    /// More length bytes than the mode allows (`83`, `84`, … in strict mode).
    LengthTooLong {
        /// The tag with the over-long length field.
        tag: Tag,
        /// Bytes in the length field, first byte included.
        bytes: usize,
    },
    /// A long-form length that fits in fewer bytes (canonical mode only).
    NonMinimalLength {
        /// The tag with the non-minimal length.
        tag: Tag,
    },
    /// The value runs past the end of the enclosing buffer.
    ValueOverrun {
        /// The tag of the object.
        tag: Tag,
        /// The length the object declares.
        length: usize,
        /// The bytes that remain after the header.
        available: usize,
    },
    /// Constructed objects are nested deeper than the walker allows.
    DepthExceeded {
        /// The depth limit.
        max: usize,
    },
}

/// A TLV decoding error: what was wrong and at which byte offset of the
/// input, counted from the start of the outermost buffer handed to the
/// parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvError {
    /// Offset of the first byte of the offending element.
    pub offset: usize,
    /// What was wrong.
    pub kind: TlvErrorKind,
}

impl fmt::Display for TlvErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TruncatedTag => f.write_str("tag is cut off: input ends inside a multi-byte tag"),
            Self::TagTooLong { max } => write!(f, "tag is longer than {max} bytes"),
            Self::MalformedTag => {
                f.write_str("malformed tag: first subsequent tag byte is 80 (ISO/IEC 8825-1)")
            }
            Self::TruncatedLength { tag } => {
                write!(
                    f,
                    "length of tag {tag} is cut off: input ends inside the length field"
                )
            }
            Self::IndefiniteLength { tag } => {
                write!(
                    f,
                    "tag {tag} has indefinite length (80), which EMV does not allow"
                )
            }
            Self::LengthTooLong { tag, bytes } => {
                write!(
                    f,
                    "tag {tag} has a {bytes}-byte length field, longer than allowed"
                )
            }
            Self::NonMinimalLength { tag } => {
                write!(f, "tag {tag} has a length that is not minimally encoded")
            }
            Self::ValueOverrun {
                tag,
                length,
                available,
            } => write!(
                f,
                "tag {tag} declares {length} value bytes but only {available} remain"
            ),
            Self::DepthExceeded { max } => {
                write!(f, "constructed objects nested deeper than {max} levels")
            }
        }
    }
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.kind)
    }
}

impl core::error::Error for TlvError {}

/// One data object, borrowed from the buffer it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    tag: Tag,
    value: &'a [u8],
    offset: usize,
    header_len: usize,
}

impl<'a> Tlv<'a> {
    /// The object's tag.
    #[must_use]
    pub const fn tag(&self) -> Tag {
        self.tag
    }

    /// The value bytes (for a constructed object, its encoded children).
    #[must_use]
    pub const fn value(&self) -> &'a [u8] {
        self.value
    }

    /// Offset of the tag's first byte from the start of the outermost buffer.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Bytes of tag plus length field.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        self.header_len
    }

    /// Bytes of the whole encoded object: tag, length and value.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        self.header_len + self.value.len()
    }

    /// True when the tag marks the value as a TLV stream.
    #[must_use]
    pub const fn is_constructed(&self) -> bool {
        self.tag.is_constructed()
    }

    /// Iterates over the children of a constructed object. For a primitive
    /// object the value is read as a stream all the same, which is what a
    /// caller asking for children of a primitive wants to find out.
    #[must_use]
    pub fn children(&self, mode: Mode) -> TlvIter<'a> {
        TlvIter::with_base(self.value, self.offset + self.header_len, mode)
    }
}

/// Internal nom error: where it happened and what.
struct Fail<'a> {
    input: &'a [u8],
    kind: TlvErrorKind,
}

impl<'a> ParseError<&'a [u8]> for Fail<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        // Only `take`/`be_u8` can fail on their own, which means the input
        // ended. Callers translate the position; the kind is refined there.
        Self {
            input,
            kind: TlvErrorKind::TruncatedTag,
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

fn fail<T>(input: &[u8], kind: TlvErrorKind) -> IResult<&[u8], T, Fail<'_>> {
    Err(nom::Err::Error(Fail { input, kind }))
}

/// Parses a tag (ISO/IEC 8825-1 §8.1.2).
fn parse_tag(mode: Mode) -> impl FnMut(&[u8]) -> IResult<&[u8], Tag, Fail<'_>> {
    move |start: &[u8]| {
        let (mut rest, first) = be_u8.parse(start)?;
        let mut raw = u32::from(first);
        if first & 0x1F != 0x1F {
            return Ok((rest, Tag::new(raw)));
        }
        let mut count = 1;
        loop {
            let Ok((next, byte)) = be_u8::<_, Fail<'_>>.parse(rest) else {
                return fail(start, TlvErrorKind::TruncatedTag);
            };
            if count == 1 && byte == 0x80 {
                return fail(start, TlvErrorKind::MalformedTag);
            }
            count += 1;
            if count > mode.max_tag_len() {
                return fail(
                    start,
                    TlvErrorKind::TagTooLong {
                        max: mode.max_tag_len(),
                    },
                );
            }
            raw = (raw << 8) | u32::from(byte);
            rest = next;
            if byte & 0x80 == 0 {
                return Ok((rest, Tag::new(raw)));
            }
        }
    }
}

/// Parses a definite length field (ISO/IEC 8825-1 §8.1.3).
fn parse_length(mode: Mode, tag: Tag) -> impl FnMut(&[u8]) -> IResult<&[u8], usize, Fail<'_>> {
    move |start: &[u8]| {
        let Ok((rest, first)) = be_u8::<_, Fail<'_>>.parse(start) else {
            return fail(start, TlvErrorKind::TruncatedLength { tag });
        };
        if first < 0x80 {
            return Ok((rest, usize::from(first)));
        }
        let count = usize::from(first & 0x7F);
        if count == 0 {
            return fail(start, TlvErrorKind::IndefiniteLength { tag });
        }
        if count + 1 > mode.max_length_field() {
            return fail(
                start,
                TlvErrorKind::LengthTooLong {
                    tag,
                    bytes: count + 1,
                },
            );
        }
        let Ok((rest, bytes)) = take::<_, _, Fail<'_>>(count).parse(rest) else {
            return fail(start, TlvErrorKind::TruncatedLength { tag });
        };
        let length = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let minimal = match count {
            1 => length >= 0x80,
            _ => bytes.first().is_some_and(|&b| b != 0),
        };
        if mode == Mode::Canonical && !minimal {
            return fail(start, TlvErrorKind::NonMinimalLength { tag });
        }
        Ok((rest, length))
    }
}

/// Parses one object at the start of `input` (no padding skipped).
fn parse_object(mode: Mode, input: &[u8]) -> IResult<&[u8], (Tag, &[u8]), Fail<'_>> {
    let (rest, tag) = parse_tag(mode)(input)?;
    let (rest, length) = parse_length(mode, tag)(rest)?;
    let Ok((rest, value)) = take::<_, _, Fail<'_>>(length).parse(rest) else {
        return fail(
            input,
            TlvErrorKind::ValueOverrun {
                tag,
                length,
                available: rest.len(),
            },
        );
    };
    Ok((rest, (tag, value)))
}

/// Reads one tag and length (no value) at the start of `input`: the shape of
/// a Data Object List entry. Returns the tag, the length and the header size,
/// or the offset within `input` and the kind of the problem.
pub(crate) fn read_header(
    input: &[u8],
    mode: Mode,
) -> Result<(Tag, usize, usize), (usize, TlvErrorKind)> {
    let located = |e: Fail<'_>| (input.len() - e.input.len(), e.kind);
    let (rest, tag) = parse_tag(mode)(input).map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => located(e),
        nom::Err::Incomplete(_) => (0, TlvErrorKind::TruncatedTag),
    })?;
    let (rest, length) = parse_length(mode, tag)(rest).map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => located(e),
        nom::Err::Incomplete(_) => (0, TlvErrorKind::TruncatedLength { tag }),
    })?;
    Ok((tag, length, input.len() - rest.len()))
}

/// Decodes the first data object of `input`, after any `00` padding.
///
/// Returns the object and the rest of the input after it, or `Ok(None)`
/// when only padding (or nothing) is left. Offsets in the result and in
/// errors count from the start of `input`.
pub fn parse_one(input: &[u8], mode: Mode) -> Result<Option<(Tlv<'_>, &[u8])>, TlvError> {
    let mut iter = TlvIter::new(input, mode);
    match iter.next() {
        None => Ok(None),
        Some(Err(e)) => Err(e),
        Some(Ok(tlv)) => Ok(Some((tlv, iter.remaining()))),
    }
}

/// Iterator over the data objects of one level of a TLV stream.
///
/// Yields `Err` once on malformed input and then stops. Zero-copy: every
/// [`Tlv`] borrows from the input.
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    input: &'a [u8],
    pos: usize,
    base: usize,
    mode: Mode,
    done: bool,
}

impl<'a> TlvIter<'a> {
    /// Iterates over `input` in the given mode; offsets count from its start.
    #[must_use]
    pub const fn new(input: &'a [u8], mode: Mode) -> Self {
        Self::with_base(input, 0, mode)
    }

    /// Iterates over `input`, reporting offsets as `base` plus the position in
    /// `input` (for streams nested in a larger buffer).
    #[must_use]
    pub const fn with_base(input: &'a [u8], base: usize, mode: Mode) -> Self {
        Self {
            input,
            pos: 0,
            base,
            mode,
            done: false,
        }
    }

    /// An iterator over nothing.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            input: &[],
            pos: 0,
            base: 0,
            mode: Mode::Strict,
            done: true,
        }
    }

    /// The bytes not yet consumed.
    #[must_use]
    pub fn remaining(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// The mode this iterator reads in.
    #[must_use]
    pub const fn mode(&self) -> Mode {
        self.mode
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.remaining();
        let padding = rest.iter().take_while(|&&b| b == 0x00).count();
        self.pos += padding;
        let rest = self.remaining();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        match parse_object(self.mode, rest) {
            Ok((after, (tag, value))) => {
                let consumed = rest.len() - after.len();
                let tlv = Tlv {
                    tag,
                    value,
                    offset: self.base + self.pos,
                    header_len: consumed - value.len(),
                };
                self.pos += consumed;
                Some(Ok(tlv))
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                self.done = true;
                let at = self.input.len() - e.input.len();
                Some(Err(TlvError {
                    offset: self.base + at,
                    kind: e.kind,
                }))
            }
            Err(nom::Err::Incomplete(_)) => {
                // Complete parsers never return Incomplete; treat it as a cut
                // tag rather than trusting that.
                self.done = true;
                Some(Err(TlvError {
                    offset: self.base + self.pos,
                    kind: TlvErrorKind::TruncatedTag,
                }))
            }
        }
    }
}

impl core::iter::FusedIterator for TlvIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Up to 8 objects as (tag, value length, offset), and how many.
    type Collected = ([(u32, usize, usize); 8], usize);

    fn collect(input: &[u8], mode: Mode) -> Result<Collected, TlvError> {
        let mut out = [(0u32, 0usize, 0usize); 8];
        let mut n = 0;
        for item in TlvIter::new(input, mode) {
            let tlv = item?;
            out[n] = (tlv.tag().raw(), tlv.value().len(), tlv.offset());
            n += 1;
        }
        Ok((out, n))
    }

    #[test]
    fn one_byte_tag_short_length() {
        let (out, n) = collect(&[0x5A, 0x02, 0x12, 0x34], Mode::Strict).unwrap();
        assert_eq!(n, 1);
        assert_eq!(out[0], (0x5A, 2, 0));
    }

    #[test]
    fn two_and_three_byte_tags() {
        let input = [
            0x9F, 0x02, 0x06, 0, 0, 0, 0, 0x10, 0x00, 0xDF, 0x81, 0x29, 0x01, 0xAB,
        ];
        let (out, n) = collect(&input, Mode::Strict).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out[0], (0x9F02, 6, 0));
        assert_eq!(out[1], (0xDF8129, 1, 9));
    }

    #[test]
    fn long_form_lengths() {
        let mut buf = [0u8; 3 + 200];
        buf[..3].copy_from_slice(&[0x8C, 0x81, 200]);
        let (out, n) = collect(&buf, Mode::Strict).unwrap();
        assert_eq!((n, out[0]), (1, (0x8C, 200, 0)));

        let mut big = [0u8; 4 + 300];
        big[..4].copy_from_slice(&[0x70, 0x82, 0x01, 0x2C]);
        let (out, n) = collect(&big, Mode::Strict).unwrap();
        assert_eq!((n, out[0]), (1, (0x70, 300, 0)));
    }

    #[test]
    fn padding_before_between_after() {
        let input = [0, 0, 0x5A, 0x01, 0x99, 0, 0x82, 0x02, 0x19, 0x80, 0, 0, 0];
        let (out, n) = collect(&input, Mode::Strict).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out[0], (0x5A, 1, 2));
        assert_eq!(out[1], (0x82, 2, 6));
        assert_eq!(collect(&[0, 0, 0], Mode::Strict).unwrap().1, 0);
    }

    #[test]
    fn ff_is_not_padding() {
        // FF81 05 is a constructed Kernel 2 tag, not padding.
        let input = [0xFF, 0x81, 0x05, 0x03, 0x5A, 0x01, 0x01];
        let (out, n) = collect(&input, Mode::Strict).unwrap();
        assert_eq!((n, out[0]), (1, (0xFF8105, 3, 0)));
    }

    #[test]
    fn value_overrun_names_tag_and_offset() {
        let err = collect(&[0x5A, 0x01, 0x00, 0x9F, 0x02, 0x06, 0x00], Mode::Strict).unwrap_err();
        assert_eq!(
            err,
            TlvError {
                offset: 3,
                kind: TlvErrorKind::ValueOverrun {
                    tag: Tag::new(0x9F02),
                    length: 6,
                    available: 1
                }
            }
        );
        extern crate std;
        assert_eq!(
            std::format!("{err}"),
            "byte 3: tag 9F02 declares 6 value bytes but only 1 remain"
        );
    }

    #[test]
    fn truncations() {
        assert_eq!(
            collect(&[0x9F], Mode::Strict).unwrap_err().kind,
            TlvErrorKind::TruncatedTag
        );
        assert_eq!(
            collect(&[0x9F, 0x02], Mode::Strict).unwrap_err(),
            TlvError {
                offset: 2,
                kind: TlvErrorKind::TruncatedLength {
                    tag: Tag::new(0x9F02)
                }
            }
        );
        assert_eq!(
            collect(&[0x70, 0x82, 0x01], Mode::Strict).unwrap_err(),
            TlvError {
                offset: 1,
                kind: TlvErrorKind::TruncatedLength {
                    tag: Tag::new(0x70)
                }
            }
        );
    }

    #[test]
    fn strict_and_lenient_differences() {
        let non_minimal = [0x5A, 0x81, 0x01, 0x42];
        assert_eq!(
            collect(&non_minimal, Mode::Canonical).unwrap_err(),
            TlvError {
                offset: 1,
                kind: TlvErrorKind::NonMinimalLength {
                    tag: Tag::new(0x5A)
                }
            }
        );
        assert_eq!(collect(&non_minimal, Mode::Strict).unwrap().1, 1);
        assert_eq!(collect(&non_minimal, Mode::Lenient).unwrap().1, 1);

        let mut non_minimal_82 = [0u8; 4 + 0x90];
        non_minimal_82[..4].copy_from_slice(&[0x5A, 0x82, 0x00, 0x90]);
        assert_eq!(
            collect(&non_minimal_82, Mode::Canonical).unwrap_err().kind,
            TlvErrorKind::NonMinimalLength {
                tag: Tag::new(0x5A)
            }
        );
        assert_eq!(
            collect(&non_minimal_82, Mode::Strict).unwrap().0[0],
            (0x5A, 0x90, 0)
        );

        let four_byte_length = [0x5A, 0x83, 0x00, 0x00, 0x01, 0x42];
        assert_eq!(
            collect(&four_byte_length, Mode::Strict).unwrap_err().kind,
            TlvErrorKind::LengthTooLong {
                tag: Tag::new(0x5A),
                bytes: 4
            }
        );
        assert_eq!(collect(&four_byte_length, Mode::Lenient).unwrap().1, 1);

        let four_byte_tag = [0xDF, 0x81, 0x81, 0x01, 0x00];
        assert_eq!(
            collect(&four_byte_tag, Mode::Strict).unwrap_err().kind,
            TlvErrorKind::TagTooLong { max: 3 }
        );
        let (out, n) = collect(&four_byte_tag, Mode::Lenient).unwrap();
        assert_eq!((n, out[0].0), (1, 0xDF81_8101));

        let five_byte_tag = [0xDF, 0x81, 0x81, 0x81, 0x01, 0x00];
        assert_eq!(
            collect(&five_byte_tag, Mode::Lenient).unwrap_err().kind,
            TlvErrorKind::TagTooLong { max: 4 }
        );
    }

    #[test]
    fn indefinite_and_malformed() {
        assert_eq!(
            collect(&[0x70, 0x80, 0x00, 0x00], Mode::Lenient)
                .unwrap_err()
                .kind,
            TlvErrorKind::IndefiniteLength {
                tag: Tag::new(0x70)
            }
        );
        assert_eq!(
            collect(&[0x9F, 0x80, 0x01, 0x00], Mode::Lenient)
                .unwrap_err()
                .kind,
            TlvErrorKind::MalformedTag
        );
    }

    #[test]
    fn children_offsets_are_absolute() {
        // 70 07 [5A 01 11] [9F 34 01 22]
        let input = [0x70, 0x07, 0x5A, 0x01, 0x11, 0x9F, 0x34, 0x01, 0x22];
        let (outer, rest) = parse_one(&input, Mode::Strict).unwrap().unwrap();
        assert!(rest.is_empty());
        let kids: [_; 2] = {
            let mut it = outer.children(Mode::Strict);
            [it.next().unwrap().unwrap(), it.next().unwrap().unwrap()]
        };
        assert_eq!(kids[0].offset(), 2);
        assert_eq!(kids[1].offset(), 5);
        assert_eq!(kids[1].tag(), Tag::new(0x9F34));
        assert_eq!(kids[1].encoded_len(), 4);
    }

    #[test]
    fn iterator_stops_after_error() {
        let mut it = TlvIter::new(&[0x9F], Mode::Strict);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }
}
