//! Public key certificates, EMV 4.4 Book 2: the Issuer Public Key
//! Certificate (§5.3, §6.3, Table 6; tags `90`, `92`, `9F32`), the ICC Public
//! Key Certificate (§6.4, Table 14; tags `9F46`, `9F48`, `9F47`) and the ICC
//! PIN Encipherment Public Key Certificate (§7.1; tags `9F2D`, `9F2F`,
//! `9F2E`), issued and verified.
//!
//! Recovered layouts (offsets from the `6A` header, `N` = signer's modulus
//! length):
//!
//! ```text
//! issuer (format 02): 6A 02 | issuer id (4) | MMYY (2) | serial (3) | 01 | 01 | NI | exp len
//!                     | issuer PK, or its leftmost N−36 bytes, BB-padded (N−36) | SHA-1 | BC
//! ICC    (format 04): 6A 04 | PAN, F-padded (10) | MMYY | serial | 01 | 01 | NIC | exp len
//!                     | ICC PK, or its leftmost N−42 bytes, BB-padded (N−42) | SHA-1 | BC
//! ```
//!
//! The issuer certificate hash covers format … key field ‖ remainder ‖
//! exponent; the ICC certificate hash adds the static data to be
//! authenticated (the ODA records, plus the AIP when `9F4A` lists `82`).
//!
//! **\[M\]** The ICC PIN encipherment certificate uses the ICC certificate
//! layout (format `04`), and its hash is taken *without* static data to be
//! authenticated. Both are from general knowledge of Book 2 §7.1, not from a
//! consulted text: confirm before relying on it in a normative deck.
//!
//! Verification mirrors the terminal's steps (Book 2 §5.3, §6.4): length,
//! trailer, header, format, hash algorithm, hash, public key algorithm,
//! remainder length. The issuer identifier / PAN comparison is available as
//! `matches_pan`; expiry is not checked here.

use super::PkiError;
use super::keys::{RsaKeyPair, RsaPublicKey};
use super::recover::{
    ALGORITHM_RSA, HASH_LEN, HASH_SHA1, OVERHEAD, PAD, check_format, check_hash,
    check_hash_algorithm, recover, sign_block,
};

/// Certificate format of the issuer public key certificate.
pub const FORMAT_ISSUER: u8 = 0x02;
/// Certificate format of the ICC (and ICC PIN encipherment) certificate.
pub const FORMAT_ICC: u8 = 0x04;

/// A certificate expiry date, `MMYY` in BCD (Book 2 Tables 6 and 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateExpiry([u8; 2]);

impl CertificateExpiry {
    /// The expiry for `month` (1–12) of year `20yy`/`19yy` given as two
    /// digits (0–99), in decimal.
    ///
    /// # Errors
    /// [`PkiError::InvalidExpiry`] for a month or year out of range.
    pub fn new(month: u8, year: u8) -> Result<Self, PkiError> {
        let bcd = [to_bcd(month), to_bcd(year)];
        if (1..=12).contains(&month) && year <= 99 {
            Ok(Self(bcd))
        } else {
            Err(PkiError::InvalidExpiry(bcd))
        }
    }

    /// The expiry from its BCD bytes `[MM, YY]`.
    ///
    /// # Errors
    /// [`PkiError::InvalidExpiry`] unless both bytes are BCD and the month is
    /// `01`–`12`.
    pub fn from_bcd(mmyy: [u8; 2]) -> Result<Self, PkiError> {
        let [mm, yy] = mmyy;
        match (from_bcd(mm), from_bcd(yy)) {
            (Some(month), Some(_)) if (1..=12).contains(&month) => Ok(Self(mmyy)),
            _ => Err(PkiError::InvalidExpiry(mmyy)),
        }
    }

    /// The BCD bytes `[MM, YY]`.
    #[must_use]
    pub const fn bcd(self) -> [u8; 2] {
        self.0
    }
}

const fn to_bcd(v: u8) -> u8 {
    ((v / 10 % 10) << 4) | (v % 10)
}

const fn from_bcd(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    if hi <= 9 && lo <= 9 {
        Some(hi * 10 + lo)
    } else {
        None
    }
}

