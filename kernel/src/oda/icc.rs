//! Retrieval of the ICC Public Key (Book 2 §6.4, Table 14).

use crate::crypto::{CryptoProvider, MAX_MODULUS_LEN, SHA1_LEN, Sha1State, supported_exponent};

use super::{
    KEY_ALGORITHM_RSA, OdaError, PublicKey, assemble_key, certificate_expiry, check_expiry,
    check_format, recover, required, split_hash,
};

/// Format of the ICC Public Key Certificate (Table 14).
const FORMAT: u8 = 0x04;
/// Bytes of Table 14 around the key field: 21 before it, 21 after it.
const OVERHEAD: usize = 42;
/// Length of the PAN field of Table 14.
const PAN_LEN: usize = 10;

/// What the card supplies to retrieve the ICC Public Key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IccCertificate<'a> {
    /// ICC Public Key Certificate `9F46`.
    pub certificate: &'a [u8],
    /// ICC Public Key Remainder `9F48`; empty when the card has none.
    pub remainder: &'a [u8],
    /// ICC Public Key Exponent `9F47`.
    pub exponent: &'a [u8],
}

/// The ICC Public Key recovered by [`recover_icc_public_key`] or
/// [`IccCertificateCheck::finish`]. The modulus is in the buffer given to
/// the recovery; [`Self::public_key`] joins the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IccPublicKey {
    /// Application PAN, padded with `F` to 10 bytes.
    pub pan: [u8; PAN_LEN],
    /// Certificate expiry (year, month).
    pub expiry: (u16, u8),
    /// Certificate serial number.
    pub serial: [u8; 3],
    /// Modulus length NIC, in bytes.
    pub modulus_len: usize,
    /// The exponent, left-aligned; [`Self::exponent`] gives the used part.
    pub exponent: [u8; 3],
    /// Bytes of [`Self::exponent`] in use (1 or 3).
    pub exponent_len: usize,
}

impl IccPublicKey {
    /// The exponent bytes.
    #[must_use]
    pub fn exponent(&self) -> &[u8] {
        self.exponent.get(..self.exponent_len).unwrap_or_default()
    }

    /// The key, with its modulus taken from `modulus_buffer`, the buffer the
    /// recovery wrote it to. A buffer too short gives an empty modulus,
    /// which every verification rejects.
    #[must_use]
    pub fn public_key<'a>(&'a self, modulus_buffer: &'a [u8]) -> PublicKey<'a> {
        PublicKey {
            modulus: modulus_buffer.get(..self.modulus_len).unwrap_or_default(),
            exponent: self.exponent(),
        }
    }
}

/// An ICC Public Key Certificate check in progress: the certificate is
/// recovered, its framing checked, the modulus written to the caller's
/// buffer and the recovered fields, remainder and exponent hashed. Feed the
/// static data to be authenticated with [`Self::update`], then
/// [`Self::finish`]. See [`begin_icc_public_key`].
#[derive(Clone, Debug)]
pub struct IccCertificateCheck<H> {
    hasher: H,
    expected: [u8; SHA1_LEN],
    pan: [u8; PAN_LEN],
    mmyy: [u8; 2],
    serial: [u8; 3],
    key_algorithm: u8,
    modulus_len: usize,
    exponent: [u8; 3],
    exponent_len: usize,
}

impl<H: Sha1State> IccCertificateCheck<H> {
    /// Feeds the next chunk of static data to be authenticated (ODA record
    /// data in AFL order, then the AIP when `9F4A` lists it).
    pub fn update(&mut self, static_data: &[u8]) {
        self.hasher.update(static_data);
    }

    /// Ends the check: hash (§6.4 step 7), PAN against `pan` = the value of
    /// `5A` F-padded to 10 bytes (8), expiry against `today` (9), public key
    /// algorithm `01` (10) and a supported exponent.
    ///
    /// # Errors
    ///
    /// The [`OdaError`] of the first failed check.
    pub fn finish(self, pan: &[u8], today: (u16, u8)) -> Result<IccPublicKey, OdaError> {
        let pan = required(pan, 0x5A)?;
        if self.hasher.finalize() != self.expected {
            return Err(OdaError::Hash);
        }
        if pan.len() > PAN_LEN {
            return Err(OdaError::PanMismatch);
        }
        let padded = pan.iter().copied().chain(core::iter::repeat(0xFF));
        if !self.pan.iter().copied().eq(padded.take(PAN_LEN)) {
            return Err(OdaError::PanMismatch);
        }
        let expiry = certificate_expiry(self.mmyy)?;
        check_expiry(expiry, today)?;
        if self.key_algorithm != KEY_ALGORITHM_RSA {
            return Err(OdaError::KeyAlgorithm(self.key_algorithm));
        }
        let exponent = self.exponent.get(..self.exponent_len).unwrap_or_default();
        if supported_exponent(exponent).is_none() {
            return Err(OdaError::Exponent);
        }
        Ok(IccPublicKey {
            pan: self.pan,
            expiry,
            serial: self.serial,
            modulus_len: self.modulus_len,
            exponent: self.exponent,
            exponent_len: self.exponent_len,
        })
    }
}

