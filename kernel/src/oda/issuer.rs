//! Retrieval of the Issuer Public Key (Book 2 §5.2, §5.3, Table 6; the same
//! procedure serves DDA and CDA, §6.3).

use crate::crypto::{CryptoProvider, MAX_MODULUS_LEN, supported_exponent};

use super::{
    CapkStore, KEY_ALGORITHM_RSA, OdaError, PublicKey, assemble_key, certificate_expiry,
    check_expiry, check_format, recover, required, split_hash,
};

/// Format of the Issuer Public Key Certificate (Table 6).
const FORMAT: u8 = 0x02;
/// Bytes of Table 6 around the key field: 15 before it, 21 after it.
const OVERHEAD: usize = 36;

/// What the card supplies to retrieve the Issuer Public Key, plus the RID of
/// the selected application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IssuerCertificate<'a> {
    /// RID: the first 5 bytes of the AID (`4F` / `84` / `9F06`).
    pub rid: [u8; 5],
    /// Certification Authority Public Key Index `8F`.
    pub ca_index: u8,
    /// Issuer Public Key Certificate `90`.
    pub certificate: &'a [u8],
    /// Issuer Public Key Remainder `92`; empty when the card has none.
    pub remainder: &'a [u8],
    /// Issuer Public Key Exponent `9F32`.
    pub exponent: &'a [u8],
}

/// The Issuer Public Key recovered by [`recover_issuer_public_key`]: every
/// field of Table 6 the terminal uses. The modulus itself is in the buffer
/// given to the recovery; [`Self::public_key`] joins the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuerPublicKey {
    /// RID of the CA key that certified it.
    pub rid: [u8; 5],
    /// Index of the CA key that certified it.
    pub ca_index: u8,
    /// Issuer Identifier: leftmost 3–8 PAN digits, padded with `F`.
    pub issuer_identifier: [u8; 4],
    /// Certificate expiry (year, month).
    pub expiry: (u16, u8),
    /// Certificate serial number.
    pub serial: [u8; 3],
    /// Modulus length NI, in bytes.
    pub modulus_len: usize,
    /// The exponent, left-aligned; [`Self::exponent`] gives the used part.
    pub exponent: [u8; 3],
    /// Bytes of [`Self::exponent`] in use (1 or 3).
    pub exponent_len: usize,
}

impl IssuerPublicKey {
    /// The exponent bytes.
    #[must_use]
    pub fn exponent(&self) -> &[u8] {
        self.exponent.get(..self.exponent_len).unwrap_or_default()
    }

    /// The key, with its modulus taken from `modulus_buffer`, the buffer
    /// [`recover_issuer_public_key`] wrote it to. A buffer too short gives an
    /// empty modulus, which every verification rejects.
    #[must_use]
    pub fn public_key<'a>(&'a self, modulus_buffer: &'a [u8]) -> PublicKey<'a> {
        PublicKey {
            modulus: modulus_buffer.get(..self.modulus_len).unwrap_or_default(),
            exponent: self.exponent(),
        }
    }
}

/// Step 8: the Issuer Identifier (3 to 8 BCD digits, right-padded with `F`)
/// equals the leftmost digits of the PAN.
fn issuer_id_matches(id: [u8; 4], pan: &[u8]) -> bool {
    let id_digits = id.iter().flat_map(|b| [b >> 4, b & 0x0F]);
    let pan_digits = pan.iter().flat_map(|b| [b >> 4, b & 0x0F]);
    let mut count = 0;
    let mut padding = false;
    let mut pan_digits = pan_digits;
    for d in id_digits {
        if padding {
            if d != 0x0F {
                return false;
            }
            continue;
        }
        if d == 0x0F {
            padding = true;
            continue;
        }
        match pan_digits.next() {
            Some(p) if p == d && p <= 9 => count += 1,
            _ => return false,
        }
    }
    count >= 3
}