/// An issuer public key certificate as the card carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerCertificate {
    /// Tag `90`: the certificate, as long as the CA modulus.
    pub certificate: Vec<u8>,
    /// Tag `92`: the issuer public key remainder; empty when the key fits.
    pub remainder: Vec<u8>,
    /// Tag `9F32`: the issuer public key exponent.
    pub exponent: Vec<u8>,
}

/// An ICC public key certificate (tags `9F46`, `9F48`, `9F47`), or an ICC
/// PIN encipherment public key certificate (tags `9F2D`, `9F2F`, `9F2E`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccCertificate {
    /// Tag `9F46` (`9F2D`): the certificate, as long as the issuer modulus.
    pub certificate: Vec<u8>,
    /// Tag `9F48` (`9F2F`): the public key remainder; empty when the key fits.
    pub remainder: Vec<u8>,
    /// Tag `9F47` (`9F2E`): the public key exponent.
    pub exponent: Vec<u8>,
}

/// What a verified issuer public key certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredIssuerCertificate {
    /// Issuer identifier: leftmost 3–8 PAN digits, padded with `F`.
    pub issuer_identifier: [u8; 4],
    /// Certificate expiry `MMYY` (BCD), not checked.
    pub expiry: [u8; 2],
    /// Certificate serial number.
    pub serial: [u8; 3],
    /// Hash algorithm indicator (`01`).
    pub hash_algorithm: u8,
    /// Issuer public key algorithm indicator (`01`).
    pub public_key_algorithm: u8,
    /// The issuer public key.
    pub public_key: RsaPublicKey,
}

impl RecoveredIssuerCertificate {
    /// Book 2 §5.3 step 8: the issuer identifier's digits (up to the first
    /// `F` nibble) equal the leftmost digits of `pan` (tag `5A` value).
    #[must_use]
    pub fn matches_pan(&self, pan: &[u8]) -> bool {
        let pan_digits = nibbles(pan);
        let mut pan_digits = pan_digits.iter();
        for digit in nibbles(&self.issuer_identifier) {
            if digit == 0x0F {
                break;
            }
            if pan_digits.next() != Some(&digit) {
                return false;
            }
        }
        true
    }
}

/// What a verified ICC (or ICC PIN encipherment) public key certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredIccCertificate {
    /// Application PAN, padded with `F` to 10 bytes.
    pub pan: [u8; 10],
    /// Certificate expiry `MMYY` (BCD), not checked.
    pub expiry: [u8; 2],
    /// Certificate serial number.
    pub serial: [u8; 3],
    /// Hash algorithm indicator (`01`).
    pub hash_algorithm: u8,
    /// ICC public key algorithm indicator (`01`).
    pub public_key_algorithm: u8,
    /// The ICC public key.
    pub public_key: RsaPublicKey,
}

impl RecoveredIccCertificate {
    /// Book 2 §6.4 step 10: the certified PAN equals `pan` (tag `5A` value)
    /// once both are padded with `F` to 10 bytes.
    #[must_use]
    pub fn matches_pan(&self, pan: &[u8]) -> bool {
        pad_pan(pan).is_ok_and(|padded| padded == self.pan)
    }
}

/// Issues an ICC public key certificate (Table 14): `issuer_key` certifies
/// `icc_key` for `pan` (the `5A` value, at most 10 bytes; padded with `F`
/// here), with the hash covering `static_data_to_authenticate`.
///
/// # Errors
/// [`PkiError::KeyTooLong`] when the ICC key is longer than the issuer key,
/// [`PkiError::InvalidPan`], or an RSA failure.
pub fn issue_icc_certificate(
    issuer_key: &RsaKeyPair,
    icc_key: &impl AsRef<RsaPublicKey>,
    pan: &[u8],
    expiry: CertificateExpiry,
    serial: [u8; 3],
    static_data_to_authenticate: &[u8],
) -> Result<IccCertificate, PkiError> {
    let pan = pad_pan(pan)?;
    let Issued {
        certificate,
        remainder,
        exponent,
    } = issue(
        issuer_key,
        FORMAT_ICC,
        &pan,
        expiry,
        serial,
        icc_key.as_ref(),
        &[static_data_to_authenticate],
    )?;
    Ok(IccCertificate {
        certificate,
        remainder,
        exponent,
    })
}

