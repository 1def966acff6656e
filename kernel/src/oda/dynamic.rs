//! Verification of the Signed Dynamic Application Data `9F4B`: DDA (Book 2
//! §6.5, Tables 17, 18) and CDA (Book 2 §6.6, Tables 19, 22 — the
//! transaction data hash code).

use crate::crypto::{CryptoProvider, MAX_MODULUS_LEN, SHA1_LEN, Sha1State};
use crate::wire::tlv::{Mode, parse_one};

use super::{OdaError, PublicKey, check_format, recover, required, split_hash};

/// Format of the Signed Dynamic Application Data (Table 17).
const FORMAT: u8 = 0x05;
/// Shortest and longest ICC Dynamic Number (Table 18).
const IDN_LEN: core::ops::RangeInclusive<usize> = 2..=8;

/// The ICC Dynamic Number (`9F4C`, 2 to 8 bytes) from a verified signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IccDynamicNumber {
    bytes: [u8; 8],
    len: usize,
}

impl IccDynamicNumber {
    /// The number as the card sent it.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The IDN at the start of ICC Dynamic Data (its length byte, then the
    /// number), and what follows it.
    fn read(dynamic_data: &[u8]) -> Result<(Self, &[u8]), OdaError> {
        let (&len, rest) = dynamic_data
            .split_first()
            .ok_or(OdaError::DynamicDataLength)?;
        let len = usize::from(len);
        if !IDN_LEN.contains(&len) {
            return Err(OdaError::DynamicDataLength);
        }
        let (idn, rest) = rest
            .split_at_checked(len)
            .ok_or(OdaError::DynamicDataLength)?;
        let mut bytes = [0u8; 8];
        for (d, s) in bytes.iter_mut().zip(idn) {
            *d = *s;
        }
        Ok((Self { bytes, len }, rest))
    }
}

/// The signed data of a verified CDA signature (Table 19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdaResult {
    /// Cryptogram Information Data, equal to the `9F27` of the response.
    pub cid: u8,
    /// The Application Cryptogram (the terminal stores it as `9F26`).
    pub ac: [u8; 8],
    /// The ICC Dynamic Number.
    pub idn: IccDynamicNumber,
}

/// A recovered SDAD (in the caller's buffer).
struct OpenedSdad<'b> {
    /// Recovered bytes 2 … NIC−22, the start of the hash input.
    signed: &'b [u8],
    /// The recovered hash result.
    hash: [u8; SHA1_LEN],
    /// The ICC Dynamic Data (LDD bytes).
    dynamic_data: &'b [u8],
}

/// Recovers an SDAD with the ICC key and checks what DDA and CDA share
/// (§6.5.2 / §6.6.2 steps 1–5): length = NIC, `BC`, `6A`, format `05`, hash
/// algorithm `01`, and the ICC Dynamic Data length.
fn open_sdad<'b, P: CryptoProvider + ?Sized>(
    provider: &P,
    icc_key: PublicKey<'_>,
    sdad: &[u8],
    buf: &'b mut [u8; MAX_MODULUS_LEN],
) -> Result<OpenedSdad<'b>, OdaError> {
    let sdad = required(sdad, 0x9F4B)?;
    let recovered = recover(provider, icc_key, sdad, buf)?;
    check_format(recovered, FORMAT, 2)?;
    let (signed, hash) = split_hash(recovered)?;
    let ldd = usize::from(recovered.get(3).copied().unwrap_or_default());
    // Table 17: 4 bytes before the dynamic data, then padding, then the hash
    // and trailer: LDD ≤ NIC − 25.
    let dynamic_data = recovered
        .get(4..4 + ldd)
        .filter(|_| 4 + ldd <= recovered.len().saturating_sub(SHA1_LEN + 1))
        .ok_or(OdaError::DynamicDataLength)?;
    Ok(OpenedSdad {
        signed,
        hash,
        dynamic_data,
    })
}

/// Verifies a DDA signature (Book 2 §6.5.2): SDAD `9F4B` (from the
/// INTERNAL AUTHENTICATE response) recovered with the ICC Public Key; its
/// hash covers recovered bytes 2 … NIC−22 ‖ `ddol_data` (the DDOL-related
/// data sent in INTERNAL AUTHENTICATE). Returns the ICC Dynamic Number.
///
/// Whether the DDOL holds `9F37` is the caller's check (Book 2 §6.5.1).
///
/// # Errors
///
/// The [`OdaError`] of the first failed check: length, trailer, header,
/// format `05`, hash algorithm, [`OdaError::DynamicDataLength`] (the IDN is
/// not 2 to 8 bytes or does not fit), hash.
pub fn verify_dda<P: CryptoProvider + ?Sized>(
    provider: &P,
    icc_key: PublicKey<'_>,
    sdad: &[u8],
    ddol_data: &[u8],
) -> Result<IccDynamicNumber, OdaError> {
    let mut buf = [0u8; MAX_MODULUS_LEN];
    let OpenedSdad {
        signed,
        hash,
        dynamic_data,
    } = open_sdad(provider, icc_key, sdad, &mut buf)?;
    let (idn, _) = IccDynamicNumber::read(dynamic_data)?;
    if provider.sha1(&[signed, ddol_data]) != hash {
        return Err(OdaError::Hash);
    }
    Ok(idn)
}

