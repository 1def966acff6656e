//! CRC_A and CRC_B (ISO/IEC 14443-3 Annex B; §6.2.4 for Type A, §7.2 for Type B).
//!
//! Both are CRC-16/CCITT computed LSB first (reflected polynomial `8408`), transmitted least
//! significant byte first:
//!
//! * CRC_A: initial value `6363`, no final inversion (ITU-V.41 variant);
//! * CRC_B: initial value `FFFF`, final ones' complement (ISO/IEC 13239).
//!
//! Vectors (emv-facts Appendix A.2, \[V\]): HLTA `50 00` → `57 CD`; WUPB `05 00 08` → `39 73`.

use crate::rf::Technology;

/// Initial register value of CRC_A (ISO/IEC 14443-3 Annex B.2).
const CRC_A_INIT: u16 = 0x6363;
/// Initial register value of CRC_B (ISO/IEC 14443-3 Annex B.3).
const CRC_B_INIT: u16 = 0xFFFF;
/// Reflected CRC-16/CCITT polynomial x^16 + x^12 + x^5 + 1.
const POLY_REFLECTED: u16 = 0x8408;

const fn update(mut crc: u16, data: &[u8]) -> u16 {
    let mut i = 0;
    while i < data.len() {
        // `i < data.len()` is checked by the loop condition.
        #[allow(clippy::indexing_slicing)]
        let byte = data[i];
        crc ^= byte as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        i += 1;
    }
    crc
}

/// CRC_A of `data` as transmitted: `[low byte, high byte]` (ISO/IEC 14443-3 Annex B.2).
#[must_use]
pub const fn crc_a(data: &[u8]) -> [u8; 2] {
    update(CRC_A_INIT, data).to_le_bytes()
}

/// CRC_B of `data` as transmitted: `[low byte, high byte]` (ISO/IEC 14443-3 Annex B.3).
#[must_use]
pub const fn crc_b(data: &[u8]) -> [u8; 2] {
    (!update(CRC_B_INIT, data)).to_le_bytes()
}

/// The CRC of `data` for a technology: CRC_A for Type A, CRC_B for Type B.
#[must_use]
pub const fn crc(technology: Technology, data: &[u8]) -> [u8; 2] {
    match technology {
        Technology::TypeA => crc_a(data),
        Technology::TypeB => crc_b(data),
    }
}

/// Checks the two trailing CRC bytes of a received `frame` and returns the payload before
/// them, or `None` if the frame is shorter than two bytes or the CRC does not match
/// (ISO/IEC 14443-3 §6.2.4 / §7.2: a frame with a wrong CRC is a transmission error).
#[must_use]
pub fn check(technology: Technology, frame: &[u8]) -> Option<&[u8]> {
    let split = frame.len().checked_sub(2)?;
    let (payload, received) = frame.split_at_checked(split)?;
    (crc(technology, payload) == *received).then_some(payload)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Vectors from emv-facts.md Appendix A.2 (\[V\], recomputed with an independent script).
    #[test]
    fn vectors() {
        assert_eq!(crc_a(&[0x50, 0x00]), [0x57, 0xCD]); // HLTA
        assert_eq!(crc_b(&[0x05, 0x00, 0x08]), [0x39, 0x73]); // WUPB
        assert_eq!(crc_a(&[0xE0, 0x80]), [0x31, 0x73]); // RATS
        assert_eq!(crc_a(&[0xC2]), [0xE0, 0xB4]); // S(DESELECT)
        assert_eq!(crc_a(&[0xA2]), [0xE6, 0xD7]); // R(ACK, 0)
        let select_ppse = [
            0x02, 0x00, 0xA4, 0x04, 0x00, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53,
            0x2E, 0x44, 0x44, 0x46, 0x30, 0x31, 0x00,
        ];
        assert_eq!(crc_a(&select_ppse), [0xE0, 0x42]);
        assert_eq!(crc(Technology::TypeB, &[0x05, 0x00, 0x08]), [0x39, 0x73]);
    }

    #[test]
    fn check_strips_and_rejects() {
        assert_eq!(
            check(Technology::TypeA, &[0x50, 0x00, 0x57, 0xCD]),
            Some(&[0x50, 0x00][..])
        );
        assert_eq!(check(Technology::TypeA, &[0x50, 0x00, 0x57, 0xCC]), None);
        assert_eq!(check(Technology::TypeB, &[0x50, 0x00, 0x57, 0xCD]), None);
        assert_eq!(check(Technology::TypeA, &[0x57]), None);
        assert_eq!(check(Technology::TypeA, &[]), None);
        // CRC of the empty payload alone is a valid (empty) frame.
        assert_eq!(check(Technology::TypeA, &crc_a(&[])), Some(&[][..]));
    }
}
