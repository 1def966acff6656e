//! Application data signatures, EMV 4.4 Book 2: Signed Static Application
//! Data for SDA (§5.4, Table 7; tag `93`), Signed Dynamic Application Data
//! for DDA (§6.5, Table 17; tag `9F4B`) and for CDA (§6.6, Tables 18, 19 and
//! 22), and the CDA transaction data hash code.
//!
//! Recovered layouts (`N` = signer's modulus length):
//!
//! ```text
//! SSAD (format 03, issuer key): 6A 03 01 | DAC (2) | BB × (N − 26)       | SHA-1 | BC
//! SDAD (format 05, ICC key):    6A 05 01 | LDD | ICC dynamic data (LDD)
//!                                        | BB × (N − LDD − 25)           | SHA-1 | BC
//! ```
//!
//! The SSAD hash covers format … padding ‖ static data to be authenticated;
//! the DDA SDAD hash covers format … padding ‖ DDOL data (the fDDA of
//! contactless kernels signs its own terminal data the same way); the CDA
//! SDAD hash covers format … padding ‖ the terminal's Unpredictable Number.
//!
//! ICC dynamic data: DDA `len ‖ ICC Dynamic Number (2–8)`; CDA
//! `len ‖ IDN ‖ CID (1) ‖ AC (8) ‖ transaction data hash code (20)`.
//!
//! The transaction data hash code is SHA-1 over the PDOL data of GET
//! PROCESSING OPTIONS, the CDOL1 data of the first GENERATE AC and the TLV
//! objects of the GENERATE AC response template other than the SDAD (`9F4B`),
//! in their order. **\[M\]** For the second GENERATE AC the CDOL2 data follows
//! the CDOL1 data ([`transaction_data_hash_code_second`]); confirm against the
//! licensed Book 2 §6.6.1 text.

use emv_kernel::Tag;
use emv_kernel::wire::tlv::{Mode, TlvIter};
use sha1::{Digest, Sha1};

use super::PkiError;
use super::certificate::{Reader, to_array};
use super::keys::{RsaKeyPair, RsaPublicKey};
use super::recover::{
    HASH_LEN, HASH_SHA1, OVERHEAD, PAD, check_format, check_hash, check_hash_algorithm, recover,
    sign_block,
};

/// Signed data format of Signed Static Application Data.
pub const FORMAT_SSAD: u8 = 0x03;
/// Signed data format of Signed Dynamic Application Data.
pub const FORMAT_SDAD: u8 = 0x05;
/// Tag of the Signed Dynamic Application Data, left out of the CDA hash.
pub const TAG_SDAD: Tag = Tag::new(0x9F4B);

/// The ICC dynamic data of a verified DDA signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredDdaData {
    /// The whole ICC dynamic data (`LDD` bytes).
    pub icc_dynamic_data: Vec<u8>,
    /// The ICC Dynamic Number (tag `9F4C`).
    pub icc_dynamic_number: Vec<u8>,
}

/// The ICC dynamic data of a verified CDA signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredCdaData {
    /// The ICC Dynamic Number (tag `9F4C`).
    pub icc_dynamic_number: Vec<u8>,
    /// Cryptogram Information Data; the terminal compares it with `9F27`.
    pub cid: u8,
    /// The Application Cryptogram (the terminal takes it from here).
    pub application_cryptogram: [u8; 8],
    /// The transaction data hash code the card signed.
    pub transaction_data_hash_code: [u8; HASH_LEN],
}

/// Signs static application data (Table 7): tag `93`, as long as the issuer
/// modulus. `static_data` is the static data to be authenticated (ODA
/// records, plus the AIP when `9F4A` lists `82`).
///
/// # Errors
/// An RSA failure.
pub fn sign_static_data(
    issuer_key: &RsaKeyPair,
    data_authentication_code: [u8; 2],
    static_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let n = issuer_key.modulus_len();
    let mut body = vec![FORMAT_SSAD, HASH_SHA1];
    body.extend_from_slice(&data_authentication_code);
    body.resize(n.saturating_sub(OVERHEAD), PAD);
    sign_block(issuer_key, &body, &[static_data])
}

