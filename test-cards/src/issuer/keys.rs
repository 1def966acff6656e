//! Double-length TDES keys ([`TdesKey`]): the key type of all EMV
//! symmetric issuer keys (EMV 4.4 Book 2 Annex A1.1: 2-key triple DES,
//! ISO/IEC 18033-3 / NIST SP 800-67 TDEA keying option 2), odd parity
//! adjustment (Book 2 Annex A1.4, A1.3: derived keys are parity
//! adjusted) and the key check value.
//!
//! Key bytes live only inside [`TdesKey`], which zeroizes them on drop
//! and whose `Debug` prints the KCV, never the key. The expanded DES key
//! schedules built per operation are dropped at once; the `des` crate
//! zeroizes them only when its `zeroize` feature is enabled.

use core::fmt;

use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::Des;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::IssuerError;

/// Length of a double-length TDES key, in bytes.
pub const TDES_KEY_LEN: usize = 16;

/// A double-length (16-byte, 2-key) triple-DES key `KL ‖ KR`.
///
/// Zeroized on drop. `Debug` prints the key check value only. Equality is
/// constant-time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TdesKey([u8; TDES_KEY_LEN]);

impl TdesKey {
    /// Wraps 16 key bytes as they are (parity bits untouched).
    #[must_use]
    pub fn new(bytes: [u8; TDES_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Wraps a key given as a slice, which must be 16 bytes.
    ///
    /// # Errors
    /// [`IssuerError::KeyLength`] if the slice is not 16 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IssuerError> {
        let array: [u8; TDES_KEY_LEN] = bytes.try_into().map_err(|_| IssuerError::KeyLength {
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// Parses a key written as 32 hexadecimal digits (either case).
    ///
    /// # Errors
    /// [`IssuerError::KeyHex`] if the text is not hexadecimal,
    /// [`IssuerError::KeyLength`] if it does not decode to 16 bytes.
    pub fn from_hex(text: &str) -> Result<Self, IssuerError> {
        if !text.len().is_multiple_of(2) || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(IssuerError::KeyHex);
        }
        if text.len() != 2 * TDES_KEY_LEN {
            return Err(IssuerError::KeyLength {
                actual: text.len() / 2,
            });
        }
        let mut bytes = [0u8; TDES_KEY_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| IssuerError::KeyHex)?;
        let key = Self(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// Builds a key from its halves `KL ‖ KR`.
    #[must_use]
    pub fn from_halves(left: &[u8; 8], right: &[u8; 8]) -> Self {
        let mut bytes = [0u8; TDES_KEY_LEN];
        for (dst, src) in bytes.iter_mut().zip(left.iter().chain(right.iter())) {
            *dst = *src;
        }
        Self(bytes)
    }

    /// The raw key bytes. Only for exporting the key on purpose (e.g. to
    /// personalise a card or compare with a published test vector).
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; TDES_KEY_LEN] {
        &self.0
    }

    /// The same key with every byte adjusted to odd parity (the least
    /// significant bit of each byte is the parity bit).
    #[must_use]
    pub fn with_odd_parity(&self) -> Self {
        let mut bytes = self.0;
        adjust_odd_parity(&mut bytes);
        let key = Self(bytes);
        bytes.zeroize();
        key
    }

    /// Whether every byte of the key has odd parity.
    #[must_use]
    pub fn has_odd_parity(&self) -> bool {
        self.0.iter().all(|b| !b.count_ones().is_multiple_of(2))
    }

    /// The key check value: the leftmost 3 bytes of `3DES-ECB(key, 00…00)`.
    /// Published KCVs are often the leftmost 2 bytes of this.
    #[must_use]
    pub fn kcv(&self) -> [u8; 3] {
        let [a, b, c, ..] = self.encrypt_block(&[0u8; 8]);
        [a, b, c]
    }

    /// `3DES-EDE(KL, KR, KL)` encryption of one 8-byte block (ECB).
    #[must_use]
    pub fn encrypt_block(&self, block: &[u8; 8]) -> [u8; 8] {
        let (left, right) = self.ciphers();
        let mut b = Array::from(*block);
        left.encrypt_block(&mut b);
        right.decrypt_block(&mut b);
        left.encrypt_block(&mut b);
        b.into()
    }

    /// `3DES-EDE(KL, KR, KL)` decryption of one 8-byte block (ECB).
    #[must_use]
    pub fn decrypt_block(&self, block: &[u8; 8]) -> [u8; 8] {
        let (left, right) = self.ciphers();
        let mut b = Array::from(*block);
        left.decrypt_block(&mut b);
        right.encrypt_block(&mut b);
        left.decrypt_block(&mut b);
        b.into()
    }

    /// The single-DES ciphers under `KL` and `KR`.
    pub(crate) fn ciphers(&self) -> (Des, Des) {
        let (left, right) = self.halves();
        (single_des(&left), single_des(&right))
    }

    /// Copies of the halves `KL` and `KR`, zeroized on drop.
    pub(crate) fn halves(&self) -> (Zeroizing<[u8; 8]>, Zeroizing<[u8; 8]>) {
        let mut left = Zeroizing::new([0u8; 8]);
        let mut right = Zeroizing::new([0u8; 8]);
        let (l, r) = self.0.split_at(8);
        left.copy_from_slice(l);
        right.copy_from_slice(r);
        (left, right)
    }
}

/// A single-DES cipher under an 8-byte key; the temporary key array is
/// wiped.
fn single_des(key: &[u8; 8]) -> Des {
    let mut k = Array::from(*key);
    let cipher = Des::new(&k);
    k.as_mut_slice().zeroize();
    cipher
}

/// The key check value of `key`: leftmost 3 bytes of `3DES(key, 00…00)`.
#[must_use]
pub fn kcv(key: &TdesKey) -> [u8; 3] {
    key.kcv()
}

/// Sets the least significant bit of every byte so that the byte has an
/// odd number of one bits.
pub fn adjust_odd_parity(bytes: &mut [u8]) {
    for b in bytes {
        if b.count_ones().is_multiple_of(2) {
            *b ^= 0x01;
        }
    }
}

/// XOR of two 8-byte blocks.
pub(crate) fn xor8(a: &[u8; 8], b: &[u8; 8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}

impl fmt::Debug for TdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.kcv();
        write!(f, "TdesKey {{ kcv: {a:02X}{b:02X}{c:02X} }}")
    }
}

impl PartialEq for TdesKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for TdesKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcv_of_known_key() {
        // K4 of vectors/crypto-vectors.json: KCV BAB0.
        let key = TdesKey::from_hex("154F349D8585CB7F6B0798E9839B10C1").unwrap();
        assert_eq!(key.kcv()[..2], [0xBA, 0xB0]);
        assert_eq!(kcv(&key), key.kcv());
    }

    #[test]
    fn debug_prints_kcv_not_key() {
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let text = format!("{key:?}");
        let [a, b, c] = key.kcv();
        assert!(text.contains(&format!("{a:02X}{b:02X}{c:02X}")));
        assert!(!text.to_ascii_uppercase().contains("0123456789"));
        assert!(!text.to_ascii_uppercase().contains("FEDCBA98"));
    }

    #[test]
    fn wrong_key_length_is_an_error() {
        assert_eq!(
            TdesKey::from_slice(&[0u8; 8]),
            Err(IssuerError::KeyLength { actual: 8 })
        );
        assert_eq!(
            TdesKey::from_slice(&[0u8; 24]),
            Err(IssuerError::KeyLength { actual: 24 })
        );
        assert_eq!(
            TdesKey::from_hex("0123"),
            Err(IssuerError::KeyLength { actual: 2 })
        );
        assert_eq!(TdesKey::from_hex("zz"), Err(IssuerError::KeyHex));
        assert_eq!(TdesKey::from_hex("012"), Err(IssuerError::KeyHex));
    }

    #[test]
    fn parity_adjustment() {
        let mut bytes = [0x00, 0x01, 0xFE, 0xFF, 0xAA, 0xAB, 0x80, 0x7F];
        adjust_odd_parity(&mut bytes);
        assert_eq!(bytes, [0x01, 0x01, 0xFE, 0xFE, 0xAB, 0xAB, 0x80, 0x7F]);
        let key = TdesKey::new([0xAA; 16]);
        assert!(!key.has_odd_parity());
        let adjusted = key.with_odd_parity();
        assert!(adjusted.has_odd_parity());
        assert_eq!(adjusted.expose_secret(), &[0xAB; 16]);
        // Parity bits do not take part in DES.
        assert_eq!(adjusted.kcv(), key.kcv());
    }

    #[test]
    fn encrypt_decrypt_round_trip() {
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let block = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(key.decrypt_block(&key.encrypt_block(&block)), block);
    }

    #[test]
    fn equal_halves_is_single_des() {
        // KL = KR: 3DES-EDE2 collapses to single DES under KL. Classic
        // DES vector: key 133457799BBCDFF1, plaintext 0123456789ABCDEF.
        let key = TdesKey::from_hex("133457799BBCDFF1133457799BBCDFF1").unwrap();
        let ct = key.encrypt_block(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]);
        assert_eq!(ct, [0x85, 0xE8, 0x13, 0x54, 0x0F, 0x0A, 0xB4, 0x05]);
    }

    #[test]
    fn halves_round_trip() {
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let (l, r) = key.halves();
        assert_eq!(TdesKey::from_halves(&l, &r), key);
    }
}