/// Issues an ICC PIN encipherment public key certificate (tags `9F2D`,
/// `9F2F`, `9F2E`): the ICC certificate layout, hash without static data
/// (**\[M\]**, see the module documentation).
///
/// # Errors
/// As [`issue_icc_certificate`].
pub fn issue_icc_pin_certificate(
    issuer_key: &RsaKeyPair,
    pin_key: &impl AsRef<RsaPublicKey>,
    pan: &[u8],
    expiry: CertificateExpiry,
    serial: [u8; 3],
) -> Result<IccCertificate, PkiError> {
    let pan = pad_pan(pan)?;
    let Issued {
        certificate,
        remainder,
        exponent,
    } = issue(
        issuer_key,
        FORMAT_ICC,
        &pan,
        expiry,
        serial,
        pin_key.as_ref(),
        &[],
    )?;
    Ok(IccCertificate {
        certificate,
        remainder,
        exponent,
    })
}

/// Issues an issuer certificate (Table 6); [`super::TestCa`] is the public
/// entry point.
pub(crate) fn issue_issuer_certificate(
    ca_key: &RsaKeyPair,
    issuer_key: &RsaPublicKey,
    issuer_id: [u8; 4],
    expiry: CertificateExpiry,
    serial: [u8; 3],
) -> Result<IssuerCertificate, PkiError> {
    check_issuer_identifier(issuer_id)?;
    let Issued {
        certificate,
        remainder,
        exponent,
    } = issue(
        ca_key,
        FORMAT_ISSUER,
        &issuer_id,
        expiry,
        serial,
        issuer_key,
        &[],
    )?;
    Ok(IssuerCertificate {
        certificate,
        remainder,
        exponent,
    })
}

/// Verifies an issuer public key certificate with the CA public key and
/// returns its content (Book 2 §5.3 steps 1–7 and 11, and the modulus
/// assembly of step 12).
///
/// # Errors
/// The first check that fails, as a [`PkiError`].
pub fn verify_issuer_certificate(
    ca_key: &impl AsRef<RsaPublicKey>,
    certificate: &IssuerCertificate,
) -> Result<RecoveredIssuerCertificate, PkiError> {
    let opened = open(
        ca_key.as_ref(),
        FORMAT_ISSUER,
        4,
        &certificate.certificate,
        &certificate.remainder,
        &certificate.exponent,
        &[],
    )?;
    Ok(RecoveredIssuerCertificate {
        issuer_identifier: to_array(&opened.identity)?,
        expiry: opened.expiry,
        serial: opened.serial,
        hash_algorithm: opened.hash_algorithm,
        public_key_algorithm: opened.key_algorithm,
        public_key: opened.public_key,
    })
}

/// Verifies an ICC public key certificate with the issuer public key and
/// the static data to be authenticated (Book 2 §6.4).
///
/// # Errors
/// The first check that fails, as a [`PkiError`].
pub fn verify_icc_certificate(
    issuer_key: &impl AsRef<RsaPublicKey>,
    certificate: &IccCertificate,
    static_data_to_authenticate: &[u8],
) -> Result<RecoveredIccCertificate, PkiError> {
    verify_icc_like(
        issuer_key.as_ref(),
        certificate,
        &[static_data_to_authenticate],
    )
}

/// Verifies an ICC PIN encipherment public key certificate (hash without
/// static data, **\[M\]**).
///
/// # Errors
/// The first check that fails, as a [`PkiError`].
pub fn verify_icc_pin_certificate(
    issuer_key: &impl AsRef<RsaPublicKey>,
    certificate: &IccCertificate,
) -> Result<RecoveredIccCertificate, PkiError> {
    verify_icc_like(issuer_key.as_ref(), certificate, &[])
}

fn verify_icc_like(
    issuer_key: &RsaPublicKey,
    certificate: &IccCertificate,
    extra: &[&[u8]],
) -> Result<RecoveredIccCertificate, PkiError> {
    let opened = open(
        issuer_key,
        FORMAT_ICC,
        10,
        &certificate.certificate,
        &certificate.remainder,
        &certificate.exponent,
        extra,
    )?;
    Ok(RecoveredIccCertificate {
        pan: to_array(&opened.identity)?,
        expiry: opened.expiry,
        serial: opened.serial,
        hash_algorithm: opened.hash_algorithm,
        public_key_algorithm: opened.key_algorithm,
        public_key: opened.public_key,
    })
}

