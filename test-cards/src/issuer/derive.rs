//! ICC master key derivation, EMV 4.4 Book 2 Annex A1.4: from an issuer
//! master key (IMK) and the card's PAN (tag `5A`) and PAN Sequence Number
//! (tag `5F34`), the unique ICC master key (MK).
//!
//! - Option A (A1.4.1): `Y` = the rightmost 16 digits of `PAN ‖ PSN`
//!   (left-padded with `0` if shorter), packed BCD;
//!   `MK = parity(3DES_IMK(Y) ‖ 3DES_IMK(Y ⊕ FF…FF))`.
//! - Option B (A1.4.2), for PANs of 17 to 19 digits (for 16 digits or fewer
//!   it is option A): `X = PAN ‖ PSN` left-padded with `0` to an even
//!   number of digits, packed BCD; `H = SHA-1(X)`; `Y` = the first 16
//!   decimal digits of the hexadecimal form of `H`, taken in order, and if
//!   there are fewer than 16, continued with the letters `A`–`F` of `H`, in
//!   order, decimalised `A→0 … F→5`; then `MK` as in option A.
//!
//! An absent PSN is taken as `00`. The same derivation gives the card's
//! AC, secure-messaging integrity (SMI) and confidentiality (SMC) master
//! keys from the three IMKs ([`IccKeys::derive`]).

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::error::IssuerError;
use super::keys::TdesKey;

/// Which ICC master key derivation of Book 2 Annex A1.4 to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyDerivation {
    /// Option A (A1.4.1): rightmost 16 digits of `PAN ‖ PSN`.
    OptionA,
    /// Option B (A1.4.2): SHA-1 decimalisation for PANs longer than 16
    /// digits; identical to option A otherwise.
    OptionB,
}

/// The issuer master keys (IMKs) a test issuer personalises cards from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerMasterKeys {
    /// IMK for application cryptograms (IMK-AC).
    pub ac: TdesKey,
    /// IMK for secure-messaging integrity (IMK-SMI): script command MACs.
    pub smi: TdesKey,
    /// IMK for secure-messaging confidentiality (IMK-SMC): enciphered
    /// script data (PIN change).
    pub smc: TdesKey,
}

/// The ICC master keys of one card, derived from the [`IssuerMasterKeys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccKeys {
    /// ICC master key for application cryptograms (MK-AC).
    pub ac: TdesKey,
    /// ICC master key for secure-messaging integrity (MK-SMI).
    pub smi: TdesKey,
    /// ICC master key for secure-messaging confidentiality (MK-SMC).
    pub smc: TdesKey,
}

impl IccKeys {
    /// Derives the three ICC master keys of the card with PAN `pan_digits`
    /// (decimal digits only, 8 to 19) and PAN Sequence Number `psn` (tag
    /// `5F34` as its byte, e.g. `0x01`; `0x00` when the card has none).
    ///
    /// # Errors
    /// [`IssuerError::PanNotDigits`], [`IssuerError::PanLength`] or
    /// [`IssuerError::PsnNotBcd`] for a malformed PAN or PSN.
    pub fn derive(
        imks: &IssuerMasterKeys,
        pan_digits: &str,
        psn: u8,
        option: KeyDerivation,
    ) -> Result<Self, IssuerError> {
        Ok(Self {
            ac: derive_icc_mk(&imks.ac, pan_digits, psn, option)?,
            smi: derive_icc_mk(&imks.smi, pan_digits, psn, option)?,
            smc: derive_icc_mk(&imks.smc, pan_digits, psn, option)?,
        })
    }
}

/// Derives an ICC master key with the given option.
///
/// # Errors
/// As [`derive_icc_mk_option_a`].
pub fn derive_icc_mk(
    imk: &TdesKey,
    pan_digits: &str,
    psn: u8,
    option: KeyDerivation,
) -> Result<TdesKey, IssuerError> {
    match option {
        KeyDerivation::OptionA => derive_icc_mk_option_a(imk, pan_digits, psn),
        KeyDerivation::OptionB => derive_icc_mk_option_b(imk, pan_digits, psn),
    }
}