/// Verifies Signed Static Application Data (Book 2 §5.4) and returns the
/// Data Authentication Code (tag `9F45`).
///
/// # Errors
/// The first check that fails, as a [`PkiError`].
pub fn verify_static_data(
    issuer_key: &impl AsRef<RsaPublicKey>,
    signed_static_data: &[u8],
    static_data: &[u8],
) -> Result<[u8; 2], PkiError> {
    let recovered = recover(issuer_key.as_ref(), signed_static_data)?;
    check_format(&recovered, FORMAT_SSAD)?;
    let mut fields = Reader::new(recovered.get(2..).unwrap_or_default());
    check_hash_algorithm(fields.byte()?)?;
    let dac = to_array(fields.take(2)?)?;
    check_hash(&recovered, &[static_data])?;
    Ok(dac)
}

/// Signs dynamic application data for DDA (Table 17): tag `9F4B`, as long
/// as the ICC modulus. `ddol_data` is the INTERNAL AUTHENTICATE data (the
/// DDOL-related data, at least the Unpredictable Number).
///
/// # Errors
/// [`PkiError::InvalidDynamicNumber`] unless the ICC Dynamic Number is 2–8
/// bytes, or an RSA failure.
pub fn sign_dynamic_data_dda(
    icc_key: &RsaKeyPair,
    icc_dynamic_number: &[u8],
    ddol_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let dynamic_data = dynamic_number_field(icc_dynamic_number)?;
    sign_dynamic(icc_key, &dynamic_data, ddol_data)
}

/// Signs dynamic application data for CDA (Tables 19 and 22): tag `9F4B`
/// in the GENERATE AC response. The hash covers the terminal's
/// `unpredictable_number` (tag `9F37`).
///
/// # Errors
/// [`PkiError::InvalidDynamicNumber`] unless the ICC Dynamic Number is 2–8
/// bytes, or an RSA failure.
pub fn sign_dynamic_data_cda(
    icc_key: &RsaKeyPair,
    icc_dynamic_number: &[u8],
    cid: u8,
    application_cryptogram: [u8; 8],
    transaction_data_hash: [u8; HASH_LEN],
    unpredictable_number: [u8; 4],
) -> Result<Vec<u8>, PkiError> {
    let mut dynamic_data = dynamic_number_field(icc_dynamic_number)?;
    dynamic_data.push(cid);
    dynamic_data.extend_from_slice(&application_cryptogram);
    dynamic_data.extend_from_slice(&transaction_data_hash);
    sign_dynamic(icc_key, &dynamic_data, &unpredictable_number)
}

/// Verifies a DDA signature (Book 2 §6.5.2) over `ddol_data` and returns the
/// ICC dynamic data.
///
/// # Errors
/// The first check that fails, as a [`PkiError`].
pub fn verify_dynamic_data_dda(
    icc_key: &impl AsRef<RsaPublicKey>,
    signed_dynamic_data: &[u8],
    ddol_data: &[u8],
) -> Result<RecoveredDdaData, PkiError> {
    let icc_dynamic_data = open_dynamic(icc_key.as_ref(), signed_dynamic_data, ddol_data)?;
    let mut fields = Reader::new(&icc_dynamic_data);
    let icc_dynamic_number = read_dynamic_number(&mut fields)?.to_vec();
    Ok(RecoveredDdaData {
        icc_dynamic_data,
        icc_dynamic_number,
    })
}

