//! Type B commands and answers: REQB/WUPB, ATQB, ATTRIB and its answer.
//!
//! Clauses: ISO/IEC 14443-3 §7.7 (REQB/WUPB: APf `05`, AFI, PARAM with b4 = WUPB and N slots),
//! §7.9 (ATQB: `50`, PUPI, application data, protocol info: bit rates, Max_Frame_Size,
//! Protocol_Type, FWI, ADC, FO, optional extended byte with SFGI), §7.10 (ATTRIB:
//! `1D` PUPI Param 1–4 [higher-layer INF]), §7.11 (answer to ATTRIB: MBLI/CID);
//! EMV Book D (WUPB `05 00 08`, ATTRIB without higher-layer INF, CID 0, FSDI 8, 106 kbit/s;
//! [S: LP `emv_ep.c`, "Book D 6.4.1.12"]).
//!
//! Frames without CRC_B (the transport appends it). Confidence: the ATTRIB parameter bytes
//! EMV uses (`00 08 01 00`) are \[M\].

use super::ats::{fsc_from_fsci, fwt_us, normalize_fwi, normalize_sfgi, sfgt_us};

/// Anticollision prefix byte APf of REQB/WUPB (ISO/IEC 14443-3 §7.7.1).
pub const APF: u8 = 0x05;
/// WUPB for all AFIs with one slot, as EMV Book D sends it (CRC_B `39 73` \[V\]).
pub const WUPB: [u8; 3] = reqb_command(0x00, true, 0);
/// REQB for all AFIs with one slot.
pub const REQB: [u8; 3] = reqb_command(0x00, false, 0);
/// First byte of an ATQB (ISO/IEC 14443-3 §7.9.1).
pub const ATQB_START: u8 = 0x50;
/// ATTRIB command byte (ISO/IEC 14443-3 §7.10.1).
pub const ATTRIB_START: u8 = 0x1D;

/// REQB/WUPB (ISO/IEC 14443-3 §7.7): APf, AFI (`00` = all families), PARAM with b4 = WUPB and
/// b3–b1 = N slots code (0 → one slot; only the low three bits of `slots_code` are used).
#[must_use]
pub const fn reqb_command(afi: u8, wakeup: bool, slots_code: u8) -> [u8; 3] {
    let wake = if wakeup { 0x08 } else { 0x00 };
    [APF, afi, wake | (slots_code & 0x07)]
}

/// Errors in Type B answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TypeBError {
    /// ATQB not 12 or 13 bytes (CRC excluded).
    #[error("ATQB of {found} bytes, expected 12 or 13")]
    AtqbLength {
        /// Bytes received.
        found: usize,
    },
    /// ATQB does not start with `50`.
    #[error("ATQB starts with {found:02X}, expected 50")]
    AtqbStart {
        /// The first byte.
        found: u8,
    },
    /// Empty answer to ATTRIB.
    #[error("empty answer to ATTRIB")]
    EmptyAttribResponse,
}

/// A parsed ATQB (ISO/IEC 14443-3 §7.9), CRC excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Atqb {
    pupi: [u8; 4],
    application_data: [u8; 4],
    protocol_info: [u8; 3],
    extended: Option<u8>,
}

impl Atqb {
    /// Parses `50 PUPI(4) AppData(4) ProtocolInfo(3) [ext]`.
    ///
    /// # Errors
    /// [`TypeBError`].
    pub fn parse(bytes: &[u8]) -> Result<Self, TypeBError> {
        let (start, ext) = match *bytes {
            [s, p0, p1, p2, p3, a0, a1, a2, a3, i0, i1, i2] => (
                s,
                Self::assemble([p0, p1, p2, p3], [a0, a1, a2, a3], [i0, i1, i2], None),
            ),
            [s, p0, p1, p2, p3, a0, a1, a2, a3, i0, i1, i2, x] => (
                s,
                Self::assemble([p0, p1, p2, p3], [a0, a1, a2, a3], [i0, i1, i2], Some(x)),
            ),
            _ => return Err(TypeBError::AtqbLength { found: bytes.len() }),
        };
        if start == ATQB_START {
            Ok(ext)
        } else {
            Err(TypeBError::AtqbStart { found: start })
        }
    }

