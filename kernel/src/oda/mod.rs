//! Offline data authentication, terminal side: the certificate and signature
//! checks of SDA, DDA and CDA.
//!
//! Clauses:
//!
//! - EMV 4.4 Book 2 §5.2 (CA public key retrieval), §5.3 (Issuer Public Key
//!   recovery, Table 6, steps 1–12), §5.4 (Signed Static Application Data,
//!   Table 7): [`recover_issuer_public_key`], [`verify_static_data`].
//! - Book 2 §6.4 (ICC Public Key recovery, Table 14): [`recover_icc_public_key`].
//! - Book 2 §6.5 (dynamic signature verification, Tables 17, 18):
//!   [`verify_dda`].
//! - Book 2 §6.6 (combined DDA/AC generation, Tables 19, 22 — the
//!   transaction data hash code): [`verify_cda`],
//!   [`transaction_data_hash_code`], [`CdaResponse`].
//! - Book 2 §11.2 and Annex A2.1: the CA public key check sum
//!   ([`capk_checksum`]) and the recovery function (the provider,
//!   [`crate::crypto`]).
//! - Book 3 §10.3: which bytes of a record take part in ODA
//!   ([`static_data_of_record`]), the Static Data Authentication Tag List
//!   ([`sda_tag_list_includes_aip`]) and the TVR bits a failure sets
//!   ([`OdaError::tvr_bit`]).
//!
//! Everything works on caller-owned fixed-size buffers: recovered moduli go
//! to a `[u8; 248]` the caller provides, recovered certificates live on the
//! stack for the duration of a call. No input makes these functions panic.
//!
//! # Keys
//!
//! The recovery functions return the key's metadata ([`IssuerPublicKey`],
//! [`IccPublicKey`]) with the modulus length; the modulus bytes are in the
//! caller's buffer. [`IssuerPublicKey::public_key`] joins the two into the
//! [`PublicKey`] the next step takes.
//!
//! # Incremental hashing of the static data
//!
//! The SSAD (`93`) and the ICC Public Key Certificate (`9F46`) sign a SHA-1
//! over *recovered certificate fields ‖ static data to be authenticated*.
//! SHA-1 must see the recovered fields first, so the hashing can only start
//! once the certificate is recovered. The design:
//!
//! - The provider hands out an opaque, owned SHA-1 state
//!   ([`CryptoProvider::sha1_start`], [`crate::crypto::Sha1State`]): no heap,
//!   no borrow, so a state machine can keep it across commands.
//! - Each static-data check is split in two: `begin_…` recovers and checks
//!   the certificate, feeds the recovered fields to a fresh SHA-1 state and
//!   returns a check object; the caller then feeds the static data chunk by
//!   chunk (`update`: each ODA record as it arrives, then the AIP when
//!   `9F4A` lists it) and calls `finish`, which compares the hash and makes
//!   the remaining checks. See [`begin_static_data`] and
//!   [`begin_icc_public_key`].
//! - The one-shot forms ([`verify_static_data`], [`recover_icc_public_key`])
//!   take the static data as a list of parts (`&[&[u8]]`, e.g. the record
//!   slices the kernel already keeps in its data store) and run the same
//!   check in one go, so nothing is ever concatenated.
//!
//! A kernel that has the certificates (`8F`, `90`, `92`, `9F32`, `93` or
//! `9F46`, `9F47`, `9F48`) before the first ODA record can stream the records
//! through the check object and keep none of them. When the AFL brings the
//! certificates after the ODA records (the usual layout), the ODA record
//! bytes must be kept until the certificate is available — SHA-1 cannot be
//! restarted with a prefix — and the parts form hashes them in place.
//!
//! # TVR
//!
//! [`OdaError::tvr_bit`] gives the bit the failed method sets in the TVR
//! (byte 1: `SDA failed` b7, `DDA failed` b4, `CDA failed` b3; Book 3 §10.3,
//! Annex C5). [`OdaError::icc_data_missing`] tells whether `ICC data missing`
//! (byte 1 b6) is set as well; [`OdaError::set_tvr`] does both. A missing CA
//! public key fails the method only, it does not set `ICC data missing`
//! (the data the card must supply is present; the terminal lacks the key).

mod capk;
mod dynamic;
mod icc;
mod issuer;
mod sda;
#[cfg(all(test, feature = "rustcrypto"))]
mod test_support;
#[cfg(all(test, feature = "rustcrypto"))]
mod trace_tests;