/// Verifies a CDA signature (Book 2 §6.6.2): the SDAD hash with the
/// terminal's `unpredictable_number`, then the transaction data hash code
/// against `transaction_data_hash` (computed by the terminal, see
/// [`transaction_data_hash_code`]). Comparing the CID with `9F27` is left to
/// the caller.
///
/// # Errors
/// The first check that fails, as a [`PkiError`];
/// [`PkiError::TransactionDataHashMismatch`] when only the hash code differs.
pub fn verify_dynamic_data_cda(
    icc_key: &impl AsRef<RsaPublicKey>,
    signed_dynamic_data: &[u8],
    unpredictable_number: [u8; 4],
    transaction_data_hash: &[u8; HASH_LEN],
) -> Result<RecoveredCdaData, PkiError> {
    let dynamic_data = open_dynamic(icc_key.as_ref(), signed_dynamic_data, &unpredictable_number)?;
    let mut fields = Reader::new(&dynamic_data);
    let icc_dynamic_number = read_dynamic_number(&mut fields)?.to_vec();
    let cid = fields.byte()?;
    let application_cryptogram = to_array(fields.take(8)?)?;
    let transaction_data_hash_code = to_array(fields.take(HASH_LEN)?)?;
    if &transaction_data_hash_code != transaction_data_hash {
        return Err(PkiError::TransactionDataHashMismatch);
    }
    Ok(RecoveredCdaData {
        icc_dynamic_number,
        cid,
        application_cryptogram,
        transaction_data_hash_code,
    })
}

/// The CDA transaction data hash code for the first GENERATE AC: SHA-1 over
/// `pdol_data` (as sent in GET PROCESSING OPTIONS, without tag `83` and its
/// length; empty without a PDOL) ‖ `cdol_data` (CDOL1 data as sent) ‖ every
/// TLV object of `response_tlvs` except `9F4B`, in order and as encoded.
///
/// `response_tlvs` is the value of the GENERATE AC response template `77`;
/// a `9F4B` object in it is skipped, so the whole template value may be
/// passed. `00` padding between objects is not hashed.
///
/// # Errors
/// [`PkiError::MalformedTlv`] when `response_tlvs` is not a TLV stream.
pub fn transaction_data_hash_code(
    pdol_data: &[u8],
    cdol_data: &[u8],
    response_tlvs: &[u8],
) -> Result<[u8; HASH_LEN], PkiError> {
    hash_transaction_data(&[pdol_data, cdol_data], response_tlvs)
}

/// The CDA transaction data hash code for the second GENERATE AC: as
/// [`transaction_data_hash_code`] with the CDOL2 data after the CDOL1 data
/// (**\[M\]**, see the module documentation).
///
/// # Errors
/// [`PkiError::MalformedTlv`] when `response_tlvs` is not a TLV stream.
pub fn transaction_data_hash_code_second(
    pdol_data: &[u8],
    cdol1_data: &[u8],
    cdol2_data: &[u8],
    response_tlvs: &[u8],
) -> Result<[u8; HASH_LEN], PkiError> {
    hash_transaction_data(&[pdol_data, cdol1_data, cdol2_data], response_tlvs)
}

fn hash_transaction_data(
    dol_data: &[&[u8]],
    response_tlvs: &[u8],
) -> Result<[u8; HASH_LEN], PkiError> {
    let mut sha = Sha1::new();
    for part in dol_data {
        sha.update(part);
    }
    for tlv in TlvIter::new(response_tlvs, Mode::Strict) {
        let tlv = tlv.map_err(|e| PkiError::MalformedTlv { offset: e.offset })?;
        if tlv.tag() == TAG_SDAD {
            continue;
        }
        let end = tlv.offset() + tlv.encoded_len();
        let encoded = response_tlvs
            .get(tlv.offset()..end)
            .ok_or(PkiError::MalformedTlv {
                offset: tlv.offset(),
            })?;
        sha.update(encoded);
    }
    Ok(sha.finalize().into())
}

/// `len ‖ IDN` after checking the length.
fn dynamic_number_field(icc_dynamic_number: &[u8]) -> Result<Vec<u8>, PkiError> {
    let len = icc_dynamic_number.len();
    let len_byte = u8::try_from(len)
        .ok()
        .filter(|l| (2..=8).contains(l))
        .ok_or(PkiError::InvalidDynamicNumber(len))?;
    let mut field = vec![len_byte];
    field.extend_from_slice(icc_dynamic_number);
    Ok(field)
}

