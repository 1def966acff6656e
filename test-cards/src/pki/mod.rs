//! The project's test certification authority and offline data
//! authentication (ODA) signing, card side (EMV 4.4 Book 2).
//!
//! # The project test CA: RID `F0 00 00 09 99`
//!
//! **Every CA key this module creates belongs to the project's own,
//! unregistered RID `F0 00 00 09 99`** ([`ca::PROJECT_RID`]), with CA public
//! key indices `01`, `02`, … for the shipped test CAs ([`ca::TestCa::shipped`]).
//! ISO/IEC 7816-5 reserves RIDs whose first nibble is `F` for proprietary,
//! non-registered use, so this RID can never collide with a registered
//! payment-scheme RID (`A0 00 00 00 03`, `A0 00 00 00 04`, …). The private
//! halves of the scheme test CAs are not public; a terminal that should accept
//! cards signed here must load the CAPKs of [`capk::Capk`] (for example as
//! TOML, [`capk::Capk::to_toml`]). Never load them into a production terminal.
//!
//! # Clauses
//!
//! - Book 2 §5.1–5.4 (SDA): issuer public key certificate (Table 6) and signed
//!   static application data (Table 7): [`certificate`], [`signing`].
//! - Book 2 §6.1–6.6 (DDA, CDA): ICC public key certificate (Table 14), signed
//!   dynamic application data (Table 17), CDA ICC dynamic data and the
//!   transaction data hash code (Tables 18, 19, 22): [`certificate`],
//!   [`signing`].
//! - Book 2 Annex A2.1: RSA and the ISO/IEC 9796-2 digital signature scheme
//!   with message recovery (header `6A`, trailer `BC`, SHA-1): [`mod@recover`].
//! - Book 2 Annex B2: key sizes (moduli of whole bytes, at most 1984 bits)
//!   and public exponents (3 and 2¹⁶ + 1): [`keys`].
//! - Book 2 §11.2: the CA public key check sum: [`capk`].
//!
//! # Pieces
//!
//! - [`keys`]: [`RsaKeyPair`] derived deterministically from a seed (with a
//!   process-wide cache), [`RsaPublicKey`], [`Exponent`].
//! - [`ca`]: [`TestCa`], which issues issuer certificates.
//! - [`capk`]: [`Capk`], the terminal's view of a CA key, with its check sum.
//! - [`certificate`]: ICC and ICC PIN encipherment certificates, and the
//!   verification of every certificate type.
//! - [`signing`]: SSAD (tag `93`), SDAD for DDA and CDA (tag `9F4B`), the
//!   CDA transaction data hash code, and their verification.
//! - [`mod@recover`]: the raw RSA recovery and the `6A … BC` framing.
//!
//! The verification functions here are the card side's own check, used by
//! tests and the simulated issuer; the kernel has its own `no_std`
//! implementation. Certificate expiry is not checked here: that needs the
//! transaction date and is the terminal's business.

pub mod ca;
pub mod capk;
pub mod certificate;
pub mod keys;
pub mod recover;
pub mod signing;

pub use ca::{PROJECT_RID, TestCa};
pub use capk::Capk;
pub use certificate::{
    CertificateExpiry, IccCertificate, IssuerCertificate, RecoveredIccCertificate,
    RecoveredIssuerCertificate,
};
pub use keys::{Exponent, RsaKeyPair, RsaPublicKey};
pub use recover::recover;