/// Fixed part of a certificate body after the identity: expiry (2), serial
/// (3), hash algorithm, key algorithm, key length, exponent length.
const FIXED_AFTER_IDENTITY: usize = 2 + 3 + 4;

/// Builds and signs a certificate body.
fn issue(
    signer: &RsaKeyPair,
    format: u8,
    identity: &[u8],
    expiry: CertificateExpiry,
    serial: [u8; 3],
    subject: &RsaPublicKey,
    extra_hashed: &[&[u8]],
) -> Result<Issued, PkiError> {
    let n_signer = signer.modulus_len();
    let modulus = subject.modulus();
    if modulus.len() > n_signer {
        return Err(PkiError::KeyTooLong {
            signer: n_signer,
            subject: modulus.len(),
        });
    }
    let header_len = 1 + identity.len() + FIXED_AFTER_IDENTITY;
    let field_len = n_signer
        .checked_sub(OVERHEAD + header_len)
        .ok_or(PkiError::DataTooLong {
            needed: OVERHEAD + header_len,
            modulus: n_signer,
        })?;
    let key_len = u8::try_from(modulus.len()).map_err(|_| PkiError::InvalidModulus {
        len: modulus.len(),
        reason: "longer than 255 bytes",
    })?;
    let exponent = subject.exponent().bytes();
    let exponent_len = u8::try_from(exponent.len()).unwrap_or(u8::MAX);

    let split = modulus.len().min(field_len);
    let (leftmost, remainder) = modulus.split_at(split);

    let mut body = Vec::with_capacity(n_signer);
    body.push(format);
    body.extend_from_slice(identity);
    body.extend_from_slice(&expiry.bcd());
    body.extend_from_slice(&serial);
    body.extend_from_slice(&[HASH_SHA1, ALGORITHM_RSA, key_len, exponent_len]);
    body.extend_from_slice(leftmost);
    body.resize(header_len + field_len, PAD);

    let mut hashed: Vec<&[u8]> = vec![remainder, exponent];
    hashed.extend_from_slice(extra_hashed);
    let certificate = sign_block(signer, &body, &hashed)?;
    Ok(Issued {
        certificate,
        remainder: remainder.to_vec(),
        exponent: exponent.to_vec(),
    })
}

/// Tag values of a freshly issued certificate.
struct Issued {
    certificate: Vec<u8>,
    remainder: Vec<u8>,
    exponent: Vec<u8>,
}

struct Opened {
    identity: Vec<u8>,
    expiry: [u8; 2],
    serial: [u8; 3],
    hash_algorithm: u8,
    key_algorithm: u8,
    public_key: RsaPublicKey,
}

/// Recovers and checks a certificate of `format` whose identity field is
/// `identity_len` bytes.
fn open(
    signer: &RsaPublicKey,
    format: u8,
    identity_len: usize,
    certificate: &[u8],
    remainder: &[u8],
    exponent: &[u8],
    extra_hashed: &[&[u8]],
) -> Result<Opened, PkiError> {
    let recovered = recover(signer, certificate)?;
    check_format(&recovered, format)?;
    let mut fields = Reader::new(recovered.get(2..).unwrap_or_default());
    let identity = fields.take(identity_len)?.to_vec();
    let expiry = to_array(fields.take(2)?)?;
    let serial = to_array(fields.take(3)?)?;
    let hash_algorithm = fields.byte()?;
    let key_algorithm = fields.byte()?;
    let key_len = usize::from(fields.byte()?);
    let exponent_len = usize::from(fields.byte()?);
    let field_len = recovered
        .len()
        .saturating_sub(1 + HASH_LEN + 1 + 1 + identity_len + FIXED_AFTER_IDENTITY);
    let field = fields.take(field_len)?;

    check_hash_algorithm(hash_algorithm)?;
    let mut hashed: Vec<&[u8]> = vec![remainder, exponent];
    hashed.extend_from_slice(extra_hashed);
    check_hash(&recovered, &hashed)?;
    if key_algorithm != ALGORITHM_RSA {
        return Err(PkiError::UnsupportedKeyAlgorithm(key_algorithm));
    }

    let expected_remainder = key_len.saturating_sub(field_len);
    if remainder.len() != expected_remainder {
        return Err(PkiError::RemainderLength {
            expected: expected_remainder,
            actual: remainder.len(),
        });
    }
    if exponent.len() != exponent_len {
        return Err(PkiError::ExponentLength {
            expected: exponent_len,
            actual: exponent.len(),
        });
    }
    let mut modulus = field
        .get(..key_len.min(field_len))
        .unwrap_or_default()
        .to_vec();
    modulus.extend_from_slice(remainder);
    let public_key = RsaPublicKey::new(&modulus, exponent)?;
    Ok(Opened {
        identity,
        expiry,
        serial,
        hash_algorithm,
        key_algorithm,
        public_key,
    })
}

