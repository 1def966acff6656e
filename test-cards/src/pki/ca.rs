//! The project's test certification authority (EMV 4.4 Book 2 §5.1–5.3,
//! §6.1–6.3: the CA signs issuer public key certificates, Table 6).
//!
//! # RID `F0 00 00 09 99`: the project test CA, never a scheme CA
//!
//! [`PROJECT_RID`] is `F0 00 00 09 99`. ISO/IEC 7816-5 gives RIDs whose first
//! nibble is `F` to proprietary, **unregistered** use, so no registered
//! payment-scheme RID can ever equal it; a terminal loaded with these CAPKs
//! cannot mistake them for a scheme's. The shipped test CAs use indices
//! `01`, `02`, … ([`TestCa::shipped`]):
//!
//! | index | modulus | exponent | seed |
//! |---|---|---|---|
//! | `01` | 1984 bits | 3 | `emv-test-cards/test-ca/01` |
//! | `02` | 1984 bits | 65537 | `emv-test-cards/test-ca/02` |
//! | `03` | 1408 bits | 3 | `emv-test-cards/test-ca/03` |
//! | `04` | 1152 bits | 3 | `emv-test-cards/test-ca/04` |
//!
//! All expire at the end of December 2049. The keys are derived from their
//! seeds ([`RsaKeyPair::from_seed`]), so anyone can regenerate the private
//! keys: they are test keys and must never be trusted by a production
//! terminal.

use super::PkiError;
use super::capk::{self, Capk, check_ca_expiry};
use super::certificate::{self, CertificateExpiry, IssuerCertificate};
use super::keys::{Exponent, RsaKeyPair, RsaPublicKey};

/// The project's CAPK RID: unregistered (first nibble `F`, ISO/IEC 7816-5).
pub const PROJECT_RID: [u8; 5] = [0xF0, 0x00, 0x00, 0x09, 0x99];

/// Expiry (year, month) of the shipped test CA keys.
pub const SHIPPED_EXPIRY: (u16, u8) = (2049, 12);

/// A test certification authority: RID, CA public key index, key pair and
/// key expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCa {
    rid: [u8; 5],
    index: u8,
    key: RsaKeyPair,
    expiry: (u16, u8),
}

impl TestCa {
    /// A CA with the given identity, key and key expiry (year 2000–2099,
    /// month 1–12).
    ///
    /// # Errors
    /// [`PkiError::InvalidCaExpiry`].
    pub fn new(
        rid: [u8; 5],
        index: u8,
        key: RsaKeyPair,
        expiry: (u16, u8),
    ) -> Result<Self, PkiError> {
        check_ca_expiry(expiry)?;
        Ok(Self {
            rid,
            index,
            key,
            expiry,
        })
    }

    /// One of the shipped test CAs under [`PROJECT_RID`] (see the module
    /// documentation for the table). The first call per index generates the
    /// key (typically 0.1–0.6 s for 1984 bits, more with exponent 3); later
    /// calls hit the cache.
    ///
    /// # Errors
    /// [`PkiError::UnknownTestCa`] for an index not in the table.
    pub fn shipped(index: u8) -> Result<Self, PkiError> {
        let (bits, exponent) = match index {
            0x01 => (1984, Exponent::Three),
            0x02 => (1984, Exponent::F4),
            0x03 => (1408, Exponent::Three),
            0x04 => (1152, Exponent::Three),
            _ => return Err(PkiError::UnknownTestCa(index)),
        };
        let seed = format!("emv-test-cards/test-ca/{index:02X}");
        let key = RsaKeyPair::from_seed(seed.as_bytes(), bits, exponent)?;
        Self::new(PROJECT_RID, index, key, SHIPPED_EXPIRY)
    }

    /// The RID.
    #[must_use]
    pub const fn rid(&self) -> [u8; 5] {
        self.rid
    }

    /// The CA public key index (tag `8F` on cards it certifies).
    #[must_use]
    pub const fn index(&self) -> u8 {
        self.index
    }

