//! Verification of the Signed Static Application Data (Book 2 §5.4,
//! Table 7), and the static data to be authenticated (Book 3 §10.3).

use crate::crypto::{CryptoProvider, MAX_MODULUS_LEN, SHA1_LEN, Sha1State};
use crate::wire::tlv::{Mode, parse_one};

use super::{OdaError, PublicKey, check_format, recover, required, split_hash};

/// Format of the Signed Static Application Data (Table 7).
const FORMAT: u8 = 0x03;

/// Which bytes of an ODA record take part in the static data to be
/// authenticated (Book 3 §10.3):
///
/// - SFI 1 to 10: the record must be one `70` template; its value (without
///   tag and length) is used;
/// - SFI 11 to 30: the whole record, tag and length included, which must be
///   coded as a `70` template all the same.
///
/// # Errors
///
/// [`OdaError::RecordFormat`] when the record is not a single well-formed
/// `70` template (ODA then fails).
pub fn static_data_of_record(sfi: u8, record: &[u8]) -> Result<&[u8], OdaError> {
    let (tlv, rest) = parse_one(record, Mode::Strict)
        .ok()
        .flatten()
        .ok_or(OdaError::RecordFormat)?;
    if tlv.tag().raw() != 0x70 || !rest.is_empty() || tlv.offset() != 0 {
        return Err(OdaError::RecordFormat);
    }
    if (1..=10).contains(&sfi) {
        Ok(tlv.value())
    } else {
        Ok(record)
    }
}

/// Reads the Static Data Authentication Tag List `9F4A` (Book 3 §10.3): it
/// may list only the AIP `82`. Returns whether the AIP value is appended to
/// the static data (an absent or empty list: `false`).
///
/// # Errors
///
/// [`OdaError::TagList`] for any other content (ODA then fails).
pub fn sda_tag_list_includes_aip(tag_list: &[u8]) -> Result<bool, OdaError> {
    match tag_list {
        [] => Ok(false),
        [0x82] => Ok(true),
        _ => Err(OdaError::TagList),
    }
}

/// A Signed Static Application Data check in progress: the SSAD is
/// recovered and its fields hashed; feed the static data with
/// [`Self::update`], then [`Self::finish`]. See [`begin_static_data`].
#[derive(Clone, Debug)]
pub struct StaticDataCheck<H> {
    hasher: H,
    expected: [u8; SHA1_LEN],
    dac: [u8; 2],
}

impl<H: Sha1State> StaticDataCheck<H> {
    /// Feeds the next chunk of static data to be authenticated (ODA record
    /// data in AFL order, then the AIP when `9F4A` lists it).
    pub fn update(&mut self, static_data: &[u8]) {
        self.hasher.update(static_data);
    }

    /// Compares the hash (§5.4 steps 6–7) and returns the Data
    /// Authentication Code (to be stored as `9F45`).
    ///
    /// # Errors
    ///
    /// [`OdaError::Hash`] when the static data is not what was signed.
    pub fn finish(self) -> Result<[u8; 2], OdaError> {
        if self.hasher.finalize() == self.expected {
            Ok(self.dac)
        } else {
            Err(OdaError::Hash)
        }
    }
}

/// Starts the verification of the Signed Static Application Data `93`
/// with the recovered Issuer Public Key (Book 2 §5.4): length = NI (step
/// 1), trailer `BC` (2), header `6A` (3), format `03` (4), hash algorithm
/// `01` (5); the recovered bytes 2 … NI−22 are hashed. The caller then feeds
/// the static data.
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn begin_static_data<P: CryptoProvider + ?Sized>(
    provider: &P,
    issuer_key: PublicKey<'_>,
    ssad: &[u8],
) -> Result<StaticDataCheck<P::Sha1>, OdaError> {
    let ssad = required(ssad, 0x93)?;
    let mut buf = [0u8; MAX_MODULUS_LEN];
    let recovered = recover(provider, issuer_key, ssad, &mut buf)?;
    check_format(recovered, FORMAT, 2)?;
    let (signed, expected) = split_hash(recovered)?;
    // The DAC (recovered bytes 4-5) must lie in the signed part.
    let dac = match signed.get(2..4) {
        Some(&[a, b]) => [a, b],
        _ => {
            return Err(OdaError::CertificateLength {
                expected: issuer_key.modulus.len(),
                actual: ssad.len(),
            });
        }
    };
    let mut hasher = provider.sha1_start();
    hasher.update(signed);
    Ok(StaticDataCheck {
        hasher,
        expected,
        dac,
    })
}

