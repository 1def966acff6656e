//! Transaction Status Information, tag `9B` (EMV 4.4 Book 3 Annex C6,
//! Table 47).
//!
//! Two bytes recording which functions the terminal performed. Byte 1 b2–b1
//! and all of byte 2 are RFU.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Transaction Status Information (`9B`), 2 bytes.
    pub struct Tsi([u8; 2]);
    tag: Some(Tag::new(0x9B));
    name: "Transaction Status Information";
    flags {
        ODA_PERFORMED = (1, 0x80, "Offline data authentication was performed");
        CARDHOLDER_VERIFICATION_PERFORMED = (1, 0x40, "Cardholder verification was performed");
        CARD_RISK_MANAGEMENT_PERFORMED = (1, 0x20, "Card risk management was performed");
        ISSUER_AUTHENTICATION_PERFORMED = (1, 0x10, "Issuer authentication was performed");
        TERMINAL_RISK_MANAGEMENT_PERFORMED =
            (1, 0x08, "Terminal risk management was performed");
        SCRIPT_PROCESSING_PERFORMED = (1, 0x04, "Script processing was performed");
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

    #[test]
    fn tables() {
        check_tables::<Tsi>();
        assert_eq!(Tsi::FLAGS.len(), 6);
    }

    #[test]
    fn typical_online_transaction() {
        // ODA, CVM, card and terminal risk management performed.
        let t = Tsi::from_bytes(&[0xE8, 0x00]).unwrap();
        let names: Vec<&str> = t.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Offline data authentication was performed",
                "Cardholder verification was performed",
                "Card risk management was performed",
                "Terminal risk management was performed",
            ]
        );
        assert!(!t.contains(Tsi::ISSUER_AUTHENTICATION_PERFORMED));
    }

    #[test]
    fn build_and_rfu() {
        let t = Tsi::default()
            .with(Tsi::ISSUER_AUTHENTICATION_PERFORMED)
            .with(Tsi::SCRIPT_PROCESSING_PERFORMED);
        assert_eq!(t.to_bytes(), [0x14, 0x00]);
        let rfu: Vec<BitPos> = Tsi::new([0x03, 0x80]).rfu_bits_set().collect();
        assert_eq!(
            rfu,
            [
                BitPos { byte: 1, bit: 2 },
                BitPos { byte: 1, bit: 1 },
                BitPos { byte: 2, bit: 8 }
            ]
        );
        assert_eq!(Tsi::from_bytes(&[0xE8]), None);
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4)) {
            match Tsi::from_bytes(&bytes) {
                Some(t) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(t.set_flags().count() + t.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 2),
            }
        }
    }
}
