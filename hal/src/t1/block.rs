//! The T=1 block frame: prologue, information field, epilogue (ISO/IEC 7816-3:2006 §11.3).
//!
//! * §11.3.1 block frame: prologue NAD ‖ PCB ‖ LEN, INF of LEN bytes (0..=254, `FF` reserved),
//!   epilogue EDC of one (LRC) or two (CRC) bytes — [`Block::encode`], [`Block::decode`];
//! * §11.3.2 the three block kinds and their PCB codings — [`BlockKind`], [`SBlock`],
//!   [`RCode`];
//! * §11.4.4 the error detection code — [`lrc`], [`crc`], [`edc_len`].
//!
//! Decoding is strict: every RFU bit of the PCB must be 0, an R-block carries no INF, an
//! S-block carries exactly the INF its type defines (one byte for IFS and WTX, none
//! otherwise). A block that breaks a rule is *invalid* in the sense of §11.6.3; the caller
//! (the engine) answers it with an R-block.

use crate::atr::Edc;

/// Largest INF a block can carry (ISO/IEC 7816-3 §11.3.2.3: LEN `00`..`FE`; `FF` is RFU).
pub const MAX_INF: usize = 254;
/// Prologue length: NAD, PCB, LEN.
pub const PROLOGUE_LEN: usize = 3;
/// Largest block on the wire: prologue, 254 bytes of INF, a two-byte CRC.
pub const MAX_BLOCK_LEN: usize = PROLOGUE_LEN + MAX_INF + 2;

/// Length of the epilogue for an EDC kind: 1 for LRC, 2 for CRC (ISO/IEC 7816-3 §11.4.4).
#[must_use]
pub const fn edc_len(edc: Edc) -> usize {
    match edc {
        Edc::Lrc => 1,
        Edc::Crc => 2,
    }
}

/// Longitudinal redundancy check: the XOR of all bytes (ISO/IEC 7816-3 §11.4.4).
#[must_use]
pub fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Cyclic redundancy check of ISO/IEC 7816-3 §11.4.4 (generator x¹⁶ + x¹² + x⁵ + 1,
/// ISO/IEC 13239), computed as the CCID driver does \[S: CCID `src/openct/checksum.c`; M
/// against the ISO text\]: bit-reflected, initial value `FFFF`, no final complement. On the
/// wire the high byte of the returned value goes first (see [`Block::encode`]).
///
/// EMV uses LRC only (EMV L1 §8.3: TC3 = `00`); this exists for ISO cards that ask for CRC.
#[must_use]
pub fn crc(bytes: &[u8]) -> u16 {
    let mut v: u16 = 0xFFFF;
    for &b in bytes {
        let mut x = (v ^ u16::from(b)) & 0x00FF;
        for _ in 0..8 {
            x = if x & 1 != 0 {
                (x >> 1) ^ 0x8408
            } else {
                x >> 1
            };
        }
        v = (v >> 8) ^ x;
    }
    v
}

/// The error indication of an R-block, PCB bits b4..b1 (ISO/IEC 7816-3 §11.3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RCode {
    /// `0`: error free (a plain acknowledgement or retransmission request).
    Ok,
    /// `1`: EDC and/or parity error.
    EdcOrParity,
    /// `2`: other error.
    Other,
}

impl RCode {
    /// The four-bit error code.
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::EdcOrParity => 1,
            Self::Other => 2,
        }
    }

    /// The code for the four low bits of an R-block PCB; `None` for the RFU values.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(Self::Ok),
            1 => Some(Self::EdcOrParity),
            2 => Some(Self::Other),
            _ => None,
        }
    }
}