/// Reads fields front to back without indexing.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    consumed: usize,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(data: &'a [u8]) -> Self {
        Self {
            rest: data,
            consumed: 0,
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], PkiError> {
        if n > self.rest.len() {
            return Err(PkiError::InconsistentLength(self.consumed + n));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.consumed += n;
        Ok(head)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, PkiError> {
        self.take(1).map(|b| b.first().copied().unwrap_or_default())
    }
}

pub(crate) fn to_array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], PkiError> {
    bytes
        .try_into()
        .map_err(|_| PkiError::InconsistentLength(bytes.len()))
}

fn nibbles(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect()
}

/// True when `bytes` are `min..=max` decimal digits followed only by `F`
/// nibbles.
fn digits_then_f(bytes: &[u8], min: usize, max: usize) -> bool {
    let nibbles = nibbles(bytes);
    let digits = nibbles.iter().take_while(|&&n| n <= 9).count();
    let rest = nibbles.get(digits..).unwrap_or_default();
    (min..=max).contains(&digits) && rest.iter().all(|&n| n == 0x0F)
}

fn check_issuer_identifier(id: [u8; 4]) -> Result<(), PkiError> {
    if digits_then_f(&id, 3, 8) {
        Ok(())
    } else {
        Err(PkiError::InvalidIssuerIdentifier(id))
    }
}

