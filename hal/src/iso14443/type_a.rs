//! Type A commands and answers: REQA/WUPA, ATQA, anticollision and SELECT for cascade levels
//! 1–3, SAK, HLTA, RATS and PPS.
//!
//! Clauses: ISO/IEC 14443-3 §6.3 (commands REQA `26`, WUPA `52`, ANTICOLLISION/SELECT with SEL
//! `93`/`95`/`97` and NVB, HLTA `50 00`), §6.4.2 (ATQA), §6.4.3 (UID sizes, cascade tag `88`,
//! BCC), §6.4.3.4 (SAK: b3 UID not complete, b6 ISO/IEC 14443-4 compliant); ISO/IEC 14443-4
//! §5.1 (RATS `E0`, FSDI, CID) and §5.3 (PPS); EMV Book D (RATS `E0 80`: FSDI 8, CID 0).
//!
//! Codecs only: the frames are returned without CRC_A (the transport appends it, see
//! [`crate::rf::transceive_with_crc`]); the anticollision frames and the SAK check are used by
//! the blocking activation in [`super::polling`].

/// REQA, sent as a 7-bit short frame (ISO/IEC 14443-3 §6.3.1).
pub const REQA: u8 = 0x26;
/// WUPA, sent as a 7-bit short frame (ISO/IEC 14443-3 §6.3.1); EMV Book D polls with WUPA.
pub const WUPA: u8 = 0x52;
/// HLTA without its CRC_A (`57 CD`) (ISO/IEC 14443-3 §6.3.3). The card does not answer.
pub const HLTA: [u8; 2] = [0x50, 0x00];
/// Cascade tag: first UID byte of a cascade level that is followed by another level
/// (ISO/IEC 14443-3 §6.4.4).
pub const CASCADE_TAG: u8 = 0x88;
/// NVB of an ANTICOLLISION command with no known UID bits (ISO/IEC 14443-3 §6.4.3.2).
pub const NVB_ANTICOLLISION: u8 = 0x20;
/// NVB of a SELECT command (all 40 UID CLn + BCC bits, ISO/IEC 14443-3 §6.4.3.2).
pub const NVB_SELECT: u8 = 0x70;
/// Start byte of RATS (ISO/IEC 14443-4 §5.1).
pub const RATS_START: u8 = 0xE0;
/// FSDI used by EMV Book D: 8, FSD = 256 bytes.
pub const EMV_FSDI: u8 = 8;
/// RATS as EMV Book D sends it: FSDI 8, CID 0 (CRC_A `31 73` \[V\]).
pub const EMV_RATS: [u8; 2] = rats_command(EMV_FSDI, 0);
/// Start nibble of PPS requests and answers (ISO/IEC 14443-4 §5.3).
pub const PPS_START: u8 = 0xD0;

/// Errors in Type A answers (ISO/IEC 14443-3 §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TypeAError {
    /// An answer of the wrong length.
    #[error("{what}: expected {expected} byte(s), received {found}")]
    WrongLength {
        /// Which answer.
        what: &'static str,
        /// Expected number of bytes.
        expected: usize,
        /// Bytes received.
        found: usize,
    },
    /// The BCC of an anticollision answer is not the XOR of the four UID CLn bytes.
    #[error("UID CLn check byte BCC = {found:02X}, expected {expected:02X}")]
    BccMismatch {
        /// XOR of the UID bytes.
        expected: u8,
        /// The BCC received.
        found: u8,
    },
    /// SAK and the cascade tag disagree (SAK b3 says "UID not complete" without a cascade tag,
    /// or the reverse), or cascade level 3 is not the last.
    #[error("inconsistent cascade: SAK {sak:02X} at cascade level {level}")]
    CascadeInconsistent {
        /// The SAK received.
        sak: u8,
        /// The cascade level, 1–3.
        level: u8,
    },
}

/// ATQA, the answer to REQA/WUPA, two bytes as received (LSB first) (ISO/IEC 14443-3 §6.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Atqa(pub [u8; 2]);

/// UID size announced by ATQA b8–b7 (ISO/IEC 14443-3 §6.4.2.1, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UidSize {
    /// 4 bytes, one cascade level.
    Single,
    /// 7 bytes, two cascade levels.
    Double,
    /// 10 bytes, three cascade levels.
    Triple,
}

