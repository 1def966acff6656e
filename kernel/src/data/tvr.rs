//! Terminal Verification Results, tag `95` (EMV 4.4 Book 3 Annex C5,
//! Table 46).
//!
//! Five bytes the terminal sets during the transaction and sends to the card
//! and the issuer. Bits marked (4.4) are RFU in EMV 4.3; they carry their
//! EMV 4.4 meaning here. Byte 5 b4 and b1 are reserved for the EMV
//! Contactless Specifications (the kernels redefine them, and Kernel 8 much
//! more of the TVR); this view gives the contact meaning.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Terminal Verification Results (`95`), 5 bytes.
    pub struct Tvr([u8; 5]);
    tag: Some(Tag::new(0x95));
    name: "Terminal Verification Results";
    flags {
        ODA_NOT_PERFORMED = (1, 0x80, "Offline data authentication was not performed");
        SDA_FAILED = (1, 0x40, "SDA failed");
        ICC_DATA_MISSING = (1, 0x20, "ICC data missing");
        CARD_ON_EXCEPTION_FILE = (1, 0x10, "Card appears on terminal exception file");
        DDA_FAILED = (1, 0x08, "DDA failed");
        CDA_FAILED = (1, 0x04, "CDA failed");
        SDA_SELECTED = (1, 0x02, "SDA selected");
        /// (4.4)
        XDA_SELECTED = (1, 0x01, "XDA selected");

        DIFFERENT_APPLICATION_VERSIONS =
            (2, 0x80, "ICC and terminal have different application versions");
        EXPIRED_APPLICATION = (2, 0x40, "Expired application");
        APPLICATION_NOT_YET_EFFECTIVE = (2, 0x20, "Application not yet effective");
        SERVICE_NOT_ALLOWED = (2, 0x10, "Requested service not allowed for card product");
        NEW_CARD = (2, 0x08, "New card");
        /// (4.4)
        BIOMETRIC_SUCCESSFUL = (2, 0x02, "Biometric performed and successful");
        /// (4.4)
        BIOMETRIC_TEMPLATE_FORMAT_NOT_SUPPORTED =
            (2, 0x01, "Biometric Template format not supported");

        CARDHOLDER_VERIFICATION_NOT_SUCCESSFUL =
            (3, 0x80, "Cardholder verification was not successful");
        UNRECOGNISED_CVM = (3, 0x40, "Unrecognised CVM");
        PIN_TRY_LIMIT_EXCEEDED = (3, 0x20, "PIN Try Limit exceeded");
        PIN_PAD_NOT_PRESENT_OR_NOT_WORKING =
            (3, 0x10, "PIN entry required and PIN pad not present or not working");
        PIN_NOT_ENTERED =
            (3, 0x08, "PIN entry required, PIN pad present, but PIN was not entered");
        /// "Online PIN entered" in EMV 4.3.
        ONLINE_CVM_CAPTURED = (3, 0x04, "Online CVM captured");
        /// (4.4)
        BIOMETRIC_CAPTURE_DEVICE_NOT_WORKING =
            (3, 0x02, "Biometric required but Biometric capture device not working");
        /// (4.4)
        BIOMETRIC_SUBTYPE_BYPASSED = (3, 0x01,
            "Biometric required, Biometric capture device present, but Biometric Subtype entry was bypassed");

        FLOOR_LIMIT_EXCEEDED = (4, 0x80, "Transaction exceeds floor limit");
        LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED =
            (4, 0x40, "Lower consecutive offline limit exceeded");
        UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED =
            (4, 0x20, "Upper consecutive offline limit exceeded");
        RANDOMLY_SELECTED_FOR_ONLINE =
            (4, 0x10, "Transaction selected randomly for online processing");
        MERCHANT_FORCED_ONLINE = (4, 0x08, "Merchant forced transaction online");
        /// (4.4)
        BIOMETRIC_TRY_LIMIT_EXCEEDED = (4, 0x04, "Biometric Try Limit exceeded");
        /// (4.4)
        BIOMETRIC_TYPE_NOT_SUPPORTED = (4, 0x02, "A selected Biometric Type not supported");
        /// (4.4)
        XDA_SIGNATURE_VERIFICATION_FAILED = (4, 0x01, "XDA signature verification failed");

        DEFAULT_TDOL_USED = (5, 0x80, "Default TDOL used");
        ISSUER_AUTHENTICATION_FAILED = (5, 0x40, "Issuer authentication failed");
        SCRIPT_FAILED_BEFORE_FINAL_GENERATE_AC =
            (5, 0x20, "Script processing failed before final GENERATE AC");
        SCRIPT_FAILED_AFTER_FINAL_GENERATE_AC =
            (5, 0x10, "Script processing failed after final GENERATE AC");
        CONTACTLESS_RESERVED_B4 =
            (5, 0x08, "Reserved for use by the EMV Contactless Specifications");
        /// (4.4)
        CA_ECC_KEY_MISSING = (5, 0x04, "CA ECC key missing");
        /// (4.4)
        ECC_KEY_RECOVERY_FAILED = (5, 0x02, "ECC key recovery failed");
        CONTACTLESS_RESERVED_B1 =
            (5, 0x01, "Reserved for use by the EMV Contactless Specifications");
    }
    fields {}
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;
    use crate::data::bits::{BitPos, check_tables};
    use proptest::prelude::*;

    fn names(t: &Tvr) -> Vec<&'static str> {
        t.set_flags().map(|f| f.name).collect()
    }

    #[test]
    fn tables() {
        check_tables::<Tvr>();
        // Every bit but byte 2 b3 (RFU) has a name.
        assert_eq!(Tvr::FLAGS.len(), 39);
        let rfu: Vec<BitPos> = Tvr::new([0xFF; 5]).rfu_bits_set().collect();
        assert_eq!(rfu, [BitPos { byte: 2, bit: 3 }]);
    }

    #[test]
    fn floor_limit_only() {
        let t = Tvr::from_bytes(&[0x00, 0x00, 0x00, 0x80, 0x00]).unwrap();
        assert_eq!(names(&t), ["Transaction exceeds floor limit"]);
        assert!(t.contains(Tvr::FLOOR_LIMIT_EXCEEDED));
        assert_eq!(t.rfu_bits_set().count(), 0);
    }

    #[test]
    fn trace_8000048000() {
        let t = Tvr::from_bytes(&[0x80, 0x00, 0x04, 0x80, 0x00]).unwrap();
        assert_eq!(
            names(&t),
            [
                "Offline data authentication was not performed",
                "Online CVM captured",
                "Transaction exceeds floor limit",
            ]
        );
        let f: Vec<(u8, u8)> = t.set_flags().map(|f| (f.byte, f.bit())).collect();
        assert_eq!(f, [(1, 8), (3, 3), (4, 8)]);
    }

    #[test]
    fn build_and_encode() {
        let t = Tvr::default()
            .with(Tvr::ICC_DATA_MISSING)
            .with(Tvr::CARDHOLDER_VERIFICATION_NOT_SUCCESSFUL)
            .with(Tvr::ISSUER_AUTHENTICATION_FAILED);
        assert_eq!(t.to_bytes(), [0x20, 0x00, 0x80, 0x00, 0x40]);
        assert_eq!(Tvr::from_bytes(t.as_bytes()), Some(t));
        let mut u = t;
        u.clear(Tvr::ICC_DATA_MISSING);
        assert_eq!(u.0, [0x00, 0x00, 0x80, 0x00, 0x40]);
    }

    #[test]
    fn rfu_bit_reported() {
        let t = Tvr::new([0, 0x04, 0, 0, 0]);
        assert_eq!(t.set_flags().count(), 0);
        assert_eq!(
            t.rfu_bits_set().collect::<Vec<_>>(),
            [BitPos { byte: 2, bit: 3 }]
        );
    }

    #[test]
    fn wrong_length_rejected() {
        assert_eq!(Tvr::from_bytes(&[0; 4]), None);
        assert_eq!(Tvr::from_bytes(&[0; 6]), None);
        assert_eq!(Tvr::from_bytes(&[]), None);
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            if let Some(t) = Tvr::from_bytes(&bytes) {
                prop_assert_eq!(bytes.len(), 5);
                prop_assert_eq!(&t.0[..], &bytes[..]);
                // Every set bit is either a flag or RFU, never both, never lost.
                let flags: u32 = t.set_flags().count() as u32;
                let rfu: u32 = t.rfu_bits_set().count() as u32;
                let ones: u32 = bytes.iter().map(|b| b.count_ones()).sum();
                prop_assert_eq!(flags + rfu, ones);
            } else {
                prop_assert_ne!(bytes.len(), 5);
            }
        }
    }
}