/// Why a key could not be made, a certificate or signature could not be
/// produced, or a certificate or signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Key generation supports 768 to 1984 bits in steps of 8.
    #[error("unsupported key size {bits} bits (768..=1984, a multiple of 8)")]
    UnsupportedKeySize {
        /// The requested size.
        bits: usize,
    },
    /// EMV allows the public exponents 3 and 65537 only (Book 2 Annex B2).
    #[error("unsupported public exponent {exponent:02X?} (EMV allows 03 and 010001)")]
    UnsupportedExponent {
        /// The exponent bytes as given.
        exponent: Vec<u8>,
    },
    /// A public key modulus that EMV cannot carry: not 64 to 248 bytes long,
    /// a leading zero byte, or not a valid RSA modulus.
    #[error("invalid modulus of {len} bytes: {reason}")]
    InvalidModulus {
        /// Modulus length in bytes.
        len: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The RSA library failed (key generation, private operation).
    #[error("RSA operation failed: {0}")]
    Rsa(String),
    /// The key being certified is longer than the key that signs it
    /// (issuer key longer than the CA key, ICC key longer than the issuer key).
    #[error("a {subject}-byte key cannot be certified with a {signer}-byte key")]
    KeyTooLong {
        /// Modulus length of the certifying key, in bytes.
        signer: usize,
        /// Modulus length of the certified key, in bytes.
        subject: usize,
    },
    /// The data to sign does not fit the signer's modulus.
    #[error("{needed} bytes of signed data do not fit a {modulus}-byte modulus")]
    DataTooLong {
        /// Bytes the recoverable part needs (header, hash and trailer included).
        needed: usize,
        /// Modulus length in bytes.
        modulus: usize,
    },
    /// An Issuer Identifier that is not 3 to 8 BCD digits padded with `F`.
    #[error("invalid issuer identifier {0:02X?}")]
    InvalidIssuerIdentifier([u8; 4]),
    /// A PAN that is not 1 to 19 BCD digits, optionally padded with `F`, in at
    /// most 10 bytes.
    #[error("invalid PAN {0:02X?}")]
    InvalidPan(Vec<u8>),
    /// A certificate expiry that is not a BCD month `01`–`12` and year.
    #[error("invalid certificate expiry {0:02X?} (BCD MMYY)")]
    InvalidExpiry([u8; 2]),
    /// A CA key expiry that is not a year 2000–2099 and a month 1–12.
    #[error("invalid CA key expiry {year}-{month}")]
    InvalidCaExpiry {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
    },
    /// An ICC Dynamic Number must be 2 to 8 bytes long (Book 2 Table 17).
    #[error("ICC dynamic number of {0} bytes (2..=8 allowed)")]
    InvalidDynamicNumber(usize),
    /// The signed data is not as long as the modulus.
    #[error("signed data of {actual} bytes for a {expected}-byte modulus")]
    SignatureLength {
        /// Modulus length.
        expected: usize,
        /// Length of the signed data.
        actual: usize,
    },
    /// The signed data, read as a number, is not smaller than the modulus.
    #[error("signed data is not smaller than the modulus")]
    SignatureOutOfRange,
    /// The recovered data does not start with `6A`.
    #[error("recovered data header {0:02X} (expected 6A)")]
    BadHeader(u8),
    /// The recovered data does not end with `BC`.
    #[error("recovered data trailer {0:02X} (expected BC)")]
    BadTrailer(u8),
    /// The recovered data has the wrong format byte for what was expected.
    #[error("recovered data format {found:02X} (expected {expected:02X})")]
    BadFormat {
        /// The format the caller expected (`02`, `03`, `04`, `05`).
        expected: u8,
        /// The format found.
        found: u8,
    },
    /// Only hash algorithm `01` (SHA-1) is supported.
    #[error("unsupported hash algorithm {0:02X}")]
    UnsupportedHashAlgorithm(u8),
    /// Only public key algorithm `01` (RSA) is supported.
    #[error("unsupported public key algorithm {0:02X}")]
    UnsupportedKeyAlgorithm(u8),
    /// The hash in the recovered data does not match the recomputed one.
    #[error("hash result does not match")]
    HashMismatch,
    /// The public key remainder does not have the length the certificate
    /// implies.
    #[error("public key remainder of {actual} bytes (expected {expected})")]
    RemainderLength {
        /// Length implied by the certificate.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The exponent given does not have the length the certificate states.
    #[error("public key exponent of {actual} bytes (certificate says {expected})")]
    ExponentLength {
        /// Length stated in the certificate.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// A length inside the recovered data points past its end.
    #[error("inconsistent length {0} inside the recovered data")]
    InconsistentLength(usize),
    /// The CDA transaction data hash code in the signature differs from the
    /// one the terminal computes.
    #[error("transaction data hash code does not match")]
    TransactionDataHashMismatch,
    /// No shipped test CA has this index.
    #[error("no shipped test CA with index {0:02X}")]
    UnknownTestCa(u8),
    /// The GENERATE AC response data are not a valid TLV stream.
    #[error("malformed response TLV at offset {offset}")]
    MalformedTlv {
        /// Byte offset of the error.
        offset: usize,
    },
}
