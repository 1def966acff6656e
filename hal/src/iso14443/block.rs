//! ISO-DEP block codec: I-, R- and S-blocks (ISO/IEC 14443-4 §7.1).
//!
//! Block format `PCB [CID] [NAD] [INF]` followed by the CRC (handled by the transport, not
//! here). PCB coding (§7.1.1.1), [S: CHAM] for the byte values:
//!
//! * I-block `000C NC1B`-style: `02`/`03` (b1 = block number), `+10` chaining, `+08` CID
//!   follows, `+04` NAD follows; b6 = 0, b2 = 1.
//! * R-block: `A2`/`A3` R(ACK), `B2`/`B3` R(NAK), `+08` CID; b3 = 0.
//! * S-block: `C2` S(DESELECT), `F2` S(WTX), `+08` CID; b3 = 0, b1 = 0. S(WTX) carries one INF
//!   byte: b8–b7 power level indication, b6–b1 WTXM (1–59). S(PARAMETERS) (ISO/IEC
//!   14443-4:2016) is not supported and parses as an invalid PCB.
//!
//! The CID byte's b8–b7 (power level indication from the card) are ignored on parsing; only
//! b4–b1 are the CID.

/// I-block PCB base (block number 0).
pub const PCB_I: u8 = 0x02;
/// R(ACK) PCB base (block number 0).
pub const PCB_R_ACK: u8 = 0xA2;
/// R(NAK) PCB base (block number 0).
pub const PCB_R_NAK: u8 = 0xB2;
/// S(DESELECT) PCB.
pub const PCB_S_DESELECT: u8 = 0xC2;
/// S(WTX) PCB.
pub const PCB_S_WTX: u8 = 0xF2;
/// I-block chaining bit.
pub const PCB_CHAINING: u8 = 0x10;
/// CID-following bit.
pub const PCB_CID: u8 = 0x08;
/// NAD-following bit (I-blocks only).
pub const PCB_NAD: u8 = 0x04;
/// Block number bit (I- and R-blocks).
pub const PCB_BLOCK_NUMBER: u8 = 0x01;
/// Largest valid WTXM (ISO/IEC 14443-4 §7.3; 60–63 are RFU).
pub const WTXM_MAX: u8 = 59;

/// One ISO-DEP block (ISO/IEC 14443-4 §7.1), borrowing its INF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block<'a> {
    /// Information block.
    I {
        /// Block number (0 or 1).
        block_number: u8,
        /// More information follows in the next I-block.
        chaining: bool,
        /// CID, if the CID bit is set.
        cid: Option<u8>,
        /// NAD, if the NAD bit is set.
        nad: Option<u8>,
        /// Information field (a piece of an APDU).
        inf: &'a [u8],
    },
    /// Receive-ready block, positive acknowledgement.
    RAck {
        /// Block number (0 or 1).
        block_number: u8,
        /// CID, if present.
        cid: Option<u8>,
    },
    /// Receive-ready block, negative acknowledgement.
    RNak {
        /// Block number (0 or 1).
        block_number: u8,
        /// CID, if present.
        cid: Option<u8>,
    },
    /// S(DESELECT), request or response (ISO/IEC 14443-4 §8).
    Deselect {
        /// CID, if present.
        cid: Option<u8>,
    },
    /// S(WTX), request or response (ISO/IEC 14443-4 §7.3).
    Wtx {
        /// CID, if present.
        cid: Option<u8>,
        /// The INF byte: b8–b7 power level, b6–b1 WTXM.
        inf: u8,
    },
}

/// Why [`Block::parse`] or [`Block::emit`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// No PCB.
    #[error("empty block")]
    Empty,
    /// A PCB that is none of the valid I/R/S codings.
    #[error("invalid PCB {0:02X}")]
    InvalidPcb(u8),
    /// The CID or NAD byte announced by the PCB, or the WTX INF byte, is missing.
    #[error("block truncated after PCB {0:02X}")]
    Truncated(u8),
    /// An R-block or S(DESELECT) with INF, or S(WTX) with more than one INF byte.
    #[error("unexpected {len} INF byte(s) after PCB {pcb:02X}")]
    UnexpectedInf {
        /// The PCB.
        pcb: u8,
        /// Number of extra bytes.
        len: usize,
    },
    /// The output buffer of [`Block::emit`] is too small.
    #[error("output buffer too small for the block")]
    BufferTooSmall,
}

