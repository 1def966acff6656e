//! The PN532 host frame codec (NXP UM0701-02 §6.2.1): normal and extended information
//! frames, ACK, NACK and the syntax-error frame.
//!
//! ```text
//! normal:    00 | 00 FF | LEN | LCS | TFI | PD0 … PDn | DCS | 00
//! extended:  00 | 00 FF | FF FF | LENM LENL | LCS | TFI | PD0 … PDn | DCS | 00
//! ACK:       00 00 FF 00 FF 00        NACK: 00 00 FF FF 00 00
//! error:     00 00 FF 01 FF 7F 81 00  (the chip rejected the frame's syntax)
//! ```
//!
//! LEN counts TFI and PD; `LEN + LCS ≡ 0` (extended: `LENM + LENL + LCS ≡ 0`) and
//! `TFI + ΣPD + DCS ≡ 0` (mod 256). TFI is `D4` host → PN532 and `D5` PN532 → host; PD0 is the
//! command code and the response code is the command code + 1 (emv-facts §5.5, verified
//! frames \[V\]).
//!
//! Encoding writes into caller buffers; decoding returns views into the input and never
//! panics: any byte string gives a [`Frame`] or a [`FrameError`]. Leading bytes before the
//! start code `00 FF` (preamble, bus padding) are skipped; the postamble is not checked (it
//! carries no information, and some transports cut it).

use core::fmt;

/// TFI of a frame from the host controller to the PN532.
pub const TFI_HOST: u8 = 0xD4;
/// TFI of a frame from the PN532 to the host controller.
pub const TFI_CHIP: u8 = 0xD5;
/// TFI of the syntax-error frame (`00 00 FF 01 FF 7F 81 00`).
pub const TFI_ERROR: u8 = 0x7F;
/// The ACK frame.
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// The NACK frame (asks the other side to send its last frame again).
pub const NACK: [u8; 6] = [0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00];
/// The syntax-error ("application level error") frame sent by the PN532.
pub const ERROR_FRAME: [u8; 8] = [0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00];
/// Largest PD (command code included) of a normal frame: LEN ≤ 255 including TFI.
pub const MAX_NORMAL_PD: usize = 254;
/// Largest PD (command code included) of an extended frame: 264 data bytes + TFI
/// (UM0701-02 §6.2.1.2; the PN532's buffer limit).
pub const MAX_EXTENDED_PD: usize = 264;
/// Largest frame on the wire: an extended frame with [`MAX_EXTENDED_PD`] bytes of PD.
pub const MAX_FRAME_LEN: usize = frame_len(MAX_EXTENDED_PD);

/// Bytes on the wire of an information frame carrying `pd_len` bytes of PD (preamble and
/// postamble included); extended frames are used above [`MAX_NORMAL_PD`].
#[must_use]
pub const fn frame_len(pd_len: usize) -> usize {
    if pd_len <= MAX_NORMAL_PD {
        pd_len + 8
    } else {
        pd_len + 11
    }
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// No start code `00 FF` in the bytes.
    NoStartCode,
    /// The frame ends before its announced length (or before LEN/LCS).
    Truncated,
    /// The length checksum is wrong: `LEN + LCS ≠ 0` (extended: `LENM + LENL + LCS ≠ 0`).
    BadLengthChecksum,
    /// The data checksum is wrong: `TFI + ΣPD + DCS ≠ 0`.
    BadDataChecksum,
    /// LEN is 0 (no TFI), or an extended length above [`MAX_EXTENDED_PD`] + 1.
    BadLength,
    /// Encoding: the PD is empty or longer than [`MAX_EXTENDED_PD`], or the output buffer
    /// is too small.
    TooLong,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoStartCode => "no start code 00 FF",
            Self::Truncated => "frame truncated",
            Self::BadLengthChecksum => "wrong length checksum (LCS)",
            Self::BadDataChecksum => "wrong data checksum (DCS)",
            Self::BadLength => "invalid frame length",
            Self::TooLong => "frame too long for the buffer or the PN532",
        })
    }
}

impl core::error::Error for FrameError {}

/// A decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// The ACK frame.
    Ack,
    /// The NACK frame.
    Nack,
    /// The syntax-error frame (TFI `7F`, no PD).
    SyntaxError,
    /// An information frame (normal or extended).
    Information {
        /// The frame identifier (`D4` or `D5`).
        tfi: u8,
        /// PD0 … PDn (command or response code first).
        pd: &'a [u8],
    },
}

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