/// ICC master key derivation option A (Book 2 Annex A1.4.1).
///
/// # Errors
/// [`IssuerError::PanNotDigits`] if the PAN has a non-digit,
/// [`IssuerError::PanLength`] if it is not 8 to 19 digits,
/// [`IssuerError::PsnNotBcd`] if the PSN is not two BCD digits.
pub fn derive_icc_mk_option_a(
    imk: &TdesKey,
    pan_digits: &str,
    psn: u8,
) -> Result<TdesKey, IssuerError> {
    let digits = pan_and_psn_digits(pan_digits, psn)?;
    let skip = digits.len().saturating_sub(16);
    let mut y16 = [0u8; 16];
    // Right-align the rightmost 16 digits; shorter input stays left-padded
    // with zeros.
    for (dst, src) in y16.iter_mut().rev().zip(digits.iter().skip(skip).rev()) {
        *dst = *src;
    }
    Ok(mk_from_y(imk, &pack_digits(&y16)))
}

/// ICC master key derivation option B (Book 2 Annex A1.4.2). For a PAN of
/// 16 digits or fewer this is option A.
///
/// # Errors
/// As [`derive_icc_mk_option_a`].
pub fn derive_icc_mk_option_b(
    imk: &TdesKey,
    pan_digits: &str,
    psn: u8,
) -> Result<TdesKey, IssuerError> {
    let digits = pan_and_psn_digits(pan_digits, psn)?;
    if pan_digits.len() <= 16 {
        return derive_icc_mk_option_a(imk, pan_digits, psn);
    }
    let y16 = option_b_y_digits(&digits);
    Ok(mk_from_y(imk, &pack_digits(&y16)))
}

/// Option B's 16 decimal digits `Y` from the digits of `PAN ‖ PSN`.
fn option_b_y_digits(digits: &[u8]) -> [u8; 16] {
    let mut x = Vec::with_capacity(digits.len() + 1);
    if !digits.len().is_multiple_of(2) {
        x.push(0);
    }
    x.extend_from_slice(digits);
    let packed: Vec<u8> = x
        .chunks(2)
        .map(|pair| pair.iter().fold(0u8, |acc, d| (acc << 4) | d))
        .collect();
    let hash = Sha1::digest(&packed);
    let nibbles: Vec<u8> = hash.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
    let decimal = nibbles.iter().copied().filter(|n| *n < 10);
    let letters = nibbles.iter().copied().filter(|n| *n >= 10).map(|n| n - 10);
    let mut y16 = [0u8; 16];
    for (dst, src) in y16.iter_mut().zip(decimal.chain(letters)) {
        *dst = src;
    }
    y16
}

/// `parity(3DES_IMK(Y) ‖ 3DES_IMK(Y ⊕ FF…FF))`.
fn mk_from_y(imk: &TdesKey, y: &[u8; 8]) -> TdesKey {
    let left = Zeroizing::new(imk.encrypt_block(y));
    let y_inverted = y.map(|b| !b);
    let right = Zeroizing::new(imk.encrypt_block(&y_inverted));
    TdesKey::from_halves(&left, &right).with_odd_parity()
}

/// Packs 16 decimal digits into 8 BCD bytes.
fn pack_digits(digits: &[u8; 16]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (dst, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *dst = pair.iter().fold(0u8, |acc, d| (acc << 4) | d);
    }
    out
}

