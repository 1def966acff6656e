//! The application cryptogram, EMV 4.4 Book 2 §8.1: a MAC (ISO/IEC 9797-1
//! MAC algorithm 3, Book 2 Annex A1.2.1) under the AC key over the
//! transaction data, padded with method 2 for EMV and the Mastercard /
//! Interac CVNs, with method 1 for Visa CVN 10 (VIS 1.4).
//!
//! [`AcInput`] holds the minimum data set of Book 2 §8.1.1 (Table 26):
//! `9F02 9F03 9F1A 95 5F2A 9A 9C 9F37` from the terminal (CDOL1) and
//! `82 9F36` from the card, plus the card's Issuer Application Data
//! (`9F10`), from which each CVN takes its part
//! ([`Cvn::ac_data`](super::cvn::Cvn::ac_data)).

use super::keys::TdesKey;
use super::mac::{Padding, mac_algorithm_3};

/// Length of the terminal and card fields of [`AcInput::standard_data`].
pub const STANDARD_DATA_LEN: usize = 33;

/// The data an application cryptogram is computed over.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AcInput {
    /// Amount, Authorised (tag `9F02`, n 12).
    pub amount_authorised: [u8; 6],
    /// Amount, Other (tag `9F03`, n 12).
    pub amount_other: [u8; 6],
    /// Terminal Country Code (tag `9F1A`, n 3).
    pub terminal_country_code: [u8; 2],
    /// Terminal Verification Results (tag `95`).
    pub tvr: [u8; 5],
    /// Transaction Currency Code (tag `5F2A`, n 3).
    pub transaction_currency_code: [u8; 2],
    /// Transaction Date (tag `9A`, YYMMDD).
    pub transaction_date: [u8; 3],
    /// Transaction Type (tag `9C`).
    pub transaction_type: u8,
    /// Unpredictable Number (tag `9F37`).
    pub unpredictable_number: [u8; 4],
    /// Application Interchange Profile (tag `82`).
    pub aip: [u8; 2],
    /// Application Transaction Counter (tag `9F36`).
    pub atc: [u8; 2],
    /// Issuer Application Data (tag `9F10`, up to 32 bytes) as the card
    /// returns it, including the CVR.
    pub iad: Vec<u8>,
}

impl AcInput {
    /// The ten standard fields concatenated in the order
    /// `9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36` (33 bytes).
    #[must_use]
    pub fn standard_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(STANDARD_DATA_LEN + self.iad.len());
        out.extend_from_slice(&self.amount_authorised);
        out.extend_from_slice(&self.amount_other);
        out.extend_from_slice(&self.terminal_country_code);
        out.extend_from_slice(&self.tvr);
        out.extend_from_slice(&self.transaction_currency_code);
        out.extend_from_slice(&self.transaction_date);
        out.push(self.transaction_type);
        out.extend_from_slice(&self.unpredictable_number);
        out.extend_from_slice(&self.aip);
        out.extend_from_slice(&self.atc);
        out
    }
}

/// An application cryptogram: MAC algorithm 3 under the AC key `key` over
/// `data` with `padding`, full 8 bytes.
#[must_use]
pub fn application_cryptogram(key: &TdesKey, data: &[u8], padding: Padding) -> [u8; 8] {
    mac_algorithm_3(key, data, padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_data_order_vector_a4() {
        let input = AcInput {
            amount_authorised: [0, 0, 0, 0, 0x20, 0x00],
            amount_other: [0; 6],
            terminal_country_code: [0x01, 0x24],
            tvr: [0, 0, 0, 0x80, 0],
            transaction_currency_code: [0x01, 0x24],
            transaction_date: [0x11, 0x03, 0x09],
            transaction_type: 0,
            unpredictable_number: [0x38, 0x04, 0x82, 0x3E],
            aip: [0x58, 0x00],
            atc: [0x00, 0x01],
            iad: vec![],
        };
        let data = input.standard_data();
        assert_eq!(data.len(), STANDARD_DATA_LEN);
        assert_eq!(
            hex::encode_upper(&data),
            "000000002000000000000000012400000080000124110309003804823E58000001"
        );
        let key = TdesKey::from_hex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB").unwrap();
        assert_eq!(
            hex::encode_upper(application_cryptogram(&key, &data, Padding::Method2)),
            "3B76CF10FECD8789"
        );
    }
}