/// Encodes an information frame with `tfi` and `pd` into `out`; returns the frame length.
/// A normal frame is used when the PD fits ([`MAX_NORMAL_PD`]), an extended frame otherwise.
///
/// # Errors
/// [`FrameError::TooLong`] for an empty or too long PD, or an `out` shorter than
/// [`frame_len`]`(pd.len())`.
pub fn encode(tfi: u8, pd: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    if pd.is_empty() || pd.len() > MAX_EXTENDED_PD {
        return Err(FrameError::TooLong);
    }
    let total = frame_len(pd.len());
    let out = out.get_mut(..total).ok_or(FrameError::TooLong)?;
    let len = pd.len() + 1;
    let mut header = [0u8; 8];
    let header_len = if pd.len() <= MAX_NORMAL_PD {
        // `len` ≤ 255 here.
        let l = len as u8;
        header[..5].copy_from_slice(&[0x00, 0x00, 0xFF, l, l.wrapping_neg()]);
        5
    } else {
        let [m, l] = (len as u16).to_be_bytes();
        let lcs = m.wrapping_add(l).wrapping_neg();
        header.copy_from_slice(&[0x00, 0x00, 0xFF, 0xFF, 0xFF, m, l, lcs]);
        8
    };
    let dcs = tfi.wrapping_add(sum(pd)).wrapping_neg();
    let (head, rest) = out.split_at_mut(header_len);
    head.copy_from_slice(header.get(..header_len).ok_or(FrameError::TooLong)?);
    let (t, rest) = rest.split_first_mut().ok_or(FrameError::TooLong)?;
    *t = tfi;
    let (body, tail) = rest.split_at_mut(pd.len());
    body.copy_from_slice(pd);
    match tail {
        [d, p] => {
            *d = dcs;
            *p = 0x00;
        }
        _ => return Err(FrameError::TooLong),
    }
    Ok(total)
}

/// Encodes a host → PN532 command frame (TFI `D4`); `pd` starts with the command code.
///
/// # Errors
/// As [`encode`].
pub fn encode_command(pd: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    encode(TFI_HOST, pd, out)
}

/// Where the frame starts: the index of the `00` of the start code `00 FF`.
fn start_code(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == [0x00, 0xFF])
}

/// Decodes the first frame in `bytes` (leading garbage and preamble skipped). Returns the
/// frame and the number of bytes it used, postamble excluded.
///
/// # Errors
/// [`FrameError`]; never panics.
pub fn decode(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let start = start_code(bytes).ok_or(FrameError::NoStartCode)?;
    let after = bytes.get(start + 2..).ok_or(FrameError::Truncated)?;
    let (&a, &b) = match after {
        [a, b, ..] => (a, b),
        _ => return Err(FrameError::Truncated),
    };
    let header_end = start + 4;
    let (len, body_at) = match (a, b) {
        (0x00, 0xFF) => return Ok((Frame::Ack, header_end)),
        (0xFF, 0x00) => return Ok((Frame::Nack, header_end)),
        (0xFF, 0xFF) => {
            let (m, l, lcs) = match after.get(2..5) {
                Some(&[m, l, lcs]) => (m, l, lcs),
                _ => return Err(FrameError::Truncated),
            };
            if m.wrapping_add(l).wrapping_add(lcs) != 0 {
                return Err(FrameError::BadLengthChecksum);
            }
            let len = usize::from(u16::from_be_bytes([m, l]));
            if len > MAX_EXTENDED_PD + 1 {
                return Err(FrameError::BadLength);
            }
            (len, start + 7)
        }
        (len, lcs) => {
            if len.wrapping_add(lcs) != 0 {
                return Err(FrameError::BadLengthChecksum);
            }
            (usize::from(len), header_end)
        }
    };
    if len == 0 {
        return Err(FrameError::BadLength);
    }
    let body = bytes
        .get(body_at..body_at + len + 1)
        .ok_or(FrameError::Truncated)?;
    if sum(body) != 0 {
        return Err(FrameError::BadDataChecksum);
    }
    let (tfi, pd) = match body.split_last().map(|(_, data)| data.split_first()) {
        Some(Some((tfi, pd))) => (*tfi, pd),
        _ => return Err(FrameError::Truncated),
    };
    let frame = if tfi == TFI_ERROR && pd.is_empty() {
        Frame::SyntaxError
    } else {
        Frame::Information { tfi, pd }
    };
    Ok((frame, body_at + len + 1))
}

