//! Application Interchange Profile, tag `82` (EMV 4.4 Book 3 Annex C1,
//! Table 41; contactless byte 2 bits from EMV Contactless Book C-2).
//!
//! Two bytes in which the card states what it supports. Byte 1 b8 (XDA) and
//! b2 (on-device cardholder verification) are (4.4): RFU in EMV 4.3. Byte 2
//! is used by the contactless kernels only.

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Application Interchange Profile (`82`), 2 bytes.
    pub struct Aip([u8; 2]);
    tag: Some(Tag::new(0x82));
    name: "Application Interchange Profile";
    flags {
        /// (4.4)
        XDA_SUPPORTED = (1, 0x80, "XDA supported");
        SDA_SUPPORTED = (1, 0x40, "SDA supported");
        DDA_SUPPORTED = (1, 0x20, "DDA supported");
        CARDHOLDER_VERIFICATION_SUPPORTED = (1, 0x10, "Cardholder verification is supported");
        TERMINAL_RISK_MANAGEMENT =
            (1, 0x08, "Terminal risk management is to be performed");
        ISSUER_AUTHENTICATION_SUPPORTED = (1, 0x04, "Issuer authentication is supported");
        /// (4.4; contactless)
        ON_DEVICE_CARDHOLDER_VERIFICATION =
            (1, 0x02, "On device cardholder verification is supported");
        CDA_SUPPORTED = (1, 0x01, "CDA supported");

        /// Contactless (Book C-2); RFU for contact.
        EMV_MODE_SUPPORTED = (2, 0x80, "EMV mode is supported (contactless)");
        /// Contactless (Book C-2); RFU for contact.
        MOBILE_PHONE = (2, 0x40, "Mobile phone (contactless)");
        /// Contactless (Book C-2); RFU for contact.
        CONTACTLESS_TRANSACTION = (2, 0x20, "Contactless transaction");
        /// Contactless (Books C-2, C-8); RFU for contact.
        RELAY_RESISTANCE_PROTOCOL_SUPPORTED =
            (2, 0x01, "Relay Resistance Protocol is supported");
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

    fn names(a: &Aip) -> Vec<&'static str> {
        a.set_flags().map(|f| f.name).collect()
    }

    #[test]
    fn tables() {
        check_tables::<Aip>();
    }

    #[test]
    fn aip_1980() {
        let a = Aip::from_bytes(&[0x19, 0x80]).unwrap();
        assert_eq!(
            names(&a),
            [
                "Cardholder verification is supported",
                "Terminal risk management is to be performed",
                "CDA supported",
                "EMV mode is supported (contactless)",
            ]
        );
        assert!(a.contains(Aip::CDA_SUPPORTED));
        assert!(!a.contains(Aip::SDA_SUPPORTED));
    }

    #[test]
    fn aip_5800() {
        let a = Aip::from_bytes(&[0x58, 0x00]).unwrap();
        assert_eq!(
            names(&a),
            [
                "SDA supported",
                "Cardholder verification is supported",
                "Terminal risk management is to be performed",
            ]
        );
        assert_eq!(a.rfu_bits_set().count(), 0);
    }

    #[test]
    fn build() {
        let a = Aip::default()
            .with(Aip::DDA_SUPPORTED)
            .with(Aip::RELAY_RESISTANCE_PROTOCOL_SUPPORTED);
        assert_eq!(a.to_bytes(), [0x20, 0x01]);
        assert_eq!(Aip::new([0, 0x10]).rfu_bits_set().count(), 1);
        assert_eq!(Aip::from_bytes(&[0x19]), None);
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4)) {
            match Aip::from_bytes(&bytes) {
                Some(a) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(a.set_flags().count() + a.rfu_bits_set().count(), ones);
                }
                None => prop_assert_ne!(bytes.len(), 2),
            }
        }
    }
}
