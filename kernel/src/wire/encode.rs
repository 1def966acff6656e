//! BER-TLV encoding into a caller-owned buffer (EMV Book 3 Annex B).
//!
//! [`TlvWriter`] never allocates and never writes past its buffer. When the
//! buffer is too small it keeps counting, so [`TlvWriter::finish`] can report
//! the length the caller needs; call again with a buffer that size. Lengths
//! are always minimally encoded and limited to `82 xx xx` (65 535 bytes), the
//! longest EMV allows.

use core::fmt;

use super::tag::Tag;

/// Largest value length the encoder writes (`82 FF FF`).
pub const MAX_VALUE_LEN: usize = 0xFFFF;

/// Why encoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is too short; `needed` bytes would have been enough.
    BufferTooSmall {
        /// Bytes the whole encoding needs.
        needed: usize,
    },
    /// A value is longer than [`MAX_VALUE_LEN`].
    ValueTooLong {
        /// The tag of the object.
        tag: Tag,
        /// Its value length.
        length: usize,
    },
    /// The tag is not a well-formed BER tag ([`Tag::is_well_formed`]).
    MalformedTag {
        /// The tag.
        tag: Tag,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::ValueTooLong { tag, length } => write!(
                f,
                "value of tag {tag} is {length} bytes, more than the {MAX_VALUE_LEN} EMV allows"
            ),
            Self::MalformedTag { tag } => write!(f, "tag {tag} is not a well-formed BER tag"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Number of bytes the length field for `len` takes (1, 2 or 3), or `None`
/// above [`MAX_VALUE_LEN`].
#[must_use]
pub const fn length_field_len(len: usize) -> Option<usize> {
    if len < 0x80 {
        Some(1)
    } else if len <= 0xFF {
        Some(2)
    } else if len <= MAX_VALUE_LEN {
        Some(3)
    } else {
        None
    }
}

/// Bytes a whole object with this tag and value length takes, or `None` when
/// the value is too long to encode.
#[must_use]
pub const fn encoded_len(tag: Tag, value_len: usize) -> Option<usize> {
    match length_field_len(value_len) {
        Some(n) => Some(tag.len() + n + value_len),
        None => None,
    }
}

/// Writes TLV objects into a caller-owned buffer.
///
/// ```
/// use emv_kernel::Tag;
/// use emv_kernel::wire::encode::TlvWriter;
///
/// let mut buf = [0u8; 16];
/// let mut w = TlvWriter::new(&mut buf);
/// w.constructed(Tag::new(0x70), |w| {
///     w.primitive(Tag::new(0x5A), &[0x47, 0x61]);
///     w.primitive(Tag::new(0x9F02), &[0, 0, 0, 0, 0x10, 0x00]);
/// });
/// let n = w.finish().unwrap();
/// assert_eq!(&buf[..n], &[0x70, 0x0D, 0x5A, 0x02, 0x47, 0x61,
///                         0x9F, 0x02, 0x06, 0, 0, 0, 0, 0x10, 0x00]);
/// ```
#[derive(Debug)]
pub struct TlvWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
    error: Option<EncodeError>,
}

impl<'a> TlvWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            error: None,
        }
    }

    /// Appends raw bytes (already-encoded TLV, padding).
    pub fn raw(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.pos += bytes.len();
    }

    fn header(&mut self, tag: Tag, len: usize) {
        if !tag.is_well_formed() {
            self.error.get_or_insert(EncodeError::MalformedTag { tag });
        }
        let bytes = tag.to_bytes();
        self.raw(bytes.get(..tag.len()).unwrap_or_default());
        let be = (len as u32).to_be_bytes();
        match length_field_len(len) {
            Some(1) => self.raw(&[be[3]]),
            Some(2) => self.raw(&[0x81, be[3]]),
            Some(_) => self.raw(&[0x82, be[2], be[3]]),
            None => {
                self.error
                    .get_or_insert(EncodeError::ValueTooLong { tag, length: len });
            }
        }
    }

    /// Appends a primitive object.
    pub fn primitive(&mut self, tag: Tag, value: &[u8]) {
        self.header(tag, value.len());
        self.raw(value);
    }

    /// Appends a constructed object whose children `body` writes.
    ///
    /// `body` runs twice: once to measure the content, once to write it. It
    /// must write the same thing both times.
    pub fn constructed(&mut self, tag: Tag, body: impl Fn(&mut TlvWriter<'_>)) {
        let mut measure = TlvWriter::new(&mut []);
        body(&mut measure);
        if let Some(e) = measure.error {
            self.error.get_or_insert(e);
        }
        self.header(tag, measure.pos);
        body(self);
    }

    /// Bytes written (or that would have been written) so far.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing has been written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The encoded length, or why the encoding is not in the buffer.
    pub fn finish(self) -> Result<usize, EncodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.pos > self.buf.len() {
            return Err(EncodeError::BufferTooSmall { needed: self.pos });
        }
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_forms() {
        let mut buf = [0u8; 400];
        let value = [0xAB; 300];
        for (len, header) in [
            (0usize, &[0x5A, 0x00][..]),
            (127, &[0x5A, 0x7F]),
            (128, &[0x5A, 0x81, 0x80]),
            (255, &[0x5A, 0x81, 0xFF]),
            (256, &[0x5A, 0x82, 0x01, 0x00]),
            (300, &[0x5A, 0x82, 0x01, 0x2C]),
        ] {
            let mut w = TlvWriter::new(&mut buf);
            w.primitive(Tag::new(0x5A), &value[..len]);
            let n = w.finish().unwrap();
            assert_eq!(n, header.len() + len);
            assert_eq!(&buf[..header.len()], header, "length {len}");
            assert_eq!(encoded_len(Tag::new(0x5A), len), Some(n));
        }
    }

    #[test]
    fn reports_needed_length() {
        let mut small = [0u8; 4];
        let mut w = TlvWriter::new(&mut small);
        w.primitive(Tag::new(0x9F02), &[0, 0, 0, 0, 0x10, 0]);
        assert_eq!(w.finish(), Err(EncodeError::BufferTooSmall { needed: 9 }));
        // Nothing was written past the buffer, and what fits is consistent.
        assert_eq!(small, [0x9F, 0x02, 0x06, 0x00]);
    }

    #[test]
    fn rejects_bad_tags_and_lengths() {
        let mut buf = [0u8; 8];
        let mut w = TlvWriter::new(&mut buf);
        w.primitive(Tag::new(0x1F), &[]);
        assert_eq!(
            w.finish(),
            Err(EncodeError::MalformedTag {
                tag: Tag::new(0x1F)
            })
        );
        assert_eq!(encoded_len(Tag::new(0x5A), 70_000), None);
    }

    #[test]
    fn nested_constructed() {
        let mut buf = [0u8; 32];
        let mut w = TlvWriter::new(&mut buf);
        w.constructed(Tag::new(0x77), |w| {
            w.primitive(Tag::new(0x82), &[0x19, 0x80]);
            w.constructed(Tag::new(0xFF8105), |w| w.primitive(Tag::new(0x5A), &[1]));
        });
        let n = w.finish().unwrap();
        assert_eq!(
            &buf[..n],
            &[
                0x77, 0x0B, 0x82, 0x02, 0x19, 0x80, 0xFF, 0x81, 0x05, 0x03, 0x5A, 0x01, 0x01
            ]
        );
    }
}
