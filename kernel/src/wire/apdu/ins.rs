//! Instruction names for traces (ISO/IEC 7816-4 §5.1.2 Table 4; EMV Book 3
//! §6.5 Table 12 (contact commands), Book 3 §6.5.3-6.5.13; Book C-2 for
//! contactless additions).

/// The name of an instruction as used in EMV, given CLA and INS. CLA
/// matters where ISO and EMV proprietary (`8x`) classes share an INS.
#[must_use]
pub const fn instruction_name(cla: u8, ins: u8) -> Option<&'static str> {
    let proprietary = cla & 0x80 != 0;
    Some(match (proprietary, ins) {
        (_, 0x1E) => "APPLICATION BLOCK",
        (_, 0x18) => "APPLICATION UNBLOCK",
        (_, 0x16) => "CARD BLOCK",
        (_, 0x82) => "EXTERNAL AUTHENTICATE",
        (_, 0xAE) => "GENERATE APPLICATION CRYPTOGRAM",
        (_, 0x84) => "GET CHALLENGE",
        (_, 0xCA) => "GET DATA",
        (_, 0xA8) => "GET PROCESSING OPTIONS",
        (_, 0x88) => "INTERNAL AUTHENTICATE",
        (_, 0x24) => "PIN CHANGE/UNBLOCK",
        (_, 0xB2) => "READ RECORD",
        (_, 0xA4) => "SELECT",
        (_, 0x20) => "VERIFY",
        (_, 0xC0) => "GET RESPONSE",
        (_, 0xB0) => "READ BINARY",
        (_, 0xDA) => "PUT DATA",
        (_, 0xDC) => "UPDATE RECORD",
        (true, 0x2A) => "COMPUTE CRYPTOGRAPHIC CHECKSUM",
        (true, 0xEA) => "EXCHANGE RELAY RESISTANCE DATA",
        (true, 0xD0) => "RECOVER AC",
        (false, 0x2A) => "PERFORM SECURITY OPERATION",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(instruction_name(0x80, 0xA8), Some("GET PROCESSING OPTIONS"));
        assert_eq!(instruction_name(0x00, 0xA4), Some("SELECT"));
        assert_eq!(
            instruction_name(0x80, 0x2A),
            Some("COMPUTE CRYPTOGRAPHIC CHECKSUM")
        );
        assert_eq!(
            instruction_name(0x00, 0x2A),
            Some("PERFORM SECURITY OPERATION")
        );
        assert_eq!(instruction_name(0x00, 0x01), None);
    }
}
