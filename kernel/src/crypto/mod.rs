//! The crypto provider seam: the two primitives offline data authentication
//! needs, behind a trait the integrator implements (in the style of rustls'
//! `CryptoProvider`).
//!
//! Clauses:
//!
//! - EMV 4.4 Book 2 Annex A2.1: the RSA public key operation `X = S^e mod n`
//!   used by the digital signature scheme with message recovery
//!   (ISO/IEC 9796-2), and SHA-1 (Annex B3, hash algorithm indicator `01`).
//! - Book 2 Annex B2: RSA moduli of whole bytes, at most 1984 bits
//!   (248 bytes); public exponents 3 and 2¹⁶ + 1.
//!
//! [`CryptoProvider`] is what the rest of the kernel calls. It has two
//! operations:
//!
//! - SHA-1, both one-shot ([`CryptoProvider::sha1`] over a list of parts) and
//!   incremental ([`CryptoProvider::sha1_start`], which returns an opaque
//!   [`Sha1State`]). The incremental form lets the ODA verifiers hash static
//!   data record by record without a buffer holding all of it
//!   (see [`crate::oda`]).
//! - The RSA public operation ([`CryptoProvider::rsa_public`]), with the
//!   input checks every provider must make ([`check_rsa_public`]).
//!
//! With the default feature `rustcrypto`, `SoftwareCrypto` implements the
//! trait in software (Montgomery multiplication over fixed word arrays) and the
//! `sha1` crate: no heap, no `unsafe`. A terminal with a secure element or a
//! hardware accelerator implements the trait itself.
//!
//! # Exponents
//!
//! Book 2 Annex B2 allows exactly two public exponents, 3 and 2¹⁶ + 1. The
//! providers here accept **those two values only** and reject every other
//! exponent with [`CryptoError::UnsupportedExponent`]. An exponent may carry
//! leading zero bytes (`00 00 03`), but may not be longer than 4 bytes.

use core::fmt;

#[cfg(feature = "rustcrypto")]
mod software;

#[cfg(feature = "rustcrypto")]
pub use software::{SoftwareCrypto, SoftwareSha1};

/// Length of a SHA-1 hash result, in bytes.
pub const SHA1_LEN: usize = 20;

/// The longest RSA modulus EMV uses, in bytes (1984 bits, Book 2 Annex B2).
pub const MAX_MODULUS_LEN: usize = 248;

/// The shortest RSA modulus the providers accept, in bytes (512 bits).
pub const MIN_MODULUS_LEN: usize = 64;

/// The longest exponent encoding the providers accept, in bytes.
pub const MAX_EXPONENT_LEN: usize = 4;

/// Why an RSA public operation was refused. The providers never panic:
/// every input they cannot process gives one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The modulus is shorter than [`MIN_MODULUS_LEN`] or longer than
    /// [`MAX_MODULUS_LEN`] bytes.
    ModulusLength {
        /// Length given, in bytes.
        len: usize,
    },
    /// The modulus has a leading zero byte: EMV moduli are whole bytes
    /// (Book 2 Annex B2), so their length is their significant length.
    ModulusLeadingZero,
    /// The modulus is even, so it is not an RSA modulus (and Montgomery
    /// arithmetic cannot use it).
    EvenModulus,
    /// The exponent is not 3 or 65537 (Book 2 Annex B2), or is empty or
    /// longer than [`MAX_EXPONENT_LEN`] bytes.
    UnsupportedExponent,
    /// The input is not exactly as long as the modulus.
    InputLength {
        /// The modulus length.
        expected: usize,
        /// The input length.
        actual: usize,
    },
    /// The output buffer is not exactly as long as the modulus.
    OutputLength {
        /// The modulus length.
        expected: usize,
        /// The buffer length.
        actual: usize,
    },
    /// The input, read as a big-endian number, is not smaller than the
    /// modulus.
    InputOutOfRange,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ModulusLength { len } => write!(
                f,
                "modulus of {len} bytes ({MIN_MODULUS_LEN} to {MAX_MODULUS_LEN} allowed)"
            ),
            Self::ModulusLeadingZero => f.write_str("modulus has a leading zero byte"),
            Self::EvenModulus => f.write_str("modulus is even"),
            Self::UnsupportedExponent => f.write_str("public exponent is not 3 or 65537"),
            Self::InputLength { expected, actual } => {
                write!(f, "input of {actual} bytes for a {expected}-byte modulus")
            }
            Self::OutputLength { expected, actual } => write!(
                f,
                "output buffer of {actual} bytes for a {expected}-byte modulus"
            ),
            Self::InputOutOfRange => f.write_str("input is not smaller than the modulus"),
        }
    }
}

impl core::error::Error for CryptoError {}

/// A SHA-1 computation in progress: an opaque state the caller feeds and
/// finally turns into the hash result.
///
/// It is a value (no heap, no borrow of the provider), so a state machine can
/// keep it between commands, e.g. while records arrive one by one.
pub trait Sha1State {
    /// Appends `data` to the message.
    fn update(&mut self, data: &[u8]);

    /// Ends the message and returns its SHA-1 hash.
    fn finalize(self) -> [u8; SHA1_LEN];
}

/// The cryptographic primitives of offline data authentication (Book 2
/// Annex A2.1, B2, B3).
///
/// Implementations must not panic on any input; they report what they cannot
/// process as a [`CryptoError`]. [`check_rsa_public`] makes the checks every
/// implementation must make; call it first.
pub trait CryptoProvider {
    /// The incremental SHA-1 state this provider hands out.
    type Sha1: Sha1State;

    /// Starts an incremental SHA-1 computation.
    fn sha1_start(&self) -> Self::Sha1;

