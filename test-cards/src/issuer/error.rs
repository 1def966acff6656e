//! Errors of the issuer-side cryptography ([`IssuerError`]).
//!
//! Every function of [`crate::issuer`] that can receive bad input (a PAN
//! with non-digits, a key of the wrong length, a too-short IAD, an
//! inconsistent script command) returns one of these instead of
//! panicking. No variant carries key material.

use super::cvn::Cvn;

/// What went wrong in an issuer-side cryptographic operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// A key was not 16 bytes (double-length TDES).
    #[error("a double-length TDES key is 16 bytes, got {actual}")]
    KeyLength {
        /// The length received, in bytes.
        actual: usize,
    },
    /// A key given as text was not valid hexadecimal.
    #[error("key text is not valid hexadecimal")]
    KeyHex,
    /// The PAN contains a character other than `0`-`9`.
    #[error("the PAN must contain decimal digits only")]
    PanNotDigits,
    /// The PAN has too few or too many digits.
    #[error("the PAN has {len} digits; 8 to 19 are allowed")]
    PanLength {
        /// The number of digits received.
        len: usize,
    },
    /// A packed PAN (tag `5A`) has a non-decimal nibble before its `F`
    /// padding, or digits after padding.
    #[error("the packed PAN is not BCD digits followed by F padding")]
    PanBcd,
    /// The PAN Sequence Number (tag `5F34`, n 2) is not two BCD digits.
    #[error("PSN {0:#04x} is not two BCD digits")]
    PsnNotBcd(u8),
    /// The Issuer Application Data is too short for what the CVN takes
    /// from it.
    #[error("{cvn} needs at least {needed} bytes of issuer application data, got {actual}")]
    IadTooShort {
        /// The recipe that needed the data.
        cvn: Cvn,
        /// The minimum length, in bytes.
        needed: usize,
        /// The length received, in bytes.
        actual: usize,
    },
    /// The Issuer Application Data is longer than tag `9F10` allows (32
    /// bytes).
    #[error("issuer application data is {actual} bytes; at most 32 allowed")]
    IadTooLong {
        /// The length received, in bytes.
        actual: usize,
    },
    /// The ARPC input is for a different method than the CVN uses.
    #[error("{cvn} uses ARPC method {expected}; the input is for method {actual}")]
    ArpcMethodMismatch {
        /// The recipe.
        cvn: Cvn,
        /// The method the recipe uses (1 or 2).
        expected: u8,
        /// The method of the input (1 or 2).
        actual: u8,
    },
    /// The proprietary authentication data of ARPC method 2 is longer than
    /// 8 bytes.
    #[error("proprietary authentication data is {actual} bytes; at most 8 allowed")]
    PropAuthDataTooLong {
        /// The length received, in bytes.
        actual: usize,
    },
    /// A script command is shorter than its 5-byte header `CLA INS P1 P2
    /// Lc`.
    #[error("a script command needs a 5-byte header CLA INS P1 P2 Lc, got {actual} bytes")]
    CommandTooShort {
        /// The length received, in bytes.
        actual: usize,
    },
    /// The Lc of a script command does not equal its data length plus a
    /// MAC of 4 to 8 bytes.
    #[error("Lc {lc} does not cover {data_len} data bytes plus a 4 to 8 byte MAC")]
    ScriptLc {
        /// The Lc byte of the header.
        lc: u8,
        /// The number of data bytes after the header.
        data_len: usize,
    },
    /// EMV 4.1 tree derivation parameters out of range (branch factor
    /// below 2 or above 16, height 0, or a tree with fewer leaves than the
    /// ATC needs).
    #[error(
        "tree derivation: branch factor {branch_factor} and height {height} cannot index ATC {atc}"
    )]
    TreeParameters {
        /// The branch factor b.
        branch_factor: u8,
        /// The tree height H.
        height: u8,
        /// The ATC.
        atc: u16,
    },
}