/// Verifies a CDA signature (Book 2 §6.6.2): SDAD `9F4B` from the GENERATE
/// AC response, recovered with the ICC Public Key. In order: length, `BC`,
/// `6A`, format `05`, hash algorithm, the ICC Dynamic Data of Table 19 (IDN
/// length and IDN, CID, AC, transaction data hash code), the CID equal to
/// `cid_from_response` (`9F27`, step 6), the hash over recovered bytes
/// 2 … NIC−22 ‖ `unpredictable_number` (`9F37` sent in GENERATE AC), and the
/// transaction data hash code equal to `transaction_data_hash_code` (see
/// [`transaction_data_hash_code`]).
///
/// # Errors
///
/// The [`OdaError`] of the first failed check.
pub fn verify_cda<P: CryptoProvider + ?Sized>(
    provider: &P,
    icc_key: PublicKey<'_>,
    sdad: &[u8],
    unpredictable_number: [u8; 4],
    cid_from_response: u8,
    transaction_data_hash_code: &[u8; SHA1_LEN],
) -> Result<CdaResult, OdaError> {
    let mut buf = [0u8; MAX_MODULUS_LEN];
    let OpenedSdad {
        signed,
        hash,
        dynamic_data,
    } = open_sdad(provider, icc_key, sdad, &mut buf)?;
    let (idn, rest) = IccDynamicNumber::read(dynamic_data)?;
    let (&cid, rest) = rest.split_first().ok_or(OdaError::DynamicDataLength)?;
    let (ac, rest) = rest
        .split_at_checked(8)
        .ok_or(OdaError::DynamicDataLength)?;
    let tdhc = rest.get(..SHA1_LEN).ok_or(OdaError::DynamicDataLength)?;
    if cid != cid_from_response {
        return Err(OdaError::CidMismatch {
            signed: cid,
            returned: cid_from_response,
        });
    }
    if provider.sha1(&[signed, &unpredictable_number]) != hash {
        return Err(OdaError::Hash);
    }
    if tdhc != transaction_data_hash_code {
        return Err(OdaError::TransactionDataHash);
    }
    let mut ac_bytes = [0u8; 8];
    for (d, s) in ac_bytes.iter_mut().zip(ac) {
        *d = *s;
    }
    Ok(CdaResult {
        cid,
        ac: ac_bytes,
        idn,
    })
}

/// The children of the response template `77`, or
/// [`OdaError::ResponseFormat`].
fn template_77(response: &[u8]) -> Result<&[u8], OdaError> {
    match parse_one(response, Mode::Strict) {
        Ok(Some((tlv, rest)))
            if tlv.tag().raw() == 0x77 && tlv.offset() == 0 && rest.is_empty() =>
        {
            Ok(tlv.value())
        }
        _ => Err(OdaError::ResponseFormat),
    }
}

/// The data objects of a GENERATE AC response that CDA needs (Book 3
/// §6.5.5.4 format 2, Book 2 §6.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdaResponse<'a> {
    /// Cryptogram Information Data `9F27`.
    pub cid: u8,
    /// Application Transaction Counter `9F36`.
    pub atc: [u8; 2],
    /// Signed Dynamic Application Data `9F4B`.
    pub sdad: &'a [u8],
}

