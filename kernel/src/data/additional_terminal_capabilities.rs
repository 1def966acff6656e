//! Additional Terminal Capabilities, tag `9F40` (EMV 4.4 Book 4 Annex A3,
//! Table 27).
//!
//! Five bytes: transaction type capability (bytes 1–2), terminal data input
//! capability (byte 3) and terminal data output capability (bytes 4–5,
//! including the ISO/IEC 8859 code tables the terminal can show).

use crate::data::bits::bit_view;
use crate::wire::tag::Tag;

bit_view! {
    /// Additional Terminal Capabilities (`9F40`), 5 bytes.
    pub struct AdditionalTerminalCapabilities([u8; 5]);
    tag: Some(Tag::new(0x9F40));
    name: "Additional Terminal Capabilities";
    flags {
        CASH = (1, 0x80, "Cash");
        GOODS = (1, 0x40, "Goods");
        SERVICES = (1, 0x20, "Services");
        CASHBACK = (1, 0x10, "Cashback");
        INQUIRY = (1, 0x08, "Inquiry");
        TRANSFER = (1, 0x04, "Transfer");
        PAYMENT = (1, 0x02, "Payment");
        ADMINISTRATIVE = (1, 0x01, "Administrative");

        CASH_DEPOSIT = (2, 0x80, "Cash deposit");

        NUMERIC_KEYS = (3, 0x80, "Numeric keys");
        ALPHABETIC_AND_SPECIAL_KEYS = (3, 0x40, "Alphabetic and special characters keys");
        COMMAND_KEYS = (3, 0x20, "Command keys");
        FUNCTION_KEYS = (3, 0x10, "Function keys");

        PRINT_ATTENDANT = (4, 0x80, "Print, attendant");
        PRINT_CARDHOLDER = (4, 0x40, "Print, cardholder");
        DISPLAY_ATTENDANT = (4, 0x20, "Display, attendant");
        DISPLAY_CARDHOLDER = (4, 0x10, "Display, cardholder");
        CODE_TABLE_10 = (4, 0x02, "Code table 10");
        CODE_TABLE_9 = (4, 0x01, "Code table 9");

        CODE_TABLE_8 = (5, 0x80, "Code table 8");
        CODE_TABLE_7 = (5, 0x40, "Code table 7");
        CODE_TABLE_6 = (5, 0x20, "Code table 6");
        CODE_TABLE_5 = (5, 0x10, "Code table 5");
        CODE_TABLE_4 = (5, 0x08, "Code table 4");
        CODE_TABLE_3 = (5, 0x04, "Code table 3");
        CODE_TABLE_2 = (5, 0x02, "Code table 2");
        CODE_TABLE_1 = (5, 0x01, "Code table 1");
    }
    fields {}
}

impl AdditionalTerminalCapabilities {
    /// Whether the terminal can show ISO/IEC 8859 part `part` (1 to 10).
    /// Any other number gives `false`.
    #[must_use]
    pub fn supports_code_table(&self, part: u8) -> bool {
        let flag = match part {
            1 => Self::CODE_TABLE_1,
            2 => Self::CODE_TABLE_2,
            3 => Self::CODE_TABLE_3,
            4 => Self::CODE_TABLE_4,
            5 => Self::CODE_TABLE_5,
            6 => Self::CODE_TABLE_6,
            7 => Self::CODE_TABLE_7,
            8 => Self::CODE_TABLE_8,
            9 => Self::CODE_TABLE_9,
            10 => Self::CODE_TABLE_10,
            _ => return false,
        };
        self.contains(flag)
    }
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

    type Atc = AdditionalTerminalCapabilities;

    #[test]
    fn tables() {
        check_tables::<Atc>();
    }

    #[test]
    fn typical_pos_value() {
        // Goods, services, cashback; numeric, command and function keys;
        // print and display for both; code table 1.
        let a = Atc::from_bytes(&[0x70, 0x00, 0xB0, 0xF0, 0x01]).unwrap();
        let names: Vec<&str> = a.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Goods",
                "Services",
                "Cashback",
                "Numeric keys",
                "Command keys",
                "Function keys",
                "Print, attendant",
                "Print, cardholder",
                "Display, attendant",
                "Display, cardholder",
                "Code table 1",
            ]
        );
        assert!(a.supports_code_table(1));
        assert!(!a.supports_code_table(2));
        assert!(!a.supports_code_table(0));
        assert!(!a.supports_code_table(11));
    }

    #[test]
    fn code_tables_9_and_10_and_rfu() {
        let a = Atc::new([0, 0x01, 0x08, 0x0F, 0]);
        assert!(a.supports_code_table(9));
        assert!(a.supports_code_table(10));
        let rfu: Vec<(u8, u8)> = a.rfu_bits_set().map(|p| (p.byte, p.bit)).collect();
        assert_eq!(rfu, [(2, 1), (3, 4), (4, 4), (4, 3)]);
        assert_eq!(
            Atc::default().with(Atc::CASH).to_bytes(),
            [0x80, 0, 0, 0, 0]
        );
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..7), part in any::<u8>()) {
            match Atc::from_bytes(&bytes) {
                Some(a) => {
                    let ones: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
                    prop_assert_eq!(a.set_flags().count() + a.rfu_bits_set().count(), ones);
                    let _ = a.supports_code_table(part);
                }
                None => prop_assert_ne!(bytes.len(), 5),
            }
        }
    }
}