impl<'a> Block<'a> {
    /// Parses a block without CRC.
    ///
    /// # Errors
    /// [`BlockError`].
    pub fn parse(frame: &'a [u8]) -> Result<Self, BlockError> {
        let (&pcb, mut rest) = frame.split_first().ok_or(BlockError::Empty)?;
        let mut next = |present: bool| -> Result<Option<u8>, BlockError> {
            if !present {
                return Ok(None);
            }
            let (&b, tail) = rest.split_first().ok_or(BlockError::Truncated(pcb))?;
            rest = tail;
            Ok(Some(b))
        };
        let cid_bit = pcb & PCB_CID != 0;
        let block_number = pcb & PCB_BLOCK_NUMBER;
        if pcb & 0xE2 == PCB_I {
            let cid = next(cid_bit)?.map(|c| c & 0x0F);
            let nad = next(pcb & PCB_NAD != 0)?;
            return Ok(Self::I {
                block_number,
                chaining: pcb & PCB_CHAINING != 0,
                cid,
                nad,
                inf: rest,
            });
        }
        let block = if pcb & 0xE6 == PCB_R_ACK {
            let cid = next(cid_bit)?.map(|c| c & 0x0F);
            if pcb & 0x10 == 0 {
                Self::RAck { block_number, cid }
            } else {
                Self::RNak { block_number, cid }
            }
        } else if pcb & 0xF7 == PCB_S_DESELECT {
            Self::Deselect {
                cid: next(cid_bit)?.map(|c| c & 0x0F),
            }
        } else if pcb & 0xF7 == PCB_S_WTX {
            let cid = next(cid_bit)?.map(|c| c & 0x0F);
            let inf = next(true)?.ok_or(BlockError::Truncated(pcb))?;
            Self::Wtx { cid, inf }
        } else {
            return Err(BlockError::InvalidPcb(pcb));
        };
        if rest.is_empty() {
            Ok(block)
        } else {
            Err(BlockError::UnexpectedInf {
                pcb,
                len: rest.len(),
            })
        }
    }

    /// The PCB of this block.
    #[must_use]
    pub fn pcb(&self) -> u8 {
        let cid_bit = |cid: &Option<u8>| if cid.is_some() { PCB_CID } else { 0 };
        match self {
            Self::I {
                block_number,
                chaining,
                cid,
                nad,
                ..
            } => {
                PCB_I
                    | (block_number & 1)
                    | if *chaining { PCB_CHAINING } else { 0 }
                    | cid_bit(cid)
                    | if nad.is_some() { PCB_NAD } else { 0 }
            }
            Self::RAck { block_number, cid } => PCB_R_ACK | (block_number & 1) | cid_bit(cid),
            Self::RNak { block_number, cid } => PCB_R_NAK | (block_number & 1) | cid_bit(cid),
            Self::Deselect { cid } => PCB_S_DESELECT | cid_bit(cid),
            Self::Wtx { cid, .. } => PCB_S_WTX | cid_bit(cid),
        }
    }

    /// The CID, if the block carries one.
    #[must_use]
    pub const fn cid(&self) -> Option<u8> {
        match self {
            Self::I { cid, .. }
            | Self::RAck { cid, .. }
            | Self::RNak { cid, .. }
            | Self::Deselect { cid }
            | Self::Wtx { cid, .. } => *cid,
        }
    }