/// A supervisory block (ISO/IEC 7816-3 §11.3.2.2, PCB `11 r tttttt`, r = 1 for a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SBlock {
    /// `C0`: S(RESYNCH request), sent by the interface device only.
    ResynchRequest,
    /// `E0`: S(RESYNCH response).
    ResynchResponse,
    /// `C1`: S(IFS request) carrying the new IFSC (from the card) or IFSD (from the terminal).
    IfsRequest(u8),
    /// `E1`: S(IFS response), echoing the requested size.
    IfsResponse(u8),
    /// `C2`: S(ABORT request), abort the chain in progress.
    AbortRequest,
    /// `E2`: S(ABORT response).
    AbortResponse,
    /// `C3`: S(WTX request) from the card, carrying the BWT multiplier.
    WtxRequest(u8),
    /// `E3`: S(WTX response), echoing the multiplier.
    WtxResponse(u8),
    /// `E4`: S(VPP error response) from the card (ISO/IEC 7816-3:1997; VPP is obsolete).
    VppError,
}

impl SBlock {
    /// The PCB byte of this S-block.
    #[must_use]
    pub const fn pcb(self) -> u8 {
        match self {
            Self::ResynchRequest => 0xC0,
            Self::ResynchResponse => 0xE0,
            Self::IfsRequest(_) => 0xC1,
            Self::IfsResponse(_) => 0xE1,
            Self::AbortRequest => 0xC2,
            Self::AbortResponse => 0xE2,
            Self::WtxRequest(_) => 0xC3,
            Self::WtxResponse(_) => 0xE3,
            Self::VppError => 0xE4,
        }
    }

    /// The one-byte INF of IFS and WTX blocks, `None` for the others.
    #[must_use]
    pub const fn inf(self) -> Option<u8> {
        match self {
            Self::IfsRequest(v)
            | Self::IfsResponse(v)
            | Self::WtxRequest(v)
            | Self::WtxResponse(v) => Some(v),
            Self::ResynchRequest
            | Self::ResynchResponse
            | Self::AbortRequest
            | Self::AbortResponse
            | Self::VppError => None,
        }
    }

    /// Whether this is a response (PCB bit b6 set).
    #[must_use]
    pub const fn is_response(self) -> bool {
        self.pcb() & 0x20 != 0
    }
}

/// The kind of a block and the fields its PCB and INF carry (ISO/IEC 7816-3 §11.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind<'a> {
    /// Information block, PCB `0 N(S) M 00000`.
    I {
        /// Send sequence number N(S), bit b7.
        ns: bool,
        /// More-data bit M (chaining), bit b6.
        more: bool,
        /// The information field: a piece of an APDU.
        inf: &'a [u8],
    },
    /// Receive-ready block, PCB `100 N(R) eeee`.
    R {
        /// N(R): the N(S) of the next expected I-block, bit b5.
        nr: bool,
        /// The error indication.
        code: RCode,
    },
    /// Supervisory block.
    S(SBlock),
}

/// One T=1 block: the node address and the kind (ISO/IEC 7816-3 §11.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Block<'a> {
    /// Node address byte (NAD). EMV terminals and cards use `00` \[M\].
    pub nad: u8,
    /// PCB and INF.
    pub kind: BlockKind<'a>,
}

/// Why a byte string is not a valid block (ISO/IEC 7816-3 §11.3, §11.6.3 "invalid block").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// Fewer bytes than a prologue and an epilogue.
    #[error("block too short: {len} byte(s), at least {min} needed")]
    TooShort {
        /// Bytes given.
        len: usize,
        /// Prologue plus epilogue length.
        min: usize,
    },
    /// LEN is `FF`, a reserved value (ISO/IEC 7816-3 §11.3.2.3; invalid for EMV).
    #[error("LEN FF at offset 2 is reserved")]
    LenReserved,
    /// The byte count does not match LEN.
    #[error("LEN {len} announces a block of {expected} bytes, {found} given")]
    LengthMismatch {
        /// The LEN byte.
        len: u8,
        /// 3 + LEN + EDC length.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// The epilogue does not match the block.
    #[error("bad EDC at offset {offset}: expected {expected:04X}, found {found:04X}")]
    BadEdc {
        /// Offset of the first EDC byte.
        offset: usize,
        /// The EDC computed over prologue and INF.
        expected: u16,
        /// The EDC received.
        found: u16,
    },
    /// A PCB with RFU bits set or an undefined S-block type.
    #[error("unknown PCB {pcb:02X} at offset 1")]
    UnknownPcb {
        /// The PCB byte.
        pcb: u8,
    },
    /// An I-block whose INF is longer than the receiver's information field size.
    #[error("I-block LEN {len} exceeds the information field size {max}")]
    LenTooLarge {
        /// The LEN byte.
        len: u8,
        /// IFSD (or IFSC) in force.
        max: u8,
    },
    /// An R- or S-block whose INF length is not the one its type defines.
    #[error("block with PCB {pcb:02X} must carry {expected} INF byte(s), LEN is {len}")]
    BadInfLength {
        /// The PCB byte.
        pcb: u8,
        /// The LEN byte.
        len: u8,
        /// The INF length the type defines.
        expected: u8,
    },
}

