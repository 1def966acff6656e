//! Terminal Transaction Qualifiers, tag `9F66` (EMV Contactless Book A
//! §5.7 Table 5-4; Book C-3 Annex A.2).
//!
//! Four bytes the reader sends to the card (in the PDOL data) to state its
//! contactless capabilities and per-transaction requirements. Entry Point
//! pre-processing (Book B §3.1.1) sets byte 2 b8 and b7 per transaction.
//!
//! Bits beyond Book A/C-3 that individual kernels define (Book C-6/C-7) are
//! marked in their docs. Byte 2 b4 ("fast mode", C-6) and b3 ("transit
//! terminal") are left unnamed: **\[M\]** their kernel-specific meanings are
//! unconfirmed, so they are reported as RFU.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Terminal Transaction Qualifiers (`9F66`), 4 bytes.
    pub struct Ttq([u8; 4]);
    tag: Some(Tag::new(0x9F66));
    name: "Terminal Transaction Qualifiers";
    flags {
        MAG_STRIPE_MODE_SUPPORTED = (1, 0x80, "Mag-stripe mode supported");
        EMV_MODE_SUPPORTED = (1, 0x20, "EMV mode supported");
        EMV_CONTACT_CHIP_SUPPORTED = (1, 0x10, "EMV contact chip supported");
        OFFLINE_ONLY_READER = (1, 0x08, "Offline-only reader");
        ONLINE_PIN_SUPPORTED = (1, 0x04, "Online PIN supported");
        SIGNATURE_SUPPORTED = (1, 0x02, "Signature supported");
        ODA_FOR_ONLINE_AUTHORISATIONS_SUPPORTED =
            (1, 0x01, "Offline data authentication for online authorisations supported");

        ONLINE_CRYPTOGRAM_REQUIRED = (2, 0x80, "Online cryptogram required");
        CVM_REQUIRED = (2, 0x40, "CVM required");
        CONTACT_CHIP_OFFLINE_PIN_SUPPORTED = (2, 0x20, "(Contact chip) offline PIN supported");

        ISSUER_UPDATE_PROCESSING_SUPPORTED = (3, 0x80, "Issuer update processing supported");
        CONSUMER_DEVICE_CVM_SUPPORTED = (3, 0x40, "Consumer device CVM supported");
        /// Book C-6; not in Book A Table 5-4 as consulted.
        CONSUMER_DEVICE_CVM_REQUIRED = (3, 0x08, "Consumer device CVM required") [M];

        /// Book C-7; not in Book A Table 5-4 as consulted.
        FDDA_V1_SUPPORTED = (4, 0x80, "fDDA v1.0 supported") [M];
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
        check_tables::<Ttq>();
        const { assert!(Ttq::EMV_MODE_SUPPORTED.confirmed) };
        const { assert!(!Ttq::CONSUMER_DEVICE_CVM_REQUIRED.confirmed) };
        const { assert!(!Ttq::FDDA_V1_SUPPORTED.confirmed) };
    }

    #[test]
    fn typical_visa_reader() {
        // 36 00 80 00: EMV mode, contact chip, online PIN, signature;
        // issuer update processing.
        let t = Ttq::from_bytes(&[0x36, 0x00, 0x80, 0x00]).unwrap();
        let names: Vec<&str> = t.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "EMV mode supported",
                "EMV contact chip supported",
                "Online PIN supported",
                "Signature supported",
                "Issuer update processing supported",
            ]
        );
    }

    #[test]
    fn pre_processing_bits() {
        let mut t = Ttq::new([0x36, 0xC0, 0x00, 0x00]);
        assert!(t.contains(Ttq::ONLINE_CRYPTOGRAM_REQUIRED));
        assert!(t.contains(Ttq::CVM_REQUIRED));
        // Book B 3.1.1.2: clear both before per-transaction processing.
        t.clear(Ttq::ONLINE_CRYPTOGRAM_REQUIRED);
        t.clear(Ttq::CVM_REQUIRED);
        assert_eq!(t.to_bytes(), [0x36, 0x00, 0x00, 0x00]);
        let rfu: Vec<(u8, u8)> = Ttq::new([0x40, 0x18, 0x37, 0x7F])
            .rfu_bits_set()
            .map(|p| (p.byte, p.bit))
            .collect();
        assert_eq!(rfu.first(), Some(&(1, 7)));
        assert_eq!(rfu.len(), 1 + 2 + 5 + 7);
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..6)) {
            match Ttq::from_bytes(&bytes) {
                Some(t) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(t.set_flags().count() + t.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 4),
            }
        }
    }
}