fn read_dynamic_number<'a>(fields: &mut Reader<'a>) -> Result<&'a [u8], PkiError> {
    let len = usize::from(fields.byte()?);
    if !(2..=8).contains(&len) {
        return Err(PkiError::InvalidDynamicNumber(len));
    }
    fields.take(len)
}

/// Builds `05 01 LDD data BB…` and signs it with `hashed_after` hashed too.
fn sign_dynamic(
    icc_key: &RsaKeyPair,
    dynamic_data: &[u8],
    hashed_after: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let n = icc_key.modulus_len();
    let needed = dynamic_data.len() + 3 + OVERHEAD;
    let ldd = u8::try_from(dynamic_data.len())
        .ok()
        .filter(|_| needed <= n)
        .ok_or(PkiError::DataTooLong { needed, modulus: n })?;
    let mut body = vec![FORMAT_SDAD, HASH_SHA1, ldd];
    body.extend_from_slice(dynamic_data);
    body.resize(n.saturating_sub(OVERHEAD), PAD);
    sign_block(icc_key, &body, &[hashed_after])
}

/// Recovers an SDAD, checks format, hash algorithm, `LDD` and hash, and
/// returns the ICC dynamic data.
fn open_dynamic(
    icc_key: &RsaPublicKey,
    signed: &[u8],
    hashed_after: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let recovered = recover(icc_key, signed)?;
    check_format(&recovered, FORMAT_SDAD)?;
    let mut fields = Reader::new(recovered.get(2..).unwrap_or_default());
    check_hash_algorithm(fields.byte()?)?;
    let ldd = usize::from(fields.byte()?);
    if ldd + 3 + OVERHEAD > recovered.len() {
        return Err(PkiError::InconsistentLength(ldd));
    }
    let dynamic_data = fields.take(ldd)?.to_vec();
    check_hash(&recovered, &[hashed_after])?;
    Ok(dynamic_data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::Exponent;

    fn icc() -> RsaKeyPair {
        RsaKeyPair::from_seed(b"signing-icc", 768, Exponent::Three).unwrap()
    }

    #[test]
    fn ssad_round_trips() {
        let issuer = RsaKeyPair::from_seed(b"signing-issuer", 1024, Exponent::F4).unwrap();
        let signed = sign_static_data(&issuer, [0xDA, 0xC0], b"static").unwrap();
        assert_eq!(signed.len(), 128);
        let recovered = recover(issuer.public_key(), &signed).unwrap();
        assert_eq!(recovered[..5], [0x6A, 0x03, 0x01, 0xDA, 0xC0]);
        assert!(recovered[5..107].iter().all(|&b| b == PAD));
        assert_eq!(
            verify_static_data(&issuer, &signed, b"static"),
            Ok([0xDA, 0xC0])
        );
        assert_eq!(
            verify_static_data(&issuer, &signed, b"Static"),
            Err(PkiError::HashMismatch)
        );
        // An SSAD is not an SDAD.
        assert_eq!(
            verify_dynamic_data_dda(&issuer, &signed, b"static"),
            Err(PkiError::BadFormat {
                expected: FORMAT_SDAD,
                found: FORMAT_SSAD
            })
        );
    }

    #[test]
    fn dda_round_trips() {
        let icc = icc();
        let un = [0x7F, 0xBC, 0x40, 0x49];
        let signed = sign_dynamic_data_dda(&icc, &[0x00, 0xAE], &un).unwrap();
        let recovered = recover(icc.public_key(), &signed).unwrap();
        assert_eq!(recovered[..7], [0x6A, 0x05, 0x01, 0x03, 0x02, 0x00, 0xAE]);
        assert!(recovered[7..96 - 21].iter().all(|&b| b == PAD));
        let opened = verify_dynamic_data_dda(&icc, &signed, &un).unwrap();
        assert_eq!(opened.icc_dynamic_number, [0x00, 0xAE]);
        assert_eq!(opened.icc_dynamic_data, [0x02, 0x00, 0xAE]);
        assert_eq!(
            verify_dynamic_data_dda(&icc, &signed, &[0; 4]),
            Err(PkiError::HashMismatch)
        );
        for bad in [&[1u8][..], &[0; 9][..], &[][..]] {
            assert_eq!(
                sign_dynamic_data_dda(&icc, bad, &un),
                Err(PkiError::InvalidDynamicNumber(bad.len()))
            );
        }
    }

    #[test]
    fn cda_round_trips() {
        let icc = icc();
        let idn = [0x53, 0x7E, 0xB5, 0xE0, 0x3C, 0xC4, 0x33, 0xC8];
        let ac = [0x55, 0xB6, 0x40, 0x8D, 0xBC, 0x98, 0x51, 0x31];
        let tdhc = [0xA0; 20];
        let un = [0x8B, 0x55, 0x63, 0x3B];
        let signed = sign_dynamic_data_cda(&icc, &idn, 0x40, ac, tdhc, un).unwrap();
        let recovered = recover(icc.public_key(), &signed).unwrap();
        assert_eq!(recovered[..4], [0x6A, 0x05, 0x01, 0x26]);
        assert_eq!(recovered[4], 8);
        assert_eq!(recovered[13], 0x40);
        let opened = verify_dynamic_data_cda(&icc, &signed, un, &tdhc).unwrap();
        assert_eq!(opened.icc_dynamic_number, idn);
        assert_eq!(opened.cid, 0x40);
        assert_eq!(opened.application_cryptogram, ac);
        assert_eq!(
            verify_dynamic_data_cda(&icc, &signed, un, &[0xA1; 20]),
            Err(PkiError::TransactionDataHashMismatch)
        );
        assert_eq!(
            verify_dynamic_data_cda(&icc, &signed, [0; 4], &tdhc),
            Err(PkiError::HashMismatch)
        );
        // A DDA signature is too short for CDA data.
        let dda = sign_dynamic_data_dda(&icc, &idn[..2], &un).unwrap();
        assert!(matches!(
            verify_dynamic_data_cda(&icc, &dda, un, &tdhc),
            Err(PkiError::InconsistentLength(_))
        ));
    }

    /// emv-facts A.3 item 5 (lumag/emv-tools `test/cda-test.c`): no PDOL,
    /// CDOL1 data, and the GENERATE AC response TLVs without 9F4B. The
    /// expected value is SHA-1 of the concatenation, recomputed with the
    /// `sha1` crate independently of the TLV walk.
    #[test]
    fn tdhc_of_the_published_vector() {
        let cdol1 = hex::decode(
            "000000000000000000000000064300000000000643140925501234577923000000000000000000001E0300",
        )
        .unwrap();
        let tlvs =
            hex::decode("9F2701409F360200109F10120010904001220000000000000000000000FF").unwrap();
        let expected: [u8; 20] = Sha1::new()
            .chain_update(&cdol1)
            .chain_update(&tlvs)
            .finalize()
            .into();
        assert_eq!(transaction_data_hash_code(&[], &cdol1, &tlvs), Ok(expected));
        // With an SDAD in the middle of the template: skipped.
        let mut with_sdad = tlvs[..9].to_vec();
        with_sdad.extend_from_slice(&[0x9F, 0x4B, 0x02, 0xAA, 0xBB]);
        with_sdad.extend_from_slice(&tlvs[9..]);
        assert_eq!(
            transaction_data_hash_code(&[], &cdol1, &with_sdad),
            Ok(expected)
        );
        // Second GENERATE AC: CDOL2 data after CDOL1 data.
        let second: [u8; 20] = Sha1::new()
            .chain_update([1, 2])
            .chain_update(&cdol1)
            .chain_update([3, 4])
            .chain_update(&tlvs)
            .finalize()
            .into();
        assert_eq!(
            transaction_data_hash_code_second(&[1, 2], &cdol1, &[3, 4], &tlvs),
            Ok(second)
        );
        assert_eq!(
            transaction_data_hash_code(&[], &cdol1, &[0x9F, 0x27, 0x05, 0x40]),
            Err(PkiError::MalformedTlv { offset: 0 })
        );
    }
}