    const fn assemble(
        pupi: [u8; 4],
        application_data: [u8; 4],
        protocol_info: [u8; 3],
        extended: Option<u8>,
    ) -> Self {
        Self {
            pupi,
            application_data,
            protocol_info,
            extended,
        }
    }

    /// The PUPI (pseudo-unique PICC identifier).
    #[must_use]
    pub const fn pupi(&self) -> &[u8; 4] {
        &self.pupi
    }

    /// The application data bytes.
    #[must_use]
    pub const fn application_data(&self) -> &[u8; 4] {
        &self.application_data
    }

    /// The three protocol info bytes.
    #[must_use]
    pub const fn protocol_info(&self) -> &[u8; 3] {
        &self.protocol_info
    }

    /// The extended protocol info byte (ATQB of 13 bytes), if present.
    #[must_use]
    pub const fn extended(&self) -> Option<u8> {
        self.extended
    }

    /// Bit rate capability (protocol info byte 1).
    #[must_use]
    pub const fn bit_rate_capability(&self) -> u8 {
        self.protocol_info[0]
    }

    /// Max_Frame_Size code FSCI (protocol info byte 2, b8–b5).
    #[must_use]
    pub const fn fsci(&self) -> u8 {
        self.protocol_info[1] >> 4
    }

    /// FSC in bytes for [`Self::fsci`] (at most 256, see [`fsc_from_fsci`]).
    #[must_use]
    pub const fn fsc(&self) -> u16 {
        fsc_from_fsci(self.fsci())
    }

    /// Protocol_Type (protocol info byte 2, b4–b1).
    #[must_use]
    pub const fn protocol_type(&self) -> u8 {
        self.protocol_info[1] & 0x0F
    }

    /// Protocol_Type b1 = 1 and b4 = 0: the card is compliant with ISO/IEC 14443-4.
    #[must_use]
    pub const fn iso14443_4_compliant(&self) -> bool {
        self.protocol_type() & 0x09 == 0x01
    }

    /// FWI (protocol info byte 3, b8–b5) after [`normalize_fwi`].
    #[must_use]
    pub const fn fwi(&self) -> u8 {
        normalize_fwi(self.protocol_info[2] >> 4)
    }

    /// FWT in µs for [`Self::fwi`].
    #[must_use]
    pub const fn fwt_us(&self) -> u32 {
        fwt_us(self.fwi())
    }

    /// ADC, application data coding (protocol info byte 3, b4–b3).
    #[must_use]
    pub const fn adc(&self) -> u8 {
        (self.protocol_info[2] >> 2) & 0x03
    }

    /// FO b2: NAD supported.
    #[must_use]
    pub const fn nad_supported(&self) -> bool {
        self.protocol_info[2] & 0x02 != 0
    }

    /// FO b1: CID supported.
    #[must_use]
    pub const fn cid_supported(&self) -> bool {
        self.protocol_info[2] & 0x01 != 0
    }

    /// SFGI from the extended byte (b8–b5), 0 when absent.
    #[must_use]
    pub const fn sfgi(&self) -> u8 {
        match self.extended {
            Some(x) => normalize_sfgi(x >> 4),
            None => 0,
        }
    }

    /// SFGT in µs for [`Self::sfgi`].
    #[must_use]
    pub const fn sfgt_us(&self) -> u32 {
        sfgt_us(self.sfgi())
    }
}

/// ATTRIB (ISO/IEC 14443-3 §7.10) without higher-layer INF, as EMV Book D sends it:
/// `1D PUPI Param1 Param2 Param3 Param4` with Param 1 = `00` (default TR0/TR1, SOF/EOF
/// required), Param 2 = `FSDI` (106 kbit/s both ways, b4–b1 FSDI), Param 3 = the ATQB
/// Protocol_Type b4–b1, Param 4 = CID (b4–b1) \[M\].
#[must_use]
pub const fn attrib_command(pupi: [u8; 4], fsdi: u8, protocol_type: u8, cid: u8) -> [u8; 9] {
    [
        ATTRIB_START,
        pupi[0],
        pupi[1],
        pupi[2],
        pupi[3],
        0x00,
        fsdi & 0x0F,
        protocol_type & 0x0F,
        cid & 0x0F,
    ]
}