/// Retrieves the Issuer Public Key (Book 2 §5.3) into `out` and returns its
/// metadata.
///
/// Looks up the CA key `cert.rid`/`cert.ca_index` in `store` (§5.2), then
/// makes every check of §5.3 in step order: certificate length = CA modulus
/// length (1), trailer `BC` (2), header `6A` (3), format `02` (4), hash
/// algorithm `01` (5–6), the key length, exponent and remainder the hash
/// input needs, the hash over recovered bytes 2 … NCA−22 ‖ remainder ‖
/// exponent (7), Issuer Identifier against the leftmost digits of `pan`
/// (8), expiry against `today` = (year, month) of the transaction date (9),
/// revocation of RID ‖ index ‖ serial (10), public key algorithm `01` (11),
/// and a supported exponent; then assembles the modulus (12).
///
/// `pan` is the value of `5A`. The contents of `out` are meaningful only
/// when the call succeeds.
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn recover_issuer_public_key<P: CryptoProvider + ?Sized, S: CapkStore + ?Sized>(
    provider: &P,
    store: &S,
    cert: &IssuerCertificate<'_>,
    pan: &[u8],
    today: (u16, u8),
    out: &mut [u8; MAX_MODULUS_LEN],
) -> Result<IssuerPublicKey, OdaError> {
    let certificate = required(cert.certificate, 0x90)?;
    let exponent = required(cert.exponent, 0x9F32)?;
    let pan = required(pan, 0x5A)?;
    let capk = store
        .capk(cert.rid, cert.ca_index)
        .ok_or(OdaError::CapkMissing {
            rid: cert.rid,
            index: cert.ca_index,
        })?;
    if capk.is_expired(today) {
        return Err(OdaError::CapkExpired);
    }
    let nca = capk.modulus.len();

    let mut buf = [0u8; MAX_MODULUS_LEN];
    let recovered = recover(provider, capk.public_key(), certificate, &mut buf)?;
    check_format(recovered, FORMAT, 11)?;
    let (signed, hash) = split_hash(recovered)?;
    let field = |at: usize| recovered.get(at).copied().unwrap_or_default();
    let key_field = nca
        .checked_sub(OVERHEAD)
        .and_then(|len| recovered.get(15..15 + len))
        .ok_or(OdaError::CertificateLength {
            expected: nca,
            actual: certificate.len(),
        })?;
    let (modulus_len, exp, exponent_len) = assemble_key(
        field(13),
        nca,
        field(14),
        key_field,
        cert.remainder,
        exponent,
        out,
    )?;
    if provider.sha1(&[signed, cert.remainder, exponent]) != hash {
        return Err(OdaError::Hash);
    }
    let bytes = |at: usize| recovered.get(at..).unwrap_or_default();
    let mut issuer_identifier = [0u8; 4];
    let mut mmyy = [0u8; 2];
    let mut serial = [0u8; 3];
    for (dst, src) in issuer_identifier.iter_mut().zip(bytes(2)) {
        *dst = *src;
    }
    for (dst, src) in mmyy.iter_mut().zip(bytes(6)) {
        *dst = *src;
    }
    for (dst, src) in serial.iter_mut().zip(bytes(8)) {
        *dst = *src;
    }
    if !issuer_id_matches(issuer_identifier, pan) {
        return Err(OdaError::IssuerIdMismatch);
    }
    let expiry = certificate_expiry(mmyy)?;
    check_expiry(expiry, today)?;
    if store.is_revoked(cert.rid, cert.ca_index, serial) {
        return Err(OdaError::Revoked);
    }
    let key_algorithm = field(12);
    if key_algorithm != KEY_ALGORITHM_RSA {
        return Err(OdaError::KeyAlgorithm(key_algorithm));
    }
    if supported_exponent(exponent).is_none() {
        return Err(OdaError::Exponent);
    }
    Ok(IssuerPublicKey {
        rid: cert.rid,
        ca_index: cert.ca_index,
        issuer_identifier,
        expiry,
        serial,
        modulus_len,
        exponent: exp,
        exponent_len,
    })
}