use core::fmt;

pub use capk::{Capk, CapkStore, StaticCapkStore, capk_checksum};
pub use dynamic::{
    CdaResponse, CdaResult, IccDynamicNumber, transaction_data_hash_code, verify_cda, verify_dda,
};
pub use icc::{
    IccCertificate, IccCertificateCheck, IccPublicKey, begin_icc_public_key, recover_icc_public_key,
};
pub use issuer::{IssuerCertificate, IssuerPublicKey, recover_issuer_public_key};
pub use sda::{
    StaticDataCheck, begin_static_data, sda_tag_list_includes_aip, static_data_of_record,
    verify_static_data,
};

use crate::Tag;
use crate::crypto::{CryptoError, CryptoProvider, MAX_MODULUS_LEN, SHA1_LEN};
use crate::data::bits::Flag;
use crate::data::tvr::Tvr;

/// Header byte of recovered data (ISO/IEC 9796-2, Book 2 Annex A2.1).
pub const RECOVERED_HEADER: u8 = 0x6A;
/// Trailer byte of recovered data.
pub const RECOVERED_TRAILER: u8 = 0xBC;
/// Hash algorithm indicator of SHA-1 (Book 2 Annex B3).
pub const HASH_ALGORITHM_SHA1: u8 = 0x01;
/// Public key algorithm indicator of RSA (Book 2 Annex B2).
pub const KEY_ALGORITHM_RSA: u8 = 0x01;

/// An RSA public key: big-endian modulus and exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey<'a> {
    /// The modulus, as long as the signatures it verifies.
    pub modulus: &'a [u8],
    /// The public exponent (`03` or `01 00 01`).
    pub exponent: &'a [u8],
}

/// The offline data authentication method being performed (Book 3 §10.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OdaMethod {
    /// Static data authentication.
    Sda,
    /// Dynamic data authentication.
    Dda,
    /// Combined DDA / application cryptogram generation.
    Cda,
}

impl OdaMethod {
    /// The TVR bit set when this method fails (TVR byte 1, Book 3 Annex C5).
    #[must_use]
    pub const fn failed_flag(self) -> Flag<Tvr> {
        match self {
            Self::Sda => Tvr::SDA_FAILED,
            Self::Dda => Tvr::DDA_FAILED,
            Self::Cda => Tvr::CDA_FAILED,
        }
    }
}

