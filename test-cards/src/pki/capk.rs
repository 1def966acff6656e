//! Certification Authority public keys as a terminal stores them, with the
//! CA public key check sum of EMV 4.4 Book 2 §11.2: SHA-1 over
//! `RID (5) ‖ CA public key index (1) ‖ modulus ‖ exponent`.
//!
//! The terminal retrieves the key by RID (first five bytes of the AID) and
//! index (tag `8F`) and uses it to recover the issuer public key certificate
//! (Book 2 §5.2, §6.2). [`Capk::to_toml`] renders one key as a TOML table for
//! the terminal configuration.

use std::fmt::Write as _;

use super::PkiError;
use super::ca::PROJECT_RID;
use super::keys::RsaPublicKey;
use super::recover::HASH_LEN;

/// A CA public key as loaded into a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capk {
    /// Registered application provider identifier.
    pub rid: [u8; 5],
    /// CA public key index (tag `8F` on the card).
    pub index: u8,
    /// Modulus, big endian (`NCA` bytes).
    pub modulus: Vec<u8>,
    /// Public exponent as encoded (`03` or `01 00 01`).
    pub exponent: Vec<u8>,
    /// Check sum: SHA-1(RID ‖ index ‖ modulus ‖ exponent).
    pub checksum: [u8; HASH_LEN],
    /// Key expiry: year (2000–2099) and month (1–12); the key is valid
    /// through the last day of that month.
    pub expiry: (u16, u8),
}

impl Capk {
    /// The CAPK entry for `public_key`, with its check sum computed.
    ///
    /// # Errors
    /// [`PkiError::InvalidCaExpiry`] for a year outside 2000–2099 or a month
    /// outside 1–12.
    pub fn new(
        rid: [u8; 5],
        index: u8,
        public_key: &RsaPublicKey,
        expiry: (u16, u8),
    ) -> Result<Self, PkiError> {
        check_ca_expiry(expiry)?;
        let modulus = public_key.modulus().to_vec();
        let exponent = public_key.exponent().bytes().to_vec();
        let checksum = checksum(rid, index, &modulus, &exponent);
        Ok(Self {
            rid,
            index,
            modulus,
            exponent,
            checksum,
            expiry,
        })
    }

    /// True when [`Capk::checksum`] matches the key data.
    #[must_use]
    pub fn checksum_is_valid(&self) -> bool {
        checksum(self.rid, self.index, &self.modulus, &self.exponent) == self.checksum
    }

    /// The public key, for recovering issuer certificates.
    ///
    /// # Errors
    /// As [`RsaPublicKey::new`].
    pub fn public_key(&self) -> Result<RsaPublicKey, PkiError> {
        RsaPublicKey::new(&self.modulus, &self.exponent)
    }

    /// The key as one `[[capk]]` TOML array-of-tables entry: hex strings in
    /// upper case, and the expiry as a TOML local date (last day of the
    /// expiry month). Project test keys get a warning comment.
    #[must_use]
    pub fn to_toml(&self) -> String {
        let (year, month) = self.expiry;
        let mut out = String::from("[[capk]]\n");
        if self.rid == PROJECT_RID {
            out.push_str(
                "# emv-test-cards project test CA (unregistered RID F000000999): \
                 test terminals only\n",
            );
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "rid = \"{}\"", hex::encode_upper(self.rid));
        let _ = writeln!(out, "index = \"{:02X}\"", self.index);
        let _ = writeln!(out, "modulus = \"{}\"", hex::encode_upper(&self.modulus));
        let _ = writeln!(out, "exponent = \"{}\"", hex::encode_upper(&self.exponent));
        let _ = writeln!(out, "checksum = \"{}\"", hex::encode_upper(self.checksum));
        let _ = writeln!(
            out,
            "expiry = {year:04}-{month:02}-{:02}",
            days_in_month(year, month)
        );
        out
    }
}

/// The CA public key check sum (Book 2 §11.2): SHA-1(RID ‖ index ‖ modulus
/// ‖ exponent).
#[must_use]
pub fn checksum(rid: [u8; 5], index: u8, modulus: &[u8], exponent: &[u8]) -> [u8; HASH_LEN] {
    super::recover::hash(&rid, &[&[index], modulus, exponent])
}

pub(crate) fn check_ca_expiry((year, month): (u16, u8)) -> Result<(), PkiError> {
    if (2000..=2099).contains(&year) && (1..=12).contains(&month) {
        Ok(())
    } else {
        Err(PkiError::InvalidCaExpiry { year, month })
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mastercard test key F8 (1024 bits, exponent 3) and its published
    /// check sum (emv-facts §4).
    #[test]
    fn checksum_of_a_published_test_key() {
        let modulus = hex::decode(
            "A1F5E1C9BD8650BD43AB6EE56B891EF7459C0A24FA84F9127D1A6C79D4930F6D\
             B1852E2510F18B61CD354DB83A356BD190B88AB8DF04284D02A4204A7B6CB7C5\
             551977A9B36379CA3DE1A08E69F301C95CC1C20506959275F41723DD5D292529\
             0579E5A95B0DF6323FC8E9273D6F849198C4996209166D9BFC973C361CC826E1",
        )
        .unwrap();
        let key = RsaPublicKey::new(&modulus, &[3]).unwrap();
        let capk = Capk::new([0xA0, 0, 0, 0, 0x04], 0xF8, &key, (2030, 12)).unwrap();
        assert_eq!(
            hex::encode_upper(capk.checksum),
            "F06ECC6D2AAEBF259B7E755A38D9A9B24E2FF3DD"
        );
        assert!(capk.checksum_is_valid());
        assert_eq!(capk.public_key().unwrap(), key);
    }

    #[test]
    fn toml_parses_back() {
        let key = crate::pki::keys::RsaKeyPair::from_seed(
            b"capk-toml",
            768,
            crate::pki::keys::Exponent::F4,
        )
        .unwrap();
        let capk = Capk::new(PROJECT_RID, 0x01, key.public_key(), (2048, 2)).unwrap();
        let text = capk.to_toml();
        let doc: toml::Table = text.parse().unwrap();
        let entry = &doc["capk"].as_array().unwrap()[0];
        assert_eq!(entry["rid"].as_str(), Some("F000000999"));
        assert_eq!(entry["index"].as_str(), Some("01"));
        assert_eq!(entry["exponent"].as_str(), Some("010001"));
        assert_eq!(
            entry["modulus"].as_str(),
            Some(hex::encode_upper(key.modulus()).as_str())
        );
        assert_eq!(
            entry["checksum"].as_str(),
            Some(hex::encode_upper(capk.checksum).as_str())
        );
        assert_eq!(
            entry["expiry"].as_datetime().unwrap().to_string(),
            "2048-02-29"
        );
        assert!(text.contains("test terminals only"));
    }

    #[test]
    fn expiry_is_checked() {
        let key = crate::pki::keys::RsaKeyPair::from_seed(
            b"capk-toml",
            768,
            crate::pki::keys::Exponent::F4,
        )
        .unwrap();
        for expiry in [(2049, 0), (2049, 13), (1999, 5), (2100, 1)] {
            assert_eq!(
                Capk::new(PROJECT_RID, 1, key.public_key(), expiry),
                Err(PkiError::InvalidCaExpiry {
                    year: expiry.0,
                    month: expiry.1
                })
            );
        }
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2049, 11), 30);
    }
}