impl BlockError {
    /// Whether the R-block answering this error carries code 1 (EDC/parity) rather than 2
    /// (ISO/IEC 7816-3 §11.3.2.2).
    #[must_use]
    pub const fn is_edc(&self) -> bool {
        matches!(self, Self::BadEdc { .. })
    }
}

/// Why a block cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is shorter than the block.
    #[error("output buffer of {available} bytes, block needs {needed}")]
    BufferTooSmall {
        /// Bytes the block needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// An I-block INF longer than 254 bytes.
    #[error("INF of {len} bytes exceeds 254")]
    InfTooLong {
        /// The INF length.
        len: usize,
    },
}

impl Block<'_> {
    /// The PCB byte (ISO/IEC 7816-3 §11.3.2.2).
    #[must_use]
    pub const fn pcb(&self) -> u8 {
        match self.kind {
            BlockKind::I { ns, more, .. } => ((ns as u8) << 6) | ((more as u8) << 5),
            BlockKind::R { nr, code } => 0x80 | ((nr as u8) << 4) | code.bits(),
            BlockKind::S(s) => s.pcb(),
        }
    }

    /// The INF length.
    #[must_use]
    pub const fn inf_len(&self) -> usize {
        match self.kind {
            BlockKind::I { inf, .. } => inf.len(),
            BlockKind::R { .. } => 0,
            BlockKind::S(s) => match s.inf() {
                Some(_) => 1,
                None => 0,
            },
        }
    }

    /// The length of the encoded block with the given EDC.
    #[must_use]
    pub const fn encoded_len(&self, edc: Edc) -> usize {
        PROLOGUE_LEN + self.inf_len() + edc_len(edc)
    }

    /// Encode the block into `out` (ISO/IEC 7816-3 §11.3.1), returning the number of bytes
    /// written. The CRC goes high byte first.
    ///
    /// # Errors
    /// [`EncodeError::InfTooLong`] for an I-block INF over 254 bytes,
    /// [`EncodeError::BufferTooSmall`] if `out` cannot hold the block.
    pub fn encode(&self, edc: Edc, out: &mut [u8]) -> Result<usize, EncodeError> {
        let inf_len = self.inf_len();
        let len_byte = u8::try_from(inf_len)
            .ok()
            .filter(|&l| usize::from(l) <= MAX_INF)
            .ok_or(EncodeError::InfTooLong { len: inf_len })?;
        let needed = self.encoded_len(edc);
        let available = out.len();
        let buf = out
            .get_mut(..needed)
            .ok_or(EncodeError::BufferTooSmall { needed, available })?;
        let body_len = PROLOGUE_LEN + inf_len;
        let (body, epilogue) = buf.split_at_mut(body_len);
        let (prologue, inf_out) = body.split_at_mut(PROLOGUE_LEN);
        prologue.copy_from_slice(&[self.nad, self.pcb(), len_byte]);
        match self.kind {
            BlockKind::I { inf, .. } => inf_out.copy_from_slice(inf),
            BlockKind::R { .. } => {}
            BlockKind::S(s) => {
                if let Some(v) = s.inf() {
                    inf_out.copy_from_slice(&[v]);
                }
            }
        }
        match edc {
            Edc::Lrc => epilogue.copy_from_slice(&[lrc(body)]),
            Edc::Crc => epilogue.copy_from_slice(&crc(body).to_be_bytes()),
        }
        Ok(needed)
    }
}