    /// SHA-1 of the concatenation of `parts`, without concatenating them.
    fn sha1(&self, parts: &[&[u8]]) -> [u8; SHA1_LEN] {
        let mut state = self.sha1_start();
        for part in parts {
            state.update(part);
        }
        state.finalize()
    }

    /// The RSA public operation `output = input^exponent mod modulus`
    /// (Book 2 Annex A2.1), all big-endian.
    ///
    /// `output` must be exactly as long as `modulus`: the result is
    /// left-padded with zero bytes to that length.
    ///
    /// # Errors
    ///
    /// The errors of [`check_rsa_public`].
    fn rsa_public(
        &self,
        modulus: &[u8],
        exponent: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), CryptoError>;
}

/// The value of a supported public exponent: 3 or 65537 (Book 2 Annex B2),
/// big-endian, leading zero bytes allowed, at most [`MAX_EXPONENT_LEN`]
/// bytes. `None` for anything else.
#[must_use]
pub fn supported_exponent(exponent: &[u8]) -> Option<u32> {
    if exponent.is_empty() || exponent.len() > MAX_EXPONENT_LEN {
        return None;
    }
    let value = exponent
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    matches!(value, 3 | 65_537).then_some(value)
}

/// The input checks of [`CryptoProvider::rsa_public`], shared by every
/// provider. Returns the exponent's value (3 or 65537).
///
/// # Errors
///
/// In this order: [`CryptoError::ModulusLength`],
/// [`CryptoError::ModulusLeadingZero`], [`CryptoError::EvenModulus`],
/// [`CryptoError::UnsupportedExponent`], [`CryptoError::InputLength`],
/// [`CryptoError::OutputLength`], [`CryptoError::InputOutOfRange`].
pub fn check_rsa_public(
    modulus: &[u8],
    exponent: &[u8],
    input: &[u8],
    output: &[u8],
) -> Result<u32, CryptoError> {
    let len = modulus.len();
    if !(MIN_MODULUS_LEN..=MAX_MODULUS_LEN).contains(&len) {
        return Err(CryptoError::ModulusLength { len });
    }
    if modulus.first() == Some(&0) {
        return Err(CryptoError::ModulusLeadingZero);
    }
    if modulus.last().is_none_or(|b| b & 1 == 0) {
        return Err(CryptoError::EvenModulus);
    }
    let e = supported_exponent(exponent).ok_or(CryptoError::UnsupportedExponent)?;
    if input.len() != len {
        return Err(CryptoError::InputLength {
            expected: len,
            actual: input.len(),
        });
    }
    if output.len() != len {
        return Err(CryptoError::OutputLength {
            expected: len,
            actual: output.len(),
        });
    }
    // Same length, both big-endian: lexicographic order is numeric order.
    if input >= modulus {
        return Err(CryptoError::InputOutOfRange);
    }
    Ok(e)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn exponents() {
        assert_eq!(supported_exponent(&[3]), Some(3));
        assert_eq!(supported_exponent(&[0, 0, 3]), Some(3));
        assert_eq!(supported_exponent(&[1, 0, 1]), Some(65_537));
        assert_eq!(supported_exponent(&[0, 1, 0, 1]), Some(65_537));
        assert_eq!(supported_exponent(&[0, 0, 1, 0, 1]), None);
        assert_eq!(supported_exponent(&[]), None);
        assert_eq!(supported_exponent(&[5]), None);
        assert_eq!(supported_exponent(&[1]), None);
        assert_eq!(supported_exponent(&[0xFF; 4]), None);
    }

    #[test]
    fn input_checks_in_order() {
        let m = [0xC1u8; 64];
        let ok = [0x10u8; 64];
        let out = [0u8; 64];
        assert_eq!(check_rsa_public(&m, &[3], &ok, &out), Ok(3));
        assert_eq!(
            check_rsa_public(&m[..63], &[3], &ok, &out),
            Err(CryptoError::ModulusLength { len: 63 })
        );
        assert_eq!(
            check_rsa_public(&[0xC1; 249], &[3], &ok, &out),
            Err(CryptoError::ModulusLength { len: 249 })
        );
        let mut z = m;
        z[0] = 0;
        assert_eq!(
            check_rsa_public(&z, &[3], &ok, &out),
            Err(CryptoError::ModulusLeadingZero)
        );
        let mut even = m;
        even[63] = 0xC0;
        assert_eq!(
            check_rsa_public(&even, &[3], &ok, &out),
            Err(CryptoError::EvenModulus)
        );
        assert_eq!(
            check_rsa_public(&m, &[7], &ok, &out),
            Err(CryptoError::UnsupportedExponent)
        );
        assert_eq!(
            check_rsa_public(&m, &[3], &ok[..10], &out),
            Err(CryptoError::InputLength {
                expected: 64,
                actual: 10
            })
        );
        assert_eq!(
            check_rsa_public(&m, &[3], &ok, &out[..1]),
            Err(CryptoError::OutputLength {
                expected: 64,
                actual: 1
            })
        );
        assert_eq!(
            check_rsa_public(&m, &[3], &m, &out),
            Err(CryptoError::InputOutOfRange)
        );
        assert_eq!(
            check_rsa_public(&m, &[3], &[0xFF; 64], &out),
            Err(CryptoError::InputOutOfRange)
        );
        let mut below = m;
        below[63] = 0xC0;
        assert_eq!(check_rsa_public(&m, &[3], &below, &out), Ok(3));
    }

    #[test]
    fn errors_display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(
            CryptoError::ModulusLength { len: 3 }.to_string(),
            "modulus of 3 bytes (64 to 248 allowed)"
        );
        assert_eq!(
            CryptoError::InputOutOfRange.to_string(),
            "input is not smaller than the modulus"
        );
    }
}