impl UidSize {
    /// Number of UID bytes.
    #[must_use]
    pub const fn len(self) -> usize {
        match self {
            Self::Single => 4,
            Self::Double => 7,
            Self::Triple => 10,
        }
    }

    /// Never `true`: a UID has at least four bytes (present for API symmetry with `len`).
    #[must_use]
    pub const fn is_empty(self) -> bool {
        false
    }
}

impl Atqa {
    /// Parses a two-byte ATQA.
    ///
    /// # Errors
    /// [`TypeAError::WrongLength`] unless exactly two bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, TypeAError> {
        match bytes {
            [a, b] => Ok(Self([*a, *b])),
            _ => Err(TypeAError::WrongLength {
                what: "ATQA",
                expected: 2,
                found: bytes.len(),
            }),
        }
    }

    /// The UID size (b8–b7 of the first byte); `None` for the RFU value `11`.
    #[must_use]
    pub const fn uid_size(self) -> Option<UidSize> {
        match self.0[0] >> 6 {
            0 => Some(UidSize::Single),
            1 => Some(UidSize::Double),
            2 => Some(UidSize::Triple),
            _ => None,
        }
    }

    /// The bit frame anticollision bits (b5–b1 of the first byte).
    #[must_use]
    pub const fn bit_frame_anticollision(self) -> u8 {
        self.0[0] & 0x1F
    }

    /// Whether exactly one bit frame anticollision bit is set, as ISO/IEC 14443-3 §6.4.2.2
    /// requires.
    #[must_use]
    pub const fn bit_frame_anticollision_valid(self) -> bool {
        self.bit_frame_anticollision().count_ones() == 1
    }
}

/// A cascade level of the anticollision loop (ISO/IEC 14443-3 §6.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CascadeLevel {
    /// Level 1, SEL `93`.
    One,
    /// Level 2, SEL `95`.
    Two,
    /// Level 3, SEL `97`.
    Three,
}

impl CascadeLevel {
    /// The SEL code.
    #[must_use]
    pub const fn sel(self) -> u8 {
        match self {
            Self::One => 0x93,
            Self::Two => 0x95,
            Self::Three => 0x97,
        }
    }

    /// The level number 1–3.
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::One => 1,
            Self::Two => 2,
            Self::Three => 3,
        }
    }

    /// The next level, `None` after level 3.
    #[must_use]
    pub const fn next(self) -> Option<Self> {
        match self {
            Self::One => Some(Self::Two),
            Self::Two => Some(Self::Three),
            Self::Three => None,
        }
    }
}

/// ANTICOLLISION command for a level with NVB `20` (sent as an anticollision frame, no CRC).
#[must_use]
pub const fn anticollision_command(level: CascadeLevel) -> [u8; 2] {
    [level.sel(), NVB_ANTICOLLISION]
}

/// BCC of a UID CLn: the XOR of its four bytes (ISO/IEC 14443-3 §6.4.4).
#[must_use]
pub const fn bcc(uid_cln: [u8; 4]) -> u8 {
    uid_cln[0] ^ uid_cln[1] ^ uid_cln[2] ^ uid_cln[3]
}

/// SELECT command for a level: `SEL 70 UID-CLn BCC` (CRC_A appended by the transport).
#[must_use]
pub const fn select_command(level: CascadeLevel, uid_cln: [u8; 4]) -> [u8; 7] {
    [
        level.sel(),
        NVB_SELECT,
        uid_cln[0],
        uid_cln[1],
        uid_cln[2],
        uid_cln[3],
        bcc(uid_cln),
    ]
}

/// Parses the answer to ANTICOLLISION with NVB `20`: four UID CLn bytes and BCC.
///
/// # Errors
/// [`TypeAError::WrongLength`] unless five bytes, [`TypeAError::BccMismatch`].
pub fn parse_uid_cln(bytes: &[u8]) -> Result<[u8; 4], TypeAError> {
    let [a, b, c, d, check] = *bytes else {
        return Err(TypeAError::WrongLength {
            what: "UID CLn",
            expected: 5,
            found: bytes.len(),
        });
    };
    let uid = [a, b, c, d];
    let expected = bcc(uid);
    if expected == check {
        Ok(uid)
    } else {
        Err(TypeAError::BccMismatch {
            expected,
            found: check,
        })
    }
}

/// SAK, the answer to SELECT (ISO/IEC 14443-3 §6.4.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sak(pub u8);

