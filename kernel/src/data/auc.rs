//! Application Usage Control, tag `9F07` (EMV 4.4 Book 3 Annex C2,
//! Table 42).
//!
//! Two bytes in which the issuer restricts where and for what the
//! application may be used (Book 3 §10.4.2). Byte 2 b6–b1 are RFU.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Application Usage Control (`9F07`), 2 bytes.
    pub struct Auc([u8; 2]);
    tag: Some(Tag::new(0x9F07));
    name: "Application Usage Control";
    flags {
        DOMESTIC_CASH = (1, 0x80, "Valid for domestic cash transactions");
        INTERNATIONAL_CASH = (1, 0x40, "Valid for international cash transactions");
        DOMESTIC_GOODS = (1, 0x20, "Valid for domestic goods");
        INTERNATIONAL_GOODS = (1, 0x10, "Valid for international goods");
        DOMESTIC_SERVICES = (1, 0x08, "Valid for domestic services");
        INTERNATIONAL_SERVICES = (1, 0x04, "Valid for international services");
        ATMS = (1, 0x02, "Valid at ATMs");
        NON_ATM_TERMINALS = (1, 0x01, "Valid at terminals other than ATMs");

        DOMESTIC_CASHBACK = (2, 0x80, "Domestic cashback allowed");
        INTERNATIONAL_CASHBACK = (2, 0x40, "International cashback allowed");
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
        check_tables::<Auc>();
    }

    #[test]
    fn auc_ff00() {
        let a = Auc::from_bytes(&[0xFF, 0x00]).unwrap();
        let names: Vec<&str> = a.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Valid for domestic cash transactions",
                "Valid for international cash transactions",
                "Valid for domestic goods",
                "Valid for international goods",
                "Valid for domestic services",
                "Valid for international services",
                "Valid at ATMs",
                "Valid at terminals other than ATMs",
            ]
        );
        assert!(!a.contains(Auc::DOMESTIC_CASHBACK));
    }

    #[test]
    fn cashback_and_rfu() {
        let a = Auc::from_bytes(&[0x01, 0xC1]).unwrap();
        assert!(a.contains(Auc::NON_ATM_TERMINALS));
        assert!(a.contains(Auc::DOMESTIC_CASHBACK));
        assert!(a.contains(Auc::INTERNATIONAL_CASHBACK));
        let rfu: Vec<(u8, u8)> = a.rfu_bits_set().map(|p| (p.byte, p.bit)).collect();
        assert_eq!(rfu, [(2, 1)]);
        assert_eq!(Auc::default().with(Auc::ATMS).to_bytes(), [0x02, 0x00]);
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4)) {
            match Auc::from_bytes(&bytes) {
                Some(a) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(a.set_flags().count() + a.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 2),
            }
        }
    }
}