impl<'a> Block<'a> {
    /// Decode exactly one block from `bytes` (ISO/IEC 7816-3 §11.3), checking, in this order:
    /// length against the prologue, LEN `FF`, the EDC, the PCB, and the INF length rules.
    /// `max_inf` is the information field size of the receiver (IFSD for blocks from the
    /// card): an I-block with a longer INF is [`BlockError::LenTooLarge`].
    ///
    /// # Errors
    /// [`BlockError`], naming the offset or field at fault.
    pub fn decode(bytes: &'a [u8], edc: Edc, max_inf: u8) -> Result<Self, BlockError> {
        let epilogue_len = edc_len(edc);
        let min = PROLOGUE_LEN + epilogue_len;
        let (&[nad, pcb, len], rest) =
            bytes
                .split_first_chunk::<PROLOGUE_LEN>()
                .ok_or(BlockError::TooShort {
                    len: bytes.len(),
                    min,
                })?;
        if bytes.len() < min {
            return Err(BlockError::TooShort {
                len: bytes.len(),
                min,
            });
        }
        if len == 0xFF {
            return Err(BlockError::LenReserved);
        }
        let expected = min + usize::from(len);
        if bytes.len() != expected {
            return Err(BlockError::LengthMismatch {
                len,
                expected,
                found: bytes.len(),
            });
        }
        let (inf, epilogue) = rest.split_at(usize::from(len));
        let body = bytes.get(..PROLOGUE_LEN + inf.len()).unwrap_or_default();
        let (computed, found) = match (edc, epilogue) {
            (Edc::Lrc, &[e]) => (u16::from(lrc(body)), u16::from(e)),
            (Edc::Crc, &[hi, lo]) => (crc(body), u16::from_be_bytes([hi, lo])),
            // Unreachable: the length check above fixes the epilogue length.
            _ => {
                return Err(BlockError::TooShort {
                    len: bytes.len(),
                    min,
                });
            }
        };
        if computed != found {
            return Err(BlockError::BadEdc {
                offset: PROLOGUE_LEN + inf.len(),
                expected: computed,
                found,
            });
        }
        let kind = match pcb {
            p if p & 0x80 == 0 => {
                if p & 0x1F != 0 {
                    return Err(BlockError::UnknownPcb { pcb });
                }
                if len > max_inf {
                    return Err(BlockError::LenTooLarge { len, max: max_inf });
                }
                BlockKind::I {
                    ns: p & 0x40 != 0,
                    more: p & 0x20 != 0,
                    inf,
                }
            }
            p if p & 0xC0 == 0x80 => {
                let code = RCode::from_bits(p & 0x0F)
                    .filter(|_| p & 0x20 == 0)
                    .ok_or(BlockError::UnknownPcb { pcb })?;
                if len != 0 {
                    return Err(BlockError::BadInfLength {
                        pcb,
                        len,
                        expected: 0,
                    });
                }
                BlockKind::R {
                    nr: p & 0x10 != 0,
                    code,
                }
            }
            _ => {
                let value = inf.first().copied().unwrap_or(0);
                let s = match pcb {
                    0xC0 => SBlock::ResynchRequest,
                    0xE0 => SBlock::ResynchResponse,
                    0xC1 => SBlock::IfsRequest(value),
                    0xE1 => SBlock::IfsResponse(value),
                    0xC2 => SBlock::AbortRequest,
                    0xE2 => SBlock::AbortResponse,
                    0xC3 => SBlock::WtxRequest(value),
                    0xE3 => SBlock::WtxResponse(value),
                    0xE4 => SBlock::VppError,
                    _ => return Err(BlockError::UnknownPcb { pcb }),
                };
                let want = u8::from(s.inf().is_some());
                if len != want {
                    return Err(BlockError::BadInfLength {
                        pcb,
                        len,
                        expected: want,
                    });
                }
                BlockKind::S(s)
            }
        };
        Ok(Block { nad, kind })
    }
}