/// The PAN (tag `5A` value: 1–19 digits, odd lengths padded with `F`) padded
/// with `F` to 10 bytes.
pub(crate) fn pad_pan(pan: &[u8]) -> Result<[u8; 10], PkiError> {
    let mut padded = [0xFF; 10];
    if pan.len() > padded.len() || !digits_then_f(pan, 1, 19) {
        return Err(PkiError::InvalidPan(pan.to_vec()));
    }
    for (dst, src) in padded.iter_mut().zip(pan) {
        *dst = *src;
    }
    Ok(padded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::Exponent;
    use crate::pki::recover::recover;

    fn key(seed: &[u8], bits: usize) -> RsaKeyPair {
        RsaKeyPair::from_seed(seed, bits, Exponent::Three).unwrap()
    }

    const PAN: [u8; 8] = [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];

    #[test]
    fn expiry_is_bcd() {
        assert_eq!(CertificateExpiry::new(12, 31).unwrap().bcd(), [0x12, 0x31]);
        assert_eq!(CertificateExpiry::new(1, 5).unwrap().bcd(), [0x01, 0x05]);
        assert!(CertificateExpiry::new(0, 5).is_err());
        assert!(CertificateExpiry::new(13, 5).is_err());
        assert!(CertificateExpiry::new(1, 100).is_err());
        assert!(CertificateExpiry::from_bcd([0x12, 0x49]).is_ok());
        assert!(CertificateExpiry::from_bcd([0x13, 0x49]).is_err());
        assert!(CertificateExpiry::from_bcd([0x00, 0x49]).is_err());
        assert!(CertificateExpiry::from_bcd([0x1A, 0x49]).is_err());
        assert!(CertificateExpiry::from_bcd([0x12, 0x4A]).is_err());
    }

    #[test]
    fn pans_and_issuer_ids_are_checked() {
        assert_eq!(
            pad_pan(&PAN).unwrap(),
            [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19, 0xFF, 0xFF]
        );
        assert_eq!(pad_pan(&[0x12, 0x3F]).unwrap()[..3], [0x12, 0x3F, 0xFF]);
        assert!(pad_pan(&[]).is_err());
        assert!(pad_pan(&[0xF1]).is_err());
        assert!(pad_pan(&[0x1A]).is_err());
        assert!(pad_pan(&[0x12; 11]).is_err());
        assert!(pad_pan(&[0x12; 10]).is_err(), "20 digits");
        assert!(pad_pan(&[0x1F, 0x12]).is_err(), "digit after padding");
        assert!(check_issuer_identifier([0x47, 0x61, 0x73, 0xFF]).is_ok());
        assert!(check_issuer_identifier([0x47, 0x61, 0x73, 0x90]).is_ok());
        assert!(check_issuer_identifier([0x47, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(check_issuer_identifier([0x47, 0x6F, 0xFF, 0xFF]).is_ok());
        assert!(check_issuer_identifier([0x4F, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(check_issuer_identifier([0xFF; 4]).is_err());
        assert!(check_issuer_identifier([0x47, 0x61, 0x7F, 0xFF]).is_ok());
        assert!(check_issuer_identifier([0x47, 0x61, 0xF3, 0xFF]).is_err());
    }

    #[test]
    fn icc_certificate_round_trips_with_remainder_and_with_padding() {
        let small = key(b"cert-a", 768);
        let static_data = b"records and AIP";
        let expiry = CertificateExpiry::new(12, 49).unwrap();

        // NIC = 96 > NI − 42 = 86: a 10-byte remainder.
        let issuer = key(b"cert-b", 1024);
        let cert = issue_icc_certificate(
            &issuer,
            small.public_key(),
            &PAN,
            expiry,
            [0, 0, 1],
            static_data,
        )
        .unwrap();
        assert_eq!(cert.certificate.len(), 128);
        assert_eq!(cert.remainder, small.modulus()[86..]);
        assert_eq!(cert.exponent, [3]);
        let recovered = recover(issuer.public_key(), &cert.certificate).unwrap();
        assert_eq!(recovered[1], FORMAT_ICC);
        assert_eq!(recovered[2..12], pad_pan(&PAN).unwrap());
        assert_eq!(recovered[12..14], [0x12, 0x49]);
        assert_eq!(recovered[14..21], [0, 0, 1, 1, 1, 96, 1]);
        assert_eq!(recovered[21..107], small.modulus()[..86]);
        let opened = verify_icc_certificate(issuer.public_key(), &cert, static_data).unwrap();
        assert_eq!(opened.public_key, *small.public_key());
        assert!(opened.matches_pan(&PAN));
        assert!(!opened.matches_pan(&[0x47, 0x61]));
        assert_eq!(opened.expiry, [0x12, 0x49]);
        assert_eq!(opened.serial, [0, 0, 1]);
        assert_eq!(
            verify_icc_certificate(issuer.public_key(), &cert, b"other data"),
            Err(PkiError::HashMismatch)
        );

        // NIC = 96 < NI − 42 = 102: BB padding, no remainder.
        let issuer = key(b"cert-c", 1152);
        let cert = issue_icc_certificate(
            &issuer,
            small.public_key(),
            &PAN,
            expiry,
            [0, 0, 2],
            static_data,
        )
        .unwrap();
        assert!(cert.remainder.is_empty());
        let recovered = recover(issuer.public_key(), &cert.certificate).unwrap();
        assert_eq!(recovered[21..117], *small.modulus());
        assert_eq!(recovered[117..123], [PAD; 6]);
        let opened = verify_icc_certificate(issuer.public_key(), &cert, static_data).unwrap();
        assert_eq!(opened.public_key, *small.public_key());
    }

    #[test]
    fn issuer_certificate_shapes() {
        let id = [0x47, 0x61, 0x73, 0xFF];
        let expiry = CertificateExpiry::new(6, 40).unwrap();
        let small = key(b"cert-a", 768);

        // NI = 96 < NCA − 36 = 108: padded with BB, no remainder.
        let ca = key(b"cert-c", 1152);
        let cert =
            issue_issuer_certificate(&ca, small.public_key(), id, expiry, [1, 2, 3]).unwrap();
        assert!(cert.remainder.is_empty());
        let recovered = recover(ca.public_key(), &cert.certificate).unwrap();
        assert_eq!(
            recovered[..15],
            [
                0x6A, 2, 0x47, 0x61, 0x73, 0xFF, 0x06, 0x40, 1, 2, 3, 1, 1, 96, 1
            ]
        );
        assert_eq!(recovered[15..111], *small.modulus());
        assert_eq!(recovered[111..123], [PAD; 12]);
        let opened = verify_issuer_certificate(ca.public_key(), &cert).unwrap();
        assert_eq!(opened.public_key, *small.public_key());
        assert_eq!(opened.issuer_identifier, id);
        assert!(opened.matches_pan(&PAN));
        assert!(!opened.matches_pan(&[0x47, 0x62, 0x73]));

        // NI = NCA: remainder of 36 bytes.
        let same = key(b"cert-c2", 1152);
        let cert = issue_issuer_certificate(&ca, same.public_key(), id, expiry, [1, 2, 3]).unwrap();
        assert_eq!(cert.remainder, same.modulus()[108..]);
        let opened = verify_issuer_certificate(ca.public_key(), &cert).unwrap();
        assert_eq!(opened.public_key, *same.public_key());

        // A remainder of the wrong length, a wrong exponent.
        let mut bad = cert.clone();
        bad.remainder.pop();
        assert_eq!(
            verify_issuer_certificate(ca.public_key(), &bad),
            Err(PkiError::HashMismatch)
        );
        let mut bad = cert;
        bad.exponent = vec![1, 0, 1];
        assert_eq!(
            verify_issuer_certificate(ca.public_key(), &bad),
            Err(PkiError::HashMismatch)
        );
    }

    #[test]
    fn longer_subject_keys_are_refused() {
        let issuer = key(b"cert-a", 768);
        let icc = key(b"cert-b", 1024);
        let expiry = CertificateExpiry::new(12, 49).unwrap();
        assert_eq!(
            issue_icc_certificate(&issuer, icc.public_key(), &PAN, expiry, [0; 3], &[]),
            Err(PkiError::KeyTooLong {
                signer: 96,
                subject: 128
            })
        );
        assert_eq!(
            issue_issuer_certificate(
                &issuer,
                icc.public_key(),
                [0x47, 0x61, 0x73, 0xFF],
                expiry,
                [0; 3]
            ),
            Err(PkiError::KeyTooLong {
                signer: 96,
                subject: 128
            })
        );
    }

    #[test]
    fn pin_certificate_hash_has_no_static_data() {
        let issuer = key(b"cert-b", 1024);
        let pin = key(b"cert-a", 768);
        let expiry = CertificateExpiry::new(12, 49).unwrap();
        let cert =
            issue_icc_pin_certificate(&issuer, pin.public_key(), &PAN, expiry, [0; 3]).unwrap();
        let opened = verify_icc_pin_certificate(issuer.public_key(), &cert).unwrap();
        assert_eq!(opened.public_key, *pin.public_key());
        assert_eq!(
            verify_icc_certificate(issuer.public_key(), &cert, b"x"),
            Err(PkiError::HashMismatch)
        );
    }

    #[test]
    fn certificate_of_the_wrong_type_is_refused() {
        let ca = key(b"cert-b", 1024);
        let issuer = key(b"cert-a", 768);
        let expiry = CertificateExpiry::new(12, 49).unwrap();
        let cert =
            issue_icc_pin_certificate(&ca, issuer.public_key(), &PAN, expiry, [0; 3]).unwrap();
        let as_issuer = IssuerCertificate {
            certificate: cert.certificate,
            remainder: cert.remainder,
            exponent: cert.exponent,
        };
        assert_eq!(
            verify_issuer_certificate(ca.public_key(), &as_issuer),
            Err(PkiError::BadFormat {
                expected: FORMAT_ISSUER,
                found: FORMAT_ICC
            })
        );
    }

    #[test]
    fn reader_never_overruns() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.take(2).unwrap(), &[1, 2]);
        assert_eq!(r.take(2), Err(PkiError::InconsistentLength(4)));
        assert_eq!(r.byte().unwrap(), 3);
        assert!(r.byte().is_err());
    }
}