/// Why offline data authentication failed: one variant per check, named
/// after the Book 2 step that makes it.
///
/// "Step n" refers to Book 2 §5.3 for the issuer certificate; the same
/// checks on the other objects are the corresponding steps of §5.4 (SSAD),
/// §6.4 (ICC certificate), §6.5.2 (DDA) and §6.6.2 (CDA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OdaError {
    /// A data object the method needs is absent or empty (Book 3 §10.3:
    /// `8F`, `90`, `9F32`, `93`, `9F46`, `9F47`, `9F4B`, `5A`, `9F27`…).
    /// Sets `ICC data missing` too.
    MissingData(Tag),
    /// The terminal has no CA public key for this RID and index (Book 2
    /// §5.2, §6.2).
    CapkMissing {
        /// Registered application provider identifier.
        rid: [u8; 5],
        /// CA public key index (`8F`).
        index: u8,
    },
    /// The CA public key is past its expiry date. **\[M\]** Book 2 §11.2
    /// withdraws expired keys from terminals; a store that still holds one
    /// is treated as not having it.
    CapkExpired,
    /// The certificate or signature is not as long as the modulus of the key
    /// that recovers it (§5.3 step 1, §5.4 step 1, §6.4 step 1, §6.5.2 step
    /// 1, §6.6.2 step 1).
    CertificateLength {
        /// Length of the recovering key's modulus.
        expected: usize,
        /// Length of the certificate or signature.
        actual: usize,
    },
    /// The crypto provider refused the RSA operation (step 2), e.g. the
    /// signature is not smaller than the modulus, or the key is unusable.
    RecoveryFailed(CryptoError),
    /// The recovered data does not end with `BC` (step 2).
    Trailer(u8),
    /// The recovered data does not start with `6A` (step 3).
    Header(u8),
    /// The certificate format is not the one expected: `02` issuer
    /// certificate, `03` SSAD, `04` ICC certificate, `05` SDAD (step 4).
    Format {
        /// The format the step requires.
        expected: u8,
        /// The format recovered.
        found: u8,
    },
    /// The hash algorithm indicator is not `01` (SHA-1) (steps 5–6).
    HashAlgorithm(u8),
    /// The recovered key length is zero, longer than the key that signed it
    /// or longer than 248 bytes (Book 2 §5.1, §6.1, Annex B2). **\[M\]**
    /// the books state the size limits; that a violation fails ODA here,
    /// before the hash, is this implementation's choice.
    KeyLength(u8),
    /// The exponent object (`9F32`, `9F47`) is not as long as the recovered
    /// exponent length says, or that length is over 3 (Tables 6, 14).
    ExponentLength {
        /// Length in the certificate.
        expected: u8,
        /// Length of the data object.
        actual: usize,
    },
    /// The key does not fit the certificate but no remainder (`92`, `9F48`)
    /// was given (§5.1, §6.1). Sets `ICC data missing` too **\[M\]**.
    RemainderMissing,
    /// The remainder is not as long as the key needs (§5.3 step 12, §6.4
    /// step 11).
    RemainderLength {
        /// Length the certificate implies.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The recomputed hash differs from the recovered one (step 7; §5.4
    /// step 7; §6.4 step 7; §6.5.2 step 7; §6.6.2 step 9).
    Hash,
    /// The Issuer Identifier does not match the leftmost PAN digits, or has
    /// fewer than 3 digits (§5.3 step 8).
    IssuerIdMismatch,
    /// The PAN in the ICC certificate differs from the PAN `5A` (§6.4 step
    /// 8).
    PanMismatch,
    /// The certificate expiration date is not a valid BCD `MMYY` (step 9).
    InvalidDate,
    /// The certificate expired before today (step 9).
    Expired,
    /// The issuer certificate is on the revocation list (§5.3 step 10).
    Revoked,
    /// The public key algorithm indicator is not `01` (RSA) (§5.3 step 11,
    /// §6.4 step 10).
    KeyAlgorithm(u8),
    /// The certified exponent is not 3 or 65537 (Book 2 Annex B2).
    Exponent,
    /// The ICC Dynamic Data length does not fit the signature, or the ICC
    /// Dynamic Number is not 2 to 8 bytes, or (CDA) the data are too short
    /// for the CID, AC and hash code (Tables 17, 18, 19).
    DynamicDataLength,
    /// CDA: the CID in the signature differs from the CID `9F27` of the
    /// GENERATE AC response (§6.6.2 step 6).
    CidMismatch {
        /// CID in the ICC Dynamic Data.
        signed: u8,
        /// CID in the response.
        returned: u8,
    },
    /// CDA: the Transaction Data Hash Code in the signature differs from
    /// the one the terminal computes (§6.6.2 steps 10–11).
    TransactionDataHash,
    /// The GENERATE AC response is not one template `77` of valid TLVs
    /// (CDA needs format 2, Book 3 §6.5.5.4).
    ResponseFormat,
    /// A record for ODA is not a `70` template (Book 3 §10.3).
    RecordFormat,
    /// The Static Data Authentication Tag List `9F4A` lists something other
    /// than `82` (Book 3 §10.3).
    TagList,
}

impl OdaError {
    /// The TVR bit to set when `method` fails with this error: `SDA failed`,
    /// `DDA failed` or `CDA failed` (TVR byte 1, Book 3 §10.3). Every error
    /// fails the method; see also [`Self::icc_data_missing`].
    #[must_use]
    pub const fn tvr_bit(&self, method: OdaMethod) -> Flag<Tvr> {
        method.failed_flag()
    }

    /// Whether the failure also sets `ICC data missing` (TVR byte 1 b6):
    /// a data object the card must supply is absent
    /// ([`Self::MissingData`], and **\[M\]** [`Self::RemainderMissing`]).
    /// A missing CA key does not: that is the terminal's gap, not the
    /// card's.
    #[must_use]
    pub const fn icc_data_missing(&self) -> bool {
        matches!(self, Self::MissingData(_) | Self::RemainderMissing)
    }

    /// Sets the TVR bits of this failure of `method`.
    pub fn set_tvr(&self, method: OdaMethod, tvr: &mut Tvr) {
        tvr.set(self.tvr_bit(method));
        if self.icc_data_missing() {
            tvr.set(Tvr::ICC_DATA_MISSING);
        }
    }
}