/// Starts the retrieval of the ICC Public Key with the recovered Issuer
/// Public Key (Book 2 §6.4): certificate length = NI (step 1), trailer `BC`
/// (2), header `6A` (3), format `04` (4), hash algorithm `01` (5), key
/// length, exponent length and remainder; writes the modulus to `out` and
/// hashes recovered bytes 2 … NI−22 ‖ `9F48` ‖ `9F47`. The caller then feeds
/// the static data and calls [`IccCertificateCheck::finish`].
///
/// The contents of `out` are meaningful only once `finish` succeeds.
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn begin_icc_public_key<P: CryptoProvider + ?Sized>(
    provider: &P,
    issuer_key: PublicKey<'_>,
    cert: &IccCertificate<'_>,
    out: &mut [u8; MAX_MODULUS_LEN],
) -> Result<IccCertificateCheck<P::Sha1>, OdaError> {
    let certificate = required(cert.certificate, 0x9F46)?;
    let exponent = required(cert.exponent, 0x9F47)?;
    let ni = issuer_key.modulus.len();
    let mut buf = [0u8; MAX_MODULUS_LEN];
    let recovered = recover(provider, issuer_key, certificate, &mut buf)?;
    check_format(recovered, FORMAT, 17)?;
    let (signed, expected) = split_hash(recovered)?;
    let field = |at: usize| recovered.get(at).copied().unwrap_or_default();
    let key_field = ni
        .checked_sub(OVERHEAD)
        .and_then(|len| recovered.get(21..21 + len))
        .ok_or(OdaError::CertificateLength {
            expected: ni,
            actual: certificate.len(),
        })?;
    let (modulus_len, exp, exponent_len) = assemble_key(
        field(19),
        ni,
        field(20),
        key_field,
        cert.remainder,
        exponent,
        out,
    )?;
    let bytes = |at: usize| recovered.get(at..).unwrap_or_default();
    let mut pan = [0u8; PAN_LEN];
    let mut mmyy = [0u8; 2];
    let mut serial = [0u8; 3];
    for (dst, src) in pan.iter_mut().zip(bytes(2)) {
        *dst = *src;
    }
    for (dst, src) in mmyy.iter_mut().zip(bytes(12)) {
        *dst = *src;
    }
    for (dst, src) in serial.iter_mut().zip(bytes(14)) {
        *dst = *src;
    }
    let mut hasher = provider.sha1_start();
    hasher.update(signed);
    hasher.update(cert.remainder);
    hasher.update(exponent);
    Ok(IccCertificateCheck {
        hasher,
        expected,
        pan,
        mmyy,
        serial,
        key_algorithm: field(18),
        modulus_len,
        exponent: exp,
        exponent_len,
    })
}

