//! Card Transaction Qualifiers, tag `9F6C` (EMV Contactless Book C-3
//! Annex A.2; also used by Book C-7).
//!
//! Two bytes in which a Kernel 3 card tells the reader which CVM it wants and
//! how to proceed when offline processing fails.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Card Transaction Qualifiers (`9F6C`), 2 bytes.
    pub struct Ctq([u8; 2]);
    tag: Some(Tag::new(0x9F6C));
    name: "Card Transaction Qualifiers";
    flags {
        ONLINE_PIN_REQUIRED = (1, 0x80, "Online PIN required");
        SIGNATURE_REQUIRED = (1, 0x40, "Signature required");
        GO_ONLINE_IF_ODA_FAILS = (1, 0x20,
            "Go online if offline data authentication fails and reader is online capable");
        SWITCH_INTERFACE_IF_ODA_FAILS = (1, 0x10,
            "Switch interface if offline data authentication fails and reader supports contact chip");
        GO_ONLINE_IF_APPLICATION_EXPIRED = (1, 0x08, "Go online if application expired");
        SWITCH_INTERFACE_FOR_CASH = (1, 0x04, "Switch interface for cash transactions");
        SWITCH_INTERFACE_FOR_CASHBACK = (1, 0x02, "Switch interface for cashback transactions");
        NOT_VALID_FOR_CONTACTLESS_ATM = (1, 0x01, "Not valid for contactless ATM transactions");

        CONSUMER_DEVICE_CVM_PERFORMED = (2, 0x80, "Consumer device CVM performed");
        ISSUER_UPDATE_PROCESSING_SUPPORTED =
            (2, 0x40, "Card supports issuer update processing at the POS");
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
        check_tables::<Ctq>();
    }

    #[test]
    fn ctq_2880() {
        let c = Ctq::from_bytes(&[0x28, 0x80]).unwrap();
        let names: Vec<&str> = c.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Go online if offline data authentication fails and reader is online capable",
                "Go online if application expired",
                "Consumer device CVM performed",
            ]
        );
        assert!(!c.contains(Ctq::ONLINE_PIN_REQUIRED));
    }

    #[test]
    fn build_and_rfu() {
        let c = Ctq::default()
            .with(Ctq::ONLINE_PIN_REQUIRED)
            .with(Ctq::SIGNATURE_REQUIRED);
        assert_eq!(c.to_bytes(), [0xC0, 0x00]);
        let rfu: Vec<(u8, u8)> = Ctq::new([0, 0x21])
            .rfu_bits_set()
            .map(|p| (p.byte, p.bit))
            .collect();
        assert_eq!(rfu, [(2, 6), (2, 1)]);
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4)) {
            match Ctq::from_bytes(&bytes) {
                Some(c) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(c.set_flags().count() + c.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 2),
            }
        }
    }
}
