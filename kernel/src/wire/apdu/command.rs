//! Command APDUs (ISO/IEC 7816-4 §5.1 and §5.2; EMV Book 1 §11.1).
//!
//! A C-APDU is a 4-byte header `CLA INS P1 P2`, optional command data with
//! its length Lc, and an optional expected response length Le. The four
//! cases:
//!
//! | case | data | Le | short encoding            | extended encoding                  |
//! |------|------|----|---------------------------|------------------------------------|
//! | 1    | no   | no | header                    | —                                  |
//! | 2    | no   | yes| header Le                 | header 00 Le(2)                    |
//! | 3    | yes  | no | header Lc data            | header 00 Lc(2) data               |
//! | 4    | yes  | yes| header Lc data Le         | header 00 Lc(2) data Le(2)         |
//!
//! In the short form Le `00` means 256 bytes; in the extended form `0000`
//! means 65 536. EMV itself uses short APDUs only; extended ones are here for
//! readers and cards that need them.

use core::fmt;

/// Why a C-APDU could not be built or parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApduError {
    /// Fewer than 4 header bytes (C-APDU) or 2 status bytes (R-APDU).
    TooShort {
        /// Bytes present.
        len: usize,
    },
    /// The length fields do not match the number of bytes present
    /// (ISO/IEC 7816-4 §5.1 decoding of cases).
    LengthMismatch {
        /// Bytes present.
        len: usize,
        /// Offset of the length field that does not fit.
        offset: usize,
    },
    /// Lc of zero in a case 3/4 encoding, which ISO/IEC 7816-4 forbids.
    ZeroLc {
        /// Offset of the Lc field.
        offset: usize,
    },
    /// Command data too long for the encoding (255 short, 65 535 extended).
    DataTooLong {
        /// Data length.
        len: usize,
    },
    /// Le outside 1..=256 (short) or 1..=65 536 (extended).
    LeOutOfRange {
        /// The requested Le.
        le: usize,
    },
    /// The output buffer is too small; `needed` bytes would be enough.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

impl fmt::Display for ApduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { len } => write!(f, "APDU of {len} bytes is too short"),
            Self::LengthMismatch { len, offset } => write!(
                f,
                "byte {offset}: length field does not match the {len} bytes of the APDU"
            ),
            Self::ZeroLc { offset } => write!(f, "byte {offset}: Lc is zero"),
            Self::DataTooLong { len } => {
                write!(f, "{len} bytes of command data do not fit the encoding")
            }
            Self::LeOutOfRange { le } => write!(f, "Le {le} is out of range"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for ApduError {}

/// The four command cases of ISO/IEC 7816-4 §5.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// No data, no response data expected.
    Case1,
    /// No data, response data expected.
    Case2,
    /// Data, no response data expected.
    Case3,
    /// Data, response data expected.
    Case4,
}

/// Length-field encoding of a C-APDU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Short when everything fits (data ≤ 255, Le ≤ 256), extended otherwise.
    #[default]
    Auto,
    /// One-byte Lc and Le.
    Short,
    /// Three-byte Lc (`00 xx xx`) and two- or three-byte Le.
    Extended,
}

/// A command APDU borrowing its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandApdu<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Expected response length: `None` for cases 1 and 3; `Some(256)` is
    /// the short `00`, "up to 256 bytes".
    pub le: Option<usize>,
}