impl<'a> CdaResponse<'a> {
    /// Reads `9F27`, `9F36` and `9F4B` from the response data of GENERATE AC
    /// (one `77` template, without the status word).
    ///
    /// # Errors
    ///
    /// [`OdaError::ResponseFormat`] when the response is not one well-formed
    /// `77` template or `9F27` / `9F36` have the wrong length;
    /// [`OdaError::MissingData`] when one of the three objects is absent.
    pub fn parse(response: &'a [u8]) -> Result<Self, OdaError> {
        let children = template_77(response)?;
        let mut cid = None;
        let mut atc = None;
        let mut sdad = None;
        for tlv in crate::wire::tlv::TlvIter::new(children, Mode::Strict) {
            let tlv = tlv.map_err(|_| OdaError::ResponseFormat)?;
            match (tlv.tag().raw(), tlv.value()) {
                (0x9F27, &[c]) => cid = Some(c),
                (0x9F36, &[a, b]) => atc = Some([a, b]),
                (0x9F27 | 0x9F36, _) => return Err(OdaError::ResponseFormat),
                (0x9F4B, v) => sdad = Some(v),
                _ => {}
            }
        }
        Ok(Self {
            cid: cid.ok_or(OdaError::MissingData(crate::Tag::new(0x9F27)))?,
            atc: atc.ok_or(OdaError::MissingData(crate::Tag::new(0x9F36)))?,
            sdad: required(sdad.unwrap_or_default(), 0x9F4B)?,
        })
    }
}

