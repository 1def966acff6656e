//! Terminal Capabilities, tag `9F33` (EMV 4.4 Book 4 Annex A2, Table 26).
//!
//! Three bytes: card data input capability, CVM capability and security
//! capability. Bits marked (4.4) are RFU in EMV 4.3.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Terminal Capabilities (`9F33`), 3 bytes.
    pub struct TerminalCapabilities([u8; 3]);
    tag: Some(Tag::new(0x9F33));
    name: "Terminal Capabilities";
    flags {
        MANUAL_KEY_ENTRY = (1, 0x80, "Manual key entry");
        MAGNETIC_STRIPE = (1, 0x40, "Magnetic stripe");
        IC_WITH_CONTACTS = (1, 0x20, "IC with contacts");

        PLAINTEXT_PIN_FOR_ICC = (2, 0x80, "Plaintext PIN for ICC verification");
        ENCIPHERED_PIN_ONLINE = (2, 0x40, "Enciphered PIN for online verification");
        SIGNATURE = (2, 0x20, "Signature (paper)");
        ENCIPHERED_PIN_OFFLINE_RSA =
            (2, 0x10, "Enciphered PIN for offline verification (RSA ODE)");
        NO_CVM_REQUIRED = (2, 0x08, "No CVM required");
        /// (4.4)
        ONLINE_BIOMETRIC = (2, 0x04, "Online Biometric");
        /// (4.4)
        OFFLINE_BIOMETRIC = (2, 0x02, "Offline Biometric");
        /// (4.4)
        ENCIPHERED_PIN_OFFLINE_ECC =
            (2, 0x01, "Enciphered PIN for offline verification (ECC ODE)");

        SDA = (3, 0x80, "SDA");
        DDA = (3, 0x40, "DDA");
        CARD_CAPTURE = (3, 0x20, "Card capture");
        CDA = (3, 0x08, "CDA");
        /// (4.4)
        XDA = (3, 0x04, "XDA");
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
    use crate::data::bits::check_tables;
    use proptest::prelude::*;

    #[test]
    fn tables() {
        check_tables::<TerminalCapabilities>();
    }

    #[test]
    fn e0f8c8() {
        let t = TerminalCapabilities::from_bytes(&[0xE0, 0xF8, 0xC8]).unwrap();
        let names: Vec<&str> = t.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Manual key entry",
                "Magnetic stripe",
                "IC with contacts",
                "Plaintext PIN for ICC verification",
                "Enciphered PIN for online verification",
                "Signature (paper)",
                "Enciphered PIN for offline verification (RSA ODE)",
                "No CVM required",
                "SDA",
                "DDA",
                "CDA",
            ]
        );
        assert!(!t.contains(TerminalCapabilities::CARD_CAPTURE));
        assert_eq!(t.rfu_bits_set().count(), 0);
    }

    #[test]
    fn build_and_rfu() {
        let t = TerminalCapabilities::default()
            .with(TerminalCapabilities::IC_WITH_CONTACTS)
            .with(TerminalCapabilities::NO_CVM_REQUIRED)
            .with(TerminalCapabilities::XDA);
        assert_eq!(t.to_bytes(), [0x20, 0x08, 0x04]);
        let rfu: Vec<(u8, u8)> = TerminalCapabilities::new([0x1F, 0, 0x13])
            .rfu_bits_set()
            .map(|p| (p.byte, p.bit))
            .collect();
        assert_eq!(
            rfu,
            [
                (1, 5),
                (1, 4),
                (1, 3),
                (1, 2),
                (1, 1),
                (3, 5),
                (3, 2),
                (3, 1)
            ]
        );
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..5)) {
            match TerminalCapabilities::from_bytes(&bytes) {
                Some(t) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(t.set_flags().count() + t.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 3),
            }
        }
    }
}