impl<'a> CommandApdu<'a> {
    /// A command with the given header, no data and no Le (case 1).
    #[must_use]
    pub const fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: &[],
            le: None,
        }
    }

    /// The same command carrying `data`.
    #[must_use]
    pub const fn with_data(self, data: &'a [u8]) -> Self {
        Self { data, ..self }
    }

    /// The same command expecting up to `le` response bytes.
    #[must_use]
    pub const fn with_le(self, le: usize) -> Self {
        Self {
            le: Some(le),
            ..self
        }
    }

    /// The command's case.
    #[must_use]
    pub const fn case(&self) -> Case {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => Case::Case1,
            (true, true) => Case::Case2,
            (false, false) => Case::Case3,
            (false, true) => Case::Case4,
        }
    }

    fn resolve(&self, encoding: Encoding) -> Result<bool, ApduError> {
        let fits_short = self.data.len() <= 255 && self.le.is_none_or(|le| le <= 256);
        let extended = match encoding {
            Encoding::Auto => !fits_short,
            Encoding::Short => false,
            Encoding::Extended => self.case() != Case::Case1,
        };
        let (max_data, max_le) = if extended {
            (65_535, 65_536)
        } else {
            (255, 256)
        };
        if self.data.len() > max_data {
            return Err(ApduError::DataTooLong {
                len: self.data.len(),
            });
        }
        if let Some(le) = self.le
            && (le == 0 || le > max_le)
        {
            return Err(ApduError::LeOutOfRange { le });
        }
        Ok(extended)
    }

    /// Bytes the encoded command takes.
    pub fn encoded_len(&self, encoding: Encoding) -> Result<usize, ApduError> {
        let extended = self.resolve(encoding)?;
        let lc = match (self.data.is_empty(), extended) {
            (true, _) => 0,
            (false, false) => 1,
            (false, true) => 3,
        };
        let le = match (self.le, extended, self.data.is_empty()) {
            (None, _, _) => 0,
            (Some(_), false, _) => 1,
            (Some(_), true, true) => 3,
            (Some(_), true, false) => 2,
        };
        Ok(4 + lc + self.data.len() + le)
    }

    /// Writes the command into `out` and returns its length.
    pub fn emit(&self, out: &mut [u8], encoding: Encoding) -> Result<usize, ApduError> {
        let extended = self.resolve(encoding)?;
        let needed = self.encoded_len(encoding)?;
        let out = out
            .get_mut(..needed)
            .ok_or(ApduError::BufferTooSmall { needed })?;
        let mut pos = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = out.get_mut(pos..pos + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            pos += bytes.len();
        };
        put(&[self.cla, self.ins, self.p1, self.p2]);
        let lc = self.data.len();
        if lc > 0 {
            if extended {
                put(&[0x00, (lc >> 8) as u8, lc as u8]);
            } else {
                put(&[lc as u8]);
            }
            put(self.data);
        }
        if let Some(le) = self.le {
            // 256 (short) and 65 536 (extended) encode as zeros.
            if extended {
                if lc == 0 {
                    put(&[0x00]);
                }
                put(&[(le >> 8) as u8, le as u8]);
            } else {
                put(&[le as u8]);
            }
        }
        Ok(needed)
    }

    /// Parses an encoded C-APDU (ISO/IEC 7816-4 §5.1 case decoding) and
    /// reports which length encoding it used.
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, Encoding), ApduError> {
        let len = bytes.len();
        let (header, body) = bytes
            .split_at_checked(4)
            .ok_or(ApduError::TooShort { len })?;
        let &[cla, ins, p1, p2] = header else {
            return Err(ApduError::TooShort { len });
        };
        let base = Self::new(cla, ins, p1, p2);
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let ext_le = |hi: u8, lo: u8| match usize::from(hi) << 8 | usize::from(lo) {
            0 => 65_536,
            n => n,
        };
        match body {
            [] => Ok((base, Encoding::Short)),
            [le] => Ok((base.with_le(short_le(*le)), Encoding::Short)),
            [0, hi, lo] => Ok((base.with_le(ext_le(*hi, *lo)), Encoding::Extended)),
            [0, hi, lo, rest @ ..] => {
                let lc = usize::from(*hi) << 8 | usize::from(*lo);
                if lc == 0 {
                    return Err(ApduError::ZeroLc { offset: 4 });
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok((base.with_data(rest), Encoding::Extended)),
                    Some(2) => {
                        let (data, le) = rest.split_at(lc);
                        let &[hi, lo] = le else {
                            return Err(ApduError::LengthMismatch { len, offset: 4 });
                        };
                        Ok((
                            base.with_data(data).with_le(ext_le(hi, lo)),
                            Encoding::Extended,
                        ))
                    }
                    _ => Err(ApduError::LengthMismatch { len, offset: 4 }),
                }
            }
            [lc, rest @ ..] => {
                // A short Lc is 1..=255; `00` here would announce an
                // extended APDU, whose shape this body does not have.
                if *lc == 0 {
                    return Err(ApduError::ZeroLc { offset: 4 });
                }
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok((base.with_data(rest), Encoding::Short)),
                    Some(1) => {
                        let (data, le) = rest.split_at(lc);
                        let le = le.first().copied().unwrap_or(0);
                        Ok((base.with_data(data).with_le(short_le(le)), Encoding::Short))
                    }
                    _ => Err(ApduError::LengthMismatch { len, offset: 4 }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(c: &CommandApdu<'_>, enc: Encoding) -> ([u8; 400], usize) {
        let mut buf = [0u8; 400];
        let n = c.emit(&mut buf, enc).unwrap();
        (buf, n)
    }

    #[test]
    fn four_cases_short() {
        let c1 = CommandApdu::new(0x00, 0x84, 0, 0);
        let (b, n) = emit(&c1, Encoding::Auto);
        assert_eq!(&b[..n], &[0x00, 0x84, 0, 0]);
        assert_eq!(c1.case(), Case::Case1);

        let c2 = CommandApdu::new(0x00, 0x84, 0, 0).with_le(8);
        let (b, n) = emit(&c2, Encoding::Auto);
        assert_eq!(&b[..n], &[0x00, 0x84, 0, 0, 0x08]);

        let aid = [0xA0, 0, 0, 0, 3, 0x10, 0x10];
        let c4 = CommandApdu::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(&aid)
            .with_le(256);
        let (b, n) = emit(&c4, Encoding::Auto);
        assert_eq!(
            &b[..n],
            &[
                0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x00
            ]
        );
        assert_eq!(c4.case(), Case::Case4);

        let c3 = CommandApdu::new(0x00, 0x82, 0, 0).with_data(&[1, 2]);
        let (b, n) = emit(&c3, Encoding::Auto);
        assert_eq!(&b[..n], &[0x00, 0x82, 0, 0, 2, 1, 2]);
    }

    #[test]
    fn extended_forms() {
        let c2 = CommandApdu::new(0x00, 0xB0, 0, 0).with_le(65_536);
        let (b, n) = emit(&c2, Encoding::Auto);
        assert_eq!(&b[..n], &[0x00, 0xB0, 0, 0, 0, 0, 0]);

        let data = [0x11u8; 260];
        let c4 = CommandApdu::new(0x00, 0xD6, 0, 0)
            .with_data(&data)
            .with_le(512);
        let (b, n) = emit(&c4, Encoding::Auto);
        assert_eq!(n, 4 + 3 + 260 + 2);
        assert_eq!(&b[4..7], &[0x00, 0x01, 0x04]);
        assert_eq!(&b[n - 2..n], &[0x02, 0x00]);

        let (b, n) = emit(
            &CommandApdu::new(0, 0xCA, 0x9F, 0x17).with_le(4),
            Encoding::Extended,
        );
        assert_eq!(&b[..n], &[0, 0xCA, 0x9F, 0x17, 0, 0, 4]);
    }

    #[test]
    fn short_limits_are_enforced() {
        let data = [0u8; 256];
        let c = CommandApdu::new(0, 0xD6, 0, 0).with_data(&data);
        assert_eq!(
            c.emit(&mut [0u8; 300], Encoding::Short),
            Err(ApduError::DataTooLong { len: 256 })
        );
        let c = CommandApdu::new(0, 0xB0, 0, 0).with_le(257);
        assert_eq!(
            c.emit(&mut [0u8; 8], Encoding::Short),
            Err(ApduError::LeOutOfRange { le: 257 })
        );
        let c = CommandApdu::new(0, 0xB0, 0, 0).with_le(0);
        assert_eq!(
            c.encoded_len(Encoding::Auto),
            Err(ApduError::LeOutOfRange { le: 0 })
        );
        let c = CommandApdu::new(0, 0xB0, 0, 0).with_le(5);
        assert_eq!(
            c.emit(&mut [0u8; 4], Encoding::Auto),
            Err(ApduError::BufferTooSmall { needed: 5 })
        );
    }

    #[test]
    fn parse_every_case() {
        let gpo = [0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00];
        let (c, e) = CommandApdu::parse(&gpo).unwrap();
        assert_eq!(
            (c.ins, c.data, c.le, e),
            (0xA8, &[0x83, 0x00][..], Some(256), Encoding::Short)
        );
        assert_eq!(c.case(), Case::Case4);

        let (c, _) = CommandApdu::parse(&[0x00, 0xB2, 0x01, 0x0C, 0x00]).unwrap();
        assert_eq!((c.case(), c.le), (Case::Case2, Some(256)));

        let (c, _) = CommandApdu::parse(&[0x00, 0x82, 0x00, 0x00, 0x02, 0xAA, 0xBB]).unwrap();
        assert_eq!((c.case(), c.data), (Case::Case3, &[0xAA, 0xBB][..]));

        let (c, e) = CommandApdu::parse(&[0x00, 0xB0, 0, 0, 0, 0x01, 0x00]).unwrap();
        assert_eq!((c.le, e), (Some(256), Encoding::Extended));

        let (c, e) = CommandApdu::parse(&[0x00, 0xD6, 0, 0, 0, 0, 2, 9, 9, 0, 0]).unwrap();
        assert_eq!(
            (c.data, c.le, e),
            (&[9, 9][..], Some(65_536), Encoding::Extended)
        );

        assert_eq!(
            CommandApdu::parse(&[0x00, 0xA4]),
            Err(ApduError::TooShort { len: 2 })
        );
        assert_eq!(
            CommandApdu::parse(&[0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0]),
            Err(ApduError::LengthMismatch { len: 6, offset: 4 })
        );
        assert_eq!(
            CommandApdu::parse(&[0x00, 0xA4, 0, 0, 0, 0, 0, 1]),
            Err(ApduError::ZeroLc { offset: 4 })
        );
        // Found by the fuzz seed replay: `00 xx` is neither a short case 4
        // (Lc 0 is not allowed) nor an extended case 2 (needs 3 bytes).
        assert_eq!(
            CommandApdu::parse(&[0x70, 0x18, 0x8E, 0x0C, 0x00, 0x00]),
            Err(ApduError::ZeroLc { offset: 4 })
        );
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let data = [0x5Au8; 300];
        for (len, le, enc) in [
            (0, None, Encoding::Short),
            (0, Some(1), Encoding::Short),
            (0, Some(256), Encoding::Short),
            (5, None, Encoding::Short),
            (255, Some(256), Encoding::Short),
            (300, None, Encoding::Extended),
            (3, Some(70), Encoding::Extended),
            (0, Some(1000), Encoding::Extended),
        ] {
            let mut c = CommandApdu::new(0x80, 0xAE, 0x80, 0).with_data(&data[..len]);
            c.le = le;
            let (b, n) = emit(&c, enc);
            let (back, used) = CommandApdu::parse(&b[..n]).unwrap();
            assert_eq!(back, c);
            assert_eq!(
                used,
                if len == 0 && le.is_none() {
                    Encoding::Short
                } else {
                    enc
                }
            );
        }
    }
}