impl Sak {
    /// Parses a one-byte SAK (CRC already removed).
    ///
    /// # Errors
    /// [`TypeAError::WrongLength`] unless exactly one byte.
    pub fn parse(bytes: &[u8]) -> Result<Self, TypeAError> {
        match bytes {
            [b] => Ok(Self(*b)),
            _ => Err(TypeAError::WrongLength {
                what: "SAK",
                expected: 1,
                found: bytes.len(),
            }),
        }
    }

    /// b3 clear: the UID is complete.
    #[must_use]
    pub const fn uid_complete(self) -> bool {
        self.0 & 0x04 == 0
    }

    /// b6 set (with a complete UID): the card is compliant with ISO/IEC 14443-4.
    #[must_use]
    pub const fn iso14443_4_compliant(self) -> bool {
        self.uid_complete() && self.0 & 0x20 != 0
    }
}

/// A UID of 4, 7 or 10 bytes, cascade tags removed (ISO/IEC 14443-3 §6.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uid {
    bytes: [u8; 10],
    len: u8,
}

/// What [`Uid::push_level`] concludes from a cascade level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CascadeStep {
    /// The UID is complete; the SAK is final.
    Complete,
    /// Continue with the next cascade level.
    Next(CascadeLevel),
}

impl Uid {
    /// An empty UID, before cascade level 1.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bytes: [0; 10],
            len: 0,
        }
    }

    /// A UID from its bytes; `None` unless 4, 7 or 10 bytes.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if !matches!(bytes.len(), 4 | 7 | 10) {
            return None;
        }
        let mut uid = Self::new();
        uid.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        uid.len = u8::try_from(bytes.len()).ok()?;
        Some(uid)
    }

    /// The UID bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of UID bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no cascade level has been added yet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the UID CLn of `level` with the SAK it was selected with, and says whether to
    /// continue: SAK b3 set requires the cascade tag `88` as first byte and a further level;
    /// b3 clear requires no cascade tag at levels 1 and 2 (ISO/IEC 14443-3 §6.4.4; a single-size
    /// UID never starts with `88`).
    ///
    /// # Errors
    /// [`TypeAError::CascadeInconsistent`].
    pub fn push_level(
        &mut self,
        level: CascadeLevel,
        uid_cln: [u8; 4],
        sak: Sak,
    ) -> Result<CascadeStep, TypeAError> {
        let inconsistent = TypeAError::CascadeInconsistent {
            sak: sak.0,
            level: level.number(),
        };
        let tagged = uid_cln[0] == CASCADE_TAG;
        let part: &[u8] = if sak.uid_complete() {
            if tagged && level != CascadeLevel::Three {
                return Err(inconsistent);
            }
            &uid_cln
        } else {
            if !tagged {
                return Err(inconsistent);
            }
            uid_cln.get(1..).unwrap_or(&[])
        };
        let start = usize::from(self.len);
        let end = start + part.len();
        self.bytes
            .get_mut(start..end)
            .ok_or(inconsistent)?
            .copy_from_slice(part);
        self.len = u8::try_from(end).map_err(|_| inconsistent)?;
        if sak.uid_complete() {
            Ok(CascadeStep::Complete)
        } else {
            level.next().map(CascadeStep::Next).ok_or(inconsistent)
        }
    }
}

/// RATS: `E0`, FSDI in the high nibble and CID in the low nibble of the parameter byte
/// (ISO/IEC 14443-4 §5.1). Only the low nibbles of `fsdi` and `cid` are used.
#[must_use]
pub const fn rats_command(fsdi: u8, cid: u8) -> [u8; 2] {
    [RATS_START, ((fsdi & 0x0F) << 4) | (cid & 0x0F)]
}

/// PPS request with PPS1 (ISO/IEC 14443-4 §5.3): `D0|CID 11 DSI<<2|DRI` (DSI: PICC→PCD,
/// DRI: PCD→PICC, codes 0–3 for ×1…×8 of 106 kbit/s). EMV Book D stays at 106 kbit/s and does
/// not send PPS.
#[must_use]
pub const fn pps_request(cid: u8, dsi: u8, dri: u8) -> [u8; 3] {
    [
        PPS_START | (cid & 0x0F),
        0x11,
        ((dsi & 0x03) << 2) | (dri & 0x03),
    ]
}