#[cfg(all(test, feature = "rustcrypto"))]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use std::vec;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::Tag;
    use crate::crypto::{CryptoError, SoftwareCrypto};
    use crate::oda::test_support::{IssuerCertBuilder, PAN, Plain, RID, TODAY, plain_store};
    use crate::oda::{Capk, StaticCapkStore};

    fn run(
        b: &IssuerCertBuilder,
        store: &StaticCapkStore<'_>,
    ) -> Result<(IssuerPublicKey, [u8; 248]), OdaError> {
        let (cert, remainder) = b.build();
        let mut out = [0u8; 248];
        let key = recover_issuer_public_key(
            &Plain,
            store,
            &IssuerCertificate {
                rid: RID,
                ca_index: 0x01,
                certificate: &cert,
                remainder: &remainder,
                exponent: &b.exponent,
            },
            &PAN,
            TODAY,
            &mut out,
        )?;
        Ok((key, out))
    }

    fn err(b: &IssuerCertBuilder) -> OdaError {
        run(b, &plain_store(144)).unwrap_err()
    }

    #[test]
    fn issuer_id_rule() {
        let pan = [0x54, 0x13, 0x33, 0x90, 0x00, 0x00, 0x15, 0x13];
        assert!(issuer_id_matches([0x54, 0x13, 0x33, 0x90], &pan));
        assert!(issuer_id_matches([0x54, 0x13, 0x3F, 0xFF], &pan));
        assert!(issuer_id_matches([0x54, 0x1F, 0xFF, 0xFF], &pan));
        assert!(
            !issuer_id_matches([0x54, 0xFF, 0xFF, 0xFF], &pan),
            "2 digits"
        );
        assert!(!issuer_id_matches([0xFF, 0xFF, 0xFF, 0xFF], &pan));
        assert!(!issuer_id_matches([0x54, 0x13, 0x34, 0xFF], &pan));
        assert!(
            !issuer_id_matches([0x54, 0x1F, 0x33, 0xFF], &pan),
            "digit after F"
        );
        assert!(!issuer_id_matches([0x54, 0x13, 0x33, 0x90], &pan[..3]));
        assert!(!issuer_id_matches(
            [0x5A, 0x13, 0x33, 0x90],
            &[0x5A, 0x13, 0x33, 0x90]
        ));
    }

    #[test]
    fn short_key_with_padding_no_remainder() {
        let b = IssuerCertBuilder::new(144, 96);
        let (key, out) = run(&b, &plain_store(144)).unwrap();
        assert_eq!(key.modulus_len, 96);
        assert_eq!(key.public_key(&out).modulus, &b.modulus[..]);
        assert_eq!(key.exponent(), &[3]);
        assert_eq!(key.serial, [0x00, 0x12, 0x34]);
        assert_eq!(key.expiry, (2035, 12));
        assert_eq!(key.issuer_identifier, [0x47, 0x61, 0x73, 0x90]);
        assert_eq!((key.rid, key.ca_index), (RID, 1));
        // Exactly NCA − 36.
        let b = IssuerCertBuilder::new(144, 108);
        let (key, out) = run(&b, &plain_store(144)).unwrap();
        assert_eq!(key.public_key(&out).modulus, &b.modulus[..]);
    }

    #[test]
    fn long_key_with_remainder() {
        let mut b = IssuerCertBuilder::new(144, 144);
        b.exponent = vec![1, 0, 1];
        let (key, out) = run(&b, &plain_store(144)).unwrap();
        assert_eq!(key.modulus_len, 144);
        assert_eq!(key.public_key(&out).modulus, &b.modulus[..]);
        assert_eq!(key.public_key(&out).exponent, &[1, 0, 1]);
        // A buffer that is not the right one yields an empty modulus.
        assert!(key.public_key(&out[..10]).modulus.is_empty());
    }

    #[test]
    fn every_check_fails_with_its_error() {
        let good = IssuerCertBuilder::new(144, 144);
        // Step 1.
        let mut b = good.clone();
        b.truncate = Some(143);
        assert_eq!(
            err(&b),
            OdaError::CertificateLength {
                expected: 144,
                actual: 143
            }
        );
        // Step 2: trailer; the provider recovers the bytes as they are.
        let mut b = good.clone();
        b.patch = vec![(143, 0xBD)];
        assert_eq!(err(&b), OdaError::Trailer(0xBD));
        // Step 3.
        let mut b = good.clone();
        b.patch = vec![(0, 0x6B)];
        assert_eq!(err(&b), OdaError::Header(0x6B));
        // Step 4.
        let mut b = good.clone();
        b.format = 0x04;
        assert_eq!(
            err(&b),
            OdaError::Format {
                expected: 2,
                found: 4
            }
        );
        // Steps 5-6.
        let mut b = good.clone();
        b.hash_algorithm = 0x02;
        assert_eq!(err(&b), OdaError::HashAlgorithm(2));
        // Key length.
        let mut b = good.clone();
        b.key_len_override = Some(0);
        assert_eq!(err(&b), OdaError::KeyLength(0));
        let mut b = good.clone();
        b.key_len_override = Some(145);
        assert_eq!(err(&b), OdaError::KeyLength(145));
        // Exponent length.
        let mut b = good.clone();
        b.exp_len_override = Some(3);
        assert_eq!(
            err(&b),
            OdaError::ExponentLength {
                expected: 3,
                actual: 1
            }
        );
        // Remainder missing / wrong length.
        let mut b = good.clone();
        b.drop_remainder = true;
        assert_eq!(err(&b), OdaError::RemainderMissing);
        let mut b = good.clone();
        b.remainder_extra = 1;
        assert_eq!(
            err(&b),
            OdaError::RemainderLength {
                expected: 36,
                actual: 37
            }
        );
        // Step 7: any bit of the signed part, the remainder or the exponent.
        let mut b = good.clone();
        b.flip_after_signing = Some(20);
        assert_eq!(err(&b), OdaError::Hash);
        let mut b = good.clone();
        b.flip_remainder = true;
        assert_eq!(err(&b), OdaError::Hash);
        let mut b = good.clone();
        b.flip_hash = true;
        assert_eq!(err(&b), OdaError::Hash);
        // Step 8.
        let mut b = good.clone();
        b.ident = vec![0x47, 0x61, 0x74, 0xFF];
        assert_eq!(err(&b), OdaError::IssuerIdMismatch);
        let mut b = good.clone();
        b.ident = vec![0x47, 0xFF, 0xFF, 0xFF];
        assert_eq!(err(&b), OdaError::IssuerIdMismatch);
        // Step 9.
        let mut b = good.clone();
        b.expiry = [0x07, 0x26];
        assert_eq!(err(&b), OdaError::Expired, "07/26 is before 08/26");
        let mut b = good.clone();
        b.expiry = [0x08, 0x26];
        assert!(run(&b, &plain_store(144)).is_ok(), "valid through August");
        let mut b = good.clone();
        b.expiry = [0x13, 0x35];
        assert_eq!(err(&b), OdaError::InvalidDate);
        // Step 10.
        let revoked = [(RID, 0x01, [0x00, 0x12, 0x34])];
        let m = [0xFFu8; 144];
        let keys = [Capk {
            rid: RID,
            index: 1,
            modulus: &m,
            exponent: &[3],
            expiry: None,
        }];
        let store = StaticCapkStore {
            keys: &keys,
            revoked: &revoked,
        };
        assert_eq!(run(&good, &store).unwrap_err(), OdaError::Revoked);
        // Step 11.
        let mut b = good.clone();
        b.key_algorithm = 0x02;
        assert_eq!(err(&b), OdaError::KeyAlgorithm(2));
        // Exponent value.
        let mut b = good.clone();
        b.exponent = vec![5];
        assert_eq!(err(&b), OdaError::Exponent);
    }

    #[test]
    fn capk_and_missing_data() {
        let b = IssuerCertBuilder::new(144, 96);
        let empty = StaticCapkStore::default();
        assert_eq!(
            run(&b, &empty).unwrap_err(),
            OdaError::CapkMissing { rid: RID, index: 1 }
        );
        let m = [0xFFu8; 144];
        let keys = [Capk {
            rid: RID,
            index: 1,
            modulus: &m,
            exponent: &[3],
            expiry: Some((2026, 7)),
        }];
        let store = StaticCapkStore {
            keys: &keys,
            revoked: &[],
        };
        assert_eq!(run(&b, &store).unwrap_err(), OdaError::CapkExpired);
        // CA key of a different length than the certificate.
        assert_eq!(
            run(&b, &plain_store(176)).unwrap_err(),
            OdaError::CertificateLength {
                expected: 176,
                actual: 144
            }
        );
        let mut out = [0u8; 248];
        let store = plain_store(144);
        let (cert, _) = b.build();
        let ok = IssuerCertificate {
            rid: RID,
            ca_index: 1,
            certificate: &cert,
            remainder: &[],
            exponent: &[3],
        };
        let missing = |c: &IssuerCertificate<'_>, pan: &[u8]| {
            recover_issuer_public_key(&Plain, &store, c, pan, TODAY, &mut [0u8; 248]).unwrap_err()
        };
        assert_eq!(
            missing(
                &IssuerCertificate {
                    certificate: &[],
                    ..ok
                },
                &PAN
            ),
            OdaError::MissingData(Tag::new(0x90))
        );
        assert_eq!(
            missing(
                &IssuerCertificate {
                    exponent: &[],
                    ..ok
                },
                &PAN
            ),
            OdaError::MissingData(Tag::new(0x9F32))
        );
        assert_eq!(missing(&ok, &[]), OdaError::MissingData(Tag::new(0x5A)));
        assert!(recover_issuer_public_key(&Plain, &store, &ok, &PAN, TODAY, &mut out).is_ok());
    }

    #[test]
    fn real_rsa_refusal_is_reported() {
        // With the software provider and an all-FF "CA key" (odd, 144 bytes),
        // a certificate of FF bytes is not below the modulus.
        let store = plain_store(144);
        let cert = [0xFFu8; 144];
        let e = recover_issuer_public_key(
            &SoftwareCrypto,
            &store,
            &IssuerCertificate {
                rid: RID,
                ca_index: 1,
                certificate: &cert,
                remainder: &[],
                exponent: &[3],
            },
            &PAN,
            TODAY,
            &mut [0u8; 248],
        )
        .unwrap_err();
        assert_eq!(e, OdaError::RecoveryFailed(CryptoError::InputOutOfRange));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            cert in proptest::collection::vec(any::<u8>(), 0..260),
            remainder in proptest::collection::vec(any::<u8>(), 0..40),
            exponent in proptest::collection::vec(any::<u8>(), 0..5),
            pan in proptest::collection::vec(any::<u8>(), 0..12),
            ca_len in 0usize..260,
            real in any::<bool>(),
        ) {
            let store = plain_store(ca_len);
            let c = IssuerCertificate {
                rid: RID,
                ca_index: 1,
                certificate: &cert,
                remainder: &remainder,
                exponent: &exponent,
            };
            let mut out = [0u8; 248];
            if real {
                let _ = recover_issuer_public_key(&SoftwareCrypto, &store, &c, &pan, TODAY, &mut out);
            } else {
                let _ = recover_issuer_public_key(&Plain, &store, &c, &pan, TODAY, &mut out);
            }
        }

        #[test]
        fn one_changed_byte_never_passes_unnoticed(at in 0usize..144, x in 1u8..=255) {
            // Recovered bytes as the provider gives them: any change is
            // caught by some check.
            let b = IssuerCertBuilder::new(144, 144);
            let (mut cert, remainder) = b.build();
            cert[at] ^= x;
            let r = recover_issuer_public_key(
                &Plain,
                &plain_store(144),
                &IssuerCertificate {
                    rid: RID,
                    ca_index: 1,
                    certificate: &cert,
                    remainder: &remainder,
                    exponent: &b.exponent,
                },
                &PAN,
                TODAY,
                &mut [0u8; 248],
            );
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn builder_round_trip_sanity() {
        let b = IssuerCertBuilder::new(144, 144);
        let (cert, remainder): (Vec<u8>, Vec<u8>) = b.build();
        assert_eq!(cert.len(), 144);
        assert_eq!(remainder.len(), 36);
    }
}