/// The Transaction Data Hash Code the terminal computes for CDA (Book 2
/// §6.6.1–6.6.2, Table 22): SHA-1 of the PDOL-related data sent in GET
/// PROCESSING OPTIONS ‖ the CDOL1-related data of the first GENERATE AC ‖
/// the CDOL2-related data of the second one (only for the second GENERATE
/// AC, **\[M\]**) ‖ every data object of the GENERATE AC response template
/// `77`, in the order received, tag, length and value as sent, except the
/// Signed Dynamic Application Data `9F4B`.
///
/// `pdol_data` is the value of the `83` template sent in GPO (empty when
/// the card has no PDOL); `genac_response` the response data (the `77`
/// template, without the status word).
///
/// # Errors
///
/// [`OdaError::ResponseFormat`] when the response is not one well-formed
/// `77` template.
pub fn transaction_data_hash_code<P: CryptoProvider + ?Sized>(
    provider: &P,
    pdol_data: &[u8],
    cdol1_data: &[u8],
    cdol2_data: Option<&[u8]>,
    genac_response: &[u8],
) -> Result<[u8; SHA1_LEN], OdaError> {
    let children = template_77(genac_response)?;
    let mut hasher = provider.sha1_start();
    hasher.update(pdol_data);
    hasher.update(cdol1_data);
    if let Some(cdol2) = cdol2_data {
        hasher.update(cdol2);
    }
    for tlv in crate::wire::tlv::TlvIter::new(children, Mode::Strict) {
        let tlv = tlv.map_err(|_| OdaError::ResponseFormat)?;
        if tlv.tag().raw() == 0x9F4B {
            continue;
        }
        let encoded = children
            .get(tlv.offset()..tlv.offset() + tlv.encoded_len())
            .ok_or(OdaError::ResponseFormat)?;
        hasher.update(encoded);
    }
    Ok(hasher.finalize())
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

    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::Tag;
    use crate::crypto::SoftwareCrypto;
    use crate::oda::test_support::{Plain, hex, modulus, sdad, seal};

    const UN: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];

    fn key(m: &[u8]) -> PublicKey<'_> {
        PublicKey {
            modulus: m,
            exponent: &[3],
        }
    }

    #[test]
    fn dda_accepts_and_rejects() {
        let m = modulus(128, 9);
        let dd = [0x02, 0x00, 0xAE];
        let s = sdad(128, &dd, &UN);
        assert_eq!(
            verify_dda(&Plain, key(&m), &s, &UN).unwrap().as_bytes(),
            &[0x00, 0xAE]
        );
        // Extra ICC dynamic data after the IDN is fine.
        let s2 = sdad(128, &[0x03, 1, 2, 3, 0x99, 0x98], &UN);
        assert_eq!(
            verify_dda(&Plain, key(&m), &s2, &UN).unwrap().as_bytes(),
            &[1, 2, 3]
        );
        // Wrong DDOL data, tampered signature bytes.
        assert_eq!(
            verify_dda(&Plain, key(&m), &s, &[0xDE, 0xAD, 0xBE, 0xEE]),
            Err(OdaError::Hash)
        );
        for at in [5, 6, 60, 106, 107, 126] {
            let mut t = s.clone();
            t[at] ^= 0x10;
            assert_eq!(
                verify_dda(&Plain, key(&m), &t, &UN),
                Err(OdaError::Hash),
                "byte {at}"
            );
        }
        let mut t = s.clone();
        t[1] = 0x04;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::Format {
                expected: 5,
                found: 4
            })
        );
        let mut t = s.clone();
        t[2] = 0x00;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::HashAlgorithm(0))
        );
        let mut t = s.clone();
        t[0] = 0x6B;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::Header(0x6B))
        );
        let mut t = s.clone();
        t[127] = 0xBB;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::Trailer(0xBB))
        );
        assert_eq!(
            verify_dda(&Plain, key(&m), &s[1..], &UN),
            Err(OdaError::CertificateLength {
                expected: 128,
                actual: 127
            })
        );
        assert_eq!(
            verify_dda(&Plain, key(&m), &[], &UN),
            Err(OdaError::MissingData(Tag::new(0x9F4B)))
        );
        // LDD past the padding; IDN lengths 1 and 9; IDN longer than LDD.
        let mut t = s.clone();
        t[3] = 104;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::DynamicDataLength)
        );
        let mut t = s.clone();
        t[3] = 103;
        assert_eq!(
            verify_dda(&Plain, key(&m), &t, &UN),
            Err(OdaError::Hash),
            "fits: LDD = NIC − 25"
        );
        for dd in [
            &[0x01, 0x00][..],
            &[0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[0x04, 1, 2],
            &[],
        ] {
            let t = sdad(128, dd, &UN);
            assert_eq!(
                verify_dda(&Plain, key(&m), &t, &UN),
                Err(OdaError::DynamicDataLength)
            );
        }
    }

    fn cda_dynamic_data(cid: u8, tdhc: &[u8; 20]) -> Vec<u8> {
        let mut dd = hex("08 1122334455667788");
        dd.push(cid);
        dd.extend(hex("0102030405060708"));
        dd.extend(tdhc);
        dd
    }

    #[test]
    fn cda_accepts_and_rejects() {
        let m = modulus(144, 9);
        let tdhc = [0x5A; 20];
        let s = sdad(144, &cda_dynamic_data(0x40, &tdhc), &UN);
        let r = verify_cda(&Plain, key(&m), &s, UN, 0x40, &tdhc).unwrap();
        assert_eq!(r.cid, 0x40);
        assert_eq!(r.ac, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(r.idn.as_bytes(), &hex("1122334455667788")[..]);
        // CID differs from the response.
        assert_eq!(
            verify_cda(&Plain, key(&m), &s, UN, 0x80, &tdhc),
            Err(OdaError::CidMismatch {
                signed: 0x40,
                returned: 0x80
            })
        );
        // Another UN.
        assert_eq!(
            verify_cda(&Plain, key(&m), &s, [0; 4], 0x40, &tdhc),
            Err(OdaError::Hash)
        );
        // Another transaction data hash code.
        let mut other = tdhc;
        other[19] ^= 1;
        assert_eq!(
            verify_cda(&Plain, key(&m), &s, UN, 0x40, &other),
            Err(OdaError::TransactionDataHash)
        );
        // A tampered AC.
        let mut t = s.clone();
        t[14] ^= 1;
        assert_eq!(
            verify_cda(&Plain, key(&m), &t, UN, 0x40, &tdhc),
            Err(OdaError::Hash)
        );
        // Dynamic data too short for CID, AC and hash code.
        let mut dd = cda_dynamic_data(0x40, &tdhc);
        dd.truncate(dd.len() - 1);
        let t = sdad(144, &dd, &UN);
        assert_eq!(
            verify_cda(&Plain, key(&m), &t, UN, 0x40, &tdhc),
            Err(OdaError::DynamicDataLength)
        );
        let t = sdad(144, &[0x02, 0, 1, 0x40], &UN);
        assert_eq!(
            verify_cda(&Plain, key(&m), &t, UN, 0x40, &tdhc),
            Err(OdaError::DynamicDataLength)
        );
        // Framing.
        let mut t = s.clone();
        t[1] = 0x03;
        assert_eq!(
            verify_cda(&Plain, key(&m), &t, UN, 0x40, &tdhc),
            Err(OdaError::Format {
                expected: 5,
                found: 3
            })
        );
        assert_eq!(
            verify_cda(&Plain, key(&m), &[], UN, 0x40, &tdhc),
            Err(OdaError::MissingData(Tag::new(0x9F4B)))
        );
        // The signature of the shortest key that holds CDA data.
        let body_len = 3 + 38;
        let mut body = hex("05 01 26");
        body.extend(cda_dynamic_data(0x00, &tdhc));
        assert_eq!(body.len(), body_len);
        let short = seal(&body, &[&UN]);
        assert_eq!(
            verify_cda(&Plain, key(&modulus(short.len(), 1)), &short, UN, 0, &tdhc)
                .unwrap()
                .cid,
            0
        );
    }

    #[test]
    fn transaction_data_hash_code_and_response() {
        // The ET vector (Book 2 Table 22 shape): no PDOL, CDOL1 data, the
        // response objects other than 9F4B.
        let cdol1 = hex(
            "000000000000000000000000064300000000000643140925501234577923000000000000000000001E0300",
        );
        let objects = hex("9F2701409F360200109F10120010904001220000000000000000000000FF");
        let sdad_tlv = hex("9F4B03AABBCC");
        let mut inner = objects[..4].to_vec();
        inner.extend(&sdad_tlv);
        inner.extend(&objects[4..]);
        let mut response = vec_77(&inner);
        let expected = SoftwareCrypto.sha1(&[&cdol1, &objects]);
        assert_eq!(
            transaction_data_hash_code(&SoftwareCrypto, &[], &cdol1, None, &response),
            Ok(expected)
        );
        let with_pdol = SoftwareCrypto.sha1(&[&[1, 2], &cdol1, &[3], &objects]);
        assert_eq!(
            transaction_data_hash_code(&SoftwareCrypto, &[1, 2], &cdol1, Some(&[3]), &response),
            Ok(with_pdol)
        );
        let parsed = CdaResponse::parse(&response).unwrap();
        assert_eq!(parsed.cid, 0x40);
        assert_eq!(parsed.atc, [0x00, 0x10]);
        assert_eq!(parsed.sdad, &[0xAA, 0xBB, 0xCC]);
        // Malformed responses.
        assert_eq!(
            transaction_data_hash_code(&SoftwareCrypto, &[], &cdol1, None, &inner),
            Err(OdaError::ResponseFormat)
        );
        response.push(0x90);
        assert_eq!(
            transaction_data_hash_code(&SoftwareCrypto, &[], &cdol1, None, &response),
            Err(OdaError::ResponseFormat)
        );
        assert_eq!(CdaResponse::parse(&response), Err(OdaError::ResponseFormat));
        let cut = vec_77(&hex("9F2701409F3602"));
        assert_eq!(
            transaction_data_hash_code(&SoftwareCrypto, &[], &cdol1, None, &cut),
            Err(OdaError::ResponseFormat)
        );
        assert_eq!(
            CdaResponse::parse(&vec_77(&hex("9F36020010 9F4B0101"))),
            Err(OdaError::MissingData(Tag::new(0x9F27)))
        );
        assert_eq!(
            CdaResponse::parse(&vec_77(&hex("9F2701409F4B0101"))),
            Err(OdaError::MissingData(Tag::new(0x9F36)))
        );
        assert_eq!(
            CdaResponse::parse(&vec_77(&hex("9F2701409F36020010"))),
            Err(OdaError::MissingData(Tag::new(0x9F4B)))
        );
        assert_eq!(
            CdaResponse::parse(&vec_77(&hex("9F270240409F360200109F4B0101"))),
            Err(OdaError::ResponseFormat)
        );
    }

    fn vec_77(inner: &[u8]) -> Vec<u8> {
        let mut v = std::vec![0x77];
        if inner.len() > 127 {
            v.push(0x81);
        }
        v.push(inner.len() as u8);
        v.extend_from_slice(inner);
        v
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            m in proptest::collection::vec(any::<u8>(), 0..260),
            s in proptest::collection::vec(any::<u8>(), 0..260),
            data in proptest::collection::vec(any::<u8>(), 0..64),
            cid in any::<u8>(),
            real in any::<bool>(),
        ) {
            let tdhc = [0u8; 20];
            if real {
                let k = key(&m);
                let _ = verify_dda(&SoftwareCrypto, k, &s, &data);
                let _ = verify_cda(&SoftwareCrypto, k, &s, UN, cid, &tdhc);
            } else {
                for k in [key(&m), key(&s)] {
                    let _ = verify_dda(&Plain, k, &s, &data);
                    let _ = verify_cda(&Plain, k, &s, UN, cid, &tdhc);
                }
            }
            let _ = transaction_data_hash_code(&SoftwareCrypto, &data, &data, Some(&data), &s);
            let _ = CdaResponse::parse(&s);
            let _ = transaction_data_hash_code(&SoftwareCrypto, &[], &[], None, &vec_77(&data));
            let _ = CdaResponse::parse(&vec_77(&data));
        }

        #[test]
        fn signed_dynamic_data_round_trip(
            idn in proptest::collection::vec(any::<u8>(), 2..=8),
            extra in proptest::collection::vec(any::<u8>(), 0..40),
            ddol in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let m = modulus(96, 2);
            let mut dd = std::vec![idn.len() as u8];
            dd.extend(&idn);
            dd.extend(&extra);
            let s = sdad(96, &dd, &ddol);
            let idn_back = verify_dda(&Plain, key(&m), &s, &ddol).unwrap();
            prop_assert_eq!(idn_back.as_bytes(), &idn[..]);
        }
    }
}