/// Whether `answer` is the PPS response for `cid`: the single byte `D0|CID`
/// (ISO/IEC 14443-4 §5.4).
#[must_use]
pub fn pps_response_ok(answer: &[u8], cid: u8) -> bool {
    answer == [PPS_START | (cid & 0x0F)]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::iso14443::crc::crc_a;

    #[test]
    fn frames() {
        assert_eq!(EMV_RATS, [0xE0, 0x80]);
        assert_eq!(crc_a(&EMV_RATS), [0x31, 0x73]);
        assert_eq!(crc_a(&HLTA), [0x57, 0xCD]);
        assert_eq!(anticollision_command(CascadeLevel::Two), [0x95, 0x20]);
        assert_eq!(
            select_command(CascadeLevel::One, [0x01, 0x02, 0x03, 0x04]),
            [0x93, 0x70, 0x01, 0x02, 0x03, 0x04, 0x04]
        );
        assert_eq!(pps_request(0, 1, 2), [0xD0, 0x11, 0x06]);
        assert!(pps_response_ok(&[0xD0], 0));
        assert!(!pps_response_ok(&[0xD1], 0));
    }

    #[test]
    fn atqa() {
        let atqa = Atqa::parse(&[0x04, 0x00]).unwrap();
        assert_eq!(atqa.uid_size(), Some(UidSize::Single));
        assert!(atqa.bit_frame_anticollision_valid());
        let atqa = Atqa::parse(&[0x44, 0x03]).unwrap();
        assert_eq!(atqa.uid_size(), Some(UidSize::Double));
        assert_eq!(Atqa([0x84, 0]).uid_size(), Some(UidSize::Triple));
        assert_eq!(Atqa([0xC4, 0]).uid_size(), None);
        assert!(!Atqa([0x06, 0]).bit_frame_anticollision_valid());
        assert!(Atqa::parse(&[0x04]).is_err());
    }

    #[test]
    fn uid_cln_and_bcc() {
        assert_eq!(
            parse_uid_cln(&[0x11, 0x22, 0x33, 0x44, 0x44]).unwrap(),
            [0x11, 0x22, 0x33, 0x44]
        );
        assert_eq!(
            parse_uid_cln(&[0x11, 0x22, 0x33, 0x44, 0x45]),
            Err(TypeAError::BccMismatch {
                expected: 0x44,
                found: 0x45
            })
        );
        assert!(parse_uid_cln(&[0x11, 0x22]).is_err());
    }

    #[test]
    fn cascade_three_levels() {
        let mut uid = Uid::new();
        assert_eq!(
            uid.push_level(CascadeLevel::One, [0x88, 1, 2, 3], Sak(0x04)),
            Ok(CascadeStep::Next(CascadeLevel::Two))
        );
        assert_eq!(
            uid.push_level(CascadeLevel::Two, [0x88, 4, 5, 6], Sak(0x04)),
            Ok(CascadeStep::Next(CascadeLevel::Three))
        );
        assert_eq!(
            uid.push_level(CascadeLevel::Three, [7, 8, 9, 10], Sak(0x20)),
            Ok(CascadeStep::Complete)
        );
        assert_eq!(uid.as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(Sak(0x20).iso14443_4_compliant());
        assert!(!Sak(0x24).iso14443_4_compliant());
        assert!(!Sak(0x08).iso14443_4_compliant());
    }

    #[test]
    fn cascade_inconsistent() {
        let mut uid = Uid::new();
        assert!(
            uid.push_level(CascadeLevel::One, [1, 2, 3, 4], Sak(0x04))
                .is_err()
        );
        let mut uid = Uid::new();
        assert!(
            uid.push_level(CascadeLevel::One, [0x88, 2, 3, 4], Sak(0x20))
                .is_err()
        );
        let mut uid = Uid::new();
        uid.push_level(CascadeLevel::One, [0x88, 1, 2, 3], Sak(0x04))
            .unwrap();
        uid.push_level(CascadeLevel::Two, [0x88, 4, 5, 6], Sak(0x04))
            .unwrap();
        assert!(
            uid.push_level(CascadeLevel::Three, [0x88, 8, 9, 10], Sak(0x04))
                .is_err()
        );
        assert_eq!(Uid::from_slice(&[1, 2, 3]), None);
        assert_eq!(Uid::from_slice(&[1, 2, 3, 4]).unwrap().len(), 4);
    }
}