/// The first byte of the answer to ATTRIB (ISO/IEC 14443-3 §7.11): MBLI (b8–b5) and CID
/// (b4–b1). Any higher-layer response that follows is ignored (EMV sends no higher-layer INF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttribResponse(pub u8);

impl AttribResponse {
    /// Parses the answer; bytes after the first are the higher-layer response and are returned.
    ///
    /// # Errors
    /// [`TypeBError::EmptyAttribResponse`].
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), TypeBError> {
        let (&first, rest) = bytes.split_first().ok_or(TypeBError::EmptyAttribResponse)?;
        Ok((Self(first), rest))
    }

    /// MBLI, maximum buffer length index (0 = no information).
    #[must_use]
    pub const fn mbli(self) -> u8 {
        self.0 >> 4
    }

    /// The CID the card took.
    #[must_use]
    pub const fn cid(self) -> u8 {
        self.0 & 0x0F
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::iso14443::crc::crc_b;
    use proptest::prelude::*;

    #[test]
    fn wupb_vector() {
        assert_eq!(WUPB, [0x05, 0x00, 0x08]);
        assert_eq!(crc_b(&WUPB), [0x39, 0x73]);
        assert_eq!(REQB, [0x05, 0x00, 0x00]);
    }

    /// ATQB `50 | 01 02 03 04 | 00 00 00 00 | 00 81 71`: 106 kbit/s only; Max_Frame_Size 8
    /// (256), Protocol_Type 1 (ISO 14443-4); FWI 7, ADC 0, FO 01 (CID supported).
    #[test]
    fn atqb_parse() {
        let bytes = [0x50, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0x00, 0x81, 0x71];
        let atqb = Atqb::parse(&bytes).unwrap();
        assert_eq!(atqb.pupi(), &[1, 2, 3, 4]);
        assert_eq!(atqb.fsci(), 8);
        assert_eq!(atqb.fsc(), 256);
        assert_eq!(atqb.protocol_type(), 1);
        assert!(atqb.iso14443_4_compliant());
        assert_eq!(atqb.fwi(), 7);
        assert!(atqb.cid_supported());
        assert!(!atqb.nad_supported());
        assert_eq!(atqb.sfgi(), 0);
        let mut ext = bytes.to_vec();
        ext.push(0x20);
        assert_eq!(Atqb::parse(&ext).unwrap().sfgi(), 2);
        let mut bad = bytes;
        bad[0] = 0x51;
        assert_eq!(
            Atqb::parse(&bad),
            Err(TypeBError::AtqbStart { found: 0x51 })
        );
        assert_eq!(
            Atqb::parse(&bytes[..11]),
            Err(TypeBError::AtqbLength { found: 11 })
        );
        let mut not4 = bytes;
        not4[10] = 0x89;
        assert!(!Atqb::parse(&not4).unwrap().iso14443_4_compliant());
    }

    #[test]
    fn attrib() {
        assert_eq!(
            attrib_command([1, 2, 3, 4], 8, 1, 0),
            [0x1D, 1, 2, 3, 4, 0x00, 0x08, 0x01, 0x00]
        );
        let (r, rest) = AttribResponse::parse(&[0x10, 0xAA]).unwrap();
        assert_eq!((r.mbli(), r.cid(), rest), (1, 0, &[0xAA][..]));
        assert!(AttribResponse::parse(&[]).is_err());
    }

    proptest! {
        #[test]
        fn atqb_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(a) = Atqb::parse(&bytes) {
                prop_assert!(a.fwi() <= 14);
                prop_assert_eq!(&a.pupi()[..], &bytes[1..5]);
            }
        }
    }
}