impl fmt::Display for OdaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingData(tag) => write!(f, "data object {tag} missing"),
            Self::CapkMissing { rid, index } => {
                let [a, b, c, d, e] = *rid;
                write!(
                    f,
                    "no CA public key {index:02X} for RID {a:02X}{b:02X}{c:02X}{d:02X}{e:02X}"
                )
            }
            Self::CapkExpired => f.write_str("CA public key expired"),
            Self::CertificateLength { expected, actual } => {
                write!(f, "certificate of {actual} bytes for a {expected}-byte key")
            }
            Self::RecoveryFailed(e) => write!(f, "recovery failed: {e}"),
            Self::Trailer(b) => write!(f, "recovered trailer {b:02X} (expected BC)"),
            Self::Header(b) => write!(f, "recovered header {b:02X} (expected 6A)"),
            Self::Format { expected, found } => write!(
                f,
                "certificate format {found:02X} (expected {expected:02X})"
            ),
            Self::HashAlgorithm(b) => write!(f, "hash algorithm {b:02X} not supported"),
            Self::KeyLength(n) => write!(f, "recovered key length {n} not acceptable"),
            Self::ExponentLength { expected, actual } => write!(
                f,
                "exponent of {actual} bytes (certificate says {expected})"
            ),
            Self::RemainderMissing => f.write_str("public key remainder missing"),
            Self::RemainderLength { expected, actual } => write!(
                f,
                "public key remainder of {actual} bytes (expected {expected})"
            ),
            Self::Hash => f.write_str("hash result does not match"),
            Self::IssuerIdMismatch => f.write_str("issuer identifier does not match the PAN"),
            Self::PanMismatch => f.write_str("certificate PAN does not match the PAN"),
            Self::InvalidDate => f.write_str("certificate expiration date is not MMYY"),
            Self::Expired => f.write_str("certificate expired"),
            Self::Revoked => f.write_str("certificate revoked"),
            Self::KeyAlgorithm(b) => write!(f, "public key algorithm {b:02X} not supported"),
            Self::Exponent => f.write_str("certified exponent is not 3 or 65537"),
            Self::DynamicDataLength => f.write_str("ICC dynamic data length inconsistent"),
            Self::CidMismatch { signed, returned } => write!(
                f,
                "CID {signed:02X} in the signature, {returned:02X} in the response"
            ),
            Self::TransactionDataHash => f.write_str("transaction data hash code does not match"),
            Self::ResponseFormat => f.write_str("GENERATE AC response is not a 77 template"),
            Self::RecordFormat => f.write_str("ODA record is not a 70 template"),
            Self::TagList => f.write_str("static data authentication tag list is not 82"),
        }
    }
}

impl core::error::Error for OdaError {}

/// A BCD byte as a number 0–99.
const fn bcd(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    if hi > 9 || lo > 9 {
        None
    } else {
        Some(hi * 10 + lo)
    }
}

/// A two-digit year as a four-digit one: `00`–`49` are 2000–2049, `50`–`99`
/// are 1950–1999 (**\[M\]** the usual EMV rule for 2-digit years, Book 4
/// date handling).
const fn full_year(yy: u8) -> u16 {
    if yy < 50 {
        2000 + yy as u16
    } else {
        1900 + yy as u16
    }
}

/// The (year, month) of a Transaction Date `9A` (`YYMMDD`, BCD), the `today`
/// the certificate checks take. `None` unless 3 BCD bytes with a month
/// 01–12.
#[must_use]
pub fn date_from_9a(date: &[u8]) -> Option<(u16, u8)> {
    let [yy, mm, dd] = *date else {
        return None;
    };
    let (yy, mm, dd) = (bcd(yy)?, bcd(mm)?, bcd(dd)?);
    ((1..=12).contains(&mm) && (1..=31).contains(&dd)).then_some((full_year(yy), mm))
}

/// A certificate expiration date (`MMYY`, BCD) as (year, month).
fn certificate_expiry(mmyy: [u8; 2]) -> Result<(u16, u8), OdaError> {
    let [mm, yy] = mmyy;
    match (bcd(mm), bcd(yy)) {
        (Some(mm), Some(yy)) if (1..=12).contains(&mm) => Ok((full_year(yy), mm)),
        _ => Err(OdaError::InvalidDate),
    }
}