/// Verifies the Signed Static Application Data `93` (Book 2 §5.4, every
/// step) over the static data given as parts (records in AFL order, then
/// the AIP if `9F4A` lists it), and returns the Data Authentication Code.
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn verify_static_data<P: CryptoProvider + ?Sized>(
    provider: &P,
    issuer_key: PublicKey<'_>,
    ssad: &[u8],
    static_data_parts: &[&[u8]],
) -> Result<[u8; 2], OdaError> {
    let mut check = begin_static_data(provider, issuer_key, ssad)?;
    for part in static_data_parts {
        check.update(part);
    }
    check.finish()
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

    use proptest::prelude::*;

    use super::*;
    use crate::Tag;
    use crate::crypto::{CryptoError, SoftwareCrypto};
    use crate::oda::test_support::{Plain, modulus, seal, ssad};

    const RECORD: &[u8] = &[0x70, 0x05, 0x5A, 0x03, 0x47, 0x61, 0x73];
    const AIP: &[u8] = &[0x5C, 0x00];

    fn key(m: &[u8]) -> PublicKey<'_> {
        PublicKey {
            modulus: m,
            exponent: &[3],
        }
    }

    #[test]
    fn records_and_tag_list() {
        assert_eq!(static_data_of_record(1, RECORD), Ok(&RECORD[2..]));
        assert_eq!(static_data_of_record(10, RECORD), Ok(&RECORD[2..]));
        assert_eq!(static_data_of_record(11, RECORD), Ok(RECORD));
        assert_eq!(
            static_data_of_record(1, &[0x71, 0x00]),
            Err(OdaError::RecordFormat)
        );
        assert_eq!(
            static_data_of_record(1, &[0x70, 0x05, 0x5A]),
            Err(OdaError::RecordFormat)
        );
        assert_eq!(
            static_data_of_record(1, &[0x70, 0x00, 0x01]),
            Err(OdaError::RecordFormat),
            "trailing data"
        );
        assert_eq!(static_data_of_record(1, &[]), Err(OdaError::RecordFormat));
        assert_eq!(
            static_data_of_record(1, &[0x00, 0x70, 0x00]),
            Err(OdaError::RecordFormat),
            "leading padding"
        );
        assert_eq!(static_data_of_record(2, &[0x70, 0x00]), Ok(&[][..]));
        assert_eq!(sda_tag_list_includes_aip(&[]), Ok(false));
        assert_eq!(sda_tag_list_includes_aip(&[0x82]), Ok(true));
        assert_eq!(
            sda_tag_list_includes_aip(&[0x82, 0x82]),
            Err(OdaError::TagList)
        );
        assert_eq!(
            sda_tag_list_includes_aip(&[0x9F, 0x36]),
            Err(OdaError::TagList)
        );
    }

    #[test]
    fn accepts_and_streams() {
        let m = modulus(128, 3);
        let s = ssad(128, [0xDA, 0xC0], &[&RECORD[2..], AIP]);
        assert_eq!(
            verify_static_data(&Plain, key(&m), &s, &[&RECORD[2..], AIP]),
            Ok([0xDA, 0xC0])
        );
        // Any split of the same bytes.
        let all = [&RECORD[2..], AIP].concat();
        for cut in 0..=all.len() {
            let mut c = begin_static_data(&Plain, key(&m), &s).unwrap();
            c.update(&all[..cut]);
            c.update(&all[cut..]);
            assert_eq!(c.finish(), Ok([0xDA, 0xC0]));
        }
    }

    #[test]
    fn every_check_fails_with_its_error() {
        let m = modulus(128, 3);
        let data: &[&[u8]] = &[&RECORD[2..], AIP];
        let good = ssad(128, [0xDA, 0xC0], data);
        let check = |s: &[u8], d: &[&[u8]]| verify_static_data(&Plain, key(&m), s, d);
        // Step 1.
        assert_eq!(
            check(&good[..127], data),
            Err(OdaError::CertificateLength {
                expected: 128,
                actual: 127
            })
        );
        // Step 2, 3.
        let mut s = good.clone();
        s[127] = 0;
        assert_eq!(check(&s, data), Err(OdaError::Trailer(0)));
        let mut s = good.clone();
        s[0] = 0x4A;
        assert_eq!(check(&s, data), Err(OdaError::Header(0x4A)));
        // Step 4.
        let mut s = good.clone();
        s[1] = 0x02;
        assert_eq!(
            check(&s, data),
            Err(OdaError::Format {
                expected: 3,
                found: 2
            })
        );
        // Step 5.
        let mut s = good.clone();
        s[2] = 0x02;
        assert_eq!(check(&s, data), Err(OdaError::HashAlgorithm(2)));
        // Steps 6-7: the DAC, the padding, the hash, the static data.
        for at in [3, 4, 50, 106, 107, 126] {
            let mut s = good.clone();
            s[at] ^= 0x01;
            assert_eq!(check(&s, data), Err(OdaError::Hash), "byte {at}");
        }
        let mut tampered = RECORD[2..].to_vec();
        tampered[2] ^= 0x80;
        assert_eq!(check(&good, &[&tampered, AIP]), Err(OdaError::Hash));
        assert_eq!(
            check(&good, &[&RECORD[2..]]),
            Err(OdaError::Hash),
            "AIP left out"
        );
        assert_eq!(check(&good, &[]), Err(OdaError::Hash));
        // Missing.
        assert_eq!(check(&[], data), Err(OdaError::MissingData(Tag::new(0x93))));
        // Recovery refused by the real provider: FF.. is not below the key.
        let ff = [0xFFu8; 128];
        assert_eq!(
            verify_static_data(&SoftwareCrypto, key(&m), &ff, data),
            Err(OdaError::RecoveryFailed(CryptoError::InputOutOfRange))
        );
        // A key that is no key.
        assert!(matches!(
            verify_static_data(&SoftwareCrypto, key(&[]), &[], data),
            Err(OdaError::MissingData(_))
        ));
        assert!(matches!(
            verify_static_data(&SoftwareCrypto, key(&[3; 300]), &[0; 300], data),
            Err(OdaError::RecoveryFailed(_))
        ));
        // The shortest recovered data that still has a DAC is accepted by
        // the framing; shorter is a length error, not a panic.
        let tiny = seal(&[0x03, 0x01, 0xDA, 0xC0], &[]);
        assert_eq!(tiny.len(), 26);
        assert_eq!(
            verify_static_data(&Plain, key(&modulus(26, 1)), &tiny, &[]),
            Ok([0xDA, 0xC0])
        );
        let tinier = seal(&[0x03, 0x01], &[]);
        assert!(verify_static_data(&Plain, key(&modulus(24, 1)), &tinier, &[]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            m in proptest::collection::vec(any::<u8>(), 0..260),
            s in proptest::collection::vec(any::<u8>(), 0..260),
            d in proptest::collection::vec(any::<u8>(), 0..64),
            sfi in any::<u8>(),
            real in any::<bool>(),
        ) {
            let k = PublicKey { modulus: &m, exponent: &[3] };
            if real {
                let _ = verify_static_data(&SoftwareCrypto, k, &s, &[&d]);
            } else {
                let _ = verify_static_data(&Plain, k, &s, &[&d]);
                let _ = verify_static_data(&Plain, PublicKey { modulus: &s, exponent: &[3] }, &s, &[&d]);
            }
            if let Ok(v) = static_data_of_record(sfi, &d) {
                prop_assert!(v.len() <= d.len());
            }
            let _ = sda_tag_list_includes_aip(&d);
        }
    }
}