/// Retrieves the ICC Public Key (Book 2 §6.4, every step) into `out`, with
/// the static data to be authenticated given as parts (records in AFL
/// order, then the AIP if `9F4A` lists it). `pan` is the value of `5A`;
/// `today` the (year, month) of the transaction date.
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn recover_icc_public_key<P: CryptoProvider + ?Sized>(
    provider: &P,
    issuer_key: PublicKey<'_>,
    cert: &IccCertificate<'_>,
    static_data_parts: &[&[u8]],
    pan: &[u8],
    today: (u16, u8),
    out: &mut [u8; MAX_MODULUS_LEN],
) -> Result<IccPublicKey, OdaError> {
    let mut check = begin_icc_public_key(provider, issuer_key, cert, out)?;
    for part in static_data_parts {
        check.update(part);
    }
    check.finish(pan, today)
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

    use proptest::prelude::*;

    use super::*;
    use crate::Tag;
    use crate::crypto::SoftwareCrypto;
    use crate::oda::test_support::{CertBuilder, PAN, Plain, TODAY, modulus};

    const STATIC: &[u8] = &[0x5A, 0x08, 0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];
    const AIP: &[u8] = &[0x39, 0x00];

    fn run(
        b: &CertBuilder,
        parts: &[&[u8]],
        pan: &[u8],
    ) -> Result<(IccPublicKey, [u8; 248]), OdaError> {
        let issuer = modulus(b.signer_len, 5);
        let (cert, remainder) = b.build();
        let mut out = [0u8; 248];
        let key = recover_icc_public_key(
            &Plain,
            PublicKey {
                modulus: &issuer,
                exponent: &[3],
            },
            &IccCertificate {
                certificate: &cert,
                remainder: &remainder,
                exponent: &b.exponent,
            },
            parts,
            pan,
            TODAY,
            &mut out,
        )?;
        Ok((key, out))
    }

    fn good() -> CertBuilder {
        CertBuilder::icc(176, 144, &[STATIC, AIP].concat())
    }

    fn err(b: &CertBuilder) -> OdaError {
        run(b, &[STATIC, AIP], &PAN).unwrap_err()
    }

    #[test]
    fn accepts_with_and_without_remainder() {
        let b = good();
        let (key, out) = run(&b, &[STATIC, AIP], &PAN).unwrap();
        assert_eq!(key.public_key(&out).modulus, &b.modulus[..]);
        assert_eq!(key.public_key(&out).exponent, &[3]);
        assert_eq!(key.modulus_len, 144);
        assert_eq!(
            key.pan,
            [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19, 0xFF, 0xFF]
        );
        assert_eq!(key.expiry, (2035, 12));
        assert_eq!(key.serial, [0, 0x12, 0x34]);
        // Parts may be cut anywhere.
        let all = [STATIC, AIP].concat();
        assert!(run(&b, &[&all[..3], &all[3..]], &PAN).is_ok());
        // NIC > NI − 42 with a remainder; 65537.
        let mut b = CertBuilder::icc(128, 128, STATIC);
        b.exponent = vec![1, 0, 1];
        let (key, out) = run(&b, &[STATIC], &PAN).unwrap();
        assert_eq!(key.public_key(&out).modulus, &b.modulus[..]);
        assert_eq!(key.exponent(), &[1, 0, 1]);
        // An 8-byte PAN given already padded is the same PAN.
        let mut padded = PAN.to_vec();
        padded.extend([0xFF, 0xFF]);
        assert!(run(&good(), &[STATIC, AIP], &padded).is_ok());
    }

    #[test]
    fn every_check_fails_with_its_error() {
        let g = good();
        let mut b = g.clone();
        b.truncate = Some(175);
        assert_eq!(
            err(&b),
            OdaError::CertificateLength {
                expected: 176,
                actual: 175
            }
        );
        let mut b = g.clone();
        b.patch = vec![(175, 0x00)];
        assert_eq!(err(&b), OdaError::Trailer(0));
        let mut b = g.clone();
        b.patch = vec![(0, 0x00)];
        assert_eq!(err(&b), OdaError::Header(0));
        let mut b = g.clone();
        b.format = 0x02;
        assert_eq!(
            err(&b),
            OdaError::Format {
                expected: 4,
                found: 2
            }
        );
        let mut b = g.clone();
        b.hash_algorithm = 0x03;
        assert_eq!(err(&b), OdaError::HashAlgorithm(3));
        let mut b = g.clone();
        b.key_len_override = Some(177);
        assert_eq!(err(&b), OdaError::KeyLength(177));
        let mut b = g.clone();
        b.exp_len_override = Some(2);
        assert_eq!(
            err(&b),
            OdaError::ExponentLength {
                expected: 2,
                actual: 1
            }
        );
        let mut b = g.clone();
        b.drop_remainder = true;
        assert_eq!(err(&b), OdaError::RemainderMissing);
        let mut b = g.clone();
        b.remainder_extra = 2;
        assert_eq!(
            err(&b),
            OdaError::RemainderLength {
                expected: 10,
                actual: 12
            }
        );
        // Hash: certificate, remainder, static data, AIP, record order.
        let mut b = g.clone();
        b.flip_after_signing = Some(30);
        assert_eq!(err(&b), OdaError::Hash);
        let mut b = g.clone();
        b.flip_remainder = true;
        assert_eq!(err(&b), OdaError::Hash);
        assert_eq!(run(&g, &[STATIC], &PAN).unwrap_err(), OdaError::Hash);
        assert_eq!(run(&g, &[AIP, STATIC], &PAN).unwrap_err(), OdaError::Hash);
        let mut tampered = STATIC.to_vec();
        tampered[9] ^= 1;
        assert_eq!(
            run(&g, &[&tampered, AIP], &PAN).unwrap_err(),
            OdaError::Hash
        );
        // PAN.
        let mut other = PAN;
        other[7] = 0x18;
        assert_eq!(
            run(&g, &[STATIC, AIP], &other).unwrap_err(),
            OdaError::PanMismatch
        );
        assert_eq!(
            run(&g, &[STATIC, AIP], &PAN[..7]).unwrap_err(),
            OdaError::PanMismatch
        );
        assert_eq!(
            run(&g, &[STATIC, AIP], &[0x47; 11]).unwrap_err(),
            OdaError::PanMismatch
        );
        assert_eq!(
            run(&g, &[STATIC, AIP], &[]).unwrap_err(),
            OdaError::MissingData(Tag::new(0x5A))
        );
        // Expiry.
        let mut b = g.clone();
        b.expiry = [0x07, 0x26];
        assert_eq!(err(&b), OdaError::Expired);
        let mut b = g.clone();
        b.expiry = [0x12, 0xA5];
        assert_eq!(err(&b), OdaError::InvalidDate);
        // Algorithm, exponent.
        let mut b = g.clone();
        b.key_algorithm = 0x00;
        assert_eq!(err(&b), OdaError::KeyAlgorithm(0));
        let mut b = g.clone();
        b.exponent = vec![0x11];
        assert_eq!(err(&b), OdaError::Exponent);
    }

    #[test]
    fn missing_data() {
        let issuer = modulus(176, 5);
        let k = PublicKey {
            modulus: &issuer,
            exponent: &[3],
        };
        let mut out = [0u8; 248];
        let c = IccCertificate {
            certificate: &[1],
            remainder: &[],
            exponent: &[3],
        };
        assert_eq!(
            recover_icc_public_key(
                &Plain,
                k,
                &IccCertificate {
                    certificate: &[],
                    ..c
                },
                &[],
                &PAN,
                TODAY,
                &mut out
            ),
            Err(OdaError::MissingData(Tag::new(0x9F46)))
        );
        assert_eq!(
            recover_icc_public_key(
                &Plain,
                k,
                &IccCertificate { exponent: &[], ..c },
                &[],
                &PAN,
                TODAY,
                &mut out
            ),
            Err(OdaError::MissingData(Tag::new(0x9F47)))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            m in proptest::collection::vec(any::<u8>(), 0..260),
            cert in proptest::collection::vec(any::<u8>(), 0..260),
            remainder in proptest::collection::vec(any::<u8>(), 0..40),
            exponent in proptest::collection::vec(any::<u8>(), 0..5),
            pan in proptest::collection::vec(any::<u8>(), 0..12),
            data in proptest::collection::vec(any::<u8>(), 0..40),
            real in any::<bool>(),
        ) {
            let c = IccCertificate { certificate: &cert, remainder: &remainder, exponent: &exponent };
            let mut out = [0u8; 248];
            let k = PublicKey { modulus: &m, exponent: &[3] };
            if real {
                let _ = recover_icc_public_key(&SoftwareCrypto, k, &c, &[&data], &pan, TODAY, &mut out);
            } else {
                let _ = recover_icc_public_key(&Plain, k, &c, &[&data], &pan, TODAY, &mut out);
                let k = PublicKey { modulus: &cert, exponent: &[3] };
                let _ = recover_icc_public_key(&Plain, k, &c, &[&data], &pan, TODAY, &mut out);
            }
        }

        #[test]
        fn one_changed_byte_never_passes_unnoticed(at in 0usize..176, x in 1u8..=255) {
            let b = good();
            let issuer = modulus(176, 5);
            let (mut cert, remainder) = b.build();
            cert[at] ^= x;
            let r = recover_icc_public_key(
                &Plain,
                PublicKey { modulus: &issuer, exponent: &[3] },
                &IccCertificate { certificate: &cert, remainder: &remainder, exponent: &b.exponent },
                &[STATIC, AIP],
                &PAN,
                TODAY,
                &mut [0u8; 248],
            );
            prop_assert!(r.is_err());
        }
    }
}