/// For a transport that reads a byte stream (HSU): how many bytes the frame starting in
/// `bytes` has on the wire, postamble included, once LEN is known. `None` while more bytes
/// are needed to tell; `Some(bytes.len())` when the header is already wrong (stop reading,
/// [`decode`] says why).
#[must_use]
pub fn wire_len(bytes: &[u8]) -> Option<usize> {
    let start = start_code(bytes)?;
    let after = bytes.get(start + 2..)?;
    match after {
        [0x00, 0xFF, ..] | [0xFF, 0x00, ..] => Some(start + 5),
        [0xFF, 0xFF, m, l, lcs, ..] => {
            if m.wrapping_add(*l).wrapping_add(*lcs) != 0 {
                return Some(bytes.len());
            }
            Some(start + 9 + usize::from(u16::from_be_bytes([*m, *l])))
        }
        [0xFF, 0xFF, ..] => None,
        [len, lcs, ..] => {
            if len.wrapping_add(*lcs) != 0 {
                return Some(bytes.len());
            }
            Some(start + 6 + usize::from(*len))
        }
        _ => None,
    }
}

/// Why a decoded frame is not the expected response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseError {
    /// The TFI is not `D5`.
    WrongTfi(u8),
    /// The response code is not the command code + 1.
    WrongCode {
        /// Command code + 1.
        expected: u8,
        /// The code received.
        found: u8,
    },
    /// The frame has no response code.
    Empty,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongTfi(t) => write!(f, "TFI {t:02X}, expected D5"),
            Self::WrongCode { expected, found } => {
                write!(f, "response code {found:02X}, expected {expected:02X}")
            }
            Self::Empty => f.write_str("response without code"),
        }
    }
}

impl core::error::Error for ResponseError {}