    /// Writes the block (without CRC) to `out` and returns its length. CID and NAD are
    /// written with their low nibble / as given.
    ///
    /// # Errors
    /// [`BlockError::BufferTooSmall`].
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, BlockError> {
        let mut len = 0usize;
        let mut put = |bytes: &[u8]| -> Result<(), BlockError> {
            let end = len + bytes.len();
            out.get_mut(len..end)
                .ok_or(BlockError::BufferTooSmall)?
                .copy_from_slice(bytes);
            len = end;
            Ok(())
        };
        put(&[self.pcb()])?;
        if let Some(cid) = self.cid() {
            put(&[cid & 0x0F])?;
        }
        match self {
            Self::I { nad, inf, .. } => {
                if let Some(nad) = nad {
                    put(&[*nad])?;
                }
                put(inf)?;
            }
            Self::Wtx { inf, .. } => put(&[*inf])?,
            Self::RAck { .. } | Self::RNak { .. } | Self::Deselect { .. } => {}
        }
        Ok(len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::iso14443::crc::crc_a;
    use proptest::prelude::*;

    const SELECT_PPSE: &[u8] = &[
        0x00, 0xA4, 0x04, 0x00, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44,
        0x44, 0x46, 0x30, 0x31, 0x00,
    ];

    fn emit(block: Block<'_>) -> Vec<u8> {
        let mut buf = [0u8; 300];
        let n = block.emit(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    extern crate std;
    use std::vec::Vec;

    #[test]
    fn pcb_values() {
        let i0 = Block::I {
            block_number: 0,
            chaining: false,
            cid: None,
            nad: None,
            inf: SELECT_PPSE,
        };
        let frame = emit(i0);
        assert_eq!(frame[0], 0x02);
        assert_eq!(crc_a(&frame), [0xE0, 0x42]); // emv-facts A.2 [V]
        let i1c = Block::I {
            block_number: 1,
            chaining: true,
            cid: Some(0),
            nad: Some(0x12),
            inf: &[],
        };
        assert_eq!(emit(i1c), [0x1F, 0x00, 0x12]);
        let r = |ack, bn| {
            if ack {
                Block::RAck {
                    block_number: bn,
                    cid: None,
                }
            } else {
                Block::RNak {
                    block_number: bn,
                    cid: None,
                }
            }
        };
        assert_eq!(emit(r(true, 0)), [0xA2]);
        assert_eq!(emit(r(true, 1)), [0xA3]);
        assert_eq!(emit(r(false, 0)), [0xB2]);
        assert_eq!(emit(r(false, 1)), [0xB3]);
        assert_eq!(crc_a(&[0xA2]), [0xE6, 0xD7]);
        assert_eq!(emit(Block::Deselect { cid: None }), [0xC2]);
        assert_eq!(crc_a(&[0xC2]), [0xE0, 0xB4]);
        assert_eq!(emit(Block::Deselect { cid: Some(3) }), [0xCA, 0x03]);
        assert_eq!(
            emit(Block::Wtx {
                cid: None,
                inf: 0x3B
            }),
            [0xF2, 0x3B]
        );
    }

    #[test]
    fn parse_values() {
        assert_eq!(
            Block::parse(&[0x03, 0x90, 0x00]),
            Ok(Block::I {
                block_number: 1,
                chaining: false,
                cid: None,
                nad: None,
                inf: &[0x90, 0x00]
            })
        );
        assert_eq!(
            Block::parse(&[0x1A, 0xC1, 0xAA]),
            Ok(Block::I {
                block_number: 0,
                chaining: true,
                cid: Some(1),
                nad: None,
                inf: &[0xAA]
            })
        );
        assert_eq!(
            Block::parse(&[0xF2, 0x81]),
            Ok(Block::Wtx {
                cid: None,
                inf: 0x81
            })
        );
        assert_eq!(
            Block::parse(&[0xB3]),
            Ok(Block::RNak {
                block_number: 1,
                cid: None
            })
        );
        assert_eq!(Block::parse(&[]), Err(BlockError::Empty));
        assert_eq!(Block::parse(&[0xF2]), Err(BlockError::Truncated(0xF2)));
        assert_eq!(Block::parse(&[0x0A]), Err(BlockError::Truncated(0x0A)));
        assert_eq!(
            Block::parse(&[0xA2, 0x00]),
            Err(BlockError::UnexpectedInf { pcb: 0xA2, len: 1 })
        );
        for bad in [0x00, 0x22, 0x42, 0xA6, 0xD2, 0xE2, 0xC3, 0xF0, 0x80, 0xC0] {
            assert_eq!(Block::parse(&[bad]), Err(BlockError::InvalidPcb(bad)));
        }
        let mut small = [0u8; 1];
        assert_eq!(
            Block::Wtx { cid: None, inf: 1 }.emit(&mut small),
            Err(BlockError::BufferTooSmall)
        );
    }

    fn build(
        kind: u8,
        bn: u8,
        chaining: bool,
        cid: Option<u8>,
        nad: Option<u8>,
        wtx: u8,
        inf: &[u8],
    ) -> Block<'_> {
        match kind {
            0 => Block::I {
                block_number: bn,
                chaining,
                cid,
                nad,
                inf,
            },
            1 => Block::RAck {
                block_number: bn,
                cid,
            },
            2 => Block::RNak {
                block_number: bn,
                cid,
            },
            3 => Block::Deselect { cid },
            _ => Block::Wtx { cid, inf: wtx },
        }
    }

    proptest! {
        #[test]
        fn emit_parse_roundtrip(
            kind in 0u8..5,
            bn in 0u8..2,
            chaining in any::<bool>(),
            cid in proptest::option::of(0u8..16),
            nad in proptest::option::of(any::<u8>()),
            wtx in any::<u8>(),
            inf in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let block = build(kind, bn, chaining, cid, nad, wtx, &inf);
            let frame = emit(block);
            prop_assert_eq!(Block::parse(&frame), Ok(block));
        }

        #[test]
        fn parse_never_panics(frame in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(block) = Block::parse(&frame) {
                // Re-emitting gives the same frame up to the ignored CID power bits.
                let again = emit(block);
                prop_assert_eq!(again.len(), frame.len());
                prop_assert_eq!(again[0], frame[0]);
            }
        }
    }
}