/// Validates the PAN and PSN and returns the digit values of `PAN ‖ PSN`.
fn pan_and_psn_digits(pan_digits: &str, psn: u8) -> Result<Vec<u8>, IssuerError> {
    if !pan_digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(IssuerError::PanNotDigits);
    }
    let len = pan_digits.len();
    if !(8..=19).contains(&len) {
        return Err(IssuerError::PanLength { len });
    }
    let (high, low) = (psn >> 4, psn & 0x0F);
    if high > 9 || low > 9 {
        return Err(IssuerError::PsnNotBcd(psn));
    }
    let mut digits: Vec<u8> = pan_digits.bytes().map(|c| c - b'0').collect();
    digits.push(high);
    digits.push(low);
    Ok(digits)
}

/// Decodes a PAN as stored in tag `5A` (compressed numeric: BCD digits,
/// padded at the end with `F` nibbles) into its decimal digits.
///
/// # Errors
/// [`IssuerError::PanBcd`] if a nibble is neither a digit nor trailing `F`
/// padding; [`IssuerError::PanLength`] if the result is not 8 to 19 digits.
pub fn pan_digits_from_cn(tag_5a: &[u8]) -> Result<String, IssuerError> {
    let mut digits = String::with_capacity(tag_5a.len() * 2);
    let mut padding = false;
    for nibble in tag_5a.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nibble {
            0..=9 if !padding => digits.push(char::from(b'0' + nibble)),
            0x0F => padding = true,
            _ => return Err(IssuerError::PanBcd),
        }
    }
    if !(8..=19).contains(&digits.len()) {
        return Err(IssuerError::PanLength { len: digits.len() });
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imk() -> TdesKey {
        TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap()
    }

    #[test]
    fn option_a_vector_k1() {
        let mk = derive_icc_mk_option_a(&imk(), "99012345678901234", 0x45).unwrap();
        assert_eq!(
            mk,
            TdesKey::from_hex("67F8292358083E5EA7AB7FDA58D53B6B").unwrap()
        );
        assert!(mk.has_odd_parity());
    }

    #[test]
    fn option_b_decimalisation_only_digits() {
        // SHA-1 of 01 23 45 67 89 01 23 45 67 01 (PAN 12345678901234567,
        // PSN 01, left-padded to 20 digits).
        let digits = pan_and_psn_digits("12345678901234567", 0x01).unwrap();
        let y = option_b_y_digits(&digits);
        let packed = pack_digits(&y);
        let mut x = vec![0u8];
        x.extend_from_slice(&digits);
        let bytes: Vec<u8> = x.chunks(2).map(|p| (p[0] << 4) | p[1]).collect();
        let hex_h = hex::encode(Sha1::digest(&bytes));
        let expected: String = hex_h
            .chars()
            .filter(char::is_ascii_digit)
            .chain(
                hex_h
                    .chars()
                    .filter(|c| c.is_ascii_alphabetic())
                    .map(|c| char::from(c as u8 - b'a' + b'0')),
            )
            .take(16)
            .collect();
        assert_eq!(hex::encode(packed), expected);
    }

    #[test]
    fn option_b_decimalisation_needs_letters() {
        // PAN 000000000000000005, PSN 23: the SHA-1 hex has fewer than 16
        // decimal digits (vector H-test_derive_icc_mk_b_sha_pad).
        let digits = pan_and_psn_digits("000000000000000005", 0x23).unwrap();
        let hash = Sha1::digest(pack_even(&digits));
        let decimal_count = hex::encode(hash)
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        assert!(decimal_count < 16);
        let y = option_b_y_digits(&digits);
        assert!(y.iter().all(|d| *d <= 9));
        let mk = derive_icc_mk_option_b(&imk(), "000000000000000005", 0x23).unwrap();
        assert_eq!(mk.kcv()[..2], [0xDD, 0x73]);
    }

    fn pack_even(digits: &[u8]) -> Vec<u8> {
        let mut x = Vec::new();
        if !digits.len().is_multiple_of(2) {
            x.push(0);
        }
        x.extend_from_slice(digits);
        x.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
    }

    #[test]
    fn option_b_is_option_a_up_to_16_digits() {
        for pan in ["12345678", "123456789012", "1234567890123456"] {
            assert_eq!(
                derive_icc_mk_option_b(&imk(), pan, 0x07).unwrap(),
                derive_icc_mk_option_a(&imk(), pan, 0x07).unwrap()
            );
        }
        assert_ne!(
            derive_icc_mk_option_b(&imk(), "12345678901234567", 0x01).unwrap(),
            derive_icc_mk_option_a(&imk(), "12345678901234567", 0x01).unwrap()
        );
    }

    #[test]
    fn short_pan_is_left_padded() {
        // PAN||PSN of 10 digits: Y = 000000 1234567800.
        let mk = derive_icc_mk_option_a(&imk(), "12345678", 0x00).unwrap();
        let y = [0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00];
        assert_eq!(mk, mk_from_y(&imk(), &y));
    }

    #[test]
    fn bad_pan_and_psn() {
        let k = imk();
        for option in [KeyDerivation::OptionA, KeyDerivation::OptionB] {
            assert_eq!(
                derive_icc_mk(&k, "12345678901234X6", 0, option),
                Err(IssuerError::PanNotDigits)
            );
            assert_eq!(
                derive_icc_mk(&k, " 1234567890123456", 0, option),
                Err(IssuerError::PanNotDigits)
            );
            assert_eq!(
                derive_icc_mk(&k, "１２３４５６７８９", 0, option),
                Err(IssuerError::PanNotDigits)
            );
            assert_eq!(
                derive_icc_mk(&k, "1234567", 0, option),
                Err(IssuerError::PanLength { len: 7 })
            );
            assert_eq!(
                derive_icc_mk(&k, "", 0, option),
                Err(IssuerError::PanLength { len: 0 })
            );
            assert_eq!(
                derive_icc_mk(&k, "12345678901234567890", 0, option),
                Err(IssuerError::PanLength { len: 20 })
            );
            assert_eq!(
                derive_icc_mk(&k, "1234567890123456", 0x0A, option),
                Err(IssuerError::PsnNotBcd(0x0A))
            );
            assert_eq!(
                derive_icc_mk(&k, "1234567890123456", 0xF0, option),
                Err(IssuerError::PsnNotBcd(0xF0))
            );
        }
    }

    #[test]
    fn icc_keys_derive_all_three() {
        let imks = IssuerMasterKeys {
            ac: imk(),
            smi: TdesKey::from_hex("FEDCBA98765432100123456789ABCDEF").unwrap(),
            smc: TdesKey::from_hex("89ABCDEF0123456776543210FEDCBA98").unwrap(),
        };
        let keys =
            IccKeys::derive(&imks, "1234567890123456", 0x00, KeyDerivation::OptionA).unwrap();
        assert_eq!(keys.ac.kcv()[..2], [0xBA, 0xB0]);
        assert_eq!(keys.smi.kcv()[..2], [0xF0, 0x10]);
        assert_eq!(keys.smc.kcv()[..2], [0xB1, 0x54]);
    }

    #[test]
    fn pan_from_tag_5a() {
        assert_eq!(
            pan_digits_from_cn(&[0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56]).unwrap(),
            "1234567890123456"
        );
        assert_eq!(
            pan_digits_from_cn(&[0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x7F, 0xFF])
                .unwrap(),
            "12345678901234567"
        );
        assert_eq!(
            pan_digits_from_cn(&[0x12, 0x3F, 0x45, 0x67, 0x89]),
            Err(IssuerError::PanBcd)
        );
        assert_eq!(
            pan_digits_from_cn(&[0x12, 0x34, 0x56, 0x7A]),
            Err(IssuerError::PanBcd)
        );
        assert_eq!(
            pan_digits_from_cn(&[0x12, 0x34, 0x5F]),
            Err(IssuerError::PanLength { len: 5 })
        );
        assert_eq!(
            pan_digits_from_cn(&[]),
            Err(IssuerError::PanLength { len: 0 })
        );
    }
}