/// Step 9: a certificate is valid through the last day of its expiry month,
/// so it has expired only when that month is before today's.
fn check_expiry(expiry: (u16, u8), today: (u16, u8)) -> Result<(), OdaError> {
    if expiry < today {
        Err(OdaError::Expired)
    } else {
        Ok(())
    }
}

/// `value`, or [`OdaError::MissingData`] when it is empty.
fn required(value: &[u8], tag: u32) -> Result<&[u8], OdaError> {
    if value.is_empty() {
        Err(OdaError::MissingData(Tag::new(tag)))
    } else {
        Ok(value)
    }
}

/// Steps 1–3 common to every recovery: length, RSA, trailer, header. Returns
/// the recovered bytes (in `buf`).
fn recover<'b, P: CryptoProvider + ?Sized>(
    provider: &P,
    key: PublicKey<'_>,
    signed: &[u8],
    buf: &'b mut [u8; MAX_MODULUS_LEN],
) -> Result<&'b [u8], OdaError> {
    let len = key.modulus.len();
    if signed.len() != len {
        return Err(OdaError::CertificateLength {
            expected: len,
            actual: signed.len(),
        });
    }
    let out = buf
        .get_mut(..len)
        .ok_or(OdaError::RecoveryFailed(CryptoError::ModulusLength { len }))?;
    provider
        .rsa_public(key.modulus, key.exponent, signed, out)
        .map_err(OdaError::RecoveryFailed)?;
    let recovered: &[u8] = out;
    match (recovered.first(), recovered.last()) {
        (_, Some(&t)) if t != RECOVERED_TRAILER => Err(OdaError::Trailer(t)),
        (Some(&h), _) if h != RECOVERED_HEADER => Err(OdaError::Header(h)),
        (Some(_), Some(_)) => Ok(recovered),
        _ => Err(OdaError::CertificateLength {
            expected: len,
            actual: 0,
        }),
    }
}

/// The recovered data as (format-to-hash-input part, hash result): bytes
/// `1 .. len−21` and `len−21 .. len−1` (every format: the hash is the 20
/// bytes before the trailer).
fn split_hash(recovered: &[u8]) -> Result<(&[u8], [u8; SHA1_LEN]), OdaError> {
    let len = recovered.len();
    let hash_at = len.checked_sub(SHA1_LEN + 1).filter(|&at| at >= 1);
    let (signed, hash) = hash_at
        .and_then(|at| Some((recovered.get(1..at)?, recovered.get(at..len - 1)?)))
        .ok_or(OdaError::CertificateLength {
            expected: len,
            actual: len,
        })?;
    let hash: [u8; SHA1_LEN] = hash.try_into().map_err(|_| OdaError::Hash)?;
    Ok((signed, hash))
}

/// Step 4 and the hash algorithm check (steps 5–6).
fn check_format(recovered: &[u8], format: u8, hash_alg_at: usize) -> Result<(), OdaError> {
    let found = recovered.get(1).copied().unwrap_or_default();
    if found != format {
        return Err(OdaError::Format {
            expected: format,
            found,
        });
    }
    let alg = recovered.get(hash_alg_at).copied().unwrap_or_default();
    if alg != HASH_ALGORITHM_SHA1 {
        return Err(OdaError::HashAlgorithm(alg));
    }
    Ok(())
}