    /// The key pair.
    #[must_use]
    pub const fn key(&self) -> &RsaKeyPair {
        &self.key
    }

    /// Key expiry: (year, month).
    #[must_use]
    pub const fn expiry(&self) -> (u16, u8) {
        self.expiry
    }

    /// The CAPK a terminal loads for this CA, with its check sum.
    #[must_use]
    pub fn capk(&self) -> Capk {
        let modulus = self.key.modulus().to_vec();
        let exponent = self.key.exponent().bytes().to_vec();
        let checksum = capk::checksum(self.rid, self.index, &modulus, &exponent);
        Capk {
            rid: self.rid,
            index: self.index,
            modulus,
            exponent,
            checksum,
            expiry: self.expiry,
        }
    }

    /// Issues an issuer public key certificate (Book 2 Table 6) for
    /// `issuer`'s public key: tag `90` as long as the CA modulus, the `92`
    /// remainder when the issuer key does not fit, and `9F32`.
    ///
    /// `issuer_id` is the leftmost 3–8 PAN digits, padded with `F`
    /// (`47 61 73 FF`); `expiry` is the certificate's `MMYY`.
    ///
    /// # Errors
    /// [`PkiError::KeyTooLong`] when the issuer key is longer than the CA
    /// key, [`PkiError::InvalidIssuerIdentifier`], or an RSA failure.
    pub fn issue_issuer_certificate(
        &self,
        issuer: &impl AsRef<RsaPublicKey>,
        issuer_id: [u8; 4],
        expiry: CertificateExpiry,
        serial: [u8; 3],
    ) -> Result<IssuerCertificate, PkiError> {
        certificate::issue_issuer_certificate(&self.key, issuer.as_ref(), issuer_id, expiry, serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certificate::verify_issuer_certificate;

    #[test]
    fn shipped_ca_capk_and_issuer_certificate() {
        let ca = TestCa::shipped(0x04).unwrap();
        assert_eq!(ca.rid(), PROJECT_RID);
        assert_eq!(ca.index(), 4);
        assert_eq!(ca.key().modulus_len(), 144);
        let capk = ca.capk();
        assert!(capk.checksum_is_valid());
        assert_eq!(capk.expiry, (2049, 12));
        assert_eq!(capk.exponent, [3]);

        let issuer = RsaKeyPair::from_seed(b"ca-test issuer", 1024, Exponent::F4).unwrap();
        let cert = ca
            .issue_issuer_certificate(
                &issuer,
                [0x47, 0x61, 0x73, 0x90],
                CertificateExpiry::new(12, 30).unwrap(),
                [0, 0, 7],
            )
            .unwrap();
        assert_eq!(cert.certificate.len(), 144);
        assert_eq!(cert.remainder, issuer.modulus()[108..]);
        assert_eq!(cert.exponent, [1, 0, 1]);
        let opened = verify_issuer_certificate(&capk.public_key().unwrap(), &cert).unwrap();
        assert_eq!(opened.public_key, *issuer.public_key());
        assert_eq!(opened.serial, [0, 0, 7]);
        assert!(matches!(
            ca.issue_issuer_certificate(
                &issuer,
                [0x47, 0xFF, 0xFF, 0xFF],
                CertificateExpiry::new(12, 30).unwrap(),
                [0, 0, 7],
            ),
            Err(PkiError::InvalidIssuerIdentifier(_))
        ));
    }

    #[test]
    fn unknown_indices_and_bad_expiry() {
        assert_eq!(TestCa::shipped(0), Err(PkiError::UnknownTestCa(0)));
        assert_eq!(TestCa::shipped(0x05), Err(PkiError::UnknownTestCa(5)));
        let key = RsaKeyPair::from_seed(b"ca-test issuer", 1024, Exponent::F4).unwrap();
        assert!(matches!(
            TestCa::new(PROJECT_RID, 9, key, (2049, 13)),
            Err(PkiError::InvalidCaExpiry { .. })
        ));
    }
}