/// Checks that (`tfi`, `pd`) answers `command`: TFI `D5`, PD0 = `command + 1`. Returns the
/// response data after the code.
///
/// # Errors
/// [`ResponseError`].
pub fn response_data(command: u8, tfi: u8, pd: &[u8]) -> Result<&[u8], ResponseError> {
    if tfi != TFI_CHIP {
        return Err(ResponseError::WrongTfi(tfi));
    }
    let (&code, data) = pd.split_first().ok_or(ResponseError::Empty)?;
    let expected = command.wrapping_add(1);
    if code != expected {
        return Err(ResponseError::WrongCode {
            expected,
            found: code,
        });
    }
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const SELECT_PPSE: [u8; 20] = [
        0x00, 0xA4, 0x04, 0x00, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44,
        0x44, 0x46, 0x30, 0x31, 0x00,
    ];

    fn enc(pd: &[u8]) -> ([u8; MAX_FRAME_LEN], usize) {
        let mut out = [0u8; MAX_FRAME_LEN];
        let n = encode_command(pd, &mut out).unwrap();
        (out, n)
    }

    /// emv-facts §5.5 verified frames \[V\].
    #[test]
    fn verified_frames() {
        let (f, n) = enc(&[0x02]);
        assert_eq!(
            &f[..n],
            &[0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00]
        );
        let (f, n) = enc(&[0x14, 0x01, 0x14, 0x01]);
        assert_eq!(
            &f[..n],
            &[
                0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x01, 0x02, 0x00
            ]
        );
        let (f, n) = enc(&[0x4A, 0x01, 0x00]);
        assert_eq!(
            &f[..n],
            &[
                0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00
            ]
        );
        let mut pd = vec![0x40, 0x01];
        pd.extend_from_slice(&SELECT_PPSE);
        let (f, n) = enc(&pd);
        assert_eq!(&f[..5], &[0x00, 0x00, 0xFF, 0x17, 0xE9]);
        assert_eq!(&f[5..7], &[0xD4, 0x40]);
        assert_eq!(&f[n - 2..n], &[0x8F, 0x00]);
        // And they decode back.
        for pd in [
            &[0x02][..],
            &[0x14, 0x01, 0x14, 0x01],
            &[0x4A, 0x01, 0x00],
            &pd,
        ] {
            let (f, n) = enc(pd);
            let (frame, used) = decode(&f[..n]).unwrap();
            assert_eq!(frame, Frame::Information { tfi: TFI_HOST, pd });
            assert_eq!(used, n - 1);
            assert_eq!(wire_len(&f[..n]), Some(n));
        }
    }

    #[test]
    fn control_frames() {
        assert_eq!(decode(&ACK).unwrap(), (Frame::Ack, 5));
        assert_eq!(decode(&NACK).unwrap(), (Frame::Nack, 5));
        assert_eq!(decode(&ERROR_FRAME).unwrap(), (Frame::SyntaxError, 7));
        assert_eq!(wire_len(&ACK), Some(6));
        assert_eq!(wire_len(&NACK[..4]), None);
        assert_eq!(wire_len(&NACK[..5]), Some(6));
        assert_eq!(wire_len(&ERROR_FRAME[..5]), Some(8));
        // Leading garbage and a longer preamble are skipped.
        let mut padded = vec![0x12, 0x00, 0x00, 0x00];
        padded.extend_from_slice(&ACK[1..]);
        assert_eq!(decode(&padded).unwrap().0, Frame::Ack);
    }

    #[test]
    fn extended_frames() {
        let pd: Vec<u8> = (0..MAX_EXTENDED_PD).map(|i| i as u8).collect();
        let (f, n) = enc(&pd);
        assert_eq!(n, MAX_FRAME_LEN);
        assert_eq!(&f[..5], &[0x00, 0x00, 0xFF, 0xFF, 0xFF]);
        let len = (pd.len() + 1) as u16;
        assert_eq!(&f[5..7], &len.to_be_bytes());
        assert_eq!(f[5].wrapping_add(f[6]).wrapping_add(f[7]), 0);
        assert_eq!(
            decode(&f[..n]).unwrap().0,
            Frame::Information {
                tfi: TFI_HOST,
                pd: &pd
            }
        );
        assert_eq!(wire_len(&f[..8]), Some(n));
        // The normal/extended boundary.
        let (_, n) = enc(&pd[..MAX_NORMAL_PD]);
        assert_eq!(n, MAX_NORMAL_PD + 8);
        let (f, n) = enc(&pd[..MAX_NORMAL_PD + 1]);
        assert_eq!(n, MAX_NORMAL_PD + 12);
        assert_eq!(f[3], 0xFF);
        assert_eq!(
            decode(&f[..n]).unwrap().0,
            Frame::Information {
                tfi: TFI_HOST,
                pd: &pd[..MAX_NORMAL_PD + 1]
            }
        );
    }

    #[test]
    fn every_error() {
        let mut out = [0u8; 16];
        assert_eq!(encode_command(&[], &mut out), Err(FrameError::TooLong));
        assert_eq!(encode_command(&[1; 9], &mut out), Err(FrameError::TooLong));
        assert_eq!(
            encode_command(&[0; MAX_EXTENDED_PD + 1], &mut [0u8; 400]),
            Err(FrameError::TooLong)
        );
        let (f, n) = enc(&[0x02]);
        assert_eq!(decode(&[0x00, 0x00, 0x00]), Err(FrameError::NoStartCode));
        assert_eq!(decode(&f[..3]), Err(FrameError::Truncated));
        assert_eq!(decode(&f[..n - 2]), Err(FrameError::Truncated));
        let mut bad = f;
        bad[4] ^= 1;
        assert_eq!(decode(&bad[..n]), Err(FrameError::BadLengthChecksum));
        assert_eq!(wire_len(&bad[..n]), Some(n));
        let mut bad = f;
        bad[6] ^= 1;
        assert_eq!(decode(&bad[..n]), Err(FrameError::BadDataChecksum));
        // LEN 0.
        assert_eq!(
            decode(&[0x00, 0x00, 0xFF, 0x01, 0xFF, 0x00]),
            Err(FrameError::Truncated)
        );
        assert_eq!(
            decode(&[0x00, 0xFF, 0x00, 0x00, 0x00]),
            Err(FrameError::BadLength)
        );
        // Extended: bad LCS, too long, truncated.
        assert_eq!(
            decode(&[0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00]),
            Err(FrameError::BadLengthChecksum)
        );
        assert_eq!(
            decode(&[0x00, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0xFE]),
            Err(FrameError::BadLength)
        );
        assert_eq!(
            decode(&[0x00, 0xFF, 0xFF, 0xFF, 0x01]),
            Err(FrameError::Truncated)
        );
        // Response checks.
        assert_eq!(response_data(0x02, 0xD5, &[0x03, 1, 2]), Ok(&[1u8, 2][..]));
        assert_eq!(
            response_data(0x02, 0xD4, &[0x03]),
            Err(ResponseError::WrongTfi(0xD4))
        );
        assert_eq!(
            response_data(0x02, 0xD5, &[0x15]),
            Err(ResponseError::WrongCode {
                expected: 0x03,
                found: 0x15
            })
        );
        assert_eq!(response_data(0x02, 0xD5, &[]), Err(ResponseError::Empty));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics() {
        // A cheap exhaustive-ish sweep; the integration tests add random bus corruption.
        let mut x = 0x1234_5678u32;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        if x.is_multiple_of(3) {
                            0
                        } else {
                            (x >> 8) as u8
                        }
                    })
                    .collect();
                let _ = decode(&bytes);
                let _ = wire_len(&bytes);
            }
        }
    }
}