/// The checks on a certified key's length, exponent and remainder (Book 2
/// §5.1/§5.3, §6.1/§6.4), then its modulus assembled into `out`. Returns
/// (modulus length, exponent, exponent length).
fn assemble_key(
    key_len: u8,
    signer_len: usize,
    exp_len: u8,
    key_field: &[u8],
    remainder: &[u8],
    exponent: &[u8],
    out: &mut [u8; MAX_MODULUS_LEN],
) -> Result<(usize, [u8; 3], usize), OdaError> {
    let n = usize::from(key_len);
    if n == 0 || n > signer_len || n > MAX_MODULUS_LEN {
        return Err(OdaError::KeyLength(key_len));
    }
    if exponent.len() != usize::from(exp_len) || exponent.len() > 3 {
        return Err(OdaError::ExponentLength {
            expected: exp_len,
            actual: exponent.len(),
        });
    }
    if n > key_field.len() {
        let needed = n - key_field.len();
        if remainder.is_empty() {
            return Err(OdaError::RemainderMissing);
        }
        if remainder.len() != needed {
            return Err(OdaError::RemainderLength {
                expected: needed,
                actual: remainder.len(),
            });
        }
    }
    let dst = out.get_mut(..n).ok_or(OdaError::KeyLength(key_len))?;
    for (d, s) in dst.iter_mut().zip(key_field.iter().chain(remainder)) {
        *d = *s;
    }
    let mut exp = [0u8; 3];
    if let Some(dst) = exp.get_mut(..exponent.len()) {
        dst.copy_from_slice(exponent);
    }
    Ok((n, exp, exponent.len()))
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

    use std::string::ToString;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_from_9a(&[0x26, 0x11, 0x28]), Some((2026, 11)));
        assert_eq!(date_from_9a(&[0x99, 0x01, 0x01]), Some((1999, 1)));
        assert_eq!(date_from_9a(&[0x26, 0x13, 0x28]), None);
        assert_eq!(date_from_9a(&[0x26, 0x00, 0x28]), None);
        assert_eq!(date_from_9a(&[0x26, 0x01, 0x00]), None);
        assert_eq!(date_from_9a(&[0x2A, 0x01, 0x01]), None);
        assert_eq!(date_from_9a(&[0x26, 0x01]), None);
        assert_eq!(certificate_expiry([0x12, 0x35]), Ok((2035, 12)));
        assert_eq!(certificate_expiry([0x01, 0x49]), Ok((2049, 1)));
        assert_eq!(certificate_expiry([0x01, 0x50]), Ok((1950, 1)));
        assert_eq!(certificate_expiry([0x13, 0x35]), Err(OdaError::InvalidDate));
        assert_eq!(certificate_expiry([0x00, 0x35]), Err(OdaError::InvalidDate));
        assert_eq!(certificate_expiry([0x1F, 0x35]), Err(OdaError::InvalidDate));
        // Valid through the end of the month.
        assert_eq!(check_expiry((2035, 12), (2035, 12)), Ok(()));
        assert_eq!(check_expiry((2035, 12), (2036, 1)), Err(OdaError::Expired));
        assert_eq!(check_expiry((2035, 12), (2035, 11)), Ok(()));
    }

    #[test]
    fn tvr_mapping() {
        let mut tvr = Tvr::default();
        OdaError::Hash.set_tvr(OdaMethod::Sda, &mut tvr);
        assert_eq!(tvr.to_bytes(), [0x40, 0, 0, 0, 0]);
        let mut tvr = Tvr::default();
        OdaError::MissingData(Tag::new(0x9F46)).set_tvr(OdaMethod::Dda, &mut tvr);
        assert_eq!(tvr.to_bytes(), [0x28, 0, 0, 0, 0]);
        let mut tvr = Tvr::default();
        OdaError::CapkMissing {
            rid: [0xA0, 0, 0, 0, 4],
            index: 0xF3,
        }
        .set_tvr(OdaMethod::Cda, &mut tvr);
        assert_eq!(tvr.to_bytes(), [0x04, 0, 0, 0, 0]);
        assert!(OdaError::RemainderMissing.icc_data_missing());
        assert!(!OdaError::Revoked.icc_data_missing());
        assert_eq!(OdaError::Revoked.tvr_bit(OdaMethod::Dda), Tvr::DDA_FAILED);
    }

    #[test]
    fn display() {
        assert_eq!(
            OdaError::CapkMissing {
                rid: [0xF0, 0, 0, 9, 0x99],
                index: 0x77
            }
            .to_string(),
            "no CA public key 77 for RID F000000999"
        );
        assert_eq!(
            OdaError::Format {
                expected: 2,
                found: 3
            }
            .to_string(),
            "certificate format 03 (expected 02)"
        );
        assert_eq!(
            OdaError::MissingData(Tag::new(0x9F4B)).to_string(),
            "data object 9F4B missing"
        );
    }

    proptest! {
        #[test]
        fn date_helpers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..5)) {
            let _ = date_from_9a(&bytes);
            if let [a, b, ..] = bytes[..] {
                let _ = certificate_expiry([a, b]);
            }
        }

        #[test]
        fn split_hash_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok((signed, _)) = split_hash(&bytes) {
                prop_assert_eq!(signed.len() + 22, bytes.len());
            }
        }
    }
}
